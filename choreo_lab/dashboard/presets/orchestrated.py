"""The orchestrated order flow's dashboard: the order dashboard, plus the orchestrator's saga
table — every order's state machine as the orchestrator holds it."""

from __future__ import annotations

from html import escape
from typing import Any

import ipywidgets as widgets

from ...examples import orchestrated
from ...simulation import Simulation
from .. import render
from .orders import OrderDashboard

#: the orchestrator's status of an order -> the reply it waits for next
WAITING_FOR: dict[str, str] = {
    "placed": "payment", "paid": "inventory", "reserved": "shipping",
    "cancelling": "the compensations", "shipped": "nothing (done)",
    "cancelled": "nothing (done)"}


def orchestrator_rows(sim: Simulation) -> list[tuple[str, str, str, str]]:
    """(order, status, facts learned, what it waits for), from the orchestrator's own state.

    Readable even while the orchestrator is down: its state is committed.
    """
    records = sim.state("order")["orders"]
    return [(order_id, record["status"], ", ".join(record["facts"]) or "-",
             WAITING_FOR.get(record["status"], "?")) for order_id, record in records.items()]


class OrchestratedOrderDashboard(OrderDashboard):
    """The order dashboard over the orchestrated services, with the orchestrator's saga table."""

    def __init__(self, seed: int = 0, **options: Any) -> None:
        self.orchestrator_table = widgets.HTML(description="")
        options.setdefault("oracle", orchestrated.orchestrated_oracle())
        super().__init__(seed, services=orchestrated.orchestrated_services(),
                         title="Orders: orchestrated", **options)
        self.widget = widgets.VBox([self.controls.root, self.orchestrator_table])

    def refresh(self) -> None:
        super().refresh()
        rows = [tuple(escape(cell) for cell in row) for row in orchestrator_rows(self.sim)]
        body = (render.table(rows, ("order", "status", "learned", "waits for"), wrap_last=True)
                if rows else "no orders yet")
        self.orchestrator_table.value = f"<b>The orchestrator's saga table</b><br>{body}"


def orchestrated_dashboard(seed: int = 0, **options: Any) -> OrchestratedOrderDashboard:
    """The orchestrated order flow's dashboard, ready to display: ``orchestrated_dashboard(7)``."""
    return OrchestratedOrderDashboard(seed, **options)
