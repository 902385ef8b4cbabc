"""Grading throughput: notebooks per minute through the sandboxed grader, against today's
design (the checks run inside the learner's own kernel) in the same run.

Workload: every exercise's reference solution, twice (6 notebooks, 24 checks' worth of
saga runs each round, the chaos explorer included). `choreo-lab grade` runs each in a
worker with a confined sandbox process and crosses a pipe for every handler call; the
baseline executes the same notebooks as nbgrader's autograde would, in a Jupyter kernel
with the hidden checks run in place (nbclient, one kernel per notebook). Both one at a
time; the sandboxed grader also with --jobs 2 (the default on 2 cores).

Last line: grading notebooks_per_min=<N> baseline_per_min=<M> ratio=<N/M>
(ratio above 1: the sandbox grades faster than an in-kernel run; below 1: its overhead)
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from choreo_lab.grading.hidden import ENVIRONMENT, hidden_folder  # noqa: E402

COPIES = 2


def submissions(folder: Path) -> list[Path]:
    """COPIES of each reference solution, one folder per pretend student."""
    made = []
    for copy in range(COPIES):
        for source in sorted((ROOT / "solutions").glob("ex*.ipynb")):
            target = folder / f"student-{copy}" / source.name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, target)
            made.append(target)
    return made


def sandboxed(folder: Path, jobs: int) -> float:
    """Seconds for `choreo-lab grade` over the folder; checks that every notebook scored full."""
    report = folder.parent / f"report-{jobs}.json"
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "choreo_lab.cli", "grade", str(folder), "--json",
                    "--report", str(report), "--jobs", str(jobs)], check=True,
                   stdout=subprocess.DEVNULL, cwd=ROOT)
    seconds = time.perf_counter() - started
    result = json.loads(report.read_text())
    assert result["score"] == result["max_score"] > 0, "a reference solution lost points"
    return seconds


def in_kernel(notebooks: list[Path]) -> float:
    """Seconds to execute every notebook in a kernel with the hidden checks in place."""
    os.environ[ENVIRONMENT] = str(hidden_folder())
    started = time.perf_counter()
    for path in notebooks:
        notebook = nbformat.read(path, as_version=4)
        NotebookClient(notebook, timeout=300, kernel_name="python3",
                       resources={"metadata": {"path": str(path.parent)}}).execute()
    return time.perf_counter() - started


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="choreo-bench-grading-") as scratch:
        folder = Path(scratch) / "submissions"
        notebooks = submissions(folder)
        count = len(notebooks)
        one = sandboxed(folder, jobs=1)
        two = sandboxed(folder, jobs=2)
        baseline = in_kernel(notebooks)
    per_min, baseline_per_min = 60 * count / one, 60 * count / baseline
    print(f"{count} notebooks: sandboxed {one:.1f} s (--jobs 1), {two:.1f} s (--jobs 2, "
          f"{60 * count / two:.0f}/min); in-kernel baseline {baseline:.1f} s")
    print(f"grading notebooks_per_min={per_min:.0f} baseline_per_min={baseline_per_min:.0f} "
          f"ratio={per_min / baseline_per_min:.2f}")


if __name__ == "__main__":
    main()
