"""Exercise 4, content publishing: keep the newest version live, and clean up after a rejection.

The learner writes two services of the pipeline of notebook 07:

- ``make_publishing_service()``: make a transcoded version live - unless the same or a newer
  version is live already (a late TranscodingComplete, reordered behind an edit, or a
  repeated one, must change nothing);
- ``make_upload_service()``: store each version's file (given), and when a version will never
  be published (ModerationRejected, TranscodingFailed) delete its file and tell the creator,
  once - and only that version's file.

Each task is judged with the pipeline's other services and its own invariants; the last runs
the chaos explorer over the whole pipeline.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NoReturn

from ..chaos import FaultSpace, explore
from ..examples.content import (
    TRANSCODE_TIME,
    content_oracle,
    content_services,
    content_system,
    edit,
    upload,
)
from ..faults import AnyFault, Duplicate, FaultPlan, Reorder
from ..service import Service
from ..simulation import Simulation
from .feedback import explain, fault_calls, plural
from .learner import Learner, fail_on_handler_errors
from .redelivery import HINT as REDELIVERY_HINT
from .redelivery import lost_first_deliveries
from .scenarios import shown_records
from .tasks import Check, Failed, Task

EXERCISE = "ex04-content-publishing"
PUBLISHING, UPLOAD = "make_publishing_service", "make_upload_service"


class PipelineRun:
    """One finished run of the pipeline with the learner's services in it."""

    def __init__(self, sim: Simulation, plan: FaultPlan) -> None:
        self.sim, self.plan = sim, plan

    def published(self, content_id: str) -> list[int]:
        """The versions publishing recorded as made live for the item, in order."""
        entries = self.sim.state("publishing").get("published", [])
        return [entry.get("version") for entry in entries if isinstance(entry, dict)
                and entry.get("content_id") == content_id]

    def live(self, content_id: str) -> Any:
        return self.live_entry(content_id).get("version")

    def live_entry(self, content_id: str) -> dict[str, Any]:
        """What viewers see of the item: its entry in publishing's `live` ({} if none)."""
        live = self.sim.state("publishing").get("live", {})
        entry = live.get(content_id, {}) if isinstance(live, dict) else {}
        return entry if isinstance(entry, dict) else {}

    def rendition(self, content_id: str, version: int) -> Any:
        """The rendition transcoding made of that version (None if it made none)."""
        messages = self.sim.trace.messages_of(content_id)
        return next((e.event.rendition for e in messages  # type: ignore[attr-defined]
                     if e.event_type == "TranscodingComplete" and e.event.version == version),
                    None)

    def expect_live_rendition(self, content_id: str) -> None:
        """The live entry plays the live version's own rendition, not an older one (or none)."""
        entry = self.live_entry(content_id)
        wanted = self.rendition(content_id, entry.get("version"))
        if entry.get("rendition") != wanted:
            self.fail(f"Version {entry.get('version')} of {content_id} is live, but viewers "
                      f"would see the rendition {entry.get('rendition')!r}; that version's "
                      f"TranscodingComplete carried {wanted!r}.",
                      "when a version goes live, store its own rendition with it: "
                      "live[content_id] = {'version': event.version, "
                      "'rendition': event.rendition} - both, each time.", content_id)

    def announced(self, event_type: str, content_id: str) -> list[int]:
        """The versions an event of `event_type` was published for, in order."""
        return [e.event.version for e in self.sim.trace.messages_of(content_id)  # type: ignore[attr-defined]
                if e.event_type == event_type]

    def stored(self) -> dict[Any, Any]:
        stored = self.sim.state("upload").get("stored")
        if not isinstance(stored, dict):
            self.fail("The upload service's state has no `stored` dict any more.",
                      "keep ctx.state['stored'][f'{content_id}@v{version}'] = file, as the "
                      "given code does.")
        return stored

    def fail(self, what: str, hint: str, content_id: str | None = None) -> NoReturn:
        excerpt = ([f"What happened to {content_id} (trace excerpt):",
                    *shown_records(self.sim.trace, content_id)[:14]] if content_id else [])
        raise Failed(explain(what, hint, self.plan, excerpt))


def pipeline_run(learner: Learner, factory: str, uploads: Sequence[dict[str, Any]],
                 faults: Sequence[AnyFault] = (), *, seed: int = 1) -> PipelineRun:
    """The pipeline with the learner's service from `factory`; `uploads` in order, each at its
    `at` (virtual ms), until nothing is left to deliver."""
    name = "publishing" if factory == PUBLISHING else "upload"
    service = learner.service(factory, name)
    plan = FaultPlan(faults=tuple(faults))
    sim = content_system(seed, services=content_services(**{name: service}), faults=plan)
    for item in sorted(uploads, key=lambda item: item.get("at", 0)):
        sim.run_for(item.get("at", 0) - sim.now)
        fields = {key: value for key, value in item.items() if key != "at"}
        (edit if fields.get("version", 1) > 1 else upload)(sim, **fields)
    sim.run_until_idle()
    fail_on_handler_errors(learner, sim, name)
    return PipelineRun(sim, plan)


