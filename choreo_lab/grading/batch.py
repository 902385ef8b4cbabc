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

from .sandbox.client import boot, package_paths
from .sandbox.containment import SLOTS, Containment
from .tasks import Task
from .hidden import HiddenChecksMissing, graded_exercises
from .report import name_key, nbgrader_student, printable, shown_path, student_of
from .worker import Limits, NotReadable, exercise_in_name, exercise_of, failed_tasks, read_notebook

#: The largest notebook file graded (larger ones are reported, not read).
MAX_NOTEBOOK_BYTES = 20 << 20
#: Seconds a worker gets beyond the whole-notebook limit before it is stopped.
WORKER_MARGIN = 60.0


@dataclass(frozen=True)
class Found:
    """A notebook to grade, and the file or folder given that it was found through."""

    path: Path
    given: Path


@dataclass(frozen=True)
class Submission:
    """One notebook as it was when the run began."""

    path: Path
    text: str | None        # None: it could not be read
    problem: str = ""       # why it could not be read
    given: Path | None = None  # the file or folder given that it was found through


def find_files(paths: Iterable[Path]) -> tuple[list[Found], list[dict[str, str]]]:
    """The notebooks to grade, and every other file found with the reason it is skipped.

    A file found twice (given twice, or by two spellings of its path, or in a folder and by
    name) is graded once, as it was first found.
    """
    notebooks: dict[Path, Found] = {}
    skipped: list[dict[str, str]] = []
    for path in paths:
        if not path.exists() and not path.is_symlink():
            raise FileNotFoundError(f"no such file or folder: {path}")
        found = sorted(p for p in path.rglob("*") if not p.is_dir() or p.is_symlink()) \
            if path.is_dir() and not path.is_symlink() else [path]
        for file in found:
            reason = skip_reason(file)
            if reason:
                skipped.append({"path": str(file), "submission": printable(shown_path(file, path)),
                                "reason": reason})
            else:
                notebooks.setdefault(file.resolve(), Found(file, path))
    return list(notebooks.values()), skipped


def skip_reason(file: Path) -> str:
    """Why `file` is not graded ("" if it is a notebook to grade)."""
    if file.is_symlink():
        return "a symbolic link (not followed)"
    if ".ipynb_checkpoints" in file.parts:
        return "a Jupyter checkpoint (an autosaved copy, not the submission)"
    if file.name == "timestamp.txt" and nbgrader_student(file) is not None:
        return "nbgrader's record of when it was submitted"
    if file.suffix != ".ipynb":
        return f"not a notebook ({file.suffix or 'no extension'})"
    if not file.is_file():
        return "not a regular file"
    return ""


def read_all(notebooks: list[Found]) -> list[Submission]:
    """Every notebook's text, read now (before any submission runs).

    A file that is not a notebook (empty, not JSON, not nbformat 4) is told here, and never
    goes to a worker.
    """
    return [read_one(found.path, found.given) for found in notebooks]


def read_one(path: Path, given: Path) -> Submission:
    """One notebook's text, or why it cannot be graded."""
    try:
        size = path.stat().st_size
        if size > MAX_NOTEBOOK_BYTES:
            return Submission(path, None, f"too large to grade ({size:,} bytes)", given)
        text = path.read_bytes().decode("utf-8")
        read_notebook(text)
    except (OSError, UnicodeDecodeError, NotReadable) as error:
        return Submission(path, None, f"not a readable notebook: {error}"[:300], given)
    return Submission(path, text, "", given)


def same_student_and_exercise(
        verdicts: list[dict[str, Any]]) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """The verdicts by student (however spelled) and exercise; those without either left out."""
    rows: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for verdict in verdicts:
        if verdict.get("student") and verdict["exercise"]:
            rows.setdefault((name_key(verdict["student"]), verdict["exercise"]), []).append(verdict)
    return rows


def warn_of_folders_inside_another(verdicts: list[dict[str, Any]]) -> None:
    """Warn of a notebook credited to a student's folder that is inside another student's:
    a folder above it (below the folder given) names a student of the run or holds notebooks
    of its own (mallory/carol/ex01.ipynb beside mallory/ex02.ipynb). A class folder of weeks or
    groups (week1/bob/) is neither."""
    students = {name_key(v["student"]) for v in verdicts if v.get("student")}
    holding = {str(Path(v["submission"]).parent) for v in verdicts}
    for verdict in verdicts:
        student, folders = verdict.get("student"), Path(verdict["submission"]).parts[:-1]
        if student not in folders:
            continue  # credited by its file name, or its folder was the one given
        depth = len(folders) - folders[::-1].index(student) - 1  # the folder credited
        above = [Path(*folders[:end]) for end in range(1, depth + 1)]
        other = [folder for folder in above if name_key(folder.name) != name_key(student)
                 and (name_key(folder.name) in students or str(folder) in holding)]
        if other:
            verdict.setdefault("warnings", []).append(
                f"credited to {verdict['student']}, but found inside {other[0].as_posix()}/, "
                "which holds another student's work: check who handed it in; it is left out of "
                "the grades CSV")
            verdict["in_csv"] = False


