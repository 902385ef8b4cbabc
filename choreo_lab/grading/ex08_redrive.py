"""Exercise 8, re-drive: fix the handler that dead-letters orders, then send back what it fixed.

The notebook's shipping service (version 1) asks the courier for a label, and the courier's
parser raises on a PO box: such an order is retried, dead-lettered, and waits while every
other order flows on. The learner writes

- ``make_fixed_shipping_service()``: version 2, which answers a PO box with ShipmentFailed
  (the courier does not deliver there; the saga compensates) instead of raising - and without
  swallowing the order;
- ``letters_to_redrive(letters)``: once version 2 is deployed, which dead letters to send
  back: shipping's, that died of the parse error - each once - and not a letter another
  service gave up on for a cause nobody fixed (it would only come back).

The checks deploy the learner's version 2 into the running saga (`Simulation.deploy`), re-drive
what the learner chose, and judge how every order ends with the order saga's oracle.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .. import vocabulary as words
from ..faults import AnyFault, Crash, Duplicate
from ..service import Service
from ..simulation import Simulation
from .ex08_given import make_shipping_service as make_version_1
from .feedback import plural
from .kit import letter_as_data
from .learner import Learner
from .outcomes import expect_finished
from .redelivery import HINT as REDELIVERY_HINT
from .redelivery import lost_first_deliveries
from .scenarios import SagaRun, order, run_saga
from .tasks import Check, Failed, Task

EXERCISE = "ex08-redrive"
BROKEN, FIXED, CHOOSE = "make_shipping_service", "make_fixed_shipping_service", "letters_to_redrive"

#: o-2 and o-3 go to PO boxes (version 1 crashes on them); o-1 ships
ORDERS = (order("o-1"), order("o-2", address="PO Box 12"), order("o-3", item="lamp",
                                                                  address="po box 7"))
FIX_HINT = ("a PO box is not an error to retry: answer it. Return ShipmentFailed(order_id=..., "
            "item=..., quantity=..., reason='the courier does not deliver to a PO box') and "
            "record it in ctx.state['failed'], so inventory and payment compensate.")


def fixed_shipping(learner: Learner) -> Service:
    return learner.service(FIXED, "shipping")


# -- task "fix_shipping" -------------------------------------------------------------------------
def expect_po_boxes_failed(run: SagaRun, order_ids: Sequence[str]) -> None:
    for order_id in order_ids:
        if run.published("ShipmentScheduled", order_id):
            run.fail(f"{order_id} goes to a PO box, and your version 2 scheduled a shipment: "
                     "the courier does not deliver there.", FIX_HINT, order_id)
        expect_finished(run, order_id, "compensated", FIX_HINT)
        failed = run.published("ShipmentFailed", order_id)
        if len(failed) != 1:
            run.fail(f"{order_id} goes to a PO box: shipping should answer ShipmentFailed once; "
                     f"it did {plural(len(failed), 'time')}.", FIX_HINT, order_id)
        wanted = run.orders[order_id]
        event = failed[0].event
        if (event.item, event.quantity) != (wanted["item"], wanted["quantity"]):
            run.fail(f"{order_id} ({wanted['quantity']} {wanted['item']}) goes to a PO box, and "
                     f"your ShipmentFailed said {event.quantity} {event.item}: the answer "
                     "describes the order it answers - whoever reads it (a refund, a customer "
                     "notice) trusts it.", "copy item and quantity from the InventoryReserved "
                     "event: ShipmentFailed(..., item=event.item, quantity=event.quantity).",
                     order_id)


def answers_a_po_box_with_a_shipment_failure(learner: Learner) -> None:
    run = run_saga(learner, {"shipping": fixed_shipping(learner)}, ORDERS)
    if run.sim.dead_letters:
        letter = run.sim.dead_letters[0]
        run.fail(f"Version 2 still dead-letters {letter.envelope.event_type} of "
                 f"{letter.envelope.correlation_id}: {letter.reason}.", FIX_HINT,
                 letter.envelope.correlation_id)
    expect_finished(run, "o-1", "completed", "ship every other address as version 1 does.")
    expect_po_boxes_failed(run, ["o-2", "o-3"])


def ships_the_rest_as_version_1_did(learner: Learner) -> None:
    orders = [order("o-1"), order("o-2", address="Atlantis"), order("o-3", item="kettle",
                                                                     quantity=2)]
    run = run_saga(learner, {"shipping": fixed_shipping(learner)}, orders)
    expect_finished(run, "o-1", "completed", "a normal address ships, as in version 1.")
    expect_finished(run, "o-2", "compensated", "Atlantis is unshippable, as in version 1.")
    expect_finished(run, "o-3", "completed", "a normal address ships, as in version 1.")
    expect_repeats_answered_once(learner, orders)


REPEAT_HINT = ("keep version 1's first test: an order already in ctx.state['shipments'] or "
               "ctx.state['failed'] was decided, and a repeat of it returns [].")


def expect_repeats_answered_once(learner: Learner, orders: Sequence[dict[str, Any]]) -> None:
    """Version 1 answers a repeated InventoryReserved of any order once, shipped or refused:
    version 2 must too - the PO box is the only thing the fix changes."""
    run = run_saga(learner, {"shipping": fixed_shipping(learner)}, orders, [
        Duplicate(service="shipping", event_type="InventoryReserved", times=2)])
    for each in orders:
        order_id = each["order_id"]
        answers = [*run.published("ShipmentScheduled", order_id),
                   *run.published("ShipmentFailed", order_id)]
        if len(answers) != 1:
            run.fail(f"InventoryReserved of {order_id} (to {each['address']}) was delivered "
                     f"twice, and your version 2 answered it {plural(len(answers), 'time')} "
                     f"({', '.join(answer.event_type for answer in answers) or 'nothing'}); "
                     "version 1 answers a repeat once, and so should version 2.", REPEAT_HINT,
                     order_id)


def answers_a_repeated_po_box_once(learner: Learner) -> None:
    run = run_saga(learner, {"shipping": fixed_shipping(learner)}, ORDERS[1:2], [
        Duplicate(service="shipping", event_type="InventoryReserved", times=2)])
    expect_po_boxes_failed(run, ["o-2"])
    for lost in lost_first_deliveries("shipping", "InventoryReserved"):
        run = run_saga(learner, {"shipping": fixed_shipping(learner)}, ORDERS[1:2],
                       [lost.fault])
        if not run.published("ShipmentFailed", "o-2"):
            run.fail(f"o-2 goes to a PO box. {lost.story('InventoryReserved of o-2')}, yet "
                     f"shipping answered nothing, so the order was never compensated (it is "
                     f"{run.status('o-2')}).", REDELIVERY_HINT, "o-2")
        expect_po_boxes_failed(run, ["o-2"])


# -- task "redrive" -------------------------------------------------------------------------------
def broken_then_fixed(learner: Learner, orders: Sequence[dict[str, Any]],
                      faults: Sequence[AnyFault] = ()) -> SagaRun:
    """The saga with version 1 until it is quiet, then version 2 deployed."""
    run = run_saga(learner, {"shipping": make_version_1()}, orders, faults, check_errors=False)
    run.sim.deploy(fixed_shipping(learner))
    return run


def letters_as_data(sim: Simulation) -> list[dict[str, Any]]:
    """The dead letters as the learner's function receives them: plain dicts."""
    return [letter_as_data(letter) for letter in sim.dead_letters]


