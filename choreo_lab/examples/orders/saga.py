"""The order saga run together: a simulation of the four services, and customers placing orders."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ...envelope import Envelope
from ...service import Service
from ...simulation import Simulation
from .events import OrderRequested
from .services import order_services


def order_system(seed: int | str = 0, *, stock: dict[str, int] | None = None,
                 services: list[Service] | None = None, **options: Any) -> Simulation:
    """A simulation of the order saga. `options` go to `Simulation` (latency, faults, ...)."""
    return Simulation(services if services is not None else order_services(stock=stock),
                      seed=seed, **options)


def place_order(sim: Simulation, order_id: str, *, customer: str = "ada", item: str = "book",
                quantity: int = 1, address: str = "1 Main St") -> Envelope:
    """A customer places an order: OrderRequested goes to the order service; the saga follows.

    The order id is the workflow's correlation id and the partition key of all its messages.
    """
    return sim.publish(OrderRequested(order_id=order_id, customer=customer, item=item,
                                      quantity=quantity, address=address),
                       correlation_id=order_id, producer="customer")


def place_orders(sim: Simulation, orders: Iterable[dict[str, Any]]) -> list[Envelope]:
    """Place each order, given as a dict of `place_order`'s arguments (as `random_orders` makes)."""
    return [place_order(sim, **order) for order in orders]
