"""The course's notebooks and exercises: where this installation keeps them, and copying them
into a folder of the student's own.

A wheel carries the course inside the package (``choreo_lab/course/``, added by setup.py at
build time from the repository's notebooks/ and exercises/); a source checkout (an editable
install) has them in the repository itself. This module uses only the standard library, so
setup.py can read `COURSE_FILES` from it without importing choreo_lab.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

#: What the course is: folder -> pattern of its files. The only list of them.
COURSE_FILES = {"notebooks": "[0-9][0-9]-*.ipynb", "exercises": "ex[0-9][0-9]-*.ipynb"}
#: The notebook to open first, relative to the course folder.
FIRST_NOTEBOOK = "notebooks/00-welcome.ipynb"

_PACKAGED = Path(__file__).resolve().parent / "course"
_CHECKOUT = Path(__file__).resolve().parent.parent


class CourseNotFound(FileNotFoundError):
    """This installation of choreo_lab holds no course to copy."""


@dataclass(frozen=True)
class CopiedCourse:
    """What `copy_course` did: the files it wrote and the ones already there, which it kept."""

    folder: Path
    copied: tuple[str, ...]
    kept: tuple[str, ...]


def course_source() -> Path:
    """The folder holding this installation's notebooks/ and exercises/."""
    for folder in (_PACKAGED, _CHECKOUT):
        if is_course(folder):
            return folder
    raise CourseNotFound(
        f"this installation of choreo_lab has no course (no {FIRST_NOTEBOOK} in {_PACKAGED}): "
        "install it from a wheel (pip install choreo-lab) or from a checkout of the repository")


def course_files(folder: Path) -> list[str]:
    """The course's files in `folder`, as sorted relative paths ('notebooks/00-welcome.ipynb')."""
    return sorted(path.relative_to(folder).as_posix() for subfolder, pattern in COURSE_FILES.items()
                  for path in (folder / subfolder).glob(pattern))


def is_course(folder: Path) -> bool:
    """Whether `folder` holds the course (its first notebook, at least)."""
    return (folder / FIRST_NOTEBOOK).is_file()


def copy_course(target: Path) -> CopiedCourse:
    """Copy the course into `target` (created if needed); files already there are never replaced.

    Keeping existing files makes this safe to repeat on a folder with a student's work in it.
    """
    source = course_source()
    if target.exists() and not target.is_dir():
        raise NotADirectoryError(f"{target} is a file: give a folder to copy the course into")
    copied, kept = [], []
    for name in course_files(source):
        destination = target / name
        if destination.exists():
            kept.append(name)
            continue
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / name, destination)
        copied.append(name)
    return CopiedCourse(target, tuple(copied), tuple(kept))
