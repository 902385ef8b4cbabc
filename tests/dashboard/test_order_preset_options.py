"""The order dashboard's options: slow services, a rush of orders, a courier that fails."""

from __future__ import annotations

from choreo_lab.dashboard.presets import order_dashboard
from choreo_lab.dashboard.presets.orders import COURIER_ANSWERS, COURIER_FAILS

from .helpers import card_text, click, text


def rush_dash():
    return order_dashboard(seed=7, processing_times={"shipping": 40}, scalable=["shipping"],
                           rush=12)


def test_a_rush_of_orders_waits_for_slow_shipping_and_more_instances_drain_it_sooner():
    dash = rush_dash()
    click(dash, "Place 12 orders at once")
    dash.run_for(150)
    assert dash.sim.stats()["shipping"]["backlog"] > 4  # one instance, 40 ms a parcel
    dash.run_until_idle()
    alone = dash.report.overall_time_to_consistency
    dash.reset()
    for _ in range(3):
        dash.button("+ shipping instance").click()
    assert "shipping ×4" in card_text(dash, "shipping")
    click(dash, "Place 12 orders at once")
    dash.run_until_idle()
    assert dash.lamp_state == "green" and len(dash.report.workflows) == 12
    assert dash.report.overall_time_to_consistency < alone / 2


def definition(dash, name):
    return dash.sim._require(name).definition


def test_processing_times_slow_only_the_named_service_and_leave_the_definitions_alone():
    dash = rush_dash()
    assert definition(dash, "shipping").processing_time == 40
    assert (definition(dash, "payment").processing_time
            == definition(order_dashboard(), "payment").processing_time)
    assert definition(order_dashboard(), "shipping").processing_time != 40


def test_the_rush_button_exists_only_when_asked_for():
    assert "Place 12 orders at once" not in order_dashboard().actions
    assert rush_dash().place_orders(3) == ["o-1", "o-2", "o-3"]


def test_a_courier_that_does_not_answer_dead_letters_the_order_and_redrive_finishes_it():
    dash = order_dashboard(seed=7, failing_courier=True)
    click(dash, COURIER_FAILS)
    dash.place_order()
    dash.run_until_idle()
    assert dash.lamp_state == "red"
    assert "CourierDown: the courier does not answer" in text(dash.controls.dead_letter_list)
    assert "o-1 stuck broken" in text(dash.controls.sagas)
    assert not dash.controls.redrive_button.disabled
    dash.controls.redrive_button.click()
    dash.run_until_idle()
    assert dash.lamp_state == "red", "re-driven while the courier is still down: dead again"
    click(dash, COURIER_ANSWERS)
    dash.controls.redrive_button.click()
    dash.run_until_idle()
    assert dash.lamp_state == "green" and dict(dash.snapshot.workflows) == {"o-1": "completed"}


def test_reset_brings_the_courier_back():
    dash = order_dashboard(seed=7, failing_courier=True)
    dash.courier_fails()
    dash.reset()
    assert not dash.courier_down
    dash.place_order()
    dash.run_until_idle()
    assert dash.lamp_state == "green"


def test_without_failing_courier_shipping_is_the_example_service_itself():
    dash = order_dashboard(seed=7)
    assert COURIER_FAILS not in dash.actions
    assert definition(dash, "shipping").middleware == ()
