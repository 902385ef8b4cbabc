"""Contract: at-least-once delivery, redelivery backoff, dead letters and redrive.

Outcomes come from the services' own states; where a test reads the exact steps from the
trace it is gated on `trace` too.
"""

from __future__ import annotations

import pytest

from choreo_lab import Crash, Drop, Duplicate

from .flows import (
    BankReopened,
    PaymentRequested,
    UserRegistered,
    attempt_recorder,
    handled,
    picky_cashier,
)


def attempts_of(sim, message_id: str, service: str) -> list[tuple[str, int]]:
    return [(record.kind, record.attempt)
            for record in sim.trace.where(message_id=message_id, service=service)]


@pytest.mark.feature("at_least_once")
def test_a_nacked_message_comes_again_with_its_attempt_count(backend):
    sim = backend.make([attempt_recorder(fail_until=3)], max_attempts=5)
    sim.publish(UserRegistered(user_id="ada"))
    sim.run_until_idle()
    assert sim.state("mailer")["sent"] == [("ada", 3)]
    assert sim.dead_letters == []


@pytest.mark.feature("at_least_once", "trace")
def test_the_trace_shows_each_nack_and_redelivery(backend):
    sim = backend.make([attempt_recorder(fail_until=3)], max_attempts=5)
    message = sim.publish(UserRegistered(user_id="ada"))
    sim.run_until_idle()
    assert attempts_of(sim, message.message_id, "mailer") == [
        ("deliver", 1), ("nack", 1), ("redeliver", 2), ("nack", 2), ("redeliver", 3), ("ack", 3)]


@pytest.mark.feature("at_least_once", "crash_points", "trace")
def test_a_message_whose_handler_crashed_comes_again_with_its_attempt_count(backend):
    sim = backend.make([attempt_recorder()], faults=[Crash(service="mailer", times=1)])
    message = sim.publish(UserRegistered(user_id="ada"))
    sim.run_until_idle()
    assert sim.state("mailer")["sent"] == [("ada", 2)]
    assert ("crash", 1) in attempts_of(sim, message.message_id, "mailer")


@pytest.mark.feature("at_least_once", "virtual_time", "trace")
def test_a_message_being_processed_by_a_killed_service_comes_again_after_restart(backend):
    sim = backend.make([attempt_recorder(processing_time=20)])
    message = sim.publish(UserRegistered(user_id="ada"))
    sim.run_for(10)  # delivered at t=1, would finish at t=21
    sim.kill("mailer")
    sim.run_for(100)
    assert sim.state("mailer")["sent"] == []
    sim.restart("mailer")
    sim.run_until_idle()
    assert sim.state("mailer")["sent"] == [("ada", 2)]
    assert handled(sim, "mailer") == [message.message_id]


@pytest.mark.feature("at_least_once", "injected_faults", "trace")
def test_a_dropped_delivery_comes_again_with_its_attempt_count(backend):
    sim = backend.make([attempt_recorder()], faults=[Drop(service="mailer", times=1)])
    message = sim.publish(UserRegistered(user_id="ada"))
    sim.run_until_idle()
    assert sim.state("mailer")["sent"] == [("ada", 2)]
    assert ("drop", 1) in attempts_of(sim, message.message_id, "mailer")


@pytest.mark.feature("redelivery_backoff")
def test_later_retries_wait_at_least_as_long_as_earlier_ones(backend):
    backoff = 40
    sim = backend.make([attempt_recorder("early", fail_until=3),
                        attempt_recorder("late", fail_until=5)], max_attempts=5, backoff=backoff)
    sim.publish(UserRegistered(user_id="ada"))
    sim.run_until_idle()
    [early] = sim.state("early")["waited"]  # after retries 1 and 2
    [late] = sim.state("late")["waited"]    # after retries 1 to 4
    assert early >= backoff + 2 * backoff
    assert late - early >= early, (early, late)  # retries 3 and 4 waited at least as long


