"""Learner code that raises: the dashboard shows it and keeps working; buttons never raise."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from choreo_lab import Simulation
from choreo_lab.dashboard import Dashboard
from choreo_lab.dashboard.presets import order_dashboard

from .helpers import PingSent, click, flaky_system, log_rows, ping_pong_system, send_parcel, text


@pytest.fixture
def broken():
    return {"yes": True}


@pytest.fixture
def couriers(broken):
    return Dashboard(flaky_system(broken), actions={"Send parcel": send_parcel("p-1")})


def test_a_handler_that_raises_shows_its_error_in_the_log_and_ends_in_the_dead_letters(couriers):
    click(couriers, "Send parcel")
    couriers.controls.idle_button.click()
    nacks = [row for row in log_rows(couriers) if row.split()[1] == "nack"]
    assert len(nacks) == 3 and "KeyError: 'no address for p-1'" in nacks[0]
    assert "m1 ParcelSent courier 3" in text(couriers.controls.dead_letter_list)
    assert "dead-lettered 1" in text(couriers.cards["courier"].info)
    assert not couriers.controls.redrive_button.disabled
    assert couriers.problems == []  # the runtime handled it: nothing escaped


def test_re_drive_sends_dead_letters_again_once_the_bug_is_fixed(couriers, broken):
    click(couriers, "Send parcel")
    couriers.run_until_idle()
    broken["yes"] = False
    couriers.controls.redrive_button.click()
    couriers.controls.idle_button.click()
    assert couriers.sim.dead_letters == []
    assert couriers.sim.state("courier")["delivered"] == ["p-1"]
    assert "no dead letters" in text(couriers.controls.dead_letter_list)
    assert couriers.controls.redrive_button.disabled
    assert any(row.split()[1] == "redrive" for row in log_rows(couriers))


def test_re_drive_of_one_message_leaves_the_others(couriers):
    couriers.act("Send parcel")
    couriers.sim.publish(couriers.sim.trace.messages["m1"].event, correlation_id="p-2")
    couriers.run_until_idle()
    assert couriers.redrive("m2") == 1
    assert [letter.envelope.message_id for letter in couriers.sim.dead_letters] == ["m1"]
    with pytest.raises(ValueError, match=r"no dead letter for message 'm9'; dead letters: "
                                         r"\['m1'\]"):
        couriers.redrive("m9")


def test_a_runaway_cycle_is_shown_in_the_banner_and_never_raised_from_the_button():
    dash = Dashboard(ping_pong_system, actions={"Ping": lambda sim: sim.publish(PingSent(n=0))})
    click(dash, "Ping")
    dash.play()
    dash.controls.idle_button.click()  # sim.run_until_idle() would raise RunawayError
    assert dash.problems and "RunawayError" in dash.problems[-1]
    assert dash.controls.problem_box.layout.display == "flex"
    assert "ran until idle: RunawayError" in text(dash.controls.problem_banner)
    assert not dash.playing  # an error stops play mode, so it does not repeat every tick
    dash.controls.clear_problems_button.click()
    assert dash.problems == [] and dash.controls.problem_box.layout.display == "none"
    dash.controls.reset_button.click()  # and the dashboard keeps working
    assert dash.sim.now == 0 and dash.problems == []


def test_a_runaway_during_play_ticks_is_shown_not_raised():
    dash = Dashboard(ping_pong_system, actions={"Ping": lambda sim: sim.publish(PingSent(n=0))})
    click(dash, "Ping")
    dash.controls.speed.value = 100
    dash.play()
    dash.controls.clock.value += 1
    assert "RunawayError" in text(dash.controls.problem_banner) and not dash.playing


@dataclass
class RaisingOracle:
    def check(self, sim: Simulation):
        raise ZeroDivisionError("my invariant divided by zero")


def test_an_oracle_that_raises_turns_the_lamp_grey_and_is_reported_once():
    dash = order_dashboard(seed=1, oracle=RaisingOracle())
    dash.place_order()
    dash.run_until_idle()
    assert dash.lamp_state == "grey" and "consistency check failed" in text(dash.controls.lamp)
    assert dash.problems == [("the consistency check failed: ZeroDivisionError: my invariant "
                              "divided by zero")]
    assert dict(dash.snapshot.workflows) == {"o-1": "completed"}


def test_a_workflow_status_function_that_raises_is_reported_and_the_rest_still_shows(broken):
    def statuses(sim):
        return {"p-1": "running", **{1: 2}[0]}  # a learner's KeyError

    dash = Dashboard(flaky_system(broken), workflows=statuses)
    assert "KeyError" in dash.problems[0]
    assert "courier UP" in text(dash.cards["courier"].info)


def test_an_action_that_raises_is_shown_in_the_banner(couriers):
    couriers.actions["Send nonsense"] = lambda sim: sim.publish("not an event")
    couriers.act("Send nonsense")
    assert "InvalidEvent: publish(): expected an Event, got str" in couriers.problems[-1]


def test_a_reset_whose_system_raises_keeps_the_old_simulation_and_reports_it(broken):
    calls = []

    def system(seed, faults):
        calls.append(seed)
        if len(calls) > 1:
            raise RuntimeError("my factory is broken")
        return flaky_system(broken)(seed)

    dash = Dashboard(system)
    first = dash.sim
    dash.controls.reset_button.click()
    assert dash.sim is first
    assert "RuntimeError: my factory is broken" in text(dash.controls.problem_banner)


def test_a_system_that_is_not_a_simulation_is_refused_with_an_example():
    with pytest.raises(TypeError, match="must return a Simulation, got list"):
        Dashboard(lambda seed, faults: [])


def test_showing_the_problem_banner_leaves_the_clock_hidden():
    dash = Dashboard(ping_pong_system, actions={"Ping": lambda sim: sim.publish(PingSent(n=0))})
    click(dash, "Ping")
    dash.run_until_idle()
    assert dash.controls.problem_box.layout.display == "flex"
    assert dash.controls.clock.layout.display == "none"
