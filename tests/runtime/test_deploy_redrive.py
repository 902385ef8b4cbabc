"""Deploying a fix into the running order saga, then re-driving its dead letters.

A handler that crashes on some messages (a poison message: here, an address format shipping
does not know) has them retried, then dead-lettered, while every other message flows on.
`sim.deploy(service)` puts a new version of the handlers in place, keeping the service's
state, backlog and dead letters; re-driven after that, each dead letter meets the fix once.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from choreo_lab import Duplicate, FaultPlan, Service, Simulation
from choreo_lab import vocabulary as words
from choreo_lab.examples.orders import (
    make_shipping_service,
    order_oracle,
    order_services,
    place_orders,
)
from choreo_lab.examples.orders.events import InventoryReserved

POSTBOX = "PO Box 7"


class UnknownAddressFormat(Exception):
    """What the first version of shipping raises on a PO box."""


def shipping_that_crashes_on_po_boxes() -> Service:
    """Shipping before the fix: a PO box address makes its handler raise, every time."""
    def refuse_po_boxes(handler: Any) -> Any:
        def schedule(event: InventoryReserved, ctx: Any) -> Any:
            if event.address.startswith("PO Box"):
                raise UnknownAddressFormat(f"cannot parse {event.address!r}")
            return handler(event, ctx)
        return schedule
    return make_shipping_service().wrapped(refuse_po_boxes)


def orders_with(addresses: list[str]) -> list[dict[str, Any]]:
    return [{"order_id": f"o-{n}", "customer": "ada", "item": "book", "quantity": 1,
             "address": address} for n, address in enumerate(addresses, start=1)]


def broken_saga(addresses: list[str], faults: tuple[Any, ...] = ()) -> Simulation:
    sim = Simulation(order_services(shipping=shipping_that_crashes_on_po_boxes(),
                                    stock={"book": 100}), seed=1, faults=list(faults))
    place_orders(sim, orders_with(addresses))
    sim.run_until_idle()
    return sim


def shipments_published(sim: Simulation, order_id: str) -> int:
    return sum(1 for envelope in sim.topics.get("ShipmentScheduled", [])
               if envelope.event.order_id == order_id)


def test_a_poison_message_is_dead_lettered_while_the_others_flow_on() -> None:
    sim = broken_saga(["1 Main St", POSTBOX, "2 High St"])
    assert [letter.envelope.event.order_id for letter in sim.dead_letters] == ["o-2"]
    assert shipments_published(sim, "o-1") == shipments_published(sim, "o-3") == 1
    assert "o-2" in order_oracle().check(sim).stuck


def test_the_fix_deployed_then_redriven_ends_the_order_and_keeps_the_state() -> None:
    sim = broken_saga(["1 Main St", POSTBOX])
    shipped_before = dict(sim.state("shipping")["shipments"])
    sim.deploy(make_shipping_service())
    assert sim.dead_letters, "deploying re-drives nothing by itself"
    assert sim.redrive() == 1
    sim.run_until_idle()
    assert sim.dead_letters == []
    assert shipments_published(sim, "o-2") == 1
    assert set(shipped_before) < set(sim.state("shipping")["shipments"])
    assert order_oracle().check(sim).consistent
    kinds = [record.kind for record in sim.trace if record.service == "shipping"]
    assert kinds.index(words.DEPLOY) < kinds.index(words.REDRIVE)


def test_redriven_before_the_fix_the_letter_comes_back() -> None:
    sim = broken_saga([POSTBOX])
    sim.redrive()
    sim.run_until_idle()
    assert len(sim.dead_letters) == 1
    sim.deploy(make_shipping_service())
    sim.redrive()
    sim.run_until_idle()
    assert sim.dead_letters == [] and shipments_published(sim, "o-1") == 1


def test_a_message_still_retrying_meets_the_fix_without_being_dead_lettered() -> None:
    sim = Simulation(order_services(shipping=shipping_that_crashes_on_po_boxes()), seed=1)
    place_orders(sim, orders_with([POSTBOX]))
    while not sim.trace.where(kind=words.NACK, service="shipping"):
        sim.step()
    sim.deploy(make_shipping_service())
    sim.run_until_idle()
    assert sim.dead_letters == [] and shipments_published(sim, "o-1") == 1


@settings(max_examples=30, deadline=None)
@given(addresses=st.lists(st.sampled_from(["1 Main St", POSTBOX, "Atlantis"]), min_size=1,
                          max_size=5),
       redrives=st.integers(min_value=1, max_value=3), duplicated=st.booleans())
def test_after_the_fix_and_any_number_of_redrives_every_order_ends_once(
        addresses: list[str], redrives: int, duplicated: bool) -> None:
    sim = broken_saga(addresses)
    assert len(sim.dead_letters) == addresses.count(POSTBOX)
    sim.deploy(make_shipping_service())
    if duplicated:  # the first re-driven message is handled, then comes again (ack lost)
        sim.set_delivery_faults(FaultPlan(faults=(Duplicate(service="shipping", times=1),)))
    for _ in range(redrives):
        sim.redrive()
    sim.run_until_idle()
    assert sim.dead_letters == []
    report = order_oracle().check(sim)
    assert report.consistent, report.explain()
    for n, address in enumerate(addresses, start=1):
        assert shipments_published(sim, f"o-{n}") == (0 if address == "Atlantis" else 1)
