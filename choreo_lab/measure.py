"""Measuring a design: messages per workflow, who must know whom, what a change touched, and
how long workflows took to settle. Generic: it reads service definitions and traces only.

    messages_per_workflow(sim)               # {"o-1": 7, ...}: every message published in each
    who_must_know_whom(services)             # {"payment": ("order",), ...}
    definition_changes(before, after)        # {"payment": ["handles FraudCleared (new)"], ...}
    lines_changed(before, after)             # {"payment": 14, ...}: source lines of those handlers
    settling_times(sim)                      # {"o-1": 14, ...}: virtual ms to consistency

A service *depends on* another when it handles a message type that the other declares it
publishes (`Service.handles(..., publishes=...)`): it must know that service's messages,
their names and meaning, to do its work. Messages that come from outside the system
(published by no service) create no dependency.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Sequence

from .consistency import time_to_consistency, workflow_spans
from .service import Handling, Service
from .simulation import Simulation
from .story import workflow_finished


def messages_per_workflow(sim: Simulation, workflows: Iterable[str] | None = None) -> dict[str, int]:
    """Per workflow (correlation id): how many messages were published in it (each once,
    however often it was delivered)."""
    chosen = sim.trace.correlation_ids() if workflows is None else list(workflows)
    return {workflow: len(sim.trace.messages_of(workflow)) for workflow in chosen}


def publishers(services: Sequence[Service]) -> dict[str, tuple[str, ...]]:
    """Message type -> the services that declare they publish it, in the order given."""
    found: dict[str, list[str]] = {}
    for service in services:
        for handling in service.handlers.values():
            for message_type in handling.publishes:
                names = found.setdefault(message_type.event_type, [])
                if service.name not in names:
                    names.append(service.name)
    return {message_type: tuple(names) for message_type, names in found.items()}


def who_must_know_whom(services: Sequence[Service]) -> dict[str, tuple[str, ...]]:
    """Per service: the other services whose messages it handles (its dependencies)."""
    published_by = publishers(services)
    return {service.name: tuple(dict.fromkeys(
                name for message_type in service.handlers
                for name in published_by.get(message_type, ()) if name != service.name))
            for service in services}


def dependency_count(services: Sequence[Service]) -> int:
    """How many (service, service it depends on) pairs the design has."""
    return sum(len(known) for known in who_must_know_whom(services).values())


def _described(handling: Handling) -> tuple[object, ...]:
    """What makes two registrations the same: the function's name and code, what it publishes."""
    code = getattr(handling.handler, "__code__", None)
    body = (code.co_code, code.co_consts, code.co_names) if code is not None else handling.handler
    return handling.name, body, tuple(sorted(t.event_type for t in handling.publishes))


def definition_changes(before: Sequence[Service], after: Sequence[Service]) -> dict[str, list[str]]:
    """Per service that differs between two versions of a design: what changed, in words.

    A handler counts as changed when its message type is new or gone, or when its function
    or what it declares it publishes differs. Services that did not change are left out.
    """
    old = {service.name: service for service in before}
    changes: dict[str, list[str]] = {}
    for service in after:
        was = old.pop(service.name, None)
        if was is None:
            changes[service.name] = ["new service"]
            continue
        found = []
        for message_type, handling in service.handlers.items():
            previous = was.handlers.get(message_type)
            if previous is None:
                found.append(f"handles {message_type} (new)")
            elif _described(previous) != _described(handling):
                found.append(f"handles {message_type} (changed)")
        found += [f"no longer handles {message_type}" for message_type in was.handlers
                  if message_type not in service.handlers]
        if found:
            changes[service.name] = found
    for name in old:
        changes[name] = ["removed"]
    return changes


def source_lines(handling: Handling) -> int:
    """How many lines of source the handler's function has (0 when Python cannot find them)."""
    try:
        return len(inspect.getsourcelines(handling.handler)[0])
    except (OSError, TypeError):
        return 0


def lines_changed(before: Sequence[Service], after: Sequence[Service]) -> dict[str, int]:
    """Per service that differs between two versions of a design: the source lines of its new
    and changed handlers (what had to be written), as `definition_changes` finds them."""
    old = {service.name: service for service in before}
    counted: dict[str, int] = {}
    for service in after:
        was = old.get(service.name)
        written = [handling for message_type, handling in service.handlers.items()
                   if was is None or message_type not in was.handlers
                   or _described(was.handlers[message_type]) != _described(handling)]
        if written:
            counted[service.name] = sum(source_lines(handling) for handling in written)
    return counted


def settling_times(sim: Simulation, workflows: Iterable[str] | None = None) -> dict[str, int | None]:
    """Per workflow: virtual ms from its first message to the last service settling
    (`consistency.workflow_spans`); None for a workflow that has not finished."""
    chosen = sim.trace.correlation_ids() if workflows is None else list(workflows)
    unfinished = [workflow for workflow in chosen if not workflow_finished(sim, workflow)]
    return time_to_consistency(workflow_spans(sim), chosen, unfinished)
