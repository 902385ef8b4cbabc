"""The content pipeline: rejection clean-up, versions under reordering, the poison message."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from choreo_lab import Duplicate, Reorder, workflow_status
from choreo_lab.chaos import FaultSpace, explore
from choreo_lab.examples.content import (
    TRANSCODE_TIME,
    content_ids,
    content_oracle,
    content_services,
    content_system,
    edit,
    random_uploads,
    upgrade_decoder,
    upload,
    upload_all,
    where_is_content,
)


def invariants_broken(sim) -> list[str]:
    return [violation.invariant for violation in content_oracle().check(sim).violations]


def late_first_completion(by: int = 2 * TRANSCODE_TIME) -> Reorder:
    """Version 1's TranscodingComplete reaches publishing late; version 2's overtakes it."""
    return Reorder(service="publishing", event_type="TranscodingComplete", occurrence=1, by=by)


def upload_then_edit(sim) -> None:
    upload(sim, "v-1")
    sim.run_for(1000)  # version 1 is transcoding now
    edit(sim, "v-1", 2)


def test_an_approved_video_is_transcoded_slowly_then_published():
    sim = content_system(1)
    upload(sim, "v-1")
    sim.run_until_idle()
    assert sim.state("publishing")["live"]["v-1"]["version"] == 1
    assert sim.now >= TRANSCODE_TIME
    assert workflow_status(sim, "v-1") == "completed"
    assert content_oracle().check(sim).converged


def test_a_flagged_upload_is_rejected_its_file_deleted_and_the_creator_told():
    sim = content_system(1)
    upload(sim, "v-1", file="flagged-clip.mp4", creator="grace")
    sim.run_until_idle()
    assert sim.state("upload")["stored"] == {}
    assert sim.state("upload")["told"][0]["content_id"] == "v-1"
    assert "v-1" not in sim.state("publishing")["live"]
    assert workflow_status(sim, "v-1") == "compensated"
    assert content_oracle().check(sim).converged


def test_without_clean_up_a_rejected_file_is_kept_and_the_oracle_says_so():
    sim = content_system(1, services=content_services(cleans_up=False))
    upload(sim, "v-1", file="flagged-clip.mp4")
    sim.run_until_idle()
    assert "rejected files are deleted" in invariants_broken(sim)


def test_a_file_that_is_not_a_video_fails_transcoding_and_is_cleaned_up():
    sim = content_system(1)
    upload(sim, "v-1", file="notes.txt")
    sim.run_until_idle()
    assert sim.state("upload")["stored"] == {}
    assert content_oracle().check(sim).converged


def test_an_edit_mid_flight_ends_with_the_newest_version_live():
    sim = content_system(1)
    upload_then_edit(sim)
    sim.run_until_idle()
    assert sim.state("publishing")["live"]["v-1"]["version"] == 2
    assert content_oracle().check(sim).converged


def test_under_reorder_a_naive_publisher_lets_the_older_version_win():
    sim = content_system(1, services=content_services(version_checks=False),
                         faults=[late_first_completion()])
    upload_then_edit(sim)
    sim.run_until_idle()
    assert sim.state("publishing")["live"]["v-1"]["version"] == 1
    assert invariants_broken(sim) == ["published once, never older", "newest version is live"]
    assert "overwrote the newer version 2" in where_is_content(sim, "v-1") + str(
        content_oracle().check(sim))


def test_under_reorder_the_version_check_keeps_the_newer_version():
    sim = content_system(1, faults=[late_first_completion()])
    upload_then_edit(sim)
    sim.run_until_idle()
    assert sim.state("publishing")["published"] == [{"content_id": "v-1", "version": 2}]
    assert content_oracle().check(sim).converged


def test_a_repeated_completion_is_published_once():
    sim = content_system(1, faults=[Duplicate(service="publishing")])
    upload(sim, "v-1")
    sim.run_until_idle()
    assert len(sim.state("publishing")["published"]) == 1
    naive = content_system(1, services=content_services(version_checks=False),
                           faults=[Duplicate(service="publishing", times=1)])
    upload(naive, "v-1")
    naive.run_until_idle()
    assert "published once, never older" in invariants_broken(naive)


def test_a_corrupt_file_is_retried_dead_lettered_and_does_not_hold_up_the_others():
    sim = content_system(1)
    upload(sim, "v-1", file="corrupt-clip.mp4")
    upload(sim, "v-2")
    sim.run_until_idle()
    [letter] = sim.dead_letters
    assert letter.group == "transcoding" and letter.attempts == sim.max_attempts
    assert "CorruptFile: decoder 1 crashed" in letter.reason
    assert sim.state("publishing")["live"]["v-2"]["version"] == 1
    assert set(invariants_broken(sim)) == {"nothing is lost", "every workflow finishes"}


def test_after_the_decoder_is_fixed_a_redriven_corrupt_file_is_cleaned_up():
    sim = content_system(1)
    upload(sim, "v-1", file="corrupt-clip.mp4")
    sim.run_until_idle()
    upgrade_decoder(sim)
    sim.run_until_idle()
    assert sim.redrive() == 1
    sim.run_until_idle()
    assert sim.dead_letters == [] and sim.state("upload")["stored"] == {}
    assert workflow_status(sim, "v-1") == "compensated"
    assert content_oracle().check(sim).converged


def test_two_transcoders_finish_a_burst_in_about_half_the_time():
    def finish_time(transcoders: int) -> int:
        sim = content_system(1, services=content_services(transcoders=transcoders))
        upload_all(sim, random_uploads(8, seed=1, flagged_rate=0, edit_rate=0))
        sim.run_until_idle()
        return sim.now
    assert finish_time(1) >= 8 * TRANSCODE_TIME
    assert finish_time(2) <= 4 * TRANSCODE_TIME + 1000


def test_random_uploads_are_seeded():
    assert random_uploads(6, seed=3) == random_uploads(6, seed=3)
    assert random_uploads(6, seed=3) != random_uploads(6, seed=4)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), count=st.integers(1, 6))
def test_any_burst_of_uploads_converges(seed: int, count: int):
    sim = content_system(seed, services=content_services(transcoders=2), latency=5, jitter=3)
    upload_all(sim, random_uploads(count, seed=seed, flagged_rate=0.3, edit_rate=0.4))
    sim.run_until_idle()
    report = content_oracle().check(sim)
    assert report.converged, str(report)
    assert content_ids(sim) == [f"v-{n}" for n in range(1, count + 1)]


def test_the_chaos_explorer_finds_the_naive_pipeline_broken_and_the_real_one_sound():
    space = FaultSpace(kinds=("duplicate", "crash", "reorder", "kill"), max_faults=2)

    def system(naive: bool):
        def build(seed, faults):
            services = content_services(version_checks=not naive)
            return content_system(seed, services=services, faults=faults)
        return build

    def workload(sim) -> None:
        upload(sim, "v-2", file="flagged-clip.mp4")
        upload_then_edit(sim)

    sound = explore(system(False), workload, content_oracle(), schedules=40, seed=3, space=space)
    assert sound.ok, str(sound)
    broken = explore(system(True), workload, content_oracle(), schedules=40, seed=3, space=space)
    assert not broken.ok and len(broken.counterexample.plan) == 1
    assert broken.counterexample.plan.faults[0].kind in ("reorder", "duplicate")


def test_a_scaling_rule_on_transcoding_alone_keeps_its_oldest_waiting_video_young():
    from choreo_lab.lag import backlog_age_over_time

    def scale_transcoding(sim) -> None:
        instances = sim.stats()["transcoding"]["instances"]
        if sim.oldest_waiting("transcoding") > 5 * 60_000 and instances < 4:
            sim.scale("transcoding", instances + 1)

    def run(rule):
        sim = content_system(1)
        upload_all(sim, random_uploads(10, seed=1, flagged_rate=0))
        return backlog_age_over_time(sim, duration=40 * 60_000, every=60_000, rule=rule)

    alone, scaled = run(None), run(scale_transcoding)
    assert scaled.oldest("transcoding") < alone.oldest("transcoding") / 2
    assert max(scaled.instances["transcoding"]) == 4
    assert {max(scaled.instances[g]) for g in ("upload", "moderation", "publishing")} == {1}
    assert alone.oldest("moderation") == scaled.oldest("moderation") == 0


def test_an_upload_service_on_the_newer_schema_is_read_by_a_moderation_on_the_old_one():
    from choreo_lab.examples.content import (
        ContentUploaded,
        ContentUploadedV2,
        make_upload_service,
    )
    from choreo_lab.schemas import breaking_changes

    assert breaking_changes(ContentUploaded, ContentUploadedV2) == []
    sim = content_system(1, services=content_services(upload=make_upload_service(language="fr")))
    upload(sim, "v-1")
    sim.run_until_idle()
    [uploaded] = [e for e in sim.trace.messages.values() if e.event_type == "ContentUploaded"]
    assert type(uploaded.event) is ContentUploadedV2 and uploaded.event.language == "fr"
    assert content_oracle().check(sim).converged
