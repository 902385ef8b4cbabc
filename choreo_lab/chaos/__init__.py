"""The chaos explorer: fault schedules run against a system, and the smallest one that breaks it.

    result = explore(system, workload, oracle, schedules=600, seed=1)
    print(result)                  # what passed, what was covered, the first and smallest failure
    sim = result.replay()          # the counterexample, run again: the same trace

- `system(seed, faults) -> Simulation` builds the services under test with the fault plan
  it is given; `workload(sim)` places the work; `oracle` is a `consistency.Oracle`.
- Systematic first (the small-scope hypothesis: most bugs need only one or two faults). A
  fault-free control run shows every delivery (`sites`); every single fault that can hit
  one is tried, before pairs and before random schedules (`schedules`, `draws`).
- Every fault is transient and never uses up a message's delivery attempts. After the plan,
  any service still down is restarted and the run goes on until it is quiescent (`runs`);
  then the oracle must find it converged: consistent, and every workflow finished.
- What was tried is data (`coverage`); `choreo_lab.chaos_views` draws it as a table and a grid.
- A failing schedule is shrunk deterministically (`shrink`) and replays from its seed and
  plan, or from its JSON.
"""

from __future__ import annotations

from .coverage import CellCount, Coverage
from .draws import draw_fault, draw_schedule
from .explorer import ChaosResult, Counterexample, Failure, explore, shrink_failure
from .runs import RUNAWAY, SystemFactory, Workload, build, run_schedule, settle, violations_of
from .schedules import MODES, PHASES, Schedule
from .shrink import remove_faults, simplify_faults, smaller_versions
from .sites import CONTROL_SEED, SITE_FAULTS, ControlRun, Site, Topology, control_run, find_sites
from .space import ATTEMPT_COSTS, FAULT_KINDS, FaultSpace, Unit, plan_of, units_of

__all__ = [
    "ATTEMPT_COSTS", "CONTROL_SEED", "FAULT_KINDS", "MODES", "PHASES", "RUNAWAY", "SITE_FAULTS",
    "CellCount", "ChaosResult", "ControlRun", "Counterexample", "Coverage", "Failure",
    "FaultSpace", "Schedule", "Site", "SystemFactory", "Topology", "Unit", "Workload", "build",
    "control_run", "draw_fault", "draw_schedule", "explore", "find_sites", "plan_of",
    "remove_faults", "run_schedule", "settle", "shrink_failure", "simplify_faults",
    "smaller_versions", "units_of", "violations_of",
]
