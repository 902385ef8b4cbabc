"""Exercise 6, the cost of change: a fraud check before payment, added to both designs.

The learner adds the same step twice. In the choreography: ``make_fraud_service(suspects)``
reacts to OrderPlaced with FraudCleared or FraudSuspected, and ``add_fraud_check(payment,
order)`` re-wires the two services that must change - payment (handed over without its
charge step) charges on FraudCleared, the order service cancels on FraudSuspected. In the
orchestration: ``make_fraud_participant(suspects)`` answers the CheckFraud command, and
``add_fraud_step(orchestrator)`` gives the orchestrator (handed over without its first step)
the new first step and its two replies. Each design is judged by the order saga's
invariants plus this exercise's rules: no payment for a suspect, one verdict per order, and the
order service (the orchestrator) sends each of its messages once per order, however often a
reply comes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from ..chaos import FaultSpace, explore
from ..consistency import Oracle, Violation
from ..errors import ChoreoError, RunawayError
from ..events import Message
from ..examples.orchestrated import SUSPECTS, orchestrated_services, orchestrator_record
from ..examples.orders import (
    ORDER_INVARIANTS,
    OrderPlaced,
    OrderRequested,
    order_services,
    place_orders,
)
from ..examples.orders.invariants import explain_stuck_order, order_ids
from ..examples.orders.records import inventory_ledger, payment_ledger, service_state
from ..examples.orders.shop import PRICES
from ..faults import AnyFault, Crash, Duplicate, FaultPlan
from ..service import Service
from ..simulation import Simulation
from .audit import AuditedSimulation
from .feedback import explain, fault_calls, plural
from .learner import Learner, without_handlers
from .redelivery import HINT as REDELIVERY_HINT
from .redelivery import lost_first_deliveries
from .scenarios import SagaRun, excerpt_heading, order, shown_records
from .tasks import Check, Failed, Task

EXERCISE = "ex06-orchestration"
FRAUD_SERVICE, ADD_CHECK = "make_fraud_service", "add_fraud_check"
PARTICIPANT, ADD_STEP = "make_fraud_participant", "add_fraud_step"
CHOREOGRAPHED, ORCHESTRATED = "choreographed", "orchestrated"
#: the verdicts of the fraud check, in both designs
VERDICTS = ("FraudCleared", "FraudCheckPassed", "FraudSuspected")


def without_step(service: Service, message_type: type[Message]) -> Service:
    """A copy of `service` without its handler for `message_type` (the step the learner moves)."""
    copy = without_handlers(service)
    for handling in service.handlers.values():
        if handling.event_type is not message_type:
            copy.handles(handling.event_type, publishes=handling.publishes)(handling.handler)
    return copy


# -- the two designs, with the learner's fraud check in them -------------------------------------
def choreographed_design(learner: Learner, suspects: Sequence[str] = SUSPECTS) -> list[Service]:
    """The choreography with the learner's fraud service, payment and order re-wired by them."""
    order_service, payment, inventory, shipping = order_services()
    payment = without_step(payment, OrderPlaced)
    learner.call(ADD_CHECK, payment, order_service)
    fraud = learner.service(FRAUD_SERVICE, "fraud", tuple(suspects))
    return [learner.observed(order_service), fraud, learner.observed(payment), inventory, shipping]


def orchestrated_design(learner: Learner, suspects: Sequence[str] = SUSPECTS) -> list[Service]:
    """The orchestrated flow with the learner's fraud participant and the orchestrator's new
    step."""
    orchestrator, payment, inventory, shipping = orchestrated_services()
    orchestrator = without_step(orchestrator, OrderRequested)
    learner.call(ADD_STEP, orchestrator)
    fraud = learner.service(PARTICIPANT, "fraud", tuple(suspects))
    return [learner.observed(orchestrator), fraud, payment, inventory, shipping]


DESIGNS: dict[str, Callable[[Learner, Sequence[str]], list[Service]]] = {
    CHOREOGRAPHED: choreographed_design, ORCHESTRATED: orchestrated_design}
#: the services the learner wrote or re-wired, in each design
LEARNER_SERVICES = {CHOREOGRAPHED: ("fraud", "payment", "order"), ORCHESTRATED: ("fraud", "order")}


