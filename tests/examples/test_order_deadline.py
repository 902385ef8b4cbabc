"""The order saga's opt-in payment deadline: a timer in the order service cancels an order that
has no payment answer in time; a late charge is refunded and nothing is reserved or shipped."""

from __future__ import annotations

import pytest

from choreo_lab import Kill, Restart, workflow_status
from choreo_lab.chaos import explore
from choreo_lab.examples.orders import (
    order_oracle,
    order_services,
    order_system,
    place_order,
    random_orders,
    place_orders,
    where_is,
)

DEADLINE = 30_000


def run(*, payment_down_until: int | None = None, deadline: int | None = DEADLINE, **order):
    faults = ([Kill(service="payment", at=0), Restart(service="payment", at=payment_down_until)]
              if payment_down_until else [])
    sim = order_system(7, services=order_services(payment_deadline=deadline), faults=faults)
    place_order(sim, "o-1", **order)
    sim.run_until_idle()
    return sim


def test_an_order_answered_in_time_completes_and_its_deadline_is_cancelled():
    sim = run(payment_down_until=10_000)
    assert workflow_status(sim, "o-1") == "completed"
    assert [r.kind for r in sim.trace.where(kind="timer-set|timer-cancel|timer-fire")] == [
        "timer-set", "timer-cancel"]
    assert order_oracle().check(sim).converged


def test_no_payment_answer_in_time_cancels_the_order_and_the_late_charge_is_refunded():
    sim = run(payment_down_until=60_000, item="lamp")
    assert workflow_status(sim, "o-1") == "compensated"
    cancelled = sim.topics["OrderCancelled"]
    assert [(e.published_at, e.event.reason) for e in cancelled] == [
        (DEADLINE + 2, "no payment answer in 30 s")]  # set at t=1, handled 1 ms after firing: once
    assert [e["kind"] for e in sim.state("payment")["ledger"]["o-1"]] == ["charge", "refund"]
    assert sim.state("inventory")["stock"]["lamp"] == 3 and not sim.state("shipping")["shipments"]
    assert where_is(sim, "o-1").verdict == ("compensated: no payment answer in time; "
                                            "charged 30, refunded 30")
    assert order_oracle().check(sim).converged


def test_the_deadline_fires_although_the_order_service_was_down_then():
    sim = order_system(7, services=order_services(payment_deadline=DEADLINE),
                       faults=[Kill(service="payment", at=0), Restart(service="payment", at=90_000),
                               Kill(service="order", at=20_000), Restart(service="order", at=40_000)])
    place_order(sim, "o-1")
    sim.run_until_idle()
    fired = sim.trace.where(kind="timer-fire")
    assert [r.time for r in fired] == [DEADLINE + 1]
    assert workflow_status(sim, "o-1") == "compensated"
    assert order_oracle().check(sim).converged


def test_failures_and_declines_still_compensate_as_without_a_deadline():
    orders = random_orders(8, seed=5, failure_rate=0.7)
    with_deadline = order_system(3, services=order_services(payment_deadline=DEADLINE))
    without = order_system(3)
    for sim in (with_deadline, without):
        place_orders(sim, orders)
        sim.run_until_idle()
    assert ({o["order_id"]: workflow_status(with_deadline, o["order_id"]) for o in orders}
            == {o["order_id"]: workflow_status(without, o["order_id"]) for o in orders})
    assert order_oracle().check(with_deadline).converged


def test_the_default_saga_sets_no_timer():
    sim = run(deadline=None)
    assert not sim.trace.where(kind="timer-set") and workflow_status(sim, "o-1") == "completed"


def test_the_saga_with_a_deadline_survives_every_single_fault_and_more():
    orders = random_orders(4, seed=2, failure_rate=0.5)
    result = explore(lambda seed, faults: order_system(
        seed, services=order_services(payment_deadline=200), faults=faults),
        lambda sim: place_orders(sim, orders), order_oracle(), schedules=400, seed=4)
    assert result.ok, str(result)
    assert result.coverage.singles_tried == result.coverage.single_faults  # all of them


def test_a_payment_heard_of_too_late_is_undone_all_the_way_to_the_shipment():
    from choreo_lab import Reorder
    # the order service hears of the payment only after its deadline; the others in time
    sim = order_system(1, services=order_services(payment_deadline=20), faults=[
        Reorder(service="order", event_type="PaymentCompleted", by=200, times=1)])
    place_order(sim, "o-1")
    sim.run_until_idle()
    assert workflow_status(sim, "o-1") == "compensated"
    assert sim.state("shipping")["shipments"] == {} and "o-1" in sim.state("shipping")["cancelled"]
    assert order_oracle().check(sim).converged


def test_a_deadline_is_whole_virtual_ms():
    with pytest.raises(ValueError, match="payment_deadline is in whole virtual ms"):
        order_services(payment_deadline=0.5)
