"""Bad input: each mistake a learner can make gets a clear error, or a safe documented outcome."""

from __future__ import annotations

import pytest

from choreo_lab import (Context, Crash, Event, FaultPlanError, HandlerReturnError, InvalidEvent,
                        Duplicate, Kill, RunawayError, Service, Simulation, UnknownService)


class OrderPlaced(Event):
    order_id: str
    amount: int


class PaymentCompleted(Event):
    order_id: str


class ParcelLost(Event):
    parcel: str


def payment(*, returns=None, fail_for: str | None = None) -> Service:
    service = Service("payment", {"charged": []})

    @service.handles(OrderPlaced)
    def charge_card(event: OrderPlaced, ctx: Context):
        if event.order_id == fail_for:
            raise ValueError(f"card expired for {event.order_id}")
        ctx.state["charged"].append(event.order_id)
        return returns

    return service


# -- invalid events -------------------------------------------------------------------------
def test_an_event_with_an_invalid_payload_is_refused_before_it_is_published():
    sim = Simulation([payment()])
    with pytest.raises(InvalidEvent) as caught:
        sim.publish(OrderPlaced(order_id="o-1", amount="twelve"))
    assert "field 'amount'" in str(caught.value)
    assert "pydantic.dev" not in str(caught.value) and "http" not in str(caught.value)
    assert sim.topics == {} and len(sim.trace) == 0


@pytest.mark.parametrize("thing, expected", [
    ({"order_id": "o-1", "amount": 3}, "expected an Event, got dict"),
    (OrderPlaced, "got the class OrderPlaced, not an event"),
    (Event(), "the base class Event has no meaning"),
    (None, "expected an Event, got NoneType"),
])
def test_publishing_something_that_is_not_an_event_is_refused_saying_what_it_is(thing, expected):
    sim = Simulation([payment()])
    with pytest.raises(InvalidEvent, match="^publish\\(\\)") as caught:
        sim.publish(thing)
    assert expected in str(caught.value)
    assert sim.topics == {} and len(sim.trace) == 0


# -- publishing to a topic nobody subscribes to (allowed, and documented) -------------------
def test_an_event_nobody_subscribes_to_is_kept_in_its_log_and_marked_in_the_trace():
    sim = Simulation([payment()])
    lost = sim.publish(ParcelLost(parcel="p-9"))
    sim.run_until_idle()
    assert sim.topics["ParcelLost"] == [lost]
    [record] = sim.trace.where(kind="no-subscriber")
    assert record.message_id == lost.message_id
    assert "nobody handles ParcelLost yet" in record.detail


def test_a_group_added_later_from_the_beginning_gets_an_event_nobody_wanted_before():
    heard = Service("claims", {"parcels": []})

    @heard.handles(ParcelLost)
    def open_claim(event: ParcelLost, ctx: Context) -> None:
        ctx.state["parcels"].append(event.parcel)

    sim = Simulation([payment()])
    sim.publish(ParcelLost(parcel="p-9"))
    sim.run_until_idle()
    sim.add_service(heard, start="beginning")
    sim.run_until_idle()
    assert sim.state("claims")["parcels"] == ["p-9"]


# -- unknown services -----------------------------------------------------------------------
@pytest.mark.parametrize("action", ["kill", "restart", "pause", "resume", "state", "backlog"])
def test_naming_an_unknown_service_lists_the_known_ones_and_suggests_a_close_match(action):
    sim = Simulation([payment(), Service("shipping")])
    with pytest.raises(UnknownService) as caught:
        getattr(sim, action)("paymnet")
    assert str(caught.value) == ("no service named 'paymnet'; known services: payment, shipping. "
                                 "Did you mean 'payment'?")
    assert isinstance(caught.value, KeyError)


def test_an_unknown_service_far_from_any_known_name_gets_no_suggestion():
    with pytest.raises(UnknownService) as caught:
        Simulation([payment()]).kill("zzz")
    assert "Did you mean" not in str(caught.value)


