"""Shrinking a failing schedule by delta debugging, deterministically.

Drop one unit (a kill and its restart count as one) while the run still breaks one of the
same invariants; then make each remaining fault smaller (earlier, shorter, fewer times,
less targeted) the same way. What is left is small enough to read.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ..consistency import Oracle
from ..faults import FaultPlan
from .runs import SystemFactory, Workload, run_schedule, violations_of
from .space import Unit, plan_of, units_of

StillFails = Callable[[Sequence[Unit]], bool]
BudgetLeft = Callable[[], bool]


def shrink_plan(system: SystemFactory, workload: Workload, oracle: Oracle, seed: int,
                plan: FaultPlan, invariants: Sequence[str], *,
                max_runs: int = 300) -> tuple[FaultPlan, int]:
    """The smallest plan found that still breaks one of `invariants`, and the runs it took."""
    runs = 0
    wanted = set(invariants)

    def still_fails(units: Sequence[Unit]) -> bool:
        nonlocal runs
        runs += 1
        found = violations_of(oracle, *run_schedule(system, workload, seed, plan_of(units)))
        return any(violation.invariant in wanted for violation in found)

    def budget_left() -> bool:
        return runs < max_runs

    units = remove_faults(units_of(plan), still_fails, budget_left)
    units = simplify_faults(units, still_fails, budget_left)
    return plan_of(units), runs


def remove_faults(units: list[Unit], still_fails: StillFails, budget_left: BudgetLeft) -> list[Unit]:
    """Drop units one at a time, keeping each removal after which the run still fails."""
    index = 0
    while index < len(units) and budget_left():
        candidate = units[:index] + units[index + 1:]
        if still_fails(candidate):
            units = candidate
        else:
            index += 1
    return units


def simplify_faults(units: list[Unit], still_fails: StillFails, budget_left: BudgetLeft) -> list[Unit]:
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
    """Candidate simplifications of one unit, most drastic first.

    A fault pinned to one delivery (`occurrence`) stays pinned: it names where it struck.
    """
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
    pinned = getattr(first, "occurrence", None) is not None
    if getattr(first, "correlation_id", None) is not None and not pinned:
        updates.append({"correlation_id": None})
    if getattr(first, "times", None) not in (None, 1):
        updates.append({"times": 1})
    if getattr(first, "by", 1) > 1:
        updates.append({"by": first.by // 2})  # type: ignore[union-attr]
    return [(first.model_copy(update=update),) for update in updates]
