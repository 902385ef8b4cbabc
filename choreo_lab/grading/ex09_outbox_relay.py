"""Exercise 9, the outbox relay: no answer lost, none sent twice, with the outbox switched off.

With `Simulation(outbox=False)` payment's state is written before its events are published,
so a crash in between keeps a charge and loses its answer. The learner writes two functions
that ``make_payment_service()`` plugs into the saga's payment (`outbox_payment`):

- ``keep_in_outbox(ctx, event)``: keep the answer as a row of ``ctx.state["outbox"]``, in the
  handler's own commit, under a row id that no other answer will ever have;
- ``send_outbox(ctx)``: the relay: publish each row under its row id, in its order's
  workflow, and only then mark it sent.

The checks of each task judge one function: task 1 switches the relay off and reads the rows
the handlers left; task 2 writes the rows itself (with `as_row`) and runs the learner's relay
alone; the last task runs both under every single crash, at every publish of the relay and
every delivery to payment, and then the chaos explorer.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from .. import vocabulary as words
from ..chaos import FaultSpace, explore
from ..context import Context
from ..events import Event
from ..examples.orders import (
    as_row,
    order_oracle,
    order_services,
    outbox_payment,
    place_orders,
    random_orders,
)
from ..faults import AnyFault, Crash, Duplicate, FaultPlan, RelayCrash
from ..service import Service
from ..simulation import Simulation
from .feedback import explain, fault_calls, plural
from .learner import STUB_HINT, Learner
from .outcomes import expect_oracle_consistent
from .scenarios import SagaRun, excerpt_heading, order, run_saga, shown_records
from .tasks import Check, Failed, Task

EXERCISE = "ex09-outbox-relay"
FACTORY = "make_payment_service"
ROW_FIELDS = ("type", "fields", "cause")

#: The orders most checks place: one that ships, one declined, one out of stock (a refund).
ORDERS = (order("o-1", item="book"), order("o-2", customer="mallory", item="lamp"),
          order("o-3", item="kettle", quantity=50))


def learner_payment(learner: Learner) -> Service:
    """The learner's payment service, checked to have a relay."""
    payment = learner.service(FACTORY, "payment")
    if payment.outbox_relay is None:
        raise Failed("Your payment service has no relay, so nothing in its outbox is ever "
                     "published. Register one: @payment.relay(every=RELAY_EVERY) on "
                     "send_outbox, as make_payment_service() does.")
    return payment


def relay_off(payment: Service) -> Service:
    """`payment` with its relay switched off: the rows its handlers write stay where they are."""
    copy = payment.wrapped()
    copy.outbox_relay = None
    return copy


def rows_kept_by_the_check(ctx: Context, event: Event) -> None:
    """The rows task 2 gives the learner's relay: one per answer, named after its message."""
    ctx.state["outbox"][f"{ctx.message_id}/{type(event).event_type}"] = as_row(event, ctx.message_id)


def relay_alone(learner: Learner) -> Service:
    """The saga's payment with the check's rows and the learner's relay."""
    relay = learner_payment(learner).outbox_relay
    assert relay is not None
    return outbox_payment(rows_kept_by_the_check, relay.function, every=relay.every)


def saga(learner: Learner, payment: Service, orders: Sequence[dict[str, Any]] = ORDERS,
         faults: Sequence[AnyFault] = (), *, seed: int = 1) -> SagaRun:
    """The orders through the saga with this payment, the outbox off; relay errors fail."""
    run = run_saga(learner, {"payment": payment}, orders, faults, outbox=False, seed=seed)
    expect_relay_ran(run)
    return run


def expect_relay_ran(run: SagaRun) -> None:
    """Fail if the relay raised (a stub, or a bug): say what and where."""
    for record in run.sim.trace.where(kind=words.RELAY_CRASH, service="payment"):
        if "raised" not in record.detail:
            continue  # a crash the check injected
        if "NotImplementedError" in record.detail:
            raise Failed(f"Your relay send_outbox() {STUB_HINT}.")
        run.fail(f"Your relay failed at t={record.time}: {record.detail}. The broker runs it "
                 "again later, but it fails every time, so rows stay in the outbox.",
                 "a relay reads ctx.state['outbox'], publishes with ctx.publish(event, "
                 "message_id=..., cause=...) and marks the rows sent.")


