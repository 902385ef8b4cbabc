"""Other answers to exercise 6 (the fraud check in both designs): known-wrong ones, and a
correct one written differently."""

from __future__ import annotations

from .variants import Variant

EXERCISE = "ex06-orchestration"

CHARGE_BODY = '''
        state = ctx.state
        if event.order_id in state["charges"] or event.order_id in state["declined"]:
            return []
        if event.customer in state["declined_customers"]:
            state["declined"][event.order_id] = event.customer
            return [PaymentDeclined(order_id=event.order_id, reason="card declined")]
        state["charges"][event.order_id] = event.amount
        state["ledger"].setdefault(event.order_id, []).append(
            {"kind": "charge", "amount": event.amount, "at": ctx.now})
        return [PaymentCompleted(order_id=event.order_id, item=event.item,
                                 quantity=event.quantity, amount=event.amount,
                                 address=event.address)]
'''
CANCEL = '''
    @order.handles(FraudSuspected, publishes=(OrderCancelled,))
    def cancel_suspected_order(event, ctx):
        record = ctx.state["orders"].get(event.order_id)
        if record is None or "fraud_suspected" in record["facts"]:
            return []
        record["facts"].append("fraud_suspected")
        record["status"] = "cancelled"
        return [OrderCancelled(order_id=event.order_id, reason="fraud suspected")]
'''

PAYS_BEFORE_THE_VERDICT = Variant("pays before the fraud check answers", EXERCISE, {
    "fraud_check": '''
def add_fraud_check(payment, order):
    @payment.handles(OrderPlaced, publishes=(PaymentCompleted, PaymentDeclined))
    def charge_card(event, ctx):''' + CHARGE_BODY + CANCEL}, {
    "lets honest orders through: payment charges after FraudCleared":
        "the money moved before the fraud check answered",
    "stops a suspect before payment, and the order service cancels it":
        "register payment's charge step on FraudCleared",
    "decides once per order when OrderPlaced comes again": "the money moved before",
    "fraud service and payment: stop every suspect on another watch list, and only them":
        "the money moved before",
    "keeps every invariant in both designs over 25 seeded fault schedules each":
        "no payment for a suspect",
    "keeps every invariant in both designs over 40 more schedules each":
        "no payment for a suspect"})

ORDER_NEVER_LEARNS = Variant("the order service never learns of the fraud", EXERCISE, {
    "fraud_check": '''
def add_fraud_check(payment, order):
    @payment.handles(FraudCleared, publishes=(PaymentCompleted, PaymentDeclined))
    def charge_card(event, ctx):''' + CHARGE_BODY}, {
    "stops a suspect before payment, and the order service cancels it":
        "the order service must learn of FraudSuspected",
    "decides once per order when OrderPlaced comes again": "it never ended",
    "fraud service and payment: stop every suspect on another watch list, and only them":
        "it never ended",
    "keeps every invariant in both designs over 25 seeded fault schedules each":
        "every workflow finishes",
    "keeps every invariant in both designs over 40 more schedules each":
        "every workflow finishes"})

ORCHESTRATOR = '''
def add_fraud_step(orchestrator):
    @orchestrator.handles(OrderRequested, publishes=(CheckFraud,))
    def start_order(event, ctx):
        if event.order_id in ctx.state["orders"]:
            return []
        ctx.state["orders"][event.order_id] = {{
            "customer": event.customer, "item": event.item, "quantity": event.quantity,
            "amount": PRICES.get(event.item, 0) * event.quantity, "address": event.address,
            "status": "placed", "facts": []}}
        return [CheckFraud(order_id=event.order_id, customer=event.customer)]

    @orchestrator.handles(FraudCheckPassed, publishes=(ChargePayment,))
    def charge_after_fraud_check(event, ctx):
        record = ctx.state["orders"][event.order_id]
        if "fraud_cleared" in record["facts"]:
            return []
        record["facts"].append("fraud_cleared")
        return [ChargePayment(order_id=event.order_id, customer=record["customer"],
                              amount=record["amount"])]
{suspected}'''

