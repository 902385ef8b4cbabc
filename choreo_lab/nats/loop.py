"""An asyncio event loop in a background thread, so synchronous code can drive nats-py.

nats-py is async-only, and its objects belong to the loop they were made on. The runtime
keeps one loop in a daemon thread and hands it coroutines: a plain call from a test, a
script or a notebook cell (which has a running loop of its own, where `asyncio.run` fails)
waits for the answer.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class LoopThread:
    """One event loop running forever in a daemon thread; `run(coro)` waits for its result."""

    def __init__(self, name: str = "choreo-nats") -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name=name, daemon=True)
        self.thread.start()

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run `coroutine` on the loop and wait (at most `timeout` s) for what it returns."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def stop(self) -> None:
        """Stop the loop and its thread: cancel what still runs on it (a client's reader,
        pinger and flusher), so nothing is destroyed pending ("Task was destroyed...")."""
        if self.loop.is_running():
            try:
                self.run(_cancel_the_rest(), timeout=5)
            except Exception:  # noqa: BLE001 - stopping is what matters
                pass
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(timeout=5)
        if not self.loop.is_running() and not self.loop.is_closed():
            self.loop.close()


async def _cancel_the_rest() -> None:
    """Cancel every other task on this loop and wait until they have ended."""
    others = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
    for task in others:
        task.cancel()
    await asyncio.gather(*others, return_exceptions=True)
