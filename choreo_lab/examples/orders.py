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
Payment and inventory keep a ``ledger`` of what they did (charge / refund, reserve /
release), which the invariants in `order_invariants` count. Since no service holds a whole
order, `where_is(sim, order_id)` pieces one together from the four states and the trace.
"""

from __future__ import annotations

import difflib
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ..consistency import quiescent
from ..envelope import Envelope
from ..events import Event
from ..service import Context, Service
from ..simulation import Simulation
from ..trace import TraceRecord

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
def order_status(facts: Sequence[str]) -> str:
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
    """Inventory keeps stock per item and a ledger of every reservation and release.

    ``received`` is what came into the warehouse; at every moment
    ``stock + reserved - released == received`` per item (stock is conserved).
    """
    initial = dict(STOCK if stock is None else stock)
    inventory = Service("inventory", {"stock": dict(initial), "received": dict(initial),
                                      "reservations": {}, "released": {}, "out_of_stock": {},
                                      "ledger": []})

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
        state["ledger"].append({"order_id": event.order_id, "kind": "reserve", "item": event.item,
                                "quantity": event.quantity, "at": ctx.now})
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
        state["ledger"].append({"order_id": event.order_id, "kind": "release",
                                "item": reservation["item"], "quantity": reservation["quantity"],
                                "at": ctx.now})
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


def place_orders(sim: Simulation, orders: Iterable[dict[str, Any]]) -> list[Envelope]:
    """Place each order, given as a dict of `place_order`'s arguments (as `random_orders` makes)."""
    return [place_order(sim, **order) for order in orders]


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
    if quiescent(sim):
        return "stuck"
    return "compensating" if status == "cancelling" else "running"


# -- reading one order back out of the services' own states ----------------------------------------
#: fact (in the order service's words) -> (the service that records it, the event that reports it)
FACT_EVENTS: dict[str, tuple[str, str]] = {
    "paid": ("payment", "PaymentCompleted"), "declined": ("payment", "PaymentDeclined"),
    "refunded": ("payment", "PaymentRefunded"), "reserved": ("inventory", "InventoryReserved"),
    "out_of_stock": ("inventory", "OutOfStock"), "released": ("inventory", "InventoryReleased"),
    "shipped": ("shipping", "ShipmentScheduled"), "shipment_failed": ("shipping", "ShipmentFailed"),
}


def service_state(sim: Simulation, name: str) -> dict[str, Any]:
    """A service's committed state, or an empty dict if the simulation has no such service."""
    return sim.state(name) if name in sim.services else {}


def payment_ledger(sim: Simulation) -> list[dict[str, Any]]:
    """Payment's charges and refunds, in the order they were committed.

    A payment service without a ``ledger`` (a learner's own) is read from its ``charges``
    and ``refunds`` dicts instead; a second charge of the same order cannot show there.
    """
    state = service_state(sim, "payment")
    if "ledger" in state:
        return state["ledger"]
    return ([{"order_id": o, "kind": "charge", "amount": a, "at": None}
             for o, a in state.get("charges", {}).items()]
            + [{"order_id": o, "kind": "refund", "amount": a, "at": None}
               for o, a in state.get("refunds", {}).items()])


def inventory_ledger(sim: Simulation) -> list[dict[str, Any]]:
    """Inventory's reservations and releases, in the order they were committed.

    An inventory without a ``ledger`` is read from its ``reservations`` and ``released`` dicts.
    """
    state = service_state(sim, "inventory")
    if "ledger" in state:
        return state["ledger"]
    return ([{"order_id": o, "kind": "reserve", "at": None, **r}
             for o, r in state.get("reservations", {}).items()]
            + [{"order_id": o, "kind": "release", "at": None, **r}
               for o, r in state.get("released", {}).items()])


