"""Hidden checks of exercise 4 (content publishing): other items and faults, the same lessons."""

from __future__ import annotations

from choreo_lab.examples.content import TRANSCODE_TIME
from choreo_lab.faults import Duplicate, Reorder
from choreo_lab.grading.ex04_content import (
    PUBLISHING,
    REPEAT_HINT,
    UPLOAD,
    VERSION_HINT,
    expect_cleaned_up,
    explore_pipeline,
    pipeline_run,
)
from choreo_lab.grading.learner import Learner
from choreo_lab.grading.redelivery import HINT as REDELIVERY_HINT
from choreo_lab.grading.redelivery import lost_first_deliveries
from choreo_lab.grading.tasks import Check


def keeps_the_newest_of_three_versions_under_reorders_and_repeats(learner: Learner) -> None:
    run = pipeline_run(learner, PUBLISHING, [
        {"content_id": "v-7", "file": "a.mp4"},
        {"content_id": "v-7", "version": 2, "file": "b.mp4", "at": 30_000},
        {"content_id": "v-7", "version": 3, "file": "c.mp4", "at": 60_000},
        {"content_id": "v-8", "file": "d.mov"}], [
        Reorder(service="publishing", event_type="TranscodingComplete", correlation_id="v-7",
                occurrence=1, by=500_000),
        Reorder(service="publishing", event_type="TranscodingComplete", correlation_id="v-7",
                occurrence=2, by=400_000),
        Duplicate(service="publishing", event_type="TranscodingComplete", times=3)])
    published = run.published("v-7")
    if run.live("v-7") != 3 or published != sorted(set(published)) or run.live("v-8") != 1:
        run.fail(f"v-7 was edited twice while it transcoded, its first two versions' messages "
                 f"arrived late, and some came twice. Publishing made live, in order: "
                 f"{published}; now live: version {run.live('v-7')}.", VERSION_HINT, "v-7")
    for content_id in ("v-7", "v-8"):
        if run.announced("ContentPublished", content_id) != run.published(content_id):
            run.fail(f"Publishing made {content_id} live at versions "
                     f"{run.published(content_id)}, but announced ContentPublished for versions "
                     f"{run.announced('ContentPublished', content_id)}.", REPEAT_HINT, content_id)
    #: an item already at version 9 gets version 10, in order
    run = pipeline_run(learner, PUBLISHING, [
        {"content_id": "v-9", "version": 9, "file": "e.mp4"},
        {"content_id": "v-9", "version": 10, "file": "f.mp4", "at": 3 * TRANSCODE_TIME}])
    if run.live("v-9") != 10 or run.published("v-9") != [9, 10]:
        run.fail(f"v-9 was at version 9 when its creator uploaded version 10. Publishing made "
                 f"live, in order: {run.published('v-9')}; now live: version {run.live('v-9')}.",
                 "versions are numbers: 10 is newer than 9. Compare them as numbers (not as "
                 "text, where '10' < '9').", "v-9")


#: an unplayable file, then a rejected edit of the same item, and an item that is published
UNPLAYABLE_THEN_REJECTED = ({"content_id": "v-5", "file": "notes.txt"},
                            {"content_id": "v-5", "version": 2, "file": "flagged-again.mp4",
                             "at": 1000},
                            {"content_id": "v-6", "file": "clip.webm"})


def cleans_up_an_unplayable_file_and_a_rejection_of_the_same_item(learner: Learner) -> None:
    run = pipeline_run(learner, UPLOAD, UNPLAYABLE_THEN_REJECTED, [
        Duplicate(service="upload", event_type="TranscodingFailed", times=1)])
    expect_cleaned_up(run, "v-5", 1, "could not be transcoded (not a video)")
    expect_cleaned_up(run, "v-5", 2, "was rejected by moderation")
    if "v-6@v1" not in run.stored():
        run.fail("v-6 was published, but its file is gone.",
                 "delete only the versions that were rejected or failed.", "v-6")
    for lost in lost_first_deliveries("upload", "TranscodingFailed"):
        run = pipeline_run(learner, UPLOAD, UNPLAYABLE_THEN_REJECTED, [lost.fault])
        expect_cleaned_up(run, "v-5", 1, "could not be transcoded (not a video), and "
                          + lost.story("TranscodingFailed of v-5", opening=False),
                          REDELIVERY_HINT)
        expect_cleaned_up(run, "v-5", 2, "was rejected by moderation")


def survives_more_chaos(learner: Learner) -> None:
    explore_pipeline(learner, schedules=40, seed=2, uploads=(
        {"content_id": "v-1", "file": "flagged-1.mp4"}, {"content_id": "v-2"},
        {"content_id": "v-2", "version": 2, "file": "clip-2b.mp4"},
        {"content_id": "v-3", "file": "slides.pdf"}))


HIDDEN = {
    "publish_newest": (Check("keeps the newest of three versions under reorders and repeats", 1,
                             keeps_the_newest_of_three_versions_under_reorders_and_repeats,
                             hidden=True),),
    "clean_up": (Check("cleans up an unplayable file and a rejected edit of the same item", 1,
                       cleans_up_an_unplayable_file_and_a_rejection_of_the_same_item,
                       hidden=True),),
    "pipeline_chaos": (Check("keeps every invariant over 40 more seeded fault schedules", 1,
                             survives_more_chaos, hidden=True),),
}
