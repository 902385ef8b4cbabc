"""The sandbox process: runs one submission's cells and answers calls of its code.

Started by the grader (``python -I -c client.BOOT PACKAGE_PARENT IN OUT``: this module, run from
the grader's own copy of the package) with two pipes (requests on fd IN, replies on fd OUT).
Its first frame is the setup: how to confine the process (`confine.Plan`) and the notebook.
Then, one request at a time:

- ``run_cell``: run one code cell of the notebook in an IPython shell (output is counted
  and dropped; the grader keeps none of it);
- ``call``: call one of the learner's functions (a service factory, or a function that
  registers handlers on services) and describe what came back;
- ``handle``: run one of the learner's handlers on an event and a copy of the service's
  state, and return the new state and the events produced;
- ``relay``: run a service's relay on a copy of its state. Each publish is a step sent to
  the grader with the state as it is at that moment; the grader publishes it there and
  answers whether the relay crashed at it (then the publish raises in the learner's code,
  as it would have in the grader); the reply is the state the relay left.

Nothing here decides a grade: the grader validates every answer and judges it.
"""

from __future__ import annotations

import itertools

import io
import os
import signal
import sys
import traceback
from typing import Any


class Counter(io.TextIOBase):
    """A text sink that keeps nothing and counts characters."""

    def __init__(self) -> None:
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.size += len(text)
        return len(text)


def main(argv: list[str]) -> int:
    """Read the setup, confine this process, then answer requests until told to stop."""
    from .protocol import FrameReader, write_frame
    requests, replies = int(argv[0]), int(argv[1])
    reader = FrameReader(requests)
    setup = reader.read()
    server = Server(setup, reader, replies)
    write_frame(replies, {"id": setup.get("id"), "status": "ready"})
    while True:
        try:
            request = reader.read()
            if request.get("op") == "bye":
                return 0
            server.send(server.answer(request))
        except KeyboardInterrupt:  # an interrupt that came after its request had ended
            continue


