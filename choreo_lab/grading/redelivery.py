"""A redelivery that is a message's first real handling: the other half of every "once" check.

A check that a repeated message changes nothing (a `Duplicate`: the ack was lost after the
handler's work was committed) sends every repeat with ``ctx.attempt > 1``. A handler that
skips every redelivery by its attempt number (``if ctx.attempt > 1: return []``) and keeps no
record of what it handled passes it - and is wrong: a delivery lost on the way, or a handler
that crashed before its commit, leaves nothing done, and the redelivery (attempt 2) is the
first real handling of the message. These are those two schedules, for the checks of "once"
to run after their repeats, and the words for what went wrong.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..faults import Crash, Drop

#: what to do when a redelivery that was the first real handling did nothing
HINT = ("tell a repeat by what ctx.state recorded, not by ctx.attempt (nor by memory outside "
        "ctx.state, which a crash does not take back): a redelivery after a lost delivery or a "
        "crash before the commit is the first real handling of the message, and must do all of "
        "its work.")


@dataclass(frozen=True)
class LostFirstDelivery:
    """A fault that makes every first delivery of a message to a service count for nothing."""

    fault: Drop | Crash
    happened: str  # what became of the first delivery, in words

    def story(self, message: str, *, opening: bool = True) -> str:
        """'The first delivery of `message` was lost on the way, so the broker delivered it
        again: that redelivery, attempt 2, was its first real handling' - to go on from
        (`opening`: it starts a sentence)."""
        told = (f"the first delivery of {message} {self.happened}, so the broker delivered it "
                "again: that redelivery, attempt 2, was its first real handling")
        return told[0].upper() + told[1:] if opening else told


def lost_first_deliveries(service: str, event_type: str) -> tuple[LostFirstDelivery, ...]:
    """Two schedules in which the first delivery of every `event_type` message to `service`
    counts for nothing: lost on the way (`Drop`), then handled but crashed before the commit
    (`Crash` before_commit, which also catches a record kept outside ctx.state)."""
    return (LostFirstDelivery(Drop(service=service, event_type=event_type, attempt=1),
                              "was lost on the way"),
            LostFirstDelivery(Crash(service=service, event_type=event_type, attempt=1,
                                    point="before_commit"),
                              "crashed before its commit (nothing the handler did was kept)"))
