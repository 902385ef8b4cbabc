"""Exercise 1, the inventory service: reserve stock for a paid order, or report OutOfStock.

The learner writes ``make_inventory_service(stock)`` returning a `Service` named
"inventory" whose handler for PaymentCompleted publishes InventoryReserved (taking the items
out of ``state["stock"]``) or OutOfStock (leaving the stock alone). The checks plug it into
the order saga and watch what it publishes and what its stock says.
"""

from __future__ import annotations

from ..examples.orders import STOCK
from ..faults import Duplicate
from ..text import describe_value
from .feedback import plural
from .learner import Learner
from .redelivery import HINT as REDELIVERY_HINT
from .redelivery import lost_first_deliveries
from .scenarios import SagaRun, order, run_saga
from .tasks import Check, Task

EXERCISE = "ex01-inventory"
FACTORY = "make_inventory_service"


def inventory_run(learner: Learner, orders: list[dict], faults: list | tuple = ()) -> SagaRun:
    """The saga with the learner's inventory (starting from the course's STOCK)."""
    inventory = learner.service(FACTORY, "inventory", dict(STOCK))
    return run_saga(learner, {"inventory": inventory}, orders, faults)


def expect_reserved(run: SagaRun, order_id: str, in_stock: int | None = None) -> None:
    """One InventoryReserved for the order, matching it, and no OutOfStock."""
    wanted = run.orders[order_id]
    count, item = wanted["quantity"], wanted["item"]
    in_stock = STOCK[item] if in_stock is None else in_stock
    asked = f"{order_id} asked for {plural(count, item)}"
    reserved = run.published("InventoryReserved", order_id)
    refused = run.published("OutOfStock", order_id)
    if refused and not reserved:
        run.fail(f"{asked} and {in_stock} were in stock, but your service answered "
                 "OutOfStock.", "an order fits when the stock is at least the quantity "
                 "asked for: compare with >= (or refuse only when stock < quantity).", order_id)
    if not reserved:
        run.fail(f"{asked}, but your service published nothing in reply to PaymentCompleted, "
                 f"so the saga is {run.status(order_id)}.",
                 "return InventoryReserved(order_id=..., item=..., quantity=..., address=...) "
                 "from the handler.", order_id)
    if len(reserved) > 1:
        run.fail(f"Your service published InventoryReserved {len(reserved)} times for "
                 f"{order_id}; once is right.", "", order_id)
    event = reserved[0].event
    for field in ("item", "quantity", "address"):
        expected = wanted[field]
        if getattr(event, field) != expected:
            run.fail(f"InventoryReserved for {order_id} says {field}={getattr(event, field)!r}, "
                     f"but the order has {field}={expected!r}.",
                     "copy the fields from the PaymentCompleted event you are handling.",
                     order_id)


def expect_stock(run: SagaRun, item: str, expected: int, why: str, hint: str,
                 order_id: str) -> None:
    """The inventory's stock of `item` is `expected`; else fail with `why` and `hint`."""
    actual = run.stock(item)
    if actual != expected:
        run.fail(f"{why} The stock of {item} is now {actual!r}; it should be {expected}.",
                 hint, order_id)


TAKE_OUT = ("reserving means taking the items out of stock: "
            "ctx.state['stock'][event.item] -= event.quantity.")


# -- task "reserve" ----------------------------------------------------------------------------
def reserves_an_order_that_fits(learner: Learner) -> None:
    run = inventory_run(learner, [order("o-1", item="book", quantity=2)])
    expect_reserved(run, "o-1")
    expect_stock(run, "book", STOCK["book"] - 2, "o-1 reserved 2 books.", TAKE_OUT, "o-1")
    if run.status("o-1") != "completed":
        run.fail(f"o-1 was reserved, but the saga ended {run.status('o-1')!r}, not completed.",
                 "shipping needs InventoryReserved with the order's address.", "o-1")


def reserves_the_last_items(learner: Learner) -> None:
    run = inventory_run(learner, [order("o-1", item="lamp", quantity=STOCK["lamp"])])
    expect_reserved(run, "o-1")
    expect_stock(run, "lamp", 0, f"o-1 reserved all {STOCK['lamp']} lamps.", TAKE_OUT, "o-1")


# -- task "out_of_stock" -----------------------------------------------------------------------
def expect_out_of_stock(run: SagaRun, order_id: str, in_stock: int) -> None:
    """One OutOfStock for the order, matching it, no InventoryReserved, and the saga compensated."""
    wanted = run.orders[order_id]
    count, item = wanted["quantity"], wanted["item"]
    asked = f"{order_id} asked for {plural(count, item)} with only {in_stock} in stock"
    refused = run.published("OutOfStock", order_id)
    if run.published("InventoryReserved", order_id):
        run.fail(f"{asked}, but your service published InventoryReserved.",
                 "before reserving, compare the stock of event.item with event.quantity; "
                 "when it is short, return OutOfStock(...) instead.", order_id)
    if not refused:
        run.fail(f"{asked}, but your service published nothing, so nobody learns that the "
                 f"order cannot be served (the saga is {run.status(order_id)}).",
                 "return OutOfStock(order_id=..., item=..., quantity=...) when the stock is "
                 "short: payment refunds and the order is cancelled in reply.", order_id)
    event = refused[0].event
    if (event.item, event.quantity) != (item, count):
        run.fail(f"OutOfStock for {order_id} says {plural(event.quantity, event.item)}; the "
                 f"order asked for {plural(count, item)}.", "copy item and quantity from the "
                 "event.", order_id)
    if run.status(order_id) != "compensated":
        run.fail(f"{order_id} was out of stock, but the saga ended {run.status(order_id)!r} "
                 "instead of compensated.", "", order_id)


