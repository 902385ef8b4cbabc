"""Timers in sequence diagrams: set, fired, cancelled and still pending, as notes on the lane
of the service that set them; counted in summaries."""

from __future__ import annotations

from choreo_lab import Context, Event, Service, Simulation
from choreo_lab.diagrams import sequence_diagram, timer_note
from choreo_lab.text import duration_text
from choreo_lab.trace import TraceRecord

from .mermaid_rules import parse_sequence

DAY = 86_400_000


class SignedUp(Event):
    user_id: str


class TipDue(Event):
    user_id: str
    day: int


class OptedOut(Event):
    user_id: str


def campaign() -> Service:
    service = Service("campaign", {"tips": []})

    @service.handles(SignedUp)
    def plan_tips(event: SignedUp, ctx: Context) -> None:
        for day in (3, 7):
            ctx.schedule(TipDue(user_id=event.user_id, day=day), after=day * DAY,
                         name=f"day-{day}/{event.user_id}")

    @service.handles(TipDue)
    def send_tip(event: TipDue, ctx: Context) -> None:
        ctx.state["tips"].append(event.day)

    @service.handles(OptedOut)
    def stop_tips(event: OptedOut, ctx: Context) -> None:
        ctx.cancel(f"day-7/{event.user_id}")

    return service


def signed_up(*users: str) -> Simulation:
    sim = Simulation([campaign()], seed=3)
    for user in users:
        sim.publish(SignedUp(user_id=user), key=user, correlation_id=user)
    return sim


def notes_of(sim: Simulation, workflow: str | None = None) -> list[str]:
    return [text for _, text in parse_sequence(str(sequence_diagram(sim, workflow))).notes]


def test_a_timer_set_and_fired_is_drawn_on_its_services_lane_and_its_event_as_a_self_arrow():
    sim = signed_up("ada")
    sim.run_for(4 * DAY)
    diagram = parse_sequence(str(sequence_diagram(sim, "ada")))
    notes = " ".join(text for lanes, text in diagram.notes if lanes == ["campaign"])
    assert "timer set day-3/ada: TipDue in 3 d" in notes
    assert "timer set day-7/ada: TipDue in 7 d" in notes
    assert "timer day-3/ada fired" in notes
    assert ("campaign", "->>", "campaign", "TipDue") in diagram.arrows


def test_a_pending_timer_is_drawn_with_the_time_left_and_a_cancelled_one_says_so():
    sim = signed_up("ada")
    sim.run_for(4 * DAY)
    assert any("timer pending: day-7/ada, due in 3 d" in text for text in notes_of(sim, "ada"))
    sim.publish(OptedOut(user_id="ada"), key="ada", correlation_id="ada")
    sim.run_until_idle()
    notes = " ".join(notes_of(sim, "ada"))
    assert "timer cancelled day-7/ada" in notes and "pending" not in notes


def test_a_summary_counts_the_timers_of_every_workflow():
    sim = signed_up("ada", "alan", "grace", "barbara")
    sim.publish(OptedOut(user_id="ada"), key="ada", correlation_id="ada")
    sim.run_until_idle()
    notes = " ".join(notes_of(sim))
    assert "timer set ×8" in notes and "timer fired ×7" in notes
    assert "timer cancelled ×1" in notes
    assert " ×" not in notes.replace("×8", "").replace("×7", "").replace("×1", "").replace(
        "×4", "")  # no empty tally line


def test_timer_notes_read_durations_in_the_largest_unit():
    assert [duration_text(ms) for ms in (5, 1500, 90_000, 7_200_000, 3 * DAY, DAY + DAY // 2)] == [
        "5 ms", "1.5 s", "1.5 min", "2 h", "3 d", "1.5 d"]
    set_record = TraceRecord(10, "timer-set", "campaign", "m1", 0,
                             "deadline/o-1 at t=30010: PaymentDeadlinePassed(order_id='o-1')")
    assert timer_note(set_record) == "timer set deadline/o-1: PaymentDeadlinePassed in 30 s"
    cancel = TraceRecord(12, "timer-cancel", "order", "m3", 0, "deadline/o-1 (was due at t=30010)")
    assert timer_note(cancel) == "timer cancelled deadline/o-1"
