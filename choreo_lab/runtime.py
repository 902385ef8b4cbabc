"""The runtime interface the course uses, and what a runtime promises.

The in-memory `Simulation` is one runtime; a real broker (NATS JetStream, services as OS
processes) is another. Code that only needs this interface - the contract suite, a
workflow's invariants over the services' states - runs on either.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

if TYPE_CHECKING:
    from .broker import DeadLetter
    from .envelope import Envelope
    from .events import Event
    from .service import Service

Start = Literal["beginning", "now"]


@dataclass(frozen=True)
class Features:
    """What a runtime promises. The contract tests check each promise that is True."""

    consumer_groups: bool          # every group gets every message of the event types it handles
    competing_consumers: bool      # instances inside a group share its messages
    at_least_once: bool            # unacked messages come again until acked or dead-lettered
    per_key_order: bool            # within a group, one key's messages are handled in publish order
    redelivery_backoff: bool       # after a failure, each retry waits at least as long as the last
    dead_letters: bool             # after max attempts, a message is parked with its reason
    redrive: bool                  # parked messages can be sent again
    replay: bool                   # a new group can start from the beginning of the log
    timers: bool                   # a handler can schedule an event for later; it can be cancelled
    relays: bool                   # a service's relay publishes from its state; a message id is kept once
    crash_points: bool             # handler crashes can be injected at chosen points
    injected_faults: bool          # fault plans (drop, duplicate, delay, reorder, ...) are honoured
    virtual_time: bool             # time is simulated: run_for(ms) and ctx.now are exact
    trace: bool                    # every step is recorded in sim.trace, in the documented kinds
    deterministic: bool            # same seed, same trace, byte for byte

    def promised(self) -> list[str]:
        """The names of the promises that hold, in declaration order."""
        return [f.name for f in fields(self) if getattr(self, f.name)]


@runtime_checkable
class Runtime(Protocol):
    """What the course needs from a runtime: publish, run until quiet, break things, look inside."""

    features: Features

    def add_service(self, service: Service, *, start: Start = "beginning") -> None:
        """Add a consumer group; `start="beginning"` replays the retained log, "now" does not."""

    def publish(self, event: Event, *, key: str | None = None,
                correlation_id: str | None = None, producer: str = "outside") -> Envelope:
        """Publish an event from outside the services."""

    def run_until_idle(self) -> None:
        """Deliver until nothing is left to deliver (a service that is down keeps its backlog)."""

    def kill(self, name: str) -> None:
        """Stop a service; what it was processing comes again after it restarts."""

    def restart(self, name: str) -> None:
        """Bring a killed service back with the state it had committed."""

    def state(self, name: str) -> dict[str, Any]:
        """The committed state of one service."""

    def status(self, name: str) -> str:
        """How one service is running: up, down (or paused, where a runtime can pause)."""

    def stats(self) -> dict[str, dict[str, Any]]:
        """Per service: status, instances, backlog, in_flight, handled, retried, dead_lettered."""

    @property
    def services(self) -> list[str]:
        """The names of the services, in the order they were added."""

    @property
    def dead_letters(self) -> Sequence[DeadLetter]:
        """Messages a group gave up on, with the reason."""

    def redrive(self, dead_letter: DeadLetter | None = None) -> int:
        """Send one dead letter (or all) to its group again; returns how many."""

