"""`choreo-lab saga`: the order saga run and shown in the terminal."""

from __future__ import annotations

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
