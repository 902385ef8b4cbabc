"""The handler's context inside a worker process: the core's `Context`, on the live state.

The simulation gives every handler call a copy of the state (one copy per call). A worker
handles a batch of messages in one transaction and cannot afford a copy per message of a
state that holds thousands of orders, so its handlers work on the live state; when one of
them fails, the worker rolls the transaction back and reads the state again from SQLite.
"""

from __future__ import annotations

from typing import Any

from ..context import Context


class LiveContext(Context):
    """A `Context` whose `state` is the worker's live state itself (no copy)."""

    __slots__ = ()

    def working_copy(self, committed: dict[str, Any]) -> dict[str, Any]:
        return committed
