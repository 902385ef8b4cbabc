"""Events: frozen, deeply immutable, validated payloads, known by their type name."""

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


class PriceChanged(Event, topic="prices"):
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
    with pytest.raises(InvalidEvent, match="(?s)immutable.*model_copy") as error:
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
    nested: tuple[frozenset[str], ...] = ()


def test_an_event_prints_its_sets_sorted_at_every_depth():
    event = Tagged(tags=frozenset({"urgent", "gift", "fragile"}),
                   nested=(frozenset({"b", "a"}),))
    assert str(event) == ("Tagged(tags=frozenset({'fragile', 'gift', 'urgent'}), "
                          "nested=(frozenset({'a', 'b'}),))")


def test_an_event_prints_the_same_in_every_process_whatever_the_hash_seed():
    script = textwrap.dedent("""
        from choreo_lab import Event
        class Tagged(Event):
            tags: frozenset[str]
            nested: tuple[frozenset[str], ...]
        print(Tagged(tags=frozenset({"urgent", "gift", "fragile", "heavy", "late"}),
                     nested=(frozenset({"x", "y", "z", "w"}),)))
    """)
    printed = {subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                              check=True, env={"PYTHONHASHSEED": str(seed)}).stdout
               for seed in range(1, 7)}
    assert printed == {"Tagged(tags=frozenset({'fragile', 'gift', 'heavy', 'late', 'urgent'}), "
                       "nested=(frozenset({'w', 'x', 'y', 'z'}),))\n"}


@pytest.mark.parametrize("annotation, instead", [
    ("list[str]", "tuple"), ("dict[str, int]", "tuple of pairs"), ("set[int]", "frozenset"),
    ("tuple[list[str], ...]", "tuple"), ("Optional[list[int]]", "tuple"),
    ("Sequence[str]", "tuple"), ("Mapping[str, int]", "tuple of pairs"),
])
def test_a_mutable_field_type_is_refused_at_class_definition(annotation, instead):
    namespace: dict = {}
    source = textwrap.dedent(f"""
        from typing import Optional
        from collections.abc import Sequence, Mapping
        from choreo_lab import Event
        class Basket(Event):
            items: {annotation}
    """)
    with pytest.raises(InvalidEvent, match=f"Basket.items .*immutable.*{instead}"):
        exec(compile(source, "<notebook cell>", "exec", dont_inherit=True), namespace)


class Anything(Event):
    payload: object


@pytest.mark.parametrize("value, instead", [
    (["a"], "tuple"), ({"a": 1}, "tuple of pairs"), ((1, [2]), "tuple"),
    (object(), "plain values"),
])
def test_a_mutable_or_opaque_value_in_an_open_field_is_refused_when_the_event_is_made(value, instead):
    with pytest.raises(InvalidEvent, match=f"field 'payload' holds .*{instead}") as caught:
        Anything(payload=value)
    assert "0x" not in str(caught.value)  # no memory address: messages end up in traces


def test_plain_values_in_an_open_field_are_accepted():
    assert Anything(payload=("a", 1, frozenset({2.5}), None)).payload[1] == 1


def test_no_handler_can_change_an_event_another_consumer_sees():
    event = Tagged(tags=frozenset({"a"}), nested=(frozenset({"b"}),))
    with pytest.raises(AttributeError):
        event.tags.add("c")  # type: ignore[attr-defined]
    assert event.tags == frozenset({"a"})


@pytest.mark.parametrize("name", ["topic", "event_type", "schema_version"])
def test_a_field_named_like_a_message_attribute_is_refused_at_class_definition(name):
    with pytest.raises(InvalidEvent, match=f"field named {name!r}.*Rename the field"):
        type(Event)("Parcel", (Event,), {"__annotations__": {name: str}, "__module__": __name__})


class PaymentDeclined(Event, role="failure"):
    order_id: str


class OrderCancelled(Event, outcome="compensated"):
    order_id: str


def test_events_declare_their_role_and_outcome_and_default_to_a_plain_step():
    assert (PaymentDeclined.event_role, PaymentDeclined.event_outcome) == ("failure", None)
    assert (OrderCancelled.event_role, OrderCancelled.event_outcome) == ("step", "compensated")
    assert (OrderPlaced.event_role, OrderPlaced.event_outcome) == ("step", None)


def test_an_unknown_role_or_outcome_is_refused_naming_the_choices():
    with pytest.raises(InvalidEvent, match="role='fail'.*failure"):
        type(Event)("Oops", (Event,), {"__module__": __name__}, role="fail")
    with pytest.raises(InvalidEvent, match="outcome='done'.*completed, compensated"):
        type(Event)("Oops", (Event,), {"__module__": __name__}, outcome="done")


class ContentUploaded(Event):
    content_id: str
    title: str


class ContentUploadedV2(Event, name="ContentUploaded", schema_version=2):
    content_id: str
    title: str
    language: str = "en"


class ContentUploadedV3(Event, name="ContentUploaded", schema_version=3):
    content_id: str
    headline: str  # renamed: a breaking change for readers of v1


def test_a_second_schema_version_is_the_same_event_type_on_the_same_topic():
    assert ContentUploadedV2.event_type == ContentUploaded.event_type == "ContentUploaded"
    assert ContentUploadedV2.topic == "ContentUploaded"
    assert str(ContentUploadedV2(content_id="c1", title="Cats")) == (
        "ContentUploaded v2(content_id='c1', title='Cats', language='en')")


def test_a_reader_of_an_older_version_ignores_fields_it_does_not_know():
    newer = ContentUploadedV2(content_id="c1", title="Cats", language="fr")
    assert ContentUploaded.read(newer) == ContentUploaded(content_id="c1", title="Cats")


def test_a_reader_fills_defaults_for_fields_an_older_writer_did_not_send():
    older = ContentUploaded(content_id="c1", title="Cats")
    assert ContentUploadedV2.read(older).language == "en"


def test_a_breaking_change_is_named_when_a_reader_cannot_read_a_message():
    with pytest.raises(InvalidEvent, match="(?s)reader of ContentUploaded got ContentUploaded v3.*"
                                           "breaking.*field 'title'"):
        ContentUploaded.read(ContentUploadedV3(content_id="c1", headline="Cats"))


def test_check_event_returns_a_valid_event_unchanged():
    event = OrderPlaced(order_id="o-1", amount=3)
    assert check_event(event, "publish()") is event


@pytest.mark.parametrize("thing, expected", [
    ({"order_id": "o-1"}, "expected an Event, got dict"),
    ("OrderPlaced", "expected an Event, got str"),
    (OrderPlaced, "got the class OrderPlaced, not an event; create one first"),
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
