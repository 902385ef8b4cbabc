"""The checks are not vacuous: stubs score zero, references score full, wrong answers lose
exactly the points they should with a message that teaches, and other right answers pass.

These run the checks in this process on namespaces built from the notebooks (fast); the
command-line grader runs the same checks in kernels (test_grader.py).
"""

from __future__ import annotations

import nbformat
import pytest

from choreo_lab.grading import check
from choreo_lab.grading.ex03_idempotent_payment import never_refunded
from choreo_lab.grading.hidden import graded_exercises
from choreo_lab.grading.judge import judge_task
from choreo_lab.grading.learner import NotebookLearner
from choreo_lab.grading.scenarios import order
from choreo_lab.grading.student_version import (
    BEGIN_SOLUTION,
    CODE_STUB,
    END_SOLUTION,
    replace_regions,
)
from choreo_lab.grading.tasks import Task, exercises

from .conftest import EXERCISES, ROOT, SOURCES, flat, namespace_of
from .variants import CORRECT_DIFFERENTLY, WRONG, Variant


def grade(namespace: dict, exercise: str) -> dict[str, tuple[float, float, str]]:
    """Check title -> (score, points, message) over every task of `exercise`, hidden included."""
    found = {}
    for task in graded_exercises()[exercise]:
        for result in judge_task(task, lambda _: NotebookLearner(namespace), hidden=True).checks:
            found[result.title] = (result.score, result.points, result.message)
    return found


def total(found: dict[str, tuple[float, float, str]]) -> tuple[float, float]:
    return sum(s for s, _, _ in found.values()), sum(p for _, p, _ in found.values())


@pytest.mark.parametrize("exercise", sorted(SOURCES))
def test_the_reference_solution_scores_full_marks(exercise: str) -> None:
    found = grade(namespace_of(nbformat.read(SOURCES[exercise], as_version=4)), exercise)
    failures = {title: message for title, (score, points, message) in found.items() if score < points}
    assert failures == {}
    assert total(found)[0] == sum(task.max_points for task in exercises()[exercise]) > 0


@pytest.mark.parametrize("exercise", sorted(SOURCES))
def test_the_stubs_score_zero_and_say_to_replace_the_stub(exercise: str) -> None:
    found = grade(namespace_of(nbformat.read(EXERCISES / f"{exercise}.ipynb", as_version=4)),
                  exercise)
    assert total(found)[0] == 0
    assert all("NotImplementedError" in message for _, _, message in found.values())


@pytest.mark.parametrize("variant", WRONG, ids=lambda v: v.name)
def test_a_known_wrong_answer_loses_the_right_points_with_a_message_that_teaches(
        variant: Variant) -> None:
    notebook = nbformat.read(SOURCES[variant.exercise], as_version=4)
    found = grade(namespace_of(notebook, variant.cells), variant.exercise)
    failed = {title for title, (score, points, _) in found.items() if score < points}
    assert failed == set(variant.expected_failures)
    for title, phrase in variant.expected_failures.items():
        assert flat(phrase) in flat(found[title][2]), found[title][2]
    assert 0 < total(found)[0] < total(found)[1]


@pytest.mark.parametrize("variant", CORRECT_DIFFERENTLY, ids=lambda v: v.name)
def test_a_correct_answer_written_differently_scores_full_marks(variant: Variant) -> None:
    notebook = nbformat.read(SOURCES[variant.exercise], as_version=4)
    found = grade(namespace_of(notebook, variant.cells), variant.exercise)
    assert {t: m for t, (s, p, m) in found.items() if s < p} == {}


def half_stubbed(exercise: str, stubbed: str) -> dict[str, str]:
    """The cell `stubbed` as handed out (the stub of the student version), for `namespace_of`;
    "cell/handler": the reference's cell with only that handler's solution as handed out."""
    cell, _, handler = stubbed.partition("/")
    if handler:
        source = next(c.source for c in nbformat.read(SOURCES[exercise], as_version=4).cells
                      if c.get("id") == cell)
        before, definition, after = source.partition(f"def {handler}(")
        body, end, rest = after.partition(END_SOLUTION)  # the handler's own region, and on
        body, _ = replace_regions(body + end, BEGIN_SOLUTION, END_SOLUTION,
                                  CODE_STUB.split("\n"), stubbed)
        return {cell: before + definition + body + "\n" + rest.partition("\n")[2]}
    handed_out = nbformat.read(EXERCISES / f"{exercise}.ipynb", as_version=4)
    return {stubbed: next(cell.source for cell in handed_out.cells if cell.get("id") == stubbed)}


#: A handler still the stub, the rest the reference: (exercise, stubbed cell or "cell/handler",
#: the tasks that judge it). Every other task must score full: the stub costs points in its
#: own tasks only (exercise 3's chaos explorer judges the whole service, refunds too).
HALF_STUBS = [("ex02-compensations", "release_stock", ("release",)),
              ("ex02-compensations", "refund_payment", ("refund",)),
              ("ex03-idempotent-payment", "payment_service/refund_payment",
               ("refund_once", "chaos"))]
