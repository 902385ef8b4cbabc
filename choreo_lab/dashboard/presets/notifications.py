"""The fan-out's dashboard: register users, unsubscribe one, add the SMS service late."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ...examples import notifications
from ...faults import FaultPlan
from ...simulation import Simulation
from ..board import Dashboard, workflow_statuses
from ..snapshot import ConsistencyOracle

#: where the late SMS service may start, in the learner's words -> `add_service(start=...)`
SMS_STARTS: dict[str, str] = {"now": "now", "the beginning": "beginning", "a day ago": "a day ago"}


class NotificationDashboard(Dashboard):
    """The dashboard over the notification fan-out.

    `crm_outage` (from, until: virtual ms) makes the CRM's API fail meanwhile, so its
    messages are retried and dead-lettered while the other groups carry on; `sim_options`
    go to `Simulation`.
    """

    def __init__(self, seed: int = 0, *, oracle: ConsistencyOracle | None = None,
                 crm_outage: tuple[int, int] | None = None, latency: int = 10, jitter: int = 4,
                 **sim_options: Any) -> None:
        def system(seed: int, faults: FaultPlan) -> Simulation:
            services = notifications.notification_services(crm_outage=crm_outage)
            return notifications.notification_system(seed, services=services, latency=latency,
                                                     jitter=jitter,
                                                     **{"faults": faults, **sim_options})

        actions: dict[str, Callable[[Simulation], object]] = {
            "Register a user": self._register, "Unsubscribe the latest user": self._unsubscribe}
        for words, start in SMS_STARTS.items():
            actions[f"Add SMS from {words}"] = self._sms_action(start)
        super().__init__(system, seed=seed,
                         oracle=oracle if oracle is not None else notifications.notification_oracle(),
                         workflows=workflow_statuses, actions=actions,
                         title="Notifications: one event, four consumers")

    def register_user(self) -> str:
        """A user signs up (u-1, u-2, ...); returns the user id."""
        return str(self.act("Register a user"))

    def unsubscribe_latest(self) -> str:
        """The latest user to sign up unsubscribes; returns the user id."""
        return str(self.act("Unsubscribe the latest user"))

    def add_sms(self, start: str) -> None:
        """Add the SMS service now; `start` is one of the keys of `SMS_STARTS`."""
        if start not in SMS_STARTS:
            raise ValueError(f"no start {start!r}; choose one of {list(SMS_STARTS)}")
        self.act(f"Add SMS from {start}")

    def _register(self, sim: Simulation) -> str:
        user_id = f"u-{len(notifications.user_ids(sim)) + 1}"
        notifications.register_user(sim, user_id,
                                    name=notifications.NAMES[(len(sim.trace.messages)) % 10])
        return user_id

    def _unsubscribe(self, sim: Simulation) -> str:
        users = notifications.user_ids(sim)
        if not users:
            raise ValueError("nobody has registered yet: click Register a user first")
        notifications.unsubscribe(sim, users[-1])
        return users[-1]

    def _sms_action(self, start: str) -> Callable[[Simulation], None]:
        def add(sim: Simulation) -> None:
            if "sms" in sim.services:
                raise ValueError("the SMS service is running already; press Reset to try "
                                 "another start")
            since = max(0, sim.now - notifications.DAY) if start == "a day ago" else start
            sim.add_service(notifications.make_sms_service(), start=since)  # type: ignore[arg-type]
        return add


def notification_dashboard(seed: int = 0, **options: Any) -> NotificationDashboard:
    """The fan-out's dashboard, ready to display: ``notification_dashboard(seed=7)``."""
    return NotificationDashboard(seed, **options)
