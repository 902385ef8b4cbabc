"""Other answers to exercise 7 (the stuck order): known-wrong ones, and correct ones written
differently from the reference. See `variants` for what the fields mean."""

from __future__ import annotations

from .variants import Variant

BLAMES_THE_LAST_PRODUCER = Variant(
    "blames the service that published the order's last event", "ex07-stuck-order", {
        "diagnose": '''
def diagnose(case):
    if case["status"] in (COMPLETED, COMPENSATED):
        return None, case["status"]
    last = case["messages"][-1]["producer"]
    if case["dead_letters"]:
        return last, DEAD_LETTER
    status = case["services"].get(last, {}).get("status")
    return last, status if status in (DOWN, PAUSED) else ACK
'''}, {"names a service that is down or paused with the order's message":
       "find the services that subscribe to its event type and have not acked it",
       "names the service that dead-lettered the order's message":
       "whoever handled the order last",
       "tells an order a service swallowed from an event nobody takes":
       "published nothing caused by it",
       "diagnoses stuck orders in other shops, at other services": "this shop keeps its answer"})

IGNORES_DEAD_LETTERS = Variant("never looks at the dead letters", "ex07-stuck-order", {
    "diagnose": '''
def diagnose(case):
    if case["status"] in (COMPLETED, COMPENSATED):
        return None, case["status"]
    acked = {(r["message_id"], r["service"]) for r in case["trace"] if r["kind"] == ACK}
    for message in case["messages"]:
        for name, service in case["services"].items():
            if (message["event_type"] in service["handles"]
                    and (message["message_id"], name) not in acked
                    and service["status"] in (DOWN, PAUSED)):
                return name, service["status"]
    answered = {message["causation_id"] for message in case["messages"]}
    for message in case["messages"]:
        for name, service in case["services"].items():
            if (name != "order" and message["event_type"] in service["handles"]
                    and message["message_id"] not in answered):
                return name, ACK
    return None, NO_SUBSCRIBER
'''}, {"names the service that dead-lettered the order's message":
       "look at case['dead_letters'] first",
       "diagnoses stuck orders in other shops, at other services":
       "look at case['dead_letters'] first"})

FIXED_WITH_A_SUCCESS = Variant("answers a success for an item it does not keep",
                               "ex07-stuck-order", {"inventory_service": '''
def make_inventory_service(stock):
    inventory = Service("inventory", {"stock": dict(stock), "received": dict(stock),
                                      "reservations": {}, "released": {}, "out_of_stock": {},
                                      "ledger": {}})

    @inventory.handles(PaymentCompleted, publishes=(InventoryReserved, OutOfStock))
    def reserve_stock(event, ctx):
        state = ctx.state
        if event.order_id in state["reservations"] or event.order_id in state["out_of_stock"]:
            return []
        if event.item in state["stock"] and state["stock"][event.item] < event.quantity:
            state["out_of_stock"][event.order_id] = event.item
            return [OutOfStock(order_id=event.order_id, item=event.item, quantity=event.quantity)]
        if event.item in state["stock"]:
            state["stock"][event.item] -= event.quantity
            state["reservations"][event.order_id] = {"item": event.item, "quantity": event.quantity}
            state["ledger"].setdefault(event.order_id, []).append(
                {"kind": "reserve", "item": event.item, "quantity": event.quantity, "at": ctx.now})
        return [InventoryReserved(order_id=event.order_id, item=event.item,
                                  quantity=event.quantity, address=event.address)]

    return inventory
'''}, {"answers OutOfStock for an item it does not keep, and still reserves the rest":
       "published InventoryReserved: the saga ships what nobody has",
       "every order finishes over 30 seeded fault schedules": "finished orders are settled",
       "refuses other unknown items, and every order finishes over 60 more fault schedules":
       "answer OutOfStock, a failure"})

