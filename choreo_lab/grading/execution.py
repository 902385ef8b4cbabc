"""Grading one submitted notebook: run it headless in a fresh kernel, then run every check.

This runs in a worker process of its own (``python -m choreo_lab.grading.execution``), so
that nothing a submission does can hang or crash the grader: the parent gives the worker a
wall-clock limit and kills its whole process group past it.

Inside the worker: the submission's own test cells (nbgrader grade cells) are dropped - the
grader runs the instructor's checks, hidden ones included, in a cell it appends. Each cell
has a timeout (a cell that runs too long is interrupted and the next one runs), stream
output is capped, and a kernel that dies is reported, not followed.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from pathlib import Path
from typing import Any

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat import NotebookNode

from .results import GRADE_MIME, CheckResult, TaskResult
from .student_version import is_grade, is_solution
from .tasks import Task, exercises

#: Characters of printed output kept per cell; the rest is dropped (nobody reads it).
STREAM_CAP = 20_000
GRADING_CELL = "choreo_lab_grading"


class CappedClient(NotebookClient):
    """An nbclient NotebookClient that keeps at most `STREAM_CAP` characters of print output per cell."""

    def output(self, outs: list[NotebookNode], msg: dict[str, Any], display_id: str | None,
               cell_index: int) -> NotebookNode | None:
        if msg["msg_type"] == "stream":
            kept = sum(len(out.get("text", "")) for out in outs if out.get("output_type") == "stream")
            if kept >= STREAM_CAP:
                return None
            msg["content"]["text"] = msg["content"]["text"][:STREAM_CAP - kept]
        return super().output(outs, msg, display_id, cell_index)


def exercise_of(notebook: NotebookNode, path: Path) -> str | None:
    """Which exercise a submission is: its metadata, else its grade ids, else its file name."""
    known = exercises()
    named = notebook.metadata.get("choreo_lab", {}).get("exercise")
    if named in known:
        return named
    grade_ids = {cell.metadata.get("nbgrader", {}).get("grade_id") for cell in notebook.cells}
    for exercise, tasks in known.items():
        if any(f"check_{task.name}" in grade_ids for task in tasks):
            return exercise
    return next((exercise for exercise in known if path.name.startswith(exercise[:4])), None)


def gradable(notebook: NotebookNode, tasks: list[Task], budget: float) -> NotebookNode:
    """The submission without its own test cells and outputs, plus the grader's checking cell."""
    runnable = copy.deepcopy(notebook)
    runnable.cells = [cell for cell in runnable.cells
                      if not (is_grade(cell) and not is_solution(cell))]
    for cell in runnable.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    names = [task.name for task in tasks]
    grading = nbformat.v4.new_code_cell(
        "from choreo_lab.grading.notebook import grade_in_kernel\n"
        f"grade_in_kernel({names!r}, budget={budget!r})")
    grading.metadata[GRADING_CELL] = True
    runnable.cells.append(grading)
    return runnable


def failed_tasks(tasks: list[Task], message: str) -> list[dict[str, Any]]:
    """Every check of every task failed with the same `message` (the notebook could not run)."""
    return [TaskResult(task.name, task.exercise, task.title, task.max_points,
                       tuple(CheckResult(check.title, check.points, 0.0, check.hidden, message)
                             for check in task.checks)).to_json() for task in tasks]


def cell_problems(notebook: NotebookNode) -> list[str]:
    """One line per learner cell that ended in an error (the first few)."""
    problems = []
    for index, cell in enumerate(notebook.cells):
        if cell.metadata.get(GRADING_CELL):
            continue
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                value = str(out.get("evalue", ""))[:120]
                what = ("was interrupted: it ran longer than the cell timeout"
                        if out.get("ename") == "KeyboardInterrupt"
                        else f"raised {out.get('ename')}: {value}")
                problems.append(f"cell {index + 1} {what}")
    return problems[:5]


def grade_notebook(path: Path, *, cell_timeout: float, budget: float) -> dict[str, Any]:
    """Execute one submission and run its exercise's checks; a JSON-ready verdict."""
    verdict: dict[str, Any] = {"path": str(path), "exercise": None, "status": "graded",
                               "score": 0.0, "max_score": 0.0, "tasks": [], "problems": []}
    try:
        notebook = nbformat.read(path, as_version=4)
    except Exception as error:  # noqa: BLE001 - not JSON, not a notebook, unreadable
        return verdict | {"status": "error", "problems": [f"not a readable notebook: {error}"[:300]]}
    exercise = exercise_of(notebook, path)
    if exercise is None:
        return verdict | {"status": "error", "problems": [
            "cannot tell which exercise this is (no choreo_lab metadata, no known grade ids)"]}
    tasks = exercises()[exercise]
    verdict |= {"exercise": exercise, "max_score": sum(task.max_points for task in tasks)}
    runnable = gradable(notebook, tasks, budget)
    grading_timeout = budget * sum(len(task.checks) for task in tasks) + 30
    client = CappedClient(
        runnable, timeout=cell_timeout, interrupt_on_timeout=True, allow_errors=True,
        kernel_name="python3", record_timing=False,
        timeout_func=lambda cell: grading_timeout if cell.metadata.get(GRADING_CELL) else cell_timeout,
        resources={"metadata": {"path": str(path.parent.resolve())}})
    try:
        client.execute()
    except DeadKernelError:
        message = ("The Python kernel died while running this notebook, so nothing could be "
                   "checked. Does the code call os._exit(), or crash the interpreter?")
        return verdict | {"tasks": failed_tasks(tasks, message),
                          "problems": cell_problems(runnable) + ["the kernel died"]}
    except CellTimeoutError:
        message = "A cell did not finish in time and could not be interrupted."
        return verdict | {"tasks": failed_tasks(tasks, message), "problems": [message]}
    results = grading_output(runnable.cells[-1])
    if results is None:
        message = ("The checks could not run: the grading cell "
                   + describe_outputs(runnable.cells[-1]) + ".")
        results = failed_tasks(tasks, message)
    score = sum(result["score"] for result in results)
    return verdict | {"tasks": results, "score": score, "problems": cell_problems(runnable)}


def grading_output(cell: NotebookNode) -> list[dict[str, Any]] | None:
    """The task results the grading cell displayed, or None if it displayed none."""
    for out in cell.get("outputs", []):
        data = out.get("data", {})
        if GRADE_MIME in data:
            return data[GRADE_MIME]["tasks"]
    return None


def describe_outputs(cell: NotebookNode) -> str:
    """What became of a grading cell that displayed no results, in words."""
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            if out.get("ename") == "KeyboardInterrupt":
                return "ran out of time and was interrupted"
            return f"raised {out.get('ename')}: {str(out.get('evalue', ''))[:200]}"
    return "produced no result"


def main(argv: list[str] | None = None) -> int:
    """Worker entry point: grade one notebook, write the verdict as JSON to a file."""
    parser = argparse.ArgumentParser(description="grade one notebook (used by choreo-lab grade)")
    parser.add_argument("notebook", type=Path)
    parser.add_argument("verdict", type=Path)
    parser.add_argument("--cell-timeout", type=float, required=True)
    parser.add_argument("--budget", type=float, required=True)
    args = parser.parse_args(argv)
    verdict = grade_notebook(args.notebook, cell_timeout=args.cell_timeout, budget=args.budget)
    args.verdict.write_text(json.dumps(verdict), "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
