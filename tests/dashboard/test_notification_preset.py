"""The fan-out's preset: register users, unsubscribe, add the SMS service late from a chosen
start; per-group lag, dead letters and pending timers on the generic board."""

from __future__ import annotations

import pytest

from choreo_lab.dashboard.presets import notification_dashboard
from choreo_lab.examples.notifications import DAY, sent

from .helpers import card_text, click, text


def test_registering_fans_out_to_four_groups_and_sets_the_campaigns_timers():
    dash = notification_dashboard(seed=7)
    click(dash, "Register a user", times=2)
    dash.run_for(100)
    assert all("lag 0" in card_text(dash, name) for name in ("email", "analytics", "crm"))
    timers = text(dash.controls.timer_list)
    assert "tip/u-1" in timers and "survey/u-2" in timers and "in 3 d" in timers
    assert dash.lamp_state == "amber"
    dash.run_until_idle()
    assert dash.lamp_state == "green" and text(dash.controls.timer_list) == "no pending timers"


def test_unsubscribing_cancels_the_latest_users_pending_campaign():
    dash = notification_dashboard(seed=7)
    click(dash, "Register a user")
    dash.run_for(100)
    assert dash.unsubscribe_latest() == "u-1"
    dash.run_until_idle()
    assert [e["what"] for e in sent(dash.sim, "email-provider", "u-1")] == [
        "welcome", "getting-started"]
    assert dash.lamp_state == "green"


def test_a_crm_outage_shows_as_its_dead_letters_while_the_others_stay_level():
    dash = notification_dashboard(seed=7, crm_outage=(0, DAY))
    click(dash, "Register a user", times=3)
    dash.run_for(100)
    assert "lag 3" in card_text(dash, "crm") and "lag 0" in card_text(dash, "email")
    dash.run_until_idle()
    assert "dead-lettered 3" in card_text(dash, "crm")
    assert text(dash.controls.dead_letter_list).count("crm") == 3
    assert dash.lamp_state == "red" and "nothing is lost" in text(dash.controls.lamp)


@pytest.mark.parametrize(("start", "texted"), [("now", 1), ("the beginning", 3), ("a day ago", 2)])
def test_the_late_sms_service_texts_whom_its_start_position_lets_it_see(start, texted):
    dash = notification_dashboard(seed=7)
    for _ in range(2):
        click(dash, "Register a user")
        dash.run_for(DAY)
    dash.add_sms(start)
    click(dash, "Register a user")
    dash.run_until_idle()
    assert "sms" in dash.cards
    assert len({e["user_id"] for e in sent(dash.sim, "sms-gateway")}) == texted


def test_adding_the_sms_service_twice_is_a_problem_shown_not_raised():
    dash = notification_dashboard(seed=7)
    dash.add_sms("now")
    dash.add_sms("now")
    assert "running already" in dash.problems[-1]
    with pytest.raises(ValueError, match="choose one of"):
        dash.add_sms("yesterday")
