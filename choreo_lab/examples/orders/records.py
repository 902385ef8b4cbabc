"""Reading one order back out of the services' own states: no service holds a whole order.

Payment and inventory keep ledgers; a learner's own service may keep only its dicts, so
each reader falls back to those.
"""

from __future__ import annotations

from typing import Any

from ...envelope import Envelope
from ...simulation import Simulation

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
    """Every message about one order (its workflow), in publish order."""
    return sim.trace.messages_of(order_id)
