"""The orchestrated order flow: the same outcomes as the choreography, one orchestrator to stall."""

from __future__ import annotations

import pytest

from choreo_lab import FaultPlan, HandlerError, Service, Simulation, workflow_status
from choreo_lab.chaos import explore
from choreo_lab.examples.orchestrated import (
    ChargePayment,
    FraudCleared,
    FraudSuspected,
    orchestrated_oracle,
    orchestrated_services,
    orchestrated_system,
    orchestrator_view,
)
from choreo_lab.examples.orchestrated.fraud_check import (
    choreographed_with_fraud_check,
    orchestrated_with_fraud_check,
)
from choreo_lab.examples.orders import (
    PRICES,
    STOCK,
    OrderPlaced,
    PaymentCompleted,
    PaymentDeclined,
    order_services,
    place_order,
    place_orders,
    random_orders,
    where_is,
)
from choreo_lab.examples.orders.invariants import explain_stuck_order
from choreo_lab.measure import definition_changes


def run_one(**order: object) -> tuple:
    sim = orchestrated_system(seed=3)
    place_order(sim, "o-1", **order)  # type: ignore[arg-type]
    sim.run_until_idle()
    return sim, sim.state("order")["orders"]["o-1"]


def kinds(sim: Simulation, service: str) -> list[str]:
    return [entry["kind"] for entry in sim.state(service)["ledger"].get("o-1", [])]


def test_a_normal_order_is_charged_reserved_and_shipped_on_the_orchestrators_command():
    sim, record = run_one(item="kettle", quantity=2)
    assert record["status"] == "shipped"
    assert record["facts"] == ["paid", "reserved", "shipped"]
    assert sim.state("payment")["charges"] == {"o-1": 2 * PRICES["kettle"]}
    assert kinds(sim, "inventory") == ["reserve"]
    assert sim.state("inventory")["stock"]["kettle"] == STOCK["kettle"] - 2
    assert sim.state("shipping")["shipments"]["o-1"]["tracking"] == "trk-o-1"
    assert workflow_status(sim, "o-1") == "completed"
    assert [e.event_type for e in sim.trace.messages_of("o-1")] == [
        "OrderRequested", "ChargePayment", "PaymentCharged", "ReserveStock", "StockReserved",
        "ScheduleShipment", "ShipmentScheduled"]


def test_a_declined_card_is_cancelled_with_nothing_charged_or_reserved():
    sim, record = run_one(customer="mallory")
    assert (record["status"], record["facts"]) == ("cancelled", ["declined"])
    assert kinds(sim, "payment") == [] and kinds(sim, "inventory") == []
    assert workflow_status(sim, "o-1") == "compensated"


def test_an_out_of_stock_order_is_refunded_on_command_then_cancelled():
    sim, record = run_one(item="unicorn")
    assert record["status"] == "cancelled"
    assert kinds(sim, "payment") == ["charge", "refund"]
    assert sim.state("inventory")["out_of_stock"] == {"o-1": "unicorn"}
    assert "RefundPayment" in [e.event_type for e in sim.trace.messages_of("o-1")]
    assert workflow_status(sim, "o-1") == "compensated"


def test_an_unshippable_order_is_refunded_and_released_on_command_then_cancelled():
    sim, record = run_one(item="lamp", quantity=2, address="Atlantis")
    assert record["status"] == "cancelled"
    assert kinds(sim, "payment") == ["charge", "refund"]
    assert kinds(sim, "inventory") == ["reserve", "release"]
    assert sim.state("inventory")["stock"]["lamp"] == STOCK["lamp"]
    assert sim.state("shipping")["shipments"] == {}
    assert workflow_status(sim, "o-1") == "compensated"
    assert orchestrated_oracle().check(sim).converged


def test_participants_handle_only_commands_and_the_orchestrator_only_replies():
    orchestrator, *participants = orchestrated_services()
    commands = {name for p in participants for name in p.commands}
    assert commands == {"ChargePayment", "ReserveStock", "ScheduleShipment", "RefundPayment",
                        "ReleaseStock"}
    assert all(set(p.handlers) == set(p.commands) for p in participants)
    assert orchestrator.commands == ()


