"""Running a learner's code without letting it hang or flood the notebook.

`time_limit` stops code that runs too long (an infinite loop in a handler) with
`LearnerTimeout`, a `BaseException` so that neither the runtime's retry logic nor a
learner's ``except Exception`` swallows it. It uses `signal.setitimer`, which works only in
the main thread (where a Jupyter kernel runs cells); elsewhere it does not limit time, and
the command-line grader's cell timeout is the safety net.

`captured_output` keeps what the learner's code prints (up to a cap) instead of writing it
into the check's feedback, and remembers how much more there was.
"""

from __future__ import annotations

import contextlib
import io
import signal
import threading
from collections.abc import Iterator


class LearnerTimeout(BaseException):
    """The learner's code ran past its time budget."""


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise `LearnerTimeout` inside the block once `seconds` of wall-clock time have passed."""
    if seconds <= 0 or threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: object) -> None:
        raise LearnerTimeout(f"did not finish within {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


class CappedText(io.TextIOBase):
    """A text sink that keeps the first `cap` characters and counts the rest."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.kept: list[str] = []
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        room = self.cap - self.size
        if room > 0:
            self.kept.append(text[:room])
        self.size += len(text)
        return len(text)

    @property
    def text(self) -> str:
        return "".join(self.kept)

    @property
    def overflowed(self) -> bool:
        return self.size > self.cap


@contextlib.contextmanager
def captured_output(cap: int = 1_000_000) -> Iterator[CappedText]:
    """Send stdout and stderr inside the block to one `CappedText` (nothing reaches the cell)."""
    sink = CappedText(cap)
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):  # type: ignore[type-var]
        yield sink
