"""What the NATS backend promises (importable without nats-py, for the contract suite's gates)."""

from __future__ import annotations

from ..runtime import Features

#: Not promised: per-key order (JetStream redelivers a failed message after later ones of its
#: key), timers, relays (the worker runs its own outbox relay), crash points and injected
#: faults (a real kill -9 is the fault here), virtual time (ctx.now is wall-clock ms), a trace, and determinism (real networks, real processes).
NATS_FEATURES = Features(consumer_groups=True, competing_consumers=True, at_least_once=True,
                         per_key_order=False, redelivery_backoff=True, dead_letters=True,
                         redrive=True, replay=True, timers=False, relays=False,
                         crash_points=False, injected_faults=False, virtual_time=False, trace=False,
                         deterministic=False)
