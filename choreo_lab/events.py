"""Domain events: small, frozen, validated pydantic models named in the past tense."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError

from .errors import InvalidEvent


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

    def __str__(self) -> str:
        fields = ", ".join(f"{name}={value!r}" for name, value in self.__dict__.items())
        return f"{type(self).__name__}({fields})"


def check_event(obj: object, where: str) -> Event:
    """Return `obj` if it is a valid event, else raise `InvalidEvent` saying what it is instead."""
    if isinstance(obj, Event) and type(obj) is not Event:
        return obj
    if type(obj) is Event:
        raise InvalidEvent(f"{where}: the base class Event has no meaning; define a subclass such as "
                           "`class OrderPlaced(Event): order_id: str` and publish that.")
    if isinstance(obj, type) and issubclass(obj, Event):
        raise InvalidEvent(f"{where}: got the class {obj.__name__}, not an event; "
                           f"create one first, e.g. {obj.__name__}(...).")
    shown = repr(obj)
    if len(shown) > 80:
        shown = shown[:77] + "..."
    raise InvalidEvent(f"{where}: expected an Event, got {type(obj).__name__} {shown}. "
                       "Events are instances of a subclass of choreo_lab.Event.")
