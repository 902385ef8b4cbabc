"""The chaos explorer: every known-wrong variant is found within 60 schedules whatever the seed,
the reference saga survives every single fault and a thousand schedules more, and each
counterexample is small and replays."""

from __future__ import annotations

import json

import pytest

from choreo_lab import Context, Event, FaultPlan, FaultPlanError, Service, Simulation
from choreo_lab.chaos import Counterexample, FaultSpace, explore
from choreo_lab.consistency import Oracle
from choreo_lab.examples.orders import order_oracle, order_system, place_orders

from .broken_services import (
    inventory_that_never_releases,
    inventory_that_trusts_first_delivery,
    payment_that_charges_twice,
    payment_that_never_refunds_out_of_stock,
    payment_that_refunds_twice,
)
from .sagas import TEN_ORDERS, saga, ten_orders

#: Each known-wrong variant, as a system, and the invariant it breaks.
BROKEN = {
    "a payment that charges twice": (lambda: saga(payment=payment_that_charges_twice()),
                                     "at most one charge"),
    "a payment that refunds twice": (lambda: saga(payment=payment_that_refunds_twice()),
                                     "no refund without a charge"),
    "an inventory that never releases": (lambda: saga(inventory=inventory_that_never_releases()),
                                         "every workflow finishes"),
    "a payment that never refunds": (lambda: saga(payment=payment_that_never_refunds_out_of_stock()),
                                     "every workflow finishes"),
    "the dual write, outbox off": (lambda: saga(outbox=False), "every workflow finishes"),
    "an inventory that drops redeliveries": (
        lambda: saga(inventory=inventory_that_trusts_first_delivery()), "every workflow finishes"),
}


def test_the_workload_holds_one_order_of_each_failure():
    assert {"mallory"} <= {o["customer"] for o in TEN_ORDERS}
    assert {"unicorn"} <= {o["item"] for o in TEN_ORDERS}
    assert {"Atlantis"} <= {o["address"] for o in TEN_ORDERS}


# -- every known-wrong variant, every time -------------------------------------------------------
@pytest.mark.parametrize("variant", BROKEN)
def test_every_known_wrong_variant_is_found_within_sixty_schedules_for_every_seed(variant):
    system, invariant = BROKEN[variant]
    for seed in (1, 2, 3, 4, 5, 99):
        result = explore(system(), ten_orders, order_oracle(), schedules=60, seed=seed,
                         stop_at_first_failure=True, shrink=False)
        first = result.first_failure
        assert first is not None and first.index < 60, f"seed {seed}: {result}"
        assert invariant in first.invariants


# -- the reference survives --------------------------------------------------------------------------
FURTHER_SCHEDULES = 1_000  # with the single pass: ~1,500 runs, 5-10 s here


def test_the_reference_saga_survives_every_single_fault_and_a_thousand_schedules_more():
    singles = explore(saga(), ten_orders, order_oracle(), schedules=1).coverage.single_faults
    schedules = 1 + singles + FURTHER_SCHEDULES
    result = explore(saga(), ten_orders, order_oracle(), schedules=schedules, seed=7)
    assert result.ok, str(result)
    coverage = result.coverage
    assert coverage.complete and coverage.singles_tried == singles > 400
    assert coverage.pairs_tried + coverage.random_tried == FURTHER_SCHEDULES
    assert min(coverage.pairs_tried, coverage.random_tried) >= FURTHER_SCHEDULES // 2


def test_the_reference_with_the_outbox_off_survives_every_crash_point_but_the_dual_write_one():
    space = FaultSpace(crash_points=("before_commit", "after_commit_before_ack"))
    result = explore(saga(outbox=False), ten_orders, order_oracle(), schedules=150, seed=3,
                     space=space)
    assert result.ok, str(result)
    assert "crash after write" not in result.coverage.kinds


# -- each broken variant is caught, small, and replayable ------------------------------------------
def assert_replays(counterexample: Counterexample, invariant: str) -> None:
    """The replay gives the same trace, and the oracle finds the same invariant broken."""
    sim = counterexample.replay()
    assert sim.trace.dump() == counterexample.trace.dump()
    assert invariant in {v.invariant for v in order_oracle().check(sim).violations}
    saved = json.loads(counterexample.to_json())
    assert FaultPlan.model_validate(saved["plan"]) == counterexample.plan
    assert FaultPlan.model_validate(saved["found"]["plan"]) == counterexample.found.plan


