"""Extra panels for a dashboard: a function of the simulation, drawn at its bottom.

    Dashboard(system, views={"Backlog age": BacklogAgeView(["transcoding"])})

A view is any function `view(sim)` that returns something to show: a `plots.Chart` (drawn as
its PNG), an object with ``_repr_html_``, or anything else (shown as text). The dashboard
calls it at each refresh in which virtual time has moved, so a paused simulation costs
nothing. A view that raises is reported in the dashboard's problem banner, like a learner's
handler; the rest of the dashboard goes on.

A view that also has `sample(sim)` and `every` (virtual ms) is sampled while the dashboard
runs: Run for and Play run in slices of `every` ms, Run until idle samples each time a step
moves the clock `every` ms or more. So a chart follows virtual time, not the redraws.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from typing import Any

import ipywidgets as widgets

from ..lag import BacklogSeries
from ..plots import Chart, backlog_age_chart
from ..simulation import Simulation

View = Callable[[Simulation], Any]


class ViewPanel:
    """One view's panel: a title, and the latest picture or text the view returned."""

    def __init__(self, title: str, view: View) -> None:
        self.title, self.view = title, view
        self.image = widgets.Image(format="png", layout=widgets.Layout(max_width="760px"))
        self.text = widgets.HTML()
        self.box = widgets.VBox([widgets.HTML(f"<b>{html.escape(title)}</b>"), self.image,
                                 self.text])
        self.box.add_class("choreo-view")
        self.drawn: tuple[Simulation, int] | None = None  # what was drawn last, and when

    def draw(self, sim: Simulation) -> None:
        """Ask the view again if the simulation or its time changed since the last drawing."""
        if self.drawn is not None and self.drawn[0] is sim and self.drawn[1] == sim.now:
            return
        self.drawn = (sim, sim.now)
        shown = self.view(sim)
        if isinstance(shown, Chart):
            self.image.value, self.text.value = shown.png(), ""
            self.image.layout.display = None
            return
        self.image.layout.display = "none"
        if hasattr(shown, "_repr_html_"):
            self.text.value = shown._repr_html_()
        else:
            self.text.value = f"<pre>{html.escape(str(shown))}</pre>"


class BacklogAgeView:
    """A view: the groups' oldest waiting message's age and backlog, sampled every `every`
    virtual ms while the dashboard runs (and at each refresh); the axes start at 0.

    The samples start again when the dashboard is reset (a new simulation).
    """

    def __init__(self, groups: Sequence[str], *, every: int = 10_000, keep: int = 400) -> None:
        if type(every) is not int or every < 1:
            raise ValueError(f"every is whole virtual ms >= 1, got {every!r}")
        self.groups, self.every, self.keep = tuple(groups), every, keep
        self.sim: Simulation | None = None
        self.samples: list[tuple[int, dict[str, tuple[int, int, int]]]] = []

    def __call__(self, sim: Simulation) -> Chart:
        self.sample(sim)
        chart = backlog_age_chart(self.series())
        for axes in chart.figure.axes:  # counts and ages: 0 is the floor, and 1 a useful top
            axes.set_ylim(bottom=0, top=max(1.0, axes.get_ylim()[1]))
        return chart

    def sample(self, sim: Simulation) -> None:
        """Record the groups' backlog, oldest age and instances now (one per virtual time)."""
        if sim is not self.sim:
            self.sim, self.samples = sim, []
        stats = sim.stats()
        sample = {group: (stats[group]["backlog"], sim.oldest_waiting(group),
                          stats[group]["instances"]) for group in self.groups}
        if self.samples and self.samples[-1][0] == sim.now:
            self.samples[-1] = (sim.now, sample)
        else:
            self.samples = [*self.samples, (sim.now, sample)][-self.keep:]

    def series(self) -> BacklogSeries:
        """The samples so far, as `lag.backlog_age_over_time` would have returned them."""
        def column(group: str, index: int) -> tuple[int, ...]:
            return tuple(sample[group][index] for _, sample in self.samples)
        return BacklogSeries(times=tuple(time for time, _ in self.samples),
                             backlogs={g: column(g, 0) for g in self.groups},
                             ages={g: column(g, 1) for g in self.groups},
                             instances={g: column(g, 2) for g in self.groups})
