"""A service's state: plain data, checked where it is made and where a handler commits it."""

from __future__ import annotations

import threading

import pytest

from choreo_lab import Context, Event, InvalidState, Service, Simulation
from choreo_lab.state import check_state


class OrderPlaced(Event):
    order_id: str


@pytest.mark.parametrize("state, expected", [
    (["o-1"], "its state must be a dict.*got list"),
    ("ledger", "its state must be a dict.*got str"),
    ({"lock": threading.Lock()}, r"state\['lock'\] is lock.*plain data"),
    ({"orders": {"o-1": {"when": object()}}}, r"state\['orders'\]\['o-1'\]\['when'\] is object"),
])
def test_state_a_service_cannot_keep_is_refused_where_the_service_is_made(state, expected):
    with pytest.raises(InvalidState, match=f"service 'payment': {expected}") as caught:
        Service("payment", state)
    assert "0x" not in str(caught.value)


def test_a_self_referencing_state_is_refused_naming_where():
    looped: dict = {"orders": {}}
    looped["orders"]["all"] = looped
    with pytest.raises(InvalidState, match=r"state\['orders'\]\['all'\] is the same dict as state"):
        Service("payment", looped)


def test_one_object_in_two_places_is_refused_because_it_would_silently_split():
    shared = {"total": 0}
    with pytest.raises(InvalidState, match=r"state\['b'\] is the same dict as state\['a'\].*"
                                           "by value"):
        Service("payment", {"a": shared, "b": shared})


def payment_that_stores(value_for) -> Service:
    payment = Service("payment", {"charges": {}})

    @payment.handles(OrderPlaced)
    def charge_card(event: OrderPlaced, ctx: Context) -> None:
        ctx.state["charges"][event.order_id] = value_for(ctx)

    return payment


@pytest.mark.parametrize("value_for, expected", [
    (lambda ctx: threading.Lock(), r"state\['charges'\]\['o-1'\] is lock"),
    (lambda ctx: ctx.state, r"state\['charges'\]\['o-1'\] is the same dict as state"),
    (lambda ctx: ctx.state["charges"], r"is the same dict as state\['charges'\]"),
])
def test_a_handler_that_puts_bad_state_is_the_one_blamed_and_nothing_is_committed(value_for,
                                                                                  expected):
    sim = Simulation([payment_that_stores(value_for)], max_attempts=2)
    sim.publish(OrderPlaced(order_id="o-1"))
    sim.run_until_idle()
    [letter] = sim.dead_letters
    assert letter.reason.startswith("InvalidState: service 'payment': ")
    assert sim.state("payment") == {"charges": {}}
    assert sim.open_messages() == 0 and sim.stats()["payment"]["in_flight"] == 0


def test_a_correct_handler_after_a_refused_one_works_as_usual():
    calls = iter([threading.Lock(), 12, 30])
    sim = Simulation([payment_that_stores(lambda ctx: next(calls))], max_attempts=1)
    for order in ("o-1", "o-2", "o-3"):
        sim.publish(OrderPlaced(order_id=order))
    sim.run_until_idle()
    assert sim.state("payment")["charges"] == {"o-2": 12, "o-3": 30}
    assert [letter.envelope.event.order_id for letter in sim.dead_letters] == ["o-1"]


def test_one_tuple_in_two_places_is_a_value_not_a_shared_object():
    from choreo_lab.state import WorkingDict, commit_changes, state_changes

    committed = {"orders": {}}
    working = WorkingDict(committed)
    for order_id in ("o-1", "o-2"):
        working["orders"][order_id] = ("pending", 0)  # one constant tuple object, twice
    working["empty"], working["none"] = (), ()
    commit_changes(committed, state_changes(working, "svc"))
    assert check_state(committed, "svc")["orders"] == {"o-1": ("pending", 0), "o-2": ("pending", 0)}


def test_a_subclass_of_text_is_not_plain_data():
    class Tag(str):
        pass

    tag = Tag("x")
    tag.box = []  # it can carry what a plain str cannot
    with pytest.raises(InvalidState, match=r"state\['tag'\] is Tag 'x', which a service cannot keep"):
        check_state({"tag": tag}, "svc")
