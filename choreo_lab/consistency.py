"""The consistency oracle: invariants over the services' own states, checked from outside.

No service holds a whole workflow, so nobody inside the system can say whether it is
consistent. The oracle can: it reads every service's committed state (``sim.state(name)``)
and the trace, and answers three questions.

- **Consistent now?** No invariant is broken. *Safety* invariants must hold at every moment
  (no double charge, no refund without a charge, stock conserved). *Convergence* invariants
  must hold once a workflow is finished (a finished order is shipped-and-paid-once or
  cancelled-with-everything-undone), and once the system is quiescent nothing may be left
  pending: a workflow that is unfinished when nothing is left to deliver is stuck.
- **Converged?** Consistent, and every workflow finished.
- **How long did it take?** Time to consistency per workflow and overall, in virtual ms
  (defined precisely in `workflow_spans` and `time_to_consistency`).

An invariant is a plain function ``(sim) -> iterable of Violation``; the oracle runs each
one and collects what they report.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from . import vocabulary as words
from .errors import ChoreoError
from .simulation import Simulation
from .story import declared_outcomes, workflow_finished
from .text import describe_error, describe_value, fit
from .trace import TraceRecord

Kind = Literal["safety", "convergence"]
KINDS: tuple[str, ...] = ("safety", "convergence")
Invariant = Callable[[Simulation], Iterable["Violation"]]
STUCK = "every workflow finishes"


class InvariantError(ChoreoError, TypeError):
    """An invariant raised, or gave something other than violations."""


@dataclass(frozen=True)
class Violation:
    """One broken invariant: which one, about what (an order, an item), why, and which messages."""

    invariant: str
    subject: str
    explanation: str
    message_ids: tuple[str, ...] = ()
    kind: Kind = "safety"

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"Violation kind {self.kind!r}: a violation is 'safety' (must hold "
                             "at every moment) or 'convergence' (must hold once finished)")
        object.__setattr__(self, "message_ids", tuple(self.message_ids))

    def __str__(self) -> str:
        messages = f" (messages {', '.join(self.message_ids)})" if self.message_ids else ""
        return f"[{self.invariant}, {self.kind}] {self.subject}: {self.explanation}{messages}"


@dataclass(frozen=True)
class ConsistencyReport:
    """What the oracle found at one moment of a run."""

    violations: tuple[Violation, ...]
    pending: tuple[str, ...]
    time_to_consistency: dict[str, int | None]
    overall_time_to_consistency: int | None
    quiescent: bool = False
    now: int = 0
    workflows: tuple[str, ...] = ()

    @property
    def consistent(self) -> bool:
        """No invariant is broken (workflows may still be pending)."""
        return not self.violations

    @property
    def converged(self) -> bool:
        """Consistent and every workflow finished."""
        return self.consistent and not self.pending

    @property
    def stuck(self) -> tuple[str, ...]:
        """Workflows that are unfinished although nothing is left to deliver."""
        return self.pending if self.quiescent else ()

    def explain(self) -> str:
        """The report in words, one line per finding (a long one goes on, indented)."""
        lines = [self._headline()]
        lines += [f"  - {violation}" for violation in self.violations]
        if self.pending and not self.quiescent:
            lines.append(f"  unfinished: {', '.join(self.pending)} (messages in flight, or "
                         "waiting for a service that is down)")
        settled = {w: t for w, t in self.time_to_consistency.items() if t is not None}
        if settled:
            lines.append("  time to consistency: "
                         + ", ".join(f"{w} {t} ms" for w, t in settled.items()))
        if self.overall_time_to_consistency is not None:
            lines.append(f"  overall: consistent {self.overall_time_to_consistency} ms "
                         "after the first workflow started")
        return "\n".join(fit(line, indent=4) for line in lines)  # long ones broken between words

    def _headline(self) -> str:
        count = len(self.workflows)
        if self.violations:
            broken = len(self.violations)
            return (f"t={self.now}: NOT consistent - {broken} violation{'s' * (broken != 1)} "
                    f"across {count} workflow{'s' * (count != 1)}")
        if self.pending:
            return (f"t={self.now}: consistent so far; {len(self.pending)} of {count} "
                    "workflows still pending")
        if count == 0:
            return f"t={self.now}: nothing to check yet - no workflow has started"
        if count == 1:
            return f"t={self.now}: converged - the one workflow finished and is consistent"
        return f"t={self.now}: converged - all {count} workflows finished and consistent"

    def __str__(self) -> str:
        return self.explain()


def quiescent(sim: Simulation) -> bool:
    """Nothing is scheduled, and no message is waiting, in flight or due anywhere.

    A service that is down (or paused) with a backlog makes the system *blocked*, not
    quiescent: its workflows will move once it comes back.
    """
    return sim.idle and sim.open_messages() == 0


def trace_workflows(sim: Simulation) -> list[str]:
    """Every workflow (correlation id) seen in the trace, in order of first appearance."""
    return sim.trace.correlation_ids()


class Oracle:
    """Checks a running simulation against a set of invariants.

    - `invariants`: functions ``(sim) -> iterable of Violation``.
    - `workflows`: ``(sim) -> workflow ids`` (e.g. order ids); by default every correlation id.
    - `finished`: ``(sim, workflow_id) -> bool``: has this workflow reached an end state?
      By default: an event declaring an outcome (``outcome="completed"`` or
      ``"compensated"``) was published in it, and nothing of it is left to deliver (the
      last service to hear of the outcome has handled it).
    - `describe`: optional ``(sim, workflow_id) -> str``, used to explain a stuck workflow.

    A workflow is stuck when it is unfinished and nothing about it is left to deliver, even
    while other workflows still move. Workflow ids are correlation ids.

    Cost of `check`: every invariant once, plus the chosen workflows' records.
    """

    def __init__(self, invariants: Sequence[Invariant],
                 workflows: Callable[[Simulation], Iterable[str]] = trace_workflows,
                 finished: Callable[[Simulation, str], bool] = workflow_finished, *,
                 describe: Callable[[Simulation, str], str] | None = None) -> None:
        if callable(invariants):
            raise TypeError("Oracle takes a list of invariants, e.g. Oracle([at_most_one_charge])")
        bad = [describe_value(check) for check in invariants if not callable(check)]
        if bad:
            raise TypeError("invariants must be functions (sim) -> violations; "
                            f"got {', '.join(bad)}")
        self.invariants = tuple(invariants)
        self.workflows = workflows
        self.finished = finished
        self.describe = describe

    def check(self, sim: Simulation) -> ConsistencyReport:
        """Check every invariant now; at quiescence, also that nothing is left pending.

        Cost: `violations` plus one pass over the trace for the timing.
        """
        workflows = self._workflow_ids(sim)
        pending = self._unfinished(sim, workflows)
        is_quiescent = quiescent(sim)
        violations = self._violations(sim, self._stuck_among(sim, pending))
        spans = workflow_spans(sim)
        per_workflow = time_to_consistency(spans, workflows,
                                           [*pending, *(v.subject for v in violations)])
        overall = None if violations else overall_time_to_consistency(spans, per_workflow)
        return ConsistencyReport(violations, pending, per_workflow, overall,
                                 is_quiescent, sim.now, workflows)

    def violations(self, sim: Simulation) -> tuple[Violation, ...]:
        """Every broken invariant now, and every workflow that is stuck.

        The same violations as `check`, without the timing: what a chaos run needs.
        """
        pending = self._unfinished(sim, self._workflow_ids(sim))
        return self._violations(sim, self._stuck_among(sim, pending))

    @staticmethod
    def _stuck_among(sim: Simulation, pending: Sequence[str]) -> tuple[str, ...]:
        """The unfinished workflows with nothing left to deliver: they will not move by themselves."""
        return tuple(w for w in pending if sim.open_messages(w) == 0)

    def _workflow_ids(self, sim: Simulation) -> tuple[str, ...]:
        """The workflows to check, each once, in the order `workflows` gives them."""
        return tuple(dict.fromkeys(self.workflows(sim)))

    def _unfinished(self, sim: Simulation, workflows: Sequence[str]) -> tuple[str, ...]:
        if self.finished is workflow_finished and not declared_outcomes(sim):
            raise ValueError(
                "no event type of this system declares an outcome, so the oracle cannot tell "
                "when a workflow is finished. Declare the events that end one, e.g. "
                "class TripBooked(Event, outcome=\"completed\"), or pass "
                "Oracle(..., finished=lambda sim, workflow: ...)")
        return tuple(w for w in workflows if not self.finished(sim, w))

    def _violations(self, sim: Simulation, stuck: Sequence[str]) -> tuple[Violation, ...]:
        found = [violation for check in self.invariants for violation in run_invariant(check, sim)]
        return tuple(found + [self._stuck(sim, workflow) for workflow in stuck])

    def _stuck(self, sim: Simulation, workflow: str) -> Violation:
        """The violation for a workflow left unfinished at quiescence, explained."""
        letters = [letter for letter in sim.dead_letters
                   if letter.envelope.correlation_id == workflow]
        if self.describe is not None:
            explanation = self.describe(sim, workflow)
        else:
            explanation = "not finished, although nothing is left to deliver" + "".join(
                f"; dead-lettered: {letter}" for letter in letters)
        ids = [letter.envelope.message_id for letter in letters]
        if not ids:  # point at the workflow's last message: the trail goes cold there
            ids = [e.message_id for e in sim.trace.messages_of(workflow)][-1:]
        return Violation(STUCK, workflow, explanation, tuple(ids), "convergence")


def run_invariant(check: Invariant, sim: Simulation) -> list[Violation]:
    """The violations one invariant reports, or an `InvariantError` naming it and what went wrong."""
    name = getattr(check, "__name__", repr(check))
    try:
        reported = check(sim)
        if reported is None:
            return []
        if isinstance(reported, (bool, str, Violation)) or not isinstance(reported, Iterable):
            raise InvariantError(f"invariant {name}() returned {describe_value(reported)}; an "
                                 "invariant yields (or returns a list of) Violation(...), and "
                                 "nothing when all is well")
        found = list(reported)
    except InvariantError:
        raise
    except Exception as error:
        raise InvariantError(f"invariant {name}() raised {describe_error(error)}") from error
    wrong = [item for item in found if not isinstance(item, Violation)]
    if wrong:
        raise InvariantError(f"invariant {name}() gave {describe_value(wrong[0])}; an invariant "
                             "yields Violation(invariant, subject, explanation) objects")
    return found


def workflow_spans(sim: Simulation) -> dict[str, tuple[int, int]]:
    """Per workflow: (t_start, t_settled) in virtual ms, read from each workflow's own records.

    ``t_start`` is the publish time of the workflow's first message; ``t_settled`` is the
    latest *first commit* by any service of any of its messages, or its latest publish if
    later: the moment the last service moved to its final state. A commit shows in the
    trace as an ``ack``, a ``duplicate`` (committed, but the ack was lost), or a crash after
    the commit; later commits of the same message by the same service are duplicates that
    an idempotent handler ignores, so they do not count.
    """
    return {workflow: _span(sim.trace.for_correlation(workflow))
            for workflow in sim.trace.correlation_ids()}


def _span(records: list[TraceRecord]) -> tuple[int, int]:
    start: int | None = None
    settled = 0
    committed: set[tuple[str | None, str]] = set()  # (message, service) committed already
    for record in records:
        if record.kind == words.PUBLISH:
            start = record.time if start is None else start
            settled = max(settled, record.time)
        elif (record.kind in words.COMMITTED_KINDS
              or (record.kind == words.CRASH and record.detail != "before_commit")):
            if (record.message_id, record.service) not in committed:
                committed.add((record.message_id, record.service))
                settled = max(settled, record.time)
    return (start if start is not None else 0, settled)


def time_to_consistency(spans: dict[str, tuple[int, int]], workflows: Sequence[str],
                        blocked: Iterable[str]) -> dict[str, int | None]:
    """Per workflow: ``t_settled - t_start`` (see `workflow_spans`), or None if it is `blocked`.

    The oracle blocks a workflow that is still pending or that a violation names: a wrong
    or unfinished final state has no time to consistency.
    """
    excluded = set(blocked)
    return {w: (spans[w][1] - spans[w][0] if w in spans and w not in excluded else None)
            for w in workflows}


def overall_time_to_consistency(spans: dict[str, tuple[int, int]],
                                per_workflow: dict[str, int | None]) -> int | None:
    """When the last workflow settled, in ms after the first one started; None unless all did."""
    if not per_workflow or any(ttc is None for ttc in per_workflow.values()):
        return None
    return (max(spans[w][1] for w in per_workflow) - min(spans[w][0] for w in per_workflow))

