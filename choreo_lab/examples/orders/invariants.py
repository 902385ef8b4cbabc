"""The order saga's invariants: what must be true, checked over the four services' own states.

Safety (must hold at every moment, whatever is still in flight):

- `at_most_one_charge`: payment's ledger holds at most one charge per order.
- `no_refund_without_charge`: never more refunded for an order than was charged.
- `at_most_one_reservation`: inventory's ledger holds at most one reservation per order,
  and never more releases than reservations.
- `compensation_after_action`: a refund comes after its charge, a release after its
  reservation, in ledger order.
- `stock_is_conserved`: per item, ``stock + reserved - released == received``.
- `amounts_match`: a charge is the order's amount; a refund gives back what was charged.

Convergence (must hold once an order is finished):

- `finished_orders_are_settled`: a shipped order was charged once, never refunded, holds
  one reservation and has a shipment; a cancelled order nets zero charge, holds no stock
  and has no shipment; and the order service's view agrees with what the others recorded.

The oracle adds the last convergence rule itself: once the system is quiescent, no order
may be left pending (`where_is` explains why one is stuck).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ... import vocabulary as words
from ...consistency import Oracle, Violation
from ...simulation import Simulation
from ...story import workflow_status
from .records import (
    FACT_EVENTS,
    Ledger,
    inventory_ledger,
    order_messages,
    payment_ledger,
    recorded_facts,
    service_state,
)
from .whereabouts import verdict, where_is

FINISHED = ("shipped", "cancelled")


def order_ids(sim: Simulation) -> list[str]:
    """Every order the trace (by workflow) or the order service knows of, in order of appearance."""
    seen = dict.fromkeys(sim.trace.correlation_ids())
    seen.update(dict.fromkeys(service_state(sim, "order").get("orders", {})))
    return list(seen)


def ids_of(sim: Simulation, order_id: str, *event_types: str) -> tuple[str, ...]:
    """The ids of the order's messages of these event types, in publish order."""
    return tuple(e.message_id for e in order_messages(sim, order_id) if e.event_type in event_types)


def count(entries: list[dict[str, Any]], kind: str) -> int:
    """How many ledger entries of this kind ("charge", "refund", "reserve", "release")."""
    return sum(1 for entry in entries if entry["kind"] == kind)


def total(entries: list[dict[str, Any]], kind: str) -> int:
    """The summed amount of the payment ledger entries of this kind."""
    return sum(entry["amount"] for entry in entries if entry["kind"] == kind)


def when(entries: list[dict[str, Any]], kind: str) -> str:
    """e.g. "12 at t=3, 12 at t=33" for the entries of one kind."""
    return ", ".join(f"{e.get('amount', e.get('quantity'))}"
                     + (f" at t={e['at']}" if e.get("at") is not None else "")
                     for e in entries if e["kind"] == kind)


# -- safety: at every moment ----------------------------------------------------------------------
def at_most_one_charge(sim: Simulation) -> Iterator[Violation]:
    """Payment's ledger holds at most one charge per order (a redelivery must not charge again)."""
    for order_id, entries in payment_ledger(sim).items():
        charges = count(entries, "charge")
        if charges > 1:
            yield Violation(
                "at most one charge", order_id,
                f"payment charged {order_id} {charges} times ({when(entries, 'charge')}); "
                "a redelivered OrderPlaced must not charge again - is charge_card idempotent?",
                ids_of(sim, order_id, "OrderPlaced", "PaymentCompleted"))


def no_refund_without_charge(sim: Simulation) -> Iterator[Violation]:
    """Payment never refunds an order more than it charged it."""
    for order_id, entries in payment_ledger(sim).items():
        charged, refunded = total(entries, "charge"), total(entries, "refund")
        if count(entries, "refund") > count(entries, "charge") or refunded > charged:
            yield Violation(
                "no refund without a charge", order_id,
                f"payment refunded {order_id} {refunded} ({when(entries, 'refund')}) but charged "
                f"only {charged}; refund what was charged, once",
                ids_of(sim, order_id, "PaymentCompleted", "OutOfStock", "ShipmentFailed",
                       "PaymentRefunded"))


