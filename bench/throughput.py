"""Throughput of the simulated broker, against a minimal deque broker measured in the same run.

Workload: fan-out. One topic, GROUPS consumer groups (services) each handling every event,
at-least-once with acks, the full trace on. The baseline is the smallest broker that could
still be called one: a deque per group, pop, call the handler, nothing else (no acks, no
retries, no trace, no virtual time). The ratio tells what the semantics cost.

Last line: throughput deliveries_per_s=<N> baseline_per_s=<M> ratio=<N/M>
"""

from __future__ import annotations

import sys
import time
from collections import deque
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from choreo_lab import Event, Service, Simulation  # noqa: E402

GROUPS = 6
EVENTS = 20_000
ROUNDS = 3


class Tick(Event):
    n: int


def make_services() -> list[Service]:
    services = []
    for index in range(GROUPS):
        service = Service(f"consumer-{index}")

        @service.handles(Tick)
        def count(event: Tick, ctx: object) -> None:
            return None

        services.append(service)
    return services


def run_choreo_lab() -> tuple[int, float]:
    sim = Simulation(make_services(), seed=1, latency=1, jitter=2)
    ticks = [Tick(n=i) for i in range(EVENTS)]
    started = time.perf_counter()
    for i, tick in enumerate(ticks):
        sim.publish(tick, key=f"k{i % 97}")
        if i % 500 == 499:
            sim.run_until_idle()
    sim.run_until_idle()
    elapsed = time.perf_counter() - started
    delivered = sum(stats["handled"] for stats in sim.stats().values())
    assert delivered == GROUPS * EVENTS, delivered
    assert len(sim.trace) > delivered  # the trace was on
    return delivered, elapsed


def run_baseline() -> tuple[int, float]:
    queues: list[deque] = [deque() for _ in range(GROUPS)]
    handlers = [lambda event: None for _ in range(GROUPS)]
    ticks = [Tick(n=i) for i in range(EVENTS)]
    delivered = 0
    started = time.perf_counter()
    for i, tick in enumerate(ticks):
        for queue in queues:
            queue.append(tick)
        if i % 500 == 499 or i == EVENTS - 1:
            for queue, handler in zip(queues, handlers):
                while queue:
                    handler(queue.popleft())
                    delivered += 1
    return delivered, time.perf_counter() - started


def best_rate(run) -> float:
    rates = []
    for _ in range(ROUNDS):
        delivered, elapsed = run()
        rates.append(delivered / elapsed)
    return max(rates)


def main() -> None:
    ours = best_rate(run_choreo_lab)
    baseline = best_rate(run_baseline)
    print(f"workload: {EVENTS} events x {GROUPS} groups, at-least-once with acks, trace on")
    print(f"throughput deliveries_per_s={ours:.0f} baseline_per_s={baseline:.0f} "
          f"ratio={ours / baseline:.3f}")


if __name__ == "__main__":
    main()
