"""Reading workflows out of a trace: which records, who took part, what failed or compensated.

Shared by the Mermaid diagrams (`choreo_lab.diagrams`) and the event log
(`choreo_lab.render`), so neither has to know how the other reads a run.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

from . import vocabulary as words
from .envelope import Envelope
from .simulation import Simulation, Timer
from .text import did_you_mean
from .trace import Trace, TraceRecord


def workflow_status(sim: Simulation, workflow: str) -> str:
    """running / compensating / completed / compensated / stuck, from the declared roles.

    A workflow is completed or compensated once an event declaring that outcome was
    published in it (the latest one counts). Until then it is compensating if a failure or
    compensation event was published, and running otherwise - unless nothing about it is
    left to deliver (no message in flight, waiting or due, no timer, no commit that its
    service's relay has yet to run after): then it is stuck.
    A workflow waiting for a service that is down is still running: it moves on restart.
    Cost: the workflow's own messages.
    """
    messages = sim.trace.messages_of(workflow)
    outcomes = [e.event.event_outcome for e in messages if e.event.event_outcome]
    if outcomes:
        return outcomes[-1]
    if sim.open_messages(workflow) == 0:
        return words.STUCK
    if any(e.event.event_role != words.STEP for e in messages):
        return words.COMPENSATING
    return words.RUNNING


def declared_outcomes(sim: Simulation) -> dict[str, str]:
    """Event type -> outcome, for the types the services handle or declare they publish."""
    found = {}
    for name in sim.services:
        for handling in sim.definition(name).handlers.values():
            for event_type in (handling.event_type, *handling.publishes):
                if event_type.event_outcome:
                    found[event_type.event_type] = event_type.event_outcome
    return found


def workflow_finished(sim: Simulation, workflow: str) -> bool:
    """An event declaring an outcome (completed or compensated) was published in the workflow,
    and every service is done with it: nothing of it is left to deliver (the outcome itself
    may still be on its way to a service that must hear of it)."""
    return (any(e.event.event_outcome for e in sim.trace.messages_of(workflow))
            and sim.open_messages(workflow) == 0)


# -- reading one or several workflows out of the trace -----------------------------------------
_SERVICE_KINDS = (words.KILL, words.RESTART, words.PAUSE, words.RESUME, words.SCALE)


@dataclass
class WorkflowStory:
    """The records of some workflows (plus kills and restarts around them), who took part,
    and which messages are failures or compensations. Shared by diagrams and the event log.

    Each part is read from the trace when first asked for, so a reader pays for what it
    uses: the event log's first rows do not need who took part, nor a table the roles.
    """

    trace: Trace
    workflows: list[str]
    sim: Simulation | None
    everything: bool = False  # all workflows: all service records

    @classmethod
    def of(cls, run: Simulation | Trace, workflows: str | Iterable[str] | None = None, *,
           required: bool = True) -> WorkflowStory:
        """Read the chosen workflows (None: all) out of a simulation's trace, or a trace.

        With `required`, an empty trace is an error (there is nothing to draw).
        """
        trace = run.trace if isinstance(run, Simulation) else run
        if not isinstance(trace, Trace):
            raise TypeError(f"expected a Simulation or its trace, got {type(run).__name__}")
        chosen = _choose_workflows(trace, workflows, required)
        sim = run if isinstance(run, Simulation) else None
        return cls(trace, chosen, sim, everything=workflows is None)

    @cached_property
    def own_records(self) -> list[tuple[int, TraceRecord]]:
        """The chosen workflows' records with their positions in the trace, in trace order."""
        return sorted(item for workflow in self.workflows for item in self.trace.indexed(workflow))

    @cached_property
    def records(self) -> list[tuple[int, TraceRecord]]:
        """Their records and the service records around them, in trace order."""
        return sorted(self.own_records + self.service_records)

    @property
    def record_count(self) -> int:
        """How many `records` there are: the workflows' records counted from the trace's
        index (not read), plus the service records."""
        return sum(self.trace.count_of(w) for w in self.workflows) + len(self.service_records)

    @cached_property
    def messages(self) -> list[Envelope]:
        """The chosen workflows' messages, in publish order."""
        return [self.trace.messages[r.message_id] for _, r in self.own_records
                if r.kind == words.PUBLISH and r.message_id]

    @cached_property
    def roles(self) -> dict[str, str]:
        """Message id -> failure or compensation, as their event types declare them."""
        return {envelope.message_id: envelope.event.event_role for envelope in self.messages
                if envelope.event.event_role != words.STEP}

    @cached_property
    def waiting(self) -> list[tuple[Envelope, str, str]]:
        """(message, service, why) for messages not yet delivered to a subscribed service
        (known only with a Simulation)."""
        if self.sim is None:
            return []
        sim = self.sim
        delivered = {(r.message_id, r.service) for _, r in self.own_records if r.kind == "deliver"}
        waiting = []
        for envelope in self.messages:
            for name in sim.services:
                if not sim.handles(name, envelope) or (envelope.message_id, name) in delivered:
                    continue
                status = sim.status(name)
                if status != words.UP:
                    waiting.append((envelope, name, f"waiting: {name} is {status}"))
                elif not sim.idle:
                    waiting.append((envelope, name, "on its way"))
        return waiting

    @cached_property
    def pending_timers(self) -> list[Timer]:
        """Timers set in the chosen workflows, not yet fired (known only with a Simulation)."""
        if self.sim is None:
            return []
        chosen = set(self.workflows)
        return [timer for timer in self.sim.timers if timer.origin.correlation_id in chosen]

    @cached_property
    def participants(self) -> list[str]:
        """Who published, received or still waits for the workflows' messages, in order."""
        names = [self.trace.messages[r.message_id].producer if r.kind == words.PUBLISH else r.service
                 for _, r in self.own_records if r.message_id]
        names += [name for _, name, _ in self.waiting]
        return list(dict.fromkeys(names))

    @cached_property
    def outsiders(self) -> list[str]:
        """Participants that only publish (a customer, a test): they consume nothing."""
        consumers = {r.service for r in self.trace
                     if r.kind not in (words.PUBLISH, words.NO_SUBSCRIBER)}
        return [name for name in self.participants if name not in consumers]

    @cached_property
    def service_records(self) -> list[tuple[int, TraceRecord]]:
        """Kills, restarts, pauses of the services involved, while the workflows were running."""
        if self.everything:
            return self.trace.of_kinds(*_SERVICE_KINDS)
        if not self.own_records:
            return []
        first, last = self.own_records[0][0], self.own_records[-1][0]
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
        still_out = [item for item in before.values() if item[1].kind in (words.KILL, words.PAUSE)]
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
        if not trace.has_workflow(workflow):
            hint = did_you_mean(str(workflow), known)
            shown = ", ".join(known[:10]) + (", ..." if len(known) > 10 else "")
            raise ValueError(f"no workflow {workflow!r} in this run; its workflows "
                             f"(correlation ids) are: {shown}.{hint}")
    return list(dict.fromkeys(chosen))
