"""The notification fan-out: one fact, UserRegistered, consumed by four independent groups.

Read in this order: `events` (what happens, and the commands to outside systems),
`providers` (the fake email provider and SMS gateway, which record what they send),
`services` (email, analytics, crm, the timed welcome campaign, and the SMS service that
joins later), `signups` (running them together), then `invariants` and `whereabouts`.
"""

from __future__ import annotations

from .events import (
    NOTIFICATION_EVENTS,
    CampaignCompleted,
    CampaignStepDue,
    CampaignStopped,
    EmailConfirmed,
    ReminderDue,
    SendEmail,
    SendSms,
    UserRegistered,
    UserUnsubscribed,
)
from .invariants import NOTIFICATION_INVARIANTS, notification_oracle, user_ids
from .providers import make_email_provider, make_sms_gateway, sent
from .services import (
    CAMPAIGN_STEPS,
    DAY,
    REMINDER_AFTER,
    make_analytics_service,
    make_campaign_service,
    make_crm_service,
    make_email_service,
    make_sms_service,
)
from .signups import (
    CONSUMERS,
    NAMES,
    confirm_email,
    notification_services,
    notification_system,
    random_signups,
    register_user,
    sign_up,
    unsubscribe,
)
from .whereabouts import where_is_user

__all__ = [
    "CAMPAIGN_STEPS", "CONSUMERS", "DAY", "NAMES", "NOTIFICATION_EVENTS",
    "NOTIFICATION_INVARIANTS", "REMINDER_AFTER", "CampaignCompleted", "CampaignStepDue", "CampaignStopped",
    "EmailConfirmed", "ReminderDue", "SendEmail", "SendSms", "UserRegistered", "UserUnsubscribed",
    "confirm_email", "make_analytics_service", "make_campaign_service", "make_crm_service",
    "make_email_provider", "make_email_service", "make_sms_gateway", "make_sms_service",
    "notification_oracle", "notification_services", "notification_system", "random_signups",
    "register_user", "sent", "sign_up", "unsubscribe", "user_ids", "where_is_user",
]
