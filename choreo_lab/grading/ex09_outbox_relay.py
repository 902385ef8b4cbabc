"""Exercise 9, the outbox relay: no answer lost, none sent twice, with the outbox switched off.

With `Simulation(outbox=False)` shipping's state is written before its events are published,
so a crash in between keeps a shipment and loses its answer. The learner writes two functions
that the notebook's ``make_shipping_service()`` plugs into the saga's shipping:

- ``keep_in_outbox(ctx, event)``: keep the answer as a row of ``ctx.state["outbox"]``, in the
  handler's own commit, under a row id that no other answer will ever have;
- ``send_outbox(ctx)``: the relay: publish each row under its row id, in its order's
  workflow, and only then mark it sent.

The checks of each task judge one function: task 1 switches the relay off and reads the rows
the handlers left; task 2 writes the rows itself (with `as_row`) and runs the learner's relay
alone; the last task runs both under every single crash, at every publish of the relay and
every delivery to shipping, and then the chaos explorer.
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
    UNSHIPPABLE,
    make_shipping_service,
    order_oracle,
    order_services,
    place_orders,
    random_orders,
)
from ..faults import AnyFault, Crash, Duplicate, FaultPlan, RelayCrash
from ..outbox import Keep, answers_kept_by, as_row
from ..service import RelayFunction, Service
from ..simulation import Simulation
from ..trace import Trace
from .audit import AuditedSimulation
from .feedback import explain, fault_calls, plural
from .learner import STUB_HINT, Learner
from .outcomes import expect_oracle_consistent
from .scenarios import SagaRun, excerpt_heading, order, run_saga, shown_records
from .tasks import Check, Failed, Task

EXERCISE = "ex09-outbox-relay"
FACTORY = "make_shipping_service"
SERVICE = "shipping"
RELAY_EVERY = 20  # virtual ms from a commit to the relay's run
ROW_FIELDS = ("type", "fields", "cause")

#: The orders most checks place: two that ship, one to an address shipping cannot serve
#: (ShipmentFailed, then the compensations).
ORDERS = (order("o-1", item="book"), order("o-2", item="lamp", address=UNSHIPPABLE[0]),
          order("o-3", item="kettle", quantity=2))


def outbox_shipping(keep: Keep, relay: RelayFunction, *, every: int = RELAY_EVERY) -> Service:
    """The saga's shipping service, its answers given to `keep` and published by `relay`."""
    plain = make_shipping_service()
    shipping = Service(SERVICE, {**plain.initial_state, "outbox": {}},
                       middleware=[answers_kept_by(keep)])
    shipping.handlers = dict(plain.handlers)
    shipping.relay(every=every)(relay)
    return shipping


def learner_shipping(learner: Learner) -> Service:
    """The learner's shipping service, checked to have a relay."""
    shipping = learner.service(FACTORY, SERVICE)
    if shipping.outbox_relay is None:
        raise Failed("Your shipping service has no relay, so nothing in its outbox is ever "
                     "published. Register one with @shipping.relay(every=...), as "
                     "make_shipping_service() does.")
    return shipping


def relay_off(shipping: Service) -> Service:
    """`shipping` with its relay switched off: the rows its handlers write stay where they are."""
    copy = shipping.wrapped()
    copy.outbox_relay = None
    return copy


def rows_kept_by_the_check(ctx: Context, event: Event) -> None:
    """The rows task 2 gives the learner's relay: one per answer, named after its message."""
    ctx.state["outbox"][f"{ctx.message_id}/{type(event).event_type}"] = as_row(event, ctx.message_id)


def relay_alone(learner: Learner) -> Service:
    """The saga's shipping with the check's rows and the learner's relay."""
    relay = learner_shipping(learner).outbox_relay
    assert relay is not None
    return outbox_shipping(rows_kept_by_the_check, relay.function, every=relay.every)


def saga(learner: Learner, shipping: Service, orders: Sequence[dict[str, Any]] = ORDERS,
         faults: Sequence[AnyFault] = (), *, seed: int = 1) -> SagaRun:
    """The orders through the saga with this shipping, the outbox off; relay errors fail."""
    try:
        run = run_saga(learner, {SERVICE: shipping}, orders, faults, outbox=False, seed=seed)
    except Failed as failed:
        if str(failed).startswith(f"Your handler {SERVICE}.") and "NotImplementedError" in str(failed):
            # the handler is the notebook's; what still raises is the function it calls
            raise Failed(f"Your keep_in_outbox() (which shipping's handler calls) "
                         f"{STUB_HINT}.") from None
        raise
    expect_relay_ran(run)
    expect_in_workflow(run)
    expect_no_reused_id(run.sim.trace, run)
    return run


