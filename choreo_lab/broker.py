"""The broker's data: consumer groups and their backlogs, dead letters.

Topics are append-only logs that keep every message (so a group created later can replay
them). A consumer group subscribes to the topics of the message types its service handles,
and gets every message of those types; inside a group, messages wait in a backlog until an
instance takes one. A message is *in flight* from the moment it is taken until it is acked
or dead-lettered, and while it is in flight no other message with the same key is handed
out: that is how per-key order survives retries and competing instances.
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass

from .envelope import Delivery, Envelope


@dataclass(frozen=True)
class DeadLetter:
    """A message a group gave up on, with why: kept in the dead-letter queue until re-driven."""

    envelope: Envelope
    group: str
    reason: str
    attempts: int
    time: int

    def __str__(self) -> str:
        return (f"{self.envelope.message_id} {self.envelope.event} -> {self.group} "
                f"after {self.attempts} attempts at t={self.time}: {self.reason}")


class ConsumerGroup:
    """One group's view of the broker: what it subscribes to, its backlog, what it holds in flight."""

    __slots__ = ("name", "topics", "event_types", "backlog", "holders", "last_arrival")

    def __init__(self, name: str, topics: tuple[str, ...], event_types: frozenset[str]) -> None:
        self.name = name
        self.topics = topics
        self.event_types = event_types
        self.backlog: deque[Delivery] = deque()
        #: key -> the message in flight for that key (one at a time: per-key order)
        self.holders: dict[str, str] = {}
        #: key -> arrival time of its latest message, so jitter cannot overtake within a key
        self.last_arrival: dict[str, int] = {}

    def wants(self, envelope: Envelope) -> bool:
        """Does this group handle the message's type? (A topic may carry several types.)"""
        return envelope.event_type in self.event_types

    def may_take(self, delivery: Delivery) -> bool:
        """Its key is free, or held by this very message (a redelivery)."""
        holder = self.holders.get(delivery.envelope.key)
        return holder is None or holder == delivery.envelope.message_id

    def hold(self, delivery: Delivery) -> None:
        self.holders[delivery.envelope.key] = delivery.envelope.message_id

    def take(self) -> Delivery | None:
        """The oldest waiting delivery whose key is free (now held by it), or None."""
        for index, delivery in enumerate(self.backlog):
            if self.may_take(delivery):
                del self.backlog[index]
                self.hold(delivery)
                return delivery
        return None

    def release(self, delivery: Delivery) -> None:
        """The delivery is acked or dead-lettered: its key is free for the next message."""
        key = delivery.envelope.key
        if self.holders.get(key) == delivery.envelope.message_id:
            del self.holders[key]

    @property
    def in_flight(self) -> int:
        return len(self.holders)

    def backlog_by_topic(self) -> dict[str, int]:
        counts = Counter(d.envelope.topic for d in self.backlog)
        return {topic: counts.get(topic, 0) for topic in self.topics}
