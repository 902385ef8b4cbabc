"""Exercise 2, compensations: undo exactly what was done, on exactly the failure that needs it.

The learner writes two compensating handlers, ``refund_payment(event, ctx)`` for the
payment service and ``release_stock(event, ctx)`` for the inventory, and
``add_compensations(payment, inventory)``, which registers them on the failure events that
call for them. The checks add them to payment and inventory services that only know the
forward steps (`forward_services`) and run failing orders through the saga.

Each task judges one compensation: the refund task runs the learner's payment with the
reference inventory (`refund_run`), the release task the learner's inventory with the
reference payment (`release_run`). So a release still to write (or wrong) costs nothing in
the refund task, and the other way round. The declined task judges both together, and its
mixed batch each one also with the reference's other (`written_compensation_runs`); there a
compensation still the stub costs nothing: its own task charges it.
"""

from __future__ import annotations

import functools

from ..events import Event
from ..examples.orders import (
    STOCK,
    OrderPlaced,
    PaymentCompleted,
    make_inventory_service,
    make_payment_service,
)
from ..faults import Duplicate, Kill, Restart
from ..service import Service
from .learner import Learner, unless_a_stub_of, without_handlers
from .outcomes import (
    expect_finished,
    expect_refunded_once,
    expect_untouched_money,
)
from .redelivery import HINT as REDELIVERY_HINT
from .redelivery import lost_first_deliveries
from .scenarios import SagaRun, order, run_saga
from .tasks import Check, Task

EXERCISE = "ex02-compensations"


def forward_only(service: Service, event_type: type[Event]) -> Service:
    """A copy of `service` that keeps only its handler for `event_type` (its forward step)."""
    copy = without_handlers(service)
    handling = service.handlers[event_type.event_type]
    copy.handles(event_type, publishes=handling.publishes)(handling.handler)
    return copy


def forward_services() -> tuple[Service, Service]:
    """Payment that only charges, and inventory that only reserves: no compensations yet."""
    return (forward_only(make_payment_service(), OrderPlaced),
            forward_only(make_inventory_service(), PaymentCompleted))


def compensated_run(learner: Learner, orders: list[dict], faults: list | tuple = (), *,
                    judged: tuple[str, ...] = ("payment", "inventory")) -> SagaRun:
    """The saga with forward-only payment and inventory plus the learner's compensations.

    Only the `judged` services ("payment", "inventory") run with what the learner's
    add_compensations registered on them; any other keeps the reference's compensation.
    """
    payment, inventory = forward_services()
    learner.call("add_compensations", payment, inventory)
    wired = {"payment": payment, "inventory": inventory}
    replacements = {name: learner.observed(wired[name]) for name in judged}
    return run_saga(learner, replacements, orders, faults)


def refund_run(learner: Learner, orders: list[dict], faults: list | tuple = ()) -> SagaRun:
    """The learner's refund at work: their payment, with the reference inventory's release."""
    return compensated_run(learner, orders, faults, judged=("payment",))


def release_run(learner: Learner, orders: list[dict], faults: list | tuple = ()) -> SagaRun:
    """The learner's release at work: their inventory, with the reference payment's refund."""
    return compensated_run(learner, orders, faults, judged=("inventory",))


#: The learner's compensating handlers, as the stub names them.
COMPENSATIONS = ("refund_payment", "release_stock")


def written_compensation_runs(learner: Learner, orders: list[dict]) -> list[SagaRun]:
    """The runs of `orders` that judge the compensations the learner has written: each with the
    reference's other one (`refund_run`, `release_run`), and both together. A run that meets a
    compensation still the stub is set aside (the compensation's own task charges the stub);
    with both still the stub, the run with both fails saying so."""
    judged: list[SagaRun] = []
    for how in (refund_run, release_run, compensated_run):
        run = unless_a_stub_of(learner, COMPENSATIONS, functools.partial(how, learner, orders))
        if run is not None:
            judged.append(run)
    return judged or [compensated_run(learner, orders)]


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
    run = refund_run(learner, [order("o-1", item="unicorn", quantity=1)])
    expect_refunded_once(run, "o-1", REFUND_HINT)
    expect_finished(run, "o-1", "compensated", REFUND_HINT)


def refunds_an_order_that_could_not_ship(learner: Learner) -> None:
    run = refund_run(learner, [order("o-1", item="book", quantity=2, address="Atlantis")])
    expect_refunded_once(run, "o-1", REFUND_HINT)


def refunds_once_when_out_of_stock_comes_twice(learner: Learner) -> None:
    faults = [Duplicate(event_type="OutOfStock", service="payment", times=1)]
    run = refund_run(learner, [order("o-1", item="unicorn", quantity=1)], faults)
    expect_refunded_once(run, "o-1", "the broker delivers at least once, so a failure event "
                         "can come twice: refund only an order that is not in "
                         "state['refunds'] yet, and do nothing for a repeat.")
    expect_refunded_after_lost_first_deliveries(
        learner, [order("o-1", item="unicorn", quantity=1)], {"OutOfStock": "o-1"})


