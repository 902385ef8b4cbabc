"""Beyond one server: a three-node JetStream cluster on loopback, streams replicated three times.

One server is killed (kill -9) while the saga runs - the one leading the run's stream, so
the cluster must elect a new leader - and the clients fail over to the other two. With
replicas=3 the two survivors hold every message, so nothing is lost.
"""

from __future__ import annotations

import pytest

from choreo_lab.nats import NatsCluster, NatsRuntime, services_from

from .saga import SOURCE, Customers, States, handled, needs_nats, wait_until_handled

pytestmark = needs_nats
ORDERS = 200


@pytest.fixture
def cluster():
    with NatsCluster(3) as running:
        yield running


def test_killing_the_stream_leader_of_a_three_node_cluster_loses_nothing(cluster):
    with NatsRuntime(services_from(SOURCE), server=cluster.urls, replicas=3,
                     ack_wait=1000) as runtime:
        customers = Customers(runtime, ORDERS, spacing=0.005)
        customers.start()
        wait_until_handled(runtime, "payment", at_least=20)
        leader = runtime.stream_leader()
        [victim] = [member for member in cluster.members if member.name == leader]
        victim.kill()  # kill -9 of the server that leads the stream
        customers.join()
        runtime.run_until_idle(timeout=60)
        assert runtime.stream_leader() not in (None, leader)
        states = States.of(runtime)
        assert states.violations() == []
        statuses = states.statuses([f"o-{n}" for n in range(1, ORDERS + 1)])
        assert set(statuses) <= {"shipped", "cancelled"}, statuses
        assert sum(statuses.values()) == ORDERS
        assert handled(runtime, "order") >= 3 * ORDERS  # placed, then paid/declined, then more
