"""Grading a class: every file found, every notebook read once, each graded in a worker.

The parent reads every submitted notebook into memory before the first one runs, so a
submission cannot change what another student handed in (or itself, for a re-grade). Each
notebook then goes to a worker process of its own, a few at a time; the worker runs the
learner's code in a sandbox and sends back a verdict. The parent trusts no number in it: it
rebuilds every verdict from its own checks (a score must be a finite number between 0 and
the check's points, and a check the grader does not have counts for nothing). After a worker
ends, the parent ends whatever is left of its sandbox, and the report is written only once
every sandbox process of the run is gone.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .sandbox.containment import Containment
from .tasks import Task
from .worker import Limits, exercise_of, failed_tasks

#: The largest notebook file graded (larger ones are reported, not read).
MAX_NOTEBOOK_BYTES = 20 << 20
#: Seconds a worker gets beyond the whole-notebook limit before it is stopped.
WORKER_MARGIN = 60.0


@dataclass(frozen=True)
class Submission:
    """One notebook as it was when the run began."""

    path: Path
    text: str | None        # None: it could not be read
    problem: str = ""       # why it could not be read


def find_files(paths: Iterable[Path]) -> tuple[list[Path], list[dict[str, str]]]:
    """The notebooks to grade, and every other file found with the reason it is skipped."""
    notebooks: list[Path] = []
    skipped: list[dict[str, str]] = []
    for path in paths:
        if not path.exists() and not path.is_symlink():
            raise FileNotFoundError(f"no such file or folder: {path}")
        found = sorted(p for p in path.rglob("*") if not p.is_dir() or p.is_symlink()) \
            if path.is_dir() and not path.is_symlink() else [path]
        for file in found:
            reason = skip_reason(file)
            if reason:
                skipped.append({"path": str(file), "reason": reason})
            else:
                notebooks.append(file)
    return list(dict.fromkeys(notebooks)), skipped


def skip_reason(file: Path) -> str:
    """Why `file` is not graded ("" if it is a notebook to grade)."""
    if file.is_symlink():
        return "a symbolic link (not followed)"
    if ".ipynb_checkpoints" in file.parts:
        return "a Jupyter checkpoint (an autosaved copy, not the submission)"
    if file.suffix != ".ipynb":
        return f"not a notebook ({file.suffix or 'no extension'})"
    if not file.is_file():
        return "not a regular file"
    return ""


def read_all(notebooks: list[Path]) -> list[Submission]:
    """Every notebook's text, read now (before any submission runs)."""
    submissions = []
    for path in notebooks:
        try:
            size = path.stat().st_size
            if size > MAX_NOTEBOOK_BYTES:
                submissions.append(Submission(path, None, f"too large to grade ({size:,} bytes)"))
                continue
            submissions.append(Submission(path, path.read_bytes().decode("utf-8")))
        except (OSError, UnicodeDecodeError) as error:
            submissions.append(Submission(path, None, f"not a readable notebook: {error}"[:300]))
    return submissions


def grade_all(submissions: list[Submission], tasks: dict[str, list[Task]], limits: Limits,
              hide: list[str], jobs: int = 2,
              progress: Callable[[Path, dict[str, Any]], None] | None = None) -> list[dict[str, Any]]:
    """Grade every submission, `jobs` at a time; `progress` is called as each one finishes."""
    workers: list[int] = []

    def one(submission: Submission) -> dict[str, Any]:
        raw = (grade_in_worker(submission, limits, hide, workers) if submission.text is not None
               else {"status": "error", "problems": [submission.problem]})
        verdict = rebuilt(raw, submission.path, tasks)
        if progress is not None:
            progress(submission.path, verdict)
        return verdict

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        verdicts = list(pool.map(one, submissions))
    for pid in workers:  # nothing of any sandbox may outlive the run
        Containment.for_worker(pid).end_all()
    return verdicts