HALF_STUB_IDS = [f"{exercise[:4]}-{stubbed.split('/')[-1]}" for exercise, stubbed, _ in HALF_STUBS]


@pytest.mark.parametrize("exercise, stubbed, undone", HALF_STUBS, ids=HALF_STUB_IDS)
def test_a_handler_still_the_stub_costs_points_only_in_its_own_tasks(
        exercise: str, stubbed: str, undone: tuple[str, ...]) -> None:
    namespace = namespace_of(nbformat.read(SOURCES[exercise], as_version=4),
                             half_stubbed(exercise, stubbed))
    results = {task.name: judge_task(task, lambda _: NotebookLearner(namespace), hidden=True)
               for task in graded_exercises()[exercise]}
    handler = stubbed.split("/")[-1]
    for name, result in results.items():
        if name in undone:
            assert result.score == 0
            assert all(f"{handler}() still raises NotImplementedError" in check.message
                       for check in result.checks)
        else:
            assert result.score == result.max_score, result.checks


def test_a_batch_without_refunds_keeps_only_orders_nothing_refunds() -> None:
    orders = [order("o-1", item="unicorn"), order("o-2", address="Atlantis"),
              order("o-3", customer="mallory", item="unicorn"), order("o-4", item="lamp"),
              order("o-5", item="lamp", quantity=3)]
    assert [kept["order_id"] for kept in never_refunded(orders)] == ["o-3", "o-4"]


def test_every_exercise_has_at_least_two_known_wrong_answers() -> None:
    counts = {exercise: sum(v.exercise == exercise for v in WRONG) for exercise in SOURCES}
    assert min(counts.values()) >= 2, counts


def test_feedback_shows_the_faults_injected_and_a_trace_excerpt() -> None:
    variant = next(v for v in WRONG if v.name == "charges on every delivery")
    namespace = namespace_of(nbformat.read(SOURCES[variant.exercise], as_version=4), variant.cells)
    message = check("charge_once", namespace=namespace).checks[0].message
    assert "Order o-1 was charged 2 times" in message
    assert "duplicate(service='payment', event_type='OrderPlaced', times=1)" in message
    assert "What happened to o-1 (trace excerpt):" in message
    assert "Hint: remember which orders you charged and skip repeats" in message


def test_the_chaos_check_reports_the_smallest_failing_schedule() -> None:
    variant = next(v for v in WRONG if v.name == "charges on every delivery")
    namespace = namespace_of(nbformat.read(SOURCES[variant.exercise], as_version=4), variant.cells)
    message = flat(check("chaos", namespace=namespace).checks[0].message)
    assert "The smallest failing schedule" in message and "at most one charge" in message
    assert "Faults injected" not in message  # the replay call below names them, as Python
    assert ("sim = Simulation(order_services(payment=make_payment_service()), seed=" in message
            and "faults=[Duplicate(service='payment', event_type='OrderPlaced'" in message)
    assert "place_orders(sim, random_orders(4, seed=1, failure_rate=0.5))" in message


def test_the_public_check_says_plainly_that_hidden_checks_exist() -> None:
    namespace = namespace_of(nbformat.read(SOURCES["ex01-inventory"], as_version=4))
    result = check("reserve", namespace=namespace)
    assert all(not c.hidden for c in result.checks)
    assert "runs 1 more hidden check" in str(result)
    assert "hidden check" in result._repr_html_()
    assert result.score == 2 and result.max_score == 3


def test_the_notebook_display_gives_nbgrader_the_score_as_text() -> None:
    namespace = namespace_of(nbformat.read(SOURCES["ex01-inventory"], as_version=4))
    bundle = check("reserve", hidden=True, namespace=namespace)._repr_mimebundle_()
    assert bundle["text/plain"] == "3"
    assert "text/html" in bundle


def test_passing_public_checks_read_as_full_credit_to_nbgrader_validate() -> None:
    namespace = namespace_of(nbformat.read(SOURCES["ex01-inventory"], as_version=4))
    credit = check("reserve", namespace=namespace)._repr_mimebundle_()["text/plain"]
    with pytest.raises(ValueError):  # nbgrader gives full credit to text that is no number
        float(credit)
    stubbed = namespace_of(nbformat.read(EXERCISES / "ex01-inventory.ipynb", as_version=4))
    assert check("reserve", namespace=stubbed)._repr_mimebundle_()["text/plain"] == "0"


def test_the_package_holds_no_hidden_check() -> None:
    tasks = [task for group in exercises().values() for task in group]
    assert all(not task.hidden_checks for task in tasks) and sum(t.hidden_count for t in tasks) > 8
    graded = [task for group in graded_exercises().values() for task in group]
    assert all(task.complete and task.max_points == public.max_points
               for task, public in zip(graded, tasks))
    package = "".join(p.read_text() for p in (ROOT / "choreo_lab").rglob("*.py"))
    hidden = [c.title for task in graded for c in task.hidden_checks]
    assert [title for title in hidden if title in package] == []


