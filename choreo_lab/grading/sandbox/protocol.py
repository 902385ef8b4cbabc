"""Frames and values on the pipe between the grader and the sandbox.

A frame is a 4-byte big-endian length and that many bytes of UTF-8 JSON holding one object.
Values (states, event fields, arguments) travel tagged, so that tuples, sets and dicts with
non-string keys come back as what they were: ``{"list": [...]}``, ``{"dict": [[k, v], ...]}``.
Anything else - a frame too large, JSON that is not an object, a tag that does not exist - is
a `ProtocolError`: the grader never trusts the other side's shape.
"""

from __future__ import annotations

import json
import os
import select
import struct
import time
from typing import Any

from ...state import WorkingDict

#: The largest frame either side accepts (a state or an event bigger than this is refused).
MAX_FRAME = 4_000_000
#: How many containers and scalars one encoded value may hold, and how deep it may nest.
MAX_NODES = 200_000
MAX_DEPTH = 60
#: The most messages one run of a relay may publish. The sandbox stops a relay there, and
#: the grader, which learner code cannot reach, refuses every publish beyond it as well.
MAX_RELAY_PUBLISHES = 1000

_HEADER = struct.Struct(">I")
_SCALARS = (str, int, float, bool, type(None))
_SEQUENCES = {"list": list, "tuple": tuple, "set": set, "frozenset": frozenset}


class ProtocolError(Exception):
    """The other side sent something that is not a well-formed frame or value."""


class ProtocolTimeout(Exception):
    """No complete frame arrived before the deadline."""


class ProtocolClosed(ProtocolError):
    """The other side closed the pipe (it exited, or was killed)."""


class UnsupportedValue(ValueError):
    """A value holds something that cannot cross the pipe (an object, a function, ...)."""


class WriteTimeout(ProtocolError):
    """The other side did not read what was sent to it in time (it stopped reading)."""


# -- frames ------------------------------------------------------------------------------------
def write_frame(fd: int, message: dict[str, Any], timeout: float | None = None) -> None:
    """Send one message; raises `UnsupportedValue` if it is larger than `MAX_FRAME`.

    With a `timeout` (for a pipe set non-blocking), `WriteTimeout` if the other side has not
    taken it all within `timeout` seconds: a side that stops reading cannot hold the writer.
    """
    data = json.dumps(message, separators=(",", ":")).encode("utf-8")
    if len(data) > MAX_FRAME:
        raise UnsupportedValue(f"a message of {len(data):,} bytes is larger than the "
                               f"{MAX_FRAME:,} bytes the grader accepts")
    view = memoryview(_HEADER.pack(len(data)) + data)
    deadline = None if timeout is None else time.monotonic() + timeout
    while view:
        if deadline is not None:
            _, ready, _ = select.select([], [fd], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                raise WriteTimeout("it stopped reading what the grader sent it")
        try:
            written = os.write(fd, view)
        except BlockingIOError:  # the pipe filled up between select and write
            continue
        view = view[written:]


class FrameReader:
    """Reads frames from a pipe, each within a deadline, never holding more than `MAX_FRAME`."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.buffer = bytearray()

    def read(self, timeout: float | None = None) -> dict[str, Any]:
        """The next message; `ProtocolTimeout` if none is complete within `timeout` seconds."""
        deadline = None if timeout is None else time.monotonic() + timeout
        size = self._fill(_HEADER.size, deadline)
        (length,) = _HEADER.unpack(bytes(self.buffer[:size]))
        if length > MAX_FRAME:
            raise ProtocolError(f"a frame of {length:,} bytes (more than {MAX_FRAME:,})")
        self._fill(_HEADER.size + length, deadline)
        data = bytes(self.buffer[_HEADER.size:_HEADER.size + length])
        del self.buffer[:_HEADER.size + length]
        try:
            message = json.loads(data)
        except ValueError as error:  # not UTF-8, not JSON, a number too long to parse
            raise ProtocolError(f"a frame that is not JSON ({error})"[:200]) from None
        except RecursionError:  # nested deeper than the parser goes ("[[[[..." forged)
            raise ProtocolError("a frame nested too deep to read") from None
        if not isinstance(message, dict):
            raise ProtocolError(f"a frame holding {type(message).__name__}, not an object")
        return message

    def _fill(self, size: int, deadline: float | None) -> int:
        while len(self.buffer) < size:
            wait = None if deadline is None else max(0.0, deadline - time.monotonic())
            ready, _, _ = select.select([self.fd], [], [], wait)
            if not ready:
                raise ProtocolTimeout()
            chunk = os.read(self.fd, min(1 << 20, size - len(self.buffer)))
            if not chunk:
                raise ProtocolClosed("the other side closed the pipe")
            self.buffer += chunk
        return size


# -- values ------------------------------------------------------------------------------------
def encode_value(value: Any) -> Any:
    """`value` (plain data: dicts, lists, tuples, sets, scalars) as JSON-ready tagged data."""
    return _Encoder().encode(value, 0)


class _Encoder:
    def __init__(self) -> None:
        self.nodes = 0

    def encode(self, value: Any, depth: int) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES or depth > MAX_DEPTH:
            raise UnsupportedValue(f"it is too big (more than {MAX_NODES:,} values, or nested "
                                   f"more than {MAX_DEPTH} deep)")
        kind = type(value)
        if kind in _SCALARS:
            return value
        if kind is dict or kind is WorkingDict:  # a handler's working copy, read as it stands
            entries = value.peek_items() if kind is WorkingDict else dict.items(value)
            return {"dict": [[self.encode(k, depth + 1), self.encode(v, depth + 1)]
                             for k, v in entries]}
        for tag, sequence in _SEQUENCES.items():
            if kind is sequence:
                return {tag: [self.encode(item, depth + 1) for item in value]}
        raise UnsupportedValue(f"it holds a {kind.__name__}; keep plain dicts, lists, tuples, "
                               "sets, strings, numbers, booleans and None in a service's state")


def decode_value(data: Any) -> Any:
    """The value `encode_value` encoded; `ProtocolError` for anything not made by it."""
    return _Decoder().decode(data, 0)


class _Decoder:
    def __init__(self) -> None:
        self.nodes = 0

    def decode(self, data: Any, depth: int) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES or depth > MAX_DEPTH:
            raise ProtocolError("a value too big or too deeply nested")
        if type(data) in _SCALARS:
            return data
        if type(data) is not dict or len(data) != 1:
            raise ProtocolError(f"a value of unknown shape: {str(data)[:80]}")
        (tag, items), = data.items()
        if type(items) is not list:
            raise ProtocolError(f"a {tag!r} value that is not a list")
        try:
            if tag == "dict":
                return {self._key(pair, depth): self.decode(pair[1], depth + 1) for pair in items}
            if tag in _SEQUENCES:
                return _SEQUENCES[tag](self.decode(item, depth + 1) for item in items)
        except TypeError as error:  # an unhashable set member
            raise ProtocolError(f"a value that cannot be rebuilt: {error}") from None
        raise ProtocolError(f"a value tagged {tag!r}")

    def _key(self, pair: Any, depth: int) -> Any:
        if type(pair) is not list or len(pair) != 2:
            raise ProtocolError("a dict entry that is not a [key, value] pair")
        return self.decode(pair[0], depth + 1)


def encode_event(event: Any) -> dict[str, Any]:
    """An event as its type name and its fields."""
    return {"type": type(event).event_type, "fields": encode_value(dict(event))}
