"""Chaos knobs: duplicate / delay / drop rates turned into delivery faults of a running sim."""

from __future__ import annotations

from ..faults import SCHEDULED_KINDS, Delay, Drop, Duplicate, FaultPlan
from ..simulation import Simulation

DELAY_BY = 50  # virtual ms a delayed delivery arrives late


def chaos_plan(duplicate: float = 0.0, delay: float = 0.0, drop: float = 0.0) -> FaultPlan:
    """Delivery faults that hit every service with the given probabilities (0 = off)."""
    for name, rate in (("duplicate", duplicate), ("delay", delay), ("drop", drop)):
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"the {name} rate must be between 0 and 1 (a probability), got {rate}")
    faults: list[Duplicate | Delay | Drop] = []
    if duplicate:
        faults.append(Duplicate(probability=duplicate))
    if delay:
        faults.append(Delay(probability=delay, by=DELAY_BY))
    if drop:
        faults.append(Drop(probability=drop))
    return FaultPlan(faults=tuple(faults))


def inject_chaos(sim: Simulation, base: FaultPlan, knobs: FaultPlan) -> None:
    """From now on, `sim` injects the delivery faults of `base` (its own plan) plus `knobs`."""
    delivery = tuple(f for f in base.faults if f.kind not in SCHEDULED_KINDS)
    sim.set_delivery_faults(FaultPlan(faults=delivery) + knobs)
