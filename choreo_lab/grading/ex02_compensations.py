"""Exercise 2, compensations: undo exactly what was done, on exactly the failure that needs it.

The learner writes two compensating handlers, ``refund_payment(event, ctx)`` for the
payment service and ``release_stock(event, ctx)`` for the inventory, and
``add_compensations(payment, inventory)``, which registers them on the failure events that
call for them. The checks add them to payment and inventory services that only know the
forward steps (`forward_services`) and run failing orders through the saga.
"""

from __future__ import annotations

from collections.abc import Callable

from ..events import Event
from ..examples.orders import (
    STOCK,
    OrderPlaced,
    PaymentCompleted,
    make_inventory_service,
    make_payment_service,
    order_services,
    random_orders,
)
from ..faults import Duplicate
from ..service import Service
from ..simulation import Simulation
from .learner import Learner, without_handlers
from .outcomes import (
    expect_consistent_outcomes,
    expect_finished,
    expect_oracle_consistent,
    expect_refunded_once,
    expect_untouched_money,
)
from .scenarios import SagaRun, order, run_saga
from .tasks import Check, Task

EXERCISE = "ex02-compensations"


def forward_only(service: Service, event_type: type[Event]) -> Service:
    """A copy of `service` that keeps only its handler for `event_type` (its forward step)."""
    copy = without_handlers(service)
    copy.handles(event_type, publishes=service.publishes[event_type])(service.handlers[event_type])
    return copy


def forward_services() -> tuple[Service, Service]:
    """Payment that only charges, and inventory that only reserves: no compensations yet."""
    return (forward_only(make_payment_service(), OrderPlaced),
            forward_only(make_inventory_service(), PaymentCompleted))


def saga_with(add_compensations: Callable[[Service, Service], None], seed: int = 1,
              **options: object) -> Simulation:
    """The order saga whose payment and inventory get their compensations from `add_compensations`."""
    payment, inventory = forward_services()
    add_compensations(payment, inventory)
    return Simulation(order_services(payment=payment, inventory=inventory), seed=seed,
                      **options)  # type: ignore[arg-type]


def compensated_run(learner: Learner, orders: list[dict], faults: list | tuple = ()) -> SagaRun:
    """The saga with forward-only payment and inventory plus the learner's compensations."""
    payment, inventory = forward_services()
    learner.call("add_compensations", payment, inventory)
    replacements = {"payment": learner.observed(payment), "inventory": learner.observed(inventory)}
    return run_saga(learner, replacements, orders, faults)


REFUND_HINT = ("payment must react to the failure events that come after a charge - OutOfStock "
               "and ShipmentFailed - with refund_payment, registered in add_compensations.")
RELEASE_HINT = ("inventory must react to ShipmentFailed with release_stock: put back the "
                "quantity recorded in state['reservations'][order_id] and return "
                "InventoryReleased(...).")
WRONG_EVENT_HINT = ("compensate only what happened. Before OutOfStock nothing was reserved, "
                    "and before PaymentDeclined nothing was charged: those failures need no "
                    "undo from that service. Check which events you registered each "
                    "compensation on, and that it does nothing when there is nothing to undo.")


# -- task "refund" -----------------------------------------------------------------------------
def refunds_an_order_that_was_out_of_stock(learner: Learner) -> None:
    run = compensated_run(learner, [order("o-1", item="unicorn", quantity=1)])
    expect_refunded_once(run, "o-1", REFUND_HINT)
    expect_finished(run, "o-1", "compensated", REFUND_HINT)


def refunds_an_order_that_could_not_ship(learner: Learner) -> None:
    run = compensated_run(learner, [order("o-1", item="book", quantity=2, address="Atlantis")])
    expect_refunded_once(run, "o-1", REFUND_HINT)


