"""The order in which an exploration spends its schedules.

Systematic mode (the default), in this order:

1. the control run (no faults);
2. every single fault of the control run's sites (`sites.single_faults`), spread so that
   every (service, event type, site fault) cell gets its first site before any cell gets
   its second: cut short by the budget, the pass still covers as many cells as it can;
3. pairs, for half of what is left: first a fault that makes a message come again followed
   by a second fault on that retry, then two faults drawn at random within one workflow;
4. random schedules (`draws.draw_schedule`) for the rest.

Phases 1-3 run with the control run's simulation seed, so a pinned fault meets the run it
was found in; the single pass does not depend on the exploration's seed at all. Random mode
is phase 4 alone, schedule 0 being its fault-free control.
"""

from __future__ import annotations

import random
from collections import defaultdict, deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from itertools import chain, islice
from typing import Any

from ..faults import Crash, Drop, Duplicate, FaultPlan
from .draws import draw_schedule
from .sites import (
    CONTROL_SEED,
    REPEATING,
    SITE_FAULTS,
    Candidate,
    Cell,
    ControlRun,
    allowed_site_faults,
)
from .space import Unit, plan_of

MODES = ("systematic", "random")
CONTROL, SINGLE, PAIR, RANDOM = "control", "single fault", "pair", "random"
PHASES = (CONTROL, SINGLE, PAIR, RANDOM)


@dataclass(frozen=True)
class Schedule:
    """One run of an exploration: its place, its phase, its simulation seed and its faults."""

    index: int
    phase: str
    seed: int
    units: tuple[Unit, ...]
    cells: tuple[Cell, ...] = ()  # the coverage cells it counts for (single faults)

    @property
    def plan(self) -> FaultPlan:
        return plan_of(self.units)


def spread(candidates: Sequence[Candidate], rank: Callable[[Cell], tuple[int, ...]]) -> list[Candidate]:
    """Every candidate once, in rounds: in each round, the next untried candidate of every
    cell, cells in `rank` order. A candidate covering several cells is taken once."""
    queues: dict[Cell, deque[int]] = defaultdict(deque)
    for number, candidate in enumerate(candidates):
        for cell in candidate.cells:
            queues[cell].append(number)
    cells = sorted(queues, key=rank)
    taken: set[int] = set()
    order: list[Candidate] = []
    while len(order) < len(candidates):
        for cell in cells:
            queue = queues[cell]
            while queue and queue[0] in taken:
                queue.popleft()
            if queue:
                taken.add(queue[0])
                order.append(candidates[queue.popleft()])
    return order


def cell_rank(control: ControlRun) -> Callable[[Cell], tuple[int, ...]]:
    """Order cells by site fault (the order of `SITE_FAULTS`), then by service and event type."""
    kinds = {label: rank for rank, label in enumerate(SITE_FAULTS)}
    rows = {row: rank for rank, row in enumerate(control.delivered)}

    def rank(cell: Cell) -> tuple[int, ...]:
        service, event_type, label = cell
        first, _, second = label.partition(", then ")
        return (kinds[first], kinds.get(second, -1), rows.get((service, event_type), len(rows)))
    return rank


def on_the_retry(first: Candidate, control: ControlRun) -> Iterator[Candidate]:
    """Pairs: `first` makes a message come again, and a second fault hits that retry."""
    service, event_type, label = first.cells[0]
    if label not in REPEATING or control.topology.attempt_budget < 2:
        return
    site = first.site
    target: dict[str, Any] = {"service": service, "event_type": event_type,
                              "correlation_id": site.workflow, "attempt": site.attempt + 1,
                              "occurrence": 1}
    for second in allowed_site_faults(control.space):
        if second not in REPEATING:
            continue
        kind, point = SITE_FAULTS[second]
        retry = (Crash(**target, point=point) if kind == "crash" else
                 Duplicate(**target) if kind == "duplicate" else Drop(**target))
        yield Candidate((*first.units, (retry,)),
                        ((service, event_type, f"{label}, then {second}"),), site, 2)


def retry_pairs(singles: Sequence[Candidate], control: ControlRun) -> list[Candidate]:
    """Every single fault that makes a message come again, with each fault on its retry, spread."""
    pairs = [pair for single in singles for pair in on_the_retry(single, control)]
    return spread(pairs, cell_rank(control))


def workflow_pairs(singles: Sequence[Candidate], control: ControlRun, seed: int,
                   tries: int = 10_000) -> Iterator[Candidate]:
    """Two single faults of one workflow, drawn at random (a workflow, then two of its faults),
    never the same pair twice, within the attempt budget. Stops when draws keep repeating."""
    rng = random.Random(f"chaos/{seed}/pairs")
    by_workflow: dict[str, list[Candidate]] = defaultdict(list)
    for single in singles:
        by_workflow[single.site.workflow].append(single)
    workflows = sorted(w for w, found in by_workflow.items() if len(found) > 1)
    seen: set[tuple[str, int, int]] = set()
    misses = 0
    while workflows and misses < tries:
        workflow = rng.choice(workflows)
        first, second = sorted(rng.sample(range(len(by_workflow[workflow])), 2))
        one, other = by_workflow[workflow][first], by_workflow[workflow][second]
        cost = one.cost + other.cost
        if (workflow, first, second) in seen or cost > control.topology.attempt_budget:
            misses += 1
            continue
        seen.add((workflow, first, second))
        yield Candidate(one.units + other.units, (), one.site, cost)


def systematic_schedules(control: ControlRun, singles: Sequence[Candidate], schedules: int,
                         seed: int) -> Iterator[Schedule]:
    """The control run, the single faults (as many as the budget allows), pairs, random ones."""
    yield Schedule(0, CONTROL, CONTROL_SEED, ())
    tried = singles[:schedules - 1]
    for index, single in enumerate(tried, start=1):
        yield Schedule(index, SINGLE, CONTROL_SEED, single.units, single.cells)
    index = len(tried) + 1
    pairs = (schedules - index + 1) // 2
    if pairs:
        drawn = chain(retry_pairs(singles, control), workflow_pairs(singles, control, seed))
        for pair in islice(drawn, pairs):
            yield Schedule(index, PAIR, CONTROL_SEED, pair.units)
            index += 1
    for number in range(1, schedules - index + 1):
        yield random_schedule(control, seed, number, index)
        index += 1


def random_schedules(control: ControlRun, schedules: int, seed: int) -> Iterator[Schedule]:
    """Random mode: schedule 0 is a fault-free control with a seeded simulation; the rest random."""
    for index in range(schedules):
        yield random_schedule(control, seed, index, index)


def random_schedule(control: ControlRun, seed: int, number: int, index: int) -> Schedule:
    """The `number`-th random schedule of `seed`, run as schedule `index` of an exploration."""
    sim_seed, units = draw_schedule(seed, number, control.topology, control.space)
    return Schedule(index, RANDOM if units else CONTROL, sim_seed, tuple(units))
