"""The order dashboard driven only through its widgets: clicks and values, as a learner would."""

from __future__ import annotations

import subprocess
import sys

import pytest

from choreo_lab import UnknownService
from choreo_lab.dashboard.presets import order_dashboard

from .helpers import card_text, click, log_rows, text


@pytest.fixture
def dash():
    return order_dashboard(seed=7)


def test_importing_choreo_lab_does_not_import_ipywidgets():
    code = "import sys, choreo_lab, choreo_lab.examples.orders; print('ipywidgets' in sys.modules)"
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert shown.stdout.strip() == "False"


def test_a_fresh_dashboard_shows_every_service_up_and_says_there_is_nothing_to_check(dash):
    assert list(dash.cards) == ["order", "payment", "inventory", "shipping"]
    for name in dash.cards:
        assert f"{name} UP" in card_text(dash, name)
        assert dash.cards[name].restart_button.disabled
    assert dash.lamp_state == "grey"
    assert "NOTHING TO CHECK YET no workflow has started" in text(dash.controls.lamp)
    assert "seed 7" in text(dash.controls.header) and "t = 0 ms" in text(dash.controls.header)


def test_clicking_kill_takes_the_service_down_and_flips_its_buttons(dash):
    dash.cards["payment"].kill_button.click()
    assert dash.sim.status("payment") == "down"
    assert "payment DOWN" in card_text(dash, "payment")
    assert dash.cards["payment"].kill_button.disabled
    assert not dash.cards["payment"].restart_button.disabled
    assert "killed payment" in text(dash.controls.header)
    assert log_rows(dash)[0].startswith("0 kill payment")


def test_orders_wait_in_the_backlog_of_a_killed_service_and_the_lamp_leaves_green(dash):
    dash.cards["payment"].kill_button.click()
    click(dash, "Place order", times=3)
    dash.controls.idle_button.click()
    assert dash.sim.backlog("payment")["OrderPlaced"] == 3
    assert "backlog 3" in card_text(dash, "payment")
    assert "OrderPlaced 3" in card_text(dash, "payment")
    assert dash.lamp_state == "amber"
    lamp = text(dash.controls.lamp)
    assert "NOT YET CONSISTENT" in lamp and "o-1, o-2, o-3" in lamp
    assert "payment is down: messages for it wait" in lamp
    assert dict(dash.snapshot.workflows) == {"o-1": "running", "o-2": "running", "o-3": "running"}


def test_restart_drains_the_backlog_and_the_lamp_turns_green_with_a_time_to_consistency(dash):
    dash.cards["payment"].kill_button.click()
    click(dash, "Place order", times=3)
    dash.controls.idle_button.click()
    dash.cards["payment"].restart_button.click()
    dash.controls.idle_button.click()
    assert dash.sim.backlog("payment")["OrderPlaced"] == 0
    assert dash.sim.stats()["payment"]["handled"] == 3
    assert "handled 3" in card_text(dash, "payment")
    assert dash.lamp_state == "green"
    assert dash.report.overall_time_to_consistency is not None
    ttc = dash.report.overall_time_to_consistency
    assert f"time to consistency: {ttc} ms" in text(dash.controls.lamp)
    assert dict(dash.snapshot.workflows) == {"o-1": "completed", "o-2": "completed",
                                             "o-3": "completed"}
    assert text(dash.controls.sagas).startswith("completed 3")


@pytest.mark.parametrize("label, charged_then_refunded", [
    ("Order with declined card", False),
    ("Order with out of stock", True),
    ("Order with unshippable address", True),
])
def test_a_bad_order_is_compensated_and_the_system_still_converges(dash, label,
                                                                   charged_then_refunded):
    click(dash, label)
    dash.controls.idle_button.click()
    assert dict(dash.snapshot.workflows) == {"o-1": "compensated"}
    assert dash.sim.state("order")["orders"]["o-1"]["status"] == "cancelled"
    assert ("o-1" in dash.sim.state("payment")["refunds"]) == charged_then_refunded
    assert dash.lamp_state == "green"