class FraudRun(SagaRun):
    """One finished run of one design with the learner's fraud check in it."""

    def __init__(self, sim: Simulation, orders: Sequence[dict[str, Any]], plan: FaultPlan,
                 learner: Learner, design: str, suspects: Sequence[str]) -> None:
        super().__init__(sim, orders, plan, learner, LEARNER_SERVICES[design])
        self.design, self.suspects = design, tuple(suspects)

    def verdicts(self, order_id: str) -> list[str]:
        """The fraud verdicts published for the order, by type, in order."""
        return [envelope.event_type for event_type in VERDICTS
                for envelope in self.published(event_type, order_id)]

    def cause_of(self, event_type: str, order_id: str) -> str | None:
        """The type of the message that caused the first `event_type` of the order."""
        found = self.published(event_type, order_id)
        cause = self.sim.trace.messages.get(found[0].causation_id or "") if found else None
        return cause.event_type if cause is not None else None

    def record(self, order_id: str) -> dict[str, Any]:
        """The order service's (or the orchestrator's) record of the order."""
        orders = self.sim.state("order").get("orders")
        if not isinstance(orders, dict):
            self.fail("The order service's state has no `orders` dict any more: keep each "
                      "order's record in ctx.state['orders'][order_id].")
        record = orders.get(order_id)
        return record if isinstance(record, dict) else {}

    def where(self, order_id: str) -> str:
        """Where the order is, in one line, as each design can tell."""
        return DESCRIBE[self.design](self.sim, order_id)


#: where is an order? one line, as each design can tell
DESCRIBE: dict[str, Callable[[Simulation, str], str]] = {
    CHOREOGRAPHED: explain_stuck_order, ORCHESTRATED: orchestrator_record}


def fraud_run(learner: Learner, design: str, orders: Sequence[dict[str, Any]],
              faults: Sequence[AnyFault] = (), *, suspects: Sequence[str] = SUSPECTS,
              seed: int = 1) -> FraudRun:
    """Run `orders` through one design with the learner's fraud check and the `faults`."""
    plan = FaultPlan(faults=tuple(faults))
    services = DESIGNS[design](learner, suspects)
    try:
        sim = AuditedSimulation(services, seed=seed, faults=plan)
    except (ChoreoError, ValueError) as error:
        raise Failed(f"The {design} order flow could not start with your fraud check: "
                     f"{error}") from None
    place_orders(sim, orders)
    try:
        sim.run_until_idle(max_steps=200_000)
    except RunawayError as error:
        raise Failed(explain(str(error), "", plan, [])) from None
    run = FraudRun(sim, orders, plan, learner, design, suspects)
    run.check_learner_errors()
    return run


# -- what the checks expect ------------------------------------------------------------------------
CHOREO_WAIT_HINT = ("in add_fraud_check, register payment's charge step on FraudCleared (not "
                    "OrderPlaced): the fraud service answers first, and its FraudCleared carries "
                    "the whole order, so payment has everything it needs.")
CHOREO_CANCEL_HINT = ("in add_fraud_check, the order service must learn of FraudSuspected: note "
                      "the fact, set the record's status to 'cancelled' and return "
                      "OrderCancelled(order_id=..., reason=...). Nothing was charged or "
                      "reserved, so nothing else needs undoing.")
ORCH_WAIT_HINT = ("in add_fraud_step, the first step (OrderRequested) sends CheckFraud, and only "
                  "the reply FraudCheckPassed sends ChargePayment.")
ORCH_CANCEL_HINT = ("in add_fraud_step, the orchestrator must handle FraudSuspected: note the "
                    "fact, set the record's status to 'cancelled' and return "
                    "OrderCancelled(order_id=..., reason=...) - the orchestrator is the only "
                    "one who knows the order must end.")
ONCE_HINT = ("a verdict is a decision: remember it by order id in ctx.state and answer a "
             "repeated message with nothing (the outbox published your first answer).")
REPLY_HINT = ("a reply can come twice too (a lost ack): remember each reply by order id - a "
              "fact in the order's record, as the saga's other steps do - and answer a repeat "
              "with nothing, or its command (or the cancellation) goes out again.")
WAIT_HINTS = {CHOREOGRAPHED: CHOREO_WAIT_HINT, ORCHESTRATED: ORCH_WAIT_HINT}
#: the service named "order" in each design: it acts on verdicts and ends the order
ORDER_SERVICE = {CHOREOGRAPHED: "order service", ORCHESTRATED: "orchestrator"}
#: the verdicts it acts on, in each design (in the choreography payment acts on FraudCleared)
ACTED_ON = {CHOREOGRAPHED: ("FraudSuspected",),
            ORCHESTRATED: ("FraudCheckPassed", "FraudSuspected")}
