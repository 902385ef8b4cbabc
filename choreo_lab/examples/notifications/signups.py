"""The fan-out run together: a simulation of the four consumers and the providers, and users
signing up (and some unsubscribing), seeded."""

from __future__ import annotations

import random
from collections.abc import Iterable
from typing import Any

from ...envelope import Envelope
from ...service import Service
from ...simulation import Simulation
from .events import EmailConfirmed, UserRegistered, UserUnsubscribed
from .providers import make_email_provider, make_sms_gateway
from .services import (
    make_analytics_service,
    make_campaign_service,
    make_crm_service,
    make_email_service,
)

NAMES: tuple[str, ...] = ("ada", "grace", "alan", "barbara", "edsger", "margaret", "linus",
                          "frances", "donald", "radia")
#: The four consumer groups of UserRegistered, in the order the notebook names them.
CONSUMERS: tuple[str, ...] = ("email", "analytics", "crm", "campaign")


def notification_services(*, crm_outage: tuple[int, int] | None = None,
                          idempotency_keys: bool = True, counted_once: bool = True,
                          **replacements: Service) -> list[Service]:
    """The four consumers, the email provider and the SMS gateway. ``crm=my_crm`` swaps one in."""
    services: dict[str, Service] = {
        "email": make_email_service(idempotency_keys=idempotency_keys),
        "analytics": make_analytics_service(counted_once=counted_once),
        "crm": make_crm_service(outage=crm_outage),
        "campaign": make_campaign_service(),
        "email-provider": make_email_provider(),
        "sms-gateway": make_sms_gateway(),
    }
    for name, service in replacements.items():
        if name not in services:
            raise ValueError(f"no service {name!r} to replace; the fan-out has "
                             f"{', '.join(services)}")
        services[name] = service
    return list(services.values())


def notification_system(seed: int | str = 0, *, services: list[Service] | None = None,
                        **options: Any) -> Simulation:
    """A simulation of the fan-out. `options` go to `Simulation` (latency, faults, ...)."""
    return Simulation(services if services is not None else notification_services(),
                      seed=seed, **options)


def register_user(sim: Simulation, user_id: str, *, name: str | None = None) -> Envelope:
    """A user signs up: UserRegistered, in the user's own workflow (correlation id = user id)."""
    name = name or user_id
    return sim.publish(UserRegistered(user_id=user_id, name=name, email=f"{name}@example.org",
                                      phone=f"+44 7700 9{sum(map(ord, user_id)) % 100000:05d}"),
                       key=user_id, correlation_id=user_id, producer="signup")


def unsubscribe(sim: Simulation, user_id: str) -> Envelope:
    """The user clicks "unsubscribe" in an email."""
    return sim.publish(UserUnsubscribed(user_id=user_id), key=user_id, correlation_id=user_id,
                       producer="signup")


def confirm_email(sim: Simulation, user_id: str) -> Envelope:
    """The user clicks the confirmation link in the welcome email."""
    return sim.publish(EmailConfirmed(user_id=user_id), key=user_id, correlation_id=user_id,
                       producer="signup")


def random_signups(count: int, seed: int | str = 0, *,
                   unsubscribe_rate: float = 0.3) -> list[dict[str, Any]]:
    """`count` users (u-1, u-2, ...); about `unsubscribe_rate` of them unsubscribe at once."""
    rng = random.Random(f"signups/{seed}")
    return [{"user_id": f"u-{n}", "name": rng.choice(NAMES),
             "unsubscribes": rng.random() < unsubscribe_rate} for n in range(1, count + 1)]


def sign_up(sim: Simulation, users: Iterable[dict[str, Any]]) -> list[Envelope]:
    """Register each user (as `random_signups` makes them); unsubscribe those who do."""
    users = list(users)
    registered = [register_user(sim, user["user_id"], name=user["name"]) for user in users]
    for user in users:
        if user.get("unsubscribes"):
            unsubscribe(sim, user["user_id"])
    return registered
