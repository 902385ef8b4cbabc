"""The exercises' "Try it" cells: run your service on its own, with the events it reacts to.

A service is its reactions to events, so it can be tried without the rest of the saga:
publish what it would receive and look at what it answers and what it keeps. Each helper
prints what happened. While your code is still the stub (``raise NotImplementedError()``)
it says so in one line instead of a traceback, so "Run All" goes on to the checks.

This module holds no answer: it imports only the saga's events and data.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from ..broker import DeadLetter
from ..context import Context
from ..events import Event, Message
from ..examples.content import ModerationRejected, TranscodingComplete, UploadRequested
from ..examples.notifications import DAY, EmailConfirmed, UserRegistered
from ..examples.orchestrated import SUSPECTS
from ..examples.orders import (
    DECLINED_CUSTOMERS,
    PRICES,
    STOCK,
    UNSHIPPABLE,
    InventoryReserved,
    OrderPlaced,
    OrderRequested,
    OutOfStock,
    PaymentCompleted,
    PaymentDeclined,
    ShipmentFailed,
)
from ..faults import AnyFault, Duplicate
from ..service import Service
from ..simulation import Simulation
from ..story import workflow_status
from ..text import fit

STUB_NOTE = ("Your {what} still raises NotImplementedError: replace the stub with your code, "
             "run that cell, then run this one again.")


@contextlib.contextmanager
def stub_tolerated(what: str) -> Iterator[None]:
    """Turn a stub's NotImplementedError inside the block into one line of advice."""
    try:
        yield
    except NotImplementedError:
        print(STUB_NOTE.format(what=what))


def run_alone(services: Sequence[Service], events: Sequence[Event],
              faults: Sequence[AnyFault] = ()) -> Simulation | None:
    """Publish `events` (one workflow per order or item) to `services` alone; run until idle.

    Returns the simulation, or None after printing the advice if a handler is still a stub.
    """
    sim = Simulation(services, seed=1, faults=list(faults))
    for event in events:
        workflow = getattr(event, "order_id", None) or getattr(event, "content_id", None)
        sim.publish(event, correlation_id=workflow)
    sim.run_until_idle()
    return None if _stubbed(sim) else sim


def print_answers(sim: Simulation, producers: Sequence[str]) -> None:
    """Each event the `producers` published, under the order it belongs to."""
    for envelopes in sim.topics.values():
        for envelope in envelopes:
            if envelope.producer in producers:
                print(fit(f"{envelope.correlation_id}: {envelope.producer} published "
                          f"{envelope.event}"))


# -- exercise 1 --------------------------------------------------------------------------------
def try_inventory(make_inventory_service: Callable[[dict[str, int]], Service]) -> None:
    """Two paid orders of 2 lamps each, with 3 lamps in stock: what does your inventory do?"""
    with stub_tolerated("make_inventory_service"):
        inventory = make_inventory_service(dict(STOCK))
        orders = [PaymentCompleted(order_id=order_id, item="lamp", quantity=2,
                                   amount=2 * PRICES["lamp"], address="1 Main St")
                  for order_id in ("o-1", "o-2")]
        sim = run_alone([inventory], orders)
        if sim is not None:
            print_answers(sim, ["inventory"])
            print("lamps left:", sim.state("inventory")["stock"].get("lamp"))


# -- exercise 2 --------------------------------------------------------------------------------
def services_before_compensation() -> tuple[Service, Service]:
    """Payment and inventory as three failing orders left them, with no handlers yet.

    o-1 was declined (nothing charged); o-2 (a unicorn, 99) was charged and then found out
    of stock; o-3 (2 lamps, 60) was charged and reserved, and then could not ship.
    """
    payment = Service("payment", {
        "charges": {"o-2": 99, "o-3": 60}, "refunds": {},
        "ledger": {"o-2": [{"kind": "charge", "amount": 99, "at": 1}],
                   "o-3": [{"kind": "charge", "amount": 60, "at": 1}]}})
    inventory = Service("inventory", {
        "stock": {**STOCK, "lamp": STOCK["lamp"] - 2}, "received": dict(STOCK),
        "reservations": {"o-3": {"item": "lamp", "quantity": 2}}, "released": {},
        "out_of_stock": {"o-2": "unicorn"},
        "ledger": {"o-3": [{"kind": "reserve", "item": "lamp", "quantity": 2, "at": 2}]}})
    return payment, inventory


