"""Inside the sandbox: the course's reference code cannot be imported by a submission.

The exercise's contract - a workflow's event and command classes and its data (``STOCK``,
``DECLINED_CUSTOMERS``, ``DAY``, ...) - stays importable from ``choreo_lab.examples.orders``,
``choreo_lab.examples.notifications`` and ``choreo_lab.examples.orchestrated``; the
finished services, the invariants, the grader's checks and the instructor's solutions do not.
A refused import raises `ImportError` saying why, and is remembered so the grader can tell
the instructor. The guard is a courtesy that names the attempt; what makes it hold is that
the reference files are hidden from the sandbox (see `confine`) and that exercises are not
solved by the example anyway.
"""

from __future__ import annotations

import gc
import importlib
import sys
import types
from collections.abc import Sequence
from typing import Any

from ...events import is_message_type

#: Modules whose contract (event classes and plain data) a submission may import.
CONTRACT_MODULES = ("choreo_lab.examples.orders", "choreo_lab.examples.orders.events",
                    "choreo_lab.examples.notifications",
                    "choreo_lab.examples.notifications.events",
                    "choreo_lab.examples.orchestrated",
                    "choreo_lab.examples.orchestrated.messages",
                    "choreo_lab.examples.content", "choreo_lab.examples.content.events")
#: Reference code: refused, with everything below it.
REFUSED_PREFIXES = ("choreo_lab.examples", "choreo_lab.grading", "solutions", "hidden_checks")
#: The parts of choreo_lab.grading a notebook needs (check(), the Try-it kit) and the
#: sandbox itself runs on; loaded before the submission starts.
GRADING_ALLOWED = (
    "choreo_lab.grading", "choreo_lab.grading.notebook", "choreo_lab.grading.judge",
    "choreo_lab.grading.learner", "choreo_lab.grading.results", "choreo_lab.grading.feedback",
    "choreo_lab.grading.safety", "choreo_lab.grading.tasks", "choreo_lab.grading.kit",
    "choreo_lab.grading.sandbox", "choreo_lab.grading.sandbox.protocol",
    "choreo_lab.grading.sandbox.guard", "choreo_lab.grading.sandbox.confine",
    "choreo_lab.grading.sandbox.server")
_DATA = (str, int, float, bool, type(None), tuple, frozenset, dict, list)


class ReferenceCodeRefused(ImportError):
    """A graded submission tried to import the course's reference code."""


def is_refused(name: str) -> bool:
    """True for reference code a graded submission may not import."""
    if name in CONTRACT_MODULES or name in GRADING_ALLOWED or name == "choreo_lab.examples":
        return False
    return any(name == prefix or name.startswith(prefix + ".") for prefix in REFUSED_PREFIXES)


def refusal_message(name: str) -> str:
    return (f"`{name}` is the course's reference code, and a graded notebook may not import "
            "it: write the exercise yourself. The events and data of the exercise stay "
            "importable from choreo_lab.examples.orders, choreo_lab.examples.notifications and "
            "choreo_lab.examples.orchestrated.")


class ReferenceGuard:
    """A meta-path finder that refuses reference modules and remembers each attempt."""

    def __init__(self) -> None:
        self.refused: list[str] = []

    def find_spec(self, name: str, path: Sequence[str] | None = None,
                  target: types.ModuleType | None = None) -> None:
        if is_refused(name):
            self.refuse(name)
        return None

    def refuse(self, name: str) -> None:
        if name not in self.refused:
            self.refused.append(name)
        raise ReferenceCodeRefused(refusal_message(name), name=name)


def contract_view(name: str, guard: ReferenceGuard) -> types.ModuleType | None:
    """The module `name` reduced to its event classes and plain data, or None if absent.

    The real module is loaded, copied from and dropped, so its functions (the reference
    services) are gone from the process once `forget_reference_code` has run.
    """
    try:
        real = importlib.import_module(name)
    except ImportError:
        return None
    view = types.ModuleType(name, real.__doc__)
    for attribute, value in vars(real).items():
        if attribute.startswith("_"):
            continue
        if is_message_type(value):  # the exercise's events and commands
            setattr(view, attribute, value)
        elif type(value) in _DATA and _plain(value):
            setattr(view, attribute, value)

    def __getattr__(attribute: str) -> Any:
        if attribute.startswith("__"):
            raise AttributeError(attribute)
        guard.refused.append(f"{name}.{attribute}")
        raise ReferenceCodeRefused(
            f"`{attribute}` from {name} is the course's reference code, and a graded notebook "
            "may not use it: write the exercise yourself (only the events and data of "
            f"{name} are available here).", name=name)

    view.__getattr__ = __getattr__  # type: ignore[method-assign]
    view.__all__ = sorted(a for a in vars(view) if not a.startswith("_"))  # type: ignore[attr-defined]
    return view


def _plain(value: Any) -> bool:
    """Plain data all the way down (no functions, services or other objects inside)."""
    if isinstance(value, (dict,)):
        return all(_plain(k) and _plain(v) for k, v in value.items())
    if isinstance(value, (list, tuple, frozenset)):
        return all(_plain(item) for item in value)
    return type(value) in (str, int, float, bool, type(None))


def install_guard() -> ReferenceGuard:
    """Load the contract views, drop every reference module, and refuse them from now on.

    Runs before the submission's first line. Cost: importing the example once (~50 ms).
    """
    guard = ReferenceGuard()
    views = {name: view for name in CONTRACT_MODULES
             if (view := contract_view(name, guard)) is not None}
    forget_reference_code()
    for name, view in views.items():
        sys.modules[name] = view
        parent, _, child = name.rpartition(".")
        if parent in sys.modules:
            setattr(sys.modules[parent], child, view)
    sys.meta_path.insert(0, guard)
    return guard


def forget_reference_code() -> None:
    """Remove every refused module from `sys.modules` and from its parent package."""
    for name in [n for n in sys.modules if is_refused(n) or n in CONTRACT_MODULES]:
        del sys.modules[name]
        parent, _, child = name.rpartition(".")
        if parent in sys.modules and getattr(sys.modules[parent], child, None) is not None:
            delattr(sys.modules[parent], child)
    gc.collect()
