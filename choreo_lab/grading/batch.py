"""Grading many submissions: each in its own worker process, a few at a time, never hanging.

A worker that outlives its wall-clock limit is killed with its whole process group (its
kernel included); a worker that dies leaves a verdict saying so. The verdicts come back in
the order of the notebooks, whatever order the workers finish in.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat

from .execution import exercise_of, failed_tasks
from .judge import CHECK_BUDGET
from .tasks import exercises


@dataclass(frozen=True)
class Limits:
    """How long a submission may take: per cell, for the whole notebook, per check."""

    cell_timeout: float = 30.0
    notebook_timeout: float = 300.0
    check_budget: float = CHECK_BUDGET


def find_notebooks(paths: Iterable[Path]) -> list[Path]:
    """The notebooks named, and every notebook under the folders named (checkpoints skipped)."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(p for p in path.rglob("*.ipynb")
                            if ".ipynb_checkpoints" not in p.parts)
        elif path.exists():
            found.append(path)
        else:
            raise FileNotFoundError(f"no such file or folder: {path}")
    return list(dict.fromkeys(found))


def grade_all(notebooks: list[Path], limits: Limits, jobs: int = 2,
              progress: Callable[[Path, dict[str, Any]], None] | None = None) -> list[dict[str, Any]]:
    """Grade every notebook, `jobs` at a time; `progress` is called as each one finishes."""
    def one(path: Path) -> dict[str, Any]:
        verdict = grade_in_worker(path, limits)
        if progress is not None:
            progress(path, verdict)
        return verdict

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return list(pool.map(one, notebooks))


def grade_in_worker(path: Path, limits: Limits) -> dict[str, Any]:
    """Grade one notebook in a worker process, within `limits.notebook_timeout` seconds."""
    with tempfile.TemporaryDirectory(prefix="choreo-grade-") as scratch:
        verdict_file = Path(scratch) / "verdict.json"
        command = [sys.executable, "-m", "choreo_lab.grading.execution", str(path),
                   str(verdict_file), "--cell-timeout", str(limits.cell_timeout),
                   "--budget", str(limits.check_budget)]
        worker = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, start_new_session=True)
        try:
            _, errors = worker.communicate(timeout=limits.notebook_timeout)
        except subprocess.TimeoutExpired:
            stop(worker)
            return not_graded(path, f"grading took longer than {limits.notebook_timeout:g} s "
                                    "(the whole-notebook limit) and was stopped")
        finally:
            stop(worker)
        if verdict_file.exists():
            verdict: dict[str, Any] = json.loads(verdict_file.read_text("utf-8"))
            verdict["path"] = str(path)
            return verdict
        last = errors.decode("utf-8", "replace").strip().splitlines()[-1:] if errors else []
        return not_graded(path, "the grading worker stopped without a verdict"
                          + (f": {last[0][:200]}" if last else ""))


def stop(worker: subprocess.Popen[bytes]) -> None:
    """Kill the worker's process group (the worker and its kernel), if it is still there."""
    try:
        os.killpg(worker.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    worker.wait()


def not_graded(path: Path, reason: str) -> dict[str, Any]:
    """A verdict of zero for a notebook whose grading could not finish, naming why."""
    try:
        exercise = exercise_of(nbformat.read(path, as_version=4), path)
    except Exception:  # noqa: BLE001 - an unreadable file has no exercise
        exercise = None
    tasks = exercises().get(exercise or "", [])
    return {"path": str(path), "exercise": exercise, "status": "error", "score": 0.0,
            "max_score": sum(task.max_points for task in tasks),
            "tasks": failed_tasks(tasks, reason[0].upper() + reason[1:] + "."), "problems": [reason]}


def summary(verdicts: list[dict[str, Any]]) -> dict[str, Any]:
    """The machine-readable report: every notebook's verdict, and the totals."""
    return {"notebooks": verdicts, "score": sum(v["score"] for v in verdicts),
            "max_score": sum(v["max_score"] for v in verdicts)}