CHOOSE_HINT = ("return the message ids of shipping's letters that died of the courier's parse "
               "error - each once: [letter['message_id'] for letter in letters if ...].")


DEPLOY_HINT = ("a deploy keeps the running service's state: version 2 starts from version 1's "
               "ctx.state, so keep its keys ('unshippable', 'shipments', 'failed') and add none "
               "that version 1 did not have.")


def redrive_chosen(learner: Learner, run: SagaRun, times: int = 1,
                   unfixed: Sequence[str] = ()) -> list[str]:
    """Ask the learner which letters to re-drive (`times` times, as an operator who clicks
    twice would), re-drive them and run until quiet. Returns what was chosen, in order.
    Shipping's letters of the orders in `unfixed` died of a cause the fix does not fix: they
    may stay in the dead letters (`expect_unfixed_left_alone` judges them)."""
    chosen: list[str] = []
    for _ in range(times):
        letters = letters_as_data(run.sim)
        answer = learner.call(CHOOSE, letters)
        if isinstance(answer, (tuple, set, frozenset)):
            # a set of ids says "each once" as well as a list does; the order of the ids
            # does not matter (letters are re-driven in the order they were dead-lettered)
            answer = sorted(answer) if isinstance(answer, (set, frozenset)) else list(answer)
        if not isinstance(answer, list) or not all(isinstance(i, str) for i in answer):
            raise Failed(f"`{CHOOSE}(letters)` returned {answer!r:.100}; return a list of "
                         f"message ids (text), e.g. ['m12']. {CHOOSE_HINT}")
        parked = {letter["message_id"] for letter in letters}
        for message_id in answer:
            if answer.count(message_id) > 1:
                raise Failed(f"`{CHOOSE}` asked to re-drive {message_id} "
                             f"{answer.count(message_id)} times; a letter is re-driven once - "
                             f"it leaves the dead letters then. {CHOOSE_HINT}")
            if message_id not in parked:
                raise Failed(f"`{CHOOSE}` asked to re-drive {message_id}, which is not among "
                             f"the dead letters it was given ({', '.join(sorted(parked))}). "
                             f"{CHOOSE_HINT}")
        for letter in list(run.sim.dead_letters):
            if letter.envelope.message_id in answer:
                run.sim.redrive(letter)
        chosen += answer
        run.sim.run_until_idle()
    back = [letter for letter in run.sim.dead_letters if letter.group == "shipping"
            and letter.envelope.message_id in chosen
            and letter.envelope.correlation_id not in unfixed]
    if back:  # the choice was right; version 2 failed on what it was given
        orders = ", ".join(letter.envelope.correlation_id for letter in back)
        one = len(back) == 1
        reason = back[0].reason
        run.fail(f"You re-drove shipping's {plural(len(back), 'letter')} of {orders} after the "
                 f"deploy, and your version 2 failed on {'it' if one else 'them'} again "
                 f"({reason}), so {'it still waits' if one else 'they still wait'} in the dead "
                 "letters.", FIX_HINT if "courier cannot parse" in reason else DEPLOY_HINT,
                 back[0].envelope.correlation_id)
    left = [letter.envelope.correlation_id for letter in run.sim.dead_letters
            if letter.group == "shipping" and letter.envelope.correlation_id not in unfixed]
    if left:
        run.fail(f"After the fix was deployed and the letters you chose re-driven, shipping's "
                 f"{plural(len(left), 'letter')} of {', '.join(left)} still "
                 f"{'waits' if len(left) == 1 else 'wait'} in the dead letters.", CHOOSE_HINT,
                 left[0])
    return chosen


