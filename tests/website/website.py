"""Building the course site once for the tests, and reading what it should show."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

import nbformat
import pytest

from choreo_lab.course import course_files

REPO = Path(__file__).resolve().parents[2]


def site_builder() -> ModuleType:
    """docs/site/build.py as a module (it is a script, not part of the package)."""
    spec = importlib.util.spec_from_file_location("site_build", REPO / "docs" / "site" / "build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def build_site_or_skip(out: Path) -> Path:
    """Build the site into `out` (a few seconds); skip, saying why, if a tool is missing."""
    pytest.importorskip("myst_nb", reason="the site needs the site extra: pip install -e '.[site]'")
    builder = site_builder()
    if not builder.DEFAULT_MERMAID.is_file():
        pytest.skip(f"no mermaid build at {builder.DEFAULT_MERMAID}: `make test` (or `make site`) "
                    "fetches it with npm")
    assert builder.build(out) == 0, "the site did not build without warnings (see above)"
    return out


MERMAID_FENCE = re.compile(r"^```mermaid\n(.*?)^```", re.S | re.M)


def cell_diagrams(cell: nbformat.NotebookNode) -> list[str]:
    """The Mermaid sources a cell shows: its diagram outputs, or the fences in its Markdown."""
    if cell.cell_type == "markdown":
        return MERMAID_FENCE.findall(cell.source)
    if cell.cell_type != "code":
        return []
    return [output.data["text/vnd.mermaid"] for output in cell.outputs
            if "text/vnd.mermaid" in output.get("data", {})]


def diagram_sources() -> dict[str, list[str]]:
    """Page (notebooks/02-...html) -> the Mermaid sources of its diagrams, in order."""
    pages = {}
    for name in course_files(REPO):
        notebook = nbformat.read(REPO / name, as_version=4)
        sources = [source for cell in notebook.cells for source in cell_diagrams(cell)]
        if sources:
            pages[str(Path(name).with_suffix(".html"))] = sources
    return pages
