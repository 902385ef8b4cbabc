"""Exercise 7, the stuck order: say who an order waits on and why, then fix a service that swallows.

Task 1: the learner writes ``diagnose(case)``. `case` is an order's case file (`kit.case_file`):
its status, its messages and trace records, every service's status, subscriptions and
backlog, and the order's dead letters - plain data, what `where_is` reads. The answer is a
pair ``(service, reason)`` in the words of `choreo_lab.vocabulary`: who must act next and
why it has not. The checks build stuck orders on purpose (a killed or paused service, a
handler that raises into the dead letters, a service that acks and answers nothing, an
event nobody reacts to) beside orders that finished and services down or paused that the
order does not wait on, and compare. These shops ship with the package; graded, the same
checks judge shops of the same kinds built afresh (the hidden checks' ``GRADED``), so a table
of the public shops' answers earns nothing.

Task 2: ``make_inventory_service(stock)``, the shipped inventory fixed: it ignored an order
for an item not in its table, so the order waited forever. The checks run the saga with it,
and the chaos explorer judges with the order oracle: every order finishes, settled. The
inventory must keep the bookkeeping the oracle reads (`BOOKKEEPING`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from .. import vocabulary as words
from ..chaos import FaultSpace, explore
from ..consistency import Oracle, Violation
from ..context import Context
from ..events import Event
from ..examples.orders import (
    ORDER_INVARIANTS,
    STOCK,
    UNSHIPPABLE,
    InventoryReserved,
    PaymentCompleted,
    ShipmentScheduled,
    order_services,
    order_system,
    place_order,
)
from ..examples.orders.invariants import explain_stuck_order, order_ids
from ..faults import FaultPlan
from ..service import Service
from ..simulation import Simulation
from .audit import AuditedSimulation
from .feedback import explain, fault_calls, plural
from .kit import case_file
from .learner import Learner
from .scenarios import excerpt_heading, order, run_saga, shown_records
from .tasks import Check, Failed, Task

EXERCISE = "ex07-stuck-order"
DIAGNOSE, FACTORY = "diagnose", "make_inventory_service"
#: The answers a diagnosis may give as its reason.
REASONS = (words.DOWN, words.PAUSED, words.DEAD_LETTER, words.ACK, words.NO_SUBSCRIBER,
           words.COMPLETED, words.COMPENSATED)


# -- stuck orders, made on purpose ---------------------------------------------------------------
Answer = Callable[[Any, Context], list[Event]]


def raising(service: str, event_type: type[Event], when: Callable[[Any], bool],
            error: str, answer: Answer) -> Service:
    """A service whose one handler raises `error` for the events `when` picks, else answers."""
    built = Service(service, {})

    @built.handles(event_type)
    def handle(event: Any, ctx: Context) -> list[Event]:
        if when(event):
            raise ValueError(error)
        return answer(event, ctx)

    return built


def silent(service: str, event_type: type[Event], when: Callable[[Any], bool],
           answer: Answer) -> Service:
    """A service that acks the events `when` picks and publishes nothing for them."""
    built = Service(service, {})

    @built.handles(event_type)
    def handle(event: Any, ctx: Context) -> list[Event]:
        return [] if when(event) else answer(event, ctx)

    return built


def ship(event: Any, ctx: Context) -> list[Event]:
    """Schedule the shipment (kept as the real shipping keeps it, so `where_is` can read it)."""
    ctx.state.setdefault("shipments", {})[event.order_id] = {"tracking": f"trk-{event.order_id}"}
    return [ShipmentScheduled(order_id=event.order_id, tracking=f"trk-{event.order_id}")]


def reserve(event: Any, ctx: Context) -> list[Event]:
    """Reserve without counting stock (these shops have plenty), recorded in a ledger."""
    ctx.state.setdefault("ledger", {}).setdefault(event.order_id, []).append(
        {"kind": "reserve", "item": event.item, "quantity": event.quantity})
    return [InventoryReserved(order_id=event.order_id, item=event.item, quantity=event.quantity,
                              address=event.address)]


def charge(event: Any, ctx: Context) -> list[Event]:
    """Charge the card, recorded in a ledger."""
    ctx.state.setdefault("ledger", {}).setdefault(event.order_id, []).append(
        {"kind": "charge", "amount": event.amount})
    return [PaymentCompleted(order_id=event.order_id, item=event.item, quantity=event.quantity,
                             amount=event.amount, address=event.address)]


def without(name: str) -> list[Service]:
    """The saga's services with one of them missing (nobody subscribes in its place)."""
    return [service for service in order_services() if service.name != name]


