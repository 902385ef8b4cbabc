"""What a chaos exploration covered, drawn: a table per (service, event type), and a grid.

Both return a `Rendering` (plain text for `print()`, the same text in colour in a notebook)
and take a `ChaosResult` or its `Coverage`. The grid has one row per (service, event type)
the control run delivered and one column per kind of single fault:

    ✓ every single fault there was tried, and none broke anything
    ✗ at least one broke something        ◐ some were tried        ○ none was tried
    · no such fault there (e.g. no crash point for a handler that raised)
"""

from __future__ import annotations

from rich import box
from rich.console import Group
from rich.table import Table
from rich.text import Text

from .chaos import ChaosResult, Coverage
from .display import Rendering

#: The grid's marks, and how they are coloured.
MARKS: dict[str, tuple[str, str]] = {
    "passed": ("✓", "green"), "broke": ("✗", "bold red"), "partly": ("◐", "yellow"),
    "untried": ("○", "dim"), "none": ("·", "dim"),
}
LEGEND = ("✓ tried, nothing broke   ✗ broke something   ◐ some tried   ○ not tried   "
          "· no such fault")


def coverage_grid(result: ChaosResult | Coverage) -> Rendering:
    """Service x event type x kind of single fault: tried, and whether it broke something."""
    coverage = _coverage_of(result)
    table = Table("service", "event type", title=_title(coverage), title_justify="left",
                  caption=LEGEND, caption_justify="left", box=box.SIMPLE_HEAD, padding=(0, 0),
                  show_edge=False, pad_edge=False)
    for kind in coverage.kinds:
        table.add_column(kind, justify="center", width=7)
    for service, event_type in coverage.rows:
        marks = [_mark(coverage, service, event_type, kind) for kind in coverage.kinds]
        table.add_row(service, event_type, *marks)
    return Rendering(table)


def coverage_table(result: ChaosResult | Coverage) -> Rendering:
    """One row per (service, event type): deliveries, single faults, tried, and what broke."""
    coverage = _coverage_of(result)
    table = Table("service", "event type", "deliveries", "single faults", "tried", "broke",
                  "faults that broke something", title=_title(coverage), title_justify="left")
    for service, event_type in coverage.rows:
        counts = [(kind, coverage.count(service, event_type, kind)) for kind in coverage.kinds]
        broke = [kind for kind, count in counts if count.broke]
        table.add_row(service, event_type, str(coverage.deliveries.get((service, event_type), 0)),
                      str(sum(c.faults for _, c in counts)), str(sum(c.tried for _, c in counts)),
                      Text(str(sum(c.broke for _, c in counts)), style="bold red" if broke else ""),
                      Text(", ".join(broke) or "-", style="red" if broke else "dim"))
    return Rendering(Group(table, Text(coverage.summary())))


def _coverage_of(result: ChaosResult | Coverage) -> Coverage:
    if isinstance(result, ChaosResult):
        return result.coverage
    if isinstance(result, Coverage):
        return result
    raise TypeError(f"expected what explore() returned (or its .coverage), got "
                    f"{type(result).__name__}")


def _title(coverage: Coverage) -> str:
    return (f"Single faults: {coverage.singles_tried} of {coverage.single_faults} tried at "
            f"{coverage.sites} delivery sites; {coverage.pairs_tried} pairs, "
            f"{coverage.random_tried} random schedules")


def _mark(coverage: Coverage, service: str, event_type: str, kind: str) -> Text:
    count = coverage.count(service, event_type, kind)
    if not count.faults:
        state = "none"
    elif count.broke:
        state = "broke"
    elif count.tried == count.faults:
        state = "passed"
    else:
        state = "partly" if count.tried else "untried"
    mark, style = MARKS[state]
    return Text(mark, style=style)
