"""Exercise 8's other answers: known-wrong fixes and choices of letters, and correct ones
written differently."""

from __future__ import annotations

from .variants import Variant

FIXED = '''
def make_fixed_shipping_service() -> Service:
    shipping = Service("shipping", {{"unshippable": list(UNSHIPPABLE), "shipments": {{}},
                                    "failed": {{}}}})

    @shipping.handles(InventoryReserved, publishes=(ShipmentScheduled, ShipmentFailed))
    def schedule_shipment(event, ctx):
        state = ctx.state
        if event.order_id in state["shipments"] or event.order_id in state["failed"]:
            return []
        if event.address in state["unshippable"]:
            state["failed"][event.order_id] = "unshippable"
            return [ShipmentFailed(order_id=event.order_id, item=event.item,
                                   quantity=event.quantity, reason="unshippable")]
{body}
        tracking = f"trk-{{event.order_id}}"
        state["shipments"][event.order_id] = {{"tracking": tracking,
                                              "label": courier_label(event.address)}}
        return [ShipmentScheduled(order_id=event.order_id, tracking=tracking)]

    return shipping
'''
CHOOSE = '''
def letters_to_redrive(letters):
{body}
'''
FIX_1 = "answers a PO box with ShipmentFailed, so the order is compensated"
FIX_2 = "answers a repeated PO-box order once"
FIX_HIDDEN = "answers PO boxes written in any case, among other orders"
REDRIVE_1 = "re-drives shipping's letters once the fix is deployed: every order ends"
REDRIVE_2 = "leaves a letter whose cause nobody fixed in the dead letters"
REDRIVE_3 = "asked again, re-drives nothing twice"
REDRIVE_HIDDEN = "re-drives only what the fix fixed, among more letters"

SWALLOWS = Variant("answers a PO box with nothing", "ex08-redrive", {
    "fixed_service": FIXED.format(body='''        if event.address.lower().startswith("po box"):
            return []''')},
    {FIX_1: "should have ended compensated", FIX_2: "should have ended compensated",
     FIX_HIDDEN: "should have ended compensated", REDRIVE_1: "should have ended compensated",
     REDRIVE_2: "should have ended compensated", REDRIVE_3: "should have ended compensated",
     REDRIVE_HIDDEN: "should have ended compensated"})

SHIPS_ANYWAY = Variant("ships to a PO box anyway", "ex08-redrive", {
    "fixed_service": FIXED.format(body='''        if event.address.lower().startswith("po box"):
            state["shipments"][event.order_id] = {"tracking": "trk-post", "label": "by post"}
            return [ShipmentScheduled(order_id=event.order_id, tracking="trk-post")]''')},
    {FIX_1: "scheduled a shipment", FIX_2: "scheduled a shipment",
     FIX_HIDDEN: "scheduled a shipment", REDRIVE_1: "scheduled a shipment",
     REDRIVE_2: "scheduled a shipment", REDRIVE_3: "scheduled a shipment",
     REDRIVE_HIDDEN: "scheduled a shipment"})

CASE_SENSITIVE = Variant("recognises only 'PO Box' written just so", "ex08-redrive", {
    "fixed_service": FIXED.format(body='''        if event.address.startswith("PO Box"):
            state["failed"][event.order_id] = "PO box"
            return [ShipmentFailed(order_id=event.order_id, item=event.item,
                                   quantity=event.quantity, reason="PO box")]''')},
    {FIX_1: "courier cannot parse", FIX_HIDDEN: "courier cannot parse",
     REDRIVE_1: "still waits in the dead letters", REDRIVE_3: "still waits in the dead letters",
     REDRIVE_HIDDEN: "still wait in the dead letters"})

REDRIVES_EVERYTHING = Variant("re-drives every dead letter", "ex08-redrive", {
    "choose_letters": CHOOSE.format(body="    return [letter['message_id'] for letter in letters]")},
    {REDRIVE_2: "re-drive only the letters whose cause you fixed",
     REDRIVE_HIDDEN: "re-drive only shipping's letters"})

