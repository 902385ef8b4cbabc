"""The orchestrated order flow: one orchestrator holds every order's state machine.

    customer     --OrderRequested-->   order (the orchestrator)
    order        --ChargePayment-->    payment   --PaymentCharged | PaymentDeclined-->   order
    order        --ReserveStock-->     inventory --StockReserved | OutOfStock-->         order
    order        --ScheduleShipment--> shipping  --ShipmentScheduled | ShipmentFailed--> order
    order        --RefundPayment / ReleaseStock--> payment / inventory (compensations)

The participants know nobody but the commands they handle; the orchestrator knows every
step, in order, and which compensations a failure needs. The business rules and data
(declined cards, stock, unshippable addresses, prices) are the choreography's: both designs
call the same functions of `orders.shop`. The orchestrator keeps the order record in the
choreography's words (`orders.services.order_status`), so both designs are judged by the
same invariants.

Every handler is idempotent by order id: a redelivered reply or command changes nothing.
"""

from __future__ import annotations

from ...context import Context
from ...events import Event, Message
from ...service import Service
from ..orders.events import (
    InventoryReleased,
    OrderCancelled,
    OrderRequested,
    OutOfStock,
    PaymentDeclined,
    PaymentRefunded,
    ShipmentFailed,
    ShipmentScheduled,
)
from ..orders.services import learn, refund
from ..orders.shop import (
    DECLINED_CUSTOMERS,
    STOCK,
    UNSHIPPABLE,
    can_ship_to,
    card_declined,
    in_stock,
    price_of,
)
from .messages import (
    ChargePayment,
    PaymentCharged,
    RefundPayment,
    ReleaseStock,
    ReserveStock,
    ScheduleShipment,
    StockReserved,
)


# -- the orchestrator: the order's state machine ------------------------------------------------
def advance(ctx: Context, order_id: str, fact: str, *commands: Message) -> list[Message]:
    """Note a fact about an order; if it is new, send the next commands (and any outcome)."""
    record = ctx.state["orders"].get(order_id)
    if record is None or fact in record["facts"]:
        return []  # a duplicate reply: its commands were sent the first time
    return [*learn(ctx, order_id, fact), *commands]


def make_orchestrator() -> Service:
    order = Service("order", {"orders": {}})

    @order.handles(OrderRequested, publishes=(ChargePayment,))
    def start_order(event: OrderRequested, ctx: Context) -> list[Message]:
        if event.order_id in ctx.state["orders"]:
            return []
        amount = price_of(event.item, event.quantity)
        ctx.state["orders"][event.order_id] = {
            "customer": event.customer, "item": event.item, "quantity": event.quantity,
            "amount": amount, "address": event.address, "status": "placed", "facts": []}
        return [ChargePayment(order_id=event.order_id, customer=event.customer, amount=amount)]

    @order.handles(PaymentCharged, publishes=(ReserveStock,))
    def reserve_after_payment(event: PaymentCharged, ctx: Context) -> list[Message]:
        record = ctx.state["orders"][event.order_id]
        return advance(ctx, event.order_id, "paid", ReserveStock(
            order_id=event.order_id, item=record["item"], quantity=record["quantity"]))

    @order.handles(PaymentDeclined, publishes=(OrderCancelled,))
    def cancel_after_decline(event: PaymentDeclined, ctx: Context) -> list[Message]:
        return advance(ctx, event.order_id, "declined")

    @order.handles(StockReserved, publishes=(ScheduleShipment,))
    def ship_after_reservation(event: StockReserved, ctx: Context) -> list[Message]:
        record = ctx.state["orders"][event.order_id]
        return advance(ctx, event.order_id, "reserved", ScheduleShipment(
            order_id=event.order_id, item=record["item"], quantity=record["quantity"],
            address=record["address"]))

    @order.handles(OutOfStock, publishes=(RefundPayment,))
    def refund_after_out_of_stock(event: OutOfStock, ctx: Context) -> list[Message]:
        return advance(ctx, event.order_id, "out_of_stock", RefundPayment(order_id=event.order_id))

    @order.handles(ShipmentScheduled)
    def finish_after_shipment(event: ShipmentScheduled, ctx: Context) -> list[Message]:
        return advance(ctx, event.order_id, "shipped")

    @order.handles(ShipmentFailed, publishes=(RefundPayment, ReleaseStock))
    def compensate_after_failed_shipment(event: ShipmentFailed, ctx: Context) -> list[Message]:
        return advance(ctx, event.order_id, "shipment_failed",
                       RefundPayment(order_id=event.order_id), ReleaseStock(order_id=event.order_id))

    @order.handles(PaymentRefunded, publishes=(OrderCancelled,))
    def note_refunded(event: PaymentRefunded, ctx: Context) -> list[Message]:
        return advance(ctx, event.order_id, "refunded")

    @order.handles(InventoryReleased, publishes=(OrderCancelled,))
    def note_released(event: InventoryReleased, ctx: Context) -> list[Message]:
        return advance(ctx, event.order_id, "released")

    return order


