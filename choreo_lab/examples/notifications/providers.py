"""Fake outside systems: an email provider and an SMS gateway that record what they "sent".

They are services of their own, reached only by a command (`SendEmail`, `SendSms`), because
that is what an outside system is to us: something we ask, over a network, that keeps its
own records. What they recorded survives a kill of the service that asked, and nothing our
services do can roll it back: an email, once sent, stays sent. A request can reach them
twice - the asking service retried after a lost ack, or the provider's own answer was lost
and the broker delivered the request again - and like real providers they then send twice,
unless the request carries an idempotency key they have seen before.
"""

from __future__ import annotations

from typing import Any

from ...context import Context
from ...service import Service
from ...simulation import Simulation
from .events import SendEmail, SendSms


def record_sending(ctx: Context, user_id: str, what: str, to: str, key: str) -> None:
    """Send (record) one message, unless its idempotency key was seen: then it is sent already."""
    state = ctx.state
    if key and key in state["keys"]:
        return
    state["sent"].append({"user_id": user_id, "what": what, "to": to, "key": key,
                          "requested_at": ctx.envelope.published_at, "sent_at": ctx.now,
                          "request": ctx.message_id})
    if key:
        state["keys"][key] = len(state["sent"]) - 1


def make_email_provider() -> Service:
    """The email provider: every email it sends goes into ``sent`` (one entry each)."""
    provider = Service("email-provider", {"sent": [], "keys": {}})

    @provider.handles(SendEmail)
    def send_email(command: SendEmail, ctx: Context) -> None:
        record_sending(ctx, command.user_id, command.kind, command.to, command.idempotency_key)

    return provider


def make_sms_gateway() -> Service:
    """The SMS gateway: every text it sends goes into ``sent`` (one entry each)."""
    gateway = Service("sms-gateway", {"sent": [], "keys": {}})

    @gateway.handles(SendSms)
    def send_sms(command: SendSms, ctx: Context) -> None:
        record_sending(ctx, command.user_id, command.text, command.to, command.idempotency_key)

    return gateway


def sent(sim: Simulation, provider: str, user_id: str | None = None,
         what: str | None = None) -> list[dict[str, Any]]:
    """What an outside provider sent (to one user, of one kind), in the order it sent it."""
    state = sim.state(provider) if provider in sim.services else {}
    return [entry for entry in state.get("sent", [])
            if (user_id is None or entry["user_id"] == user_id)
            and (what is None or entry["what"] == what)]
