"""Reading workflows out of a trace: which records, who took part, what failed or compensated.

Shared by the Mermaid diagrams (`choreo_lab.diagrams`) and the event log
(`choreo_lab.render`), so neither has to know how the other reads a run.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from .envelope import Envelope
from .events import Event
from .simulation import Simulation
from .trace import Trace, TraceRecord

#: Words that mark an event type as a failure when `failures=` is not given.
FAILURE_WORDS: tuple[str, ...] = ("Failed", "Declined", "Rejected", "OutOfStock", "Cancelled",
                                  "Canceled", "Denied", "Refused", "Expired", "TimedOut",
                                  "Bounced", "Aborted")

FailureSpec = Iterable["str | type[Event]"] | None


def failure_rule(failures: FailureSpec = None) -> Callable[[str], bool]:
    """Whether an event type (by name) means a step failed: the names given, or `FAILURE_WORDS`."""
    if failures is None:
        return lambda name: any(word in name for word in FAILURE_WORDS)
    chosen = {item if isinstance(item, str) else item.__name__ for item in failures}
    return chosen.__contains__


# -- reading one or several workflows out of the trace -----------------------------------------
_SERVICE_KINDS = ("kill", "restart", "pause", "resume", "scale")


@dataclass
class WorkflowStory:
    """The records of some workflows (plus kills and restarts around them), who took part,
    and which messages are failures or compensations. Shared by diagrams and the event log."""

    trace: Trace
    workflows: list[str]
    is_failure: Callable[[str], bool]
    sim: Simulation | None
    everything: bool = False                                   # all workflows: all service records
    messages: list[Envelope] = field(default_factory=list)
    records: list[tuple[int, TraceRecord]] = field(default_factory=list)
    roles: dict[str, str] = field(default_factory=dict)        # message id -> failure/compensation
    waiting: list[tuple[Envelope, str, str]] = field(default_factory=list)
    participants: list[str] = field(default_factory=list)
    outsiders: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, run: Simulation | Trace, workflows: str | Iterable[str] | None = None,
           failures: FailureSpec = None, *, required: bool = True) -> WorkflowStory:
        """Read the chosen workflows (None: all) out of a simulation's trace, or a trace.

        With `required`, an empty trace is an error (there is nothing to draw).
        """
        trace = run.trace if isinstance(run, Simulation) else run
        if not isinstance(trace, Trace):
            raise TypeError(f"expected a Simulation or its trace, got {type(run).__name__}")
        chosen = _choose_workflows(trace, workflows, required)
        sim = run if isinstance(run, Simulation) else None
        return cls(trace, chosen, failure_rule(failures), sim, everything=workflows is None).read()

    def read(self) -> WorkflowStory:
        chosen = set(self.workflows)
        self.messages = [e for e in self.trace.messages.values() if e.correlation_id in chosen]
        ids = {e.message_id for e in self.messages}
        self.records = [(index, record) for index, record in enumerate(self.trace)
                        if record.message_id in ids]
        self._find_roles()
        self._find_waiting()
        self._find_participants()
        self.records = sorted(self.records + self._service_records())
        return self

    def _find_roles(self) -> None:
        for envelope in self.messages:  # publication order: a cause comes before its effects
            if self.is_failure(envelope.event_type):
                self.roles[envelope.message_id] = "failure"
            elif self.roles.get(envelope.causation_id or ""):
                self.roles[envelope.message_id] = "compensation"

    def _find_waiting(self) -> None:
        """Messages not yet delivered to a subscribed service (known only with a Simulation)."""
        if self.sim is None:
            return
        sim = self.sim
        delivered = {(r.message_id, r.service) for _, r in self.records if r.kind == "deliver"}
        subscribers = {name: sim.backlog(name) for name in sim.services}
        for envelope in self.messages:
            for name, backlog in subscribers.items():
                if envelope.topic not in backlog or (envelope.message_id, name) in delivered:
                    continue
                status = sim.status(name)
                if status != "up":
                    self.waiting.append((envelope, name, f"waiting: {name} is {status}"))
                elif not sim.idle:
                    self.waiting.append((envelope, name, "on its way"))

    def _find_participants(self) -> None:
        consumers = {r.service for r in self.trace if r.kind not in ("publish", "no-subscriber")}
        names = [self.trace.messages[r.message_id].producer if r.kind == "publish" else r.service
                 for _, r in self.records if r.message_id]
        names += [name for _, name, _ in self.waiting]
        self.participants = list(dict.fromkeys(names))
        self.outsiders = [name for name in self.participants if name not in consumers]

    def _service_records(self) -> list[tuple[int, TraceRecord]]:
        """Kills, restarts, pauses of the services involved, while the workflows were running."""
        if self.everything:
            return [(i, r) for i, r in enumerate(self.trace) if r.kind in _SERVICE_KINDS]
        if not self.records:
            return []
        first, last = self.records[0][0], self.records[-1][0]
        if self.waiting:
            last = len(self.trace)
        involved = set(self.participants)
        found, before = [], {}
        for index, record in enumerate(self.trace):
            if record.kind not in _SERVICE_KINDS or record.service not in involved:
                continue
            if index < first:
                before[record.service] = (index, record)
            elif index <= last:
                found.append((index, record))
        # a service already down (or paused) when the workflow began explains a long wait
        still_out = [item for item in before.values() if item[1].kind in ("kill", "pause")]
        return sorted(still_out) + found


def _choose_workflows(trace: Trace, workflows: str | Iterable[str] | None,
                      required: bool = True) -> list[str]:
    known = trace.correlation_ids()
    if not known and workflows is None and not required:
        return []
    if not known:
        raise ValueError("nothing has been published yet, so there is nothing to draw; "
                         "publish an event and run the simulation first")
    if workflows is None:
        return known
    chosen = [workflows] if isinstance(workflows, str) else list(workflows)
    if not chosen:
        raise ValueError("no workflow chosen; pass a correlation id such as "
                         f"{known[0]!r}, a list of them, or None for all")
    for workflow in chosen:
        if workflow not in known:
            close = difflib.get_close_matches(str(workflow), known, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            shown = ", ".join(known[:10]) + (", ..." if len(known) > 10 else "")
            raise ValueError(f"no workflow {workflow!r} in this run; its workflows "
                             f"(correlation ids) are: {shown}.{hint}")
    return list(dict.fromkeys(chosen))