class Server:
    """One submission's namespace and the learner code the grader may call."""

    def __init__(self, setup: dict[str, Any], reader: Any, replies: int) -> None:
        from IPython.core.interactiveshell import InteractiveShell
        from traitlets.config import Config

        from .confine import Plan, confine
        from .guard import GRADING_ALLOWED, install_guard
        for name in GRADING_ALLOWED:  # loaded now: the package is hidden from here on
            __import__(name)
        self.guard = install_guard()
        confine(Plan.from_json(setup["plan"]))
        os.environ["IPYTHONDIR"] = os.path.join(os.getcwd(), ".ipython")
        config = Config()
        config.HistoryManager.enabled = False
        self.printed = Counter()
        sys.stdout = sys.stderr = self.printed  # type: ignore[assignment]
        self.shell = InteractiveShell.instance(config=config)
        self.shell.display_pub.publish = self._published  # type: ignore[method-assign]
        name = os.path.basename(str(setup.get("notebook_name", "submission.ipynb")))
        with open(name, "w", encoding="utf-8") as copy:
            copy.write(str(setup.get("notebook", "")))
        from ..notebook import grader_runs_the_checks
        grader_runs_the_checks()
        self.handlers: dict[int, tuple[Any, type, str]] = {}
        self.relays: dict[int, tuple[Any, str]] = {}
        self.reader, self.replies = reader, replies

    def send(self, frame: dict[str, Any]) -> None:
        """Write one frame to the grader (never half of one: an interrupt waits)."""
        from .protocol import write_frame
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            write_frame(self.replies, frame)
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})

    def ask(self, request_id: Any, step: dict[str, Any]) -> dict[str, Any]:
        """Send a step of the request `request_id` to the grader, and return its answer."""
        self.send({"id": request_id, "step": step})
        answer = self.reader.read()
        if answer.get("id") != request_id or not isinstance(answer.get("answer"), dict):
            raise RuntimeError("the grader did not answer the relay's publish")
        return answer["answer"]

    def _published(self, data: dict[str, Any], *args: Any, **kwargs: Any) -> None:
        self.printed.size += sum(len(str(v)) for v in data.values())

    # -- requests ----------------------------------------------------------------------------
    def answer(self, request: dict[str, Any]) -> dict[str, Any]:
        before = self.printed.size
        try:
            reply = self._dispatch(request)
        except KeyboardInterrupt:
            reply = {"status": "interrupted"}
        except Exception as error:  # noqa: BLE001 - a request the server could not serve
            reply = {"status": "internal", "error": f"{type(error).__name__}: {error}"[:300]}
        return reply | {"id": request.get("id"), "printed": self.printed.size - before,
                        "refused": list(self.guard.refused)}

    def _dispatch(self, request: dict[str, Any]) -> dict[str, Any]:
        op = request.get("op")
        if op == "run_cell":
            return self.run_cell(str(request.get("source", "")))
        if op == "call":
            return self.call(str(request.get("function", "")), request.get("args", []))
        if op == "handle":
            return self.handle(request)
        if op == "relay":
            return self.relay(request)
        return {"status": "internal", "error": f"unknown request {op!r}"}

    def run_cell(self, source: str) -> dict[str, Any]:
        result = self.shell.run_cell(source, store_history=True)
        error = result.error_before_exec or result.error_in_exec
        if error is None:
            return {"status": "ok"}
        return {"status": "error", "ename": type(error).__name__, "evalue": str(error)[:300]}

    def call(self, name: str, encoded_args: list[Any]) -> dict[str, Any]:
        from .protocol import decode_value
        if name not in self.shell.user_ns:
            return {"status": "undefined"}
        function = self.shell.user_ns[name]
        if not callable(function):
            return {"status": "not_callable", "value": self._describe(function)}
        shells = [self._shell_service(arg["shell"]) for arg in encoded_args
                  if isinstance(arg, dict) and "shell" in arg]
        args, shell_iter = [], iter(shells)
        for arg in encoded_args:
            is_shell = isinstance(arg, dict) and "shell" in arg
            args.append(next(shell_iter)[0] if is_shell else decode_value(arg))
        outcome = self._run(function, *args)
        if "value" not in outcome:
            return outcome
        return outcome | {"status": "ok", "value": self._encode_result(outcome["value"]),
                          "shells": [self._new_handlers(service, kept) for service, kept in shells]}

    def handle(self, request: dict[str, Any]) -> dict[str, Any]:
        from ...context import Context
        from ...envelope import Envelope
        from ...errors import InvalidState
        from ...state import saved_state
        from .protocol import decode_value, encode_value
        handler, event_type, service = self.handlers[int(request["ref"])]
        meta = request["context"]
        built = self._run(lambda fields: event_type(**fields), decode_value(request["event"]["fields"]))
        if "value" not in built:  # the learner's own event class differs from the saga's
            return built
        event = built["value"]
        envelope = Envelope(str(meta["message_id"]), event, str(meta["key"]),
                            str(meta["correlation_id"]), meta.get("causation_id"),
                            str(meta["producer"]), int(meta["published_at"]), int(meta["depth"]))
        context = Context(service, envelope, int(meta["attempt"]), int(meta["now"]),
                          decode_value(request["state"]))
        outcome = self._run(handler, event, context)
        if "value" not in outcome:
            return outcome
        try:
            working = context.working_state()
            state = encode_value(saved_state(working, service) if working is not None
                                 else decode_value(request["state"]))
        except (ValueError, InvalidState) as error:
            return {"status": "raised", "error": f"ctx.state cannot be kept: {error}",
                    "location": ""}
        return {"status": "ok", "state": state, "events": self._encode_events(outcome["value"]),
                "timers": self._encode_timers(context), "cancelled": list(context.timers_cancelled)}

    def relay(self, request: dict[str, Any]) -> dict[str, Any]:
        """Run a relay on the state given, each publish made by the grader as it happens.

        A publish sends the grader the event and the state as it is then; the grader
        publishes it there, where a crash it injects at that publish keeps what the relay
        had written up to there, and answers. A crash raises in the relay, as `publish`
        would in the grader (and every later publish of this run raises too); an error the
        grader's publish raised (a message id of the broker's own, say) raises here.
        """
        from ...context import RelayContext, RelayCrashed
        from ...errors import HandlerError
        from .protocol import MAX_RELAY_PUBLISHES, decode_value, encode_event, encode_value
        function, service = self.relays[int(request["ref"])]
        state = decode_value(request["state"])
        published = 0

        def publish(event: Any, message_id: Any, cause: Any) -> None:
            nonlocal published
            if published >= MAX_RELAY_PUBLISHES:
                raise RuntimeError(f"the relay published more than {MAX_RELAY_PUBLISHES} "
                                   "messages in one run")
            published += 1
            answer = self.ask(request.get("id"), {
                "state": encode_value(state), "event": encode_event(event),
                "message_id": message_id, "cause": cause})
            if answer.get("crashed"):
                raise RelayCrashed(str(answer.get("point", "a planned crash")))
            if answer.get("error"):
                raise HandlerError(str(answer["error"]))

        context = RelayContext(service, int(request["now"]), state, publish)
        try:
            outcome = self._run(function, context)
        except RelayCrashed:  # not caught by the relay: the crash ended this run of it
            outcome = {}
        finally:
            context.close()
        try:
            final = encode_value(state)
        except ValueError as error:
            return {"status": "raised", "error": f"ctx.state cannot be kept: {error}",
                    "location": ""}
        return outcome | {"status": outcome.get("status", "ok"), "state": final, "value": None}

    # -- helpers -----------------------------------------------------------------------------
    def _run(self, function: Any, *args: Any) -> dict[str, Any]:
        """Call learner code; its value, or how it failed (a stub, an error and its line)."""
        from ..learner import describe_error, learner_location
        try:
            return {"value": function(*args)}
        except NotImplementedError:
            return {"status": "stub"}
        except Exception as error:  # noqa: BLE001 - any error in learner code is feedback
            return {"status": "raised", "error": describe_error(error),
                    "location": learner_location(error)}

    def _describe(self, value: Any) -> str:
        from ...text import describe_value
        return describe_value(value)

    def _encode_result(self, value: Any) -> dict[str, Any]:
        """A service as its description, plain data as itself, anything else as words."""
        from ...service import Service
        from .protocol import UnsupportedValue, encode_value
        if isinstance(value, Service):
            return {"service": self._describe_service(value, set())}
        try:
            return {"data": encode_value(value), "other": self._describe(value)}
        except UnsupportedValue:
            return {"other": self._describe(value)}

    def _describe_service(self, service: Any, skip: set[Any]) -> dict[str, Any]:
        from .protocol import encode_value
        relay = service.outbox_relay
        described = None
        if relay is not None:
            ref = len(self.relays) + 1
            self.relays[ref] = (relay.function, service.name)
            described = {"ref": ref, "every": relay.every, "name": relay.name}
        return {"name": service.name, "state": encode_value(service.initial_state),
                "instances": service.instances, "processing_time": service.processing_time,
                "handlers": self._describe_handlers(service, skip), "relay": described}

    def _describe_handlers(self, service: Any, skip: set[Any]) -> list[dict[str, Any]]:
        from ...service import with_middleware
        described = []
        for key, handling in service.handlers.items():
            if key in skip:
                continue
            ref = len(self.handlers) + 1
            handler = with_middleware(handling.handler, service.middleware)
            self.handlers[ref] = (handler, handling.event_type, service.name)
            described.append({"event_type": handling.event_type.event_type, "ref": ref,
                              "name": handling.name,
                              "publishes": [t.event_type for t in handling.publishes]})
        return described

    def _shell_service(self, shell: dict[str, Any]) -> tuple[Any, set[Any]]:
        """A stand-in for one of the grader's services, with its steps as placeholders."""
        from ...service import Service
        from .protocol import decode_value
        service = Service(str(shell["name"]), decode_value(shell["state"]))
        for name in shell.get("handles", []):
            event_type = event_class_named(str(name))
            if event_type is not None:
                service.handles(event_type)(runs_in_the_grader)
        return service, set(service.handlers)

    def _new_handlers(self, service: Any, kept: set[Any]) -> list[dict[str, Any]]:
        return self._describe_handlers(service, kept)

    def _encode_timers(self, context: Any) -> list[dict[str, Any]]:
        """The timers the handler set, for the grader to set on its own context."""
        from .protocol import encode_event
        return [{"name": request.name, "after": request.after, "event": encode_event(request.event)}
                for request in context.timers_set[:1000]]

    def _encode_events(self, result: Any) -> Any:
        from ...events import Message, is_message_type
        from .protocol import encode_event
        if result is None:
            return []
        items = [result] if isinstance(result, Message) else result
        if isinstance(items, (str, bytes, dict, set, frozenset, type)) or not hasattr(items, "__iter__"):
            return {"returned": self._describe(result)}
        encoded = []
        for item in itertools.islice(items, 10_000):
            if isinstance(item, Message) and is_message_type(type(item)):
                try:
                    encoded.append(encode_event(item))
                    continue
                except ValueError:
                    pass
            encoded.append({"not_event": self._describe(item)})
        return encoded


def runs_in_the_grader(event: Any, ctx: Any) -> None:
    """A placeholder for a step of the saga that the grader runs itself."""
    raise RuntimeError("this step of the saga runs in the grader, not in your notebook")


def event_class_named(name: str) -> type | None:
    """The Event subclass called `name` that this process knows (the exercise's contract first)."""
    from ...events import Event
    pending, found = list(Event.__subclasses__()), None
    while pending:
        cls = pending.pop(0)
        if cls.event_type == name:
            found = found or cls
            if cls.__module__.startswith("choreo_lab."):
                return cls
        pending.extend(cls.__subclasses__())
    return found


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except Exception:  # noqa: BLE001 - say why on stderr (the grader keeps its last lines)
        traceback.print_exc(file=sys.__stderr__)
        sys.exit(1)
