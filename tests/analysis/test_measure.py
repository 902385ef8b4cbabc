"""Measuring a design: message counts, who must know whom, what a change touched, settling times."""

from __future__ import annotations

from choreo_lab import Context, Duplicate, Event, Service, Simulation
from choreo_lab.measure import (
    definition_changes,
    dependency_count,
    lines_changed,
    messages_per_workflow,
    publishers,
    settling_times,
    who_must_know_whom,
)


class KettleOrdered(Event):
    order_id: str


class WaterBoiled(Event):
    order_id: str


class TeaServed(Event, outcome="completed"):
    order_id: str


def tea_shop(*, slow_pour: bool = False) -> list[Service]:
    boiler, pourer = Service("boiler"), Service("pourer", processing_time=50 if slow_pour else 0)

    @boiler.handles(KettleOrdered, publishes=(WaterBoiled,))
    def boil(event: KettleOrdered, ctx: Context) -> list[Event]:
        return [WaterBoiled(order_id=event.order_id)]

    @pourer.handles(WaterBoiled, publishes=(TeaServed,))
    def pour(event: WaterBoiled, ctx: Context) -> list[Event]:
        return [TeaServed(order_id=event.order_id)]

    return [boiler, pourer]


def served(services: list[Service], *cups: str, **options: object) -> Simulation:
    sim = Simulation(services, seed=1, **options)  # type: ignore[arg-type]
    for cup in cups:
        sim.publish(KettleOrdered(order_id=cup), correlation_id=cup, producer="guest")
    sim.run_until_idle()
    return sim


def test_each_workflow_counts_the_messages_published_in_it():
    assert messages_per_workflow(served(tea_shop(), "t-1", "t-2")) == {"t-1": 3, "t-2": 3}
    # t-1's WaterBoiled comes again (its ack lost); pour() is not idempotent and serves twice
    sim = served(tea_shop(), "t-1", "t-2", faults=[Duplicate(event_type="WaterBoiled", times=1)])
    assert len(sim.trace.where(kind="duplicate")) == 1
    assert messages_per_workflow(sim) == {"t-1": 4, "t-2": 3}
    assert messages_per_workflow(sim, ["t-2"]) == {"t-2": 3}


def test_a_service_depends_on_the_services_whose_messages_it_handles():
    services = tea_shop()
    assert publishers(services) == {"WaterBoiled": ("boiler",), "TeaServed": ("pourer",)}
    # the guest is outside the system: boiler depends on no service
    assert who_must_know_whom(services) == {"boiler": (), "pourer": ("boiler",)}
    assert dependency_count(services) == 1


def test_an_unchanged_design_has_no_changes_and_a_new_step_shows_where_it_touched():
    assert definition_changes(tea_shop(), tea_shop()) == {}
    changed = tea_shop()
    milk = Service("milk")

    @milk.handles(WaterBoiled)
    def add_milk(event: WaterBoiled, ctx: Context) -> list[Event]:
        return []

    @changed[1].handles(KettleOrdered)
    def warm_the_cup(event: KettleOrdered, ctx: Context) -> list[Event]:
        return []

    assert definition_changes(tea_shop(), [*changed, milk]) == {
        "pourer": ["handles KettleOrdered (new)"], "milk": ["new service"]}
    assert definition_changes(tea_shop(), changed[:1]) == {"pourer": ["removed"]}


def test_a_handler_whose_body_changed_counts_as_changed():
    before, after = tea_shop(), tea_shop()
    boiler = Service("boiler")

    @boiler.handles(KettleOrdered, publishes=(WaterBoiled,))
    def boil(event: KettleOrdered, ctx: Context) -> list[Event]:
        ctx.state["boiled"] = True
        return [WaterBoiled(order_id=event.order_id)]

    assert definition_changes(before, [boiler, after[1]]) == {
        "boiler": ["handles KettleOrdered (changed)"]}


def test_lines_changed_counts_the_source_lines_of_new_and_changed_handlers_only():
    assert lines_changed(tea_shop(), tea_shop()) == {}
    before, after = tea_shop(), tea_shop()
    boiler, milk = Service("boiler"), Service("milk")

    @boiler.handles(KettleOrdered, publishes=(WaterBoiled,))
    def boil(event: KettleOrdered, ctx: Context) -> list[Event]:
        ctx.state["boiled"] = True
        return [WaterBoiled(order_id=event.order_id)]

    @milk.handles(WaterBoiled)
    def add_milk(event: WaterBoiled, ctx: Context) -> list[Event]:
        return []

    # decorator, signature and body: 4 lines for boil, 3 for add_milk; pourer is unchanged
    assert lines_changed(before, [boiler, after[1], milk]) == {"boiler": 4, "milk": 3}


def test_settling_times_grow_with_a_slow_step_and_an_unfinished_workflow_has_none():
    fast = settling_times(served(tea_shop(), "t-1"))
    slow = settling_times(served(tea_shop(slow_pour=True), "t-1"))
    assert fast["t-1"] is not None and slow["t-1"] is not None
    assert slow["t-1"] >= fast["t-1"] + 50
    sim = Simulation(tea_shop(), seed=1)
    sim.kill("pourer")
    sim.publish(KettleOrdered(order_id="t-9"), correlation_id="t-9", producer="guest")
    sim.run_until_idle()
    assert settling_times(sim) == {"t-9": None}