def nothing(sim: Simulation) -> None:
    """No fault: the scenario's services are broken enough."""


@dataclass(frozen=True)
class StuckShop:
    """A scenario: the saga built with `services`; the first order runs to the end, then
    `before` happens, the other `orders` are placed, and `during` happens while they run.
    `expected` is the right diagnosis of each order."""

    story: str
    services: Callable[[], list[Service]]
    before: Callable[[Simulation], None]
    orders: tuple[dict[str, Any], ...]
    expected: dict[str, tuple[str | None, str]]
    during: Callable[[Simulation], None] = nothing

    def run(self, seed: int) -> Simulation:
        sim = order_system(seed, services=self.services())
        first, *rest = self.orders
        place_order(sim, **first)
        sim.run_until_idle()
        self.before(sim)
        for later in rest:
            place_order(sim, **later)
        self.during(sim)
        sim.run_until_idle()
        return sim


def killing(service: str) -> Callable[[Simulation], None]:
    return lambda sim: sim.kill(service)


def pausing(service: str) -> Callable[[Simulation], None]:
    return lambda sim: sim.pause(service)


def killing_once_published(service: str, event_type: str) -> Callable[[Simulation], None]:
    """Kill `service` as soon as a message of `event_type` has been published."""
    def kill(sim: Simulation) -> None:
        while not any(e.event_type == event_type for e in sim.trace.messages.values()):
            if not sim.step():
                break
        sim.kill(service)
    return kill


def once_published(event_type: str, order_id: str,
                   act: Callable[[Simulation], None]) -> Callable[[Simulation], None]:
    """Run until a message of `event_type` for `order_id` has been published, then `act`."""
    def step_then_act(sim: Simulation) -> None:
        while not any(e.event_type == event_type and e.correlation_id == order_id
                      for e in sim.trace.messages.values()):
            if not sim.step():
                break
        act(sim)
    return step_then_act


def once_settled(act: Callable[[Simulation], None]) -> Callable[[Simulation], None]:
    """Let the orders placed so far move as far as they can, then `act`."""
    def settle_then_act(sim: Simulation) -> None:
        sim.run_until_idle()
        act(sim)
    return settle_then_act


def scenario_down(service: str, first: str = "o-1", second: str = "o-2") -> StuckShop:
    return StuckShop(f"{service} was killed after {first} finished; then {second} was placed",
                     order_services, killing(service), (order(first), order(second)),
                     {first: (None, words.COMPLETED), second: (service, words.DOWN)})


def scenario_paused(service: str, first: str = "o-1", second: str = "o-2") -> StuckShop:
    return StuckShop(f"{service} was paused after {first} finished; then {second} was placed",
                     order_services, pausing(service), (order(first), order(second)),
                     {first: (None, words.COMPLETED), second: (service, words.PAUSED)})


def no_courier_for_harbour_rd() -> list[Service]:
    """The saga with a shipping service that raises for the address 7 Harbour Rd."""
    return order_services(shipping=raising(
        "shipping", InventoryReserved, lambda e: e.address == "7 Harbour Rd",
        "no courier for 7 Harbour Rd", ship))


