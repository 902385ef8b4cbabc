"""Hostile submissions (attacks.py) score zero or their honest score, and leave nothing behind.

All of them are graded in the shared run of conftest.py, beside honest submissions.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from choreo_lab.grading.batch import rebuilt
from choreo_lab.grading.hidden import graded_exercises
from choreo_lab.grading.sandbox.containment import SLOTS, UID_BASE, processes, sandbox_uid

from .attacks import EXPECTED, LOSES_ONLY, counter_notebook, package_digest


def entry(graded: dict, name: str) -> dict:
    return next(v for k, v in graded["by_name"].items() if k.split("/")[0] == name)


@pytest.mark.parametrize("attack", sorted(EXPECTED))
def test_an_attack_scores_zero_or_its_honest_score(graded: dict, attack: str) -> None:
    verdict, expected = entry(graded, attack), EXPECTED[attack]
    wanted = {"zero": 0.0, "full": verdict["max_score"]}.get(expected)
    if wanted is None:
        wanted = entry(graded, expected)["score"]
        assert 0 < wanted < verdict["max_score"], "the honest score is neither zero nor full"
    assert verdict["score"] == wanted, (verdict["problems"], verdict["tasks"])
    assert verdict["max_score"] > 0


def worker_runs_this_tree() -> bool:
    """Does the worker the command-line grader starts (``python -I``) import this code?"""
    import subprocess
    import sys

    import choreo_lab
    found = subprocess.run([sys.executable, "-I", "-c", "import choreo_lab; "
                            "print(choreo_lab.__file__)"], capture_output=True, text=True)
    return found.stdout.strip() == choreo_lab.__file__


@pytest.mark.skipif(not worker_runs_this_tree(), reason="the grader's worker imports another "
                    "copy of choreo_lab (python -I ignores PYTHONPATH): see the direct test")
@pytest.mark.parametrize("attack", sorted(LOSES_ONLY))
def test_an_attack_loses_exactly_the_checks_made_to_catch_it(graded: dict, attack: str) -> None:
    verdict = entry(graded, attack)
    failed = {check["title"] for task in verdict["tasks"] for check in task["checks"]
              if check["score"] < check["points"]}
    assert failed == set(LOSES_ONLY[attack]), (verdict["problems"], verdict["tasks"])


@pytest.mark.parametrize("attack, repeated", [("resets-its-counter", "row-1"),
                                               ("offsets-its-counter-by-a-call", "row-1"),
                                               ("keeps-its-counter-in-proc", "row-1")])
def test_a_counter_that_resets_on_a_fresh_state_is_caught_by_a_restart_between_orders(
        attack: str, repeated: str) -> None:
    """The worker's own code (the command-line grader starts the installed worker): a real
    restart of shipping between two orders repeats the counter's row id, and the message says
    so, however the counter tries to outlive the restart: a start set by a cell of bare calls
    (a restart runs again only the cells that define something, so two restarted processes
    start alike), or a process name a restarted copy could read in /proc."""
    import nbformat

    from choreo_lab.grading.worker import Limits, grade_submission
    started = time.monotonic()
    verdict = grade_submission(f"{attack}/ex09-outbox-relay.ipynb",
                               nbformat.writes(counter_notebook(attack)), Limits(), [])
    failed = {check["title"]: check["message"] for task in verdict["tasks"]
              for check in task["checks"] if check["score"] < check["points"]}
    assert set(failed) == set(LOSES_ONLY[attack]), verdict
    assert verdict["score"] == verdict["max_score"] - 2
    for message in failed.values():
        assert "Shipping was restarted before o-" in message and "a new process" in message
        assert f"got the id {repeated!r}" in message and "dropped as a repeat" in message
    assert time.monotonic() - started < 30
    mine = {sandbox_uid(os.getpid(), slot) for slot in SLOTS} - {None}
    assert not [p for p in processes() if p.uid in mine and not p.zombie]  # both sandboxes ended


def test_importing_reference_code_is_refused_and_reported(graded: dict) -> None:
    example = entry(graded, "imports-the-example")
    assert "choreo_lab.examples.orders.make_inventory_service" in example["refused_imports"]
    assert "imports the course's reference code (refused)" in example["problems"][0]
    checks = entry(graded, "imports-the-checks")["refused_imports"]
    assert "choreo_lab.grading.ex02_compensations" in checks
    assert "choreo_lab.examples.orders.make_payment_service" in checks
    assert not entry(graded, "reference")["refused_imports"]


def test_nothing_a_submission_wrote_reaches_the_submissions_folder(graded: dict) -> None:
    after = {path: path.read_bytes() for path in graded["folder"].rglob("*") if path.is_file()}
    assert after == graded["before"]
    assert not (graded["folder"].parent / "choreo_lab").exists()


def test_the_package_source_is_unchanged_after_grading(graded: dict) -> None:
    assert package_digest() == graded["attacks"]["package"]


def test_no_process_of_any_sandbox_outlives_the_run_and_the_report_stays(graded: dict) -> None:
    time.sleep(2.5)  # the escapee would write the report 2 s after it started
    table = processes()
    alive = {p.pid for p in table}
    orphans = [p.pid for p in table if p.uid >= UID_BASE and not p.zombie
               and p.uid - UID_BASE not in alive]  # a sandbox whose worker has ended
    assert orphans == []
    assert json.loads(graded["report_file"].read_text()) == graded["report"]


def test_an_escapee_holding_stderr_does_not_hold_up_the_grader(graded: dict) -> None:
    assert graded["seconds"] < 300  # the escapees sleep for 600 s


def test_the_worker_cannot_be_killed_from_the_sandbox(graded: dict) -> None:
    verdict = entry(graded, "kills-the-worker")
    assert verdict["status"] == "graded"
    assert all("NotImplementedError" in c["message"] for t in verdict["tasks"] for c in t["checks"])


@pytest.mark.parametrize(("score", "kept"), [(7_000_000, 1), (float("nan"), 0), (float("inf"), 0),
                                             (-3, 0), (True, 0), ("7", 0), (0.5, 0)])
def test_a_reported_score_is_clamped_to_its_checks_points_and_must_be_finite(
        score: object, kept: float) -> None:
    tasks = graded_exercises()
    forged = {"exercise": "ex01-inventory", "status": "graded", "tasks": [
        {"task": "reserve", "score": score, "checks": [
            {"title": "reserves stock for an order that fits, and the order ships",
             "score": score, "points": 7_000_000},
            {"title": "a check the grader does not have", "score": 1, "points": 1}]}]}
    verdict = rebuilt(forged, Path("ex01-inventory.ipynb"), tasks)
    assert verdict["score"] == kept and verdict["max_score"] == 7  # the unknown check: nothing
    assert [c["title"] for c in verdict["tasks"][0]["checks"]] == [
        c.title for c in tasks["ex01-inventory"][0].checks]


def test_an_honest_score_is_kept_when_the_verdict_is_rebuilt(graded: dict) -> None:
    reference = entry(graded, "reference")
    again = rebuilt(reference, Path(reference["path"]), graded_exercises())
    assert again["score"] == reference["score"] == reference["max_score"]


def test_a_forged_reply_nested_too_deep_ends_the_sandbox_not_the_worker(graded: dict) -> None:
    """json.loads raises RecursionError on "[[[[...": read as a broken protocol, so the worker
    gives its verdict (it used to stop without one)."""
    verdict = entry(graded, "forges-a-deep-frame")
    assert verdict["status"] == "graded", verdict["problems"]
    assert any("broke the grading protocol (a frame nested too deep to read)" in problem
               for problem in verdict["problems"]), verdict["problems"]