def expect_in_workflow(run: SagaRun) -> None:
    """Fail if shipping published a message outside the workflow of the order it is about."""
    for envelopes in run.sim.topics.values():
        for envelope in envelopes:
            order_id = getattr(envelope.event, "order_id", None)
            if envelope.producer == SERVICE and envelope.correlation_id != order_id:
                run.fail(f"Your relay published {envelope.event_type} {envelope.message_id} "
                         f"for {order_id}, but in a workflow of its own "
                         f"({envelope.correlation_id!r}), so nobody following {order_id} sees "
                         "it.", CAUSE_HINT)


def reused_id(trace: Trace) -> str | None:
    """A sentence if shipping published a new answer under an id an earlier one had."""
    for record in trace.where(kind=words.DEDUP, service=SERVICE):
        kept = trace.messages[record.message_id or ""]
        if not record.detail.endswith(str(kept.event)):
            return (f"Shipping published {record.detail.split('dropped ')[-1]} under the id "
                    f"{record.message_id!r}, which {kept.event} had already, so the broker "
                    "dropped it as a repeat and that answer was lost.")
    return None


def expect_no_reused_id(trace: Trace, run: SagaRun) -> None:
    problem = reused_id(trace)
    if problem:
        run.fail(problem, REUSED_HINT)


def expect_relay_ran(run: SagaRun) -> None:
    """Fail if the relay raised (a stub, or a bug): say what and where."""
    for record in run.sim.trace.where(kind=words.RELAY_CRASH, service=SERVICE):
        if "raised" not in record.detail:
            continue  # a crash the check injected
        if "NotImplementedError" in record.detail:
            raise Failed(f"Your relay send_outbox() {STUB_HINT}.")
        run.fail(f"Your relay failed at t={record.time}: {record.detail}. The broker runs it "
                 "again later, but it fails every time, so rows stay in the outbox.",
                 "a relay reads ctx.state['outbox'], publishes with ctx.publish(event, "
                 "message_id=..., cause=...) and marks the rows sent.")


def answers(run: SagaRun, order_id: str) -> list[str]:
    """What shipping published for the order, as "ShipmentScheduled m7" lines."""
    return [f"{envelope.event_type} {envelope.message_id}"
            for envelopes in run.sim.topics.values() for envelope in envelopes
            if envelope.producer == SERVICE and getattr(envelope.event, "order_id", None) == order_id]


def decided(run: SagaRun, order_id: str) -> bool:
    """Has shipping committed a decision (a shipment or a failure) for the order?"""
    state = run.sim.state(SERVICE)
    return any(isinstance(state.get(table), dict) and order_id in state[table]
               for table in ("shipments", "failed"))


# -- task "outbox": the rows, written in the handler's commit ---------------------------------
def rows_of(run: SagaRun) -> dict[Any, Any]:
    outbox = run.sim.state(SERVICE).get("outbox")
    if not isinstance(outbox, dict):
        run.fail("The shipping service's state has no `outbox` dict any more.",
                 "keep rows in ctx.state['outbox'][row_id] = as_row(event, ctx.message_id).")
    return outbox


