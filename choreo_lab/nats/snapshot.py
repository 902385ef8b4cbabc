"""Every service's committed state at one moment: what a workflow's invariants read.

Invariants are functions over a runtime's states (``at_most_one_charge(sim)``). On a real
broker each `state()` reads a SQLite file, so a snapshot reads each service once and hands
the invariants a stable view. A real broker keeps no trace: the snapshot's `trace` finds no
messages, so a violation found here names no message ids, and an invariant that reads the
trace itself (which messages were published) cannot be checked: `judge` says which.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ..errors import ChoreoError


class TraceNeeded(ChoreoError, AttributeError):
    """An invariant read what only a trace knows; a real broker keeps none.

    An AttributeError too, so that `hasattr(sim.trace, ...)` and `getattr(..., default)` in
    an invariant written to do without a trace work as they would on any object.
    """


class NoTrace:
    """Stands where a simulation has its trace: there are no recorded messages to point at."""

    def messages_of(self, workflow: str) -> list[Any]:
        return []

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # copy, pickle and friends ask for these: a plain object's answer
            raise AttributeError(name)
        raise TraceNeeded(f"trace.{name}: a real broker keeps no trace of the messages")


@dataclass
class StateSnapshot:
    """The states of a runtime's services, read once (`StateSnapshot.of(runtime)`)."""

    states: dict[str, dict[str, Any]]
    trace: NoTrace = field(default_factory=NoTrace)
    dead_letters: list[Any] = field(default_factory=list)

    @classmethod
    def of(cls, runtime: Any) -> StateSnapshot:
        return cls({name: runtime.state(name) for name in runtime.services},
                   dead_letters=list(getattr(runtime, "dead_letters", ())))

    @property
    def services(self) -> list[str]:
        return list(self.states)

    def state(self, name: str) -> dict[str, Any]:
        return self.states[name]

    def open_messages(self, workflow: str | None = None) -> int:
        raise TraceNeeded("open_messages(): a real broker keeps no count of a workflow's "
                          "messages")

    def violations(self, invariants: Iterable[Callable[[Any], Iterable[Any]]]) -> list[str]:
        """What each invariant finds wrong, as text (empty when all hold)."""
        return [str(violation) for check in invariants for violation in check(self) or ()]

    def judge(self, invariants: Iterable[Callable[[Any], Iterable[Any]]]
              ) -> tuple[list[str], list[str]]:
        """(what the invariants find wrong, as text; the names of those that read the trace
        and so could not be checked here)."""
        broken: list[str] = []
        unchecked: list[str] = []
        for check in invariants:
            try:
                broken.extend(str(violation) for violation in check(self) or ())
            except TraceNeeded:
                unchecked.append(check.__name__)
        return broken, unchecked
