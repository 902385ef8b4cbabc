"""The pre-save hook `choreo-lab lab` configures: what JupyterLab adds to a notebook it only
showed is stripped, and nothing else."""

from __future__ import annotations

import copy
import json

import nbformat
from traitlets.utils.importstring import import_item

from choreo_lab.lab import CONFIG_DIR
from choreo_lab.save_hook import strip_frontend_additions

from .course import NOTEBOOKS

DIAGRAMS = NOTEBOOKS / "02-the-order-choreography.ipynb"
SVG = '<svg xmlns="http://www.w3.org/2000/svg"><text>payment</text></svg>'


def saved(notebook: nbformat.NotebookNode) -> str:
    """The text jupyter_server writes for `notebook` after the hook ran on it."""
    model = {"type": "notebook", "content": notebook}
    strip_frontend_additions(model=model, path="x.ipynb", contents_manager=None)
    return nbformat.writes(nbformat.from_dict(model["content"])) + "\n"


def as_jupyterlab_leaves_it(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """`notebook` with what JupyterLab 4 adds on opening and running (seen in its saves)."""
    changed = copy.deepcopy(notebook)
    changed.metadata.language_info["version"] = "3.11.7"
    changed.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    for cell in changed.cells:
        for output in cell.get("outputs", []):
            if "text/vnd.mermaid" in output.get("data", {}):
                output.data["image/svg+xml"] = SVG
                output.metadata["text/vnd.mermaid"] = {"version": "11.12.2"}
    return changed


def diagram_outputs(notebook: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [output for cell in notebook.cells for output in cell.get("outputs", [])
            if "text/vnd.mermaid" in output.get("data", {})]


def test_saving_a_notebook_jupyterlab_only_showed_gives_back_the_same_bytes():
    committed = DIAGRAMS.read_text(encoding="utf-8")
    shown = as_jupyterlab_leaves_it(nbformat.reads(committed, as_version=4))
    assert diagram_outputs(shown), f"{DIAGRAMS.name} should have diagrams to test with"
    assert nbformat.writes(shown) + "\n" != committed  # the additions are really there
    assert saved(shown) == committed


def test_the_drawn_svg_and_the_mermaid_version_are_removed_but_the_diagram_stays():
    notebook = as_jupyterlab_leaves_it(nbformat.read(DIAGRAMS, as_version=4))
    strip_frontend_additions(model={"type": "notebook", "content": notebook})
    for output in diagram_outputs(notebook):
        assert set(output.data) == {"text/markdown", "text/vnd.mermaid", "text/plain"}
        assert "text/vnd.mermaid" not in output.metadata


def test_widget_views_and_widget_state_are_removed_and_the_text_fallback_kept():
    notebook = nbformat.v4.new_notebook(metadata={"widgets": {"state": {}}})
    view = {"application/vnd.jupyter.widget-view+json": {"model_id": "5e1f", "version_major": 2}}
    notebook.cells = [nbformat.v4.new_code_cell("dash", outputs=[
        nbformat.v4.new_output("execute_result", data={**view, "text/plain": "Dashboard(...)"}),
        nbformat.v4.new_output("display_data", data=dict(view)),
    ])]
    strip_frontend_additions(model={"type": "notebook", "content": notebook})
    assert "widgets" not in notebook.metadata
    assert [output.data for output in notebook.cells[0].outputs] == [{"text/plain": "Dashboard(...)"}]


def test_an_svg_that_is_not_a_drawn_diagram_is_kept():
    picture = nbformat.v4.new_output("display_data", data={"image/svg+xml": SVG,
                                                           "text/plain": "<Figure>"})
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("plot()",
                                                                         outputs=[picture])])
    strip_frontend_additions(model={"type": "notebook", "content": notebook})
    assert notebook.cells[0].outputs[0].data["image/svg+xml"] == SVG


def test_files_that_are_not_notebooks_are_left_alone():
    model = {"type": "file", "format": "text", "content": '{"metadata": {"widgets": 1}}'}
    before = copy.deepcopy(model)
    strip_frontend_additions(model=model, path="notes.json")
    assert model == before


def test_the_course_server_configuration_names_the_hook():
    config = json.loads((CONFIG_DIR / "jupyter_server_config.json").read_text(encoding="utf-8"))
    assert import_item(config["ContentsManager"]["pre_save_hook"]) is strip_frontend_additions
