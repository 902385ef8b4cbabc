"""Contract: consumer groups each get every event; instances inside a group share the work."""

from __future__ import annotations

import pytest

from .flows import ContentUploaded, UserRegistered, handled, registrations_listener, transcoder

LISTENERS = ("email", "analytics", "crm")
USERS = ("ada", "grace", "alan", "barbara", "edsger", "radia")


def most_in_flight(sim, service: str) -> int:
    """The largest number of the service's messages taken and not yet finished, from the trace."""
    busy = peak = 0
    for record in sim.trace:
        if record.service != service:
            continue
        if record.kind in ("deliver", "redeliver"):
            busy += 1
            peak = max(peak, busy)
        elif record.kind in ("ack", "nack", "crash", "drop", "abandon", "duplicate"):
            busy -= 1
    return peak


@pytest.mark.feature("consumer_groups")
def test_every_group_gets_every_event_of_its_topic(backend):
    sim = backend.make([registrations_listener(name) for name in LISTENERS], seed=3, jitter=4)
    for user in USERS:
        sim.publish(UserRegistered(user_id=user))
    sim.run_until_idle()
    for name in LISTENERS:
        assert sorted(sim.state(name)["users"]) == sorted(USERS), name


@pytest.mark.feature("consumer_groups", "trace")
def test_every_group_acks_every_message_of_its_topic(backend):
    sim = backend.make([registrations_listener(name) for name in LISTENERS], seed=3, jitter=4)
    published = [sim.publish(UserRegistered(user_id=user)).message_id for user in USERS]
    sim.run_until_idle()
    for name in LISTENERS:
        assert sorted(handled(sim, name)) == sorted(published), name


@pytest.mark.feature("consumer_groups")
def test_a_group_that_is_down_does_not_hold_back_the_others(backend):
    sim = backend.make([registrations_listener(name) for name in LISTENERS])
    sim.kill("crm")
    for user in USERS:
        sim.publish(UserRegistered(user_id=user))
    sim.run_until_idle()
    assert sorted(sim.state("email")["users"]) == sorted(USERS)
    assert sorted(sim.state("analytics")["users"]) == sorted(USERS)
    assert sim.state("crm")["users"] == []
    sim.restart("crm")
    sim.run_until_idle()
    assert sorted(sim.state("crm")["users"]) == sorted(USERS)


@pytest.mark.feature("competing_consumers")
def test_instances_of_a_service_share_its_messages_each_handled_once(backend):
    uploads = [f"video-{n}" for n in range(12)]
    sim = backend.make([transcoder(instances=3)], seed=5)
    for content_id in uploads:
        sim.publish(ContentUploaded(content_id=content_id))
    sim.run_until_idle()
    assert sorted(sim.state("transcoding")["done"]) == sorted(uploads)


@pytest.mark.feature("competing_consumers", "trace")
def test_instances_of_a_service_work_at_the_same_time(backend):
    sim = backend.make([transcoder(instances=3)], seed=5)
    for n in range(12):
        sim.publish(ContentUploaded(content_id=f"video-{n}"))
    sim.run_until_idle()
    assert most_in_flight(sim, "transcoding") == 3


@pytest.mark.feature("competing_consumers", "virtual_time", "trace")
def test_more_instances_finish_the_same_work_sooner_in_virtual_time(backend):
    finished_at = {}
    for instances in (1, 2, 4):
        sim = backend.make([transcoder(instances=instances, processing_time=10)], seed=5)
        for n in range(12):
            sim.publish(ContentUploaded(content_id=f"video-{n}"))
        sim.run_until_idle()
        assert len(sim.state("transcoding")["done"]) == 12
        assert most_in_flight(sim, "transcoding") == instances
        finished_at[instances] = sim.now
    assert finished_at[4] < finished_at[2] < finished_at[1]
