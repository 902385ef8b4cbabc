"""The `choreo-lab` command: copy the course and open it in JupyterLab, run the order saga in
the terminal, grade submissions, regenerate the student exercises."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.text import Text

from . import __version__

#: Where `choreo-lab lab` puts the course when no folder is given and `.` is not one.
DEFAULT_COURSE_FOLDER = "choreo-lab-course"


def main(argv: list[str] | None = None) -> int:
    """Run one `choreo-lab` subcommand; returns the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit:
        _point_to_the_new_command(sys.argv[1:] if argv is None else argv)
        raise
    if args.command is None:
        parser.print_help()
        return 2
    return args.run(args)


def build_parser() -> argparse.ArgumentParser:
    """The `choreo-lab` argument parser and its subcommands."""
    from .grading.report import STUDENT_RULE

    parser = argparse.ArgumentParser(
        prog="choreo-lab", description="Tools for the choreo-lab course.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    course = commands.add_parser(
        "course", help="copy the course (notebooks and exercises) into a folder",
        description="Copy the course's notebooks/ and exercises/ into FOLDER. Files already "
                    "there are kept, never replaced, so your work is safe.")
    course.add_argument("folder", type=Path, metavar="FOLDER")
    course.set_defaults(run=run_course)

    lab = commands.add_parser(
        "lab", help="open the course in JupyterLab (copying it into the folder first if needed)",
        description="Open JupyterLab on FOLDER, on 127.0.0.1, at notebook 00. If FOLDER does not "
                    f"hold the course yet, copy it there first. Default: the current folder if "
                    f"it holds the course, else ./{DEFAULT_COURSE_FOLDER}.")
    lab.add_argument("folder", type=Path, nargs="?", metavar="FOLDER")
    lab.add_argument("--no-browser", action="store_true", help="do not open a web browser")
    lab.add_argument("--port", type=at_least(1), help="the port (default: JupyterLab's, 8888)")
    lab.set_defaults(run=run_lab)

    grade = commands.add_parser(
        "grade", help="grade submitted exercise notebooks (files or folders)",
        description="Run each notebook in a sandbox (its own unprivileged process, with time "
                    "and resource limits), run every check (hidden ones too) where its grade "
                    "cell stands, print a table of scores and write a JSON report, and beside it "
                    "a CSV of grades for a learning platform (same name, .csv; columns "
                    "student, exercise, score, max; one row per graded notebook). The exercise "
                    "is the notebook's own (its metadata or grade cells), else the exNN anywhere "
                    "in its file name. Exits 1 if a submission could not be graded. "
                    + STUDENT_RULE)
    grade.add_argument("paths", nargs="+", type=Path, metavar="PATH",
                       help="a notebook, or a folder searched for *.ipynb")
    grade.add_argument("--json", action="store_true",
                       help="print the report as JSON on stdout instead of the table")
    grade.add_argument("--report", type=Path, default=Path("grading-report.json"),
                       help="where to write the JSON report; the CSV of grades goes beside it, "
                            "with .csv for .json (default: %(default)s)")
    grade.add_argument("--details", action="store_true",
                       help="show each failed check's whole feedback, not just its first line")
    grade.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1),
                       help="notebooks graded at once (default: %(default)s)")
    grade.add_argument("--cell-timeout", type=seconds, default=30.0,
                       help="seconds a notebook cell may run before it is interrupted "
                            "(default: %(default)g)")
    grade.add_argument("--timeout", type=seconds, default=300.0,
                       help="seconds one notebook may take in all before grading it stops "
                            "(default: %(default)g)")
    grade.add_argument("--check-budget", type=seconds, default=10.0,
                       help="seconds one check may run the learner's code (default: %(default)g)")
    grade.add_argument("--hidden", type=Path, default=None, metavar="DIR",
                       help="the folder of hidden checks; it must hold them (default: "
                            "solutions/hidden_checks of the course)")
    grade.set_defaults(run=run_grade)

    generate = commands.add_parser(
        "exercises", help="regenerate exercises/ from solutions/ (the single sources)",
        description="Make each student notebook from its source: solution regions become "
                    "stubs, hidden checks are removed, outputs are cleared (nbgrader's rules).")
    generate.add_argument("--solutions", type=Path, default=Path("solutions"))
    generate.add_argument("--exercises", type=Path, default=Path("exercises"))
    generate.add_argument("--check", action="store_true",
                          help="change nothing; exit 1 if exercises/ is out of date")
    generate.set_defaults(run=run_exercises)

    run = commands.add_parser(
        "run", help="run one of the course's workflows in the terminal (simulation or NATS)",
        description="Start seeded workflow instances (some fail on purpose), kill and restart "
                    "services at given times, and show what happened and whether the system "
                    "is consistent: in the simulation (the default; same seed, same output) "
                    "or as real processes on NATS JetStream (--backend nats).")
    from . import run as runner
    runner.add_arguments(run)
    run.set_defaults(run=runner.main)
    return parser


