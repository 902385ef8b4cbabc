"""How `choreo-lab run orders` grows with the number of orders: 500 against 5,000.

One run: seeded random orders through the saga, run until idle, then everything the
terminal report computes - the oracle's check, the workflow table, the event log, one
order's whereabouts - rendered to text. Cost should grow linearly: 10x the orders may take
at most 12x the time. The 500-order run is the baseline, measured in the same process and
the same way: each size the best of three runs, taken in turns, each from a collected heap.

Last line: scale orders=<N> seconds=<S> baseline_orders=<M> baseline_seconds=<B> ratio=<S/B>
"""

from __future__ import annotations

import gc
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from choreo_lab.examples.catalog import workflow  # noqa: E402
from choreo_lab.render import event_log, workflow_table  # noqa: E402

SMALL, LARGE = 500, 5_000


def report_seconds(count: int) -> float:
    """Wall time of one run of `count` orders and the report the CLI prints about it."""
    orders = workflow("orders")
    gc.collect()  # what earlier runs left is not this run's to collect
    started = time.perf_counter()
    sim = orders.system(7)
    ids = orders.start(sim, count, 7)
    sim.run_until_idle()
    report = orders.oracle().check(sim)
    assert report.converged, report.explain()[:500]
    text = [str(workflow_table(sim, ids, max_rows=40)), report.explain(),
            str(event_log(sim, max_rows=40)), orders.explain(sim, ids[-1])]
    assert all(text)
    return time.perf_counter() - started


def best_of_three(small_count: int, large_count: int) -> tuple[float, float]:
    """The best time of each size over three runs, taken in turns (so a machine that speeds
    up or slows down favours neither)."""
    small = large = float("inf")
    for _ in range(3):
        small = min(small, report_seconds(small_count))
        large = min(large, report_seconds(large_count))
    return small, large


def main() -> None:
    report_seconds(50)  # warm up imports and caches
    small, large = best_of_three(SMALL, LARGE)
    print(f"{SMALL} orders: {small:.2f} s   {LARGE} orders: {large:.2f} s   "
          f"(target: {LARGE} in <= 10 s, and <= 12x the time of {SMALL})")
    gc.disable()  # for the reader: how much of the growth is CPython's cycle collector
    try:
        quiet_small, quiet_large = best_of_three(SMALL, LARGE)
    finally:
        gc.enable()
    print(f"with the cycle collector off: ratio {quiet_large / quiet_small:.1f} "
          "(the rest of the growth is its full collections of a larger heap)")
    print(f"scale orders={LARGE} seconds={large:.2f} baseline_orders={SMALL} "
          f"baseline_seconds={small:.2f} ratio={large / small:.1f}")


if __name__ == "__main__":
    main()
