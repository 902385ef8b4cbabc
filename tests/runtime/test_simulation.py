"""The simulation: virtual time, latency and jitter, service control, stats, redrive."""

from __future__ import annotations

import pytest

from choreo_lab import Context, Event, RunawayError, Service, Simulation


class TicketSold(Event):
    seat: str


class TicketPrinted(Event):
    seat: str


def box_office(*, processing_time: int = 0, instances: int = 1, fail: tuple[str, ...] = (),
               name: str = "printer") -> Service:
    service = Service(name, {"printed": []}, processing_time=processing_time,
                      instances=instances)

    @service.handles(TicketSold, publishes=(TicketPrinted,))
    def print_ticket(event: TicketSold, ctx: Context) -> TicketPrinted:
        if event.seat in fail:
            raise OSError(f"paper jam at seat {event.seat}")
        ctx.state["printed"].append(event.seat)
        return TicketPrinted(seat=event.seat)

    return service


def sell(sim: Simulation, *seats: str, **options) -> None:
    for seat in seats:
        sim.publish(TicketSold(seat=seat), **options)


# -- virtual time ---------------------------------------------------------------------------
def test_step_does_the_next_scheduled_thing_and_moves_time_to_it():
    sim = Simulation([box_office()], latency=7)
    assert sim.step() is False and sim.now == 0
    sell(sim, "1A")
    assert sim.idle is False
    assert sim.step() is True
    assert sim.now == 7 and sim.state("printer")["printed"] == ["1A"]
    assert sim.step() is False and sim.idle


def test_run_for_does_only_what_is_due_and_ends_exactly_at_the_deadline():
    sim = Simulation([box_office()], latency=10)
    sell(sim, "1A")
    sim.run_for(9)
    assert sim.now == 9 and sim.state("printer")["printed"] == []
    sim.run_for(1)
    assert sim.now == 10 and sim.state("printer")["printed"] == ["1A"]
    sim.run_for(0)
    assert sim.now == 10


def test_run_for_refuses_to_go_back_in_time():
    sim = Simulation([box_office()])
    sim.run_for(20)
    with pytest.raises(ValueError, match="duration >= 0"):
        sim.run_for(-5)
    assert sim.now == 20


def test_run_until_idle_delivers_everything_and_stops():
    sim = Simulation([box_office()])
    sell(sim, "1A", "1B", "1C")
    sim.run_until_idle()
    assert sim.idle and sim.state("printer")["printed"] == ["1A", "1B", "1C"]


def test_run_until_idle_with_just_enough_steps_settles_without_error():
    sim = Simulation([box_office()])
    sell(sim, "1A", "1B")
    sim.run_until_idle(max_steps=2)  # two arrivals, nothing else to do
    assert sim.idle and sim.state("printer")["printed"] == ["1A", "1B"]


def test_run_until_idle_stops_with_an_explanation_when_the_step_budget_runs_out():
    sim = Simulation([box_office()])
    sell(sim, "1A", "1B", "1C")
    with pytest.raises(RunawayError, match="stopped after 2 steps.*larger max_steps"):
        sim.run_until_idle(max_steps=2)


def test_latency_delays_each_arrival_and_jitter_adds_at_most_its_bound():
    sim = Simulation([box_office()], latency=5, jitter=20, seed=3)
    sell(sim, *[f"seat-{n}" for n in range(40)])
    sim.run_until_idle()
    arrivals = [r.time for r in sim.trace.where(kind="deliver")]
    assert min(arrivals) >= 5 and max(arrivals) <= 25
    assert len(set(arrivals)) > 5  # jitter did spread them


def test_jitter_reorders_messages_with_different_keys():
    sim = Simulation([box_office()], jitter=30, seed=1)
    seats = [f"seat-{n:02}" for n in range(20)]
    sell(sim, *seats)  # each from outside: a workflow (and key) of its own
    sim.run_until_idle()
    printed = sim.state("printer")["printed"]
    assert sorted(printed) == seats and printed != seats


def test_jitter_never_reorders_messages_with_the_same_key():
    sim = Simulation([box_office()], jitter=30, seed=1)
    seats = [f"seat-{n:02}" for n in range(20)]
    sell(sim, *seats, key="row-1")
    sim.run_until_idle()
    assert sim.state("printer")["printed"] == seats


# -- services: kill, restart, pause, resume, scale ------------------------------------------
def test_a_killed_service_keeps_its_messages_waiting_and_its_committed_state():
    sim = Simulation([box_office()])
    sell(sim, "1A")
    sim.run_until_idle()
    sim.kill("printer")
    sell(sim, "1B", "1C")
    sim.run_until_idle()
    assert sim.status("printer") == "down"
    assert sim.state("printer")["printed"] == ["1A"]
    assert sim.backlog("printer") == {"TicketSold": 2}
    sim.restart("printer")
    sim.run_until_idle()
    assert sim.status("printer") == "up"
    assert sim.state("printer")["printed"] == ["1A", "1B", "1C"]
    assert [r.kind for r in sim.trace.where(kind="kill|restart")] == ["kill", "restart"]