FORGETS_TO_CANCEL = Variant("the orchestrator forgets to cancel on fraud", EXERCISE, {
    "fraud_step": ORCHESTRATOR.format(suspected='''
    @orchestrator.handles(FraudSuspected)
    def note_fraud_suspected(event, ctx):
        ctx.state["orders"][event.order_id]["facts"].append("fraud_suspected")
''')}, {
    "stops a suspect before payment, and the orchestrator cancels it":
        "the orchestrator is the only one who knows the order must end",
    "decides once per order when CheckFraud comes again": "it never ended",
    "fraud participant and orchestrator: stop every suspect on another watch list, and only "
    "them": "it never ended",
    "keeps every invariant in both designs over 25 seeded fault schedules each":
        "every workflow finishes",
    "keeps every invariant in both designs over 40 more schedules each":
        "every workflow finishes"})

FRAUD_SERVICE_DECIDES_EVERY_TIME = Variant("the fraud service decides on every delivery",
                                           EXERCISE, {
    "fraud_service": '''
def make_fraud_service(suspects):
    fraud = Service("fraud", {"suspects": list(suspects), "checked": {}})

    @fraud.handles(OrderPlaced, publishes=(FraudCleared, FraudSuspected))
    def check_for_fraud(event, ctx):
        suspected = event.customer in ctx.state["suspects"]
        ctx.state["checked"][event.order_id] = suspected
        if suspected:
            return [FraudSuspected(order_id=event.order_id)]
        return [FraudCleared(**event.model_dump())]

    return fraud
'''}, {
    "decides once per order when OrderPlaced comes again":
        "remember it by order id in ctx.state and answer a repeated message with nothing",
    "fraud service and payment: stop every suspect on another watch list, and only them":
        "verdicts for",
    "keeps every invariant in both designs over 25 seeded fault schedules each":
        "one verdict per order",
    "keeps every invariant in both designs over 40 more schedules each":
        "one verdict per order"})

CHARGES_WHILE_CHECKING = Variant("the orchestrator charges while the fraud check runs", EXERCISE, {
    "fraud_step": '''
def add_fraud_step(orchestrator):
    @orchestrator.handles(OrderRequested, publishes=(CheckFraud, ChargePayment))
    def start_order(event, ctx):
        if event.order_id in ctx.state["orders"]:
            return []
        amount = PRICES.get(event.item, 0) * event.quantity
        ctx.state["orders"][event.order_id] = {
            "customer": event.customer, "item": event.item, "quantity": event.quantity,
            "amount": amount, "address": event.address, "status": "placed", "facts": []}
        return [CheckFraud(order_id=event.order_id, customer=event.customer),
                ChargePayment(order_id=event.order_id, customer=event.customer, amount=amount)]

    @orchestrator.handles(FraudCheckPassed)
    def note_fraud_check(event, ctx):
        return []

    @orchestrator.handles(FraudSuspected, publishes=(OrderCancelled,))
    def cancel_after_fraud_suspected(event, ctx):
        record = ctx.state["orders"][event.order_id]
        if "fraud_suspected" in record["facts"]:
            return []
        record["facts"].append("fraud_suspected")
        record["status"] = "cancelled"
        return [OrderCancelled(order_id=event.order_id, reason="fraud suspected")]
'''}, {
    "lets honest orders through: ChargePayment only after FraudCheckPassed":
        "only the reply FraudCheckPassed sends ChargePayment",
    "stops a suspect before payment, and the orchestrator cancels it":
        "the money moved before, or without, the fraud check's answer",
    "decides once per order when CheckFraud comes again": "the money moved before",
    "fraud participant and orchestrator: stop every suspect on another watch list, and only "
    "them": "the money moved before",
    "keeps every invariant in both designs over 25 seeded fault schedules each":
        "no payment for a suspect",
    "keeps every invariant in both designs over 40 more schedules each":
        "no payment for a suspect"})