def hidden_checks(folder: Path, *, given: bool = True) -> dict[str, list[Task]]:
    """Every exercise's tasks with the hidden checks of `folder`, given with --hidden (or, not
    `given`, the course's own folder).

    `HiddenChecksMissing`, saying what is wrong and what to do, if they do not load.
    """
    named = f"--hidden {folder}" if given else str(folder)
    if given and not folder.is_dir():
        raise HiddenChecksMissing(f"{named}: no such folder" if not folder.exists()
                                  else f"{named} is a file: give the folder of the "
                                       "hidden checks (solutions/hidden_checks)")
    try:
        return graded_exercises(folder)
    except Exception as error:  # noqa: BLE001 - whatever the folder holds, say so plainly
        instead = ("Give the course's solutions/hidden_checks, or leave --hidden out to use it."
                   if given else
                   "Update the course repository, or give the right folder with --hidden DIR.")
        raise HiddenChecksMissing(
            f"{named} does not hold the hidden checks this version of choreo-lab grades with "
            f"({type(error).__name__}: {error}). {instead}") from None


def grade_all(submissions: list[Submission], tasks: dict[str, list[Task]], limits: Limits,
              hide: list[str], jobs: int = 2,
              progress: Callable[[Path, dict[str, Any]], None] | None = None) -> list[dict[str, Any]]:
    """Grade every submission, `jobs` at a time; `progress` is called as each one finishes."""
    workers: list[int] = []

    def one(submission: Submission) -> dict[str, Any]:
        raw = (grade_in_worker(submission, limits, hide, workers) if submission.text is not None
               else {"status": "error", "problems": [submission.problem]})
        verdict = rebuilt(raw, submission.path, tasks, submission.given)
        if progress is not None:
            progress(submission.path, verdict)
        return verdict

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        verdicts = list(pool.map(one, submissions))
    for pid in workers:  # nothing of any sandbox may outlive the run
        for slot in SLOTS:
            Containment.for_worker(pid, slot).end_all()
    return verdicts


def grade_in_worker(submission: Submission, limits: Limits, hide: list[str],
                    workers: list[int]) -> dict[str, Any]:
    """Grade one notebook in a worker process; a verdict (as the worker sent it) or why not.

    The worker runs this process's own copy of the package (as its sandbox does), not
    whichever one `python -I` would find installed."""
    request = json.dumps({"name": str(submission.path), "text": submission.text,
                          "limits": asdict(limits), "hide": hide})
    worker = subprocess.Popen([sys.executable, "-I", "-c", boot("choreo_lab.grading.worker"),
                               str(Path(package_paths()["package"]).parent)],
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
        for slot in SLOTS:
            Containment.for_worker(worker.pid, slot).end_all()
    try:
        verdict = json.loads(out)
        if not isinstance(verdict, dict):
            raise ValueError("not an object")
        return verdict
    except ValueError:
        last = err.decode("utf-8", "replace").strip().splitlines()[-1:]
        return {"status": "error", "problems": [
            "the grading worker stopped without a verdict" + (f": {last[0][:200]}" if last else "")]}


def rebuilt(raw: dict[str, Any], path: Path, tasks: dict[str, list[Task]],
            given: Path | None = None) -> dict[str, Any]:
    """The verdict made again from the grader's own checks; nothing is taken on trust.

    Each of our checks takes the score reported for it only if it is a finite number in
    [0, points]; anything else, or a check with no result, scores 0. The student is told
    from the path (found through `given`, by default the notebook itself); warnings say what
    an instructor should check: a file name naming another student or another exercise.
    """
    exercise = raw.get("exercise") if raw.get("exercise") in tasks else exercise_of(None, str(path))
    own = tasks.get(exercise or "", [])
    reported = {t.get("task"): t for t in raw.get("tasks", []) if isinstance(t, dict)}
    problems = [printable(problem) for problem in strings(raw.get("problems"), 12, 500)]
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
    given = path if given is None else given
    student, note = student_of(path, given)
    warnings = [printable(note)] if note else []
    named = exercise_in_name(path.name)
    if exercise and named and named != exercise[:4]:
        warnings.append(f"the file name says {named}, the notebook is {exercise[:4]}")
    return {"path": str(path), "student": printable(student),
            "submission": printable(shown_path(path, given)),
            "exercise": exercise, "status": status, "warnings": warnings,
            "score": sum(t["score"] for t in results),
            "max_score": sum(task.max_points for task in own), "tasks": results,
            "problems": problems,
            "refused_imports": [printable(name) for name in
                                strings(raw.get("refused_imports"), 20, 120)],
            "sandbox": [printable(note) for note in strings(raw.get("sandbox"), 5, 200)]}


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
                     "hidden": check.hidden,
                     "message": printable(message[:20_000], lines=True) if score < check.points
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
    """The machine-readable report: every notebook's verdict, the skipped files, the totals.

    A notebook credited to a student's folder inside another's is warned of and left out of
    the grades CSV; then two rows left for one student and exercise are warned of in both,
    and left out too.
    """
    warn_of_folders_inside_another(verdicts)
    kept = [verdict for verdict in verdicts if verdict.get("in_csv", True)]
    for (_, exercise), same in same_student_and_exercise(kept).items():
        if len(same) > 1:
            for verdict in same:
                verdict.setdefault("warnings", []).append(
                    f"{same[0]['student']} has {len(same)} submissions of {exercise}, none of "
                    "them in the grades CSV until one is left: "
                    + ", ".join(v.get("submission") or v["path"] for v in same))
                verdict["in_csv"] = False
    return {"notebooks": verdicts, "skipped": skipped,
            "files": len(verdicts) + len(skipped),
            "score": sum(v["score"] for v in verdicts),
            "max_score": sum(v["max_score"] for v in verdicts)}
