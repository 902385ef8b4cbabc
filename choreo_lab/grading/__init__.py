"""Graded exercises: checks that judge behaviour, in the notebook and for the instructor.

In an exercise notebook, ``check("reserve")`` runs one task's public checks on the code you
wrote and shows what is wrong and why. The instructor's ``choreo-lab grade`` runs every
check, hidden ones included, over a folder of submitted notebooks.
"""

from .notebook import check
from .results import CheckResult, TaskResult
from .tasks import Check, Failed, Task

__all__ = ["Check", "CheckResult", "Failed", "Task", "TaskResult", "check"]
