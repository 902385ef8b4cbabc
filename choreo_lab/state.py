"""A service's state: its private database, kept as plain data.

State is a dict of plain values - dicts, lists, tuples, sets, text, numbers, events - with
no object appearing twice (a database stores values, not shared references). That is what
lets the runtime give every handler call a copy it may change freely, and keep the
service's committed state apart from everything else.

The copy is made as the handler reads: `ctx.state` is a `WorkingDict`, and each dict or
list inside it is copied (one level) the first time the handler reaches it. A handler that
touches three orders of ten thousand copies three orders, not ten thousand, so a handler
call costs what it touches. `saved_state` turns what the handler left into plain data again
(checking what it changed); if the handler raises, the copy is simply dropped.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, SupportsIndex

from .errors import InvalidState
from .events import Message
from .text import describe_value

#: Values that need no copying: immutable, and unable to hold anything mutable.
_ATOMIC = (str, int, float, bool, type(None), bytes, Message)
_CONTAINERS = (dict, list, tuple, set, frozenset)


# -- checking and copying plain state --------------------------------------------------------
def check_state(state: object, service: str) -> dict[str, Any]:
    """Return `state` if a service can keep it, else raise `InvalidState` saying where and why.

    Cost: one walk over the whole state.
    """
    if not isinstance(state, dict):
        raise InvalidState(f"service {service!r}: its state must be a dict (e.g. "
                           f"{{'charges': {{}}}}), got {describe_value(state)}")
    _check(state, "state", service, {})
    return state


def _check(value: object, path: str, service: str, seen: dict[int, str]) -> None:
    if isinstance(value, _ATOMIC):
        return
    if type(value) not in _CONTAINERS:
        raise InvalidState(f"service {service!r}: {path} is {describe_value(value)}, which a "
                           "service cannot keep in its state; keep plain data there (dicts, "
                           "lists, tuples, sets, text, numbers, events)")
    _claim(value, path, service, seen)
    if isinstance(value, dict):
        for key, item in value.items():
            _check(key, f"{path} key {key!r}", service, seen)
            _check(item, f"{path}[{key!r}]", service, seen)
    else:
        for index, item in enumerate(value):
            _check(item, f"{path}[{index}]", service, seen)


def _claim(container: object, path: str, service: str, seen: dict[int, str]) -> None:
    """Note where a container is kept; one already kept elsewhere is refused."""
    if id(container) in seen:
        kind = next(k for k in _CONTAINERS if isinstance(container, k)).__name__
        raise InvalidState(f"service {service!r}: {path} is the same "
                           f"{kind} as {seen[id(container)]}; a service's "
                           "state is stored like a database, by value, so it cannot hold one "
                           "object in two places (or inside itself). Store a copy, or store a "
                           "key and look it up.")
    seen[id(container)] = path


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


# -- the handler's working copy, made as it reads ----------------------------------------------
def _working(value: Any, fresh: bool = False) -> Any:
    """What the handler gets when it reads `value`, a value of the committed state."""
    kind = type(value)
    if kind is dict:
        return WorkingDict(value, fresh)
    if kind is list:
        return WorkingList(value, fresh)
    if kind is set or (kind is tuple and not all(isinstance(i, _ATOMIC) for i in value)):
        return copy_state(value)  # small, and changed rarely: copied whole
    return value  # immutable


class WorkingDict(dict):  # type: ignore[type-arg]
    """A dict of the state as one handler call sees it: a copy, made one level at a time.

    It behaves like the dict it copies. Every way of reading a value out of it (``[]``,
    `get`, `values`, `items`, iteration, `pop`, ...) hands out the handler's own copy of
    that value, so the committed state is never reached. It notes which keys changed or
    went, which is all `saved_state` needs to look at. `fresh`: it may hold values the
    handler made itself (it came out of a reshaped list), so all of it is saved.
    """

    __slots__ = ("original", "changed", "deleted", "fresh")

    def __init__(self, original: dict[Any, Any], fresh: bool = False) -> None:
        super().__init__(original)
        self.original = original
        self.changed: dict[Any, None] = {}  # in the order they changed (a set's order varies)
        self.deleted: dict[Any, None] = {}
        self.fresh = fresh

    def __getitem__(self, key: Any) -> Any:
        value = dict.__getitem__(self, key)
        if key in self.changed:
            return value  # the handler's own already: put there by it, or copied for it
        own = _working(value, self.fresh)
        if own is not value:
            dict.__setitem__(self, key, own)
            self.changed[key] = None
        return own

    def get(self, key: Any, default: Any = None) -> Any:
        return self[key] if key in self else default

    def __iter__(self) -> Iterator[Any]:  # also makes dict(d) and {**d} read through []
        return iter(list(dict.keys(self)))

    def values(self) -> list[Any]:  # type: ignore[override]
        return [self[key] for key in list(dict.keys(self))]

    def items(self) -> list[tuple[Any, Any]]:  # type: ignore[override]
        return [(key, self[key]) for key in list(dict.keys(self))]

    def __setitem__(self, key: Any, value: Any) -> None:
        dict.__setitem__(self, key, value)
        self.deleted.pop(key, None)
        self.changed[key] = None

    def __delitem__(self, key: Any) -> None:
        dict.__delitem__(self, key)
        self.changed.pop(key, None)
        self.deleted[key] = None

    def setdefault(self, key: Any, default: Any = None) -> Any:
        if key not in self:
            self[key] = default
        return self[key]

    def update(self, *others: Any, **more: Any) -> None:  # type: ignore[override]
        for key, value in dict(*others, **more).items():
            self[key] = value

    def __ior__(self, other: Any) -> WorkingDict:  # type: ignore[override]
        self.update(other)
        return self

    def pop(self, key: Any, *default: Any) -> Any:
        if key not in self:
            return dict.pop(self, key, *default)
        value = self[key]
        del self[key]
        return value

    def popitem(self) -> tuple[Any, Any]:
        key = next(reversed(list(dict.keys(self))))
        return key, self.pop(key)

    def clear(self) -> None:
        for key in list(dict.keys(self)):
            del self[key]

    def copy(self) -> dict[Any, Any]:
        return dict(self)


class WorkingList(list):  # type: ignore[type-arg]
    """A list of the state as one handler call sees it: a copy whose items are copied when read.

    `changed` holds the positions the handler set or that were copied for it. Once items
    move (insert, remove, sort, ...) positions say nothing any more: the list is `reshaped`,
    every item it hands out is copied, and all of it is saved.
    """

    __slots__ = ("changed", "reshaped")

    def __init__(self, original: list[Any], fresh: bool = False) -> None:
        super().__init__(original)
        self.changed: set[int] = set()
        self.reshaped = fresh

    def __getitem__(self, index: SupportsIndex | slice) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        position = self._position(index)
        value = list.__getitem__(self, position)
        if position in self.changed and not self.reshaped:
            return value
        own = _working(value, self.reshaped)
        if own is not value:
            list.__setitem__(self, position, own)
            self.changed.add(position)
        return own

    def _position(self, index: SupportsIndex) -> int:
        """`index` counted from the front (a list's own IndexError if it is out of range)."""
        if not hasattr(index, "__index__"):
            raise TypeError(f"list indices must be integers or slices, not {type(index).__name__}")
        position = index.__index__()
        position = position + len(self) if position < 0 else position
        if not 0 <= position < len(self):
            raise IndexError("list index out of range")
        return position

    def __iter__(self) -> Iterator[Any]:
        return (self[i] for i in range(len(self)))

    def __reversed__(self) -> Iterator[Any]:
        return (self[i] for i in range(len(self) - 1, -1, -1))

    def __setitem__(self, index: Any, value: Any) -> None:
        if isinstance(index, slice):
            list.__setitem__(self, index, value)
            self.reshaped = True
        else:
            position = self._position(index)
            list.__setitem__(self, position, value)
            self.changed.add(position)

    def append(self, value: Any) -> None:
        list.append(self, value)
        self.changed.add(len(self) - 1)

    def extend(self, values: Any) -> None:
        for value in list(values):
            self.append(value)

    def __iadd__(self, values: Any) -> WorkingList:  # type: ignore[override]
        self.extend(values)
        return self

    def pop(self, index: SupportsIndex = -1) -> Any:
        if not self:
            raise IndexError("pop from empty list")
        position = self._position(index)
        value = self[position]
        if position != len(self) - 1:
            self.reshaped = True
        list.pop(self, position)
        self.changed.discard(position)
        return value

    def _reshape(name: str):  # type: ignore[misc]  # noqa: N805 - builds the methods below
        method = getattr(list, name)

        def reshaping(self: WorkingList, *args: Any, **kwargs: Any) -> Any:
            self.reshaped = True
            return method(self, *args, **kwargs)
        reshaping.__name__ = name
        return reshaping

    insert = _reshape("insert")
    remove = _reshape("remove")
    sort = _reshape("sort")
    reverse = _reshape("reverse")
    clear = _reshape("clear")
    __delitem__ = _reshape("__delitem__")
    __imul__ = _reshape("__imul__")
    del _reshape


def saved_state(working: dict[str, Any], service: str) -> dict[str, Any]:
    """The plain state a handler's working copy stands for, with what it changed checked.

    Untouched parts are the committed state's own (they were never handed out); changed
    parts are copied back into plain dicts and lists; values the handler put in are checked
    and copied, so nothing the handler still holds can reach the committed state.
    Cost: what the handler touched. Raises `InvalidState` naming the service and the place.
    """
    return _saved(working, "state", service, {})


def _saved(value: Any, path: str, service: str, seen: dict[int, str]) -> Any:
    """`value` as plain data: a working copy by what changed, anything else checked and copied."""
    if isinstance(value, _ATOMIC):
        return value
    if type(value) not in (*_CONTAINERS, WorkingDict, WorkingList):
        _check(value, path, service, seen)  # raises: not something a state can keep
    _claim(value, path, service, seen)
    if type(value) is WorkingDict and not value.fresh:
        plain = value.original.copy()  # the committed dict, then what changed in it
        for key in value.deleted:
            plain.pop(key, None)
        for key in value.changed:
            plain[key] = _saved(dict.__getitem__(value, key), f"{path}[{key!r}]", service, seen)
        return plain
    if type(value) is WorkingList and not value.reshaped:
        plain = list.copy(value)
        for index in sorted(value.changed):
            plain[index] = _saved(plain[index], f"{path}[{index}]", service, seen)
        return plain
    if isinstance(value, dict):  # a dict the handler made, or all of a fresh copy
        for key in dict.keys(value):
            _check(key, f"{path} key {key!r}", service, seen)
        return {key: _saved(item, f"{path}[{key!r}]", service, seen)
                for key, item in dict.items(value)}
    items = [_saved(item, f"{path}[{index}]", service, seen)
             for index, item in enumerate(list.__iter__(value) if isinstance(value, list)
                                          else value)]
    return items if isinstance(value, list) else type(value)(items)
