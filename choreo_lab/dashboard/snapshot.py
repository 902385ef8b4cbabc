"""What the dashboard shows, gathered from a simulation in one pass (no widgets here).

`LogBook` follows a trace like ``tail -f``: each refresh reads only the records added since
the last one and keeps the latest few per log filter, so a refresh costs the same after
ten events or a hundred thousand. `take_snapshot` collects everything else the dashboard
shows into one immutable `Snapshot`, catching errors from a learner's code (an oracle
invariant or a workflow-status function that raises) so they are shown, not raised.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..broker import DeadLetter
from ..simulation import Simulation
from ..text import describe_error
from ..trace import Trace, TraceRecord

#: The event-log filters a learner can pick: name -> record kinds shown (None: every kind).
LOG_FILTERS: dict[str, frozenset[str] | None] = {
    "everything": None,
    "published events (with their cause)": frozenset({"publish", "no-subscriber"}),
    "problems and faults": frozenset({"nack", "crash", "abandon", "dead-letter", "redrive",
                                      "drop", "duplicate", "delay", "reorder", "kill",
                                      "restart", "pause", "resume", "scale"}),
}
LOG_LENGTH = 25          # log rows shown (and kept per filter); the log never scrolls
DEAD_LETTERS_SHOWN = 20  # dead letters listed (all can still be re-driven)
TIMERS_SHOWN = 12        # pending timers listed, soonest first
LAG_SAMPLES = 40         # lag samples kept per service for its card's sparkline


class ConsistencyOracle(Protocol):
    """Anything with `check(sim)` returning a consistency report (see choreo_lab.consistency)."""

    def check(self, sim: Simulation) -> Any: ...


WorkflowStatuses = Callable[[Simulation], Mapping[str, str]]


@dataclass(frozen=True)
class LogEntry:
    """One trace record, with what the log shows beside it: the event, its workflow, its cause."""

    record: TraceRecord
    event_type: str = ""
    correlation_id: str = ""
    cause_id: str | None = None
    cause_type: str = ""


@dataclass(frozen=True)
class ServiceView:
    """One service's card: its status and counters, backlog per subscribed topic."""

    name: str
    status: str
    instances: int
    backlog: dict[str, int]
    in_flight: int
    handled: int
    retried: int
    dead_lettered: int
    lag: int = 0                        # sent to the group, not yet acked or dead-lettered
    lag_history: tuple[int, ...] = ()   # its lag at earlier refreshes, oldest first

    @property
    def waiting(self) -> int:
        return sum(self.backlog.values())


@dataclass(frozen=True)
class TimerView:
    """One pending timer: who set it, its name, the event it will publish, when."""

    service: str
    name: str
    event_type: str
    workflow: str
    due: int


@dataclass(frozen=True)
class Snapshot:
    """Everything one dashboard refresh shows, read from the simulation at one moment."""

    now: int
    seed: int | str
    idle: bool
    messages: int
    services: tuple[ServiceView, ...]
    log: tuple[LogEntry, ...]                 # latest first, at most LOG_LENGTH
    workflows: tuple[tuple[str, str], ...]    # (workflow id, status), in order first seen
    last_events: dict[str, str]               # workflow id -> last event type published in it
    report: Any | None                        # the oracle's report (None: no oracle, or it failed)
    dead_letters: tuple[DeadLetter, ...]      # latest first, at most DEAD_LETTERS_SHOWN
    dead_letter_count: int
    problems: tuple[str, ...] = field(default=())  # errors raised by learner code while gathering
    timers: tuple[TimerView, ...] = ()        # pending, soonest first, at most TIMERS_SHOWN
    timer_count: int = 0


