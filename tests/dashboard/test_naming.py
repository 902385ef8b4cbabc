"""Buttons name what they act on, words agree with their numbers, odd inputs are named."""

from __future__ import annotations

import pytest

from choreo_lab.consistency import ConsistencyReport
from choreo_lab.dashboard import Dashboard
from choreo_lab.dashboard.presets import order_dashboard
from choreo_lab.dashboard.render import lamp, workflow_table

from .helpers import card_text, flaky_system, text


def test_every_card_button_names_its_service():
    dash = order_dashboard(seed=7, scalable=["shipping"])
    labels = [button.description for card in dash.cards.values() for button in card.buttons]
    assert "Kill payment" in labels and "Restart inventory" in labels
    assert "+ shipping instance" in labels and "− shipping instance" in labels
    assert len(labels) == len(set(labels)), "two buttons share a label"
    for card in dash.cards.values():
        assert all(card.name in button.description for button in card.buttons)


def test_a_button_is_found_by_its_label_and_clicking_it_acts():
    dash = order_dashboard(seed=7)
    dash.button("Kill payment").click()
    assert dash.sim.status("payment") == "down"
    dash.button("Restart payment").click()
    assert dash.sim.status("payment") == "up"
    dash.button("Pause inventory").click()
    assert dash.button("Resume inventory").description == "Resume inventory"


def test_an_unknown_button_label_lists_the_labels_there_are():
    dash = order_dashboard(seed=7)
    with pytest.raises(ValueError, match=r"no button 'Kill'.*'Kill payment'"):
        dash.button("Kill")


def test_one_subscription_is_singular_and_two_are_plural():
    dash = order_dashboard(seed=7)
    assert "(1 subscription)" in card_text(dash, "payment") or \
        "(1 subscription)" in card_text(dash, "shipping")
    assert "(1 subscriptions)" not in " ".join(card_text(dash, name) for name in dash.cards)
    assert "(2 subscriptions)" in card_text(dash, "inventory")


def test_an_empty_system_says_there_is_nothing_to_check_yet_not_that_all_is_finished():
    dash = order_dashboard(seed=7)
    assert dash.lamp_state == "grey"
    assert "0 workflows" not in text(dash.controls.lamp)
    assert dash.report.explain() == "t=0: nothing to check yet - no workflow has started"
    dash.place_order()
    dash.run_until_idle()
    assert dash.lamp_state == "green"
    assert dash.report.explain().startswith("t=59: converged - the one workflow finished")


def test_a_status_word_the_dashboard_does_not_know_is_named_not_shown_silently():
    shown = text(workflow_table((("w-1", "done"), ("w-2", "completed"), ("w-3", "lost")), {},
                                ConsistencyReport((), (), {}, None)))
    assert "shown in grey: 'done', 'lost' are not statuses the dashboard knows" in shown
    assert "completed" in shown
    assert "shown in grey" not in text(workflow_table((("w-1", "completed"),), {}, None))


def test_a_learner_status_function_with_its_own_words_is_flagged():
    dash = Dashboard(flaky_system({"yes": False}), workflows=lambda sim: {"p-1": "shipped"})
    assert "'shipped' is not a status the dashboard knows" in text(dash.controls.sagas)


def test_long_times_to_consistency_read_as_durations():
    report = ConsistencyReport((), (), {"w-1": 287, "w-2": 1_440_022}, 604_800_035, quiescent=True)
    shown = text(workflow_table((("w-1", "completed"), ("w-2", "completed")), {}, report))
    assert "287 ms" in shown and "24 min" in shown and "1440022" not in shown
    assert "time to consistency: 7 d" in text(lamp(report, []))
