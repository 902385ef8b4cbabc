"""Grading one submission, in notebook order, with the learner's code in a sandbox.

Runs as its own process (``python -I -m choreo_lab.grading.worker``): the parent sends the
notebook (read once, before any submission ran) on stdin and reads the verdict from stdout.
The worker starts a sandbox for the notebook and walks its cells as nbgrader does: each
code cell runs in the sandbox where it stands; each grade cell is replaced by its task's
checks (hidden ones included), which run here, in the worker, against the learner's code
as it is at that point of the notebook. A check that needs a function the notebook defines
further down fails, as it does under nbgrader. Tasks without a grade cell are checked at
the end. The sandbox, and everything it started, is ended before the verdict is written.
"""

from __future__ import annotations

import ast
import json
import sys
import time
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any


from ..events import Event
from .feedback import plural
from .hidden import graded_exercises
from .judge import CHECK_BUDGET, judge_task
from .remote import RemoteLearner
from .results import CheckResult, TaskResult
from .sandbox.client import Sandbox, SandboxGone, SandboxTimeout
from .sandbox.protocol import MAX_FRAME, UnsupportedValue
from .student_version import is_grade, is_solution
from .tasks import EXERCISE_IN_NAME, Task, exercises

#: Cell problems kept per notebook (the first ones; the count of the rest is given).
PROBLEMS_KEPT = 8


@dataclass(frozen=True)
class Limits:
    """How long a submission may take: per cell, for the whole notebook, per check."""

    cell_timeout: float = 30.0
    notebook_timeout: float = 300.0
    check_budget: float = CHECK_BUDGET


class NotReadable(ValueError):
    """The text is not a notebook this grader can run (the message says why)."""


def read_notebook(text: str) -> dict[str, Any]:
    """A submitted notebook (nbformat 4) as plain data: metadata, and cells whose source is text.

    Read without nbformat (whose import alone takes a second per worker); only the fields
    grading uses are checked.
    """
    if not text.strip():
        raise NotReadable("the file is empty")
    try:
        notebook = json.loads(text)
    except ValueError as error:
        raise NotReadable(f"not JSON ({error})") from None
    if not isinstance(notebook, dict) or notebook.get("nbformat") != 4 or not isinstance(
            notebook.get("cells"), list) or not isinstance(notebook.get("metadata", {}), dict):
        raise NotReadable("not a Jupyter notebook of format 4")
    cells = []
    for cell in notebook["cells"]:
        if not isinstance(cell, dict) or not isinstance(cell.get("metadata", {}), dict):
            raise NotReadable("a cell that is not a cell")
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else source
        if not isinstance(source, str):
            raise NotReadable("a cell whose source is not text")
        nbgrader = cell.get("metadata", {}).get("nbgrader", {})
        cells.append({"cell_type": cell.get("cell_type"), "source": source,
                      "metadata": {"nbgrader": nbgrader if isinstance(nbgrader, dict) else {}}})
    metadata = notebook.get("metadata", {})
    return {"metadata": {"choreo_lab": metadata.get("choreo_lab") if isinstance(
        metadata.get("choreo_lab"), dict) else {}}, "cells": cells}


def exercise_of(notebook: dict[str, Any] | None, name: str) -> str | None:
    """Which exercise a submission is: its metadata, else its grade ids, else its file name."""
    known = exercises()
    if notebook is not None:
        named = notebook["metadata"]["choreo_lab"].get("exercise")
        if named in known:
            return named
        grade_ids = {cell["metadata"]["nbgrader"].get("grade_id") for cell in notebook["cells"]}
        for exercise, tasks in known.items():
            if any(f"check_{task.name}" in grade_ids for task in tasks):
                return exercise
    number = exercise_in_name(name)
    return next((exercise for exercise in known if exercise[:4] == number), None)


def exercise_in_name(name: str) -> str | None:
    """The exercise number a file name gives, anywhere in it ("ex03"), or None."""
    found = EXERCISE_IN_NAME.search(PurePath(name).name)
    return found.group(0).lower() if found else None