def expect_refunded_after_lost_first_deliveries(learner: Learner, orders: list[dict],
                                                failures: dict[str, str]) -> None:
    """The other half of "once": when every first delivery of a failure event (by type, with
    the order it fails) to payment counts for nothing, the redelivery is the first real
    handling and must refund the order."""
    for event_type, order_id in failures.items():
        for lost in lost_first_deliveries("payment", event_type):
            run = refund_run(learner, orders, [lost.fault])
            if not run.ledger(order_id, "refund"):
                run.fail(f"{order_id} was charged, then failed. "
                         f"{lost.story(f'{event_type} of {order_id}')}, yet your service "
                         "refunded nothing.", REDELIVERY_HINT, order_id)
            expect_refunded_once(run, order_id, REDELIVERY_HINT)


def expect_released_after_lost_first_deliveries(learner: Learner, orders: list[dict],
                                                order_id: str) -> None:
    """The same for the release: when every first ShipmentFailed to the inventory counts for
    nothing, the redelivery must put back what was reserved for `order_id`, once."""
    for lost in lost_first_deliveries("inventory", "ShipmentFailed"):
        run = release_run(learner, orders, [lost.fault])
        item = run.orders[order_id]["item"]
        released = run.published("InventoryReleased", order_id)
        if not released or run.stock(item) != STOCK[item]:
            undone = ("published no InventoryReleased" if not released
                      else "did not put the stock back")
            run.fail(f"{order_id} could not ship. {lost.story(f'ShipmentFailed of {order_id}')}"
                     f", yet your service {undone} (stock of {item} is {run.stock(item)!r}, "
                     f"should be {STOCK[item]}).", REDELIVERY_HINT, order_id)


INVENTORY_DOWN_FROM, INVENTORY_BACK_AT = 4, 500


def refunds_a_failed_shipment_while_inventory_is_down(learner: Learner) -> None:
    faults = [Kill(service="inventory", at=INVENTORY_DOWN_FROM),
              Restart(service="inventory", at=INVENTORY_BACK_AT)]
    run = refund_run(learner, [order("o-1", item="book", quantity=2, address="Atlantis")],
                     faults)
    expect_refunded_once(run, "o-1", REFUND_HINT)
    refunded_at = run.published("PaymentRefunded", "o-1")[0].published_at
    if refunded_at >= INVENTORY_BACK_AT:
        run.fail(f"Shipping failed for o-1 while inventory was down (t={INVENTORY_DOWN_FROM} to "
                 f"t={INVENTORY_BACK_AT}), and payment refunded only at t={refunded_at}, after "
                 "inventory came back: your refund waits for another compensation.",
                 "each service compensates its own step in reply to the failure itself: "
                 "register refund_payment on ShipmentFailed (and OutOfStock), not on "
                 "InventoryReleased.", "o-1")


# -- task "release" ----------------------------------------------------------------------------
def releases_stock_when_shipping_fails(learner: Learner) -> None:
    run = release_run(learner, [order("o-1", item="book", quantity=2, address="Atlantis")])
    stock = run.stock("book")
    released = run.published("InventoryReleased", "o-1")
    if stock != STOCK["book"] or len(released) != 1:
        refunded = "the payment was refunded, but " if run.ledger("o-1", "refund") else ""
        run.fail(f"Order o-1 could not ship; {refunded}the 2 books reserved for it were "
                 f"{'not ' if stock != STOCK['book'] else ''}put back (stock of book is "
                 f"{stock!r}, should be {STOCK['book']}) and InventoryReleased was published "
                 f"{len(released)} times (once is right).", RELEASE_HINT, "o-1")
    expect_finished(run, "o-1", "compensated", RELEASE_HINT)


def leaves_the_stock_alone_for_an_order_out_of_stock(learner: Learner) -> None:
    # o-2 cannot ship, so release_stock runs in this check too: leaving o-1's stock alone
    # earns nothing while release_stock is still the stub (or raises).
    run = release_run(learner, [order("o-1", item="unicorn", quantity=1),
                                order("o-2", item="book", quantity=2, address="Atlantis")])
    if run.published("InventoryReleased", "o-1") or run.stock("unicorn") != STOCK["unicorn"]:
        run.fail("o-1 asked for a unicorn and got OutOfStock: nothing was reserved, yet "
                 f"inventory released stock (unicorns now {run.stock('unicorn')!r}, should be "
                 f"{STOCK['unicorn']}).", WRONG_EVENT_HINT, "o-1")
    expect_finished(run, "o-1", "compensated")


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



TASKS = (
    Task("refund", EXERCISE, "refund the payment when a later step fails", (
        Check("refunds an order that was out of stock", 1, refunds_an_order_that_was_out_of_stock),
        Check("refunds an order that could not ship", 1, refunds_an_order_that_could_not_ship),
        Check("refunds once when OutOfStock is delivered twice", 1,
              refunds_once_when_out_of_stock_comes_twice),
        Check("refunds a failed shipment while inventory is down", 1,
              refunds_a_failed_shipment_while_inventory_is_down),
    ), hidden_count=1, hidden_points=1),
    Task("release", EXERCISE, "put reserved stock back when shipping fails", (
        Check("releases the reserved stock when shipping fails", 1,
              releases_stock_when_shipping_fails),
        Check("leaves the stock alone for an order that was out of stock", 1,
              leaves_the_stock_alone_for_an_order_out_of_stock),
    ), hidden_count=1, hidden_points=1),
    Task("declined", EXERCISE, "a declined payment has nothing to undo", (
        Check("cancels a declined order without refunding or releasing anything", 1,
              cancels_a_declined_order_with_nothing_to_undo),
    ), hidden_count=1, hidden_points=1),
)
