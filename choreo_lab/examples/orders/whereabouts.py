"""Where is my order? No service knows; this asks all four and reads the order's trace.

The forensics of the course: what each service recorded, who still holds one of the
order's messages and why, and - for an order that will not move - the reason.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ... import vocabulary as words
from ...envelope import Envelope
from ...service import Handling
from ...simulation import Simulation
from ...story import workflow_status
from ...text import did_you_mean, fit
from ...trace import TraceRecord
from .records import (
    FACT_EVENTS,
    inventory_ledger,
    order_messages,
    payment_ledger,
    recorded_facts,
    service_state,
)


@dataclass(frozen=True)
class OrderWhereabouts:
    """One order's end-to-end status, pieced together from four services and the trace."""

    order_id: str
    status: str                  # running / compensating / completed / compensated / stuck
    knows: dict[str, str]        # service -> what it knows about the order, in words
    last_event: str
    waiting_on: tuple[str, ...]  # who the order waits for, and why
    verdict: str                 # one line

    def __str__(self) -> str:
        """The verdict, then one line per service; a long line wraps between words, indented.

        While the order is under way and waits, the first line names only its status: the
        "waiting on" lines below say what for.
        """
        under_way = self.status in (words.RUNNING, words.COMPENSATING)
        header = self.status if under_way and self.waiting_on else self.verdict
        lines = [f"order {self.order_id}: {header}"]
        lines += [f"  {service:<10} {what}" for service, what in self.knows.items()]
        lines.append(f"  last event: {self.last_event}")
        lines += [f"  waiting on: {reason}" for reason in self.waiting_on]
        return "\n".join(fit(line, indent=4) for line in lines)


def where_is(sim: Simulation, order_id: str) -> OrderWhereabouts:
    """Where is my order? No service knows; this asks all four and reads the trace.

    Cost: one pass over the order's records in the trace, and its ledger entries.
    """
    messages = order_messages(sim, order_id)
    if not messages and order_id not in service_state(sim, "order").get("orders", {}):
        raise unknown_order(sim, order_id)
    status = workflow_status(sim, order_id)
    waiting = tuple(waiting_on(sim, messages))
    last = messages[-1] if messages else None
    last_event = (f"{last.event_type} {last.message_id} from {last.producer} "
                  f"at t={last.published_at}" if last else "none: nothing about it was published")
    return OrderWhereabouts(order_id, status, what_each_service_knows(sim, order_id), last_event,
                            waiting, verdict(sim, order_id, status, messages, waiting))


def unknown_order(sim: Simulation, order_id: str) -> ValueError:
    """The error for an order id nobody has heard of, naming the ones that exist."""
    known = list(service_state(sim, "order").get("orders", {})) or sim.trace.correlation_ids()
    hint = did_you_mean(order_id, known)
    return ValueError(f"no order {order_id!r} in this simulation; known orders: "
                      f"{', '.join(known) or '(none yet)'}.{hint}")


def what_each_service_knows(sim: Simulation, order_id: str) -> dict[str, str]:
    """Per service, in words, what its own state says about one order."""
    record = service_state(sim, "order").get("orders", {}).get(order_id)
    recorded = recorded_facts(sim, order_id)
    return {
        "order": (f"status {record['status']!r} "
                  f"(learned: {', '.join(record['facts']) or 'nothing yet'})"
                  if record else "has not taken the order"),
        "payment": describe_payment(sim, order_id, recorded["payment"]),
        "inventory": describe_inventory(sim, order_id, recorded["inventory"]),
        "shipping": describe_shipping(sim, order_id, recorded["shipping"]),
    }


def describe_payment(sim: Simulation, order_id: str, facts: list[str]) -> str:
    """e.g. "charged 30 at t=2, refunded 30 at t=9"."""
    words = {"charge": "charged", "refund": "refunded"}
    said = [f"{words[e['kind']]} {e['amount']}{at(e)}"
            for e in payment_ledger(sim, order_id).get(order_id, [])]
    if "declined" in facts:
        said.append("declined the card")
    return ", ".join(said) or "nothing yet"


def describe_inventory(sim: Simulation, order_id: str, facts: list[str]) -> str:
    """e.g. "reserved 1 x lamp at t=3, released 1 x lamp at t=8"."""
    words = {"reserve": "reserved", "release": "released"}
    said = [f"{words[e['kind']]} {e['quantity']} x {e['item']}{at(e)}"
            for e in inventory_ledger(sim, order_id).get(order_id, [])]
    if "out_of_stock" in facts:
        said.append("out of stock")
    return ", ".join(said) or "nothing yet"


def describe_shipping(sim: Simulation, order_id: str, facts: list[str]) -> str:
    """e.g. "scheduled trk-o-1" or "failed: cannot ship to Atlantis"."""
    state = service_state(sim, "shipping")
    if "shipped" in facts:
        return f"scheduled {state['shipments'][order_id].get('tracking', '')}".rstrip()
    if "shipment_failed" in facts:
        return f"failed: {state['failed'][order_id]}"
    return "nothing yet"


