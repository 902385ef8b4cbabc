"""The systems the chaos tests explore: the order saga (with services swapped in) and ten orders."""

from __future__ import annotations

from collections.abc import Callable

from choreo_lab import FaultPlan, Service, Simulation
from choreo_lab.examples.orders import order_services, order_system, place_orders, random_orders

#: ten orders, among them a declined card (o-9), an unicorn (o-4) and Atlantis (o-3)
TEN_ORDERS = random_orders(10, seed=4)


def ten_orders(sim: Simulation) -> None:
    place_orders(sim, TEN_ORDERS)


def saga(outbox: bool = True, **replacements: Service) -> Callable[[int, FaultPlan], Simulation]:
    """The system factory: the order saga (with services swapped in), jitter on."""
    def build(seed: int, faults: FaultPlan) -> Simulation:
        return order_system(seed, jitter=3, outbox=outbox, faults=faults,
                            services=order_services(**replacements))
    return build