CANCEL_HINTS = {CHOREOGRAPHED: CHOREO_CANCEL_HINT, ORCHESTRATED: ORCH_CANCEL_HINT}
#: the message the fraud check answers, in each design
ASKED = {CHOREOGRAPHED: "OrderPlaced", ORCHESTRATED: "CheckFraud"}
#: the message that must start the charge, in each design
CHARGE = {CHOREOGRAPHED: ("PaymentCompleted", "FraudCleared"),
          ORCHESTRATED: ("ChargePayment", "FraudCheckPassed")}


def expect_cleared_and_shipped(run: FraudRun, order_id: str) -> None:
    """An honest customer's order: cleared once, charged because of it, charged once, shipped."""
    verdicts = run.verdicts(order_id)
    if not verdicts:
        run.fail(f"The fraud check never answered for {order_id}.",
                 "return a verdict for every order: FraudCleared (choreographed) or "
                 "FraudCheckPassed (orchestrated) when the customer is not a suspect.", order_id)
    if "FraudSuspected" in verdicts:
        run.fail(f"{run.record(order_id).get('customer', 'The customer')} of {order_id} is not on "
                 f"the watch list {list(run.suspects)}, yet the fraud check suspected them.",
                 "suspect exactly the customers in the suspects list your factory was given "
                 "(keep it in the service's state).", order_id)
    charged_by, expected = CHARGE[run.design]
    cause = run.cause_of(charged_by, order_id)
    if cause != expected:
        said = f"in answer to {cause}" if cause else "never"
        run.fail(f"{order_id} was charged ({charged_by} was published) {said}, not after the "
                 f"fraud check's {expected}: the money moved before the fraud check answered.",
                 WAIT_HINTS[run.design], order_id)
    charges = run.ledger(order_id, "charge")
    if len(charges) != 1:
        run.fail(f"{order_id} was charged {plural(len(charges), 'time')}; expected once.",
                 WAIT_HINTS[run.design], order_id)
    if run.status(order_id) != "completed":
        run.fail(f"{order_id} passed the fraud check but did not ship: {run.where(order_id)}.",
                 WAIT_HINTS[run.design], order_id)


def expect_stopped(run: FraudRun, order_id: str) -> None:
    """A suspect's order: suspected, never charged, nothing reserved, and cancelled."""
    if "FraudSuspected" not in run.verdicts(order_id):
        run.fail(f"{order_id} was placed by a customer on the watch list {list(run.suspects)}, "
                 "and the fraud check did not answer FraudSuspected.",
                 "compare the order's customer with the suspects your factory was given.",
                 order_id)
    charges = run.ledger(order_id, "charge")
    if charges or run.published("ChargePayment", order_id):
        run.fail(f"{order_id} was placed by a suspect, and payment was asked to charge it "
                 f"({plural(len(charges), 'charge')} in the ledger): the money moved before, "
                 "or without, the fraud check's answer.", WAIT_HINTS[run.design], order_id)
    status = run.status(order_id)
    if status != "compensated" or run.record(order_id).get("status") != "cancelled":
        run.fail(f"{order_id} was suspected of fraud, and it never ended (its workflow is "
                 f"{status}, its record says {run.record(order_id).get('status')!r}): "
                 f"{run.where(order_id)}.", CANCEL_HINTS[run.design], order_id)


def expect_one_verdict(run: FraudRun, order_id: str) -> None:
    """The fraud check published exactly one verdict for the order."""
    verdicts = run.verdicts(order_id)
    if len(verdicts) > 1:
        repeats = [*run.fault_records("duplicate", "fraud", order_id),
                   *run.fault_records("crash", "fraud", order_id)]
        again = (f" after the broker delivered {run.sim.trace.messages[repeats[0]].event_type} "
                 "again (a lost ack or a crash)" if repeats else "")
        run.fail(f"The fraud check published {plural(len(verdicts), 'verdict')} for {order_id} "
                 f"({', '.join(verdicts)}){again}; every service after it would have to be "
                 "idempotent for it, and the business reads one decision.", ONCE_HINT, order_id)


def sent_more_than_once(sim: Simulation) -> Iterator[tuple[str, str, int]]:
    """(order id, message type, how many) for each message the order service (the orchestrator)
    published more than once for one order: every step of the saga sends its message once."""
    sent = Counter((envelope.correlation_id or "", envelope.event_type)
                   for envelopes in sim.topics.values() for envelope in envelopes
                   if envelope.producer == "order")
    for (order_id, event_type), count in sent.items():
        if count > 1:
            yield order_id, event_type, count


