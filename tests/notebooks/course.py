"""Reading the committed course notebooks: their cells, outputs and links (test helpers)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import nbformat
from nbformat import NotebookNode

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = REPO / "notebooks"
EXERCISES = REPO / "exercises"
INDEX = NOTEBOOKS / "00-welcome.ipynb"
SANITIZE = NOTEBOOKS / "nbval-sanitize.cfg"

#: A Markdown link's target: [text](target) — the target has no spaces or parentheses.
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def course_notebooks() -> list[Path]:
    """notebooks/NN-topic.ipynb, in reading order."""
    return sorted(NOTEBOOKS.glob("[0-9][0-9]-*.ipynb"))


def exercise_notebooks() -> list[Path]:
    return sorted(EXERCISES.glob("*.ipynb"))


def read(path: Path) -> NotebookNode:
    return nbformat.read(path, as_version=4)


def outputs(notebook: NotebookNode) -> Iterator[tuple[int, NotebookNode]]:
    """(code cell number, output) for every output, numbered as nbval numbers cells."""
    code_cells = (cell for cell in notebook.cells if cell.cell_type == "code")
    for number, cell in enumerate(code_cells):
        for output in cell.outputs:
            yield number, output


def output_texts(output: NotebookNode) -> list[str]:
    """Every piece of text an output shows: stream text, each text MIME type, error name/value."""
    texts = [output.get("text", ""), output.get("ename", ""), output.get("evalue", "")]
    for mime, value in output.get("data", {}).items():
        if mime.startswith("text/") or mime == "image/svg+xml":  # not base64 pictures
            texts.append(value)
    return [text for text in texts if text]


def markdown(notebook: NotebookNode) -> str:
    return "\n\n".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")


def local_links(notebook: NotebookNode) -> list[str]:
    """Relative link targets in the notebook's Markdown, without #fragments; web links skipped."""
    targets = (match.group(1) for match in LINK.finditer(markdown(notebook)))
    files = (target.split("#")[0] for target in targets if "://" not in target)
    return [target for target in files if target]


def resolve(target: str) -> Path:
    """A link target as a path: relative to notebooks/, where every course notebook lives."""
    return (NOTEBOOKS / target).resolve()
