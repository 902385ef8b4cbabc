"""Seeded chaos for the checks: the chaos explorer runs many fault schedules, the oracle judges.

The learner's payment service goes into the order saga; the explorer draws fault schedules
(lost acks, crashes, drops, delays, reorders, kills) from a seed, and the order saga's
consistency oracle must find every run converged. On a failure the learner sees the
smallest failing schedule the explorer could shrink it to, what broke, and the trace.
"""

from __future__ import annotations

from ..chaos import FaultSpace, explore
from ..examples.order_invariants import (
    order_oracle,  # choreo_lab.examples.orders.order_oracle after the examples split
)
from ..examples.orders import order_services, place_orders, random_orders
from ..faults import FaultPlan
from ..service import Service
from ..simulation import Simulation
from .feedback import explain, plural
from .scenarios import excerpt_heading, shown_records
from .tasks import Failed

#: Faults the explorer draws for the payment exercise (crashes only where the outbox allows).
PAYMENT_CHAOS = FaultSpace(kinds=("duplicate", "crash", "drop", "delay", "reorder", "kill"),
                           max_faults=3)


def explore_payment(payment: Service, *, schedules: int, seed: int, hint: str) -> None:
    """Fail with the smallest counterexample if any seeded schedule breaks the saga."""
    orders = random_orders(4, seed=seed, failure_rate=0.5)

    def system(sim_seed: int, faults: FaultPlan) -> Simulation:
        return Simulation(order_services(payment=payment), seed=sim_seed, faults=faults)

    def workload(sim: Simulation) -> None:
        place_orders(sim, orders)

    result = explore(system, workload, order_oracle(), schedules=schedules, seed=seed,
                     space=PAYMENT_CHAOS)
    counterexample = result.counterexample
    if counterexample is None:
        return
    violation = counterexample.violations[0]
    excerpt: list[str] = []
    if violation.subject.startswith("o-"):
        excerpt = [excerpt_heading(violation.subject),
                   *shown_records(counterexample.trace, violation.subject)[:15]]
    raise Failed(explain(
        f"The chaos explorer ran {plural(schedules, 'seeded fault schedule')} (seed {seed}); "
        f"{result.failed} broke the saga. The smallest failing schedule it found (simulation "
        f"seed {counterexample.seed}) breaks this invariant: {violation}",
        hint, counterexample.plan, excerpt))
