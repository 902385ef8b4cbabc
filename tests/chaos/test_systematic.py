"""The systematic pass: sites from the control run, single faults pinned to them, spread over the
coverage cells when the budget is short, then pairs (the two-fault bug), then random ones."""

from __future__ import annotations

import pytest

from choreo_lab import FaultPlan, Simulation
from choreo_lab.chaos import FaultSpace, control_run, explore, plan_of, run_schedule
from choreo_lab.chaos.schedules import cell_rank, spread, systematic_schedules
from choreo_lab.chaos.sites import REPEATING, single_faults
from choreo_lab.examples.orders import order_oracle, place_orders

from .broken_services import payment_that_charges_twice
from .sagas import TEN_ORDERS, saga, ten_orders
from .two_fault_saga import (
    billing_service,
    booking_oracle,
    booking_system,
    seats_service,
    two_bookings,
)


def three_orders(sim: Simulation) -> None:
    place_orders(sim, TEN_ORDERS[:3])


@pytest.fixture(scope="module")
def control():
    return control_run(saga(), three_orders, order_oracle(), FaultSpace())


# -- sites ---------------------------------------------------------------------------------------
def test_every_delivery_of_the_control_run_is_a_site(control):
    delivered = [(r.message_id, r.service) for r in control.sim.trace.where(kind="deliver")]
    assert [(site.message_id, site.service) for site in control.sites] == delivered
    assert control.violations == () and len(control.sites) > 15


def test_every_single_fault_fires_at_its_own_site_and_nowhere_else(control):
    for single in single_faults(control):
        (unit,) = single.units
        if unit[0].kind in ("kill", "pause"):
            continue
        sim, _ = run_schedule(saga(), three_orders, 0, plan_of(single.units))
        shown = "crash" if unit[0].kind == "crash" else unit[0].kind
        [hit] = sim.trace.where(kind=shown)
        assert (hit.message_id, hit.service) == (single.site.message_id, single.site.service)


def test_a_kill_or_pause_starts_at_its_sites_moment_and_lasts_as_long_as_the_control_run(control):
    outages = [s for s in single_faults(control) if s.units[0][0].kind in ("kill", "pause")]
    assert {s.units[0][0].kind for s in outages} == {"kill", "pause"}
    for outage in outages:
        start, end = outage.units[0]
        assert start.at == outage.site.time and end.at - start.at == control.sim.now


def test_the_fault_window_follows_the_system_under_test(control):
    booking = control_run(booking_system, two_bookings, booking_oracle(), FaultSpace())
    assert booking.space.horizon == booking.sim.now < control.space.horizon == control.sim.now
    assert FaultSpace(horizon=40).fitted(5).horizon == 40


def test_every_kind_of_fault_the_space_allows_is_tried_at_a_handled_site(control):
    kinds = {cell[2] for single in single_faults(control) for cell in single.cells}
    assert kinds == {"lost ack", "crash after commit", "drop", "crash before commit", "reorder",
                     "delay", "kill", "pause"}
    narrow = control_run(saga(), three_orders, order_oracle(),
                         FaultSpace(kinds=("duplicate", "kill"), services=("payment",)))
    cells = {cell for single in single_faults(narrow) for cell in single.cells}
    assert {(service, kind) for service, _, kind in cells} == {("payment", "lost ack"),
                                                             ("payment", "kill")}


def test_no_fault_uses_up_a_messages_attempts():
    def one_try(seed: int, faults: FaultPlan) -> Simulation:
        return Simulation([seats_service(), billing_service(planted_bug=False)], seed=seed,
                          max_attempts=1, faults=faults)

    result = explore(one_try, two_bookings, booking_oracle(), schedules=200, seed=1)
    assert result.ok, str(result)
    assert result.coverage.kinds == ("reorder", "delay", "kill", "pause")


# -- the order of the single pass -----------------------------------------------------------------
def test_a_short_budget_is_spread_to_try_every_cell_before_any_cell_twice():
    everything = explore(saga(), ten_orders, order_oracle(), schedules=1).coverage
    cells = len(everything.cells)
    short = explore(saga(), ten_orders, order_oracle(), schedules=cells + 1).coverage
    assert short.singles_tried == cells < short.single_faults
    assert short.cells_tried == cells
    assert "spread to cover" in short.summary()


def test_the_single_pass_tries_what_makes_a_message_come_again_first(control):
    order = spread(single_faults(control), cell_rank(control))
    labels = [single.cells[0][2] for single in order]
    assert labels[0] == "lost ack"
    assert labels.index("drop") > labels.index("crash after commit") > labels.index("lost ack")
    assert max(labels.index(k) for k in ("lost ack", "crash after commit", "drop")) < labels.index("kill")


def test_the_budget_goes_to_the_control_run_the_singles_then_half_the_rest_to_pairs(control):
    singles = spread(single_faults(control), cell_rank(control))
    phases = [s.phase for s in systematic_schedules(control, singles, len(singles) + 101, seed=3)]
    assert phases == (["control"] + ["single fault"] * len(singles) + ["pair"] * 50
                      + ["random"] * 50)
    indices = [s.index for s in systematic_schedules(control, singles, 40, seed=3)]
    assert indices == list(range(40))


# -- pairs ------------------------------------------------------------------------------------------
def test_a_bug_that_needs_two_faults_survives_every_single_fault_and_is_found_by_the_pairs():
    for seed in (1, 2, 3, 4, 5):
        result = explore(booking_system, two_bookings, booking_oracle(), schedules=120, seed=seed)
        assert result.coverage.complete
        assert {f.phase for f in result.failures if f.index <= result.coverage.single_faults} == set()
        first = result.first_failure
        assert first is not None and first.phase == "pair" and len(first.plan) == 2
        lost, again = first.plan.faults
        assert (again.service, again.event_type, again.attempt) == ("billing", "SeatsHeld", 2)
        assert lost.correlation_id == again.correlation_id and lost.kind in ("drop", "crash")
        assert first.invariants == ("every workflow finishes",)


def test_the_retry_pairs_follow_every_fault_that_makes_a_message_come_again(control):
    singles = spread(single_faults(control), cell_rank(control))
    pairs = [s for s in systematic_schedules(control, singles, len(singles) + 400, seed=1)
             if s.phase == "pair"][:200]
    seconds = {unit[0] for s in pairs for unit in s.units[1:]}
    assert {f.kind for f in seconds} == {"duplicate", "drop", "crash"}
    assert all(f.attempt == 2 and f.occurrence == 1 for f in seconds)
    assert len(REPEATING) == 5


# -- naming the first failure, replaying it ---------------------------------------------------------
def test_the_summary_names_the_first_failing_schedule_when_it_is_not_the_smallest():
    result = explore(booking_system, two_bookings, booking_oracle(), schedules=150, seed=1,
                     mode="random")
    first, smallest = result.first_failure, result.counterexample.found
    assert first != smallest and len(first.plan) > len(smallest.plan)
    text = str(result)
    assert f"first failing: schedule {first.index} (random, seed {first.seed})" in text
    assert first.plan.describe().splitlines()[0] in text
    sim = result.replay(first)
    assert booking_oracle().violations(sim)


def test_a_short_budget_still_finds_the_planted_single_fault_bug_whatever_the_seed():
    firsts = {explore(saga(payment=payment_that_charges_twice()), three_orders, order_oracle(),
                      schedules=20, seed=seed, shrink=False).first_failure for seed in range(5)}
    assert len(firsts) == 1 and next(iter(firsts)).phase == "single fault"