class LogBook:
    """The latest trace records per log filter, read incrementally from a growing trace."""

    def __init__(self, trace: Trace, keep: int = LOG_LENGTH) -> None:
        self.trace = trace
        self.keep = keep
        self._start_reading()

    def _start_reading(self) -> None:
        self._read = 0
        self.latest: dict[str, deque[TraceRecord]] = {
            name: deque(maxlen=self.keep) for name in LOG_FILTERS}
        #: workflow id -> the type of the last event published in it
        self.last_events: dict[str, str] = {}

    def catch_up(self) -> None:
        """Read the records added since the last call (cost: proportional to how many)."""
        for record in self.trace.since(self._read):
            self._read += 1
            self._file(record)

    def _file(self, record: TraceRecord) -> None:
        for name, kinds in LOG_FILTERS.items():
            if kinds is None or record.kind in kinds:
                self.latest[name].append(record)
        if record.kind == "publish":
            envelope = self.trace.messages[record.message_id]
            self.last_events[envelope.correlation_id] = envelope.event_type

    def entries(self, log_filter: str) -> tuple[LogEntry, ...]:
        """The latest records passing `log_filter`, newest first, with their event and cause."""
        messages = self.trace.messages
        entries = []
        for record in reversed(self.latest[log_filter]):
            envelope = messages.get(record.message_id) if record.message_id else None
            if envelope is None:
                entries.append(LogEntry(record))
                continue
            cause = messages.get(envelope.causation_id) if envelope.causation_id else None
            entries.append(LogEntry(record, envelope.event_type, envelope.correlation_id,
                                    envelope.causation_id, cause.event_type if cause else ""))
        return tuple(entries)


class LagHistory:
    """Each service's lag at the latest refreshes (one sample per virtual moment)."""

    def __init__(self, keep: int = LAG_SAMPLES) -> None:
        self.keep = keep
        self.samples: dict[str, deque[int]] = {}
        self._last_time: int | None = None

    def record(self, sim: Simulation) -> None:
        """Sample every service's lag; at the same virtual moment again, replace the last sample."""
        moved = sim.now != self._last_time
        self._last_time = sim.now
        for name in sim.services:
            history = self.samples.setdefault(name, deque(maxlen=self.keep))
            if moved or not history:
                history.append(sim.lag(name))
            else:
                history[-1] = sim.lag(name)

    def of(self, name: str) -> tuple[int, ...]:
        return tuple(self.samples.get(name, ()))


def service_views(sim: Simulation, lags: LagHistory | None = None) -> tuple[ServiceView, ...]:
    """One view per service, in the simulation's order."""
    views = []
    for name, stats in sim.stats().items():
        views.append(ServiceView(name, stats["status"], stats["instances"], sim.backlog(name),
                                 stats["in_flight"], stats["handled"], stats["retried"],
                                 stats["dead_lettered"], sim.lag(name),
                                 lags.of(name) if lags is not None else ()))
    return tuple(views)


def timer_views(sim: Simulation) -> tuple[TimerView, ...]:
    """The pending timers, soonest first, at most `TIMERS_SHOWN`."""
    return tuple(TimerView(t.service, t.name, t.event.event_type, t.origin.correlation_id, t.due)
                 for t in sim.timers[:TIMERS_SHOWN])


def take_snapshot(sim: Simulation, logbook: LogBook, *, log_filter: str = "everything",
                  oracle: ConsistencyOracle | None = None,
                  workflows: WorkflowStatuses | None = None,
                  lags: LagHistory | None = None) -> Snapshot:
    """Read everything the dashboard shows. Errors from `oracle` or `workflows` become problems."""
    if log_filter not in LOG_FILTERS:
        raise ValueError(f"unknown log filter {log_filter!r}; choose one of {list(LOG_FILTERS)}")
    logbook.catch_up()
    problems: list[str] = []
    report = None
    if oracle is not None:
        try:
            report = oracle.check(sim)
        except Exception as error:  # noqa: BLE001 - a learner's invariant may raise anything
            problems.append(f"the consistency check failed: {describe_error(error)}")
    statuses: tuple[tuple[str, str], ...] = ()
    if workflows is not None:
        try:
            statuses = tuple((str(k), str(v)) for k, v in workflows(sim).items())
        except Exception as error:  # noqa: BLE001 - so may a learner's status function
            problems.append(f"reading the workflow statuses failed: {describe_error(error)}")
    letters = sim.dead_letters
    if lags is not None:
        lags.record(sim)
    return Snapshot(
        now=sim.now, seed=sim.seed, idle=sim.idle, messages=len(sim.trace.messages),
        services=service_views(sim, lags), log=logbook.entries(log_filter), workflows=statuses,
        last_events=dict(logbook.last_events), report=report,
        dead_letters=tuple(reversed(letters[-DEAD_LETTERS_SHOWN:])),
        dead_letter_count=len(letters), problems=tuple(problems),
        timers=timer_views(sim), timer_count=len(sim.timers))