def try_compensations(add_compensations: Callable[[Service, Service], None]) -> None:
    """The three failures reach your compensations: where do the money and the lamps end up?"""
    with stub_tolerated("add_compensations (or a handler it registers)"):
        payment, inventory = services_before_compensation()
        add_compensations(payment, inventory)
        failures = [PaymentDeclined(order_id="o-1", reason="card declined"),
                    OutOfStock(order_id="o-2", item="unicorn", quantity=1),
                    ShipmentFailed(order_id="o-3", item="lamp", quantity=2,
                                   reason="cannot ship to Atlantis")]
        sim = run_alone([payment, inventory], failures)
        if sim is not None:
            print_answers(sim, ["payment", "inventory"])
            print("payment's ledger:", sim.state("payment").get("ledger"))
            print("inventory's ledger:", sim.state("inventory").get("ledger"))
            print("lamps on the shelf:", sim.state("inventory")["stock"]["lamp"])


# -- exercise 3 --------------------------------------------------------------------------------
def try_payment(make_payment_service: Callable[[], Service]) -> None:
    """The first ack of OrderPlaced is lost, so it is delivered twice: how many charges are there?"""
    with stub_tolerated("make_payment_service"):
        payment = make_payment_service()
        order = OrderPlaced(order_id="o-1", customer="ada", item="kettle", quantity=2,
                            amount=2 * PRICES["kettle"], address="1 Main St")
        sim = run_alone([payment], [order],
                        [Duplicate(event_type="OrderPlaced", service="payment", times=1)])
        if sim is not None:
            deliveries = sim.trace.where(kind="deliver|redeliver", service="payment")
            print(f"OrderPlaced of o-1 was delivered {len(deliveries)} times (its first ack was lost)")
            print_answers(sim, ["payment"])
            print("ledger:", sim.state("payment")["ledger"])


# -- exercise 5 --------------------------------------------------------------------------------
def signup(user_id: str) -> UserRegistered:
    return UserRegistered(user_id=user_id, name=user_id, email=f"{user_id}@example.org",
                          phone="+44 7700 900000")


def print_commands(sim: Simulation, producer: str) -> None:
    """Each command (or event) the service published, with its virtual day."""
    for envelope in sorted((e for log in sim.topics.values() for e in log
                            if e.producer == producer), key=lambda e: e.message_id[1:].zfill(9)):
        print(f"day {envelope.published_at / DAY:4.1f}: {producer} published {envelope.event}")


def try_loyalty(make_loyalty_service: Callable[[int], Service]) -> None:
    """u-1 and u-2 signed up a month ago; loyalty joins from the beginning; then u-3 signs up."""
    with stub_tolerated("make_loyalty_service"):
        sim = Simulation([], seed=1)
        for user_id in ("u-1", "u-2"):
            sim.publish(signup(user_id), key=user_id, correlation_id=user_id)
        sim.run_for(30 * DAY)
        sim.add_service(make_loyalty_service(sim.now), start="beginning")
        sim.publish(signup("u-3"), key="u-3", correlation_id="u-3")
        sim.run_until_idle()
        if not _stubbed(sim):
            print_commands(sim, "loyalty")
            print("members:", sim.state("loyalty").get("members"))


def try_reminder(make_reminder_service: Callable[[], Service]) -> None:
    """u-1 and u-2 sign up; u-2 confirms on day 1: who gets a reminder, and when?"""
    with stub_tolerated("make_reminder_service"):
        sim = Simulation([make_reminder_service()], seed=1)
        for user_id in ("u-1", "u-2"):
            sim.publish(signup(user_id), key=user_id, correlation_id=user_id)
        sim.run_for(DAY)
        sim.publish(EmailConfirmed(user_id="u-2"), key="u-2", correlation_id="u-2")
        sim.run_until_idle()
        if not _stubbed(sim):
            print_commands(sim, "reminder")
            print("pending timers:", [timer.name for timer in sim.timers])


