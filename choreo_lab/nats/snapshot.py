"""Every service's committed state at one moment: what a workflow's invariants read.

Invariants are functions over a runtime's states (``at_most_one_charge(sim)``). On a real
broker each `state()` reads a SQLite file, so a snapshot reads each service once and hands
the invariants a stable view. A real broker keeps no trace: the snapshot's `trace` finds no
messages, so a violation found here names no message ids.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any


class NoTrace:
    """Stands where a simulation has its trace: there are no recorded messages to point at."""

    def messages_of(self, workflow: str) -> list[Any]:
        return []


@dataclass
class StateSnapshot:
    """The states of a runtime's services, read once (`StateSnapshot.of(runtime)`)."""

    states: dict[str, dict[str, Any]]
    trace: NoTrace = field(default_factory=NoTrace)

    @classmethod
    def of(cls, runtime: Any) -> StateSnapshot:
        return cls({name: runtime.state(name) for name in runtime.services})

    @property
    def services(self) -> list[str]:
        return list(self.states)

    def state(self, name: str) -> dict[str, Any]:
        return self.states[name]

    def violations(self, invariants: Iterable[Callable[[Any], Iterable[Any]]]) -> list[str]:
        """What each invariant finds wrong, as text (empty when all hold)."""
        return [str(violation) for check in invariants for violation in check(self) or ()]
