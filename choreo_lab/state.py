"""A service's state: its private database, kept as plain data.

State is a dict of plain values - dicts, lists, tuples, sets, text, numbers, events - with
no object appearing twice (a database stores values, not shared references). That is what
lets the runtime give every handler call a copy it may change freely, and keep the
service's committed state apart from everything else.

The copy is made as the handler reads: `ctx.state` is a `WorkingDict`, and each value
inside it is copied the first time the handler reaches it - a dict as another `WorkingDict`,
a list as a plain list of copies of its items. A handler that touches three orders of ten
thousand copies three orders, not ten thousand, so a handler call costs what it touches.
`state_changes` turns what the handler left into checked plain data, and `commit_changes`
writes it into the committed state; if the handler raises, the copy is simply dropped.
"""

from __future__ import annotations

from collections.abc import ItemsView, Iterator, KeysView, ValuesView
from typing import Any, NamedTuple

from .errors import InvalidState
from .events import Message
from .text import describe_value

#: Values that need no copying: immutable, and unable to hold anything mutable - these
#: types exactly (a subclass of str can carry attributes), and events.
_PLAIN_ATOMIC = frozenset((str, int, float, bool, type(None), bytes))
_CONTAINERS = (dict, list, tuple, set, frozenset)
_IMMUTABLE_CONTAINERS = (tuple, frozenset)  # may be shared: `("pending", 0)` is one object


def _atomic(value: object) -> bool:
    return type(value) in _PLAIN_ATOMIC or isinstance(value, Message)


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
    if _atomic(value):
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
    """Note where a mutable container is kept; one already kept elsewhere is refused."""
    if type(container) in _IMMUTABLE_CONTAINERS:
        return  # what it holds is claimed on its own
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
def _working(value: Any) -> Any:
    """What the handler gets when it reads `value`, a value of the committed state."""
    kind = type(value)
    if kind is dict:
        return WorkingDict(value)
    if kind is list:
        return _working_list(value)
    if kind is set or (kind is tuple and not all(_atomic(i) for i in value)):
        return copy_state(value)  # small, and changed rarely: copied whole
    return value  # immutable


def _working_list(committed: list[Any]) -> list[Any]:
    """A plain list holding, for each committed item, what reading the item gives.

    Made whole when the handler first reaches the list, so that whatever reaches its items -
    the handler, or Python's own functions that work on a list's storage directly, such as
    heapq - finds the handler's copies, never a committed item. Cost: the list's length.
    """
    if _all_plain_atomic(committed):
        return list(committed)  # text and numbers: nothing to copy
    return [_working(item) for item in committed]


def _all_plain_atomic(items: list[Any]) -> bool:
    """Only text, numbers, bools, bytes and None (a check at C speed, for long lists)."""
    return set(map(type, items)) <= _PLAIN_ATOMIC


#: A key a working dict keeps in itself while it stands for a non-empty dict: C code that
#: finds a dict subclass empty inside (json's encoder) writes {} without asking for its items.
_NOT_EMPTY = object()


class WorkingDict(dict):  # type: ignore[type-arg]
    """A dict of the state as one handler call sees it: a copy, made as the handler reads.

    It behaves like the dict it stands for, but holds (in itself) only what the handler
    reached: its own copies of the values it read, and the values it put in. Every other
    key is read from the committed dict, `original`, when asked for - and copied then - so
    the committed state is never handed out. `deleted` holds the committed keys the handler
    removed (a key put back since comes last, as in a dict). A handler that reads three
    orders of ten thousand holds three.
    """

    __slots__ = ("original", "deleted")

    def __init__(self, original: dict[Any, Any]) -> None:
        super().__init__()
        self.original = original
        self.deleted: dict[Any, None] = {}  # committed keys the handler removed
        if original:
            dict.__setitem__(self, _NOT_EMPTY, None)

    # -- reading: each value read is the handler's own copy -------------------------------
    def __getitem__(self, key: Any) -> Any:
        if dict.__contains__(self, key):
            return dict.__getitem__(self, key)  # the handler's own: put there by it, or copied
        if key in self.deleted or key not in self.original:
            raise KeyError(key)
        value = self.original[key]
        own = _working(value)
        if own is not value:  # a container: keep the copy, so the next read sees its changes
            dict.__setitem__(self, key, own)
        return own

    def __contains__(self, key: object) -> bool:
        return dict.__contains__(self, key) or (key in self.original and key not in self.deleted)

    def __len__(self) -> int:
        return len(self.original) - len(self.deleted) + len(self._added())

    def _keys(self) -> list[Any]:
        """Its keys: the committed ones still there, in order, then the ones the handler added."""
        return [key for key in self.original if key not in self.deleted] + self._added()

    def _added(self) -> list[Any]:
        """The keys the handler put in that the committed dict lacks (or that it removed first)."""
        return [key for key in self.changed if key not in self.original or key in self.deleted]

    def get(self, key: Any, default: Any = None) -> Any:
        return self[key] if key in self else default

    def __iter__(self) -> Iterator[Any]:  # also makes dict(d) and {**d} read through []
        return iter(self._keys())

    def __reversed__(self) -> Iterator[Any]:
        return reversed(self._keys())

    def keys(self) -> KeysView[Any]:  # type: ignore[override]
        return KeysView(self)

    def values(self) -> ValuesView[Any]:  # type: ignore[override]
        return ValuesView(self)

    def items(self) -> ItemsView[Any, Any]:  # type: ignore[override]
        return ItemsView(self)

    def copy(self) -> dict[Any, Any]:
        return dict(self.items())

    def __or__(self, other: Any) -> Any:
        return {**self, **other} if isinstance(other, dict) else NotImplemented

    def __ror__(self, other: Any) -> Any:
        return {**other, **self} if isinstance(other, dict) else NotImplemented

    # -- looking without copying (for readers that change nothing) -------------------------
    @property
    def changed(self) -> list[Any]:
        """The keys the handler reached (read as a container, or put in), in that order."""
        return [key for key in dict.keys(self) if key is not _NOT_EMPTY]

    def peek_items(self) -> list[tuple[Any, Any]]:
        """Its (key, value) pairs as they stand, copying nothing: only for reading."""
        own = dict.__contains__
        return [(key, dict.__getitem__(self, key) if own(self, key) else self.original[key])
                for key in self._keys()]

    def __repr__(self) -> str:
        return repr(dict(self.peek_items()))

    def __eq__(self, other: object) -> bool:  # `other` sees the handler's copies, as a dict's would
        return dict(self.items()) == other

    def __ne__(self, other: object) -> bool:
        return not self == other

    __hash__ = None  # type: ignore[assignment]  # a dict: not hashable

    def __getattr__(self, name: str) -> Any:  # only for what a dict lacks: a dict's error
        raise AttributeError(f"'dict' object has no attribute {name!r}", name=name, obj=self)

    def __reduce_ex__(self, protocol: Any) -> tuple[Any, ...]:
        return dict, (self.copy(),)  # copied or pickled, it is a plain dict of its items

    # -- changing -----------------------------------------------------------------------
    def __setitem__(self, key: Any, value: Any) -> None:
        dict.__setitem__(self, key, value)

    def __delitem__(self, key: Any) -> None:
        if key not in self:
            raise KeyError(key)
        if dict.__contains__(self, key):
            dict.__delitem__(self, key)
        if key in self.original:
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
            if default:
                return default[0]
            raise KeyError(key)
        value = self[key]
        del self[key]
        return value

    def popitem(self) -> tuple[Any, Any]:
        keys = self._keys()
        if not keys:
            raise KeyError("popitem(): dictionary is empty")
        return keys[-1], self.pop(keys[-1])

    def clear(self) -> None:
        for key in self._keys():
            del self[key]