def answers(run: SagaRun, order_id: str) -> list[str]:
    """What payment published for the order, as "PaymentCompleted m7" lines."""
    return [f"{envelope.event_type} {envelope.message_id}"
            for envelopes in run.sim.topics.values() for envelope in envelopes
            if envelope.producer == "payment" and getattr(envelope.event, "order_id", None) == order_id]


# -- task "outbox": the rows, written in the handler's commit ---------------------------------
def rows_of(run: SagaRun) -> dict[Any, Any]:
    outbox = run.sim.state("payment").get("outbox")
    if not isinstance(outbox, dict):
        run.fail("The payment service's state has no `outbox` dict any more.",
                 "keep rows in ctx.state['outbox'][row_id] = as_row(event, ctx.message_id).")
    return outbox


def expect_row(run: SagaRun, rows: dict[Any, Any], order_id: str, event_type: str) -> str:
    """The one row holding `event_type` for `order_id`, well formed; its id."""
    placed = run.published("OrderPlaced", order_id)
    found = [(row_id, row) for row_id, row in rows.items() if isinstance(row, dict)
             and row.get("type") == event_type
             and isinstance(row.get("fields"), dict) and row["fields"].get("order_id") == order_id]
    published = answers(run, order_id)
    if published:
        run.fail(f"Payment published {published[0]} itself, from its handler. With the outbox "
                 "off that is the dual write: a crash after the charge loses the answer.",
                 "keep_in_outbox should store the event as a row and return None; the relay "
                 "publishes it.", order_id)
    if len(found) != 1:
        shown = ", ".join(repr(row_id) for row_id in list(rows)[:4]) or "none"
        run.fail(f"After payment handled {order_id}, its outbox should hold one row with its "
                 f"{event_type}; it holds {plural(len(found), 'such row')} (row ids: {shown}).",
                 "ctx.state['outbox'][row_id] = as_row(event, ctx.message_id).", order_id)
    row_id, row = found[0]
    if not isinstance(row_id, str) or not row_id or (row_id[:1] == "m" and row_id[1:].isdigit()):
        run.fail(f"The row for {order_id}'s {event_type} has the id {row_id!r}. The relay "
                 "publishes it under that id, so it must be text of your own (m1, m2, ... are "
                 "the broker's ids).", "e.g. f'{ctx.message_id}/{type(event).event_type}'.",
                 order_id)
    if set(row) != set(ROW_FIELDS) or row.get("cause") != placed[0].message_id:
        run.fail(f"The row for {order_id}'s {event_type} is {row!r}; a row holds exactly "
                 f"type, fields and cause, and its cause is the message being handled "
                 f"({placed[0].message_id}), so the relay's message joins {order_id}'s workflow.",
                 "as_row(event, ctx.message_id) makes such a row.", order_id)
    return row_id


def keeps_each_answer_as_a_row(learner: Learner) -> None:
    run = saga(learner, relay_off(learner_payment(learner)), ORDERS[:2])
    rows = rows_of(run)
    expect_row(run, rows, "o-1", "PaymentCompleted")
    expect_row(run, rows, "o-2", "PaymentDeclined")


def keeps_the_answer_through_a_crash_after_the_write(learner: Learner) -> None:
    run = saga(learner, relay_off(learner_payment(learner)), ORDERS[:1], [
        Crash(service="payment", event_type="OrderPlaced", point="after_write_before_publish",
              times=1)])
    expect_row(run, rows_of(run), "o-1", "PaymentCompleted")


def names_rows_for_good(learner: Learner, orders: Sequence[dict[str, Any]] = ORDERS[:2]) -> None:
    """Orders one after the other; between them the check clears the outbox, as a relay would."""
    payment = relay_off(learner_payment(learner))
    run = saga(learner, payment, orders[:1])
    seen: dict[str, str] = {}
    for position, placed in enumerate(orders):
        if position:
            place_orders(run.sim, [placed])
            run.sim.run_until_idle()
            run.check_learner_errors()
        rows = rows_of(run)
        if not rows:
            run.fail(f"After payment handled {placed['order_id']}, its outbox is empty.",
                     "keep each answer: ctx.state['outbox'][row_id] = as_row(event, "
                     "ctx.message_id).", placed["order_id"])
        for row_id in list(rows):
            if row_id in seen:
                run.fail(f"The row for {placed['order_id']} has the id {row_id!r}, which "
                         f"{seen[row_id]}'s answer had, and that row was sent already. The "
                         "broker keeps a message id once, so this answer would be dropped as "
                         "a repeat.", "name a row after what it answers, e.g. "
                         "f'{ctx.message_id}/{type(event).event_type}', never after a count "
                         "of the rows in the table.", placed["order_id"])
            seen[row_id] = placed["order_id"]
        rows.clear()  # as if a relay had sent them


