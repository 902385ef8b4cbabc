"""Charts drawn with matplotlib, shown the same way everywhere (a PNG in a notebook, text elsewhere).

    lag_chart(lag_over_time(sim, duration=2_000, every=50))

A `Chart` offers ``image/png`` and a ``text/plain`` summary. nbval does not compare PNGs, so
a notebook checks the summary; the picture is drawn without pyplot (no global figure, no
backend to pick, nothing shown twice) and is the same for the same run.
"""

from __future__ import annotations

import io
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .lag import BacklogSeries, LagSeries

#: One colour per line, in order; enough for a fan-out's groups.
COLOURS = ("#1565c0", "#2e7d32", "#c62828", "#ef8f00", "#6a1b9a", "#00838f", "#757575")
#: And one dash pattern per line, so that groups with the same lag stay visible on top of
#: each other (a fan-out's consumers often keep pace together).
LINE_STYLES = ("-", (0, (6, 3)), (0, (2, 2)), (0, (8, 3, 2, 3)))


class Chart:
    """A matplotlib figure with a plain-text summary. `figure` is the `Figure` itself."""

    def __init__(self, figure: Figure, summary: str) -> None:
        self.figure = figure
        self.summary = summary

    def png(self) -> bytes:
        """The chart as PNG bytes (cost: one render, ~20 ms)."""
        buffer = io.BytesIO()
        FigureCanvasAgg(self.figure).print_png(buffer, metadata={"Software": None})
        return buffer.getvalue()

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return {"image/png": self.png(), "text/plain": self.summary}

    def __repr__(self) -> str:
        return self.summary


def lag_chart(series: LagSeries, *, title: str = "Consumer lag over virtual time") -> Chart:
    """One line per consumer group: its lag at each sample, against virtual time."""
    if not isinstance(series, LagSeries):
        raise TypeError(f"lag_chart() takes what lag_over_time() returns, got "
                        f"{type(series).__name__}")
    figure = Figure(figsize=(8, 3.2), dpi=100)
    axes = figure.add_subplot()
    scale, unit = _time_unit(series.times[-1] if series.times else 0)
    times = [t / scale for t in series.times]
    for index, (group, lags) in enumerate(series.lags.items()):
        axes.step(times, lags, where="post", label=group, linewidth=2,
                  color=COLOURS[index % len(COLOURS)],
                  linestyle=LINE_STYLES[index % len(LINE_STYLES)])
    axes.set_title(title)
    axes.set_xlabel(f"virtual time ({unit})")
    axes.set_ylabel("messages not yet acked")
    axes.grid(alpha=0.3)
    axes.legend(loc="best", frameon=False)
    figure.tight_layout()
    return Chart(figure, f"{title}\n{series}")


def backlog_age_chart(series: BacklogSeries, *,
                      title: str = "Age of the oldest waiting message") -> Chart:
    """Two panels against virtual time: each group's oldest waiting message's age (top) and its
    backlog with its instances (bottom)."""
    if not isinstance(series, BacklogSeries):
        raise TypeError(f"backlog_age_chart() takes what backlog_age_over_time() returns, got "
                        f"{type(series).__name__}")
    figure = Figure(figsize=(8, 4.8), dpi=100)
    ages, backlogs = figure.subplots(2, 1, sharex=True)
    scale, unit = _time_unit(series.times[-1] if series.times else 0)
    age_scale, age_unit = _time_unit(max((series.oldest(g) for g in series.ages), default=0))
    times = [t / scale for t in series.times]
    for index, group in enumerate(series.ages):
        colour = COLOURS[index % len(COLOURS)]
        ages.step(times, [a / age_scale for a in series.ages[group]], where="post", label=group,
                  linewidth=2, color=colour)
        backlogs.step(times, series.backlogs[group], where="post", linewidth=2, color=colour,
                      label=f"{group} waiting")
        backlogs.step(times, series.instances[group], where="post", linewidth=1, color=colour,
                      linestyle="--", label=f"{group} instances")
    ages.set_title(title)
    ages.set_ylabel(f"age ({age_unit})")
    backlogs.set_ylabel("messages / instances")
    backlogs.set_xlabel(f"virtual time ({unit})")
    for axes in (ages, backlogs):
        axes.grid(alpha=0.3)
        axes.legend(loc="upper left", frameon=False, fontsize="small")
    figure.tight_layout()
    return Chart(figure, f"{title}\n{series}")


def _time_unit(longest: int) -> tuple[float, str]:
    """A readable unit for a time axis that ends at `longest` ms."""
    for scale, unit in ((86_400_000, "days"), (3_600_000, "hours"), (60_000, "min"),
                        (1000, "s")):
        if longest >= 2 * scale:
            return scale, unit
    return 1, "ms"
