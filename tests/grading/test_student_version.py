"""The student versions: made from the single sources by nbgrader's rules, never stale."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from choreo_lab.cli import main
from choreo_lab.grading.student_version import (
    ExerciseSourceError,
    checksum,
    is_grade,
    is_locked,
    is_solution,
    notebook_text,
    stale_exercises,
    student_version,
)
from choreo_lab.grading.tasks import exercises

from .conftest import EXERCISES, ROOT, SOLUTIONS, SOURCES

FIXTURES = Path(__file__).parent / "fixtures"


def nbgrader_cell(cell: nbformat.NotebookNode, grade_id: str, **flags: object) -> nbformat.NotebookNode:
    cell.metadata["nbgrader"] = {"grade": False, "grade_id": grade_id, "locked": False,
                                 "schema_version": 3, "solution": False, **flags}
    return cell


def one_cell_notebook(cell: nbformat.NotebookNode) -> nbformat.NotebookNode:
    notebook = new_notebook(cells=[cell])
    notebook.metadata["kernelspec"] = {"name": "python3", "language": "python",
                                       "display_name": "Python 3"}
    return notebook


# -- nbgrader's rules ---------------------------------------------------------------------------
def test_matches_what_nbgrader_itself_makes_of_the_rules_fixture() -> None:
    source = nbformat.read(FIXTURES / "nbgrader-rules.source.ipynb", as_version=4)
    expected = nbformat.read(FIXTURES / "nbgrader-rules.expected.ipynb", as_version=4)
    assert expected.metadata.pop("recorded_with") == "nbgrader 0.9.6"
    ours = student_version(source)
    assert [cell.source for cell in ours.cells] == [cell.source for cell in expected.cells]
    assert [cell.metadata for cell in ours.cells] == [cell.metadata for cell in expected.cells]
    assert notebook_text(ours) == notebook_text(expected)


def test_a_solution_region_becomes_the_stub_indented_like_its_begin_line() -> None:
    cell = nbgrader_cell(new_code_cell("def f():\n    ### BEGIN SOLUTION\n    return 1\n"
                                       "    ### END SOLUTION\n# after"), "f", solution=True)
    assert student_version(one_cell_notebook(cell)).cells[0].source == (
        "def f():\n    # YOUR CODE HERE\n    raise NotImplementedError()\n# after")


def test_hidden_tests_disappear_with_their_delimiters_and_grade_metadata_stays() -> None:
    cell = nbgrader_cell(new_code_cell("check('a')\n### BEGIN HIDDEN TESTS\ncheck('a', hidden=True)\n"
                                       "### END HIDDEN TESTS"), "check_a", grade=True,
                         locked=True, points=3)
    made = student_version(one_cell_notebook(cell)).cells[0]
    assert made.source == "check('a')"
    released = dict(made.metadata["nbgrader"])
    assert (released.pop("checksum"), released.pop("cell_type")) == (checksum(made), "code")
    assert released == cell.metadata["nbgrader"]


@pytest.mark.parametrize("source, flags, complaint", [
    ("### BEGIN SOLUTION\nx = 1\n### END SOLUTION", {}, "not a solution cell"),
    ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION", {"solution": True}, "nested"),
    ("### BEGIN SOLUTION\nx = 1", {"solution": True}, "no matching"),
    ("### BEGIN HIDDEN TESTS\nassert x\n### END HIDDEN TESTS", {}, "not a grade cell"),
])
def test_a_source_that_breaks_nbgraders_rules_is_refused_with_a_reason(
        source: str, flags: dict, complaint: str) -> None:
    cell = nbgrader_cell(new_code_cell(source), "broken", **flags)
    with pytest.raises(ExerciseSourceError, match=complaint):
        student_version(one_cell_notebook(cell))


def test_outputs_and_execution_counts_are_cleared() -> None:
    cell = new_code_cell("print(1)", execution_count=4,
                         outputs=[nbformat.v4.new_output("stream", name="stdout", text="1\n")])
    made = student_version(one_cell_notebook(cell)).cells[0]
    assert (made.outputs, made.execution_count) == ([], None)


def test_a_markdown_solution_cell_becomes_your_answer_here() -> None:
    cell = nbgrader_cell(new_markdown_cell("Because."), "why", solution=True)
    assert student_version(one_cell_notebook(cell)).cells[0].source == "YOUR ANSWER HERE"


@pytest.mark.parametrize("flags, deletable, editable", [
    ({"solution": True}, False, True),                              # the student's answer
    ({"solution": True, "grade": True, "points": 1}, False, True),  # a graded answer
    ({"grade": True, "locked": True, "points": 2}, False, False),   # a check
    ({"grade": True, "points": 2}, False, False),                   # a check, even unlocked
    ({"locked": True}, False, False),                               # read-only setup
    ({}, True, True),                                               # nbgrader cell, no role
])
def test_cells_are_locked_as_nbgrader_locks_them(flags: dict, deletable: bool,
                                                 editable: bool) -> None:
    cell = nbgrader_cell(new_code_cell("x = 1"), "cell", **flags)
    made = student_version(one_cell_notebook(cell)).cells[0]
    assert made.metadata.get("deletable", True) is deletable
    assert made.metadata.get("editable", True) is editable
    has_role = bool(flags)
    assert ("checksum" in made.metadata["nbgrader"]) is has_role
    assert made.metadata["nbgrader"].get("cell_type") == ("code" if has_role else None)


def test_a_cell_without_nbgrader_metadata_is_left_unlocked() -> None:
    made = student_version(one_cell_notebook(new_code_cell("x = 1"))).cells[0]
    assert "deletable" not in made.metadata and "editable" not in made.metadata


def test_the_checksum_is_of_the_released_cell_and_changes_when_the_student_answers() -> None:
    cell = nbgrader_cell(new_code_cell("### BEGIN SOLUTION\nx = 1\n### END SOLUTION"), "x",
                         solution=True)
    made = student_version(one_cell_notebook(cell)).cells[0]
    assert made.metadata["nbgrader"]["checksum"] == checksum(made)
    unanswered = copy.deepcopy(made)
    made.source = "x = 2"
    assert checksum(made) != unanswered.metadata["nbgrader"]["checksum"]
    for field, value in (("grade_id", "y"), ("solution", False)):
        changed = copy.deepcopy(unanswered)
        changed.metadata["nbgrader"][field] = value
        assert checksum(changed) != checksum(unanswered), field


def test_a_grade_cell_without_points_is_refused_with_a_reason() -> None:
    cell = nbgrader_cell(new_code_cell("check('a')"), "check_a", grade=True)
    with pytest.raises(ExerciseSourceError, match="nbgrader.points"):
        student_version(one_cell_notebook(cell))


# -- the course's exercises -------------------------------------------------------------------
def test_exercises_folder_is_exactly_what_the_sources_generate() -> None:
    assert stale_exercises(SOLUTIONS, EXERCISES) == [], (
        "exercises/ is stale: run `choreo-lab exercises` (make exercises)")


def test_exercises_check_command_fails_when_an_exercise_was_edited_by_hand(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copytree(SOLUTIONS, tmp_path / "solutions")
    shutil.copytree(EXERCISES, tmp_path / "exercises")
    folders = ["--solutions", str(tmp_path / "solutions"), "--exercises", str(tmp_path / "exercises")]
    assert main(["exercises", "--check", *folders]) == 0
    edited = tmp_path / "exercises" / "ex01-inventory.ipynb"
    edited.write_text(edited.read_text().replace("YOUR CODE HERE", "my answer"))
    capsys.readouterr()
    assert main(["exercises", "--check", *folders]) == 1
    assert "ex01-inventory.ipynb" in capsys.readouterr().out
    assert main(["exercises", *folders]) == 0
    assert "ex01-inventory.ipynb" in capsys.readouterr().out
    assert main(["exercises", "--check", *folders]) == 0
    assert edited.read_text() == (EXERCISES / "ex01-inventory.ipynb").read_text()


@pytest.mark.parametrize("exercise", sorted(SOURCES))
def test_student_version_has_no_solution_and_no_hidden_check(exercise: str) -> None:
    text = (EXERCISES / f"{exercise}.ipynb").read_text()
    source = SOURCES[exercise].read_text()
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "hidden=True"):
        assert marker in source and marker not in text
    assert text.count("raise NotImplementedError()") == source.count("### BEGIN SOLUTION")


def stub_calls(exercise: str, namespace: dict) -> list:
    """What a learner's stubbed code is called with, one call per function or handler."""
    from choreo_lab.examples.orders import STOCK
    from choreo_lab.grading.ex02_compensations import forward_services
    if exercise == "ex01-inventory":
        service = namespace["make_inventory_service"](dict(STOCK))
        return [lambda h=h.handler: h(None, None) for h in service.handlers.values()]
    if exercise == "ex02-compensations":
        return [lambda: namespace["add_compensations"](*forward_services()),
                lambda: namespace["refund_payment"](None, None),
                lambda: namespace["release_stock"](None, None)]
    if exercise == "ex07-stuck-order":
        service = namespace["make_inventory_service"](dict(STOCK))
        return [lambda: namespace["diagnose"]({}),
                lambda: service.handlers["PaymentCompleted"].handler(None, None)]
    if exercise == "ex05-notifications":
        services = [namespace["make_loyalty_service"](0), namespace["make_reminder_service"]()]
        return [lambda h=h.handler: h(None, None) for s in services for h in s.handlers.values()]
    if exercise == "ex06-orchestration":
        from choreo_lab import Service
        services = [namespace["make_fraud_service"](()), namespace["make_fraud_participant"](())]
        return [*(lambda h=h.handler: h(None, None) for s in services for h in s.handlers.values()),
                lambda: namespace["add_fraud_check"](Service("payment"), Service("order")),
                lambda: namespace["add_fraud_step"](Service("order"))]
    if exercise == "ex04-content-publishing":
        from choreo_lab.examples.content import ModerationRejected
        services = [namespace["make_publishing_service"](), namespace["make_upload_service"]()]
        return [lambda: services[0].handlers["TranscodingComplete"].handler(None, None),
                lambda: services[1].handlers["ModerationRejected"].handler(
                    ModerationRejected(content_id="v-1", version=1, reason="flagged"), None)]
    if exercise == "ex08-redrive":
        service = namespace["make_fixed_shipping_service"]()
        return [lambda: service.handlers["InventoryReserved"].handler(None, None),
                lambda: namespace["letters_to_redrive"]([])]
    if exercise == "ex09-outbox-relay":
        return [lambda: namespace["keep_in_outbox"](None, None),
                lambda: namespace["send_outbox"](None)]
    service = namespace["make_payment_service"]()
    handlers = dict.fromkeys(h.handler for h in service.handlers.values())  # one refund, two events
    return [lambda h=handler: h(None, None) for handler in handlers]


