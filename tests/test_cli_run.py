"""`choreo-lab run`: a workflow's services run, are killed and restarted, and are judged."""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time

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


def choreo_lab_command(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """`choreo-lab ...` in a process of its own: what a user sees, noise at exit included."""
    return subprocess.run([sys.executable, "-m", "choreo_lab.cli", *args], capture_output=True,
                          text=True, timeout=timeout,
                          env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)))


def test_a_workflow_that_needs_timers_is_refused_on_nats_naming_the_missing_feature(capsys):
    assert main(["run", "notifications", "--backend", "nats", "--count", "5"]) == 2
    captured = capsys.readouterr()
    err = " ".join(captured.err.split())
    assert captured.out == ""
    assert "notifications needs timers" in err and "the NATS backend has none" in err
    assert "choreo-lab run notifications" in err and "(in memory)" in err


@pytest.mark.nats
@pytest.mark.skipif(missing_pieces() is not None, reason=f"NATS backend: {missing_pieces()}")
def test_the_content_pipeline_runs_on_nats_with_its_slow_transcoder(capsys):
    assert main(["run", "content", "--backend", "nats", "--count", "4", "--no-live"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "requests placed: 6 (for 4 workflows)" in out  # items edited: two uploads each
    assert "invariants: all hold; dead letters: 0" in out  # the five, over states and the log
    assert "not checked" not in out


@pytest.mark.nats
@pytest.mark.skipif(missing_pieces() is not None, reason=f"NATS backend: {missing_pieces()}")
def test_on_nats_a_service_left_down_leaves_convergence_unchecked_and_says_why(capsys):
    assert main(["run", "content", "--backend", "nats", "--count", "4",
                 "--kill", "publishing@0s", "--no-live"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "invariants: 3 of 5 checked, all hold" in out
    assert ("- newest_version_is_live, rejected_files_are_deleted: open_messages(): something "
            "was still on its way when this snapshot was read (to a service that is down") in out


@pytest.mark.nats
@pytest.mark.skipif(missing_pieces() is not None, reason=f"NATS backend: {missing_pieces()}")
def test_the_orchestrated_orders_run_on_nats(capsys):
    assert main(["run", "orders-orchestrated", "--backend", "nats", "--count", "10",
                 "--no-live"]) == 0
    assert "invariants: all hold; dead letters: 0" in capsys.readouterr().out


@pytest.mark.nats
@pytest.mark.skipif(missing_pieces() is not None, reason=f"NATS backend: {missing_pieces()}")
def test_a_runtime_that_fails_to_start_leaves_no_asyncio_noise_behind():
    script = ("from choreo_lab.nats import NatsRuntime, services_from\n"
              "try:\n"
              "    NatsRuntime(services_from('choreo_lab.examples.content:content_services'),"
              " ack_wait=1000)\n"
              "except ValueError as error:\n"
              "    print('refused:', error)\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=60, env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)))
    assert "refused: service 'transcoding'" in done.stdout
    assert done.stderr == ""


@pytest.mark.nats
@pytest.mark.skipif(missing_pieces() is not None, reason=f"NATS backend: {missing_pieces()}")
def test_a_server_nobody_listens_at_is_given_up_on_in_seconds_with_one_line():
    started = time.monotonic()
    done = choreo_lab_command("run", "orders", "--backend", "nats", "--count", "3",
                              "--server", "nats://127.0.0.1:1", "--no-live")
    assert time.monotonic() - started < 20
    assert done.returncode == 2
    assert done.stderr.strip() == ("cannot connect to nats://127.0.0.1:1: connection refused; "
                                   "start a server there or leave out --server")


def test_long_times_read_as_durations_and_the_log_stays_in_columns(capsys):
    assert main(["run", "notifications", "--count", "3"]) == 0
    out = capsys.readouterr().out
    assert "time to consistency: u-1 7 d, u-2 13 ms, u-3 7 d" in out
    assert "overall: consistent 7 d after the first workflow started" in out
    assert re.search(r"t=6048000\d\d \(7 d\): converged", out)
    assert "│ 7 d " in out and "│ 604800019 │" not in out  # the workflows' "at t=" column
    lines = out.splitlines()
    header = next(line for line in lines if line.strip().startswith("t  what"))
    end = header.index("t  what") + 1  # where the t column ends
    rows = [line for line in lines[lines.index(header) + 1:] if line[:end].strip().isdigit()]
    assert any(len(row[:end].strip()) == 9 for row in rows)
    assert all(row[end - 1].isdigit() and row[end:end + 2] == "  " for row in rows)


def test_a_content_run_shows_its_minutes_as_minutes(capsys):
    assert main(["run", "content", "--count", "3"]) == 0
    out = capsys.readouterr().out
    assert " min" in out and not re.search(r"\d{6,} ms", out)


@pytest.mark.parametrize("given, wrong", [
    (["--server", "nats://127.0.0.1:4222"], "--server is for --backend nats"),
    (["--rate", "50"], "--rate is for --backend nats"),
    (["--server", "x", "--no-live"], "--server and --no-live are for --backend nats"),
    (["--backend", "nats", "--follow", "o-1"], "--follow is for the simulation"),
    (["--backend", "nats", "--states"], "--states is for the simulation")])
def test_an_option_of_the_other_backend_is_refused_in_one_line(capsys, given, wrong):
    assert main(["run", "orders", *given]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and wrong in captured.err and len(captured.err.splitlines()) == 1


@pytest.mark.parametrize("option, unit", [("--rate", "requests a second"),
                                          ("--timeout", "seconds")])
@pytest.mark.parametrize("value", ["0", "-5"])
def test_a_rate_or_timeout_must_be_above_zero(capsys, option, unit, value):
    with pytest.raises(SystemExit) as exit_:
        main(["run", "orders", "--backend", "nats", option, value])
    assert exit_.value.code == 2
    assert f"{value} is not allowed: give a number of {unit} above 0" in capsys.readouterr().err


@pytest.mark.parametrize("backend", ["memory", "nats"])
def test_a_restart_before_its_kill_is_refused_quoting_the_flags_as_typed(capsys, backend):
    assert main(["run", "orders", "--backend", backend, "--restart", "payment@5s",
                 "--kill", "payment@10s"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "Restart(" not in captured.err
    assert ("--restart payment@5s comes before --kill payment@10s, so payment would stay "
            "down: restart it later than the kill") in " ".join(captured.err.split())


def test_a_long_log_ends_with_the_commands_way_to_see_more(capsys):
    assert main(["run", "orders", "--count", "8"]) == 0
    out = capsys.readouterr().out
    assert "max_rows=None" not in out
    assert re.search(r"… \d+ more rows \(--rows N or --all-rows shows more; --follow ID one "
                     r"workflow\)", out)
    assert main(["run", "orders", "--count", "8", "--rows", "5"]) == 0
    short = capsys.readouterr().out
    assert "(3 more workflows not shown)" in short
    assert main(["run", "orders", "--count", "8", "--all-rows"]) == 0
    assert "more rows" not in capsys.readouterr().out


def test_the_old_saga_command_points_to_run_orders(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["saga", "--count", "5"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'saga'" in err
    assert err.rstrip().endswith("`choreo-lab saga` is now `choreo-lab run orders` "
                                 "(`choreo-lab run --help` for its options)")
