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
from .tasks import EXERCISE_IN_NAME


#: How the student is told from a notebook's path, as `choreo-lab grade --help` explains it.
#: It looks only at the notebook's folders, never at the path given, so grading the class
#: folder, one student's folder or one notebook by name credits the same student.
STUDENT_RULE = ("The student is the folder holding a notebook (submissions/alice/ex01.ipynb: "
                "alice; submissions/week1/bob/ex01.ipynb: bob), whatever the path given; a folder "
                "named after an exercise (ex01, ex01-inventory) names no one, so the one above "
                "it is taken. A class folder, one holding folders of notebooks or notebooks of "
                "several students by their file names, names no one either: its notebooks are "
                "credited to the part of the file name before the exercise number, separated by "
                "' - ', '-', '_' or '.' (alice-ex01-inventory.ipynb, 'Alice Smith - "
                "ex01.ipynb', alice_ex01.ipynb, alice.ex01.ipynb). A file name naming someone "
                "else than the student's folder is warned about; with no name found, the "
                "student is left empty and the table says so. In an nbgrader course "
                "(course/submitted/<student>/<assignment>/, or autograded/, beside the course's "
                "source/ or release/ folders) the student is the folder nbgrader named.")

#: nbgrader's folders of a course that hold one folder per student, each one per assignment.
NBGRADER_STUDENT_FOLDERS = ("submitted", "autograded")
#: nbgrader's folders of a course that hold one folder per assignment.
NBGRADER_ASSIGNMENT_FOLDERS = ("source", "release")

#: The columns of the grades CSV, one row per graded notebook (but see `write_csv`).
CSV_COLUMNS = ("student", "exercise", "score", "max")
#: A student's name in a file name: what comes before its exercise number and a separator.
STUDENT_IN_NAME = re.compile(r"^(.*?)[\s._-]*" + EXERCISE_IN_NAME.pattern, re.IGNORECASE)
#: How a spreadsheet tells a formula: a cell starting with one of these (at its start, or
#: after a separator a spreadsheet may split at) gets a ' before it in the CSV.
FORMULA = re.compile(r"(^|[,;\t]\s*)([=+\-@])")
#: What `printable` escapes: control characters, bidirectional controls, line and paragraph
#: separators, and surrogates.
UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e"
                         "\u2066-\u2069\ud800-\udfff]")


def student_in_name(name: str) -> str:
    """The student a file name gives before its exercise number ("" if none)."""
    found = STUDENT_IN_NAME.match(Path(name).name)
    return found.group(1).strip(" -_.") if found else ""


def student_of(path: Path, given: Path) -> tuple[str, str]:
    """Whose notebook `path` is, by STUDENT_RULE, found through `given`; and a note, if any.

    The note says the file name names someone else than the student's folder, that the
    notebook was credited by its file name in a folder below `given` shared by several
    students, or that no name was found ("" when there is nothing to say).
    """
    named = student_in_name(path.name)
    folder = nbgrader_student(path)
    if folder is None:
        folder = named_folder(path)
        if folder is not None and is_class_folder(folder):
            return by_file_name(named, folder, given)
    if folder is None:
        return by_file_name(named, None, given)
    if named and not same_name(named, folder.name):
        return folder.name, f"the file name says {named}, the folder {folder.name}"
    return folder.name, ""


def by_file_name(named: str, class_folder: Path | None, given: Path) -> tuple[str, str]:
    """The student a file name gives (with a note if it gives none), for a notebook in no
    student's folder; `class_folder`, the folder of several students holding it, if any."""
    if not named:
        return "", ("no student name: put the notebook in a folder named after the student, or "
                    "name it student-ex01-....ipynb")
    if class_folder is not None and given.absolute() in class_folder.parents:
        return named, (f"the folder {class_folder.name} holds the notebooks of several students: "
                       "credited by the file name")
    return named, ""


