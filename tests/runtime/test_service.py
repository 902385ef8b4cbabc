"""Services: handler registration, what handlers may return, and state copy/commit."""

from __future__ import annotations

import pytest

from choreo_lab import Context, Event, HandlerReturnError, Service, Simulation
from choreo_lab.service import copy_state, produced_events


class OrderPlaced(Event):
    order_id: str


class PaymentCompleted(Event):
    order_id: str


class PaymentDeclined(Event):
    order_id: str


# -- registration ---------------------------------------------------------------------------
def test_handles_registers_the_function_and_returns_it_unchanged():
    payment = Service("payment")

    def charge_card(event: OrderPlaced, ctx: Context) -> PaymentCompleted:
        return PaymentCompleted(order_id=event.order_id)

    registered = payment.handles(OrderPlaced, publishes=(PaymentCompleted, PaymentDeclined))(
        charge_card)
    assert registered is charge_card
    assert payment.handlers == {OrderPlaced: charge_card}
    assert payment.publishes == {OrderPlaced: (PaymentCompleted, PaymentDeclined)}
    assert payment.topics == ["OrderPlaced"]
    assert charge_card(OrderPlaced(order_id="o-1"), None) == PaymentCompleted(order_id="o-1")


def test_a_service_has_one_handler_per_event_type():
    payment = Service("payment")
    payment.handles(OrderPlaced)(lambda event, ctx: None)
    with pytest.raises(ValueError, match="already handles OrderPlaced"):
        payment.handles(OrderPlaced)(lambda event, ctx: None)


@pytest.mark.parametrize("not_an_event_type", [OrderPlaced(order_id="o-1"), dict, "OrderPlaced"])
def test_handles_takes_only_event_classes(not_an_event_type):
    with pytest.raises(TypeError, match="takes an Event subclass"):
        Service("payment").handles(not_an_event_type)


def test_a_service_definition_has_defaults():
    service = Service("payment")
    assert (service.name, service.initial_state, service.instances, service.processing_time) == (
        "payment", {}, 1, 0)
    assert service.topics == [] and "nothing yet" in repr(service)


@pytest.mark.parametrize("name", ["", None])
def test_a_service_needs_a_name(name):
    with pytest.raises(ValueError, match="non-empty name"):
        Service(name)


def test_a_service_needs_at_least_one_instance():
    with pytest.raises(ValueError, match="'payment': instances must be at least 1, got 0"):
        Service("payment", instances=0)


# -- what a handler may return --------------------------------------------------------------
def charge_card(event, ctx):
    return None


def test_a_handler_may_return_nothing_one_event_or_a_list_or_tuple_of_events():
    paid, declined = PaymentCompleted(order_id="o-1"), PaymentDeclined(order_id="o-2")
    assert produced_events(charge_card, "payment", None) == []
    assert produced_events(charge_card, "payment", []) == []
    assert produced_events(charge_card, "payment", paid) == [paid]
    assert produced_events(charge_card, "payment", [paid, declined]) == [paid, declined]
    assert produced_events(charge_card, "payment", (paid, declined)) == [paid, declined]


@pytest.mark.parametrize("returned, shown", [
    ({"order_id": "o-1"}, "dict {'order_id': 'o-1'}"),
    ([PaymentCompleted(order_id="o-1"), "PaymentDeclined"], "str 'PaymentDeclined'"),
    (PaymentCompleted, "ModelMetaclass"),
    (Event(), "Event Event()"),
    ([Event()], "Event Event()"),
    (True, "bool True"),
])
def test_a_handler_returning_something_else_is_told_what_it_returned(returned, shown):
    with pytest.raises(HandlerReturnError) as caught:
        produced_events(charge_card, "payment", returned)
    message = str(caught.value)
    assert message.startswith(f"handler payment.charge_card() returned {shown}")
    assert "a list of events, or None" in message


