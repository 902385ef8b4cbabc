"""Contract: a message goes to the handler of its type, once per group, whatever its topic.

Several event types may travel on one topic; a service re-registering a handler (a notebook
cell run again) replaces it. Outcomes are read from the services' own states.
"""

from __future__ import annotations

import pytest

from choreo_lab import Context, Event, Service
from choreo_lab.nats import rebuildable


class OrderPlaced(Event, topic="orders"):
    order_id: str


class OrderCancelled(Event, topic="orders"):
    order_id: str


@rebuildable
def order_desk(instances: int = 1) -> Service:
    desk = Service("desk", {"placed": [], "cancelled": []}, instances=instances,
                   processing_time=5 if instances > 1 else 0)

    @desk.handles(OrderPlaced)
    def note_placed(event: OrderPlaced, ctx: Context) -> None:
        ctx.state["placed"].append(event.order_id)

    @desk.handles(OrderCancelled)
    def note_cancelled(event: OrderCancelled, ctx: Context) -> None:
        ctx.state["cancelled"].append(event.order_id)

    return desk


@rebuildable
def placed_only() -> Service:
    audit = Service("audit", {"placed": []})

    @audit.handles(OrderPlaced)
    def note_placed(event: OrderPlaced, ctx: Context) -> None:
        ctx.state["placed"].append(event.order_id)

    return audit


@pytest.mark.feature("consumer_groups")
@pytest.mark.parametrize("instances", [1, 2])
def test_two_event_types_on_one_topic_each_reach_their_own_handler_once(backend, instances):
    sim = backend.make([order_desk(instances), placed_only()])
    for n in range(1, 4):
        sim.publish(OrderPlaced(order_id=f"o-{n}"), key=f"o-{n}")
    sim.publish(OrderCancelled(order_id="o-2"), key="o-2")
    sim.run_until_idle()
    assert sorted(sim.state("desk")["placed"]) == ["o-1", "o-2", "o-3"]
    assert sim.state("desk")["cancelled"] == ["o-2"]
    assert sorted(sim.state("audit")["placed"]) == ["o-1", "o-2", "o-3"]  # no cancellations


@pytest.mark.feature("consumer_groups")
def test_a_group_subscribes_to_a_shared_topic_once():
    assert order_desk().topics == ("orders",)


@rebuildable
def desk_whose_handler_was_registered_twice() -> Service:
    desk = order_desk()
    for version in (1, 2):  # the notebook cell with the handler, run twice
        @desk.handles(OrderPlaced)
        def note_placed(event: OrderPlaced, ctx: Context, version=version) -> None:
            ctx.state["placed"].append(f"{event.order_id} by v{version}")
    return desk


@pytest.mark.feature("consumer_groups")
def test_a_handler_registered_again_replaces_the_first_and_runs_once(backend):
    sim = backend.make([desk_whose_handler_was_registered_twice()])
    sim.publish(OrderPlaced(order_id="o-1"))
    sim.run_until_idle()
    assert sim.state("desk")["placed"] == ["o-1 by v2"]