# -- task "relay": publish, then mark sent -----------------------------------------------------
CAUSE_HINT = ("ctx.publish(event_of(row), message_id=row_id, cause=row['cause']): the cause "
              "puts the message in its order's workflow.")
ID_HINT = ("publish each row under its row id, ctx.publish(..., message_id=row_id): the broker "
           "keeps a message id once, so a row sent again after a crash is not sent twice.")
ORDER_HINT = ("publish a row first, then mark it sent (delete it): a crash between the two "
              "only sends it again, and that is harmless with message_id=row_id.")


def expect_every_order_ends(run: SagaRun, hint: str) -> None:
    for order_id in run.orders:
        if run.ledger(order_id, "charge") and not answers(run, order_id):
            run.fail(f"Payment charged {order_id} but never published its answer: it was lost.",
                     hint, order_id)
    expect_oracle_consistent(run, hint)


def expect_each_answer_once(run: SagaRun, hint: str = ID_HINT) -> None:
    for order_id in run.orders:
        counts = Counter(line.split()[0] for line in answers(run, order_id))
        twice = [event_type for event_type, count in counts.items() if count > 1]
        if twice:
            run.fail(f"Payment's {twice[0]} for {order_id} was published "
                     f"{counts[twice[0]]} times: {', '.join(answers(run, order_id))}.", hint,
                     order_id)


def publishes_every_row_in_its_workflow_and_marks_it_sent(learner: Learner) -> None:
    run = saga(learner, relay_alone(learner))
    for envelopes in run.sim.topics.values():
        for envelope in envelopes:
            if envelope.producer == "payment" and envelope.correlation_id not in run.orders:
                run.fail(f"Your relay published {envelope.event_type} {envelope.message_id} "
                         f"for {envelope.event.order_id}, but in a workflow of its own "
                         f"({envelope.correlation_id!r}).", CAUSE_HINT)
    expect_every_order_ends(run, CAUSE_HINT)
    expect_each_answer_once(run)
    resent = run.sim.trace.where(kind=words.DEDUP, service="payment")
    if resent:
        record = resent[0]
        order_id = run.sim.trace.messages[record.message_id or ""].correlation_id
        run.fail(f"Your relay sent {record.message_id} again at t={record.time}, with nothing "
                 "gone wrong. The broker dropped it, but a relay that never marks its rows "
                 "sent sends the whole table every time it runs.",
                 "after ctx.publish(...), delete the row (or mark it sent and skip it).",
                 order_id)


def loses_no_row_when_it_crashes_before_a_publish(learner: Learner) -> None:
    run = saga(learner, relay_alone(learner), ORDERS, [
        RelayCrash(service="payment", point="before_publish", occurrence=1),
        RelayCrash(service="payment", point="before_publish", occurrence=3)])
    expect_every_order_ends(run, ORDER_HINT)


def sends_no_row_twice_when_it_crashes_after_a_publish(learner: Learner) -> None:
    run = saga(learner, relay_alone(learner), ORDERS, [
        RelayCrash(service="payment", point="after_publish", times=2)])
    expect_each_answer_once(run)
    expect_every_order_ends(run, ID_HINT)


# -- task "relay_chaos": both, under every single crash, then the explorer --------------------
def single_crashes(publishes: int, deliveries: int) -> list[AnyFault]:
    """Every relay crash at each of its publishes, and every crash and lost ack at payment."""
    faults: list[AnyFault] = [RelayCrash(service="payment", point=point, occurrence=n)
                              for n in range(1, publishes + 1)
                              for point in ("before_publish", "after_publish")]
    for n in range(1, deliveries + 1):
        faults += [Crash(service="payment", point=point, occurrence=n)
                   for point in ("before_commit", "after_write_before_publish",
                                 "after_commit_before_ack")]
        faults.append(Duplicate(service="payment", occurrence=n))
    return faults


