"""What the dashboard draws: bounded log with causes, cards, lamp colours, scaling, new services."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from choreo_lab import Event, Service, Simulation
from choreo_lab.consistency import ConsistencyReport, Violation
from choreo_lab.dashboard import Dashboard
from choreo_lab.dashboard.presets import order_dashboard
from choreo_lab.dashboard.render import lamp_state
from choreo_lab.dashboard.snapshot import LOG_LENGTH, LogBook

from .helpers import ParcelSent, card_text, click, flaky_system, log_rows, send_parcel, text


def busy_orders(count: int):
    dash = order_dashboard(seed=3)
    for _ in range(count):
        dash.place_order()
    dash.run_until_idle()
    return dash


def test_the_log_shows_only_the_latest_records_newest_first():
    dash = busy_orders(20)
    rows = log_rows(dash)
    assert len(rows) == LOG_LENGTH < len(dash.sim.trace)
    latest = list(dash.sim.trace)[-LOG_LENGTH:][::-1]
    assert [row.split()[:2] for row in rows] == [[str(r.time), r.kind] for r in latest]


def test_published_events_show_what_caused_them():
    dash = busy_orders(1)
    dash.controls.log_filter.value = "published events (with their cause)"
    rows = log_rows(dash)
    assert rows[-1].endswith("m1 OrderRequested o-1 from outside")
    assert "m2 OrderPlaced o-1 ← m1 OrderRequested" in rows[-2]
    assert all(row.split()[1] == "publish" for row in rows)


def test_log_rows_are_coloured_by_outcome():
    dash = Dashboard(flaky_system({"yes": True}), actions={"Send parcel": send_parcel("p-1")})
    click(dash, "Send parcel")
    dash.run_until_idle()
    log = dash.controls.log.value
    assert '<span style="color:#c62828;font-weight:600">dead-letter</span>' in log
    assert '<span style="color:#ef8f00;font-weight:600">nack</span>' in log
    assert '<span style="color:#1565c0;font-weight:600">publish</span>' in log


def test_the_logbook_reads_a_growing_trace_incrementally_and_matches_it():
    sim = flaky_system({"yes": False})(0)
    book = LogBook(sim.trace, keep=5)
    for n in range(12):
        sim.publish(ParcelSent(parcel=f"p-{n}"))
        if n % 4 == 0:
            sim.run_until_idle()
            book.catch_up()
    sim.run_until_idle()
    book.catch_up()
    assert list(book.latest["everything"]) == list(sim.trace)[-5:]
    assert book.last_events == {f"c{n + 1}": "ParcelSent" for n in range(12)}


def test_the_logbook_reads_each_record_once():
    sim = flaky_system({"yes": False})(0)
    book = LogBook(sim.trace)
    filed = []
    book._file = filed.append
    for n in range(6):
        sim.publish(ParcelSent(parcel=f"p-{n}"))
        sim.run_until_idle()
        book.catch_up()
    assert filed == list(sim.trace)


def test_service_cards_show_backlog_per_subscription_and_counters():
    dash = order_dashboard(seed=5)
    dash.kill("inventory")
    dash.place_order()
    dash.place_order()
    dash.run_until_idle()
    card = card_text(dash, "inventory")
    assert "backlog 2 (2 subscriptions)" in card and "PaymentCompleted 2" in card
    assert "handled 2" in card_text(dash, "payment") and "retried 0" in card_text(dash, "payment")


def test_every_value_from_the_simulation_is_escaped():
    class NoteTaken(Event):
        text: str

    scribe = Service("<scribe>")

    @scribe.handles(NoteTaken)
    def take_note(event, ctx):
        raise ValueError("<script>alert(1)</script>")

    dash = Dashboard(lambda seed, faults: Simulation([scribe], seed=seed, max_attempts=1),
                     actions={"Note": lambda sim: sim.publish(NoteTaken(text="hi"))})
    click(dash, "Note")
    dash.run_until_idle()
    shown = (dash.controls.log, dash.controls.dead_letter_list, dash.cards["<scribe>"].info)
    everything = "".join(widget.value for widget in shown)
    assert "<script>" not in everything and "&lt;script&gt;" in everything
    assert "&lt;scribe&gt;" in everything
    assert "choreo-card--scribe-" in dash.cards["<scribe>"].box._dom_classes


def test_the_dead_letter_list_is_bounded_and_says_how_many_there_are():
    dash = Dashboard(flaky_system({"yes": True}))
    for n in range(25):
        send_parcel(f"p-{n}")(dash.sim)
    dash.run_until_idle()
    assert len(dash.sim.dead_letters) == 25
    assert "latest 20 of 25 shown" in text(dash.controls.dead_letter_list)
    assert dash.redrive() == 25


@dataclass
class FixedOracle:
    """A stand-in oracle that returns a report chosen by the test."""
    report: ConsistencyReport

    def check(self, sim):
        return self.report


def report(violations=(), pending=(), workflows=("o-1",)):
    return ConsistencyReport(tuple(violations), tuple(pending), {}, None, workflows=workflows)


def test_the_lamp_is_red_and_explains_a_broken_invariant():
    broken = Violation("at most one charge", "o-7", "charged twice: 12 at t=3, 12 at t=33", ("m4",))
    dash = Dashboard(flaky_system({"yes": False}), oracle=FixedOracle(report([broken])))
    assert dash.lamp_state == "red"
    assert ("INCONSISTENT at most one charge (o-7): charged twice: 12 at t=3, 12 at t=33"
            in text(dash.controls.lamp))


def test_lamp_colours_follow_the_report():
    assert lamp_state(None) == "grey"
    assert lamp_state(report()) == "green"
    assert lamp_state(report(workflows=())) == "grey"
    assert lamp_state(report(pending=["o-1"])) == "amber"
    assert lamp_state(report([Violation("x", "o-1", "why")], ["o-1"])) == "red"


def test_without_an_oracle_the_consistency_panel_is_hidden_not_explained_to_a_beginner():
    dash = Dashboard(flaky_system({"yes": False}))
    assert dash.lamp_state == "grey" and dash.controls.lamp_box.layout.display == "none"
    assert order_dashboard(seed=7).controls.lamp_box.layout.display == "flex"


def scaled_system(seed: int, faults=None) -> Simulation:
    transcoder = Service("transcoding", instances=2, processing_time=30)

    @transcoder.handles(ParcelSent)
    def transcode(event, ctx):
        return None

    return Simulation([transcoder, Service("audit")], seed=seed)


def test_services_that_scale_get_instance_buttons():
    dash = Dashboard(scaled_system)
    card = dash.cards["transcoding"]
    assert dash.cards["audit"].more_button is None
    card.more_button.click()
    assert dash.sim.stats()["transcoding"]["instances"] == 3
    assert "transcoding ×3" in card_text(dash, "transcoding")
    card.fewer_button.click()
    card.fewer_button.click()
    assert dash.sim.stats()["transcoding"]["instances"] == 1 and card.fewer_button.disabled


def test_scalable_can_name_the_services_explicitly():
    dash = Dashboard(scaled_system, scalable=["audit"])
    assert dash.cards["audit"].more_button is not None
    assert dash.cards["transcoding"].more_button is None


def test_a_service_added_to_the_running_simulation_gets_a_card():
    dash = Dashboard(scaled_system)
    dash.sim.add_service(Service("latecomer"))
    dash.refresh()
    assert list(dash.cards) == ["transcoding", "audit", "latecomer"]
    dash.cards["latecomer"].kill_button.click()
    assert dash.sim.status("latecomer") == "down"


def test_in_flight_messages_show_while_a_slow_service_works():
    dash = Dashboard(scaled_system, actions={"Send": send_parcel("p-1")})
    click(dash, "Send")
    dash.run_for(5)
    assert "in flight 1" in card_text(dash, "transcoding")
    dash.run_until_idle()
    assert "in flight 0 · handled 1" in card_text(dash, "transcoding")


def test_displaying_gives_the_widget_and_a_short_deterministic_text_summary():
    dash = order_dashboard(seed=7)
    dash.kill("payment")
    bundle = dash._repr_mimebundle_()
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == dash.widget.model_id
    assert bundle["text/plain"] == ("<Orders: a choreographed saga: t=0 ms, seed 7; "
                                    "payment down, 3 up; lamp grey>")
    dash.restart("payment")
    assert repr(dash) == "<Orders: a choreographed saga: t=0 ms, seed 7; all 4 services up; lamp grey>"


def test_a_simulation_instead_of_a_function_is_refused_with_an_example():
    with pytest.raises(TypeError, match="takes a function that builds the simulation"):
        Dashboard(scaled_system(0))


def test_without_declared_outcomes_the_workflow_panel_is_hidden():
    dash = Dashboard(scaled_system)
    assert dash.controls.sagas_box.layout.display == "none"
    assert dash.controls.lamp_box.layout.display == "none"
    assert order_dashboard(seed=7).controls.sagas_box.layout.display == "flex"


def test_a_system_that_declares_outcomes_shows_its_workflow_statuses_without_a_function():
    from choreo_lab import Context, Event

    class TripBooked(Event, outcome="completed"):
        trip: str

    class TripRequested(Event):
        trip: str

    desk = Service("desk")

    @desk.handles(TripRequested, publishes=(TripBooked,))
    def book(event, ctx: Context) -> TripBooked:
        return TripBooked(trip=event.trip)

    dash = Dashboard(lambda seed, faults: Simulation([desk], seed=seed, faults=faults),
                     actions={"Book": lambda sim: sim.publish(TripRequested(trip="t-1"),
                                                              correlation_id="t-1")})
    dash.controls.action_buttons["Book"].click()
    dash.run_until_idle()
    assert "t-1 completed" in text(dash.controls.sagas)


def test_the_log_says_how_many_records_it_leaves_out_instead_of_cutting_a_row():
    dash = busy_orders(3)
    assert dash.controls.log.layout.max_height is None
    assert (f"the latest {LOG_LENGTH} of {len(dash.sim.trace)} records"
            in text(dash.controls.log))
    assert "records (the filter" not in text(busy_orders(0).controls.log)


def test_a_workflow_the_oracle_finds_broken_is_flagged_beside_what_its_events_say():
    broken = Violation("at most one charge", "o-1", "charged twice", ("m4",))
    dash = order_dashboard(seed=7, oracle=FixedOracle(report([broken])))
    dash.place_order()
    dash.run_until_idle()
    assert dash.lamp_state == "red"
    shown = text(dash.controls.sagas)
    assert "o-1 completed broken" in shown
    assert 'title="at most one charge"' in dash.controls.sagas.value
    assert "broken 1 (see the lamp)" in shown
