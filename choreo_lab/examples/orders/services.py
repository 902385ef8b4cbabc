"""The four services of the order saga. Each keeps only its own state; none calls another.

    customer --OrderRequested--> order --OrderPlaced--> payment
    payment   --PaymentCompleted | PaymentDeclined-->
    inventory --InventoryReserved | OutOfStock-->
    shipping  --ShipmentScheduled | ShipmentFailed-->

Compensations are triggered only by failure events: OutOfStock makes payment refund;
ShipmentFailed makes inventory release the stock and payment refund. The order service
follows every event to keep the customer's view, and announces OrderCancelled once the
compensations it waits for have happened.

Every handler is idempotent by order id, so duplicates and redeliveries change nothing.
Payment and inventory keep a ``ledger`` of what they did for each order (charge / refund,
reserve / release), oldest first, which the invariants count:
``{"o-1": [{"kind": "charge", "amount": 30, "at": 2}, {"kind": "refund", ...}]}``.
"""

from __future__ import annotations

from typing import Any

from ...context import Context
from ...events import Event
from ...service import Service
from .events import (
    InventoryReleased,
    InventoryReserved,
    OrderCancelled,
    OrderPlaced,
    OrderRequested,
    OutOfStock,
    PaymentCompleted,
    PaymentDeclined,
    PaymentRefunded,
    ShipmentFailed,
    ShipmentScheduled,
)
from .shop import (
    DECLINED_CUSTOMERS,
    STOCK,
    UNSHIPPABLE,
    can_ship_to,
    card_declined,
    in_stock,
    price_of,
)


# -- order: takes requests, follows the saga to keep the customer's view ----------------------
def order_status(facts: list[str]) -> str:
    """The order service's view of one order, from the facts it has learned (in any order)."""
    known = set(facts)
    if "payment_timed_out" in known:  # only with a payment deadline (see deadline.py)
        return "cancelled" if "paid" not in known or "refunded" in known else "cancelling"
    if "declined" in known:
        return "cancelled"
    if "out_of_stock" in known:
        return "cancelled" if "refunded" in known else "cancelling"
    if "shipment_failed" in known:
        return "cancelled" if {"refunded", "released"} <= known else "cancelling"
    for fact, status in (("shipped", "shipped"), ("reserved", "reserved"), ("paid", "paid")):
        if fact in known:
            return status
    return "placed"


def learn(ctx: Context, order_id: str, fact: str) -> list[Event]:
    """Note a fact about an order (once); announce the cancellation when it completes one."""
    record = ctx.state["orders"].get(order_id)
    if record is None or fact in record["facts"]:
        return []
    record["facts"].append(fact)
    before, record["status"] = record["status"], order_status(record["facts"])
    if record["status"] == "cancelled" and before != "cancelled":
        return [OrderCancelled(order_id=order_id, reason=fact.replace("_", " "))]
    return []