def grade_in_worker(submission: Submission, limits: Limits, hide: list[str],
                    workers: list[int]) -> dict[str, Any]:
    """Grade one notebook in a worker process; a verdict (as the worker sent it) or why not."""
    request = json.dumps({"name": str(submission.path), "text": submission.text,
                          "limits": asdict(limits), "hide": hide})
    worker = subprocess.Popen([sys.executable, "-I", "-m", "choreo_lab.grading.worker"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, start_new_session=True,
                              env=os.environ.copy())
    workers.append(worker.pid)
    try:
        out, err = worker.communicate(request.encode("utf-8"),
                                      timeout=limits.notebook_timeout + WORKER_MARGIN)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.communicate()
        return {"status": "error", "problems": [
            f"grading took longer than {limits.notebook_timeout + WORKER_MARGIN:g} s and was stopped"]}
    finally:
        Containment.for_worker(worker.pid).end_all()
    try:
        verdict = json.loads(out)
        if not isinstance(verdict, dict):
            raise ValueError("not an object")
        return verdict
    except ValueError:
        last = err.decode("utf-8", "replace").strip().splitlines()[-1:]
        return {"status": "error", "problems": [
            "the grading worker stopped without a verdict" + (f": {last[0][:200]}" if last else "")]}


def rebuilt(raw: dict[str, Any], path: Path, tasks: dict[str, list[Task]]) -> dict[str, Any]:
    """The verdict made again from the grader's own checks; nothing is taken on trust.

    Each of our checks takes the score reported for it only if it is a finite number in
    [0, points]; anything else, or a check with no result, scores 0.
    """
    exercise = raw.get("exercise") if raw.get("exercise") in tasks else exercise_of(None, str(path))
    own = tasks.get(exercise or "", [])
    reported = {t.get("task"): t for t in raw.get("tasks", []) if isinstance(t, dict)}
    problems = strings(raw.get("problems"), 12, 500)
    missing = (problems[0][:1].upper() + problems[0][1:] + "." if problems else
               "No result for this task (the notebook could not be graded).")
    results = []
    for task in own:
        entry = reported.get(task.name)
        if not isinstance(entry, dict):
            results += failed_tasks([task], missing)
            continue
        results.append(rebuilt_task(task, entry))
    status = raw.get("status") if raw.get("status") in ("graded", "error") else "error"
    return {"path": str(path), "exercise": exercise, "status": status,
            "score": sum(t["score"] for t in results),
            "max_score": sum(task.max_points for task in own), "tasks": results,
            "problems": problems,
            "refused_imports": strings(raw.get("refused_imports"), 20, 120),
            "sandbox": strings(raw.get("sandbox"), 5, 200)}


def rebuilt_task(task: Task, entry: dict[str, Any]) -> dict[str, Any]:
    """One task's results, check by check in our own order, scores clamped."""
    checks = [c for c in entry.get("checks", []) if isinstance(c, dict)]
    rows = []
    for index, check in enumerate(task.checks):
        given = checks[index] if index < len(checks) else {}
        mine = given.get("title") == check.title
        score = given.get("score") if mine else 0.0
        if not isinstance(score, (int, float)) or isinstance(score, bool) or not math.isfinite(score):
            score = 0.0
        score = min(max(float(score), 0.0), check.points)
        score = check.points if score == check.points else 0.0  # a check passes or fails
        message = given.get("message") if mine and isinstance(given.get("message"), str) else \
            "No result from the grader's own check."
        rows.append({"title": check.title, "points": check.points, "score": score,
                     "hidden": check.hidden, "message": message[:20_000] if score < check.points
                     else "", "passed": score == check.points})
    return {"task": task.name, "exercise": task.exercise, "title": task.title,
            "score": sum(row["score"] for row in rows), "max_score": task.max_points,
            "checks": rows}


def strings(value: Any, count: int, length: int) -> list[str]:
    """At most `count` strings of at most `length` characters from `value` (a list, or not)."""
    if not isinstance(value, list):
        return []
    return [str(item)[:length] for item in value[:count]]


def summary(verdicts: list[dict[str, Any]], skipped: list[dict[str, str]]) -> dict[str, Any]:
    """The machine-readable report: every notebook's verdict, the skipped files, the totals."""
    return {"notebooks": verdicts, "skipped": skipped,
            "files": len(verdicts) + len(skipped),
            "score": sum(v["score"] for v in verdicts),
            "max_score": sum(v["max_score"] for v in verdicts)}
