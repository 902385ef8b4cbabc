"""Hidden checks of exercise 7 (the stuck order): other shops, orders, services, same lessons."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from choreo_lab import vocabulary as words
from choreo_lab.examples.orders import (
    InventoryReserved,
    OrderPlaced,
    PaymentCompleted,
    order_services,
)
from choreo_lab.grading.ex07_stuck_order import (
    CHAOS_ORDERS,
    StuckShop,
    charge,
    expect_diagnoses,
    expect_refused,
    expect_shipped,
    explore_inventory,
    inventory_run,
    killing,
    killing_once_published,
    nothing,
    once_published,
    once_settled,
    pausing,
    raising,
    reserve,
    scenario_paused,
    ship,
    silent,
    without,
)
from choreo_lab.grading.learner import Learner
from choreo_lab.grading.scenarios import order
from choreo_lab.grading.tasks import Check

HIDDEN_SHOPS = (
    StuckShop("payment was killed once inventory had said OutOfStock for o-12's unicorn",
              order_services, nothing,
              (order("o-11", item="kettle"), order("o-12", item="unicorn")),
              {"o-11": (None, words.COMPLETED), "o-12": ("payment", words.DOWN)},
              during=killing_once_published("payment", "OutOfStock")),
    scenario_paused("inventory", "o-21", "o-22"),
    StuckShop("payment raises for grace's card", lambda: order_services(payment=raising(
        "payment", OrderPlaced, lambda e: e.customer == "grace", "card reader offline", charge)),
        nothing, (order("o-31", customer="alan"), order("o-32", customer="grace")),
        {"o-31": (None, words.COMPLETED), "o-32": ("payment", words.DEAD_LETTER)}),
    StuckShop("shipping acks orders for 22 Acacia Ave and answers nothing",
              lambda: order_services(shipping=silent(
                  "shipping", InventoryReserved, lambda e: e.address == "22 Acacia Ave", ship)),
              nothing, (order("o-41", customer="mallory"), order("o-42", address="22 Acacia Ave")),
              {"o-41": (None, words.COMPENSATED), "o-42": ("shipping", words.ACK)}),
    StuckShop("the shop runs without an inventory service", lambda: without("inventory"),
              nothing, (order("o-51", customer="mallory"), order("o-52", item="lamp")),
              {"o-51": (None, words.COMPENSATED), "o-52": (None, words.NO_SUBSCRIBER)}),
)


def diagnoses_other_stuck_orders(learner: Learner) -> None:
    expect_diagnoses(learner, HIDDEN_SHOPS, seed=5, reveal=False)


def refuses_other_unknown_items_under_more_chaos(learner: Learner) -> None:
    run = inventory_run(learner, [order("o-1", item="spoon", quantity=3),
                                  order("o-2", item="kettle", quantity=2)], seed=3)
    expect_refused(run, "o-1")
    expect_shipped(run, "o-2")
    explore_inventory(learner, orders=[*CHAOS_ORDERS, order("o-6", item="spoon", quantity=2)],
                      schedules=60, seed=2)


# -- the public diagnose checks, as the grader runs them ------------------------------------------
# The public checks' shops ship with the package, so a diagnose() could answer them from a
# table. Graded, each public check judges shops of its own kind (a service down or paused; a
# dead letter; a swallowed order and a missing subscriber; finished orders) built afresh:
# which service, which orders (ids, customers, items, addresses), how many, and the simulation
# seed are drawn from GRADING_SALT, which never leaves this folder. The same salt gives the
# same shops, so a notebook's grade is the same on every run, under `choreo-lab grade` and
# nbgrader alike; change it for a new cohort. The learner's own check() keeps the public shops.
GRADING_SALT = "ex07/7f3c9a51e2d84b06"
#: services a shop can break (the order service only follows along)
BREAKABLE = ("payment", "inventory", "shipping")


def other_than(public: str, rng: random.Random) -> str:
    """A breakable service other than the one the public shop breaks the same way (a case
    of the same shape as a public one would let a table keyed by its shape answer it)."""
    return rng.choice([service for service in BREAKABLE if service != public])

#: what makes each service's handler pick the stuck order: (the event it handles, the order
#: field it looks at, that field's value for the other orders)
PICKS: dict[str, tuple[type, str]] = {"payment": (OrderPlaced, "customer"),
                                      "inventory": (PaymentCompleted, "item"),
                                      "shipping": (InventoryReserved, "address")}
ANSWERS: dict[str, Callable[[Any, Any], list[Any]]] = {"payment": charge, "inventory": reserve,
                                                       "shipping": ship}
#: values an order that goes through can have, and a value for the one picked out
USUAL = {"customer": ("ada", "alan", "barbara"), "item": ("book", "kettle"),
         "address": ("1 Main St", "22 Acacia Ave")}
PICKED = {"customer": "grace", "item": "lamp", "address": "7 Harbour Rd"}


class Orders:
    """Fresh order ids and ordinary orders, drawn from one seeded stream."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[str] = set()

    def new_id(self) -> str:
        while True:
            order_id = f"o-{self.rng.randrange(100, 1000)}"
            if order_id not in self.used:
                self.used.add(order_id)
                return order_id

    def ordinary(self, **fields: Any) -> dict[str, Any]:
        """An order that goes through (unless `fields` say otherwise)."""
        usual = {field: self.rng.choice(values) for field, values in USUAL.items()}
        return order(self.new_id(), **{**usual, **fields})