FRAUD_CHECK_DIFFERENTLY = Variant("a correct fraud check written differently", EXERCISE, {
    "fraud_service": '''
def make_fraud_service(suspects):
    fraud = Service("fraud", {"suspects": sorted(suspects), "checked": {}, "log": []})

    @fraud.handles(OrderPlaced, publishes=(FraudCleared, FraudSuspected))
    def screen_order(event, ctx):
        state = ctx.state
        if event.order_id not in state["checked"]:
            state["checked"][event.order_id] = event.customer in set(state["suspects"])
            state["log"].append(event.order_id)
            verdict = (FraudSuspected(order_id=event.order_id) if state["checked"][event.order_id]
                       else FraudCleared(order_id=event.order_id, customer=event.customer,
                                         item=event.item, quantity=event.quantity,
                                         amount=event.amount, address=event.address))
            return verdict
        return None

    return fraud
''',
    "fraud_check": '''
def charge(state, event, now):
    if event.order_id in state["charges"] or event.order_id in state["declined"]:
        return None
    if event.customer in state["declined_customers"]:
        state["declined"][event.order_id] = event.customer
        return PaymentDeclined(order_id=event.order_id, reason="card declined")
    state["charges"][event.order_id] = event.amount
    state["ledger"].setdefault(event.order_id, []).append(
        {"kind": "charge", "amount": event.amount, "at": now})
    return PaymentCompleted(**{k: v for k, v in event.model_dump().items() if k != "customer"})


def add_fraud_check(payment, order):
    payment.handles(FraudCleared, publishes=(PaymentCompleted, PaymentDeclined))(
        lambda event, ctx: charge(ctx.state, event, ctx.now))

    @order.handles(FraudSuspected, publishes=(OrderCancelled,))
    def stop_order(event, ctx):
        record = ctx.state["orders"][event.order_id]
        if record["status"] == "cancelled":
            return []
        record["facts"] = [*record["facts"], "fraud_suspected"]
        record["status"] = "cancelled"
        return [OrderCancelled(order_id=event.order_id, reason="suspected of fraud")]
''',
    "fraud_participant": '''
def make_fraud_participant(suspects):
    fraud = Service("fraud", {"suspects": list(suspects), "checked": {}})

    @fraud.handles(CheckFraud, publishes=(FraudCheckPassed, FraudSuspected))
    def check_for_fraud(command, ctx):
        if command.order_id in ctx.state["checked"]:
            return []
        suspected = command.customer in ctx.state["suspects"]
        ctx.state["checked"][command.order_id] = suspected
        reply = FraudSuspected if suspected else FraudCheckPassed
        return [reply(order_id=command.order_id)]

    return fraud
''',
    "fraud_step": ORCHESTRATOR.format(suspected='''
    @orchestrator.handles(FraudSuspected, publishes=(OrderCancelled,))
    def stop_suspected_order(event, ctx):
        record = ctx.state["orders"].get(event.order_id)
        if record is None or record["status"] == "cancelled":
            return []
        record["facts"].append("fraud_suspected")
        record["status"] = "cancelled"
        return OrderCancelled(order_id=event.order_id, reason="on the watch list")
''')})

#: "a redelivery is a repeat", in each design: the fraud check skips every redelivery by its
#: attempt number and keeps no record of its verdicts. An order whose first fraud check was lost
#: on the way (or crashed before the commit) never gets a verdict. Each deserves what the same
#: code without the attempt test scores (as FRAUD_SERVICE_DECIDES_EVERY_TIME): its design's
#: checks of one verdict, public and hidden, and the chaos explorer fail.
TRUSTING_THE_ATTEMPT_COUNT = '''
def make_fraud_{kind}(suspects):
    fraud = Service("fraud", {{"suspects": list(suspects), "checked": {{}}}})

    @fraud.handles({asked}, publishes=({cleared}, FraudSuspected))
    def check_for_fraud(event, ctx):
        if ctx.attempt > 1:
            return []  # "a redelivery is a repeat"
        suspected = event.customer in ctx.state["suspects"]
        ctx.state["checked"][event.order_id] = suspected
        if suspected:
            return [FraudSuspected(order_id=event.order_id)]
        return [{answer}]

    return fraud
'''
CHOREOGRAPHED_TRUSTS_THE_ATTEMPT_COUNT = Variant(
    "the fraud service trusts the attempt count: skips every redelivery", EXERCISE, {
        "fraud_service": TRUSTING_THE_ATTEMPT_COUNT.format(
            kind="service", asked="OrderPlaced", cleared="FraudCleared",
            answer="FraudCleared(**event.model_dump())")}, {
    "decides once per order when OrderPlaced comes again": "not by ctx.attempt",
    "fraud service and payment: stop every suspect on another watch list, and only them":
        "not by ctx.attempt",
    # the order waits for the fraud service, not for payment (which no longer takes OrderPlaced)
    "keeps every invariant in both designs over 25 seeded fault schedules each":
        "stuck: fraud never answered OrderPlaced",
    "keeps every invariant in both designs over 40 more schedules each":
        "stuck: fraud never answered OrderPlaced"})

