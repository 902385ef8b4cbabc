"""Import time of choreo_lab, against pydantic alone, each measured in fresh processes.

Every round starts new interpreters (nothing cached in sys.modules), times the import inside
them with perf_counter, and keeps the best of ROUNDS. The baseline imports pydantic and
touches pydantic.BaseModel so its lazy imports really happen: choreo_lab cannot be faster.

Last line: import_time choreo_lab_ms=<N> baseline_pydantic_ms=<M> ratio=<N/M>
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ROUNDS = 7

TIMER = """
import time
started = time.perf_counter()
{statement}
print((time.perf_counter() - started) * 1000)
"""
CHOREO_LAB = "import choreo_lab"
PYDANTIC = "import pydantic; pydantic.BaseModel"


def import_ms(statement: str) -> float:
    """Milliseconds one fresh interpreter takes to run `statement`."""
    result = subprocess.run([sys.executable, "-c", TIMER.format(statement=statement)],
                            capture_output=True, text=True, check=True, cwd=ROOT)
    return float(result.stdout.strip().splitlines()[-1])


def main() -> None:
    ours, baseline = [], []
    for _ in range(ROUNDS):  # interleaved, so load on the machine hits both alike
        ours.append(import_ms(CHOREO_LAB))
        baseline.append(import_ms(PYDANTIC))
    best, base = min(ours), min(baseline)
    print(f"best of {ROUNDS} fresh interpreters each")
    print(f"import_time choreo_lab_ms={best:.1f} baseline_pydantic_ms={base:.1f} "
          f"ratio={best / base:.2f}")


if __name__ == "__main__":
    main()