def rng_for(kind: str) -> random.Random:
    return random.Random(f"{GRADING_SALT}/{kind}")


def graded_down_or_paused() -> tuple[StuckShop, ...]:
    """One shop with a service killed, one with a service paused, after an order finished;
    then two where the service killed is not the one the order waits on (`graded_bystanders`)."""
    rng = rng_for("down")
    orders, shops = Orders(rng), []
    for reason, act, public in ((words.DOWN, killing, "inventory"),
                                (words.PAUSED, pausing, "shipping")):
        service = other_than(public, rng)
        first = orders.ordinary()
        stuck = [orders.ordinary() for _ in range(rng.randint(1, 2))]
        verb = "killed" if reason == words.DOWN else "paused"
        shops.append(StuckShop(
            f"{service} was {verb} after {first['order_id']} finished; then "
            + " and ".join(o["order_id"] for o in stuck)
            + (" were placed" if len(stuck) > 1 else " was placed"), order_services,
            act(service), (first, *stuck),
            {first["order_id"]: (None, words.COMPLETED),
             **{o["order_id"]: (service, reason) for o in stuck}}))
    return (*shops, *graded_bystanders(rng, orders))


#: the services an order passes, in order (the order service follows it all along)
SAGA = ("payment", "inventory", "shipping")


def graded_bystanders(rng: random.Random, orders: Orders) -> tuple[StuckShop, ...]:
    """A service holds an order (it swallowed it; it is paused) while another one, which the
    order has already passed, is killed: the order does not wait on that one. Which two is
    drawn, never the public shops' pair (shipping holds it, payment is killed)."""
    pairs = [(holder, bystander) for n, holder in enumerate(SAGA)
             for bystander in ("order", *SAGA[:n])
             if (holder, bystander) != ("shipping", "payment")]
    shops = []
    swallower, killed = rng.choice(pairs)
    event_type, field = PICKS[swallower]
    value = PICKED[field]
    swallowed = orders.ordinary(**{field: value})
    later = [orders.ordinary() for _ in range(rng.randint(1, 2))]
    shops.append(StuckShop(
        f"{swallower} acks orders with the {field} {value} and answers nothing; then {killed} "
        "was killed", lambda: order_services(**{swallower: silent(
            swallower, event_type, lambda e: getattr(e, field, None) == value,
            ANSWERS[swallower])}),
        killing(killed), (swallowed, *later),
        {swallowed["order_id"]: (swallower, words.ACK),
         **{o["order_id"]: (killed, words.DOWN) for o in later}}))
    paused, killed = rng.choice(pairs)
    first = orders.ordinary()
    stuck = [orders.ordinary() for _ in range(rng.randint(1, 2))]
    shops.append(StuckShop(
        f"{paused} was paused after {first['order_id']} finished; later orders waited, then "
        f"{killed} was killed", order_services, pausing(paused), (first, *stuck),
        {first["order_id"]: (None, words.COMPLETED),
         **{o["order_id"]: (paused, words.PAUSED) for o in stuck}},
        during=once_settled(killing(killed))))
    return tuple(shops)


def one_picked_among_others(rng: random.Random, orders: Orders, avoid: str
                            ) -> tuple[str, str, str, Any, dict[str, Any], list[dict[str, Any]]]:
    """A service other than `avoid`, the event and field it picks an order by, and the value;
    the picked order placed among one or two ordinary ones (never first)."""
    service = other_than(avoid, rng)
    event_type, field = PICKS[service]
    value = PICKED[field]
    picked = orders.ordinary(**{field: value})
    placed = [orders.ordinary() for _ in range(rng.randint(1, 2))]
    placed.insert(rng.randrange(1, len(placed) + 1), picked)
    return service, event_type, field, value, picked, placed


def graded_dead_letter() -> tuple[StuckShop, ...]:
    """A service whose handler raises for one order's customer, item or address; and one
    where the order service, stopped too, also holds that order's message."""
    rng = rng_for("dead")
    orders = Orders(rng)
    service, event_type, field, value, stuck, placed = one_picked_among_others(
        rng, orders, "shipping")
    return (StuckShop(
        f"{service} raises for the {field} {value} (every attempt, until it gives up)",
        lambda: order_services(**{service: raising(
            service, event_type, lambda e: getattr(e, field, None) == value,
            f"cannot handle {value}", ANSWERS[service])}),
        nothing, tuple(placed),
        {o["order_id"]: (service, words.DEAD_LETTER) if o is stuck else (None, words.COMPLETED)
         for o in placed}), graded_dead_letter_held_elsewhere(rng, orders))


