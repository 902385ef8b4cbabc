"""The learner's code, as the checks see it: names from the notebook, services ready to plug in.

Every way a learner's code can go wrong on the way in becomes a `Failed` that says what to
do: a name not defined yet, the stub still in place, a factory that raises or returns
something other than a `Service`. Handlers are wrapped so that an error inside one is
remembered with the line it happened on; the runtime still sees the error (and retries).
"""

from __future__ import annotations

import functools
import os
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..events import Event
from ..text import describe_error, describe_value
from ..context import Context
from ..service import Service
from .hidden import PACKAGE as HIDDEN_CHECKS
from .tasks import Failed

_LIBRARY = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STUB_HINT = ("still raises NotImplementedError: replace `# YOUR CODE HERE` and "
             "`raise NotImplementedError()` with your code, run that cell, then check again")


@dataclass(frozen=True)
class HandlerError:
    """An error raised inside one of the learner's handlers."""

    service: str
    handler: str
    event: str
    message_id: str
    error: str
    location: str

    @property
    def is_stub(self) -> bool:
        return self.error.startswith("NotImplementedError")

    def describe(self) -> str:
        """A sentence: which handler, what error, on which line, for which message."""
        if self.is_stub:
            return f"Your handler {self.service}.{self.handler}() {STUB_HINT}."
        where = f" ({self.location})" if self.location else ""
        return (f"Your handler {self.service}.{self.handler}() raised {self.error}{where} while "
                f"handling {self.event} {self.message_id}.")


def learner_location(error: BaseException) -> str:
    """'line 7 in reserve_stock: stock[item] -= 1', the deepest frame of the learner's code:
    outside choreo_lab, and not in the hidden checks (they are the grader's, kept elsewhere)."""
    steps = list(traceback.walk_tb(error.__traceback__))
    summaries = traceback.StackSummary.extract(iter(steps))
    frames = [summary for (frame, _), summary in zip(steps, summaries)
              if not os.path.abspath(summary.filename).startswith(_LIBRARY)
              and not str(frame.f_globals.get("__name__", "")).startswith(HIDDEN_CHECKS + ".")]
    if not frames:
        return ""
    frame = frames[-1]
    code = f": {frame.line.strip()}" if frame.line else ""
    return f"line {frame.lineno} in {frame.name}{code}"


def without_handlers(service: Service) -> Service:
    """A new service with `service`'s name, initial state and settings, and no handlers yet."""
    return Service(service.name, service.initial_state, instances=service.instances,
                   processing_time=service.processing_time, middleware=service.middleware)


class LearnerGone(BaseException):
    """The learner's process is gone (it died, hung or broke the protocol): nothing more runs."""


def undefined(name: str) -> Failed:
    return Failed(f"`{name}` is not defined. Run the cell where you write `{name}` "
                  "(and the cells above it), then check again.")


def not_callable(name: str, shown: str) -> Failed:
    return Failed(f"`{name}` should be a function, but it is {shown:.80}.")


def stub(name: str) -> Failed:
    return Failed(f"`{name}` {STUB_HINT}.")


def raised(name: str, error: str, where: str) -> Failed:
    return Failed(f"calling `{name}(...)` raised {error}" + (f" ({where})" if where else "") + ".")


