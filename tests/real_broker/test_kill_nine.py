"""kill -9 a service's processes while orders flow: nothing is lost and no effect doubles.

The services are the course's own order saga, each an OS process with its state in SQLite.
A worker is killed at a moment chosen by nobody (while it is working through a backlog),
so it may die before a commit, between a commit and the publishing of its outbox, or
between publishing and acking; the outbox, the broker's de-duplication and the saga's
idempotent handlers must together leave every order finished and every ledger right.
"""

from __future__ import annotations

import pytest

from choreo_lab.nats import NatsRuntime, services_from

from .saga import (
    SOURCE,
    Customers,
    States,
    handled,
    needs_nats,
    place_random_orders,
    wait_until_handled,
)

pytestmark = needs_nats
ORDERS = 600


@pytest.fixture
def runtime():
    with NatsRuntime(services_from(SOURCE), ack_wait=500) as running:
        yield running


def test_killing_services_mid_stream_loses_nothing_and_doubles_nothing(runtime):
    customers = Customers(runtime, ORDERS, spacing=0.004)
    customers.start()  # orders keep coming for ~2.5 s, so every kill lands mid-stream
    handled_when_killed = {}
    for victim in ("order", "payment", "inventory"):
        wait_until_handled(runtime, victim, at_least=handled(runtime, victim) + 20)
        runtime.kill(victim)  # kill -9, mid-stream
        assert runtime.status(victim) == "down" and runtime.pids(victim) == []
        handled_when_killed[victim] = handled(runtime, victim)
        runtime.restart(victim)
    customers.join()
    runtime.run_until_idle(timeout=60)
    for victim, before in handled_when_killed.items():
        assert handled(runtime, victim) > before, victim  # it was killed with work left to do
    states = States.of(runtime)
    assert states.violations() == []
    statuses = states.statuses([f"o-{n}" for n in range(1, ORDERS + 1)])
    assert set(statuses) <= {"shipped", "cancelled"}, statuses  # every order finished
    assert sum(statuses.values()) == ORDERS
    assert runtime.dead_letters == []
    ledger = states.state("payment")["ledger"]
    charges = {order_id: [e for e in entries if e["kind"] == "charge"]
               for order_id, entries in ledger.items()}
    assert all(len(each) == 1 for each in charges.values()), charges  # one charge per charged order


def test_a_service_killed_before_orders_arrive_catches_up_after_restart(runtime):
    runtime.kill("shipping")
    order_ids = place_random_orders(runtime, 40)
    runtime.run_until_idle(timeout=30)  # everything but shipping settles; shipping's backlog waits
    waiting = runtime.stats()["shipping"]["backlog"]
    assert waiting > 0
    assert States.of(runtime).statuses(order_ids)["shipped"] == 0
    runtime.restart("shipping")
    runtime.run_until_idle(timeout=30)
    states = States.of(runtime)
    assert states.violations() == []
    assert set(states.statuses(order_ids)) <= {"shipped", "cancelled"}
    assert len(states.state("shipping")["shipments"]) + len(states.state("shipping")["failed"]) \
        == waiting