def entries_by_order(ledger: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Ledger entries grouped per order id, each group in ledger order."""
    grouped: dict[str, list[dict[str, Any]]] = {}
    for entry in ledger:
        grouped.setdefault(entry["order_id"], []).append(entry)
    return grouped


def recorded_facts(sim: Simulation, order_id: str, *,
                   payments: list[dict[str, Any]] | None = None,
                   stock_moves: list[dict[str, Any]] | None = None) -> dict[str, list[str]]:
    """What payment, inventory and shipping each recorded about one order, as order facts.

    `payments` and `stock_moves`: the order's own ledger entries, when the caller has them
    already (see `entries_by_order`); otherwise both ledgers are read once more.
    """
    if payments is None:
        payments = [e for e in payment_ledger(sim) if e["order_id"] == order_id]
    if stock_moves is None:
        stock_moves = [e for e in inventory_ledger(sim) if e["order_id"] == order_id]
    payment = [e["kind"] for e in payments]
    inventory = [e["kind"] for e in stock_moves]
    stock, shipping = service_state(sim, "inventory"), service_state(sim, "shipping")
    recorded = {
        "payment": [("paid", "charge" in payment), ("refunded", "refund" in payment),
                    ("declined", order_id in service_state(sim, "payment").get("declined", {}))],
        "inventory": [("reserved", "reserve" in inventory), ("released", "release" in inventory),
                      ("out_of_stock", order_id in stock.get("out_of_stock", {}))],
        "shipping": [("shipped", order_id in shipping.get("shipments", {})),
                     ("shipment_failed", order_id in shipping.get("failed", {}))],
    }
    return {service: [fact for fact, known in facts if known]
            for service, facts in recorded.items()}


def order_messages(sim: Simulation, order_id: str) -> list[Envelope]:
    """Every message about one order, in publish order."""
    return [envelope for envelope in sim.trace.messages.values()
            if getattr(envelope.event, "order_id", None) == order_id]


# -- where is my order? ----------------------------------------------------------------------------
@dataclass(frozen=True)
class OrderWhereabouts:
    """One order's end-to-end status, pieced together from four services and the trace."""

    order_id: str
    status: str                  # running / compensating / completed / compensated / stuck
    knows: dict[str, str]        # service -> what it knows about the order, in words
    last_event: str
    waiting_on: tuple[str, ...]  # who the order waits for, and why
    verdict: str                 # one line

    def __str__(self) -> str:
        lines = [f"order {self.order_id}: {self.verdict}"]
        lines += [f"  {service:<10} {what}" for service, what in self.knows.items()]
        lines.append(f"  last event: {self.last_event}")
        lines += [f"  waiting on: {reason}" for reason in self.waiting_on]
        return "\n".join(lines)


def where_is(sim: Simulation, order_id: str) -> OrderWhereabouts:
    """Where is my order? No service knows; this asks all four and reads the trace.

    Cost: one pass over the trace and a few over the payment and inventory ledgers.
    """
    messages = order_messages(sim, order_id)
    if not messages and order_id not in service_state(sim, "order").get("orders", {}):
        raise unknown_order(sim, order_id)
    status = saga_status(sim, order_id)
    waiting = tuple(waiting_on(sim, messages))
    last = messages[-1] if messages else None
    last_event = (f"{last.event_type} {last.message_id} from {last.producer} "
                  f"at t={last.published_at}" if last else "none: nothing about it was published")
    return OrderWhereabouts(order_id, status, what_each_service_knows(sim, order_id), last_event,
                            waiting, verdict(sim, order_id, status, messages, waiting))


def unknown_order(sim: Simulation, order_id: str) -> ValueError:
    """The error for an order id nobody has heard of, naming the ones that exist."""
    known = [o for o in dict.fromkeys(getattr(e.event, "order_id", None)
                                      for e in sim.trace.messages.values()) if o]
    close = difflib.get_close_matches(order_id, known, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return ValueError(f"no order {order_id!r} in this simulation; known orders: "
                      f"{', '.join(known) or '(none yet)'}.{hint}")


def what_each_service_knows(sim: Simulation, order_id: str) -> dict[str, str]:
    """Per service, in words, what its own state says about one order."""
    record = service_state(sim, "order").get("orders", {}).get(order_id)
    recorded = recorded_facts(sim, order_id)
    return {
        "order": (f"status {record['status']!r} "
                  f"(learned: {', '.join(record['facts']) or 'nothing yet'})"
                  if record else "has not taken the order"),
        "payment": describe_payment(sim, order_id, recorded["payment"]),
        "inventory": describe_inventory(sim, order_id, recorded["inventory"]),
        "shipping": describe_shipping(sim, order_id, recorded["shipping"]),
    }


def describe_payment(sim: Simulation, order_id: str, facts: list[str]) -> str:
    """e.g. "charged 30 at t=2, refunded 30 at t=9"."""
    words = {"charge": "charged", "refund": "refunded"}
    said = [f"{words[e['kind']]} {e['amount']}{at(e)}"
            for e in payment_ledger(sim) if e["order_id"] == order_id]
    if "declined" in facts:
        said.append("declined the card")
    return ", ".join(said) or "nothing yet"


def describe_inventory(sim: Simulation, order_id: str, facts: list[str]) -> str:
    """e.g. "reserved 1 x lamp at t=3, released 1 x lamp at t=8"."""
    words = {"reserve": "reserved", "release": "released"}
    said = [f"{words[e['kind']]} {e['quantity']} x {e['item']}{at(e)}"
            for e in inventory_ledger(sim) if e["order_id"] == order_id]
    if "out_of_stock" in facts:
        said.append("out of stock")
    return ", ".join(said) or "nothing yet"


def describe_shipping(sim: Simulation, order_id: str, facts: list[str]) -> str:
    """e.g. "scheduled trk-o-1" or "failed: cannot ship to Atlantis"."""
    state = service_state(sim, "shipping")
    if "shipped" in facts:
        return f"scheduled {state['shipments'][order_id].get('tracking', '')}".rstrip()
    if "shipment_failed" in facts:
        return f"failed: {state['failed'][order_id]}"
    return "nothing yet"


def at(entry: dict[str, Any]) -> str:
    """" at t=5" for a ledger entry that says when it happened, else ""."""
    return f" at t={entry['at']}" if entry.get("at") is not None else ""


def waiting_on(sim: Simulation, messages: list[Envelope]) -> list[str]:
    """For each of the order's messages some service has not acked yet: who holds it, and why."""
    ids = {envelope.message_id for envelope in messages}
    settled: dict[tuple[str, str], TraceRecord] = {}
    latest: dict[tuple[str, str], TraceRecord] = {}
    for record in sim.trace:
        if record.message_id in ids and record.kind not in ("publish", "no-subscriber"):
            key = (record.message_id, record.service)
            (settled if record.kind in ("ack", "dead-letter") else latest)[key] = record
    topics = {name: sim.backlog(name) for name in sim.services}
    reasons = []
    for envelope in messages:
        for name, subscribed in topics.items():
            done = settled.get((envelope.message_id, name))
            if envelope.topic in subscribed and (done is None or done.kind != "ack"):
                last = done or latest.get((envelope.message_id, name))
                reasons.append(why_waiting(sim, name, envelope, last))
    return reasons


def why_waiting(sim: Simulation, service: str, envelope: Envelope,
                last: TraceRecord | None) -> str:
    """One line: why `service` has not finished with `envelope` (from its status and the trace)."""
    what = f"{envelope.event_type} {envelope.message_id}"
    status = sim.status(service)
    if status in ("down", "paused"):
        backlog = sum(sim.backlog(service).values())
        return (f"{service} is {status} with {backlog} message{'s' * (backlog != 1)} in its "
                f"backlog; {what} waits for it")
    kind = last.kind if last is not None else None
    detail = last.detail if last is not None else ""
    return {
        None: f"{what} is on its way to {service}",
        "dead-letter": f"{service} gave up on {what} after {last and last.attempt} attempts "
                       f"({detail}); it sits in the dead letters until redriven",
        "crash": f"{service} crashed handling {what} ({detail}); it will be redelivered",
        "nack": f"{service} failed handling {what} ({detail}); it will be retried",
        "abandon": f"{service} was killed while handling {what}; it will be redelivered",
        "drop": f"{what} was lost on its way to {service}; redelivery after the ack timeout",
        "duplicate": f"{service} handled {what} but its ack was lost; it will come again",
        "delay": f"{what} is delayed on its way to {service}",
        "reorder": f"{what} is delayed on its way to {service} (later messages may overtake it)",
    }.get(kind, f"{service} is handling {what}")


def verdict(sim: Simulation, order_id: str, status: str, messages: list[Envelope],
            waiting: tuple[str, ...]) -> str:
    """The one-line answer to "where is my order?"."""
    if status == "stuck":
        return f"stuck: {why_stuck(sim, order_id, messages)}"
    if status not in ("completed", "compensated"):
        return f"{status}, waiting: {waiting[0]}" if waiting else f"{status}: on its way"
    payments = [e for e in payment_ledger(sim) if e["order_id"] == order_id]
    charged = sum(e["amount"] for e in payments if e["kind"] == "charge")
    refunded = sum(e["amount"] for e in payments if e["kind"] == "refund")
    charges = sum(1 for e in payments if e["kind"] == "charge")
    warning = f" - but payment charged it {charges} times" if charges > 1 else ""
    shipping = service_state(sim, "shipping")
    if status == "completed":
        tracking = shipping.get("shipments", {}).get(order_id, {}).get("tracking", "?")
        return f"completed: shipped ({tracking}), paid {charged}{warning}"
    facts = service_state(sim, "order")["orders"][order_id]["facts"]
    if "declined" in facts:
        return f"compensated: card declined, nothing charged{warning}"
    cause = ("out of stock" if "out_of_stock" in facts
             else shipping.get("failed", {}).get(order_id, "shipment failed"))
    released = " and stock released" if "released" in facts else ""
    return f"compensated: {cause}; charged {charged}, refunded {refunded}{released}{warning}"


def why_stuck(sim: Simulation, order_id: str, messages: list[Envelope]) -> str:
    """Why an unfinished order will not move although nothing is left to deliver."""
    letters = [letter for letter in sim.dead_letters
               if getattr(letter.envelope.event, "order_id", None) == order_id]
    if letters:
        letter = letters[0]
        return (f"{letter.envelope.event_type} {letter.envelope.message_id} was dead-lettered by "
                f"{letter.group} after {letter.attempts} attempts ({letter.reason}); redrive it")
    record = service_state(sim, "order").get("orders", {}).get(order_id)
    if record is None:
        return "the order service never took the order"
    published = {envelope.event_type: envelope.message_id for envelope in messages}
    for service, facts in recorded_facts(sim, order_id).items():
        for fact in facts:
            if fact in record["facts"]:
                continue
            event_type = FACT_EVENTS[fact][1]
            if event_type not in published:
                return (f"{service} recorded {fact!r} but never published {event_type}: "
                        "its state was written and its event lost (the dual-write bug)")
            return (f"{service} published {event_type} {published[event_type]}, "
                    f"but the order service never learned {fact!r}")
    service, awaited = next(iter(awaited_steps(record["facts"])), ("?", "its next step"))
    return (f"{service} never made {awaited}; nothing is left to deliver "
            f"(status {record['status']!r})")


def awaited_steps(facts: list[str]) -> list[tuple[str, str]]:
    """What an unfinished order waits for next, given what the order service has learned."""
    known = set(facts)
    if "out_of_stock" in known or "shipment_failed" in known:
        cause = "OutOfStock" if "out_of_stock" in known else "ShipmentFailed"
        steps = [("payment", f"a refund after {cause}")] if "refunded" not in known else []
        if cause == "ShipmentFailed" and "released" not in known:
            steps.append(("inventory", "a stock release after ShipmentFailed"))
        return steps
    for fact, step in (("paid", ("payment", "a charge or a decline for OrderPlaced")),
                       ("reserved", ("inventory", "a reservation for PaymentCompleted")),
                       ("shipped", ("shipping", "a shipment for InventoryReserved"))):
        if fact not in known:
            return [step]
    return []
