"""Fault sites: every delivery of a fault-free control run, and the single faults that can hit it.

The control run is the workload run once without faults. Each delivery in it is a *site*
(service, event type, workflow, occurrence, attempt), and every kind of fault that applies
there is a *candidate* for the systematic pass: a lost ack, a crash at each crash point the
system allows, a drop, a delay, a reorder, and a kill or a pause of the service at that
moment (with its restart or resume later). A candidate is pinned to its site with
``correlation_id`` and ``occurrence``, so it fires there and nowhere else.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

from .. import vocabulary as words
from ..consistency import Oracle, Violation
from ..errors import FaultPlanError
from ..faults import (
    CRASH_POINTS,
    Crash,
    Delay,
    Drop,
    Duplicate,
    FaultPlan,
    Kill,
    Pause,
    Reorder,
    Restart,
    Resume,
)
from ..simulation import Simulation
from ..text import did_you_mean
from .runs import SystemFactory, Workload, run_schedule, violations_of
from .space import FaultSpace, Unit

#: The simulation seed of the control run and of every systematic schedule, so that a fault
#: pinned to a site of the control run meets the same run up to that site.
CONTROL_SEED = 0

#: What can go wrong at a site, in the order the systematic pass tries them: first what makes
#: a message come again (the bugs of at-least-once; with the outbox off, the dual write right
#: after the lost ack), then what loses a try, then timing, then outages. Each is (the
#: `FaultSpace` kind, the crash point).
SITE_FAULTS: dict[str, tuple[str, str | None]] = {
    "lost ack": ("duplicate", None),
    "crash after write": ("crash", "after_write_before_publish"),
    "crash after commit": ("crash", "after_commit_before_ack"),
    "drop": ("drop", None),
    "crash before commit": ("crash", "before_commit"),
    "reorder": ("reorder", None),
    "delay": ("delay", None),
    "kill": ("kill", None),
    "pause": ("pause", None),
}
#: Site faults after which the same message comes again (so a second fault can hit the retry).
REPEATING = ("lost ack", "crash after write", "crash after commit", "drop", "crash before commit")

Cell = tuple[str, str, str]  # (service, event type, site fault): one square of the coverage grid


@dataclass(frozen=True)
class Site:
    """One delivery of the fault-free control run: a place where a single fault can land.

    `sent`, `tried` and `handled` count, as the fault injector does, how often deliveries of
    this event type to this service in this workflow had reached each decision point, this
    one included: being sent (delay, reorder), being attempted (drop), and the handler having
    run (crash, lost ack). 0 where this delivery never got there (a retry is not sent again;
    a handler that raised reaches no crash point).
    """

    service: str
    event_type: str
    workflow: str
    message_id: str
    attempt: int
    time: int
    sent: int
    tried: int
    handled: int


@dataclass(frozen=True)
class Topology:
    """Where random faults can land, learnt from the control run."""

    services: tuple[str, ...]
    targets: tuple[tuple[str, str], ...]   # (service, event type it handles)
    workflows: tuple[str, ...]
    crash_points: tuple[str, ...]
    attempt_budget: int                    # deliveries a fault plan may cost one message


@dataclass(frozen=True)
class Candidate:
    """A schedule of the systematic pass (one fault, or two) and the coverage cells it counts for."""

    units: tuple[Unit, ...]
    cells: tuple[Cell, ...]
    site: Site  # where its (first) fault lands
    cost: int   # delivery attempts it may cost one message


@dataclass(frozen=True)
class ControlRun:
    """The workload run once without faults: its outcome, its sites, and the space fitted to it."""

    sim: Simulation
    violations: tuple[Violation, ...]
    sites: tuple[Site, ...]
    topology: Topology
    space: FaultSpace
    #: (service, event type) in the order the control run first delivered them: the rows of
    #: the coverage grid, which so follow the workflow
    delivered: tuple[tuple[str, str], ...]


def control_run(system: SystemFactory, workload: Workload, oracle: Oracle,
                space: FaultSpace) -> ControlRun:
    """Run the workload once without faults and learn where faults can land. Cost: one run."""
    sim, runaway = run_schedule(system, workload, CONTROL_SEED, FaultPlan())
    workflows = tuple(sim.trace.correlation_ids())
    if not workflows:
        raise ValueError("the workload published nothing; it should place the work, e.g. "
                         "lambda sim: sim.publish(SomethingHappened(...))")
    services = _services_in_space(sim, space)
    space = space.fitted(sim.now)
    crash_points = _crash_points(sim, space)
    space = replace(space, crash_points=crash_points, services=services)
    handled = tuple((name, event_type) for name in services
                    for event_type in sim.definition(name).handlers)
    topology = Topology(services, handled, workflows, crash_points, sim.max_attempts - 1)
    sites = tuple(site for site in find_sites(sim) if site.service in services)
    delivered = tuple(dict.fromkeys((site.service, site.event_type) for site in sites))
    return ControlRun(sim, violations_of(oracle, sim, runaway), sites, topology, space, delivered)


def _services_in_space(sim: Simulation, space: FaultSpace) -> tuple[str, ...]:
    if space.services is None:
        return tuple(sim.services)
    for name in space.services:
        if name not in sim.services:
            raise FaultPlanError(f"FaultSpace services names {name!r}, which is not in the "
                                 f"system; its services: {', '.join(sim.services)}."
                                 f"{did_you_mean(name, sim.services)}")
    return tuple(space.services)


def _crash_points(sim: Simulation, space: FaultSpace) -> tuple[str, ...]:
    """The crash points to try: those asked for, or every one the system allows."""
    allowed = tuple(p for p in CRASH_POINTS if not sim.outbox or p != "after_write_before_publish")
    if space.crash_points is None:
        return allowed
    refused = [p for p in space.crash_points if p not in allowed]
    if refused:
        raise FaultPlanError(f"crash point(s) {refused} need a system built with outbox=False")
    return space.crash_points


def find_sites(sim: Simulation) -> list[Site]:
    """Every delivery in a finished run, counted per decision point as the fault injector counts.

    Cost: one pass over the trace.
    """
    messages = sim.trace.messages
    acked = {(r.message_id, r.service, r.attempt) for r in sim.trace
             if r.kind in words.COMMITTED_KINDS}
    sent: Counter[tuple[str, str, str]] = Counter()
    tried: Counter[tuple[str, str, str]] = Counter()
    handled: Counter[tuple[str, str, str]] = Counter()
    send_number: dict[tuple[str, str], int] = {}  # (message id, service) -> its n-th send
    sites = []
    for record in sim.trace:
        envelope = messages.get(record.message_id or "")
        if envelope is None:
            continue
        if record.kind == words.PUBLISH:  # sent to every group that handles it
            for name in sim.services:
                if sim.handles(name, envelope):
                    key = (name, envelope.event_type, envelope.correlation_id)
                    sent[key] += 1
                    send_number[envelope.message_id, name] = sent[key]
        if record.kind not in (words.DELIVER, words.REDELIVER):
            continue
        key = (record.service, envelope.event_type, envelope.correlation_id)
        tried[key] += 1
        ran = (record.message_id, record.service, record.attempt) in acked
        handled[key] += ran
        first_send = send_number.get((envelope.message_id, record.service), 0)
        sites.append(Site(record.service, envelope.event_type, envelope.correlation_id,
                          envelope.message_id, record.attempt, record.time,
                          sent=first_send if record.kind == words.DELIVER else 0,
                          tried=tried[key], handled=handled[key] if ran else 0))
    return sites


# -- the single faults at a site ------------------------------------------------------------------
def single_faults(control: ControlRun) -> list[Candidate]:
    """Every single fault the space allows at every site; a fault that several sites share
    (a kill at a moment when two deliveries happen) is one candidate covering both."""
    found: dict[Unit, tuple[list[Cell], Site, int]] = {}
    for site in control.sites:
        for label, unit, cost in faults_at(site, control):
            cells, _, _ = found.setdefault(unit, ([], site, cost))
            cells.append((site.service, site.event_type, label))
    return [Candidate((unit,), tuple(cells), site, cost)
            for unit, (cells, site, cost) in found.items()]


def faults_at(site: Site, control: ControlRun) -> Iterator[tuple[str, Unit, int]]:
    """(site fault, unit, attempts it may cost) for each fault the space allows at `site`."""
    space, budget = control.space, control.topology.attempt_budget
    target: dict[str, Any] = {"service": site.service, "event_type": site.event_type,
                              "correlation_id": site.workflow}
    for label in allowed_site_faults(space):
        kind, point = SITE_FAULTS[label]
        unit = _unit(kind, point, site, target, space)
        cost = attempts_cost(kind, site, control)
        if unit is not None and cost <= budget:
            yield label, unit, cost


def attempts_cost(kind: str, site: Site, control: ControlRun) -> int:
    """How many delivery attempts a fault of `kind` at `site` may cost the message it hits.

    A kill costs one only where the service takes time to process a message: it abandons
    what it holds. A pause, a delay or a reorder costs nothing.
    """
    if kind == "kill":
        return int(control.sim.definition(site.service).processing_time > 0)
    return int(kind in ("duplicate", "drop", "crash"))


def allowed_site_faults(space: FaultSpace) -> list[str]:
    """The site faults of `SITE_FAULTS` that the (fitted) space allows, in their order."""
    return [label for label, (kind, point) in SITE_FAULTS.items()
            if kind in space.kinds and (point is None or point in (space.crash_points or ()))]


def _unit(kind: str, point: Any, site: Site, target: dict[str, Any],
          space: FaultSpace) -> Unit | None:
    """The fault of `kind` pinned to `site`, or None where it cannot happen there."""
    outage = space.longest_outage or 1
    if kind == "kill":
        return (Kill(service=site.service, at=site.time),
                Restart(service=site.service, at=site.time + outage))
    if kind == "pause":
        return (Pause(service=site.service, at=site.time),
                Resume(service=site.service, at=site.time + outage))
    if kind in ("delay", "reorder"):
        late = Delay if kind == "delay" else Reorder
        return (late(**target, by=space.longest_delay or 1, occurrence=site.sent),) if site.sent else None
    if kind == "drop":
        return (Drop(**target, occurrence=site.tried),)
    if not site.handled:
        return None
    if kind == "crash":
        return (Crash(**target, point=point, occurrence=site.handled),)
    return (Duplicate(**target, occurrence=site.handled),)
