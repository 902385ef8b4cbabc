"""The order saga's dashboard: place good and bad orders, watch the sagas and the lamp."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from ...examples import orders
from ...examples.orders.shop import BAD_ORDERS
from ...faults import FaultPlan
from ...simulation import Simulation
from ..board import Dashboard, workflow_statuses
from ..snapshot import ConsistencyOracle

GOOD_CUSTOMERS = ("ada", "grace", "alan", "barbara")


class OrderDashboard(Dashboard):
    """The dashboard over the order saga, with buttons to place good and bad orders.

    `latency` and `jitter` (virtual ms) default higher than the runtime's so that play mode
    shows messages travelling; `scalable` names the services that get instance buttons;
    `sim_options` go to `Simulation` (faults, max_attempts, ...).
    """

    def __init__(self, seed: int = 0, *, oracle: ConsistencyOracle | None = None,
                 latency: int = 10, jitter: int = 4, scalable: Iterable[str] | None = None,
                 **sim_options: Any) -> None:
        def system(seed: int, faults: FaultPlan) -> Simulation:
            return orders.order_system(seed, latency=latency, jitter=jitter,
                                       **{"faults": faults, **sim_options})

        actions = {"Place order": self._order_action({})}
        for problem, fields in BAD_ORDERS.items():
            actions[f"Order with {problem}"] = self._order_action(fields)
        super().__init__(system, seed=seed,
                         oracle=oracle if oracle is not None else orders.order_oracle(),
                         workflows=workflow_statuses, actions=actions, scalable=scalable,
                         title="Orders: a choreographed saga")

    def place_order(self, *, customer: str | None = None, item: str = "book", quantity: int = 1,
                    address: str = "1 Main St") -> str:
        """A customer orders (the saga starts when you step or run); returns the order id."""
        fields = {"item": item, "quantity": quantity, "address": address}
        if customer is not None:
            fields["customer"] = customer
        order_id = self.next_order_id()
        self._do(f"placed order {order_id}", lambda sim: self._publish(sim, fields))
        return order_id

    def place_bad_order(self, problem: str) -> str:
        """An order that fails on purpose; `problem` is one of the keys of `BAD_ORDERS`."""
        if problem not in BAD_ORDERS:
            raise ValueError(f"no bad order {problem!r}; choose one of {list(BAD_ORDERS)}")
        return self.place_order(**BAD_ORDERS[problem])  # type: ignore[arg-type]

    def next_order_id(self) -> str:
        """o-1, o-2, ...: one more than the orders requested so far in this run."""
        return f"o-{len(self.sim.topics.get('OrderRequested', [])) + 1}"

    def _order_action(self, fields: dict[str, Any]) -> Callable[[Simulation], str]:
        return lambda sim: self._publish(sim, fields)

    def _publish(self, sim: Simulation, fields: dict[str, Any]) -> str:
        order_id = self.next_order_id()
        customer = GOOD_CUSTOMERS[(int(order_id[2:]) - 1) % len(GOOD_CUSTOMERS)]
        orders.place_order(sim, order_id, **{"customer": customer, **fields})
        return order_id


def order_dashboard(seed: int = 0, **options: Any) -> OrderDashboard:
    """The order saga's dashboard, ready to display: ``order_dashboard(seed=7)``."""
    return OrderDashboard(seed, **options)