def expect_each_step_once(run: FraudRun) -> None:
    """The order service (the orchestrator) sent each message once per order, though every
    verdict was delivered to it twice."""
    for order_id, event_type, count in sent_more_than_once(run.sim):
        run.fail(f"The {ORDER_SERVICE[run.design]} sent {event_type} {plural(count, 'time')} "
                 f"for {order_id} after the broker delivered the fraud check's verdict "
                 f"({', '.join(run.verdicts(order_id))}) to it twice (a lost ack): it acted on "
                 "the repeat as if it were news.", REPLY_HINT, order_id)


def verdicts_delivered_twice(design: str) -> list[AnyFault]:
    """Every first delivery of a verdict to the order service (the orchestrator) repeated."""
    return [Duplicate(service="order", event_type=verdict, attempt=1)
            for verdict in ACTED_ON[design]]


HONEST_AND_SUSPECT = [order("o-1"), order("o-2", customer="eve", item="lamp"),
                      order("o-3", customer="grace", item="kettle", quantity=2)]


def lets_an_honest_order_through(learner: Learner, design: str) -> None:
    run = fraud_run(learner, design, [order("o-1"), order("o-2", customer="grace", item="lamp")])
    for order_id in ("o-1", "o-2"):
        expect_cleared_and_shipped(run, order_id)


def stops_a_suspect_and_cancels(learner: Learner, design: str) -> None:
    run = fraud_run(learner, design, HONEST_AND_SUSPECT)
    expect_stopped(run, "o-2")
    for order_id in ("o-1", "o-3"):
        expect_cleared_and_shipped(run, order_id)


def runs_with_first_checks_lost(learner: Learner, design: str,
                                orders: Sequence[dict[str, Any]], *,
                                suspects: Sequence[str] = SUSPECTS,
                                seed: int = 1) -> Iterator[FraudRun]:
    """The orders run twice more, every first delivery of the fraud check's question lost on
    the way, then crashed before the commit: each redelivery is the first real decision. Each
    run is yielded once every order got its one verdict, for the caller's checks."""
    for lost in lost_first_deliveries("fraud", ASKED[design]):
        run = fraud_run(learner, design, orders, [lost.fault], suspects=suspects, seed=seed)
        for order_id in run.orders:
            if not run.verdicts(order_id):
                run.fail(f"{lost.story(f'{ASKED[design]} of {order_id}')}, yet the fraud check "
                         f"answered nothing, and the order stopped there: "
                         f"{run.where(order_id)}.", REDELIVERY_HINT, order_id)
            expect_one_verdict(run, order_id)
        yield run


def decides_once_when_messages_repeat(learner: Learner, design: str) -> None:
    asked = ASKED[design]
    run = fraud_run(learner, design, HONEST_AND_SUSPECT, [
        Duplicate(service="fraud", event_type=asked, times=2),
        Crash(service="fraud", event_type=asked, correlation_id="o-3",
              point="after_commit_before_ack")])
    for order_id in ("o-1", "o-2", "o-3"):
        expect_one_verdict(run, order_id)
    expect_stopped(run, "o-2")
    for order_id in ("o-1", "o-3"):
        expect_cleared_and_shipped(run, order_id)
    for run in runs_with_first_checks_lost(learner, design, HONEST_AND_SUSPECT):
        expect_stopped(run, "o-2")
        for order_id in ("o-1", "o-3"):
            expect_cleared_and_shipped(run, order_id)
    run = fraud_run(learner, design, HONEST_AND_SUSPECT, verdicts_delivered_twice(design))
    expect_each_step_once(run)
    expect_stopped(run, "o-2")
    for order_id in ("o-1", "o-3"):
        expect_cleared_and_shipped(run, order_id)


def in_design(check: Callable[[Learner, str], None], design: str) -> Callable[[Learner], None]:
    """The check, run on one design (a named function, so feedback can say which)."""
    def run(learner: Learner) -> None:
        check(learner, design)
    run.__name__ = f"{check.__name__}_{design}"
    return run


# -- both designs, under the chaos explorer ------------------------------------------------------
def suspects_of(sim: Simulation, suspects: Sequence[str]) -> dict[str, str]:
    """Order id -> customer, for the orders placed by a suspect (read from the requests)."""
    return {envelope.correlation_id or "": envelope.event.customer  # type: ignore[attr-defined]
            for envelope in sim.topics.get("OrderRequested", [])
            if envelope.event.customer in suspects}  # type: ignore[attr-defined]