def reports_an_item_with_no_stock(learner: Learner) -> None:
    run = inventory_run(learner, [order("o-1", item="unicorn", quantity=1)])
    expect_out_of_stock(run, "o-1", STOCK["unicorn"])
    expect_stock(run, "unicorn", STOCK["unicorn"], "o-1 could not be served.",
                 "an order that is out of stock must not change the stock.", "o-1")
    refusals = run.sim.state("inventory").get("out_of_stock")
    if not isinstance(refusals, dict) or refusals.get("o-1") != "unicorn":
        run.fail("Your service refused o-1 (a unicorn), but its state['out_of_stock'] is "
                 f"{describe_value(refusals, 60)}; it should hold {{'o-1': 'unicorn'}}.",
                 "record the refusal before you answer: ctx.state['out_of_stock'][event.order_id]"
                 " = event.item. It is your service's memory of what it decided: a repeat of "
                 "a refused order is then known as one.", "o-1")


# -- task "reserve_once" -----------------------------------------------------------------------
def reserves_once_when_payment_completed_comes_twice(learner: Learner) -> None:
    faults = [Duplicate(event_type="PaymentCompleted", service="inventory", times=1)]
    run = inventory_run(learner, [order("o-1", item="book", quantity=2)], faults)
    duplicated = run.fault_records("duplicate", "inventory", "o-1")
    expect_stock(run, "book", STOCK["book"] - 2,
                 f"The broker delivered PaymentCompleted {duplicated[0] if duplicated else ''} "
                 "of o-1 twice (its ack was lost), and your service reserved 2 books each time.",
                 "at-least-once delivery means the same message can come again. Remember which "
                 "orders you reserved for (state['reservations']) and do nothing for a repeat.",
                 "o-1")
    expect_reserved_once_or_repeated(run, "o-1")
    expect_decided_after_lost_first_deliveries(learner, [order("o-1", item="book", quantity=2)])


def expect_decided_after_lost_first_deliveries(learner: Learner, orders: list[dict]) -> None:
    """The other half of "once": when every first PaymentCompleted to the inventory counts for
    nothing (lost on the way, or crashed before its commit), the redelivery is the first real
    handling and must decide each order - reserve one that fits, refuse one that does not.
    The orders are decided in turn from the course's STOCK, each order its own item or fitting.
    """
    for lost in lost_first_deliveries("inventory", "PaymentCompleted"):
        run = inventory_run(learner, orders, [lost.fault])
        left = dict(STOCK)
        for wanted in orders:
            order_id, item, count = wanted["order_id"], wanted["item"], wanted["quantity"]
            if not (run.published("InventoryReserved", order_id)
                    or run.published("OutOfStock", order_id)):
                run.fail(f"{lost.story(f'PaymentCompleted of {order_id}')}, yet your service "
                         f"published nothing for {order_id}, so the saga is "
                         f"{run.status(order_id)}.", REDELIVERY_HINT, order_id)
            if left.get(item, 0) >= count:
                expect_reserved(run, order_id, left[item])
                left[item] -= count
            else:
                expect_out_of_stock(run, order_id, left.get(item, 0))
        for item in dict.fromkeys(wanted["item"] for wanted in orders):
            expect_stock(run, item, left[item],
                         f"{lost.story('every PaymentCompleted')}.",
                         "reserve (or refuse) each order once, on its first real handling.",
                         orders[-1]["order_id"])


def expect_reserved_once_or_repeated(run: SagaRun, order_id: str) -> None:
    """A repeat may announce the same reservation again, but never a different answer."""
    answers = {(e.event_type, getattr(e.event, "quantity", None))
               for e in run.published("InventoryReserved", order_id)
               + run.published("OutOfStock", order_id)}
    if len(answers) > 1:
        run.fail(f"Your service answered {order_id} in two different ways: "
                 f"{', '.join(sorted(a[0] for a in answers))}.",
                 "decide once per order and repeat that decision for a repeated message.",
                 order_id)



TASKS = (
    Task("reserve", EXERCISE, "reserve stock for a paid order", (
        Check("reserves stock for an order that fits, and the order ships", 1,
              reserves_an_order_that_fits),
        Check("reserves the last items in stock", 1, reserves_the_last_items),
    ), hidden_count=1, hidden_points=1),
    Task("out_of_stock", EXERCISE, "report OutOfStock when the stock is short", (
        Check("reports OutOfStock for an item with no stock, and the stock is unchanged", 1,
              reports_an_item_with_no_stock),
    ), hidden_count=1, hidden_points=1),
    Task("reserve_once", EXERCISE, "reserve once, however often the event comes", (
        Check("reserves once when PaymentCompleted is delivered twice", 1,
              reserves_once_when_payment_completed_comes_twice),
    ), hidden_count=1, hidden_points=1),
)