def expect_row(run: SagaRun, rows: dict[Any, Any], order_id: str, event_type: str) -> str:
    """The one row holding `event_type` for `order_id`, well formed; its id."""
    placed = run.published("InventoryReserved", order_id)
    found = [(row_id, row) for row_id, row in rows.items() if isinstance(row, dict)
             and row.get("type") == event_type
             and isinstance(row.get("fields"), dict) and row["fields"].get("order_id") == order_id]
    published = answers(run, order_id)
    if published:
        run.fail(f"Shipping published {published[0]} itself, from its handler. With the outbox "
                 "off that is the dual write: a crash after the state write loses the answer.",
                 "keep_in_outbox should store the event as a row and return None; the relay "
                 "publishes it.", order_id)
    if len(found) != 1:
        shown = ", ".join(repr(row_id) for row_id in list(rows)[:4]) or "none"
        run.fail(f"After shipping handled {order_id}, its outbox should hold one row with its "
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
    run = saga(learner, relay_off(learner_shipping(learner)), ORDERS[:2])
    rows = rows_of(run)
    expect_row(run, rows, "o-1", "ShipmentScheduled")
    expect_row(run, rows, "o-2", "ShipmentFailed")


def keeps_the_answer_through_a_crash_after_the_write(learner: Learner) -> None:
    run = saga(learner, relay_off(learner_shipping(learner)), ORDERS[:1], [
        Crash(service=SERVICE, event_type="InventoryReserved",
              point="after_write_before_publish", times=1)])
    expect_row(run, rows_of(run), "o-1", "ShipmentScheduled")


def names_rows_for_good(learner: Learner, orders: Sequence[dict[str, Any]] = ORDERS) -> None:
    """Orders one after the other; between them the check clears the outbox, as a relay would.

    First the same run twice: its rows must have the same ids both times (see
    `expect_same_rows_again`). Before each later order shipping is restarted: the service
    the learner's code builds in a fresh process is deployed (state, backlog and place in the
    log stay; the process before it ends), so a row id taken from a process's memory (a
    counter) starts over and repeats, at the latest between two restarted processes, which
    start alike. In-process (`Learner.restarted` is the same learner) only the first test runs.
    """
    shipping = relay_off(learner_shipping(learner))
    run = saga(learner, shipping, orders[:1])
    expect_same_rows_again(run, saga(learner, shipping, orders[:1]), orders[0]["order_id"])
    seen: dict[str, str] = {}
    restarted = False
    for position, placed in enumerate(orders):
        if position:
            fresh = learner.restarted()
            restarted = fresh is not learner
            if restarted:
                run.sim.deploy(relay_off(learner_shipping(fresh)))
            place_orders(run.sim, [placed])
            run.sim.run_until_idle()
            run.check_learner_errors()
        rows = rows_of(run)
        if not rows:
            run.fail(f"After shipping handled {placed['order_id']}, its outbox is empty.",
                     "keep each answer: ctx.state['outbox'][row_id] = as_row(event, "
                     "ctx.message_id).", placed["order_id"])
        for row_id in list(rows):
            if row_id in seen:
                after = (f"Shipping was restarted before {placed['order_id']} (a new process: "
                         "its code run again, its state kept), and then the " if restarted
                         else "The ")
                run.fail(f"{after}row for {placed['order_id']} got the id {row_id!r}, which "
                         f"{seen[row_id]}'s answer had, and that row was sent already. The "
                         "broker keeps a message id once, so this answer would be dropped as "
                         "a repeat. A row id kept in the process's memory (a counter) starts "
                         "over when the process does.", REUSED_HINT, placed["order_id"])
            seen[row_id] = placed["order_id"]
        rows.clear()  # as if a relay had sent them


def expect_same_rows_again(run: SagaRun, again: SagaRun, order_id: str) -> None:
    """The same run twice, from the same start, must name the same rows.

    Everything in a run follows from its seed except what a handler keeps in the memory of
    its process (a counter, a clock, a random number): that is what a restart loses. A row
    named from it gets another id when its message comes again after a restart, so the
    broker cannot tell the answer is a repeat, or drops a new answer that reuses an old id.
    """
    first, second = sorted(map(str, rows_of(run))), sorted(map(str, rows_of(again)))
    if first != second:
        run.fail(f"The same order run twice from the same start got rows named differently: "
                 f"{', '.join(first)} the first time, {', '.join(second)} the second. A row id "
                 "taken from the process's memory (a counter, a clock, a random number) is not "
                 "the same when the message comes again after a restart.", REUSED_HINT,
                 order_id)


REUSED_HINT = ("name a row after what it answers, e.g. f'{ctx.message_id}/"
               "{type(event).event_type}', never after a count of the rows in the table.")


# -- task "relay": publish, then mark sent -----------------------------------------------------
CAUSE_HINT = ("ctx.publish(event_of(row), message_id=row_id, cause=row['cause']): the cause "
              "puts the message in its order's workflow.")
ID_HINT = ("publish each row under its row id, ctx.publish(..., message_id=row_id): the broker "
           "keeps a message id once, so a row sent again after a crash is not sent twice.")
ORDER_HINT = ("publish a row first, then mark it sent (delete it): a crash between the two "
              "only sends it again, and that is harmless with message_id=row_id.")


def expect_every_order_ends(run: SagaRun, hint: str) -> None:
    for order_id in run.orders:
        if decided(run, order_id) and not answers(run, order_id):
            run.fail(f"Shipping decided on {order_id} (its state says so) but never published "
                     "its answer: it was lost.",
                     hint, order_id)
    expect_oracle_consistent(run, hint)


def expect_each_answer_once(run: SagaRun, hint: str = ID_HINT) -> None:
    for order_id in run.orders:
        counts = Counter(line.split()[0] for line in answers(run, order_id))
        twice = [event_type for event_type, count in counts.items() if count > 1]
        if twice:
            run.fail(f"Shipping's {twice[0]} for {order_id} was published "
                     f"{counts[twice[0]]} times: {', '.join(answers(run, order_id))}.", hint,
                     order_id)


def publishes_every_row_in_its_workflow_and_marks_it_sent(learner: Learner) -> None:
    run = saga(learner, relay_alone(learner))
    place_orders(run.sim, [order("o-4", item="lamp")])  # later: the relay runs once more
    run.orders["o-4"] = order("o-4", item="lamp")
    run.sim.run_until_idle()
    expect_relay_ran(run)
    expect_in_workflow(run)
    expect_every_order_ends(run, CAUSE_HINT)
    expect_each_answer_once(run)
    resent = run.sim.trace.where(kind=words.DEDUP, service=SERVICE)
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
        RelayCrash(service=SERVICE, point="before_publish", occurrence=1),
        RelayCrash(service=SERVICE, point="before_publish", occurrence=3)])
    expect_every_order_ends(run, ORDER_HINT)


