"""`explore`: run an exploration's schedules, judge each with the oracle, shrink a failure."""

from __future__ import annotations

import json
import textwrap
from dataclasses import asdict, dataclass, field

from ..consistency import Oracle, Violation
from ..faults import FaultPlan
from ..simulation import Simulation
from ..text import fit, plural
from ..trace import Trace
from .coverage import Coverage, coverage_of
from .runs import (
    SystemFactory,
    Workload,
    broken_invariants,
    check_system,
    run_schedule,
    violations_of,
)
from .schedules import (
    CONTROL,
    MODES,
    Schedule,
    cell_rank,
    random_schedules,
    spread,
    systematic_schedules,
)
from .shrink import shrink_plan
from .sites import control_run, single_faults
from .space import FaultSpace

WIDTH = 100  # the summary is wrapped to this many columns, like the rest of choreo_lab's text


@dataclass(frozen=True)
class Failure:
    """One schedule that broke something, as it was run."""

    index: int
    phase: str
    seed: int
    plan: FaultPlan
    invariants: tuple[str, ...]

    def describe(self) -> str:
        """"schedule 3 (single fault, seed 0)" and its faults, one per line, indented."""
        lines = [f"schedule {self.index} ({self.phase}, seed {self.seed})"]
        return "\n".join(lines + [f"  {line}" for line in self.plan.describe().splitlines()])


@dataclass(frozen=True)
class Counterexample:
    """The smallest failing schedule found: its seed, its plan, what broke, and the trace."""

    seed: int
    plan: FaultPlan
    violations: tuple[Violation, ...]
    trace: Trace = field(repr=False, compare=False)
    found: Failure = field(repr=False)               # the schedule as run, before shrinking
    runs: int = field(repr=False)                    # simulations the shrinker ran
    system: SystemFactory = field(repr=False, compare=False)
    workload: Workload = field(repr=False, compare=False)

    def replay(self) -> Simulation:
        """Run the counterexample again from its seed and plan: the same trace, record by record."""
        return run_schedule(self.system, self.workload, self.seed, self.plan)[0]

    def to_json(self) -> str:
        """Seed, plan and violations as JSON (``FaultPlan.model_validate`` reloads the plan),
        and the schedule it was shrunk from."""
        found = {"index": self.found.index, "phase": self.found.phase, "seed": self.found.seed,
                 "plan": self.found.plan.model_dump(mode="json")}
        return json.dumps({"seed": self.seed, "plan": self.plan.model_dump(mode="json"),
                           "violations": [asdict(violation) for violation in self.violations],
                           "found": found}, indent=2)

    def __str__(self) -> str:
        faults = len(self.plan)
        head = (f"smallest failing schedule: {plural(faults, 'fault')}, with simulation seed "
                f"{self.seed}")
        before = len(self.found.plan)
        if before == 0:
            head += " - the run without faults already fails"
        elif before > faults:
            head += (f" - schedule {self.found.index} of the exploration, shrunk from "
                     f"{plural(before, 'fault')} in {plural(self.runs, 'run')}")
        else:
            head += f" - schedule {self.found.index} of the exploration"
        lines = [fit(head, indent=2), *(fit(f"  {line}", indent=4)
                                         for line in self.plan.describe().splitlines())]
        lines.append("broken:")
        lines += [fit(f"  - {violation}", indent=4) for violation in self.violations]
        return "\n".join(lines)


