"""Messages: small, frozen, validated pydantic models. Events say what happened; commands ask.

    class PaymentDeclined(Event, role="failure"):    # past tense: something happened
        order_id: str

    class ChargePayment(Command):                      # imperative: exactly one service handles it
        order_id: str
        amount: int

A message type is known by its name (`OrderPlaced.event_type`), which is what handlers are
registered for, what fault plans target and what the trace shows. The class keywords:

- `role`: the part the event plays in a saga: "step" (default), "failure" or "compensation".
- `outcome`: "completed" or "compensated" if publishing it ends the workflow.
- `topic`: the log it travels on (default: its name); several types may share one.
- `name`, `schema_version`: another version of an existing type's schema, e.g.
  ``class ContentUploadedV2(Event, name="ContentUploaded", schema_version=2)``. A consumer
  registered for one version reads messages written with another (see `Message.read`).

Messages are deeply immutable: a field holds text, numbers, tuples, frozensets or other
messages, never a list, dict or set that one consumer could change under another.
"""

from __future__ import annotations

import datetime
import decimal
import enum
import types
import typing
import uuid
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError

from . import vocabulary as words
from .errors import InvalidEvent
from .text import WIDTH, describe_value, fit

#: Class attributes every message type has; a payload field may not take these names.
RESERVED_NAMES = ("topic", "event_type", "event_role", "event_outcome", "schema_version")
#: Values that are immutable and hold nothing mutable.
_PLAIN = (str, int, float, bool, type(None), bytes, decimal.Decimal, datetime.date,
          datetime.time, datetime.timedelta, uuid.UUID, enum.Enum)
_SCALARS = frozenset({str, int, float, bool, type(None)})
_MUTABLE = {list: "tuple[...]", dict: "a tuple of pairs, or a nested Event", set: "frozenset[...]",
            bytearray: "bytes"}


def explain_validation_error(model: str, error: ValidationError) -> str:
    """Turn pydantic's error into one line per bad field, without version-specific URLs."""
    lines = [f"{model} is not a valid event:"]
    for problem in error.errors(include_url=False):
        field = ".".join(str(part) for part in problem["loc"]) or "(the event)"
        shown = "" if problem["type"] == "missing" else f" (got {problem.get('input')!r})"
        line = f"  - field {field!r}: {problem['msg']}"
        if len(line + shown) > WIDTH:  # the value goes on the next line, whole
            lines += [fit(line, indent=4), f"    {shown.strip()}"]
        else:
            lines.append(line + shown)
    lines.append(f"Fix the value(s) above, or change the field types of {model}.")
    return "\n".join(lines)


def stable_text(value: object) -> str:
    """repr(value), with frozenset items sorted at every depth: the same text in every process
    (a set's order changes with hash randomisation)."""
    if type(value) in _SCALARS:  # the common case, checked first: it runs for every publish
        return repr(value)
    if isinstance(value, frozenset):
        items = sorted((stable_text(item) for item in value))
        return "frozenset({" + ", ".join(items) + "})" if items else "frozenset()"
    if isinstance(value, tuple):
        items = [stable_text(item) for item in value]
        return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
    if isinstance(value, Message):
        return str(value)
    return repr(value)


def _mutable_part(annotation: Any) -> type | None:
    """The mutable container a field annotation allows (list, dict, set, ...), or None."""
    origin = typing.get_origin(annotation) or annotation
    if origin in _MUTABLE:
        return origin
    if isinstance(origin, type) and origin.__module__ == "collections.abc":
        return list if origin.__name__ in ("Sequence", "MutableSequence", "Iterable") else dict
    for argument in typing.get_args(annotation):
        found = _mutable_part(argument)
        if found is not None:
            return found
    return None


