"""Feedback text: what failed, a hint, the faults injected and a trace excerpt.

Feedback is plain text (the notebook view wraps it in HTML, the grader's report stores it
as is), one line per paragraph: the browser or the terminal wraps it to the width it has. It is
deterministic: it names message ids and virtual times, never wall-clock times,
file paths or memory addresses.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

from ..faults import FaultPlan


def explain(what: str, hint: str = "", plan: FaultPlan | None = None,
            excerpt: Sequence[str] = (), options: str = "") -> str:
    """One failure, as a learner should read it: the problem first, then how to look at it.

    `options` are extra Simulation arguments needed to replay the faults (e.g. "outbox=False").
    """
    parts = [what]
    if hint:
        parts.append("Hint: " + hint)
    if plan is not None and plan.faults:
        replay = f"Simulation(..., {options + ', ' if options else ''}faults=[...])"
        parts.append(f"Faults injected (replay them with {replay}):\n"
                     + textwrap.indent(plan.describe(), "  "))
    if excerpt:
        parts.append(excerpt[0] + "\n" + textwrap.indent("\n".join(excerpt[1:]), "  "))
    return "\n".join(parts)


def fault_calls(plan: FaultPlan) -> str:
    """The plan's faults as Python: "Crash(point='before_commit', service='payment')"."""
    return ", ".join(
        type(fault).__name__ + "(" + ", ".join(
            f"{name}={value!r}" for name, value in
            fault.model_dump(exclude={"kind"}, exclude_defaults=True).items()) + ")"
        for fault in plan.faults)


def plural(count: int, word: str, words: str | None = None) -> str:
    """'1 charge', '2 charges'."""
    return f"{count} {word if count == 1 else (words or word + 's')}"
