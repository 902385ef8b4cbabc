"""Relays: a service publishes from its own state (the transactional outbox's publisher).

A handler writes the events it means to publish into an outbox table in the same commit as
its business change; the relay publishes each row under the row's id, then deletes it. The
broker keeps a message id once, so a relay that crashes after publishing and sends the row
again does not send it twice; a relay that deletes before publishing loses the row.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from choreo_lab import (
    Crash,
    Event,
    FaultPlanError,
    HandlerError,
    Kill,
    RelayCrash,
    Restart,
    Service,
    Simulation,
)
from choreo_lab import vocabulary as words


class OrderPlaced(Event):
    order_id: str


class PaymentCompleted(Event):
    order_id: str


def payment(relay_style: str = "publish-then-delete") -> Service:
    """Charges once per order and leaves PaymentCompleted in its outbox for the relay."""
    service = Service("payment", {"charged": [], "outbox": {}})

    @service.handles(OrderPlaced, publishes=[PaymentCompleted])
    def charge(event: OrderPlaced, ctx) -> None:
        if event.order_id in ctx.state["charged"]:
            return
        ctx.state["charged"].append(event.order_id)
        ctx.state["outbox"][f"paid/{event.order_id}"] = {
            "event": PaymentCompleted(order_id=event.order_id), "cause": ctx.message_id}

    @service.relay(every=5)
    def send_outbox(ctx) -> None:
        for row_id, row in list(ctx.state["outbox"].items()):
            if relay_style == "delete-then-publish":
                del ctx.state["outbox"][row_id]
            given_id = None if relay_style == "fresh-ids" else row_id
            ctx.publish(row["event"], message_id=given_id, cause=row["cause"])
            if relay_style != "delete-then-publish":
                del ctx.state["outbox"][row_id]

    return service


def shipping() -> Service:
    service = Service("shipping", {"paid": []})

    @service.handles(PaymentCompleted)
    def note(event: PaymentCompleted, ctx) -> None:
        ctx.state["paid"].append(event.order_id)

    return service


def run(orders: list[str], faults=(), relay_style: str = "publish-then-delete",
        seed: int = 1) -> Simulation:
    sim = Simulation([payment(relay_style), shipping()], seed=seed, outbox=False, faults=faults)
    for order_id in orders:
        sim.publish(OrderPlaced(order_id=order_id), correlation_id=order_id)
    sim.run_until_idle()
    return sim


def published(sim: Simulation, order_id: str) -> list[str]:
    return [e.message_id for e in sim.topics.get(PaymentCompleted.topic, [])
            if e.event.order_id == order_id]


def test_a_relay_publishes_each_row_under_its_id_in_the_workflow_of_its_cause():
    sim = run(["o-1", "o-2"])
    assert sim.state("payment")["outbox"] == {}
    assert sorted(sim.state("shipping")["paid"]) == ["o-1", "o-2"]
    envelope = sim.trace.messages["paid/o-1"]
    assert envelope.correlation_id == "o-1" and envelope.key == "o-1"
    assert sim.trace.messages[envelope.causation_id].event == OrderPlaced(order_id="o-1")
    assert envelope.producer == "payment"


relay_crashes = st.lists(
    st.builds(RelayCrash, point=st.sampled_from(["before_publish", "after_publish"]),
              occurrence=st.integers(1, 4), service=st.just("payment")),
    max_size=3)
handler_crashes = st.lists(
    st.builds(Crash, point=st.sampled_from(["before_commit", "after_commit_before_ack",
                                            "after_write_before_publish"]),
              occurrence=st.integers(1, 3), service=st.just("payment")),
    max_size=2)


@settings(max_examples=60, deadline=None)
@given(relay_crashes, handler_crashes, st.integers(0, 50))
def test_publish_then_delete_loses_nothing_and_doubles_nothing_under_any_crashes(
        relays, handlers, seed):
    orders = ["o-1", "o-2", "o-3"]
    sim = run(orders, faults=[*relays, *handlers], seed=seed)
    for order_id in orders:
        assert published(sim, order_id) == [f"paid/{order_id}"], sim.trace.tail(30)
    assert sorted(sim.state("shipping")["paid"]) == orders
    assert sim.state("payment")["outbox"] == {}


def test_a_row_sent_again_after_a_crash_is_kept_once_by_the_broker():
    sim = run(["o-1"], faults=[RelayCrash(service="payment", point="after_publish", times=1)])
    assert published(sim, "o-1") == ["paid/o-1"]
    dedups = sim.trace.where(kind=words.DEDUP)
    assert [(r.service, r.message_id) for r in dedups] == [("payment", "paid/o-1")]
    assert sim.state("shipping")["paid"] == ["o-1"]


def test_deleting_the_row_before_publishing_loses_it_when_the_relay_crashes_in_between():
    sim = run(["o-1"], faults=[RelayCrash(service="payment", point="before_publish", times=1)],
              relay_style="delete-then-publish")
    assert published(sim, "o-1") == []
    assert sim.state("shipping")["paid"] == []
    assert sim.state("payment")["charged"] == ["o-1"]  # charged, and nobody was told


def test_a_relay_that_gives_no_message_id_sends_a_row_twice_after_a_crash_after_publishing():
    sim = run(["o-1"], faults=[RelayCrash(service="payment", point="after_publish", times=1)],
              relay_style="fresh-ids")
    assert len(published(sim, "o-1")) == 2
    assert sim.state("shipping")["paid"] == ["o-1", "o-1"]


def test_a_killed_service_relays_nothing_until_it_restarts():
    sim = Simulation([payment(), shipping()], outbox=False,
                     faults=[Kill(service="payment", at=3), Restart(service="payment", at=100)])
    sim.publish(OrderPlaced(order_id="o-1"), correlation_id="o-1")
    sim.run_for(50)
    assert sim.state("payment")["outbox"] and sim.state("shipping")["paid"] == []
    sim.run_until_idle()
    assert sim.state("shipping")["paid"] == ["o-1"]
    assert sim.trace.messages["paid/o-1"].published_at >= 100


def test_a_row_waiting_for_the_relay_keeps_its_workflow_open_until_the_relay_has_run():
    from choreo_lab.story import workflow_status

    sim = Simulation([payment(), shipping()], outbox=False)
    sim.publish(OrderPlaced(order_id="o-1"), correlation_id="o-1")
    while not sim.state("payment")["outbox"]:
        sim.step()  # the charge is committed, its row waits for the relay (due in 5 ms)
    assert sim.open_messages("o-1") == 1 and workflow_status(sim, "o-1") == words.RUNNING
    sim.run_until_idle()
    assert sim.open_messages("o-1") == 0 and sim.state("shipping")["paid"] == ["o-1"]


def test_a_row_of_a_killed_service_keeps_its_workflow_open_until_the_restart():
    sim = Simulation([payment(), shipping()], outbox=False,
                     faults=[Kill(service="payment", at=3)])
    sim.publish(OrderPlaced(order_id="o-1"), correlation_id="o-1")
    sim.run_until_idle()
    assert sim.state("payment")["outbox"] and sim.open_messages("o-1") == 1  # blocked, not stuck
    sim.restart("payment")
    sim.run_until_idle()
    assert sim.open_messages("o-1") == 0 and sim.state("shipping")["paid"] == ["o-1"]


def test_a_deploy_without_a_relay_leaves_nothing_due_for_the_rows_it_will_not_send():
    sim = Simulation([payment(), shipping()], outbox=False)
    sim.publish(OrderPlaced(order_id="o-1"), correlation_id="o-1")
    while not sim.state("payment")["outbox"]:
        sim.step()
    without_relay = payment()
    without_relay.outbox_relay = None
    sim.deploy(without_relay)
    sim.run_until_idle()
    assert sim.state("payment")["outbox"] and sim.open_messages("o-1") == 0  # stuck, visibly


def test_a_resting_relay_leaves_its_workflows_stuck_rather_than_open_forever():
    service = payment()

    @service.relay(every=5)
    def broken(ctx) -> None:
        raise ValueError("no connection")

    sim = Simulation([service, shipping()], outbox=False, max_attempts=3)
    sim.publish(OrderPlaced(order_id="o-1"), correlation_id="o-1")
    sim.run_until_idle()
    assert "rests" in sim.trace.where(kind=words.RELAY_CRASH)[-1].detail
    assert sim.open_messages("o-1") == 0


def test_a_relay_that_always_raises_is_retried_then_rests_visibly_and_the_run_ends():
    service = Service("payment", {"outbox": {"r1": 1}})

    @service.relay(every=5)
    def broken(ctx) -> None:
        raise ValueError("no connection")

    sim = Simulation([service], max_attempts=3)
    sim.run_until_idle()
    crashes = sim.trace.where(kind=words.RELAY_CRASH)
    assert len(crashes) == 4  # three failed runs, then the note that it rests
    assert "ValueError: no connection" in crashes[0].detail
    assert "rests" in crashes[-1].detail


def test_an_interrupt_in_a_relay_reaches_the_caller_and_the_relay_runs_again():
    calls = []
    service = Service("payment", {"outbox": {}})

    @service.relay(every=5)
    def interrupted(ctx) -> None:
        calls.append(ctx.now)
        if len(calls) == 1:
            raise KeyboardInterrupt

    sim = Simulation([service])
    with pytest.raises(KeyboardInterrupt):
        sim.run_until_idle()
    sim.run_until_idle()
    assert calls == [5, 15]


def test_a_relay_that_catches_its_crash_is_crashed_all_the_same():
    service = Service("payment", {"outbox": {"r1": PaymentCompleted(order_id="o-1")}})

    @service.relay(every=5)
    def stubborn(ctx) -> None:
        for row_id, event in list(ctx.state["outbox"].items()):
            try:
                ctx.publish(event, message_id=row_id)
            except BaseException:
                pass
            del ctx.state["outbox"][row_id]

    sim = Simulation([service, shipping()],
                     faults=[RelayCrash(service="payment", point="before_publish", times=1)])
    sim.run_for(5)
    assert [r.detail for r in sim.trace.where(kind=words.RELAY_CRASH)] == ["before publish"]
    # a crash is the relay's process dying: the delete it went on to make is not kept
    assert list(sim.state("payment")["outbox"]) == ["r1"]
    sim.run_until_idle()
    assert [e.message_id for e in sim.topics["PaymentCompleted"]] == ["r1"]  # sent on the rerun


def test_a_relay_that_puts_a_row_back_when_it_crashes_loses_the_row_all_the_same():
    """Deleting a row before publishing it loses the row at a crash; a handler for the crash
    that puts it back would never run in a process that died."""
    service = Service("payment", {"outbox": {"r1": PaymentCompleted(order_id="o-1")}})

    @service.relay(every=5)
    def puts_back(ctx) -> None:
        for row_id, event in list(ctx.state["outbox"].items()):
            del ctx.state["outbox"][row_id]
            try:
                ctx.publish(event, message_id=row_id)
            except BaseException:
                ctx.state["outbox"][row_id] = event
                raise

    sim = Simulation([service, shipping()],
                     faults=[RelayCrash(service="payment", point="before_publish", times=1)])
    sim.run_until_idle()
    assert sim.state("payment")["outbox"] == {}
    assert "PaymentCompleted" not in sim.topics  # lost: deleted before it was sent


@pytest.mark.parametrize("call, message", [
    (lambda ctx: ctx.publish(PaymentCompleted(order_id="o-1"), message_id="m3"),
     "message ids m1, m2, ... are the broker's own"),
    (lambda ctx: ctx.publish(PaymentCompleted(order_id="o-1"), cause="nope"),
     "no message has that id"),
    (lambda ctx: ctx.publish(PaymentCompleted(order_id="o-1"), message_id=7),
     "takes a non-empty text"),
    (lambda ctx: ctx.publish({"order_id": "o-1"}), "publish"),
])
def test_a_wrong_publish_in_a_relay_is_reported_with_how_to_fix_it(call, message):
    service = Service("payment", {})
    service.relay(every=1)(lambda ctx: call(ctx))
    sim = Simulation([service], max_attempts=1)
    sim.run_until_idle()
    assert message in sim.trace.where(kind=words.RELAY_CRASH)[0].detail


def test_relay_settings_and_faults_are_checked():
    with pytest.raises(ValueError, match="every must be a whole number"):
        Service("payment").relay(every=0)
    with pytest.raises(FaultPlanError, match="without a relay"):
        Simulation([shipping()], faults=[RelayCrash(service="shipping")])
    with pytest.raises(HandlerError, match="expected a function"):
        Service("payment").relay(every=5)("not a function")


def test_same_seed_same_relay_trace():
    faults = [RelayCrash(service="payment", point="after_publish", probability=0.5)]
    first, second = (run(["o-1", "o-2", "o-3"], faults=faults, seed=9) for _ in range(2))
    assert [str(r) for r in first.trace] == [str(r) for r in second.trace]


def test_a_row_sent_again_without_a_cause_is_kept_once_in_its_first_workflow():
    service = Service("payment", {"outbox": {"r1": PaymentCompleted(order_id="o-1")}})

    @service.relay(every=5)
    def never_marks(ctx) -> None:
        for row_id, event in ctx.state["outbox"].items():
            ctx.publish(event, message_id=row_id)

    sim = Simulation([service, shipping()],
                     faults=[RelayCrash(service="payment", point="after_publish", times=1)])
    sim.run_until_idle()
    assert [e.message_id for e in sim.topics[PaymentCompleted.topic]] == ["r1"]
    dedup, = sim.trace.where(kind=words.DEDUP)
    assert sim.trace.for_correlation(sim.trace.messages["r1"].correlation_id)[-1] == dedup
