"""Hidden checks of exercise 2 (compensations): other situations, the same lessons."""

from __future__ import annotations

from choreo_lab.examples.orders import STOCK, random_orders
from choreo_lab.faults import Duplicate
from choreo_lab.grading.ex02_compensations import (
    RELEASE_HINT,
    WRONG_EVENT_HINT,
    expect_refunded_after_lost_first_deliveries,
    expect_released_after_lost_first_deliveries,
    refund_run,
    release_run,
    written_compensation_runs,
)
from choreo_lab.grading.learner import Learner
from choreo_lab.grading.outcomes import (
    expect_consistent_outcomes,
    expect_oracle_consistent,
    expect_refunded_once,
)
from choreo_lab.grading.scenarios import order
from choreo_lab.grading.tasks import Check


def refunds_once_when_a_failure_comes_twice(learner: Learner) -> None:
    faults = [Duplicate(event_type="OutOfStock", service="payment", times=1),
              Duplicate(event_type="ShipmentFailed", service="payment", times=1)]
    orders = [order("o-1", item="unicorn"), order("o-2", item="kettle", address="Atlantis")]
    run = refund_run(learner, orders, faults)
    for order_id in ("o-1", "o-2"):
        expect_refunded_once(run, order_id, "a failure event can be delivered twice: remember "
                             "which orders you refunded (state['refunds']) and skip repeats.")
    expect_refunded_after_lost_first_deliveries(learner, orders,
                                                {"OutOfStock": "o-1", "ShipmentFailed": "o-2"})


def leaves_stock_alone_when_nothing_was_reserved(learner: Learner) -> None:
    faults = [Duplicate(event_type="ShipmentFailed", service="inventory", times=1)]
    orders = [order("o-1", item="unicorn"), order("o-2", customer="mallory", item="lamp"),
              order("o-3", item="lamp", quantity=2, address="Atlantis")]
    run = release_run(learner, orders, faults)
    for item in ("unicorn", "lamp"):
        if run.stock(item) != STOCK[item]:
            run.fail(f"After o-1 (a unicorn, out of stock), o-2 (lamps, declined) and o-3 "
                     f"(2 lamps, could not ship, ShipmentFailed delivered twice) the stock of "
                     f"{item} is {run.stock(item)!r}; it should be back at {STOCK[item]}.",
                     WRONG_EVENT_HINT + " A repeated ShipmentFailed must release only once.",
                     "o-1" if item == "unicorn" else "o-3")
    for order_id in ("o-1", "o-2"):
        if run.published("InventoryReleased", order_id):
            run.fail(f"Inventory released stock for {order_id}, which never had any reserved.",
                     WRONG_EVENT_HINT, order_id)
    expect_released_after_lost_first_deliveries(learner, orders, "o-3")


def quantity_of(item: str, records: dict) -> int:
    """The total quantity of `item` in inventory records by order id (reservations, releases)."""
    return sum(record.get("quantity", 0) for record in records.values()
               if record.get("item") == item)


def every_order_of_a_mixed_batch_ends_consistent(learner: Learner) -> None:
    orders = random_orders(12, seed=3, failure_rate=0.6)
    for run in written_compensation_runs(learner, orders):
        expect_consistent_outcomes(run, "every failure must undo exactly what happened before "
                                   "it.")
        expect_oracle_consistent(run, "every failure must undo exactly what happened before it; "
                                 "record each refund and release in the service's ledger.")
        inventory = run.sim.state("inventory")
        for item, count in STOCK.items():
            reserved = quantity_of(item, inventory.get("reservations", {}))
            released = quantity_of(item, inventory.get("released", {}))
            if run.stock(item) != count - reserved + released:
                run.fail(f"In a batch of 12 orders the stock of {item} ended at "
                         f"{run.stock(item)!r}, but {count} - {reserved} reserved + {released} "
                         f"released = {count - reserved + released}.", RELEASE_HINT, None)


HIDDEN = {
    "refund": (Check("refunds once when a failure event is delivered twice", 1,
                     refunds_once_when_a_failure_comes_twice, hidden=True),),
    "release": (Check("leaves the stock alone when nothing was reserved, and releases once", 1,
                      leaves_stock_alone_when_nothing_was_reserved, hidden=True),),
    "declined": (Check("every order of a mixed batch ends consistent", 1,
                       every_order_of_a_mixed_batch_ends_consistent, hidden=True),),
}
