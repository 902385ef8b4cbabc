"""The learner's code as the instructor's grader sees it: across the sandbox's pipe.

`RemoteLearner` gives the checks what `NotebookLearner` gives them in a student's notebook -
services to plug into the saga, functions to call - but the code runs in the sandbox. A
service built there comes back as a description, and the grader builds its own `Service`
with the same name and state whose handlers are proxies: each delivery sends the event and
a copy of the service's state to the sandbox and gets back the new state and the events
produced. Those are rebuilt as the grader's own event classes and validated; an answer that
is malformed, or not an event of the saga, makes that one handler call fail (the runtime
retries it, as it would a handler that raised). The checks and the simulation never run
in the sandbox, so nothing there can change a verdict.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from ..events import Event
from ..context import Context, RelayContext, RelayCrashed
from ..errors import ChoreoError
from ..service import Service
from .learner import HandlerError, Learner, LearnerGone, not_callable, raised, stub, undefined
from .safety import LearnerTimeout
from .sandbox.client import Sandbox, SandboxGone, SandboxTimeout
from .sandbox.protocol import (
    MAX_RELAY_PUBLISHES,
    ProtocolError,
    UnsupportedValue,
    decode_value,
    encode_event,
    encode_value,
)
from .tasks import Failed

_SHOWN_TYPES: dict[str, type] = {}
TOO_MANY_PUBLISHES = f"the relay published more than {MAX_RELAY_PUBLISHES} messages in one run"


class Shown:
    """What the learner's code returned that is not an event, shown the way the sandbox saw it."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


def shown(description: str) -> Shown:
    """A stand-in whose `describe_value` reads like the original's ("str 'reserved'")."""
    type_name, _, text = str(description)[:200].partition(" ")
    type_name = type_name if type_name.isidentifier() else "object"
    kind = _SHOWN_TYPES.setdefault(type_name, type(type_name, (Shown,), {}))
    return kind(text)


class RemoteError(Exception):
    """A handler call that failed in the sandbox, or whose answer the grader refused."""


_ERROR_TYPES: dict[str, type[RemoteError]] = {}


def remote_error(description: str) -> RemoteError:
    """'KeyError: 'lamp'' as an exception whose type is named KeyError (for the trace's reason)."""
    name, _, message = description.partition(": ")
    name = name if name.isidentifier() else "RemoteError"
    kind = _ERROR_TYPES.setdefault(name, type(name, (RemoteError,), {}))
    return kind(message)


