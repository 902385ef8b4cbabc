"""The student version of an exercise, made from its single source the way nbgrader makes it.

Each exercise has one source notebook in ``solutions/``, marked up in nbgrader's format:
solution regions between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` in *solution*
cells, hidden checks between ``### BEGIN HIDDEN TESTS`` and ``### END HIDDEN TESTS`` in
*grade* cells, and cell metadata under ``nbgrader`` (``grade_id``, ``points``, ``solution``,
``grade``, ``locked``, ``schema_version: 3``). An instructor can put the source straight into
an nbgrader course; ``exercises/`` holds what nbgrader's ``generate_assignment`` would hand
out, made here by the same rules as its preprocessors (nbgrader 0.9):

- ClearSolutions: each solution region becomes ``# YOUR CODE HERE`` / ``raise
  NotImplementedError()`` (``YOUR ANSWER HERE`` in Markdown), indented like the BEGIN line;
  a solution cell without a region is replaced by the stub whole. A region outside a
  solution cell, a nested BEGIN, or a BEGIN without END is an error.
- ClearHiddenTests: each hidden-tests region is removed, delimiters included; a region
  outside a grade cell is an error.
- ClearOutput: outputs and execution counts are cleared; ``collapsed`` and ``scrolled``
  cell metadata are dropped. Notebook metadata ``celltoolbar`` is dropped.
- LockCells: solution cells (graded or not) get ``deletable: false``; grade-only cells (the
  checks) and locked (read-only) cells get ``deletable: false`` and ``editable: false``, so a
  student can neither delete nor change them. Other cells are left as they are.
- ComputeChecksums: each grade, solution or locked cell gets ``nbgrader.checksum`` (the MD5 of
  its released source, type, flags, grade id and points, as ``nbgrader.utils.compute_checksum``)
  and ``nbgrader.cell_type``. nbgrader compares the checksum to tell an unanswered solution.

Other cell metadata (the rest of ``nbgrader`` included) is kept. nbgrader itself is not
needed: it pulls in a database layer and enables server and lab extensions in every
JupyterLab it is installed next to, which students of this course do not need. `tests/grading` checks these rules
against output recorded from nbgrader 0.9.6.
"""

from __future__ import annotations

import copy
import hashlib
import re
from pathlib import Path

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # nbformat takes a second to import: only what writes notebooks loads it
    from nbformat import NotebookNode

CODE_STUB = "# YOUR CODE HERE\nraise NotImplementedError()"
TEXT_STUB = "YOUR ANSWER HERE"
BEGIN_SOLUTION, END_SOLUTION = "BEGIN SOLUTION", "END SOLUTION"
BEGIN_HIDDEN, END_HIDDEN = "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"
CLEARED_CELL_METADATA = ("collapsed", "scrolled")


class ExerciseSourceError(ValueError):
    """A source notebook breaks nbgrader's rules; the message names the cell and the fix."""


def is_solution(cell: NotebookNode) -> bool:
    """nbgrader: a cell the student writes in."""
    return bool(cell.get("metadata", {}).get("nbgrader", {}).get("solution", False))


def is_grade(cell: NotebookNode) -> bool:
    """nbgrader: a cell that is graded (autograder tests, or a graded answer)."""
    return bool(cell.get("metadata", {}).get("nbgrader", {}).get("grade", False))


def is_locked(cell: NotebookNode) -> bool:
    """nbgrader: a cell whose source the student may not change (grade-only cells included)."""
    nbgrader = cell.get("metadata", {}).get("nbgrader")
    if nbgrader is None or is_solution(cell):
        return False
    return is_grade(cell) or bool(nbgrader.get("locked", False))


def cell_name(cell: NotebookNode, index: int) -> str:
    """"cell 4 (grade_id)", for error messages."""
    grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
    return f"cell {index}" + (f" ({grade_id})" if grade_id else "")


def replace_regions(source: str, begin: str, end: str, stub: list[str] | None,
                    where: str) -> tuple[str, bool]:
    """Drop each begin..end region of `source` (delimiter lines included), or put `stub` there.

    Like nbgrader, a line *containing* the delimiter text counts as a delimiter, and the
    stub is indented like the BEGIN line. Returns the new source and whether a region was found.
    """
    kept: list[str] = []
    inside = found = False
    for line in source.split("\n"):
        if begin in line:
            if inside:
                raise ExerciseSourceError(f"{where}: nested {begin!r}; close the first region "
                                          f"with {end!r} before opening another")
            inside = found = True
            indent = re.match(r"\s*", line).group(0)  # type: ignore[union-attr]
            kept.extend(indent + stub_line for stub_line in (stub or []))
        elif end in line:
            inside = False
        elif not inside:
            kept.append(line)
    if inside:
        raise ExerciseSourceError(f"{where}: {begin!r} has no matching {end!r}")
    return "\n".join(kept), found


def clear_solutions(cell: NotebookNode, where: str) -> None:
    """nbgrader's ClearSolutions, for one cell, in place."""
    stub = CODE_STUB if cell.cell_type == "code" else TEXT_STUB
    cell.source, replaced = replace_regions(cell.source, BEGIN_SOLUTION, END_SOLUTION,
                                            stub.split("\n"), where)
    if replaced and not is_solution(cell):
        raise ExerciseSourceError(f"{where}: a solution region in a cell that is not a "
                                  "solution cell; set metadata nbgrader.solution = true")
    if is_solution(cell) and not replaced:
        cell.source = stub


