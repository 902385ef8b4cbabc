"""Each order invariant catches a hand-broken state, and the reference saga never trips one.

Every test starts from a real run whose state passes, then breaks one thing by hand in a
service's committed state (``sim.state(name)`` is that service's database), and checks that
exactly the right invariant objects, naming the right order and the right messages.
"""

from __future__ import annotations

import pytest

from choreo_lab import Delay, Drop, Duplicate, Kill, Pause, Reorder, Restart, Resume
from choreo_lab.consistency import InvariantError
from choreo_lab.examples.orders.invariants import (
    ORDER_INVARIANTS,
    at_most_one_charge,
    at_most_one_reservation,
    compensation_after_action,
    finished_orders_are_settled,
    no_refund_without_charge,
    order_oracle,
    stock_is_conserved,
)
from choreo_lab.examples.orders import order_system, place_order


@pytest.fixture
def sim():
    """Four finished orders: shipped, declined, out of stock, unshippable."""
    sim = order_system(seed=2)
    place_order(sim, "shipped", item="book", quantity=2)
    place_order(sim, "declined", customer="mallory")
    place_order(sim, "no-stock", item="unicorn")
    place_order(sim, "no-ship", item="lamp", address="Atlantis")
    sim.run_until_idle()
    report = order_oracle().check(sim)
    assert report.converged, report.explain()  # the starting point is clean
    return sim


def ids_of(sim, order_id: str, event_type: str) -> list[str]:
    return [e.message_id for e in sim.trace.messages.values()
            if e.correlation_id == order_id and e.event_type == event_type]


def only(violations) -> object:
    violations = list(violations)
    assert len(violations) == 1, violations
    return violations[0]


def test_a_second_charge_in_the_ledger_breaks_at_most_one_charge(sim):
    entries = sim.state("payment")["ledger"]["shipped"]
    entries.append(dict(entries[0], at=40))
    violation = only(at_most_one_charge(sim))
    assert (violation.invariant, violation.subject, violation.kind) == (
        "at most one charge", "shipped", "safety")
    assert "charged shipped 2 times (24 at t=2, 24 at t=40)" in violation.explanation
    assert ids_of(sim, "shipped", "OrderPlaced")[0] in violation.message_ids


def test_a_refund_of_an_order_never_charged_breaks_no_refund_without_charge(sim):
    sim.state("payment")["ledger"]["declined"] = [{"kind": "refund", "amount": 12, "at": 9}]
    violations = list(no_refund_without_charge(sim))
    assert [(v.invariant, v.subject) for v in violations] == [
        ("no refund without a charge", "declined")]
    assert "refunded declined 12 (12 at t=9) but charged only 0" in violations[0].explanation


def test_refunding_more_than_was_charged_breaks_no_refund_without_charge(sim):
    entries = sim.state("payment")["ledger"]["no-stock"]
    refund = next(e for e in entries if e["kind"] == "refund")
    refund["amount"] += 1
    assert only(no_refund_without_charge(sim)).subject == "no-stock"


def test_a_second_reservation_breaks_at_most_one_reservation(sim):
    inventory = sim.state("inventory")
    first = inventory["ledger"]["shipped"][0]
    inventory["ledger"]["shipped"].append(dict(first, at=50))
    inventory["stock"]["book"] -= first["quantity"]  # keep stock conserved: only this breaks
    violation = only(at_most_one_reservation(sim))
    assert violation.subject == "shipped"
    assert "reserved stock for shipped 2 times" in violation.explanation
    assert not list(stock_is_conserved(sim))


def test_a_release_without_a_reservation_breaks_at_most_one_reservation(sim):
    sim.state("inventory")["ledger"]["declined"] = [
        {"kind": "release", "item": "book", "quantity": 1, "at": 9}]
    sim.state("inventory")["stock"]["book"] += 1
    assert only(at_most_one_reservation(sim)).subject == "declined"


def test_a_refund_before_its_charge_breaks_compensation_after_its_action(sim):
    entries = sim.state("payment")["ledger"]["no-ship"]
    entries.reverse()
    violation = only(compensation_after_action(sim))
    assert violation.subject == "no-ship"
    assert "payment's ledger shows a refund of no-ship before its charge" in violation.explanation
    assert "(ledger order: refund, charge)" in violation.explanation
    assert set(ids_of(sim, "no-ship", "PaymentRefunded")) <= set(violation.message_ids)


def test_a_release_before_its_reservation_breaks_compensation_after_its_action(sim):
    sim.state("inventory")["ledger"]["no-ship"].reverse()
    violation = only(compensation_after_action(sim))
    assert "inventory's ledger shows a release of no-ship before its reserve" in (
        violation.explanation)


def test_stock_taken_without_a_reservation_breaks_conservation(sim):
    sim.state("inventory")["stock"]["kettle"] -= 1
    violation = only(stock_is_conserved(sim))
    assert (violation.invariant, violation.subject) == ("stock is conserved", "kettle")
    assert violation.explanation.startswith("inventory received 10 x kettle but has 9 on the "
                                            "shelf and 0 held by reservations (9 in all)")


