"""Fault plans as data (validation, JSON round trip) and the injector that fires them."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from choreo_lab import (Context, Crash, Delay, Drop, Duplicate, Event, FaultPlan, FaultPlanError,
                        Kill, Pause, Reorder, Restart, Resume, Service, Simulation)
from choreo_lab.faults import FaultInjector

EVERY_KIND = FaultPlan(faults=(
    Kill(service="payment", at=5), Restart(service="payment", at=40),
    Pause(service="shipping", at=7), Resume(service="shipping", at=9),
    Duplicate(service="payment", probability=0.25), Delay(event_type="OrderPlaced", by=12, times=3),
    Reorder(correlation_id="o-7", by=80), Drop(probability=0.5, times=1),
    Crash(service="payment", point="after_commit_before_ack", probability=0.75),
    Crash(point="after_write_before_publish")))


# -- plans are data -------------------------------------------------------------------------
def test_a_fault_plan_survives_a_json_round_trip():
    text = EVERY_KIND.model_dump_json()
    again = FaultPlan.model_validate_json(text)
    assert again == EVERY_KIND
    assert [type(f) for f in again.faults] == [type(f) for f in EVERY_KIND.faults]
    assert again.model_dump_json() == text


def test_a_fault_plan_describes_itself_one_line_per_fault_without_defaults():
    lines = EVERY_KIND.describe().splitlines()
    assert len(lines) == len(EVERY_KIND) == 10
    assert lines[0] == "kill(service='payment', at=5)"
    assert lines[5] == "delay(event_type='OrderPlaced', times=3, by=12)"
    assert FaultPlan().describe() == "(no faults)"


def test_fault_plans_add_up_in_order():
    first, second = FaultPlan(faults=(Kill(service="a", at=1),)), FaultPlan(faults=(Drop(),))
    assert (first + second).faults == (Kill(service="a", at=1), Drop())


@pytest.mark.parametrize("build", [
    lambda: Kill(service="payment", at=-1),
    lambda: Drop(probability=1.5),
    lambda: Drop(probability=-0.1),
    lambda: Duplicate(times=0),
    lambda: Delay(by=0),
    lambda: Crash(point="during_lunch"),
    lambda: Kill(service="payment", at=1, colour="red"),
])
def test_a_fault_with_impossible_values_is_refused_in_plain_words(build):
    with pytest.raises(FaultPlanError, match="is not a valid fault: ") as error:
        build()
    assert "errors.pydantic.dev" not in str(error.value)


def test_a_saved_plan_with_an_unknown_fault_kind_is_refused():
    with pytest.raises(ValidationError, match="explode"):
        FaultPlan.model_validate_json('{"faults": [{"kind": "explode", "service": "a"}]}')


def test_faults_are_immutable():
    with pytest.raises(ValidationError):
        EVERY_KIND.faults[0].at = 9  # type: ignore[misc]


# -- the injector ---------------------------------------------------------------------------
def fire_many(plan: FaultPlan, count: int, seed: int = 0, **target) -> list[bool]:
    injector = FaultInjector(plan, seed)
    where = {"group": "payment", "event_type": "OrderPlaced", "correlation_id": "c1"} | target
    return [injector.fire("drop", **where) is not None for _ in range(count)]


def test_a_certain_fault_fires_every_time_and_an_impossible_one_never():
    assert all(fire_many(FaultPlan(faults=(Drop(),)), 50))
    assert not any(fire_many(FaultPlan(faults=(Drop(probability=0.0),)), 50))


def test_a_fault_with_a_probability_fires_about_that_often():
    fired = fire_many(FaultPlan(faults=(Drop(probability=0.3),)), 2000)
    assert 0.25 < sum(fired) / len(fired) < 0.35


def test_the_same_seed_makes_the_same_decisions_and_another_seed_others():
    plan = FaultPlan(faults=(Drop(probability=0.5),))
    assert fire_many(plan, 200, seed=4) == fire_many(plan, 200, seed=4)
    assert fire_many(plan, 200, seed=4) != fire_many(plan, 200, seed=5)


def test_a_fault_fires_at_most_its_times():
    assert fire_many(FaultPlan(faults=(Drop(times=3),)), 10) == [True] * 3 + [False] * 7


@pytest.mark.parametrize("fault, target, fires", [
    (Drop(service="payment"), {}, True),
    (Drop(service="shipping"), {}, False),
    (Drop(event_type="OrderPlaced"), {}, True),
    (Drop(event_type="PaymentCompleted"), {}, False),
    (Drop(correlation_id="c1"), {}, True),
    (Drop(correlation_id="c1"), {"correlation_id": "c2"}, False),
    (Drop(service="payment", event_type="OrderPlaced"), {"group": "shipping"}, False),
])
def test_a_fault_fires_only_on_the_messages_it_targets(fault, target, fires):
    assert fire_many(FaultPlan(faults=(fault,)), 1, **target) == [fires]


def test_the_first_matching_fault_of_a_kind_wins():
    first, second = Drop(service="payment", times=1), Drop()
    injector = FaultInjector(FaultPlan(faults=(first, second)), 0)
    picked = [injector.fire("drop", "payment", "OrderPlaced", "c1") for _ in range(2)]
    assert picked[0] is first and picked[1] is second
    assert injector.fire("delay", "payment", "OrderPlaced", "c1") is None


# -- plans inside a simulation --------------------------------------------------------------
class OrderPlaced(Event):
    order_id: str


def payment(fail_first: bool = False) -> Service:
    service = Service("payment", {"charged": []})

    @service.handles(OrderPlaced)
    def charge_card(event: OrderPlaced, ctx: Context) -> None:
        if fail_first and ctx.attempt == 1:
            raise ConnectionError("bank busy")
        ctx.state["charged"].append((event.order_id, ctx.attempt))

    return service


def test_a_simulation_takes_a_plan_or_a_plain_list_of_faults():
    as_list = Simulation([payment()], faults=[Kill(service="payment", at=3)])
    assert as_list.faults == FaultPlan(faults=(Kill(service="payment", at=3),))
    assert Simulation([payment()]).faults == FaultPlan()


def test_a_plan_naming_an_unknown_service_is_refused_listing_the_known_ones():
    for fault in (Kill(service="paymnet", at=1), Drop(service="paymnet")):
        with pytest.raises(FaultPlanError, match="no service named 'paymnet'; known services: "
                                                  "payment. Did you mean 'payment'"):
            Simulation([payment()], faults=[fault])


def test_a_crash_between_write_and_publish_is_refused_while_the_outbox_is_on():
    plan = [Crash(service="payment", point="after_write_before_publish")]
    with pytest.raises(FaultPlanError, match="needs Simulation\\(outbox=False\\)"):
        Simulation([payment()], faults=plan)
    assert Simulation([payment()], faults=plan, outbox=False).faults.faults == tuple(plan)


def test_scheduled_faults_happen_at_their_virtual_time():
    plan = [Kill(service="payment", at=10), Restart(service="payment", at=30),
            Pause(service="payment", at=50), Resume(service="payment", at=70)]
    sim = Simulation([payment()], faults=plan)
    sim.run_until_idle()
    assert [(r.time, r.kind) for r in sim.trace] == [
        (10, "kill"), (30, "restart"), (50, "pause"), (70, "resume")]


def test_a_crash_fault_is_not_used_up_by_an_attempt_whose_handler_raised():
    sim = Simulation([payment(fail_first=True)], faults=[Crash(service="payment", times=1)])
    sim.publish(OrderPlaced(order_id="o-1"))
    sim.run_until_idle()
    assert [r.kind for r in sim.trace if r.service == "payment"] == [
        "deliver", "nack", "redeliver", "crash", "redeliver", "ack"]
    assert sim.state("payment")["charged"] == [("o-1", 3)]


def test_delay_and_reorder_faults_are_recorded_with_how_late():
    sim = Simulation([payment()], faults=[Delay(by=12, times=1), Reorder(by=30, times=1)])
    sim.publish(OrderPlaced(order_id="o-1"))
    sim.run_until_idle()
    assert [(r.kind, r.detail) for r in sim.trace.where(kind="delay|reorder")] == [
        ("delay", "+12 ms"), ("reorder", "+30 ms")]
    assert sim.trace.where(kind="deliver")[0].time == 1 + 12 + 30
