"""Deliberately broken services: each has one classic choreography bug the explorer must find.

Each is the reference service from `choreo_lab.examples.orders` with one thing missing;
the comment marked BUG says what.
"""

from __future__ import annotations

from choreo_lab import Context, Event, Service
from choreo_lab.examples.orders import (
    DECLINED_CUSTOMERS,
    OrderPlaced,
    OutOfStock,
    PaymentCompleted,
    PaymentDeclined,
    PaymentRefunded,
    ShipmentFailed,
    make_inventory_service,
    make_payment_service,
)
from choreo_lab.service import Handling


def charge(event: OrderPlaced, ctx: Context) -> list[Event]:
    """Charge the card; BUG: no check whether this order was charged already (not idempotent)."""
    state = ctx.state
    if event.customer in state["declined_customers"]:
        state.setdefault("declined", {})[event.order_id] = event.customer
        return [PaymentDeclined(order_id=event.order_id, reason="card declined")]
    state["charges"][event.order_id] = event.amount
    state["ledger"].setdefault(event.order_id, []).append(
        {"kind": "charge", "amount": event.amount, "at": ctx.now})
    return [PaymentCompleted(order_id=event.order_id, item=event.item, quantity=event.quantity,
                             amount=event.amount, address=event.address)]


def refund(event: OutOfStock | ShipmentFailed, ctx: Context) -> list[Event]:
    """The reference refund: once per order, only what was charged."""
    state = ctx.state
    charged = state["charges"].get(event.order_id)
    if charged is None or event.order_id in state["refunds"]:
        return []
    state["refunds"][event.order_id] = charged
    state["ledger"].setdefault(event.order_id, []).append(
        {"kind": "refund", "amount": charged, "at": ctx.now})
    return [PaymentRefunded(order_id=event.order_id, amount=charged)]


def payment_that_charges_twice() -> Service:
    """A payment service whose charge handler is not idempotent: a redelivery charges again."""
    payment = Service("payment", {"declined_customers": list(DECLINED_CUSTOMERS), "charges": {},
                                  "refunds": {}, "ledger": {}})
    payment.handles(OrderPlaced, publishes=(PaymentCompleted, PaymentDeclined))(charge)
    payment.handles(OutOfStock, publishes=(PaymentRefunded,))(refund)
    payment.handles(ShipmentFailed, publishes=(PaymentRefunded,))(refund)
    return payment


def payment_that_refunds_twice() -> Service:
    """A payment service whose refund is not idempotent: a redelivered failure refunds again."""
    payment = make_payment_service()

    def refund_again(event: OutOfStock | ShipmentFailed, ctx: Context) -> list[Event]:
        state = ctx.state
        charged = state["charges"].get(event.order_id)
        if charged is None:
            return []
        # BUG: no check of state["refunds"]: every delivery of the failure refunds once more
        state["refunds"][event.order_id] = charged
        state["ledger"].setdefault(event.order_id, []).append(
            {"kind": "refund", "amount": charged, "at": ctx.now})
        return [PaymentRefunded(order_id=event.order_id, amount=charged)]

    for event_type in (OutOfStock, ShipmentFailed):
        payment.handlers[event_type.event_type] = Handling(event_type, refund_again,
                                                           (PaymentRefunded,))
    return payment


def inventory_that_never_releases() -> Service:
    """An inventory service with a missing compensation: ShipmentFailed does not release stock."""
    inventory = make_inventory_service()
    # BUG: the compensation is missing: nobody gives the stock back when shipping fails
    del inventory.handlers["ShipmentFailed"]
    return inventory


def payment_that_never_refunds_out_of_stock() -> Service:
    """A payment service with a missing compensation: OutOfStock does not refund the charge."""
    payment = make_payment_service()
    # BUG: the compensation is missing: a paid order that cannot be filled keeps its charge
    del payment.handlers["OutOfStock"]
    return payment



def inventory_that_trusts_first_delivery() -> Service:
    """An inventory that deduplicates by attempt number: one failed try loses the compensation."""
    inventory = make_inventory_service()
    release = inventory.handlers["ShipmentFailed"].handler

    def release_on_first_attempt(event: ShipmentFailed, ctx: Context) -> list[Event]:
        # BUG: "attempt > 1 means I did it already" - but the first attempt may have failed
        # before committing, and then the stock is never given back.
        if ctx.attempt > 1:
            return []
        return release(event, ctx)

    inventory.handlers["ShipmentFailed"] = Handling(ShipmentFailed, release_on_first_attempt)
    return inventory
