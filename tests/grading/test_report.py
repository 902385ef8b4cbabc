"""What an instructor sees of a grading run: who is credited, the table, the CSV, the exit
status, and the command's refusals of bad arguments before anything is graded."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest
from rich.console import Console

from choreo_lab.cli import build_parser, main, sandbox_hides
from choreo_lab.grading.batch import find_files, rebuilt, summary
from choreo_lab.grading.hidden import ENVIRONMENT, graded_exercises
from choreo_lab.grading.report import show, student_of, write_csv
from choreo_lab.grading.worker import exercise_of, read_notebook

from .conftest import EXERCISES, ROOT, SOLUTIONS, flat, grade_command, submission


@pytest.fixture
def hidden_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The command sets $CHOREO_LAB_HIDDEN_CHECKS; put it back after the test."""
    monkeypatch.setenv(ENVIRONMENT, str(SOLUTIONS / "hidden_checks"))


def verdict_for(path: str, exercise: str | None = "ex01-inventory", score: float = 0.0,
                **more: Any) -> dict[str, Any]:
    return {"path": path, "exercise": exercise, "status": "graded", "score": score,
            "max_score": 7.0, "tasks": [], "problems": [], "student": "", "submission": path,
            "warnings": []} | more


def rendered(report: dict[str, Any], width: int = 100) -> str:
    console = Console(file=io.StringIO(), width=width, color_system=None)
    show(report, console)
    return console.file.getvalue()  # type: ignore[attr-defined]


def report_of(*verdicts: dict[str, Any]) -> dict[str, Any]:
    return {"notebooks": list(verdicts), "skipped": [], "files": len(verdicts),
            "score": sum(v["score"] for v in verdicts),
            "max_score": sum(v["max_score"] for v in verdicts)}


# -- 1. the report path is checked before grading --------------------------------------------
def test_a_report_that_is_a_folder_is_refused_before_grading(tmp_path: Path, capsys,
                                                             hidden_env) -> None:
    (tmp_path / "ex01-inventory.ipynb").write_text("")
    (tmp_path / "out").mkdir()
    assert main(["grade", str(tmp_path / "ex01-inventory.ipynb"),
                 "--report", str(tmp_path / "out")]) == 2
    err = flat(capsys.readouterr().err)
    assert "is a folder" in err and "grading-report.json" in err


def test_a_folder_in_the_way_of_the_grades_csv_is_named(tmp_path: Path, capsys,
                                                        hidden_env) -> None:
    (tmp_path / "ex01-inventory.ipynb").write_text("")
    (tmp_path / "x.csv").mkdir()
    assert main(["grade", str(tmp_path / "ex01-inventory.ipynb"),
                 "--report", str(tmp_path / "x.json")]) == 2
    err = flat(capsys.readouterr().err)
    assert f"a folder named {tmp_path / 'x.csv'} is in the way of the grades CSV" in err
    assert "grading-report.json" not in err


def test_a_report_in_a_missing_folder_gets_its_folder(tmp_path: Path, capsys, hidden_env) -> None:
    (tmp_path / "ex01-inventory.ipynb").write_text("")
    report = tmp_path / "new" / "deeper" / "grades.json"
    main(["grade", str(tmp_path / "ex01-inventory.ipynb"), "--report", str(report)])
    assert json.loads(report.read_text())["notebooks"][0]["exercise"] == "ex01-inventory"
    assert report.with_suffix(".csv").is_file()


