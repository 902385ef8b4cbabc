"""Hidden checks of exercise 6 (the fraud check in both designs): other data, the same lessons."""

from __future__ import annotations

from choreo_lab.faults import Duplicate
from choreo_lab.grading.ex06_orchestration import (
    ASKED,
    CHARGE,
    CHOREOGRAPHED,
    ORCHESTRATED,
    FraudRun,
    expect_cleared_and_shipped,
    expect_one_verdict,
    expect_stopped,
    explore_design,
    fraud_run,
    runs_with_first_checks_lost,
)
from choreo_lab.grading.learner import Learner
from choreo_lab.grading.scenarios import order
from choreo_lab.grading.tasks import Check

#: another watch list: eve is no longer on it
WATCH_LIST = ("trudy", "oscar")
#: o-6 and o-7 buy what the suspects buy (a unicorn, kettles): a fraud check that suspects the
#: item, not the customer on the watch list, stops them too
ORDERS = [order("o-1", customer="trudy", item="kettle", quantity=2),
          order("o-2", customer="eve", item="lamp"),
          order("o-3", customer="oscar", item="unicorn"),
          order("o-4", customer="grace", item="book", quantity=3),
          order("o-5", customer="mallory"),
          order("o-6", customer="ada", item="unicorn"),
          order("o-7", customer="grace", item="kettle", quantity=2)]


def expect_the_watch_list_kept(run: FraudRun) -> None:
    for order_id in ("o-1", "o-3"):
        expect_stopped(run, order_id)
    for order_id in ("o-2", "o-4"):
        expect_cleared_and_shipped(run, order_id)
    for order_id in run.orders:
        expect_one_verdict(run, order_id)
    expect_only_the_watch_list_suspected(run)
    if run.status("o-5") != "compensated":
        run.fail(f"o-5 (mallory, whose card is declined) passed the fraud check and should "
                 f"have been cancelled by the decline, but it is {run.status('o-5')}: "
                 f"{run.where('o-5')}.", "after the fraud check, the flow goes on as before: "
                 "a declined card still cancels the order.", "o-5")


def expect_only_the_watch_list_suspected(run: FraudRun) -> None:
    """Every order of a customer not on the watch list was cleared, not suspected (a declined
    card or an out-of-stock item cancels it anyway, so its end alone does not tell)."""
    cleared = CHARGE[run.design][1]
    for envelope in run.sim.topics.get("OrderRequested", []):
        order_id, customer = envelope.correlation_id or "", envelope.event.customer
        if customer in run.suspects:
            continue
        verdicts = run.verdicts(order_id)
        if "FraudSuspected" in verdicts or cleared not in verdicts:
            said = ", ".join(verdicts) if verdicts else "nothing"
            run.fail(f"{customer} of {order_id} is not on the watch list {list(run.suspects)}, "
                     f"yet the fraud check answered {said}, not {cleared}.",
                     "suspect exactly the customers in the suspects list your factory was "
                     "given (keep it in the service's state), and clear everyone else, "
                     "whatever they buy.",
                     order_id)


def stops_every_suspect_on_another_watch_list(learner: Learner, design: str) -> None:
    expect_the_watch_list_kept(fraud_run(
        learner, design, ORDERS, [Duplicate(service="fraud", event_type=ASKED[design], times=3)],
        suspects=WATCH_LIST, seed=4))
    for run in runs_with_first_checks_lost(learner, design, ORDERS, suspects=WATCH_LIST, seed=4):
        expect_the_watch_list_kept(run)


def in_the_choreography(learner: Learner) -> None:
    stops_every_suspect_on_another_watch_list(learner, CHOREOGRAPHED)


def in_the_orchestration(learner: Learner) -> None:
    stops_every_suspect_on_another_watch_list(learner, ORCHESTRATED)


def survives_more_chaos(learner: Learner) -> None:
    for design in (CHOREOGRAPHED, ORCHESTRATED):
        explore_design(learner, design, ORDERS[:4], schedules=40, seed=2, suspects=WATCH_LIST)


HIDDEN = {
    "choreographed_fraud": (Check("fraud service and payment: stop every suspect on another "
                                  "watch list, and only them", 1,
                                  in_the_choreography, hidden=True),),
    "orchestrated_fraud": (Check("fraud participant and orchestrator: stop every suspect on "
                                 "another watch list, and only them", 1,
                                 in_the_orchestration, hidden=True),),
    "fraud_chaos": (Check("keeps every invariant in both designs over 40 more schedules each", 1,
                          survives_more_chaos, hidden=True),),
}
