"""The instructor's view of a grading run: a table of scores, then what each submission got wrong."""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from .feedback import plural


#: How the student is told from a notebook's path, as `choreo-lab grade --help` explains it.
STUDENT_RULE = ("The student is the part of the file name before its exercise number and a "
                "- or _ (alice-ex01-inventory.ipynb or alice_ex01.ipynb: alice); if nothing "
                "comes before it, the name of the folder holding the notebook "
                "(submissions/alice/ex01-inventory.ipynb: alice).")

#: The columns of the grades CSV, one row per graded notebook.
CSV_COLUMNS = ("student", "exercise", "score", "max")


def student_of(path: str) -> str:
    """Whose notebook `path` is, by STUDENT_RULE: the file name's prefix, else its folder."""
    file = Path(path)
    prefix = re.match(r"(.+?)[-_]ex\d+", file.stem)
    if prefix and not re.match(r"ex\d+", file.stem):
        return prefix.group(1)
    return file.resolve().parent.name


def write_csv(report: dict[str, Any], path: Path) -> None:
    """Write the grades as CSV for a learning platform: student, exercise, score, max."""
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(CSV_COLUMNS)
        for verdict in report["notebooks"]:
            writer.writerow([student_of(verdict["path"]), verdict["exercise"] or "",
                             f"{verdict['score']:g}", f"{verdict['max_score']:g}"])


def score_table(report: dict[str, Any]) -> Table:
    """One row per notebook: exercise, score per task, total, and trouble running it."""
    table = Table(title="choreo-lab grades", show_lines=False, title_justify="left")
    table.add_column("Submission", overflow="fold")
    table.add_column("Exercise")
    table.add_column("Tasks")
    table.add_column("Score", justify="right")
    table.add_column("Notes", overflow="fold")
    for verdict in report["notebooks"]:
        tasks = Text()
        for index, task in enumerate(verdict["tasks"]):
            style = "green" if task["score"] == task["max_score"] else (
                "yellow" if task["score"] else "red")
            tasks.append(("\n" if index else "") + f"{task['task']} ")
            tasks.append(f"{task['score']:g}/{task['max_score']:g}", style=style)
        notes = "; ".join(verdict["problems"][:2])
        table.add_row(verdict["path"], verdict["exercise"] or "?", tasks,
                      f"{verdict['score']:g}/{verdict['max_score']:g}",
                      Text(notes, style="red" if verdict["status"] != "graded" else "dim"))
    table.add_section()
    count, skipped = len(report["notebooks"]), len(report.get("skipped", []))
    table.add_row(plural(count, "notebook") + (f" ({plural(skipped, 'other file')} skipped)"
                                               if skipped else ""), "", "",
                  f"{report['score']:g}/{report['max_score']:g}", "")
    return table


def skipped_files(report: dict[str, Any]) -> RenderableType:
    """Every file found in a submitted folder that was not graded, with the reason."""
    return Group(*(Text(f"  {entry['path']}: {entry['reason']}")
                   for entry in report.get("skipped", [])))


def failures(report: dict[str, Any], details: bool) -> RenderableType:
    """Each failed check, per submission: its title and what went wrong (or all its feedback)."""
    lines: list[RenderableType] = []
    for verdict in report["notebooks"]:
        failed = [(task["task"], check) for task in verdict["tasks"] for check in task["checks"]
                  if not check["passed"]]
        if not failed:
            continue
        lines.append(Text(verdict["path"], style="bold"))
        for task, check in failed:
            hidden = " [hidden]" if check["hidden"] else ""
            lines.append(Text(f"  {task}: {check['title']}{hidden} (-{check['points']:g})",
                              style="red"))
            if details:
                lines.extend(Text("      " + line) for line in check["message"].splitlines())
            else:
                lines.append(Text("      " + first_paragraph(check["message"])))
    return Group(*lines)


def first_paragraph(message: str) -> str:
    """The "what went wrong" part of a check's feedback, before its hint, faults and trace."""
    lines = []
    for line in message.splitlines():
        if line.startswith(("Hint:", "Faults injected", "What happened")):
            break
        lines.append(line.strip())
    return " ".join(lines)


def show(report: dict[str, Any], console: Console, *, details: bool = False) -> None:
    """Print the score table and the failed checks."""
    console.print(score_table(report))
    if report.get("skipped"):
        console.print(Text("Skipped files", style="bold underline"))
        console.print(skipped_files(report))
    if any(not c["passed"] for v in report["notebooks"] for t in v["tasks"] for c in t["checks"]):
        console.print()
        console.print(Text("Failed checks" + ("" if details else
                                              " (what went wrong; --details adds hints and traces)"),
                           style="bold underline"))
        console.print(failures(report, details))
