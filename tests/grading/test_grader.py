"""`choreo-lab grade`: headless, with timeouts, never hanging or crashing, and honest about why.

All these read one shared grading run (the `graded` fixture in conftest.py).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import nbformat
import pytest

from choreo_lab.grading.tasks import exercises

from .conftest import SOURCES, flat
from .test_checks import HALF_STUB_IDS, HALF_STUBS, half_stubbed
from .variants import Variant
from .variants_ex09 import CORRECT_EX09, WRONG_EX09


def verdict(graded: dict[str, Any], name: str) -> dict[str, Any]:
    return graded["by_name"][name]


def messages(entry: dict[str, Any]) -> list[str]:
    return [flat(c["message"]) for t in entry["tasks"] for c in t["checks"]]


@pytest.mark.parametrize("exercise", sorted(SOURCES))
def test_a_reference_submission_scores_full_marks(graded: dict, exercise: str) -> None:
    entry = verdict(graded, f"reference/{exercise}")
    assert entry["status"] == "graded"
    assert entry["score"] == entry["max_score"] == sum(t.max_points for t in exercises()[exercise])
    assert any(c["hidden"] for t in entry["tasks"] for c in t["checks"]), "hidden checks ran"


def test_an_untouched_exercise_scores_zero(graded: dict) -> None:
    entry = verdict(graded, "stub/ex01-inventory")
    assert entry["score"] == 0 and entry["max_score"] > 0
    assert all("NotImplementedError" in m for m in messages(entry))


def test_json_report_has_scores_per_notebook_and_in_total(graded: dict) -> None:
    report = graded["report"]
    assert set(report) >= {"notebooks", "score", "max_score"}
    assert report["score"] == sum(n["score"] for n in report["notebooks"])
    assert report["max_score"] == sum(n["max_score"] for n in report["notebooks"])
    for entry in report["notebooks"]:
        assert {"path", "exercise", "status", "score", "max_score", "tasks", "problems"} <= set(entry)
        for task in entry["tasks"]:
            assert {"task", "score", "max_score", "checks"} <= set(task)
            assert task["score"] == sum(c["score"] for c in task["checks"])
    assert json.loads(graded["report_file"].read_text()) == report


def test_a_cell_that_raises_fails_the_checks_that_need_its_code(graded: dict) -> None:
    entry = verdict(graded, "raises/ex01-inventory")
    assert entry["score"] == 0
    assert any("ValueError: I give up" in p for p in entry["problems"])
    assert all("`make_inventory_service` is not defined" in m for m in messages(entry))


def test_a_handler_that_loops_forever_is_stopped_and_failed(graded: dict) -> None:
    entry = verdict(graded, "loops-in-handler/ex01-inventory")
    assert entry["status"] == "graded" and entry["score"] == 0
    assert all("did not finish within 1 s" in m for m in messages(entry))


def test_a_handler_that_prints_megabytes_fails_with_a_clear_message(graded: dict) -> None:
    entry = verdict(graded, "prints-in-handler/ex01-inventory")
    assert entry["score"] == 0
    assert all("remove the print() calls from your handlers" in m for m in messages(entry))


def test_a_submission_that_kills_its_kernel_scores_zero_and_says_so(graded: dict) -> None:
    entry = verdict(graded, "exits/ex01-inventory")
    assert entry["score"] == 0 and entry["max_score"] == 7
    assert all("kernel died" in m for m in messages(entry))


def test_an_unreadable_notebook_is_out_of_what_its_file_name_implies(graded: dict) -> None:
    entry = verdict(graded, "not-a-notebook/ex01-inventory")
    assert entry["max_score"] == 7 and entry["exercise"] == "ex01-inventory"
    assert len([c for t in entry["tasks"] for c in t["checks"]]) == 7


def test_every_file_of_a_submitted_folder_is_counted(graded: dict) -> None:
    report = graded["report"]
    skipped = {Path(s["path"]).name: s["reason"] for s in report["skipped"]}
    assert skipped == {"notes.txt": "not a notebook (.txt)"}
    assert report["files"] == len(report["notebooks"]) + 1


def test_cell_numbers_refer_to_the_notebook_as_submitted(graded: dict) -> None:
    entry = verdict(graded, "raises/ex01-inventory")
    submitted = nbformat.read(graded["folder"] / "raises" / "ex01-inventory.ipynb", as_version=4)
    number = next(i for i, c in enumerate(submitted.cells, start=1)
                  if c.get("id") == "inventory_service")
    assert any(p.startswith(f"cell {number} raised ValueError") for p in entry["problems"])


def test_a_cell_that_prints_megabytes_and_never_ends_is_interrupted_and_grading_goes_on(
        graded: dict) -> None:
    entry = verdict(graded, "prints-then-loops-in-cell/ex01-inventory")
    assert entry["score"] == entry["max_score"]
    assert any("was interrupted" in p for p in entry["problems"])


def test_a_file_that_is_not_a_notebook_is_reported_not_crashed_on(graded: dict) -> None:
    entry = verdict(graded, "not-a-notebook/ex01-inventory")
    assert entry["status"] == "error" and entry["score"] == 0
    assert "not a readable notebook" in entry["problems"][0]


def test_a_notebook_that_ignores_interrupts_is_stopped_and_scores_zero(graded: dict) -> None:
    entry = verdict(graded, "stubborn/ex01-inventory")
    assert entry["score"] == 0 and entry["max_score"] == 7
    assert any("did not stop when interrupted" in p for p in entry["problems"])
    assert all("did not stop when interrupted" in m for m in messages(entry))


def test_a_notebook_that_runs_past_the_whole_notebook_limit_is_stopped(tmp_path: Path) -> None:
    from choreo_lab.grading.worker import Limits, grade_submission
    notebook = nbformat.read(SOURCES["ex01-inventory"], as_version=4)
    notebook.cells[2:2] = [nbformat.v4.new_code_cell("import time\ntime.sleep(1.5)")
                           for _ in range(3)]
    verdict = grade_submission("ex01-inventory.ipynb", nbformat.writes(notebook),
                               Limits(cell_timeout=5, notebook_timeout=3, check_budget=5), [])
    assert verdict["status"] == "error" and verdict["score"] == 0
    assert "longer than 3 s (the whole-notebook limit)" in verdict["problems"][0]


def test_verdicts_come_in_the_order_of_the_notebooks(graded: dict) -> None:
    paths = [entry["path"] for entry in graded["report"]["notebooks"]]
    assert paths == sorted(paths)


def test_a_notebook_stopped_for_its_memory_is_not_asked_about_os_exit() -> None:
    from types import SimpleNamespace

    from choreo_lab.grading.worker import NotebookRun
    run = NotebookRun.__new__(NotebookRun)  # only its sandbox is read
    for out_of_memory, advice in ((True, "Keep less in memory at once."),
                                  (False, "Does the code call os._exit()")):
        run.sandbox = SimpleNamespace(gone="the Python kernel died", out_of_memory=out_of_memory)
        message = run.gone_message()
        assert message.startswith("The Python kernel died while running this notebook")
        assert advice in message and ("os._exit" in message) is not out_of_memory


@pytest.mark.parametrize("exercise, stubbed, undone", HALF_STUBS, ids=HALF_STUB_IDS)
def test_the_grader_charges_a_handler_still_the_stub_only_to_its_own_tasks(
        exercise: str, stubbed: str, undone: tuple[str, ...]) -> None:
    """The worker's own code, its learner in the sandbox (as in test_checks.py in-process)."""
    from choreo_lab.grading.worker import Limits, grade_submission
    notebook = nbformat.read(SOURCES[exercise], as_version=4)
    for cell in notebook.cells:
        cell.source = half_stubbed(exercise, stubbed).get(cell.get("id"), cell.source)
    verdict = grade_submission(f"{exercise}.ipynb", nbformat.writes(notebook), Limits(), [])
    for task in verdict["tasks"]:
        expected = 0 if task["task"] in undone else task["max_score"]
        assert task["score"] == expected, task["checks"]