DIAGNOSE_DIFFERENTLY = Variant("a correct diagnosis and fix written differently",
                               "ex07-stuck-order", {"diagnose": '''
def diagnose(case):
    """Read the trace: dead letters first, then who holds a message, then who swallowed one."""
    if case["status"] in ("completed", "compensated"):
        return (None, case["status"])
    gave_up = [r for r in case["trace"] if r["kind"] == "dead-letter"]
    if gave_up:
        return (gave_up[-1]["service"], "dead-letter")
    takers = {}
    for name, service in case["services"].items():
        for event_type in service["handles"]:
            takers.setdefault(event_type, []).append(name)
    acks = [(r["message_id"], r["service"]) for r in case["trace"] if r["kind"] == "ack"]
    causes = [m["causation_id"] for m in case["messages"]]
    for message in case["messages"]:
        for name in takers.get(message["event_type"], []):
            if (message["message_id"], name) not in acks:
                if case["services"][name]["status"] != "up":
                    return (name, case["services"][name]["status"])
    for message in reversed(case["messages"]):
        others = [n for n in takers.get(message["event_type"], []) if n != "order"]
        if others and message["message_id"] not in causes:
            return (others[0], "ack")
    return (None, "no-subscriber")
''', "inventory_service": '''
def make_inventory_service(stock):
    inventory = Service("inventory", {"stock": dict(stock), "received": dict(stock),
                                      "reservations": {}, "released": {}, "out_of_stock": {},
                                      "ledger": {}})

    @inventory.handles(PaymentCompleted, publishes=(InventoryReserved, OutOfStock))
    def reserve_stock(event, ctx):
        state = ctx.state
        if event.order_id in state["reservations"]:
            return []
        if event.order_id in state["out_of_stock"]:
            return []
        available = state["stock"][event.item] if event.item in state["stock"] else 0
        if available < event.quantity:
            state["out_of_stock"][event.order_id] = event.item
            return [OutOfStock(order_id=event.order_id, item=event.item, quantity=event.quantity)]
        state["stock"][event.item] = available - event.quantity
        state["reservations"][event.order_id] = {"item": event.item, "quantity": event.quantity}
        state["ledger"].setdefault(event.order_id, []).append(
            {"kind": "reserve", "item": event.item, "quantity": event.quantity, "at": ctx.now})
        return [InventoryReserved(order_id=event.order_id, item=event.item,
                                  quantity=event.quantity, address=event.address)]

    @inventory.handles(ShipmentFailed, publishes=(InventoryReleased,))
    def release_stock(event, ctx):
        state = ctx.state
        reservation = state["reservations"].get(event.order_id)
        if reservation is None or event.order_id in state["released"]:
            return []
        state["stock"][reservation["item"]] += reservation["quantity"]
        state["released"][event.order_id] = dict(reservation)
        state["ledger"].setdefault(event.order_id, []).append(
            {"kind": "release", "item": reservation["item"], "quantity": reservation["quantity"],
             "at": ctx.now})
        return [InventoryReleased(order_id=event.order_id, item=reservation["item"],
                                  quantity=reservation["quantity"])]

    return inventory
'''})

# Takes stock again on every repeated PaymentCompleted, and keeps no `received` and no
# `ledger`, which is what the stock and reservation invariants read: they must not pass
# for want of something to read (the same inventory keeping its books scores the same).
NONIDEM_DROPS_THE_BOOKS = Variant(
    "reserves again on a repeat, and keeps no goods-in record or ledger", "ex07-stuck-order",
    {"inventory_service": '''
def make_inventory_service(stock):
    inventory = Service("inventory", {"stock": dict(stock), "reservations": {}, "released": {},
                                      "out_of_stock": {}})

    @inventory.handles(PaymentCompleted, publishes=(InventoryReserved, OutOfStock))
    def reserve_stock(event, ctx):
        state = ctx.state
        if state["stock"].get(event.item, 0) < event.quantity:
            state["out_of_stock"][event.order_id] = event.item
            return [OutOfStock(order_id=event.order_id, item=event.item, quantity=event.quantity)]
        state["stock"][event.item] -= event.quantity   # again on every repeat
        state["reservations"][event.order_id] = {"item": event.item, "quantity": event.quantity}
        return [InventoryReserved(order_id=event.order_id, item=event.item,
                                  quantity=event.quantity, address=event.address)]

    @inventory.handles(ShipmentFailed, publishes=(InventoryReleased,))
    def release_stock(event, ctx):
        state = ctx.state
        reservation = state["reservations"].get(event.order_id)
        if reservation is None or event.order_id in state["released"]:
            return []
        state["stock"][reservation["item"]] += reservation["quantity"]
        state["released"][event.order_id] = dict(reservation)
        return [InventoryReleased(order_id=event.order_id, item=reservation["item"],
                                  quantity=reservation["quantity"])]

    return inventory
'''}, {"every order finishes over 30 seeded fault schedules": "keep every key",
         "refuses other unknown items, and every order finishes over 60 more fault schedules":
         "keep every key"})

