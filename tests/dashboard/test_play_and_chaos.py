"""Play mode (the clock widget drives ticks) and the chaos knobs."""

from __future__ import annotations

import pytest

from choreo_lab import Delay, Drop, Duplicate
from choreo_lab.dashboard.presets import order_dashboard

from .helpers import click, log_rows, text


@pytest.fixture
def dash():
    return order_dashboard(seed=7)


def test_the_play_button_starts_and_stops_the_clock(dash):
    dash.controls.play_button.value = True
    assert dash.controls.clock.playing and dash.playing
    assert dash.controls.play_button.description == "Pause"
    dash.controls.play_button.value = False
    assert not dash.controls.clock.playing
    assert dash.controls.play_button.description == "▶ Play"


def test_the_clock_stopping_in_the_browser_releases_the_play_button(dash):
    dash.play()
    dash.controls.clock.playing = False  # what the frontend sends when its Play widget stops
    assert dash.controls.play_button.value is False and not dash.playing


def test_each_clock_tick_runs_the_chosen_speed_in_virtual_ms(dash):
    click(dash, "Place order")
    dash.controls.speed.value = 20
    dash.play()
    for _ in range(3):
        dash.controls.clock.value += 1  # what the browser does every interval while playing
    assert dash.sim.now == 60
    assert "t = 60 ms" in text(dash.controls.header)


def test_rewinding_the_clock_does_not_tick(dash):
    dash.controls.clock.value = 5
    now = dash.sim.now
    dash.controls.clock.value = 0  # the Play widget's stop button rewinds to its minimum
    assert dash.sim.now == now


def test_playing_moves_orders_through_the_saga_tick_by_tick(dash):
    click(dash, "Place order")
    statuses = []
    dash.play()
    for _ in range(20):
        dash.controls.clock.value += 1
        statuses.append(dict(dash.snapshot.workflows)["o-1"])
    assert statuses[0] == "running" and statuses[-1] == "completed"
    assert dash.lamp_state == "green"


def test_reset_stops_playing(dash):
    dash.play()
    dash.reset()
    assert not dash.playing and not dash.controls.clock.playing


def test_chaos_knobs_become_delivery_faults_of_the_running_simulation(dash):
    dash.controls.duplicate_knob.value = 0.25
    dash.controls.delay_knob.value = 0.1
    dash.controls.drop_knob.value = 0.05
    kinds = {type(fault): fault.probability for fault in dash.sim.faults.faults}
    assert kinds == {Duplicate: 0.25, Delay: 0.1, Drop: 0.05}
    assert "set chaos" in text(dash.controls.header)


def test_duplicates_from_the_knob_show_in_the_log_and_idempotent_services_stay_consistent(dash):
    dash.set_chaos(duplicate=0.5)
    for _ in range(5):
        click(dash, "Place order")
    dash.run_until_idle()
    assert dash.sim.trace.where(kind="duplicate")
    dash.controls.log_filter.value = "problems and faults"
    assert any(row.split()[1] == "duplicate" for row in log_rows(dash))
    assert dash.lamp_state == "green"


def test_turning_the_knobs_back_to_zero_stops_the_faults(dash):
    dash.set_chaos(drop=0.5)
    dash.set_chaos(drop=0.0)
    assert dash.sim.faults.faults == ()
    click(dash, "Place order", times=3)
    dash.run_until_idle()
    assert not dash.sim.trace.where(kind="drop")


def test_chaos_is_kept_across_a_reset(dash):
    dash.set_chaos(delay=0.5)
    dash.reset(seed=11)
    assert [type(f) for f in dash.sim.faults.faults] == [Delay]
    assert "seed 11" in text(dash.controls.seed_note)


def test_a_chaos_rate_outside_the_knob_range_is_refused(dash):
    with pytest.raises(ValueError, match="duplicate rate must be between 0.0 and 0.5"):
        dash.set_chaos(duplicate=0.9)


def test_play_stops_by_itself_once_nothing_is_scheduled_and_says_why(dash):
    click(dash, "Place order")
    dash.play()
    for _ in range(40):
        dash.controls.clock.value += 1
    assert not dash.playing and dash.sim.idle
    assert dash.sim.now == 60  # the order settled at 59; the tick that found it done stopped
    assert ("stopped playing at t = 60 ms: nothing is scheduled (start some work, then Play "
            "again)") in text(dash.controls.header)
    assert dash.controls.play_button.description == "▶ Play"


def test_play_on_an_idle_system_stops_at_once_without_moving_the_clock(dash):
    dash.play()
    dash.controls.clock.value += 1
    assert not dash.playing and dash.sim.now == 0


def test_when_play_stops_it_names_the_stopped_service_messages_wait_for(dash):
    dash.kill("inventory")
    click(dash, "Place order")
    dash.play()
    for _ in range(40):
        dash.controls.clock.value += 1
    assert not dash.playing
    assert ("nothing is scheduled; inventory is down with 1 waiting (Restart / Resume it, "
            "then Play again)") in text(dash.controls.header)


def test_a_dashboard_offers_the_play_speeds_it_is_given():
    from choreo_lab import Service, Simulation
    from choreo_lab.dashboard import Dashboard

    def system(seed, faults):
        return Simulation([Service("a")], seed=seed, faults=faults)

    dash = Dashboard(system, speeds=[("1 min per tick", 60_000), ("1 h per tick", 3_600_000)])
    assert dash.controls.speed.options == (("1 min per tick", 60_000),
                                           ("1 h per tick", 3_600_000))
    assert dash.controls.speed.value == 60_000
    with pytest.raises(ValueError, match="speeds are"):
        Dashboard(system, speeds=[("never", 0)])