class StateChanges(NamedTuple):
    """What one handler call changed in one dict of the committed state, checked and copied.

    `put`: keys and their new plain values; `removed`: keys that went; `inside`: for the
    dicts it changed in place, their own changes. `commit_changes` applies them.
    """

    put: dict[Any, Any]
    removed: list[Any]
    inside: dict[Any, StateChanges]


def state_changes(working: WorkingDict, service: str) -> StateChanges:
    """What a handler's working copy changed, ready to commit (the committed state untouched).

    Values the handler put in are checked and copied, so nothing the handler still holds
    can reach the committed state. Cost: what the handler touched. Raises `InvalidState`
    naming the service and the place.
    """
    seen: dict[int, str] = {}
    _claim(working, "state", service, seen)
    return _changes(working, "state", service, seen)


def commit_changes(committed: dict[str, Any], changes: StateChanges) -> None:
    """Apply `changes` to the committed state, in place. Cost: what changed."""
    for key in changes.removed:
        del committed[key]
    committed.update(changes.put)
    for key, inside in changes.inside.items():
        commit_changes(committed[key], inside)


def saved_state(working: WorkingDict, service: str) -> dict[str, Any]:
    """The whole plain state a handler's working copy stands for (the committed one untouched).

    Untouched parts are the committed state's own (they were never handed out); a dict
    with changes is a new dict. Raises `InvalidState` as `state_changes` does.
    """
    return _applied(working.original, state_changes(working, service))


def _applied(original: dict[Any, Any], changes: StateChanges) -> dict[Any, Any]:
    plain = original.copy()
    for key in changes.removed:
        del plain[key]
    plain.update(changes.put)
    for key, inside in changes.inside.items():
        plain[key] = _applied(original[key], inside)
    return plain


def _changes(working: WorkingDict, path: str, service: str, seen: dict[int, str]) -> StateChanges:
    """The changes of one working dict that stands for the committed dict `working.original`."""
    put: dict[Any, Any] = {}
    inside: dict[Any, StateChanges] = {}
    for key in working.changed:  # what the handler reached, in the order it did
        value = dict.__getitem__(working, key)
        where = f"{path}[{key!r}]"
        if key not in working.original:
            _check(key, f"{path} key {key!r}", service, seen)
        in_place = (key in working.original and key not in working.deleted
                    and type(value) is WorkingDict and value.original is working.original[key])
        if in_place:
            _claim(value, where, service, seen)  # the same dict, changed in place
            inside[key] = _changes(value, where, service, seen)
        else:
            put[key] = _saved(value, where, service, seen)
    return StateChanges(put, list(working.deleted), inside)


def _saved(value: Any, path: str, service: str, seen: dict[int, str]) -> Any:
    """`value` as new plain data: a working copy by what changed, anything else checked and copied."""
    if _atomic(value):
        return value
    if type(value) not in (*_CONTAINERS, WorkingDict):
        _check(value, path, service, seen)  # raises: not something a state can keep
    _claim(value, path, service, seen)
    if type(value) is WorkingDict:  # a working copy, perhaps moved here from another place
        return _applied(value.original, _changes(value, path, service, seen))
    if type(value) is dict:  # a dict the handler made
        for key in value:
            _check(key, f"{path} key {key!r}", service, seen)
        return {key: _saved(item, f"{path}[{key!r}]", service, seen)
                for key, item in value.items()}
    if type(value) is list and _all_plain_atomic(value):
        return list(value)  # text and numbers, however they got there
    items = [item if _atomic(item) else _saved(item, f"{path}[{index}]", service, seen)
             for index, item in enumerate(value)]
    return items if type(value) is list else type(value)(items)