#: Commands of earlier versions -> the command that does it now.
REPLACED = {"saga": "run orders"}


def _point_to_the_new_command(argv: list[str]) -> None:
    """After argparse refuses a command an earlier version had, say what replaced it."""
    command = next((word for word in argv if not word.startswith("-")), None)
    if command in REPLACED:
        print(f"`choreo-lab {command}` is now `choreo-lab {REPLACED[command]}` "
              f"(`choreo-lab {REPLACED[command].split()[0]} --help` for its options)",
              file=sys.stderr)


def at_least(minimum: int) -> Callable[[str], int]:
    """An argparse type: a whole number no smaller than `minimum`, or a message saying so."""
    def whole_number(text: str) -> int:
        try:
            number = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if number < minimum:
            raise argparse.ArgumentTypeError(f"{number} is too small: give {minimum} or more")
        return number
    whole_number.__name__ = "number"  # argparse names the type in its message
    return whole_number


def run_course(args: argparse.Namespace) -> int:
    """`choreo-lab course FOLDER`: copy the course there, keeping files already there."""
    from .course import CourseNotFound, copy_course

    try:
        copied = copy_course(args.folder)
    except (CourseNotFound, NotADirectoryError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"copied {len(copied.copied)} course files into {args.folder}"
          + (f" (kept {len(copied.kept)} already there)" if copied.kept else ""))
    print(f"open it with: choreo-lab lab {args.folder}")
    return 0


def run_lab(args: argparse.Namespace) -> int:
    """`choreo-lab lab [FOLDER]`: copy the course there if needed, then run JupyterLab on it."""
    from .course import FIRST_NOTEBOOK, is_course
    from .lab import open_lab

    folder = args.folder
    if folder is None:
        folder = Path.cwd() if is_course(Path.cwd()) else Path(DEFAULT_COURSE_FOLDER)
    if not is_course(folder):
        code = run_course(argparse.Namespace(folder=folder))
        if code:
            return code
    print(f"opening {folder / FIRST_NOTEBOOK} in JupyterLab (Ctrl+C to stop)", flush=True)
    return open_lab(folder, open_browser=not args.no_browser, port=args.port)


