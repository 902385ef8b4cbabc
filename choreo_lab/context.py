"""What a handler sees while it runs (its message's metadata, its service's state, its timers),
and what a relay sees."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import HandlerError
from .events import Message, check_event
from .state import WorkingDict, copy_state

if TYPE_CHECKING:
    from .envelope import Envelope


@dataclass(frozen=True)
class TimerRequest:
    """A handler asked for `event` to be published `after` ms from now, under `name`."""

    name: str
    event: Message
    after: int


class Context:
    """The handler's view of one delivery, valid only while the handler runs.

    - `state`: the handler's working copy of the service's state, copied as it is read (cost:
      what the handler touches). The runtime commits it, with the events the handler
      returns and the timers it set, only if the handler returns normally.
    - `schedule(event, after=ms)` / `cancel(name)`: timers, kept by the broker, not the service.
    """

    __slots__ = ("service", "envelope", "attempt", "now", "_committed", "_working",
                 "timers_set", "timers_cancelled", "_open")

    def __init__(self, service: str, envelope: Envelope, attempt: int, now: int,
                 committed: dict[str, Any]) -> None:
        self.service = service
        self.envelope = envelope
        self.attempt = attempt
        self.now = now
        self._committed = committed
        self._working: WorkingDict | None = None
        self.timers_set: list[TimerRequest] = []   # what the handler asked for, committed with it
        self.timers_cancelled: list[str] = []
        self._open = True

    @property
    def state(self) -> dict[str, Any]:
        self._require_open("ctx.state")
        if self._working is None:
            self._working = self.working_copy(self._committed)
        return self._working

    @state.setter
    def state(self, value: object) -> None:
        raise HandlerError(f"{self.service}: ctx.state cannot be replaced; change what is in it "
                           "instead, e.g. ctx.state['charges'][order_id] = amount, or "
                           "ctx.state.clear() then ctx.state.update(...)")

    @property
    def message_id(self) -> str:
        return self.envelope.message_id

    @property
    def correlation_id(self) -> str:
        return self.envelope.correlation_id

    @property
    def key(self) -> str:
        return self.envelope.key

    def schedule(self, event: Message, *, after: int, name: str | None = None) -> str:
        """Publish `event` `after` virtual ms from now (same workflow and key); returns the timer's name.

        The timer is kept by the broker, so it fires even if this service is down then.
        Setting a timer whose name is pending replaces it, so a redelivered message sets the
        same timer once. Name it (e.g. f"tip/{user_id}") to cancel it later.
        """
        self._require_open("ctx.schedule()")
        check_event(event, f"{self.service}: ctx.schedule()")
        if type(after) is not int or after < 0:
            raise HandlerError(f"{self.service}: ctx.schedule(after=...) takes whole virtual ms "
                               f">= 0, got {after!r}")
        name = name if name is not None else f"{self.message_id}/{len(self.timers_set) + 1}"
        self.timers_set.append(TimerRequest(name, event, after))
        return name

    def cancel(self, name: str) -> None:
        """Cancel this service's pending timer `name` (nothing happens if it is not pending)."""
        self._require_open("ctx.cancel()")
        self.timers_cancelled.append(name)

    def working_copy(self, committed: dict[str, Any]) -> dict[str, Any]:
        """What `ctx.state` hands the handler: a copy of the committed state, made as it is read.

        A backend that keeps its state in a database transaction (the NATS worker) overrides
        this to hand out the live state instead, and rolls the transaction back on failure.
        """
        return WorkingDict(committed)

    def working_state(self) -> dict[str, Any] | None:
        """The state as the handler left it, or None if it never touched it (the runtime's commit)."""
        return self._working

    def close(self) -> None:
        """The handler call is over: nothing can reach the service's state through this context."""
        self._open = False
        self._working = self._committed = None  # type: ignore[assignment]

    def _require_open(self, what: str) -> None:
        if not self._open:
            raise HandlerError(f"{self.service}: {what} used after the handler call ended; a "
                               "context is valid only while its handler runs (do not keep it)")


class RelayCrashed(BaseException):
    """Raised inside a relay when a planned `RelayCrash` hits it (internal).

    A BaseException, so an `except Exception` in the relay cannot catch the crash; a relay
    that catches it anyway is treated as crashed all the same, and what it does after the
    crash is not kept (the process it stands for has died).
    """


class RelayContext:
    """What a relay sees while it runs: its service's committed state, live, and `publish`.

    A relay is a small process of its own beside the service's handlers. Each change it
    makes to `state` is kept at once, like single statements against the service's database,
    and `publish` sends at once; so if the relay crashes half-way, what it already wrote and
    what it already sent stay - and nothing after: a crash is its process dying, so what a
    relay that catches the crash does next is not kept. Write it so that a crash at any
    point loses nothing: publish a row first, then mark it sent.
    """

    __slots__ = ("service", "now", "state", "crashed", "state_at_crash", "_send", "_open")

    def __init__(self, service: str, now: int, state: dict[str, Any],
                 send: Callable[[Message, str | None, str | None], None]) -> None:
        self.service = service
        self.now = now
        self.state = state
        self.crashed = False
        #: the state when a planned crash hit: a crash is the relay's process dying, so what
        #: the relay does after it (a relay that catches the crash) is not kept
        self.state_at_crash: dict[str, Any] | None = None
        self._send = send
        self._open = True

    def publish(self, event: Message, *, message_id: str | None = None,
                cause: str | None = None) -> None:
        """Send `event` now, as this service.

        `message_id`: the id it travels under (e.g. its outbox row's id); the broker keeps a
        message id once, so sending a row again after a crash does not send it twice. Without
        one it gets a new id, every time. `cause`: the id of the message whose handler wrote
        the row (`ctx.message_id` there): the event joins that message's workflow and key.
        """
        if not self._open:
            raise HandlerError(f"{self.service}: ctx.publish() used after the relay call ended; "
                               "a relay's context is valid only while it runs")
        if self.crashed:
            raise RelayCrashed(f"{self.service}'s relay has crashed")
        event = check_event(event, f"{self.service}: relay ctx.publish()")
        for name, value in (("message_id", message_id), ("cause", cause)):
            if value is not None and (not isinstance(value, str) or not value):
                raise HandlerError(f"{self.service}: relay ctx.publish({name}=...) takes a "
                                   f"non-empty text, e.g. 'payment/o-1'; got {value!r}")
        try:
            self._send(event, message_id, cause)
        except RelayCrashed:
            if not self.crashed:  # kept even if the relay catches the crash
                self.crashed, self.state_at_crash = True, copy_state(self.state)
            raise

    def close(self) -> None:
        self._open = False
