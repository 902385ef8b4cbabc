"""Running a task's checks against the learner's code, each in a time budget.

Whatever the learner's code does - raise, loop, print megabytes - a check ends with a
verdict: passed, or failed with a message. Only `KeyboardInterrupt` (the person pressing
stop) and the interpreter exiting get through.
"""

from __future__ import annotations

from typing import Any

from .feedback import wrap
from .learner import Learner, describe_error, learner_location
from .results import CheckResult, TaskResult
from .safety import LearnerTimeout, captured_output, time_limit
from .tasks import Check, Failed, Task

#: Seconds one check may take before the learner's code is stopped.
CHECK_BUDGET = 10.0
#: Characters of output a check keeps from the learner's code; more fails the check.
OUTPUT_CAP = 1_000_000


def judge_task(task: Task, namespace: dict[str, Any], *, hidden: bool = False,
               budget: float = CHECK_BUDGET) -> TaskResult:
    """Run the task's public checks (and hidden ones if `hidden`) on the names in `namespace`."""
    results = tuple(judge_check(check, namespace, budget) for check in task.selected(hidden))
    not_run = () if hidden else task.hidden_checks
    return TaskResult(task.name, task.exercise, task.title, task.max_points, results,
                      len(not_run), sum(check.points for check in not_run))


def judge_check(check: Check, namespace: dict[str, Any], budget: float) -> CheckResult:
    """One check's verdict; the learner's errors, loops and floods of output all become failures."""
    message = ""
    with captured_output(OUTPUT_CAP) as printed:
        try:
            with time_limit(budget):
                check.run(Learner(namespace))
        except Failed as failure:
            message = str(failure)
        except LearnerTimeout:
            message = wrap(f"Your code did not finish within {budget:g} s, so it was stopped. "
                           "Is there a loop that never ends (a `while` whose condition never "
                           "changes), or a handler that waits for something?")
        except RecursionError:
            message = "Your code recursed too deeply (a function that calls itself forever?)."
        except MemoryError:
            message = "Your code ran out of memory (a list or string that keeps growing?)."
        except Exception as error:  # noqa: BLE001 - learner code failed in a way no check foresaw
            where = learner_location(error)
            message = (f"Checking stopped with an error: {describe_error(error)}"
                       + (f" ({where})" if where else "") + ".")
    if printed.overflowed:
        message = wrap(f"Your code printed {printed.size:,} characters during this check (more "
                       f"than {OUTPUT_CAP:,}); remove the print() calls from your handlers. "
                       + ("The check also found: " + message if message else ""))
    score = 0.0 if message else check.points
    return CheckResult(check.title, check.points, score, check.hidden, wrap(message, longest=110))
