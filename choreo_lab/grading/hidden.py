"""The hidden checks: kept with the instructor's solutions, never installed with the package.

Each exercise's hidden checks are a Python file in a folder beside ``solutions/`` (by
default ``solutions/hidden_checks/``), holding ``HIDDEN = {task name: (Check, ...)}`` and,
optionally, ``GRADED = {task name: {public check title: run}}``: a public check the grader
runs on other cases than the learner's ``check()`` shows (same title, same points). Only
the instructor's grader, and ``check(task, hidden=True)`` in an nbgrader autograde run,
read them. The folder is found from ``$CHOREO_LAB_HIDDEN_CHECKS``, else beside the package
in a source checkout, else under the current folder.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable
from pathlib import Path

from .tasks import Check, Task, exercises

ENVIRONMENT = "CHOREO_LAB_HIDDEN_CHECKS"
RELATIVE = Path("solutions") / "hidden_checks"
#: The package name the hidden checks' modules are loaded under.
PACKAGE = "choreo_lab_hidden_checks"


class HiddenChecksMissing(FileNotFoundError):
    """The hidden checks could not be found; the message says where they were looked for."""


def hidden_folder() -> Path:
    """Where the hidden checks are, or `HiddenChecksMissing` naming the places tried."""
    import choreo_lab
    tried = ([Path(os.environ[ENVIRONMENT])] if os.environ.get(ENVIRONMENT) else []) + [
        Path(choreo_lab.__file__).resolve().parents[1] / RELATIVE, Path.cwd() / RELATIVE]
    for folder in tried:
        if folder.is_dir():
            return folder
    raise HiddenChecksMissing(
        "the hidden checks are not here (looked in " + ", ".join(map(str, tried)) + "). They "
        f"live in {RELATIVE}/ of the course repository: run the grader from there, or set "
        f"{ENVIRONMENT}=/path/to/{RELATIVE}.")


def load_hidden(folder: Path) -> dict[str, tuple[Check, ...]]:
    """Task name -> its hidden checks, from every ``*.py`` file in `folder`."""
    return load_hidden_and_graded(folder)[0]


def load_hidden_and_graded(folder: Path) -> tuple[dict[str, tuple[Check, ...]],
                                                  dict[str, dict[str, Callable[..., None]]]]:
    """From every ``*.py`` file in `folder`: task name -> its hidden checks (``HIDDEN``), and
    task name -> {public check title: how the grader runs it instead} (``GRADED``, optional)."""
    found: dict[str, tuple[Check, ...]] = {}
    graded: dict[str, dict[str, Callable[..., None]]] = {}
    for path in sorted(folder.glob("*.py")):
        spec = importlib.util.spec_from_file_location(f"{PACKAGE}.{path.stem}", path)
        if spec is None or spec.loader is None:
            continue
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        found.update(getattr(module, "HIDDEN", {}))
        graded.update(getattr(module, "GRADED", {}))
    return found, graded


def graded_exercises(folder: Path | None = None) -> dict[str, list[Task]]:
    """Every exercise's tasks with their hidden checks loaded (what the instructor grades),
    and the public checks the hidden folder says to run another way when graded."""
    hidden, graded = load_hidden_and_graded(folder or hidden_folder())
    return {exercise: [task.with_hidden(hidden.get(task.name, ()), graded.get(task.name))
                       for task in tasks]
            for exercise, tasks in exercises().items()}


def graded_task(name: str) -> Task:
    """One task with its hidden checks (for ``check(name, hidden=True)``)."""
    for tasks in graded_exercises().values():
        for task in tasks:
            if task.name == name:
                return task
    raise KeyError(name)