def nbgrader_student(path: Path) -> Path | None:
    """The student's folder if `path` is in nbgrader's layout (None if it is not):
    course/submitted/<student>/<assignment>/<notebook>, where the course also has
    source/<assignment> or release/<assignment>, or the assignment folder holds the
    timestamp.txt nbgrader collects with a submission."""
    assignment = path.absolute().parent
    student = assignment.parent
    course = student.parent.parent
    if student.parent.name not in NBGRADER_STUDENT_FOLDERS or not assignment.name:
        return None
    if (assignment / "timestamp.txt").is_file() or any(
            (course / folder / assignment.name).is_dir() for folder in NBGRADER_ASSIGNMENT_FOLDERS):
        return student
    return None


def named_folder(path: Path) -> Path | None:
    """The folder that may name the student: the nearest holding `path` not named after an
    exercise (None if there is none)."""
    for folder in path.absolute().parents:
        if not folder.name:
            return None
        if not EXERCISE_IN_NAME.match(folder.name):
            return folder
    return None


def is_class_folder(folder: Path) -> bool:
    """Whether `folder` holds several students' work: folders of notebooks (not named after an
    exercise), or notebooks whose file names (here or in its exercise folders) name several."""
    names = set()
    for entry in entries(folder):
        if entry.suffix == ".ipynb" and not entry.is_dir():
            names.add(name_key(student_in_name(entry.name)))
        elif entry.is_dir() and not entry.name.startswith("."):
            if not EXERCISE_IN_NAME.match(entry.name):
                if any(entries(entry, "*.ipynb")):
                    return True
                continue
            names.update(name_key(student_in_name(inner.name))
                         for inner in entries(entry, "*.ipynb"))
    return len(names - {""}) > 1


def entries(folder: Path, pattern: str = "*") -> list[Path]:
    """What `folder` holds matching `pattern` (nothing if it cannot be read)."""
    try:
        return list(folder.glob(pattern))
    except OSError:
        return []


def same_name(one: str, other: str) -> bool:
    """Whether two spellings name the same student (case, spaces and separators aside)."""
    return name_key(one) == name_key(other)


def name_key(name: str) -> str:
    """A student's name without case, spaces or separators ("Bob Jones", "bob_jones": bobjones)."""
    return re.sub(r"[\W_]+", "", name).casefold()


def shown_path(path: Path, given: Path) -> str:
    """How the table names a notebook: from the folder given, or its file name if given by name."""
    return path.name if path == given else path.relative_to(given).as_posix()


def printable(text: str, *, lines: bool = False) -> str:
    """`text` from a learner (a message, a file or folder name) as it may be shown to the
    instructor: control characters (terminal escapes, carriage returns, and newlines unless
    `lines`), bidirectional overrides and characters no encoder can write (lone surrogates,
    undecodable bytes of a file name) are written as escapes (\\x1b, \\u202e, \\udcff)."""
    return UNPRINTABLE.sub(lambda found: escape_code(found.group(), lines), text)


def escape_code(char: str, lines: bool) -> str:
    if lines and char in "\n\t":
        return char
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def csv_cell(value: str) -> str:
    """`value` as a CSV cell no spreadsheet runs as a formula: a ' before a formula's first
    character at its start, or after a ',', ';' or tab a spreadsheet might split it at."""
    return FORMULA.sub(r"\1'\2", value)


def write_csv(report: dict[str, Any], path: Path) -> None:
    """Write the grades as CSV for a learning platform: student, exercise, score, max.

    A notebook the report leaves out of it (`in_csv` false: a second submission of one
    exercise, a student's folder inside another's) has no row; its warning says why.
    """
    with path.open("w", newline="", encoding="utf-8", errors="backslashreplace") as file:
        writer = csv.writer(file)
        writer.writerow(CSV_COLUMNS)
        for verdict in report["notebooks"]:
            if not verdict.get("in_csv", True):
                continue
            writer.writerow([csv_cell(verdict.get("student") or ""),
                             csv_cell(verdict["exercise"] or ""),
                             f"{verdict['score']:g}", f"{verdict['max_score']:g}"])