def make_order_service() -> Service:
    order = Service("order", {"orders": {}})

    @order.handles(OrderRequested, publishes=(OrderPlaced,))
    def place_order(event: OrderRequested, ctx: Context) -> list[Event]:
        if event.order_id in ctx.state["orders"]:
            return []  # already placed: a duplicate request
        amount = price_of(event.item, event.quantity)
        ctx.state["orders"][event.order_id] = {
            "customer": event.customer, "item": event.item, "quantity": event.quantity,
            "amount": amount, "status": "placed", "facts": []}
        return [OrderPlaced(order_id=event.order_id, customer=event.customer, item=event.item,
                            quantity=event.quantity, amount=amount, address=event.address)]

    @order.handles(PaymentCompleted)
    def note_paid(event: PaymentCompleted, ctx: Context) -> list[Event]:
        return learn(ctx, event.order_id, "paid")

    @order.handles(PaymentDeclined, publishes=(OrderCancelled,))
    def note_declined(event: PaymentDeclined, ctx: Context) -> list[Event]:
        return learn(ctx, event.order_id, "declined")

    @order.handles(InventoryReserved)
    def note_reserved(event: InventoryReserved, ctx: Context) -> list[Event]:
        return learn(ctx, event.order_id, "reserved")

    @order.handles(OutOfStock)
    def note_out_of_stock(event: OutOfStock, ctx: Context) -> list[Event]:
        return learn(ctx, event.order_id, "out_of_stock")

    @order.handles(ShipmentScheduled)
    def note_shipped(event: ShipmentScheduled, ctx: Context) -> list[Event]:
        return learn(ctx, event.order_id, "shipped")

    @order.handles(ShipmentFailed)
    def note_shipment_failed(event: ShipmentFailed, ctx: Context) -> list[Event]:
        return learn(ctx, event.order_id, "shipment_failed")

    @order.handles(PaymentRefunded, publishes=(OrderCancelled,))
    def note_refunded(event: PaymentRefunded, ctx: Context) -> list[Event]:
        return learn(ctx, event.order_id, "refunded")

    @order.handles(InventoryReleased, publishes=(OrderCancelled,))
    def note_released(event: InventoryReleased, ctx: Context) -> list[Event]:
        return learn(ctx, event.order_id, "released")

    return order


# -- payment: charges, declines, refunds ------------------------------------------------------
def refund(ctx: Context, order_id: str) -> list[Event]:
    """Give back what was charged for the order, once (nothing if nothing was charged)."""
    state = ctx.state
    charged = state["charges"].get(order_id)
    if charged is None or order_id in state["refunds"]:
        return []  # nothing to refund, or refunded already
    state["refunds"][order_id] = charged
    state["ledger"].setdefault(order_id, []).append(
        {"kind": "refund", "amount": charged, "at": ctx.now})
    return [PaymentRefunded(order_id=order_id, amount=charged)]


def make_payment_service(declined: tuple[str, ...] = DECLINED_CUSTOMERS) -> Service:
    payment = Service("payment", {"declined_customers": list(declined), "charges": {},
                                  "refunds": {}, "declined": {}, "ledger": {}})

    @payment.handles(OrderPlaced, publishes=(PaymentCompleted, PaymentDeclined))
    def charge_card(event: OrderPlaced, ctx: Context) -> list[Event]:
        state = ctx.state
        if event.order_id in state["charges"] or event.order_id in state["declined"]:
            return []  # decided already: a duplicate, and the outbox sent the answer then
        if card_declined(event.customer, state["declined_customers"]):
            state["declined"][event.order_id] = event.customer
            return [PaymentDeclined(order_id=event.order_id, reason="card declined")]
        state["charges"][event.order_id] = event.amount
        state["ledger"].setdefault(event.order_id, []).append(
            {"kind": "charge", "amount": event.amount, "at": ctx.now})
        return [PaymentCompleted(order_id=event.order_id, item=event.item,
                                 quantity=event.quantity, amount=event.amount,
                                 address=event.address)]

    @payment.handles(OutOfStock, publishes=(PaymentRefunded,))
    def refund_out_of_stock(event: OutOfStock, ctx: Context) -> list[Event]:
        return refund(ctx, event.order_id)

    @payment.handles(ShipmentFailed, publishes=(PaymentRefunded,))
    def refund_failed_shipment(event: ShipmentFailed, ctx: Context) -> list[Event]:
        return refund(ctx, event.order_id)

    return payment