def test_a_bad_order_is_compensating_while_the_refund_waits_for_a_killed_payment(dash):
    click(dash, "Order with out of stock")
    dash.run_for(35)  # placed, paid, then OutOfStock published
    dash.kill("payment")
    dash.run_until_idle()
    assert dict(dash.snapshot.workflows) == {"o-1": "compensating"}
    assert dash.lamp_state == "amber"
    dash.restart("payment")
    dash.run_until_idle()
    assert dict(dash.snapshot.workflows) == {"o-1": "compensated"}


def test_pause_button_pauses_then_resumes_the_service(dash):
    card = dash.cards["inventory"]
    card.pause_button.click()
    assert dash.sim.status("inventory") == "paused"
    assert card.pause_button.description == "Resume inventory"
    assert "inventory PAUSED" in card_text(dash, "inventory")
    card.pause_button.click()
    assert dash.sim.status("inventory") == "up" and card.pause_button.description == "Pause inventory"


def test_step_does_one_scheduled_thing(dash):
    click(dash, "Place order")
    before = len(dash.sim.trace)
    dash.controls.step_button.click()
    assert 10 <= dash.sim.now <= 14  # the request arrives after 10 ms latency + 0..4 jitter
    assert len(dash.sim.trace) > before
    assert "step" in text(dash.controls.header)


def test_step_when_nothing_is_scheduled_changes_nothing(dash):
    assert dash.step() is False
    assert dash.sim.now == 0


def test_run_for_advances_virtual_time_by_the_number_in_the_box(dash):
    dash.controls.run_ms.value = 25
    dash.controls.run_button.click()
    assert dash.sim.now == 25
    assert "t = 25 ms" in text(dash.controls.header)


def test_reset_starts_a_fresh_simulation_with_the_seed_in_the_box(dash):
    click(dash, "Place order")
    dash.run_until_idle()
    first = dash.sim
    dash.controls.seed_box.value = 3
    dash.controls.reset_button.click()
    assert dash.sim is not first and dash.sim.seed == 3 and dash.sim.now == 0
    assert dash.snapshot.workflows == () and "seed 3" in text(dash.controls.seed_note)
    assert "nothing has happened yet" in text(dash.controls.log)


def test_place_order_numbers_orders_from_one_in_each_run(dash):
    assert dash.place_order() == "o-1"
    assert dash.place_bad_order("declined card") == "o-2"
    dash.reset()
    assert dash.place_order(customer="grace", item="kettle", quantity=2) == "o-1"
    dash.run_until_idle()
    assert dash.sim.state("order")["orders"]["o-1"]["customer"] == "grace"


def test_mistyped_names_raise_a_clear_error_from_the_plain_methods(dash):
    with pytest.raises(UnknownService, match="Did you mean 'payment'"):
        dash.kill("paymnet")
    with pytest.raises(ValueError, match="choose one of"):
        dash.place_bad_order("no money")
    with pytest.raises(ValueError, match="no action 'Buy'"):
        dash.act("Buy")


def test_the_same_clicks_give_the_same_dashboard(dash):
    def session(d):
        d.set_chaos(duplicate=0.3, delay=0.2)
        d.cards["payment"].kill_button.click()
        click(d, "Place order", times=2)
        click(d, "Order with unshippable address")
        d.run_for(200)
        d.cards["payment"].restart_button.click()
        d.controls.idle_button.click()
        shown = d.controls.log.value, d.controls.sagas.value, d.controls.header.value
        return shown, d.sim.trace.dump()

    assert session(dash) == session(order_dashboard(seed=7))


def test_the_order_dashboard_can_offer_instance_buttons_for_a_service():
    from choreo_lab.dashboard.presets import order_dashboard

    dash = order_dashboard(seed=1, scalable=["shipping"])
    assert dash.cards["shipping"].more_button is not None and dash.cards["payment"].more_button is None
    dash.cards["shipping"].more_button.click()
    assert dash.sim.stats()["shipping"]["instances"] == 2
