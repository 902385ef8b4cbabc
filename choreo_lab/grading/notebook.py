"""`check("task")`: the exercise notebook's way to ask "is my code right yet?"."""

from __future__ import annotations

from typing import Any

from .judge import CHECK_BUDGET, judge_task
from .learner import NotebookLearner
from .results import TaskResult
from .tasks import task_named

#: Set inside the instructor's sandbox, where the grader runs the checks itself.
_GRADER_RUNS_THE_CHECKS = False


def grader_runs_the_checks() -> None:
    """Called by the sandbox: from now on `check()` only says that the grader checks."""
    global _GRADER_RUNS_THE_CHECKS
    _GRADER_RUNS_THE_CHECKS = True


def check(task: str, *, hidden: bool = False, namespace: dict[str, Any] | None = None,
          budget: float = CHECK_BUDGET) -> TaskResult | str:
    """Run the checks of one task on the code defined in this notebook, and show the verdict.

    Each check runs your service in the order saga under seeded faults and judges what it
    does; a failure says what went wrong, with a hint, the faults injected and a trace
    excerpt. `hidden=True` also runs the hidden checks: only where the instructor's hidden
    checks are at hand (an nbgrader autograde run; see `choreo_lab.grading.hidden`).
    `namespace` is where your functions live (by default the notebook's own names).
    Each check may take `budget` seconds before your code is stopped.
    """
    if _GRADER_RUNS_THE_CHECKS:
        return ("check() does not run here: the instructor's grader runs every check itself, "
                "outside this notebook, where each grade cell stands.")
    if hidden:
        from .hidden import graded_task
        definition = graded_task(task)
    else:
        definition = task_named(task)
    names = notebook_names() if namespace is None else namespace
    return judge_task(definition, lambda _budget: NotebookLearner(names), hidden=hidden,
                      budget=budget)


def notebook_names() -> dict[str, Any]:
    """The names defined in the running notebook (the IPython user namespace)."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with every Jupyter kernel
        get_ipython = None  # type: ignore[assignment]
    shell = get_ipython() if get_ipython is not None else None
    if shell is None:
        raise RuntimeError("check() looks for your code in the notebook's names, but this is not "
                           "running in a notebook; pass them in: check('reserve', namespace=globals())")
    return shell.user_ns