#: an item edited while its first version transcodes: version 2 is uploaded 1 minute in
EDITED = ({"content_id": "v-1", "file": "clip.mp4"},
          {"content_id": "v-1", "version": 2, "file": "clip-edited.mp4", "at": 60_000})
#: the first version's TranscodingComplete arrives after the second's (it took longer)
LATE_FIRST = Reorder(service="publishing", event_type="TranscodingComplete", occurrence=1,
                     by=2 * TRANSCODE_TIME)

REPEAT_HINT = ("a late or repeated message returns nothing: no event, not even the same "
               "ContentPublished again (it was announced when the version went live).")
VERSION_HINT = ("compare versions: make a version live only if no version of the item as new "
                "or newer is live (live[content_id]['version'] >= event.version: keep it).")


# -- task "publish_newest" ----------------------------------------------------------------------
def publishes_a_transcoded_video(learner: Learner) -> None:
    run = pipeline_run(learner, PUBLISHING, [{"content_id": "v-1"}, {"content_id": "v-2"}])
    for content_id in ("v-1", "v-2"):
        if run.live(content_id) != 1 or run.published(content_id) != [1]:
            run.fail(f"{content_id} was approved and transcoded; publishing should make version 1 "
                     f"live and record it once in `published`, but live is {run.live(content_id)!r} "
                     f"and `published` holds {run.published(content_id)!r}.",
                     "live[content_id] = {'version': ..., 'rendition': ...}; append "
                     "{'content_id': ..., 'version': ...} to published; return ContentPublished.",
                     content_id)
        if run.announced("ContentPublished", content_id) != [1]:
            run.fail(f"publishing never announced ContentPublished for {content_id}.",
                     "return ContentPublished(content_id=..., version=...).", content_id)
        run.expect_live_rendition(content_id)


#: an item edited after its first version went live: version 2 is uploaded 3 transcodes in
EDITED_LATER = ({"content_id": "v-1", "file": "clip.mp4"},
                {"content_id": "v-1", "version": 2, "file": "clip-edited.mp4",
                 "at": 3 * TRANSCODE_TIME})


def keeps_the_newer_version_when_the_older_arrives_late(learner: Learner) -> None:
    """First the plain edit (in order: the newer version must replace the live one), then the
    same edit with the older version's message late (it must not come back)."""
    run = pipeline_run(learner, PUBLISHING, EDITED_LATER)
    if run.live("v-1") != 2 or run.published("v-1") != [1, 2]:
        run.fail(f"Version 1 of v-1 went live; later the creator uploaded an edit (version 2), "
                 f"which was approved and transcoded. Publishing made live, in order: "
                 f"{run.published('v-1')}; now live: version {run.live('v-1')}. A newer version "
                 f"replaces the live one.",
                 "an item that is live already is not a repeat by itself: compare the versions "
                 "(keep the live one only if live[content_id]['version'] >= event.version).",
                 "v-1")
    run.expect_live_rendition("v-1")
    run = pipeline_run(learner, PUBLISHING, EDITED, [LATE_FIRST])
    published = run.published("v-1")
    went_back = 2 in published and 1 in published[published.index(2):]
    if run.live("v-1") != 2 or went_back:
        run.fail(f"The creator edited v-1 while version 1 transcoded. Version 2's "
                 f"TranscodingComplete arrived first; version 1's came late (reordered). "
                 f"Publishing made live, in order: {run.published('v-1')}; now live: "
                 f"version {run.live('v-1')}. An older version must never overwrite a newer one.",
                 VERSION_HINT, "v-1")


def publishes_a_version_once_when_its_message_comes_twice(learner: Learner) -> None:
    run = pipeline_run(learner, PUBLISHING, [{"content_id": "v-1"}], [
        Duplicate(service="publishing", event_type="TranscodingComplete", times=2)])
    if run.published("v-1") != [1] or run.announced("ContentPublished", "v-1") != [1]:
        run.fail(f"TranscodingComplete of v-1 was delivered again (its ack was lost). Publishing "
                 f"recorded {run.published('v-1')} and announced ContentPublished "
                 f"{plural(len(run.announced('ContentPublished', 'v-1')), 'time')}.",
                 REPEAT_HINT if run.published("v-1") == [1] else
                 "a version that is live already - this very one - changes nothing: compare "
                 "with >=, not >.", "v-1")
    for lost in lost_first_deliveries("publishing", "TranscodingComplete"):
        run = pipeline_run(learner, PUBLISHING, [{"content_id": "v-1"}], [lost.fault])
        if run.published("v-1") != [1] or run.announced("ContentPublished", "v-1") != [1]:
            run.fail(f"{lost.story('TranscodingComplete of v-1')}. Publishing recorded "
                     f"{run.published('v-1')} and announced ContentPublished "
                     f"{plural(len(run.announced('ContentPublished', 'v-1')), 'time')}; version "
                     "1 should be live, recorded and announced once.", REDELIVERY_HINT, "v-1")


