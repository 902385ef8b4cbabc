"""Hostile submissions, built as notebooks: each tries one way to fool the grader.

Every attack of issue 10 is here. `build_attacks(folder)` writes them into the folder the
shared grading run grades (conftest.py), beside the honest submissions they are compared
with, and returns what the tests need to know (paths, the package's files before the run).
Each must end with zero or with its honest score, and leave nothing behind.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell

from choreo_lab.grading.sandbox.client import package_paths

from .variants import NON_IDEMPOTENT_CHARGE

ROOT = Path(__file__).resolve().parents[2]

FORGE_CHECK = '''
import choreo_lab.grading as grading
import choreo_lab.grading.notebook as notebook
import choreo_lab.grading.judge as judge
full_marks = lambda *args, **kwargs: 7
grading.check = notebook.check = check = judge.judge_task = judge.judge_check = full_marks
'''
FORGE_PRE_RUN_CELL = '''
from IPython.display import display
FORGED = {"tasks": [{"task": t, "score": 7_000_000, "max_score": 7, "checks": []}
                    for t in ("reserve", "out_of_stock", "reserve_once")]}

def forge(*args):
    display({"text/plain": "7", "application/vnd.choreo-lab.grade+json": FORGED}, raw=True)

get_ipython().events.register("pre_run_cell", forge)
'''
FORGE_NUMBERS = '''
import json, os
from IPython.display import display
NAN_AND_HUGE = {"score": float("nan"), "max_score": 7, "tasks": [
    {"task": "reserve", "score": 7_000_000, "max_score": 3,
     "checks": [{"title": "reserves the last items in stock", "score": float("nan"),
                 "points": 1, "passed": True, "hidden": False, "message": ""}]}]}
display({"application/vnd.choreo-lab.grade+json": NAN_AND_HUGE, "text/plain": "7000000"}, raw=True)
os.write(1, json.dumps(NAN_AND_HUGE).encode())   # straight onto the sandbox's stdout
os.write(2, json.dumps(NAN_AND_HUGE).encode())
'''
KILL_THE_WORKER = '''
import os, pathlib, signal
tried = []
for proc in pathlib.Path("/proc").iterdir():
    if not proc.name.isdigit() or int(proc.name) == os.getpid():
        continue
    try:
        command = (proc / "cmdline").read_bytes()
    except OSError:
        continue
    if b"choreo_lab" in command:
        for sig in (signal.SIGKILL, signal.SIGSTOP):
            try:
                os.kill(int(proc.name), sig)
            except OSError as error:
                tried.append((proc.name, type(error).__name__))
        for verdict in ("verdict.json", "grading-report.json"):
            try:
                (pathlib.Path(f"/proc/{proc.name}/cwd") / verdict).write_text('{"score": 7}')
            except OSError as error:
                tried.append((verdict, type(error).__name__))
'''
DISABLE_FAULTS = '''
from choreo_lab.faults import FaultInjector
import choreo_lab.faults, choreo_lab.simulation
FaultInjector.fire = lambda *args, **kwargs: None
choreo_lab.simulation.FaultInjector = FaultInjector
'''
IMPORT_THE_EXAMPLE = "from choreo_lab.examples.orders import make_inventory_service"
IMPORT_THE_CHECKS = '''
try:
    from choreo_lab.grading.ex02_compensations import forward_services
except ImportError:
    pass
import choreo_lab.examples.orders as orders

def add_compensations(payment, inventory):
    reference = orders.make_payment_service()
    for event_type, handler in reference.handlers.items():
        if event_type not in payment.handlers:
            payment.handles(event_type)(handler)
'''
READ_THE_SOLUTION = '''
import json, pathlib, choreo_lab
top = pathlib.Path(choreo_lab.__file__).resolve().parents[1]
found = sorted(top.rglob("ex03-idempotent-payment.ipynb")) + sorted(
    pathlib.Path("/").glob("*/*/solutions/ex03-idempotent-payment.ipynb"))
for path in found:
    try:
        cells = json.loads(path.read_text())["cells"]
    except (OSError, ValueError):
        continue
    for cell in cells:
        if cell.get("id") == "payment_service" and "BEGIN SOLUTION" in "".join(cell["source"]):
            exec("".join(cell["source"]))
'''
PLANT_A_PACKAGE = '''
import os, pathlib
fake = "def check(*a, **k):\\n    return 7\\n"
for folder in (pathlib.Path.cwd(), pathlib.Path({folder!r}), pathlib.Path({folder!r}).parent):
    try:
        (folder / "choreo_lab" / "grading").mkdir(parents=True, exist_ok=True)
        (folder / "choreo_lab" / "__init__.py").write_text(fake)
        (folder / "choreo_lab" / "grading" / "__init__.py").write_text(fake)
    except OSError:
        pass
'''
WRITE_THE_PACKAGE = '''
import pathlib, choreo_lab
package = pathlib.Path(choreo_lab.__file__).resolve().parent
for target in (package / "grading" / "judge.py", package / "__init__.py", package / "planted.py"):
    try:
        target.write_text("raise SystemExit('hijacked')\\n")
    except OSError:
        pass
'''
REWRITE_A_CLASSMATE = '''
import pathlib
victim = pathlib.Path({victim!r})
try:
    victim.write_text(pathlib.Path({solution!r}).read_text())
except OSError:
    pass
'''
ESCAPE_AND_OVERWRITE = '''
import os, time
if os.fork() == 0:            # double fork into a new session: the classic escape
    os.setsid()
    if os.fork() == 0:
        time.sleep(2)
        for target in ({report!r}, {folder!r} + "/escaped.txt"):
            try:
                open(target, "w").write('{{"score": 7}}')
            except OSError:
                pass
        time.sleep(600)
    os._exit(0)
'''
HOLD_STDERR = '''
import os, subprocess, time
subprocess.Popen(["sleep", "600"], start_new_session=True)   # holds stdout and stderr
if os.fork() == 0:
    os.setsid()
    time.sleep(600)
    os._exit(0)
'''
FLOOD_DISPLAY = '''
import os
from IPython.display import display
chunk = "x" * 1_000_000
for _ in range(400):
    display({"text/plain": chunk, "text/html": chunk}, raw=True)
for _ in range(60):
    os.write(1, b"y" * 1_000_000)
'''
HOG_RESOURCES = '''
import os
try:
    hog = bytearray(64 << 30)
except MemoryError:
    hog = None
children = 0
try:
    for _ in range(500):
        if os.fork() == 0:
            import time
            time.sleep(600)
            os._exit(0)
        children += 1
except OSError:
    pass
'''


HOSTILE_RELAY = '''
CALLS = []

def send_outbox(ctx):
    CALLS.append(1)
    if len(CALLS) % 3 == 1:
        raise KeyboardInterrupt
    if len(CALLS) % 3 == 2:
        ctx.state["trap"] = lambda: None   # not data: the state cannot be kept
        return
    row = next(iter(ctx.state["outbox"].values()))
    for n in range(5000):                  # a flood of forged answers
        ctx.publish(event_of(row), message_id=f"forged-{n}")
'''
#: Row ids from a counter in the process's memory that starts over whenever shipping's state
#: looks fresh: the same run twice names the same rows, so only a real restart between two
#: orders (the worker's `Learner.restarted`) shows the repeat. Loses exactly the two
#: names-rows checks (the public one and its hidden twin); in-process it cannot be caught.
COUNTER_RESET = '''
_ROWS = [0]

def keep_in_outbox(ctx: Context, event: Event) -> None:
    s = ctx.state
    if len(s.get("shipments", {})) + len(s.get("failed", {})) <= 1:
        _ROWS[0] = 0
    _ROWS[0] += 1
    ctx.state["outbox"][f"row-{_ROWS[0]}"] = as_row(event, ctx.message_id)
'''
#: The same counter, starting where a cell of bare calls (no definition, no assignment) sets
#: it: a restart that ran only the cells defining something started it from 0, so its ids
#: never met the first process's.
OFFSET_BY_A_CALL = COUNTER_RESET.replace("_ROWS[0] = 0", "_ROWS[0] = _START[0]").replace(
    "_ROWS = [0]", "_ROWS = [0]\n_START = [0]")
OFFSET_CALL = "_START.__setitem__(0, 500)  # a cell of bare calls"
#: The same counter, carried over in the process's name: each row renames the process
#: (prctl PR_SET_NAME), and a restarted copy reads the name from /proc of the sandbox beside it.
COUNTER_IN_PROC = """
import ctypes as _ctypes
import os as _os


