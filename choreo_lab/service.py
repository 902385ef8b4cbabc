"""Services: a name, state of their own, and one handler per message type they react to."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from .errors import HandlerError, HandlerReturnError
from .events import Command, Event, Message, is_message_type
from .state import check_state, copy_state
from .text import describe_value

if TYPE_CHECKING:
    from .context import Context, RelayContext

Handler = Callable[[Any, "Context"], "Message | Iterable[Message] | None"]
RelayFunction = Callable[["RelayContext"], None]
#: Wraps a handler in another: `handler -> handler` (retry, dedup, observation, ...).
Middleware = Callable[[Handler], Handler]
H = TypeVar("H", bound=Handler)
R = TypeVar("R", bound=RelayFunction)


@dataclass(frozen=True)
class Handling:
    """One registration: the message type, the function that handles it, what it may publish."""

    event_type: type[Message]
    handler: Handler
    publishes: tuple[type[Message], ...] = ()
    name: str = field(init=False, compare=False)  # the handler's name, for messages

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", getattr(self.handler, "__name__", repr(self.handler)))


@dataclass(frozen=True)
class Relay:
    """A service's relay: a function the runtime runs `every` ms while there may be work for it."""

    function: RelayFunction
    every: int
    name: str = field(init=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", getattr(self.function, "__name__", repr(self.function)))


class Service:
    """A service definition: its name, its initial state, its handlers and their middleware.

    The definition holds no running state: each runtime gives the service a fresh copy of
    `state` (its private "database"), so one definition can run in many simulations.
    `instances` competing consumers share the service's consumer group; each takes
    `processing_time` virtual ms per message. `middleware` wraps every handler, the first
    one outermost.
    """

    def __init__(self, name: str, state: dict[str, Any] | None = None, *, instances: int = 1,
                 processing_time: int = 0, middleware: Sequence[Middleware] = ()) -> None:
        if not name or not isinstance(name, str):
            raise ValueError(f"a service needs a non-empty name, e.g. Service('payment'), "
                             f"got {describe_value(name)}")
        _require_count(name, "instances", instances, least=1)
        _require_count(name, "processing_time", processing_time, least=0)
        if callable(middleware) or not all(callable(m) for m in middleware):
            raise HandlerError(f"service {name!r}: middleware is a list of functions "
                               "handler -> handler, e.g. middleware=[inbox()]")
        self.name = name
        self.initial_state = check_state(state if state is not None else {}, name)
        self.instances = instances
        self.processing_time = processing_time
        self.middleware = tuple(middleware)
        #: message type name -> its registration
        self.handlers: dict[str, Handling] = {}
        #: the function that publishes from the service's own state, if it has one
        self.outbox_relay: Relay | None = None

    def handles(self, event_type: type[Message], *,
                publishes: Sequence[type[Message]] = ()) -> Callable[[H], H]:
        """Register the decorated function as this service's handler for `event_type`.

        `publishes` names the message types the handler may return; it is documentation the
        topology diagram reads, not a check. Returns the function unchanged, so it can still
        be called and tested directly. Registering a function of the same name again (a
        notebook cell run twice) replaces it.
        """
        if not is_message_type(event_type):
            raise HandlerError(f"{self.name}.handles() takes a subclass of Event or Command, such "
                               f"as OrderPlaced; got {describe_value(event_type)}")

        def register(handler: H) -> H:
            _check_handler(self.name, event_type, handler)
            existing = self.handlers.get(event_type.event_type)
            if existing is not None and existing.name != getattr(handler, "__name__", None):
                raise HandlerError(
                    f"service {self.name!r} already handles {event_type.event_type} with "
                    f"{existing.name}(); one handler per event type. Handle both cases in one "
                    f"function, or run the cell that creates Service({self.name!r}) again first.")
            self.handlers[event_type.event_type] = Handling(event_type, handler, tuple(publishes))
            return handler

        return register

    def relay(self, *, every: int) -> Callable[[R], R]:
        """Register the decorated function as this service's relay: `relay(ctx)`, no event.

        A relay publishes what the service's handlers wrote into its own state (an outbox
        table) instead of returning it, then marks it sent. It runs beside the handlers, on
        the committed state (`RelayContext`): `every` ms after a handler changed the state,
        again `every` ms after it crashed, and after the service restarts - a poller that
        sleeps while nothing is new. With `ctx.publish(event, message_id=...)` each row goes
        out under an id of its own, and the broker keeps a message id once.
        """
        _require_count(self.name, "every", every, least=1)

        def register(function: R) -> R:
            if not callable(function):
                raise HandlerError(f"{self.name}.relay(): expected a function (ctx) -> None, "
                                   f"got {describe_value(function)}")
            self.outbox_relay = Relay(function, every)
            return function

        return register

    @property
    def topics(self) -> tuple[str, ...]:
        """The topics this service's consumer group subscribes to (each once)."""
        return tuple(dict.fromkeys(h.event_type.topic for h in self.handlers.values()))

    @property
    def commands(self) -> tuple[str, ...]:
        """The command types this service handles (no other service may handle them)."""
        return tuple(name for name, h in self.handlers.items() if issubclass(h.event_type, Command))

    def fresh_state(self) -> dict[str, Any]:
        """A new copy of the initial state, for one run."""
        return copy_state(self.initial_state)

    def wrapped(self, *middleware: Middleware) -> Service:
        """The same service with `middleware` around its own (outermost first): for graders and tests."""
        copy = Service(self.name, self.initial_state, instances=self.instances,
                       processing_time=self.processing_time,
                       middleware=(*middleware, *self.middleware))
        copy.handlers = dict(self.handlers)
        copy.outbox_relay = self.outbox_relay
        return copy

    def __repr__(self) -> str:
        handled = ", ".join(self.handlers) or "nothing yet"
        return f"Service({self.name!r}, handles: {handled})"


def with_middleware(handler: Handler, middleware: Sequence[Middleware]) -> Handler:
    """`handler` wrapped in `middleware`, the first one outermost."""
    for wrap in reversed(middleware):
        handler = wrap(handler)
    return handler


def _require_count(service: str, what: str, value: object, least: int) -> None:
    if type(value) is not int or value < least:  # type: ignore[operator]
        raise ValueError(f"service {service!r}: {what} must be a whole number, at least "
                         f"{least}; got {value!r}")


def _check_handler(service: str, event_type: type[Message], handler: object) -> None:
    """Refuse, at registration, a handler that could never be called as (event, ctx)."""
    where = f"{service}.handles({event_type.__name__})"
    if not callable(handler):
        raise HandlerError(f"{where}: expected a function (event, ctx) -> events, "
                           f"got {describe_value(handler)}")
    if inspect.iscoroutinefunction(handler) or inspect.isasyncgenfunction(handler):
        raise HandlerError(f"{where}: {handler.__name__}() is `async def`; handlers are plain "  # type: ignore[attr-defined]
                           "functions that the runtime calls and that return their events. "
                           "Drop `async` (and any `await`).")
    try:
        inspect.signature(handler).bind(None, None)
    except TypeError:
        raise HandlerError(f"{where}: {getattr(handler, '__name__', handler)}"
                           f"{_signature(handler)} cannot be called as (event, ctx); a handler "
                           "takes the event and the context, e.g. "
                           "def charge_card(event, ctx): ...") from None
    except ValueError:
        pass  # a builtin without a signature: it will tell at the first call


def _signature(handler: object) -> str:
    try:
        return str(inspect.signature(handler))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "(...)"


def produced_events(handler_name: str, service: str, result: object) -> list[Message]:
    """A handler's return value as a list of messages, or a `HandlerReturnError` saying what is wrong.

    A handler returns a message, any iterable of messages (a list, a tuple, a generator), or None.
    """
    if result is None:
        return []
    if isinstance(result, Message) and is_message_type(type(result)):
        return [result]
    where = f"handler {service}.{handler_name}()"
    if isinstance(result, (set, frozenset)):
        raise HandlerReturnError(f"{where} returned a set; a set has no order, and the events a "
                                 "handler publishes are published in order. Return a list.")
    if isinstance(result, Iterable) and not isinstance(result, (str, bytes, dict, Message, type)):
        produced = list(result)
        for position, item in enumerate(produced, start=1):
            if not (isinstance(item, Message) and is_message_type(type(item))):
                raise HandlerReturnError(f"{where} returned {len(produced)} items, and item "
                                         f"{position} is {_what(item)}")
        return produced
    raise HandlerReturnError(f"{where} returned {_what(result)}")


def _what(item: object) -> str:
    """What a handler returned instead of an event, and what to do about it."""
    if item is None:
        return "None; leave it out and return only events"
    if is_message_type(item):
        return (f"the class {item.__name__}, not an event; create one, "  # type: ignore[union-attr]
                f"e.g. return {item.__name__}(...)")  # type: ignore[union-attr]
    if item in (Message, Event, Command) or type(item) in (Message, Event, Command):
        return "the base class Event itself; return an instance of your own event class"
    return (f"{describe_value(item)}; a handler returns an event (an instance of a subclass of "
            "Event), a list of events, or None")
