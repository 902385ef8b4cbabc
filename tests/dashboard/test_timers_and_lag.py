"""The generic dashboard shows pending timers and each service's lag (with its recent history)."""

from __future__ import annotations

from choreo_lab import Context, Event, Service, Simulation
from choreo_lab.dashboard import Dashboard
from choreo_lab.dashboard.render import sparkline

from .helpers import card_text, click, text

HOUR = 3_600_000


class Signed(Event):
    user_id: str


class Reminder(Event):
    user_id: str


def reminders(seed: int, faults=None) -> Simulation:
    mailer = Service("mailer", {"sent": []})
    crm = Service("crm")

    @mailer.handles(Signed)
    def plan_reminder(event: Signed, ctx: Context) -> None:
        ctx.schedule(Reminder(user_id=event.user_id), after=2 * HOUR,
                     name=f"remind/{event.user_id}")

    @mailer.handles(Reminder)
    def send_reminder(event: Reminder, ctx: Context) -> None:
        ctx.state["sent"].append(event.user_id)

    @crm.handles(Signed)
    def sync_contact(event: Signed, ctx: Context) -> None:
        raise ConnectionError("crm is down")

    return Simulation([mailer, crm], seed=seed, faults=faults, max_attempts=3)


def sign(user: str):
    return lambda sim: sim.publish(Signed(user_id=user), key=user, correlation_id=user)


def dashboard() -> Dashboard:
    return Dashboard(reminders, actions={"Sign ada": sign("ada"), "Sign alan": sign("alan")})


def test_pending_timers_are_listed_soonest_first_with_the_time_left():
    dash = dashboard()
    assert text(dash.controls.timer_list) == "no pending timers"
    click(dash, "Sign ada")
    dash.run_for(HOUR)
    click(dash, "Sign alan")
    dash.run_for(10)
    rows = text(dash.controls.timer_list)
    assert rows.index("remind/ada") < rows.index("remind/alan")
    assert "in 1 h mailer remind/ada Reminder ada" in rows
    assert "in 2 h mailer remind/alan Reminder alan" in rows
    dash.run_until_idle()
    assert text(dash.controls.timer_list) == "no pending timers"
    assert dash.sim.state("mailer")["sent"] == ["ada", "alan"]


def test_each_card_shows_its_groups_lag_and_how_it_moved():
    dash = dashboard()
    click(dash, "Sign ada")
    click(dash, "Sign alan")
    assert "lag 2" in card_text(dash, "crm") and "lag 2" in card_text(dash, "mailer")
    dash.run_for(1)
    assert "lag 0" in card_text(dash, "mailer") and "lag 2" in card_text(dash, "crm")
    dash.run_until_idle()
    assert "lag 0" in card_text(dash, "crm") and "dead-lettered 2" in card_text(dash, "crm")
    assert dash.snapshot.services[1].lag_history == (2, 2, 0)


def test_clicks_at_the_same_virtual_moment_replace_the_last_lag_sample():
    dash = dashboard()
    click(dash, "Sign ada")
    click(dash, "Sign alan")
    assert dash.snapshot.services[0].lag_history == (2,)


def test_a_sparkline_scales_to_its_largest_value():
    assert sparkline([]) == ""
    assert sparkline([0, 0]) == "▁▁"
    assert sparkline([0, 2, 4, 8]) == "▁▃▅█"
