"""One dashboard refresh, against a plain-text rendering of the same data in the same run.

Workload: the order saga plus two observer services (6 services), about 200 orders with
failures and compensations (at least 1,000 events published), shipping killed so a backlog
is waiting and the lamp is amber. A refresh reads the simulation (stats, backlogs, the
consistency oracle, every saga's status, the latest log records, dead letters), renders
the HTML and sets the widget values. The baseline reads the same data the simplest way
(the latest log records from a pass over the whole trace) and formats it as a plain text
table. Both run the same oracle, which takes most of the time; the dashboard reads the
trace incrementally, which is why the ratio can fall below 1.
Target: a refresh stays at or below 50 ms.

Last line: dashboard refresh_ms=<N> baseline_ms=<M> ratio=<N/M>
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from choreo_lab import Service  # noqa: E402
from choreo_lab.examples.orders import order_oracle  # noqa: E402
from choreo_lab.dashboard import Dashboard  # noqa: E402
from choreo_lab.dashboard.snapshot import LOG_LENGTH  # noqa: E402
from choreo_lab.dashboard.board import workflow_statuses as order_workflows  # noqa: E402
from choreo_lab.examples import orders  # noqa: E402
from choreo_lab.faults import FaultPlan  # noqa: E402
from choreo_lab.simulation import Simulation  # noqa: E402

EVENTS = 1_000
ROUNDS = 30
TARGET_MS = 50.0


def observers() -> list[Service]:
    """Two more services that only watch: analytics and notifications."""
    analytics = Service("analytics", {"seen": 0})
    notifications = Service("notifications", {"sent": 0})

    def count(event: object, ctx) -> None:
        ctx.state["seen"] += 1

    def notify(event: object, ctx) -> None:
        ctx.state["sent"] += 1

    analytics.handles(orders.OrderPlaced)(count)
    analytics.handles(orders.PaymentCompleted)(count)
    notifications.handles(orders.ShipmentScheduled)(notify)
    notifications.handles(orders.ShipmentFailed)(notify)
    return [analytics, notifications]


def busy_system(seed: int, faults: FaultPlan | None = None) -> Simulation:
    sim = Simulation([*orders.order_services(stock={"book": 10_000, "kettle": 10_000,
                                                    "lamp": 3, "unicorn": 0}), *observers()],
                     seed=seed, latency=10, jitter=4, faults=faults)
    for index, order in enumerate(orders.random_orders(400, seed)):
        if len(sim.trace.messages) >= EVENTS:
            break
        if index == 150:
            sim.kill("shipping")
        orders.place_order(sim, **order)
        sim.run_for(5)
    sim.run_until_idle()
    return sim


def text_table(sim: Simulation, oracle) -> str:
    """The baseline: the same data, read the same way, as plain text."""
    lines = [f"t={sim.now} seed={sim.seed} messages={len(sim.trace.messages)}"]
    for name, stats in sim.stats().items():
        waiting = ", ".join(f"{t} {n}" for t, n in sim.backlog(name).items() if n)
        lines.append(f"{name:<14} {stats['status']:<7} backlog={stats['backlog']:<4} "
                     f"in_flight={stats['in_flight']} handled={stats['handled']} "
                     f"retried={stats['retried']} dead={stats['dead_lettered']} {waiting}")
    report = oracle.check(sim)
    lines.append(report.explain().splitlines()[0])
    statuses = order_workflows(sim)
    lines += [f"{w:<8} {s}" for w, s in list(statuses.items())[-25:]]
    records = list(sim.trace)[-LOG_LENGTH:]
    lines += [str(r) for r in reversed(records)]
    lines += [str(letter) for letter in sim.dead_letters[-20:]]
    return "\n".join(lines)


def median_ms(run, rounds: int = ROUNDS) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    dash = Dashboard(busy_system, seed=1, oracle=order_oracle(), workflows=order_workflows)
    sim = dash.sim
    assert len(sim.services) == 6 and len(sim.trace.messages) >= EVENTS
    assert len(dash.snapshot.log) == LOG_LENGTH  # the log is bounded
    oracle = order_oracle()
    text_table(sim, oracle)  # warm up both
    dash.refresh()
    refresh = median_ms(dash.refresh)
    baseline = median_ms(lambda: text_table(sim, oracle))
    checking = median_ms(lambda: oracle.check(sim))
    print(f"workload: {len(sim.services)} services, {len(sim.trace.messages)} events published, "
          f"{len(sim.trace)} trace records, {len(dash.snapshot.workflows)} sagas, "
          f"lamp {dash.lamp_state}; median of {ROUNDS} rounds")
    print(f"of which the consistency oracle's check: {checking:.2f} ms (in both)")
    print(f"target: refresh <= {TARGET_MS:.0f} ms: {'met' if refresh <= TARGET_MS else 'MISSED'}")
    print(f"dashboard refresh_ms={refresh:.2f} baseline_ms={baseline:.2f} "
          f"ratio={refresh / baseline:.3f}")


if __name__ == "__main__":
    main()
