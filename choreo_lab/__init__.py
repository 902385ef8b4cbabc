"""choreo_lab: services that cooperate only by publishing and reacting to domain events.

A small, deterministic, in-memory runtime for learning choreography: events, a broker with
honest at-least-once delivery, services with state of their own, faults, and a trace.
"""

from .broker import DeadLetter
from .runtime import Features, Runtime
from .envelope import Delivery, Envelope
from .errors import (
                     ChoreoError,
                     FaultPlanError,
                     HandlerReturnError,
                     InvalidEvent,
                     RunawayError,
                     UnknownService,
)
from .events import Event
from .faults import Crash, Delay, Drop, Duplicate, FaultPlan, Kill, Pause, Reorder, Restart, Resume
from .service import Context, Service
from .simulation import Simulation
from .trace import Trace, TraceRecord

__version__ = "0.1.0"

__all__ = [
    "ChoreoError", "Context", "Crash", "DeadLetter", "Delay", "Delivery", "Drop", "Duplicate",
    "Envelope", "Event", "FaultPlan", "FaultPlanError", "Features", "HandlerReturnError",
    "InvalidEvent", "Kill", "Pause", "Reorder", "Restart", "Resume", "RunawayError", "Runtime", "Service",
    "Simulation", "Trace", "TraceRecord", "UnknownService",
]
