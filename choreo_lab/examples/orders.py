"""Order processing as a choreographed saga: four services, no orchestrator.

    customer --OrderRequested--> order --OrderPlaced--> payment
    payment  --PaymentCompleted | PaymentDeclined-->
    inventory --InventoryReserved | OutOfStock-->
    shipping --ShipmentScheduled | ShipmentFailed-->

Compensations are triggered only by failure events: OutOfStock makes payment refund;
ShipmentFailed makes inventory release the stock and payment refund; the order service
follows every event and marks the order cancelled once the compensations it waits for
have happened. Each service keeps only its own state; nothing holds the whole workflow.

Failures are data-driven: a customer whose card is declined (``DECLINED_CUSTOMERS``), an
item with low or no stock (``STOCK``), an address that cannot be shipped to
(``UNSHIPPABLE``) — and random under a seed (`random_orders`).

Every handler here is idempotent by order id, so duplicates and redeliveries change nothing.
"""

from __future__ import annotations

import random
from typing import Any

from ..envelope import Envelope
from ..events import Event
from ..service import Context, Service
from ..simulation import Simulation

# -- the data that makes failures happen on purpose --------------------------------------------
PRICES: dict[str, int] = {"book": 12, "lamp": 30, "kettle": 25, "unicorn": 99}
STOCK: dict[str, int] = {"book": 100, "lamp": 3, "kettle": 10, "unicorn": 0}
DECLINED_CUSTOMERS: tuple[str, ...] = ("mallory",)
UNSHIPPABLE: tuple[str, ...] = ("Atlantis",)
CUSTOMERS: tuple[str, ...] = ("ada", "grace", "alan", "barbara", "mallory")
ADDRESSES: tuple[str, ...] = ("1 Main St", "22 Acacia Ave", "7 Harbour Rd", "Atlantis")


# -- events: past tense, payload only ------------------------------------------------------------
class OrderRequested(Event):
    """A customer asked for an order (from outside the system)."""
    order_id: str
    customer: str
    item: str
    quantity: int
    address: str


class OrderPlaced(Event):
    order_id: str
    customer: str
    item: str
    quantity: int
    amount: int
    address: str


class PaymentCompleted(Event):
    order_id: str
    item: str
    quantity: int
    amount: int
    address: str


class PaymentDeclined(Event):
    order_id: str
    reason: str


class InventoryReserved(Event):
    order_id: str
    item: str
    quantity: int
    address: str


class OutOfStock(Event):
    order_id: str
    item: str
    quantity: int


class ShipmentScheduled(Event):
    order_id: str
    tracking: str


class ShipmentFailed(Event):
    order_id: str
    item: str
    quantity: int
    reason: str


class PaymentRefunded(Event):
    order_id: str
    amount: int


class InventoryReleased(Event):
    order_id: str
    item: str
    quantity: int


ORDER_EVENTS: tuple[type[Event], ...] = (
    OrderRequested, OrderPlaced, PaymentCompleted, PaymentDeclined, InventoryReserved,
    OutOfStock, ShipmentScheduled, ShipmentFailed, PaymentRefunded, InventoryReleased)


# -- the order service: takes requests and follows the saga to keep its own view -------------------
def order_status(facts: list[str]) -> str:
    """The order service's view of one order, from the facts it has learned (order-insensitive)."""
    known = set(facts)
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


def make_order_service() -> Service:
    order = Service("order", {"orders": {}})

    @order.handles(OrderRequested, publishes=(OrderPlaced,))
    def place_order(event: OrderRequested, ctx: Context) -> list[Event]:
        if event.order_id in ctx.state["orders"]:
            return []  # already placed: a duplicate request
        amount = PRICES.get(event.item, 0) * event.quantity
        ctx.state["orders"][event.order_id] = {
            "customer": event.customer, "item": event.item, "quantity": event.quantity,
            "amount": amount, "status": "placed", "facts": []}
        return [OrderPlaced(order_id=event.order_id, customer=event.customer, item=event.item,
                            quantity=event.quantity, amount=amount, address=event.address)]

    def learn(fact: str):
        def follow(event: Any, ctx: Context) -> None:
            record = ctx.state["orders"].get(event.order_id)
            if record is None or fact in record["facts"]:
                return
            record["facts"].append(fact)
            record["status"] = order_status(record["facts"])
        follow.__name__ = f"note_{fact}"
        return follow

    for event_type, fact in ((PaymentCompleted, "paid"), (PaymentDeclined, "declined"),
                             (InventoryReserved, "reserved"), (OutOfStock, "out_of_stock"),
                             (ShipmentScheduled, "shipped"), (ShipmentFailed, "shipment_failed"),
                             (PaymentRefunded, "refunded"), (InventoryReleased, "released")):
        order.handles(event_type)(learn(fact))
    return order