def shortened(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters at a space, with "..." if anything was cut
    (`text.shorten` cuts inside a word: a cell's error read in a table should not)."""
    if len(text) <= limit:
        return text
    cut = text[:limit - 3]
    return (cut.rsplit(" ", 1)[0] if " " in cut else cut) + "..."


def failed_tasks(tasks: list[Task], message: str) -> list[dict[str, Any]]:
    """Every check of every task failed with the same `message` (they could not run)."""
    return [failed_task(task, message) for task in tasks]


def failed_task(task: Task, message: str) -> dict[str, Any]:
    return TaskResult(task.name, task.exercise, task.title, task.max_points,
                      tuple(CheckResult(check.title, check.points, 0.0, check.hidden, message)
                            for check in task.checks)).to_json()


def contract_events() -> dict[str, type[Event]]:
    """The events a learner's service may receive and publish, by name (the grader's classes)."""
    from ..examples.content import CONTENT_EVENTS
    from ..examples.notifications import NOTIFICATION_EVENTS
    from ..examples.orchestrated import ORCHESTRATED_MESSAGES
    from ..examples.orders import ORDER_EVENTS
    return {event_type.event_type: event_type for event_type in (
        *ORDER_EVENTS, *NOTIFICATION_EVENTS, *ORCHESTRATED_MESSAGES, *CONTENT_EVENTS)}


class NotebookRun:
    """One submission's grading: its cells in order, the checks at its grade cells."""

    def __init__(self, name: str, notebook: dict[str, Any], tasks: list[Task], limits: Limits,
                 sandbox: Sandbox) -> None:
        self.name, self.notebook, self.tasks, self.limits = name, notebook, tasks, limits
        self.sandbox = sandbox
        self.events = contract_events()
        self.deadline = time.monotonic() + limits.notebook_timeout
        self.results: dict[str, dict[str, Any]] = {}
        self.problems: list[str] = []
        self.out_of_time = False
        #: the code cells sent to the sandbox so far, in order (a restart runs them again)
        self.ran: list[str] = []

    def left(self) -> float:
        return self.deadline - time.monotonic()

    def run(self) -> None:
        by_grade_id = {f"check_{task.name}": task for task in self.tasks}
        for number, cell in enumerate(self.notebook["cells"], start=1):
            if cell["cell_type"] != "code":
                continue
            if is_grade(cell) and not is_solution(cell):
                task = by_grade_id.get(cell["metadata"]["nbgrader"].get("grade_id"))
                if task is not None and task.name not in self.results:
                    self.check(task)
            else:
                self.run_cell(number, cell["source"])
        missing = [task for task in self.tasks if task.name not in self.results]
        if missing:
            self.problems.append("no grade cell for " + ", ".join(t.name for t in missing)
                                 + ": checked after the last cell")
        for task in missing:
            self.check(task)

    def run_cell(self, number: int, source: str) -> None:
        if self.sandbox.gone is not None or self.out_of_time or not source.strip():
            return
        timeout = min(self.limits.cell_timeout, self.left())
        self.ran.append(source)
        try:
            reply = self.sandbox.request({"op": "run_cell", "source": source}, timeout)
        except SandboxTimeout:
            self.problems.append(f"cell {number} was interrupted: it ran longer than the "
                                 f"{self.limits.cell_timeout:g} s cell timeout")
            self.out_of_time = self.left() <= 0
            return
        except SandboxGone as gone:
            self.problems.append(f"cell {number}: {gone}")
            return
        if reply.get("status") == "error":
            self.problems.append(f"cell {number} raised {shortened(str(reply.get('ename')), 60)}: "
                                 f"{shortened(str(reply.get('evalue', '')), 120)}")

    def check(self, task: Task) -> None:
        if self.left() <= 0:
            self.out_of_time = True
        if self.out_of_time:
            self.results[task.name] = failed_task(task, self.notebook_limit_message())
            return
        if self.sandbox.gone is not None and "died" in self.sandbox.gone:
            self.results[task.name] = failed_task(task, self.gone_message())
            return
        budget = self.limits.check_budget

        def learner(seconds: float) -> RemoteLearner:
            return RemoteLearner(self.sandbox, self.events, min(seconds, max(0.0, self.left())),
                                 restart=self.restart)

        self.results[task.name] = judge_task(task, learner, hidden=True, budget=budget,
                                             timed=False).to_json()

    def restart(self, seconds: float) -> Sandbox:
        """A new sandbox for this notebook (same limits, hide list and containment) that ran
        the cells this one ran so far, within `seconds`: the learner's code after a restart.

        Only the cells that define something run again: a cell of bare calls only (a "try it"
        cell running a simulation) is what the notebook did with its code, not the code a
        restarted process loads, and running it would leave the new process's memory as used
        as the old one's. A cell that fails or runs out of time there goes on to the next, as
        it did here. The caller closes it; one that could not start is closed here
        (SandboxGone, SandboxTimeout).
        """
        deadline = time.monotonic() + min(seconds, max(0.0, self.left()))
        fresh = self.sandbox.sibling()
        try:
            fresh.start()
            for source in filter(defines, self.ran):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise SandboxTimeout()
                try:
                    fresh.request({"op": "run_cell", "source": source},
                                  min(self.limits.cell_timeout, left))
                except SandboxTimeout:
                    continue
        except BaseException:
            fresh.close()
            raise
        return fresh

    def gone_message(self) -> str:
        gone = str(self.sandbox.gone)
        advice = ("Keep less in memory at once." if self.sandbox.out_of_memory else
                  "Does the code call os._exit(), or crash the interpreter?")
        return (f"{gone[:1].upper()}{gone[1:]} while running this notebook, so nothing more "
                f"could be checked. {advice}")

    def notebook_limit_message(self) -> str:
        return (f"Grading took longer than {self.limits.notebook_timeout:g} s (the whole-notebook "
                "limit) and was stopped.")

    def verdict(self) -> dict[str, Any]:
        tasks = [self.results[task.name] for task in self.tasks]
        problems = self.problems[:PROBLEMS_KEPT]
        if len(self.problems) > PROBLEMS_KEPT:
            problems.append(f"... and {plural(len(self.problems) - PROBLEMS_KEPT, 'more problem')}")
        if self.out_of_time:
            problems.insert(0, self.notebook_limit_message()[0].lower()
                            + self.notebook_limit_message()[1:-1])
        if self.sandbox.refused:
            problems.insert(0, "imports the course's reference code (refused): "
                            + ", ".join(self.sandbox.refused[:5]))
        return {"status": "error" if self.out_of_time else "graded",
                "score": sum(task["score"] for task in tasks), "tasks": tasks,
                "problems": problems, "refused_imports": list(self.sandbox.refused),
                "sandbox": self.sandbox.notes}


def defines(source: str) -> bool:
    """Does the cell do more than call things (define a function, assign, import...)?
    A cell that cannot be parsed counts as defining (it runs, and fails, as it did)."""
    try:
        body = ast.parse(source).body
    except (SyntaxError, ValueError):
        return True
    return any(not isinstance(statement, ast.Expr) for statement in body)


def without_outputs(text: str) -> str:
    """The notebook as the sandbox gets it (a readable notebook's text): its cells' outputs
    left out, which the grader never reads, so saved plots or logs cannot make it too large."""
    notebook = json.loads(text)
    for cell in notebook["cells"]:
        if "outputs" in cell:
            cell["outputs"] = []
    return json.dumps(notebook)


def grade_submission(name: str, text: str, limits: Limits, hide: list[str]) -> dict[str, Any]:
    """The verdict on one submitted notebook (`name` as submitted, `text` its contents)."""
    verdict: dict[str, Any] = {"path": name, "exercise": None, "status": "graded", "score": 0.0,
                               "max_score": 0.0, "tasks": [], "problems": [],
                               "refused_imports": [], "sandbox": []}
    try:
        notebook = read_notebook(text)
    except NotReadable as error:
        return unreadable(verdict, name, f"not a readable notebook: {error}"[:300])
    exercise = exercise_of(notebook, name)
    if exercise is None:
        return verdict | {"status": "error", "problems": [
            "cannot tell which exercise this is (no choreo_lab metadata, no known grade ids, "
            "and no ex01, ex02, ... in the file name)"]}
    tasks = graded_exercises()[exercise]
    verdict |= {"exercise": exercise, "max_score": sum(task.max_points for task in tasks)}
    with Sandbox(PurePath(name).name, without_outputs(text), hide=hide) as sandbox:
        try:
            sandbox.start()
        except UnsupportedValue:
            return verdict | {"status": "error", "tasks": failed_tasks(
                tasks, "This notebook's cells are too large to grade."), "problems": [
                (f"its cells hold more than the {MAX_FRAME:,} bytes the sandbox takes, outputs "
                 "left out: split or shorten the largest cells and grade it again")]}
        except (SandboxGone, SandboxTimeout) as error:
            why = str(error) or "it did not start in time"
            tail = "; ".join(sandbox.stderr_tail)
            return verdict | {"status": "error", "tasks": failed_tasks(
                tasks, f"The sandbox for this notebook could not start: {why}."),
                "problems": [f"the sandbox could not start: {why} {tail}"[:400]]}
        run = NotebookRun(name, notebook, tasks, limits, sandbox)
        run.run()
    return verdict | run.verdict()


def unreadable(verdict: dict[str, Any], name: str, problem: str) -> dict[str, Any]:
    """A verdict of zero for a notebook that cannot be read, out of what its name implies."""
    exercise = exercise_of(None, name)
    tasks = graded_exercises().get(exercise or "", [])
    return verdict | {"exercise": exercise, "status": "error",
                      "max_score": sum(task.max_points for task in tasks),
                      "tasks": failed_tasks(tasks, problem[0].upper() + problem[1:] + "."),
                      "problems": [problem]}


def main() -> int:
    """Worker entry point: a request (JSON) on stdin, the verdict (JSON) on stdout."""
    request = json.loads(sys.stdin.buffer.read(64 << 20))
    limits = Limits(**request["limits"])
    verdict = grade_submission(request["name"], request["text"], limits, request["hide"])
    sys.stdout.write(json.dumps(verdict))
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
