"""The order saga: each outcome ends in the right (compensated) state in every service."""

from __future__ import annotations

import pytest

from choreo_lab import Crash, Duplicate, Kill, Restart, Simulation, workflow_status
from choreo_lab.examples.orders import (
    PRICES,
    STOCK,
    order_system,
    place_order,
    place_orders,
    random_orders,
    where_is,
)


def run_one(**order: object) -> tuple:
    sim = order_system(seed=3)
    place_order(sim, "o-1", **order)  # type: ignore[arg-type]
    sim.run_until_idle()
    return sim, sim.state("order")["orders"]["o-1"]


def test_a_normal_order_ends_shipped_paid_once_and_reserved_once():
    sim, record = run_one(customer="ada", item="kettle", quantity=2, address="1 Main St")
    assert record["status"] == "shipped"
    assert sim.state("payment")["ledger"] == {
        "o-1": [{"kind": "charge", "amount": 2 * PRICES["kettle"], "at": 2}]}
    assert [e["kind"] for e in sim.state("inventory")["ledger"]["o-1"]] == ["reserve"]
    assert sim.state("inventory")["stock"]["kettle"] == STOCK["kettle"] - 2
    assert sim.state("shipping")["shipments"]["o-1"]["tracking"] == "trk-o-1"
    assert workflow_status(sim, "o-1") == "completed"


def test_a_declined_card_cancels_the_order_with_nothing_charged_or_reserved():
    sim, record = run_one(customer="mallory", item="lamp")
    assert record["status"] == "cancelled"
    assert record["facts"] == ["declined"]
    assert sim.state("payment")["ledger"] == {}
    assert sim.state("inventory")["ledger"] == {}
    assert sim.state("inventory")["stock"] == STOCK
    assert workflow_status(sim, "o-1") == "compensated"


def test_an_out_of_stock_order_is_refunded_then_cancelled():
    sim, record = run_one(item="unicorn", quantity=1)
    assert record["status"] == "cancelled"
    assert [(e["kind"], e["amount"]) for e in sim.state("payment")["ledger"]["o-1"]] == [
        ("charge", PRICES["unicorn"]), ("refund", PRICES["unicorn"])]
    assert sim.state("inventory")["out_of_stock"] == {"o-1": "unicorn"}
    assert sim.state("inventory")["ledger"] == {}
    assert workflow_status(sim, "o-1") == "compensated"


def test_an_unshippable_order_is_refunded_its_stock_released_then_cancelled():
    sim, record = run_one(item="lamp", quantity=2, address="Atlantis")
    assert record["status"] == "cancelled"
    assert sorted(record["facts"]) == ["paid", "refunded", "released", "reserved",
                                       "shipment_failed"]
    assert [e["kind"] for e in sim.state("payment")["ledger"]["o-1"]] == ["charge", "refund"]
    assert [e["kind"] for e in sim.state("inventory")["ledger"]["o-1"]] == ["reserve", "release"]
    assert sim.state("inventory")["stock"]["lamp"] == STOCK["lamp"]
    assert "o-1" not in sim.state("shipping")["shipments"]
    assert workflow_status(sim, "o-1") == "compensated"


def test_the_fourth_lamp_is_out_of_stock_because_there_are_three():
    sim = order_system(seed=1)
    for n in range(1, 5):
        place_order(sim, f"o-{n}", item="lamp")
        sim.run_until_idle()
    statuses = [sim.state("order")["orders"][f"o-{n}"]["status"] for n in range(1, 5)]
    assert statuses == ["shipped", "shipped", "shipped", "cancelled"]
    assert sim.state("inventory")["stock"]["lamp"] == 0


def test_inventory_stock_plus_what_is_held_equals_what_was_received():
    sim = order_system(seed=5, jitter=3)
    place_orders(sim, random_orders(12, seed=4))
    sim.run_until_idle()
    inventory = sim.state("inventory")
    held: dict[str, int] = {}
    for entry in (e for entries in inventory["ledger"].values() for e in entries):
        held[entry["item"]] = held.get(entry["item"], 0) + (
            entry["quantity"] if entry["kind"] == "reserve" else -entry["quantity"])
    for item, received in inventory["received"].items():
        assert inventory["stock"][item] + held.get(item, 0) == received == STOCK[item]


def test_place_orders_publishes_one_request_per_order_keyed_by_its_id():
    sim = order_system()
    envelopes = place_orders(sim, random_orders(3, seed=2))
    assert [e.correlation_id for e in envelopes] == ["o-1", "o-2", "o-3"]
    assert [e.event_type for e in envelopes] == ["OrderRequested"] * 3


# -- where is my order? -----------------------------------------------------------------------------
def test_where_is_a_finished_order_says_completed_with_its_tracking_and_every_service_agrees():
    sim, _ = run_one(item="book", quantity=2)
    found = where_is(sim, "o-1")
    assert found.status == "completed"
    assert found.verdict == f"completed: shipped (trk-o-1), paid {2 * PRICES['book']}"
    assert found.knows["order"] == "status 'shipped' (learned: paid, reserved, shipped)"
    assert found.knows["payment"] == f"charged {2 * PRICES['book']} at t=2"
    assert found.knows["inventory"] == "reserved 2 x book at t=3"
    assert found.knows["shipping"] == "scheduled trk-o-1"
    assert found.waiting_on == ()
    assert found.last_event.startswith("ShipmentScheduled")


