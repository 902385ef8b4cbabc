"""The generic oracle: consistent / converged / stuck, and time to consistency in virtual ms.

Expected times are worked out by hand from the saga's shape: with latency 1 and no jitter
every hop takes 1 ms (customer -> order -> payment -> inventory -> shipping -> order).
"""

from __future__ import annotations

import pytest

from choreo_lab import Context, Crash, Duplicate, Event, Kill, Restart, Service, Simulation
from choreo_lab.consistency import Oracle, Violation, quiescent
from choreo_lab.examples.orders import order_oracle
from choreo_lab.examples.orders import order_system, place_order


def settled(**order: object) -> tuple[Simulation, object]:
    sim = order_system(seed=1, faults=order.pop("faults", None))  # type: ignore[arg-type]
    place_order(sim, "o-1", **order)  # type: ignore[arg-type]
    sim.run_until_idle()
    return sim, order_oracle().check(sim)


@pytest.mark.parametrize("order, hops", [
    ({}, 5),                                         # order, payment, inventory, shipping, order
    ({"customer": "mallory"}, 3),                    # order, payment declines, order
    ({"item": "unicorn"}, 5),                        # ..., inventory: none, payment refunds, order
    ({"item": "lamp", "address": "Atlantis"}, 6),    # ..., shipping fails, refund+release, order
])
def test_time_to_consistency_is_the_hops_until_the_last_service_settles(order, hops):
    _, report = settled(**order)
    assert report.converged
    assert report.time_to_consistency == {"o-1": hops}
    assert report.overall_time_to_consistency == hops


def test_an_outage_adds_its_length_to_the_time_to_consistency():
    outage = [Kill(service="payment", at=0), Restart(service="payment", at=100)]
    _, report = settled(faults=outage)
    # payment takes OrderPlaced when it restarts at t=100; three more hops after that
    assert report.time_to_consistency == {"o-1": 103}


def test_a_duplicate_delivered_later_does_not_count_as_settling_later():
    sim, report = settled(faults=[Duplicate(service="order", event_type="ShipmentScheduled",
                                            times=1)])
    late_acks = [r for r in sim.trace if r.kind == "ack" and r.service == "order" and r.time > 30]
    assert late_acks, "the duplicate should have been acked much later"
    assert report.time_to_consistency == {"o-1": 5}


def test_a_crash_after_the_commit_counts_as_settled_and_one_before_does_not():
    after = Crash(service="order", event_type="ShipmentScheduled", point="after_commit_before_ack",
                  times=1)
    before = Crash(service="order", event_type="ShipmentScheduled", point="before_commit", times=1)
    assert settled(faults=[after])[1].time_to_consistency == {"o-1": 5}
    # before_commit: nothing kept; the redelivery 10 ms later (the backoff) commits
    assert settled(faults=[before])[1].time_to_consistency == {"o-1": 15}


def test_overall_time_runs_from_the_first_workflows_start_to_the_last_ones_end():
    sim = order_system(seed=1)
    place_order(sim, "o-1")
    sim.run_for(50)
    place_order(sim, "o-2")
    sim.run_until_idle()
    report = order_oracle().check(sim)
    assert report.time_to_consistency == {"o-1": 5, "o-2": 5}
    assert report.overall_time_to_consistency == 55
    assert report.explain().splitlines()[-1] == (
        "  overall: consistent 55 ms after the first workflow started")


def test_a_workflow_in_flight_is_pending_not_a_violation_and_has_no_time_yet():
    sim = order_system(seed=1)
    place_order(sim, "o-1")
    sim.run_for(2)
    report = order_oracle().check(sim)
    assert (report.consistent, report.converged, report.quiescent) == (True, False, False)
    assert report.pending == ("o-1",) and report.stuck == ()
    assert report.time_to_consistency == {"o-1": None}
    assert report.overall_time_to_consistency is None
    assert report.explain() == ("t=2: consistent so far; 1 of 1 workflows still pending\n"
                                "  unfinished: o-1 (messages in flight, or waiting for a "
                                "service that is down)")


