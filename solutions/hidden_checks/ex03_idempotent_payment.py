"""Hidden checks of exercise 3 (the idempotent payment): other situations, the same lessons."""

from __future__ import annotations

from choreo_lab.examples.orders import ShipmentFailed, random_orders
from choreo_lab.faults import Crash, Delay, Drop, Duplicate, Reorder
from choreo_lab.grading.chaos_runs import explore_payment
from choreo_lab.grading.ex03_idempotent_payment import (
    CHAOS_HINT,
    FACTORY,
    REANNOUNCE_HINT,
    REFUND_HINT,
    charge_run,
    payment_run,
    published_again,
)
from choreo_lab.grading.feedback import plural
from choreo_lab.grading.learner import Learner, unless_a_stub_of
from choreo_lab.grading.outcomes import (
    expect_consistent_outcomes,
    expect_finished,
    expect_oracle_consistent,
    expect_refunded_once,
    expect_untouched_money,
)
from choreo_lab.grading.scenarios import order
from choreo_lab.grading.tasks import Check


def charges_once_in_a_batch_with_lost_acks_drops_and_delays(learner: Learner) -> None:
    faults = [Duplicate(event_type="OrderPlaced", service="payment", probability=0.5),
              Drop(service="payment", probability=0.3),
              Delay(service="payment", probability=0.3, by=40),
              Reorder(service="payment", probability=0.2, by=25)]
    run = charge_run(learner, random_orders(10, seed=5, failure_rate=0.4), faults, seed=5)
    expect_consistent_outcomes(run, "every order is charged at most once and ends charged "
                               "(shipped) or with its money back (cancelled).")


REFUND_REPUBLISH_HINT = ("a message id names one message; the same failure published again is "
                         "a new message, with a new id and a first attempt, so an inbox keyed "
                         "by message id (or a look at ctx.attempt) lets it through. Key your "
                         "refunds by the order id (event.order_id): refund an order once, and "
                         "answer a repeat with the same PaymentRefunded.")
NOTHING_TO_REFUND = ("refund only orders you charged: when ctx.state['charges'] has nothing for "
                     "the order, return [] - no refund entry, no PaymentRefunded (not even "
                     "amount=0).")
REFUND_REANNOUNCE_HINT = ("with the outbox off, a crash can keep your refund but lose the "
                          "PaymentRefunded you returned. Refund once, but answer every delivery: "
                          "a repeated OutOfStock or ShipmentFailed gets the same PaymentRefunded "
                          "again (the order service ignores repeats).")


def refunds_once_after_shipping_fails_twice(learner: Learner) -> None:
    faults = [Duplicate(event_type="ShipmentFailed", service="payment", times=1),
              Crash(point="after_commit_before_ack", event_type="ShipmentFailed",
                    service="payment", times=1)]
    orders = [order("o-1", item="kettle", quantity=2, address="Atlantis"),
              order("o-2", customer="mallory", address="Atlantis")]
    run = payment_run(learner, orders, faults)
    expect_refunded_once(run, "o-1", REFUND_HINT)
    expect_finished(run, "o-1", "compensated")
    expect_untouched_money(run, "o-2", "o-2 was declined;", REFUND_HINT)
    first, again = published_again(run, "ShipmentFailed", "o-1", producer="shipping")
    refunds = run.ledger("o-1", "refund")
    if len(refunds) != 1:
        run.fail(f"o-1 was refunded; then shipping published its ShipmentFailed again, as a new "
                 f"message ({again.message_id}; the first was {first.message_id}). Your service "
                 f"refunded o-1 {plural(len(refunds), 'time')}.", REFUND_REPUBLISH_HINT, "o-1")
    # a failure event for the declined o-2, which was never charged (o-2 never reached
    # shipping, so only a stray event tells whether payment refunds what it never took)
    run.sim.publish(ShipmentFailed(order_id="o-2", item="book", quantity=1,
                                   reason="address unknown"), correlation_id="o-2",
                    producer="shipping")
    run.sim.run_until_idle()
    run.check_learner_errors()
    expect_untouched_money(run, "o-2", "o-2 was declined, so it was never charged; then a "
                           "ShipmentFailed for o-2 reached payment, and", NOTHING_TO_REFUND)


def recovers_from_write_publish_crashes_anywhere(learner: Learner) -> None:
    faults = [Crash(point="after_write_before_publish", service="payment", probability=0.5,
                    times=4),
              Duplicate(service="payment", probability=0.3)]
    run = charge_run(learner, random_orders(8, seed=9, failure_rate=0.5), faults,
                     outbox=False, seed=9)
    expect_oracle_consistent(run, REANNOUNCE_HINT + " The same goes for refunds: a repeated "
                             "OutOfStock or ShipmentFailed gets the same PaymentRefunded again.")
    # the refund too (a refund still the stub costs points in its own task only)
    unless_a_stub_of(learner, ("refund_payment",), lambda: refunds_after_such_a_crash(learner))


def refunds_after_such_a_crash(learner: Learner) -> None:
    faults = [Crash(point="after_write_before_publish", event_type="OutOfStock",
                    service="payment", times=1)]
    run = payment_run(learner, [order("o-1", item="lamp", quantity=50)], faults, outbox=False)
    story = ("o-1 asked for 50 lamps (3 in stock), so inventory answered OutOfStock. The payment "
             "service crashed after writing the refund for o-1 but before publishing "
             "PaymentRefunded (outbox off), and OutOfStock was delivered again")
    refunds = run.ledger("o-1", "refund")
    if len(refunds) > 1:
        run.fail(f"{story}: your service refunded o-1 again ({plural(len(refunds), 'refund')}).",
                 REFUND_HINT, "o-1")
    if refunds and not run.published("PaymentRefunded", "o-1"):
        run.fail(f"{story}: your service published no PaymentRefunded, so the order is "
                 f"{run.status('o-1')}: refunded, but the order service never hears of it.",
                 REFUND_REANNOUNCE_HINT, "o-1")
    expect_finished(run, "o-1", "compensated", REFUND_REANNOUNCE_HINT)


def survives_more_seeded_chaos(learner: Learner) -> None:
    payment = learner.service(FACTORY, "payment")
    explore_payment(payment, schedules=120, seed=2, hint=CHAOS_HINT)


HIDDEN = {
    "charge_once": (Check("charges once per order in a batch with lost acks, drops and delays",
                          1, charges_once_in_a_batch_with_lost_acks_drops_and_delays,
                          hidden=True),),
    "refund_once": (Check("refunds once when ShipmentFailed comes again, and never refunds a "
                          "declined order", 1, refunds_once_after_shipping_fails_twice,
                          hidden=True),),
    "crash_recovery": (Check("recovers from such crashes at any message of a batch", 1,
                             recovers_from_write_publish_crashes_anywhere, hidden=True),),
    "chaos": (Check("keeps every invariant over 120 more seeded fault schedules", 1,
                    survives_more_seeded_chaos, hidden=True),),
}
