"""The chaos explorer: the reference saga survives every schedule; each broken variant is caught
with a counterexample of one or two faults (none when the bug needs no chaos), replayable."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from choreo_lab import Context, Event, FaultPlan, FaultPlanError, Kill, Restart, Service, Simulation
from choreo_lab.chaos import (
    FAULT_KINDS,
    Counterexample,
    FaultSpace,
    draw_schedule,
    explore,
    plan_of,
    probe,
    remove_faults,
    run_schedule,
    simplify_faults,
    smaller_versions,
    units_of,
)
from choreo_lab.consistency import Oracle
from choreo_lab.examples.orders import order_oracle
from choreo_lab.examples.orders import order_services, order_system, place_orders, random_orders

from .broken_services import (
    inventory_that_never_releases,
    inventory_that_trusts_first_delivery,
    payment_that_charges_twice,
    payment_that_never_refunds_out_of_stock,
    payment_that_refunds_twice,
)

#: ten orders, among them a declined card (o-9), an unicorn (o-4) and Atlantis (o-3)
TEN_ORDERS = random_orders(10, seed=4)


def workload(sim: Simulation) -> None:
    place_orders(sim, TEN_ORDERS)


def saga(outbox: bool = True, **replacements: Service) -> Callable[[int, FaultPlan], Simulation]:
    """The system factory: the order saga (with services swapped in), jitter on."""
    def build(seed: int, faults: FaultPlan) -> Simulation:
        return order_system(seed, jitter=3, outbox=outbox, faults=faults,
                            services=order_services(**replacements))
    return build


def test_the_workload_holds_one_order_of_each_failure():
    assert {"mallory"} <= {o["customer"] for o in TEN_ORDERS}
    assert {"unicorn"} <= {o["item"] for o in TEN_ORDERS}
    assert {"Atlantis"} <= {o["address"] for o in TEN_ORDERS}


# -- the reference survives ---------------------------------------------------------------------
REFERENCE_SCHEDULES = 1_000  # about 5 s of CPU here; bench/chaos.py times the same count


def test_the_reference_saga_converges_under_a_thousand_fault_schedules():
    result = explore(saga(), workload, order_oracle(), schedules=REFERENCE_SCHEDULES, seed=7)
    assert result.ok, str(result)
    assert (result.passed, result.failed, result.counterexample) == (REFERENCE_SCHEDULES, 0, None)


def test_the_schedules_the_reference_survives_really_inject_every_kind_of_fault():
    topology = probe(saga(), workload, FaultSpace())
    seen: set[str] = set()
    for index in range(1, 40):
        seed, units = draw_schedule(7, index, topology, FaultSpace())
        sim, runaway = run_schedule(saga(), workload, seed, plan_of(units))
        assert runaway is None and order_oracle().check(sim).converged
        seen |= {record.kind for record in sim.trace}
    assert {"kill", "restart", "pause", "resume", "duplicate", "delay", "reorder", "drop",
            "crash"} <= seen


def test_the_reference_with_the_outbox_off_survives_every_crash_point_but_the_dual_write_one():
    space = FaultSpace(crash_points=("before_commit", "after_commit_before_ack"))
    result = explore(saga(outbox=False), workload, order_oracle(), schedules=60, seed=3,
                     space=space)
    assert result.ok, str(result)


# -- each broken variant is caught, small, and replayable ---------------------------------------
def assert_replays(counterexample: Counterexample, invariant: str) -> None:
    """The replay gives the same trace, and the oracle finds the same invariant broken."""
    sim = counterexample.replay()
    assert sim.trace.dump() == counterexample.trace.dump()
    assert invariant in {v.invariant for v in order_oracle().check(sim).violations}
    reloaded = FaultPlan.model_validate(json.loads(counterexample.to_json())["plan"])
    assert reloaded == counterexample.plan


def test_a_payment_that_charges_twice_is_caught_by_one_duplicate():
    result = explore(saga(payment=payment_that_charges_twice()), workload, order_oracle(),
                     schedules=60, seed=1)
    found = result.counterexample
    assert found is not None and result.failed >= 1
    assert len(found.plan) == 1
    fault = found.plan.faults[0]
    assert (fault.service, fault.event_type) == ("payment", "OrderPlaced")
    assert fault.kind == "duplicate" or getattr(fault, "point", "") == "after_commit_before_ack"
    assert found.violations[0].invariant == "at most one charge"
    assert "is charge_card idempotent?" in found.violations[0].explanation
    assert_replays(found, "at most one charge")


def test_a_payment_that_refunds_twice_is_caught_by_one_redelivered_failure():
    result = explore(saga(payment=payment_that_refunds_twice()), workload, order_oracle(),
                     schedules=100, seed=1)
    found = result.counterexample
    assert found is not None and len(found.plan) == 1
    assert found.plan.faults[0].event_type in ("OutOfStock", "ShipmentFailed")
    assert "no refund without a charge" in {v.invariant for v in found.violations}
    assert_replays(found, "no refund without a charge")


@pytest.mark.parametrize("replacement, stuck_on", [
    ({"inventory": inventory_that_never_releases()}, "inventory never made a stock release"),
    ({"payment": payment_that_never_refunds_out_of_stock()}, "payment never made a refund"),
])
def test_a_missing_compensation_needs_no_fault_at_all_to_be_caught(replacement, stuck_on):
    result = explore(saga(**replacement), workload, order_oracle(), schedules=10, seed=1)
    assert result.passed == 0  # the fault-free control run already fails
    found = result.counterexample
    assert found is not None and len(found.plan) == 0
    violation = found.violations[0]
    assert violation.invariant == "every workflow finishes"
    assert stuck_on in violation.explanation
    assert_replays(found, "every workflow finishes")


def test_a_compensation_lost_after_one_failed_attempt_is_caught_by_one_fault():
    result = explore(saga(inventory=inventory_that_trusts_first_delivery()), workload,
                     order_oracle(), schedules=100, seed=1)
    found = result.counterexample
    assert found is not None and len(found.plan) <= 2
    assert found.plan.faults[0].service == "inventory"
    assert "inventory never made a stock release after ShipmentFailed" in (
        found.violations[0].explanation)
    assert_replays(found, "every workflow finishes")


@pytest.fixture(scope="module")
def dual_write():
    """The reference saga with the outbox off, explored once for the tests that read it."""
    return explore(saga(outbox=False), workload, order_oracle(), schedules=100, seed=1)


def test_the_dual_write_bug_is_caught_by_one_crash_between_write_and_publish(dual_write):
    found = dual_write.counterexample
    assert found is not None and len(found.plan) == 1
    assert found.plan.faults[0].point == "after_write_before_publish"
    assert "(the dual-write bug)" in found.violations[0].explanation
    assert_replays(found, "every workflow finishes")


def test_exploring_twice_with_the_same_seed_gives_the_same_result_and_another_seed_differs():
    def run(seed: int):
        return explore(saga(payment=payment_that_charges_twice()), workload, order_oracle(),
                       schedules=40, seed=seed)
    first, again, other = run(5), run(5), run(6)
    assert str(first) == str(again) and first.failures == again.failures
    assert first.counterexample.trace.dump() == again.counterexample.trace.dump()
    assert first.failures != other.failures


def test_the_report_says_how_many_passed_and_shows_the_plan_and_what_broke(dual_write):
    result = dual_write
    lines = str(result).splitlines()
    assert lines[0] == (f"chaos: {result.passed} of 100 schedules converged (seed 1), "
                        f"{result.failed} failed")
    assert lines[1].startswith(
        f"smallest failing schedule: seed={result.counterexample.seed}, 1 fault ")
    assert lines[2].strip().startswith("crash(service=")
    assert lines[3] == "broken:"
    assert lines[4].startswith("  - [every workflow finishes, convergence]")


# -- how schedules are drawn ----------------------------------------------------------------------
def test_schedule_zero_is_the_fault_free_control_and_the_rest_hold_one_to_max_faults():
    topology = probe(saga(), workload, FaultSpace())
    assert draw_schedule(1, 0, topology, FaultSpace())[1] == []
    sizes = {len(draw_schedule(1, i, topology, FaultSpace(max_faults=2))[1]) for i in range(1, 80)}
    assert sizes == {1, 2}


def test_every_drawn_fault_is_transient_and_never_uses_up_a_messages_attempts():
    topology = probe(saga(), workload, FaultSpace())
    assert topology.attempt_budget == 4  # max_attempts 5: the fifth delivery must get through
    for index in range(1, 300):
        _, units = draw_schedule(2, index, topology, FaultSpace(max_faults=4))
        cost = 0
        for unit in units:
            if unit[0].kind in ("kill", "pause"):
                end = {"kill": "restart", "pause": "resume"}[unit[0].kind]
                assert unit[1].kind == end and unit[1].service == unit[0].service
                assert unit[1].at > unit[0].at
            else:
                assert unit[0].times is not None
            cost += 1 if unit[0].kind == "kill" else (
                unit[0].times if unit[0].kind in ("crash", "drop", "duplicate") else 0)
        assert cost <= topology.attempt_budget


def test_only_the_chosen_kinds_of_fault_are_drawn():
    topology = probe(saga(), workload, FaultSpace())
    space = FaultSpace(kinds=("duplicate", "pause"))
    kinds = {fault.kind for i in range(1, 60)
             for unit in draw_schedule(3, i, topology, space)[1] for fault in unit}
    assert kinds == {"duplicate", "pause", "resume"}


def test_the_dual_write_crash_point_is_drawn_only_when_the_outbox_is_off():
    space = FaultSpace(kinds=("crash",))

    def points(outbox: bool) -> set[str]:
        topology = probe(saga(outbox=outbox), workload, space)
        return {unit[0].point for i in range(1, 100)
                for unit in draw_schedule(4, i, topology, space)[1]}

    assert points(outbox=True) == {"before_commit", "after_commit_before_ack"}
    assert points(outbox=False) == {"before_commit", "after_commit_before_ack",
                                    "after_write_before_publish"}
    with pytest.raises(FaultPlanError, match="need a system built with outbox=False"):
        explore(saga(), workload, order_oracle(), schedules=1,
                space=FaultSpace(crash_points=("after_write_before_publish",)))


# -- shrinking --------------------------------------------------------------------------------------
def test_delta_debugging_keeps_only_the_faults_the_failure_needs():
    kill = (Kill(service="payment", at=5), Restart(service="payment", at=80))
    others = [(Kill(service=s, at=1), Restart(service=s, at=2)) for s in ("order", "shipping")]
    units = [others[0], kill, others[1]]
    kept = remove_faults(units, lambda candidate: kill in candidate, lambda: True)
    assert kept == [kill]


def test_simplifying_an_outage_makes_it_earlier_and_shorter_while_it_still_fails():
    kill = (Kill(service="payment", at=30), Restart(service="payment", at=90))

    def fails(units) -> bool:  # fails while payment is down for at least 10 ms
        (down, up), = units
        return up.at - down.at >= 10

    (down, up), = simplify_faults([kill], fails, lambda: True)
    assert (down.at, up.at - down.at) == (0, 15)  # 60 -> 30 -> 15; halving again would pass


def test_smaller_versions_of_a_delivery_fault_drop_the_workflow_the_repeats_and_half_the_delay():
    plan = FaultPlan.model_validate({"faults": [
        {"kind": "delay", "service": "payment", "correlation_id": "o-1", "times": 3, "by": 40}]})
    smaller = [unit[0].model_dump(exclude_defaults=True)
               for unit in smaller_versions(units_of(plan)[0])]
    assert smaller == [{"service": "payment", "times": 3, "by": 40},
                       {"service": "payment", "correlation_id": "o-1", "times": 1, "by": 40},
                       {"service": "payment", "correlation_id": "o-1", "times": 3, "by": 20}]


def test_units_keep_a_kill_with_its_restart_when_a_plan_is_split_back():
    plan = FaultPlan(faults=(Kill(service="payment", at=1), Restart(service="payment", at=9),
                             Kill(service="order", at=2)))
    assert [[f.kind for f in unit] for unit in units_of(plan)] == [["kill", "restart"], ["kill"]]
    assert plan_of(units_of(plan)) == plan


# -- bad input ----------------------------------------------------------------------------------------
def test_unknown_fault_kinds_and_empty_spaces_are_refused_with_the_valid_choices():
    with pytest.raises(ValueError, match="choose one or more of kill, pause, duplicate"):
        FaultSpace(kinds=("explode",))
    with pytest.raises(ValueError, match="unknown crash point"):
        FaultSpace(crash_points=("mid_air",))
    assert set(FaultSpace().kinds) == set(FAULT_KINDS)


def test_a_factory_that_ignores_its_fault_plan_is_refused():
    with pytest.raises(FaultPlanError, match="ignored the fault plan"):
        explore(lambda seed, faults: order_system(seed), workload, order_oracle(), schedules=3)


def test_a_factory_that_returns_no_simulation_or_a_workload_that_places_nothing_is_refused():
    with pytest.raises(TypeError, match="must return a Simulation"):
        explore(lambda seed, faults: None, workload, order_oracle())  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="the workload published nothing"):
        explore(saga(), lambda sim: None, order_oracle())
    with pytest.raises(ValueError, match="schedules must be a positive number"):
        explore(saga(), workload, order_oracle(), schedules=0)


def test_a_run_that_never_settles_is_a_failure_that_says_so():
    class Ping(Event):
        n: int

    echo = Service("echo")

    @echo.handles(Ping, publishes=(Ping,))
    def answer(event: Ping, ctx: Context) -> Event:
        return Ping(n=event.n + 1)

    result = explore(lambda seed, faults: Simulation([echo], seed=seed, faults=faults),
                     lambda sim: sim.publish(Ping(n=0)),
                     Oracle([], finished=lambda sim, w: True), schedules=2)
    assert result.failed == 2
    violation = result.counterexample.violations[0]
    assert violation.invariant == "runs to quiescence"
    assert "events keep causing events" in violation.explanation


def test_replaying_when_every_schedule_passed_is_a_clear_error():
    result = explore(saga(), workload, order_oracle(), schedules=2)
    with pytest.raises(ValueError, match="all 2 schedules passed"):
        result.replay()