# -- inventory: reserves and releases stock ---------------------------------------------------
def make_inventory_service(stock: dict[str, int] | None = None) -> Service:
    """Inventory keeps stock per item and a ledger, per order, of its reservation and release.

    ``received`` is what came into the warehouse; at every moment
    ``stock + reserved - released == received`` per item (stock is conserved).
    """
    initial = dict(STOCK if stock is None else stock)
    inventory = Service("inventory", {"stock": dict(initial), "received": dict(initial),
                                      "reservations": {}, "released": {}, "out_of_stock": {},
                                      "ledger": {}})

    @inventory.handles(PaymentCompleted, publishes=(InventoryReserved, OutOfStock))
    def reserve_stock(event: PaymentCompleted, ctx: Context) -> list[Event]:
        state = ctx.state
        if event.order_id in state["reservations"] or event.order_id in state["out_of_stock"]:
            return []  # decided already
        if not in_stock(state["stock"], event.item, event.quantity):
            state["out_of_stock"][event.order_id] = event.item
            return [OutOfStock(order_id=event.order_id, item=event.item, quantity=event.quantity)]
        state["stock"][event.item] -= event.quantity
        state["reservations"][event.order_id] = {"item": event.item, "quantity": event.quantity}
        state["ledger"].setdefault(event.order_id, []).append(
            {"kind": "reserve", "item": event.item, "quantity": event.quantity, "at": ctx.now})
        return [InventoryReserved(order_id=event.order_id, item=event.item,
                                  quantity=event.quantity, address=event.address)]

    @inventory.handles(ShipmentFailed, publishes=(InventoryReleased,))
    def release_stock(event: ShipmentFailed, ctx: Context) -> list[Event]:
        state = ctx.state
        reservation = state["reservations"].get(event.order_id)
        if reservation is None or event.order_id in state["released"]:
            return []
        state["stock"][reservation["item"]] += reservation["quantity"]
        state["released"][event.order_id] = dict(reservation)
        state["ledger"].setdefault(event.order_id, []).append(
            {"kind": "release", "item": reservation["item"],
             "quantity": reservation["quantity"], "at": ctx.now})
        return [InventoryReleased(order_id=event.order_id, item=reservation["item"],
                                  quantity=reservation["quantity"])]

    return inventory


# -- shipping: schedules or fails -------------------------------------------------------------
def make_shipping_service(unshippable: tuple[str, ...] = UNSHIPPABLE) -> Service:
    shipping = Service("shipping", {"unshippable": list(unshippable), "shipments": {},
                                    "failed": {}})

    @shipping.handles(InventoryReserved, publishes=(ShipmentScheduled, ShipmentFailed))
    def schedule_shipment(event: InventoryReserved, ctx: Context) -> list[Event]:
        state = ctx.state
        if event.order_id in state["shipments"] or event.order_id in state["failed"]:
            return []
        if not can_ship_to(event.address, state["unshippable"]):
            reason = f"cannot ship to {event.address}"
            state["failed"][event.order_id] = reason
            return [ShipmentFailed(order_id=event.order_id, item=event.item,
                                   quantity=event.quantity, reason=reason)]
        tracking = f"trk-{event.order_id}"
        state["shipments"][event.order_id] = {"tracking": tracking, "address": event.address}
        return [ShipmentScheduled(order_id=event.order_id, tracking=tracking)]

    return shipping


def order_services(*, stock: dict[str, int] | None = None,
                   declined: tuple[str, ...] = DECLINED_CUSTOMERS,
                   unshippable: tuple[str, ...] = UNSHIPPABLE,
                   payment_deadline: int | None = None,
                   **replacements: Service) -> list[Service]:
    """The four services of the saga. Pass e.g. ``payment=my_payment`` to swap one in.

    `payment_deadline` (virtual ms, opt-in): cancel an order that has no payment answer by
    then (see `deadline`).
    """
    services: dict[str, Any] = {
        "order": make_order_service(),
        "payment": make_payment_service(declined),
        "inventory": make_inventory_service(stock),
        "shipping": make_shipping_service(unshippable),
    }
    for name, service in replacements.items():
        if name not in services:
            raise ValueError(f"no service {name!r} to replace; the saga has {', '.join(services)}")
        services[name] = service
    if payment_deadline is not None:
        from .deadline import with_payment_deadline
        return with_payment_deadline(list(services.values()), payment_deadline)
    return list(services.values())
