"""A service's state: its private database, kept as plain data.

State is a dict of plain values - dicts, lists, tuples, sets, text, numbers, events - with
no object appearing twice (a database stores values, not shared references). That is what
lets the runtime copy it for every handler call and keep it apart from every other service.
"""

from __future__ import annotations

from typing import Any

from .errors import InvalidState
from .events import Message
from .text import describe_value

#: Values that need no copying: immutable, and unable to hold anything mutable.
_ATOMIC = (str, int, float, bool, type(None), bytes, Message)
_CONTAINERS = (dict, list, tuple, set, frozenset)


def check_state(state: object, service: str) -> dict[str, Any]:
    """Return `state` if a service can keep it, else raise `InvalidState` saying where and why.

    Cost: one walk over the whole state.
    """
    if not isinstance(state, dict):
        raise InvalidState(f"service {service!r}: its state must be a dict (e.g. "
                           f"{{'charges': {{}}}}), got {describe_value(state)}")
    _check(state, f"state", service, {})
    return state


def _check(value: object, path: str, service: str, seen: dict[int, str]) -> None:
    if isinstance(value, _ATOMIC):
        return
    if type(value) not in _CONTAINERS:
        raise InvalidState(f"service {service!r}: {path} is {describe_value(value)}, which a "
                           "service cannot keep in its state; keep plain data there (dicts, "
                           "lists, tuples, sets, text, numbers, events)")
    if id(value) in seen:
        raise InvalidState(f"service {service!r}: {path} is the same {type(value).__name__} as "
                           f"{seen[id(value)]}; a service's state is stored like a database, "
                           "by value, so it cannot hold one object in two places (or inside "
                           "itself). Store a copy, or store a key and look it up.")
    seen[id(value)] = path
    if isinstance(value, dict):
        for key, item in value.items():
            _check(key, f"{path} key {key!r}", service, seen)
            _check(item, f"{path}[{key!r}]", service, seen)
    else:
        for index, item in enumerate(value):
            _check(item, f"{path}[{index}]", service, seen)


def copy_state(value: Any) -> Any:
    """A deep copy of state that `check_state` accepted (fast for dicts, lists and scalars)."""
    kind = type(value)
    if kind is dict:
        return {key: copy_state(item) for key, item in value.items()}
    if kind is list:
        return [copy_state(item) for item in value]
    if kind is set:
        return set(value)  # set items are hashable, hence immutable here
    if kind is tuple:
        return tuple(copy_state(item) for item in value)
    return value
