"""The order saga's dashboard: place good and bad orders, watch the sagas and the lamp."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ...context import Context

from ...examples import orders
from ...examples.orders.shop import BAD_ORDERS
from ...faults import FaultPlan
from ...service import Handler, Service
from ...simulation import Simulation
from ..board import Dashboard, workflow_statuses
from ..snapshot import ConsistencyOracle

GOOD_CUSTOMERS = ("ada", "grace", "alan", "barbara")


COURIER_FAILS, COURIER_ANSWERS = "Courier stops answering", "Courier answers again"


class CourierDown(ConnectionError):
    """What shipping's handler raises while the dashboard's courier does not answer."""


class OrderDashboard(Dashboard):
    """The dashboard over the order saga, with buttons to place good and bad orders.

    `latency` and `jitter` (virtual ms) default higher than the runtime's so that play mode
    shows messages travelling; `scalable` names the services that get instance buttons;
    `processing_times` (service -> virtual ms per message) slows services down, e.g.
    ``{"shipping": 40}``; `rush` adds a button placing that many orders at once;
    `failing_courier` adds buttons that make shipping's courier stop answering (its messages
    are retried, then dead-lettered) and answer again (then Re-drive them); `title` heads the
    board (other services of the same shop, e.g. orchestrated ones, get another title);
    `sim_options` go to `Simulation` (services, faults, max_attempts, ...).
    """

    def __init__(self, seed: int = 0, *, oracle: ConsistencyOracle | None = None,
                 latency: int = 10, jitter: int = 4, scalable: Iterable[str] | None = None,
                 processing_times: Mapping[str, int] | None = None, rush: int | None = None,
                 failing_courier: bool = False, title: str = "Orders: a choreographed saga",
                 **sim_options: Any) -> None:
        #: while True, shipping cannot book a courier: its handler raises `CourierDown`
        self.courier_down = False
        slower = dict(processing_times or {})

        def system(seed: int, faults: FaultPlan) -> Simulation:
            self.courier_down = False  # every run (and every Reset) starts with a courier
            options = {"faults": faults, **sim_options}
            services = options.pop("services", None) or orders.order_services()
            services = [self._adjusted(service, slower, failing_courier) for service in services]
            return orders.order_system(seed, services=services, latency=latency, jitter=jitter,
                                       **options)

        actions = {"Place order": self._order_action({})}
        if rush:
            actions[f"Place {rush} orders at once"] = self._rush_action(rush)
        for problem, fields in BAD_ORDERS.items():
            actions[f"Order with {problem}"] = self._order_action(fields)
        if failing_courier:
            actions[COURIER_FAILS] = self._courier_action(down=True)
            actions[COURIER_ANSWERS] = self._courier_action(down=False)
        super().__init__(system, seed=seed,
                         oracle=oracle if oracle is not None else orders.order_oracle(),
                         workflows=workflow_statuses, actions=actions, scalable=scalable,
                         title=title)

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

    def place_orders(self, count: int) -> list[str]:
        """`count` good orders at once (the rush-hour button); returns their ids."""
        return [self.place_order() for _ in range(count)]

    def courier_fails(self) -> None:
        """From now on shipping's courier does not answer (needs ``failing_courier=True``)."""
        self.act(COURIER_FAILS)

    def courier_answers(self) -> None:
        """The courier answers again; re-drive the dead letters to ship what waited."""
        self.act(COURIER_ANSWERS)

    def _order_action(self, fields: dict[str, Any]) -> Callable[[Simulation], str]:
        return lambda sim: self._publish(sim, fields)

    def _rush_action(self, count: int) -> Callable[[Simulation], list[str]]:
        return lambda sim: [self._publish(sim, {}) for _ in range(count)]

    def _courier_action(self, *, down: bool) -> Callable[[Simulation], None]:
        def set_courier(sim: Simulation) -> None:
            self.courier_down = down
        return set_courier

    def _adjusted(self, service: Service, slower: Mapping[str, int],
                  failing_courier: bool) -> Service:
        """`service` slowed down and (shipping) given a courier that can fail: a copy."""
        if service.name not in slower and not (failing_courier and service.name == "shipping"):
            return service
        middleware = [self._courier] if service.name == "shipping" and failing_courier else []
        copy = service.wrapped(*middleware)
        copy.processing_time = slower.get(service.name, service.processing_time)
        return copy

    def _courier(self, handler: Handler) -> Handler:
        """Middleware: while the courier is down, booking fails (and the broker retries)."""
        def book_with_courier(event: Any, ctx: Context) -> Any:
            if self.courier_down:
                raise CourierDown("the courier does not answer")
            return handler(event, ctx)
        return book_with_courier

    def _publish(self, sim: Simulation, fields: dict[str, Any]) -> str:
        order_id = self.next_order_id()
        customer = GOOD_CUSTOMERS[(int(order_id[2:]) - 1) % len(GOOD_CUSTOMERS)]
        orders.place_order(sim, order_id, **{"customer": customer, **fields})
        return order_id


def order_dashboard(seed: int = 0, **options: Any) -> OrderDashboard:
    """The order saga's dashboard, ready to display: ``order_dashboard(seed=7)``."""
    return OrderDashboard(seed, **options)
