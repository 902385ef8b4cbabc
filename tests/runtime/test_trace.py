"""The trace: what happened, queried by kind/service/workflow, with causal links."""

from __future__ import annotations

import pytest

from choreo_lab import Context, Event, Service, Simulation, TraceRecord
from choreo_lab.vocabulary import TRACE_KINDS as KINDS


class OrderPlaced(Event):
    order_id: str


class PaymentCompleted(Event):
    order_id: str


class InventoryReserved(Event):
    order_id: str


class ShipmentScheduled(Event):
    order_id: str


def saga() -> list[Service]:
    payment, inventory, shipping = Service("payment"), Service("inventory"), Service("shipping")

    @payment.handles(OrderPlaced)
    def charge_card(event: OrderPlaced, ctx: Context) -> PaymentCompleted:
        return PaymentCompleted(order_id=event.order_id)

    @inventory.handles(PaymentCompleted)
    def reserve_stock(event: PaymentCompleted, ctx: Context) -> InventoryReserved:
        return InventoryReserved(order_id=event.order_id)

    @shipping.handles(InventoryReserved)
    def schedule_shipment(event: InventoryReserved, ctx: Context) -> ShipmentScheduled:
        return ShipmentScheduled(order_id=event.order_id)

    @shipping.handles(PaymentCompleted)
    def note_payment(event: PaymentCompleted, ctx: Context) -> None:
        return None

    return [payment, inventory, shipping]


@pytest.fixture
def sim() -> Simulation:
    sim = Simulation(saga())
    sim.publish(OrderPlaced(order_id="o-1"), correlation_id="o-1")
    sim.publish(OrderPlaced(order_id="o-2"), correlation_id="o-2")
    sim.run_until_idle()
    return sim


def test_the_trace_records_publish_delivery_and_ack_in_virtual_time():
    sim = Simulation(saga()[:1], latency=5)
    sim.publish(OrderPlaced(order_id="o-1"))
    sim.run_until_idle()
    assert [(r.time, r.kind, r.service, r.message_id, r.attempt) for r in sim.trace] == [
        (0, "publish", "outside", "m1", 0), (5, "deliver", "payment", "m1", 1),
        (5, "publish", "payment", "m2", 0), (5, "no-subscriber", "payment", "m2", 0),
        (5, "ack", "payment", "m1", 1)]
    assert sim.trace.records[0].detail == "OrderPlaced(order_id='o-1')"


def test_every_recorded_kind_is_a_known_kind(sim):
    assert {r.kind for r in sim.trace} <= set(KINDS)


def test_where_filters_by_kind_service_and_message(sim):
    acks = sim.trace.where(kind="ack")
    assert len(acks) == 2 + 2 + 2 + 2  # payment, inventory, shipping x2 topics, per order
    assert all(r.kind == "ack" for r in acks)
    by_service = {name: len(sim.trace.where(kind="ack", service=name))
                  for name in ("payment", "inventory", "shipping")}
    assert by_service == {"payment": 2, "inventory": 2, "shipping": 4}
    assert {r.kind for r in sim.trace.where(kind="deliver|ack")} == {"deliver", "ack"}
    assert {r.message_id for r in sim.trace.where(message_id="m3")} == {"m3"}


def test_where_filters_by_workflow_and_event_type(sim):
    order_two = sim.trace.where(correlation_id="o-2")
    assert order_two and all(sim.trace.messages[r.message_id].correlation_id == "o-2"
                             for r in order_two)
    published = sim.trace.where(kind="publish", event_type="ShipmentScheduled")
    assert [sim.trace.messages[r.message_id].event.order_id for r in published] == ["o-1", "o-2"]
    assert sim.trace.for_event_type("ShipmentScheduled") == sim.trace.where(
        event_type="ShipmentScheduled")
    assert sim.trace.for_correlation("o-1") == sim.trace.where(correlation_id="o-1")
    assert sim.trace.for_service("payment") == sim.trace.where(service="payment")


def test_records_without_a_message_are_left_out_of_message_filters():
    sim = Simulation(saga())
    sim.kill("payment")
    assert len(sim.trace.where(kind="kill")) == 1
    assert sim.trace.where(correlation_id="c1") == []


def test_correlation_ids_lists_workflows_in_order_of_first_appearance(sim):
    assert sim.trace.correlation_ids() == ["o-1", "o-2"]


def test_parent_and_children_link_a_message_to_its_cause_and_effects(sim):
    shipped = sim.trace.where(kind="publish", event_type="ShipmentScheduled",
                              correlation_id="o-1")[0].message_id
    reserved = sim.trace.parent(shipped)
    assert reserved.event_type == "InventoryReserved"
    assert [e.message_id for e in sim.trace.children(reserved.message_id)] == [shipped]
    order = sim.trace.messages["m1"]
    assert sim.trace.parent("m1") is None
    assert [e.event_type for e in sim.trace.children(order.message_id)] == ["PaymentCompleted"]


def test_the_causal_chain_runs_from_the_first_cause_to_the_message(sim):
    shipped = sim.trace.where(kind="publish", event_type="ShipmentScheduled",
                              correlation_id="o-2")[0].message_id
    chain = sim.trace.causal_chain(shipped)
    assert [e.event_type for e in chain] == [
        "OrderPlaced", "PaymentCompleted", "InventoryReserved", "ShipmentScheduled"]
    assert [e.depth for e in chain] == [0, 1, 2, 3]
    assert chain[-1].message_id == shipped


def test_children_are_found_for_messages_published_after_a_first_query():
    sim = Simulation(saga())
    sim.publish(OrderPlaced(order_id="o-1"))
    assert sim.trace.children("m1") == []
    sim.run_until_idle()
    assert [e.event_type for e in sim.trace.children("m1")] == ["PaymentCompleted"]


def test_dump_is_one_line_per_record(sim):
    lines = sim.trace.dump().splitlines()
    assert len(lines) == len(sim.trace) == len(sim.trace.records)
    assert lines == [str(record) for record in sim.trace]


def test_a_long_trace_record_goes_on_under_its_detail_between_words():
    detail = "OrderPlaced(order_id='o-1', customer='ada', item='book', quantity=2, amount=24, " \
             "address='1 Main St')"
    lines = str(TraceRecord(1, "publish", "order", "m2", 0, detail)).splitlines()
    assert lines[0].startswith("t=     1 publish       order          m2  OrderPlaced(")
    assert all(len(line) <= 100 for line in lines) and len(lines) == 2
    assert lines[1].startswith(" " * 40) and not lines[1][40].isspace()
    assert " ".join(" ".join(lines).split()) == " ".join(
        f"t=     1 publish       order          m2  {detail}".split())


def test_a_trace_record_reads_as_one_aligned_line():
    record = TraceRecord(31, "redeliver", "payment", "m4", 2, "")
    assert str(record) == "t=    31 redeliver     payment        m4 #2"
    assert str(TraceRecord(0, "kill", "payment", None, 0, "")).startswith("t=     0 kill")
    assert str(TraceRecord(5, "nack", "payment", "m4", 1, "ValueError: no")).endswith(
        "m4 #1  ValueError: no")