RELAYS = [v for v in (*WRONG_EX09, *CORRECT_EX09) if "send_outbox" in v.cells]


@pytest.mark.parametrize("variant", RELAYS, ids=lambda v: v.name)
def test_a_relay_scores_the_same_in_the_sandbox_as_in_the_graders_process(
        variant: Variant) -> None:
    """A relay runs in the sandbox, its publishes made in the grader as they happen: a crash
    planned at a publish raises in the learner's code there, as it does in the grader's own
    process (test_checks.py), so a relay that catches it is judged alike."""
    from choreo_lab.grading.worker import Limits, grade_submission
    exercise = variant.exercise
    notebook = nbformat.read(SOURCES[exercise], as_version=4)
    for cell in notebook.cells:
        cell.source = variant.cells.get(cell.get("id"), cell.source)
    verdict = grade_submission(f"{exercise}.ipynb", nbformat.writes(notebook), Limits(), [])
    in_sandbox = {check["title"] for task in verdict["tasks"] for check in task["checks"]
                  if not check["passed"]}
    assert in_sandbox == set(variant.expected_failures), verdict["problems"]


#: A relay that lifts the sandbox's cap on publishes (it runs in the sandbox's process, so it
#: can) and sends 1500 messages in one run.
LIFTS_THE_PUBLISH_CAP = '''
import sys

def send_outbox(ctx: RelayContext) -> None:
    for name, module in list(sys.modules.items()):
        if "sandbox" in name and "MAX_RELAY_PUBLISHES" in vars(module):
            module.MAX_RELAY_PUBLISHES = 10**9
    for row_id, row in list(ctx.state["outbox"].items()):
        for n in range(1500):
            try:
                ctx.publish(event_of(row), message_id=f"{row_id}/{n}", cause=row["cause"])
            except Exception:
                pass
        del ctx.state["outbox"][row_id]
'''


def test_the_grader_refuses_more_relay_publishes_than_the_cap_however_the_sandbox_was_changed(
        ) -> None:
    """The sandbox stops a relay at MAX_RELAY_PUBLISHES, but learner code runs beside that
    count and can lift it; the grader counts the publishes it is asked for too."""
    from choreo_lab.grading.sandbox.protocol import MAX_RELAY_PUBLISHES
    from choreo_lab.grading.worker import Limits, grade_submission
    notebook = nbformat.read(SOURCES["ex09-outbox-relay"], as_version=4)
    for cell in notebook.cells:
        if cell.get("id") == "send_outbox":
            cell.source = LIFTS_THE_PUBLISH_CAP
    verdict = grade_submission("ex09-outbox-relay.ipynb", nbformat.writes(notebook), Limits(), [])
    relay = next(task for task in verdict["tasks"] if task["task"] == "relay")
    assert relay["score"] == 0, relay["checks"]
    refused = f"more than {MAX_RELAY_PUBLISHES} messages in one run"
    assert all(f"raised RuntimeError: the relay published {refused}" in check["message"]
               for check in relay["checks"]), relay["checks"]