REDRIVES_NOTHING = Variant("re-drives nothing", "ex08-redrive", {
    "choose_letters": CHOOSE.format(body="    return []")},
    {REDRIVE_1: "still wait in the dead letters", REDRIVE_2: "still waits in the dead letters",
     REDRIVE_3: "still wait in the dead letters", REDRIVE_HIDDEN: "still wait in the dead letters"})

ASKS_TWICE = Variant("asks to re-drive each letter twice", "ex08-redrive", {
    "choose_letters": CHOOSE.format(body='''    ids = [letter["message_id"] for letter in letters if letter["group"] == "shipping"]
    return ids + ids''')},
    {REDRIVE_1: "re-driven once", REDRIVE_2: "re-driven once", REDRIVE_3: "re-driven once",
     REDRIVE_HIDDEN: "re-driven once"})

#: A hostile answer: re-drives nothing, and rebinds the locked version 1 to the learner's version 2 so
#: the scenario never dead-letters. The checks build version 1 from the course's own copy of the
#: given cell: it scores what re-driving nothing scores.
SWAPS_VERSION_1 = Variant("re-drives nothing, and rebinds version 1 to version 2", "ex08-redrive", {
    "choose_letters": CHOOSE.format(body="    return []") + '''
# "version 1" is now version 2: nothing is ever dead-lettered by shipping
make_shipping_service = make_fixed_shipping_service
'''},
    {REDRIVE_1: "still wait in the dead letters", REDRIVE_2: "still waits in the dead letters",
     REDRIVE_3: "still wait in the dead letters", REDRIVE_HIDDEN: "still wait in the dead letters"})

#: A hostile answer: every one of shipping's letters, whatever it died of - a crash the fix does not fix
#: included.
REDRIVES_SHIPPINGS_WHATEVER_THE_REASON = Variant(
    "re-drives every letter of shipping's, whatever it died of", "ex08-redrive", {
    "choose_letters": CHOOSE.format(
        body="    return [letter['message_id'] for letter in letters "
             "if letter['group'] == 'shipping']")},
    {REDRIVE_2: "not of the courier's parse error",
     REDRIVE_HIDDEN: "not of the courier's parse error"})

CHOOSES_BY_EVENT = Variant("correct letters chosen by group and event type", "ex08-redrive", {
    "choose_letters": CHOOSE.format(body='''    chosen = []
    for letter in letters:
        if letter["group"] == "shipping" and letter["event_type"] == "InventoryReserved":
            if "parse" in letter["reason"] and letter["message_id"] not in chosen:
                chosen.append(letter["message_id"])
    return chosen'''),
    "fixed_service": FIXED.format(body='''        if event.address.strip().lower().startswith("po box"):
            state["failed"][event.order_id] = "the courier does not deliver to a PO box"
            return [ShipmentFailed(order_id=event.order_id, item=event.item,
                                   quantity=event.quantity,
                                   reason="the courier does not deliver to a PO box")]''')})

#: "a redelivery is a repeat": version 2 skips every redelivery by its attempt number and records
#: no failed shipment, so a PO-box order whose first delivery was lost (or crashed before the
#: commit) is never answered. It deserves what the same code without the attempt test scores:
#: only the check of a repeated PO-box order fails.
TRUSTS_THE_ATTEMPT_COUNT = Variant(
    "version 2 trusts the attempt count: skips every redelivery", "ex08-redrive", {
    "fixed_service": '''
def make_fixed_shipping_service() -> Service:
    shipping = Service("shipping", {"unshippable": list(UNSHIPPABLE), "shipments": {},
                                    "failed": {}})

    @shipping.handles(InventoryReserved, publishes=(ShipmentScheduled, ShipmentFailed))
    def schedule_shipment(event, ctx):
        if ctx.attempt > 1:
            return []  # "a redelivery is a repeat"
        if event.address in ctx.state["unshippable"] or event.address.lower().startswith("po box"):
            return [ShipmentFailed(order_id=event.order_id, item=event.item,
                                   quantity=event.quantity, reason="cannot ship there")]
        tracking = f"trk-{event.order_id}"
        ctx.state["shipments"][event.order_id] = {"tracking": tracking,
                                                  "label": courier_label(event.address)}
        return [ShipmentScheduled(order_id=event.order_id, tracking=tracking)]

    return shipping
'''},
    {FIX_2: "not by ctx.attempt"})