def test_a_second_handler_of_a_command_is_refused():
    rogue = Service("rogue")

    @rogue.handles(ChargePayment)
    def charge_too(command, ctx):
        return []

    with pytest.raises(HandlerError, match="exactly one service handles it"):
        Simulation([*orchestrated_services(), rogue])


def test_killing_the_orchestrator_stalls_every_order_and_a_restart_finishes_them():
    sim = orchestrated_system(seed=2, jitter=3)
    orders = random_orders(6, seed=4)
    place_orders(sim, orders[:3])
    sim.run_for(4)  # the first orders are under way
    sim.kill("order")
    place_orders(sim, orders[3:])
    sim.run_for(500)
    statuses = {o["order_id"]: workflow_status(sim, o["order_id"]) for o in orders}
    assert set(statuses.values()) == {"running"}, statuses
    assert not orchestrated_oracle().check(sim).converged
    sim.restart("order")
    sim.run_until_idle()
    report = orchestrated_oracle().check(sim)
    assert report.converged, report.explain()
    assert {workflow_status(sim, o["order_id"]) for o in orders} <= {"completed", "compensated"}


def test_where_is_my_order_is_one_read_of_the_orchestrators_state():
    sim, _ = run_one(item="lamp", address="Atlantis")
    assert orchestrator_view(sim, "o-1") == (
        "o-1: cancelled (learned: paid, reserved, shipment_failed, refunded, released); "
        "saga compensated")
    assert "no record" in orchestrator_view(sim, "o-9")


def test_an_order_the_orchestrator_waits_on_names_whose_answer_it_waits_for():
    """A stuck or stalled order says which participant never answered which command."""
    orchestrator, payment, *others = orchestrated_services()
    silent = Service("payment")

    @silent.handles(ChargePayment)
    def forget(event, ctx):  # acks the command and answers nothing
        return None

    sim = Simulation([orchestrator, silent, *others], seed=1)
    place_order(sim, "o-1")
    sim.run_until_idle()
    command = next(e for e in sim.trace.messages_of("o-1") if e.event_type == "ChargePayment")
    assert orchestrator_view(sim, "o-1") == (
        f"o-1: placed (learned: nothing yet); saga stuck; waiting for payment's answer to "
        f"ChargePayment {command.message_id}")
    [stuck] = [v for v in orchestrated_oracle().violations(sim) if v.subject == "o-1"]
    assert f"waiting for payment's answer to ChargePayment {command.message_id}" in stuck.explanation


def ten_orders(sim: Simulation) -> None:
    place_orders(sim, random_orders(10, seed=4))


def orchestrated(seed: int, faults: FaultPlan) -> Simulation:
    return orchestrated_system(seed, jitter=3, faults=faults)


def test_the_chaos_explorer_tries_every_single_fault_and_pairs_and_finds_no_violation():
    oracle = orchestrated_oracle()
    singles = explore(orchestrated, ten_orders, oracle, schedules=1).coverage.single_faults
    result = explore(orchestrated, ten_orders, oracle, schedules=1 + singles + 300, seed=7)
    assert result.ok, str(result)
    assert result.coverage.complete and result.coverage.singles_tried == singles > 400
    assert result.coverage.pairs_tried > 0


def test_the_chaos_explorer_catches_an_orchestrator_that_forgets_to_release_stock():
    def forgetful(seed: int, faults: FaultPlan) -> Simulation:
        services = orchestrated_services()
        services[0].handlers.pop("InventoryReleased")  # never learns the release
        return Simulation(services, seed=seed, jitter=3, faults=faults)

    result = explore(forgetful, ten_orders, orchestrated_oracle(), schedules=20, seed=1,
                     stop_at_first_failure=True, shrink=False)
    assert result.first_failure is not None


