"""Property: whatever faults strike, once they stop and the run settles, nothing is lost.

Every message published is, for every group subscribed to its topic, either acked or
dead-lettered with a reason.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from choreo_lab import (Context, Crash, Delay, Drop, Duplicate, Event, Kill, Pause, Reorder,
                        Restart, Resume, Service, Simulation)
from choreo_lab.faults import CRASH_POINTS

SERVICES = ("order", "audit", "billing")


class Requested(Event):
    n: int


class Accepted(Event):
    n: int


class Recorded(Event):
    n: int


SUBSCRIBERS = {"Requested": ("order", "audit"), "Accepted": ("audit",), "Recorded": ("billing",)}


def flow(processing_times: tuple[int, int, int], instances: tuple[int, int, int]) -> list[Service]:
    """order: Requested -> Accepted; audit: both -> Recorded; billing: Recorded."""
    order, audit, billing = (
        Service(name, {"seen": []}, processing_time=time, instances=count)
        for name, time, count in zip(SERVICES, processing_times, instances))

    @order.handles(Requested)
    def accept(event: Requested, ctx: Context) -> Accepted:
        ctx.state["seen"].append(event.n)
        return Accepted(n=event.n)

    @audit.handles(Requested)
    def note_request(event: Requested, ctx: Context) -> None:
        ctx.state["seen"].append(event.n)

    @audit.handles(Accepted)
    def record(event: Accepted, ctx: Context) -> list[Recorded]:
        return [Recorded(n=event.n)]

    @billing.handles(Recorded)
    def bill(event: Recorded, ctx: Context) -> None:
        ctx.state["seen"].append(event.n)

    return [order, audit, billing]


service = st.sampled_from(SERVICES)
target = {"service": st.none() | service,
          "event_type": st.none() | st.sampled_from(tuple(SUBSCRIBERS)),
          "probability": st.sampled_from((0.1, 0.3, 0.5, 1.0)),
          "times": st.none() | st.integers(1, 3)}
lateness = st.integers(1, 40)
scheduled = st.one_of(*(st.builds(kind, service=service, at=st.integers(0, 120))
                        for kind in (Kill, Restart, Pause, Resume)))
delivery = st.one_of(st.builds(Duplicate, **target), st.builds(Drop, **target),
                     st.builds(Delay, by=lateness, **target),
                     st.builds(Reorder, by=lateness, **target),
                     st.builds(Crash, point=st.sampled_from(CRASH_POINTS), **target))
publications = st.lists(st.tuples(st.integers(0, 30), st.sampled_from(("k1", "k2", "k3"))),
                        min_size=1, max_size=6)


@settings(max_examples=150, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(faults=st.lists(st.one_of(scheduled, delivery), max_size=8),
       publications=publications, seed=st.integers(0, 1000), jitter=st.integers(0, 10),
       max_attempts=st.integers(1, 5), outbox=st.booleans(),
       processing_times=st.tuples(*[st.sampled_from((0, 2, 5))] * 3),
       instances=st.tuples(*[st.integers(1, 2)] * 3))
def test_after_faults_stop_every_message_is_acked_or_dead_lettered_by_every_group(
        faults, publications, seed, jitter, max_attempts, outbox, processing_times, instances):
    if any(getattr(fault, "point", None) == "after_write_before_publish" for fault in faults):
        outbox = False
    sim = Simulation(flow(processing_times, instances), seed=seed, jitter=jitter,
                     max_attempts=max_attempts, outbox=outbox, faults=faults)
    for n, (wait, key) in enumerate(publications):
        sim.run_for(wait)
        sim.publish(Requested(n=n), key=key)
    last_planned = max((getattr(fault, "at", 0) for fault in faults), default=0)
    sim.run_for(max(last_planned - sim.now, 0) + 1)  # every planned kill, pause, ... has happened
    for name in SERVICES:
        sim.restart(name)
        sim.resume(name)
    sim.run_until_idle()

    acked = {(r.message_id, r.service) for r in sim.trace if r.kind == "ack"}
    dead = {(letter.envelope.message_id, letter.group) for letter in sim.dead_letters}
    for envelope in sim.trace.messages.values():
        for group in SUBSCRIBERS[envelope.topic]:
            assert (envelope.message_id, group) in acked | dead, (
                f"{envelope.message_id} ({envelope.event}) lost for {group}\n"
                f"{sim.faults.describe()}\n{sim.trace.dump()}")
    assert all(letter.reason for letter in sim.dead_letters)
    for name, stats in sim.stats().items():
        assert (stats["status"], stats["backlog"], stats["in_flight"]) == ("up", 0, 0), name
