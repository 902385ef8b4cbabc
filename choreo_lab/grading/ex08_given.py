"""Exercise 8's given cell "version_1": shipping as it runs in production today, whose
courier cannot read a PO box.

Exercise 8's checks build version 1 from here, never from the learner's namespace: a notebook
that rebinds `make_shipping_service` (or `courier_label`) must not change the scenario. The
two functions below are the notebook's locked cell, word for word (a test keeps them so).
"""

from __future__ import annotations

from ..context import Context
from ..events import Event
from ..examples.orders import UNSHIPPABLE, InventoryReserved, ShipmentFailed, ShipmentScheduled
from ..service import Service


def courier_label(address: str) -> str:
    """The courier's label for an address. Its parser cannot read a PO box, and raises."""
    if address.lower().startswith("po box"):
        raise ValueError(f"courier cannot parse {address!r}")
    return f"label for {address}"


def make_shipping_service() -> Service:
    """Shipping, version 1 - as it runs in production today."""
    shipping = Service("shipping", {"unshippable": list(UNSHIPPABLE), "shipments": {},
                                    "failed": {}})

    @shipping.handles(InventoryReserved, publishes=(ShipmentScheduled, ShipmentFailed))
    def schedule_shipment(event: InventoryReserved, ctx: Context) -> list[Event]:
        state = ctx.state
        if event.order_id in state["shipments"] or event.order_id in state["failed"]:
            return []  # decided already: this is a repeat
        if event.address in state["unshippable"]:
            reason = f"cannot ship to {event.address}"
            state["failed"][event.order_id] = reason
            return [ShipmentFailed(order_id=event.order_id, item=event.item,
                                   quantity=event.quantity, reason=reason)]
        label = courier_label(event.address)  # raises on a PO box
        tracking = f"trk-{event.order_id}"
        state["shipments"][event.order_id] = {"tracking": tracking, "label": label}
        return [ShipmentScheduled(order_id=event.order_id, tracking=tracking)]

    return shipping
