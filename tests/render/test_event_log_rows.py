"""The event log shows the start of a long run without ordering all of it, and shows the same.

Property: for any run (seeded orders, with kills, restarts and delivery faults), the rows of
the log computed for the first `limit` rows are exactly the first `limit` rows of the whole
log, and the whole log has one row per record of the run.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from choreo_lab import Kill, Restart
from choreo_lab.examples.catalog import workflow
from choreo_lab.faults import Duplicate, FaultPlan
from choreo_lab.render import _causal_rows, event_log
from choreo_lab.story import WorkflowStory


def a_run(seed: int, orders: int, kill_at: int | None, duplicate: bool):
    shop = workflow("orders")
    faults = [Kill(service="inventory", at=kill_at), Restart(service="inventory", at=kill_at + 15)] if kill_at else []
    if duplicate:
        faults.append(Duplicate(service="payment", probability=0.5))
    sim = shop.system(seed, FaultPlan(faults=tuple(faults)))
    shop.start(sim, orders, seed)
    sim.run_until_idle()
    return sim


@settings(max_examples=25, deadline=None, derandomize=True, database=None)
@given(seed=st.integers(0, 50), orders=st.integers(1, 6),
       kill_at=st.one_of(st.none(), st.integers(1, 40)), duplicate=st.booleans(),
       limit=st.integers(0, 80))
def test_the_first_rows_are_the_first_rows_of_the_whole_log(seed, orders, kill_at, duplicate, limit):
    sim = a_run(seed, orders, kill_at, duplicate)
    story = WorkflowStory.of(sim, None)
    whole = _causal_rows(story)
    assert len(whole) == len(story.records)
    assert _causal_rows(story, limit)[:limit] == whole[:limit]


def test_a_long_log_says_how_many_rows_it_leaves_out():
    sim = a_run(3, 40, 10, False)
    text = str(event_log(sim, max_rows=10))
    assert f"… {len(sim.trace) - 10} more rows" in text