# -- 2. paths are text, never rich markup -----------------------------------------------------
def test_a_path_that_looks_like_markup_is_shown_as_it_is(tmp_path: Path) -> None:
    folder = tmp_path / "class" / "["
    folder.mkdir(parents=True)
    (folder / "oops]-ex03-idempotent-payment.ipynb").write_text("{ not json")
    done = subprocess.run([sys.executable, "-m", "choreo_lab.cli", "grade", str(tmp_path / "class"),
                           "--report", str(tmp_path / "r.json")],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert "MarkupError" not in done.stderr and "Traceback" not in done.stderr, done.stderr
    assert "oops]" in done.stdout
    assert (tmp_path / "r.json").is_file()


def test_learner_text_in_the_table_is_not_markup() -> None:
    text = rendered(report_of(verdict_for("[/x]/[bold]-ex01.ipynb", submission="[bold]-ex01.ipynb",
                                          student="[bold]", problems=["cell 2 raised [/red]"])))
    assert "[bold]-ex01.ipynb" in text and "[/red]" in text


# -- 3. who is credited ------------------------------------------------------------------------
def notebooks_in(root: Path, *paths: str) -> None:
    """Empty notebooks at `paths` below `root` (their folders made)."""
    for path in paths:
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text("{}")


@pytest.mark.parametrize(("path", "student"), [
    ("alice/ex01-inventory.ipynb", "alice"),
    ("bob/alice-ex03-idempotent-payment.ipynb", "bob"),
    ("bob-ex01-inventory.ipynb", "bob"),
    ("carol_ex02.ipynb", "carol"),
    ("max-exam-ex03-idempotent-payment.ipynb", "max-exam"),
    ("Bob Jones - ex01-inventory.ipynb", "Bob Jones"),
    ("dan.ex01.ipynb", "dan"),
    ("ex01-inventory (1).ipynb", ""),
    ("ex01-inventory.ipynb", ""),
    ("erin/week1/ex01-inventory.ipynb", "week1"),    # the folder holding it, not a higher one
    ("week1/frank/ex01-inventory.ipynb", "frank"),
    ("gina/ex01/ex01-inventory.ipynb", "gina"),      # an exercise's folder names no one
    ("ex02/hugo-ex02.ipynb", "hugo"),
    ("dan/homework.ipynb", "dan"),
])
def test_a_student_folder_wins_else_the_file_name_before_its_exercise(
        tmp_path: Path, path: str, student: str) -> None:
    class_folder = tmp_path / "submissions"
    notebooks_in(class_folder, "zoe/ex01-inventory.ipynb", "yann-ex01.ipynb", "xia-ex02.ipynb",
                 "ex02/wes-ex02.ipynb", path)
    assert student_of(class_folder / path, class_folder)[0] == student


@pytest.mark.parametrize("path", ["alice/ex01.ipynb", "alice/bob-ex01.ipynb",
                                  "carol-ex01.ipynb", "dave/ex01/dave-ex01.ipynb",
                                  "week1/erin/ex01.ipynb"])
def test_the_student_is_the_same_whatever_path_is_given(tmp_path: Path, path: str) -> None:
    class_folder = tmp_path / "submissions"
    notebooks_in(class_folder, path, "zoe/ex01.ipynb", "yann-ex01.ipynb", "week1/xia-ex01.ipynb")
    notebook = class_folder / path
    credited = {student_of(notebook, given) for given in (class_folder, notebook.parent, notebook)}
    assert len({name for name, _ in credited}) == 1, credited
    assert len({bool(note) for _, note in credited}) == 1, credited


def test_a_file_name_that_disagrees_with_its_folder_is_noted(tmp_path: Path) -> None:
    class_folder = tmp_path / "submissions"
    notebooks_in(class_folder, "bob/alice-ex03-idempotent-payment.ipynb", "ex01-inventory.ipynb",
                 "zoe/ex01.ipynb")
    for given in (class_folder, class_folder / "bob",
                  class_folder / "bob/alice-ex03-idempotent-payment.ipynb"):
        name, note = student_of(class_folder / "bob/alice-ex03-idempotent-payment.ipynb", given)
        assert name == "bob" and note == "the file name says alice, the folder bob"
    assert student_of(class_folder / "ex01-inventory.ipynb", class_folder)[1] == (
        "no student name: put the notebook in a folder named after the student, or name it "
        "student-ex01-....ipynb")


def test_a_folder_shared_by_several_students_credits_the_file_name_and_warns(
        tmp_path: Path) -> None:
    class_folder = tmp_path / "submissions"
    notebooks_in(class_folder, "week1/bob-ex01.ipynb", "week1/carol-ex01.ipynb",
                 "ex01/dave-ex01.ipynb", "ex01/erin-ex01.ipynb")
    name, note = student_of(class_folder / "week1/bob-ex01.ipynb", class_folder)
    assert name == "bob" and note == ("the folder week1 holds the notebooks of several students: "
                                      "credited by the file name")
    assert student_of(class_folder / "ex01/dave-ex01.ipynb", class_folder) == ("dave", "")


@pytest.mark.parametrize("signs", [["source/ps1/ex01-inventory.ipynb"],
                                   ["release/ps1/ex01-inventory.ipynb"],
                                   [f"{folder}/{student}/ps1/timestamp.txt"
                                    for folder, student in (("submitted", "alice"),
                                                            ("submitted", "bob"),
                                                            ("autograded", "alice"))]])
def test_in_an_nbgrader_course_the_student_is_the_folder_nbgrader_named(
        tmp_path: Path, signs: list[str]) -> None:
    course = tmp_path / "course"
    notebooks_in(course, "submitted/alice/ps1/ex01-inventory.ipynb",
                 "submitted/bob/ps1/carol-ex01-inventory.ipynb",
                 "autograded/alice/ps1/ex01-inventory.ipynb", *signs)
    for given in (course / "submitted", course / "submitted/alice", course):
        assert student_of(course / "submitted/alice/ps1/ex01-inventory.ipynb", given) == (
            "alice", "")
    assert student_of(course / "autograded/alice/ps1/ex01-inventory.ipynb", course) == (
        "alice", "")
    assert student_of(course / "submitted/bob/ps1/carol-ex01-inventory.ipynb", course) == (
        "bob", "the file name says carol, the folder bob")


def test_a_folder_named_submitted_outside_an_nbgrader_course_keeps_the_usual_rule(
        tmp_path: Path) -> None:
    class_folder = tmp_path / "submitted"
    notebooks_in(class_folder, "week1/bob/ex01.ipynb", "week1/carol/ex01.ipynb")
    assert student_of(class_folder / "week1/bob/ex01.ipynb", class_folder) == ("bob", "")
    found, skipped = find_files([class_folder])
    assert len(found) == 2 and skipped == []


def test_nbgraders_timestamp_is_listed_as_what_it_is(tmp_path: Path) -> None:
    course = tmp_path / "course"
    notebooks_in(course, "submitted/alice/ps1/ex01-inventory.ipynb",
                 "submitted/alice/ps1/timestamp.txt", "submitted/alice/ps1/notes.txt")
    found, skipped = find_files([course / "submitted"])
    assert [f.path.name for f in found] == ["ex01-inventory.ipynb"]
    assert {Path(s["path"]).name: s["reason"] for s in skipped} == {
        "timestamp.txt": "nbgrader's record of when it was submitted",
        "notes.txt": "not a notebook (.txt)"}


def test_the_same_file_given_twice_or_spelled_two_ways_is_graded_once(tmp_path: Path,
                                                                      monkeypatch) -> None:
    (tmp_path / "alice").mkdir()
    notebook = tmp_path / "alice" / "ex01-inventory.ipynb"
    notebook.write_text("{}")
    monkeypatch.chdir(tmp_path)
    found, _ = find_files([tmp_path, Path("alice/ex01-inventory.ipynb"), notebook,
                           Path("alice/../alice/ex01-inventory.ipynb")])
    assert [f.path.resolve() for f in found] == [notebook]
    assert found[0].given == tmp_path  # credited as found in the class folder


def test_the_table_has_a_student_column_and_warns_of_two_rows_for_one_student() -> None:
    from choreo_lab.grading.batch import summary
    report = summary([verdict_for("/c/bob/ex01-inventory.ipynb", student="bob",
                                  submission="bob/ex01-inventory.ipynb"),
                      verdict_for("/c/bob/ex01-copy-inventory.ipynb", student="bob",
                                  submission="bob/ex01-copy-inventory.ipynb")], [])
    text = flat(rendered(report, width=160))
    assert "Student" in text and "bob" in text
    assert all(any("bob has 2 submissions of ex01-inventory" in w for w in v["warnings"])
               for v in report["notebooks"])
    assert "Warnings" in text and "bob has 2 submissions of ex01-inventory" in text


# -- 3b. learner text the instructor sees -----------------------------------------------------
HOSTILE_TEXT = "\x1b[2J\x1b[H\x1b]52;c;Y3VybA==\x07\u202e7 of 7\ud800"


def test_learner_text_reaches_the_instructor_as_escapes_never_as_control_characters() -> None:
    tasks = graded_exercises(SOLUTIONS / "hidden_checks")
    raw = {"exercise": "ex01-inventory", "status": "graded", "problems": [HOSTILE_TEXT],
           "refused_imports": [HOSTILE_TEXT], "sandbox": [HOSTILE_TEXT],
           "tasks": [{"task": "reserve", "checks": [
               {"title": tasks["ex01-inventory"][0].checks[0].title, "score": 0,
                "message": f"line one {HOSTILE_TEXT}\n\tline two"}]}]}
    verdict = rebuilt(raw, Path(f"class/mal\udcffory{HOSTILE_TEXT}/ex01-inventory.ipynb"), tasks,
                      Path("class"))
    # all but "path", the file's own name (an escape in the JSON gives it back, byte for byte)
    text = json.dumps({key: value for key, value in verdict.items() if key != "path"},
                      ensure_ascii=False)
    for shown in (verdict["student"], verdict["submission"], *verdict["problems"],
                  *verdict["refused_imports"], *verdict["sandbox"]):
        assert not set(shown) & {"\x1b", "\x07", "\u202e", "\ud800", "\udcff"}, shown
        assert "\\x1b[2J" in shown and "\\u202e" in shown
    assert verdict["student"].startswith("mal\\udcffory")
    message = verdict["tasks"][0]["checks"][0]["message"]
    assert message.endswith("\\ud800\n\tline two")  # its lines kept, nothing else raw
    text.encode("utf-8")  # nothing left that no encoder can write
    rendered(summary([verdict], []))  # nor that the table cannot print


@pytest.mark.parametrize(("student", "cell"), [
    ("x;=1+1", "x;'=1+1"), ("Smith, =HYPERLINK(1)", "Smith, '=HYPERLINK(1)"),
    ("a\t@SUM(1)", "a\t'@SUM(1)"), ("Mary-Jane O'Neil", "Mary-Jane O'Neil"),
    ("Bob Jones", "Bob Jones")])
def test_a_formula_after_a_separator_a_spreadsheet_may_split_at_is_quoted_too(
        tmp_path: Path, student: str, cell: str) -> None:
    write_csv(report_of(verdict_for("x-ex01.ipynb", student=student)), tmp_path / "grades.csv")
    with (tmp_path / "grades.csv").open(newline="", encoding="utf-8") as file:
        assert [row["student"] for row in csv.DictReader(file)] == [cell]


def test_a_students_folder_inside_another_students_is_warned_of_and_left_out_of_the_csv(
        tmp_path: Path) -> None:
    verdicts = [verdict_for(f"/c/{path}", student=student, submission=path, score=7.0)
                for path, student in (("mallory/carol/ex01-inventory.ipynb", "carol"),
                                      ("mallory/mallory/ex01-inventory.ipynb", "mallory"),
                                      ("erin/ex02/ex02.ipynb", "erin"),
                                      ("week1/bob/ex01-inventory.ipynb", "bob"),
                                      ("zed/ex01-inventory.ipynb", "zed"),
                                      ("zed/ann/ex01-inventory.ipynb", "ann"),
                                      ("mallory/bob/ex01-inventory.ipynb", "bob"))]
    report = summary(verdicts, [])
    warned = {v["student"]: v["warnings"] for v in report["notebooks"]}
    assert warned["carol"] == ["credited to carol, but found inside mallory/, which holds "
                               "another student's work: check who handed it in; it is left out "
                               "of the grades CSV"]
    assert warned["ann"][0].startswith("credited to ann, but found inside zed/")
    assert warned["mallory"] == warned["erin"] == warned["zed"] == []
    # bob's own notebook keeps its row: the one in mallory's folder is not a second submission
    assert [v["warnings"] for v in report["notebooks"] if v["student"] == "bob"][0] == []
    write_csv(report, tmp_path / "grades.csv")
    with (tmp_path / "grades.csv").open(newline="", encoding="utf-8") as file:
        assert [row["student"] for row in csv.DictReader(file)] == ["mallory", "erin", "bob", "zed"]


def test_two_submissions_of_one_exercise_leave_the_student_out_of_the_csv(tmp_path: Path) -> None:
    report = summary([verdict_for("bob/ex01-inventory.ipynb", student="bob", score=7.0),
                      verdict_for("bob/ex01 (1).ipynb", student="Bob", score=0.0),
                      verdict_for("bob/ex02.ipynb", exercise="ex02-compensations",
                                  student="bob", score=3.0)], [])
    assert "none of them in the grades CSV until one is left" in report["notebooks"][0]["warnings"][0]
    write_csv(report, tmp_path / "grades.csv")
    with (tmp_path / "grades.csv").open(newline="", encoding="utf-8") as file:
        assert [(row["student"], row["exercise"]) for row in csv.DictReader(file)] == [
            ("bob", "ex02-compensations")]


def test_a_notebook_raising_unprintable_text_in_a_folder_named_with_escapes_is_graded(
        tmp_path: Path) -> None:
    """A lone surrogate raised by a cell, a folder name with terminal escapes and a byte
    that is not UTF-8: the table prints without them, the report and the CSV are written,
    and the honest neighbour is graded."""
    folder = tmp_path / "class"
    submission(folder, "alice", "ex01-inventory")
    path = submission(folder, "mallory\x1b[2J\udcff", "ex01-inventory")
    notebook = nbformat.read(path, as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell('raise ValueError(chr(0xD800) + "\\x1b[2J")'))
    nbformat.write(notebook, path)
    report = tmp_path / "r.json"
    done = subprocess.run([sys.executable, "-m", "choreo_lab.cli", "grade", str(folder),
                           "--report", str(report), "--jobs", "2"],
                          capture_output=True, cwd=ROOT, timeout=300,
                          env=os.environ | {"PYTHONIOENCODING": "utf-8:strict", "COLUMNS": "200"})
    assert b"Traceback" not in done.stderr, done.stderr.decode("utf-8", "replace")
    assert b"\x1b[2J" not in done.stdout and b"mallory\\x1b[2J\\udcff" in done.stdout
    with report.with_suffix(".csv").open(newline="", encoding="utf-8") as file:
        assert {row["student"]: row["score"] for row in csv.DictReader(file)} == {
            "alice": "7", "mallory\\x1b[2J\\udcff": "7"}


def test_a_correct_notebook_with_megabytes_of_saved_output_scores_full(tmp_path: Path) -> None:
    from choreo_lab.grading.worker import Limits, grade_submission
    notebook = nbformat.read(SOLUTIONS / "ex01-inventory.ipynb", as_version=4)
    picture = nbformat.v4.new_output("display_data", data={"image/png": "A" * 4_500_000})
    next(c for c in notebook.cells if c.cell_type == "code").outputs.append(picture)
    verdict = grade_submission("carol/ex01-inventory.ipynb", nbformat.writes(notebook),
                               Limits(10, 120, 20), [])
    assert verdict["problems"] == [] and verdict["score"] == verdict["max_score"] == 7


def test_the_worker_runs_the_graders_own_copy_of_the_package(tmp_path: Path) -> None:
    """`choreo-lab grade` run from another copy of the package (a course checkout beside an
    installed one) grades with that copy's worker, not the installed one."""
    import shutil
    copy = tmp_path / "checkout"
    shutil.copytree(ROOT / "choreo_lab", copy / "choreo_lab",
                    ignore=shutil.ignore_patterns("__pycache__"))
    worker = copy / "choreo_lab" / "grading" / "worker.py"
    worker.write_text(worker.read_text().replace('if __name__ == "__main__":', (
        "_graded = grade_submission\n\n\n"
        "def grade_submission(*args, **kwargs):\n"
        "    return _graded(*args, **kwargs) | {'sandbox': ['graded by the checkout']}\n\n\n"
        'if __name__ == "__main__":')))
    (tmp_path / "alice").mkdir()
    shutil.copy(EXERCISES / "ex01-inventory.ipynb", tmp_path / "alice")
    done = subprocess.run([sys.executable, "-m", "choreo_lab.cli", "grade", str(tmp_path / "alice"),
                           "--json", "--report", str(tmp_path / "r.json"),
                           "--hidden", str(SOLUTIONS / "hidden_checks")],
                          capture_output=True, text=True, cwd=tmp_path, timeout=120,
                          env=os.environ | {"PYTHONPATH": str(copy)})
    [verdict] = json.loads(done.stdout)["notebooks"]
    assert verdict["sandbox"] == ["graded by the checkout"], done.stderr


# -- 4. CSV cells are never formulas -----------------------------------------------------------
def test_a_csv_cell_that_starts_like_a_formula_is_quoted(tmp_path: Path) -> None:
    report = report_of(verdict_for('=HYPERLINK("http:--x")-ex03.ipynb',
                                   student='=HYPERLINK("http:--x")'),
                       verdict_for("+1-ex01.ipynb", student="+1"),
                       verdict_for("@a-ex01.ipynb", student="@a"),
                       verdict_for("-a-ex01.ipynb", student="-a"))
    write_csv(report, tmp_path / "grades.csv")
    with (tmp_path / "grades.csv").open(newline="", encoding="utf-8") as file:
        students = [row["student"] for row in csv.DictReader(file)]
    assert students == ["'=HYPERLINK(\"http:--x\")", "'+1", "'@a", "'-a"]


# -- 5. a notebook that cannot be read ---------------------------------------------------------
def test_unreadable_notebooks_score_zero_of_their_exercise_and_fail_the_run(tmp_path: Path) -> None:
    folder = tmp_path / "class"
    folder.mkdir()
    (folder / "jack-ex03-idempotent-payment.ipynb").write_text("{ not json")
    (folder / "kim-ex01-inventory.ipynb").write_text("")
    (folder / "lee-ex02-compensations.ipynb").write_text('{"cells": 5}')
    report = tmp_path / "r.json"
    done = subprocess.run(grade_command([folder], report), capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert done.returncode == 1, done.stderr
    tasks = graded_exercises(SOLUTIONS / "hidden_checks")
    verdicts = {Path(v["path"]).name.split("-")[0]: v for v in json.loads(report.read_text())[
        "notebooks"]}
    for student, exercise in (("jack", "ex03-idempotent-payment"), ("kim", "ex01-inventory"),
                              ("lee", "ex02-compensations")):
        entry = verdicts[student]
        assert entry["exercise"] == exercise and entry["score"] == 0
        assert entry["max_score"] == sum(t.max_points for t in tasks[exercise]) > 0
    assert "the file is empty" in verdicts["kim"]["problems"][0]
    total = json.loads(report.read_text())["max_score"]
    assert total == sum(v["max_score"] for v in verdicts.values())
    assert "3 submissions could not be graded" in flat(done.stderr)
    with report.with_suffix(".csv").open(newline="", encoding="utf-8") as file:
        assert all(row["exercise"] and float(row["max"]) > 0 for row in csv.DictReader(file))


def test_an_empty_file_is_said_to_be_empty() -> None:
    from choreo_lab.grading.worker import NotReadable
    with pytest.raises(NotReadable, match="the file is empty"):
        read_notebook("  \n")


# -- 6. and 7. the exercise and the file name -------------------------------------------------
@pytest.mark.parametrize(("name", "exercise"), [
    ("oscar-ex01-inventory.ipynb", "ex01-inventory"),
    ("Bob Jones - ex03.ipynb", "ex03-idempotent-payment"),
    ("dan.ex02.ipynb", "ex02-compensations"),
    ("ex09-outbox-relay (1).ipynb", "ex09-outbox-relay"),
    ("max-exam.ipynb", None),
])
def test_the_exercise_is_found_anywhere_in_the_file_name(name: str, exercise: str | None) -> None:
    assert exercise_of(None, name) == exercise


def test_a_stripped_correct_notebook_is_graded_as_the_exercise_its_name_says() -> None:
    notebook = nbformat.read(SOLUTIONS / "ex01-inventory.ipynb", as_version=4)
    notebook.metadata = {}
    for cell in notebook.cells:
        cell.metadata = {}
    read = read_notebook(nbformat.writes(notebook))
    assert exercise_of(read, "submissions/oscar-ex01-inventory.ipynb") == "ex01-inventory"


def test_a_file_name_that_names_another_exercise_is_noted() -> None:
    tasks = graded_exercises(SOLUTIONS / "hidden_checks")
    verdict = rebuilt({"exercise": "ex01-inventory", "status": "graded", "tasks": []},
                      Path("class/carol/ex09-outbox-relay.ipynb"), tasks)
    assert verdict["exercise"] == "ex01-inventory"
    assert "the file name says ex09, the notebook is ex01" in verdict["warnings"]


# -- 8. --hidden -----------------------------------------------------------------------------
def test_hidden_checks_that_are_not_there_are_an_error_not_a_fallback(
        tmp_path: Path, capsys, hidden_env) -> None:
    (tmp_path / "ex01-inventory.ipynb").write_text("")
    report = str(tmp_path / "r.json")
    assert main(["grade", str(tmp_path), "--report", report,
                 "--hidden", str(tmp_path / "nonexist")]) == 2
    assert "no such folder" in flat(capsys.readouterr().err)
    (tmp_path / "empty").mkdir()
    assert main(["grade", str(tmp_path / "ex01-inventory.ipynb"), "--report", report,
                 "--hidden", str(tmp_path / "empty")]) == 2
    err = flat(capsys.readouterr().err)
    assert "does not hold the hidden checks" in err and "Traceback" not in err
    assert not Path(report).exists()


def test_stale_default_hidden_checks_are_an_error_not_a_traceback(
        tmp_path: Path, capsys, monkeypatch) -> None:
    stale = tmp_path / "solutions" / "hidden_checks"
    stale.mkdir(parents=True)
    (stale / "ex01_inventory.py").write_text("raise ValueError('written for another version')\n")
    monkeypatch.setenv(ENVIRONMENT, str(stale))
    (tmp_path / "ex01-inventory.ipynb").write_text("")
    report = tmp_path / "r.json"
    assert main(["grade", str(tmp_path / "ex01-inventory.ipynb"), "--report", str(report)]) == 2
    err = flat(capsys.readouterr().err)
    assert f"{stale} does not hold the hidden checks" in err and "--hidden DIR" in err
    assert "ValueError: written for another version" in err and not report.exists()


@pytest.mark.parametrize(("hidden", "hidden_too"), [
    ("/course/solutions/hidden_checks", ["/course/solutions/hidden_checks", "/course/solutions"]),
    ("/hidden_checks", ["/hidden_checks"]),
    ("/srv/hidden_checks", ["/srv/hidden_checks"]),
])
def test_the_sandbox_hides_the_hidden_checks_and_solutions_never_the_root(
        hidden: str, hidden_too: list[str]) -> None:
    hide = sandbox_hides([Path("/class/subs")], Path(hidden))
    assert hide == ["/class/subs", *hidden_too] and "/" not in hide


# -- 9. limits ---------------------------------------------------------------------------------
@pytest.mark.parametrize("option", ["--timeout", "--cell-timeout", "--check-budget"])
@pytest.mark.parametrize("value", ["-5", "0", "soon"])
def test_a_time_limit_must_be_a_positive_number(option: str, value: str, capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args(["grade", "x.ipynb", option, value])
    assert exit_.value.code == 2
    assert "give a number of seconds above 0" in capsys.readouterr().err


def test_grade_help_shows_the_default_limits(capsys) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["grade", "--help"])
    text = flat(capsys.readouterr().out)
    for default in ("(default: 30)", "(default: 300)", "(default: 10)"):
        assert default in text


# -- 10. .gitignore ----------------------------------------------------------------------------
def test_the_default_reports_are_ignored_by_git() -> None:
    ignored = (ROOT / ".gitignore").read_text().splitlines()
    assert "grading-report.json" in ignored and "grading-report.csv" in ignored


# -- 11. a file that is not a notebook ---------------------------------------------------------
def test_grading_a_file_that_is_not_a_notebook_says_so(tmp_path: Path, capsys, hidden_env) -> None:
    (tmp_path / "notes.txt").write_text("my answers")
    assert main(["grade", str(tmp_path / "notes.txt"), "--report", str(tmp_path / "r.json")]) == 2
    assert f"{tmp_path / 'notes.txt'} is not a notebook (.ipynb)" in flat(capsys.readouterr().err)


# -- 12. the table reads well -------------------------------------------------------------------
def test_the_table_shows_paths_from_the_folder_given_and_folds_notes_at_spaces() -> None:
    long = ("cell 4 raised NameError: name 'make_inventory_service' is not defined, "
            "so every check that needs it failed")
    text = rendered(report_of(verdict_for("/very/long/class/folder/alice/ex01-inventory.ipynb",
                                          student="alice", submission="alice/ex01-inventory.ipynb",
                                          problems=[long])), width=120)
    assert "/very/long" not in text and "alice/ex01-inventory.ipynb" in text
    words = set(long.replace(",", " ").split())
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.split("│")]
        notes = cells[-2] if len(cells) > 2 else ""
        for word in notes.replace(",", " ").split():
            assert word in words or not set(word) & set("abcdefghijklmnopqrstuvwxyz_'"), word
