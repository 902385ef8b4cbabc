"""Messages on the wire: an envelope as JSON, and back with the receiver's own event class.

The event travels as its type name and ``model_dump(mode="json")``; the envelope's fields
travel beside it. The receiver rebuilds the event with *its* class for that name, reading
only the fields it knows (the tolerant reader), so producer and consumer may hold different
versions of the schema.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ..envelope import Envelope
from ..errors import InvalidEvent
from ..events import Message


def encode(envelope: Envelope) -> bytes:
    """The envelope and its event as one JSON document."""
    return json.dumps({
        "message_id": envelope.message_id, "type": envelope.event_type,
        "event": envelope.event.model_dump(mode="json"), "topic": envelope.topic,
        "key": envelope.key, "correlation_id": envelope.correlation_id,
        "causation_id": envelope.causation_id, "producer": envelope.producer,
        "published_at": envelope.published_at, "depth": envelope.depth,
        "root_id": envelope.root_id,
    }, separators=(",", ":")).encode()


def event_type_of(data: bytes) -> str:
    """The message type name a wire message carries (without rebuilding its event)."""
    return json.loads(data)["type"]


def decode(data: bytes | Mapping[str, Any], classes: Mapping[str, type[Message]]) -> Envelope:
    """The envelope back, its event rebuilt with `classes[type name]`; InvalidEvent if unknown."""
    fields = json.loads(data) if isinstance(data, bytes) else data
    cls = classes.get(fields["type"])
    if cls is None:
        raise InvalidEvent(f"message {fields['message_id']} is a {fields['type']}, which this "
                           f"process has no class for (it knows {', '.join(sorted(classes))})")
    known = {name: value for name, value in fields["event"].items() if name in cls.model_fields}
    event = cls(**known)
    return Envelope(fields["message_id"], event, fields["key"], fields["correlation_id"],
                    fields["causation_id"], fields["producer"], fields["published_at"],
                    fields["depth"], fields["root_id"])
