"""Contract: timers. A handler schedules an event for later; the broker keeps the schedule.

A timer fires once, at its time, even if its service was killed and restarted meanwhile; a
cancelled timer never fires; the same seed gives the same timers.
"""

from __future__ import annotations

import pytest

from choreo_lab import Context, Event, Service

DAY = 24 * 60 * 60 * 1000  # virtual ms


class UserRegistered(Event):
    user_id: str


class UserUnsubscribed(Event):
    user_id: str


class TipDue(Event):
    user_id: str
    day: int


def campaign() -> Service:
    service = Service("campaign", {"sent": []})

    @service.handles(UserRegistered)
    def plan_tips(event: UserRegistered, ctx: Context) -> None:
        for day in (3, 7):
            ctx.schedule(TipDue(user_id=event.user_id, day=day), after=day * DAY,
                         name=f"day-{day}/{event.user_id}")

    @service.handles(TipDue)
    def send_tip(event: TipDue, ctx: Context) -> None:
        ctx.state["sent"].append((event.user_id, event.day, ctx.now // DAY))

    @service.handles(UserUnsubscribed)
    def stop_tips(event: UserUnsubscribed, ctx: Context) -> None:
        for day in (3, 7):
            ctx.cancel(f"day-{day}/{event.user_id}")

    return service


@pytest.mark.feature("timers", "virtual_time")
def test_a_timer_fires_once_at_its_time(backend):
    sim = backend.make([campaign()])
    sim.publish(UserRegistered(user_id="ada"), correlation_id="ada")
    sim.run_until_idle()
    assert sim.state("campaign")["sent"] == [("ada", 3, 3), ("ada", 7, 7)]


@pytest.mark.feature("timers", "virtual_time")
def test_a_timer_fires_although_its_service_was_down_and_is_handled_after_restart(backend):
    sim = backend.make([campaign()])
    sim.publish(UserRegistered(user_id="ada"), correlation_id="ada")
    sim.run_for(DAY)
    sim.kill("campaign")
    sim.run_for(4 * DAY)  # the day-3 timer fires while the service is down
    assert sim.state("campaign")["sent"] == []
    sim.restart("campaign")
    sim.run_until_idle()
    assert [(user, day) for user, day, _ in sim.state("campaign")["sent"]] == [("ada", 3), ("ada", 7)]


@pytest.mark.feature("timers", "virtual_time")
def test_a_cancelled_timer_never_fires(backend):
    sim = backend.make([campaign()])
    sim.publish(UserRegistered(user_id="ada"), key="ada", correlation_id="ada")
    sim.publish(UserRegistered(user_id="alan"), key="alan", correlation_id="alan")
    sim.run_for(4 * DAY)
    sim.publish(UserUnsubscribed(user_id="ada"), key="ada")
    sim.run_until_idle()
    assert sim.state("campaign")["sent"] == [("ada", 3, 3), ("alan", 3, 3), ("alan", 7, 7)]


@pytest.mark.feature("timers", "virtual_time")
def test_a_redelivered_message_sets_its_timer_once(backend):
    from choreo_lab import Duplicate
    sim = backend.make([campaign()], faults=[Duplicate(event_type=UserRegistered, times=1)])
    sim.publish(UserRegistered(user_id="ada"), correlation_id="ada")
    sim.run_until_idle()
    assert sim.state("campaign")["sent"] == [("ada", 3, 3), ("ada", 7, 7)]


@pytest.mark.feature("timers", "trace", "deterministic")
def test_timers_are_traced_and_the_same_seed_gives_the_same_trace(backend):
    def run():
        sim = backend.make([campaign()], seed=5, jitter=3)
        for user in ("ada", "alan"):
            sim.publish(UserRegistered(user_id=user), key=user, correlation_id=user)
        sim.publish(UserUnsubscribed(user_id="alan"), key="alan", correlation_id="alan")
        sim.run_until_idle()
        return sim

    first = run()
    assert first.trace.dump() == run().trace.dump()
    kinds = [record.kind for record in first.trace.for_correlation("ada")]
    assert kinds.count("timer-set") == 2 and kinds.count("timer-fire") == 2
    set_at = first.trace.where(kind="timer-set", correlation_id="alan")[0].time
    assert [r.detail for r in first.trace.where(kind="timer-cancel")] == [
        f"day-3/alan (was due at t={set_at + 3 * DAY})", f"day-7/alan (was due at t={set_at + 7 * DAY})"]
