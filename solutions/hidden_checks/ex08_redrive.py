"""Hidden checks of exercise 8 (re-drive): other addresses and orders, the same lessons."""

from __future__ import annotations

from choreo_lab.faults import Crash
from choreo_lab.grading.ex08_redrive import (
    FIXED,
    broken_then_fixed,
    expect_po_boxes_failed,
    expect_unfixed_left_alone,
    redrive_chosen,
    shipping_crashes,
)
from choreo_lab.grading.learner import Learner
from choreo_lab.grading.outcomes import expect_finished
from choreo_lab.grading.scenarios import order, run_saga
from choreo_lab.grading.tasks import Check

OTHERS = [order("o-5", address="PO BOX 3"), order("o-6", item="lamp"),
          order("o-7", item="kettle", quantity=2, address="Po Box 99"),
          order("o-8", address="Atlantis")]


def answers_po_boxes_in_any_case_among_other_orders(learner: Learner) -> None:
    run = run_saga(learner, {"shipping": learner.service(FIXED, "shipping")}, OTHERS)
    expect_po_boxes_failed(run, ["o-5", "o-7"])
    expect_finished(run, "o-6", "completed")
    expect_finished(run, "o-8", "compensated")


def redrives_only_what_the_fix_fixed_among_many_letters(learner: Learner) -> None:
    run = broken_then_fixed(learner, [*OTHERS, order("o-9", item="book"),
                                      order("o-10", item="kettle", address="2 Side St")], [
        Crash(service="payment", correlation_id="o-9", point="before_commit"),
        shipping_crashes("o-10")])
    chosen = redrive_chosen(learner, run, unfixed=["o-10"])
    expect_po_boxes_failed(run, ["o-5", "o-7"])
    if run.sim.trace.where(kind="redrive", service="payment"):
        run.fail("payment's letter of o-9 (a crash nobody fixed) was re-driven.",
                 "re-drive only shipping's letters that died of the parse error.", "o-9")
    expect_unfixed_left_alone(run, chosen, "o-10")


HIDDEN = {
    "fix_shipping": (Check("answers PO boxes written in any case, among other orders", 1,
                           answers_po_boxes_in_any_case_among_other_orders, hidden=True),),
    "redrive": (Check("re-drives only what the fix fixed, among more letters", 1,
                      redrives_only_what_the_fix_fixed_among_many_letters, hidden=True),),
}