def test_a_fault_plan_naming_an_unknown_service_is_refused():
    with pytest.raises(FaultPlanError, match="fault plan names 'shiping'.*Did you mean 'shipping'"):
        Simulation([payment(), Service("shipping")], faults=[Kill(service="shiping", at=5)])


def test_a_fault_plan_targeting_an_event_type_nobody_handles_is_refused():
    with pytest.raises(FaultPlanError, match="'OrderPlacd'.*could never fire.*OrderPlaced"):
        Simulation([payment()], faults=[Duplicate(event_type="OrderPlacd")])


def test_an_invalid_fault_is_refused_with_a_plain_message():
    with pytest.raises(FaultPlanError, match="at: Input should be greater than or equal to 0") as error:
        Kill(service="payment", at=-1)
    assert "errors.pydantic.dev" not in str(error.value)


def test_a_misspelt_trace_kind_is_refused_listing_the_kinds():
    with pytest.raises(ValueError, match="no trace record kind 'acked'.*ack"):
        Simulation([payment()]).trace.where(kind="acked")


# -- handlers that misbehave ----------------------------------------------------------------
def test_a_handler_that_always_raises_ends_dead_lettered_and_others_are_still_handled():
    sim = Simulation([payment(fail_for="o-2")], max_attempts=4)
    for n in range(1, 4):
        sim.publish(OrderPlaced(order_id=f"o-{n}", amount=n))
    sim.run_until_idle()
    [letter] = sim.dead_letters
    assert letter.envelope.event.order_id == "o-2" and letter.attempts == 4
    assert letter.reason == "ValueError: card expired for o-2"
    assert sim.state("payment")["charged"] == ["o-1", "o-3"]
    assert sim.idle


@pytest.mark.parametrize("returned", [{"order_id": "o-1"}, "PaymentCompleted", [None],
                                      PaymentCompleted, Event()])
def test_a_handler_returning_a_non_event_is_dead_lettered_naming_the_handler(returned):
    sim = Simulation([payment(returns=returned)], max_attempts=2)
    sim.publish(OrderPlaced(order_id="o-1", amount=3))
    sim.run_until_idle()
    [letter] = sim.dead_letters
    assert letter.reason.startswith("HandlerReturnError: handler payment.charge_card() returned ")
    assert sim.state("payment")["charged"] == []  # nothing committed
    assert set(sim.topics) == {"OrderPlaced"}  # nothing published


def test_a_handler_return_error_is_a_type_error_for_whoever_calls_a_handler_directly():
    assert issubclass(HandlerReturnError, TypeError)


# -- cycles ---------------------------------------------------------------------------------
class Ping(Event):
    n: int


class Pong(Event):
    n: int


def echo(fan_out: int = 1) -> Service:
    service = Service("echo")

    @service.handles(Ping)
    def answer(event: Ping, ctx: Context) -> list[Ping]:
        return [Ping(n=event.n + 1) for _ in range(fan_out)]

    return service


def test_a_handler_that_triggers_itself_forever_stops_the_run_describing_the_cycle():
    sim = Simulation([echo()])
    sim.publish(Ping(n=0), correlation_id="game-1")
    with pytest.raises(RunawayError) as caught:
        sim.run_until_idle()
    message = str(caught.value)
    assert "workflow 'game-1' reached 200 messages (max_chain)" in message
    assert "The cycle: echo publishes Ping -> echo publishes Ping\n" in message
    assert "Break the cycle" in message
    assert len(sim.trace.messages) == 201  # stopped at once, not after a million steps


def test_a_runaway_is_decided_before_the_commit_so_nothing_is_half_kept_or_held():
    counter = Service("counter", {"seen": 0})

    @counter.handles(Ping)
    def count_and_echo(event: Ping, ctx: Context) -> Ping:
        ctx.state["seen"] += 1
        return Ping(n=event.n + 1)

    sim = Simulation([counter], max_chain=5)
    sim.publish(Ping(n=0), key="k")
    with pytest.raises(RunawayError):
        sim.run_until_idle()
    # the stopped delivery kept nothing: five handled and committed, the sixth dead-lettered
    assert sim.state("counter")["seen"] == 5
    [letter] = sim.dead_letters
    assert letter.reason.startswith("runaway: one causal chain") and letter.envelope.depth == 5
    assert sim.stats()["counter"]["in_flight"] == 0  # no key stays held
    sim.publish(Ping(n=100), key="k", correlation_id="later")  # ... so later work flows
    with pytest.raises(RunawayError):
        sim.run_until_idle()
    assert sim.state("counter")["seen"] == 10


