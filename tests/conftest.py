"""Shared test wiring: the `backend` fixture the contract suite runs against.

A backend is a name, the `Features` it promises, and `make(services, **options)` returning a
Simulation-like object. A test marked ``@pytest.mark.feature("per_key_order", ...)`` is
skipped, naming the feature, on a backend that does not promise it. To add a backend, add
one entry to `BACKENDS`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from choreo_lab import Features, Simulation


@dataclass(frozen=True)
class Backend:
    name: str
    features: Features
    make: Callable[..., Any]


def memory_backend() -> Backend:
    return Backend("memory", Simulation.features, Simulation)


BACKENDS: dict[str, Callable[[], Backend]] = {"memory": memory_backend}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "feature(*names): the Features this test checks; skipped where not promised")


@pytest.fixture(params=list(BACKENDS))
def backend(request: pytest.FixtureRequest) -> Backend:
    chosen = BACKENDS[request.param]()
    for marker in request.node.iter_markers("feature"):
        for feature in marker.args:
            if not getattr(chosen.features, feature):
                pytest.skip(f"backend {chosen.name!r} does not promise {feature}")
    return chosen
