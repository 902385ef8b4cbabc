"""The broker's data: a consumer group hands out one message per key at a time; Features."""

from __future__ import annotations

from dataclasses import fields

from choreo_lab import DeadLetter, Event, Features, Simulation
from choreo_lab.broker import ConsumerGroup
from choreo_lab.envelope import Delivery, Envelope


class SeatBooked(Event):
    seat: str


class SeatReleased(Event):
    seat: str


def delivery(message_id: str, key: str, event: Event | None = None) -> Delivery:
    event = event or SeatBooked(seat=message_id)
    return Delivery(Envelope(message_id, event, key, "c1", None, "outside", 0, 0), "booking")


def group_with(*deliveries: Delivery) -> ConsumerGroup:
    group = ConsumerGroup("booking", ("SeatBooked", "SeatReleased"),
                          frozenset({"SeatBooked", "SeatReleased"}))
    group.backlog.extend(deliveries)
    return group


def test_take_hands_out_the_oldest_waiting_message_and_holds_its_key():
    first, second = delivery("m1", "row-a"), delivery("m2", "row-b")
    group = group_with(first, second)
    assert group.take() is first
    assert group.holders == {"row-a": "m1"}
    assert list(group.backlog) == [second]


def test_take_skips_messages_whose_key_is_in_flight():
    a1, a2, b1 = delivery("m1", "row-a"), delivery("m2", "row-a"), delivery("m3", "row-b")
    group = group_with(a1, a2, b1)
    assert group.take() is a1
    assert group.take() is b1
    assert group.take() is None  # m2 waits for m1
    assert list(group.backlog) == [a2]
    assert group.in_flight == 2


def test_release_frees_the_key_for_the_next_message():
    a1, a2 = delivery("m1", "row-a"), delivery("m2", "row-a")
    group = group_with(a1, a2)
    group.take()
    group.release(a1)
    assert group.holders == {}
    assert group.take() is a2


def test_a_message_back_from_a_retry_is_taken_before_later_messages_of_its_key():
    a1, a2, a3 = delivery("m1", "row-a"), delivery("m2", "row-a"), delivery("m3", "row-a")
    group = group_with(a1, a2, a3)
    group.take()
    group.backlog.append(a1)  # m1 failed and arrives again, behind m2 and m3
    assert group.take() is a1
    group.release(a1)
    assert group.take() is a2


def test_release_by_a_message_that_does_not_hold_the_key_changes_nothing():
    a1, a2 = delivery("m1", "row-a"), delivery("m2", "row-a")
    group = group_with(a1, a2)
    group.take()
    group.release(a2)
    assert group.holders == {"row-a": "m1"}
    assert group.take() is None


def test_backlog_by_topic_counts_every_subscribed_topic_even_empty_ones():
    group = group_with(delivery("m1", "a"), delivery("m2", "b"),
                       delivery("m3", "c", SeatReleased(seat="3C")))
    assert group.backlog_by_topic() == {"SeatBooked": 2, "SeatReleased": 1}
    assert group_with().backlog_by_topic() == {"SeatBooked": 0, "SeatReleased": 0}


def test_features_list_what_they_promise_in_declaration_order():
    names = [f.name for f in fields(Features)]
    some = Features(**{name: name in ("replay", "consumer_groups") for name in names})
    assert some.promised() == ["consumer_groups", "replay"]


def test_the_in_memory_broker_promises_every_feature():
    assert Simulation.features.promised() == [f.name for f in fields(Features)]


def test_a_dead_letter_says_what_where_why_and_when():
    envelope = delivery("m4", "row-a").envelope
    letter = DeadLetter(envelope, "booking", "ValueError: seat taken", 5, 71)
    assert str(letter) == ("m4 SeatBooked(seat='m4') -> booking after 5 attempts at t=71: "
                           "ValueError: seat taken")
