"""Judging how each order ended: the money and the stock must match the saga's outcome.

These checks read the services' own states after a run, like the consistency oracle does,
and phrase what is wrong for one order in the learner's words: charged twice, refunded
without a charge, stock never put back, stuck half-way.
"""

from __future__ import annotations

from ..examples.orders import order_oracle
from ..examples.orders import where_is
from .feedback import plural
from .scenarios import SagaRun

LEDGER_HINT = ("remember which orders you charged and skip repeats - an inbox keyed by the "
               "order id, the thing that must not be charged twice.")


def expect_charged_once(run: SagaRun, order_id: str, hint: str = LEDGER_HINT) -> None:
    """The order has exactly one charge in the payment ledger, for the order's amount."""
    charges = run.ledger(order_id, "charge")
    if len(charges) == 1:
        return
    if not charges:
        run.fail(f"Order {order_id} was never charged (the ledger has no charge for it).",
                 "when you charge, add {'kind': 'charge', 'amount': ..., 'at': ctx.now} to the "
                 "order's list, ctx.state['ledger'].setdefault(order_id, []).", order_id)
    repeats = [*run.fault_records("duplicate", "payment", order_id),
               *run.fault_records("crash", "payment", order_id)]
    cause = ""
    if repeats:
        message = repeats[0]
        envelope = run.sim.trace.messages[message]
        cause = (f" after the broker delivered {envelope.event_type} {message} again "
                 "(a lost ack or a crash)")
    run.fail(f"Order {order_id} was charged {len(charges)} times (the ledger has "
             f"{plural(len(charges), 'charge')}){cause}.", hint, order_id)


def expect_refunded_once(run: SagaRun, order_id: str, hint: str) -> None:
    """The order has one refund, of exactly what was charged, and PaymentRefunded says so."""
    refunds = run.ledger(order_id, "refund")
    if len(refunds) != 1:
        said = "was never refunded" if not refunds else f"was refunded {len(refunds)} times"
        run.fail(f"Order {order_id} was charged and then could not be served, but it {said} "
                 f"(the ledger has {plural(len(refunds), 'refund')}).", hint, order_id)
    charged = run.amount(order_id, "charge")
    if refunds[0].get("amount") != charged:
        run.fail(f"Order {order_id} was charged {charged} but refunded "
                 f"{refunds[0].get('amount')!r}.", "refund exactly what was charged: look it up "
                 "in ctx.state['charges'].", order_id)
    announced = run.published("PaymentRefunded", order_id)
    if not announced:
        run.fail(f"Order {order_id} was refunded in the ledger, but PaymentRefunded was never "
                 "published, so the order service cannot finish cancelling it.",
                 "return PaymentRefunded(order_id=..., amount=...) from the refund handler.",
                 order_id)
    said = next((e.event.amount for e in announced if e.event.amount != charged), charged)
    if said != charged:
        run.fail(f"Order {order_id} was charged {charged} and the ledger refunds {charged}, but "
                 f"your PaymentRefunded says amount={said!r}.", "announce what you gave back: "
                 "PaymentRefunded(amount=...) is the refund itself, the amount charged "
                 "(ctx.state['charges']).", order_id)


def expect_untouched_money(run: SagaRun, order_id: str, why: str, hint: str) -> None:
    """Neither charged nor refunded, and no PaymentRefunded published."""
    charges, refunds = run.ledger(order_id, "charge"), run.ledger(order_id, "refund")
    announced = run.published("PaymentRefunded", order_id)
    if charges or refunds or announced:
        found = f"{plural(len(charges), 'charge')}, {plural(len(refunds), 'refund')}"
        run.fail(f"{why} yet the ledger has {found}"
                 + (" and PaymentRefunded was published" if announced else "") + ".",
                 hint, order_id)


def expect_finished(run: SagaRun, order_id: str, expected: str, hint: str = "") -> None:
    """The saga of `order_id` ended `expected` (completed / compensated)."""
    status = run.status(order_id)
    if status != expected:
        why = (": " + where_is(run.sim, order_id).verdict.removeprefix("stuck: ")
               if status == "stuck" else "")
        run.fail(f"Order {order_id} should have ended {expected}, but it is {status}{why}.",
                 hint, order_id)


def expect_consistent_outcomes(run: SagaRun, hint: str) -> None:
    """Every order ended completed (charged once) or compensated (money back, or never taken)."""
    for order_id in run.orders:
        status = run.status(order_id)
        if status == "completed":
            expect_charged_once(run, order_id, hint)
            if run.ledger(order_id, "refund"):
                run.fail(f"Order {order_id} shipped, yet it was refunded.", hint, order_id)
        elif status == "compensated":
            charged, refunded = run.amount(order_id, "charge"), run.amount(order_id, "refund")
            if charged != refunded:
                run.fail(f"Order {order_id} was cancelled, but it was charged {charged} and "
                         f"refunded {refunded}.", hint, order_id)
        else:
            expect_finished(run, order_id, "completed or compensated", hint)


def expect_oracle_consistent(run: SagaRun, hint: str) -> None:
    """The order saga's consistency oracle finds no broken invariant and nothing stuck."""
    report = order_oracle().check(run.sim)
    if report.violations:
        violation = report.violations[0]
        more = len(report.violations) - 1
        run.fail(f"The consistency oracle found a broken invariant: {violation}"
                 + (f" (and {more} more)" if more else ""), hint, violation.subject
                 if violation.subject in run.orders else None)