# -- task "clean_up" ----------------------------------------------------------------------------
CLEAN_HINT = ("on ModerationRejected (and TranscodingFailed) delete that version's stored file "
              "(ctx.state['stored'].pop(f'{content_id}@v{version}', None)), note it in "
              "ctx.state['told'] and return UploadDeleted - once per version.")


def expect_cleaned_up(run: PipelineRun, content_id: str, version: int, why: str,
                      hint: str = CLEAN_HINT) -> None:
    key = f"{content_id}@v{version}"
    if key in run.stored():
        run.fail(f"Version {version} of {content_id} {why}, yet its file is still stored.",
                 hint, content_id)
    deleted = run.announced("UploadDeleted", content_id).count(version)
    told = [entry for entry in run.sim.state("upload").get("told", [])
            if isinstance(entry, dict) and entry.get("content_id") == content_id
            and entry.get("version") == version]
    if deleted != 1 or len(told) != 1:
        run.fail(f"Version {version} of {content_id} {why}: the creator should be told once "
                 f"(one UploadDeleted, one entry in `told`); there were "
                 f"{plural(deleted, 'UploadDeleted', 'UploadDeleted events')} and {plural(len(told), 'entry', 'entries')}.",
                 hint, content_id)


def expect_the_reason_given(run: PipelineRun, content_id: str, version: int) -> None:
    """The creator is told why: the reason moderation or transcoding gave for that version,
    in `told` and in UploadDeleted alike (not a reason made up, nor another version's). Once
    told (expect_cleaned_up); checked in one check only, so a wrong reason costs one point."""
    told = next((entry for entry in run.sim.state("upload")["told"]
                 if isinstance(entry, dict) and entry.get("content_id") == content_id
                 and entry.get("version") == version), {})
    messages = run.sim.trace.messages_of(content_id)
    reasons = [e.event.reason for e in messages  # type: ignore[attr-defined]
               if e.event_type in ("ModerationRejected", "TranscodingFailed")
               and e.event.version == version]
    sent = [e.event.reason for e in messages  # type: ignore[attr-defined]
            if e.event_type == "UploadDeleted" and e.event.version == version]
    if reasons and (told.get("reason") != reasons[0] or sent != reasons[:1]):
        run.fail(f"Version {version} of {content_id} was dropped with the reason "
                 f"{reasons[0]!r}, but the creator was told {told.get('reason')!r} in `told` and "
                 f"{sent[0] if sent else None!r} in UploadDeleted.",
                 "pass on the reason the event carries: delete_upload gets it as `reason`; put "
                 "that in the `told` entry and in UploadDeleted(reason=reason).", content_id)


def cleans_up_a_rejected_upload(learner: Learner) -> None:
    run = pipeline_run(learner, UPLOAD, [{"content_id": "v-1", "file": "flagged-clip.mp4"},
                                         {"content_id": "v-2"},
                                         {"content_id": "v-3", "file": "flagged-other.mp4"}])
    expect_cleaned_up(run, "v-1", 1, "was rejected by moderation")
    expect_the_reason_given(run, "v-1", 1)
    expect_cleaned_up(run, "v-3", 1, "(another item) was rejected by moderation too, after v-1's "
                      "version 1", "each item has its own versions: v-3's version 1 is not v-1's. "
                      "Recognise a repeat by content_id and version together, and delete "
                      "f'{content_id}@v{version}'.")
    if "v-2@v1" not in run.stored():
        run.fail("v-2 was approved and published, but its file is gone from `stored`.",
                 "delete only the file of the version that was rejected or failed.", "v-2")


def deletes_only_the_rejected_versions_file(learner: Learner) -> None:
    run = pipeline_run(learner, UPLOAD, [
        {"content_id": "v-1", "file": "clip.mp4"},
        {"content_id": "v-1", "version": 2, "file": "flagged-edit.mp4", "at": 60_000}])
    expect_cleaned_up(run, "v-1", 2, "(an edit) was rejected by moderation")
    if "v-1@v1" not in run.stored():
        run.fail("v-1's edit (version 2) was rejected, and version 1's file was deleted too - "
                 "but version 1 is the one that is live.",
                 "the stored files are keyed by item and version: delete "
                 "f'{event.content_id}@v{event.version}' only.", "v-1")