# -- exercise 6 --------------------------------------------------------------------------------
def payment_without_its_charge_step() -> Service:
    """The choreography's payment as the exercise hands it over: its data, no handlers yet."""
    return Service("payment", {"declined_customers": list(DECLINED_CUSTOMERS), "charges": {},
                               "refunds": {}, "declined": {}, "ledger": {}})


def order_service_with(*placed: OrderPlaced) -> Service:
    """The choreography's order service, holding the records of `placed` orders, no handlers."""
    return Service("order", {"orders": {
        order.order_id: {"customer": order.customer, "item": order.item,
                         "quantity": order.quantity, "amount": order.amount,
                         "status": "placed", "facts": []} for order in placed}})


def placed(order_id: str, customer: str, item: str = "book", quantity: int = 1) -> OrderPlaced:
    return OrderPlaced(order_id=order_id, customer=customer, item=item, quantity=quantity,
                       amount=PRICES[item] * quantity, address="1 Main St")


def print_records(sim: Simulation) -> None:
    for order_id, record in sim.state("order")["orders"].items():
        print(f"{order_id}: {record.get('status')} (facts: {record.get('facts')})")


def try_choreography(make_fraud_service: Callable[[tuple[str, ...]], Service],
                     add_fraud_check: Callable[[Service, Service], None]) -> None:
    """ada and eve place orders; fraud hears OrderPlaced twice: who is charged, who cancelled?"""
    with stub_tolerated("make_fraud_service or add_fraud_check (or a handler they register)"):
        orders = [placed("o-1", "ada"), placed("o-2", "eve", "lamp")]
        payment, order = payment_without_its_charge_step(), order_service_with(*orders)
        add_fraud_check(payment, order)
        sim = run_alone([make_fraud_service(SUSPECTS), payment, order], orders,
                        [Duplicate(event_type="OrderPlaced", service="fraud", times=1)])
        if sim is not None:
            print_answers(sim, ["fraud", "payment", "order"])
            print("ledger:", sim.state("payment")["ledger"])
            print_records(sim)


def try_orchestration(make_fraud_participant: Callable[[tuple[str, ...]], Service],
                      add_fraud_step: Callable[[Service], None]) -> None:
    """ada and eve ask for orders: what does your orchestrator send, and what does it keep?"""
    with stub_tolerated("make_fraud_participant or add_fraud_step (or a handler they register)"):
        orchestrator = Service("order", {"orders": {}})
        add_fraud_step(orchestrator)
        requests = [OrderRequested(order_id="o-1", customer="ada", item="book", quantity=1,
                                   address="1 Main St"),
                    OrderRequested(order_id="o-2", customer="eve", item="lamp", quantity=1,
                                   address="1 Main St")]
        sim = run_alone([orchestrator, make_fraud_participant(SUSPECTS)], requests,
                        [Duplicate(event_type="CheckFraud", service="fraud", times=1)])
        if sim is not None:
            print_answers(sim, ["order", "fraud"])
            print_records(sim)


def stand_in(name: str) -> Callable[[Message, Context], None]:
    """A handler that only marks a step as there before the change (it never runs)."""
    def step(event: Message, ctx: Context) -> None:
        raise RuntimeError("a stand-in for a step of the design before the change")
    step.__name__ = step.__qualname__ = name
    return step


