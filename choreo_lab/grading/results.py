"""Results of checks and tasks, and how a notebook shows them.

A `TaskResult` is what `check("...")` returns. In JupyterLab it shows as HTML feedback; its
``text/plain`` form is how nbgrader reads partial credit from a grade cell: the score, or -
when only the public checks ran and all passed - a sentence, which nbgrader counts as full
credit (so ``nbgrader validate`` passes correct work; ``autograde`` runs the hidden checks
too and reads their score). The instructor's grader never reads what a notebook displays.
"""

from __future__ import annotations

import html
from dataclasses import asdict, dataclass
from typing import Any

from .feedback import plural


@dataclass(frozen=True)
class CheckResult:
    """One check's verdict. `message` is empty when it passed."""

    title: str
    points: float
    score: float
    hidden: bool
    message: str = ""

    @property
    def passed(self) -> bool:
        return self.score == self.points


@dataclass(frozen=True)
class TaskResult:
    """The verdicts of one task's checks, plus how many hidden checks were not run."""

    task: str
    exercise: str
    title: str
    max_score: float
    checks: tuple[CheckResult, ...]
    hidden_not_run: int = 0
    hidden_points_not_run: float = 0.0

    @property
    def score(self) -> float:
        return sum(check.score for check in self.checks)

    @property
    def passed(self) -> bool:
        return all(check.passed for check in self.checks)

    def to_json(self) -> dict[str, Any]:
        """The result as JSON-ready data (what the grader's report holds)."""
        return {"task": self.task, "exercise": self.exercise, "title": self.title,
                "score": self.score, "max_score": self.max_score,
                "checks": [asdict(check) | {"passed": check.passed} for check in self.checks]}

    # -- text ---------------------------------------------------------------------------------
    def headline(self) -> str:
        """"Task 'reserve' (...): 2 of 3 passed"."""
        run = len(self.checks)
        passed = sum(check.passed for check in self.checks)
        verdict = "all passed" if passed == run else f"{passed} of {run} passed"
        return f"Task {self.task!r} ({self.title}): {verdict}"

    def hidden_note(self) -> str:
        """The plain statement that hidden checks exist and were not run (or "")."""
        if not self.hidden_not_run:
            return ""
        more = plural(self.hidden_not_run, "more hidden check")
        return (f"The instructor's grader runs {more} on this task (worth "
                f"{self.hidden_points_not_run:g} of its {self.max_score:g} points). They try "
                "your code in other situations, so make it right in general, not just for the "
                "checks above.")

    def __str__(self) -> str:
        lines = [self.headline()]
        for check in self.checks:
            mark = "PASS" if check.passed else "FAIL"
            hidden = " [hidden]" if check.hidden else ""
            lines.append(f"  {mark} {check.title}{hidden} ({check.score:g}/{check.points:g})")
            if check.message:
                lines.extend("       " + line for line in check.message.splitlines())
        if note := self.hidden_note():
            lines.append(note)
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"TaskResult({self.task!r}, score={self.score:g}/{self.max_score:g})"

    # -- notebook display ---------------------------------------------------------------------
    def _repr_html_(self) -> str:
        colour = "#1a7f37" if self.passed else "#b42318"
        rows = [f'<p style="color:{colour};font-weight:bold">{html.escape(self.headline())}</p>',
                "<ul style='list-style:none;padding-left:0.5em'>"]
        for check in self.checks:
            mark = "&#10004;" if check.passed else "&#10008;"
            tint = "#1a7f37" if check.passed else "#b42318"
            hidden = " <em>(hidden)</em>" if check.hidden else ""
            rows.append(f'<li><span style="color:{tint}">{mark}</span> '
                        f"{html.escape(check.title)}{hidden}")
            if check.message:
                # JupyterLab breaks words in <pre>; these wrap the message between words
                rows.append('<pre style="white-space:pre-wrap;word-break:normal;'
                            'overflow-wrap:anywhere;margin:0.3em 0 0.6em 1.5em">'
                            f"{html.escape(check.message)}</pre>")
            rows.append("</li>")
        rows.append("</ul>")
        if note := self.hidden_note():
            rows.append(f"<p><em>{html.escape(note)}</em></p>")
        return "\n".join(rows)

    def credit(self) -> str:
        """What nbgrader reads: the score, unless only public checks ran and all passed."""
        if self.hidden_not_run and self.passed:
            return (f"all public checks passed; the instructor's grader adds "
                    f"{plural(self.hidden_not_run, 'hidden check')}")
        return f"{self.score:g}"

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        """HTML for people, the credit as text/plain for nbgrader."""
        return {"text/html": self._repr_html_(), "text/plain": self.credit()}