def at_most_one_reservation(sim: Simulation) -> Iterator[Violation]:
    """Inventory reserves stock for an order at most once, and releases at most what it reserved."""
    for order_id, entries in inventory_ledger(sim).items():
        reserves, releases = count(entries, "reserve"), count(entries, "release")
        if reserves > 1 or releases > reserves:
            yield Violation(
                "at most one reservation", order_id,
                f"inventory reserved stock for {order_id} {reserves} times and released it "
                f"{releases} times; each order reserves once and releases at most that",
                ids_of(sim, order_id, "PaymentCompleted", "InventoryReserved", "ShipmentFailed",
                       "InventoryReleased"))


def compensation_after_action(sim: Simulation) -> Iterator[Violation]:
    """A refund comes after its charge and a release after its reservation, in ledger order."""
    yield from undone_before_done(sim, payment_ledger(sim), "payment", "charge", "refund",
                                  ("PaymentCompleted", "PaymentRefunded"))
    yield from undone_before_done(sim, inventory_ledger(sim), "inventory", "reserve", "release",
                                  ("InventoryReserved", "InventoryReleased"))


def undone_before_done(sim: Simulation, ledger: Ledger, service: str, action: str,
                       compensation: str, event_types: tuple[str, ...]) -> Iterator[Violation]:
    """Orders whose ledger shows the compensation before the action it undoes."""
    for order_id, entries in ledger.items():
        kinds = [entry["kind"] for entry in entries]
        # a compensation with no action at all is the business of the invariants above
        if action in kinds and compensation in kinds and (
                kinds.index(compensation) < kinds.index(action)):
            yield Violation(
                "compensation after its action", order_id,
                f"{service}'s ledger shows a {compensation} of {order_id} before its {action} "
                f"(ledger order: {', '.join(kinds)}); undo only what was done",
                ids_of(sim, order_id, *event_types))


def stock_is_conserved(sim: Simulation) -> Iterator[Violation]:
    """Per item: stock on the shelf + reserved - released == what the warehouse received."""
    state = service_state(sim, "inventory")
    if "received" not in state:
        return  # a learner's inventory without a goods-in record: nothing to compare with
    held: dict[str, int] = {}
    for entry in (e for entries in inventory_ledger(sim).values() for e in entries):
        sign = 1 if entry["kind"] == "reserve" else -1
        held[entry["item"]] = held.get(entry["item"], 0) + sign * entry["quantity"]
    for item, received in state["received"].items():
        on_shelf, reserved = state["stock"].get(item, 0), held.get(item, 0)
        if on_shelf + reserved != received:
            yield Violation(
                "stock is conserved", item,
                f"inventory received {received} x {item} but has {on_shelf} on the shelf and "
                f"{reserved} held by reservations ({on_shelf + reserved} in all); every unit "
                "taken from the shelf needs a reservation in the ledger")


def amounts_match(sim: Simulation) -> Iterator[Violation]:
    """Payment charges the order's amount, and a refund gives back exactly what was charged."""
    orders = service_state(sim, "order").get("orders", {})
    for order_id, entries in payment_ledger(sim).items():
        charged = [e["amount"] for e in entries if e["kind"] == "charge"]
        refunded = [e["amount"] for e in entries if e["kind"] == "refund"]
        price = orders.get(order_id, {}).get("amount")
        wrong_charge = next((c for c in charged if price is not None and c != price), None)
        if wrong_charge is not None:
            yield Violation(
                "amounts match", order_id,
                f"payment charged {wrong_charge} for {order_id}, which costs {price}; charge "
                "the amount OrderPlaced carries", ids_of(sim, order_id, "OrderPlaced",
                                                         "PaymentCompleted"))
        wrong_refund = next((r for r in refunded if charged and r != charged[0]), None)
        if wrong_refund is not None:
            yield Violation(
                "amounts match", order_id,
                f"payment refunded {wrong_refund} for {order_id} but charged {charged[0]}; "
                "refund what was charged", ids_of(sim, order_id, "PaymentCompleted",
                                                  "PaymentRefunded"))


