"""The order saga's events: past tense, payload only, roles declared.

A failure event says a step could not be done (compensations follow); a compensation
event says an earlier step was undone; an outcome ends the order's workflow.
"""

from __future__ import annotations

from ...events import Event


class OrderRequested(Event):
    """A customer asked for an order (from outside the system)."""
    order_id: str
    customer: str
    item: str
    quantity: int
    address: str


class OrderPlaced(Event):
    order_id: str
    customer: str
    item: str
    quantity: int
    amount: int
    address: str


class PaymentCompleted(Event):
    order_id: str
    item: str
    quantity: int
    amount: int
    address: str


class PaymentDeclined(Event, role="failure"):
    order_id: str
    reason: str


class InventoryReserved(Event):
    order_id: str
    item: str
    quantity: int
    address: str


class OutOfStock(Event, role="failure"):
    order_id: str
    item: str
    quantity: int


class ShipmentScheduled(Event, outcome="completed"):
    order_id: str
    tracking: str


class ShipmentFailed(Event, role="failure"):
    order_id: str
    item: str
    quantity: int
    reason: str


class PaymentRefunded(Event, role="compensation"):
    order_id: str
    amount: int


class InventoryReleased(Event, role="compensation"):
    order_id: str
    item: str
    quantity: int


class OrderCancelled(Event, role="compensation", outcome="compensated"):
    """The order service's word to the customer: everything the order did was undone."""
    order_id: str
    reason: str


ORDER_EVENTS: tuple[type[Event], ...] = (
    OrderRequested, OrderPlaced, PaymentCompleted, PaymentDeclined, InventoryReserved,
    OutOfStock, ShipmentScheduled, ShipmentFailed, PaymentRefunded, InventoryReleased,
    OrderCancelled)
