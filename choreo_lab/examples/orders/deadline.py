"""A saga with a deadline: no payment answer within `deadline` ms, and the order is cancelled.

    sim = order_system(7, services=order_services(payment_deadline=30_000))

Opt-in; the saga without it is unchanged. Three services change their reactions:

- order: placing an order also sets a timer (kept by the broker, so it fires even if order
  is down then); PaymentCompleted or PaymentDeclined cancels it. If it fires first, the
  order is cancelled (OrderCancelled, reason "no payment answer in 30 s").
- payment: a late charge cannot be unmade, only compensated: on OrderCancelled it refunds
  what it charged for the order (nothing, if it charged nothing).
- inventory: on OrderCancelled it releases what it reserved, and it reserves nothing for an
  order it already knows is cancelled (a PaymentCompleted that came too late).
- shipping: on OrderCancelled it cancels a shipment it scheduled (ShipmentCancelled), and it
  schedules nothing for an order it knows is cancelled.

A deadline races the answer: the order service may hear of a payment only after its timer
fired, while inventory and shipping heard in time and went on. So a cancellation at the
deadline must undo every step that may have happened - the charge, the reservation and the
shipment - and the order still ends cancelled with nothing kept. (The chaos explorer finds
this race with a single delayed PaymentCompleted, if shipping does not cancel.)
"""

from __future__ import annotations

import functools

from ...context import Context
from ...events import Event
from ...service import Handler, Service
from ...text import duration_text
from .events import (
    InventoryReleased,
    InventoryReserved,
    OrderCancelled,
    OrderRequested,
    PaymentCompleted,
    PaymentDeclined,
    PaymentRefunded,
    ShipmentScheduled,
)
from .services import learn, refund

TIMED_OUT = "payment_timed_out"


class PaymentDeadlinePassed(Event):
    """The order service's timer: the payment deadline of this order has come."""
    order_id: str


class ShipmentCancelled(Event, role="compensation", outcome="compensated"):
    """Shipping took back a shipment it had scheduled for an order cancelled at its deadline."""
    order_id: str
    tracking: str


def deadline_timer(order_id: str) -> str:
    return f"payment-deadline/{order_id}"


def then_cancel_the_deadline(handler: Handler) -> Handler:
    """`handler`, which also cancels the order's payment deadline (a payment answer came)."""
    @functools.wraps(handler)
    def answered(event: PaymentCompleted | PaymentDeclined, ctx: Context) -> object:
        ctx.cancel(deadline_timer(event.order_id))
        return handler(event, ctx)
    return answered


def with_deadline_on(order: Service, deadline: int) -> Service:
    """The order service, which sets the payment deadline for every order it places."""
    order = order.wrapped()
    place_order = order.handlers["OrderRequested"].handler
    note_refunded = order.handlers["PaymentRefunded"].handler

    @order.handles(OrderRequested, publishes=(OrderCancelled,))
    @functools.wraps(place_order)
    def placed_with_deadline(event: OrderRequested, ctx: Context) -> object:
        if event.order_id not in ctx.state["orders"]:
            ctx.schedule(PaymentDeadlinePassed(order_id=event.order_id), after=deadline,
                         name=deadline_timer(event.order_id))
        return place_order(event, ctx)

    @order.handles(PaymentDeadlinePassed, publishes=(OrderCancelled,))
    def cancel_unpaid_order(event: PaymentDeadlinePassed, ctx: Context) -> list[Event]:
        facts = ctx.state["orders"][event.order_id]["facts"]
        if "paid" in facts or "declined" in facts:
            return []  # answered in time: the timer should have been cancelled already
        return [e.model_copy(update={"reason": f"no payment answer in {duration_text(deadline)}"})
                for e in learn(ctx, event.order_id, TIMED_OUT)]

    @order.handles(PaymentRefunded, publishes=(OrderCancelled,))
    @functools.wraps(note_refunded)
    def refunded_after_deadline(event: PaymentRefunded, ctx: Context) -> object:
        announced = note_refunded(event, ctx)
        timed_out = TIMED_OUT in ctx.state["orders"].get(event.order_id, {}).get("facts", [])
        return [] if timed_out else announced  # cancelled at the deadline: said once already

    note_shipped = order.handlers["ShipmentScheduled"].handler

    @order.handles(ShipmentScheduled)
    @functools.wraps(note_shipped)
    def shipped_unless_taken_back(event: ShipmentScheduled, ctx: Context) -> object:
        facts = ctx.state["orders"].get(event.order_id, {}).get("facts", [])
        return [] if "shipment_cancelled" in facts else note_shipped(event, ctx)

    @order.handles(ShipmentCancelled)
    def note_shipment_cancelled(event: ShipmentCancelled, ctx: Context) -> list[Event]:
        record = ctx.state["orders"].get(event.order_id)
        if record is not None and "shipped" in record["facts"]:
            record["facts"].remove("shipped")  # it will not ship after all
        return learn(ctx, event.order_id, "shipment_cancelled")

    for event_type in (PaymentCompleted, PaymentDeclined):
        handling = order.handlers[event_type.event_type]
        order.handles(event_type, publishes=handling.publishes)(
            then_cancel_the_deadline(handling.handler))
    return order


