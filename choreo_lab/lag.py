"""Consumer lag over virtual time: how far behind each consumer group falls, and when.

    series = lag_over_time(sim, duration=2_000, every=50)   # runs the simulation for 2 s
    print(series)                                            # one line per group: peak, end
    lag_chart(series)              # the same as a chart (choreo_lab.plots, matplotlib)

A group's lag is what `Simulation.lag` counts: messages sent to it that it has not acked or
dead-lettered yet. Groups are independent, so one group's lag says nothing about another's:
that is what a fan-out looks like from the broker's side.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .simulation import Simulation


@dataclass(frozen=True)
class LagSeries:
    """Each group's lag, sampled at the same virtual times."""

    times: tuple[int, ...]
    lags: dict[str, tuple[int, ...]]  # group -> its lag at each of `times`

    def peak(self, group: str) -> int:
        """The largest lag the group had in the samples."""
        return max(self._of(group), default=0)

    def last(self, group: str) -> int:
        """The group's lag at the last sample."""
        values = self._of(group)
        return values[-1] if values else 0

    def caught_up(self, group: str) -> int | None:
        """The first sample time from which the group's lag stays at zero (None: not by the end)."""
        values = self._of(group)
        time = None
        for at, value in zip(self.times, values, strict=True):
            if value and time is not None:
                time = None
            elif not value and time is None:
                time = at
        return time

    def _of(self, group: str) -> tuple[int, ...]:
        if group not in self.lags:
            raise KeyError(f"no consumer group {group!r} was sampled; the groups are: "
                           f"{', '.join(self.lags)}")
        return self.lags[group]

    def __str__(self) -> str:
        if not self.times:
            return "no samples"
        width = max(len(group) for group in self.lags)
        head = (f"lag sampled {len(self.times)} times, t={self.times[0]}..{self.times[-1]} ms")
        rows = [f"  {group:<{width}}  peak {self.peak(group):>4}   " + self._settled(group)
                for group in self.lags]
        return "\n".join([head, *rows])


    def _settled(self, group: str) -> str:
        at = self.caught_up(group)
        return f"caught up at t={at} ms" if at is not None else f"still {self.last(group)} behind"


def sample_lag(sim: Simulation, groups: Sequence[str] | None = None) -> dict[str, int]:
    """Each group's lag now (all groups unless `groups` names some)."""
    return {name: sim.lag(name) for name in (groups if groups is not None else sim.services)}


def lag_over_time(sim: Simulation, *, duration: int, every: int,
                  groups: Sequence[str] | None = None) -> LagSeries:
    """Run the simulation for `duration` virtual ms, sampling each group's lag every `every` ms.

    The first sample is taken before anything runs. Cost: duration / every samples, each
    reading one counter per group; the run itself costs what `run_for(duration)` costs.
    """
    for name, value in (("duration", duration), ("every", every)):
        if type(value) is not int or value < 1:
            raise ValueError(f"lag_over_time() takes {name} in whole virtual ms >= 1, got {value!r}")
    chosen = list(groups) if groups is not None else sim.services
    for name in chosen:
        sim.lag(name)  # an unknown name fails here, before anything runs
    times, samples = [sim.now], [sample_lag(sim, chosen)]
    end = sim.now + duration
    while sim.now < end:
        sim.run_for(min(every, end - sim.now))
        times.append(sim.now)
        samples.append(sample_lag(sim, chosen))
    return LagSeries(tuple(times), {name: tuple(s[name] for s in samples) for name in chosen})


# -- backlog age: how long the oldest waiting message has waited --------------------------------
#: A scaling rule: looks at the simulation after each sample and may call ``sim.scale(...)``.
ScalingRule = Callable[[Simulation], None]


@dataclass(frozen=True)
class BacklogSeries:
    """Each group's backlog (messages waiting) and the age of its oldest waiting message (ms),
    and how many instances it ran, sampled at the same virtual times."""

    times: tuple[int, ...]
    backlogs: dict[str, tuple[int, ...]]   # group -> messages waiting at each of `times`
    ages: dict[str, tuple[int, ...]]       # group -> oldest waiting message's age (ms)
    instances: dict[str, tuple[int, ...]]  # group -> instances running

    def oldest(self, group: str) -> int:
        """The greatest age of a waiting message the group had in the samples (ms)."""
        return max(self._of(self.ages, group), default=0)

    def _of(self, table: dict[str, tuple[int, ...]], group: str) -> tuple[int, ...]:
        if group not in table:
            raise KeyError(f"no consumer group {group!r} was sampled; the groups are: "
                           f"{', '.join(table)}")
        return table[group]

    def __str__(self) -> str:
        if not self.times:
            return "no samples"
        width = max(len(group) for group in self.ages)
        head = f"backlog sampled {len(self.times)} times, t={self.times[0]}..{self.times[-1]} ms"
        rows = [f"  {group:<{width}}  most waiting {max(self.backlogs[group]):>4}   oldest waited "
                f"{self.oldest(group):>8} ms   instances {max(self.instances[group])}"
                for group in self.ages]
        return "\n".join([head, *rows])


def backlog_age_over_time(sim: Simulation, *, duration: int, every: int,
                          groups: Sequence[str] | None = None,
                          rule: ScalingRule | None = None) -> BacklogSeries:
    """Run the simulation for `duration` virtual ms, sampling each group's backlog and the age
    of its oldest waiting message every `every` ms. After each sample `rule(sim)` (if given)
    may scale a service, e.g. ``sim.scale("worker", 2)`` when its oldest message is too old.

    Cost: duration / every samples, each one pass over the sampled groups' backlogs.
    """
    for name, value in (("duration", duration), ("every", every)):
        if type(value) is not int or value < 1:
            raise ValueError(f"backlog_age_over_time() takes {name} in whole virtual ms >= 1, "
                             f"got {value!r}")
    if rule is not None and not callable(rule):
        raise TypeError("rule is a function (sim) -> None that may call sim.scale(...)")
    chosen = list(groups) if groups is not None else sim.services
    samples: list[dict[str, tuple[int, int, int]]] = []
    times: list[int] = []
    end = sim.now + duration
    while True:
        stats = sim.stats()
        times.append(sim.now)
        samples.append({name: (stats[name]["backlog"], sim.oldest_waiting(name),
                               stats[name]["instances"]) for name in chosen})
        if sim.now >= end:
            break
        if rule is not None:
            rule(sim)
        sim.run_for(min(every, end - sim.now))
    return BacklogSeries(tuple(times), *({name: tuple(s[name][column] for s in samples)
                                          for name in chosen} for column in range(3)))
