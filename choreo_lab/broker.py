"""The broker's data: retained topic logs, consumer groups, dead letters, and its guarantees.

Topics are append-only logs that keep every message (so a group created later can replay
them). Every consumer group gets every message of the topics it subscribes to; inside a
group, messages wait in a backlog until an instance takes one. A message is *in flight*
from the moment it is taken until it is acked or dead-lettered, and while it is in flight
no other message with the same key is handed out: that is how per-key order survives
retries and competing instances.
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass

from .envelope import Delivery, Envelope


@dataclass(frozen=True)
class DeadLetter:
    """A message a group gave up on, with why: kept on the dead-letter topic until re-driven."""

    envelope: Envelope
    group: str
    reason: str
    attempts: int
    time: int

    def __str__(self) -> str:
        return (f"{self.envelope.message_id} {self.envelope.event} -> {self.group} "
                f"after {self.attempts} attempts at t={self.time}: {self.reason}")


class ConsumerGroup:
    """One group's view of the broker: its backlog and the messages it holds in flight."""

    __slots__ = ("name", "topics", "backlog", "holder", "last_arrival")

    def __init__(self, name: str, topics: list[str]) -> None:
        self.name = name
        self.topics = topics
        self.backlog: deque[Delivery] = deque()
        #: key -> message id in flight for that key (per-key order: one at a time)
        self.holder: dict[str, str] = {}
        #: key -> arrival time of its latest message, so jitter cannot overtake within a key
        self.last_arrival: dict[str, int] = {}

    def take(self) -> Delivery | None:
        """The oldest waiting delivery whose key is free (or held by itself), or None."""
        backlog, holder = self.backlog, self.holder
        first = backlog[0]
        envelope = first.envelope
        owner = holder.get(envelope.key)
        if owner is None or owner == envelope.message_id:
            backlog.popleft()
            holder[envelope.key] = envelope.message_id
            return first
        for index, delivery in enumerate(backlog):
            envelope = delivery.envelope
            owner = holder.get(envelope.key)
            if owner is None or owner == envelope.message_id:
                del backlog[index]
                holder[envelope.key] = envelope.message_id
                return delivery
        return None

    def release(self, delivery: Delivery) -> None:
        """The delivery is acked or dead-lettered: its key is free for the next message."""
        key = delivery.envelope.key
        if self.holder.get(key) == delivery.envelope.message_id:
            del self.holder[key]

    @property
    def in_flight(self) -> int:
        return len(self.holder)

    def backlog_by_topic(self) -> dict[str, int]:
        counts = Counter(d.envelope.topic for d in self.backlog)
        return {topic: counts.get(topic, 0) for topic in self.topics}