# -- payment: charges, declines, refunds ------------------------------------------------------------
def make_payment_service(declined: tuple[str, ...] = DECLINED_CUSTOMERS) -> Service:
    payment = Service("payment", {"declined_customers": list(declined), "charges": {},
                                  "refunds": {}, "ledger": []})

    @payment.handles(OrderPlaced, publishes=(PaymentCompleted, PaymentDeclined))
    def charge_card(event: OrderPlaced, ctx: Context) -> list[Event]:
        state = ctx.state
        if event.order_id in state["charges"]:
            return []  # charged already: this is a duplicate, and the outbox sent the result
        if event.customer in state["declined_customers"]:
            if event.order_id in state.setdefault("declined", {}):
                return []
            state["declined"][event.order_id] = event.customer
            return [PaymentDeclined(order_id=event.order_id, reason="card declined")]
        state["charges"][event.order_id] = event.amount
        state["ledger"].append({"order_id": event.order_id, "kind": "charge",
                                "amount": event.amount, "at": ctx.now})
        return [PaymentCompleted(order_id=event.order_id, item=event.item,
                                 quantity=event.quantity, amount=event.amount,
                                 address=event.address)]

    def refund(event: OutOfStock | ShipmentFailed, ctx: Context) -> list[Event]:
        state = ctx.state
        charged = state["charges"].get(event.order_id)
        if charged is None or event.order_id in state["refunds"]:
            return []  # nothing to refund, or refunded already
        state["refunds"][event.order_id] = charged
        state["ledger"].append({"order_id": event.order_id, "kind": "refund",
                                "amount": charged, "at": ctx.now})
        return [PaymentRefunded(order_id=event.order_id, amount=charged)]

    payment.handles(OutOfStock, publishes=(PaymentRefunded,))(refund)
    payment.handles(ShipmentFailed, publishes=(PaymentRefunded,))(refund)
    return payment


# -- inventory: reserves and releases stock ---------------------------------------------------------
def make_inventory_service(stock: dict[str, int] | None = None) -> Service:
    inventory = Service("inventory", {"stock": dict(STOCK if stock is None else stock),
                                      "reservations": {}, "released": {}, "out_of_stock": {}})

    @inventory.handles(PaymentCompleted, publishes=(InventoryReserved, OutOfStock))
    def reserve_stock(event: PaymentCompleted, ctx: Context) -> list[Event]:
        state = ctx.state
        if event.order_id in state["reservations"] or event.order_id in state["out_of_stock"]:
            return []  # decided already
        if state["stock"].get(event.item, 0) < event.quantity:
            state["out_of_stock"][event.order_id] = event.item
            return [OutOfStock(order_id=event.order_id, item=event.item, quantity=event.quantity)]
        state["stock"][event.item] -= event.quantity
        state["reservations"][event.order_id] = {"item": event.item, "quantity": event.quantity}
        return [InventoryReserved(order_id=event.order_id, item=event.item,
                                  quantity=event.quantity, address=event.address)]

    @inventory.handles(ShipmentFailed, publishes=(InventoryReleased,))
    def release_stock(event: ShipmentFailed, ctx: Context) -> list[Event]:
        state = ctx.state
        reservation = state["reservations"].get(event.order_id)
        if reservation is None or event.order_id in state["released"]:
            return []
        state["stock"][reservation["item"]] += reservation["quantity"]
        state["released"][event.order_id] = reservation
        return [InventoryReleased(order_id=event.order_id, item=reservation["item"],
                                  quantity=reservation["quantity"])]

    return inventory