def fraud_check_designs(make_fraud_service: Callable[[tuple[str, ...]], Service],
                        add_fraud_check: Callable[[Service, Service], None],
                        make_fraud_participant: Callable[[tuple[str, ...]], Service],
                        add_fraud_step: Callable[[Service], None],
                        ) -> dict[str, tuple[list[Service], list[Service]]]:
    """Each design before and after your fraud check, as outlines for `choreo_lab.measure`.

    Before: the services the exercise handed you, plus a stand-in for the step you replaced
    (payment's charge on OrderPlaced; the orchestrator's first step on OrderRequested).
    After: the same services with what your functions added, and the new fraud service.
    The services neither design touches (inventory, shipping) are in both, unchanged.
    While one of your functions is still a stub, it says so and returns no designs.
    """
    with stub_tolerated("make_fraud_service, add_fraud_check, make_fraud_participant or "
                        "add_fraud_step"):
        untouched = [Service("inventory", {}), Service("shipping", {})]
        payment_before = payment_without_its_charge_step()
        payment_before.handles(OrderPlaced, publishes=(PaymentCompleted, PaymentDeclined))(
            stand_in("charge_card"))
        payment, order = payment_without_its_charge_step(), order_service_with()
        add_fraud_check(payment, order)
        orchestrator_before = Service("order", {"orders": {}})
        orchestrator_before.handles(OrderRequested)(stand_in("start_order"))
        orchestrator = Service("order", {"orders": {}})
        add_fraud_step(orchestrator)
        return {
            "choreographed": ([order_service_with(), payment_before, *untouched],
                              [order, make_fraud_service(SUSPECTS), payment, *untouched]),
            "orchestrated": ([orchestrator_before, Service("payment", {}), *untouched],
                             [orchestrator, make_fraud_participant(SUSPECTS),
                              Service("payment", {}), *untouched])}
    return {}


# -- exercise 9 --------------------------------------------------------------------------------
def reserved(order_id: str, address: str = "1 Main St") -> InventoryReserved:
    return InventoryReserved(order_id=order_id, item="book", quantity=1, address=address)


def try_outbox(make_shipping_service: Callable[[], Service], faults: Sequence[AnyFault] = (),
               *, relay: bool = True) -> None:
    """Three reserved orders reach your shipping, the outbox off (its relay off, or on).

    o-2 goes to an address shipping cannot serve. Prints the rows left in shipping's outbox
    and what shipping published, with the relay's crashes and the messages the broker kept
    once.
    """
    with stub_tolerated("keep_in_outbox"):
        shipping = make_shipping_service()
        if not relay:
            shipping = shipping.wrapped()
            shipping.outbox_relay = None
        sim = Simulation([shipping], seed=1, outbox=False, faults=list(faults))
        for event in (reserved("o-1"), reserved("o-2", UNSHIPPABLE[0]), reserved("o-3")):
            sim.publish(event, correlation_id=event.order_id, producer="inventory")
        sim.run_until_idle()
        if _stubbed(sim) or _relay_stubbed(sim):
            return
        print("rows in shipping's outbox:", list(sim.state("shipping").get("outbox", {})) or "none")
        for record in sim.trace.where(kind="publish|dedup|relay-crash", service="shipping"):
            print(record)


# -- exercise 4 --------------------------------------------------------------------------------
def try_publishing(make_publishing_service: Callable[[], Service]) -> None:
    """Version 2 of v-1 arrives, then version 1 (late), then version 2 again: what is live?"""
    with stub_tolerated("make_publishing_service"):
        arrivals = [TranscodingComplete(content_id="v-1", version=version,
                                        rendition=f"v-1-v{version}-720p.mp4")
                    for version in (2, 1, 2)]
        sim = run_alone([make_publishing_service()], arrivals)
        if sim is not None:
            print_answers(sim, ["publishing"])
            print("live:", sim.state("publishing").get("live"))
            print("published:", sim.state("publishing").get("published"))


def try_upload(make_upload_service: Callable[[], Service]) -> None:
    """v-1 is uploaded, then its edit (version 2); the edit is rejected, twice: what stays?"""
    with stub_tolerated("make_upload_service"):
        events: list[Event] = [
            UploadRequested(content_id="v-1", version=version, creator="ada",
                            title="cat video", file=file)
            for version, file in ((1, "clip.mp4"), (2, "flagged-edit.mp4"))]
        events += [ModerationRejected(content_id="v-1", version=2,
                                      reason="breaks the community guidelines")] * 2
        sim = run_alone([make_upload_service()], events)
        if sim is not None:
            print_answers(sim, ["upload"])
            print("stored:", sim.state("upload").get("stored"))
            print("told:", sim.state("upload").get("told"))


