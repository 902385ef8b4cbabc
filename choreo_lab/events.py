"""Domain events: small, frozen, validated pydantic models named in the past tense."""

from __future__ import annotations

import re
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError

from .errors import InvalidEvent

_MEMORY_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")
_SETS = (set, frozenset)


def describe_value(obj: object, limit: int = 100) -> str:
    """Type and repr of `obj` for an error message: shortened, and without memory addresses
    (they change from run to run, and messages end up in the trace)."""
    shown = f"{type(obj).__name__} {_MEMORY_ADDRESS.sub('', repr(obj))}"
    return shown if len(shown) <= limit else shown[:limit - 3] + "..."


def stable_repr(value: object) -> str:
    """repr(value), but a set's items sorted: their order changes with hash randomisation."""
    if type(value) not in _SETS or not value:
        return repr(value)
    try:
        ordered = sorted(value)
    except TypeError:  # items that cannot be compared: order them by their text
        ordered = sorted(value, key=repr)
    items = "{" + ", ".join(repr(item) for item in ordered) + "}"
    return items if type(value) is set else f"frozenset({items})"


def explain_validation_error(model: str, error: ValidationError) -> str:
    """Turn pydantic's error into one line per bad field, without version-specific URLs."""
    lines = [f"{model} is not a valid event:"]
    for problem in error.errors(include_url=False):
        field = ".".join(str(part) for part in problem["loc"]) or "(the event)"
        given = problem.get("input")
        shown = "" if problem["type"] == "missing" else f" (got {given!r})"
        lines.append(f"  - field {field!r}: {problem['msg']}{shown}")
    lines.append(f"Fix the value(s) above, or change the field types of {model}.")
    return "\n".join(lines)


class Event(BaseModel):
    """Base class of domain events.

    Subclass it with payload fields only; the runtime keeps message metadata (ids, times,
    attempts) beside the event in an `Envelope`. Events are immutable, and extra or
    mistyped fields are refused with an `InvalidEvent` that names the field.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: The topic the event is published on; by default the class name (e.g. "OrderPlaced").
    topic: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "topic" not in cls.__dict__:
            cls.topic = cls.__name__

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as error:
            raise InvalidEvent(explain_validation_error(type(self).__name__, error)) from None

    def __setattr__(self, name: str, value: Any) -> None:
        raise InvalidEvent(f"{type(self).__name__} is immutable: an event records something that "
                           f"happened. Publish a new event instead, e.g. "
                           f"event.model_copy(update={{{name!r}: {value!r}}}).")

    @classmethod
    def model_construct(cls, _fields_set: set[str] | None = None, **values: Any) -> Event:
        """Events are always validated: this builds one the checked way, like `cls(**values)`."""
        return cls(**values)

    def model_copy(self, *, update: dict[str, Any] | None = None, deep: bool = False) -> Event:
        """A copy with `update` applied, validated like a new event (pydantic's own skips that).

        Validation builds fresh containers for list or dict fields, so the copy is always
        independent of the original; `deep` is accepted for pydantic's signature only.
        """
        return type(self)(**{**self.__dict__, **(update or {})})

    def __str__(self) -> str:
        # Sets print sorted (stable_repr); checked inline, as this runs for every publish.
        fields = ", ".join(f"{name}={stable_repr(value) if type(value) in _SETS else repr(value)}"
                           for name, value in self.__dict__.items())
        return f"{type(self).__name__}({fields})"


def check_event(obj: object, where: str) -> Event:
    """Return `obj` if it is a valid event, else raise `InvalidEvent` saying what it is instead."""
    if isinstance(obj, Event) and type(obj) is not Event:
        return obj
    if obj is Event or type(obj) is Event:
        raise InvalidEvent(f"{where}: the base class Event has no meaning; define a subclass such as "
                           "`class OrderPlaced(Event): order_id: str` and publish that.")
    if isinstance(obj, type) and issubclass(obj, Event):
        raise InvalidEvent(f"{where}: got the class {obj.__name__}, not an event; "
                           f"create one first, e.g. {obj.__name__}(...).")
    raise InvalidEvent(f"{where}: expected an Event, got {describe_value(obj)}. "
                       "Events are instances of a subclass of choreo_lab.Event.")
