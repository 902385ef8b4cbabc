"""Hidden checks of exercise 1 (the inventory): other situations, the same lessons."""

from __future__ import annotations

from choreo_lab.examples.orders import STOCK
from choreo_lab.faults import Crash, Duplicate
from choreo_lab.grading.ex01_inventory import (
    expect_decided_after_lost_first_deliveries,
    expect_out_of_stock,
    expect_reserved,
    expect_reserved_once_or_repeated,
    expect_stock,
    inventory_run,
)
from choreo_lab.grading.learner import Learner
from choreo_lab.grading.scenarios import order
from choreo_lab.grading.tasks import Check


def orders_share_the_stock(learner: Learner) -> None:
    orders = [order(f"o-{n}", item="kettle", quantity=3) for n in (1, 2, 3)]
    run = inventory_run(learner, orders)
    left = STOCK["kettle"]
    for wanted in orders:
        expect_reserved(run, wanted["order_id"], left)
        left -= wanted["quantity"]
    expect_stock(run, "kettle", STOCK["kettle"] - 9, "Three orders reserved 3 kettles each.",
                 "each reservation takes from what earlier ones left.", "o-3")


def refuses_only_the_order_that_does_not_fit(learner: Learner) -> None:
    orders = [order("o-1", item="lamp", quantity=2), order("o-2", item="lamp", quantity=2),
              order("o-3", item="lamp", quantity=1)]
    run = inventory_run(learner, orders)
    left = STOCK["lamp"]
    for envelope in run.deliveries("inventory", "PaymentCompleted"):
        wanted = run.orders[envelope.correlation_id]
        if wanted["quantity"] <= left:
            expect_reserved(run, wanted["order_id"], left)
            left -= wanted["quantity"]
        else:
            expect_out_of_stock(run, wanted["order_id"], left)
    expect_stock(run, "lamp", left, "Orders for 2, 2 and 1 lamps came in, with 3 in stock.",
                 "refuse an order that does not fit, but keep what is left for later orders.",
                 "o-2")


def decides_once_after_a_crash_and_for_refused_orders(learner: Learner) -> None:
    faults = [Crash(point="after_commit_before_ack", event_type="PaymentCompleted",
                    service="inventory", times=1),
              Duplicate(event_type="PaymentCompleted", service="inventory", correlation_id="o-2", times=1)]
    orders = [order("o-1", item="kettle", quantity=4), order("o-2", item="unicorn", quantity=1)]
    run = inventory_run(learner, orders, faults)
    expect_stock(run, "kettle", STOCK["kettle"] - 4,
                 "The inventory crashed after committing o-1's reservation but before the ack, "
                 "so the broker delivered PaymentCompleted again; your service reserved twice.",
                 "a redelivery after a crash is a repeat too: skip orders you already decided.",
                 "o-1")
    expect_stock(run, "unicorn", STOCK["unicorn"], "o-2 (a unicorn, none in stock) was "
                 "delivered twice.", "a refused order must not change the stock, however "
                 "often it comes.", "o-2")
    expect_reserved_once_or_repeated(run, "o-2")
    expect_decided_after_lost_first_deliveries(learner, orders)


HIDDEN = {
    "reserve": (Check("several orders share one item's stock", 1, orders_share_the_stock,
                      hidden=True),),
    "out_of_stock": (Check("refuses only the order that does not fit what is left", 1,
                           refuses_only_the_order_that_does_not_fit, hidden=True),),
    "reserve_once": (Check("decides once after a crash, and for refused orders", 1,
                           decides_once_after_a_crash_and_for_refused_orders, hidden=True),),
}
