"""Services: handler registration, what handlers may return, and state copy/commit."""

from __future__ import annotations

import pytest

from choreo_lab import Context, Event, HandlerError, HandlerReturnError, Service, Simulation
from choreo_lab.service import Handling, produced_events
from choreo_lab.state import copy_state


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
    assert payment.handlers == {
        "OrderPlaced": Handling(OrderPlaced, charge_card, (PaymentCompleted, PaymentDeclined))}
    assert payment.topics == ("OrderPlaced",)
    assert charge_card(OrderPlaced(order_id="o-1"), None) == PaymentCompleted(order_id="o-1")


def test_a_service_has_one_handler_per_event_type_and_says_what_to_do():
    payment = Service("payment")

    @payment.handles(OrderPlaced)
    def charge_card(event, ctx):
        return None

    with pytest.raises(HandlerError, match="already handles OrderPlaced with charge_card\\(\\); "
                                           "one handler per event type. Handle both cases"):
        @payment.handles(OrderPlaced)
        def charge_twice(event, ctx):
            return None


def test_running_a_notebook_cell_again_replaces_the_handler_cleanly():
    payment = Service("payment", {"charged": []})
    for amount in (1, 2):  # the same cell, run twice: a new class and a new function each time
        class PaymentTaken(Event):
            order_id: str

        @payment.handles(PaymentTaken)
        def take_payment(event, ctx, amount=amount):
            ctx.state["charged"].append(amount)

    assert payment.topics == ("PaymentTaken",)
    sim = Simulation([payment])
    sim.publish(PaymentTaken(order_id="o-1"))
    sim.run_until_idle()
    assert sim.state("payment")["charged"] == [2]  # delivered once, to the newest handler


@pytest.mark.parametrize("not_an_event_type", [OrderPlaced(order_id="o-1"), dict, "OrderPlaced",
                                               Event])
def test_handles_takes_only_event_classes(not_an_event_type):
    with pytest.raises(TypeError, match="takes a subclass of Event or Command, such as OrderPlaced"):
        Service("payment").handles(not_an_event_type)


def test_an_async_handler_is_refused_at_registration_saying_drop_async():
    with pytest.raises(HandlerError, match="charge_card\\(\\) is `async def`.*Drop `async`"):
        @Service("payment").handles(OrderPlaced)
        async def charge_card(event, ctx):
            return None


@pytest.mark.parametrize("handler, expected", [
    (lambda event: None, "cannot be called as \\(event, ctx\\)"),
    (lambda: None, "cannot be called as \\(event, ctx\\)"),
    ("charge_card", "expected a function \\(event, ctx\\) -> events, got str"),
    (PaymentCompleted(order_id="o-1"), "expected a function"),
])
def test_a_handler_that_cannot_take_event_and_context_is_refused_at_registration(handler, expected):
    with pytest.raises(HandlerError, match=expected):
        Service("payment").handles(OrderPlaced)(handler)


def test_a_service_definition_has_defaults():
    service = Service("payment")
    assert (service.name, service.initial_state, service.instances, service.processing_time) == (
        "payment", {}, 1, 0)
    assert service.topics == () and "nothing yet" in repr(service)


@pytest.mark.parametrize("name", ["", None])
def test_a_service_needs_a_name(name):
    with pytest.raises(ValueError, match="non-empty name"):
        Service(name)


@pytest.mark.parametrize("instances", [0, "2", 1.5])
def test_a_service_needs_a_whole_number_of_instances(instances):
    with pytest.raises(ValueError, match=f"'payment': instances must be a whole number, at least "
                                         f"1; got {instances!r}"):
        Service("payment", instances=instances)


# -- what a handler may return --------------------------------------------------------------
def charge_card(event, ctx):
    return None


def test_a_handler_may_return_nothing_one_event_or_any_iterable_of_events():
    paid, declined = PaymentCompleted(order_id="o-1"), PaymentDeclined(order_id="o-2")
    assert produced_events("charge_card", "payment", None) == []
    assert produced_events("charge_card", "payment", []) == []
    assert produced_events("charge_card", "payment", paid) == [paid]
    assert produced_events("charge_card", "payment", [paid, declined]) == [paid, declined]
    assert produced_events("charge_card", "payment", (paid, declined)) == [paid, declined]
    assert produced_events("charge_card", "payment", iter([paid])) == [paid]


def test_a_generator_handler_publishes_what_it_yields():
    payment = Service("payment", {"charged": []})

    @payment.handles(OrderPlaced)
    def charge_card(event, ctx):
        ctx.state["charged"].append(event.order_id)
        yield PaymentCompleted(order_id=event.order_id)

    sim = Simulation([payment])
    sim.publish(OrderPlaced(order_id="o-1"))
    sim.run_until_idle()
    assert [e.event for e in sim.topics["PaymentCompleted"]] == [PaymentCompleted(order_id="o-1")]
    assert sim.state("payment")["charged"] == ["o-1"]


@pytest.mark.parametrize("returned, shown", [
    ({"order_id": "o-1"}, "dict {'order_id': 'o-1'}; a handler returns an event"),
    ([PaymentCompleted(order_id="o-1"), "PaymentDeclined"],
     "2 items, and item 2 is str 'PaymentDeclined'; a handler returns an event"),
    ([PaymentCompleted(order_id="o-1"), None], "2 items, and item 2 is None; leave it out"),
    (PaymentCompleted, "the class PaymentCompleted, not an event; create one, e.g. return "
                       "PaymentCompleted(...)"),
    ([PaymentCompleted], "1 items, and item 1 is the class PaymentCompleted"),
    (Event(), "the base class Event itself"),
    ({PaymentCompleted(order_id="o-1")}, "a set; a set has no order"),
    (True, "bool True; a handler returns an event"),
])
def test_a_handler_returning_something_else_is_told_what_it_returned(returned, shown):
    with pytest.raises(HandlerReturnError) as caught:
        produced_events("charge_card", "payment", returned)
    assert str(caught.value).startswith(f"handler payment.charge_card() returned {shown}")


def test_a_handler_return_error_shows_no_memory_address():
    with pytest.raises(HandlerReturnError) as caught:
        produced_events("charge_card", "payment", object())
    assert "0x" not in str(caught.value) and "returned object <object object>" in str(caught.value)


def test_a_long_wrong_return_value_is_shortened():
    with pytest.raises(HandlerReturnError) as caught:
        produced_events("charge_card", "payment", "x" * 500)
    assert "…" in str(caught.value) and len(str(caught.value)) < 250


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
    original = {"d": {"n": [1, 2]}, "l": [{"n": [3]}], "t": ({"n": [4]}, "x"), "s": {1, 2},
                "f": frozenset({3}), "text": "abc", "none": None}
    copied = copy_state(original)
    assert copied == original
    assert copied["d"] is not original["d"] and copied["d"]["n"] is not original["d"]["n"]
    assert copied["l"][0] is not original["l"][0] and copied["t"][0] is not original["t"][0]
    assert copied["s"] is not original["s"]
    assert copied["f"] is original["f"] and copied["text"] is original["text"]
