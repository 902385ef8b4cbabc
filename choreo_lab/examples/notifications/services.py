"""The four consumers of UserRegistered, each a consumer group of its own, none calling another.

    signup --UserRegistered--> email      --SendEmail--> email-provider   (the welcome email)
                          \\--> analytics                                  (counts sign-ups)
                          \\--> crm                                        (syncs the contact)
                          \\--> campaign   --SendEmail--> email-provider   (day 0, 3 and 7)

Each group has its own position in the log, its own backlog and its own dead letters: a CRM
that is down holds up nobody else. The campaign uses timers for its later steps and stops
when the user unsubscribes. `make_sms_service` is the consumer that joins months later.

The switches (`idempotency_keys=False`, `counted_once=False`) build the naive versions the
notebook starts from.
"""

from __future__ import annotations

from ...context import Context
from ...events import Message
from ...middleware import inbox
from ...service import Service
from .events import (
    CampaignCompleted,
    CampaignStepDue,
    CampaignStopped,
    SendEmail,
    SendSms,
    UserRegistered,
    UserUnsubscribed,
)

DAY = 24 * 60 * 60 * 1000  # virtual ms
#: the welcome campaign's later steps: step -> days after sign-up
CAMPAIGN_STEPS: dict[str, int] = {"tip": 3, "survey": 7}
#: how long after sign-up an unconfirmed email address gets a reminder (virtual ms)
REMINDER_AFTER = 2 * DAY


# -- email: the welcome email, through the outside provider -----------------------------------
def make_email_service(*, idempotency_keys: bool = True) -> Service:
    """Email asks the provider for one welcome email per user, under a key the provider honours."""
    email = Service("email", {"asked": {}})

    @email.handles(UserRegistered, publishes=(SendEmail,))
    def send_welcome_email(event: UserRegistered, ctx: Context) -> SendEmail:
        ctx.state["asked"][event.user_id] = ctx.message_id
        key = f"welcome/{event.user_id}" if idempotency_keys else ""
        return SendEmail(to=event.email, user_id=event.user_id, kind="welcome",
                         idempotency_key=key)

    return email


# -- analytics: counts sign-ups -----------------------------------------------------------------
def by_user(event: UserRegistered, ctx: Context) -> str:
    """The analytics inbox's key: a user is counted once, whichever message says they signed up."""
    return event.user_id


def make_analytics_service(*, counted_once: bool = True) -> Service:
    """Analytics counts each sign-up; its inbox (by user id) makes a repeat count for nothing."""
    analytics = Service("analytics", {"signups": 0, "counted": []},
                        middleware=[inbox(key=by_user)] if counted_once else [])

    @analytics.handles(UserRegistered)
    def count_signup(event: UserRegistered, ctx: Context) -> None:
        ctx.state["signups"] += 1
        ctx.state["counted"].append(event.user_id)

    return analytics


# -- crm: syncs the contact to the sales team's CRM (which may be down) -------------------------
def make_crm_service(*, outage: tuple[int, int] | None = None) -> Service:
    """CRM stores each new contact; during `outage` (from, until: virtual ms) its API is down."""
    crm = Service("crm", {"contacts": {}, "outage": list(outage) if outage else None})

    @crm.handles(UserRegistered)
    def sync_contact(event: UserRegistered, ctx: Context) -> None:
        outage = ctx.state["outage"]
        if outage is not None and outage[0] <= ctx.now < outage[1]:
            raise ConnectionError("the CRM's API is not answering")
        ctx.state["contacts"][event.user_id] = {"name": event.name, "email": event.email}

    return crm


# -- campaign: day 0 now, the tip and the survey on timers; stops on unsubscribe ----------------
def make_campaign_service() -> Service:
    """The welcome campaign: a getting-started email now, a tip on day 3, a survey on day 7."""
    campaign = Service("campaign", {"users": {}, "unsubscribed": {}, "finished": []})

    @campaign.handles(UserRegistered, publishes=(SendEmail, CampaignStepDue))
    def start_campaign(event: UserRegistered, ctx: Context) -> list[Message]:
        state = ctx.state
        if event.user_id in state["unsubscribed"] or event.user_id in state["users"]:
            return []  # unsubscribed before we started, or a repeat
        state["users"][event.user_id] = event.email
        for step, days in CAMPAIGN_STEPS.items():
            ctx.schedule(CampaignStepDue(user_id=event.user_id, step=step), after=days * DAY,
                         name=f"{step}/{event.user_id}")
        return [campaign_email(event.user_id, event.email, "getting-started")]

    @campaign.handles(CampaignStepDue, publishes=(SendEmail, CampaignCompleted))
    def send_step(event: CampaignStepDue, ctx: Context) -> list[Message]:
        state = ctx.state
        if event.user_id in state["unsubscribed"] or event.user_id in state["finished"]:
            return []  # the timer fired before we heard of the unsubscribe: too late to cancel
        sent = [campaign_email(event.user_id, state["users"][event.user_id], event.step)]
        if event.step == list(CAMPAIGN_STEPS)[-1]:
            state["finished"].append(event.user_id)
            sent.append(CampaignCompleted(user_id=event.user_id))
        return sent

    @campaign.handles(UserUnsubscribed, publishes=(CampaignStopped,))
    def stop_campaign(event: UserUnsubscribed, ctx: Context) -> list[Message]:
        state = ctx.state
        if event.user_id in state["unsubscribed"] or event.user_id in state["finished"]:
            return []
        state["unsubscribed"][event.user_id] = ctx.now
        for step in CAMPAIGN_STEPS:
            ctx.cancel(f"{step}/{event.user_id}")
        return [CampaignStopped(user_id=event.user_id)]

    return campaign


def campaign_email(user_id: str, to: str, step: str) -> SendEmail:
    """One campaign email, keyed by user and step so the provider sends it once."""
    return SendEmail(to=to, user_id=user_id, kind=step, idempotency_key=f"campaign/{step}/{user_id}")


# -- sms: the consumer added months later -------------------------------------------------------
def make_sms_service() -> Service:
    """SMS keeps every member and texts each one a welcome: the naive late consumer.

    Added with ``start="beginning"`` it rebuilds its members from the whole log - and texts
    every user who ever signed up, months late. (Notebook 08 shows the alternatives.)
    """
    sms = Service("sms", {"members": {}})

    @sms.handles(UserRegistered, publishes=(SendSms,))
    def text_welcome(event: UserRegistered, ctx: Context) -> SendSms:
        ctx.state["members"][event.user_id] = ctx.envelope.published_at
        return SendSms(to=event.phone, user_id=event.user_id, text="welcome",
                       idempotency_key=f"sms-welcome/{event.user_id}")

    return sms