#: remembers what it answered in a set of the factory's, not in ctx.state: a repeat is skipped,
#: a lost delivery is answered on its redelivery, but a crash before the commit keeps the set's
#: entry (the process's memory) and takes back the answer, so the redelivery answers nothing.
REMEMBERS_OUTSIDE_THE_STATE = Variant(
    "version 2 remembers its answers outside ctx.state", "ex08-redrive", {
    "fixed_service": '''
def make_fixed_shipping_service() -> Service:
    shipping = Service("shipping", {"unshippable": list(UNSHIPPABLE), "shipments": {},
                                    "failed": {}})
    answered = set()

    @shipping.handles(InventoryReserved, publishes=(ShipmentScheduled, ShipmentFailed))
    def schedule_shipment(event, ctx):
        if event.order_id in answered:
            return []
        answered.add(event.order_id)
        if event.address in ctx.state["unshippable"] or event.address.lower().startswith("po box"):
            return [ShipmentFailed(order_id=event.order_id, item=event.item,
                                   quantity=event.quantity, reason="cannot ship there")]
        tracking = f"trk-{event.order_id}"
        ctx.state["shipments"][event.order_id] = {"tracking": tracking,
                                                  "label": courier_label(event.address)}
        return [ShipmentScheduled(order_id=event.order_id, tracking=tracking)]

    return shipping
'''},
    {FIX_2: "crashed before its commit"})

FIX_OLD = "ships every other address as version 1 did"

#: keeps only half of version 1's first test (an order already refused), so a shipped order
#: delivered again is shipped again: it handles the new case and breaks an old one.
FORGETS_SHIPPED_REPEATS = Variant(
    "version 2 skips a repeat only of a refused order", "ex08-redrive", {
    "fixed_service": FIXED.replace(
        'if event.order_id in state["shipments"] or event.order_id in state["failed"]',
        'if event.order_id in state["failed"]').format(
        body='''        if event.address.lower().startswith("po box"):
            state["failed"][event.order_id] = "the courier does not deliver to a PO box"
            return [ShipmentFailed(order_id=event.order_id, item=event.item,
                                   quantity=event.quantity,
                                   reason="the courier does not deliver to a PO box")]''')},
    {FIX_OLD: "version 1 answers a repeat once"})

#: the ids as a set ("each once" by construction), and version 2 catching the courier's error
#: where version 1 let it escape: both are right.
CHOOSES_A_SET_AND_CATCHES_THE_PARSE_ERROR = Variant(
    "correct: a set of ids, and version 2 catches the courier's error", "ex08-redrive", {
    "choose_letters": CHOOSE.format(
        body="    return {letter['message_id'] for letter in letters\n"
             "            if letter['group'] == 'shipping'\n"
             "            and 'cannot parse' in letter['reason']}"),
    "fixed_service": FIXED.replace('''        tracking = f"trk-{{event.order_id}}"
        state["shipments"][event.order_id] = {{"tracking": tracking,
                                              "label": courier_label(event.address)}}''',
                                   '''        try:
            label = courier_label(event.address)
        except ValueError:
            reason = "the courier does not deliver to a PO box"
            state["failed"][event.order_id] = reason
            return [ShipmentFailed(order_id=event.order_id, item=event.item,
                                   quantity=event.quantity, reason=reason)]
        tracking = f"trk-{{event.order_id}}"
        state["shipments"][event.order_id] = {{"tracking": tracking, "label": label}}''').format(
        body="")})

