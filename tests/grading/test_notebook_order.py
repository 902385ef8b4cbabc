"""The exercises in notebook order, as a student runs them and as nbgrader grades them.

Each notebook is executed top to bottom in a real Jupyter kernel (nbclient). A solution must
pass every check cell where it stands; a student version with its stubs must run to the
end (Run All never aborts). And the scores agree with nbgrader's way of reading a grade
cell (its first result's text/plain as partial credit, an error as zero) when the hidden
checks are run in the kernel, as ``nbgrader autograde`` runs them.
"""

from __future__ import annotations

import copy
import os
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

from choreo_lab.grading.hidden import ENVIRONMENT, hidden_folder
from choreo_lab.grading.student_version import is_grade

from .conftest import AGREEMENT_VARIANTS, EXERCISES, SOURCES

pytestmark = pytest.mark.notebooks


def executed(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """`notebook` run top to bottom in a fresh kernel; a cell that raises stops it (Run All)."""
    os.environ[ENVIRONMENT] = str(hidden_folder())
    done = copy.deepcopy(notebook)
    NotebookClient(done, timeout=120, kernel_name="python3", allow_errors=False,
                   resources={"metadata": {"path": str(SOURCES[next(iter(SOURCES))].parent)}}
                   ).execute()
    return done


def nbgrader_score(cell: nbformat.NotebookNode) -> float:
    """nbgrader's determine_grade for an autograder-tests cell."""
    points = float(cell.metadata["nbgrader"]["points"])
    for output in cell.outputs:
        if output.output_type == "error":
            return 0.0
        if output.output_type == "execute_result":
            try:
                return float(output.data["text/plain"])
            except ValueError:
                return points
    return points


def as_autograded(submission: nbformat.NotebookNode, source: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The submission with its grade cells restored from the source, hidden checks included."""
    graded = copy.deepcopy(submission)
    originals = {c.metadata["nbgrader"]["grade_id"]: c.source for c in source.cells if is_grade(c)}
    for cell in graded.cells:
        if is_grade(cell):
            cell.source = originals[cell.metadata["nbgrader"]["grade_id"]]
    return graded


def grade_cell_scores(notebook: nbformat.NotebookNode) -> dict[str, float]:
    return {c.metadata["nbgrader"]["grade_id"].removeprefix("check_"): nbgrader_score(c)
            for c in notebook.cells if is_grade(c)}


def public_outputs(notebook: nbformat.NotebookNode) -> list[str]:
    return [out.data["text/plain"] for cell in notebook.cells if is_grade(cell)
            for out in cell.outputs if out.output_type == "execute_result"]


@pytest.mark.parametrize("exercise", sorted(SOURCES))
def test_a_solution_passes_every_check_cell_where_it_stands(exercise: str) -> None:
    student_view = nbformat.read(EXERCISES / f"{exercise}.ipynb", as_version=4)
    solution = nbformat.read(SOURCES[exercise], as_version=4)
    for cell in student_view.cells:  # the solution's code, with the student's check cells
        if not is_grade(cell) and cell.cell_type == "code":
            cell.source = next(c.source for c in solution.cells if c.get("id") == cell.get("id"))
    done = executed(student_view)
    assert len(public_outputs(done)) == sum(is_grade(c) for c in student_view.cells) > 0
    full = {c.metadata["nbgrader"]["grade_id"].removeprefix("check_"):
            float(c.metadata["nbgrader"]["points"]) for c in done.cells if is_grade(c)}
    assert grade_cell_scores(done) == full, public_outputs(done)  # nbgrader validate passes


@pytest.mark.parametrize("exercise", sorted(SOURCES))
def test_a_student_version_runs_to_the_end_with_its_stubs(exercise: str) -> None:
    done = executed(nbformat.read(EXERCISES / f"{exercise}.ipynb", as_version=4))
    assert all(text == "0" for text in public_outputs(done))
    for cell in done.cells:  # every check says "not done yet", none a stray failure
        if is_grade(cell):
            shown = "".join(o.get("data", {}).get("text/html", "") for o in cell.outputs)
            assert "still raises NotImplementedError" in shown, (cell.id, shown)
            assert "chaos explorer ran" not in shown, (cell.id, shown)
    tried = next(c for c in done.cells if c.get("id") == "try_it")
    assert "still raises NotImplementedError" in "".join(o.get("text", "") for o in tried.outputs)


def submissions() -> list[tuple[str, str, dict[str, str] | None, bool]]:
    """(name in the shared run, exercise, replaced cells, from the student version)."""
    found = [(f"reference/{e}", e, None, False) for e in sorted(SOURCES)]
    found += [(f"stub/{e}", e, None, True) for e in sorted(SOURCES)]
    found += [(f"wrong/{v.exercise}", v.exercise, v.cells, False) for v in AGREEMENT_VARIANTS]
    return found


@pytest.mark.parametrize(("name", "exercise", "cells", "stub"), submissions(),
                         ids=[s[0] for s in submissions()])
def test_choreo_lab_grade_and_nbgraders_reading_agree(graded: dict[str, Any], name: str,
                                                      exercise: str, cells: dict | None,
                                                      stub: bool) -> None:
    source = nbformat.read(SOURCES[exercise], as_version=4)
    submitted = nbformat.read(EXERCISES / f"{exercise}.ipynb", as_version=4) if stub else \
        copy.deepcopy(source)
    for cell in submitted.cells:
        if cell.get("id") in (cells or {}):
            cell.source = cells[cell.id]  # type: ignore[index]
    in_kernel = grade_cell_scores(executed(as_autograded(submitted, source)))
    verdict = graded["by_name"][name]
    ours = {task["task"]: task["score"] for task in verdict["tasks"]}
    assert ours == in_kernel
    if name.startswith("wrong/"):
        assert 0 < verdict["score"] < verdict["max_score"]


def test_every_exercise_has_a_known_wrong_answer_graded_both_ways() -> None:
    assert sorted(v.exercise for v in AGREEMENT_VARIANTS) == sorted(SOURCES)
