"""Fault plans as data: what goes wrong, where and when. Replay a plan to replay a failure.

Scheduled faults act on a service at a virtual time (`Kill`, `Restart`, `Pause`, `Resume`).
Delivery faults act on messages that match their target (service, event type, workflow),
with a probability drawn from the simulation's seeded fault stream, at most `times` times,
or only at the `occurrence`-th delivery they match. Faults decided on a delivery attempt
(drop, crash, duplicate) can also target one `attempt` (2: the first redelivery).

Which event a fault targets is given as the event class or its type name (`OrderPlaced` or
"OrderPlaced"), the same identity handlers are registered for.
"""

from __future__ import annotations

import random
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .errors import FaultPlanError
from .events import is_message_type

CrashPoint = Literal["before_commit", "after_commit_before_ack", "after_write_before_publish"]
CRASH_POINTS: tuple[str, ...] = ("before_commit", "after_commit_before_ack", "after_write_before_publish")
#: Faults that happen to a service at a time, rather than to a delivery.
SCHEDULED_KINDS: tuple[str, ...] = ("kill", "restart", "pause", "resume")


class _Fault(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    def __init__(self, **data: object) -> None:
        try:
            super().__init__(**data)
        except ValidationError as error:
            problems = "; ".join(f"{'.'.join(map(str, p['loc'])) or 'the fault'}: {p['msg']}"
                                 for p in error.errors(include_url=False))
            raise FaultPlanError(f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in data.items())}) "
                                 f"is not a valid fault: {problems}") from None


class _Scheduled(_Fault):
    service: str
    at: int = Field(ge=0, description="virtual time (ms) at which it happens")


class Kill(_Scheduled):
    """The service stops consuming; messages it was processing are redelivered later."""
    kind: Literal["kill"] = "kill"


class Restart(_Scheduled):
    """A killed service comes back with the state it had committed and drains its backlog."""
    kind: Literal["restart"] = "restart"


class Pause(_Scheduled):
    """The service finishes what it holds but takes nothing new."""
    kind: Literal["pause"] = "pause"


class Resume(_Scheduled):
    """A paused service takes messages again."""
    kind: Literal["resume"] = "resume"


class _DeliveryFault(_Fault):
    probability: float = Field(1.0, ge=0.0, le=1.0)
    service: str | None = None
    event_type: str | None = None
    correlation_id: str | None = None
    times: int | None = Field(None, ge=1, description="fire at most this often (None: no limit)")
    occurrence: int | None = Field(None, ge=1, description="fire only at the n-th delivery it matches")

    @field_validator("event_type", mode="before")
    @classmethod
    def _type_name(cls, value: object) -> object:
        """An event class stands for its type name."""
        return value.event_type if is_message_type(value) else value  # type: ignore[union-attr]

    def matches(self, group: str, event_type: str, correlation_id: str, attempt: int) -> bool:
        return ((self.service is None or self.service == group)
                and (self.event_type is None or self.event_type == event_type)
                and (self.correlation_id is None or self.correlation_id == correlation_id))


class _AttemptFault(_DeliveryFault):
    """A delivery fault decided on one delivery attempt, which it may target."""
    attempt: int | None = Field(None, ge=1, description="fire only on this attempt (1: the first)")

    def matches(self, group: str, event_type: str, correlation_id: str, attempt: int) -> bool:
        return ((self.attempt is None or self.attempt == attempt)
                and super().matches(group, event_type, correlation_id, attempt))


class Duplicate(_AttemptFault):
    """The ack is lost after processing, so the broker delivers the same message again."""
    kind: Literal["duplicate"] = "duplicate"


class Delay(_DeliveryFault):
    """The delivery arrives `by` ms late (later messages with the same key wait behind it)."""
    kind: Literal["delay"] = "delay"
    by: int = Field(50, ge=1)


class Reorder(_DeliveryFault):
    """The delivery arrives `by` ms late and later messages with the same key overtake it."""
    kind: Literal["reorder"] = "reorder"
    by: int = Field(50, ge=1)


class Drop(_AttemptFault):
    """The delivery is lost on the way; with no ack, the broker redelivers after its ack timeout."""
    kind: Literal["drop"] = "drop"


