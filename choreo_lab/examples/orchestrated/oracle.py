"""Running the orchestrated flow, and judging it by the choreography's invariants.

Both designs keep the same records (the order's status and facts, payment's and
inventory's ledgers, shipping's shipments), so `orders.invariants` applies unchanged.
"Where is my order?" needs no forensics here: it is the orchestrator's own record.
"""

from __future__ import annotations

from typing import Any

from ... import vocabulary as words
from ...consistency import Oracle
from ...simulation import Simulation
from ...story import workflow_status
from ..orders.invariants import ORDER_INVARIANTS, order_ids
from .services import orchestrated_services


def orchestrated_system(seed: int | str = 0, *, stock: dict[str, int] | None = None,
                        **options: Any) -> Simulation:
    """A simulation of the orchestrated order flow. `options` go to `Simulation`."""
    return Simulation(orchestrated_services(stock=stock), seed=seed, **options)


def orchestrator_view(sim: Simulation, order_id: str) -> str:
    """Where is my order? One line, read from the orchestrator's state alone."""
    return f"{order_id}: {orchestrator_record(sim, order_id)}"


def orchestrator_record(sim: Simulation, order_id: str) -> str:
    """What the orchestrator holds about the order (its status and what it learned), and
    whose answer it still waits for, if any."""
    record = sim.state("order")["orders"].get(order_id)
    if record is None:
        return "the orchestrator has no record of it (is the order service down?)"
    learned = ", ".join(record["facts"]) or "nothing yet"
    status = workflow_status(sim, order_id)
    waiting = awaited_answer(sim, order_id) if status not in words.OUTCOMES else ""
    return f"{record['status']} (learned: {learned}); saga {status}{waiting}"


def awaited_answer(sim: Simulation, order_id: str) -> str:
    """"; waiting for payment's answer to ChargePayment m4" when the orchestrator's last
    command of the order was never answered ("" otherwise)."""
    sent = [e for e in sim.trace.messages_of(order_id) if e.producer == "order"]
    if not sent or sim.trace.children(sent[-1].message_id):
        return ""
    last = sent[-1]
    asked = [name for name in sim.services if sim.handles(name, last)]
    if not asked:
        return f"; its {last.event_type} {last.message_id} is handled by no service"
    return (f"; waiting for {' or '.join(asked)}'s answer to {last.event_type} "
            f"{last.message_id}")


def orchestrated_oracle() -> Oracle:
    """The choreography's invariants over the orchestrated flow; a stuck order is explained
    by the orchestrator's record (the report names the order)."""
    return Oracle(ORDER_INVARIANTS, order_ids, describe=orchestrator_record)
