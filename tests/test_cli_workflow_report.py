"""`choreo-lab run <workflow>` in the simulation: what happened, shown in the terminal."""

from __future__ import annotations

from importlib.metadata import version

import pytest

from choreo_lab.cli import main


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["run", "orders", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_run_shows_every_order_and_the_consistency_report(capsys):
    code, out, _ = run(capsys, "--count", "4", "--seed", "3")
    assert code == 0
    assert all(f"o-{n}" in out for n in range(1, 5))
    assert "converged - all 4 workflows finished and consistent" in out


def test_the_same_seed_prints_the_same_thing(capsys):
    assert run(capsys, "--count", "3", "--seed", "5") == run(capsys, "--count", "3", "--seed", "5")


def test_following_one_order_through_an_outage_shows_where_it_waited_and_the_diagram(capsys):
    code, out, _ = run(capsys, "--count", "2", "--kill", "payment@0", "--restart", "payment@40ms",
                       "--follow", "o-1")
    assert code == 0
    assert "killed at t=0" in out and "restarted at t=40" in out
    assert "sequenceDiagram" in out and "order o-1:" in out


def test_a_misspelt_service_or_order_is_refused_with_a_clear_message(capsys):
    code, _, err = run(capsys, "--kill", "paymnet@0")
    assert code == 2 and "Did you mean 'payment'" in err
    code, _, err = run(capsys, "--follow", "o-99")
    assert code == 2 and "o-99" in err


def refused(capsys, *args: str) -> str:
    """What argparse says when it refuses `args` (it exits with status 2)."""
    with pytest.raises(SystemExit) as exit_:
        main(args)
    assert exit_.value.code == 2
    return capsys.readouterr().err


def test_version_prints_the_installed_version(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.strip() == f"choreo-lab {version('choreo-lab')}"


def test_a_restart_time_that_is_not_a_time_is_refused_with_a_message_not_a_traceback(capsys):
    for given in ("payment@-5", "payment@soon", "payment"):
        err = refused(capsys, "run", "orders", "--kill", "payment@0", "--restart", given)
        assert "--restart takes SERVICE@TIME, e.g. payment@2s or payment@1500ms" in err
        assert "Traceback" not in err


def test_a_negative_or_zero_count_is_refused(capsys):
    assert "--count: -3 is too small: give 1 or more" in refused(capsys, "run", "orders",
                                                                  "--count", "-3")
    assert "--count: 0 is too small" in refused(capsys, "run", "orders", "--count", "0")


def test_an_unknown_workflow_is_refused_naming_the_ones_there_are(capsys):
    assert "invalid choice: 'order'" in refused(capsys, "run", "order")


def test_an_unknown_order_is_refused_before_any_report_is_printed(capsys):
    code, out, err = run(capsys, "--count", "3", "--follow", "o-99")
    assert code == 2
    assert out == ""
    assert "no workflow 'o-99'" in err and "o-1, o-2, o-3" in err