@pytest.mark.feature("redelivery_backoff", "trace")
def test_each_retry_waits_longer_than_the_one_before(backend):
    sim = backend.make([attempt_recorder(fail_until=99)], max_attempts=6, backoff=10)
    message = sim.publish(UserRegistered(user_id="ada"))
    sim.run_until_idle()
    times = [r.time for r in sim.trace.where(message_id=message.message_id,
                                             kind="deliver|redeliver")]
    gaps = [later - earlier for earlier, later in zip(times, times[1:])]
    assert len(gaps) == 5
    assert all(later > earlier for earlier, later in zip(gaps, gaps[1:])), gaps


@pytest.mark.feature("dead_letters")
def test_a_message_that_always_fails_is_dead_lettered_with_the_exception_text(backend):
    sim = backend.make([picky_cashier("o-13")], max_attempts=3)
    sim.publish(PaymentRequested(order_id="o-12", amount=5))
    poison = sim.publish(PaymentRequested(order_id="o-13", amount=7))
    sim.publish(PaymentRequested(order_id="o-14", amount=9))
    sim.run_until_idle()
    [letter] = sim.dead_letters
    assert letter.envelope.message_id == poison.message_id
    assert letter.envelope.event == PaymentRequested(order_id="o-13", amount=7)
    assert (letter.group, letter.attempts) == ("cashier", 3)
    assert "card expired for o-13" in letter.reason
    assert sorted(sim.state("cashier")["paid"]) == ["o-12", "o-14"]


@pytest.mark.feature("dead_letters")
def test_the_run_keeps_going_after_a_dead_letter(backend):
    sim = backend.make([picky_cashier("o-13")], max_attempts=2)
    sim.publish(PaymentRequested(order_id="o-13", amount=7))
    sim.run_until_idle()
    assert len(sim.dead_letters) == 1
    sim.publish(PaymentRequested(order_id="o-15", amount=3))
    sim.run_until_idle()
    assert sim.state("cashier")["paid"] == ["o-15"]


@pytest.mark.feature("dead_letters", "redrive")
def test_a_dead_letter_redriven_after_the_cause_is_fixed_is_handled(backend):
    sim = backend.make([picky_cashier(bank_open=False)], max_attempts=3)
    message = sim.publish(PaymentRequested(order_id="o-1", amount=30))
    sim.run_until_idle()
    assert [letter.envelope.message_id for letter in sim.dead_letters] == [message.message_id]
    assert "bank unavailable" in sim.dead_letters[0].reason
    sim.publish(BankReopened())
    sim.run_until_idle()
    assert sim.state("cashier")["paid"] == []  # still parked: nothing retries it by itself
    assert sim.redrive() == 1
    sim.run_until_idle()
    assert sim.dead_letters == []
    assert sim.state("cashier")["paid"] == ["o-1"]


@pytest.mark.feature("dead_letters", "redrive")
def test_redriving_a_letter_twice_is_refused(backend):
    sim = backend.make([picky_cashier("o-13")], max_attempts=1)
    sim.publish(PaymentRequested(order_id="o-13", amount=7))
    sim.run_until_idle()
    [letter] = sim.dead_letters
    assert sim.redrive(letter) == 1
    with pytest.raises(ValueError, match="not in the dead-letter queue"):
        sim.redrive(letter)


@pytest.mark.feature("at_least_once", "injected_faults", "trace")
def test_a_message_whose_ack_was_lost_is_delivered_again_with_its_attempt_count(backend):
    sim = backend.make([attempt_recorder()], faults=[Duplicate(service="mailer", times=1)])
    message = sim.publish(UserRegistered(user_id="ada"))
    sim.run_until_idle()
    assert sim.state("mailer")["sent"] == [("ada", 1), ("ada", 2)]  # not idempotent: twice
    assert attempts_of(sim, message.message_id, "mailer") == [
        ("deliver", 1), ("duplicate", 1), ("redeliver", 2), ("ack", 2)]