#: A service that is down or paused holds an order up only if it subscribes to one of the
#: order's messages and has not acked it: the last two shops break a service the order has
#: already passed, beside the one that holds it.
PUBLIC_DOWN = (scenario_down("inventory"), scenario_paused("shipping", "o-7", "o-8"), StuckShop(
    "shipping acks orders for 7 Harbour Rd and answers nothing; after o-4 was swallowed, "
    "payment was killed and o-5 placed",
    lambda: order_services(shipping=silent("shipping", InventoryReserved,
                                           lambda e: e.address == "7 Harbour Rd", ship)),
    killing("payment"), (order("o-4", address="7 Harbour Rd"), order("o-5")),
    {"o-4": ("shipping", words.ACK), "o-5": ("payment", words.DOWN)}), StuckShop(
    "shipping was paused after o-9 finished; o-10 was placed and waited, then payment was killed",
    order_services, pausing("shipping"), (order("o-9"), order("o-10")),
    {"o-9": (None, words.COMPLETED), "o-10": ("shipping", words.PAUSED)},
    during=once_settled(killing("payment"))))
#: In the second shop the order service, paused, also holds o-12's messages: the dead
#: letter is still what o-12 waits on.
PUBLIC_DEAD = (StuckShop(
    "shipping raises for the address 7 Harbour Rd (every attempt, until it gives up)",
    no_courier_for_harbour_rd, nothing, (order("o-1"), order("o-2", address="7 Harbour Rd")),
    {"o-1": (None, words.COMPLETED), "o-2": ("shipping", words.DEAD_LETTER)}), StuckShop(
    "shipping raises for the address 7 Harbour Rd; the order service was paused once it had "
    "placed o-12 (to 7 Harbour Rd)", no_courier_for_harbour_rd, nothing,
    (order("o-11"), order("o-12", address="7 Harbour Rd")),
    {"o-11": (None, words.COMPLETED), "o-12": ("shipping", words.DEAD_LETTER)},
    during=once_published("OrderPlaced", "o-12", pausing("order"))))
PUBLIC_SILENT = (StuckShop(
    "inventory acks a teapot order and answers nothing; shipping is missing from the shop",
    lambda: order_services(inventory=silent("inventory", PaymentCompleted,
                                            lambda e: e.item == "teapot", reserve)),
    nothing, (order("o-1"), order("o-2", item="teapot")),
    {"o-1": (None, words.COMPLETED), "o-2": ("inventory", words.ACK)}), StuckShop(
    "the shop runs without a shipping service",
    lambda: without("shipping"), nothing, (order("o-3"),),
    {"o-3": (None, words.NO_SUBSCRIBER)}))
PUBLIC_FINISHED = (StuckShop(
    "o-1 shipped; then shipping was killed, and a declined card and an out-of-stock unicorn "
    "were cancelled without it", order_services, killing("shipping"),
    (order("o-1"), order("o-2", customer="mallory"), order("o-3", item="unicorn")),
    {"o-1": (None, words.COMPLETED), "o-2": (None, words.COMPENSATED),
     "o-3": (None, words.COMPENSATED)}),)


def answer_of(learner: Learner, case: dict[str, Any]) -> tuple[Any, Any]:
    """The learner's diagnosis of one case, as a pair; a `Failed` for any other shape."""
    answer = learner.call(DIAGNOSE, case)
    if not isinstance(answer, (tuple, list)) or len(answer) != 2:
        raise Failed(f"`diagnose(case)` returned {answer!r:.80}; it should return a pair "
                     "(service, reason), e.g. ('payment', DOWN) or (None, COMPLETED).")
    if answer[1] not in REASONS:
        raise Failed(f"`diagnose(case)` gave the reason {answer[1]!r:.40}; a reason is one of "
                     f"{', '.join(map(repr, REASONS))} (import DOWN, PAUSED, ... from "
                     "choreo_lab.vocabulary).")
    return answer[0], answer[1]


HINTS = {
    words.DOWN: "for each of the order's messages, find the services that subscribe to its "
                "event type and have not acked it; case['services'][name]['status'] says "
                "whether one is down or paused.",
    words.DEAD_LETTER: "look at case['dead_letters'] first: a message a service gave up on "
                       "will never be delivered again, whoever handled the order last.",
    words.ACK: "a service that acked one of the order's messages and published nothing "
               "caused by it (no message has it as causation_id) swallowed the order - the "
               "order service only follows along, so leave it out.",
    words.NO_SUBSCRIBER: "if no service but the order service subscribes to the last "
                         "event's type (case['services'][name]['handles']), nobody is "
                         "there to answer: (None, NO_SUBSCRIBER).",
    words.COMPLETED: "a finished order waits on nobody: return (None, case['status']) when "
                     "the status is COMPLETED or COMPENSATED.",
}
HINTS[words.PAUSED] = HINTS[words.DOWN]
HINTS[words.COMPENSATED] = HINTS[words.COMPLETED]
#: For an answer that blames a service down or paused which holds none of the order's messages.
BYSTANDER_HINT = ("a service that is down or paused holds an order up only if it subscribes "
                  "to one of the order's messages (case['services'][name]['handles']) and has "
                  "not acked it (an 'ack' record in case['trace']); check both before you "
                  "blame it.")


