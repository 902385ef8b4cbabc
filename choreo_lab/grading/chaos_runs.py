"""Seeded chaos for the checks: the chaos explorer tries every single fault, the oracle judges.

The learner's payment service goes into the order saga. The explorer runs the saga once
without faults, then tries every single fault on payment's deliveries in that run (a lost
ack, a crash at each crash point, a drop, a delay, a reorder, a kill of payment at that
moment), then pairs of faults, then seeded random schedules; the order saga's consistency
oracle must find every run converged. So a handler that breaks under one fault is caught
whatever the seed. On a failure the learner sees the first failing schedule shrunk to the
smallest the explorer could find, what broke, and the trace.
"""

from __future__ import annotations

from ..chaos import FaultSpace, explore
from ..examples.orders import order_oracle, order_services, place_orders, random_orders
from ..faults import FaultPlan
from ..service import Service
from ..simulation import Simulation
from .audit import AuditedSimulation
from .feedback import explain, fault_calls, plural
from .scenarios import excerpt_heading, shown_records
from .tasks import Failed

#: Faults the explorer tries for the payment exercise: on payment's own deliveries and on
#: payment itself (crashes only where the outbox allows).
PAYMENT_CHAOS = FaultSpace(kinds=("duplicate", "crash", "drop", "delay", "reorder", "kill"),
                           max_faults=3, services=("payment",))


def explore_payment(payment: Service, *, schedules: int, seed: int, hint: str) -> None:
    """Fail with the smallest counterexample if any schedule of the exploration breaks the saga."""
    orders = random_orders(4, seed=seed, failure_rate=0.5)

    def system(sim_seed: int, faults: FaultPlan) -> Simulation:
        return AuditedSimulation(order_services(payment=payment), seed=sim_seed, faults=faults)

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
    coverage = result.coverage
    first = result.first_failure
    replay = ("Replay it (each schedule runs with its own simulation seed, which the explorer "
              f"derives from its seed {seed}):\n"
              "  from choreo_lab import Simulation, Crash, Delay, Drop, Duplicate, Kill, Reorder, "
              "Restart\n"
              "  from choreo_lab.examples.orders import order_services, place_orders, "
              "random_orders\n"
              "  sim = Simulation(order_services(payment=make_payment_service()), "
              f"seed={counterexample.seed}, faults=[{fault_calls(counterexample.plan)}])\n"
              f"  place_orders(sim, random_orders(4, seed={seed}, failure_rate=0.5))\n"
              "  sim.run_until_idle(); print(sim.trace.dump())")
    raise Failed(explain(
        f"The chaos explorer ran {plural(result.schedules, 'fault schedule')}: the control run "
        f"without faults, {coverage.singles_tried} of the {coverage.single_faults} single faults "
        f"at payment's {plural(coverage.sites, 'delivery', 'deliveries')}, then pairs and random "
        f"schedules. {result.failed} of them broke the saga, the first being schedule "
        f"{first.index} ({first.phase}). The smallest failing schedule breaks this invariant: "
        f"{violation}", hint + "\n" + replay, None, excerpt))
