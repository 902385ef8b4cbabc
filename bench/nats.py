"""End-to-end throughput of the order saga on NATS JetStream, against raw nats-py in the same run.

Workload: ORDERS orders placed at once, all meant to succeed (stock for all), on one local
nats-server. Each of the four services is an OS process with its state in SQLite: every
delivery is fetched, handled, committed with its outgoing events (the outbox), published
with a message id and acked. One order is 5 events and 7 deliveries (the order service
follows every step). events_per_s counts deliveries handled per second, from the first
order placed until the system is quiet.

Baseline: the same number of messages published and then consumed and acked with nats-py
alone, in one process, batched the same way (no handler, no database, no outbox). The
ratio tells what running real services costs over moving the bytes.

Last line: nats events_per_s=<N> baseline_per_s=<M> ratio=<N/M>
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

# This file is called nats.py: its folder must not shadow the nats package it measures.
HERE = Path(__file__).resolve().parent
sys.path[:] = [str(HERE.parent)] + [p for p in sys.path if Path(p or ".").resolve() != HERE]

from choreo_lab.examples.orders import OrderRequested, random_orders  # noqa: E402
from choreo_lab.nats import NatsRuntime, NatsServer, missing_pieces, services_from  # noqa: E402

ORDERS = 3000
ROUNDS = 3
PLENTY = {"book": 10**9, "kettle": 10**9, "lamp": 10**9, "unicorn": 10**9}


def saga_round(server: NatsServer, round_number: int) -> float:
    """Deliveries handled per second by the saga, one round on a fresh run (its own streams)."""
    services = services_from("choreo_lab.examples.orders:order_services", stock=PLENTY)
    with NatsRuntime(services, server=server.url, run=f"BENCH{round_number}") as runtime:
        orders = [OrderRequested(**order)
                  for order in random_orders(ORDERS, seed=round_number, failure_rate=0.0)]
        start = time.perf_counter()
        runtime.publish_many((order, order.order_id) for order in orders)
        runtime.run_until_idle(timeout=300)
        elapsed = time.perf_counter() - start
        handled = sum(row["handled"] for row in runtime.stats().values())
    if handled != 7 * ORDERS:
        raise SystemExit(f"the saga handled {handled} deliveries, expected {7 * ORDERS}")
    return handled / elapsed


async def raw_round(url: str, messages: int, round_number: int) -> float:
    """Messages per second through JetStream with nats-py alone: publish, fetch, ack."""
    import nats
    from nats.js.api import AckPolicy, ConsumerConfig

    connection = await nats.connect(url)
    js = connection.jetstream()
    stream = f"RAW{round_number}"
    await js.add_stream(name=stream, subjects=[f"raw{round_number}.>"])
    await js.add_consumer(stream, ConsumerConfig(durable_name="raw", ack_policy=AckPolicy.EXPLICIT,
                                                 max_ack_pending=10_000))
    subscription = await js.pull_subscribe_bind("raw", stream=stream)
    body = b"x" * 300  # about the size of an order event on the wire
    start = time.perf_counter()
    confirmations = [await js.publish_async(f"raw{round_number}.orders", body,
                                            headers={"Nats-Msg-Id": f"raw-{n}"})
                     for n in range(messages)]
    await asyncio.gather(*confirmations)
    received = 0
    while received < messages:
        batch = await subscription.fetch(256, timeout=5)
        for message in batch:
            await message.ack()
        await connection.flush()
        received += len(batch)
    elapsed = time.perf_counter() - start
    await connection.close()
    return messages / elapsed


def main() -> None:
    missing = missing_pieces()
    if missing:
        raise SystemExit(f"bench/nats.py needs the nats extra: {missing}")
    with NatsServer() as server:
        saga = max(saga_round(server, n) for n in range(ROUNDS))
        raw = max(asyncio.run(raw_round(server.url, 7 * ORDERS, n)) for n in range(ROUNDS))
    print(f"order saga on NATS: {ORDERS} orders, {7 * ORDERS} deliveries, best of {ROUNDS}: "
          f"{saga:,.0f} deliveries/s; raw nats-py publish+fetch+ack: {raw:,.0f} messages/s")
    print(f"nats events_per_s={saga:.0f} baseline_per_s={raw:.0f} ratio={saga / raw:.2f}")


if __name__ == "__main__":
    main()
