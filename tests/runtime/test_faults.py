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


# -- which event a fault targets: the class or its type name, whatever its topic -------------
class PriceChanged(Event, topic="catalogue"):
    item: str


def catalogue() -> Service:
    service = Service("catalogue", {"prices": []})

    @service.handles(PriceChanged)
    def note_price(event: PriceChanged, ctx: Context) -> None:
        ctx.state["prices"].append(event.item)

    return service


@pytest.mark.parametrize("event_type", [PriceChanged, "PriceChanged"])
def test_a_fault_on_an_event_with_a_custom_topic_fires_given_its_class_or_name(event_type):
    sim = Simulation([catalogue()], faults=[Duplicate(event_type=event_type, times=1)])
    sim.publish(PriceChanged(item="lamp"))
    sim.run_until_idle()
    assert sim.state("catalogue")["prices"] == ["lamp", "lamp"]
    assert Duplicate(event_type=PriceChanged) == Duplicate(event_type="PriceChanged")


def test_a_fault_naming_the_topic_rather_than_the_event_type_is_refused():
    with pytest.raises(FaultPlanError, match="targets event type 'catalogue', which no service "
                                             "handles.*handled event types: PriceChanged"):
        Simulation([catalogue()], faults=[Drop(event_type="catalogue")])


def test_a_fault_with_an_occurrence_fires_only_at_that_matching_delivery():
    sim = Simulation([catalogue()], faults=[Drop(event_type=PriceChanged, occurrence=2)])
    for item in ("lamp", "kettle", "book"):
        sim.publish(PriceChanged(item=item))
    sim.run_until_idle()
    assert [(r.message_id, r.attempt) for r in sim.trace.where(kind="drop")] == [("m2", 1)]


def test_a_fault_with_an_attempt_fires_only_on_that_delivery_attempt():
    plan = [Drop(event_type=PriceChanged, correlation_id="c2", occurrence=1),
            Duplicate(event_type=PriceChanged, attempt=2, times=1)]
    sim = Simulation([catalogue()], faults=plan)
    for item in ("lamp", "kettle"):
        sim.publish(PriceChanged(item=item))
    sim.run_until_idle()
    hits = [(r.kind, r.message_id, r.attempt) for r in sim.trace.where(kind="drop|duplicate")]
    assert hits == [("drop", "m2", 1), ("duplicate", "m2", 2)]  # m1's first attempt is spared
    assert sim.state("catalogue")["prices"] == ["lamp", "kettle", "kettle"]
    saved = FaultPlan(faults=tuple(plan)).model_dump_json()
    assert FaultPlan.model_validate_json(saved).faults == tuple(plan)


def test_delays_act_before_the_first_attempt_so_they_take_no_attempt():
    with pytest.raises(FaultPlanError, match="attempt: Extra inputs are not permitted"):
        Delay(by=5, attempt=2)


def test_turning_chaos_knobs_keeps_a_fault_budget_and_the_coin_stream():
    once = Duplicate(times=1)
    sim = Simulation([catalogue()], faults=[once])
    sim.publish(PriceChanged(item="lamp"))
    sim.run_until_idle()
    for _ in range(3):  # the knob moves; the same fault stays in the plan
        sim.set_delivery_faults(FaultPlan(faults=(once,)))
        sim.publish(PriceChanged(item="kettle"))
        sim.run_until_idle()
    assert len(sim.trace.where(kind="duplicate")) == 1


def test_turning_a_knob_does_not_restart_the_coin_tosses():
    def tosses(moves: int) -> list[str]:
        sim = Simulation([catalogue()], faults=[Drop(probability=0.5)], seed=3, max_attempts=20)
        for n in range(6):
            if n < moves:
                sim.set_delivery_faults(FaultPlan(faults=(Drop(probability=0.5),)))
            sim.publish(PriceChanged(item=f"i{n}"))
            sim.run_until_idle()
        return [f"{r.message_id}#{r.attempt}" for r in sim.trace.where(kind="drop")]

    assert tosses(moves=0) == tosses(moves=6)


def test_a_restart_planned_before_its_kill_is_refused():
    plan = [Kill(service="payment", at=20), Restart(service="payment", at=10)]
    with pytest.raises(FaultPlanError, match="Restart\\(service='payment', at=10\\) comes before "
                                             "the kill of 'payment'.*stay down"):
        Simulation([payment()], faults=plan)


def test_a_resume_planned_before_its_pause_is_refused():
    plan = [Resume(service="payment", at=1), Pause(service="payment", at=5)]
    with pytest.raises(FaultPlanError, match="comes before the pause of 'payment'.*stay paused"):
        Simulation([payment()], faults=plan)


def test_a_single_fault_not_in_a_list_is_refused_saying_how_to_write_it():
    with pytest.raises(FaultPlanError, match="faults takes a list of faults.*got one Kill; write "
                                             "faults=\\[Kill\\(...\\)\\]"):
        Simulation([payment()], faults=Kill(service="payment", at=1))


def test_a_lost_ack_can_happen_on_the_last_attempt_and_is_then_dead_lettered():
    sim = Simulation([payment()], max_attempts=1, faults=[Duplicate(times=1)])
    sim.publish(OrderPlaced(order_id="o-1"))
    sim.run_until_idle()
    [letter] = sim.dead_letters
    assert letter.reason == "handled, but its ack was lost" and letter.attempts == 1
    assert sim.state("payment")["charged"] == [("o-1", 1)]  # handled, never acked