def at(entry: dict[str, Any]) -> str:
    """" at t=5" for a ledger entry that says when it happened, else ""."""
    return f" at t={entry['at']}" if entry.get("at") is not None else ""


def waiting_on(sim: Simulation, messages: list[Envelope]) -> list[str]:
    """For each of the order's messages some service has not acked yet: who holds it, and why."""
    settled: dict[tuple[str, str], TraceRecord] = {}
    latest: dict[tuple[str, str], TraceRecord] = {}
    workflows = dict.fromkeys(envelope.correlation_id for envelope in messages)
    for record in (r for workflow in workflows for r in sim.trace.for_correlation(workflow)):
        if record.kind not in (words.PUBLISH, words.NO_SUBSCRIBER):
            key = (record.message_id or "", record.service)
            (settled if record.kind in words.SETTLED_KINDS else latest)[key] = record
    reasons = []
    for envelope in messages:
        for name in sim.services:
            done = settled.get((envelope.message_id, name))
            if sim.handles(name, envelope) and (done is None or done.kind != words.ACK):
                last = done or latest.get((envelope.message_id, name))
                reasons.append(why_waiting(sim, name, envelope, last))
    return reasons


def why_waiting(sim: Simulation, service: str, envelope: Envelope,
                last: TraceRecord | None) -> str:
    """One line: why `service` has not finished with `envelope` (from its status and the trace)."""
    what = f"{envelope.event_type} {envelope.message_id}"
    status = sim.status(service)
    if status in (words.DOWN, words.PAUSED):
        backlog = sum(sim.backlog(service).values())
        return (f"{service} is {status} with {backlog} message{'s' * (backlog != 1)} in its "
                f"backlog; {what} waits for it")
    kind = last.kind if last is not None else None
    detail = last.detail if last is not None else ""
    return {
        None: f"{what} is on its way to {service}",
        "dead-letter": f"{service} gave up on {what} after {last and last.attempt} attempts "
                       f"({detail}); it sits in the dead letters until redriven",
        "crash": f"{service} crashed handling {what} ({detail}); it will be redelivered",
        "nack": f"{service} failed handling {what} ({detail}); it will be retried",
        "abandon": f"{service} was killed while handling {what}; it will be redelivered",
        "drop": f"{what} was lost on its way to {service}; redelivery after the ack timeout",
        "duplicate": f"{service} handled {what} but its ack was lost; it will come again",
        "delay": f"{what} is delayed on its way to {service}",
        "reorder": f"{what} is delayed on its way to {service} (later messages may overtake it)",
    }.get(kind, f"{service} is handling {what}")


def verdict(sim: Simulation, order_id: str, status: str, messages: list[Envelope],
            waiting: tuple[str, ...]) -> str:
    """The one-line answer to "where is my order?"."""
    if status == words.STUCK:
        return f"stuck: {why_stuck(sim, order_id, messages)}"
    if status not in words.OUTCOMES:
        return f"{status}, waiting: {waiting[0]}" if waiting else f"{status}: on its way"
    payments = payment_ledger(sim, order_id).get(order_id, [])
    charged = sum(e["amount"] for e in payments if e["kind"] == "charge")
    refunded = sum(e["amount"] for e in payments if e["kind"] == "refund")
    charges = sum(1 for e in payments if e["kind"] == "charge")
    warning = f" - but payment charged it {charges} times" if charges > 1 else ""
    shipping = service_state(sim, "shipping")
    if status == words.COMPLETED:
        tracking = shipping.get("shipments", {}).get(order_id, {}).get("tracking", "?")
        return f"completed: shipped ({tracking}), paid {charged}{warning}"
    facts = service_state(sim, "order")["orders"][order_id]["facts"]
    if "declined" in facts:
        return f"compensated: card declined, nothing charged{warning}"
    cause = ("no payment answer in time" if "payment_timed_out" in facts
             else "out of stock" if "out_of_stock" in facts
             else shipping.get("failed", {}).get(order_id, "shipment failed"))
    released = " and stock released" if "released" in facts else ""
    return f"compensated: {cause}; charged {charged}, refunded {refunded}{released}{warning}"