# -- the cost of change: a fraud check before payment ----------------------------------------------
@pytest.mark.parametrize("design", [choreographed_with_fraud_check, orchestrated_with_fraud_check])
def test_the_fraud_check_stops_a_suspect_before_payment_and_lets_others_through(design):
    sim = Simulation(design(), seed=3, jitter=3)
    place_order(sim, "o-1", customer="eve")
    place_order(sim, "o-2", customer="ada", item="lamp", address="Atlantis")
    place_order(sim, "o-3", customer="grace")
    sim.run_until_idle()
    orders = sim.state("order")["orders"]
    assert [orders[o]["status"] for o in ("o-1", "o-2", "o-3")] == [
        "cancelled", "cancelled", "shipped"]
    assert "o-1" not in sim.state("payment")["charges"]
    assert orchestrated_oracle().check(sim).converged


def test_the_fraud_check_changes_two_existing_services_in_the_choreography_and_one_orchestrated():
    choreographed = definition_changes(order_services(), choreographed_with_fraud_check())
    orchestrated = definition_changes(orchestrated_services(), orchestrated_with_fraud_check())
    assert choreographed == {
        "order": ["handles FraudSuspected (new)"], "fraud": ["new service"],
        "payment": ["handles FraudCleared (new)", "no longer handles OrderPlaced"]}
    assert orchestrated == {
        "order": ["handles OrderRequested (changed)", "handles FraudCheckPassed (new)",
                  "handles FraudSuspected (new)"],
        "fraud": ["new service"]}


def with_replaced(services: list[Service], replacement: Service) -> list[Service]:
    return [replacement if service.name == replacement.name else service for service in services]


def stuck_verdicts(services: list[Service]) -> tuple[str, str]:
    """Order o-1 through `services` until idle: where_is's verdict, and the oracle's words."""
    sim = Simulation(services, seed=1)
    place_order(sim, "o-1")
    sim.run_until_idle()
    assert workflow_status(sim, "o-1") == "stuck"
    return where_is(sim, "o-1").verdict, explain_stuck_order(sim, "o-1")


def test_an_order_stuck_at_a_silent_fraud_check_names_the_fraud_service_not_payment():
    silent = Service("fraud", {})

    @silent.handles(OrderPlaced, publishes=(FraudCleared, FraudSuspected))
    def check_for_fraud(event, ctx):
        return []  # acks OrderPlaced, answers nothing

    verdict, explained = stuck_verdicts(with_replaced(choreographed_with_fraud_check(), silent))
    assert verdict == explained  # the oracle's words (exercise 6's feedback) are where_is's
    assert verdict.startswith("stuck: fraud never answered OrderPlaced m")
    assert verdict.endswith("(with FraudCleared or FraudSuspected), so payment never made a "
                            "charge or a decline; nothing is left to deliver (status 'placed')")


def test_a_stuck_order_names_the_message_payment_waits_for_as_it_is_wired():
    services = choreographed_with_fraud_check()
    payment = next(service for service in services if service.name == "payment")
    silent = Service("payment", payment.initial_state)
    silent.handles(FraudCleared, publishes=(PaymentCompleted, PaymentDeclined))(
        lambda event, ctx: [])
    verdict, _ = stuck_verdicts(with_replaced(services, silent))
    assert verdict.startswith("stuck: payment never made a charge or a decline for FraudCleared m")
    # in the course's own wiring, payment still answers OrderPlaced
    plain = Service("payment", payment.initial_state)
    plain.handles(OrderPlaced, publishes=(PaymentCompleted, PaymentDeclined))(lambda event, ctx: [])
    verdict, _ = stuck_verdicts(with_replaced(order_services(), plain))
    assert verdict == ("stuck: payment never made a charge or a decline for OrderPlaced; nothing "
                       "is left to deliver (status 'placed')")


def test_a_suspect_whose_verdict_nobody_handles_is_said_to_be_so():
    services = choreographed_with_fraud_check()
    order = next(service for service in services if service.name == "order")
    order.handlers.pop("FraudSuspected")
    sim = Simulation(services, seed=1)
    place_order(sim, "o-1", customer="eve")
    sim.run_until_idle()
    verdict = where_is(sim, "o-1").verdict
    assert verdict.startswith("stuck: fraud answered OrderPlaced m")
    assert "with FraudSuspected m" in verdict and "which no service handles" in verdict
