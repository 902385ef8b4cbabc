"""Exercise 9's other answers: known-wrong relays and outboxes, and a correct one written differently."""

from __future__ import annotations

from .variants import Variant

KEEP = '''
def keep_in_outbox(ctx, event):
{body}
'''
CHAOS = "keeps the saga consistent under every single crash and 30 seeded schedules"
MORE_CHAOS = "keeps the saga consistent under other orders' single crashes and 40 more schedules"
RELAY = '''
def send_outbox(ctx):
{body}
'''

DUAL_WRITE = Variant("publishes the answer from the handler (the dual write)", "ex09-outbox-relay", {
    "keep_in_outbox": KEEP.format(body="    return event")},
    {"keeps each answer as a row in its outbox and publishes nothing itself": "dual write",
     "keeps the answer when shipping crashes between its write and its publish": "0 such rows",
     "names each row for good: no answer reuses the id of a row already sent": "outbox is empty",
     "names each row for good across four more orders": "outbox is empty",
     CHAOS: "never published its answer", MORE_CHAOS: "never published its answer"})

COUNTED_ROW_IDS = Variant("names rows by counting the table", "ex09-outbox-relay", {
    "keep_in_outbox": KEEP.format(body='''    outbox = ctx.state["outbox"]
    outbox[f"row-{len(outbox) + 1}"] = as_row(event, ctx.message_id)''')},
    {"names each row for good: no answer reuses the id of a row already sent": "dropped as a repeat",
     "names each row for good across four more orders": "never after a count",
     CHAOS: "dropped it as a repeat", MORE_CHAOS: "dropped it as a repeat"})

# Never repeats in one process, so no run of one process can see the bug; a restart would
# start the count again. The same run twice gives other ids the second time.
COUNTER_ROW_IDS = Variant("names rows by a counter in the process's memory", "ex09-outbox-relay", {
    "keep_in_outbox": '''
import itertools
ROWS = itertools.count(1)

def keep_in_outbox(ctx, event):
    ctx.state["outbox"][f"row-{next(ROWS)}"] = as_row(event, ctx.message_id)
'''}, {"names each row for good: no answer reuses the id of a row already sent": "named differently",
       "names each row for good across four more orders": "process's memory"})

DELETES_BEFORE_PUBLISHING = Variant("deletes each row before publishing it", "ex09-outbox-relay", {
    "send_outbox": RELAY.format(body='''    for row_id, row in list(ctx.state["outbox"].items()):
        del ctx.state["outbox"][row_id]
        ctx.publish(event_of(row), message_id=row_id, cause=row["cause"])''')},
    {"loses no row when the relay crashes before a publish": "then mark it sent",
     CHAOS: "it was lost", MORE_CHAOS: "it was lost"})

FRESH_MESSAGE_IDS = Variant("publishes rows without their ids", "ex09-outbox-relay", {
    "send_outbox": RELAY.format(body='''    for row_id, row in list(ctx.state["outbox"].items()):
        ctx.publish(event_of(row), cause=row["cause"])
        del ctx.state["outbox"][row_id]''')},
    {"sends no row twice when the relay crashes after a publish": "message_id=row_id",
     "sends each row once under mixed relay crashes and lost acks": "message_id=row_id",
     CHAOS: "published 2 times", MORE_CHAOS: "published 2 times"})

NO_CAUSE = Variant("publishes rows outside their order's workflow", "ex09-outbox-relay", {
    "send_outbox": RELAY.format(body='''    for row_id, row in list(ctx.state["outbox"].items()):
        ctx.publish(event_of(row), message_id=row_id)
        del ctx.state["outbox"][row_id]''')},
    {"publishes every row in its order's workflow, once, and marks it sent": "workflow of its own",
     "loses no row when the relay crashes before a publish": "workflow of its own",
     "sends no row twice when the relay crashes after a publish": "workflow of its own",
     "sends each row once under mixed relay crashes and lost acks": "workflow of its own",
     CHAOS: "workflow of its own", MORE_CHAOS: "workflow of its own"})

NEVER_MARKS_SENT = Variant("never marks a row sent", "ex09-outbox-relay", {
    "send_outbox": RELAY.format(body='''    for row_id, row in ctx.state["outbox"].items():
        ctx.publish(event_of(row), message_id=row_id, cause=row["cause"])''')},
    {"publishes every row in its order's workflow, once, and marks it sent": "never marks its rows"})

# A crash is the relay's process dying: putting the row back when the publish raises would
# never run. It once scored 10/10 (what a relay did after a caught crash was kept); the
# sandbox must make the crash raise in the learner's code too, or it scored so there alone.
PUTS_BACK_WHEN_IT_CRASHES = Variant("deletes each row first and puts it back if the publish "
                                    "crashes", "ex09-outbox-relay", {
    "send_outbox": RELAY.format(body='''    for row_id, row in list(ctx.state["outbox"].items()):
        del ctx.state["outbox"][row_id]
        try:
            ctx.publish(event_of(row), message_id=row_id, cause=row["cause"])
        except BaseException:
            ctx.state["outbox"][row_id] = row
            raise''')},
    {"loses no row when the relay crashes before a publish": "then mark it sent",
     CHAOS: "it was lost", MORE_CHAOS: "it was lost"})

# Catching the crash changes nothing: nothing after it is kept, so the row stays and is sent
# on the next run (catching real publish errors this way would lose rows; a crash is not one).
SWALLOWS_THE_CRASH = Variant("catches the relay's crash and deletes the row anyway",
                             "ex09-outbox-relay", {
    "send_outbox": RELAY.format(body='''    for row_id, row in list(ctx.state["outbox"].items()):
        try:
            ctx.publish(event_of(row), message_id=row_id, cause=row["cause"])
        except BaseException:
            pass
        del ctx.state["outbox"][row_id]''')})

MARKS_ROWS_SENT = Variant("a correct outbox and relay that mark rows sent", "ex09-outbox-relay", {
    "keep_in_outbox": KEEP.format(body='''    name = getattr(event, "order_id", "?")
    ctx.state["outbox"][f"payment:{ctx.message_id}:{type(event).__name__}:{name}"] = {
        "type": type(event).event_type, "fields": dict(event), "cause": ctx.message_id}'''),
    "send_outbox": RELAY.format(body='''    sent = ctx.state.setdefault("sent", [])
    for row_id in sorted(ctx.state["outbox"]):
        if row_id not in sent:
            row = ctx.state["outbox"][row_id]
            ctx.publish(event_of(row), message_id=row_id, cause=row["cause"])
            sent.append(row_id)''')})

WRONG_EX09 = (DUAL_WRITE, COUNTED_ROW_IDS, COUNTER_ROW_IDS, DELETES_BEFORE_PUBLISHING, FRESH_MESSAGE_IDS, NO_CAUSE,
              NEVER_MARKS_SENT, PUTS_BACK_WHEN_IT_CRASHES)
CORRECT_EX09 = (MARKS_ROWS_SENT, SWALLOWS_THE_CRASH)
