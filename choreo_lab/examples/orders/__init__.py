"""Order processing as a choreographed saga: four services, no orchestrator.

Read in this order: `events` (what happens), `services` (who reacts, and how), `saga`
(running them together), then `invariants` (what must stay true) and `whereabouts` (where
is my order?, pieced together from four services and the trace). `shop` holds the data that
makes orders fail on purpose.
"""

from __future__ import annotations

from .events import (
    ORDER_EVENTS,
    InventoryReleased,
    InventoryReserved,
    OrderCancelled,
    OrderPlaced,
    OrderRequested,
    OutOfStock,
    PaymentCompleted,
    PaymentDeclined,
    PaymentRefunded,
    ShipmentFailed,
    ShipmentScheduled,
)
from .invariants import ORDER_INVARIANTS, order_oracle
from .records import inventory_ledger, payment_ledger
from .saga import order_system, place_order, place_orders
from .services import (
    make_inventory_service,
    make_order_service,
    make_payment_service,
    make_shipping_service,
    order_services,
    order_status,
)
from .shop import (
    ADDRESSES,
    CUSTOMERS,
    DECLINED_CUSTOMERS,
    PRICES,
    STOCK,
    UNSHIPPABLE,
    price_of,
    random_orders,
)
from .whereabouts import OrderWhereabouts, where_is

__all__ = [
    "ADDRESSES", "CUSTOMERS", "DECLINED_CUSTOMERS", "ORDER_EVENTS", "ORDER_INVARIANTS", "PRICES",
    "STOCK", "UNSHIPPABLE", "InventoryReleased", "InventoryReserved", "OrderCancelled",
    "OrderPlaced", "OrderRequested", "OrderWhereabouts", "OutOfStock", "PaymentCompleted",
    "PaymentDeclined", "PaymentRefunded", "ShipmentFailed", "ShipmentScheduled",
    "inventory_ledger", "make_inventory_service", "make_order_service", "make_payment_service",
    "make_shipping_service", "order_oracle", "order_services", "order_status", "order_system",
    "payment_ledger", "place_order", "place_orders", "price_of", "random_orders", "where_is",
]
