"""Every service's committed state at one moment, and the broker's log: what invariants read.

Invariants are functions over a runtime's states (``at_most_one_charge(sim)``), and some
also over the messages published (``sim.trace.messages_of(item)``: was this version
rejected?). On a real broker each `state()` reads a SQLite file, so a snapshot reads each
service once and hands the invariants a stable view.

A real broker keeps the messages (JetStream's stream is the retained log) but no story of
every step: the snapshot's `trace` is a `MessageLog`, which answers what was published and
what caused what, and refuses the rest (`TraceNeeded`). Whether a workflow has anything
left to deliver (`open_messages`) is known only for the whole system: nothing when the
broker was quiet while the snapshot was read; otherwise unknown. `judge` says which
invariants could not be checked, and why.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ..envelope import Envelope
from ..errors import ChoreoError


class TraceNeeded(ChoreoError, AttributeError):
    """An invariant read what only a simulation's trace knows, so it cannot be checked here.

    An AttributeError too, so that `hasattr(sim.trace, ...)` and `getattr(..., default)` in
    an invariant written to do without a trace work as they would on any object.
    """


class NoTrace:
    """Stands where a simulation has its trace when there is no log to read: there are no
    recorded messages to point at. `reason`: why not."""

    def __init__(self, reason: str = "a real broker keeps no trace of the messages") -> None:
        self.reason = reason

    def messages_of(self, workflow: str) -> list[Any]:
        return []

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # copy, pickle and friends ask for these: a plain object's answer
            raise AttributeError(name)
        raise TraceNeeded(f"trace.{name}: {self.reason}")


class MessageLog:
    """The messages a broker kept, oldest first, read like the message part of a trace."""

    def __init__(self, envelopes: Iterable[Envelope]) -> None:
        self.messages: dict[str, Envelope] = {}
        self._by_workflow: dict[str, list[Envelope]] = {}
        for envelope in envelopes:
            if envelope.message_id not in self.messages:  # a re-sent copy is the same message
                self.messages[envelope.message_id] = envelope
                self._by_workflow.setdefault(envelope.correlation_id, []).append(envelope)

    def __getattr__(self, name: str) -> Any:  # only for what the log does not have
        if name.startswith("__"):
            raise AttributeError(name)
        raise TraceNeeded(f"trace.{name}: a real broker keeps the messages, not a record of "
                          "every step")

    def messages_of(self, workflow: str) -> list[Envelope]:
        """One workflow's messages, in publish order."""
        return list(self._by_workflow.get(workflow, ()))

    def correlation_ids(self) -> list[str]:
        """Workflows in the order they first appeared."""
        return list(self._by_workflow)

    def has_workflow(self, workflow: str) -> bool:
        return workflow in self._by_workflow

    def parent(self, message_id: str) -> Envelope | None:
        """The message whose handler produced this one (None for messages from outside)."""
        cause = self.messages[message_id].causation_id
        return self.messages.get(cause) if cause else None


@dataclass
class StateSnapshot:
    """The states of a runtime's services, read once (`StateSnapshot.of(runtime)`).

    `quiet`: nothing was waiting, unacked or being published while it was read, so no
    workflow has anything left to deliver (None: not known).
    """

    states: dict[str, dict[str, Any]]
    trace: MessageLog | NoTrace = field(default_factory=NoTrace)
    dead_letters: list[Any] = field(default_factory=list)
    quiet: bool | None = None

    @classmethod
    def of(cls, runtime: Any) -> StateSnapshot:
        """Read the runtime's states, its log (if it keeps one) and dead letters; `quiet` if
        the runtime was quiet before and after."""
        quiet_before = runtime.quiet() if hasattr(runtime, "quiet") else None
        log = runtime.log() if hasattr(runtime, "log") else NoTrace()
        snapshot = cls({name: runtime.state(name) for name in runtime.services}, log,
                       list(getattr(runtime, "dead_letters", ())))
        if quiet_before is not None:
            snapshot.quiet = quiet_before and runtime.quiet()
        return snapshot

    @property
    def services(self) -> list[str]:
        return list(self.states)

    def state(self, name: str) -> dict[str, Any]:
        return self.states[name]

    def open_messages(self, workflow: str | None = None) -> int:
        """0 if the runtime was quiet while the snapshot was read; else not known here."""
        if self.quiet:
            return 0
        raise TraceNeeded("open_messages(): something was still on its way when this "
                          "snapshot was read (to a service that is down, or busy), and a real "
                          "broker keeps no count of what is left per workflow"
                          if self.quiet is False else
                          "open_messages(): this snapshot does not know whether anything was "
                          "still on its way")

    def violations(self, invariants: Iterable[Callable[[Any], Iterable[Any]]]) -> list[str]:
        """What each invariant finds wrong, as text (empty when all hold)."""
        return [str(violation) for check in invariants for violation in check(self) or ()]

    def judge(self, invariants: Iterable[Callable[[Any], Iterable[Any]]]
              ) -> tuple[list[str], dict[str, str]]:
        """(what the invariants find wrong, as text; the invariants that read what is not
        known here, each with what it asked for)."""
        broken: list[str] = []
        unchecked: dict[str, str] = {}
        for check in invariants:
            try:
                broken.extend(str(violation) for violation in check(self) or ())
            except TraceNeeded as missing:
                unchecked[check.__name__] = str(missing)
        return broken, unchecked
