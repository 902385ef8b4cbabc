"""A transactional outbox written by hand: answers kept as rows, published by a relay.

The runtime's own outbox (`Simulation(outbox=True)`) commits a handler's state and events
together. With it switched off, a service can still publish safely: its handlers publish
nothing, they keep each answer as a row of an ``outbox`` table in the service's own state -
written in the same commit as the business change - and a relay (`Service.relay`) publishes
the rows and marks them sent. A row is data, as in a database table:

    outbox: {row_id: {"type": "ShipmentScheduled", "fields": {...}, "cause": "m7"}}

`cause` is the id of the message whose handler wrote the row, so the relay's message joins
that message's workflow; the row id becomes the message id, which the broker keeps once.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from .context import Context
from .events import Event, Message
from .service import Handler, Middleware, produced_events

#: What a handler hands each answer to: keep it in the outbox (and return None), or return
#: it to have it published at once, the usual way.
Keep = Callable[[Context, Event], Any]


def as_row(event: Message, cause: str) -> dict[str, Any]:
    """An outbox row for `event`, written by the handler of message `cause`."""
    return {"type": type(event).event_type, "fields": event.model_dump(), "cause": cause}


def event_of(row: dict[str, Any]) -> Message:
    """The event an outbox row holds (its class found by its type name)."""
    return message_class(row["type"])(**row["fields"])


def message_class(name: str) -> type[Message]:
    """The message class whose type name is `name` (the course's own first), or a KeyError."""
    pending, found = list(Message.__subclasses__()), None
    while pending:
        cls = pending.pop(0)
        if getattr(cls, "event_type", None) == name:
            if cls.__module__.startswith("choreo_lab."):
                return cls
            found = found or cls
        pending.extend(cls.__subclasses__())
    if found is None:
        raise KeyError(f"no event class is called {name!r}")
    return found


def answers_kept_by(keep: Keep) -> Middleware:
    """Middleware: each event a handler returns goes to `keep(ctx, event)` instead.

    What `keep` returns is published the usual way; None (the row is in the outbox)
    publishes nothing now.
    """
    def wrap(handler: Handler) -> Handler:
        @functools.wraps(handler)
        def kept(event: Any, ctx: Context) -> list[Any]:
            answers = produced_events(getattr(handler, "__name__", "handler"), ctx.service,
                                      handler(event, ctx))
            returned = (keep(ctx, answer) for answer in answers)
            return [item for item in returned if item is not None]
        return kept
    return wrap