# -- exercise 8 --------------------------------------------------------------------------------
def letter_as_data(letter: DeadLetter) -> dict[str, Any]:
    """A dead letter as plain data, the way a learner's function receives it."""
    envelope = letter.envelope
    return {"message_id": envelope.message_id, "group": letter.group,
            "event_type": envelope.event_type, "order_id": envelope.correlation_id,
            "reason": letter.reason, "attempts": letter.attempts}


def try_fix(make_fixed_shipping_service: Callable[[], Service]) -> None:
    """Two reserved orders reach your version 2: one to a street, one to a PO box."""
    with stub_tolerated("make_fixed_shipping_service"):
        sim = run_alone([make_fixed_shipping_service()],
                        [reserved("o-1"), reserved("o-2", "PO Box 12")])
        if sim is not None:
            print_answers(sim, ["shipping"])
            print("dead letters:", [str(letter) for letter in sim.dead_letters] or "none")


def try_redrive(make_shipping_service: Callable[[], Service],
                make_fixed_shipping_service: Callable[[], Service],
                letters_to_redrive: Callable[[list[dict]], list[str]]) -> None:
    """Version 1 dead-letters a PO-box order; re-driven before the fix it comes back; after
    the deploy, your choice of letters is re-driven."""
    with stub_tolerated("make_fixed_shipping_service or letters_to_redrive"):
        sim = Simulation([make_shipping_service()], seed=1, max_attempts=3)
        for event in (reserved("o-1"), reserved("o-2", "PO Box 12")):
            sim.publish(event, correlation_id=event.order_id, producer="inventory")
        sim.run_until_idle()
        print("dead letters:", [str(letter) for letter in sim.dead_letters])
        sim.redrive()
        sim.run_until_idle()
        print("re-driven before the fix, back again:", len(sim.dead_letters), "letter(s)")
        sim.deploy(make_fixed_shipping_service())
        chosen = letters_to_redrive([letter_as_data(letter) for letter in sim.dead_letters])
        print("after the deploy you re-drive:", chosen)
        for letter in list(sim.dead_letters):
            if letter.envelope.message_id in chosen:
                sim.redrive(letter)
        sim.run_until_idle()
        if not _stubbed(sim):
            print_answers(sim, ["shipping"])
            print("dead letters:", [str(letter) for letter in sim.dead_letters] or "none")


def _relay_stubbed(sim: Simulation) -> bool:
    """Print the stub advice if the relay is still a stub."""
    stubbed = any("NotImplementedError" in record.detail
                  for record in sim.trace.where(kind="relay-crash", service="shipping"))
    if stubbed:
        print(STUB_NOTE.format(what="relay send_outbox"))
    return stubbed


def _stubbed(sim: Simulation) -> bool:
    """Print the stub advice if a handler is still a stub (its message was dead-lettered)."""
    stubs = [l for l in sim.dead_letters if l.reason.startswith("NotImplementedError")]
    if stubs:
        print(STUB_NOTE.format(what=f"handler for {stubs[0].envelope.event_type} in "
                                    f"{stubs[0].group}"))
    return bool(stubs)