def refunds_once_when_a_failure_comes_twice(learner: Learner) -> None:
    faults = [Duplicate(event_type="OutOfStock", service="payment", times=1),
              Duplicate(event_type="ShipmentFailed", service="payment", times=1)]
    orders = [order("o-1", item="unicorn"), order("o-2", item="kettle", address="Atlantis")]
    run = compensated_run(learner, orders, faults)
    for order_id in ("o-1", "o-2"):
        expect_refunded_once(run, order_id, "a failure event can be delivered twice: remember "
                             "which orders you refunded (state['refunds']) and skip repeats.")


# -- task "release" ----------------------------------------------------------------------------
def releases_stock_when_shipping_fails(learner: Learner) -> None:
    run = compensated_run(learner, [order("o-1", item="book", quantity=2, address="Atlantis")])
    stock = run.stock("book")
    released = run.published("InventoryReleased", "o-1")
    if stock != STOCK["book"] or len(released) != 1:
        refunded = "the payment was refunded, but " if run.ledger("o-1", "refund") else ""
        run.fail(f"Order o-1 could not ship; {refunded}the 2 books reserved for it were "
                 f"{'not ' if stock != STOCK['book'] else ''}put back (stock of book is "
                 f"{stock!r}, should be {STOCK['book']}) and InventoryReleased was published "
                 f"{len(released)} times (once is right).", RELEASE_HINT, "o-1")
    expect_finished(run, "o-1", "compensated", REFUND_HINT)


def leaves_stock_alone_when_nothing_was_reserved(learner: Learner) -> None:
    faults = [Duplicate(event_type="ShipmentFailed", service="inventory", times=1)]
    orders = [order("o-1", item="unicorn"), order("o-2", customer="mallory", item="lamp"),
              order("o-3", item="lamp", quantity=2, address="Atlantis")]
    run = compensated_run(learner, orders, faults)
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


def quantity_of(item: str, records: dict) -> int:
    """The total quantity of `item` in inventory records by order id (reservations, releases)."""
    return sum(record.get("quantity", 0) for record in records.values()
               if record.get("item") == item)


# -- task "declined" ---------------------------------------------------------------------------
def cancels_a_declined_order_with_nothing_to_undo(learner: Learner) -> None:
    run = compensated_run(learner, [order("o-1", customer="mallory", item="kettle")])
    expect_untouched_money(run, "o-1", "o-1 was declined, so nothing was charged;",
                           WRONG_EVENT_HINT)
    if run.published("InventoryReleased", "o-1") or run.stock("kettle") != STOCK["kettle"]:
        run.fail("o-1 was declined before anything was reserved, yet inventory released "
                 f"stock (kettles now {run.stock('kettle')!r}, should be {STOCK['kettle']}).",
                 WRONG_EVENT_HINT, "o-1")
    expect_finished(run, "o-1", "compensated")


def every_order_of_a_mixed_batch_ends_consistent(learner: Learner) -> None:
    orders = random_orders(12, seed=3, failure_rate=0.6)
    run = compensated_run(learner, orders)
    expect_consistent_outcomes(run, "every failure must undo exactly what happened before it.")
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


TASKS = (
    Task("refund", EXERCISE, "refund the payment when a later step fails", (
        Check("refunds an order that was out of stock", 1, refunds_an_order_that_was_out_of_stock),
        Check("refunds an order that could not ship", 1, refunds_an_order_that_could_not_ship),
        Check("refunds once when a failure event is delivered twice", 1,
              refunds_once_when_a_failure_comes_twice, hidden=True),
    )),
    Task("release", EXERCISE, "put reserved stock back when shipping fails", (
        Check("releases the reserved stock when shipping fails", 1,
              releases_stock_when_shipping_fails),
        Check("leaves the stock alone when nothing was reserved, and releases once", 1,
              leaves_stock_alone_when_nothing_was_reserved, hidden=True),
    )),
    Task("declined", EXERCISE, "a declined payment has nothing to undo", (
        Check("cancels a declined order without refunding or releasing anything", 1,
              cancels_a_declined_order_with_nothing_to_undo),
        Check("every order of a mixed batch ends consistent", 1,
              every_order_of_a_mixed_batch_ends_consistent, hidden=True),
    )),
)