# -- convergence: once an order is finished -------------------------------------------------------
def finished_orders_are_settled(sim: Simulation) -> Iterator[Violation]:
    """A finished order is shipped and paid once, or cancelled with all undone; and all agree."""
    orders = service_state(sim, "order").get("orders", {})
    payments, stock = payment_ledger(sim), inventory_ledger(sim)
    shipments = service_state(sim, "shipping").get("shipments", {})
    for order_id, record in orders.items():
        if record["status"] not in FINISHED:
            continue
        paid, moved = payments.get(order_id, []), stock.get(order_id, [])
        problems = settlement_problems(record["status"], paid, moved, order_id in shipments)
        problems += disagreements(record["facts"], recorded_facts(sim, order_id, payments=paid,
                                                                  stock_moves=moved))
        if problems:
            yield Violation(
                "finished orders are settled", order_id,
                f"the order service says {record['status']!r}, but " + "; ".join(problems),
                ids_of(sim, order_id, *(event for _, event in FACT_EVENTS.values())),
                "convergence")


def settlement_problems(status: str, payments: list[dict[str, Any]], stock: list[dict[str, Any]],
                        shipped: bool) -> list[str]:
    """What is wrong with a finished order's money, stock and shipment, in words."""
    charges, refunds = count(payments, "charge"), count(payments, "refund")
    reserves, releases = count(stock, "reserve"), count(stock, "release")
    if status == "shipped":
        stock_text = (f"inventory shows {reserves} reservation(s) and {releases} release(s) "
                      "(expected 1 and 0)")
        checks = [(charges == 1 and refunds == 0,
                   f"payment shows {charges} charge(s) and {refunds} refund(s) (expected 1 and 0)"),
                  (reserves == 1 and releases == 0, stock_text),
                  (shipped, "shipping has no shipment for it")]
    else:
        net = total(payments, "charge") - total(payments, "refund")
        checks = [(net == 0, f"payment still holds a net charge of {net}"),
                  (reserves == releases,
                   f"inventory still holds {reserves - releases} reservation(s) of its stock"),
                  (not shipped, "shipping scheduled a shipment for it")]
    return [problem for ok, problem in checks if not ok]


def disagreements(order_facts: list[str], recorded: dict[str, list[str]]) -> list[str]:
    """Facts the order service and the other services do not share."""
    problems = []
    for service, facts in recorded.items():
        problems += [f"{service} recorded {fact!r}, which the order service never learned"
                     for fact in facts if fact not in order_facts]
    for fact in order_facts:
        service = FACT_EVENTS[fact][0] if fact in FACT_EVENTS else None
        if service is not None and fact not in recorded[service]:
            problems.append(f"it believes {fact!r}, which {service} has no record of")
    return problems


ORDER_INVARIANTS = (at_most_one_charge, no_refund_without_charge, at_most_one_reservation,
                    compensation_after_action, stock_is_conserved, amounts_match,
                    finished_orders_are_settled)


def explain_stuck_order(sim: Simulation, order_id: str) -> str:
    """Why an order is stuck, in one line: `where_is`'s verdict.

    A stuck order's verdict does not depend on what it waits for, so this skips the pass
    over the whole trace that `where_is` makes for that (the oracle asks per stuck order).
    """
    messages = order_messages(sim, order_id)
    status = workflow_status(sim, order_id)
    if messages and status == words.STUCK:
        return verdict(sim, order_id, status, messages, waiting=())
    return where_is(sim, order_id).verdict


def order_oracle() -> Oracle:
    """The oracle of the order saga: its invariants and its orders. An order is finished once
    an outcome (ShipmentScheduled, OrderCancelled) was published for it and nothing of it is
    left to deliver (every service has it)."""
    return Oracle(ORDER_INVARIANTS, order_ids, describe=explain_stuck_order)