class RemoteLearner(Learner):
    """The learner's code in the sandbox, within one check's time budget."""

    def __init__(self, sandbox: Sandbox, events: Mapping[str, type[Event]], budget: float,
                 restart: Callable[[float], Sandbox] | None = None) -> None:
        super().__init__()
        self.sandbox = sandbox
        self.events = dict(events)
        self.budget = budget
        self.deadline = time.monotonic() + budget
        #: starts a new sandbox with the notebook's cells run so far, within the seconds given
        self.restart = restart
        self.owner: RemoteLearner | None = None
        self.opened: list[Sandbox] = []

    # -- a fresh process -----------------------------------------------------------------------
    def restarted(self) -> Learner:
        """The learner's code in a new sandbox, started for this check (within its budget):
        the cells this notebook ran before the grade cell run again there, so nothing the
        first process kept in memory is there. The one restarted before it (if any) ends
        first, as a restarted service's previous process does. It shares this learner's
        errors, output count and deadline, and is closed with it, when the check ends."""
        if self.restart is None:
            return self
        self.close()
        self.sandbox.pause()  # the first process does nothing while its restarted copy runs
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise LearnerTimeout(f"did not finish within {self.budget:g} s")
        try:
            sandbox = self.restart(left)
        except SandboxTimeout:
            raise LearnerTimeout(f"did not finish within {self.budget:g} s") from None
        except SandboxGone as gone:
            raise LearnerGone(f"the restarted kernel could not start ({gone})") from None
        self.opened.append(sandbox)
        fresh = RemoteLearner(sandbox, self.events, self.budget)
        fresh.deadline, fresh.errors, fresh.owner = self.deadline, self.errors, self
        return fresh

    def close(self) -> None:
        """End the restarted copies this check started, then let the first process go on."""
        for sandbox in self.opened:
            sandbox.close()
        self.opened.clear()
        self.sandbox.resume()

    # -- talking to the sandbox ----------------------------------------------------------------
    def request(self, message: dict[str, Any],
                on_step: Callable[[dict[str, Any]], dict[str, Any]] | None = None) -> dict[str, Any]:
        """One request within what is left of the budget; counts what the code printed.
        `on_step` answers its steps (see `Sandbox.request`)."""
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise LearnerTimeout(f"did not finish within {self.budget:g} s")
        try:
            reply = self.sandbox.request(message, left, on_step)
        except SandboxTimeout:
            raise LearnerTimeout(f"did not finish within {self.budget:g} s") from None
        except SandboxGone as gone:
            raise LearnerGone(str(gone)) from None
        printed = reply.get("printed")
        if isinstance(printed, int) and printed > 0:
            (self.owner or self).printed += printed
        return reply

    # -- functions -----------------------------------------------------------------------------
    def call(self, name: str, *args: Any) -> Any:
        services = [arg for arg in args if isinstance(arg, Service)]
        reply = self.request({"op": "call", "function": name,
                              "args": [service_shell(arg) if isinstance(arg, Service)
                                       else encode_value(arg) for arg in args]})
        status = reply.get("status")
        if status == "undefined":
            raise undefined(name)
        if status == "not_callable":
            raise not_callable(name, str(reply.get("value", "something else")))
        if status == "stub":
            raise stub(name)
        if status == "raised":
            raise raised(name, str(reply.get("error", "an error"))[:300],
                         str(reply.get("location", ""))[:300])
        if status != "ok":
            raise Failed(f"calling `{name}(...)` failed in the notebook's kernel: "
                         f"{str(reply.get('error', status))[:200]}.")
        try:
            for service, handlers in zip(services, reply.get("shells", []), strict=True):
                self.add_proxies(service, handlers)
            return self.returned(reply.get("value"))
        except (ProtocolError, ValueError, TypeError, KeyError) as error:
            raise Failed(f"calling `{name}(...)` gave an answer the grader cannot use "
                         f"({str(error)[:200]}).") from None

    def returned(self, value: Any) -> Any:
        """A returned service as the grader's own `Service` with proxy handlers, plain data
        (a diagnosis, say) as itself, or a stand-in for anything else."""
        if isinstance(value, dict) and isinstance(value.get("service"), dict):
            return self.proxy_service(value["service"])
        if isinstance(value, dict) and "data" in value:
            return decode_value(value["data"])
        if isinstance(value, dict) and isinstance(value.get("other"), str):
            return shown(value["other"])
        raise ProtocolError("a returned value of unknown shape")

    def proxy_service(self, description: dict[str, Any]) -> Service:
        name, state = description["name"], decode_value(description["state"])
        instances, processing = description["instances"], description["processing_time"]
        if not (isinstance(name, str) and isinstance(state, dict) and type(instances) is int
                and type(processing) is int and 1 <= instances <= 64 and 0 <= processing <= 10_000):
            raise ValueError("a service whose name, state, instances or processing time is "
                             "not what a Service holds")
        service = Service(name[:100], state, instances=instances, processing_time=processing)
        self.add_proxies(service, description["handlers"])
        relay = description.get("relay")
        if relay is not None:
            every = relay["every"]
            if type(every) is not int or not 1 <= every <= 1_000_000:
                raise ValueError("a relay whose `every` is not what a relay holds")
            service.relay(every=every)(self.relay_proxy(service.name, int(relay["ref"]),
                                                        str(relay["name"])[:80]))
        return service

    def add_proxies(self, service: Service, handlers: list[dict[str, Any]]) -> None:
        """Register a proxy on `service` for each handler the learner registered in the sandbox."""
        for handler in handlers:
            event_type = self.events.get(handler["event_type"])
            if event_type is None:  # an event the saga never publishes: it would never run
                continue
            publishes = tuple(self.events[n] for n in handler.get("publishes", [])
                              if isinstance(n, str) and n in self.events)
            service.handles(event_type, publishes=publishes)(
                self.proxy(service.name, int(handler["ref"]), str(handler["name"])[:80]))

    # -- handlers ------------------------------------------------------------------------------
    def proxy(self, service: str, ref: int, name: str) -> Any:
        """A handler that runs the learner's handler `ref` in the sandbox."""
        def handler(event: Event, ctx: Context) -> Any:
            try:
                state = encode_value(ctx.state)
            except UnsupportedValue as error:
                raise RemoteError(f"the service's state cannot be sent: {error}") from None
            reply = self.request({"op": "handle", "ref": ref, "event": encode_event(event),
                                  "state": state, "context": context_of(ctx)})
            return self.answer(reply, service, name, event, ctx)
        handler.__name__ = handler.__qualname__ = name if name.isidentifier() else "handler"
        return handler

    def relay_proxy(self, service: str, ref: int, name: str) -> Any:
        """A relay that runs the learner's relay `ref` in the sandbox, each of its publishes
        made here as it happens.

        Each publish comes with the state the relay had written by then, so a crash the
        simulation injects at a publish keeps exactly that much (the relay's writes are kept
        at once); the sandbox is told, and the publish raises there, in the learner's code,
        as it would have here. Then the state the relay left is kept.
        """
        def relay(ctx: RelayContext) -> None:
            try:
                state = encode_value(ctx.state)
            except UnsupportedValue as error:
                raise RemoteError(f"the service's state cannot be sent: {error}") from None
            published = 0

            def publish(step: dict[str, Any]) -> dict[str, Any]:
                """One publish of the relay, made here; the answer says how it went."""
                nonlocal published
                published += 1
                if published > MAX_RELAY_PUBLISHES:  # counted here, where learner code cannot
                    return {"error": TOO_MANY_PUBLISHES}
                try:
                    replace_state(ctx.state, decode_value(step["state"]))
                    event = self.events_of([step["event"]])[0]
                    if isinstance(event, Shown):
                        raise ProtocolError(f"a publish of {event!r}")
                    message_id, cause = step["message_id"], step["cause"]
                except (ProtocolError, KeyError, TypeError, ValueError) as error:
                    raise ProtocolError(f"a relay's publish that could not be used ({error})")
                try:
                    ctx.publish(event, message_id=message_id, cause=cause)
                except RelayCrashed as crash:
                    return {"crashed": True, "point": str(crash)}
                except ChoreoError as error:  # refused here: raise it in the learner's relay
                    return {"error": str(error)[:300]}
                return {"crashed": False}

            reply = self.request({"op": "relay", "ref": ref, "state": state, "now": ctx.now},
                                 on_step=publish)
            if published > MAX_RELAY_PUBLISHES:  # however the relay took the refusals
                raise remote_error(f"RuntimeError: {TOO_MANY_PUBLISHES}")  # as the sandbox says it
            if "state" in reply:
                try:
                    replace_state(ctx.state, decode_value(reply["state"]))
                except (ProtocolError, KeyError, TypeError, ValueError) as error:
                    raise RemoteError(f"the relay's answer could not be used ({error})") from None
            status = reply.get("status")
            if status in ("stub", "raised", "interrupted"):
                error = ("NotImplementedError" if status == "stub" else
                         "KeyboardInterrupt" if status == "interrupted" else
                         str(reply.get("error", "an error"))[:300])
                raise remote_error(error)
            if status != "ok":
                raise RemoteError(f"the notebook's kernel could not run the relay: "
                                  f"{str(reply.get('error', status))[:200]}")
        relay.__name__ = relay.__qualname__ = name if name.isidentifier() else "relay"
        return relay

    def answer(self, reply: dict[str, Any], service: str, name: str, event: Event,
               ctx: Context) -> Any:
        """Apply a handler call's answer: the new state, and the events as the grader's own."""
        status = reply.get("status")
        if status in ("stub", "raised", "interrupted"):
            error = ("NotImplementedError" if status == "stub" else
                     "KeyboardInterrupt" if status == "interrupted" else
                     str(reply.get("error", "an error"))[:300])
            self.errors.append(HandlerError(service, name, type(event).__name__, ctx.message_id,
                                            error, str(reply.get("location", ""))[:300]))
            raise remote_error(error)
        if status != "ok":
            raise RemoteError(f"the notebook's kernel could not run the handler: "
                              f"{str(reply.get('error', status))[:200]}")
        try:
            state = decode_value(reply["state"])
            if not isinstance(state, dict):
                raise ProtocolError("a state that is not a dict")
            produced = self.events_of(reply["events"])
        except (ProtocolError, KeyError, TypeError) as error:
            raise RemoteError(f"the handler's answer could not be used ({error})") from None
        ctx.state.clear()
        ctx.state.update(state)
        self.apply_timers(reply, ctx)
        return produced

    def apply_timers(self, reply: dict[str, Any], ctx: Context) -> None:
        """Set and cancel, on the grader's context, the timers the handler asked for."""
        try:
            for timer in reply.get("timers", []):
                event = self.events_of([timer["event"]])[0]
                if isinstance(event, Shown):
                    raise ProtocolError(f"a timer for {event!r}")
                ctx.schedule(event, after=timer["after"], name=str(timer["name"])[:200])
            for name in reply.get("cancelled", []):
                ctx.cancel(str(name)[:200])
        except (ProtocolError, KeyError, TypeError, IndexError) as error:
            raise RemoteError(f"the handler's timers could not be used ({error})") from None

    def events_of(self, encoded: Any) -> Any:
        """The produced events as the grader's classes; stand-ins for anything else."""
        if isinstance(encoded, dict) and isinstance(encoded.get("returned"), str):
            return shown(encoded["returned"])
        if not isinstance(encoded, list):
            raise ProtocolError("events that are not a list")
        produced: list[Any] = []
        for item in encoded:
            if isinstance(item, dict) and isinstance(item.get("not_event"), str):
                produced.append(shown(item["not_event"]))
                continue
            event_type = self.events.get(item["type"]) if isinstance(item, dict) else None
            if event_type is None:
                produced.append(shown(f"{str(item.get('type', 'object'))[:60]} (an event the "
                                      "saga does not know)" if isinstance(item, dict) else "?"))
                continue
            produced.append(event_type(**decode_value(item["fields"])))
        return produced


def replace_state(state: dict[str, Any], new: Any) -> None:
    """Make the live `state` equal to `new` (a dict, as the sandbox sent it)."""
    if not isinstance(new, dict):
        raise ProtocolError("a state that is not a dict")
    state.clear()
    state.update(new)


def service_shell(service: Service) -> dict[str, Any]:
    """One of the grader's services as the sandbox sees it: its name, state and handled events."""
    return {"shell": {"name": service.name, "state": encode_value(service.initial_state),
                      "handles": list(service.handlers)}}


def context_of(ctx: Context) -> dict[str, Any]:
    """The message metadata a handler may read."""
    envelope = ctx.envelope
    return {"message_id": envelope.message_id, "key": envelope.key,
            "correlation_id": envelope.correlation_id, "causation_id": envelope.causation_id,
            "producer": envelope.producer, "published_at": envelope.published_at,
            "depth": envelope.depth, "attempt": ctx.attempt, "now": ctx.now}