def sends_no_row_twice_when_it_crashes_after_a_publish(learner: Learner) -> None:
    run = saga(learner, relay_alone(learner), ORDERS, [
        RelayCrash(service=SERVICE, point="after_publish", times=2)])
    expect_each_answer_once(run)
    expect_every_order_ends(run, ID_HINT)


# -- task "relay_chaos": both, under every single crash, then the explorer --------------------
def single_crashes(publishes: int, deliveries: int) -> list[AnyFault]:
    """Every relay crash at each of its publishes, and every crash and lost ack at shipping."""
    faults: list[AnyFault] = [RelayCrash(service=SERVICE, point=point, occurrence=n)
                              for n in range(1, publishes + 1)
                              for point in ("before_publish", "after_publish")]
    for n in range(1, deliveries + 1):
        faults += [Crash(service=SERVICE, point=point, occurrence=n)
                   for point in ("before_commit", "after_write_before_publish",
                                 "after_commit_before_ack")]
        faults.append(Duplicate(service=SERVICE, occurrence=n))
    return faults


def survives_every_single_crash(learner: Learner, orders: Sequence[dict[str, Any]] = ORDERS,
                                seed: int = 1) -> None:
    shipping = learner_shipping(learner)
    control = saga(learner, shipping, orders, seed=seed)
    expect_every_order_ends(control, ORDER_HINT)
    publishes = sum(1 for e in control.sim.trace.messages.values() if e.producer == SERVICE)
    deliveries = len(control.sim.trace.where(kind="deliver", service=SERVICE))
    for fault in single_crashes(publishes, deliveries):
        run = saga(learner, shipping, orders, [fault], seed=seed)
        expect_each_answer_once(run)
        expect_every_order_ends(run, ORDER_HINT + " Keep the row in the handler's commit.")


def survives_the_chaos_explorer(learner: Learner, *, schedules: int = 30, seed: int = 1) -> None:
    shipping = learner_shipping(learner)
    orders = random_orders(4, seed=seed, failure_rate=0.5)

    def system(sim_seed: int, faults: FaultPlan) -> Simulation:
        return AuditedSimulation(order_services(shipping=shipping), seed=sim_seed,
                                 faults=faults, outbox=False)

    space = FaultSpace(kinds=("duplicate", "crash", "drop", "kill"), max_faults=2,
                       services=(SERVICE,))
    result = explore(system, lambda sim: place_orders(sim, orders), order_oracle(),
                     schedules=schedules, seed=seed, space=space)
    found = result.counterexample
    if found is None:
        return
    violation = found.violations[0]
    reused = reused_id(found.trace)
    excerpt = ([excerpt_heading(violation.subject), *shown_records(found.trace, violation.subject)[:15]]
               if violation.subject.startswith("o-") else [])
    replay = ("Replay it:\n  from choreo_lab import Simulation, Crash, Drop, Duplicate, Kill, Restart\n"
              "  from choreo_lab.examples.orders import order_services, place_orders, random_orders\n"
              "  sim = Simulation(order_services(shipping=make_shipping_service()), outbox=False, "
              f"seed={found.seed}, faults=[{fault_calls(found.plan)}])\n"
              f"  place_orders(sim, random_orders(4, seed={seed}, failure_rate=0.5))\n"
              "  sim.run_until_idle(); print(sim.trace.dump())")
    raise Failed(explain(f"The chaos explorer ran {plural(result.schedules, 'fault schedule')}; "
                         f"{result.failed} broke the saga. The smallest failing schedule breaks "
                         f"this invariant: {violation}" + (f"\n{reused}" if reused else ""),
                         (REUSED_HINT if reused else ORDER_HINT) + "\n" + replay, None, excerpt))


def survives_single_crashes_then_the_explorer(learner: Learner) -> None:
    survives_every_single_crash(learner)
    survives_the_chaos_explorer(learner)


TASKS = (
    Task("outbox", EXERCISE, "keep each answer as a row, in the handler's commit", (
        Check("keeps each answer as a row in its outbox and publishes nothing itself", 1,
              keeps_each_answer_as_a_row),
        Check("keeps the answer when shipping crashes between its write and its publish", 1,
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