# -- exercise 7 --------------------------------------------------------------------------------
def case_file(sim: Simulation, order_id: str) -> dict[str, Any]:
    """Everything `where_is` reads about one order, as plain data a `diagnose(case)` can read.

    - ``status``: running / compensating / completed / compensated / stuck;
    - ``messages``: the order's messages in publish order (id, event type, producer, the
      message that caused it, publish time);
    - ``trace``: the order's trace records (time, kind, service, message id, attempt, detail);
    - ``services``: per service its status (up / down / paused), the event types it
      subscribes to, and how many messages wait in its backlog;
    - ``dead_letters``: the order's messages a service gave up on, with the reason.
    """
    messages = sim.trace.messages_of(order_id)
    if not messages:
        known = ", ".join(sim.trace.correlation_ids()) or "(none yet)"
        raise ValueError(f"no order {order_id!r} in this simulation; its orders are: {known}")
    ids = {envelope.message_id for envelope in messages}
    return {
        "order_id": order_id,
        "status": workflow_status(sim, order_id),
        "messages": [{"message_id": e.message_id, "event_type": e.event_type,
                      "producer": e.producer, "causation_id": e.causation_id,
                      "published_at": e.published_at} for e in messages],
        "trace": [{"time": r.time, "kind": r.kind, "service": r.service,
                   "message_id": r.message_id, "attempt": r.attempt, "detail": r.detail}
                  for r in sim.trace.for_correlation(order_id)],
        "services": {name: {"status": sim.status(name),
                            "handles": sorted(sim.definition(name).handlers),
                            "backlog": sum(sim.backlog(name).values())}
                     for name in sim.services},
        "dead_letters": [letter_as_data(letter) for letter in sim.dead_letters
                         if letter.envelope.message_id in ids],
    }


SHOPS_NOTE = ("The stuck shops are built from the course's own services, which the grader "
              "does not load here: run this cell in your notebook.")


def shops_available() -> bool:
    """False inside the grader's sandbox, where the course's own services are not loaded."""
    from .sandbox.guard import ReferenceGuard
    return not any(isinstance(finder, ReferenceGuard) for finder in sys.meta_path)


def try_diagnose(diagnose: Callable[[dict[str, Any]], Any]) -> None:
    """Three shops with a stuck order each: what does your diagnose() say about every order?"""
    if not shops_available():
        print(SHOPS_NOTE)
        return
    with stub_tolerated("diagnose"):
        from ..examples.orders import where_is
        from .ex07_stuck_order import PUBLIC_DEAD, PUBLIC_DOWN, PUBLIC_SILENT
        for shop in (PUBLIC_DOWN[0], PUBLIC_DEAD[0], PUBLIC_SILENT[1]):
            sim = shop.run(1)
            print(fit(f"{shop.story}:"))
            for order_id in shop.expected:
                case = case_file(sim, order_id)
                print(f"  {order_id} ({case['status']}): diagnose says {diagnose(case)!r}")
                print(fit(f"    where_is says: {where_is(sim, order_id).verdict}", indent=6))


def try_shipped_inventory(make_shipped_inventory: Callable[[dict[str, int]], Service],
                          diagnose: Callable[[dict[str, Any]], Any]) -> None:
    """A book and a teapot are ordered from the shop with the shipped inventory: where are they?"""
    if not shops_available():
        print(SHOPS_NOTE)
        return
    with stub_tolerated("diagnose"):
        from ..examples.orders import order_services, order_system, place_order
        sim = order_system(1, services=order_services(inventory=make_shipped_inventory(STOCK)))
        place_order(sim, "o-1", item="book")
        place_order(sim, "o-2", item="teapot")
        sim.run_until_idle()
        for order_id in ("o-1", "o-2"):
            case = case_file(sim, order_id)
            print(f"{order_id} ({case['status']}): diagnose says {diagnose(case)!r}")


def try_fixed_inventory(make_inventory_service: Callable[[dict[str, int]], Service]) -> None:
    """A teapot (not in the stock table) and 2 lamps, paid: what does your inventory answer?"""
    with stub_tolerated("make_inventory_service"):
        orders = [PaymentCompleted(order_id="o-1", item="teapot", quantity=1, amount=0,
                                   address="1 Main St"),
                  PaymentCompleted(order_id="o-2", item="lamp", quantity=2,
                                   amount=2 * PRICES["lamp"], address="1 Main St")]
        sim = run_alone([make_inventory_service(dict(STOCK))], orders)
        if sim is not None:
            print_answers(sim, ["inventory"])
            print("stock:", sim.state("inventory")["stock"])
