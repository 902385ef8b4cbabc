"""The order saga on NATS for the tests here: place orders, and judge the services' states."""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Any

import pytest

from choreo_lab.examples.orders import ORDER_INVARIANTS, OrderRequested, random_orders
from choreo_lab.nats import missing_pieces
from choreo_lab.nats.snapshot import StateSnapshot
from choreo_lab.nats.store import read_counters

needs_nats = [pytest.mark.nats,
              pytest.mark.skipif(missing_pieces() is not None,
                                 reason=f"the NATS backend cannot run here: {missing_pieces()}")]
SOURCE = "choreo_lab.examples.orders:order_services"


def place_random_orders(runtime: Any, count: int, seed: int = 7,
                        spacing: float = 0.0) -> list[str]:
    """Publish `count` seeded order requests (about 30% fail on purpose), `spacing` s apart."""
    orders = random_orders(count, seed=seed)
    for order in orders:
        runtime.publish(OrderRequested(**order), correlation_id=order["order_id"],
                        producer="customer")
        time.sleep(spacing)
    return [order["order_id"] for order in orders]


class Customers(threading.Thread):
    """Places seeded orders from a thread of its own while the test breaks things; `join()`
    re-raises what went wrong in it."""

    def __init__(self, runtime: Any, count: int, spacing: float) -> None:
        super().__init__(name="customers")
        self.runtime, self.count, self.spacing = runtime, count, spacing
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            place_random_orders(self.runtime, self.count, spacing=self.spacing)
        except BaseException as error:  # noqa: BLE001 - handed to the test in join()
            self.error = error

    def join(self, timeout: float | None = None) -> None:
        super().join(timeout)
        if self.error is not None:
            raise self.error


def handled(runtime: Any, service: str) -> int:
    """How many messages the service has handled, from its own database."""
    return read_counters(runtime.directory / f"{service}.sqlite").get("handled", 0)


def wait_until_handled(runtime: Any, service: str, at_least: int, timeout: float = 20) -> int:
    """Poll the service's own database until it has handled `at_least` messages; how many."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        count = handled(runtime, service)
        if count >= at_least:
            return count
        time.sleep(0.005)
    raise AssertionError(f"{service} handled fewer than {at_least} messages in {timeout} s")


class States(StateSnapshot):
    """The services' states, judged by the order saga's invariants."""

    def violations(self) -> list[str]:  # type: ignore[override]
        """At most one charge, refunds after charges, stock conserved, amounts, settled orders."""
        return super().violations(ORDER_INVARIANTS)

    def statuses(self, order_ids: list[str]) -> Counter[str]:
        orders = self.states["order"]["orders"]
        return Counter(orders[o]["status"] if o in orders else "never placed" for o in order_ids)
