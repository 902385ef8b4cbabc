"""Hidden checks of exercise 7 (the stuck order): other shops, orders, services, same lessons."""

from __future__ import annotations

from choreo_lab import vocabulary as words
from choreo_lab.examples.orders import InventoryReserved, OrderPlaced, order_services
from choreo_lab.grading.ex07_stuck_order import (
    CHAOS_ORDERS,
    StuckShop,
    charge,
    expect_diagnoses,
    expect_refused,
    expect_shipped,
    explore_inventory,
    inventory_run,
    killing_once_published,
    nothing,
    raising,
    scenario_paused,
    ship,
    silent,
    without,
)
from choreo_lab.grading.learner import Learner
from choreo_lab.grading.scenarios import order
from choreo_lab.grading.tasks import Check

HIDDEN_SHOPS = (
    StuckShop("payment was killed once inventory had said OutOfStock for o-12's unicorn",
              order_services, nothing,
              (order("o-11", item="kettle"), order("o-12", item="unicorn")),
              {"o-11": (None, words.COMPLETED), "o-12": ("payment", words.DOWN)},
              during=killing_once_published("payment", "OutOfStock")),
    scenario_paused("inventory", "o-21", "o-22"),
    StuckShop("payment raises for grace's card", lambda: order_services(payment=raising(
        "payment", OrderPlaced, lambda e: e.customer == "grace", "card reader offline", charge)),
        nothing, (order("o-31", customer="alan"), order("o-32", customer="grace")),
        {"o-31": (None, words.COMPLETED), "o-32": ("payment", words.DEAD_LETTER)}),
    StuckShop("shipping acks orders for 22 Acacia Ave and answers nothing",
              lambda: order_services(shipping=silent(
                  "shipping", InventoryReserved, lambda e: e.address == "22 Acacia Ave", ship)),
              nothing, (order("o-41", customer="mallory"), order("o-42", address="22 Acacia Ave")),
              {"o-41": (None, words.COMPENSATED), "o-42": ("shipping", words.ACK)}),
    StuckShop("the shop runs without an inventory service", lambda: without("inventory"),
              nothing, (order("o-51", customer="mallory"), order("o-52", item="lamp")),
              {"o-51": (None, words.COMPENSATED), "o-52": (None, words.NO_SUBSCRIBER)}),
)


def diagnoses_other_stuck_orders(learner: Learner) -> None:
    expect_diagnoses(learner, HIDDEN_SHOPS, seed=5)


def refuses_other_unknown_items_under_more_chaos(learner: Learner) -> None:
    run = inventory_run(learner, [order("o-1", item="spoon", quantity=3),
                                  order("o-2", item="kettle", quantity=2)], seed=3)
    expect_refused(run, "o-1")
    expect_shipped(run, "o-2")
    explore_inventory(learner, orders=[*CHAOS_ORDERS, order("o-4", item="spoon", quantity=2)],
                      schedules=60, seed=2)


HIDDEN = {
    "diagnose": (Check("diagnoses stuck orders in other shops, at other services", 1,
                       diagnoses_other_stuck_orders, hidden=True),),
    "no_stuck_orders": (Check("refuses other unknown items, and every order finishes over 60 "
                              "more fault schedules", 1,
                              refuses_other_unknown_items_under_more_chaos, hidden=True),),
}