ORCHESTRATED_TRUSTS_THE_ATTEMPT_COUNT = Variant(
    "the fraud participant trusts the attempt count: skips every redelivery", EXERCISE, {
        "fraud_participant": TRUSTING_THE_ATTEMPT_COUNT.format(
            kind="participant", asked="CheckFraud", cleared="FraudCheckPassed",
            answer="FraudCheckPassed(order_id=event.order_id)")}, {
    "decides once per order when CheckFraud comes again": "not by ctx.attempt",
    "fraud participant and orchestrator: stop every suspect on another watch list, and only "
    "them": "not by ctx.attempt",
    "keeps every invariant in both designs over 25 seeded fault schedules each":
        "every workflow finishes",
    "keeps every invariant in both designs over 40 more schedules each":
        "every workflow finishes"})


#: the orchestrator's record of the order, written by the learner's first step, is wrong: the
#: charge (and, for the garbage record, the reservation and shipment) agree with the record but
#: not with the OrderRequested the customer published. Caught by the chaos explorer in both
#: fraud_chaos checks (as the same bug in the choreography is), from the request in the trace.
WRONG_RECORD_STEP = '''
def add_fraud_step(orchestrator):
    @orchestrator.handles(OrderRequested, publishes=(CheckFraud,))
    def start_order(event, ctx):
        if event.order_id in ctx.state["orders"]:
            return []
        ctx.state["orders"][event.order_id] = {{
            "customer": event.customer, "item": event.item, "quantity": {quantity},
            "amount": {amount}, "address": {address}, "status": "placed", "facts": []}}
        return [CheckFraud(order_id=event.order_id, customer=event.customer)]

    @orchestrator.handles(FraudCheckPassed, publishes=(ChargePayment,))
    def charge_after_fraud_check(event, ctx):
        record = ctx.state["orders"][event.order_id]
        if "fraud_cleared" in record["facts"]:
            return []
        record["facts"].append("fraud_cleared")
        return [ChargePayment(order_id=event.order_id, customer=record["customer"],
                              amount=record["amount"])]

    @orchestrator.handles(FraudSuspected, publishes=(OrderCancelled,))
    def cancel_after_fraud_suspected(event, ctx):
        record = ctx.state["orders"][event.order_id]
        if "fraud_suspected" in record["facts"]:
            return []
        record["facts"].append("fraud_suspected")
        record["status"] = "cancelled"
        return [OrderCancelled(order_id=event.order_id, reason="fraud suspected")]
'''
AS_REQUESTED = {
    "keeps every invariant in both designs over 25 seeded fault schedules each":
        "the order as requested",
    "keeps every invariant in both designs over 40 more schedules each":
        "the order as requested"}

ORCHESTRATOR_CHARGES_NOTHING = Variant("the orchestrator's record says the order costs 0",
                                       EXERCISE, {
    "fraud_step": WRONG_RECORD_STEP.format(quantity="event.quantity", amount="0",
                                           address="event.address")}, AS_REQUESTED)

ORCHESTRATOR_RECORDS_GARBAGE = Variant(
    "the orchestrator's record has the wrong quantity, amount and address", EXERCISE, {
        "fraud_step": WRONG_RECORD_STEP.format(quantity="1", amount="1",
                                               address='"nowhere"')}, AS_REQUESTED)