def tells_the_creator_once_when_a_rejection_comes_twice(learner: Learner) -> None:
    run = pipeline_run(learner, UPLOAD, [{"content_id": "v-1", "file": "flagged-clip.mp4"}], [
        Duplicate(service="upload", event_type="ModerationRejected", times=2)])
    expect_cleaned_up(run, "v-1", 1, "was rejected, and the rejection was delivered again")
    for lost in lost_first_deliveries("upload", "ModerationRejected"):
        run = pipeline_run(learner, UPLOAD, [{"content_id": "v-1", "file": "flagged-clip.mp4"}],
                           [lost.fault])
        expect_cleaned_up(run, "v-1", 1, "was rejected, and "
                          + lost.story("ModerationRejected of v-1", opening=False),
                          REDELIVERY_HINT)


# -- task "pipeline_chaos" ----------------------------------------------------------------------
def explore_pipeline(learner: Learner, *, schedules: int, seed: int, uploads: Sequence[dict[str, Any]]) -> None:
    """Fail with the smallest counterexample if a seeded schedule breaks the pipeline."""
    publishing = learner.service(PUBLISHING, "publishing")
    upload_service = learner.service(UPLOAD, "upload")

    def system(sim_seed: int, faults: FaultPlan) -> Simulation:
        return content_system(sim_seed, services=content_services(
            publishing=publishing, upload=upload_service), faults=faults)

    def workload(sim: Simulation) -> None:
        for item in uploads:
            (edit if item.get("version", 1) > 1 else upload)(sim, **item)

    space = FaultSpace(kinds=("duplicate", "crash", "drop", "delay", "reorder"), max_faults=2,
                       services=("publishing", "upload"))
    result = explore(system, workload, content_oracle(), schedules=schedules, seed=seed,
                     space=space)
    found = result.counterexample
    if found is None:
        return
    violation = found.violations[0]
    calls = "; ".join(f"{'edit' if i.get('version', 1) > 1 else 'upload'}(sim, "
                      + ", ".join(f"{k}={v!r}" for k, v in i.items()) + ")" for i in uploads)
    replay = ("Replay it:\n  from choreo_lab import Crash, Delay, Drop, Duplicate, Reorder\n"
              "  from choreo_lab.examples.content import content_services, content_system, "
              "edit, upload\n"
              f"  sim = content_system({found.seed}, services=content_services(publishing="
              "make_publishing_service(), upload=make_upload_service()), "
              f"faults=[{fault_calls(found.plan)}])\n"
              f"  {calls}\n  sim.run_until_idle(); print(sim.trace.dump())")
    excerpt = ([f"What happened to {violation.subject} (trace excerpt):",
                *shown_records(found.trace, violation.subject)[:14]]
               if violation.subject.startswith("v-") else [])
    raise Failed(explain(f"The chaos explorer ran {plural(result.schedules, 'fault schedule')}; "
                         f"{result.failed} broke the pipeline. The smallest failing schedule "
                         f"breaks this invariant: {violation}", replay, None, excerpt))


#: a burst: a normal item, a flagged one, and an item edited at once
CHAOS_UPLOADS = ({"content_id": "v-1"}, {"content_id": "v-2", "file": "flagged-clip.mp4"},
                 {"content_id": "v-3"}, {"content_id": "v-3", "version": 2,
                                         "file": "clip-edited.mp4"})


def survives_the_chaos_explorer(learner: Learner) -> None:
    explore_pipeline(learner, schedules=30, seed=1, uploads=CHAOS_UPLOADS)


TASKS = (
    Task("publish_newest", EXERCISE, "publish each item at its newest version, once", (
        Check("publishes a transcoded video and records it once", 1, publishes_a_transcoded_video),
        Check("keeps the newer version live when the older one's message arrives late", 1,
              keeps_the_newer_version_when_the_older_arrives_late),
        Check("publishes a version once when its message comes twice", 1,
              publishes_a_version_once_when_its_message_comes_twice),
    ), hidden_count=1, hidden_points=1),
    Task("clean_up", EXERCISE, "clean up after a rejection: delete the file, tell the creator", (
        Check("deletes a rejected upload's file and tells the creator, and keeps the others", 1,
              cleans_up_a_rejected_upload),
        Check("deletes only the rejected version's file, not the live one's", 1,
              deletes_only_the_rejected_versions_file),
        Check("tells the creator once when the rejection comes twice", 1,
              tells_the_creator_once_when_a_rejection_comes_twice),
    ), hidden_count=1, hidden_points=1),
    Task("pipeline_chaos", EXERCISE, "survive the chaos explorer", (
        Check("keeps every invariant of the pipeline over 30 seeded fault schedules", 1,
              survives_the_chaos_explorer),
    ), hidden_count=1, hidden_points=1),
)
