"""Chaos explorer: speed, and how soon it finds each known bug, against random-only exploration.

Workload: the reference order saga (four services, jitter on), ten orders of which about a
third fail on purpose (declined card, out of stock, unshippable).

1. Speed. 1,000 schedules of the systematic explorer (the control run, every single fault
   at every delivery of it, then pairs, then random schedules), each run to quiescence and
   judged by the oracle. Baseline, in the same run: the same 1,000 ten-order runs with no
   faults and no oracle. Target: 1,000 schedules in at most 10 s on a 2-core laptop.
2. Schedules until the first failure, for each known-wrong variant of the saga (the ones
   the tests use), over five seeds: the systematic explorer against today's random-only
   explorer (`mode="random"` with the fixed fault window it had: 40 ms, outages up to
   120 ms, delays up to 60 ms). A random run that finds nothing within 200 schedules counts
   as 200 (it may never find it). The ratio is random / systematic: how many times sooner
   the bug is found, on average and for the unluckiest seed.

Last line: chaos schedules_per_s=<N> baseline_per_s=<M> ratio=<N/M> first_failure_ratio=<R>
worst_first_failure_ratio=<W> (geometric means over the variants of random / systematic
schedules until the first failure: R of the means over the seeds, W of the worst seeds).
"""

from __future__ import annotations

import math
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from choreo_lab import FaultPlan, Service, Simulation
from choreo_lab.chaos import FaultSpace, explore
from choreo_lab.examples.orders import (
    order_oracle,
    order_services,
    order_system,
    place_orders,
    random_orders,
)
from tests.chaos.broken_services import (
    inventory_that_never_releases,
    inventory_that_trusts_first_delivery,
    payment_that_charges_twice,
    payment_that_refunds_twice,
)

SCHEDULES = 1_000
ORDERS = random_orders(10, seed=4)  # one declined card, one out of stock, one unshippable
SEEDS = (1, 2, 3, 4, 5)
CAP = 200  # random schedules tried per seed before giving up
TODAYS_RANDOM_SPACE = FaultSpace(horizon=40, longest_outage=120, longest_delay=60)
System = Callable[[int, FaultPlan], Simulation]


def saga(outbox: bool = True, **replacements: Service) -> System:
    def system(seed: int, faults: FaultPlan) -> Simulation:
        return order_system(seed, jitter=3, outbox=outbox, faults=faults,
                            services=order_services(**replacements))
    return system


VARIANTS: dict[str, Callable[[], System]] = {
    "non-idempotent charge": lambda: saga(payment=payment_that_charges_twice()),
    "double refund": lambda: saga(payment=payment_that_refunds_twice()),
    "missing compensation": lambda: saga(inventory=inventory_that_never_releases()),
    "dual write, outbox off": lambda: saga(outbox=False),
    "drops redeliveries": lambda: saga(inventory=inventory_that_trusts_first_delivery()),
}


def workload(sim: Simulation) -> None:
    place_orders(sim, ORDERS)


def run_baseline() -> float:
    """Seconds for SCHEDULES fault-free runs of the same workload, without the oracle."""
    started = time.perf_counter()
    for seed in range(SCHEDULES):
        sim = saga()(seed, FaultPlan())
        workload(sim)
        sim.run_until_idle()
    return time.perf_counter() - started


def until_first_failure(system: System, seed: int, mode: str) -> tuple[int, bool]:
    """Schedules run until (and with) the first failing one, and whether one was found."""
    space = TODAYS_RANDOM_SPACE if mode == "random" else None
    result = explore(system, workload, order_oracle(), schedules=CAP, seed=seed, mode=mode,
                     space=space, shrink=False, stop_at_first_failure=True)
    first = result.first_failure
    return (first.index + 1, True) if first is not None else (CAP, False)


def compare_variants() -> list[tuple[float, float]]:
    """Print, per variant, schedules until the first failure in both modes; return the ratios
    (random / systematic) of the means and of the worst seeds."""
    ratios = []
    for name, make in VARIANTS.items():
        found = {mode: [until_first_failure(make(), seed, mode) for seed in SEEDS]
                 for mode in ("systematic", "random")}
        counts = {mode: [n for n, _ in runs] for mode, runs in found.items()}
        mean = statistics.mean(counts["random"]) / statistics.mean(counts["systematic"])
        worst = max(counts["random"]) / max(counts["systematic"])
        ratios.append((mean, worst))
        shown = {mode: " ".join(str(n) if hit else f">{n}" for n, hit in runs)
                 for mode, runs in found.items()}
        print(f"first failure  {name:<24} systematic [{shown['systematic']}]  "
              f"random [{shown['random']}]  mean ratio={mean:.1f}  worst ratio={worst:.1f}")
    return ratios


def geometric_mean(values: list[float]) -> float:
    return math.exp(statistics.mean(math.log(value) for value in values))


def main() -> int:
    baseline = run_baseline()
    started = time.perf_counter()
    result = explore(saga(), workload, order_oracle(), schedules=SCHEDULES, seed=1)
    elapsed = time.perf_counter() - started
    print(f"workload: {SCHEDULES} schedules x {len(ORDERS)} orders")
    print(result)
    print(f"chaos total_s={elapsed:.2f} passed={result.passed} failed={result.failed} "
          f"(target: <= 10 s; baseline total_s={baseline:.2f})")
    ratios = compare_variants()
    sooner = geometric_mean([mean for mean, _ in ratios])
    worst = geometric_mean([worst for _, worst in ratios])
    ours, theirs = SCHEDULES / elapsed, SCHEDULES / baseline
    print(f"chaos schedules_per_s={ours:.1f} baseline_per_s={theirs:.1f} "
          f"ratio={ours / theirs:.3f} first_failure_ratio={sooner:.1f} "
          f"worst_first_failure_ratio={worst:.1f}")
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