class Learner:
    """The learner's code as the checks see it, and the errors its handlers raised.

    Two kinds exist: `NotebookLearner` calls the code in this process (``check()`` in a
    student's own notebook); `remote.RemoteLearner` calls it across the sandbox's pipe
    (the instructor's grader). The checks cannot tell them apart.
    """

    def __init__(self) -> None:
        self.errors: list[HandlerError] = []
        #: characters the learner's code printed (counted; never shown)
        self.printed = 0

    def call(self, name: str, *args: Any) -> Any:
        """Call the learner's function `name`; an error in it becomes a `Failed` that teaches."""
        raise NotImplementedError

    def service(self, factory: str, name: str, *args: Any) -> Service:
        """Build the learner's service with `factory(*args)`, checked and ready for the saga."""
        built = self.call(factory, *args)
        if not isinstance(built, Service):
            raise Failed(f"`{factory}(...)` returned {describe_value(built, 80)}, not a "
                         f"Service. Build one with Service({name!r}, ...) and return it "
                         "at the end of the function.")
        if built.name != name:
            raise Failed(f"`{factory}(...)` built a service named {built.name!r}; the saga "
                         f"expects it to be called {name!r}: Service({name!r}, ...).")
        return self.observed(built)

    def observed(self, service: Service) -> Service:
        """`service`, with its handlers' errors remembered here."""
        return service

    def restarted(self) -> Learner:
        """The learner's code in a fresh process: its notebook's cells run again up to here,
        nothing of this process's memory kept (module-level counters, caches), as after a
        real restart. The process restarted before it (if any) ends first. Its handlers'
        errors are counted here; it ends with the check.

        In-process (`NotebookLearner`: ``check()`` in the student's kernel, nbgrader) there
        is no process to restart: this is the same learner, so a check cannot see what the
        code keeps in the process's memory there. Those checks are for honest notebooks; the
        instructor's grader (`remote.RemoteLearner`) restarts for real.
        """
        return self

    def close(self) -> None:
        """End what this learner started for its check (a restarted process); the judge calls
        it when the check ends."""

    def first_error(self, service: str | None = None) -> HandlerError | None:
        """The first error one of the learner's handlers raised (in `service`, if given)."""
        return next((e for e in self.errors if service is None or e.service == service), None)


def fail_on_handler_errors(learner: Learner, sim: Any, service: str) -> None:
    """Fail if the learner's handlers in `service` raised (a stub, or a bug) during the run of
    `sim`, or returned something the runtime refused (its nack says what)."""
    error = learner.first_error(service)
    if error is not None:
        raise Failed(error.describe())
    nacks = sim.trace.where(kind="nack", service=service)
    if nacks:
        raise Failed(f"The {service} service failed on message {nacks[0].message_id}: "
                     f"{nacks[0].detail}")


def unless_a_stub_of(learner: Learner, handlers: tuple[str, ...],
                     run: Callable[[], Any]) -> Any | None:
    """`run()`, or None if it stopped on one of `handlers` still the stub: handlers another
    task judges, where the stub costs its points. The errors of a run set aside are forgotten,
    so the check's message is about what it judges. Any other failure stands."""
    before = len(learner.errors)
    try:
        return run()
    except Failed:
        error = learner.errors[before] if len(learner.errors) > before else None
        if error is None or not error.is_stub or error.handler not in handlers:
            raise
        del learner.errors[before:]
        return None


class NotebookLearner(Learner):
    """The names a learner defined in the running notebook, called in this process."""

    def __init__(self, namespace: dict[str, Any]) -> None:
        super().__init__()
        self.namespace = namespace

    def call(self, name: str, *args: Any) -> Any:
        if name not in self.namespace:
            raise undefined(name)
        function = self.namespace[name]
        if not callable(function):
            raise not_callable(name, describe_value(function))
        try:
            return function(*args)
        except NotImplementedError:
            raise stub(name) from None
        except Failed:
            raise
        except Exception as error:  # noqa: BLE001 - any error in learner code is feedback
            raise raised(name, describe_error(error), learner_location(error)) from None

    def observed(self, service: Service) -> Service:
        """A copy of `service` whose handlers remember the errors they raise."""
        return service.wrapped(lambda handler: self._recording(service.name, handler))

    def _recording(self, service: str, handler: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(handler)
        def recording(event: Event, ctx: Context) -> Any:
            try:
                return handler(event, ctx)
            except Exception as error:
                self.errors.append(HandlerError(
                    service, getattr(handler, "__name__", "handler"), type(event).__name__,
                    ctx.message_id, describe_error(error), learner_location(error)))
                raise
        return recording