def test_a_payment_that_charges_twice_is_caught_by_one_lost_ack_on_the_first_try():
    result = explore(saga(payment=payment_that_charges_twice()), ten_orders, order_oracle(),
                     schedules=60, seed=1)
    found = result.counterexample
    assert found is not None and result.first_failure.phase == "single fault"
    assert len(found.plan) == 1
    fault = found.plan.faults[0]
    assert (fault.kind, fault.service, fault.event_type, fault.occurrence) == (
        "duplicate", "payment", "OrderPlaced", 1)
    assert found.violations[0].invariant == "at most one charge"
    assert "is charge_card idempotent?" in found.violations[0].explanation
    assert_replays(found, "at most one charge")


def test_a_payment_that_refunds_twice_is_caught_by_one_redelivered_failure():
    result = explore(saga(payment=payment_that_refunds_twice()), ten_orders, order_oracle(),
                     schedules=60, seed=1)
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
    result = explore(saga(**replacement), ten_orders, order_oracle(), schedules=10, seed=1)
    assert result.first_failure.index == 0 and result.first_failure.phase == "control"
    found = result.counterexample
    assert found is not None and len(found.plan) == 0
    violation = found.violations[0]
    assert violation.invariant == "every workflow finishes"
    assert stuck_on in violation.explanation
    assert_replays(found, "every workflow finishes")


def test_a_compensation_lost_after_one_failed_attempt_is_caught_by_one_fault():
    result = explore(saga(inventory=inventory_that_trusts_first_delivery()), ten_orders,
                     order_oracle(), schedules=60, seed=1)
    found = result.counterexample
    assert found is not None and len(found.plan) == 1
    assert (found.plan.faults[0].service, found.plan.faults[0].event_type) == (
        "inventory", "ShipmentFailed")
    assert "inventory never made a stock release after ShipmentFailed" in (
        found.violations[0].explanation)
    assert_replays(found, "every workflow finishes")


@pytest.fixture(scope="module")
def dual_write():
    """The reference saga with the outbox off, explored once for the tests that read it."""
    return explore(saga(outbox=False), ten_orders, order_oracle(), schedules=60, seed=1)


def test_the_dual_write_bug_is_caught_by_one_crash_between_write_and_publish(dual_write):
    found = dual_write.counterexample
    assert found is not None and len(found.plan) == 1
    assert found.plan.faults[0].point == "after_write_before_publish"
    assert_replays(found, "every workflow finishes")
    on_payment = explore(saga(outbox=False), ten_orders, order_oracle(), schedules=60, seed=1,
                         space=FaultSpace(services=("payment",))).counterexample
    assert on_payment.plan.faults[0].service == "payment"
    assert "(the dual-write bug)" in on_payment.violations[0].explanation


def test_the_report_says_what_was_tried_names_the_first_failure_and_shows_the_smallest(dual_write):
    result = dual_write
    coverage = result.coverage
    head, *lines = str(result).splitlines()
    assert head == (f"chaos: {result.passed} of 60 schedules converged (seed 1), "
                    f"{result.failed} failed")
    tried = [lines.pop(0)]
    while lines[0].startswith("  "):  # the sentence is wrapped at 100 columns
        tried.append(lines.pop(0).strip())
    assert max(map(len, tried)) <= 100
    tried_text = " ".join(tried)
    assert tried_text.startswith(f"tried: the control run and 59 of {coverage.single_faults} "
                                 f"single faults at {coverage.sites} delivery sites. The budget "
                                 "is smaller than the single-fault pass")
    assert tried_text.endswith(f"schedules={coverage.single_faults + 1} tries every single fault")
    assert lines[0] == (f"first failing: schedule {result.first_failure.index} (single fault), "
                        "shrunk below")
    assert lines[1].startswith(
        f"smallest failing schedule: 1 fault, with simulation seed {result.counterexample.seed} - ")
    assert lines[2].strip().startswith("crash(service=")
    plan_end = lines.index("broken:")
    assert all(line.startswith("    ") for line in lines[3:plan_end])  # the fault, wrapped
    assert lines[plan_end + 1].startswith("  - [every workflow finishes, convergence]")
    assert max(map(len, str(result).splitlines())) <= 100