def _inherited() -> int:
    best = 0
    for pid in _os.listdir("/proc"):
        if pid.isdigit() and int(pid) != _os.getpid():
            try:
                name = open(f"/proc/{pid}/comm").read().strip()
            except OSError:
                continue
            if name.startswith("rowctr"):
                best = max(best, int(name[6:] or 0))
    return best


_ROWS = [_inherited()]


def keep_in_outbox(ctx: Context, event: Event) -> None:
    s = ctx.state
    if len(s.get("shipments", {})) + len(s.get("failed", {})) <= 1:
        _ROWS[0] = 0
    _ROWS[0] += 1
    _ctypes.CDLL(None).prctl(15, f"rowctr{_ROWS[0]}".encode(), 0, 0, 0)  # PR_SET_NAME
    ctx.state["outbox"][f"row-{_ROWS[0]}"] = as_row(event, ctx.message_id)
"""
NAMES_ROWS = ("names each row for good: no answer reuses the id of a row already sent",
              "names each row for good across four more orders")
#: attack name -> the titles of the checks it must fail (and it must pass all the others)
LOSES_ONLY = {"resets-its-counter": NAMES_ROWS, "offsets-its-counter-by-a-call": NAMES_ROWS,
              "keeps-its-counter-in-proc": NAMES_ROWS}
RELAY_STUB = '''
def send_outbox(ctx: RelayContext) -> None:
    raise NotImplementedError()
'''


def notebook_of(exercise: str, *, stub: bool) -> nbformat.NotebookNode:
    folder = ROOT / ("exercises" if stub else "solutions")
    return nbformat.read(folder / f"{exercise}.ipynb", as_version=4)


def with_cells(notebook: nbformat.NotebookNode, after: str, *sources: str,
               replace: dict[str, str] | None = None) -> nbformat.NotebookNode:
    """`notebook` with new code cells after the cell `after`, and some cells' source replaced."""
    for cell in notebook.cells:
        if cell.get("id") in (replace or {}):
            cell.source = (replace or {})[cell.id]
    index = next(i for i, cell in enumerate(notebook.cells) if cell.get("id") == after) + 1
    notebook.cells[index:index] = [new_code_cell(source) for source in sources]
    return notebook