FRAUD_CLEARED_REWRITES_THE_ORDER = Variant(
    "the fraud service's FraudCleared rewrites the order's quantity and address", EXERCISE, {
    "fraud_service": '''
def make_fraud_service(suspects):
    fraud = Service("fraud", {"suspects": list(suspects), "checked": {}})

    @fraud.handles(OrderPlaced, publishes=(FraudCleared, FraudSuspected))
    def check_for_fraud(event, ctx):
        checked = ctx.state["checked"]
        if event.order_id in checked:
            return []
        checked[event.order_id] = event.customer in ctx.state["suspects"]
        if checked[event.order_id]:
            return [FraudSuspected(order_id=event.order_id)]
        return [FraudCleared(**{**event.model_dump(), "quantity": 1, "address": "nowhere"})]

    return fraud
'''}, AS_REQUESTED)

#: both fraud checks also suspect mallory, who is on no watch list: her order (o-5 of the hidden
#: checks, whose card is declined) ends cancelled anyway, but by the wrong verdict.
OVER_SUSPECTING = '''
def make_fraud_{kind}(suspects):
    fraud = Service("fraud", {{"suspects": list(suspects) + ["mallory"], "checked": {{}}}})

    @fraud.handles({asked}, publishes=({cleared}, FraudSuspected))
    def check_for_fraud(event, ctx):
        checked = ctx.state["checked"]
        if event.order_id in checked:
            return []
        checked[event.order_id] = event.customer in ctx.state["suspects"]
        if checked[event.order_id]:
            return [FraudSuspected(order_id=event.order_id)]
        return [{answer}]

    return fraud
'''
SUSPECTS_MALLORY_TOO = Variant("both fraud checks also suspect mallory, who is on no watch list",
                               EXERCISE, {
    "fraud_service": OVER_SUSPECTING.format(kind="service", asked="OrderPlaced",
                                            cleared="FraudCleared",
                                            answer="FraudCleared(**event.model_dump())"),
    "fraud_participant": OVER_SUSPECTING.format(
        kind="participant", asked="CheckFraud", cleared="FraudCheckPassed",
        answer="FraudCheckPassed(order_id=event.order_id)")}, {
    "fraud service and payment: stop every suspect on another watch list, and only them":
        "is not on the watch list",
    "fraud participant and orchestrator: stop every suspect on another watch list, and only "
    "them": "is not on the watch list"})



#: A hostile answer: the orchestrator's record charges the item's price, not price x
#: quantity. Before: caught by the hidden chaos check alone (its only charged order of quantity
#: > 1), 11/12.
CHARGES_THE_PRICE_NOT_TIMES_QUANTITY = Variant(
    "the orchestrator charges the item's price, not price x quantity", EXERCISE, {
        "fraud_step": WRONG_RECORD_STEP.format(quantity="event.quantity",
                                               amount="PRICES.get(event.item, 0)",
                                               address="event.address")}, {
    "keeps every invariant in both designs over 25 seeded fault schedules each":
        "the charge is price x quantity",
    "keeps every invariant in both designs over 40 more schedules each":
        "the charge is price x quantity"})

#: A hostile answer: the fraud service suspects every order of an item the suspects
#: buy (here every unicorn), not only the customers on the watch list. Before: no hidden order
#: had a customer off the watch list buy a unicorn, and this scored 12/12 (11/12 as reported).
SUSPECTS_EVERY_UNICORN = Variant(
    "the fraud service suspects every unicorn order, whoever placed it", EXERCISE, {
        "fraud_service": '''
def make_fraud_service(suspects):
    fraud = Service("fraud", {"suspects": list(suspects), "checked": {}})

    @fraud.handles(OrderPlaced, publishes=(FraudCleared, FraudSuspected))
    def check_for_fraud(event, ctx):
        checked = ctx.state["checked"]
        if event.order_id in checked:
            return []
        checked[event.order_id] = (event.customer in ctx.state["suspects"]
                                   or event.item == "unicorn")
        if checked[event.order_id]:
            return [FraudSuspected(order_id=event.order_id)]
        return [FraudCleared(**event.model_dump())]

    return fraud
'''}, {
    "fraud service and payment: stop every suspect on another watch list, and only them":
        "is not on the watch list"})