def holds_a_message(case: dict[str, Any], service: Any) -> bool:
    """Does `service` subscribe to one of the order's messages and not have acked it?"""
    if not isinstance(service, str) or service not in case["services"]:
        return False
    handles = case["services"][service]["handles"]
    acked = {r["message_id"] for r in case["trace"]
             if r["kind"] == words.ACK and r["service"] == service}
    return any(m["event_type"] in handles and m["message_id"] not in acked
               for m in case["messages"])


def hint_for(case: dict[str, Any], got: tuple[Any, Any], reason: str) -> str:
    """The hint for a wrong answer: where to look for `reason`, unless the answer blamed a
    service that is down or paused but does not hold the order (then what to check first)."""
    if got[1] in (words.DOWN, words.PAUSED) and not holds_a_message(case, got[0]):
        return BYSTANDER_HINT
    return HINTS[reason]


def expect_diagnoses(learner: Learner, shops: tuple[StuckShop, ...], seed: int = 1, *,
                     reveal: bool = True) -> None:
    """Fail at the first order whose diagnosis is not the expected one, saying what happened.

    `reveal=False` (the hidden and graded shops, the same for every student until the
    instructor changes them): say that the answer is wrong and where to look, not what
    happened in the shop nor what the answer is, so the messages cannot be collected into a
    table of answers by order id.
    """
    for shop in shops:
        sim = shop.run(seed)
        for order_id, (service, reason) in shop.expected.items():
            case = case_file(sim, order_id)
            got = answer_of(learner, case)
            if got == (service, reason):
                continue
            hint = hint_for(case, got, reason)
            excerpt = [excerpt_heading(order_id), *shown_records(sim.trace, order_id)[:14]]
            if not reveal:
                raise Failed(explain(
                    f"In a shop built for grading, your diagnose() says {order_id} waits on "
                    f"{got[0]!r} because {got[1]!r}, which is not where it waits (this shop "
                    "keeps its answer).", hint, None, excerpt))
            raise Failed(explain(
                f"In this shop {shop.story}. Your diagnose() says {order_id} waits on "
                f"{got[0]!r} because {got[1]!r}; it waits on {service!r} because {reason!r}.",
                hint, None, excerpt))


def names_a_service_that_is_down_or_paused(learner: Learner) -> None:
    expect_diagnoses(learner, PUBLIC_DOWN)


def names_the_service_that_dead_lettered_the_order(learner: Learner) -> None:
    expect_diagnoses(learner, PUBLIC_DEAD)


def tells_a_swallowed_order_from_an_event_nobody_takes(learner: Learner) -> None:
    expect_diagnoses(learner, PUBLIC_SILENT)


def says_a_finished_order_waits_on_nobody(learner: Learner) -> None:
    expect_diagnoses(learner, PUBLIC_FINISHED)


# -- task 2: the inventory that swallowed orders, fixed -------------------------------------------
def inventory_run(learner: Learner, orders: list[dict[str, Any]], seed: int = 1) -> Any:
    inventory = learner.service(FACTORY, "inventory", dict(STOCK))
    return run_saga(learner, {"inventory": inventory}, orders, seed=seed)


