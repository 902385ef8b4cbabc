"""choreo_lab: services that cooperate only by publishing and reacting to domain events.

A small, deterministic, in-memory runtime for learning choreography: events, a broker with
honest at-least-once delivery, services with state of their own, faults, timers, and a
trace. The views (diagrams, tables) and the analysis (the oracle, the chaos explorer) load
only when first used, so `import choreo_lab` stays light.
"""

from .broker import DeadLetter
from .context import Context, RelayContext
from .envelope import Envelope
from .errors import (
    ChoreoError,
    FaultPlanError,
    HandlerError,
    HandlerReturnError,
    InvalidEvent,
    InvalidState,
    RunawayError,
    UnknownService,
)
from .events import Command, Event
from .faults import (
    Crash,
    Delay,
    Drop,
    Duplicate,
    FaultPlan,
    Kill,
    Pause,
    RelayCrash,
    Reorder,
    Restart,
    Resume,
)
from .middleware import inbox
from .runtime import Features, Runtime
from .service import Service
from .simulation import Simulation
from .trace import Trace, TraceRecord

__version__ = "0.2.0"

#: name -> the module it lives in; imported on first use (these pull in mermaid or rich).
_LAZY = {
    "Oracle": "consistency", "Violation": "consistency", "explore": "chaos",
    "FaultSpace": "chaos", "sequence_diagram": "diagrams", "topology": "diagrams",
    "event_log": "render", "state_tables": "render", "workflow_status": "story",
    "coverage_grid": "chaos_views", "coverage_table": "chaos_views",
}

__all__ = [
    "ChoreoError", "Command", "Context", "Crash", "DeadLetter", "Delay", "Drop", "Duplicate",
    "Envelope", "Event", "FaultPlan", "FaultPlanError", "FaultSpace", "Features", "HandlerError",
    "HandlerReturnError", "InvalidEvent", "InvalidState", "Kill", "Oracle", "Pause",
    "RelayContext", "RelayCrash", "Reorder",
    "Restart", "Resume", "RunawayError", "Runtime", "Service", "Simulation", "Trace",
    "TraceRecord", "UnknownService", "Violation", "coverage_grid", "coverage_table", "event_log",
    "explore", "inbox", "sequence_diagram", "state_tables", "topology", "workflow_status",
]


def __getattr__(name: str) -> object:
    """Import a lazily exported name on first use."""
    import importlib

    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'choreo_lab' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
