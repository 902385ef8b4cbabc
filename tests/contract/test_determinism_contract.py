"""Contract: the same seed and the same code give the same trace, ids and times."""

from __future__ import annotations

import pytest

from choreo_lab import Crash, Delay, Drop, Duplicate

from .flows import ChapterWritten, PaymentRequested, archive, cashier, receipts

FAULTS = [Duplicate(probability=0.3), Drop(probability=0.2), Delay(probability=0.3, by=7),
          Crash(service="cashier", point="after_commit_before_ack", probability=0.3)]


def run(backend, seed: int) -> tuple[str, list[str], int]:
    sim = backend.make([cashier(idempotent=True), receipts(), archive()], seed=seed, jitter=9,
                       faults=FAULTS)
    for n in range(8):
        sim.publish(PaymentRequested(order_id=f"o-{n}", amount=n))
        sim.publish(ChapterWritten(book="emma", chapter=n), key="emma")
    sim.run_until_idle()
    return sim.trace.dump(), list(sim.trace.messages), sim.now


@pytest.mark.feature("deterministic", "injected_faults", "crash_points", "trace")
def test_the_same_seed_gives_the_same_trace_ids_and_times(backend):
    first = run(backend, seed=21)
    assert first == run(backend, seed=21)
    assert "duplicate" in first[0] and "drop" in first[0]  # the faults did fire
