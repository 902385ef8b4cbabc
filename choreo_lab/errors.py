"""The errors choreo_lab raises. Each message says what is wrong and how to fix it."""

from __future__ import annotations

import difflib


class ChoreoError(Exception):
    """Base class of every error raised by choreo_lab."""


class InvalidEvent(ChoreoError, ValueError):
    """Something that is not a valid event was built or published."""


class UnknownService(ChoreoError, KeyError):
    """A service name was used that the simulation does not know."""

    def __init__(self, name: str, known: list[str]) -> None:
        by_lower = {k.lower(): k for k in known}
        close = difflib.get_close_matches(name.lower(), list(by_lower), n=1)
        hint = f" Did you mean {by_lower[close[0]]!r}?" if close else ""
        super().__init__(
            f"no service named {name!r}; known services: {', '.join(sorted(known)) or '(none)'}.{hint}"
        )

    def __str__(self) -> str:  # KeyError would otherwise quote the whole message
        return str(self.args[0])


class HandlerReturnError(ChoreoError, TypeError):
    """A handler returned something other than events."""


class RunawayError(ChoreoError, RuntimeError):
    """A run did not settle: events keep causing events (a cycle) or the step budget ran out."""


class FaultPlanError(ChoreoError, ValueError):
    """A fault plan asks for something the simulation cannot do."""
