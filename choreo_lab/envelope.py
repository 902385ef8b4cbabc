"""Message metadata the runtime stamps around an event. Handlers read it; they never set it."""

from __future__ import annotations

from .events import Message


class Envelope:
    """One published message: the event plus who, when, why and where it belongs.

    - `message_id`: unique, deterministic under a seed (``m1``, ``m2``, ...).
    - `event_type`: the message type's name; `topic`: the log it travels on.
    - `key`: the partition key (per-key order holds).
    - `correlation_id`: the workflow it belongs to (an order, an upload, ...).
    - `causation_id`: the message whose handler produced it (None if from outside).
    - `producer`: the service (or outside actor) that published it.
    - `published_at`: virtual time of publication.
    - `depth`: length of its causal chain; `root_id`: the message from outside that began it.
    """

    __slots__ = ("message_id", "event_type", "topic", "key", "correlation_id", "causation_id",
                 "producer", "published_at", "event", "depth", "root_id")

    def __init__(self, message_id: str, event: Message, key: str, correlation_id: str,
                 causation_id: str | None, producer: str, published_at: int, depth: int = 0,
                 root_id: str | None = None) -> None:
        self.message_id = message_id
        #: the message type's name (what handlers are registered for and faults target)
        self.event_type = event.event_type
        self.topic = event.topic
        self.key = key
        self.correlation_id = correlation_id
        self.causation_id = causation_id
        self.producer = producer
        self.published_at = published_at
        self.event = event
        self.depth = depth
        self.root_id = root_id or message_id

    def __repr__(self) -> str:
        return (f"Envelope({self.message_id}, {self.event}, key={self.key!r}, "
                f"correlation={self.correlation_id!r}, cause={self.causation_id!r}, "
                f"producer={self.producer!r}, t={self.published_at})")


class Delivery:
    """One message on its way to one consumer group. `attempt` counts deliveries so far.

    The attempt count lives with the message at the broker, so it survives the consumer
    being killed: the next instance to receive it sees attempt 2, 3, ...
    """

    __slots__ = ("envelope", "group", "attempt")

    def __init__(self, envelope: Envelope, group: str, attempt: int = 0) -> None:
        self.envelope = envelope
        self.group = group
        self.attempt = attempt

    def __repr__(self) -> str:
        return f"Delivery({self.envelope.message_id} -> {self.group}, attempt={self.attempt})"