CHOOSES_A_TUPLE = Variant("correct: the ids as a tuple", "ex08-redrive", {
    "choose_letters": CHOOSE.format(
        body="    return tuple(letter['message_id'] for letter in letters\n"
             "                 if letter['group'] == 'shipping' and 'parse' in letter['reason'])")})

#: remembers across calls the ids it re-drove, and skips them: a message id is unique within one
#: run only, so in the next run the letters that reuse those ids are left in the dead letters.
REMEMBERS_EARLIER_CALLS = Variant("remembers the ids of earlier calls", "ex08-redrive", {
    "choose_letters": CHOOSE.format(body='''    global REDRIVEN
    try:
        REDRIVEN
    except NameError:
        REDRIVEN = set()
    ids = [letter["message_id"] for letter in letters if letter["group"] == "shipping"
           and "parse" in letter["reason"] and letter["message_id"] not in REDRIVEN]
    REDRIVEN.update(ids)
    return ids''')},
    {REDRIVE_3: "still wait in the dead letters"})

#: keeps its PO-box answers under a key of its own: right on a fresh service, but a deploy keeps
#: version 1's state, which has no such key, so every re-driven letter fails again after the
#: deploy. The choice of letters is right; the feedback must say it is version 2 that failed.
ADDS_A_STATE_KEY = Variant("version 2 adds a key version 1's state lacks", "ex08-redrive", {
    "fixed_service": FIXED.replace('"failed": {{}}}})',
                                   '"failed": {{}}, "po_boxes": {{}}}})').format(
        body='''        if event.order_id in state["po_boxes"]:
            return []
        if event.address.lower().startswith("po box"):
            state["po_boxes"][event.order_id] = "the courier does not deliver to a PO box"
            return [ShipmentFailed(order_id=event.order_id, item=event.item,
                                   quantity=event.quantity,
                                   reason="the courier does not deliver to a PO box")]''')},
    {REDRIVE_1: "a deploy keeps the running service's state",
     REDRIVE_2: "failed on it again (KeyError: 'po_boxes')",
     REDRIVE_3: "a deploy keeps the running service's state",
     REDRIVE_HIDDEN: "a deploy keeps the running service's state"})

#: answers a PO box with a ShipmentFailed that says one item, whatever the order was: the saga
#: still compensates (inventory releases what it reserved), but the answer misdescribes the order.
SAYS_ONE_ITEM = Variant("version 2's ShipmentFailed says quantity 1", "ex08-redrive", {
    "fixed_service": FIXED.format(body='''        if event.address.lower().startswith("po box"):
            state["failed"][event.order_id] = "the courier does not deliver to a PO box"
            return [ShipmentFailed(order_id=event.order_id, item=event.item, quantity=1,
                                   reason="the courier does not deliver to a PO box")]''')},
    {FIX_HIDDEN: "copy item and quantity", REDRIVE_HIDDEN: "your ShipmentFailed said 1 kettle"})

WRONG_EX08 = (SWALLOWS, SHIPS_ANYWAY, CASE_SENSITIVE, REDRIVES_EVERYTHING, REDRIVES_NOTHING,
              ASKS_TWICE, TRUSTS_THE_ATTEMPT_COUNT, REMEMBERS_OUTSIDE_THE_STATE, SWAPS_VERSION_1,
              REDRIVES_SHIPPINGS_WHATEVER_THE_REASON, FORGETS_SHIPPED_REPEATS,
              REMEMBERS_EARLIER_CALLS, ADDS_A_STATE_KEY, SAYS_ONE_ITEM)
CORRECT_EX08 = (CHOOSES_BY_EVENT, CHOOSES_A_SET_AND_CATCHES_THE_PARSE_ERROR, CHOOSES_A_TUPLE)