class Reading(Event):
    sensor: str
    value: int


def test_a_long_lived_workflow_of_many_one_hop_messages_is_not_a_cycle():
    logger, archive = Service("logger", {"n": 0}), Service("archive", {"n": 0})

    @logger.handles(Reading)
    def log_reading(event: Reading, ctx: Context) -> Pong:
        ctx.state["n"] += 1
        return Pong(n=event.value)

    @archive.handles(Pong)
    def archive_reading(event: Pong, ctx: Context) -> None:
        ctx.state["n"] += 1

    sim = Simulation([logger, archive], max_chain=10)
    for value in range(10_001):  # one sensor stream: a single workflow for the whole run
        sim.publish(Reading(sensor="s1", value=value), correlation_id="sensor-s1")
    sim.run_until_idle()
    assert sim.state("archive")["n"] == 10_001 and not sim.dead_letters


def test_two_services_bouncing_events_forever_stop_the_run_naming_both():
    ping, pong = Service("ping"), Service("pong")

    @ping.handles(Pong)
    def serve(event: Pong, ctx: Context) -> Ping:
        return Ping(n=event.n + 1)

    @pong.handles(Ping)
    def return_ball(event: Ping, ctx: Context) -> Pong:
        return Pong(n=event.n + 1)

    sim = Simulation([ping, pong], max_chain=30)
    sim.publish(Ping(n=0))
    with pytest.raises(RunawayError, match="The cycle: (ping publishes Ping -> pong publishes Pong"
                                           " -> ping publishes Ping|pong publishes Pong -> ping "
                                           "publishes Ping -> pong publishes Pong)\n"):
        sim.run_until_idle()


def test_a_cycle_that_fans_out_stops_the_run_too_and_quickly():
    sim = Simulation([echo(fan_out=2)], max_chain=20)
    sim.publish(Ping(n=0))
    with pytest.raises(RunawayError) as caught:
        sim.run_until_idle(max_steps=20_000)  # a step budget is the last resort, not the answer
    assert "the messages caused by m1 passed 1000 (50 x max_chain)" in str(caught.value)
    assert "The cycle: echo publishes Ping -> echo publishes Ping" in str(caught.value)
    assert len(sim.trace.messages) < 1100


def test_a_long_chain_that_ends_is_not_a_cycle():
    countdown = Service("countdown")

    @countdown.handles(Ping)
    def count_down(event: Ping, ctx: Context) -> list[Ping]:
        return [Ping(n=event.n - 1)] if event.n > 0 else []

    sim = Simulation([countdown])
    sim.publish(Ping(n=150))
    sim.run_until_idle()
    assert len(sim.trace.messages) == 151


# -- scaling and instances ------------------------------------------------------------------
@pytest.mark.parametrize("instances", [0, -1])
def test_scaling_to_no_instances_is_refused_pointing_to_kill(instances):
    sim = Simulation([payment()])
    with pytest.raises(ValueError, match=f"at least 1; got {instances}; use kill\\(\\) to stop it"):
        sim.scale("payment", instances)
    assert sim.stats()["payment"]["instances"] == 1


def test_a_service_with_no_instances_is_refused():
    with pytest.raises(ValueError, match="instances must be a whole number, at least 1; got 0"):
        Service("payment", instances=0)


def test_max_attempts_below_one_is_refused():
    with pytest.raises(ValueError, match="max_attempts must be a whole number, at least 1"):
        Simulation([payment()], max_attempts=0)


def test_the_after_write_crash_point_needs_the_outbox_off_and_says_so():
    with pytest.raises(FaultPlanError, match="outbox=False"):
        Simulation([payment()], faults=[Crash(point="after_write_before_publish")])
