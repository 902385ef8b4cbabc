"""Where things live on the broker: stream names and subjects, derived from one run name.

    <run>.events.<topic>.<EventType>    every published message (stream RUN)
    <run>.redrive.<group>.<EventType>   a dead letter sent back to one group only (stream RUN)
    <run>.failures.<group>.<seq>        why a group's last attempt at message <seq> failed
                                        (stream RUN_FAILURES, the last note per message)
    $JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.RUN.<group>
                                        the server's notice that a group gave up on a
                                        message (stream RUN_DEAD: the dead-letter queue)

A consumer group is a durable consumer named after its service, filtering the event
subjects of the message types it handles plus its own redrive subject.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_TOKEN = re.compile(r"^[A-Za-z0-9_-]+$")


def check_token(value: str, what: str) -> str:
    """`value` if it can be one token of a NATS subject, else a ValueError saying why not."""
    if not _TOKEN.match(value):
        raise ValueError(f"{what} {value!r} cannot be part of a NATS subject: use letters, "
                         "digits, '_' and '-' only (no dots, spaces or wildcards)")
    return value


@dataclass(frozen=True)
class Names:
    """The streams and subjects of one run (`run` is upper case for streams, lower for subjects)."""

    run: str = "CHOREO"

    def __post_init__(self) -> None:
        check_token(self.run, "the run name")

    @property
    def stream(self) -> str:
        return self.run.upper()

    @property
    def dead_stream(self) -> str:
        return f"{self.stream}_DEAD"

    @property
    def failures_stream(self) -> str:
        return f"{self.stream}_FAILURES"

    @property
    def prefix(self) -> str:
        return self.run.lower()

    def event_subject(self, topic: str, event_type: str) -> str:
        return (f"{self.prefix}.events.{check_token(topic, 'the topic')}."
                f"{check_token(event_type, 'the event type')}")

    def redrive_subject(self, group: str, event_type: str) -> str:
        return f"{self.prefix}.redrive.{group}.{event_type}"

    def failure_subject(self, group: str, stream_sequence: int) -> str:
        return f"{self.prefix}.failures.{group}.{stream_sequence}"

    @property
    def dead_letter_subjects(self) -> str:
        return f"$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.{self.stream}.*"
