"""Random schedules: faults drawn from a seed, after the systematic pass (or on their own).

Schedule ``i`` draws its faults and its simulation seed from ``(seed, i)`` alone, so any
schedule can be drawn, and run, again by itself. Every fault is transient: a kill comes with
its restart, a pause with its resume, a delivery fault fires a bounded number of times, and
together they never use up a message's delivery attempts.
"""

from __future__ import annotations

import random
from typing import Any

from ..faults import Crash, Delay, Drop, Duplicate, Kill, Pause, Reorder, Restart, Resume
from .sites import Topology
from .space import ATTEMPT_COSTS, FaultSpace, Unit


def draw_schedule(seed: int, index: int, topology: Topology,
                  space: FaultSpace) -> tuple[int, list[Unit]]:
    """Schedule `index`: its simulation seed and 1..`max_faults` faults (none for index 0).

    `space` must be fitted to the control run (`FaultSpace.fitted`).
    """
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
        start = rng.randint(0, space.horizon or 0)
        end = start + rng.randint(1, space.longest_outage or 1)
        if kind == "kill":
            return (Kill(service=service, at=start), Restart(service=service, at=end)), 1
        return (Pause(service=service, at=start), Resume(service=service, at=end)), 0
    service, event_type = rng.choice(topology.targets)
    target: dict[str, Any] = {"service": service, "event_type": event_type}
    if rng.random() < 0.5:
        target["correlation_id"] = rng.choice(topology.workflows)
    if kind in ("delay", "reorder"):
        late = Delay if kind == "delay" else Reorder
        by, times = rng.randint(1, space.longest_delay or 1), rng.randint(1, 3)
        return (late(**target, by=by, times=times),), 0
    times = rng.randint(1, min(2, budget))
    if kind == "crash":
        return (Crash(**target, point=rng.choice(topology.crash_points), times=times),), times
    return ((Duplicate if kind == "duplicate" else Drop)(**target, times=times),), times
