"""The committed course notebooks are saved the way nbval can check them, and read as a course.

nbval (configured in pyproject.toml) re-runs every notebook and compares each output with
the saved one, so a stale notebook fails there. These tests check what nbval does not:
how the notebooks were saved, and the parts every notebook of the course must have.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from nbval.plugin import get_sanitize_patterns

from .course import (NOTEBOOKS, REPO, SANITIZE, course_notebooks, markdown, output_texts, outputs,
                     read)

NOTEBOOK_NAME = re.compile(r"^\d\d-[a-z0-9]+(-[a-z0-9]+)*\.ipynb$")
MEMORY_ADDRESS = re.compile(r"\b0x[0-9a-fA-F]{6,}\b")

each_notebook = pytest.mark.parametrize("path", course_notebooks(), ids=lambda path: path.stem)


def test_the_course_has_notebooks() -> None:
    assert len(course_notebooks()) >= 2, f"expected the course notebooks in {NOTEBOOKS}"


def test_every_notebook_in_the_folder_is_named_nn_topic() -> None:
    names = [path.name for path in NOTEBOOKS.glob("*.ipynb")]  # glob skips .dot files
    badly_named = [name for name in names if not NOTEBOOK_NAME.match(name)]
    assert not badly_named, f"name notebooks like 02-the-order-choreography.ipynb: {badly_named}"


@each_notebook
def test_notebook_declares_the_python3_kernel(path: Path) -> None:
    kernelspec = read(path).metadata.get("kernelspec", {})
    assert kernelspec.get("name") == "python3", f"{path.name}: kernelspec is {kernelspec}"


@each_notebook
def test_notebook_stores_no_widget_state(path: Path) -> None:
    notebook = read(path)
    assert "widgets" not in notebook.metadata, f"{path.name} stores widget state: make notebooks"
    views = [number for number, output in outputs(notebook)
             if "application/vnd.jupyter.widget-view+json" in output.get("data", {})]
    assert not views, f"{path.name}: code cells {views} store widget views with random model ids"


@each_notebook
def test_notebook_was_saved_by_the_refresh_script(path: Path) -> None:
    notebook = read(path)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    counts = [cell.execution_count for cell in code]
    assert counts == list(range(1, len(code) + 1)), (
        f"{path.name}: execution counts {counts} are not 1, 2, 3...: run make notebooks")
    timed = [cell.id for cell in notebook.cells if "execution" in cell.metadata]
    assert not timed, f"{path.name}: cells {timed} keep execution timing: run make notebooks"
    assert "version" not in notebook.metadata.get("language_info", {}), (
        f"{path.name} records the Python version it ran on: run make notebooks")
    split = [number for number, cell in enumerate(code) for first, second
             in zip(cell.outputs, cell.outputs[1:], strict=False)
             if first.output_type == second.output_type == "stream" and first.name == second.name]
    assert not split, f"{path.name}: cells {split} store one print in pieces: run make notebooks"


@each_notebook
def test_no_output_pairs_a_mermaid_diagram_with_a_rendered_svg(path: Path) -> None:
    both = [number for number, output in outputs(read(path))
            if {"text/vnd.mermaid", "image/svg+xml"} <= set(output.get("data", {}))]
    assert not both, (f"{path.name}: code cells {both} were saved from a browser (JupyterLab "
                      "adds the SVG it drew, which nbval then misses): run make notebooks")


@each_notebook
def test_no_output_shows_a_memory_address(path: Path) -> None:
    found = [(number, match.group()) for number, output in outputs(read(path))
             for text in output_texts(output) for match in MEMORY_ADDRESS.finditer(text)]
    assert not found, f"{path.name}: outputs show memory addresses (code cell, address): {found}"


@each_notebook
def test_no_output_shows_a_path_of_this_machine(path: Path) -> None:
    found = [number for number, output in outputs(read(path))
             for text in output_texts(output) if str(REPO) in text or "site-packages" in text]
    assert not found, f"{path.name}: code cells {found} print paths that differ between machines"


@each_notebook
def test_no_output_is_a_warning(path: Path) -> None:
    warned = [number for number, output in outputs(read(path)) if output.get("name") == "stderr"]
    assert not warned, f"{path.name}: code cells {warned} write to stderr (warnings vary by machine)"


@each_notebook
def test_only_cells_tagged_raises_exception_show_an_error(path: Path) -> None:
    code = [cell for cell in read(path).cells if cell.cell_type == "code"]
    untagged = [number for number, cell in enumerate(code)
                if any(output.output_type == "error" for output in cell.outputs)
                and "raises-exception" not in cell.metadata.get("tags", [])]
    assert not untagged, (f"{path.name}: code cells {untagged} fail; catch the error and print "
                          "its message, or tag the cell raises-exception if failing is the lesson")


@each_notebook
def test_notebook_opens_with_its_number_title_and_learning_goals(path: Path) -> None:
    first = read(path).cells[0]
    number = path.name[:2]
    assert first.cell_type == "markdown" and first.source.startswith(f"# {number} — "), (
        f"{path.name}: the first cell should be Markdown starting '# {number} — Title'")
    assert "**Learning goals.**" in first.source, f"{path.name}: state learning goals at the top"


@each_notebook
def test_notebook_has_a_try_it_moment_and_a_recap(path: Path) -> None:
    text = markdown(read(path))
    assert "**Try it**" in text, f"{path.name}: give the learner at least one **Try it** moment"
    assert "\n## Recap" in f"\n{text}", f"{path.name}: end with a '## Recap' section"


@pytest.mark.parametrize("path", course_notebooks()[1:], ids=lambda path: path.stem)
def test_lesson_names_its_choreography_characteristics_and_its_neighbours(path: Path) -> None:
    text = markdown(read(path))
    assert "**Characteristics of choreography met here:**" in text, (
        f"{path.name}: say which characteristics of choreography (table in 00) it covers")
    assert "**Previous:**" in text and "**Next:**" in text, (
        f"{path.name}: end with links to the previous and next notebook")


def test_the_sanitize_file_has_patterns_that_still_match_their_examples() -> None:
    patterns = get_sanitize_patterns(SANITIZE.read_text(encoding="utf-8"))
    assert patterns, f"nbval reads no pattern from {SANITIZE.name}: check its regex:/replace: lines"
    versions = "pydantic    version 2.14.4\nPython      version 3.11.7  ok\nall done at t=42"
    for regex, replace in patterns:
        versions = re.sub(regex, replace, versions)
    assert versions == "pydantic    version X.Y.Z\nPython      version X.Y.Z  ok\nall done at t=42"


@each_notebook
def test_every_diagram_is_saved_in_the_form_jupyterlab_and_notebook_7_both_draw(path: Path) -> None:
    other = [number for number, output in outputs(read(path))
             if "text/vnd.mermaid" in output.get("data", {})
             and not output.data.get("text/markdown", "").startswith("```mermaid\n")]
    assert not other, (f"{path.name}: code cells {other} show a diagram without its ```mermaid "
                       "Markdown (Notebook 7 draws only that): run make notebooks")