#: A hostile answer: the orchestrator acts on every reply it gets, repeats included:
#: a FraudCheckPassed delivered twice sends ChargePayment twice, a FraudSuspected twice sends
#: OrderCancelled twice. The course's payment absorbs the second charge, and nothing counted
#: what the orchestrator sent: 12/12.
ORCHESTRATOR_ACTS_ON_EVERY_REPLY = Variant(
    "the orchestrator acts on every reply, repeats included", EXERCISE, {"fraud_step": '''
def add_fraud_step(orchestrator):
    @orchestrator.handles(OrderRequested, publishes=(CheckFraud,))
    def start_order(event, ctx):
        if event.order_id in ctx.state["orders"]:
            return []
        ctx.state["orders"][event.order_id] = {
            "customer": event.customer, "item": event.item, "quantity": event.quantity,
            "amount": PRICES.get(event.item, 0) * event.quantity, "address": event.address,
            "status": "placed", "facts": []}
        return [CheckFraud(order_id=event.order_id, customer=event.customer)]

    @orchestrator.handles(FraudCheckPassed, publishes=(ChargePayment,))
    def charge_after_fraud_check(event, ctx):
        record = ctx.state["orders"][event.order_id]
        record["facts"].append("fraud_cleared")
        return [ChargePayment(order_id=event.order_id, customer=record["customer"],
                              amount=record["amount"])]

    @orchestrator.handles(FraudSuspected, publishes=(OrderCancelled,))
    def cancel_after_fraud_suspected(event, ctx):
        record = ctx.state["orders"][event.order_id]
        record["facts"].append("fraud_suspected")
        record["status"] = "cancelled"
        return [OrderCancelled(order_id=event.order_id, reason="fraud suspected")]
'''}, {
    "decides once per order when CheckFraud comes again": "remember each reply by order id",
    "keeps every invariant in both designs over 25 seeded fault schedules each":
        "remember each reply by order id",
    "keeps every invariant in both designs over 40 more schedules each":
        "remember each reply by order id"})

#: the same in the choreography: the order service cancels on every FraudSuspected it gets.
#: OrderCancelled went out twice and nothing counted it: 12/12 before.
ORDER_SERVICE_CANCELS_ON_EVERY_VERDICT = Variant(
    "the order service cancels on every FraudSuspected, repeats included", EXERCISE, {
        "fraud_check": '''
def add_fraud_check(payment, order):
    @payment.handles(FraudCleared, publishes=(PaymentCompleted, PaymentDeclined))
    def charge_card(event, ctx):''' + CHARGE_BODY + '''
    @order.handles(FraudSuspected, publishes=(OrderCancelled,))
    def cancel_suspected_order(event, ctx):
        record = ctx.state["orders"][event.order_id]
        record["facts"].append("fraud_suspected")
        record["status"] = "cancelled"
        return [OrderCancelled(order_id=event.order_id, reason="fraud suspected")]
'''}, {
    "decides once per order when OrderPlaced comes again": "remember each reply by order id",
    "keeps every invariant in both designs over 25 seeded fault schedules each":
        "remember each reply by order id",
    "keeps every invariant in both designs over 40 more schedules each":
        "remember each reply by order id"})


WRONG_EX06 = (PAYS_BEFORE_THE_VERDICT, ORDER_NEVER_LEARNS, FORGETS_TO_CANCEL,
              FRAUD_SERVICE_DECIDES_EVERY_TIME, CHARGES_WHILE_CHECKING,
              CHOREOGRAPHED_TRUSTS_THE_ATTEMPT_COUNT, ORCHESTRATED_TRUSTS_THE_ATTEMPT_COUNT,
              ORCHESTRATOR_CHARGES_NOTHING, ORCHESTRATOR_RECORDS_GARBAGE,
              FRAUD_CLEARED_REWRITES_THE_ORDER, SUSPECTS_MALLORY_TOO,
              CHARGES_THE_PRICE_NOT_TIMES_QUANTITY, SUSPECTS_EVERY_UNICORN,
              ORCHESTRATOR_ACTS_ON_EVERY_REPLY, ORDER_SERVICE_CANCELS_ON_EVERY_VERDICT)
CORRECT_EX06 = (FRAUD_CHECK_DIFFERENTLY,)