#: a shipping letter that died of something else than the parse error: its handler's process
#: crashes on every attempt at this order, whatever version runs (the fix does not fix that)
def shipping_crashes(order_id: str) -> Crash:
    return Crash(service="shipping", correlation_id=order_id, point="before_commit")


def expect_unfixed_left_alone(run: SagaRun, chosen: Sequence[str], order_id: str) -> None:
    """Shipping's letter of `order_id` died of a crash (not of the parse error): it must not
    have been re-driven."""
    if run.sim.trace.where(kind=words.REDRIVE, service="shipping", correlation_id=order_id):
        reason = next((record.detail for record in run.sim.trace.where(
            kind=words.DEAD_LETTER, service="shipping", correlation_id=order_id)), "")
        run.fail(f"Among the dead letters was shipping's InventoryReserved of {order_id} - it "
                 f"died of a crash{f' ({reason})' if reason else ''}, not of the courier's "
                 f"parse error, and the fix does not fix that - and you re-drove it "
                 f"({', '.join(chosen)}). It fails again and comes back: a letter's group is "
                 "not enough, re-drive only the letters whose cause you fixed.",
                 "look at letter['reason'] too: the parse error is the one version 2 fixed.",
                 order_id)


def redrives_shippings_letters_and_every_order_ends(learner: Learner) -> None:
    run = broken_then_fixed(learner, ORDERS)
    parked = [letter.envelope.correlation_id for letter in run.sim.dead_letters]
    if parked != ["o-2", "o-3"]:
        raise Failed(f"The notebook's version 1 (`{BROKEN}`) should dead-letter o-2 and o-3 "
                     f"(PO boxes); it dead-lettered {parked}. Run its cell as it was given.")
    redrive_chosen(learner, run)
    expect_po_boxes_failed(run, ["o-2", "o-3"])
    expect_finished(run, "o-1", "completed")


def leaves_a_letter_whose_cause_was_not_fixed(learner: Learner) -> None:
    orders = [*ORDERS[:2], order("o-4", item="kettle"), order("o-5", item="lamp")]
    run = broken_then_fixed(learner, orders, [
        Crash(service="payment", correlation_id="o-4", point="before_commit"),
        shipping_crashes("o-5")])
    chosen = redrive_chosen(learner, run, unfixed=["o-5"])
    if run.sim.trace.where(kind=words.REDRIVE, service="payment"):
        run.fail(f"Among the dead letters was payment's OrderPlaced of o-4 - its handler "
                 f"crashes, and nobody fixed that - and you re-drove it ({', '.join(chosen)}). "
                 "It fails again on every attempt and comes back: re-drive only the letters "
                 "whose cause you fixed.", "look at letter['group'] and letter['reason'].",
                 "o-4")
    expect_unfixed_left_alone(run, chosen, "o-5")
    expect_po_boxes_failed(run, ["o-2"])


def asks_for_nothing_when_nothing_is_left(learner: Learner) -> None:
    run = broken_then_fixed(learner, ORDERS)
    redrive_chosen(learner, run, times=2)  # the second time, only what is left
    expect_po_boxes_failed(run, ["o-2", "o-3"])
    counts = [len(run.published("ShipmentFailed", order_id)) for order_id in ("o-2", "o-3")]
    if counts != [1, 1]:
        run.fail("Asked twice, your choice re-drove a PO-box order again.", CHOOSE_HINT)


TASKS = (
    Task("fix_shipping", EXERCISE, "version 2: answer a PO box instead of crashing", (
        Check("answers a PO box with ShipmentFailed, so the order is compensated", 1,
              answers_a_po_box_with_a_shipment_failure),
        Check("ships every other address as version 1 did", 1, ships_the_rest_as_version_1_did),
        Check("answers a repeated PO-box order once", 1, answers_a_repeated_po_box_once),
    ), hidden_count=1, hidden_points=1),
    Task("redrive", EXERCISE, "after the deploy, re-drive what the fix fixed", (
        Check("re-drives shipping's letters once the fix is deployed: every order ends", 1,
              redrives_shippings_letters_and_every_order_ends),
        Check("leaves a letter whose cause nobody fixed in the dead letters", 1,
              leaves_a_letter_whose_cause_was_not_fixed),
        Check("asked again, re-drives nothing twice", 1, asks_for_nothing_when_nothing_is_left),
    ), hidden_count=1, hidden_points=1),
)
