"""Events: frozen, validated payloads whose topic is their class name."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from choreo_lab import Event, InvalidEvent
from choreo_lab.events import check_event


class OrderPlaced(Event):
    order_id: str
    amount: int


class ExpressOrderPlaced(OrderPlaced):
    courier: str


class PriceChanged(Event):
    topic = "prices"
    item: str
    price: int


def test_the_topic_of_an_event_is_its_class_name():
    assert OrderPlaced.topic == "OrderPlaced"
    assert OrderPlaced(order_id="o-1", amount=3).topic == "OrderPlaced"


def test_a_subclass_of_an_event_gets_a_topic_of_its_own():
    assert ExpressOrderPlaced.topic == "ExpressOrderPlaced"


def test_an_event_may_name_its_topic():
    assert PriceChanged(item="lamp", price=30).topic == "prices"


def test_events_are_immutable_and_the_error_says_what_to_do_instead():
    event = OrderPlaced(order_id="o-1", amount=3)
    with pytest.raises(InvalidEvent, match="immutable.*model_copy") as error:
        event.amount = 4  # type: ignore[misc]
    assert "errors.pydantic.dev" not in str(error.value)
    assert event.amount == 3


def test_copies_and_unchecked_constructors_are_validated_too():
    event = OrderPlaced(order_id="o-1", amount=3)
    assert event.model_copy(update={"amount": 5}).amount == 5
    with pytest.raises(InvalidEvent, match="amount"):
        event.model_copy(update={"amount": "lots"})
    with pytest.raises(InvalidEvent, match="order_id"):
        OrderPlaced.model_construct(amount=3)


def test_equal_payloads_make_equal_events():
    assert OrderPlaced(order_id="o-1", amount=3) == OrderPlaced(order_id="o-1", amount=3)
    assert OrderPlaced(order_id="o-1", amount=3) != OrderPlaced(order_id="o-1", amount=4)


def test_a_mistyped_field_is_refused_naming_the_field_and_the_value():
    with pytest.raises(InvalidEvent) as caught:
        OrderPlaced(order_id="o-1", amount="a lot")
    message = str(caught.value)
    assert "OrderPlaced is not a valid event" in message
    assert "field 'amount'" in message and "'a lot'" in message
    assert "order_id" not in message  # only the bad field is named


def test_a_missing_field_is_refused_naming_the_field():
    with pytest.raises(InvalidEvent, match="field 'amount'.*[Ff]ield required"):
        OrderPlaced(order_id="o-1")


def test_an_extra_field_is_refused_naming_the_field():
    with pytest.raises(InvalidEvent, match="field 'colour'"):
        OrderPlaced(order_id="o-1", amount=3, colour="red")


def test_an_invalid_event_error_has_no_pydantic_url_and_is_a_value_error():
    with pytest.raises(InvalidEvent) as caught:
        OrderPlaced(order_id=None, amount=3)
    assert "http" not in str(caught.value) and "pydantic.dev" not in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_an_event_prints_as_its_class_and_fields():
    assert str(OrderPlaced(order_id="o-1", amount=3)) == "OrderPlaced(order_id='o-1', amount=3)"


class Tagged(Event):
    tags: frozenset[str]
    ids: set[int]


def test_an_event_prints_its_sets_sorted():
    event = Tagged(tags=frozenset({"urgent", "gift", "fragile"}), ids={10, 9, 100})
    assert str(event) == "Tagged(tags=frozenset({'fragile', 'gift', 'urgent'}), ids={9, 10, 100})"


def test_an_event_prints_the_same_in_every_process_whatever_the_hash_seed():
    script = textwrap.dedent("""
        from choreo_lab import Event
        class Tagged(Event):
            tags: frozenset[str]
        print(Tagged(tags=frozenset({"urgent", "gift", "fragile", "heavy", "late"})))
    """)
    printed = {subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                              check=True, env={"PYTHONHASHSEED": str(seed)}).stdout
               for seed in (1, 2)}
    assert printed == {"Tagged(tags=frozenset({'fragile', 'gift', 'heavy', 'late', 'urgent'}))\n"}


def test_check_event_returns_a_valid_event_unchanged():
    event = OrderPlaced(order_id="o-1", amount=3)
    assert check_event(event, "publish()") is event


@pytest.mark.parametrize("thing, expected", [
    ({"order_id": "o-1"}, "expected an Event, got dict"),
    ("OrderPlaced", "expected an Event, got str"),
    (OrderPlaced, "got the class OrderPlaced, not an event; create one first"),
    (Event(), "the base class Event has no meaning"),
    (Event, "the base class Event has no meaning"),
])
def test_check_event_explains_what_it_got_instead_of_an_event(thing, expected):
    with pytest.raises(InvalidEvent, match="^publish\\(\\): ") as caught:
        check_event(thing, "publish()")
    assert expected in str(caught.value)


def test_check_event_shows_no_memory_address_of_what_it_got():
    with pytest.raises(InvalidEvent) as caught:
        check_event(object(), "publish()")
    assert "0x" not in str(caught.value)
