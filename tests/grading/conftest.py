"""Shared helpers for the grading tests: exercise sources, learner namespaces, one grading run.

The command-line grader is slow to start (one Jupyter kernel per notebook), so the tests
that need it share one run over a folder of submissions (`graded`), made once per session.
"""

from __future__ import annotations

import json
import linecache
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import nbformat
import pytest

from choreo_lab.grading.safety import LearnerTimeout, captured_output, time_limit
from choreo_lab.grading.student_version import is_grade

from .attacks import build_attacks
from .variants import AGREEMENT_VARIANTS

ROOT = Path(__file__).resolve().parents[2]
SOLUTIONS = ROOT / "solutions"
EXERCISES = ROOT / "exercises"
SOURCES = {path.stem: path for path in sorted(SOLUTIONS.glob("ex*.ipynb"))}


def namespace_of(notebook: nbformat.NotebookNode,
                 replacements: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Run a notebook's non-test code cells in a fresh namespace, as a learner's kernel would.

    `replacements` swaps the source of cells by id. Cells that raise are skipped (like a
    learner who runs past an error), so a stub's NotImplementedError does not stop the setup;
    a cell that runs for more than 3 s is stopped.
    """
    namespace: dict[str, Any] = {"__name__": "__main__"}
    for cell in notebook.cells:
        if cell.cell_type != "code" or is_grade(cell):
            continue
        source = (replacements or {}).get(cell.get("id"), cell.source)
        filename = f"<cell {cell.get('id')}>"
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        try:  # like IPython, which also registers each cell's source with linecache
            with time_limit(3), captured_output():
                exec(compile(source, filename, "exec"), namespace)  # noqa: S102
        except (Exception, LearnerTimeout):  # noqa: BLE001, S110 - a learner runs past errors
            pass
    return namespace


def flat(text: str) -> str:
    """Whitespace collapsed, so phrases can be found across wrapped lines."""
    return " ".join(text.split())


# -- one grading run, shared ------------------------------------------------------------------
TOP_LEVEL_RAISE = 'raise ValueError("I give up")'
HANDLER_LOOPS = '''
def make_inventory_service(stock):
    inventory = Service("inventory", {"stock": dict(stock), "reservations": {}})

    @inventory.handles(PaymentCompleted)
    def reserve_stock(event, ctx):
        while True:
            pass

    return inventory
'''
HANDLER_PRINTS = '''
def make_inventory_service(stock):
    inventory = Service("inventory", {"stock": dict(stock), "reservations": {}})

    @inventory.handles(PaymentCompleted)
    def reserve_stock(event, ctx):
        print("debugging! " * 200_000)
        ctx.state["stock"][event.item] -= event.quantity
        return InventoryReserved(order_id=event.order_id, item=event.item,
                                 quantity=event.quantity, address=event.address)

    return inventory
'''
HANDLER_EXITS = '''
import os

def make_inventory_service(stock):
    inventory = Service("inventory", {"stock": dict(stock), "reservations": {}})

    @inventory.handles(PaymentCompleted)
    def reserve_stock(event, ctx):
        os._exit(1)

    return inventory
'''
CELL_PRINTS_THEN_LOOPS = 'print("x" * 5_000_000)\nwhile True:\n    pass'
CELL_IGNORES_INTERRUPTS = '''
import time
while True:
    try:
        time.sleep(0.05)
    except KeyboardInterrupt:
        pass
'''


def submission(folder: Path, name: str, exercise: str, *, stub: bool = False,
               cells: Mapping[str, str] | None = None) -> Path:
    """Write a submission: the source (or the student version) with some cells replaced."""
    source = EXERCISES if stub else SOLUTIONS
    notebook = nbformat.read(source / f"{exercise}.ipynb", as_version=4)
    for cell in notebook.cells:
        if cell.get("id") in (cells or {}):
            cell.source = cells[cell.id]  # type: ignore[index]
    path = folder / name / f"{exercise}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, path)
    return path


def grade_command(paths: list[Path], report: Path, *, timeout: float = 120,
                  budget: float = 20) -> list[str]:
    return [sys.executable, "-m", "choreo_lab.cli", "grade", *map(str, paths), "--json",
            "--report", str(report), "--cell-timeout", "4", "--timeout", str(timeout),
            "--check-budget", str(budget), "--jobs", "2"]


@pytest.fixture(scope="session")
def graded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """`choreo-lab grade --json` over references, stubs and misbehaving submissions.

    Three runs at once: the main folder (a generous check budget, so a loaded machine never
    fails a right answer), which also holds the hostile submissions of `attacks.py`; a
    handler that loops forever, with a 1 s check budget; and a notebook that ignores
    interrupts, with a 12 s whole-notebook limit. Returns {"report": ..., "by_name":
    {"raises/ex01-inventory": verdict, ...}, "report_file": path, "folder": ..., "before":
    {path: bytes before the run}, "seconds": wall time, "attacks": what attacks.py built}.
    """
    folder = tmp_path_factory.mktemp("submissions")
    ex01 = "ex01-inventory"
    for exercise in SOURCES:
        submission(folder, "reference", exercise)
    for exercise in SOURCES:
        submission(folder, "stub", exercise, stub=True)
    for variant in AGREEMENT_VARIANTS:
        submission(folder, "wrong", variant.exercise, cells=variant.cells)
    submission(folder, "raises", ex01, cells={"inventory_service": TOP_LEVEL_RAISE})
    submission(folder, "prints-in-handler", ex01, cells={"inventory_service": HANDLER_PRINTS})
    submission(folder, "exits", ex01, cells={"inventory_service": HANDLER_EXITS})
    submission(folder, "prints-then-loops-in-cell", ex01, cells={"try_it": CELL_PRINTS_THEN_LOOPS})
    (folder / "not-a-notebook").mkdir()
    (folder / "not-a-notebook" / "ex01-inventory.ipynb").write_text("{ this is not json")
    (folder / "not-a-notebook" / "notes.txt").write_text("my answers are in the notebook")
    adversaries = build_attacks(folder)
    others = tmp_path_factory.mktemp("others")
    looping = submission(others, "loops-in-handler", ex01, cells={"inventory_service": HANDLER_LOOPS})
    stubborn = submission(others, "stubborn", ex01, cells={"try_it": CELL_IGNORES_INTERRUPTS})

    report_file = folder.parent / "report.json"
    before = {path: path.read_bytes() for path in folder.rglob("*") if path.is_file()}
    started = time.monotonic()
    runs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             cwd=folder.parent) for command in (
        grade_command([folder], report_file),
        grade_command([looping], others / "looping.json", budget=1),
        grade_command([stubborn], others / "stubborn.json", timeout=12))]
    outputs = [run.communicate(timeout=600) for run in runs]
    seconds = time.monotonic() - started
    for run, (_, err), code in zip(runs, outputs, (1, 0, None)):
        # the main folder holds a file that is not a notebook: the run says so and exits 1
        assert run.returncode in ((0, 1) if code is None else (code,)), err.decode()
    report, looping_report, stubborn_report = (json.loads(out) for out, _ in outputs)
    by_name = {Path(v["path"]).relative_to(folder).with_suffix("").as_posix(): v
               for v in report["notebooks"]}
    by_name["loops-in-handler/ex01-inventory"] = looping_report["notebooks"][0]
    by_name["stubborn/ex01-inventory"] = stubborn_report["notebooks"][0]
    return {"report": report, "by_name": by_name, "report_file": report_file, "folder": folder,
            "before": before, "seconds": seconds, "attacks": adversaries}
