"""Graded tasks and their checks: what is judged, for how many points, public or hidden.

A *task* is one thing the learner builds (e.g. "reserve stock"); it has one nbgrader grade
cell in the exercise notebook, worth the task's points. A *check* is one behaviour of the
learner's code, judged by running it (never by reading its source). A check is a plain
function of a `Learner`; it returns when the behaviour is right and raises `Failed` with a
message that teaches when it is not.

The package holds the public checks only. A task declares how many hidden checks it has
and what they are worth (so a notebook can say so, and scores add up); the hidden checks
themselves live with the instructor's solutions (`hidden`), outside the package.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .learner import Learner


#: An exercise number in a file name: ex01 anywhere, not inside a word or a longer number.
EXERCISE_IN_NAME = re.compile(r"(?<![A-Za-z0-9])ex\d\d(?!\d)", re.IGNORECASE)


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
    hidden_count: int = 0        # hidden checks the instructor's grader adds
    hidden_points: float = 0.0   # ... and their points

    @property
    def max_points(self) -> float:
        return sum(check.points for check in self.public_checks) + self.hidden_points

    @property
    def public_checks(self) -> tuple[Check, ...]:
        return tuple(check for check in self.checks if not check.hidden)

    @property
    def hidden_checks(self) -> tuple[Check, ...]:
        """The hidden checks loaded into this task (none in the package's own tasks)."""
        return tuple(check for check in self.checks if check.hidden)

    @property
    def complete(self) -> bool:
        """True when the hidden checks are loaded too."""
        return len(self.hidden_checks) == self.hidden_count

    def with_hidden(self, hidden: tuple[Check, ...],
                    graded: Mapping[str, Callable[[Learner], None]] | None = None) -> Task:
        """This task with its hidden checks added; they must match what the task declares.

        `graded`: public check title -> how the instructor's grader runs that check instead
        (the same behaviour, judged on cases the learner's own ``check()`` does not show, so a
        table of the public cases' answers earns nothing). Titles and points stay as they are.
        """
        points = sum(check.points for check in hidden)
        if len(hidden) != self.hidden_count or points != self.hidden_points or not all(
                check.hidden for check in hidden):
            raise ValueError(f"task {self.name!r} declares {self.hidden_count} hidden checks "
                             f"worth {self.hidden_points:g}, but {len(hidden)} worth {points:g} "
                             "were given (each marked hidden=True)")
        graded = dict(graded or {})
        unknown = sorted(set(graded) - {check.title for check in self.public_checks})
        if unknown:
            raise ValueError(f"task {self.name!r} has no public check {unknown[0]!r} to grade "
                             "another way")
        public = tuple(replace(check, run=graded[check.title]) if check.title in graded
                       else check for check in self.public_checks)
        return Task(self.name, self.exercise, self.title, public + hidden,
                    self.hidden_count, self.hidden_points)


def all_tasks() -> dict[str, Task]:
    """Every graded task, by name, in exercise order."""
    from . import ex01_inventory, ex02_compensations, ex03_idempotent_payment, ex04_content
    from . import ex05_notifications, ex06_orchestration, ex07_stuck_order, ex08_redrive
    from . import ex09_outbox_relay
    tasks: dict[str, Task] = {}
    for module in (ex01_inventory, ex02_compensations, ex03_idempotent_payment, ex04_content,
                   ex05_notifications, ex06_orchestration, ex07_stuck_order, ex08_redrive,
                   ex09_outbox_relay):
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
