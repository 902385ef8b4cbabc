"""Seeded saga runs with the learner's services plugged in, and what the checks ask of them.

`run_saga` places a few orders in the order saga (the learner's services replacing the
reference ones), injects a fault plan, runs until nothing is left to deliver, and returns a
`SagaRun`. Every question a check asks (which events were published for an order, what the
stock or the ledger says) is a method here, and `SagaRun.fail` turns a wrong answer into
feedback that shows the faults injected and what happened to the order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NoReturn

from ..envelope import Envelope
from ..errors import ChoreoError, RunawayError
from ..examples.orders import order_services, place_order, place_orders
from ..story import workflow_status
from ..faults import AnyFault, FaultPlan
from ..service import Service
from ..simulation import Simulation
from ..text import describe_value, shorten
from ..trace import Trace
from .audit import AuditedSimulation
from .feedback import explain, plural
from .learner import Learner
from .tasks import Failed

#: Trace kinds worth showing a learner: what was published and what went wrong.
SHOWN_KINDS = ("publish", "redeliver", "nack", "crash", "duplicate", "drop", "delay", "reorder",
               "dead-letter", "kill", "restart", "relay-crash", "dedup")


class SagaRun:
    """One finished run of the order saga, with the learner's services in it."""

    def __init__(self, sim: Simulation, orders: Sequence[dict[str, Any]], plan: FaultPlan,
                 learner: Learner, learner_services: Sequence[str]) -> None:
        self.sim = sim
        self.orders = {order["order_id"]: order for order in orders}
        self.plan = plan
        self.learner = learner
        self.learner_services = tuple(learner_services)

    # -- what happened -----------------------------------------------------------------------
    def published(self, event_type: str, order_id: str) -> list[Envelope]:
        """Messages of `event_type` published for `order_id`, in order."""
        return [envelope for envelope in self.sim.topics.get(event_type, [])
                if envelope.correlation_id == order_id]

    def status(self, order_id: str) -> str:
        """running / compensating / completed / compensated / stuck."""
        return workflow_status(self.sim, order_id)

    def stock(self, item: str) -> Any:
        """The inventory's committed stock count for `item`."""
        stock = self.sim.state("inventory").get("stock")
        if not isinstance(stock, dict):
            self.fail("The inventory's state has no `stock` dict any more: keep the stock "
                      "counts in ctx.state['stock'], as the cell you started from does.")
        return stock.get(item)

    def ledger(self, order_id: str, kind: str) -> list[dict[str, Any]]:
        """The payment ledger's entries of `kind` ("charge" or "refund") for `order_id`."""
        ledger = self.sim.state("payment").get("ledger")
        if not isinstance(ledger, dict):
            found = ("The payment service's state has no `ledger`" if ledger is None else
                     f"The payment service's `ledger` is {describe_value(ledger, 30)}, not a dict")
            self.fail(f"{found}: keep a list of entries per order - ctx.state['ledger']"
                      ".setdefault(order_id, []).append({'kind': 'charge', 'amount': ..., "
                      "'at': ctx.now}).")
        entries = ledger.get(order_id, [])
        if not isinstance(entries, list):
            self.fail(f"The payment ledger holds {type(entries).__name__} for {order_id}, not a "
                      "list: keep each order's charges and refunds as a list of entries, "
                      "ctx.state['ledger'].setdefault(order_id, []).append({...}).")
        return [entry for entry in entries if isinstance(entry, dict) and entry.get("kind") == kind]

    def amount(self, order_id: str, kind: str) -> Any:
        """The total amount of the ledger's `kind` entries ("charge" or "refund") for `order_id`."""
        return sum(entry.get("amount", 0) for entry in self.ledger(order_id, kind))

    def deliveries(self, service: str, event_type: str) -> list[Envelope]:
        """Messages of `event_type` as `service` first received them, in arrival order."""
        seen: dict[str, Envelope] = {}
        for record in self.sim.trace.where(kind="deliver", service=service, event_type=event_type):
            seen.setdefault(record.message_id or "", self.sim.trace.messages[record.message_id or ""])
        return list(seen.values())

    def fault_records(self, kind: str, service: str, order_id: str) -> list[str]:
        """Message ids hit by a `kind` fault (duplicate, crash, ...) at `service` for `order_id`."""
        return [record.message_id or "" for record in
                self.sim.trace.where(kind=kind, service=service, correlation_id=order_id)]

    # -- saying what is wrong ----------------------------------------------------------------
    def fail(self, what: str, hint: str = "", order_id: str | None = None) -> NoReturn:
        """Raise `Failed` with `what`, a `hint`, the fault plan and the order's trace."""
        options = "" if self.sim.outbox else "outbox=False"
        raise Failed(explain(what, hint, self.plan, self.trace_excerpt(order_id), options))

    def trace_excerpt(self, order_id: str | None, limit: int = 16) -> list[str]:
        """The order's publishes and troubles, as trace lines (at most `limit`)."""
        if order_id is None:
            return []
        lines = shown_records(self.sim.trace, order_id)
        if len(lines) > limit:
            lines = lines[:limit - 1] + [f"... and {len(lines) - limit + 1} more records"]
        return [excerpt_heading(order_id)] + lines

    def check_learner_errors(self) -> None:
        """Fail if one of the learner's handlers raised or returned something that is not events."""
        error = self.learner.first_error()
        if error is not None and error.is_stub:
            raise Failed(error.describe())
        if error is not None:
            order = self.sim.trace.messages[error.message_id].correlation_id
            attempts = len(self.sim.trace.where(kind="nack", message_id=error.message_id,
                                                service=error.service))
            gave_up = (" and finally dead-lettered it, so the saga could not go on"
                       if self.sim.trace.where(kind="dead-letter", message_id=error.message_id)
                       else "")
            self.fail(f"{error.describe()} The broker delivered the message "
                      f"{plural(attempts, 'time')}{gave_up}.",
                      "a handler that raises changes nothing and gets the message again; fix "
                      "the line above.", order)
        for service in self.learner_services:
            nacks = self.sim.trace.where(kind="nack", service=service)
            if nacks:
                order = self.sim.trace.messages[nacks[0].message_id or ""].correlation_id
                # Not an error the learner's code raised, so the runtime refused what a handler
                # returned; its message (in the nack's detail) already says what a handler returns.
                self.fail(f"The {service} service failed on message {nacks[0].message_id}: "
                          f"{nacks[0].detail}", "", order)


