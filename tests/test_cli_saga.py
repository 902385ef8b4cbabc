"""`choreo-lab saga`: the order saga run and shown in the terminal."""

from __future__ import annotations

from importlib.metadata import version

import pytest

from choreo_lab.cli import main


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["saga", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_the_saga_command_shows_every_order_and_the_consistency_report(capsys):
    code, out, _ = run(capsys, "--orders", "4", "--seed", "3")
    assert code == 0
    assert all(f"o-{n}" in out for n in range(1, 5))
    assert "converged - all 4 workflows finished and consistent" in out


def test_the_same_seed_prints_the_same_thing(capsys):
    assert run(capsys, "--orders", "3", "--seed", "5") == run(capsys, "--orders", "3", "--seed", "5")


def test_following_one_order_through_an_outage_shows_where_it_waited_and_the_diagram(capsys):
    code, out, _ = run(capsys, "--orders", "2", "--kill", "payment", "--restart-at", "40",
                       "--order", "o-1")
    assert code == 0
    assert "killed at t=0" in out and "restarted at t=40" in out
    assert "sequenceDiagram" in out and "order o-1:" in out


def test_a_misspelt_service_or_order_is_refused_with_a_clear_message(capsys):
    code, _, err = run(capsys, "--kill", "paymnet")
    assert code == 2 and "Did you mean 'payment'" in err
    code, _, err = run(capsys, "--order", "o-99")
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


def test_a_negative_restart_time_is_refused_with_a_message_not_a_traceback(capsys):
    err = refused(capsys, "saga", "--kill", "payment", "--restart-at", "-5")
    assert "--restart-at: -5 is too small: give 0 or more" in err
    assert "Traceback" not in err


def test_a_restart_time_that_is_not_a_number_is_refused(capsys):
    assert "--restart-at: 'soon' is not a whole number" in refused(
        capsys, "saga", "--kill", "payment", "--restart-at", "soon")


def test_a_negative_or_zero_order_count_is_refused(capsys):
    assert "--orders: -3 is too small: give 1 or more" in refused(capsys, "saga", "--orders", "-3")
    assert "--orders: 0 is too small" in refused(capsys, "saga", "--orders", "0")


def test_an_unknown_order_is_refused_before_any_report_is_printed(capsys):
    code, out, err = run(capsys, "--orders", "3", "--order", "o-99")
    assert code == 2
    assert out == ""
    assert "no order 'o-99'" in err and "o-1, o-2, o-3" in err