def test_feedback_is_the_same_every_time() -> None:
    variant = next(v for v in WRONG if v.name == "compensates on the wrong events")
    notebook = nbformat.read(SOURCES[variant.exercise], as_version=4)
    first = grade(namespace_of(notebook, variant.cells), variant.exercise)
    again = grade(namespace_of(notebook, variant.cells), variant.exercise)
    assert first == again


def test_a_handler_that_loops_forever_fails_its_check_within_the_budget() -> None:
    from .conftest import HANDLER_LOOPS
    namespace = namespace_of(nbformat.read(SOURCES["ex01-inventory"], as_version=4),
                             {"inventory_service": HANDLER_LOOPS, "try_it": ""})
    result = check("reserve", namespace=namespace, budget=0.5)
    assert result.score == 0
    assert "did not finish within 0.5 s" in result.checks[0].message


def test_a_handler_that_prints_megabytes_fails_and_nothing_reaches_the_notebook(capsys) -> None:
    from .conftest import HANDLER_PRINTS
    namespace = namespace_of(nbformat.read(SOURCES["ex01-inventory"], as_version=4),
                             {"inventory_service": HANDLER_PRINTS, "try_it": ""})
    result = check("reserve", namespace=namespace)
    assert result.score == 0 and "remove the print() calls" in flat(result.checks[0].message)
    assert capsys.readouterr().out == ""


def test_a_handler_error_names_the_line_and_the_message() -> None:
    broken = '''
def make_inventory_service(stock):
    inventory = Service("inventory", {"stock": dict(stock)})

    @inventory.handles(PaymentCompleted)
    def reserve_stock(event, ctx):
        return ctx.state["reservations"][event.order_id]

    return inventory
'''
    namespace = namespace_of(nbformat.read(SOURCES["ex01-inventory"], as_version=4),
                             {"inventory_service": broken})
    message = flat(check("reserve", namespace=namespace).checks[0].message)
    assert "reserve_stock() raised KeyError: 'reservations'" in message
    assert 'line 7 in reserve_stock: return ctx.state["reservations"][event.order_id]' in message


def test_a_handler_that_returns_no_event_is_told_what_a_handler_returns() -> None:
    returns_text = '''
def make_inventory_service(stock):
    inventory = Service("inventory", {"stock": dict(stock)})

    @inventory.handles(PaymentCompleted)
    def reserve_stock(event, ctx):
        return "reserved"

    return inventory
'''
    namespace = namespace_of(nbformat.read(SOURCES["ex01-inventory"], as_version=4),
                             {"inventory_service": returns_text})
    message = flat(check("reserve", namespace=namespace).checks[0].message)
    assert "The inventory service failed on message" in message
    assert "inventory.reserve_stock() returned str 'reserved'" in message
    assert message.lower().count("a list of events, or none") == 1


def test_a_factory_that_returns_nothing_is_told_to_return_the_service() -> None:
    namespace = namespace_of(nbformat.read(SOURCES["ex01-inventory"], as_version=4),
                             {"inventory_service": "def make_inventory_service(stock):\n    pass"})
    message = check("reserve", namespace=namespace).checks[0].message
    assert "returned NoneType None, not a Service" in message


def test_an_unknown_task_lists_the_tasks_there_are() -> None:
    with pytest.raises(KeyError, match="ex01-inventory: reserve, out_of_stock, reserve_once"):
        check("reserv", namespace={})


def test_tasks_have_unique_names_and_positive_points() -> None:
    tasks = [task for group in exercises().values() for task in group]
    assert len({task.name for task in tasks}) == len(tasks)
    assert all(isinstance(task, Task) and task.max_points > 0 for task in tasks)


def test_an_error_inside_a_hidden_check_names_no_line_of_it() -> None:
    from choreo_lab.grading.hidden import PACKAGE
    from choreo_lab.grading.judge import judge_check
    from choreo_lab.grading.tasks import Check

    hidden: dict = {"__name__": f"{PACKAGE}.ex99"}
    exec("def secret_check(learner):\n    return {}['the hidden answer']\n", hidden)
    mine: dict = {"__name__": "__main__"}
    exec("def my_check(learner):\n    return {}['my key']\n", mine)
    said = {name: judge_check(Check(name, 1, code[name]), lambda _: NotebookLearner({}), 5).message
            for name, code in (("secret_check", hidden), ("my_check", mine))}
    assert said["secret_check"] == "Checking stopped with an error: KeyError: 'the hidden answer'."
    assert said["my_check"].endswith("KeyError: 'my key' (line 2 in my_check).")


def test_an_invariant_that_cannot_read_the_state_is_named_as_the_oracle_s_failure() -> None:
    from choreo_lab.consistency import InvariantError
    from choreo_lab.grading.judge import judge_check
    from choreo_lab.grading.tasks import Check

    def oracle_check(learner):
        raise InvariantError("invariant at_most_one_charge() raised TypeError: payment's ledger "
                             "is list []")
    message = judge_check(Check("t", 1, oracle_check), lambda _: NotebookLearner({}), 5).message
    assert message == ("The consistency oracle could not check the run: invariant "
                       "at_most_one_charge() raised TypeError: payment's ledger is list [].")
