"""Chaos explorer speed: 1,000 fault schedules of a 10-order saga, against fault-free runs.

Workload: the reference order saga (four services, jitter on), ten orders of which about
a third fail on purpose (declined card, out of stock, unshippable). Each schedule builds
the system with up to three faults, runs to quiescence (restarting what is down) and asks
the oracle whether it converged. The baseline, measured in the same run, is the same
1,000 ten-order runs with no faults and no oracle: the ratio is what chaos and checking cost.

Target: 1,000 schedules in at most 10 s on a 2-core laptop.
Last line: chaos schedules_per_s=<N> baseline_per_s=<M> ratio=<N/M>
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from choreo_lab import FaultPlan, Simulation
from choreo_lab.chaos import explore
from choreo_lab.examples.orders import order_oracle
from choreo_lab.examples.orders import order_system, place_order, random_orders

SCHEDULES = 1_000
ORDERS = random_orders(10, seed=1)


def system(seed: int, faults: FaultPlan) -> Simulation:
    return order_system(seed, jitter=3, faults=faults)


def workload(sim: Simulation) -> None:
    for order in ORDERS:
        place_order(sim, **order)


def run_baseline() -> float:
    """Seconds for SCHEDULES fault-free runs of the same workload, without the oracle."""
    started = time.perf_counter()
    for seed in range(SCHEDULES):
        sim = system(seed, FaultPlan())
        workload(sim)
        sim.run_until_idle()
    return time.perf_counter() - started


def main() -> int:
    baseline = run_baseline()
    started = time.perf_counter()
    result = explore(system, workload, order_oracle(), schedules=SCHEDULES, seed=1)
    elapsed = time.perf_counter() - started
    print(f"workload: {SCHEDULES} schedules x {len(ORDERS)} orders, up to 3 faults each "
          "(kill, pause, duplicate, delay, reorder, drop, crash)")
    if result.counterexample is not None:
        print(result.counterexample)
    print(f"chaos total_s={elapsed:.2f} passed={result.passed} failed={result.failed} "
          f"(target: <= 10 s; baseline total_s={baseline:.2f})")
    ours, theirs = SCHEDULES / elapsed, SCHEDULES / baseline
    print(f"chaos schedules_per_s={ours:.1f} baseline_per_s={theirs:.1f} ratio={ours / theirs:.3f}")
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
