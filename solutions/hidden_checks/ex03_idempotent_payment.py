"""Hidden checks of exercise 3 (the idempotent payment): other situations, the same lessons."""

from __future__ import annotations

from choreo_lab.examples.orders import random_orders
from choreo_lab.faults import Crash, Delay, Drop, Duplicate, Reorder
from choreo_lab.grading.chaos_runs import explore_payment
from choreo_lab.grading.ex03_idempotent_payment import (
    CHAOS_HINT,
    FACTORY,
    REANNOUNCE_HINT,
    REFUND_HINT,
    charge_run,
    payment_run,
)
from choreo_lab.grading.learner import Learner
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


def recovers_from_write_publish_crashes_anywhere(learner: Learner) -> None:
    faults = [Crash(point="after_write_before_publish", service="payment", probability=0.5,
                    times=4),
              Duplicate(service="payment", probability=0.3)]
    run = charge_run(learner, random_orders(8, seed=9, failure_rate=0.5), faults,
                     outbox=False, seed=9)
    expect_oracle_consistent(run, REANNOUNCE_HINT + " The same goes for refunds: a repeated "
                             "OutOfStock or ShipmentFailed gets the same PaymentRefunded again.")


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
