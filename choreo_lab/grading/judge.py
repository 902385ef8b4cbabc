"""Running a task's checks against the learner's code, each in a time budget.

Whatever the learner's code does - raise, loop, print megabytes, kill its process - a check
ends with a verdict: passed, or failed with a message. Only `KeyboardInterrupt` (the person
pressing stop) and the interpreter exiting get through. A verdict is always 0 or the check's
points: nothing the learner's code returns is ever taken as a score.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from ..consistency import InvariantError
from .audit import audited_runs, expect_runs_kept_records
from .learner import Learner, LearnerGone, describe_error, learner_location
from .results import CheckResult, TaskResult
from .safety import LearnerTimeout, captured_output, time_limit
from .tasks import Check, Failed, Task

#: Seconds one check may take before the learner's code is stopped.
CHECK_BUDGET = 10.0
#: Characters of output a check keeps from the learner's code; more fails the check.
OUTPUT_CAP = 1_000_000

LearnerFactory = Callable[[float], Learner]


def judge_task(task: Task, learner: LearnerFactory, *, hidden: bool = False,
               budget: float = CHECK_BUDGET, timed: bool = True) -> TaskResult:
    """Run the task's public checks (and hidden ones if `hidden`) on a fresh learner each.

    `learner(budget)` gives the learner's code for one check. `timed` stops a check with a
    timer signal after `budget` seconds (in this process); a remote learner keeps its own time.
    """
    if hidden and not task.complete:
        raise ValueError(f"the hidden checks of task {task.name!r} are not loaded")
    checks = task.checks if hidden else task.public_checks
    results = tuple(judge_check(check, learner, budget, timed) for check in checks)
    not_run = 0 if hidden else task.hidden_count
    return TaskResult(task.name, task.exercise, task.title, task.max_points, results,
                      not_run, 0.0 if hidden else task.hidden_points)


def judge_check(check: Check, learner: LearnerFactory, budget: float,
                timed: bool = True) -> CheckResult:
    """One check's verdict; the learner's errors, loops and floods of output all become failures."""
    message = ""
    code = learner(budget)
    with captured_output(OUTPUT_CAP) as printed:
        try:
            with time_limit(budget) if timed else contextlib.nullcontext(), \
                    audited_runs() as problems:
                check.run(code)
                expect_runs_kept_records(problems)  # the end of each run was right: and during?
        except Failed as failure:
            message = str(failure)
        except LearnerTimeout:
            message = (f"Your code did not finish within {budget:g} s, so it was stopped. "
                       "Is there a loop that never ends (a `while` whose condition never "
                       "changes), or a handler that waits for something?")
        except LearnerGone as gone:
            message = (f"{str(gone)[:1].upper()}{str(gone)[1:]}, so nothing more could be "
                       "checked. Does the code call os._exit(), crash the interpreter, or "
                       "ignore interrupts?")
        except RecursionError:
            message = "Your code recursed too deeply (a function that calls itself forever?)."
        except MemoryError:
            message = "Your code ran out of memory (a list or string that keeps growing?)."
        except InvariantError as error:  # an invariant could not read what the services kept
            message = f"The consistency oracle could not check the run: {error}."
        except Exception as error:  # noqa: BLE001 - learner code failed in a way no check foresaw
            where = learner_location(error)
            message = (f"Checking stopped with an error: {describe_error(error)}"
                       + (f" ({where})" if where else "") + ".")
        finally:
            code.close()  # a restarted process ends with its check
    stubbed = code.first_error()
    if message and stubbed is not None and stubbed.is_stub:
        message = stubbed.describe()  # "not done yet" says more than what the stub broke
    size = printed.size + code.printed
    if size > OUTPUT_CAP:
        message = (f"Your code printed {size:,} characters during this check (more "
                   f"than {OUTPUT_CAP:,}); remove the print() calls from your handlers. "
                   + ("The check also found: " + message if message else ""))
    score = 0.0 if message else check.points
    return CheckResult(check.title, check.points, score, check.hidden, message)