def write(folder: Path, name: str, exercise: str, notebook: nbformat.NotebookNode) -> Path:
    path = folder / name / f"{exercise}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, path)
    return path


def package_digest() -> dict[str, str]:
    """Every file of the installed package, by path, with a hash of its bytes."""
    package = Path(package_paths()["package"])
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(package.rglob("*.py"))}


#: A reply forged on the sandbox's pipe, nested deeper than the parser goes: the worker read
#: it with json.loads, whose RecursionError passed every handler and stopped the worker.
FORGE_DEEP_FRAME = """
import os, struct, sys
body = b'{"id": 1, "x": ' + b'[' * 300_000 + b']' * 300_000 + b'}'
os.write(int(sys.argv[-1]), struct.pack(">I", len(body)) + body)
"""
#: attack name -> what it must score: "zero", "full", or the name of the honest submission
#: whose score it must equal.
EXPECTED = {
    "forges-check": "zero", "forges-pre-run-cell": "zero", "forges-huge-and-nan": "zero",
    "forges-a-deep-frame": "zero",
    "kills-the-worker": "zero", "disables-faults": "naive-payment",
    "imports-the-example": "zero", "imports-the-checks": "zero", "reads-the-solution": "zero",
    "plants-a-package": "zero", "zz-after-the-plant": "zero", "writes-the-package": "zero",
    "rewrites-a-classmate": "zero", "zz-victim": "zero", "escapes-and-overwrites": "zero",
    "holds-stderr": "full", "floods-display": "full", "hogs-resources": "full",
    "hostile-relay": "keeps-only",
}