def survives_every_single_crash(learner: Learner, orders: Sequence[dict[str, Any]] = ORDERS,
                                seed: int = 1) -> None:
    payment = learner_payment(learner)
    control = saga(learner, payment, orders, seed=seed)
    expect_every_order_ends(control, ORDER_HINT)
    publishes = sum(1 for e in control.sim.trace.messages.values() if e.producer == "payment")
    deliveries = len(control.sim.trace.where(kind="deliver", service="payment"))
    for fault in single_crashes(publishes, deliveries):
        run = saga(learner, payment, orders, [fault], seed=seed)
        expect_each_answer_once(run)
        expect_every_order_ends(run, ORDER_HINT + " Keep the row in the handler's commit.")


def survives_the_chaos_explorer(learner: Learner, *, schedules: int = 30, seed: int = 1) -> None:
    payment = learner_payment(learner)
    orders = random_orders(4, seed=seed, failure_rate=0.5)

    def system(sim_seed: int, faults: FaultPlan) -> Simulation:
        return Simulation(order_services(payment=payment), seed=sim_seed, faults=faults,
                          outbox=False)

    space = FaultSpace(kinds=("duplicate", "crash", "drop", "kill"), max_faults=2,
                       services=("payment",))
    result = explore(system, lambda sim: place_orders(sim, orders), order_oracle(),
                     schedules=schedules, seed=seed, space=space)
    found = result.counterexample
    if found is None:
        return
    violation = found.violations[0]
    excerpt = ([excerpt_heading(violation.subject), *shown_records(found.trace, violation.subject)[:15]]
               if violation.subject.startswith("o-") else [])
    replay = ("Replay it:\n  from choreo_lab import Simulation, Crash, Drop, Duplicate, Kill, Restart\n"
              "  from choreo_lab.examples.orders import order_services, place_orders, random_orders\n"
              "  sim = Simulation(order_services(payment=make_payment_service()), outbox=False, "
              f"seed={found.seed}, faults=[{fault_calls(found.plan)}])\n"
              f"  place_orders(sim, random_orders(4, seed={seed}, failure_rate=0.5))\n"
              "  sim.run_until_idle(); print(sim.trace.dump())")
    raise Failed(explain(f"The chaos explorer ran {plural(result.schedules, 'fault schedule')}; "
                         f"{result.failed} broke the saga. The smallest failing schedule breaks "
                         f"this invariant: {violation}", ORDER_HINT + "\n" + replay, None, excerpt))


def survives_single_crashes_then_the_explorer(learner: Learner) -> None:
    survives_every_single_crash(learner)
    survives_the_chaos_explorer(learner)


TASKS = (
    Task("outbox", EXERCISE, "keep each answer as a row, in the handler's commit", (
        Check("keeps each answer as a row in its outbox and publishes nothing itself", 1,
              keeps_each_answer_as_a_row),
        Check("keeps the answer when payment crashes between its write and its publish", 1,
              keeps_the_answer_through_a_crash_after_the_write),
        Check("names each row for good: no answer reuses the id of a row already sent", 1,
              names_rows_for_good),
    ), hidden_count=1, hidden_points=1),
    Task("relay", EXERCISE, "the relay: publish each row under its id, then mark it sent", (
        Check("publishes every row in its order's workflow, once, and marks it sent", 1,
              publishes_every_row_in_its_workflow_and_marks_it_sent),
        Check("loses no row when the relay crashes before a publish", 1,
              loses_no_row_when_it_crashes_before_a_publish),
        Check("sends no row twice when the relay crashes after a publish", 1,
              sends_no_row_twice_when_it_crashes_after_a_publish),
    ), hidden_count=1, hidden_points=1),
    Task("relay_chaos", EXERCISE, "both together, under every single crash and the explorer", (
        Check("keeps the saga consistent under every single crash and 30 seeded schedules", 1,
              survives_single_crashes_then_the_explorer),
    ), hidden_count=1, hidden_points=1),
)
