"""The refresh script saves notebooks nbval can compare exactly, byte-identical run after run."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from choreo_lab.save_hook import WIDGET_VIEW

from .refresh import main, normalise

WIDGET_OUTPUT = {"text/plain": "Button(description='Kill payment')",
                 WIDGET_VIEW: {"model_id": "4f1c0ffee", "version_major": 2, "version_minor": 0}}


def executed_in_a_browser() -> nbformat.NotebookNode:
    """A notebook as JupyterLab or nbclient would save it: timings, widget state, odd counts."""
    notebook = new_notebook(metadata={
        "kernelspec": {"name": "choreo-env", "display_name": "choreo", "language": "python"},
        "language_info": {"name": "python", "version": "3.11.7"},
        "widgets": {"application/vnd.jupyter.widget-state+json": {"state": {}}}})
    button = new_code_cell("button", execution_count=7, outputs=[
        new_output("execute_result", WIDGET_OUTPUT, execution_count=7)])
    bare_view = new_code_cell("display(box)", execution_count=9, outputs=[
        new_output("display_data", {WIDGET_VIEW: {"model_id": "beef"}})])
    button.metadata["execution"] = {"iopub.execute_input": "2024-01-01T10:00:00Z"}
    notebook.cells = [new_markdown_cell("# 99 — Test"), button, bare_view]
    return notebook


def test_normalise_removes_widget_state_timing_and_the_python_version() -> None:
    notebook = normalise(executed_in_a_browser())
    assert "widgets" not in notebook.metadata
    assert notebook.metadata.language_info == {"name": "python"}
    assert all("execution" not in cell.metadata for cell in notebook.cells)


def test_normalise_sets_the_python3_kernelspec() -> None:
    assert normalise(executed_in_a_browser()).metadata.kernelspec.name == "python3"


def test_normalise_numbers_code_cells_from_one_in_their_results_too() -> None:
    button, bare_view = normalise(executed_in_a_browser()).cells[1:]
    assert (button.execution_count, bare_view.execution_count) == (1, 2)
    assert button.outputs[0].execution_count == 1


def test_normalise_keeps_a_widgets_text_but_drops_its_view() -> None:
    button, bare_view = normalise(executed_in_a_browser()).cells[1:]
    assert button.outputs[0].data == {"text/plain": "Button(description='Kill payment')"}
    assert bare_view.outputs == []


def test_normalise_joins_a_print_the_kernel_flushed_in_two_pieces() -> None:
    notebook = new_notebook()
    notebook.cells = [new_code_cell("print(trace)", outputs=[
        new_output("stream", name="stdout", text="t=1 deliver"),
        new_output("stream", name="stdout", text="\nt=2 ack\n"),
        new_output("execute_result", {"text/plain": "3"}),
        new_output("stream", name="stdout", text="after\n")])]
    outputs = normalise(notebook).cells[0].outputs
    assert [output.get("text") for output in outputs] == ["t=1 deliver\nt=2 ack\n", None, "after\n"]


def small_notebook(tmp_path: Path, saved_output: str) -> Path:
    """A two-cell notebook on disk whose first cell's saved output is `saved_output`."""
    notebook = new_notebook(metadata={"kernelspec": {"name": "python3", "language": "python",
                                                     "display_name": "Python 3"}})
    greet = new_code_cell("import os\nprint('hello from', os.path.basename(os.getcwd()))",
                          execution_count=1,
                          outputs=[new_output("stream", name="stdout", text=saved_output)])
    widget = new_code_cell("import ipywidgets\nipywidgets.IntSlider(value=3)")
    notebook.cells = [greet, widget]
    for number, cell in enumerate(notebook.cells):
        cell.id = f"cell-{number}"
    path = tmp_path / "99-small.ipynb"
    nbformat.write(notebook, path)
    return path


@pytest.mark.notebooks
def test_refresh_executes_in_the_notebooks_folder_and_is_byte_identical_the_second_time(
        tmp_path: Path) -> None:
    path = small_notebook(tmp_path, "stale\n")
    assert main([str(path)]) == 0
    first = path.read_text(encoding="utf-8")
    assert main([str(path)]) == 0
    assert path.read_text(encoding="utf-8") == first
    notebook = nbformat.read(path, as_version=4)
    assert notebook.cells[0].outputs[0].text == f"hello from {tmp_path.name}\n"
    assert notebook.cells[1].outputs[0].data == {"text/plain": "IntSlider(value=3)"}


@pytest.mark.notebooks
def test_refresh_check_reports_a_stale_notebook_and_leaves_it_alone(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = small_notebook(tmp_path, "stale\n")
    before = path.read_text(encoding="utf-8")
    assert main(["--check", str(path)]) == 1
    assert path.read_text(encoding="utf-8") == before
    assert "STALE" in capsys.readouterr().out