def shown_records(trace: Trace, order_id: str) -> list[str]:
    """The order's records of the `SHOWN_KINDS`, one shortened trace line each."""
    records = trace.where(kind="|".join(SHOWN_KINDS), correlation_id=order_id)
    return [shorten(str(record), 100) for record in records]


def excerpt_heading(order_id: str) -> str:
    """The line that introduces an order's trace excerpt in feedback."""
    return f"What happened to {order_id} (trace excerpt):"


def run_saga(learner: Learner, replacements: dict[str, Service], orders: Sequence[dict[str, Any]],
             faults: Sequence[AnyFault] = (), *, seed: int = 1, outbox: bool = True,
             stock: dict[str, int] | None = None, check_errors: bool = True) -> SagaRun:
    """Run `orders` through the saga with the learner's `replacements` and the `faults`.

    Cost: milliseconds for a handful of orders. A cycle of events, or a run that never
    settles, fails the check with the runtime's explanation.
    """
    plan = FaultPlan(faults=tuple(faults))
    try:
        sim = AuditedSimulation(order_services(stock=stock, **replacements), seed=seed,
                                faults=plan, outbox=outbox)
    except (ChoreoError, ValueError) as error:
        raise Failed(f"The saga could not start with your service: {error}") from None
    place_orders(sim, orders)
    try:
        sim.run_until_idle(max_steps=200_000)
    except RunawayError as error:
        raise Failed(explain(str(error), "", plan, [])) from None
    run = SagaRun(sim, orders, plan, learner, list(replacements))
    if check_errors:
        run.check_learner_errors()
    return run


def order(order_id: str, **fields: Any) -> dict[str, Any]:
    """An order request: ada buys 1 book for 1 Main St (`place_order`'s defaults) unless `fields`
    say otherwise."""
    return {"order_id": order_id, **(place_order.__kwdefaults__ or {}), **fields}
