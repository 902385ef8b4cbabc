"""choreo_lab against the in-process brokers people would otherwise use, on the same workload.

Workload: fan-out. EVENTS events published, GROUPS consumer groups each handling every one
of them (a handler that does nothing), each delivery acknowledged. The peers, each in its
in-process, test or single-threaded mode (the `bench` extra installs them; a peer that is
not installed is skipped and named):

- kombu's memory transport: a fanout exchange, one queue per group, `get()` and `ack()`.
- eventsourcing's SingleThreadedRunner: a System of one leader and GROUPS followers, each a
  ProcessApplication whose policy does nothing; events stored in its in-memory POPO store.
- FastStream's TestKafkaBroker: one subscriber per group, messages published in-process.

choreo_lab runs with its trace on, at-least-once with acks, and per-key order.
Last line: peers choreo_per_s=<N> fastest_peer=<name> fastest_peer_per_s=<M> ratio=<N/M>
"""

from __future__ import annotations

import asyncio
import functools
import gc
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from choreo_lab import Event, Service, Simulation  # noqa: E402

GROUPS = 6
EVENTS = 3_000
ROUNDS = 5


class Tick(Event):
    n: int


def choreo_lab_fan_out() -> int:
    services = []
    for index in range(GROUPS):
        service = Service(f"consumer-{index}")

        @service.handles(Tick)
        def count(event: Tick, ctx: object) -> None:
            return None

        services.append(service)
    sim = Simulation(services, seed=1)
    for n in range(EVENTS):
        sim.publish(Tick(n=n), key=f"k{n % 97}")
    sim.run_until_idle()
    return sum(stats["handled"] for stats in sim.stats().values())


def kombu_fan_out() -> int:
    from kombu import Connection, Exchange, Queue

    exchange = Exchange("ticks", type="fanout")
    delivered = 0
    with Connection("memory://") as connection:
        channel = connection.channel()
        queues = [Queue(f"group-{index}", exchange)(channel) for index in range(GROUPS)]
        for queue in queues:
            queue.declare()
        producer = connection.Producer(channel)
        for n in range(EVENTS):
            producer.publish({"n": n}, exchange=exchange, serializer="json")
        for queue in queues:
            while (message := queue.get(no_ack=False)) is not None:
                message.payload  # noqa: B018 - the consumer reads what it was sent
                message.ack()
                delivered += 1
    return delivered


@functools.cache
def eventsourcing_system() -> tuple[type, list[type], type]:
    """The leader, its followers and the runner class (eventsourcing registers classes once)."""
    from eventsourcing.application import Application
    from eventsourcing.domain import Aggregate, event
    from eventsourcing.system import ProcessApplication, SingleThreadedRunner

    class Clock(Aggregate):
        @event("Started")
        def __init__(self) -> None:
            self.n = 0

        @event("Ticked")
        def tick(self) -> None:
            self.n += 1

    class Ticker(Application):
        def run(self) -> None:
            clock = Clock()
            self.save(clock)
            for _ in range(EVENTS - 1):  # the creation counts as the first event
                clock.tick()
                self.save(clock)

    followers = [type(f"Follower{index}", (ProcessApplication,),
                      {"policy": lambda self, domain_event, processing_event: None,
                       "__module__": __name__, "__qualname__": f"Follower{index}"})
                 for index in range(GROUPS)]
    return Ticker, followers, SingleThreadedRunner


def eventsourcing_fan_out() -> int:
    from eventsourcing.system import System

    ticker, followers, runner_class = eventsourcing_system()
    runner = runner_class(System(pipes=[[ticker, follower] for follower in followers]))
    runner.start()
    runner.get(ticker).run()
    delivered = sum(runner.get(follower).recorder.max_tracking_id(ticker.name) or 0
                    for follower in followers)
    runner.stop()
    return delivered


def faststream_fan_out() -> int:
    from faststream.kafka import KafkaBroker, TestKafkaBroker

    broker = KafkaBroker()
    counts = [0] * GROUPS

    def subscriber(index: int) -> None:
        @broker.subscriber("ticks", group_id=f"group-{index}")
        async def count(body: dict) -> None:
            counts[index] += 1

    for index in range(GROUPS):
        subscriber(index)

    async def run() -> None:
        async with TestKafkaBroker(broker) as test_broker:
            for n in range(EVENTS):
                await test_broker.publish({"n": n}, "ticks")

    asyncio.run(run())
    return sum(counts)


PEERS: dict[str, Callable[[], int]] = {
    "kombu-memory": kombu_fan_out,
    "eventsourcing-single-threaded": eventsourcing_fan_out,
    "faststream-test-kafka": faststream_fan_out,
}


def rate(run: Callable[[], int]) -> float:
    """Deliveries per second of one run (checked complete), with the garbage of earlier
    runs collected first, so that no run pays for another's."""
    gc.collect()
    started = time.perf_counter()
    delivered = run()
    elapsed = time.perf_counter() - started
    assert delivered == GROUPS * EVENTS, f"{run.__name__} delivered {delivered}"
    return delivered / elapsed


def best_rates(runs: dict[str, Callable[[], int]]) -> dict[str, float]:
    """The fastest of ROUNDS runs of each, taken in turns (choreo_lab, each peer, again ...)
    so that a machine busy for a moment slows all of them alike, not one."""
    best = dict.fromkeys(runs, 0.0)
    for _ in range(ROUNDS):
        for name, run in runs.items():
            best[name] = max(best[name], rate(run))
    return best


def installed(peers: dict[str, Callable[[], int]]) -> dict[str, Callable[[], int]]:
    """The peers that can run here (one run each to find out); the others are named."""
    found = {}
    for name, run in peers.items():
        try:
            run()
        except ImportError as missing:
            print(f"  {name:<31} not installed ({missing.name}); pip install -e '.[bench]'")
            continue
        found[name] = run
    return found


def main() -> None:
    print(f"workload: {EVENTS} events x {GROUPS} groups, each delivery acknowledged; "
          f"best of {ROUNDS} rounds, taken in turns")
    peers = installed(PEERS)
    measured = best_rates({"choreo_lab": choreo_lab_fan_out, **peers})
    choreo = measured.pop("choreo_lab")
    print(f"  choreo_lab                      {choreo:>10,.0f} deliveries/s")
    if not peers:
        raise SystemExit("no peer installed: pip install -e '.[bench]'")
    for name, per_s in measured.items():
        print(f"  {name:<31} {per_s:>10,.0f} deliveries/s  (choreo_lab x{choreo / per_s:.1f})")
    fastest = max(measured, key=measured.__getitem__)
    print(f"peers choreo_per_s={choreo:.0f} fastest_peer={fastest} "
          f"fastest_peer_per_s={measured[fastest]:.0f} ratio={choreo / measured[fastest]:.2f}")


if __name__ == "__main__":
    main()
