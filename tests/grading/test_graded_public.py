"""Public checks the grader runs on other cases than the learner's check() shows.

Exercise 7's public diagnose checks build shops that ship with the package, so a diagnose()
could answer them from a table. The hidden checks' folder says (``GRADED``) how the grader
runs each of them instead: shops of the same kind, built afresh from a salt kept with the
hidden checks. The learner's check() still runs the public shops, as the notebook shows.
"""

from __future__ import annotations

import importlib.util

import nbformat
import pytest

from choreo_lab.grading import check
from choreo_lab.grading.hidden import graded_exercises
from choreo_lab.grading.kit import case_file
from choreo_lab.grading.tasks import Check, Task, task_named

from .conftest import ROOT, SOURCES, namespace_of
from .variants_ex07 import DIAGNOSE_DIFFERENTLY, LOOKUP_TABLE

EX07 = "ex07-stuck-order"
HIDDEN_EX07 = ROOT / "solutions" / "hidden_checks" / "ex07_stuck_order.py"


def hidden_module(salt: str | None = None):
    spec = importlib.util.spec_from_file_location("hidden_ex07_under_test", HIDDEN_EX07)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if salt is not None:
        module.GRADING_SALT = salt
    return module


def test_the_learners_check_runs_the_public_shops_and_the_grader_other_ones() -> None:
    namespace = namespace_of(nbformat.read(SOURCES[EX07], as_version=4), LOOKUP_TABLE.cells)
    public = check("diagnose", namespace=namespace)
    assert [result.score for result in public.checks] == [1, 1, 1, 1]  # as the notebook shows
    graded = check("diagnose", namespace=namespace, hidden=True)
    assert [result.score for result in graded.checks] == [0, 0, 0, 0, 0]
    assert [r.title for r in graded.checks[:4]] == [r.title for r in public.checks]


def test_a_graded_shop_says_an_answer_is_wrong_but_not_what_it_should_be() -> None:
    """The graded and hidden shops are the same for every student: a message that told the
    expected answer (or the shop's story) let a class fill a table of answers by order id
    from its feedback. The learner's own check() still tells it, for the public shops."""
    namespace = namespace_of(nbformat.read(SOURCES[EX07], as_version=4), LOOKUP_TABLE.cells)
    graded = check("diagnose", namespace=namespace, hidden=True)
    for result in graded.checks:
        assert "this shop keeps its answer" in result.message and "it waits on" not in result.message
        assert "In this shop" not in result.message and "Hint:" in result.message
    dumb = {"diagnose": "def diagnose(case):\n    return None, COMPLETED\n"}
    public = check("diagnose", namespace=namespace_of(
        nbformat.read(SOURCES[EX07], as_version=4), dumb))
    assert any("it waits on" in result.message for result in public.checks if result.score == 0)


def test_graded_tasks_keep_titles_and_points_and_replace_only_what_graded_names() -> None:
    for tasks in graded_exercises().values():
        for task in tasks:
            titles = [(c.title, c.points) for c in task.public_checks]
            assert titles == [(c.title, c.points) for c in task_named(task.name).public_checks]
    diagnose = next(t for t in graded_exercises()[EX07] if t.name == "diagnose")
    public = task_named("diagnose")
    assert all(g.run is not p.run for g, p in zip(diagnose.public_checks, public.public_checks))
    refuse = next(t for t in graded_exercises()[EX07] if t.name == "no_stuck_orders")
    assert [c.run for c in refuse.public_checks] == [c.run for c in
                                                      task_named("no_stuck_orders").public_checks]


def test_a_graded_run_for_a_check_that_does_not_exist_is_refused() -> None:
    task = Task("t", "ex00", "a task", (Check("does a thing", 1, lambda learner: None),))
    with pytest.raises(ValueError, match="no public check 'does another thing'"):
        task.with_hidden((), {"does another thing": lambda learner: None})


def shops_of(module) -> list:
    return [shop for make in (module.graded_down_or_paused, module.graded_dead_letter,
                              module.graded_swallowed_or_unheard, module.graded_finished)
            for shop in make()]


def test_the_same_salt_builds_the_same_shops_and_another_salt_other_ones() -> None:
    def described(module) -> list:
        return [(shop.story, shop.expected) for shop in shops_of(module)]
    assert described(hidden_module()) == described(hidden_module())
    assert described(hidden_module("another cohort")) != described(hidden_module())


@pytest.mark.parametrize("salt", [None, *(f"cohort-{n}" for n in range(12))])
def test_the_reference_and_another_right_diagnosis_agree_with_every_graded_shop(
        salt: str | None) -> None:
    notebook = nbformat.read(SOURCES[EX07], as_version=4)
    answers = [namespace_of(notebook)["diagnose"],
               namespace_of(notebook, DIAGNOSE_DIFFERENTLY.cells)["diagnose"]]
    for shop in shops_of(hidden_module(salt)):
        sim = shop.run(1)
        for order_id, expected in shop.expected.items():
            case = case_file(sim, order_id)
            assert [diagnose(case) for diagnose in answers] == [expected, expected], shop.story