def run_grade(args: argparse.Namespace) -> int:
    """`choreo-lab grade`: grade the notebooks, show the table, write the JSON report and CSV.

    Every argument is checked before the first notebook runs; the report and the grades are
    written before the table (or the JSON) is printed. Exits 1 if a submission could not be
    graded.
    """
    from rich.markup import escape

    from .grading.batch import find_files, grade_all, hidden_checks, read_all, summary
    from .grading.hidden import ENVIRONMENT, HiddenChecksMissing, hidden_folder
    from .grading.report import closing_lines, show, ungraded, write_csv
    from .grading.worker import Limits

    err = Console(stderr=True)
    if args.jobs < 1:
        err.print(f"[red]--jobs must be at least 1, got {args.jobs}[/red]")
        return 2
    grades = args.report.with_suffix(".csv")
    problem = report_problem(args.report, grades)
    if problem:
        err.print(Text(problem, style="red"), soft_wrap=True)
        return 2
    try:
        hidden = args.hidden.resolve() if args.hidden is not None else hidden_folder()
        tasks = hidden_checks(hidden, given=args.hidden is not None)
        os.environ[ENVIRONMENT] = str(hidden)
        notebooks, skipped = find_files(args.paths)
    except (FileNotFoundError, HiddenChecksMissing) as error:
        err.print(Text(str(error), style="red"), soft_wrap=True)
        return 2
    if not notebooks:
        err.print(Text(no_notebooks(args.paths), style="red"), soft_wrap=True)
        return 2
    args.report.parent.mkdir(parents=True, exist_ok=True)
    submissions = read_all(notebooks)
    limits = Limits(args.cell_timeout, args.timeout, args.check_budget)
    hide = sandbox_hides(args.paths, hidden)
    with Progress(TextColumn("grading"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("{task.description}"), console=err, transient=True) as progress:
        bar = progress.add_task("", total=len(submissions))

        def advance(path: Path, verdict: dict[str, Any]) -> None:
            progress.update(bar, advance=1, description=escape(
                f"{verdict['submission']} {verdict['score']:g}/{verdict['max_score']:g}"))

        report = summary(grade_all(submissions, tasks, limits, hide, args.jobs, advance), skipped)
    text = json.dumps(report, indent=2)
    try:  # first, so that no trouble printing (a closed pipe, a terminal) loses the grades
        args.report.write_text(text + "\n", "utf-8")
        write_csv(report, grades)
        unwritten = None
    except OSError as error:
        unwritten = error
    if args.json:
        print(text)
        for line in closing_lines(report):
            err.print(line)
    else:
        show(report, Console(), details=args.details)
    if unwritten is not None:
        err.print(Text(f"could not write the report: {unwritten}. The grades are above"
                       + (" (the JSON on stdout)" if args.json else "")
                       + "; give another --report and grade again.", style="red"))
        return 2
    err.print(Text(f"report written to {args.report}, grades to {grades}"))
    return 1 if ungraded(report) else 0


def sandbox_hides(paths: list[Path], hidden: Path) -> list[str]:
    """What the sandbox hides from a submission: the folders graded, the hidden checks, and
    the course's solutions/ holding them (never a parent such as / or /srv: that would hide
    the system the notebook runs on)."""
    hidden = hidden.resolve()
    hide = [str(path.resolve()) for path in paths] + [str(hidden)]
    return hide + ([str(hidden.parent)] if hidden.parent.name == "solutions" else [])


def above_zero(unit: str) -> Callable[[str], float]:
    """An argparse type: a number of `unit` above 0, or a message saying so."""
    def number_above_zero(text: str) -> float:
        try:
            number = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not a number: give a number of {unit} above 0") from None
        if not number > 0 or number == float("inf"):
            raise argparse.ArgumentTypeError(
                f"{text} is not allowed: give a number of {unit} above 0")
        return number
    return number_above_zero


seconds = above_zero("seconds")


def report_problem(report: Path, grades: Path) -> str:
    """What is wrong with --report (and the CSV beside it), checked before grading; "" if fine."""
    if grades == report:
        return (f"--report {report} ends in .csv, the name of the grades CSV written beside "
                "the JSON report: name the report *.json")
    if report.is_dir():
        return (f"--report {report}: {report} is a folder. Give a file name, such as "
                f"{report / 'grading-report.json'}")
    if grades.is_dir():
        return (f"--report {report}: a folder named {grades} is in the way of the grades CSV "
                "written beside the report; move it, or give another --report")
    parent = next((p for p in report.absolute().parents if p.exists()), None)
    if parent is not None and not parent.is_dir():
        return f"--report {report}: {parent} is a file, not a folder"
    if parent is not None and not os.access(parent, os.W_OK):
        return f"--report {report}: cannot write in {parent}; give another --report"
    return ""


def no_notebooks(paths: list[Path]) -> str:
    """Why nothing given is a notebook to grade, with what to give instead."""
    files = [path for path in paths if not path.is_dir()]
    if len(files) == len(paths):
        return (", ".join(map(str, files)) + (" is not a notebook (.ipynb)" if len(files) == 1
                                              else " are not notebooks (.ipynb)")
                + ": give notebooks, or folders holding them")
    return "no notebooks (*.ipynb) found in " + ", ".join(map(str, paths))


def run_exercises(args: argparse.Namespace) -> int:
    """`choreo-lab exercises`: regenerate exercises/ from solutions/, or check it is current."""
    from .grading.student_version import ExerciseSourceError, stale_exercises, write_exercises

    try:
        if args.check:
            stale = stale_exercises(args.solutions, args.exercises)
            if stale:
                print(f"{args.exercises}/ is out of date with {args.solutions}/: "
                      + ", ".join(stale) + ". Run `choreo-lab exercises` (make exercises).")
                return 1
            print(f"{args.exercises}/ is up to date with {args.solutions}/")
            return 0
        changed = write_exercises(args.solutions, args.exercises)
    except ExerciseSourceError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print("regenerated " + (", ".join(changed) if changed else "nothing (already up to date)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
