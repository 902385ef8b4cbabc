"""Graded tasks and their checks: what is judged, for how many points, public or hidden.

A *task* is one thing the learner builds (e.g. "reserve stock"); it has one nbgrader grade
cell in the exercise notebook, worth the task's points. A *check* is one behaviour of the
learner's code, judged by running it (never by reading its source). A check is a plain
function of a `Learner`; it returns when the behaviour is right and raises `Failed` with a
message that teaches when it is not.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .learner import Learner


class Failed(Exception):
    """A check found wrong behaviour; the message says what, why it matters and a hint."""


@dataclass(frozen=True)
class Check:
    """One judged behaviour. `title` reads as a sentence: "reserves stock for an order that fits"."""

    title: str
    points: float
    run: Callable[[Learner], None]
    hidden: bool = False


@dataclass(frozen=True)
class Task:
    """One graded task of an exercise: a grade cell in the notebook, `check(name)` in the kernel."""

    name: str
    exercise: str
    title: str
    checks: tuple[Check, ...]

    @property
    def max_points(self) -> float:
        return sum(check.points for check in self.checks)

    def selected(self, hidden: bool) -> tuple[Check, ...]:
        """The public checks, and the hidden ones too when `hidden` is true."""
        return tuple(check for check in self.checks if hidden or not check.hidden)

    @property
    def hidden_checks(self) -> tuple[Check, ...]:
        return tuple(check for check in self.checks if check.hidden)


def all_tasks() -> dict[str, Task]:
    """Every graded task, by name, in exercise order."""
    from . import ex01_inventory, ex02_compensations, ex03_idempotent_payment
    tasks: dict[str, Task] = {}
    for module in (ex01_inventory, ex02_compensations, ex03_idempotent_payment):
        for task in module.TASKS:
            tasks[task.name] = task
    return tasks


def exercises() -> dict[str, list[Task]]:
    """Exercise name (e.g. "ex01-inventory") -> its tasks, in notebook order."""
    found: dict[str, list[Task]] = {}
    for task in all_tasks().values():
        found.setdefault(task.exercise, []).append(task)
    return found


def task_named(name: str) -> Task:
    """The task called `name`, or a `KeyError` listing the tasks that exist."""
    tasks = all_tasks()
    if name not in tasks:
        by_exercise = "; ".join(f"{exercise}: {', '.join(t.name for t in group)}"
                                for exercise, group in exercises().items())
        raise KeyError(f"there is no task {name!r}. The tasks are - {by_exercise}")
    return tasks[name]
