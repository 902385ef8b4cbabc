"""The context: valid only while its handler runs; the state is changed, never replaced."""

from __future__ import annotations

import pytest

from choreo_lab import Context, Event, HandlerError, Service, Simulation


class OrderPlaced(Event):
    order_id: str


class PaymentCompleted(Event):
    order_id: str


def run_one(handler, **options) -> Simulation:
    payment = Service("payment", {"charges": {}})
    payment.handles(OrderPlaced)(handler)
    sim = Simulation([payment], **options)
    sim.publish(OrderPlaced(order_id="o-1"))
    sim.run_until_idle()
    return sim


def test_assigning_ctx_state_is_refused_saying_to_change_what_is_in_it():
    def charge_card(event, ctx):
        ctx.state = {"charges": {event.order_id: 1}}

    sim = run_one(charge_card, max_attempts=1)
    [letter] = sim.dead_letters
    assert "ctx.state cannot be replaced; change what is in it" in letter.reason
    assert sim.state("payment") == {"charges": {}}


def test_a_handler_that_keeps_its_context_cannot_write_the_committed_state_later():
    kept: list[Context] = []

    def charge_card(event, ctx):
        ctx.state["charges"][event.order_id] = 1
        kept.append(ctx)

    sim = run_one(charge_card)
    assert sim.state("payment") == {"charges": {"o-1": 1}}
    with pytest.raises(HandlerError, match="used after the handler call ended.*do not keep it"):
        kept[0].state["charges"]["o-1"] = 999
    assert sim.state("payment") == {"charges": {"o-1": 1}}


def test_a_handler_that_publishes_through_the_simulation_is_told_to_return_the_event():
    sims: list[Simulation] = []

    def charge_card(event, ctx):
        sims[0].publish(PaymentCompleted(order_id=event.order_id))

    payment = Service("payment")
    payment.handles(OrderPlaced)(charge_card)
    sims.append(Simulation([payment], max_attempts=2))
    sims[0].publish(OrderPlaced(order_id="o-1"))
    sims[0].run_until_idle()
    [letter] = sims[0].dead_letters
    assert ("sim.publish() was called from inside the handler payment.charge_card(); return the "
            "event instead") in letter.reason
    assert "PaymentCompleted" not in sims[0].topics  # nothing bypassed the outbox


def test_the_context_shows_the_message_metadata():
    seen = {}

    def charge_card(event, ctx):
        seen.update(service=ctx.service, message=ctx.message_id, workflow=ctx.correlation_id,
                    key=ctx.key, attempt=ctx.attempt, now=ctx.now)

    payment = Service("payment")
    payment.handles(OrderPlaced)(charge_card)
    sim = Simulation([payment], latency=4)
    sim.publish(OrderPlaced(order_id="o-1"), key="o-1", correlation_id="order o-1")
    sim.run_until_idle()
    assert seen == {"service": "payment", "message": "m1", "workflow": "order o-1", "key": "o-1",
                    "attempt": 1, "now": 4}


@pytest.mark.parametrize("after", [-1, "10", 2.5])
def test_a_timer_needs_a_whole_number_of_ms_ahead(after):
    def charge_card(event, ctx):
        ctx.schedule(PaymentCompleted(order_id=event.order_id), after=after)

    [letter] = run_one(charge_card, max_attempts=1).dead_letters
    assert "ctx.schedule(after=...) takes whole virtual ms >= 0" in letter.reason