def fraud_invariants(suspects: Sequence[str]) -> Callable[[Simulation], Iterator[Violation]]:
    """This exercise's rules: no payment for a suspect's order, one verdict per order."""
    def no_payment_for_a_suspect_and_one_verdict(sim: Simulation) -> Iterator[Violation]:
        suspected = suspects_of(sim, suspects)
        ledger = payment_ledger(sim)
        for order_id, customer in suspected.items():
            if any(entry["kind"] == "charge" for entry in ledger.get(order_id, [])):
                yield Violation("no payment for a suspect", order_id,
                                f"payment charged {order_id}, an order of {customer}, who is on "
                                "the watch list")
        verdicts: dict[str, int] = {}
        for event_type in VERDICTS:
            for envelope in sim.topics.get(event_type, []):
                key = envelope.correlation_id or ""
                verdicts[key] = verdicts.get(key, 0) + 1
        for order_id, count in verdicts.items():
            if count > 1:
                yield Violation("one verdict per order", order_id,
                                f"the fraud check published {count} verdicts for {order_id}")
    return no_payment_for_a_suspect_and_one_verdict


def each_step_once(design: str) -> Callable[[Simulation], Iterator[Violation]]:
    """The order service (the orchestrator) sends each of its messages once per order: a
    repeated reply must not send its command, or the cancellation, again (the course's payment
    absorbs a second ChargePayment; a real one, or a customer told twice, may not)."""
    def each_message_of_the_order_service_once(sim: Simulation) -> Iterator[Violation]:
        for order_id, event_type, count in sent_more_than_once(sim):
            yield Violation("each step once per order", order_id,
                            f"the {ORDER_SERVICE[design]} sent {event_type} "
                            f"{plural(count, 'time')} for {order_id}: remember each reply by "
                            "order id and answer a repeat with nothing")
    return each_message_of_the_order_service_once


def requested(sim: Simulation, order_id: str) -> Any:
    """The OrderRequested the customer published for the order (from the trace), or None."""
    return next((envelope.event for envelope in sim.trace.messages_of(order_id)
                 if envelope.event_type == "OrderRequested"), None)


def matches_the_request(sim: Simulation) -> Iterator[Violation]:
    """Each order is charged, reserved and shipped as its customer asked: the charge is the
    item's price times the quantity of the OrderRequested, the reservation is its item and
    quantity, the shipment goes to its address. Read from the request in the trace, not from
    any service's record (the orchestrator's record is the learner's, and a FraudCleared that
    rewrites the order would agree with itself downstream)."""
    charges = payment_ledger(sim)
    reservations = inventory_ledger(sim)
    shipments = service_state(sim, "shipping").get("shipments", {})
    for order_id in order_ids(sim):
        asked = requested(sim, order_id)
        if asked is None:
            continue
        unit_price = PRICES.get(asked.item, 0)
        price = unit_price * asked.quantity
        for entry in charges.get(order_id, []):
            if entry["kind"] == "charge" and entry["amount"] != price:
                yield Violation(
                    "the order as requested", order_id,
                    f"payment charged {entry['amount']} for {order_id}, but its customer "
                    f"asked for {asked.quantity} x {asked.item}, which costs {price} "
                    f"({unit_price} x {asked.quantity}): the charge is price x quantity; carry "
                    "the order's item, quantity and amount unchanged from OrderRequested")
        for entry in reservations.get(order_id, []):
            if entry["kind"] == "reserve" and (entry["item"], entry["quantity"]) != (
                    asked.item, asked.quantity):
                yield Violation(
                    "the order as requested", order_id,
                    f"inventory reserved {entry['quantity']} x {entry['item']} for {order_id}, "
                    f"but its customer asked for {asked.quantity} x {asked.item}: carry the "
                    "order's item and quantity unchanged from OrderRequested")
        shipment = shipments.get(order_id) if isinstance(shipments, dict) else None
        if isinstance(shipment, dict) and shipment.get("address") != asked.address:
            yield Violation(
                "the order as requested", order_id,
                f"shipping sent {order_id} to {shipment.get('address')!r}, but its customer "
                f"asked for delivery to {asked.address!r}: carry the order's address unchanged "
                "from OrderRequested")


