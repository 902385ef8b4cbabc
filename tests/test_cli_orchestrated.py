"""`choreo-lab run orders-orchestrated`: the orchestrated order flow, shown in the terminal."""

from __future__ import annotations

from choreo_lab.cli import main
from choreo_lab.examples.catalog import workflow


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["run", "orders-orchestrated", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_run_shows_every_order_and_the_consistency_report(capsys):
    code, out, _ = run(capsys, "--count", "4", "--seed", "3")
    assert code == 0
    assert all(f"o-{n}" in out for n in range(1, 5))
    assert "converged - all 4 workflows finished and consistent" in out
    assert "ChargePayment" in out and "OrderPlaced" not in out


def test_an_orchestrator_outage_delays_every_order_past_the_restart(capsys):
    code, out, _ = run(capsys, "--count", "3", "--seed", "3", "--kill", "order@0",
                       "--restart", "order@100ms", "--follow", "o-1")
    assert code == 0
    assert "killed at t=0" in out and "restarted at t=100" in out
    times = out.split("time to consistency: ")[1].splitlines()[0]
    assert [int(part.split()[1]) >= 100 for part in times.split(", ")] == [True] * 3, times
    assert "o-1: shipped (learned: paid, reserved, shipped); saga completed" in out


def test_the_catalog_entry_names_the_orchestrated_services():
    entry = workflow("orders-orchestrated")
    assert [s.name for s in entry.services()] == ["order", "payment", "inventory", "shipping"]
    assert "ChargePayment" in entry.services()[1].handlers
