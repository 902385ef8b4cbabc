"""Determinism: the same seed gives the same trace and ids; another seed, another interleaving."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from choreo_lab import (Context, Crash, Delay, Drop, Duplicate, Event, Kill, Restart, Service,
                        Simulation)

TESTS = Path(__file__).resolve().parents[1]


class DonationMade(Event):
    donor: str
    amount: int
    tags: frozenset[str] = frozenset()
    labels: tuple[frozenset[str], ...] = ()  # sets inside a tuple: their order varies too


class DonationCounted(Event):
    donor: str
    amount: int


def charity() -> list[Service]:
    """A commutative flow: totals do not depend on the order donations arrive in."""
    till = Service("till", {"total": 0, "by_donor": {}}, processing_time=3, instances=2)
    board = Service("board", {"counted": 0, "largest": 0})

    @till.handles(DonationMade, publishes=(DonationCounted,))
    def bank_donation(event: DonationMade, ctx: Context) -> DonationCounted:
        ctx.state["total"] += event.amount
        by_donor = ctx.state["by_donor"]
        by_donor[event.donor] = by_donor.get(event.donor, 0) + event.amount
        return DonationCounted(donor=event.donor, amount=event.amount)

    @board.handles(DonationCounted)
    def update_board(event: DonationCounted, ctx: Context) -> None:
        ctx.state["counted"] += 1
        ctx.state["largest"] = max(ctx.state["largest"], event.amount)

    return [till, board]


def scenario(seed: int, *, faults: bool = True) -> tuple[str, list[str], dict, dict]:
    """Run the charity with jitter (and faults that do not change totals); return what happened."""
    plan = [Duplicate(service="board", probability=0.2), Drop(probability=0.1),
            Delay(probability=0.2, by=9), Crash(service="till", probability=0.2),
            Kill(service="board", at=12), Restart(service="board", at=40)] if faults else []
    sim = Simulation(charity(), seed=seed, jitter=15, faults=plan, max_attempts=10)
    for n in range(15):
        sim.publish(DonationMade(donor=("ada", "grace", "alan")[n % 3], amount=n + 1,
                                 tags=frozenset({"gift", "monthly", "anonymous", f"n{n}"}),
                                 labels=(frozenset({"q1", "q2", "q3", f"d{n % 3}"}),)))
    sim.run_until_idle()
    ids = [f"{e.message_id}/{e.correlation_id}/{e.causation_id}"
           for e in sim.trace.messages.values()]
    return sim.trace.dump(), ids, sim.state("till"), sim.state("board")


def test_the_same_seed_gives_an_identical_trace_and_ids():
    first, second = scenario(7), scenario(7)
    assert first[0] == second[0]
    assert first[1] == second[1]
    assert "duplicate" in first[0] and "crash" in first[0]  # faults did fire


def test_different_seeds_interleave_differently_but_end_in_the_same_state():
    runs = [scenario(seed, faults=False) for seed in (1, 2, 3)]
    assert len({dump for dump, *_ in runs}) == 3
    expected_till = {"total": sum(range(1, 16)),
                     "by_donor": {"ada": 1 + 4 + 7 + 10 + 13, "grace": 2 + 5 + 8 + 11 + 14,
                                  "alan": 3 + 6 + 9 + 12 + 15}}
    for _, _, till, board in runs:
        assert till == expected_till
        assert board == {"counted": 15, "largest": 15}


def test_the_trace_is_the_same_in_other_processes_with_other_hash_seeds():
    script = ("import sys; sys.path.insert(0, sys.argv[1]); "
              "from runtime.test_determinism import scenario; print(scenario(7)[0])")
    traces = {subprocess.run([sys.executable, "-c", script, str(TESTS)], capture_output=True,
                             text=True, check=True, env={"PYTHONHASHSEED": str(seed)}).stdout
              for seed in (1, 2, 3, 12345, 777, 4242)}
    assert traces == {scenario(7)[0] + "\n"}
