"""Re-execute the course notebooks and save them with outputs that nbval can compare exactly.

    python tests/notebooks/refresh.py              # refresh every notebooks/NN-*.ipynb
    python tests/notebooks/refresh.py --check      # exit 1 if a committed notebook is stale
    python tests/notebooks/refresh.py notebooks/01-events-and-the-broker.ipynb

Each notebook runs top to bottom in a fresh kernel of this Python (kernel name ``python3``,
working directory ``notebooks/``), as `pytest --nbval` runs it. Before saving, everything
that would differ between two runs or two machines is removed: widget state and widget
views (their model ids are random), cell timing, the Python version in the metadata (the
rules of `choreo_lab.save_hook`, which `make lab` applies too); prints that the kernel
happened to flush in pieces are joined. Execution counts are renumbered
1, 2, 3... Two refreshes give byte-identical files.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import ipykernel.kernelspec
import nbformat
from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient
from nbformat import NotebookNode

from choreo_lab.save_hook import strip_frontend_additions

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = REPO / "notebooks"
COURSE_GLOB = "[0-9][0-9]-*.ipynb"
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
CELL_TIMEOUT = 120  # seconds; a course notebook should take well under 10 in total


class ThisPythonKernels(KernelSpecManager):
    """Every kernel name means ipykernel on the interpreter running this script (like nbval's
    --nbval-current-env), so a refresh never picks up another environment's python3."""

    def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
        return self.kernel_spec_class(resource_dir=ipykernel.kernelspec.RESOURCES,
                                      **ipykernel.kernelspec.get_kernel_dict())


def course_notebooks() -> list[Path]:
    """The course notebooks, in reading order."""
    return sorted(NOTEBOOKS.glob(COURSE_GLOB))


def execute(notebook: NotebookNode, cwd: Path) -> NotebookNode:
    """Run every cell of `notebook` in a fresh kernel started in `cwd` (cost: a kernel start)."""
    kernel = KernelManager(kernel_name="python3", kernel_spec_manager=ThisPythonKernels())
    client = NotebookClient(notebook, km=kernel, timeout=CELL_TIMEOUT, record_timing=False,
                            store_widget_state=False, resources={"metadata": {"path": str(cwd)}})
    client.execute()
    return notebook


def normalise(notebook: NotebookNode) -> NotebookNode:
    """Remove what varies between runs and machines; renumber execution counts from 1."""
    # widget state and views, the Python version: what `make lab`'s save hook strips too
    strip_frontend_additions({"type": "notebook", "content": notebook})
    notebook.metadata["kernelspec"] = dict(KERNELSPEC)
    count = 0
    for cell in notebook.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type != "code":
            continue
        count += 1
        cell.execution_count = count
        cell.outputs = _joined_streams(cell.outputs)
        for output in cell.outputs:
            if output.output_type == "execute_result":
                output.execution_count = count
    return notebook


def _joined_streams(outputs: list[NotebookNode]) -> list[NotebookNode]:
    """Join back-to-back prints to one stream: the kernel splits them wherever it flushed."""
    joined: list[NotebookNode] = []
    for output in outputs:
        previous = joined[-1] if joined else None
        if (previous is not None and output.output_type == previous.output_type == "stream"
                and output.name == previous.name):
            previous.text += output.text
        else:
            joined.append(output)
    return joined


def refreshed_text(path: Path) -> str:
    """The file text `path` should have: executed, normalised and serialised."""
    notebook = nbformat.read(path, as_version=4)
    normalise(execute(notebook, path.parent))
    nbformat.validate(notebook)
    text = nbformat.writes(notebook)
    return text if text.endswith("\n") else text + "\n"  # as nbformat.write does


def shown_path(path: Path) -> Path:
    """`path` relative to the repository when it is inside it (shorter to read)."""
    path = path.resolve()
    return path.relative_to(REPO) if path.is_relative_to(REPO) else path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="notebooks to refresh (default: every notebooks/NN-*.ipynb)")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 if a notebook's saved outputs are stale")
    args = parser.parse_args(argv)
    missing = [str(path) for path in args.notebooks if not path.is_file()]
    if missing:
        parser.error(f"no such notebook: {', '.join(missing)}")
    stale = []
    for path in args.notebooks or course_notebooks():
        text = refreshed_text(path.resolve())
        shown = shown_path(path)
        if path.read_text(encoding="utf-8") == text:
            print(f"up to date  {shown}")
        elif args.check:
            stale.append(path)
            print(f"STALE       {shown}")
        else:
            path.write_text(text, encoding="utf-8")
            print(f"refreshed   {shown}")
    if stale:
        print(f"{len(stale)} notebook(s) are stale: run `make notebooks` and commit the result.")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
