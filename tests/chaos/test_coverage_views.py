"""What an exploration covered, as data and drawn: the grid and the table show, per service and
event type, which single faults were tried and which broke something."""

from __future__ import annotations

import pytest

from choreo_lab import Simulation
from choreo_lab.chaos import explore
from choreo_lab.chaos_views import coverage_grid, coverage_table
from choreo_lab.display import Rendering
from choreo_lab.examples.orders import order_oracle, place_orders

from .broken_services import payment_that_charges_twice
from .sagas import TEN_ORDERS, saga
from .two_fault_saga import booking_oracle, booking_system, two_bookings


def three_orders(sim: Simulation) -> None:
    place_orders(sim, TEN_ORDERS[:3])


@pytest.fixture(scope="module")
def charged_twice():
    """Every single fault of three orders, against a payment that charges on every delivery."""
    everything = explore(saga(payment=payment_that_charges_twice()), three_orders,
                         order_oracle(), schedules=1, shrink=False).coverage.single_faults
    return explore(saga(payment=payment_that_charges_twice()), three_orders, order_oracle(),
                   schedules=everything + 1, shrink=False)


def grid_rows(rendering: Rendering) -> dict[tuple[str, str], list[str]]:
    """(service, event type) -> the marks in its row of the grid."""
    found = {}
    for line in str(rendering).splitlines():
        cells = line.split()
        if len(cells) > 2 and all(len(mark) == 1 for mark in cells[2:]):
            found[cells[0], cells[1]] = cells[2:]
    return found


def test_the_coverage_counts_every_single_fault_per_cell_and_what_broke(charged_twice):
    coverage = charged_twice.coverage
    assert coverage.complete
    assert sum(count.faults for count in coverage.cells.values()) >= coverage.single_faults
    broke = {cell for cell, count in coverage.cells.items() if count.broke}
    assert broke == {("payment", "OrderPlaced", "lost ack"),
                     ("payment", "OrderPlaced", "crash after commit")}
    failing_singles = [f for f in charged_twice.failures if f.phase == "single fault"]
    assert coverage.cells["payment", "OrderPlaced", "lost ack"].broke == len(
        [f for f in failing_singles if f.plan.faults[0].kind == "duplicate"])


def test_the_grid_marks_what_broke_and_what_was_tried_cell_by_cell(charged_twice):
    coverage = charged_twice.coverage
    rows = grid_rows(coverage_grid(charged_twice))
    assert list(rows) == list(coverage.rows)
    expected = ["✗" if kind in ("lost ack", "crash after commit") else "✓" for kind in coverage.kinds]
    assert rows["payment", "OrderPlaced"] == expected
    assert rows["order", "OrderRequested"] == ["✓"] * len(coverage.kinds)
    text = str(coverage_grid(charged_twice))
    assert text.splitlines()[0] == (f"Single faults: {coverage.single_faults} of "
                                    f"{coverage.single_faults} tried at {coverage.sites} "
                                    "delivery sites; 0 pairs, 0 random schedules")
    assert "✓ tried, nothing broke   ✗ broke something" in text


def test_a_short_budget_shows_cells_tried_in_part_or_not_at_all():
    result = explore(saga(), three_orders, order_oracle(), schedules=30, seed=1)
    marks = {mark for row in grid_rows(coverage_grid(result)).values() for mark in row}
    assert marks == {"✓", "◐", "○"}


def test_the_table_counts_deliveries_single_faults_and_the_faults_that_broke_something(
        charged_twice):
    text = str(coverage_table(charged_twice))
    coverage = charged_twice.coverage
    [payment] = [line for line in text.splitlines() if "│ payment   │ OrderPlaced" in line]
    cells = [cell.strip() for cell in payment.split("│")[1:-1]]
    counts = [coverage.count("payment", "OrderPlaced", kind) for kind in coverage.kinds]
    faults, broke = sum(c.faults for c in counts), sum(c.broke for c in counts)
    assert broke == len([f for f in charged_twice.failures if f.phase == "single fault"]) > 0
    assert cells[:6] == ["payment", "OrderPlaced", str(coverage.deliveries["payment", "OrderPlaced"]),
                         str(faults), str(faults), str(broke)]
    assert cells[6].startswith("lost ack, crash")
    assert text.splitlines()[-1].startswith("tried: the control run, all")


def test_the_pictures_are_stable_text_and_html_and_take_the_result_or_its_coverage():
    result = explore(booking_system, two_bookings, booking_oracle(), schedules=40, seed=1)
    for draw in (coverage_grid, coverage_table):
        first, again = draw(result), draw(result.coverage)
        assert str(first) == str(again)
        bundle = first._repr_mimebundle_()
        assert set(bundle) == {"text/plain", "text/html"} and "0x" not in bundle["text/html"]
    assert set(grid_rows(coverage_grid(result))) == {("seats", "TicketRequested"),
                                                     ("billing", "SeatsHeld")}
    with pytest.raises(TypeError, match="expected what explore\\(\\) returned"):
        coverage_grid("everything")  # type: ignore[arg-type]