def _is_closed(annotation: Any) -> bool:
    """True if every value the annotation admits is immutable (no check needed per message)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return True
    if origin is typing.Annotated:
        return _is_closed(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType, tuple, frozenset):
        return all(_is_closed(arg) for arg in typing.get_args(annotation) if arg is not Ellipsis)
    return annotation is None or (isinstance(annotation, type)
                                  and issubclass(annotation, (*_PLAIN, Message)))


def _check_immutable(owner: str, field: str, value: object) -> None:
    """Refuse a value that one consumer could change under another."""
    if isinstance(value, (tuple, frozenset)):
        for item in value:
            _check_immutable(owner, field, item)
    elif not isinstance(value, (*_PLAIN, Message)):
        kind = type(value)
        instead = _MUTABLE.get(kind, "plain values (text, numbers, tuples, frozensets, events)")
        raise InvalidEvent(f"{owner}: field {field!r} holds {describe_value(value)}; messages are "
                           f"immutable and every consumer sees the same one. Use {instead} "
                           "instead.")


class Message(BaseModel):
    """Base class of events and commands: payload fields only, frozen, validated on creation.

    The runtime keeps message metadata (ids, times, attempts) beside the message in an
    `Envelope`. Extra or mistyped fields are refused with an `InvalidEvent` naming the field.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_type: ClassVar[str] = ""
    topic: ClassVar[str] = ""
    event_role: ClassVar[str] = words.STEP
    event_outcome: ClassVar[str | None] = None
    schema_version: ClassVar[int] = 1
    _open_fields: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, *, name: str | None = None, topic: str | None = None,
                          role: str | None = None, outcome: str | None = None,
                          schema_version: int | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        taken = [field for field in RESERVED_NAMES if field in cls.__dict__.get("__annotations__", {})]
        if taken:
            raise InvalidEvent(f"{cls.__name__} has a field named {taken[0]!r}, which every message "
                               f"type uses for itself ({', '.join(RESERVED_NAMES)}). Rename the "
                               f"field (e.g. {taken[0]}_name), or set the class keyword: "
                               f"class {cls.__name__}(Event, topic=...).")
        if role is not None and role not in words.ROLES:
            raise InvalidEvent(f"{cls.__name__}: role={role!r}; a role is one of "
                               f"{', '.join(words.ROLES)}")
        if outcome is not None and outcome not in words.OUTCOMES:
            raise InvalidEvent(f"{cls.__name__}: outcome={outcome!r}; an outcome is one of "
                               f"{', '.join(words.OUTCOMES)} (or leave it out)")
        cls.event_type = name or cls.__name__
        cls.topic = topic or cls.event_type
        cls.schema_version = schema_version or 1
        if role is not None:  # otherwise inherited, like the outcome
            cls.event_role = role
        if outcome is not None:
            cls.event_outcome = outcome

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        """Once pydantic knows the fields: refuse mutable ones, note the ones to check per value."""
        super().__pydantic_init_subclass__(**kwargs)
        open_fields = []
        for field, info in cls.model_fields.items():
            mutable = _mutable_part(info.annotation)
            if mutable is not None:
                raise InvalidEvent(f"{cls.__name__}.{field} is a {mutable.__name__}, which a "
                                   "consumer could change under every other one; messages are "
                                   f"immutable. Use {_MUTABLE[mutable]} instead.")
            if not _is_closed(info.annotation):
                open_fields.append(field)
        cls._open_fields = tuple(open_fields)

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as error:
            raise InvalidEvent(explain_validation_error(self._title(), error)) from None
        for field in self._open_fields:
            _check_immutable(self._title(), field, self.__dict__[field])

    def __setattr__(self, name: str, value: Any) -> None:
        raise InvalidEvent(f"{self._title()} is immutable: a message records something that "
                           f"happened or was asked.\nPublish a new one instead, e.g. "
                           f"event.model_copy(update={{{name!r}: {value!r}}}).")

    @classmethod
    def _title(cls) -> str:
        """The type's name, with its schema version when it is not the first."""
        version = f" v{cls.schema_version}" if cls.schema_version != 1 else ""
        return f"{cls.event_type}{version}"

    @classmethod
    def model_construct(cls, _fields_set: set[str] | None = None, **values: Any) -> Message:
        """Messages are always validated: this builds one the checked way, like `cls(**values)`."""
        return cls(**values)

    def model_copy(self, *, update: dict[str, Any] | None = None, deep: bool = False) -> Message:
        """A copy with `update` applied, validated like a new message (pydantic's own skips that).

        Fields are immutable, so the copy shares nothing that could change; `deep` is accepted
        for pydantic's signature only.
        """
        return type(self)(**{**self.__dict__, **(update or {})})

    @classmethod
    def read(cls, message: Message) -> Message:
        """This class's view of a message of the same type written with another schema version.

        The tolerant reader: fields this version does not know are ignored. A field it needs
        that the writer did not send raises `InvalidEvent` naming it (a breaking change).
        """
        if type(message) is cls:
            return message
        known = {field: value for field, value in message.__dict__.items() if field in cls.model_fields}
        try:
            return cls(**known)
        except InvalidEvent as error:
            raise InvalidEvent(f"a reader of {cls._title()} got {message._title()}, which it "
                               f"cannot read (a breaking schema change): {error}") from None

    def __str__(self) -> str:
        fields = ", ".join(f"{name}={stable_text(value)}" for name, value in self.__dict__.items())
        return f"{self._title()}({fields})"


class Event(Message):
    """A fact: something that happened, named in the past tense (`OrderPlaced`).

    Every consumer group that handles its type gets it.
    """


class Command(Message):
    """A request addressed to one handler, named in the imperative (`ChargePayment`).

    Exactly one service in a simulation may handle a command type; it answers with events,
    which the sender reacts to. Commands are what an orchestrator sends; a choreography needs
    none.
    """


def is_message_type(obj: object) -> bool:
    """True for a concrete message class (a subclass of Event or Command)."""
    return isinstance(obj, type) and issubclass(obj, Message) and obj not in (Message, Event, Command)


def check_event(obj: object, where: str) -> Message:
    """Return `obj` if it is a valid message, else raise `InvalidEvent` saying what it is instead."""
    if isinstance(obj, Message) and is_message_type(type(obj)):
        return obj
    if obj in (Message, Event, Command) or type(obj) in (Message, Event, Command):
        raise InvalidEvent(f"{where}: the base class {getattr(obj, '__name__', type(obj).__name__)} "
                           "has no meaning; define a subclass such as "
                           "`class OrderPlaced(Event): order_id: str` and use that.")
    if is_message_type(obj):
        raise InvalidEvent(f"{where}: got the class {obj.__name__}, not an event; "  # type: ignore[union-attr]
                           f"create one first, e.g. {obj.__name__}(...).")  # type: ignore[union-attr]
    raise InvalidEvent(f"{where}: expected an Event, got {describe_value(obj)}.\n"
                       "Events are instances of a subclass of choreo_lab.Event.")