# No diagnosis at all: the answers of the public checks' shops, looked up by what their
# case files hold (the shops ship with the package; this table was built from them).
LOOKUP_TABLE = Variant("looks the public shops' answers up in a table", "ex07-stuck-order", {
    "diagnose": '''
_ANSWERS = {('o-1', 'completed', (('inventory', 'down', 1), ('order', 'up', 0), ('payment', 'up', 0), ('shipping', 'up', 0)), (), 5): (None, 'completed'), ('o-2', 'running', (('inventory', 'down', 1), ('order', 'up', 0), ('payment', 'up', 0), ('shipping', 'up', 0)), (), 3): ('inventory', 'down'), ('o-7', 'completed', (('inventory', 'up', 0), ('order', 'up', 0), ('payment', 'up', 0), ('shipping', 'paused', 1)), (), 5): (None, 'completed'), ('o-8', 'running', (('inventory', 'up', 0), ('order', 'up', 0), ('payment', 'up', 0), ('shipping', 'paused', 1)), (), 4): ('shipping', 'paused'), ('o-4', 'stuck', (('inventory', 'up', 0), ('order', 'up', 0), ('payment', 'down', 1), ('shipping', 'up', 0)), (), 4): ('shipping', 'ack'), ('o-5', 'running', (('inventory', 'up', 0), ('order', 'up', 0), ('payment', 'down', 1), ('shipping', 'up', 0)), (), 2): ('payment', 'down'), ('o-9', 'completed', (('inventory', 'up', 0), ('order', 'up', 0), ('payment', 'down', 0), ('shipping', 'paused', 1)), (), 5): (None, 'completed'), ('o-10', 'running', (('inventory', 'up', 0), ('order', 'up', 0), ('payment', 'down', 0), ('shipping', 'paused', 1)), (), 4): ('shipping', 'paused'), ('o-1', 'completed', (('inventory', 'up', 0), ('order', 'up', 0), ('payment', 'up', 0), ('shipping', 'up', 0)), (), 5): (None, 'completed'), ('o-2', 'stuck', (('inventory', 'up', 0), ('order', 'up', 0), ('payment', 'up', 0), ('shipping', 'up', 0)), ('shipping',), 4): ('shipping', 'dead-letter'), ('o-11', 'completed', (('inventory', 'up', 0), ('order', 'paused', 2), ('payment', 'up', 0), ('shipping', 'up', 0)), (), 5): (None, 'completed'), ('o-12', 'running', (('inventory', 'up', 0), ('order', 'paused', 2), ('payment', 'up', 0), ('shipping', 'up', 0)), ('shipping',), 4): ('shipping', 'dead-letter'), ('o-2', 'stuck', (('inventory', 'up', 0), ('order', 'up', 0), ('payment', 'up', 0), ('shipping', 'up', 0)), (), 3): ('inventory', 'ack'), ('o-3', 'stuck', (('inventory', 'up', 0), ('order', 'up', 0), ('payment', 'up', 0)), (), 4): (None, 'no-subscriber'), ('o-1', 'completed', (('inventory', 'up', 0), ('order', 'up', 0), ('payment', 'up', 0), ('shipping', 'down', 0)), (), 5): (None, 'completed'), ('o-2', 'compensated', (('inventory', 'up', 0), ('order', 'up', 0), ('payment', 'up', 0), ('shipping', 'down', 0)), (), 4): (None, 'compensated'), ('o-3', 'compensated', (('inventory', 'up', 0), ('order', 'up', 0), ('payment', 'up', 0), ('shipping', 'down', 0)), (), 6): (None, 'compensated')}


def diagnose(case):
    key = (case["order_id"], case["status"],
           tuple(sorted((n, s["status"], s["backlog"]) for n, s in case["services"].items())),
           tuple(l["group"] for l in case["dead_letters"]), len(case["messages"]))
    return _ANSWERS.get(key, (None, COMPLETED))
'''}, {"names a service that is down or paused with the order's message": "waits on",
        "names the service that dead-lettered the order's message": "waits on",
        "tells an order a service swallowed from an event nobody takes": "waits on",
        "says a finished order waits on nobody": "waits on",
        "diagnoses stuck orders in other shops, at other services": "waits on"})

