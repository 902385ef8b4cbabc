"""The closing notebook builds a new saga from the public API alone, in few lines.

Convention: the code cells that define the learner's saga (its events, services, invariants,
exploration and dashboard) carry the cell tag ``learner-code``. Their lines of code - not
blank, not comments - must stay within `MAX_LEARNER_LINES`: a newcomer's saga should be
that small. Every import in the notebook must name public parts of choreo_lab: a module
among `PUBLIC_MODULES` and a name in its ``__all__``.
"""

from __future__ import annotations

import ast
import importlib

from .course import NOTEBOOKS, read

CAPSTONE = NOTEBOOKS / "11-design-your-own-choreography.ipynb"
TAG = "learner-code"
MAX_LEARNER_LINES = 120
PUBLIC_MODULES = ("choreo_lab", "choreo_lab.dashboard")


def code_cells(tagged: bool | None = None) -> list[str]:
    return [cell.source for cell in read(CAPSTONE).cells if cell.cell_type == "code"
            and (tagged is None or (TAG in cell.metadata.get("tags", [])) == tagged)]


def code_lines(source: str) -> list[str]:
    return [line for line in source.splitlines()
            if line.strip() and not line.strip().startswith("#")]


def test_the_saga_is_written_in_learner_code_cells_of_fewer_than_120_lines() -> None:
    learner = code_cells(tagged=True)
    assert len(learner) >= 5, f"tag the cells that define the saga {TAG!r}"
    lines = sum(len(code_lines(source)) for source in learner)
    assert 0 < lines <= MAX_LEARNER_LINES, f"the learner's saga takes {lines} lines of code"


def test_the_other_code_cells_only_run_and_show_what_the_learner_code_defines() -> None:
    for source in code_cells(tagged=False):
        tree = ast.parse(source)
        defined = [node for node in ast.walk(tree)
                   if isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.Import, ast.ImportFrom))]
        assert not defined, f"an untagged cell defines or imports something:\n{source}"


def test_the_notebook_imports_only_public_names_of_choreo_lab() -> None:
    imports = [node for source in code_cells() for node in ast.walk(ast.parse(source))
               if isinstance(node, (ast.Import, ast.ImportFrom))]
    assert imports
    for node in imports:
        assert isinstance(node, ast.ImportFrom), f"import whole modules by name: {ast.unparse(node)}"
        assert node.module in PUBLIC_MODULES, f"{node.module} is not a public module"
        public = importlib.import_module(node.module).__all__
        for alias in node.names:
            assert alias.name in public, f"{node.module}.{alias.name} is not public"