def test_a_handler_return_error_shows_no_memory_address():
    def generator_handler(event, ctx):
        yield PaymentCompleted(order_id="o-1")

    with pytest.raises(HandlerReturnError) as caught:
        produced_events(generator_handler, "payment", generator_handler(None, None))
    assert "0x" not in str(caught.value)
    assert "returned generator <generator object" in str(caught.value)


def test_a_long_wrong_return_value_is_shortened():
    with pytest.raises(HandlerReturnError) as caught:
        produced_events(charge_card, "payment", "x" * 500)
    assert "..." in str(caught.value) and len(str(caught.value)) < 250


# -- state: a working copy, committed only when the handler succeeds ------------------------
def counter(handler_body) -> Service:
    service = Service("ledger", {"entries": [], "totals": {"charged": 0}, "pair": ([1], 2)})
    service.handles(OrderPlaced)(handler_body)
    return service


def test_a_handler_that_returns_normally_commits_its_changes():
    def charge(event, ctx):
        ctx.state["entries"].append(event.order_id)
        ctx.state["totals"]["charged"] += 1
        ctx.state["pair"][0].append(2)

    sim = Simulation([counter(charge)])
    sim.publish(OrderPlaced(order_id="o-1"))
    sim.run_until_idle()
    assert sim.state("ledger") == {"entries": ["o-1"], "totals": {"charged": 1},
                                   "pair": ([1, 2], 2)}


def test_a_handler_that_raises_changes_nothing_not_even_deep_inside_the_state():
    def charge_then_fail(event, ctx):
        ctx.state["entries"].append(event.order_id)
        ctx.state["totals"]["charged"] += 1
        ctx.state["pair"][0].append(99)  # a list inside a tuple
        ctx.state["new"] = True
        raise RuntimeError("card reader on fire")

    sim = Simulation([counter(charge_then_fail)], max_attempts=2)
    sim.publish(OrderPlaced(order_id="o-1"))
    sim.run_until_idle()
    assert sim.state("ledger") == {"entries": [], "totals": {"charged": 0}, "pair": ([1], 2)}
    assert len(sim.dead_letters) == 1


def test_the_committed_state_is_the_same_dict_all_run_long():
    def charge(event, ctx):
        ctx.state["entries"].append(event.order_id)

    sim = Simulation([counter(charge)])
    state = sim.state("ledger")
    for n in range(3):
        sim.publish(OrderPlaced(order_id=f"o-{n}"))
    sim.run_until_idle()
    assert sim.state("ledger") is state
    assert state["entries"] == ["o-0", "o-1", "o-2"]


def test_the_handler_works_on_a_deep_copy_of_the_committed_state():
    seen = {}

    def look(event, ctx):
        committed = sim.state("ledger")
        seen["one copy per call"] = ctx.state is ctx.state
        seen["a copy"] = ctx.state == committed and ctx.state is not committed
        seen["a deep copy"] = ctx.state["totals"] is not committed["totals"]

    sim = Simulation([counter(look)])
    sim.publish(OrderPlaced(order_id="o-1"))
    sim.run_until_idle()
    assert seen == {"one copy per call": True, "a copy": True, "a deep copy": True}


def test_each_simulation_starts_from_a_fresh_copy_of_the_initial_state():
    def charge(event, ctx):
        ctx.state["entries"].append(event.order_id)

    service = counter(charge)
    first, second = Simulation([service]), Simulation([service])
    first.publish(OrderPlaced(order_id="o-1"))
    first.run_until_idle()
    assert first.state("ledger")["entries"] == ["o-1"]
    assert second.state("ledger")["entries"] == []
    assert service.initial_state["entries"] == []


def test_copy_state_copies_containers_deeply_and_keeps_immutable_values():
    inner = {"n": [1, 2]}
    original = {"d": inner, "l": [inner], "t": (inner, "x"), "s": {1, 2}, "f": frozenset({3}),
                "text": "abc", "none": None}
    copied = copy_state(original)
    assert copied == original
    assert copied["d"] is not inner and copied["l"][0] is not inner and copied["t"][0] is not inner
    assert copied["s"] is not original["s"]
    assert copied["f"] is original["f"] and copied["text"] is original["text"]