def clear_hidden_tests(cell: NotebookNode, where: str) -> None:
    """nbgrader's ClearHiddenTests, for one cell, in place."""
    cell.source, removed = replace_regions(cell.source, BEGIN_HIDDEN, END_HIDDEN, None, where)
    if removed and not is_grade(cell):
        raise ExerciseSourceError(f"{where}: a hidden-tests region in a cell that is not a "
                                  "grade cell; set metadata nbgrader.grade = true")


def clear_output(cell: NotebookNode) -> None:
    """nbgrader's ClearOutput, for one cell, in place."""
    if cell.cell_type == "code":
        cell.outputs = []
        cell.execution_count = None
    for field in CLEARED_CELL_METADATA:
        cell.metadata.pop(field, None)


def lock_cell(cell: NotebookNode) -> None:
    """nbgrader's LockCells (default settings), for one cell, in place."""
    if is_solution(cell):
        cell.metadata["deletable"] = False
    elif is_locked(cell):  # a grade-only cell, or a read-only one
        cell.metadata["deletable"] = False
        cell.metadata["editable"] = False


def checksum(cell: NotebookNode) -> str:
    """nbgrader's compute_checksum: MD5 of what the student must not change about the cell."""
    nbgrader = cell.metadata["nbgrader"]
    parts = [cell.source, cell.cell_type, str(is_grade(cell)), str(is_solution(cell)),
             str(is_locked(cell)), nbgrader["grade_id"]]
    if is_grade(cell):
        parts.append(str(float(nbgrader["points"])))
    digest = hashlib.md5()
    for part in parts:
        digest.update(part.encode("utf-8"))
    return digest.hexdigest()


def add_checksum(cell: NotebookNode, where: str) -> None:
    """nbgrader's ComputeChecksums, for one cell of the student version, in place."""
    if not (is_grade(cell) or is_solution(cell) or is_locked(cell)):
        return
    if "grade_id" not in cell.metadata["nbgrader"]:
        raise ExerciseSourceError(f"{where}: an nbgrader cell without a grade_id; set metadata "
                                  "nbgrader.grade_id to a name unique in the notebook")
    if is_grade(cell) and "points" not in cell.metadata["nbgrader"]:
        raise ExerciseSourceError(f"{where}: a grade cell without points; set metadata "
                                  "nbgrader.points to what the cell is worth")
    cell.metadata["nbgrader"]["checksum"] = checksum(cell)
    cell.metadata["nbgrader"]["cell_type"] = cell.cell_type


def student_version(source: NotebookNode) -> NotebookNode:
    """The notebook a student gets: solutions stubbed, hidden checks removed, outputs cleared,
    cells locked and checksummed."""
    notebook = copy.deepcopy(source)
    language = notebook.metadata.get("kernelspec", {}).get("language", "python")
    if language != "python":
        raise ExerciseSourceError(f"the notebook's kernel language is {language!r}; only python "
                                  "exercises are supported")
    for index, cell in enumerate(notebook.cells):
        where = cell_name(cell, index)
        clear_solutions(cell, where)
        clear_hidden_tests(cell, where)
        clear_output(cell)
        lock_cell(cell)
        add_checksum(cell, where)
    notebook.metadata.pop("celltoolbar", None)
    return notebook


def notebook_text(notebook: NotebookNode) -> str:
    """The notebook as JupyterLab saves it (1-space indent, trailing newline)."""
    import nbformat
    text = nbformat.writes(notebook)
    return text if text.endswith("\n") else text + "\n"


def generated_exercises(solutions: Path) -> dict[str, str]:
    """File name -> text of each student version made from the sources in `solutions`."""
    sources = sorted(solutions.glob("ex*.ipynb"))
    if not sources:
        raise ExerciseSourceError(
            f"no exercise sources (ex*.ipynb) in {solutions}: run it from the course repository, "
            "or give the folder of the sources with --solutions DIR (and --exercises DIR)")
    import nbformat
    return {path.name: notebook_text(student_version(nbformat.read(path, as_version=4)))
            for path in sources}


def stale_exercises(solutions: Path, exercises: Path) -> list[str]:
    """Names of files in `exercises` that differ from what `solutions` generates (or are extra)."""
    wanted = generated_exercises(solutions)
    stale = [name for name, text in wanted.items()
             if not (exercises / name).exists() or (exercises / name).read_text("utf-8") != text]
    extra = [path.name for path in sorted(exercises.glob("*.ipynb")) if path.name not in wanted]
    return stale + extra


def write_exercises(solutions: Path, exercises: Path) -> list[str]:
    """Regenerate `exercises` from `solutions`; returns the names of the files written or removed.

    `exercises` holds generated files only, so a notebook there without a source is removed.
    """
    exercises.mkdir(parents=True, exist_ok=True)
    wanted = generated_exercises(solutions)
    changed = []
    for name, text in wanted.items():
        target = exercises / name
        if not target.exists() or target.read_text("utf-8") != text:
            target.write_text(text, "utf-8")
            changed.append(name)
    for path in sorted(exercises.glob("*.ipynb")):
        if path.name not in wanted:
            path.unlink()
            changed.append(path.name)
    return changed
