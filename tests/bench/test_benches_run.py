"""Every benchmark under bench/ still runs against today's library, at a tiny size.

Timings are never judged here (they live in the benchmarks' own output); what is checked
is that each script runs to its end and prints its last line in the form the README
promises: `<name> <metric>=<N> baseline_<metric>=<M> ratio=<N/M>` (peers: its own form).
A benchmark that nobody runs rots silently: an API it uses changes and it stops working.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest

from choreo_lab.nats import missing_pieces

BENCH = Path(__file__).resolve().parents[2] / "bench"
RATIO = re.compile(r"ratio=\d+(\.\d+)?")
PEER_PACKAGES = ("kombu", "eventsourcing", "faststream")  # the `bench` extra

#: script -> the module-level sizes to shrink it to (the workload's shape stays)
TINY: dict[str, dict[str, object]] = {
    "peers": {"EVENTS": 60, "ROUNDS": 1},
    "throughput": {"EVENTS": 200, "ROUNDS": 1},
    "scale": {"SMALL": 10, "LARGE": 20},
    "chaos": {"SCHEDULES": 20, "SEEDS": (1,), "CAP": 60},
    "dashboard_refresh": {"EVENTS": 150, "ROUNDS": 2},
    "import_time": {"ROUNDS": 1},
    "nats": {"ORDERS": 20, "ROUNDS": 1},
    "grading": {"COPIES": 1},
}


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_benchmark_is_covered_here():
    assert sorted(TINY) == sorted(path.stem for path in BENCH.glob("*.py"))


@pytest.mark.parametrize("name", sorted(TINY))
def test_the_benchmark_runs_and_prints_its_ratio(name, capsys, monkeypatch, tmp_path):
    if name == "nats" and missing_pieces() is not None:
        pytest.skip(f"the NATS backend cannot run here: {missing_pieces()}")
    module = load(name)
    for setting, value in TINY[name].items():
        assert hasattr(module, setting), f"bench/{name}.py has no {setting} any more"
        monkeypatch.setattr(module, setting, value)
    if name == "grading":  # one exercise is enough to see the script work
        one = sorted((BENCH.parent / "solutions").glob("ex*.ipynb"))[:1]

        def submissions(folder: Path) -> list[Path]:
            target = folder / "student-0" / one[0].name
            target.parent.mkdir(parents=True)
            shutil.copy(one[0], target)
            return [target]
        monkeypatch.setattr(module, "submissions", submissions)
    monkeypatch.setattr(sys, "argv", [f"bench/{name}.py"])
    if name == "peers" and not any(importlib.util.find_spec(peer) for peer in PEER_PACKAGES):
        with pytest.raises(SystemExit, match="no peer installed"):  # the bench extra is not here
            module.main()
        assert "choreo_lab" in capsys.readouterr().out  # its own workload ran all the same
        return
    module.main()
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines, f"bench/{name}.py printed nothing"
    last = lines[-1]
    prefix = {"dashboard_refresh": "dashboard", "import_time": "import_time"}.get(name, name)
    assert last.startswith(f"{prefix} "), last
    assert RATIO.search(last), f"no ratio=<number> in the last line: {last}"