def test_where_is_a_compensated_order_names_the_cause_and_the_refund():
    sim, _ = run_one(item="lamp", address="Atlantis")
    found = where_is(sim, "o-1")
    assert found.status == "compensated"
    assert found.verdict == (f"compensated: cannot ship to Atlantis; charged {PRICES['lamp']}, "
                             f"refunded {PRICES['lamp']} and stock released")
    assert "released 1 x lamp" in found.knows["inventory"]


def test_where_is_an_order_behind_a_dead_service_says_who_is_down_and_how_much_waits():
    sim = order_system(seed=2)
    sim.kill("payment")
    place_orders(sim, random_orders(3, seed=2))
    sim.run_until_idle()
    found = where_is(sim, "o-2")
    backlog = sum(sim.backlog("payment").values())
    assert backlog == 3
    assert found.status == "running"
    placed = found_id(sim, "OrderPlaced", "o-2")
    assert found.waiting_on == (
        f"payment is down with 3 messages in its backlog; OrderPlaced {placed} waits for it",)
    assert found.verdict.startswith("running, waiting: payment is down")
    assert found.knows["payment"] == "nothing yet"
    sim.restart("payment")
    sim.run_until_idle()
    assert where_is(sim, "o-2").status in ("completed", "compensated")


def test_where_is_a_stuck_order_blames_the_lost_event_of_the_dual_write_bug():
    crash = Crash(service="payment", event_type="OrderPlaced", point="after_write_before_publish",
                  times=1)
    sim = order_system(seed=1, outbox=False, faults=[crash])
    place_order(sim, "o-1")
    sim.run_until_idle()
    found = where_is(sim, "o-1")
    assert found.status == "stuck"
    assert found.verdict == ("stuck: payment recorded 'paid' but never published "
                             "PaymentCompleted: its state was written and its event lost "
                             "(the dual-write bug)")
    assert found.knows["order"] == "status 'placed' (learned: nothing yet)"
    assert found.knows["payment"].startswith("charged 12")


def dead_lettered_order() -> Simulation:
    """Order o-1 stuck: inventory crashes on every attempt at PaymentCompleted (3 attempts)."""
    crash = Crash(service="inventory", event_type="PaymentCompleted")
    sim = order_system(seed=1, faults=[crash], max_attempts=3)
    place_order(sim, "o-1")
    sim.run_until_idle()
    return sim


def test_where_is_a_dead_lettered_order_says_which_message_to_redrive():
    sim = dead_lettered_order()
    found = where_is(sim, "o-1")
    letter = sim.dead_letters[0]
    assert found.status == "stuck"
    assert found.verdict == (f"stuck: PaymentCompleted {letter.envelope.message_id} was "
                             "dead-lettered by inventory after 3 attempts (crashed before "
                             "commit); redrive it")
    assert any("gave up on PaymentCompleted" in line for line in found.waiting_on)


def test_where_is_sees_a_duplicate_on_its_way_while_the_run_goes_on():
    sim = order_system(seed=1, faults=[Duplicate(service="shipping")])
    place_order(sim, "o-1")
    sim.run_for(6)
    found = where_is(sim, "o-1")
    assert found.status == "completed"
    reserved = found_id(sim, "InventoryReserved")
    assert found.waiting_on == (
        f"shipping handled InventoryReserved {reserved} but its ack was lost; it will come again",)


def found_id(sim, event_type: str, order_id: str = "o-1") -> str:
    """The id of the order's first message of this type, read from the trace."""
    return next(e.message_id for e in sim.trace.messages.values()
                if e.event_type == event_type and e.correlation_id == order_id)


def test_where_is_reads_as_one_verdict_line_then_one_line_per_service():
    outage = [Kill(service="shipping", at=0), Restart(service="shipping", at=50)]
    sim = order_system(seed=1, faults=outage)
    place_order(sim, "o-1")
    sim.run_for(10)
    text = str(where_is(sim, "o-1")).splitlines()
    assert text[0] == "order o-1: running"
    assert [line.split()[0] for line in text[1:5]] == ["order", "payment", "inventory", "shipping"]
    assert text[5].startswith("  last event: InventoryReserved")
    assert " ".join(line.strip() for line in text[6:]) == (
        "waiting on: shipping is down with 1 message in its backlog; "
        f"InventoryReserved {found_id(sim, 'InventoryReserved')} waits for it")
    assert max(map(len, text)) <= 100


def test_where_is_a_stuck_order_gives_its_reason_first_wrapped_between_words():
    whereabouts = where_is(dead_lettered_order(), "o-1")
    text = str(whereabouts).splitlines()
    assert whereabouts.status == "stuck" and len(whereabouts.verdict) > 100
    assert text[0] == f"order o-1: {whereabouts.verdict}"[:len(text[0])]
    assert text[1].startswith("    ") and all(len(line) <= 100 for line in text)


def test_where_is_an_unknown_order_is_a_clear_error_that_suggests_the_closest():
    sim = order_system()
    place_order(sim, "o-1")
    expected = r"no order 'o-11'.*known orders: o-1\. Did you mean 'o-1'\?"
    with pytest.raises(ValueError, match=expected):
        where_is(sim, "o-11")
