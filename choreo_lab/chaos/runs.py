"""Running one schedule: build the system with a fault plan, place the work, run to quiescence."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from .. import vocabulary as words
from ..consistency import Oracle, Violation
from ..errors import FaultPlanError, RunawayError
from ..faults import FaultPlan
from ..simulation import Simulation
from ..text import describe_value

#: A system under test: ``(seed, faults) -> Simulation``, the same kind of function a
#: `Dashboard` takes. It must build the simulation with the fault plan it is given.
SystemFactory = Callable[[int, FaultPlan], Simulation]
#: Places the work (publishes the first events) on a freshly built simulation.
Workload = Callable[[Simulation], Any]
RUNAWAY = "runs to quiescence"
_EXAMPLE = "e.g. lambda seed, faults: Simulation(services, seed=seed, faults=faults)"


def check_system(system: object) -> None:
    """Refuse anything that cannot be called as ``system(seed, faults)``, saying what to pass."""
    if isinstance(system, Simulation) or not callable(system):
        raise TypeError(f"the system is a function (seed, faults) -> Simulation that builds a "
                        f"fresh simulation for each schedule, {_EXAMPLE}; got "
                        f"{describe_value(system)}")
    try:
        inspect.signature(system).bind(0, FaultPlan())
    except TypeError:
        raise TypeError(f"the system must take two arguments, (seed, faults), and build the "
                        f"Simulation with both, {_EXAMPLE}; "
                        f"{getattr(system, '__name__', 'it')}{inspect.signature(system)} "
                        "cannot be called that way") from None
    except ValueError:
        pass  # no signature to read (a builtin): the first call will tell


def build(system: SystemFactory, seed: int, plan: FaultPlan) -> Simulation:
    """Call the system factory, checking it returns a Simulation built with the given faults."""
    sim = system(seed, plan)
    if not isinstance(sim, Simulation):
        raise TypeError(f"the system returned {describe_value(sim)}; it must return a "
                        f"Simulation, {_EXAMPLE}")
    if sim.faults != plan:
        raise FaultPlanError("the system ignored the fault plan it was given; build the "
                             "Simulation with faults=faults")
    return sim


def settle(sim: Simulation) -> None:
    """Run until idle; restart or resume any service still down or paused; run until idle again."""
    sim.run_until_idle()
    for name in sim.services:
        if sim.status(name) == words.DOWN:
            sim.restart(name)
        elif sim.status(name) == words.PAUSED:
            sim.resume(name)
    sim.run_until_idle()


def run_schedule(system: SystemFactory, workload: Workload, seed: int,
                 plan: FaultPlan) -> tuple[Simulation, str | None]:
    """Build, place the work, run until quiescent (restarting what is still down).

    Returns the simulation and, if the run never settled, the `RunawayError` message.
    Cost: one simulation.
    """
    sim = build(system, seed, plan)
    try:
        workload(sim)
        settle(sim)
    except RunawayError as error:
        return sim, str(error)
    return sim, None


def violations_of(oracle: Oracle, sim: Simulation, runaway: str | None) -> tuple[Violation, ...]:
    """What the oracle finds wrong after a run: violations, including workflows left stuck."""
    if runaway is not None:
        return (Violation(RUNAWAY, "the run", runaway, (), "convergence"),)
    return oracle.violations(sim)


def broken_invariants(violations: tuple[Violation, ...]) -> tuple[str, ...]:
    """The names of the invariants broken, each once, in order."""
    return tuple(dict.fromkeys(violation.invariant for violation in violations))