class Crash(_AttemptFault):
    """The handler's process crashes at `point`; the message is not acked and comes again.

    - ``before_commit``: the handler ran but nothing it did was kept.
    - ``after_commit_before_ack``: state and outgoing events were committed, the ack was not.
    - ``after_write_before_publish``: only with the outbox off (the dual-write bug): the state
      write was kept, the events it meant to publish were not.
    """
    kind: Literal["crash"] = "crash"
    point: CrashPoint = "before_commit"


RelayPoint = Literal["before_publish", "after_publish"]
RELAY_POINTS: tuple[str, ...] = ("before_publish", "after_publish")


class RelayCrash(_DeliveryFault):
    """A service's relay crashes at one of its publishes (see `Service.relay`).

    - ``before_publish``: what the relay wrote so far is kept; this message is not sent.
    - ``after_publish``: the message is sent; nothing the relay would do next happens (such
      as marking the outbox row sent).

    `event_type` and `correlation_id` match the message being published; `occurrence` counts
    the relay's publishes that match. The relay runs again `every` ms later.
    """
    kind: Literal["relay-crash"] = "relay-crash"
    point: RelayPoint = "before_publish"


AnyFault = Annotated[Kill | Restart | Pause | Resume | Duplicate | Delay | Reorder | Drop | Crash
                     | RelayCrash, Field(discriminator="kind")]


class FaultPlan(_Fault):
    """An ordered list of faults. Plans are plain data: print them, save them as JSON, replay them."""

    faults: tuple[AnyFault, ...] = ()

    def __add__(self, other: FaultPlan) -> FaultPlan:
        return FaultPlan(faults=self.faults + other.faults)

    def __len__(self) -> int:
        return len(self.faults)

    def describe(self) -> str:
        """One line per fault, for reports and counterexamples."""
        if not self.faults:
            return "(no faults)"
        lines = []
        for fault in self.faults:
            fields = fault.model_dump(exclude={"kind"}, exclude_defaults=True)
            shown = ", ".join(f"{k}={v!r}" for k, v in fields.items())
            lines.append(f"{fault.kind}({shown})")
        return "\n".join(lines)


class FaultInjector:
    """Decides, delivery by delivery, which delivery faults fire. Runtime bookkeeping only.

    How often each fault has matched and fired is kept across `replace`, and the coin tosses
    come from one seeded stream for the whole run.
    """

    def __init__(self, plan: FaultPlan, seed: int | str) -> None:
        self.rng = random.Random(f"faults/{seed}")
        self.matched: dict[tuple[_DeliveryFault, int], int] = {}
        self.fired: dict[tuple[_DeliveryFault, int], int] = {}
        self.by_kind: dict[str, list[tuple[_DeliveryFault, int]]] = {}
        self.replace(plan)

    def replace(self, plan: FaultPlan) -> None:
        """Use `plan`'s delivery faults from now on; a fault it shares with the old plan keeps its counts."""
        self.by_kind = {}
        seen: dict[_DeliveryFault, int] = {}
        for fault in plan.faults:
            if isinstance(fault, _DeliveryFault):
                twin = seen[fault] = seen.get(fault, -1) + 1  # equal faults are counted apart
                self.by_kind.setdefault(fault.kind, []).append((fault, twin))

    def active(self) -> bool:
        """Is any delivery fault planned?"""
        return bool(self.by_kind)

    def plans(self, kind: str) -> bool:
        """Is any fault of this kind in the plan? (Most deliveries meet none.)"""
        return kind in self.by_kind

    def fire(self, kind: str, group: str, event_type: str, correlation_id: str,
             attempt: int = 0) -> _DeliveryFault | None:
        """The first fault of `kind` that matches, has budget left and wins its coin toss, or None.

        `attempt` is the delivery attempt decided on (0 for a delivery not yet attempted).
        """
        for entry in self.by_kind.get(kind, ()):
            fault = entry[0]
            if not fault.matches(group, event_type, correlation_id, attempt):
                continue
            self.matched[entry] = matched = self.matched.get(entry, 0) + 1
            if fault.occurrence is not None and matched != fault.occurrence:
                continue
            if fault.times is not None and self.fired.get(entry, 0) >= fault.times:
                continue
            if fault.probability < 1.0 and self.rng.random() >= fault.probability:
                continue
            self.fired[entry] = self.fired.get(entry, 0) + 1
            return fault
        return None