# The same, keyed by the shape of the case (no order ids), the table built at run time
# from the shops the package holds: renaming the orders alone would not catch it.
LOOKUP_BY_SHAPE = Variant("looks the answers up by the shape of the public shops' cases",
                          "ex07-stuck-order", {"diagnose": '''
from choreo_lab.grading import ex07_stuck_order as _grader
from choreo_lab.grading.kit import case_file as _case_file


def _shape(case):
    return (case["status"], len(case["messages"]),
            tuple(sorted((n, s["status"], s["backlog"], tuple(sorted(s["handles"])))
                         for n, s in case["services"].items())),
            tuple(l["group"] for l in case["dead_letters"]))


_BY_SHAPE = {}
for _shops in (_grader.PUBLIC_DOWN, _grader.PUBLIC_DEAD, _grader.PUBLIC_SILENT,
               _grader.PUBLIC_FINISHED):
    for _shop in _shops:
        _sim = _shop.run(1)
        for _order_id, _answer in _shop.expected.items():
            _BY_SHAPE[_shape(_case_file(_sim, _order_id))] = _answer


def diagnose(case):
    return _BY_SHAPE.get(_shape(case), (None, case["status"] if case["status"] in
                                        (COMPLETED, COMPENSATED) else NO_SUBSCRIBER))
'''}, {"names a service that is down or paused with the order's message": "waits on",
        "names the service that dead-lettered the order's message": "waits on",
        "tells an order a service swallowed from an event nobody takes": "waits on",
        "diagnoses stuck orders in other shops, at other services": "waits on"})


# Each blames a service that is down or paused but does not hold the order's message: it
# dropped the "has not acked it" test, or the "subscribes to it" test.
BLAMES_DOWN_OR_PAUSED = '''
def diagnose(case: dict) -> tuple[str | None, str]:
    """Who the order waits on, and why: (service or None, one of the vocabulary's words)."""
    if case["status"] in (COMPLETED, COMPENSATED):
        return None, case["status"]
    if case["dead_letters"]:
        return case["dead_letters"][0]["group"], DEAD_LETTER
    acked = {{(r["message_id"], r["service"]) for r in case["trace"] if r["kind"] == ACK}}
    for message in case["messages"]:
        for name, service in case["services"].items():
            subscribed = message["event_type"] in service["handles"]
            if {holds} and service["status"] in (DOWN, PAUSED):
                return name, service["status"]
    answered = {{message["causation_id"] for message in case["messages"]}}
    for message in case["messages"]:
        for name, service in case["services"].items():
            if name != "order" and message["event_type"] in service["handles"] \\
                    and message["message_id"] not in answered:
                return name, ACK  # handled, acked, and nothing came of it
    return None, NO_SUBSCRIBER
'''
BLAMED = {"names a service that is down or paused with the order's message":
          "holds an order up only if it subscribes to one of the order's messages"}

NO_ACKED_FILTER = Variant(
    "blames a down or paused service that already acked the order's message",
    "ex07-stuck-order", {"diagnose": BLAMES_DOWN_OR_PAUSED.format(holds="subscribed")}, BLAMED)

NO_SUBSCRIBED_FILTER = Variant(
    "blames a down or paused service that does not subscribe to the order's message",
    "ex07-stuck-order",
    {"diagnose": BLAMES_DOWN_OR_PAUSED.format(holds='(message["message_id"], name) not in acked')},
    BLAMED)

