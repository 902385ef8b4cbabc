"""Keep a notebook saved from JupyterLab or Notebook 7 as the course wrote it.

JupyterLab changes a notebook just by opening it, which marks it dirty, and its autosave
then writes the changes to disk:
- the kernel it starts reports its ``language_info``, which JupyterLab copies into the
  notebook's metadata, with this machine's Python ``version`` (the course leaves it out);
- its ``text/vnd.mermaid`` renderer writes the SVG it drew into the output
  (``image/svg+xml``, ~50 kB a diagram) and the Mermaid version into the output's metadata.
Running a widget cell adds widget views and widget state (random model ids) as well.
`strip_frontend_additions` is a Jupyter contents-manager ``pre_save_hook`` that removes
exactly those additions before the file is written, so saving a notebook one only looked
at leaves its file byte for byte as it was. ``choreo-lab lab`` (and so ``make lab``)
configures it through ``jupyter_config/jupyter_server_config.json`` beside this file.
"""

from __future__ import annotations

from collections.abc import Iterable, MutableMapping
from typing import Any

MERMAID = "text/vnd.mermaid"
RENDERED_SVG = "image/svg+xml"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def strip_frontend_additions(model: MutableMapping[str, Any], **_: Any) -> None:
    """The ``pre_save_hook``: strip frontend additions from a notebook model, in place.

    Called by jupyter_server with ``model``, ``path`` and ``contents_manager`` (by keyword)
    before every save; anything that is not a notebook is left alone. Cost: one pass over
    the outputs.
    """
    if model.get("type") != "notebook" or not isinstance(model.get("content"), MutableMapping):
        return
    notebook = model["content"]
    metadata = notebook.get("metadata", {})
    metadata.pop("widgets", None)
    metadata.get("language_info", {}).pop("version", None)
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") == "code":
            cell["outputs"] = list(without_frontend_additions(cell.get("outputs", [])))


def without_frontend_additions(
        outputs: Iterable[MutableMapping[str, Any]]) -> Iterable[MutableMapping[str, Any]]:
    """Each output without a drawn Mermaid SVG or a widget view; outputs left empty are dropped."""
    for output in outputs:
        data = output.get("data")
        if data is None:
            yield output
            continue
        if MERMAID in data:
            data.pop(RENDERED_SVG, None)
            output.get("metadata", {}).pop(MERMAID, None)
        data.pop(WIDGET_VIEW, None)
        if data:
            yield output
