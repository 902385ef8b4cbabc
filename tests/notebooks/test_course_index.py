"""The map of the course in 00-welcome stays current, and no link in the course is broken."""

from __future__ import annotations

from pathlib import Path

import pytest

from .course import (INDEX, NOTEBOOKS, course_notebooks, exercise_notebooks, local_links, read,
                     resolve)

#: Linked from the course already, not written yet. When one lands, delete it here.
PLANNED: set[Path] = set()


def index_links() -> set[Path]:
    return {resolve(target) for target in local_links(read(INDEX))}


def test_the_course_index_links_every_notebook() -> None:
    unlinked = [path.name for path in course_notebooks() if path.resolve() not in index_links()]
    assert not unlinked, f"add {unlinked} to the map of the course in {INDEX.name}"


def test_the_course_index_links_every_exercise() -> None:
    unlinked = [path.name for path in exercise_notebooks() if path.resolve() not in index_links()]
    assert not unlinked, f"add {unlinked} to the exercises in the map of the course ({INDEX.name})"


@pytest.mark.parametrize("path", course_notebooks(), ids=lambda path: path.stem)
def test_every_link_in_a_notebook_leads_to_a_file_or_a_planned_one(path: Path) -> None:
    broken = [target for target in local_links(read(path))
              if not resolve(target).exists() and resolve(target) not in PLANNED]
    assert not broken, f"{path.name} links to files that do not exist: {broken}"


def test_every_planned_file_is_linked_from_the_course_index() -> None:
    unlinked = sorted(path.name for path in PLANNED - index_links())
    assert not unlinked, f"planned but missing from the map of the course: {unlinked}"


def test_planned_files_are_not_written_yet() -> None:
    written = sorted(str(path.relative_to(NOTEBOOKS.parent)) for path in PLANNED if path.exists())
    assert not written, (f"{written} exist now: delete them from PLANNED in {Path(__file__).name} "
                         "so their links are checked like every other")
