"""`choreo-lab run`: a workflow's services run, are killed and restarted, and are judged."""

from __future__ import annotations

import argparse

import pytest

from choreo_lab.cli import main
from choreo_lab.nats import missing_pieces
from choreo_lab.run import Action, parse_action


def test_a_kill_time_reads_seconds_or_milliseconds():
    assert parse_action("kill", "payment@2s") == Action("kill", "payment", 2.0)
    assert parse_action("restart", "payment@1500ms") == Action("restart", "payment", 1.5)
    assert parse_action("kill", "payment@0.5") == Action("kill", "payment", 0.5)


def test_a_kill_time_without_a_service_is_refused_with_the_expected_form():
    with pytest.raises(argparse.ArgumentTypeError, match="SERVICE@TIME, e.g. payment@2s"):
        parse_action("kill", "2s")


@pytest.mark.nats
@pytest.mark.skipif(missing_pieces() is not None, reason=f"NATS backend: {missing_pieces()}")
def test_the_order_saga_as_processes_survives_a_kill_and_a_restart(capsys):
    assert main(["run", "orders", "--backend", "nats", "--count", "40", "--rate", "100",
                 "--kill", "payment@0.1s",
                 "--restart", "payment@0.3s", "--no-live"]) == 0
    out = capsys.readouterr().out
    assert "requests placed: 40" in out and "invariants: all hold; dead letters: 0" in out
    assert "kill payment" in out and "restart payment" in out


@pytest.mark.parametrize("workflow, given, near", [("orders", "o-99", None),
                                                  ("orders-orchestrated", "o-99", None),
                                                  ("content", "o-1", "v-1"),
                                                  ("notifications", "o-1", "u-1")])
def test_an_unknown_follow_id_is_refused_before_any_report_naming_the_ids(capsys, workflow,
                                                                         given, near):
    code = main(["run", workflow, "--count", "8", "--follow", given])
    captured = capsys.readouterr()
    err = " ".join(captured.err.split())
    assert code == 2 and captured.out == ""
    assert f"--follow {given}: no workflow {given!r} in this {workflow} run; its ids:" in err
    assert "(8 in all)" in err and "Traceback" not in err
    if near is not None:
        assert f"Did you mean {near!r}?" in err
