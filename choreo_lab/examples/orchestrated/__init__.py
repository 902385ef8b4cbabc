"""The order flow orchestrated: one orchestrator sends commands, three participants reply.

The same business as `choreo_lab.examples.orders` (its shop data, its rules, its
invariants), coordinated the other way, to compare the two designs by measurement. Read
`messages` (commands and replies), then `services` (the orchestrator's state machine and
the participants), then `oracle` (running and judging it). Orders are placed with
`orders.place_order`, as in the choreography.
"""

from __future__ import annotations

from .messages import (
    FRAUD_CHECK_MESSAGES,
    ORCHESTRATED_MESSAGES,
    ORCHESTRATION_COMMANDS,
    SUSPECTS,
    ChargePayment,
    CheckFraud,
    FraudCheckPassed,
    FraudCleared,
    FraudSuspected,
    PaymentCharged,
    RefundPayment,
    ReleaseStock,
    ReserveStock,
    ScheduleShipment,
    StockReserved,
)
from .oracle import (
    orchestrated_oracle,
    orchestrated_system,
    orchestrator_record,
    orchestrator_view,
)
from .services import (
    make_inventory_participant,
    make_orchestrator,
    make_payment_participant,
    make_shipping_participant,
    orchestrated_services,
)

__all__ = [
    "FRAUD_CHECK_MESSAGES", "ORCHESTRATED_MESSAGES", "ORCHESTRATION_COMMANDS", "SUSPECTS",
    "ChargePayment", "CheckFraud", "FraudCheckPassed", "FraudCleared", "FraudSuspected",
    "PaymentCharged", "RefundPayment", "ReleaseStock",
    "ReserveStock", "ScheduleShipment", "StockReserved", "make_inventory_participant",
    "make_orchestrator", "make_payment_participant", "make_shipping_participant",
    "orchestrated_oracle", "orchestrated_services", "orchestrated_system", "orchestrator_record",
    "orchestrator_view",
]
