"""Shared test wiring: the `backend` fixture the contract suite runs against.

A backend is a name, the `Features` it promises, and `make(services, **options)` returning a
runtime (the `Runtime` interface). A test marked ``@pytest.mark.feature("per_key_order", ...)``
is skipped, naming the feature, on a backend that does not promise it. To add a backend, add
one entry to `BACKENDS`.

- memory: the simulation, in this process.
- nats: `NatsRuntime`, each service a worker process on a JetStream server of its own
  (skipped, saying what is missing, where the server binary or nats-py is not installed;
  `make test` installs both). Its tests carry the `nats` marker.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from choreo_lab import Features, Simulation

#: Simulation settings that shape virtual timing; a real broker has its own timing.
VIRTUAL_TIMING = ("seed", "jitter", "latency")


@dataclass
class Backend:
    name: str
    features: Features
    build: Callable[..., Any]
    made: list[Any] = field(default_factory=list)

    def make(self, services: list[Any], **options: Any) -> Any:
        """A runtime of `services`; closed after the test if it can be."""
        runtime = self.build(services, **options)
        self.made.append(runtime)
        return runtime

    def close(self) -> None:
        for runtime in self.made:
            if hasattr(runtime, "close"):
                runtime.close()


def memory_backend() -> Backend:
    return Backend("memory", Simulation.features, Simulation)


def nats_backend() -> Backend:
    from choreo_lab.nats import missing_pieces

    missing = missing_pieces()
    if missing:
        pytest.skip(f"the NATS backend cannot run here: {missing}")
    from choreo_lab.nats import NatsRuntime

    def make(services: list[Any], **options: Any) -> Any:
        for name in VIRTUAL_TIMING:
            options.pop(name, None)
        return NatsRuntime(services, **options)

    return Backend("nats", NatsRuntime.features, make)


BACKENDS: dict[str, Callable[[], Backend]] = {"memory": memory_backend, "nats": nats_backend}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "feature(*names): the Features this test checks; skipped where not promised")


@pytest.fixture(params=[pytest.param(name, marks=getattr(pytest.mark, name))
                        if name == "nats" else name for name in BACKENDS])
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    for marker in request.node.iter_markers("feature"):
        unpromised = [feature for feature in marker.args
                      if not getattr(_features(request.param), feature)]
        if unpromised:
            pytest.skip(f"backend {request.param!r} does not promise {', '.join(unpromised)}")
    chosen = BACKENDS[request.param]()
    yield chosen
    chosen.close()


def _features(name: str) -> Features:
    """A backend's promises, known without starting anything."""
    if name == "nats":
        from choreo_lab.nats import NATS_FEATURES
        return NATS_FEATURES
    return Simulation.features
