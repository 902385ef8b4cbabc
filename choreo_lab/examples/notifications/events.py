"""The notification fan-out's messages: what happened to a user, and what is asked of providers.

One fact, `UserRegistered`, is consumed independently by four services. The campaign's
timer event and its two outcomes end a user's workflow. The two commands go to outside
systems (an email provider, an SMS gateway), which we reach but do not own.
"""

from __future__ import annotations

from ...events import Command, Event


class UserRegistered(Event):
    """A user signed up on the website (from outside the system)."""
    user_id: str
    name: str
    email: str
    phone: str


class UserUnsubscribed(Event):
    """The user asked for no more marketing email (from outside the system)."""
    user_id: str


class EmailConfirmed(Event):
    """The user clicked the link in the welcome email (from outside the system)."""
    user_id: str


class CampaignStepDue(Event):
    """A timer of the welcome campaign fired: the next step ("tip", "survey") is due."""
    user_id: str
    step: str


class ReminderDue(Event):
    """A timer fired: the user was asked to confirm their email address a while ago."""
    user_id: str


class CampaignCompleted(Event, outcome="completed"):
    """The welcome campaign sent its last step to the user."""
    user_id: str


class CampaignStopped(Event, outcome="completed"):
    """The welcome campaign stopped early, because the user unsubscribed; nothing more is sent."""
    user_id: str


class SendEmail(Command):
    """Ask the email provider to send one email. An `idempotency_key` it has seen is sent once."""
    to: str
    user_id: str
    kind: str
    idempotency_key: str = ""


class SendSms(Command):
    """Ask the SMS gateway to send one text. An `idempotency_key` it has seen is sent once."""
    to: str
    user_id: str
    text: str
    idempotency_key: str = ""


NOTIFICATION_EVENTS: tuple[type[Event] | type[Command], ...] = (
    UserRegistered, UserUnsubscribed, EmailConfirmed, CampaignStepDue, ReminderDue,
    CampaignCompleted, CampaignStopped, SendEmail, SendSms)