def score_table(report: dict[str, Any]) -> Table:
    """One row per notebook: who, which file, exercise, score per task, total, and notes.

    Every cell is a Text, never markup: paths, names and messages come from the learners.
    """
    table = Table(title="choreo-lab grades", show_lines=False, title_justify="left")
    table.add_column("Student", overflow="fold")
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
        table.add_row(Text(verdict.get("student") or "?"),
                      Text(verdict.get("submission") or verdict["path"]),
                      Text(verdict["exercise"] or "?"), tasks,
                      Text(f"{verdict['score']:g}/{verdict['max_score']:g}"), notes(verdict))
    table.add_section()
    count, skipped = len(report["notebooks"]), len(report.get("skipped", []))
    table.add_row("", plural(count, "notebook") + (f" ({plural(skipped, 'other file')} skipped)"
                                                   if skipped else ""), "", "",
                  f"{report['score']:g}/{report['max_score']:g}", "")
    return table


def notes(verdict: dict[str, Any]) -> Text:
    """The Notes cell: warnings about names first (yellow), then the first two problems."""
    cell = Text()
    warned = verdict.get("warnings", [])
    if warned:
        cell.append("; ".join(warned), style="yellow")
    problems = verdict["problems"][:2] + ([f"(+{len(verdict['problems']) - 2} more)"]
                                          if len(verdict["problems"]) > 2 else [])
    if problems:
        cell.append(("; " if warned else "") + "; ".join(problems),
                    style="red" if verdict["status"] != "graded" else "dim")
    return cell


def ungraded(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The submissions that could not be graded (unreadable, unknown exercise, stopped)."""
    return [verdict for verdict in report["notebooks"] if verdict["status"] != "graded"]


def closing_lines(report: dict[str, Any]) -> list[Text]:
    """What an instructor must look at: submissions not graded, and warnings about names."""
    lines: list[Text] = []
    failed = ungraded(report)
    if failed:
        lines.append(Text(f"{plural(len(failed), 'submission')} could not be graded (0 points "
                          "each, counted in the total): fix or ask for these, then grade them "
                          "again", style="bold red"))
        lines.extend(Text(f"  {name_of(v)}: {v['problems'][0] if v['problems'] else 'no verdict'}")
                     for v in failed)
    warned = [(v, w) for v in report["notebooks"] for w in v.get("warnings", [])]
    if warned:
        lines.append(Text(f"Warnings ({len(warned)}): check who is credited", style="bold yellow"))
        lines.extend(Text(f"  {name_of(v)}: {w}") for v, w in warned)
    return lines


def name_of(verdict: dict[str, Any]) -> str:
    """A submission as the table names it."""
    return verdict.get("submission") or verdict["path"]


def skipped_files(report: dict[str, Any]) -> RenderableType:
    """Every file found in a submitted folder that was not graded, with the reason."""
    return Group(*(Text(f"  {entry.get('submission') or entry['path']}: {entry['reason']}")
                   for entry in report.get("skipped", [])))


def failures(report: dict[str, Any], details: bool) -> RenderableType:
    """Each failed check, per submission: its title and what went wrong (or all its feedback)."""
    lines: list[RenderableType] = []
    for verdict in report["notebooks"]:
        failed = [(task["task"], check) for task in verdict["tasks"] for check in task["checks"]
                  if not check["passed"]]
        if not failed:
            continue
        lines.append(Text(name_of(verdict), style="bold"))
        if len({check["message"] for _, check in failed}) == 1 and verdict["status"] != "graded":
            lines.append(Text(f"  every check ({len(failed)}): "
                              + first_paragraph(failed[0][1]["message"]), style="red"))
            continue
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
    """Print the score table, the failed checks, then what could not be graded and warnings."""
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
    for line in closing_lines(report):
        console.print(line)