# -- shipping: schedules or fails -------------------------------------------------------------------
def make_shipping_service(unshippable: tuple[str, ...] = UNSHIPPABLE) -> Service:
    shipping = Service("shipping", {"unshippable": list(unshippable), "shipments": {},
                                    "failed": {}})

    @shipping.handles(InventoryReserved, publishes=(ShipmentScheduled, ShipmentFailed))
    def schedule_shipment(event: InventoryReserved, ctx: Context) -> list[Event]:
        state = ctx.state
        if event.order_id in state["shipments"] or event.order_id in state["failed"]:
            return []
        if event.address in state["unshippable"]:
            reason = f"cannot ship to {event.address}"
            state["failed"][event.order_id] = reason
            return [ShipmentFailed(order_id=event.order_id, item=event.item,
                                   quantity=event.quantity, reason=reason)]
        tracking = f"trk-{event.order_id}"
        state["shipments"][event.order_id] = {"tracking": tracking, "address": event.address}
        return [ShipmentScheduled(order_id=event.order_id, tracking=tracking)]

    return shipping


# -- wiring: one place ------------------------------------------------------------------------------
def order_services(*, stock: dict[str, int] | None = None,
                   declined: tuple[str, ...] = DECLINED_CUSTOMERS,
                   unshippable: tuple[str, ...] = UNSHIPPABLE,
                   **replacements: Service) -> list[Service]:
    """The four services of the saga. Pass e.g. ``payment=my_payment`` to swap one in."""
    services = {
        "order": make_order_service(),
        "payment": make_payment_service(declined),
        "inventory": make_inventory_service(stock),
        "shipping": make_shipping_service(unshippable),
    }
    for name, service in replacements.items():
        if name not in services:
            raise ValueError(f"no service {name!r} to replace; the saga has {', '.join(services)}")
        services[name] = service
    return list(services.values())


def order_system(seed: int | str = 0, *, stock: dict[str, int] | None = None,
                 services: list[Service] | None = None, **options: Any) -> Simulation:
    """A simulation of the order saga. `options` go to `Simulation` (latency, faults, ...)."""
    return Simulation(services if services is not None else order_services(stock=stock),
                      seed=seed, **options)


def place_order(sim: Simulation, order_id: str, *, customer: str = "ada", item: str = "book",
                quantity: int = 1, address: str = "1 Main St") -> Envelope:
    """A customer places an order: OrderRequested goes to the order service; the saga follows."""
    return sim.publish(OrderRequested(order_id=order_id, customer=customer, item=item,
                                      quantity=quantity, address=address),
                       correlation_id=order_id, producer="customer")


def random_orders(count: int, seed: int | str = 0, *, failure_rate: float = 0.3) -> list[dict[str, Any]]:
    """`count` order requests; about `failure_rate` of them are meant to fail somewhere."""
    rng = random.Random(f"orders/{seed}")
    orders = []
    for index in range(1, count + 1):
        order = {"order_id": f"o-{index}", "customer": rng.choice(CUSTOMERS[:-1]),
                 "item": rng.choice(("book", "kettle")), "quantity": rng.randint(1, 3),
                 "address": rng.choice(ADDRESSES[:-1])}
        if rng.random() < failure_rate:
            failure = rng.choice(("declined", "out_of_stock", "unshippable"))
            if failure == "declined":
                order["customer"] = DECLINED_CUSTOMERS[0]
            elif failure == "out_of_stock":
                order["item"] = "unicorn"
            else:
                order["address"] = UNSHIPPABLE[0]
        orders.append(order)
    return orders


def saga_status(sim: Simulation, order_id: str) -> str:
    """running / compensating / completed / compensated / stuck, from the order service's view.

    "stuck" means nothing is scheduled or waiting anywhere, yet the order is not finished
    (a message was dead-lettered, or a bug lost an event). Orders waiting for a service
    that is down are "running": they will move once it restarts.
    """
    record = sim.state("order")["orders"].get(order_id)
    status = record["status"] if record else "requested"
    if status == "shipped":
        return "completed"
    if status == "cancelled":
        return "compensated"
    waiting = any(sum(sim.backlog(name).values()) for name in sim.services)
    if sim.idle and not waiting:
        return "stuck"
    return "compensating" if status == "cancelling" else "running"
