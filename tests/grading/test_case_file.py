"""An order's case file (exercise 7): plain data about one order that crosses the sandbox's pipe."""

from __future__ import annotations

import pytest

from choreo_lab import vocabulary as words
from choreo_lab.examples.orders import order_system, place_order
from choreo_lab.grading.ex07_stuck_order import PUBLIC_DEAD
from choreo_lab.grading.kit import case_file
from choreo_lab.grading.sandbox.protocol import decode_value, encode_value


def test_a_case_file_is_plain_data_that_survives_the_pipe() -> None:
    sim = PUBLIC_DEAD[0].run(1)
    case = case_file(sim, "o-2")
    assert decode_value(encode_value(case)) == case


def test_a_case_file_holds_only_its_own_orders_dead_letters() -> None:
    sim = PUBLIC_DEAD[0].run(1)
    stuck, shipped = case_file(sim, "o-2"), case_file(sim, "o-1")
    assert [letter["group"] for letter in stuck["dead_letters"]] == ["shipping"]
    assert shipped["dead_letters"] == [] and shipped["status"] == words.COMPLETED
    assert {m["message_id"] for m in stuck["messages"]} >= {r["message_id"] for r in stuck["trace"]
                                                             if r["message_id"]}


def test_a_case_file_shows_a_killed_service_and_its_backlog() -> None:
    sim = order_system(1)
    sim.kill("payment")
    place_order(sim, "o-1")
    sim.run_until_idle()
    payment = case_file(sim, "o-1")["services"]["payment"]
    assert payment["status"] == words.DOWN and payment["backlog"] == 1
    assert "OrderPlaced" in payment["handles"]


def test_an_unknown_order_is_refused_naming_the_known_ones() -> None:
    sim = order_system(1)
    place_order(sim, "o-1")
    sim.run_until_idle()
    with pytest.raises(ValueError, match="no order 'o-9'.*o-1"):
        case_file(sim, "o-9")
