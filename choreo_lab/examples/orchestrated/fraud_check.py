"""The cost of change: a fraud check before payment, added to both designs of the order flow.

A customer on the watch list (`SUSPECTS`) is stopped before any money moves. The check is
the same in both designs; what differs is who must change to fit it in:

- choreographed (`choreographed_with_fraud_check`): a new `fraud` service reacts to
  OrderPlaced; payment must now wait for `FraudCleared` instead of OrderPlaced, and the
  order service must learn of `FraudSuspected` to cancel the order.
- orchestrated (`orchestrated_with_fraud_check`): a new `fraud` participant handles the
  `CheckFraud` command; only the orchestrator changes (one more step in its state machine).

`choreo_lab.measure.definition_changes` counts the difference from the definitions. The
check's messages and its watch list live with the other messages (`messages`).
"""

from __future__ import annotations

from ...context import Context
from ...events import Event, Message
from ...service import Service
from ..orders.events import OrderCancelled, OrderPlaced, PaymentCompleted, PaymentDeclined
from ..orders.services import order_services
from .messages import (
    SUSPECTS,
    ChargePayment,
    CheckFraud,
    FraudCheckPassed,
    FraudCleared,
    FraudSuspected,
)
from .services import advance, orchestrated_services


def suspicious(customer: str) -> bool:
    """The fraud rule, the same in both designs."""
    return customer in SUSPECTS


def cancel_suspected(ctx: Context, order_id: str) -> list[Message]:
    """The order service's answer to a suspected fraud: nothing was done, so just cancel."""
    record = ctx.state["orders"].get(order_id)
    if record is None or "fraud_suspected" in record["facts"]:
        return []
    record["facts"].append("fraud_suspected")
    record["status"] = "cancelled"
    return [OrderCancelled(order_id=order_id, reason="fraud suspected")]


# -- choreographed: a new service, and two existing ones that must change ------------------------
def choreographed_with_fraud_check() -> list[Service]:
    """The choreography's four services with the check: fraud, and the changes around it."""
    order, payment, inventory, shipping = order_services()
    fraud = Service("fraud", {"checked": {}})

    @fraud.handles(OrderPlaced, publishes=(FraudCleared, FraudSuspected))
    def check_for_fraud(event: OrderPlaced, ctx: Context) -> list[Event]:
        if event.order_id in ctx.state["checked"]:
            return []
        ctx.state["checked"][event.order_id] = suspicious(event.customer)
        if suspicious(event.customer):
            return [FraudSuspected(order_id=event.order_id)]
        return [FraudCleared(**event.model_dump())]

    # payment charges once the check cleared the order, no longer on OrderPlaced
    charge_card = payment.handlers.pop(OrderPlaced.event_type).handler
    payment.handles(FraudCleared, publishes=(PaymentCompleted, PaymentDeclined))(charge_card)

    @order.handles(FraudSuspected, publishes=(OrderCancelled,))
    def note_fraud_suspected(event: FraudSuspected, ctx: Context) -> list[Message]:
        return cancel_suspected(ctx, event.order_id)

    return [order, fraud, payment, inventory, shipping]


# -- orchestrated: a new participant, and the orchestrator --------------------------------------
def orchestrated_with_fraud_check() -> list[Service]:
    """The orchestrated flow with the check: a fraud participant, and a new first step."""
    order, payment, inventory, shipping = orchestrated_services()
    fraud = Service("fraud", {"checked": {}})

    @fraud.handles(CheckFraud, publishes=(FraudCheckPassed, FraudSuspected))
    def check_for_fraud(command: CheckFraud, ctx: Context) -> list[Event]:
        if command.order_id in ctx.state["checked"]:
            return []
        ctx.state["checked"][command.order_id] = suspicious(command.customer)
        if suspicious(command.customer):
            return [FraudSuspected(order_id=command.order_id)]
        return [FraudCheckPassed(order_id=command.order_id)]

    start_order = order.handlers.pop("OrderRequested")

    def start_with_fraud_check(event: Event, ctx: Context) -> list[Message]:
        sent = start_order.handler(event, ctx)
        return [CheckFraud(order_id=m.order_id, customer=m.customer)  # type: ignore[attr-defined]
                if isinstance(m, ChargePayment) else m for m in sent]

    order.handles(start_order.event_type, publishes=(CheckFraud,))(start_with_fraud_check)

    @order.handles(FraudCheckPassed, publishes=(ChargePayment,))
    def charge_after_fraud_check(event: FraudCheckPassed, ctx: Context) -> list[Message]:
        record = ctx.state["orders"][event.order_id]
        return advance(ctx, event.order_id, "fraud_cleared", ChargePayment(
            order_id=event.order_id, customer=record["customer"], amount=record["amount"]))

    @order.handles(FraudSuspected, publishes=(OrderCancelled,))
    def cancel_after_fraud_suspected(event: FraudSuspected, ctx: Context) -> list[Message]:
        return cancel_suspected(ctx, event.order_id)

    return [order, fraud, payment, inventory, shipping]
