"""The orchestrated preset: the order dashboard over the orchestrated services, with the
orchestrator's saga table, readable while the orchestrator is down."""

from __future__ import annotations

from choreo_lab.dashboard.presets import orchestrated_dashboard

from .helpers import click, text


def test_the_saga_table_shows_each_order_as_the_orchestrator_holds_it():
    dash = orchestrated_dashboard(seed=7)
    assert "no orders yet" in text(dash.orchestrator_table)
    click(dash, "Place order")
    click(dash, "Order with unshippable address")
    dash.run_until_idle()
    table = text(dash.orchestrator_table)
    assert "o-1 shipped paid, reserved, shipped nothing (done)" in table
    assert "o-2 cancelled paid, reserved, shipment_failed, refunded, released" in table
    assert dash.lamp_state == "green"
    assert "Orders: orchestrated" in repr(dash)


def test_with_the_orchestrator_down_every_order_waits_and_the_table_still_reads():
    dash = orchestrated_dashboard(seed=7)
    click(dash, "Place order")
    dash.run_for(30)  # the first order was placed and its ChargePayment sent
    dash.kill("order")
    click(dash, "Place order")
    dash.run_for(500)
    table = text(dash.orchestrator_table)
    assert "o-1 placed - payment" in table
    assert "o-1" in dash.sim.state("payment")["charges"]  # payment answered; the reply waits
    assert "o-2" not in table  # the orchestrator never got it
    assert dash.lamp_state == "amber"
    dash.restart("order")
    dash.run_until_idle()
    assert "o-2 shipped" in text(dash.orchestrator_table) and dash.lamp_state == "green"


def test_the_board_shows_the_saga_table_below_the_controls():
    dash = orchestrated_dashboard(seed=7)
    assert dash.widget.children == (dash.controls.root, dash.orchestrator_table)
