"""The orchestrated order flow's messages: the orchestrator's commands and the participants' replies.

A command is imperative and has exactly one handler (`choreo_lab.events.Command`); each
participant answers with an event that only the orchestrator listens to. Replies whose
payload fits are the choreography's own events (`PaymentDeclined`, `OutOfStock`, ...), with
their roles; two are new because the choreography's versions carry data along for the next
step (`PaymentCompleted` holds the address for shipping), which here the orchestrator keeps.

The last section is the fraud check that notebook 09 and exercise 6 add to both designs
(`fraud_check`): its messages, and the watch list its rule reads.
"""

from __future__ import annotations

from ...events import Command, Event


# -- commands: what the orchestrator asks, one handler each -----------------------------------
class ChargePayment(Command):
    order_id: str
    customer: str
    amount: int


class ReserveStock(Command):
    order_id: str
    item: str
    quantity: int


class ScheduleShipment(Command):
    order_id: str
    item: str
    quantity: int
    address: str


class RefundPayment(Command):
    order_id: str


class ReleaseStock(Command):
    order_id: str


# -- replies that the choreography does not have -----------------------------------------------
class PaymentCharged(Event):
    order_id: str
    amount: int


class StockReserved(Event):
    order_id: str
    item: str
    quantity: int


ORCHESTRATION_COMMANDS: tuple[type[Command], ...] = (
    ChargePayment, ReserveStock, ScheduleShipment, RefundPayment, ReleaseStock)


# -- the fraud check, in both designs -------------------------------------------------------------
#: customers on the watch list: their orders are stopped before any money moves
SUSPECTS: tuple[str, ...] = ("eve",)


class FraudCleared(Event):
    """The choreographed verdict carries the whole order along: payment, next, needs it."""
    order_id: str
    customer: str
    item: str
    quantity: int
    amount: int
    address: str


class FraudCheckPassed(Event):
    """The orchestrated verdict: the orchestrator holds the order, so the id is enough."""
    order_id: str


class FraudSuspected(Event, role="failure"):
    order_id: str


class CheckFraud(Command):
    order_id: str
    customer: str


FRAUD_CHECK_MESSAGES: tuple[type[Event] | type[Command], ...] = (
    FraudCleared, FraudCheckPassed, FraudSuspected, CheckFraud)

#: every message of the orchestrated flow that the choreography does not have
ORCHESTRATED_MESSAGES: tuple[type[Event] | type[Command], ...] = (
    *ORCHESTRATION_COMMANDS, PaymentCharged, StockReserved, *FRAUD_CHECK_MESSAGES)
