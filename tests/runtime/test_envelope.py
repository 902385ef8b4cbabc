"""Envelopes: the metadata the runtime stamps around each event, and deterministic ids."""

from __future__ import annotations

from choreo_lab import Context, Envelope, Event, Service, Simulation
from choreo_lab.envelope import Delivery


class OrderPlaced(Event):
    order_id: str


class PaymentCompleted(Event):
    order_id: str


class ReceiptSent(Event):
    order_id: str


def payment_and_receipts() -> list[Service]:
    payment = Service("payment")
    mailer = Service("mailer")

    @payment.handles(OrderPlaced)
    def charge_card(event: OrderPlaced, ctx: Context) -> PaymentCompleted:
        return PaymentCompleted(order_id=event.order_id)

    @mailer.handles(PaymentCompleted)
    def send_receipt(event: PaymentCompleted, ctx: Context) -> ReceiptSent:
        return ReceiptSent(order_id=event.order_id)

    return [payment, mailer]


def test_message_ids_count_up_in_publish_order():
    sim = Simulation(payment_and_receipts())
    ids = [sim.publish(OrderPlaced(order_id=f"o-{n}")).message_id for n in range(3)]
    assert ids == ["m1", "m2", "m3"]
    sim.run_until_idle()
    assert list(sim.trace.messages) == [f"m{n}" for n in range(1, 10)]


def test_each_outside_publish_starts_a_new_workflow_keyed_by_it():
    sim = Simulation(payment_and_receipts())
    first = sim.publish(OrderPlaced(order_id="o-1"))
    second = sim.publish(OrderPlaced(order_id="o-2"))
    assert (first.correlation_id, first.key) == ("c1", "c1")
    assert (second.correlation_id, second.key) == ("c2", "c2")


def test_an_outside_publish_may_name_its_workflow_key_and_producer():
    sim = Simulation(payment_and_receipts())
    envelope = sim.publish(OrderPlaced(order_id="o-1"), key="ada", correlation_id="o-1",
                           producer="customer")
    assert (envelope.correlation_id, envelope.key, envelope.producer) == ("o-1", "ada", "customer")
    assert envelope.causation_id is None and envelope.depth == 0


def test_the_envelope_carries_the_event_its_topic_and_publish_time():
    sim = Simulation(payment_and_receipts())
    sim.run_for(25)
    event = OrderPlaced(order_id="o-1")
    envelope = sim.publish(event)
    assert envelope.event is event
    assert (envelope.topic, envelope.event_type, envelope.published_at) == (
        "OrderPlaced", "OrderPlaced", 25)


def test_messages_produced_by_handlers_inherit_workflow_and_key_and_name_their_cause():
    sim = Simulation(payment_and_receipts(), latency=3)
    order = sim.publish(OrderPlaced(order_id="o-1"), key="ada", correlation_id="o-1")
    sim.run_until_idle()
    payment, receipt = (sim.trace.messages[m] for m in ("m2", "m3"))
    assert (payment.event_type, payment.producer, payment.causation_id) == (
        "PaymentCompleted", "payment", order.message_id)
    assert (receipt.event_type, receipt.producer, receipt.causation_id) == (
        "ReceiptSent", "mailer", payment.message_id)
    assert {e.correlation_id for e in (payment, receipt)} == {"o-1"}
    assert {e.key for e in (payment, receipt)} == {"ada"}
    assert (payment.depth, receipt.depth) == (1, 2)
    assert (payment.published_at, receipt.published_at) == (3, 6)


def test_the_context_shows_the_handler_its_message():
    seen = []
    service = Service("payment")

    @service.handles(OrderPlaced)
    def charge_card(event: OrderPlaced, ctx: Context) -> None:
        seen.append((ctx.service, ctx.message_id, ctx.correlation_id, ctx.attempt, ctx.now,
                     ctx.envelope.event is event))

    sim = Simulation([service], latency=4)
    sim.publish(OrderPlaced(order_id="o-1"), correlation_id="o-1")
    sim.run_until_idle()
    assert seen == [("payment", "m1", "o-1", 1, 4, True)]


def test_a_delivery_starts_with_no_attempts_and_names_its_group():
    envelope = Envelope("m7", OrderPlaced(order_id="o-1"), "k", "c1", None, "outside", 0, 0)
    delivery = Delivery(envelope, "payment")
    assert (delivery.attempt, delivery.group, delivery.envelope) == (0, "payment", envelope)
    assert repr(delivery) == "Delivery(m7 -> payment, attempt=0)"
    assert "m7" in repr(envelope) and "OrderPlaced(order_id='o-1')" in repr(envelope)
