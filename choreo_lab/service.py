"""Services: a name, state of their own, and handlers registered per event type."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

from .errors import HandlerReturnError
from .events import Event, describe_value

if TYPE_CHECKING:
    from .envelope import Envelope

Handler = Callable[[Any, "Context"], "Event | Iterable[Event] | None"]
H = TypeVar("H", bound=Handler)


class Service:
    """A service definition: its name, its initial state and its handlers.

    The definition holds no running state: each `Simulation` gives the service a fresh copy
    of `state` (its private "database"), so one definition can run in many simulations.
    `instances` competing consumers share the service's consumer group; each takes
    `processing_time` virtual ms per message.
    """

    def __init__(self, name: str, state: dict[str, Any] | None = None, *,
                 instances: int = 1, processing_time: int = 0) -> None:
        if not name or not isinstance(name, str):
            raise ValueError("a service needs a non-empty name, e.g. Service('payment')")
        if instances < 1:
            raise ValueError(f"service {name!r}: instances must be at least 1, got {instances}")
        if processing_time < 0:
            raise ValueError(f"service {name!r}: processing_time is virtual ms and cannot be "
                             f"negative, got {processing_time}")
        self.name = name
        self.initial_state: dict[str, Any] = state if state is not None else {}
        self.instances = instances
        self.processing_time = processing_time
        self.handlers: dict[type[Event], Handler] = {}
        #: event type handled -> the event types its handler may publish (for topology diagrams)
        self.publishes: dict[type[Event], tuple[type[Event], ...]] = {}

    def handles(self, event_type: type[Event], *,
                publishes: tuple[type[Event], ...] = ()) -> Callable[[H], H]:
        """Register the decorated function as this service's handler for `event_type`.

        `publishes` names the event types the handler may return; it is documentation the
        topology diagram reads, not a check. Returns the function unchanged, so it can
        still be called and tested directly.
        """
        if not (isinstance(event_type, type) and issubclass(event_type, Event)):
            raise TypeError(f"{self.name}.handles() takes an Event subclass, got {event_type!r}")

        def register(handler: H) -> H:
            if event_type in self.handlers:
                raise ValueError(f"service {self.name!r} already handles {event_type.__name__} "
                                 f"with {self.handlers[event_type].__name__}(); one handler per event type")
            self.handlers[event_type] = handler
            self.publishes[event_type] = tuple(publishes)
            return handler

        return register

    @property
    def topics(self) -> list[str]:
        """The topics this service's consumer group subscribes to."""
        return [event_type.topic for event_type in self.handlers]

    def fresh_state(self) -> dict[str, Any]:
        return copy.deepcopy(self.initial_state)

    def __repr__(self) -> str:
        handled = ", ".join(t.__name__ for t in self.handlers) or "nothing yet"
        return f"Service({self.name!r}, handles: {handled})"


#: Values that need no copying: immutable, and unable to hold anything mutable.
_ATOMIC = frozenset({str, int, float, bool, type(None), frozenset})


def copy_state(value: Any) -> Any:
    """A deep copy that is fast for the plain dicts, lists and scalars services keep."""
    kind = type(value)
    if kind is dict:  # the common case; scalars are taken as they are, without a call
        return {key: item if type(item) in _ATOMIC else copy_state(item)
                for key, item in value.items()}
    if kind is list:
        return [item if type(item) in _ATOMIC else copy_state(item) for item in value]
    if kind in _ATOMIC:
        return value
    if kind is tuple:  # immutable itself, but it may hold lists or dicts
        return tuple(copy_state(item) for item in value)
    if kind is set:
        return set(value)
    return copy.deepcopy(value)


class Context:
    """What a handler may see: the message's metadata and its service's own state.

    `state` is a working copy made on first use (cost: one copy of the service's state per
    handler call that touches it); the runtime commits it only if the handler returns
    normally, so a handler that raises changes nothing.
    """

    __slots__ = ("service", "envelope", "attempt", "now", "_committed", "_working")

    def __init__(self, service: str, envelope: Envelope, attempt: int, now: int,
                 committed: dict[str, Any]) -> None:
        self.service = service
        self.envelope = envelope
        self.attempt = attempt
        self.now = now
        self._committed = committed
        self._working: dict[str, Any] | None = None

    @property
    def state(self) -> dict[str, Any]:
        if self._working is None:
            self._working = copy_state(self._committed)
        return self._working

    @property
    def message_id(self) -> str:
        return self.envelope.message_id

    @property
    def correlation_id(self) -> str:
        return self.envelope.correlation_id


def produced_events(handler: Handler, service: str, result: object) -> list[Event]:
    """Normalise a handler's return value to a list of events, or explain what is wrong."""
    if result is None:
        return []
    if isinstance(result, Event) and type(result) is not Event:
        return [result]
    if isinstance(result, (list, tuple)):
        bad = [item for item in result if not isinstance(item, Event) or type(item) is Event]
        if not bad:
            return list(result)
        shown = describe_value(bad[0])
    else:
        shown = describe_value(result)
    raise HandlerReturnError(
        f"handler {service}.{getattr(handler, '__name__', handler)}() returned {shown}; "
        "a handler returns an event (an instance of a subclass of Event), a list of events, "
        "or None")
