"""Invariants over a real broker: the services' states plus the messages the stream kept.

JetStream keeps every published message (the run's stream is the retained log), so an
invariant that asks which messages were published (was this version rejected?) is checked
on NATS too, and a violation names the messages. What only a simulation knows (a record of
every step, a count per workflow of what is still on its way) is refused, and `judge`
says which invariants could not be checked and why.
"""

from __future__ import annotations

from typing import Any

import pytest

from choreo_lab.broker import DeadLetter
from choreo_lab.envelope import Envelope
from choreo_lab.examples.content import CONTENT_INVARIANTS, upload
from choreo_lab.examples.content.events import TranscodingComplete, UploadRequested
from choreo_lab.examples.content.invariants import rejected_files_are_deleted
from choreo_lab.nats import missing_pieces
from choreo_lab.nats.snapshot import MessageLog, NoTrace, StateSnapshot, TraceNeeded

CONTENT = "choreo_lab.examples.content:content_services"
SAFETY = {"nothing_rejected_is_published", "published_once_never_older"}


def request(message_id: str, content_id: str, version: int = 1) -> Envelope:
    event = UploadRequested(content_id=content_id, version=version, creator="ada",
                            title="cat video", file="clip.mp4")
    return Envelope(message_id, event, content_id, content_id, None, "creator", 0)


def test_a_message_log_reads_like_the_message_part_of_a_trace():
    first, second, other = request("m1", "v-1"), request("m2", "v-1", 2), request("m3", "v-2")
    again = request("m1", "v-1")  # a re-driven copy: the same message
    log = MessageLog([first, second, again, other])
    assert log.messages == {"m1": first, "m2": second, "m3": other}
    assert log.messages_of("v-1") == [first, second] and log.messages_of("v-9") == []
    assert log.correlation_ids() == ["v-1", "v-2"] and log.has_workflow("v-2")
    assert log.parent("m2") is None
    with pytest.raises(TraceNeeded, match=r"trace\.for_correlation: a real broker keeps the "
                                          r"messages, not a record of every step"):
        log.for_correlation("v-1")
    assert not hasattr(log, "records") and getattr(log, "where", None) is None


class FakeRuntime:
    """States, a log and a quiet answer, as NatsRuntime gives them."""

    def __init__(self, log: Any, quiet: list[bool]) -> None:
        self.services = ["upload", "publishing"]
        self._log, self._quiet = log, list(quiet)
        self.dead_letters: list[Any] = []

    def state(self, name: str) -> dict[str, Any]:
        return ({"stored": {"v-1@v1": "clip.mp4"}, "told": []} if name == "upload"
                else {"live": {}, "published": []})

    def log(self) -> Any:
        return self._log

    def quiet(self) -> bool:
        return self._quiet.pop(0)


def test_convergence_is_judged_only_if_the_runtime_was_quiet_before_and_after_the_reading():
    transcoded = TranscodingComplete(content_id="v-1", version=1, rendition="v-1@v1.720p")
    log = MessageLog([request("m1", "v-1"),
                      Envelope("m2", transcoded, "v-1", "v-1", "m1", "transcoding", 5)])
    for answers in ([False, True], [True, False]):
        runtime = FakeRuntime(log, answers)
        runtime.dead_letters = [DeadLetter(log.messages["m2"], "publishing", "boom", 5, 9)]
        snapshot = StateSnapshot.of(runtime)
        broken, unchecked = snapshot.judge(CONTENT_INVARIANTS)
        assert snapshot.quiet is False and broken == []
        assert set(unchecked) == {i.__name__ for i in CONTENT_INVARIANTS} - SAFETY
        assert all("something was still on its way when this snapshot was read" in reason
                   for reason in unchecked.values())
    runtime = FakeRuntime(log, [True, True])
    runtime.dead_letters = [DeadLetter(log.messages["m2"], "publishing", "boom", 5, 9)]
    quiet = StateSnapshot.of(runtime)
    broken, unchecked = quiet.judge(CONTENT_INVARIANTS)
    assert quiet.quiet is True and unchecked == {}
    assert [text.split("]")[0] for text in broken] == ["[newest version is live, convergence",
                                                      "[nothing is lost, convergence"]


def test_a_log_that_cannot_be_read_back_leaves_the_invariants_that_read_it_unchecked():
    reason = "the broker's log holds messages of Mystery, which no service here handles"
    snapshot = StateSnapshot.of(FakeRuntime(NoTrace(reason), [True, True]))
    broken, unchecked = snapshot.judge(CONTENT_INVARIANTS)
    assert broken == []
    # nothing_is_lost reads the dead letters first: there are none, so it holds
    assert set(unchecked) == {i.__name__ for i in CONTENT_INVARIANTS} - {"nothing_is_lost"}
    assert all(reason in text for text in unchecked.values())


@pytest.mark.nats
@pytest.mark.skipif(missing_pieces() is not None, reason=f"NATS backend: {missing_pieces()}")
def test_on_nats_a_rejected_file_left_stored_is_found_and_named_by_its_messages(tmp_path):
    from choreo_lab.nats import NatsRuntime, services_from

    services = services_from("choreo_lab.nats.sources:time_scaled", factory=CONTENT,
                             scale=0.001, arguments={"cleans_up": False})
    with NatsRuntime(services, directory=tmp_path, ack_wait=2000) as runtime:
        upload(runtime, "v-1", file="flagged-clip.mp4")
        upload(runtime, "v-2", file="clip.mp4")
        runtime.run_until_idle(timeout=60)
        snapshot = StateSnapshot.of(runtime)
        broken, unchecked = snapshot.judge(CONTENT_INVARIANTS)
        log = runtime.log()
    assert snapshot.quiet is True and unchecked == {}
    rejected = [e.message_id for e in log.messages_of("v-1") if e.event_type == "ModerationRejected"]
    assert len(rejected) == 1
    found = list(rejected_files_are_deleted(snapshot))
    assert [(v.subject, v.message_ids) for v in found] == [("v-1", tuple(rejected))]
    assert broken == [str(found[0])]
    assert [e.event_type for e in log.messages_of("v-2")] == [
        "UploadRequested", "ContentUploaded", "ModerationApproved", "TranscodingComplete",
        "ContentPublished"]
