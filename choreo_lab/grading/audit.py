"""The ledgers, audited as they are written: an entry once committed is never taken back.

The outcome checks and the order oracle read the ledgers at the end of a run. A ledger
records what happened, so a service only ever adds to it; one that charged an order twice
and later removed the second charge (from another handler, or from a relay) would look
right at the end. `AuditedSimulation` looks at the ledgers after every commit and every
step, and remembers the first entry that went missing or changed, and what ran when it did.
"""

from __future__ import annotations

from typing import Any

from ..envelope import Delivery
from ..simulation import Simulation
from ..state import StateChanges, copy_state
from ..text import describe_value
from .feedback import explain
from .tasks import Failed

#: The services of the order saga that keep a ledger: {order_id: [entry, ...]} in "ledger".
LEDGER_KEEPERS = ("payment", "inventory")

TAKEN_BACK_HINT = ("a ledger records what happened: add entries, never remove or change one. "
                   "To keep a repeat out, do not add it (remember which orders you handled).")


class AuditedSimulation(Simulation):
    """A `Simulation` that checks, after every commit of a handler and after every step (a
    relay's run is one), that no ledger entry was taken back.

    `problem` is the first one found (None while every ledger only grew), and `subject` the
    order it is about. Cost per check: the service's ledger, a handful of entries in a run.
    """

    def __init__(self, *args: Any, **options: Any) -> None:
        self.problem: str | None = None
        self.subject: str | None = None
        self._kept: dict[tuple[str, Any], list[Any]] = {}  # (service, order) -> entries seen
        super().__init__(*args, **options)

    def _commit_state(self, running: Any, delivery: Delivery,
                      saved: StateChanges | None) -> None:
        # One step may commit several handlers (a message that waited for its key is handled
        # as soon as the one before is acked), so each commit is audited on its own.
        super()._commit_state(running, delivery, saved)
        envelope = delivery.envelope
        self._audit(running.name, f"while {running.name} handled {envelope.message_id} "
                                  f"({envelope.event_type})")

    def step(self) -> bool:
        stepped = super().step()
        for service in LEDGER_KEEPERS:
            if service in self.services and self.problem is None:
                self._audit(service, self._outside_handlers(service))
        return stepped

    def _outside_handlers(self, service: str) -> str:
        """Who changed a ledger between commits: the service's relay, if it has one."""
        if self.definition(service).outbox_relay is not None:
            return f"while {service}'s relay ran"
        return f"outside {service}'s handlers (by code that kept hold of its committed state)"

    def _audit(self, service: str, what_ran: str) -> None:
        if self.problem is not None or service not in LEDGER_KEEPERS or service not in self.services:
            return
        ledger = self.state(service).get("ledger")
        if not isinstance(ledger, dict):
            return  # a ledger of another shape is named by the checks that read it
        seen_before = [key for (name, key) in self._kept if name == service]
        # in a fixed order (not a set's), so that the same run reports the same entry
        for order_id in dict.fromkeys([*seen_before, *ledger]):
            if self._taken_back(service, order_id, ledger.get(order_id, []), what_ran):
                return

    def _taken_back(self, service: str, order_id: Any, entries: Any, what_ran: str) -> bool:
        """Record `entries` as seen; True (and `problem` said) if one seen before is gone."""
        if not isinstance(entries, list):
            return False
        seen = self._kept.get((service, order_id), [])
        for index, entry in enumerate(seen):
            if index >= len(entries) or entries[index] != entry:
                now = (f"changed to {describe_value(entries[index], 80)}"
                       if index < len(entries) else "gone")
                self.problem = (f"{service}'s ledger took an entry back: {order_id}'s "
                                f"{describe_value(entry, 80)} is {now} at t={self.now}, "
                                f"{what_ran}.")
                self.subject = order_id if isinstance(order_id, str) else None
                return True
        self._kept[(service, order_id)] = copy_state(entries)  # entries are plain data
        return False


def expect_ledgers_kept(sims: list[AuditedSimulation]) -> None:
    """Fail if in any of `sims` (say, those a chaos exploration built) a ledger took an entry
    back, naming the first such run's seed and faults."""
    sim = next((sim for sim in sims if sim.problem is not None), None)
    if sim is not None:
        raise Failed(explain(f"In one of the chaos explorer's runs (seed {sim.seed}), "
                             f"{sim.problem}", TAKEN_BACK_HINT, sim.faults, []))

