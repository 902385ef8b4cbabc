"""The orchestrated order flow's messages: the orchestrator's commands and the participants' replies.

A command is imperative and has exactly one handler (`choreo_lab.events.Command`); each
participant answers with an event that only the orchestrator listens to. Replies whose
payload fits are the choreography's own events (`PaymentDeclined`, `OutOfStock`, ...), with
their roles; two are new because the choreography's versions carry data along for the next
step (`PaymentCompleted` holds the address for shipping), which here the orchestrator keeps.
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
