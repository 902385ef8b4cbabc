"""Exercise 3, idempotent payment: charge exactly once under duplicates, crashes and redelivery.

The learner writes ``make_payment_service()``: a `Service` named "payment" that charges
each order once (declining the customers in ``DECLINED_CUSTOMERS``), refunds once on
OutOfStock or ShipmentFailed, and - with the outbox switched off - still completes an order
whose handler crashed between writing its state and publishing its event.

The checks about charging judge the charge: one whose batch meets ``refund_payment`` still
the stub runs again without the orders that would be refunded (`charge_run`), so a refund
still to write costs points in the refund task only.
"""

from __future__ import annotations

from ..envelope import Envelope
from ..examples.orders import DECLINED_CUSTOMERS, STOCK, UNSHIPPABLE
from ..faults import Crash, Duplicate
from .chaos_runs import explore_payment
from .feedback import plural
from .learner import Learner, unless_a_stub_of
from .outcomes import (
    expect_charged_once,
    expect_finished,
    expect_refunded_once,
    expect_untouched_money,
)
from .redelivery import HINT as REDELIVERY_HINT
from .redelivery import lost_first_deliveries
from .scenarios import SagaRun, order, run_saga
from .tasks import Check, Task

EXERCISE = "ex03-idempotent-payment"
FACTORY = "make_payment_service"


def payment_run(learner: Learner, orders: list[dict], faults: list | tuple = (), *,
                outbox: bool = True, seed: int = 1) -> SagaRun:
    """The saga with the learner's payment service."""
    payment = learner.service(FACTORY, "payment")
    return run_saga(learner, {"payment": payment}, orders, faults, outbox=outbox, seed=seed)


def charge_run(learner: Learner, orders: list[dict], faults: list | tuple = (), *,
               outbox: bool = True, seed: int = 1) -> SagaRun:
    """`payment_run` for a check about charging: of `orders`, or, if a refund met
    refund_payment still the stub, of those of `orders` that nothing refunds."""
    def run(orders: list[dict]) -> SagaRun:
        return payment_run(learner, orders, faults, outbox=outbox, seed=seed)
    return (unless_a_stub_of(learner, ("refund_payment",), lambda: run(orders))
            or run(never_refunded(orders)))


def never_refunded(orders: list[dict]) -> list[dict]:
    """The orders that are declined, or ship: in stock (all of them together, in any order)
    and to an address that can be shipped to. No step after the charge fails for them."""
    kept, taken = [], dict.fromkeys(STOCK, 0)
    for request in orders:
        item, quantity = request["item"], request["quantity"]
        if request["customer"] not in DECLINED_CUSTOMERS:
            if (request["address"] in UNSHIPPABLE
                    or taken.get(item, 0) + quantity > STOCK.get(item, 0)):
                continue
            taken[item] += quantity
        kept.append(request)
    return kept


REFUND_HINT = ("remember which orders you refunded (an inbox, or state['refunds']) and skip "
               "repeats; refund only what was charged.")
REANNOUNCE_HINT = ("with the outbox off, a crash can keep your state change but lose the event "
                   "you returned. When a repeat arrives for an order you already charged, "
                   "do not charge again - but do publish the same PaymentCompleted again "
                   "(downstream services ignore repeats). An inbox that stores the events "
                   "you answered with, and returns them again, does exactly that.")


# -- task "charge_once" ------------------------------------------------------------------------
def charges_once_when_order_placed_comes_twice(learner: Learner) -> None:
    faults = [Duplicate(event_type="OrderPlaced", service="payment", times=1)]
    run = payment_run(learner, [order("o-1", item="book"), order("o-2", item="kettle", quantity=2)],
                      faults)
    for order_id in ("o-1", "o-2"):
        expect_charged_once(run, order_id)
        expect_finished(run, order_id, "completed")
    for lost in lost_first_deliveries("payment", "OrderPlaced"):
        run = payment_run(learner, [order("o-1", item="book")], [lost.fault])
        if not run.ledger("o-1", "charge"):
            run.fail(f"{lost.story('OrderPlaced of o-1')}, yet your service charged nothing.",
                     REDELIVERY_HINT, "o-1")
        expect_charged_once(run, "o-1")
        expect_finished(run, "o-1", "completed")


def charges_once_after_a_crash_before_the_ack(learner: Learner) -> None:
    faults = [Crash(point="after_commit_before_ack", event_type="OrderPlaced", service="payment",
                    times=1)]
    run = payment_run(learner, [order("o-1", item="lamp", quantity=1)], faults)
    expect_charged_once(run, "o-1", "the crash came after your state was committed, so the "
                        "redelivered OrderPlaced is a repeat: skip orders you already charged.")
    expect_finished(run, "o-1", "completed")


REPUBLISH_HINT = ("a message id names one message; the same order published again is a new "
                  "message with a new id, so an inbox keyed by message id lets it through. Key "
                  "your inbox by what must not happen twice: the order id (event.order_id).")


def published_again(run: SagaRun, event_type: str, order_id: str,
                    producer: str) -> tuple[Envelope, Envelope]:
    """`producer` publishes the order's first `event_type` again, as a new message (a
    producer's retry), and the saga runs on: (the first message, the new one)."""
    first = run.published(event_type, order_id)[0]
    run.sim.publish(first.event, correlation_id=order_id, producer=producer)
    run.sim.run_until_idle()
    run.check_learner_errors()
    return first, run.published(event_type, order_id)[-1]


