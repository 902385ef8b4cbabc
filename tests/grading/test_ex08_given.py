"""Exercise 8's checks build version 1 of shipping from the grader's copy of the given cell, never
from the learner's namespace: the copy must stay the cell the notebooks hand out."""

from __future__ import annotations

import inspect
from pathlib import Path

import nbformat
import pytest

from choreo_lab.grading import ex08_given
from choreo_lab.grading.ex08_redrive import make_version_1

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("folder", ["solutions", "exercises"])
def test_the_graders_version_1_is_the_notebooks_locked_cell(folder: str) -> None:
    notebook = nbformat.read(ROOT / folder / "ex08-redrive.ipynb", as_version=4)
    [cell] = [c for c in notebook.cells
              if c.metadata.get("nbgrader", {}).get("grade_id") == "version_1"]
    assert cell.metadata["nbgrader"]["locked"] is True
    given = inspect.getsource(ex08_given)
    assert cell.source.strip() == given[given.index("def courier_label"):].strip()


def test_the_graders_version_1_dead_letters_a_po_box() -> None:
    from choreo_lab.grading.ex08_redrive import ORDERS
    from choreo_lab.grading.scenarios import run_saga

    run = run_saga(None, {"shipping": make_version_1()}, ORDERS, check_errors=False)  # type: ignore[arg-type]
    assert [letter.envelope.correlation_id for letter in run.sim.dead_letters] == ["o-2", "o-3"]
