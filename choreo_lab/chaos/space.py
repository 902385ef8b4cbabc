"""What the explorer may inject, and fault plans cut into units (a fault, or an outage with its end)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from ..faults import CRASH_POINTS, AnyFault, FaultPlan

FAULT_KINDS: tuple[str, ...] = ("kill", "pause", "duplicate", "delay", "reorder", "drop", "crash")
#: kinds that cost the message they hit one delivery attempt
ATTEMPT_COSTS = ("kill", "duplicate", "drop", "crash")
Unit = tuple[AnyFault, ...]  # one fault, or an outage with its end (Kill + Restart, Pause + Resume)


@dataclass(frozen=True)
class FaultSpace:
    """What the explorer may inject: which kinds of fault, where, how many per schedule, how big.

    - `kinds`: any of ``kill`` (with its restart), ``pause`` (with its resume),
      ``duplicate`` (a lost ack), ``delay``, ``reorder``, ``drop``, ``crash``.
    - `crash_points`: None means every point the system allows; ``after_write_before_publish``
      only exists when the system is built with ``outbox=False``.
    - `services`: the services whose deliveries and outages faults may hit (None: all).
    - `max_faults`: the most faults in one random schedule.
    - `horizon`: random outages start in ``[0, horizon]`` ms. None: as long as the fault-free
      control run took, so faults land while the system under test is busy.
    - `longest_outage`, `longest_delay` (ms): None means the horizon. A systematic kill or
      pause lasts `longest_outage`, a systematic delay is `longest_delay`: long enough for
      the rest of the control run to happen meanwhile.
    """

    kinds: tuple[str, ...] = FAULT_KINDS
    max_faults: int = 3
    horizon: int | None = None
    longest_outage: int | None = None
    longest_delay: int | None = None
    crash_points: tuple[str, ...] | None = None
    services: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        unknown = [kind for kind in self.kinds if kind not in FAULT_KINDS]
        if unknown or not self.kinds:
            raise ValueError(f"FaultSpace kinds {list(self.kinds)!r}: choose one or more of "
                             f"{', '.join(FAULT_KINDS)} (restarts and resumes come with kills "
                             "and pauses)")
        points = [p for p in self.crash_points or () if p not in CRASH_POINTS]
        if points:
            raise ValueError(f"unknown crash point(s) {points}; "
                             f"choose from {', '.join(CRASH_POINTS)}")
        if isinstance(self.services, str):
            raise TypeError(f"FaultSpace services takes a tuple of names, e.g. "
                             f"services=({self.services!r},)")
        lengths = [v for v in (self.longest_outage, self.longest_delay) if v is not None]
        if self.max_faults < 1 or min(lengths, default=1) < 1 or (self.horizon or 0) < 0:
            raise ValueError("FaultSpace needs max_faults >= 1, horizon >= 0, and "
                             "longest_outage, longest_delay >= 1 (or None: from the control run)")

    def fitted(self, duration: int) -> FaultSpace:
        """This space with each length left as None taken from the control run's `duration` (ms)."""
        horizon = self.horizon if self.horizon is not None else max(duration, 1)
        return replace(self, horizon=horizon,
                       longest_outage=self.longest_outage or max(horizon, 1),
                       longest_delay=self.longest_delay or max(horizon, 1))


def plan_of(units: Sequence[Unit]) -> FaultPlan:
    """The fault plan of these units, in order (the inverse of `units_of`)."""
    return FaultPlan(faults=tuple(fault for unit in units for fault in unit))


def units_of(plan: FaultPlan) -> list[Unit]:
    """Split a plan into units: an outage and its end (adjacent, same service) stay together."""
    units: list[Unit] = []
    ends = {"kill": "restart", "pause": "resume"}
    for fault in plan.faults:
        if (units and len(units[-1]) == 1 and ends.get(units[-1][0].kind) == fault.kind
                and units[-1][0].service == fault.service):  # type: ignore[union-attr]
            units[-1] = (units[-1][0], fault)
        else:
            units.append((fault,))
    return units
