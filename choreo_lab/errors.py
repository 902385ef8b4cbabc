"""The errors choreo_lab raises. Each message says what is wrong and how to fix it."""

from __future__ import annotations

from .text import did_you_mean


class ChoreoError(Exception):
    """Base class of every error raised by choreo_lab."""


class InvalidEvent(ChoreoError, ValueError):
    """Something that is not a valid event was built or published."""


class UnknownService(ChoreoError, KeyError):
    """A service name was used that the simulation does not know."""

    def __init__(self, name: str, known: list[str]) -> None:
        super().__init__(f"no service named {name!r}; known services: "
                         f"{', '.join(sorted(known)) or '(none)'}.{did_you_mean(name, known)}")

    def __str__(self) -> str:  # KeyError would otherwise quote the whole message
        return str(self.args[0])


class HandlerError(ChoreoError, TypeError):
    """A handler cannot be registered as given, or was used in a way handlers may not be."""


class HandlerReturnError(HandlerError):
    """A handler returned something other than events."""


class InvalidState(ChoreoError, TypeError):
    """A service's state holds something that cannot be kept as its private database."""


class RunawayError(ChoreoError, RuntimeError):
    """A run did not settle: events keep causing events (a cycle) or the step budget ran out."""


class FaultPlanError(ChoreoError, ValueError):
    """A fault plan asks for something the simulation cannot do."""
