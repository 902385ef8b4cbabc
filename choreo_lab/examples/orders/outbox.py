"""Payment with a transactional outbox of its own: answers kept in its state, sent by a relay.

With `Simulation(outbox=False)` a handler's state is written first and its events published
after, so a crash in between keeps the charge and loses the answer (the dual write). The
cure is to publish nothing from the handler: keep each answer as a row of an `outbox` table
in the service's own state - written in the same commit as the charge - and let a relay
publish the rows and mark them sent. A row is data, as in a database table:

    outbox: {row_id: {"type": "PaymentCompleted", "fields": {...}, "cause": "m7"}}

`as_row` and `event_of` turn an event into a row and back. `cause` is the id of the message
whose handler wrote the row, so the relay's message joins that order's workflow. The row id becomes the message id, and the broker keeps a message
id once: a row sent again after a crash is not sent twice.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from ...context import Context
from ...events import Event
from ...service import Handler, Middleware, RelayFunction, Service, produced_events
from .events import ORDER_EVENTS
from .services import make_payment_service

#: What a handler hands each answer to: keep it in the outbox (and return None), or return
#: it to have it published at once, the old way.
Keep = Callable[[Context, Event], Any]
RELAY_EVERY = 20  # virtual ms between a commit and the relay's run


def answers_kept_by(keep: Keep) -> Middleware:
    """Middleware: each event a handler returns goes to `keep(ctx, event)` instead.

    What `keep` returns is published the usual way; None (the row is in the outbox) publishes
    nothing now.
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


def outbox_payment(keep: Keep, relay: RelayFunction, *, every: int = RELAY_EVERY) -> Service:
    """The saga's payment service, its answers given to `keep` and published by `relay`."""
    plain = make_payment_service()
    payment = Service("payment", {**plain.initial_state, "outbox": {}},
                      middleware=[answers_kept_by(keep)])
    payment.handlers = dict(plain.handlers)
    payment.relay(every=every)(relay)
    return payment


def as_row(event: Event, cause: str) -> dict[str, Any]:
    """An outbox row for `event`, written by the handler of message `cause`."""
    return {"type": type(event).event_type, "fields": event.model_dump(), "cause": cause}


def event_of(row: dict[str, Any]) -> Event:
    """The event an outbox row holds."""
    by_name = {event_type.event_type: event_type for event_type in ORDER_EVENTS}
    return by_name[row["type"]](**row["fields"])


def outbox_rows(sim: Any, service: str = "payment") -> dict[str, Any]:
    """The rows waiting in a service's outbox table (empty when all were sent)."""
    return dict(sim.state(service).get("outbox", {}))
