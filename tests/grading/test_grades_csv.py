"""The grades CSV written beside the JSON report: who, which exercise, what score, out of what."""

from __future__ import annotations

import csv
import json
import subprocess
from pathlib import Path

import pytest

from choreo_lab.grading.report import CSV_COLUMNS

from .conftest import ROOT, grade_command, submission


def test_grading_two_submissions_writes_one_csv_row_for_each(tmp_path: Path) -> None:
    folder = tmp_path / "submissions"
    submission(folder, "alice", "ex01-inventory")               # the reference: full marks
    stub = submission(folder, "bob", "ex01-inventory", stub=True)  # untouched: zero
    stub.rename(folder / "bob-ex01-inventory.ipynb")
    (folder / "bob").rmdir()
    report = tmp_path / "grades.json"
    done = subprocess.run(grade_command([folder], report), capture_output=True, text=True,
                          cwd=ROOT, timeout=600)
    assert done.returncode == 0, done.stderr
    verdicts = {Path(v["path"]).name: v for v in json.loads(report.read_text())["notebooks"]}
    with (tmp_path / "grades.csv").open(newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    assert tuple(rows[0]) == CSV_COLUMNS
    by_student = {row["student"]: row for row in rows}
    assert sorted(by_student) == ["alice", "bob"] and len(rows) == 2
    alice, bob = verdicts["ex01-inventory.ipynb"], verdicts["bob-ex01-inventory.ipynb"]
    assert alice["score"] == alice["max_score"] > 0 and bob["score"] == 0
    for row, verdict in ((by_student["alice"], alice), (by_student["bob"], bob)):
        assert row["exercise"] == verdict["exercise"] == "ex01-inventory"
        assert float(row["score"]) == verdict["score"]
        assert float(row["max"]) == verdict["max_score"]


def test_a_report_named_csv_is_refused_with_what_to_do(tmp_path: Path) -> None:
    folder = tmp_path / "submissions"
    submission(folder, "alice", "ex01-inventory", stub=True)
    done = subprocess.run(grade_command([folder], tmp_path / "grades.csv"),
                          capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 2 and "name the report *.json" in " ".join(done.stderr.split())
    assert not (tmp_path / "grades.csv").exists()