def test_a_shipped_order_without_a_shipment_is_not_settled(sim):
    del sim.state("shipping")["shipments"]["shipped"]
    violation = only(finished_orders_are_settled(sim))
    assert (violation.subject, violation.kind) == ("shipped", "convergence")
    assert "shipping has no shipment for it" in violation.explanation
    assert "it believes 'shipped', which shipping has no record of" in violation.explanation


def test_a_cancelled_order_still_charged_is_not_settled(sim):
    entries = sim.state("payment")["ledger"]["no-stock"]
    entries.remove(next(e for e in entries if e["kind"] == "refund"))
    violation = only(finished_orders_are_settled(sim))
    assert violation.subject == "no-stock"
    assert violation.explanation.startswith("the order service says 'cancelled', but payment "
                                            "still holds a net charge of 99")
    assert "it believes 'refunded', which payment has no record of" in violation.explanation


def test_a_cancelled_order_still_holding_stock_is_not_settled(sim):
    entries = sim.state("inventory")["ledger"]["no-ship"]
    entries.remove(next(e for e in entries if e["kind"] == "release"))
    sim.state("inventory")["stock"]["lamp"] -= 1
    violation = only(finished_orders_are_settled(sim))
    assert "inventory still holds 1 reservation(s) of its stock" in violation.explanation


def test_a_fact_the_order_service_never_learned_is_a_disagreement(sim):
    sim.state("shipping")["failed"]["shipped"] = "lost in the post"
    violation = only(finished_orders_are_settled(sim))
    assert "shipping recorded 'shipment_failed', which the order service never learned" in (
        violation.explanation)


SHAPE_FIX = ("; keep a list of entries per order: "
             "ctx.state['ledger'].setdefault(order_id, []).append(entry)")


@pytest.mark.parametrize("service, ledger, said", [
    ("payment", [{"order_id": "o-1", "kind": "charge", "amount": 5}],
     "payment's ledger is list [{'order_id'"),
    ("inventory", {"o-1": {"kind": "reserve", "item": "book", "quantity": 1}},
     "inventory's ledger holds dict {'kind': 'reserve', 'ite… for o-1" + SHAPE_FIX),
    ("payment", {"o-1": [{"kind": "charge", "at": 3}]},
     "payment's ledger entry dict {'kind': 'charge', 'at':… of o-1 has no 'amount'; an entry is "
     "like {'kind': 'charge', 'amount': 30, 'at': ctx.now}"),
    ("inventory", {"o-1": ["reserve"]},
     "inventory's ledger entry str 'reserve' of o-1 has no 'kind'; an entry is like {'kind': "
     "'reserve', 'item': 'lamp', 'quantity': 1, 'at': ctx.now}")])
def test_a_ledger_not_kept_as_a_ledger_is_named_with_how_to_keep_it(sim, service, ledger, said):
    sim.state(service)["ledger"] = ledger
    with pytest.raises(InvariantError) as raised:
        order_oracle().check(sim)
    assert said in str(raised.value)


def test_the_oracle_reports_every_hand_made_break_at_once_and_is_then_not_consistent(sim):
    sim.state("inventory")["stock"]["kettle"] -= 1
    sim.state("payment")["ledger"]["declined"] = [{"kind": "refund", "amount": 5, "at": 9}]
    report = order_oracle().check(sim)
    assert not report.consistent and not report.converged
    assert [v.invariant for v in report.violations] == [
        "no refund without a charge", "stock is conserved", "finished orders are settled"]
    assert report.time_to_consistency["declined"] is None
    assert report.time_to_consistency["shipped"] is not None
    assert report.overall_time_to_consistency is None
    assert report.explain().startswith(f"t={sim.now}: NOT consistent - 3 violations across "
                                       "4 workflows")


def test_safety_holds_at_every_single_step_of_a_reference_run_under_faults():
    faults = [Kill(service="payment", at=1), Restart(service="payment", at=30),
              Duplicate(service="inventory", times=2), Drop(service="shipping", times=1),
              Delay(service="order", by=7, times=3), Reorder(service="payment", by=20, times=2),
              Pause(service="shipping", at=5), Resume(service="shipping", at=60)]
    sim = order_system(seed=8, jitter=3, faults=faults)
    for n, item in enumerate(["book", "lamp", "unicorn", "kettle", "lamp"]):
        place_order(sim, f"o-{n}", item=item, address="Atlantis" if n == 4 else "1 Main St",
                    customer="mallory" if n == 3 else "ada")
    oracle, steps, pending_seen = order_oracle(), 0, 0
    while sim.step():
        report = oracle.check(sim)
        assert report.consistent, f"step {steps}: {report.explain()}"
        pending_seen += bool(report.pending)
        steps += 1
    assert steps > 30 and pending_seen > steps // 2  # it ran, and was in between most of the time
    assert oracle.check(sim).converged
    kinds = {record.kind for record in sim.trace}
    assert {"kill", "duplicate", "drop", "delay", "reorder", "pause"} <= kinds


def test_every_invariant_in_the_order_oracle_is_a_documented_function():
    oracle = order_oracle()
    assert oracle.invariants == ORDER_INVARIANTS
    assert all(check.__doc__ for check in ORDER_INVARIANTS)


