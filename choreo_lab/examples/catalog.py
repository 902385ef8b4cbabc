"""The course's workflows by name: what `choreo-lab run <workflow>` and the backends start.

Each entry says how to build the workflow's services, how to start some work in a runtime
(seeded, so the same call starts the same work), its oracle, and how to explain one
workflow instance in words. Examples register here; apps read this, never an example
directly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..consistency import Oracle
from ..faults import FaultPlan
from ..service import Service
from ..simulation import Simulation
from ..text import did_you_mean


@dataclass(frozen=True)
class Workflow:
    """One of the course's workflows, as the runners need it.

    - `services()`: fresh service definitions (the same ones every backend runs).
    - `start(runtime, count, seed)`: publish the work for `count` workflow instances; returns
      their ids (correlation ids).
    - `oracle()`: its invariants.
    - `explain(sim, workflow_id)`: one instance in words (e.g. "where is my order?").
    - `system(seed, faults)`: a simulation of it (the dashboard's and the explorer's signature).
    - `needs`: what a runtime must offer to run it (e.g. "timers"; see `Features`).
    """

    name: str
    summary: str
    services: Callable[[], list[Service]]
    start: Callable[[object, int, int], list[str]]
    oracle: Callable[[], Oracle]
    explain: Callable[[Simulation, str], str]
    options: dict[str, int]  # Simulation settings that make the terminal run readable
    needs: tuple[str, ...] = ()  # runtime features it cannot run without (`Features` names)

    def system(self, seed: int | str, faults: FaultPlan | None = None) -> Simulation:
        return Simulation(self.services(), seed=seed, faults=faults, **self.options)


def _orders() -> Workflow:
    from . import orders

    def start(runtime: object, count: int, seed: int) -> list[str]:
        placed = orders.place_orders(runtime, orders.random_orders(count, seed=seed))  # type: ignore[arg-type]
        return [envelope.correlation_id for envelope in placed]

    return Workflow("orders", "the order saga: payment, inventory and shipping, compensated",
                    orders.order_services, start, orders.order_oracle,
                    lambda sim, order_id: str(orders.where_is(sim, order_id)),
                    {"latency": 5, "jitter": 3})


def _notifications() -> Workflow:
    from . import notifications

    def start(runtime: object, count: int, seed: int) -> list[str]:
        registered = notifications.sign_up(runtime, notifications.random_signups(count, seed))  # type: ignore[arg-type]
        return [envelope.correlation_id for envelope in registered]

    return Workflow("notifications", "the fan-out: email, analytics, crm and a timed campaign "
                    "each consume UserRegistered", notifications.notification_services, start,
                    notifications.notification_oracle, notifications.where_is_user,
                    {"latency": 5, "jitter": 3}, needs=("timers",))


def _content() -> Workflow:
    from . import content

    def start(runtime: object, count: int, seed: int) -> list[str]:
        uploaded = content.upload_all(runtime, content.random_uploads(count, seed))  # type: ignore[arg-type]
        return list(dict.fromkeys(envelope.correlation_id for envelope in uploaded))

    return Workflow("content", "the publishing pipeline: moderation, slow transcoding, "
                    "version-safe publishing", content.content_services, start,
                    content.content_oracle, content.where_is_content,
                    {"latency": 5, "jitter": 3})


#: name -> how to build the entry (imported only when asked for)
WORKFLOWS: dict[str, Callable[[], Workflow]] = {"orders": _orders,
                                                "notifications": _notifications,
                                                "content": _content}


def workflow(name: str) -> Workflow:
    """The workflow called `name`, or a `ValueError` naming the ones there are."""
    build = WORKFLOWS.get(name)
    if build is None:
        raise ValueError(f"no workflow {name!r}; the course has: {', '.join(WORKFLOWS)}."
                         f"{did_you_mean(name, WORKFLOWS)}")
    return build()


def _orders_orchestrated() -> Workflow:
    from . import orchestrated, orders

    def start(runtime: object, count: int, seed: int) -> list[str]:
        placed = orders.place_orders(runtime, orders.random_orders(count, seed=seed))  # type: ignore[arg-type]
        return [envelope.correlation_id for envelope in placed]

    return Workflow("orders-orchestrated", "the order flow orchestrated: one orchestrator "
                    "commands payment, inventory and shipping", orchestrated.orchestrated_services,
                    start, orchestrated.orchestrated_oracle, orchestrated.orchestrator_view,
                    {"latency": 5, "jitter": 3})


WORKFLOWS["orders-orchestrated"] = _orders_orchestrated