def fraud_oracle(design: str, suspects: Sequence[str]) -> Oracle:
    return Oracle((*ORDER_INVARIANTS, fraud_invariants(suspects), each_step_once(design),
                   matches_the_request),
                  order_ids, describe=DESCRIBE[design])


#: lost acks, crashes, drops, delays and outages of the services the learner wrote or re-wired
FRAUD_CHAOS = {design: FaultSpace(kinds=("duplicate", "crash", "drop", "delay", "kill"),
                                  max_faults=3, services=services)
               for design, services in LEARNER_SERVICES.items()}


def explore_design(learner: Learner, design: str, orders: Sequence[dict[str, Any]], *,
                   schedules: int, seed: int, suspects: Sequence[str] = SUSPECTS) -> None:
    """Fail with the smallest counterexample if a seeded schedule breaks the design."""
    services = DESIGNS[design](learner, suspects)

    def system(sim_seed: int, faults: FaultPlan) -> Simulation:
        return AuditedSimulation(services, seed=sim_seed, faults=faults)

    def workload(sim: Simulation) -> None:
        place_orders(sim, orders)

    result = explore(system, workload, fraud_oracle(design, suspects), schedules=schedules,
                     seed=seed, space=FRAUD_CHAOS[design])
    found = result.counterexample
    if found is None:
        return
    violation = found.violations[0]
    excerpt = ([excerpt_heading(violation.subject),
                *shown_records(found.trace, violation.subject)[:15]]
               if violation.subject.startswith("o-") else [])
    replay = (f"Replay it: build the {design} design with your functions (as the checks "
              f"above do), run Simulation(services, seed={found.seed}, "
              f"faults=[{fault_calls(found.plan)}]), place the orders "
              f"{', '.join(map(ordered, orders))} with "
              "place_order, run_until_idle() and read sim.trace.dump().")
    raise Failed(explain(
        f"In the {design} design, the chaos explorer ran "
        f"{plural(result.schedules, 'fault schedule')}; {result.failed} of them broke it. The "
        f"smallest failing schedule breaks this invariant: {violation}",
        CHAOS_HINT + "\n" + replay, None, excerpt))


def ordered(request: dict[str, Any]) -> str:
    """"o-1 by ada (2 x book)": an order to place again, in the words of place_order."""
    return (f"{request['order_id']} by {request['customer']} "
            f"({request['quantity']} x {request['item']})")


CHAOS_HINT = ("read the trace below: find the repeated or late message after which the money "
              "moved for a suspect, a second verdict (or a second command) was published, or an "
              "order stopped moving.")
#: o-1 buys two books: a charge of the price alone, not price x quantity, is caught here too
CHAOS_ORDERS = [order("o-1", quantity=2), order("o-2", customer="eve"),
                order("o-3", customer="mallory", item="lamp"),
                order("o-4", customer="grace", item="unicorn")]


def survives_the_chaos_explorer(learner: Learner) -> None:
    for design in DESIGNS:
        explore_design(learner, design, CHAOS_ORDERS, schedules=25, seed=1)


TASKS = (
    Task("choreographed_fraud", EXERCISE, "the choreography: a fraud service, and the two "
         "services it changes", (
             Check("lets honest orders through: payment charges after FraudCleared", 1,
                   in_design(lets_an_honest_order_through, CHOREOGRAPHED)),
             Check("stops a suspect before payment, and the order service cancels it", 2,
                   in_design(stops_a_suspect_and_cancels, CHOREOGRAPHED)),
             Check("decides once per order when OrderPlaced comes again", 1,
                   in_design(decides_once_when_messages_repeat, CHOREOGRAPHED)),
         ), hidden_count=1, hidden_points=1),
    Task("orchestrated_fraud", EXERCISE, "the orchestration: a fraud participant, and the "
         "orchestrator's new step", (
             Check("lets honest orders through: ChargePayment only after FraudCheckPassed", 1,
                   in_design(lets_an_honest_order_through, ORCHESTRATED)),
             Check("stops a suspect before payment, and the orchestrator cancels it", 2,
                   in_design(stops_a_suspect_and_cancels, ORCHESTRATED)),
             Check("decides once per order when CheckFraud comes again", 1,
                   in_design(decides_once_when_messages_repeat, ORCHESTRATED)),
         ), hidden_count=1, hidden_points=1),
    Task("fraud_chaos", EXERCISE, "both designs under the chaos explorer", (
        Check("keeps every invariant in both designs over 25 seeded fault schedules each", 1,
              survives_the_chaos_explorer),
    ), hidden_count=1, hidden_points=1),
)