def test_a_workflow_whose_outcome_is_still_on_its_way_is_pending_until_every_service_has_it():
    """Finished means the outcome was published and every service is done with it: the lamp
    must not turn green while the order service has not heard of the shipment yet."""
    sim = order_system(seed=1)
    place_order(sim, "o-1")
    while not any(e.event_type == "ShipmentScheduled" for e in sim.trace.messages_of("o-1")):
        sim.step()
    report = order_oracle().check(sim)
    assert sim.open_messages("o-1") > 0
    assert report.pending == ("o-1",) and not report.converged
    assert report.time_to_consistency == {"o-1": None}
    sim.run_until_idle()
    report = order_oracle().check(sim)
    assert report.converged and report.time_to_consistency == {"o-1": 5}


def test_behind_a_dead_service_the_system_is_blocked_not_stuck():
    sim = order_system(seed=1)
    sim.kill("inventory")
    place_order(sim, "o-1")
    sim.run_until_idle()
    assert sim.idle and not quiescent(sim)  # nothing scheduled, but a backlog waits
    report = order_oracle().check(sim)
    assert report.consistent and report.pending == ("o-1",) and report.stuck == ()


def test_an_order_left_unfinished_at_quiescence_is_a_convergence_violation():
    crash = Crash(service="inventory", event_type="PaymentCompleted",
                  point="after_write_before_publish", times=1)
    sim = order_system(seed=1, outbox=False, faults=[crash])
    place_order(sim, "o-1")
    sim.run_until_idle()
    report = order_oracle().check(sim)
    assert report.quiescent and report.stuck == ("o-1",)
    assert not report.consistent and not report.converged
    violation = report.violations[0]
    assert (violation.invariant, violation.kind, violation.subject) == (
        "every workflow finishes", "convergence", "o-1")
    assert "inventory recorded 'reserved' but never published InventoryReserved" in (
        violation.explanation)
    payment_completed = [e.message_id for e in sim.trace.messages.values()
                         if e.event_type == "PaymentCompleted"]
    assert violation.message_ids == tuple(payment_completed)  # where the trail goes cold


def test_violations_are_what_check_reports_without_the_timing():
    crash = Crash(service="payment", event_type="OrderPlaced", point="after_write_before_publish",
                  times=1)
    sim = order_system(seed=1, outbox=False, faults=[crash])
    place_order(sim, "o-1")
    oracle = order_oracle()
    sim.run_for(1)
    assert oracle.violations(sim) == oracle.check(sim).violations == ()
    sim.run_until_idle()
    assert oracle.violations(sim) == oracle.check(sim).violations != ()


# -- the oracle is generic: any services, any invariants -------------------------------------------
class UserRegistered(Event):
    user: str


class WelcomeSent(Event):
    user: str


def mailer(sends_twice: bool) -> Service:
    service = Service("mailer", {"sent": []})

    @service.handles(UserRegistered, publishes=(WelcomeSent,))
    def send_welcome(event: UserRegistered, ctx: Context) -> list[Event]:
        if event.user in ctx.state["sent"] and not sends_twice:
            return []
        ctx.state["sent"].append(event.user)
        return [WelcomeSent(user=event.user)]

    return service


def one_welcome_each(sim: Simulation) -> list[Violation]:
    sent = sim.state("mailer")["sent"]
    return [Violation("one welcome each", user, f"{user} got {sent.count(user)} welcomes")
            for user in dict.fromkeys(sent) if sent.count(user) > 1]


def welcomed(sim: Simulation, user: str) -> bool:
    return user in sim.state("mailer")["sent"]


