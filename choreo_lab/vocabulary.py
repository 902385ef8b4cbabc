"""The words choreo_lab uses for its notions, each defined once.

Trace kinds, service statuses, the roles an event can declare in a saga, and the statuses
of a workflow. Code compares against these names, never against string literals.
"""

from __future__ import annotations

from typing import Final

# -- what the trace records ---------------------------------------------------------------------
PUBLISH: Final = "publish"            # a message entered its topic's log
NO_SUBSCRIBER: Final = "no-subscriber"  # ... and no group handles its event type (yet)
DELIVER: Final = "deliver"            # first delivery of a message to a group
REDELIVER: Final = "redeliver"        # a later delivery of the same message to the same group
ACK: Final = "ack"                    # the group is done with it (state and events committed)
NACK: Final = "nack"                  # the handler raised: nothing committed, retried later
CRASH: Final = "crash"                # the handler's process crashed at a crash point
ABANDON: Final = "abandon"            # a killed service dropped what it was processing
DEAD_LETTER: Final = "dead-letter"    # attempts used up: parked with its reason
REDRIVE: Final = "redrive"            # a dead letter sent to its group again
DROP: Final = "drop"                  # (fault) the delivery was lost on the way
DUPLICATE: Final = "duplicate"        # (fault) handled, but the ack was lost: it comes again
DELAY: Final = "delay"                # (fault) the delivery arrives late, in key order
REORDER: Final = "reorder"            # (fault) the delivery arrives late, overtaken
KILL: Final = "kill"
RESTART: Final = "restart"
PAUSE: Final = "pause"
RESUME: Final = "resume"
SCALE: Final = "scale"
DEPLOY: Final = "deploy"              # a new version of a service's code was rolled out
TIMER_SET: Final = "timer-set"        # a handler scheduled an event for later
TIMER_FIRE: Final = "timer-fire"      # ... and its time came: the event is published
TIMER_CANCEL: Final = "timer-cancel"  # a handler cancelled a pending timer
DEDUP: Final = "dedup"                # a publish under a message id the broker has: kept once
RELAY_CRASH: Final = "relay-crash"    # a service's relay crashed (or raised) and will run again

TRACE_KINDS: Final = (PUBLISH, NO_SUBSCRIBER, DELIVER, REDELIVER, ACK, NACK, CRASH, ABANDON,
                      DEAD_LETTER, REDRIVE, DROP, DUPLICATE, DELAY, REORDER, KILL, RESTART,
                      PAUSE, RESUME, SCALE, DEPLOY, TIMER_SET, TIMER_FIRE, TIMER_CANCEL, DEDUP,
                      RELAY_CRASH)
#: Kinds that mean a handler's work was committed (a crash after the commit counts too).
COMMITTED_KINDS: Final = (ACK, DUPLICATE)
#: Kinds that end a message's stay with a group.
SETTLED_KINDS: Final = (ACK, DEAD_LETTER)

# -- how a service is running ---------------------------------------------------------------------
UP: Final = "up"
DOWN: Final = "down"
PAUSED: Final = "paused"
SERVICE_STATUSES: Final = (UP, DOWN, PAUSED)

# -- the role an event plays in a saga (declared: `class PaymentDeclined(Event, role="failure")`)
STEP: Final = "step"                  # the workflow moves forward
FAILURE: Final = "failure"            # something could not be done: compensations follow
COMPENSATION: Final = "compensation"  # an earlier step was undone
ROLES: Final = (STEP, FAILURE, COMPENSATION)

# -- how a workflow ends (declared: `class OrderCancelled(Event, outcome="compensated")`), and
#    the statuses of a workflow derived from the declarations
COMPLETED: Final = "completed"        # it reached its goal
COMPENSATED: Final = "compensated"    # it failed and everything it did was undone
OUTCOMES: Final = (COMPLETED, COMPENSATED)
RUNNING: Final = "running"            # moving forward (or waiting for a service that is down)
COMPENSATING: Final = "compensating"  # a failure happened; compensations are under way
STUCK: Final = "stuck"                # unfinished, and nothing about it is left to deliver
WORKFLOW_STATUSES: Final = (RUNNING, COMPENSATING, COMPLETED, COMPENSATED, STUCK)
