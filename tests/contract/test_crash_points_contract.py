"""Contract: handler crashes injected at each point do what the point says."""

from __future__ import annotations

import pytest

from choreo_lab import Crash, FaultPlanError

from .flows import PaymentRequested, cashier, receipts

PAYMENT = PaymentRequested(order_id="o-1", amount=30)


def crash_at(point: str, **fault) -> list[Crash]:
    return [Crash(service="cashier", point=point, **fault)]


@pytest.mark.feature("crash_points")
def test_a_crash_before_commit_keeps_no_state_and_publishes_nothing(backend):
    sim = backend.make([cashier(idempotent=False), receipts()], max_attempts=1,
                       faults=crash_at("before_commit"))
    message = sim.publish(PAYMENT)
    sim.run_until_idle()
    assert sim.state("cashier") == {"till": 0, "taken": []}
    assert sim.state("receipts")["printed"] == []
    [letter] = sim.dead_letters
    assert letter.envelope.message_id == message.message_id
    assert "before commit" in letter.reason


@pytest.mark.feature("crash_points", "at_least_once")
def test_after_a_crash_before_commit_the_redelivery_applies_the_payment_once(backend):
    sim = backend.make([cashier(idempotent=False), receipts()],
                       faults=crash_at("before_commit", times=1))
    sim.publish(PAYMENT)
    sim.run_until_idle()
    assert sim.state("cashier") == {"till": 30, "taken": ["o-1"]}
    assert sim.state("receipts")["printed"] == ["o-1"]


@pytest.mark.feature("crash_points", "trace")
def test_a_crash_after_commit_before_ack_redelivers_and_a_non_idempotent_handler_applies_twice(
        backend):
    sim = backend.make([cashier(idempotent=False), receipts()],
                       faults=crash_at("after_commit_before_ack", times=1))
    message = sim.publish(PAYMENT)
    sim.run_until_idle()
    assert sim.state("cashier") == {"till": 60, "taken": ["o-1", "o-1"]}
    assert sim.state("receipts")["printed"] == ["o-1", "o-1"]
    assert [r.attempt for r in sim.trace.where(message_id=message.message_id,
                                               kind="deliver|redeliver")] == [1, 2]


@pytest.mark.feature("crash_points")
def test_a_crash_after_commit_before_ack_is_harmless_to_an_idempotent_handler(backend):
    sim = backend.make([cashier(idempotent=True), receipts()],
                       faults=crash_at("after_commit_before_ack", times=1))
    sim.publish(PAYMENT)
    sim.run_until_idle()
    assert sim.state("cashier") == {"till": 30, "taken": ["o-1"]}
    assert sim.state("receipts")["printed"] == ["o-1"]


@pytest.mark.feature("crash_points")
@pytest.mark.parametrize("outbox", [{}, {"outbox": True}])
def test_crashing_between_write_and_publish_needs_the_outbox_off(backend, outbox):
    with pytest.raises(FaultPlanError, match="outbox=False"):
        backend.make([cashier(idempotent=True)], faults=crash_at("after_write_before_publish"),
                     **outbox)


@pytest.mark.feature("crash_points")
def test_a_crash_between_write_and_publish_keeps_the_write_and_loses_the_publish(backend):
    sim = backend.make([cashier(idempotent=False), receipts()], outbox=False, max_attempts=1,
                       faults=crash_at("after_write_before_publish"))
    sim.publish(PAYMENT)
    sim.run_until_idle()
    assert sim.state("cashier") == {"till": 30, "taken": ["o-1"]}
    assert sim.state("receipts")["printed"] == []


@pytest.mark.feature("crash_points", "at_least_once", "trace")
def test_the_dual_write_bug_loses_an_event_for_good_behind_an_idempotent_handler(backend):
    sim = backend.make([cashier(idempotent=True), receipts()], outbox=False,
                       faults=crash_at("after_write_before_publish", times=1))
    message = sim.publish(PAYMENT)
    sim.run_until_idle()
    assert sim.state("cashier") == {"till": 30, "taken": ["o-1"]}
    assert sim.state("receipts")["printed"] == []  # the redelivery saw "already taken"
    assert sim.dead_letters == []
    assert ("ack", 2) in [(r.kind, r.attempt)
                          for r in sim.trace.where(message_id=message.message_id)]
