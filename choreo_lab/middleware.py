"""Middleware: `handler -> handler` wrappers declared on a service, applied to all its handlers.

    payment = Service("payment", {"charges": {}}, middleware=[inbox(key=lambda e, ctx: e.order_id)])

A middleware gets the handler and returns a function of the same shape `(event, ctx)`. It
runs inside the delivery, so what it writes to `ctx.state` is committed (or dropped) with
the handler's own work.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from .context import Context
from .service import Handler, Middleware

KeyOf = Callable[[Any, Context], object]


def by_message_id(event: Any, ctx: Context) -> object:
    """The inbox key of a delivery: its message id (one published message, handled once)."""
    return ctx.message_id


def inbox(key: KeyOf = by_message_id, *, table: str = "inbox") -> Middleware:
    """The idempotent consumer: handle each `key` once, and ignore it when it comes again.

    The keys handled so far live in the service's own state under `table`, committed
    together with the handler's work, so a crash before the commit forgets both. Choose the
    key by what must not happen twice: the message id stops redeliveries of one message;
    a business key (an order id) also stops the same fact published twice.
    Cost: one lookup in the state per delivery.
    """
    def wrap(handler: Handler) -> Handler:
        @functools.wraps(handler)
        def handle_once(event: Any, ctx: Context) -> Any:
            seen = ctx.state.setdefault(table, {})
            name = f"{type(event).event_type}:{key(event, ctx)}"
            if name in seen:
                return None  # handled already; what it produced was published then
            seen[name] = ctx.message_id
            return handler(event, ctx)
        return handle_once
    return wrap
