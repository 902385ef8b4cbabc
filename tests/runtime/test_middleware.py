"""Middleware wraps every handler of a service; the inbox makes a consumer idempotent."""

from __future__ import annotations

import pytest

from choreo_lab import Context, Duplicate, Event, HandlerError, Service, Simulation, inbox


class OrderPlaced(Event):
    order_id: str
    amount: int


class PaymentCompleted(Event):
    order_id: str


def naive_payment(*middleware) -> Service:
    payment = Service("payment", {"charged": []}, middleware=middleware)

    @payment.handles(OrderPlaced)
    def charge_card(event: OrderPlaced, ctx: Context) -> PaymentCompleted:
        ctx.state["charged"].append(event.order_id)
        return PaymentCompleted(order_id=event.order_id)

    return payment


def run(payment: Service, *orders: str, faults=()) -> Simulation:
    sim = Simulation([payment], faults=list(faults))
    for order in orders:
        sim.publish(OrderPlaced(order_id=order, amount=10), correlation_id=order)
    sim.run_until_idle()
    return sim


def test_middleware_wraps_every_handler_the_first_one_outermost():
    calls = []

    def note(label):
        def wrap(handler):
            def wrapped(event, ctx):
                calls.append(f"{label} in")
                result = handler(event, ctx)
                calls.append(f"{label} out")
                return result
            return wrapped
        return wrap

    run(naive_payment(note("outer"), note("inner")), "o-1")
    assert calls == ["outer in", "inner in", "inner out", "outer out"]


def test_without_an_inbox_a_lost_ack_charges_twice():
    sim = run(naive_payment(), "o-1", faults=[Duplicate(times=1)])
    assert sim.state("payment")["charged"] == ["o-1", "o-1"]


def test_an_inbox_handles_a_redelivered_message_once():
    sim = run(naive_payment(inbox()), "o-1", faults=[Duplicate(times=1)])
    assert sim.state("payment")["charged"] == ["o-1"]
    assert len(sim.topics["PaymentCompleted"]) == 1  # the duplicate published nothing either


def test_an_inbox_keyed_by_message_id_lets_the_same_fact_published_twice_through():
    sim = run(naive_payment(inbox()), "o-1", "o-1")
    assert sim.state("payment")["charged"] == ["o-1", "o-1"]


def test_an_inbox_keyed_by_business_key_stops_the_same_fact_published_twice():
    by_order = inbox(key=lambda event, ctx: event.order_id)
    sim = run(naive_payment(by_order), "o-1", "o-1", "o-2")
    assert sim.state("payment")["charged"] == ["o-1", "o-2"]


def test_the_inbox_forgets_a_key_whose_handler_failed():
    attempts = []
    payment = Service("payment", {"charged": []}, middleware=[inbox()])

    @payment.handles(OrderPlaced)
    def charge_card(event, ctx):
        attempts.append(ctx.attempt)
        if ctx.attempt == 1:
            raise ConnectionError("card network down")
        ctx.state["charged"].append(event.order_id)

    sim = run(payment, "o-1")
    assert attempts == [1, 2] and sim.state("payment")["charged"] == ["o-1"]


def test_middleware_must_be_a_list_of_functions():
    with pytest.raises(HandlerError, match="middleware is a list of functions"):
        Service("payment", middleware=inbox())