def test_killing_twice_or_restarting_a_running_service_changes_nothing():
    sim = Simulation([box_office()])
    sim.restart("printer")
    sim.kill("printer")
    sim.kill("printer")
    assert [r.kind for r in sim.trace] == ["kill"]


def test_a_paused_service_finishes_what_it_holds_and_takes_nothing_new():
    sim = Simulation([box_office(processing_time=10)])
    sell(sim, "1A", "1B", key="row-1")
    sim.run_for(5)  # 1A is being printed
    sim.pause("printer")
    sim.run_until_idle()
    assert sim.status("printer") == "paused"
    assert sim.state("printer")["printed"] == ["1A"]
    sim.resume("printer")
    sim.run_until_idle()
    assert sim.state("printer")["printed"] == ["1A", "1B"]


def test_a_killed_service_abandons_what_it_was_processing_for_redelivery():
    sim = Simulation([box_office(processing_time=10)])
    sell(sim, "1A")
    sim.run_for(5)
    sim.kill("printer")
    assert sim.trace.where(kind="abandon")[0].detail == "killed while processing"
    sim.run_for(50)
    assert sim.state("printer")["printed"] == []
    sim.restart("printer")
    sim.run_until_idle()
    assert sim.state("printer")["printed"] == ["1A"]
    assert [(r.kind, r.attempt) for r in sim.trace.where(service="printer", message_id="m1")] == [
        ("deliver", 1), ("abandon", 1), ("redeliver", 2), ("ack", 2)]


def test_scaling_up_puts_more_instances_to_work():
    sim = Simulation([box_office(processing_time=10)])
    sim.scale("printer", 4)
    sell(sim, *[f"seat-{n}" for n in range(8)])
    sim.run_until_idle()
    assert sim.stats()["printer"]["instances"] == 4
    assert sim.now == 1 + 2 * 10
    assert sim.trace.where(kind="scale")[0].detail == "4 instances"


def test_stats_count_what_each_service_did():
    sim = Simulation([box_office(fail=("13",))], max_attempts=3)
    sell(sim, "12", "13", "14")
    sim.run_until_idle()
    assert sim.stats() == {"printer": {"status": "up", "instances": 1, "backlog": 0,
                                       "in_flight": 0, "handled": 2, "retried": 2,
                                       "dead_lettered": 1}}


def test_services_lists_names_in_the_order_they_were_added():
    sim = Simulation([box_office(name="printer"), box_office(name="archive")])
    assert sim.services == ["printer", "archive"]
    assert "printer" in repr(sim) and "seed=0" in repr(sim)


# -- adding services, redrive ---------------------------------------------------------------
def test_a_service_name_is_used_once_per_simulation():
    sim = Simulation([box_office()])
    with pytest.raises(ValueError, match="already in this simulation"):
        sim.add_service(box_office())


def test_add_service_starts_from_the_beginning_or_now_only():
    sim = Simulation([])
    with pytest.raises(ValueError, match="'beginning' or 'now'"):
        sim.add_service(box_office(), start="yesterday")


def test_redrive_sends_one_dead_letter_again_with_attempts_from_zero():
    sim = Simulation([box_office(fail=("13", "14"))], max_attempts=2)
    sell(sim, "13", "14")
    sim.run_until_idle()
    first, second = sim.dead_letters
    assert sim.redrive(first) == 1
    assert sim.dead_letters == [second]
    sim.run_until_idle()
    redriven = [(r.kind, r.attempt) for r in sim.trace.where(message_id="m1", service="printer")]
    assert redriven[-6:] == [("redrive", 0), ("deliver", 1), ("nack", 1), ("redeliver", 2),
                             ("nack", 2), ("dead-letter", 2)]
    assert [letter.envelope.message_id for letter in sim.dead_letters] == ["m2", "m1"]


def test_redriving_a_letter_that_is_not_waiting_is_refused_clearly():
    sim = Simulation([box_office(fail=("13",))], max_attempts=1)
    sell(sim, "13")
    sim.run_until_idle()
    [letter] = sim.dead_letters
    sim.redrive(letter)
    with pytest.raises(ValueError, match="m1 for 'printer' is not on the dead-letter topic"):
        sim.redrive(letter)


def test_redrive_with_nothing_dead_lettered_does_nothing():
    sim = Simulation([box_office()])
    assert sim.redrive() == 0 and sim.idle
