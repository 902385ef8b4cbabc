"""Contract: the log is retained, so a group added later can start from the beginning or now."""

from __future__ import annotations

import pytest

from choreo_lab import Runtime

from .flows import UserRegistered, registrations_listener


def test_every_backend_is_a_runtime_with_the_counts_the_course_shows(backend):
    sim = backend.make([registrations_listener("email")])
    assert isinstance(sim, Runtime)
    sim.publish(UserRegistered(user_id="ada"))
    sim.run_until_idle()
    row = sim.stats()["email"]
    assert (row["status"], row["backlog"], row["in_flight"], row["handled"]) == ("up", 0, 0, 1)
    assert sim.status("email") == "up"


@pytest.mark.feature("replay")
def test_a_group_added_from_the_beginning_gets_the_retained_log_and_one_added_now_does_not(
        backend):
    sim = backend.make([registrations_listener("email")])
    for user in ("ada", "grace"):
        sim.publish(UserRegistered(user_id=user))
    sim.run_until_idle()
    sim.add_service(registrations_listener("analytics"), start="beginning")
    sim.add_service(registrations_listener("crm"), start="now")
    sim.publish(UserRegistered(user_id="alan"))
    sim.run_until_idle()
    assert sorted(sim.state("email")["users"]) == ["ada", "alan", "grace"]
    assert sorted(sim.state("analytics")["users"]) == ["ada", "alan", "grace"]
    assert sim.state("crm")["users"] == ["alan"]


@pytest.mark.feature("replay")
def test_replaying_the_log_does_not_deliver_it_again_to_existing_groups(backend):
    sim = backend.make([registrations_listener("email")])
    sim.publish(UserRegistered(user_id="ada"))
    sim.run_until_idle()
    sim.add_service(registrations_listener("analytics"), start="beginning")
    sim.run_until_idle()
    assert sim.state("email")["users"] == ["ada"]
    assert sim.state("analytics")["users"] == ["ada"]