def why_stuck(sim: Simulation, order_id: str, messages: list[Envelope]) -> str:
    """Why an unfinished order will not move although nothing is left to deliver."""
    letters = [letter for letter in sim.dead_letters
               if getattr(letter.envelope.event, "order_id", None) == order_id]
    if letters:
        letter = letters[0]
        return (f"{letter.envelope.event_type} {letter.envelope.message_id} was dead-lettered by "
                f"{letter.group} after {letter.attempts} attempts ({letter.reason}); redrive it")
    record = service_state(sim, "order").get("orders", {}).get(order_id)
    if record is None:
        return "the order service never took the order"
    published = {envelope.event_type: envelope.message_id for envelope in messages}
    for service, facts in recorded_facts(sim, order_id).items():
        for fact in facts:
            if fact in record["facts"]:
                continue
            event_type = FACT_EVENTS[fact][1]
            if event_type not in published:
                return (f"{service} recorded {fact!r} but never published {event_type}: "
                        "its state was written and its event lost (the dual-write bug)")
            return (f"{service} published {event_type} {published[event_type]}, "
                    f"but the order service never learned {fact!r}")
    steps = awaited_steps(record["facts"])
    awaited = as_wired(sim, steps[0], messages) if steps else "? never made its next step"
    return f"{awaited}; nothing is left to deliver (status {record['status']!r})"


@dataclass(frozen=True)
class Step:
    """A step an unfinished order waits for, as the course's saga is wired."""

    service: str                 # who makes it
    makes: str                   # what it makes, in words: "a refund"
    answers: str                 # the message type it answers: "OutOfStock"
    publishes: tuple[str, ...]   # what it publishes when made: ("PaymentRefunded",)
    word: str = "for"            # "a charge or a decline for OrderPlaced", "a refund after ..."

    def __str__(self) -> str:
        return f"{self.service} never made {self.makes} {self.word} {self.answers}"


def awaited_steps(facts: list[str]) -> list[Step]:
    """What an unfinished order waits for next, given what the order service has learned."""
    known = set(facts)
    if "out_of_stock" in known or "shipment_failed" in known:
        cause = "OutOfStock" if "out_of_stock" in known else "ShipmentFailed"
        steps = ([Step("payment", "a refund", cause, ("PaymentRefunded",), "after")]
                 if "refunded" not in known else [])
        if cause == "ShipmentFailed" and "released" not in known:
            steps.append(Step("inventory", "a stock release", cause, ("InventoryReleased",),
                              "after"))
        return steps
    for fact, step in (
            ("paid", Step("payment", "a charge or a decline", "OrderPlaced",
                          ("PaymentCompleted", "PaymentDeclined"))),
            ("reserved", Step("inventory", "a reservation", "PaymentCompleted",
                              ("InventoryReserved", "OutOfStock"))),
            ("shipped", Step("shipping", "a shipment", "InventoryReserved",
                             ("ShipmentScheduled", "ShipmentFailed")))):
        if fact not in known:
            return [step]
    return []


def as_wired(sim: Simulation, step: Step, messages: list[Envelope]) -> str:
    """Who the order waits for, as this simulation is wired, in words.

    A step's service may answer another message than in the course's saga: with a fraud
    check before payment (exercise 6), payment charges on FraudCleared, not on OrderPlaced.
    Then the step waits for that message - and if it was never published for the order, the
    order waits for the service that would publish it (the fraud service, which took
    OrderPlaced and answered nothing).
    """
    if step.service not in sim.services:
        return str(step)
    handled = sim.definition(step.service).handlers
    answers = [name for name, handling in handled.items()
               if set(step.publishes) & {p.event_type for p in handling.publishes}]
    if step.answers in handled or not answers:
        return str(step)
    published = {envelope.event_type: envelope for envelope in messages}
    seen = [name for name in answers if name in published]
    if seen:
        return (f"{step.service} never made {step.makes} for {seen[0]} "
                f"{published[seen[0]].message_id}")
    return why_not_asked(sim, step, answers, published)


def why_not_asked(sim: Simulation, step: Step, answers: list[str],
                  published: dict[str, Envelope]) -> str:
    """Why nothing the step's service answers (`answers`) was published for the order: the
    service that would publish one took its message and answered otherwise, or nothing."""
    for name, handling in handlings(sim):
        asked = published.get(handling.event_type.event_type)
        replies = [p.event_type for p in handling.publishes]
        if asked is None or not set(answers) & set(replies):
            continue
        said = [reply for reply in replies if reply in published]
        if not said:
            return (f"{name} never answered {asked.event_type} {asked.message_id} (with "
                    f"{' or '.join(replies)}), so {step.service} never made {step.makes}")
        followers = [other for other in sim.services if said[0] in sim.definition(other).handlers]
        after = (f"{' and '.join(followers)} did not end the order after it" if followers
                 else "which no service handles")
        return (f"{name} answered {asked.event_type} {asked.message_id} with {said[0]} "
                f"{published[said[0]].message_id}, {after}")
    return f"{step.service} never made {step.makes}: nothing published {' or '.join(answers)}"


def handlings(sim: Simulation) -> Iterator[tuple[str, Handling]]:
    """Every service's handlers, as (service, handling), in the order the services run."""
    for name in sim.services:
        for handling in sim.definition(name).handlers.values():
            yield name, handling
