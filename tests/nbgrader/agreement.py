"""Real nbgrader and `choreo-lab grade` give the same scores (run by `make test-nbgrader`).

In a course folder of its own: each exercise source from solutions/ becomes an nbgrader
assignment (`nbgrader generate_assignment`); three students hand in the release with the
reference solution filled in, with the stubs left, and with a known-wrong answer;
`nbgrader autograde` grades them (the hidden checks found through CHOREO_LAB_HIDDEN_CHECKS)
and `choreo-lab grade` grades the same files. Every notebook's score must agree, and
`nbgrader validate` must pass the reference submission. Needs nbgrader 0.9 in the running
Python (the make target builds that venv). Prints one line per notebook and exits 1 on any
disagreement.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.grading.variants import Variant, first_wrong_per_exercise  # noqa: E402

HIDDEN = ROOT / "solutions" / "hidden_checks"
BIN = Path(sys.executable).parent


def nbgrader(course: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"PATH": f"{BIN}:{os.environ.get('PATH', '')}",
                        "CHOREO_LAB_HIDDEN_CHECKS": str(HIDDEN)}
    return subprocess.run([str(BIN / "nbgrader"), *args], cwd=course, env=env, text=True,
                          capture_output=True)


def must(result: subprocess.CompletedProcess[str]) -> None:
    if result.returncode != 0:
        sys.exit(f"nbgrader failed:\n{result.stdout}\n{result.stderr}")


def hand_in(course: Path, assignment: str, student: str, cells: dict[str, str]) -> Path:
    """The released notebook, with `cells` (by id) replaced, as `student` submits it."""
    notebook = nbformat.read(course / "release" / assignment / f"{assignment}.ipynb", as_version=4)
    for cell in notebook.cells:
        if cell.get("id") in cells:
            cell.source = cells[cell.id]
    target = course / "submitted" / student / assignment / f"{assignment}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, target)
    return target


def solution_cells(source: Path) -> dict[str, str]:
    notebook = nbformat.read(source, as_version=4)
    return {c.id: c.source for c in notebook.cells
            if c.get("metadata", {}).get("nbgrader", {}).get("solution")}


def nbgrader_scores(course: Path) -> dict[str, float]:
    from nbgrader.api import Gradebook
    scores = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        for assignment in gradebook.assignments:
            for submission in gradebook.assignment_submissions(assignment.name):
                scores[f"{submission.student_id}/{assignment.name}"] = submission.score
    return scores


def wrong_answers(exercises: list[str]) -> dict[str, Variant]:
    """Each exercise's first known-wrong variant in tests/grading/variants.WRONG."""
    firsts = first_wrong_per_exercise()
    missing = [exercise for exercise in exercises if exercise not in firsts]
    if missing:
        sys.exit(f"no known-wrong variant for {', '.join(missing)}: add one to "
                 "tests/grading/variants.WRONG")
    return firsts


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="choreo-nbgrader-") as scratch:
        course = Path(scratch) / "course"
        (course / "source").mkdir(parents=True)
        (course / "nbgrader_config.py").write_text(
            "c = get_config()\nc.CourseDirectory.course_id = 'choreo-lab'\n"
            "c.ExecutePreprocessor.timeout = 300\n")
        sources = sorted((ROOT / "solutions").glob("ex*.ipynb"))
        variants = wrong_answers([source.stem for source in sources])
        for source in sources:
            assignment = source.stem
            (course / "source" / assignment).mkdir()
            shutil.copy(source, course / "source" / assignment / source.name)
            must(nbgrader(course, "db", "assignment", "add", assignment))
            must(nbgrader(course, "generate_assignment", assignment, "--force"))
            reference = hand_in(course, assignment, "reference", solution_cells(source))
            hand_in(course, assignment, "stub", {})
            hand_in(course, assignment, "wrong", solution_cells(source) | variants[assignment].cells)
            validated = nbgrader(course, "validate", str(reference))
            if "Success!" not in validated.stdout:
                print(f"nbgrader validate fails the reference {assignment}:\n{validated.stdout}")
                return 1
            for student in ("reference", "stub", "wrong"):
                must(nbgrader(course, "db", "student", "add", student))
            must(nbgrader(course, "autograde", assignment, "--force"))
        theirs = nbgrader_scores(course)
        report = Path(scratch) / "report.json"
        subprocess.run([sys.executable, "-m", "choreo_lab.cli", "grade",
                        str(course / "submitted"), "--json", "--report", str(report),
                        "--hidden", str(HIDDEN)], check=True, stdout=subprocess.DEVNULL)
        ours = {str(Path(v["path"]).parent.relative_to(course / "submitted")): v["score"]
                for v in json.loads(report.read_text())["notebooks"]}
    disagreements = 0
    for name in sorted(theirs):
        same = theirs[name] == ours.get(name)
        disagreements += not same
        print(f"{'same' if same else 'DIFFERENT':9} {name}: nbgrader {theirs[name]:g}, "
              f"choreo-lab {ours.get(name)}")
    print(f"{len(theirs) - disagreements} agree, {disagreements} disagree")
    return 1 if disagreements or len(theirs) != 3 * len(sources) else 0


if __name__ == "__main__":
    sys.exit(main())