@pytest.mark.parametrize("sends_twice", [False, True])
def test_a_generic_oracle_checks_any_system_by_its_own_invariants(sends_twice):
    sim = Simulation([mailer(sends_twice)], seed=1, faults=[Duplicate(service="mailer", times=1)])
    for user in ("ada", "alan"):
        sim.publish(UserRegistered(user=user), correlation_id=user)
    sim.run_until_idle()
    report = Oracle([one_welcome_each], finished=welcomed).check(sim)
    assert report.workflows == ("ada", "alan")  # by default: the trace's correlation ids
    assert report.converged is not sends_twice
    expected = ["[one welcome each, safety] ada: ada got 2 welcomes"] if sends_twice else []
    assert [str(v) for v in report.violations] == expected


def test_an_oracle_of_a_system_without_declared_outcomes_asks_for_them_or_a_finished_rule():
    sim = Simulation([mailer(sends_twice=False)])
    sim.publish(UserRegistered(user="ada"), correlation_id="ada")
    sim.run_until_idle()
    with pytest.raises(ValueError, match="no event type of this system declares an outcome.*"
                                         "outcome=\"completed\".*finished="):
        Oracle([one_welcome_each]).check(sim)
    assert Oracle([one_welcome_each], finished=welcomed).check(sim).converged


def test_an_oracle_with_a_non_function_is_refused_clearly():
    with pytest.raises(TypeError, match="invariants must be functions .* got str 'one welcome each'"):
        Oracle(["one welcome each"], finished=welcomed)  # type: ignore[list-item]
    with pytest.raises(TypeError, match="a list of invariants"):
        Oracle(one_welcome_each)  # type: ignore[arg-type]


@pytest.mark.parametrize("returned, expected", [
    (lambda sim: True, "one_mistake\\(\\) returned bool True; an invariant yields"),
    (lambda sim: ["ada got 2 welcomes"], "one_mistake\\(\\) gave str 'ada got 2 welcomes'"),
    (lambda sim: 1 / 0, "one_mistake\\(\\) raised ZeroDivisionError: division by zero"),
])
def test_an_invariant_that_goes_wrong_is_named_in_the_error(returned, expected):
    from choreo_lab.consistency import InvariantError

    def one_mistake(sim):
        return returned(sim)

    sim = Simulation([mailer(sends_twice=False)])
    with pytest.raises(InvariantError, match=expected):
        Oracle([one_mistake], finished=welcomed).check(sim)


def test_a_violation_of_an_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="kind 'liveness'.*'safety'.*'convergence'"):
        Violation("x", "o-1", "broken", kind="liveness")  # type: ignore[arg-type]


def test_a_dead_lettered_workflow_is_stuck_while_others_still_move():
    from choreo_lab.examples.orders import order_system, place_order
    from choreo_lab import workflow_status
    sim = order_system(seed=1, max_attempts=1, faults=[
        Crash(service="inventory", correlation_id="o-1", times=1)])
    place_order(sim, "o-1")
    place_order(sim, "o-2", item="lamp")
    sim.kill("shipping")  # o-2 will wait for shipping; o-1's reservation is dead-lettered
    sim.run_until_idle()
    assert workflow_status(sim, "o-1") == "stuck"
    assert workflow_status(sim, "o-2") == "running"  # it moves once shipping is back
    report = order_oracle().check(sim)
    assert [v.subject for v in report.violations] == ["o-1"] and "o-2" in report.pending


def test_a_long_finding_in_the_explanation_is_broken_between_words_to_fit():
    from choreo_lab.consistency import ConsistencyReport, Violation

    why = "the order service says 'shipped', but payment shows 2 charge(s) and 0 refund(s) " \
          "(expected exactly one charge and no refund for a shipped order)"
    report = ConsistencyReport((Violation("finished orders are settled", "o-1", why),), (), {},
                               None, workflows=("o-1",))
    lines = report.explain().splitlines()
    assert all(len(line) <= 100 for line in lines) and len(lines) == 3
    assert lines[2].startswith("    ") and " ".join(" ".join(lines[1:]).split()) == (
        f"- [finished orders are settled, safety] o-1: {why}")