@pytest.mark.parametrize("exercise", sorted(SOURCES))
def test_stub_functions_raise_not_implemented_error(exercise: str) -> None:
    from .conftest import namespace_of
    notebook = nbformat.read(EXERCISES / f"{exercise}.ipynb", as_version=4)
    calls = stub_calls(exercise, namespace_of(notebook))
    assert len(calls) == sum(cell.source.count("# YOUR CODE HERE") for cell in notebook.cells)
    for call in calls:
        with pytest.raises(NotImplementedError):
            call()


@pytest.mark.parametrize("exercise", sorted(SOURCES))
def test_sources_and_exercises_are_committed_clean(exercise: str) -> None:
    for path in (SOURCES[exercise], EXERCISES / f"{exercise}.ipynb"):
        data = json.loads(path.read_text())
        assert data["metadata"]["kernelspec"]["name"] == "python3"
        assert "widgets" not in data["metadata"]
        for cell in data["cells"]:
            assert cell.get("outputs", []) == [] and cell.get("execution_count") is None


@pytest.mark.parametrize("exercise", sorted(SOURCES))
def test_each_task_has_one_grade_cell_worth_its_points(exercise: str) -> None:
    notebook = nbformat.read(SOURCES[exercise], as_version=4)
    graded = {cell.metadata["nbgrader"]["grade_id"]: cell for cell in notebook.cells
              if cell.metadata.get("nbgrader", {}).get("grade")}
    ids = [cell.metadata["nbgrader"]["grade_id"] for cell in notebook.cells
           if "nbgrader" in cell.metadata]
    assert len(ids) == len(set(ids)), "grade ids must be unique"
    assert all(cell.metadata["nbgrader"]["schema_version"] == 3 for cell in notebook.cells
               if "nbgrader" in cell.metadata)
    assert notebook.metadata["choreo_lab"]["exercise"] == exercise
    tasks = exercises()[exercise]
    assert sorted(graded) == sorted(f"check_{task.name}" for task in tasks)
    for task in tasks:
        cell = graded[f"check_{task.name}"]
        assert cell.metadata["nbgrader"]["points"] == task.max_points
        assert cell.metadata["nbgrader"]["locked"] is True
        assert f'check("{task.name}")' in cell.source
        assert f'check("{task.name}", hidden=True)' in cell.source


