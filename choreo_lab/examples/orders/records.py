"""Reading one order back out of the services' own states: no service holds a whole order.

Payment and inventory keep ledgers, per order; a learner's own service may keep only its
dicts, so each reader falls back to those.
"""

from __future__ import annotations

from typing import Any

from ...envelope import Envelope
from ...simulation import Simulation
from ...text import describe_value

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


#: A ledger: per order id, what the service did for that order, oldest first
#: (e.g. ``{"o-1": [{"kind": "charge", "amount": 30, "at": 2}]}``).
Ledger = dict[str, list[dict[str, Any]]]

#: What an entry of each service's ledger holds (besides "at", when it happened), and one.
ENTRY_FIELDS = {"payment": ("kind", "amount"), "inventory": ("kind", "item", "quantity")}
ENTRY_EXAMPLES = {"payment": "{'kind': 'charge', 'amount': 30, 'at': ctx.now}",
                  "inventory": "{'kind': 'reserve', 'item': 'lamp', 'quantity': 1, 'at': ctx.now}"}


def payment_ledger(sim: Simulation, order_id: str | None = None) -> Ledger:
    """Payment's charges and refunds per order, each order's in the order they were committed.

    `order_id`: read (and check) only that order's entries, for a reader of one order.
    A payment service without a ``ledger`` (a learner's own) is read from its ``charges``
    and ``refunds`` dicts instead; a second charge of the same order cannot show there.
    """
    state = service_state(sim, "payment")
    if "ledger" in state:
        return checked_ledger(state["ledger"], "payment", order_id)
    return from_records({"charge": {o: {"amount": a} for o, a in state.get("charges", {}).items()},
                         "refund": {o: {"amount": a} for o, a in state.get("refunds", {}).items()}},
                        order_id)


def inventory_ledger(sim: Simulation, order_id: str | None = None) -> Ledger:
    """Inventory's reservations and releases per order, each order's in the order committed.

    `order_id` as for `payment_ledger`. An inventory without a ``ledger`` is read from its
    ``reservations`` and ``released`` dicts.
    """
    state = service_state(sim, "inventory")
    if "ledger" in state:
        return checked_ledger(state["ledger"], "inventory", order_id)
    return from_records({"reserve": state.get("reservations", {}),
                         "release": state.get("released", {})}, order_id)


def checked_ledger(ledger: Any, service: str, order_id: str | None = None) -> Ledger:
    """`ledger` (or only `order_id`'s part) if it is kept as a ledger is, else a TypeError
    that says what is wrong and how to keep it."""
    if not isinstance(ledger, dict):
        raise _misshapen(service, f"is {describe_value(ledger, 30)}")
    if order_id is not None:
        ledger = {order_id: ledger[order_id]} if order_id in ledger else {}
    fields = ENTRY_FIELDS[service]
    for order, entries in ledger.items():
        if not isinstance(entries, list):
            raise _misshapen(service, f"holds {describe_value(entries, 30)} for {order}")
        for entry in entries:
            missing = [f for f in fields if f not in entry] if isinstance(entry, dict) else fields
            if missing:
                raise TypeError(f"{service}'s ledger entry {describe_value(entry, 30)} of {order} "
                                f"has no {missing[0]!r}; an entry is like "
                                f"{ENTRY_EXAMPLES[service]}")
    return ledger


def _misshapen(service: str, wrong: str) -> TypeError:
    return TypeError(f"{service}'s ledger {wrong}; keep a list of entries per order: "
                     "ctx.state['ledger'].setdefault(order_id, []).append(entry)")


def from_records(records: dict[str, dict[str, dict[str, Any]]],
                 order_id: str | None = None) -> Ledger:
    """A ledger pieced together from per-kind records ``{kind: {order_id: details}}``
    (only `order_id`'s entries, if given)."""
    ledger: Ledger = {}
    for kind, by_order in records.items():
        for order, details in by_order.items():
            if order_id is None or order == order_id:
                ledger.setdefault(order, []).append({"kind": kind, "at": None, **details})
    return ledger


def recorded_facts(sim: Simulation, order_id: str, *,
                   payments: list[dict[str, Any]] | None = None,
                   stock_moves: list[dict[str, Any]] | None = None) -> dict[str, list[str]]:
    """What payment, inventory and shipping each recorded about one order, as order facts.

    `payments` and `stock_moves`: the order's own ledger entries, when the caller has them
    already; otherwise they are read from both ledgers.
    """
    if payments is None:
        payments = payment_ledger(sim, order_id).get(order_id, [])
    if stock_moves is None:
        stock_moves = inventory_ledger(sim, order_id).get(order_id, [])
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
    """Every message about one order (its workflow), in publish order."""
    return sim.trace.messages_of(order_id)
