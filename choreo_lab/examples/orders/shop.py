"""The shop's data, which makes orders fail on purpose, and random orders under a seed.

A customer whose card is declined (`DECLINED_CUSTOMERS`), an item with low or no stock
(`STOCK`), an address that cannot be shipped to (`UNSHIPPABLE`). The business rules that
read this data (`card_declined`, `in_stock`, `can_ship_to`) are shared by every design of the
order flow: the choreographed services and the orchestrated participants call the same ones.
"""

from __future__ import annotations

import random
from typing import Any

PRICES: dict[str, int] = {"book": 12, "lamp": 30, "kettle": 25, "unicorn": 99}
STOCK: dict[str, int] = {"book": 100, "lamp": 3, "kettle": 10, "unicorn": 0}
DECLINED_CUSTOMERS: tuple[str, ...] = ("mallory",)
UNSHIPPABLE: tuple[str, ...] = ("Atlantis",)
CUSTOMERS: tuple[str, ...] = ("ada", "grace", "alan", "barbara", "mallory")
ADDRESSES: tuple[str, ...] = ("1 Main St", "22 Acacia Ave", "7 Harbour Rd", "Atlantis")
#: The one definition of a "bad" order: what makes it fail, in a customer's words -> the order
#: fields that do it (a dashboard's buttons and `random_orders` both read it).
BAD_ORDERS: dict[str, dict[str, str]] = {
    "declined card": {"customer": DECLINED_CUSTOMERS[0]},
    "out of stock": {"item": "unicorn"},
    "unshippable address": {"address": UNSHIPPABLE[0]},
}


def price_of(item: str, quantity: int) -> int:
    """What an order costs (an unknown item costs nothing, and then fails for lack of stock)."""
    return PRICES.get(item, 0) * quantity


# -- the business decisions: each service keeps its own data and asks these -------------------
def card_declined(customer: str, declined_customers: list[str] | tuple[str, ...]) -> bool:
    """Whether payment refuses the customer's card (the customer is on the declined list)."""
    return customer in declined_customers


def in_stock(stock: dict[str, int], item: str, quantity: int) -> bool:
    """Whether there are at least `quantity` of `item` in `stock` (an unknown item has none)."""
    return stock.get(item, 0) >= quantity


def can_ship_to(address: str, unshippable: list[str] | tuple[str, ...]) -> bool:
    """Whether shipping can deliver to the address (it is not on the unshippable list)."""
    return address not in unshippable


def random_orders(count: int, seed: int | str = 0, *, failure_rate: float = 0.3) -> list[dict[str, Any]]:
    """`count` order requests; about `failure_rate` of them are meant to fail somewhere."""
    rng = random.Random(f"orders/{seed}")
    orders = []
    for index in range(1, count + 1):
        order = {"order_id": f"o-{index}", "customer": rng.choice(CUSTOMERS[:-1]),
                 "item": rng.choice(("book", "kettle")), "quantity": rng.randint(1, 3),
                 "address": rng.choice(ADDRESSES[:-1])}
        if rng.random() < failure_rate:
            order.update(BAD_ORDERS[rng.choice(tuple(BAD_ORDERS))])
        orders.append(order)
    return orders