# -- the participants: each handles the orchestrator's commands, and knows nothing else ----------
def make_payment_participant(declined: tuple[str, ...] = DECLINED_CUSTOMERS) -> Service:
    payment = Service("payment", {"declined_customers": list(declined), "charges": {},
                                  "refunds": {}, "declined": {}, "ledger": {}})

    @payment.handles(ChargePayment, publishes=(PaymentCharged, PaymentDeclined))
    def charge_card(command: ChargePayment, ctx: Context) -> list[Event]:
        state = ctx.state
        if command.order_id in state["charges"] or command.order_id in state["declined"]:
            return []
        if card_declined(command.customer, state["declined_customers"]):
            state["declined"][command.order_id] = command.customer
            return [PaymentDeclined(order_id=command.order_id, reason="card declined")]
        state["charges"][command.order_id] = command.amount
        state["ledger"].setdefault(command.order_id, []).append(
            {"kind": "charge", "amount": command.amount, "at": ctx.now})
        return [PaymentCharged(order_id=command.order_id, amount=command.amount)]

    @payment.handles(RefundPayment, publishes=(PaymentRefunded,))
    def refund_payment(command: RefundPayment, ctx: Context) -> list[Event]:
        return refund(ctx, command.order_id)

    return payment


def make_inventory_participant(stock: dict[str, int] | None = None) -> Service:
    initial = dict(STOCK if stock is None else stock)
    inventory = Service("inventory", {"stock": dict(initial), "received": dict(initial),
                                      "reservations": {}, "released": {}, "out_of_stock": {},
                                      "ledger": {}})

    @inventory.handles(ReserveStock, publishes=(StockReserved, OutOfStock))
    def reserve_stock(command: ReserveStock, ctx: Context) -> list[Event]:
        state = ctx.state
        if command.order_id in state["reservations"] or command.order_id in state["out_of_stock"]:
            return []
        if not in_stock(state["stock"], command.item, command.quantity):
            state["out_of_stock"][command.order_id] = command.item
            return [OutOfStock(order_id=command.order_id, item=command.item,
                               quantity=command.quantity)]
        state["stock"][command.item] -= command.quantity
        state["reservations"][command.order_id] = {"item": command.item,
                                                   "quantity": command.quantity}
        state["ledger"].setdefault(command.order_id, []).append(
            {"kind": "reserve", "item": command.item, "quantity": command.quantity,
             "at": ctx.now})
        return [StockReserved(order_id=command.order_id, item=command.item,
                              quantity=command.quantity)]

    @inventory.handles(ReleaseStock, publishes=(InventoryReleased,))
    def release_stock(command: ReleaseStock, ctx: Context) -> list[Event]:
        state = ctx.state
        reservation = state["reservations"].get(command.order_id)
        if reservation is None or command.order_id in state["released"]:
            return []
        state["stock"][reservation["item"]] += reservation["quantity"]
        state["released"][command.order_id] = dict(reservation)
        state["ledger"].setdefault(command.order_id, []).append(
            {"kind": "release", "item": reservation["item"],
             "quantity": reservation["quantity"], "at": ctx.now})
        return [InventoryReleased(order_id=command.order_id, item=reservation["item"],
                                  quantity=reservation["quantity"])]

    return inventory


def make_shipping_participant(unshippable: tuple[str, ...] = UNSHIPPABLE) -> Service:
    shipping = Service("shipping", {"unshippable": list(unshippable), "shipments": {},
                                    "failed": {}})

    @shipping.handles(ScheduleShipment, publishes=(ShipmentScheduled, ShipmentFailed))
    def schedule_shipment(command: ScheduleShipment, ctx: Context) -> list[Event]:
        state = ctx.state
        if command.order_id in state["shipments"] or command.order_id in state["failed"]:
            return []
        if not can_ship_to(command.address, state["unshippable"]):
            reason = f"cannot ship to {command.address}"
            state["failed"][command.order_id] = reason
            return [ShipmentFailed(order_id=command.order_id, item=command.item,
                                   quantity=command.quantity, reason=reason)]
        tracking = f"trk-{command.order_id}"
        state["shipments"][command.order_id] = {"tracking": tracking, "address": command.address}
        return [ShipmentScheduled(order_id=command.order_id, tracking=tracking)]

    return shipping


def orchestrated_services(*, stock: dict[str, int] | None = None,
                          declined: tuple[str, ...] = DECLINED_CUSTOMERS,
                          unshippable: tuple[str, ...] = UNSHIPPABLE) -> list[Service]:
    """The orchestrator and its three participants."""
    return [make_orchestrator(), make_payment_participant(declined),
            make_inventory_participant(stock), make_shipping_participant(unshippable)]
