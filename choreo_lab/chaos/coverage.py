"""Coverage as data: which single faults exist, which were tried, which broke something.

The grid behind it has one row per (service, event type) the control run delivered, one
column per site fault (`sites.SITE_FAULTS`); `choreo_lab.chaos_views` draws it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from ..text import plural
from .schedules import PAIR, RANDOM, SINGLE, Schedule
from .sites import SITE_FAULTS, Candidate, Cell, ControlRun


@dataclass
class CellCount:
    """One cell of the grid: its single faults, how many were tried, how many broke something."""

    faults: int = 0
    tried: int = 0
    broke: int = 0


@dataclass(frozen=True)
class Coverage:
    """What an exploration tried: delivery sites, single faults, pairs and random schedules.

    `cells` maps (service, event type, site fault) to its `CellCount`; `rows` and `kinds`
    give the grid's rows (in the order the control run first delivered them) and columns
    (in the order the single faults are tried).
    """

    mode: str
    sites: int
    single_faults: int
    singles_tried: int
    pairs_tried: int
    random_tried: int
    rows: tuple[tuple[str, str], ...]
    kinds: tuple[str, ...]
    cells: dict[Cell, CellCount] = field(repr=False)
    deliveries: dict[tuple[str, str], int] = field(repr=False)  # sites per row

    def count(self, service: str, event_type: str, kind: str) -> CellCount:
        """The cell's count (an empty one where no such single fault exists)."""
        return self.cells.get((service, event_type, kind), CellCount())

    @property
    def complete(self) -> bool:
        """Every single fault of the control run was tried."""
        return self.singles_tried == self.single_faults

    @property
    def cells_tried(self) -> int:
        """Cells with at least one single fault tried."""
        return sum(1 for count in self.cells.values() if count.tried)

    def summary(self) -> str:
        """One sentence: what was tried, and whether the single-fault pass was complete."""
        sites = f"at {plural(self.sites, 'delivery site')}"
        if self.mode == "random":
            return (f"tried: a control run and {plural(self.random_tried, 'random schedule')} "
                    f"(mode='random': the {self.single_faults} single faults {sites} were not "
                    "tried one by one)")
        later = (f", {plural(self.pairs_tried, 'pair')} and "
                 f"{plural(self.random_tried, 'random schedule')}")
        if self.complete:
            return f"tried: the control run, all {self.single_faults} single faults {sites}{later}"
        return (f"tried: the control run and {self.singles_tried} of {self.single_faults} single "
                f"faults {sites}. The budget is smaller than the single-fault pass, so it was "
                f"spread to cover {self.cells_tried} of {len(self.cells)} cells (service x event "
                f"type x fault); schedules={self.single_faults + 1} tries every single fault")


def coverage_of(control: ControlRun, singles: Sequence[Candidate], run: Iterable[Schedule],
                failed: set[int], mode: str) -> Coverage:
    """Count, per cell, the single faults there are, those `run` tried and those that `failed`."""
    cells: dict[Cell, CellCount] = {}
    for single in singles:
        for cell in single.cells:
            cells.setdefault(cell, CellCount()).faults += 1
    phases = {SINGLE: 0, PAIR: 0, RANDOM: 0}
    for schedule in run:
        phases[schedule.phase] = phases.get(schedule.phase, 0) + 1
        for cell in schedule.cells:
            cells[cell].tried += 1
            cells[cell].broke += schedule.index in failed
    present = {(service, event_type) for service, event_type, _ in cells}
    rows = tuple(row for row in control.delivered if row in present)
    deliveries = Counter((site.service, site.event_type) for site in control.sites)
    kinds = tuple(kind for kind in SITE_FAULTS if any(cell[2] == kind for cell in cells))
    return Coverage(mode, len(control.sites), len(singles), phases[SINGLE], phases[PAIR],
                    phases[RANDOM], rows, kinds, cells, dict(deliveries))