def charges_once_when_the_same_order_is_published_again(learner: Learner) -> None:
    run = payment_run(learner, [order("o-1", item="book")])
    first, again = published_again(run, "OrderPlaced", "o-1", producer="order")
    charges = run.ledger("o-1", "charge")
    if len(charges) != 1:
        run.fail(f"o-1 went through; then the order service published its OrderPlaced again, "
                 f"as a new message ({again.message_id}; the first was {first.message_id}). "
                 f"Your service charged o-1 {plural(len(charges), 'time')}.", REPUBLISH_HINT,
                 "o-1")
    expect_finished(run, "o-1", "completed")


# -- task "declined" ---------------------------------------------------------------------------
def declines_once_and_never_charges(learner: Learner) -> None:
    faults = [Duplicate(event_type="OrderPlaced", service="payment", times=1)]
    run = payment_run(learner, [order("o-1", customer="mallory", item="book")], faults)
    expect_untouched_money(run, "o-1", "mallory's card is declined, so o-1 must not be charged;",
                           "check event.customer against DECLINED_CUSTOMERS before charging, "
                           "and answer PaymentDeclined(order_id=..., reason=...).")
    if not run.published("PaymentDeclined", "o-1"):
        run.fail("o-1 (mallory) was not charged, but PaymentDeclined was never published.",
                 "return PaymentDeclined(order_id=..., reason='card declined').", "o-1")
    expect_finished(run, "o-1", "compensated")
    for lost in lost_first_deliveries("payment", "OrderPlaced"):
        run = payment_run(learner, [order("o-1", customer="mallory", item="book")], [lost.fault])
        if not run.published("PaymentDeclined", "o-1"):
            run.fail(f"{lost.story('OrderPlaced of o-1 (mallory)')}, yet your service never "
                     "published PaymentDeclined.", REDELIVERY_HINT, "o-1")


# -- task "refund_once" ------------------------------------------------------------------------
def refunds_once_when_out_of_stock_comes_twice(learner: Learner) -> None:
    faults = [Duplicate(event_type="OutOfStock", service="payment", times=1)]
    run = payment_run(learner, [order("o-1", item="unicorn")], faults)
    expect_charged_once(run, "o-1")
    expect_refunded_once(run, "o-1", REFUND_HINT)
    expect_finished(run, "o-1", "compensated")
    for lost in lost_first_deliveries("payment", "OutOfStock"):
        run = payment_run(learner, [order("o-1", item="unicorn")], [lost.fault])
        if not run.ledger("o-1", "refund"):
            run.fail(f"o-1 was charged, then inventory had no unicorns. "
                     f"{lost.story('OutOfStock of o-1')}, yet your service refunded nothing.",
                     REDELIVERY_HINT, "o-1")
        expect_refunded_once(run, "o-1", REFUND_HINT)


# -- task "crash_recovery" ---------------------------------------------------------------------
def completes_an_order_after_a_crash_between_write_and_publish(learner: Learner) -> None:
    faults = [Crash(point="after_write_before_publish", event_type="OrderPlaced",
                    service="payment", times=1)]
    run = payment_run(learner, [order("o-1", item="book", quantity=3)], faults, outbox=False)
    expect_charged_once(run, "o-1", "the first delivery charged o-1 and crashed before "
                        "publishing; the redelivery must not charge again.")
    if run.status("o-1") != "completed":
        run.fail("The payment service crashed after writing the charge for o-1 but before "
                 "publishing PaymentCompleted (outbox off). When OrderPlaced was delivered "
                 f"again, your service published nothing, so the order is {run.status('o-1')}: "
                 "charged, but nobody downstream ever hears of it.", REANNOUNCE_HINT, "o-1")


# -- task "chaos" ------------------------------------------------------------------------------
CHAOS_HINT = ("run the replay below and read the trace: find the delivery where your service "
              "charged, refunded or answered a second time, or never answered.")


def survives_the_chaos_explorer(learner: Learner) -> None:
    payment = learner.service(FACTORY, "payment")
    explore_payment(payment, schedules=60, seed=1, hint=CHAOS_HINT)



TASKS = (
    Task("charge_once", EXERCISE, "charge each order exactly once", (
        Check("charges once when OrderPlaced is delivered twice (a lost ack)", 1,
              charges_once_when_order_placed_comes_twice),
        Check("charges once when the service crashes after committing, before the ack", 1,
              charges_once_after_a_crash_before_the_ack),
        Check("charges once when the same order is published again, as a new message", 1,
              charges_once_when_the_same_order_is_published_again),
    ), hidden_count=1, hidden_points=1),
    Task("decline_once", EXERCISE, "decline a card once, never charge it", (
        Check("declines mallory's card, even twice, without charging", 1,
              declines_once_and_never_charges),
    )),
    Task("refund_once", EXERCISE, "refund exactly once", (
        Check("refunds once when OutOfStock is delivered twice", 1,
              refunds_once_when_out_of_stock_comes_twice),
    ), hidden_count=1, hidden_points=1),
    Task("crash_recovery", EXERCISE, "recover from a crash between writing and publishing", (
        Check("completes an order after a crash between the charge and its publish (outbox off)",
              1, completes_an_order_after_a_crash_between_write_and_publish),
    ), hidden_count=1, hidden_points=1),
    Task("chaos", EXERCISE, "survive the chaos explorer", (
        Check("keeps every invariant over 60 seeded fault schedules", 1,
              survives_the_chaos_explorer),
    ), hidden_count=1, hidden_points=1),
)
