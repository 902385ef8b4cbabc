"""The fan-out's invariants, checked over the services' own states and the providers' records.

Safety (at every moment):

- `one_welcome_email_per_user`: the email provider sent at most one welcome email per user
  (and, once nothing is left to deliver for the user, exactly one).
- `analytics_counts_each_user_once`: no user is counted twice (and, once quiet, every
  registered user is counted).
- `no_campaign_email_after_unsubscribe`: once the campaign has handled a user's
  unsubscribe, it asks for no more campaign email for them.

Convergence (once nothing is left to deliver for a user):

- `nothing_is_lost`: every message of the user's workflow was handled by every group that
  got it; one a group gave up on waits in the dead letters, to be re-driven.

A user's workflow ends when the campaign completes or stops (declared outcomes).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from ... import vocabulary as words
from ...consistency import Oracle, Violation
from ...simulation import Simulation
from .providers import sent

CAMPAIGN_EMAILS = ("getting-started", "tip", "survey")


def user_ids(sim: Simulation) -> list[str]:
    """Every user the trace knows of (their workflows), in order of appearance."""
    return list(dict.fromkeys(envelope.correlation_id for envelope in sim.trace.messages.values()
                              if envelope.event_type == "UserRegistered"))


def quiet(sim: Simulation, user_id: str) -> bool:
    """Nothing about the user is left to deliver: no message on its way, waiting, or due."""
    return sim.open_messages(user_id) == 0


def ids_of(sim: Simulation, user_id: str, *event_types: str) -> tuple[str, ...]:
    return tuple(e.message_id for e in sim.trace.messages_of(user_id) if e.event_type in event_types)


def one_welcome_email_per_user(sim: Simulation) -> Iterator[Violation]:
    """At most one welcome email per user; exactly one once nothing is left to deliver."""
    welcomes = Counter(entry["user_id"] for entry in sent(sim, "email-provider", what="welcome"))
    for user_id in user_ids(sim):
        count = welcomes[user_id]
        if count > 1:
            yield Violation(
                "one welcome email per user", user_id,
                f"the email provider sent {user_id} {count} welcome emails; a repeated request "
                "must carry the same idempotency key, so that the provider sends it once",
                ids_of(sim, user_id, "UserRegistered", "SendEmail"))
        elif count == 0 and quiet(sim, user_id) and "email" in sim.services:
            yield Violation(
                "one welcome email per user", user_id,
                f"{user_id} never got a welcome email, and nothing is left to deliver",
                ids_of(sim, user_id, "UserRegistered"), "convergence")


def analytics_counts_each_user_once(sim: Simulation) -> Iterator[Violation]:
    """No user counted twice, the total matches; once quiet, every registered user counted."""
    if "analytics" not in sim.services:
        return
    state = sim.state("analytics")
    counted = Counter(state.get("counted", []))
    for user_id, times in counted.items():
        if times > 1:
            yield Violation(
                "analytics counts each user once", user_id,
                f"analytics counted {user_id}'s sign-up {times} times; a redelivered "
                "UserRegistered must not count again - give analytics an inbox",
                ids_of(sim, user_id, "UserRegistered"))
    if state.get("signups") != sum(counted.values()):
        yield Violation("analytics counts each user once", "signups",
                        f"analytics says {state.get('signups')} sign-ups but lists "
                        f"{sum(counted.values())}")
    for user_id in user_ids(sim):
        if not counted[user_id] and quiet(sim, user_id) and not dead_lettered(sim, user_id,
                                                                              "analytics"):
            yield Violation("analytics counts each user once", user_id,
                            f"analytics never counted {user_id}, and nothing is left to deliver",
                            ids_of(sim, user_id, "UserRegistered"), "convergence")


def no_campaign_email_after_unsubscribe(sim: Simulation) -> Iterator[Violation]:
    """After the campaign handled a user's unsubscribe, it asks for no campaign email for them."""
    if "campaign" not in sim.services:
        return
    for user_id in user_ids(sim):
        learned: int | None = None
        for index, record in sim.trace.indexed(user_id):
            envelope = sim.trace.messages.get(record.message_id or "")
            if envelope is None:
                continue
            if learned is None and envelope.event_type == "UserUnsubscribed" and (
                    unsubscribe_seen(sim, record)):
                learned = index
            elif (learned is not None and record.kind == words.PUBLISH
                  and envelope.producer == "campaign" and envelope.event_type == "SendEmail"
                  and envelope.event.kind in CAMPAIGN_EMAILS):  # type: ignore[attr-defined]
                yield Violation(
                    "no campaign email after unsubscribe", user_id,
                    f"the campaign asked for a {envelope.event.kind!r} email for {user_id} "  # type: ignore[attr-defined]
                    f"at t={record.time}, after it had handled their unsubscribe; cancel the "
                    "pending timers, and skip a step that comes due after the unsubscribe",
                    ids_of(sim, user_id, "UserUnsubscribed", "CampaignStepDue", "SendEmail"))
                break


def unsubscribe_seen(sim: Simulation, record: object) -> bool:
    """Has the campaign taken this UserUnsubscribed record's message into account?

    Its commit if the campaign handles unsubscribes; the publish itself if it does not (then it
    can never learn of it, and any later campaign email is one too many).
    """
    kind, service = record.kind, record.service  # type: ignore[attr-defined]
    if "UserUnsubscribed" not in sim.definition("campaign").handlers:
        return kind == words.PUBLISH
    return service == "campaign" and kind in words.COMMITTED_KINDS


def dead_lettered(sim: Simulation, user_id: str, group: str | None = None) -> list:
    """The user's messages that a group (or any) gave up on, still in the dead letters."""
    return [letter for letter in sim.dead_letters if letter.envelope.correlation_id == user_id
            and (group is None or letter.group == group)]


def nothing_is_lost(sim: Simulation) -> Iterator[Violation]:
    """Once nothing is left to deliver for a user, no message of theirs waits in the dead letters."""
    for user_id in user_ids(sim):
        if not quiet(sim, user_id):
            continue
        for letter in dead_lettered(sim, user_id):
            yield Violation(
                "nothing is lost", user_id,
                f"{letter.group} gave up on {letter.envelope.event_type} "
                f"{letter.envelope.message_id} after {letter.attempts} attempts "
                f"({letter.reason}); it waits in the dead letters: fix the cause, then re-drive it",
                (letter.envelope.message_id,), "convergence")


NOTIFICATION_INVARIANTS = (one_welcome_email_per_user, analytics_counts_each_user_once,
                           no_campaign_email_after_unsubscribe, nothing_is_lost)


def notification_oracle() -> Oracle:
    """The fan-out's oracle: its invariants over its users. A user's workflow is finished once
    the campaign completed or stopped, and nothing of it is left to deliver."""
    from .whereabouts import where_is_user
    return Oracle(NOTIFICATION_INVARIANTS, user_ids,
                  describe=lambda sim, user_id: where_is_user(sim, user_id).splitlines()[0])