# Looks at the dead letters only after the services that are down or paused: the order
# service, paused, still holds a message of an order another service gave up on.
DEAD_LETTERS_AFTER_DOWN = Variant(
    "looks at the dead letters only after the services that are down or paused",
    "ex07-stuck-order", {"diagnose": '''
def diagnose(case: dict) -> tuple[str | None, str]:
    """Who the order waits on, and why: (service or None, one of the vocabulary's words)."""
    if case["status"] in (COMPLETED, COMPENSATED):
        return None, case["status"]
    acked = {(r["message_id"], r["service"]) for r in case["trace"] if r["kind"] == ACK}
    for message in case["messages"]:
        for name, service in case["services"].items():
            subscribed = message["event_type"] in service["handles"]
            if subscribed and (message["message_id"], name) not in acked \
                    and service["status"] in (DOWN, PAUSED):
                return name, service["status"]
    if case["dead_letters"]:
        return case["dead_letters"][0]["group"], DEAD_LETTER
    answered = {message["causation_id"] for message in case["messages"]}
    for message in case["messages"]:
        for name, service in case["services"].items():
            if name != "order" and message["event_type"] in service["handles"] \
                    and message["message_id"] not in answered:
                return name, ACK  # handled, acked, and nothing came of it
    return None, NO_SUBSCRIBER
'''}, {"names the service that dead-lettered the order's message":
         "look at case['dead_letters'] first"})

# Remembers the orders it reserved, not the ones it refused: a refusal delivered again after
# stock came back (another order's shipment failed and was released) reserves and ships an
# order the saga has cancelled and refunded.
DEDUPS_RESERVATIONS_ONLY = Variant(
    "remembers reservations but not refusals, so a repeated refusal reserves later",
    "ex07-stuck-order", {"inventory_service": '''
def make_inventory_service(stock: dict[str, int]) -> Service:
    """Inventory, fixed: an item it does not keep is out of stock, and says so."""
    inventory = Service("inventory", {"stock": dict(stock), "received": dict(stock),
                                      "reservations": {}, "released": {}, "out_of_stock": {},
                                      "ledger": {}})

    @inventory.handles(PaymentCompleted, publishes=(InventoryReserved, OutOfStock))
    def reserve_stock(event: PaymentCompleted, ctx: Context) -> list[Event]:
        state = ctx.state
        if event.order_id in state["reservations"]:
            return []  # decided already
        if state["stock"].get(event.item, 0) < event.quantity:
            state["out_of_stock"][event.order_id] = event.item
            return [OutOfStock(order_id=event.order_id, item=event.item, quantity=event.quantity)]
        state["stock"][event.item] -= event.quantity
        state["reservations"][event.order_id] = {"item": event.item, "quantity": event.quantity}
        state["ledger"].setdefault(event.order_id, []).append(
            {"kind": "reserve", "item": event.item, "quantity": event.quantity, "at": ctx.now})
        return [InventoryReserved(order_id=event.order_id, item=event.item,
                                  quantity=event.quantity, address=event.address)]

    @inventory.handles(ShipmentFailed, publishes=(InventoryReleased,))
    def release_stock(event: ShipmentFailed, ctx: Context) -> list[Event]:
        state = ctx.state
        reservation = state["reservations"].get(event.order_id)
        if reservation is None or event.order_id in state["released"]:
            return []
        state["stock"][reservation["item"]] += reservation["quantity"]
        state["released"][event.order_id] = dict(reservation)
        state["ledger"].setdefault(event.order_id, []).append(
            {"kind": "release", "item": reservation["item"],
             "quantity": reservation["quantity"], "at": ctx.now})
        return [InventoryReleased(order_id=event.order_id, item=reservation["item"],
                                  quantity=reservation["quantity"])]

    return inventory
'''}, {"every order finishes over 30 seeded fault schedules":
         "an order is decided once, refused or reserved",
         "refuses other unknown items, and every order finishes over 60 more fault schedules":
         "an order is decided once, refused or reserved"})

WRONG_EX07 = (BLAMES_THE_LAST_PRODUCER, IGNORES_DEAD_LETTERS, FIXED_WITH_A_SUCCESS,
              NONIDEM_DROPS_THE_BOOKS, LOOKUP_TABLE, LOOKUP_BY_SHAPE, NO_ACKED_FILTER,
              NO_SUBSCRIBED_FILTER, DEAD_LETTERS_AFTER_DOWN, DEDUPS_RESERVATIONS_ONLY)
CORRECT_EX07 = (DIAGNOSE_DIFFERENTLY,)
