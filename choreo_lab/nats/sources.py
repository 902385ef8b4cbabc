"""Where a worker process finds a service: an import spec and the arguments to build it.

Each service runs in a process of its own, which cannot be handed the `Service` object:
it imports the module that defines it and builds it again. A source is that recipe,
``"package.module:name"`` plus keyword arguments, where `name` is a `Service`, a list of
services, or a function returning either (``choreo_lab.examples.orders:order_services``).

    services = services_from("choreo_lab.examples.orders:order_services", stock={"book": 5})

    @rebuildable                 # a factory whose services remember how they were made
    def cashier(*, idempotent: bool) -> Service: ...

Arguments must be plain literals (text, numbers, tuples, lists, dicts, sets, None): they
cross to the worker as Python text, read back with `ast.literal_eval`.
"""

from __future__ import annotations

import ast
import functools
import importlib
import inspect
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ..service import Service

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class ServiceSource:
    """How to build a service in another process: `spec` ("module:name") and `arguments`."""

    spec: str
    arguments: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        module, _, name = self.spec.partition(":")
        if not module or not name:
            raise ValueError(f"a service source is 'package.module:name', got {self.spec!r}")
        if module == "__main__":
            raise ValueError(
                f"{self.spec!r} is defined in __main__ (a notebook or a script), which a worker "
                "process cannot import. Move the service into a module (a .py file beside the "
                "notebook) and import it from there.")
        text = repr(self.arguments)
        try:
            ast.literal_eval(text)
        except (ValueError, SyntaxError):
            raise ValueError(f"the arguments of {self.spec} must be plain literals (text, numbers, "
                             f"tuples, lists, dicts, sets, None) to reach a worker process; got "
                             f"{text[:200]}") from None

    @property
    def arguments_text(self) -> str:
        """The arguments as Python text, for a command line."""
        return repr(self.arguments)

    def build(self) -> list[Service]:
        """Import the spec and build its services (what a worker does at start)."""
        module_name, _, name = self.spec.partition(":")
        target: Any = importlib.import_module(module_name)
        for part in name.split("."):
            target = getattr(target, part)
        made = target(**self.arguments) if callable(target) and not isinstance(target, Service) \
            else target
        if self.arguments and not callable(target):
            raise ValueError(f"{self.spec} is not a function, so it takes no arguments")
        return as_services(made, self.spec)

    def service(self, name: str) -> Service:
        """The one service called `name` among those the spec builds."""
        services = {service.name: service for service in self.build()}
        if name not in services:
            raise ValueError(f"{self.spec} builds no service named {name!r}; it builds "
                             f"{', '.join(services) or 'none'}")
        return services[name]


def as_services(made: object, spec: str) -> list[Service]:
    """What a spec gave (a Service, or an iterable of them) as a list, or a clear error."""
    if isinstance(made, Service):
        return [made]
    if isinstance(made, Iterable) and not isinstance(made, (str, bytes, dict)):
        services = list(made)
        if services and all(isinstance(service, Service) for service in services):
            return services
    raise TypeError(f"{spec} should give a Service or a list of services, got "
                    f"{type(made).__name__}")


#: Service -> its source, for services built by `services_from` or a `@rebuildable` factory.
_SOURCES: weakref.WeakKeyDictionary[Service, ServiceSource] = weakref.WeakKeyDictionary()


def remember(services: Iterable[Service], source: ServiceSource) -> None:
    for service in services:
        _SOURCES[service] = source


def source_of(service: Service) -> ServiceSource:
    """Where a worker process can rebuild `service` from, or a ValueError saying how to tell it."""
    source = _SOURCES.get(service)
    if source is None:
        raise ValueError(
            f"service {service.name!r} was built in this process only, and a worker process "
            "must build it again by importing it. Build it with "
            "choreo_lab.nats.services_from('package.module:factory', ...), or decorate the "
            "module-level function that makes it with @choreo_lab.nats.rebuildable.")
    return source


def services_from(spec: str, **arguments: Any) -> list[Service]:
    """The services `spec` builds with `arguments`, each remembering its source."""
    source = ServiceSource(spec, arguments)
    services = source.build()
    remember(services, source)
    return services


def time_scaled(factory: str, scale: float, arguments: dict[str, Any] | None = None
                ) -> list[Service]:
    """The services `factory` (a spec) builds, each one's `processing_time` times `scale`.

    A workflow written for virtual time (a transcoder taking 3 minutes a video) runs on real
    processes as `services_from("choreo_lab.nats.sources:time_scaled", factory=..., scale=0.001)`:
    180 ms a video, the same slowness next to the others.
    """
    services = ServiceSource(factory, arguments or {}).build()
    for service in services:
        service.processing_time = round(service.processing_time * scale)
    return services


def rebuildable(factory: F) -> F:
    """Decorate a module-level function that makes services: what it returns remembers how.

    The function is unchanged otherwise; its arguments must be plain literals.
    """
    spec = f"{factory.__module__}:{factory.__qualname__}"
    signature = inspect.signature(factory)
    if any(p.kind in (p.VAR_POSITIONAL, p.POSITIONAL_ONLY) for p in signature.parameters.values()):
        raise TypeError(f"{factory.__qualname__}() cannot be rebuildable: a worker passes "
                        "arguments by name, and it takes *args or positional-only ones")

    @functools.wraps(factory)
    def build(*args: Any, **kwargs: Any) -> Any:
        made = factory(*args, **kwargs)
        arguments: dict[str, Any] = {}
        for name, value in signature.bind(*args, **kwargs).arguments.items():
            if signature.parameters[name].kind is inspect.Parameter.VAR_KEYWORD:
                arguments.update(value)
            else:
                arguments[name] = value
        remember(as_services(made, spec), ServiceSource(spec, arguments))
        return made

    return build  # type: ignore[return-value]
