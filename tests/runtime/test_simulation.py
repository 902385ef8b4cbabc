"""The simulation: virtual time, latency and jitter, service control, stats, redrive."""

from __future__ import annotations

import pytest

from choreo_lab import Context, Event, HandlerError, RunawayError, Service, Simulation


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


def test_next_due_says_when_the_next_step_is_due_without_taking_it():
    sim = Simulation([box_office()], latency=7)
    assert sim.next_due() is None
    sell(sim, "1A")
    assert sim.next_due() == 7 and sim.now == 0 and sim.next_due() == 7
    sim.run_until_idle()
    assert sim.next_due() is None


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
    with pytest.raises(ValueError, match="duration must be a whole number, at least 0; got -5.*"
                                         "time never goes back"):
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


def test_add_service_starts_from_the_beginning_now_or_a_point_in_time_only():
    sim = Simulation([])
    with pytest.raises(ValueError, match="'beginning', 'now' or a virtual time >= 0, got 'yesterday'"):
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
    with pytest.raises(ValueError, match="m1 for 'printer' is not in the dead-letter queue"):
        sim.redrive(letter)


def test_redrive_with_nothing_dead_lettered_does_nothing():
    sim = Simulation([box_office()])
    assert sim.redrive() == 0 and sim.idle


# -- settings a learner gets wrong --------------------------------------------------------------
@pytest.mark.parametrize("setting, value, expected", [
    ("latency", -1, "latency must be a whole number, at least 0; got -1"),
    ("jitter", -3, "jitter must be a whole number, at least 0; got -3"),
    ("backoff", -10, "backoff must be a whole number, at least 0; got -10"),
    ("ack_timeout", -30, "ack_timeout must be a whole number, at least 0; got -30"),
    ("max_backoff", -1, "max_backoff must be a whole number, at least 0; got -1"),
    ("latency", "5", "latency must be a whole number, at least 0; got '5' \\(text, not a number: "
                     "write latency=5\\)"),
    ("max_attempts", 2.5, "max_attempts must be a whole number, at least 1; got 2.5"),
])
def test_impossible_settings_are_refused_saying_what_to_write(setting, value, expected):
    with pytest.raises(ValueError, match=expected):
        Simulation([box_office()], **{setting: value})


def test_a_backoff_cap_below_the_backoff_is_refused():
    with pytest.raises(ValueError, match="max_backoff \\(5 ms\\) is the cap on backoff \\(10 ms\\)"):
        Simulation([box_office()], backoff=10, max_backoff=5)


def test_a_single_service_instead_of_a_list_is_refused_saying_how_to_write_it():
    with pytest.raises(TypeError, match="Simulation takes a list of services, got one; write "
                                        "Simulation\\(\\[printer\\]\\)"):
        Simulation(box_office())


def test_redrive_with_a_message_id_is_refused_saying_what_to_pass():
    sim = Simulation([box_office(fail=("13",))], max_attempts=1)
    sell(sim, "13")
    sim.run_until_idle()
    with pytest.raises(TypeError, match="redrive\\(\\) takes one of sim.dead_letters.*got str 'm1'.*"
                                        "sim.redrive\\(sim.dead_letters\\[0\\]\\)"):
        sim.redrive("m1")


def test_generated_workflow_ids_never_take_one_a_caller_chose():
    sim = Simulation([box_office()])
    sim.publish(TicketSold(seat="1A"), correlation_id="c1")
    sim.publish(TicketSold(seat="1B"), correlation_id="c3")
    generated = [sim.publish(TicketSold(seat=seat)).correlation_id for seat in ("1C", "1D")]
    assert generated == ["c2", "c4"]


def test_a_redriven_message_comes_after_later_messages_of_its_key():
    sim = Simulation([box_office(fail=("13",))], max_attempts=1)
    sell(sim, "13", key="row-1")
    sim.run_until_idle()
    sim.publish(TicketSold(seat="14"), key="row-1")
    sim.run_until_idle()
    sim.redrive(sim.dead_letters[0])
    sim.run_until_idle()
    assert [r.message_id for r in sim.trace.where(kind="deliver")] == ["m1", "m2", "m1"]


# -- interrupts inside a handler (the notebook's stop button, a grader's time limit) -----------
@pytest.mark.parametrize("interrupt", [KeyboardInterrupt, SystemExit])
def test_an_interrupt_in_a_handler_loses_nothing_and_passes_on(interrupt):
    printer = Service("printer", {"printed": []})

    @printer.handles(TicketSold)
    def print_ticket(event, ctx):
        if ctx.attempt == 1 and event.seat == "1A":
            raise interrupt()
        ctx.state["printed"].append(event.seat)

    sim = Simulation([printer])
    sim.publish(TicketSold(seat="1A"), key="a")
    sim.publish(TicketSold(seat="1B"), key="b")
    with pytest.raises(interrupt):
        sim.run_until_idle()
    assert sim.state("printer")["printed"] == []  # nothing of the interrupted call was kept
    sim.run_until_idle()  # Run again: the interrupted message comes again, the other one goes on
    assert sorted(sim.state("printer")["printed"]) == ["1A", "1B"]
    nack = sim.trace.where(kind="nack")[0]
    assert (nack.message_id, nack.detail) == ("m1", interrupt.__name__)
    assert sim.open_messages() == 0 and not sim.dead_letters


def test_an_interrupt_on_every_attempt_ends_dead_lettered_visibly():
    printer = Service("printer")

    @printer.handles(TicketSold)
    def print_ticket(event, ctx):
        raise KeyboardInterrupt

    sim = Simulation([printer], max_attempts=2)
    sim.publish(TicketSold(seat="1A"))
    for _ in range(2):
        with pytest.raises(KeyboardInterrupt):
            sim.run_until_idle()
    sim.run_until_idle()
    [letter] = sim.dead_letters
    assert (letter.reason, letter.attempts) == ("KeyboardInterrupt", 2)
    assert sim.open_messages() == 0


# -- commands: exactly one handler ---------------------------------------------------------------
def test_a_command_handled_by_two_services_is_refused():
    from choreo_lab import Command

    class PrintTicket(Command):
        seat: str

    first, second = Service("printer"), Service("kiosk")
    for service in (first, second):
        service.handles(PrintTicket)(lambda event, ctx: None)
    with pytest.raises(HandlerError, match="PrintTicket is a command: exactly one service handles "
                                           "it, but both 'printer' and 'kiosk' do"):
        Simulation([first, second])