def build_attacks(folder: Path) -> dict[str, object]:
    """Write every hostile submission into `folder`; what the tests need to check them."""
    ex01, ex02, ex03 = "ex01-inventory", "ex02-compensations", "ex03-idempotent-payment"
    report = str(folder.parent / "report.json")
    victim = folder / "zz-victim" / f"{ex01}.ipynb"
    stub = lambda exercise=ex01: notebook_of(exercise, stub=True)  # noqa: E731
    solution = lambda exercise=ex01: notebook_of(exercise, stub=False)  # noqa: E731
    write(folder, "forges-check", ex01, with_cells(stub(), "setup", FORGE_CHECK))
    write(folder, "forges-pre-run-cell", ex01, with_cells(stub(), "setup", FORGE_PRE_RUN_CELL))
    write(folder, "forges-huge-and-nan", ex01, with_cells(stub(), "setup", FORGE_NUMBERS))
    write(folder, "kills-the-worker", ex01, with_cells(stub(), "setup", KILL_THE_WORKER))
    write(folder, "forges-a-deep-frame", ex01, with_cells(solution(), "setup", FORGE_DEEP_FRAME))
    write(folder, "naive-payment", ex03, with_cells(solution(ex03), "setup",
                                                     replace=NON_IDEMPOTENT_CHARGE.cells))
    write(folder, "disables-faults", ex03, with_cells(solution(ex03), "setup", DISABLE_FAULTS,
                                                       replace=NON_IDEMPOTENT_CHARGE.cells))
    write(folder, "imports-the-example", ex01, with_cells(
        stub(), "setup", replace={"inventory_service": IMPORT_THE_EXAMPLE}))
    write(folder, "imports-the-checks", ex02, with_cells(
        stub(ex02), "setup", replace={"add_compensations": IMPORT_THE_CHECKS}))
    write(folder, "reads-the-solution", ex03, with_cells(
        stub(ex03), "setup", replace={"payment_service": READ_THE_SOLUTION}))
    write(folder, "plants-a-package", ex01, with_cells(
        stub(), "setup", PLANT_A_PACKAGE.format(folder=str(folder))))
    write(folder, "zz-after-the-plant", ex01, stub())
    write(folder, "writes-the-package", ex01, with_cells(stub(), "setup", WRITE_THE_PACKAGE))
    write(folder, "rewrites-a-classmate", ex01, with_cells(stub(), "setup", REWRITE_A_CLASSMATE.format(
        victim=str(victim), solution=str(ROOT / "solutions" / f"{ex01}.ipynb"))))
    write(folder, "zz-victim", ex01, stub())
    write(folder, "escapes-and-overwrites", ex01, with_cells(
        stub(), "setup", ESCAPE_AND_OVERWRITE.format(report=report, folder=str(folder))))
    write(folder, "holds-stderr", ex01, with_cells(solution(), "setup", HOLD_STDERR))
    write(folder, "floods-display", ex01, with_cells(solution(), "setup", FLOOD_DISPLAY))
    write(folder, "hogs-resources", ex01, with_cells(solution(), "setup", HOG_RESOURCES))
    ex09 = "ex09-outbox-relay"
    write(folder, "keeps-only", ex09, with_cells(solution(ex09), "setup",
                                                replace={"send_outbox": RELAY_STUB}))
    write(folder, "hostile-relay", ex09, with_cells(solution(ex09), "setup",
                                                   replace={"send_outbox": HOSTILE_RELAY}))
    for name in LOSES_ONLY:
        write(folder, name, ex09, counter_notebook(name))
    return {"victim": victim, "package": package_digest(), "expected": EXPECTED}


def counter_notebook(attack: str) -> nbformat.NotebookNode:
    """Exercise 9's solution with row ids from a counter that resets on a fresh-looking state
    (`attack`: one of LOSES_ONLY, which says how the counter outlives a restart)."""
    solution = notebook_of("ex09-outbox-relay", stub=False)
    if attack == "offsets-its-counter-by-a-call":
        return with_cells(solution, "keep_in_outbox", OFFSET_CALL,
                          replace={"keep_in_outbox": OFFSET_BY_A_CALL})
    code = {"resets-its-counter": COUNTER_RESET, "keeps-its-counter-in-proc": COUNTER_IN_PROC}
    return with_cells(solution, "setup", replace={"keep_in_outbox": code[attack]})