@dataclass(frozen=True)
class ChaosResult:
    """How many schedules passed, what they covered, the first failure and the smallest one."""

    seed: int
    schedules: int
    passed: int
    failures: tuple[Failure, ...]
    counterexample: Counterexample | None
    coverage: Coverage

    @property
    def failed(self) -> int:
        return len(self.failures)

    @property
    def ok(self) -> bool:
        """Every schedule converged."""
        return not self.failures

    @property
    def first_failure(self) -> Failure | None:
        """The first schedule that broke something, or None."""
        return self.failures[0] if self.failures else None

    def replay(self, failure: Failure | None = None) -> Simulation:
        """Run the counterexample again (or one of `failures`, as it was run)."""
        if self.counterexample is None:
            raise ValueError(f"all {self.schedules} schedules passed: there is no counterexample "
                             "to replay")
        if failure is None:
            return self.counterexample.replay()
        return run_schedule(self.counterexample.system, self.counterexample.workload,
                            failure.seed, failure.plan)[0]

    def __str__(self) -> str:
        head = (f"chaos: {self.passed} of {self.schedules} schedules converged (seed "
                f"{self.seed}), {self.failed} failed")
        lines = [head, textwrap.fill(self.coverage.summary(), WIDTH, subsequent_indent="  ")]
        first, found = self.first_failure, self.counterexample
        if first is not None and found is not None:
            if first == found.found:
                lines.append(f"first failing: schedule {first.index} ({first.phase}), "
                             "shrunk below")
            else:
                lines.append(f"first failing: {first.describe()}")
            lines.append(str(found))
        return "\n".join(lines)


def explore(system: SystemFactory, workload: Workload, oracle: Oracle, *, schedules: int = 100,
            seed: int = 0, space: FaultSpace | None = None, mode: str = "systematic",
            shrink: bool = True, stop_at_first_failure: bool = False) -> ChaosResult:
    """Run `schedules` fault schedules against the system and judge each with `oracle`.

    - `system(seed, faults) -> Simulation` builds the services under test with the fault
      plan it is given; `workload(sim)` places the work; `oracle` is a `consistency.Oracle`.
    - ``mode="systematic"``: the control run, every single fault at every delivery of it,
      then pairs, then random schedules (`schedules` spends its budget in that order; see
      `choreo_lab.chaos.schedules`). ``mode="random"``: random schedules only.
    - `stop_at_first_failure`: stop at the first schedule that breaks something.

    The smallest failing schedule is shrunk (unless `shrink` is False). Deterministic: the
    same arguments give the same result. Cost: one simulation per schedule, plus one for the
    control run and up to a few dozen to shrink a failure.
    """
    if type(schedules) is not int or schedules < 1:
        raise ValueError(f"schedules must be a positive whole number, got {schedules!r}")
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(map(repr, MODES))}, got {mode!r}")
    check_system(system)
    control = control_run(system, workload, oracle, space or FaultSpace())
    singles = spread(single_faults(control), cell_rank(control))
    plan = (systematic_schedules(control, singles, schedules, seed) if mode == "systematic"
            else random_schedules(control, schedules, seed))
    run: list[Schedule] = []
    failures: list[Failure] = []
    for schedule in plan:
        run.append(schedule)
        if schedule.phase == CONTROL and schedule.seed == control.sim.seed:
            violations = control.violations  # the control run itself: already judged
        else:
            violations = violations_of(oracle, *run_schedule(system, workload, schedule.seed,
                                                             schedule.plan))
        if violations:
            failures.append(Failure(schedule.index, schedule.phase, schedule.seed,
                                    schedule.plan, broken_invariants(violations)))
            if stop_at_first_failure:
                break
    coverage = coverage_of(control, singles, run, {f.index for f in failures}, mode)
    counterexample = None
    if failures:
        smallest = min(failures, key=lambda failure: (len(failure.plan), failure.index))
        counterexample = shrink_failure(system, workload, oracle, smallest, shrink=shrink)
    return ChaosResult(seed, len(run), len(run) - len(failures), tuple(failures), counterexample,
                       coverage)


def shrink_failure(system: SystemFactory, workload: Workload, oracle: Oracle, failure: Failure, *,
                   shrink: bool = True) -> Counterexample:
    """The failure shrunk (while it still breaks one of the same invariants), run once more."""
    plan, runs = failure.plan, 0
    if shrink:
        plan, runs = shrink_plan(system, workload, oracle, failure.seed, plan, failure.invariants)
    sim, runaway = run_schedule(system, workload, failure.seed, plan)
    return Counterexample(failure.seed, plan, violations_of(oracle, sim, runaway), sim.trace,
                          failure, runs, system, workload)
