"""`check("task")`: the exercise notebook's way to ask "is my code right yet?"."""

from __future__ import annotations

from typing import Any

from .judge import CHECK_BUDGET, judge_task
from .results import GRADE_MIME, TaskResult
from .tasks import task_named


def check(task: str, *, hidden: bool = False, namespace: dict[str, Any] | None = None,
          budget: float = CHECK_BUDGET) -> TaskResult:
    """Run the checks of one task on the code defined in this notebook, and show the verdict.

    Each check runs your service in the order saga under seeded faults and judges what it
    does; a failure says what went wrong, with a hint, the faults injected and a trace
    excerpt. `hidden=True` also runs the hidden checks (the instructor's grader does).
    `namespace` is where your functions live (by default the notebook's own names).
    Each check may take `budget` seconds before your code is stopped.
    """
    definition = task_named(task)
    return judge_task(definition, notebook_names() if namespace is None else namespace,
                      hidden=hidden, budget=budget)


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


def grade_in_kernel(tasks: list[str], *, budget: float = CHECK_BUDGET) -> None:
    """Run every check (hidden ones too) of `tasks` and display the results for the grader.

    The command-line grader appends a call to this as the last cell of a submission; it
    reads the ``GRADE_MIME`` output. One task's failure never stops the others.
    """
    from IPython.display import display

    results = [check(name, hidden=True, budget=budget).to_json() for name in tasks]
    total = sum(result["score"] for result in results)
    display({GRADE_MIME: {"tasks": results}, "text/plain": f"graded: {total:g} points"}, raw=True)