def test_the_makefile_target_and_the_command_agree_on_folders() -> None:
    from choreo_lab.cli import build_parser
    args = build_parser().parse_args(["exercises"])
    assert (ROOT / args.solutions).resolve() == SOLUTIONS
    assert (ROOT / args.exercises).resolve() == EXERCISES


@pytest.mark.parametrize("exercise", sorted(SOURCES))
def test_checks_and_setup_are_locked_and_answers_stay_editable(exercise: str) -> None:
    notebook = nbformat.read(EXERCISES / f"{exercise}.ipynb", as_version=4)
    roles = {"check": 0, "answer": 0}
    for cell in notebook.cells:
        metadata = cell.metadata
        if is_solution(cell):
            roles["answer"] += 1
            assert metadata["deletable"] is False and metadata.get("editable", True) is True
        elif is_grade(cell) or is_locked(cell):
            roles["check"] += is_grade(cell)
            assert metadata["deletable"] is False and metadata["editable"] is False
        else:
            assert "deletable" not in metadata and "editable" not in metadata
        if "checksum" in metadata.get("nbgrader", {}):
            assert metadata["nbgrader"]["checksum"] == checksum(cell)
            assert metadata["nbgrader"]["cell_type"] == cell.cell_type
    assert roles["check"] > 0 and roles["answer"] > 0


def test_exercises_without_sources_says_where_it_looked_and_how_to_point_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["exercises", "--check", "--solutions", str(tmp_path)]) != 0
    err = " ".join(capsys.readouterr().err.split())
    assert f"no exercise sources (ex*.ipynb) in {tmp_path}" in err
    assert "--solutions DIR" in err