def expect_refused(run: Any, order_id: str) -> None:
    """An order for an item inventory does not keep: OutOfStock, compensated, no stock made up."""
    item = run.orders[order_id]["item"]
    if run.published("InventoryReserved", order_id):
        run.fail(f"{order_id} asked for a {item}, which inventory does not keep, and your "
                 "service published InventoryReserved: the saga ships what nobody has.",
                 "an item missing from the stock table has none in stock: answer OutOfStock, "
                 "a failure, so payment refunds and the order is cancelled.", order_id)
    if not run.published("OutOfStock", order_id):
        run.fail(f"{order_id} asked for a {item}, which inventory does not keep, and your "
                 f"service published nothing: the order is {run.status(order_id)}, waiting "
                 "forever for an answer nobody will give.",
                 "never return [] for an order you cannot serve: return OutOfStock(order_id=..., "
                 "item=..., quantity=...) so the saga can compensate.", order_id)
    if run.status(order_id) != words.COMPENSATED:
        run.fail(f"{order_id} was refused, but the saga ended {run.status(order_id)!r}.", "",
                 order_id)
    if item in run.sim.state("inventory").get("stock", {}):
        run.fail(f"Refusing {order_id} put a {item!r} entry into the stock table.",
                 "a refused order must not change the stock.", order_id)


def expect_shipped(run: Any, order_id: str) -> None:
    if run.status(order_id) != words.COMPLETED:
        run.fail(f"{order_id} asked for an item in stock, yet the saga ended "
                 f"{run.status(order_id)!r}.", "keep reserving what is in stock as before.",
                 order_id)


def refuses_an_item_it_does_not_keep(learner: Learner) -> None:
    run = inventory_run(learner, [order("o-1", item="teapot"), order("o-2", item="lamp")])
    expect_refused(run, "o-1")
    expect_shipped(run, "o-2")


CHAOS_HINT = ("run the replay below and read the trace, or diagnose() the order the invariant "
              "names: who holds it, and why?")


def refused_then_reserved(trace: Any, order_id: str) -> str:
    """A hint if inventory answered `order_id` both OutOfStock and InventoryReserved, else ""."""
    answered = {e.event_type for e in trace.messages_of(order_id) if e.producer == "inventory"}
    if not {"OutOfStock", "InventoryReserved"} <= answered:
        return ""
    return (f"your inventory answered {order_id} OutOfStock, and later InventoryReserved when "
            "its PaymentCompleted came again (stock had come back meanwhile): an order is "
            "decided once, refused or reserved, however often the event comes.\n")

#: What the exercise's inventory starts with (the cell the learner starts from). The order
#: oracle and the audit read these to judge the stock (on the shelf + reserved - released ==
#: received) and the reservations (one per order, in the ledger); an inventory without one
#: would leave them nothing to compare, so the chaos checks require every one, kept as a dict.
BOOKKEEPING = ("stock", "received", "reservations", "released", "out_of_stock", "ledger")
BOOKKEEPING_HINT = ("keep every key the cell you started from gives the inventory's state - "
                    + ", ".join(BOOKKEEPING) + " - each a dict, for the whole run: add to "
                    "them, never drop one. The invariants read them to see that stock is "
                    "taken once per order.")


def missing_bookkeeping(state: Any) -> list[str]:
    """The keys of `BOOKKEEPING` an inventory's state lacks (or keeps as something not a dict)."""
    if not isinstance(state, dict):
        return list(BOOKKEEPING)
    return [key for key in BOOKKEEPING if not isinstance(state.get(key), dict)]


def said(keys: list[str]) -> str:
    """e.g. "`received` and `ledger`"."""
    named = [f"`{key}`" for key in keys]
    return named[0] if len(named) == 1 else ", ".join(named[:-1]) + " and " + named[-1]


def keeps_its_bookkeeping(sim: Simulation) -> Iterator[Violation]:
    """The inventory still keeps what the stock and reservation invariants read."""
    missing = missing_bookkeeping(sim.state("inventory") if "inventory" in sim.services else {})
    if missing:
        yield Violation("inventory keeps its books", "inventory",
                        f"inventory's state no longer holds {said(missing)} as a dict at "
                        f"t={sim.now}, so the stock and its reservations cannot be checked; "
                        f"keep every key the cell you started from has")


