"""The chaos explorer: many seeded fault schedules, and the smallest one that breaks something.

    result = explore(system, workload, oracle, schedules=200, seed=1)
    print(result)                  # how many passed; the smallest failing schedule, explained
    sim = result.replay()          # the counterexample, run again: the same trace

- `system(seed, faults) -> Simulation` builds the services under test with the fault plan
  it is given; `workload(sim)` places the work (e.g. ten orders); `oracle` is a
  `consistency.Oracle`.
- Schedule ``i`` draws its faults and its simulation seed from ``(seed, i)`` alone, so the
  same call gives the same result, and any schedule can be run again by itself.
- Schedule 0 has no faults (the control run). The others hold 1..`max_faults` faults drawn
  from a `FaultSpace`. Every fault is transient: a kill comes with its restart, a pause
  with its resume, a delivery fault fires a bounded number of times, and together they
  never use up a message's delivery attempts. After the plan, any service still down is
  restarted and the run goes on until it is quiescent. Then the oracle must find it
  converged: consistent, and every workflow finished.
- A failing schedule is shrunk by delta debugging, deterministically: drop one fault (a
  kill and its restart count as one) while the run still breaks one of the same
  invariants, then make each remaining fault smaller (fewer times, earlier, shorter,
  less targeted) the same way. What is left is small enough to read.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from .consistency import Oracle, Violation
from .errors import FaultPlanError, RunawayError
from .faults import (
    CRASH_POINTS,
    AnyFault,
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
from .simulation import Simulation
from .trace import Trace

SystemFactory = Callable[[int, FaultPlan], Simulation]
Workload = Callable[[Simulation], Any]
Unit = tuple[AnyFault, ...]  # one fault, or an outage with its end (Kill + Restart, Pause + Resume)

FAULT_KINDS: tuple[str, ...] = ("kill", "pause", "duplicate", "delay", "reorder", "drop", "crash")
#: kinds that cost the message they hit one delivery attempt
ATTEMPT_COSTS = ("kill", "duplicate", "drop", "crash")
RUNAWAY = "runs to quiescence"


@dataclass(frozen=True)
class FaultSpace:
    """What the explorer may draw: which kinds of fault, how many per schedule, how big.

    - `kinds`: any of ``kill`` (with its restart), ``pause`` (with its resume),
      ``duplicate``, ``delay``, ``reorder``, ``drop``, ``crash``.
    - `crash_points`: None means every point the system allows; ``after_write_before_publish``
      only exists when the system is built with ``outbox=False``.
    - `horizon`: outages start in ``[0, horizon]`` ms; `longest_outage`, `longest_delay` in ms.
    """

    kinds: tuple[str, ...] = FAULT_KINDS
    max_faults: int = 3
    horizon: int = 40
    longest_outage: int = 120
    longest_delay: int = 60
    crash_points: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        unknown = [kind for kind in self.kinds if kind not in FAULT_KINDS]
        if unknown or not self.kinds:
            raise ValueError(f"FaultSpace kinds {list(self.kinds)!r}: choose one or more of "
                             f"{', '.join(FAULT_KINDS)} (restarts and resumes come with kills "
                             "and pauses)")
        points = [p for p in self.crash_points or () if p not in CRASH_POINTS]
        if points:
            raise ValueError(f"unknown crash point(s) {points}; "
                             f"choose from {', '.join(CRASH_POINTS)}")
        if min(self.max_faults, self.horizon + 1, self.longest_outage, self.longest_delay) < 1:
            raise ValueError("FaultSpace needs max_faults >= 1, horizon >= 0, and "
                             "longest_outage, longest_delay >= 1")


@dataclass(frozen=True)
class Topology:
    """What the explorer learns from one fault-free build of the system: where faults can land."""

    services: tuple[str, ...]
    targets: tuple[tuple[str, str], ...]   # (service, event type it handles)
    workflows: tuple[str, ...]
    crash_points: tuple[str, ...]
    attempt_budget: int                    # deliveries a fault plan may cost one message


@dataclass(frozen=True)
class Failure:
    """One schedule that broke something, as it was drawn."""

    index: int
    seed: int
    plan: FaultPlan
    invariants: tuple[str, ...]


@dataclass(frozen=True)
class Counterexample:
    """The smallest failing schedule found: its seed, its plan, what broke, and the trace."""

    seed: int
    plan: FaultPlan
    violations: tuple[Violation, ...]
    trace: Trace = field(repr=False, compare=False)
    found: Failure = field(repr=False)               # the schedule as drawn, before shrinking
    runs: int = field(repr=False)                    # simulations the shrinker ran
    system: SystemFactory = field(repr=False, compare=False)
    workload: Workload = field(repr=False, compare=False)

    def replay(self) -> Simulation:
        """Run the counterexample again from its seed and plan: the same trace, record by record."""
        return run_schedule(self.system, self.workload, self.seed, self.plan)[0]

    def to_json(self) -> str:
        """Seed, plan and violations as JSON (``FaultPlan.model_validate`` reloads the plan)."""
        return json.dumps({"seed": self.seed, "plan": self.plan.model_dump(mode="json"),
                           "violations": [asdict(violation) for violation in self.violations]},
                          indent=2)

    def __str__(self) -> str:
        faults = len(self.plan)
        head = (f"smallest failing schedule: seed={self.seed}, "
                f"{faults} fault{'s' * (faults != 1)} (found as schedule {self.found.index} "
                f"with {len(self.found.plan)}; {self.runs} runs to shrink)")
        lines = [head, *(f"  {line}" for line in self.plan.describe().splitlines())]
        lines.append("broken:")
        lines += [f"  - {violation}" for violation in self.violations]
        return "\n".join(lines)


@dataclass(frozen=True)
class ChaosResult:
    """How many schedules passed, which failed, and the smallest counterexample."""

    seed: int
    schedules: int
    passed: int
    failures: tuple[Failure, ...]
    counterexample: Counterexample | None

    @property
    def failed(self) -> int:
        return len(self.failures)

    @property
    def ok(self) -> bool:
        """Every schedule converged."""
        return not self.failures

    def replay(self) -> Simulation:
        """The counterexample, run again (raises if every schedule passed)."""
        if self.counterexample is None:
            raise ValueError(f"all {self.schedules} schedules passed: there is no counterexample "
                             "to replay")
        return self.counterexample.replay()

    def __str__(self) -> str:
        head = (f"chaos: {self.passed} of {self.schedules} schedules converged "
                f"(seed {self.seed}), {self.failed} failed")
        return head if self.counterexample is None else f"{head}\n{self.counterexample}"


# -- running one schedule -------------------------------------------------------------------------
def run_schedule(system: SystemFactory, workload: Workload, seed: int,
                 plan: FaultPlan) -> tuple[Simulation, str | None]:
    """Build, place the work, run until quiescent (restarting what is still down).

    Returns the simulation and, if the run never settled, the `RunawayError` message.
    """
    sim = build(system, seed, plan)
    try:
        workload(sim)
        settle(sim)
    except RunawayError as error:
        return sim, str(error)
    return sim, None


def build(system: SystemFactory, seed: int, plan: FaultPlan) -> Simulation:
    """Call the system factory, checking it returns a Simulation built with the given faults."""
    sim = system(seed, plan)
    if not isinstance(sim, Simulation):
        raise TypeError(f"the system factory returned {type(sim).__name__}; it must return a "
                        "Simulation, e.g. lambda seed, faults: order_system(seed, faults=faults)")
    if sim.faults != plan:
        raise FaultPlanError("the system factory ignored the fault plan it was given; build the "
                             "Simulation with faults=faults")
    return sim


def settle(sim: Simulation) -> None:
    """Run until idle; restart or resume any service still down or paused; run until idle again."""
    sim.run_until_idle()
    for name in sim.services:
        if sim.status(name) == "down":
            sim.restart(name)
        elif sim.status(name) == "paused":
            sim.resume(name)
    sim.run_until_idle()


def violations_of(oracle: Oracle, sim: Simulation, runaway: str | None) -> tuple[Violation, ...]:
    """What the oracle finds wrong after a run: violations, including workflows left stuck."""
    if runaway is not None:
        return (Violation(RUNAWAY, "the run", runaway, (), "convergence"),)
    return oracle.violations(sim)


# -- drawing schedules ----------------------------------------------------------------------------
def probe(system: SystemFactory, workload: Workload, space: FaultSpace) -> Topology:
    """Build the system once without faults to learn its services, handlers and workflows."""
    sim = build(system, 0, FaultPlan())
    workload(sim)
    workflows = tuple(sim.trace.correlation_ids())
    if not workflows:
        raise ValueError("the workload published nothing; it should place the work, e.g. "
                         "lambda sim: place_order(sim, 'o-1')")
    allowed = tuple(p for p in CRASH_POINTS
                    if not sim.outbox or p != "after_write_before_publish")
    if space.crash_points is not None:
        refused = [p for p in space.crash_points if p not in allowed]
        if refused:
            raise FaultPlanError(f"crash point(s) {refused} need a system built with outbox=False")
        allowed = space.crash_points
    targets = tuple((name, topic) for name in sim.services for topic in sim.backlog(name))
    return Topology(tuple(sim.services), targets, workflows, allowed, sim.max_attempts - 1)


def draw_schedule(seed: int, index: int, topology: Topology,
                  space: FaultSpace) -> tuple[int, list[Unit]]:
    """Schedule `index` of an exploration: its simulation seed and its faults (none for index 0)."""
    rng = random.Random(f"chaos/{seed}/{index}")
    sim_seed = rng.randrange(1_000_000)
    if index == 0:
        return sim_seed, []
    budget = topology.attempt_budget
    units: list[Unit] = []
    for _ in range(rng.randint(1, space.max_faults)):
        kinds = [k for k in space.kinds if budget > 0 or k not in ATTEMPT_COSTS]
        if not kinds:
            break
        unit, cost = draw_fault(rng, rng.choice(kinds), topology, space, budget)
        units.append(unit)
        budget -= cost
    return sim_seed, units


def draw_fault(rng: random.Random, kind: str, topology: Topology, space: FaultSpace,
               budget: int) -> tuple[Unit, int]:
    """One unit of the given kind, and how many delivery attempts it may cost a message."""
    if kind in ("kill", "pause"):
        service = rng.choice(topology.services)
        start = rng.randint(0, space.horizon)
        end = start + rng.randint(1, space.longest_outage)
        if kind == "kill":
            return (Kill(service=service, at=start), Restart(service=service, at=end)), 1
        return (Pause(service=service, at=start), Resume(service=service, at=end)), 0
    service, event_type = rng.choice(topology.targets)
    target: dict[str, Any] = {"service": service, "event_type": event_type}
    if rng.random() < 0.5:
        target["correlation_id"] = rng.choice(topology.workflows)
    if kind in ("delay", "reorder"):
        late = Delay if kind == "delay" else Reorder
        by, times = rng.randint(1, space.longest_delay), rng.randint(1, 3)
        return (late(**target, by=by, times=times),), 0
    times = rng.randint(1, min(2, budget))
    if kind == "crash":
        return (Crash(**target, point=rng.choice(topology.crash_points), times=times),), times
    return ((Duplicate if kind == "duplicate" else Drop)(**target, times=times),), times


def plan_of(units: Sequence[Unit]) -> FaultPlan:
    """The fault plan of these units, in order (the inverse of `units_of`)."""
    return FaultPlan(faults=tuple(fault for unit in units for fault in unit))


def units_of(plan: FaultPlan) -> list[Unit]:
    """Split a plan into units: an outage and its end (adjacent, same service) stay together."""
    units: list[Unit] = []
    ends = {"kill": "restart", "pause": "resume"}
    for fault in plan.faults:
        if (units and len(units[-1]) == 1 and ends.get(units[-1][0].kind) == fault.kind
                and units[-1][0].service == fault.service):  # type: ignore[union-attr]
            units[-1] = (units[-1][0], fault)
        else:
            units.append((fault,))
    return units


# -- exploring ------------------------------------------------------------------------------------
def explore(system: SystemFactory, workload: Workload, oracle: Oracle, *, schedules: int = 100,
            seed: int = 0, space: FaultSpace | None = None, shrink: bool = True) -> ChaosResult:
    """Run `schedules` seeded fault schedules; shrink the smallest failing one.

    Deterministic: the same arguments give the same result. Cost: one simulation per
    schedule, plus a few dozen to shrink a failure.
    """
    if not isinstance(schedules, int) or schedules < 1:
        raise ValueError(f"schedules must be a positive number, got {schedules!r}")
    space = space or FaultSpace()
    topology = probe(system, workload, space)
    failures: list[Failure] = []
    for index in range(schedules):
        sim_seed, units = draw_schedule(seed, index, topology, space)
        plan = plan_of(units)
        violations = violations_of(oracle, *run_schedule(system, workload, sim_seed, plan))
        if violations:
            names = tuple(dict.fromkeys(v.invariant for v in violations))
            failures.append(Failure(index, sim_seed, plan, names))
    counterexample = None
    if failures:
        smallest = min(failures, key=lambda failure: (len(failure.plan), failure.index))
        counterexample = shrink_failure(system, workload, oracle, smallest, shrink=shrink)
    return ChaosResult(seed, schedules, schedules - len(failures), tuple(failures), counterexample)


def shrink_failure(system: SystemFactory, workload: Workload, oracle: Oracle, failure: Failure, *,
                   shrink: bool = True, max_runs: int = 300) -> Counterexample:
    """Shrink a failing schedule for as long as it still breaks one of the same invariants."""
    runs = 0
    wanted = set(failure.invariants)

    def still_fails(units: Sequence[Unit]) -> bool:
        nonlocal runs
        runs += 1
        found = violations_of(oracle, *run_schedule(system, workload, failure.seed, plan_of(units)))
        return any(violation.invariant in wanted for violation in found)

    units = units_of(failure.plan)
    if shrink:
        units = remove_faults(units, still_fails, lambda: runs < max_runs)
        units = simplify_faults(units, still_fails, lambda: runs < max_runs)
    plan = plan_of(units)
    sim, runaway = run_schedule(system, workload, failure.seed, plan)
    return Counterexample(failure.seed, plan, violations_of(oracle, sim, runaway), sim.trace,
                          failure, runs, system, workload)


def remove_faults(units: list[Unit], still_fails: Callable[[Sequence[Unit]], bool],
                  budget_left: Callable[[], bool]) -> list[Unit]:
    """Drop units one at a time, keeping each removal after which the run still fails."""
    index = 0
    while index < len(units) and budget_left():
        candidate = units[:index] + units[index + 1:]
        if still_fails(candidate):
            units = candidate
        else:
            index += 1
    return units


def simplify_faults(units: list[Unit], still_fails: Callable[[Sequence[Unit]], bool],
                    budget_left: Callable[[], bool]) -> list[Unit]:
    """Replace each unit by a smaller version of itself while the run still fails."""
    for index in range(len(units)):
        improved = True
        while improved and budget_left():
            improved = False
            for smaller in smaller_versions(units[index]):
                candidate = units[:index] + [smaller] + units[index + 1:]
                if still_fails(candidate):
                    units, improved = candidate, True
                    break
    return units


def smaller_versions(unit: Unit) -> list[Unit]:
    """Candidate simplifications of one unit, most drastic first."""
    first = unit[0]
    if len(unit) == 2:
        start, end = first.at, unit[1].at  # type: ignore[union-attr]
        outage = end - start
        moves = [(0, outage), (start // 2, outage), (start, outage // 2)]
        return [(first.model_copy(update={"at": s}), unit[1].model_copy(update={"at": s + o}))
                for s, o in moves if o >= 1 and (s, o) != (start, outage)]
    updates: list[dict[str, Any]] = []
    if getattr(first, "at", 0) > 0:  # a kill or pause on its own: earlier
        updates += [{"at": 0}, {"at": first.at // 2}]  # type: ignore[union-attr]
    if getattr(first, "correlation_id", None) is not None:
        updates.append({"correlation_id": None})
    if getattr(first, "times", None) not in (None, 1):
        updates.append({"times": 1})
    if getattr(first, "by", 1) > 1:
        updates.append({"by": first.by // 2})  # type: ignore[union-attr]
    return [(first.model_copy(update=update),) for update in updates]