def test_exploring_twice_gives_the_same_result_and_the_seed_changes_only_the_random_schedules():
    def run(seed: int):  # three orders: about 140 single faults, then pairs and random ones
        return explore(saga(payment=payment_that_charges_twice()),
                       lambda sim: place_orders(sim, TEN_ORDERS[:3]), order_oracle(),
                       schedules=240, seed=seed)
    first, again, other = run(5), run(5), run(6)
    assert str(first) == str(again) and first.failures == again.failures
    assert first.counterexample.trace.dump() == again.counterexample.trace.dump()

    def singles(result):
        return [f for f in result.failures if f.phase == "single fault"]
    assert singles(first) == singles(other) != []  # the single-fault pass ignores the seed
    assert ([f for f in first.failures if f.phase == "random"]
            != [f for f in other.failures if f.phase == "random"])


def test_random_mode_is_the_random_explorer_alone():
    result = explore(saga(payment=payment_that_charges_twice()), ten_orders, order_oracle(),
                     schedules=80, seed=1, mode="random")
    coverage = result.coverage
    assert (coverage.singles_tried, coverage.pairs_tried, coverage.random_tried) == (0, 0, 79)
    assert {f.phase for f in result.failures} <= {"random"}
    assert str(result).splitlines()[1].startswith("tried: a control run and 79 random schedules")


def test_stopping_at_the_first_failure_runs_no_further():
    result = explore(saga(payment=payment_that_charges_twice()), ten_orders, order_oracle(),
                     schedules=200, seed=1, stop_at_first_failure=True)
    assert result.failed == 1 and result.schedules == result.first_failure.index + 1


# -- bad input ---------------------------------------------------------------------------------------
def test_unknown_fault_kinds_modes_and_services_are_refused_with_the_valid_choices():
    with pytest.raises(ValueError, match="choose one or more of kill, pause, duplicate"):
        FaultSpace(kinds=("explode",))
    with pytest.raises(ValueError, match="unknown crash point"):
        FaultSpace(crash_points=("mid_air",))
    with pytest.raises(TypeError, match="services takes a tuple of names, e.g. "
                                         "services=\\('payment',\\)"):
        FaultSpace(services="payment")  # type: ignore[arg-type]
    with pytest.raises(FaultPlanError, match="names 'paymnet', which is not in the system; its "
                                             "services: order, payment.*Did you mean 'payment'"):
        explore(saga(), ten_orders, order_oracle(), space=FaultSpace(services=("paymnet",)))
    with pytest.raises(ValueError, match="mode must be one of 'systematic', 'random'"):
        explore(saga(), ten_orders, order_oracle(), mode="exhaustive")


def test_a_factory_that_ignores_its_fault_plan_is_refused():
    with pytest.raises(FaultPlanError, match="ignored the fault plan"):
        explore(lambda seed, faults: order_system(seed), ten_orders, order_oracle(), schedules=3)


def test_a_system_of_the_wrong_shape_is_refused_saying_it_takes_seed_and_faults():
    with pytest.raises(TypeError, match="must take two arguments, \\(seed, faults\\)") as error:
        explore(lambda seed: order_system(seed), ten_orders, order_oracle())
    with pytest.raises(TypeError, match="must return a Simulation") as other:
        explore(lambda seed, faults: None, ten_orders, order_oracle())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="the system is a function \\(seed, faults\\)"):
        explore(order_system(0), ten_orders, order_oracle())  # type: ignore[arg-type]
    for message in (str(error.value), str(other.value)):  # generic: no example's names
        assert "order" not in message and "Simulation(services, seed=seed, faults=faults)" in message


def test_a_workload_that_places_nothing_or_a_budget_of_nothing_is_refused():
    with pytest.raises(ValueError, match="the workload published nothing") as error:
        explore(saga(), lambda sim: None, order_oracle())
    assert "order" not in str(error.value)
    with pytest.raises(ValueError, match="schedules must be a positive whole number"):
        explore(saga(), ten_orders, order_oracle(), schedules=0)


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
    result = explore(saga(), ten_orders, order_oracle(), schedules=2)
    with pytest.raises(ValueError, match="all 2 schedules passed"):
        result.replay()