def refunding_on_cancel(payment: Service) -> Service:
    """The payment service, which also refunds a charge made for an order cancelled meanwhile."""
    payment = payment.wrapped()

    @payment.handles(OrderCancelled, publishes=(PaymentRefunded,))
    def refund_cancelled_order(event: OrderCancelled, ctx: Context) -> list[Event]:
        return refund(ctx, event.order_id)

    return payment


def releasing_on_cancel(inventory: Service) -> Service:
    """The inventory, which releases on OrderCancelled and reserves nothing for such an order."""
    inventory = inventory.wrapped()
    reserve_stock = inventory.handlers["PaymentCompleted"].handler
    release_stock = inventory.handlers["ShipmentFailed"].handler

    @inventory.handles(PaymentCompleted, publishes=inventory.handlers["PaymentCompleted"].publishes)
    @functools.wraps(reserve_stock)
    def reserve_unless_cancelled(event: PaymentCompleted, ctx: Context) -> object:
        if event.order_id in ctx.state.setdefault("cancelled", {}):
            return []  # paid too late: the order was cancelled at its deadline
        return reserve_stock(event, ctx)

    @inventory.handles(OrderCancelled, publishes=(InventoryReleased,))
    def release_cancelled_order(event: OrderCancelled, ctx: Context) -> object:
        ctx.state.setdefault("cancelled", {})[event.order_id] = ctx.now
        return release_stock(event, ctx)

    return inventory


def cancelling_shipment_on_cancel(shipping: Service) -> Service:
    """Shipping, which takes back a shipment for a cancelled order and ships none after."""
    shipping = shipping.wrapped()
    schedule_shipment = shipping.handlers["InventoryReserved"].handler
    publishes = shipping.handlers["InventoryReserved"].publishes

    @shipping.handles(InventoryReserved, publishes=publishes)
    @functools.wraps(schedule_shipment)
    def schedule_unless_cancelled(event: InventoryReserved, ctx: Context) -> object:
        if event.order_id in ctx.state.setdefault("cancelled", {}):
            return []  # reserved too late: the order was cancelled at its deadline
        return schedule_shipment(event, ctx)

    @shipping.handles(OrderCancelled, publishes=(ShipmentCancelled,))
    def cancel_shipment(event: OrderCancelled, ctx: Context) -> list[Event]:
        cancelled = ctx.state.setdefault("cancelled", {})
        if event.order_id in cancelled:
            return []
        shipment = ctx.state["shipments"].pop(event.order_id, None)
        cancelled[event.order_id] = shipment
        if shipment is None:
            return []
        return [ShipmentCancelled(order_id=event.order_id, tracking=shipment["tracking"])]

    return shipping


def with_payment_deadline(services: list[Service], deadline: int) -> list[Service]:
    """The saga's services with a payment deadline of `deadline` virtual ms."""
    if type(deadline) is not int or deadline < 1:
        raise ValueError(f"payment_deadline is in whole virtual ms >= 1, e.g. 30_000; got "
                         f"{deadline!r}")
    changes = {"order": lambda s: with_deadline_on(s, deadline), "payment": refunding_on_cancel,
               "inventory": releasing_on_cancel, "shipping": cancelling_shipment_on_cancel}
    return [changes[s.name](s) if s.name in changes else s for s in services]