def graded_dead_letter_held_elsewhere(rng: random.Random, orders: Orders) -> StuckShop:
    """Inventory raises for one item; the order service is paused or killed once it has placed
    that order, so it too holds one of its messages. (The public shop has shipping raise;
    a payment that raises leaves the order service nothing of the order to hold.)"""
    value = PICKED["item"]
    first, stuck = orders.ordinary(), orders.ordinary(item=value)
    act, verb = rng.choice(((pausing("order"), "paused"), (killing("order"), "killed")))
    return StuckShop(
        f"inventory raises for the item {value}; the order service was {verb} once it had "
        f"placed {stuck['order_id']}",
        lambda: order_services(inventory=raising(
            "inventory", PaymentCompleted, lambda e: e.item == value, f"cannot handle {value}",
            reserve)),
        nothing, (first, stuck),
        {first["order_id"]: (None, words.COMPLETED),
         stuck["order_id"]: ("inventory", words.DEAD_LETTER)},
        during=once_published("OrderPlaced", stuck["order_id"], act))


def graded_swallowed_or_unheard() -> tuple[StuckShop, ...]:
    """A service that acks one order and answers nothing; a shop missing a service."""
    rng = rng_for("silent")
    orders = Orders(rng)
    service, event_type, field, value, swallowed, placed = one_picked_among_others(
        rng, orders, "inventory")
    missing = other_than("shipping", rng)
    unheard = [orders.ordinary() for _ in range(rng.randint(1, 2))]
    return (StuckShop(
        f"{service} acks orders with the {field} {value} and answers nothing",
        lambda: order_services(**{service: silent(
            service, event_type, lambda e: getattr(e, field, None) == value,
            ANSWERS[service])}),
        nothing, tuple(placed),
        {o["order_id"]: (service, words.ACK) if o is swallowed else (None, words.COMPLETED)
         for o in placed}), StuckShop(
        f"the shop runs without a {missing} service", lambda: without(missing), nothing,
        tuple(unheard), {o["order_id"]: (None, words.NO_SUBSCRIBER) for o in unheard}))


def graded_finished() -> tuple[StuckShop, ...]:
    """Orders that shipped or were cancelled: a declined card, and (with every service up) an
    item out of stock and an address nobody ships to; or inventory killed after the first
    order, and the declined card cancelled without it. (The public shop kills shipping.)"""
    rng = rng_for("finished")
    orders = Orders(rng)
    first = orders.ordinary()
    kill = rng.random() < 0.5
    later = [orders.ordinary(customer="mallory")]
    if not kill:
        later += [orders.ordinary(item="unicorn"), orders.ordinary(address="Atlantis"),
                  orders.ordinary()]
    rng.shuffle(later)
    expected = {first["order_id"]: (None, words.COMPLETED)}
    for placed in later:
        bad = (placed["customer"] == "mallory" or placed["item"] == "unicorn"
               or placed["address"] == "Atlantis")
        expected[placed["order_id"]] = (None, words.COMPENSATED if bad else words.COMPLETED)
    story = (f"{first['order_id']} shipped; then " + ("inventory was killed, and " if kill else "")
             + " and ".join(o["order_id"] for o in later)
             + (" were placed" if len(later) > 1 else " was placed"))
    return (StuckShop(story, order_services, killing("inventory") if kill else nothing,
                      (first, *later), expected),)


def graded(shops: Callable[[], tuple[StuckShop, ...]], kind: str) -> Callable[[Learner], None]:
    seed = rng_for(f"{kind}/seed").randrange(1, 1000)
    return lambda learner: expect_diagnoses(learner, shops(), seed=seed, reveal=False)


GRADED = {"diagnose": {
    "names a service that is down or paused with the order's message":
        graded(graded_down_or_paused, "down"),
    "names the service that dead-lettered the order's message":
        graded(graded_dead_letter, "dead"),
    "tells an order a service swallowed from an event nobody takes":
        graded(graded_swallowed_or_unheard, "silent"),
    "says a finished order waits on nobody": graded(graded_finished, "finished"),
}}


HIDDEN = {
    "diagnose": (Check("diagnoses stuck orders in other shops, at other services", 1,
                       diagnoses_other_stuck_orders, hidden=True),),
    "no_stuck_orders": (Check("refuses other unknown items, and every order finishes over 60 "
                              "more fault schedules", 1,
                              refuses_other_unknown_items_under_more_chaos, hidden=True),),
}
