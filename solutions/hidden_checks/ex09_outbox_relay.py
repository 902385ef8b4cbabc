"""Hidden checks of exercise 9 (the outbox relay): other orders and other crashes, the same lessons."""

from __future__ import annotations

from choreo_lab.examples.orders import random_orders
from choreo_lab.faults import Duplicate, RelayCrash
from choreo_lab.grading.ex09_outbox_relay import (
    ID_HINT,
    ORDER_HINT,
    expect_each_answer_once,
    expect_every_order_ends,
    names_rows_for_good,
    relay_alone,
    saga,
    survives_every_single_crash,
    survives_the_chaos_explorer,
)
from choreo_lab.grading.learner import Learner
from choreo_lab.grading.scenarios import order
from choreo_lab.grading.tasks import Check

OTHER_ORDERS = (order("o-4", item="book", quantity=2), order("o-5", address="Atlantis"),
                order("o-6", item="lamp"), order("o-7", item="kettle", quantity=3))


def names_rows_for_good_across_more_orders(learner: Learner) -> None:
    names_rows_for_good(learner, OTHER_ORDERS)


def sends_each_row_once_under_mixed_crashes_and_lost_acks(learner: Learner) -> None:
    run = saga(learner, relay_alone(learner), random_orders(5, seed=4, failure_rate=0.6), [
        RelayCrash(service="shipping", point="after_publish", occurrence=2),
        RelayCrash(service="shipping", point="before_publish", occurrence=4),
        RelayCrash(service="shipping", point="after_publish", occurrence=6),
        Duplicate(service="shipping", times=2)])
    expect_each_answer_once(run, ID_HINT)
    expect_every_order_ends(run, ORDER_HINT)


def survives_more_chaos(learner: Learner) -> None:
    survives_every_single_crash(learner, random_orders(4, seed=3, failure_rate=0.5), seed=2)
    survives_the_chaos_explorer(learner, schedules=40, seed=2)


HIDDEN = {
    "outbox": (Check("names each row for good across four more orders", 1,
                     names_rows_for_good_across_more_orders, hidden=True),),
    "relay": (Check("sends each row once under mixed relay crashes and lost acks", 1,
                    sends_each_row_once_under_mixed_crashes_and_lost_acks, hidden=True),),
    "relay_chaos": (Check("keeps the saga consistent under other orders' single crashes and 40 "
                          "more schedules", 1, survives_more_chaos, hidden=True),),
}