def expect_bookkeeping(inventory: Service) -> None:
    """Fail before any run if the learner's inventory starts without what the oracle reads."""
    missing = missing_bookkeeping(inventory.initial_state)
    if missing:
        raise Failed(explain(
            f"Your inventory's state starts without {said(missing)}. The chaos explorer "
            "judges the stock and the reservations from them (on the shelf + reserved - "
            "released must equal what was received; one reservation per order in the "
            "ledger), so without them it cannot tell whether stock was taken twice.",
            BOOKKEEPING_HINT))


def explore_inventory(learner: Learner, *, orders: list[dict[str, Any]], schedules: int,
                      seed: int) -> None:
    """Fail with the smallest counterexample if a seeded schedule leaves an order unsettled.

    First, the inventory must keep the bookkeeping the oracle reads (`BOOKKEEPING`)."""
    inventory = learner.service(FACTORY, "inventory", dict(STOCK))
    expect_bookkeeping(inventory)

    def system(sim_seed: int, faults: FaultPlan) -> Simulation:
        return AuditedSimulation(order_services(inventory=inventory), seed=sim_seed,
                                 faults=faults)

    def workload(sim: Simulation) -> None:
        for placed in orders:
            place_order(sim, **placed)

    space = FaultSpace(kinds=("duplicate", "crash", "drop", "delay", "kill"), max_faults=3,
                       services=("inventory",))
    oracle = Oracle((*ORDER_INVARIANTS, keeps_its_bookkeeping), order_ids,
                    describe=explain_stuck_order)
    result = explore(system, workload, oracle, schedules=schedules, seed=seed, space=space)
    if result.counterexample is None:
        return
    found = result.counterexample
    replay = ("Replay it:\n"
              "  from choreo_lab import Simulation, Crash, Delay, Drop, Duplicate, Kill, Restart\n"
              "  from choreo_lab.examples.orders import STOCK, order_services, place_orders\n"
              "  sim = Simulation(order_services(inventory=make_inventory_service(dict(STOCK))), "
              f"seed={found.seed}, faults=[{fault_calls(found.plan)}])\n"
              f"  place_orders(sim, {orders!r})\n"
              "  sim.run_until_idle(); print(sim.trace.dump())")
    raise Failed(explain(
        f"The chaos explorer ran {plural(result.schedules, 'fault schedule')}; {result.failed} "
        "of them left the shop inconsistent. The smallest failing schedule breaks this "
        f"invariant: {found.violations[0]}",
        refused_then_reserved(found.trace, found.violations[0].subject) + CHAOS_HINT + "\n"
        + replay))


#: o-4 takes every lamp and cannot be shipped, so its lamps come back; o-5, refused a lamp
#: meanwhile, must stay refused however often its PaymentCompleted comes again.
CHAOS_ORDERS = [order("o-1", item="teapot"), order("o-2", item="book", quantity=2),
                order("o-3", item="unicorn"),
                order("o-4", item="lamp", quantity=STOCK["lamp"], address=UNSHIPPABLE[0]),
                order("o-5", item="lamp")]


def every_order_finishes_under_the_chaos_explorer(learner: Learner) -> None:
    explore_inventory(learner, orders=CHAOS_ORDERS, schedules=30, seed=1)


TASKS = (
    Task("diagnose", EXERCISE, "say who a stuck order waits on, and why", (
        Check("names a service that is down or paused with the order's message", 1,
              names_a_service_that_is_down_or_paused),
        Check("names the service that dead-lettered the order's message", 1,
              names_the_service_that_dead_lettered_the_order),
        Check("tells an order a service swallowed from an event nobody takes", 1,
              tells_a_swallowed_order_from_an_event_nobody_takes),
        Check("says a finished order waits on nobody", 1, says_a_finished_order_waits_on_nobody),
    ), hidden_count=1, hidden_points=1),
    Task("no_stuck_orders", EXERCISE, "no order waits forever for inventory", (
        Check("answers OutOfStock for an item it does not keep, and still reserves the rest", 1,
              refuses_an_item_it_does_not_keep),
        Check("every order finishes over 30 seeded fault schedules", 1,
              every_order_finishes_under_the_chaos_explorer),
    ), hidden_count=1, hidden_points=1),
)

