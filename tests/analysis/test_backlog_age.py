"""Backlog age: how long the oldest waiting message of each group has waited, over virtual
time, and a scaling rule that adds competing consumers when it grows too old."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from choreo_lab import Event, Service, Simulation
from choreo_lab.lag import BacklogSeries, backlog_age_over_time
from choreo_lab.plots import Chart, backlog_age_chart

WORK = 100  # virtual ms per job


class JobSubmitted(Event):
    job_id: str


def worker(instances: int = 1) -> Service:
    service = Service("worker", {"done": []}, instances=instances, processing_time=WORK)

    @service.handles(JobSubmitted)
    def do_job(event: JobSubmitted, ctx) -> None:
        ctx.state["done"].append(event.job_id)

    return service


def burst(count: int, instances: int = 1) -> Simulation:
    sim = Simulation([worker(instances)], seed=1)
    for n in range(count):
        sim.publish(JobSubmitted(job_id=f"j-{n}"), key=f"j-{n}")
    return sim


def scale_up_when_older_than(limit: int, most: int):
    """The rule a learner writes: one more instance while the oldest waiting job is too old."""
    def rule(sim: Simulation) -> None:
        instances = sim.stats()["worker"]["instances"]
        if sim.oldest_waiting("worker") > limit and instances < most:
            sim.scale("worker", instances + 1)
    return rule


def test_the_oldest_waiting_message_ages_while_one_instance_works_through_a_burst():
    sim = burst(4)
    sim.run_for(1 + WORK)  # the first job is done, the second in flight, two wait
    assert sim.stats()["worker"]["backlog"] == 2
    assert sim.oldest_waiting("worker") == 1 + WORK
    sim.run_until_idle()
    assert sim.oldest_waiting("worker") == 0


def test_backlog_age_is_sampled_from_the_start_every_step_until_the_end():
    series = backlog_age_over_time(burst(5), duration=500, every=100)
    assert series.times == (0, 100, 200, 300, 400, 500)
    assert series.backlogs["worker"] == (0, 4, 3, 2, 1, 0)
    assert series.ages["worker"] == (0, 100, 200, 300, 400, 0)
    assert series.oldest("worker") == 400
    assert "oldest waited      400 ms" in str(series)


def test_a_scaling_rule_adds_instances_and_keeps_the_oldest_message_young():
    alone = backlog_age_over_time(burst(12), duration=1500, every=50)
    scaled = backlog_age_over_time(burst(12), duration=1500, every=50,
                                   rule=scale_up_when_older_than(150, most=4))
    assert max(alone.instances["worker"]) == 1
    assert max(scaled.instances["worker"]) == 4
    assert scaled.oldest("worker") < alone.oldest("worker") / 2


def test_backlog_age_refuses_bad_steps_unknown_groups_and_a_rule_that_is_not_a_function():
    sim = burst(1)
    with pytest.raises(ValueError, match="every in whole virtual ms"):
        backlog_age_over_time(sim, duration=100, every=0)
    with pytest.raises(TypeError, match="rule is a function"):
        backlog_age_over_time(sim, duration=100, every=10, rule=3)  # type: ignore[arg-type]
    with pytest.raises(Exception, match="worke"):
        backlog_age_over_time(sim, duration=100, every=10, groups=["worke"])
    assert sim.now == 0


@settings(max_examples=25, deadline=None)
@given(jobs=st.integers(1, 20), instances=st.integers(1, 5))
def test_with_n_instances_no_job_waits_longer_than_its_place_in_the_queue(jobs, instances):
    sim = burst(jobs, instances)
    series = backlog_age_over_time(sim, duration=jobs * WORK + 10, every=10)
    rounds_waiting = (jobs - 1) // instances
    assert series.oldest("worker") <= rounds_waiting * WORK
    assert sim.state("worker")["done"] == [f"j-{n}" for n in range(jobs)]


def test_the_backlog_age_chart_draws_a_png_and_summarises_in_text():
    series = backlog_age_over_time(burst(3), duration=300, every=50)
    chart = backlog_age_chart(series)
    assert isinstance(chart, Chart) and isinstance(series, BacklogSeries)
    assert chart.png().startswith(b"\x89PNG")
    assert "Age of the oldest waiting message" in repr(chart)
    with pytest.raises(TypeError, match="backlog_age_over_time"):
        backlog_age_chart("not a series")  # type: ignore[arg-type]


@pytest.mark.parametrize("duration, every, unit", [(300, 50, "ms"), (5_000, 500, "s"),
                                                   (600_000, 60_000, "min"),
                                                   (3 * 3_600_000, 3_600_000, "hours")])
def test_the_time_axis_reads_in_a_unit_that_fits_the_run(duration, every, unit):
    axes = backlog_age_chart(backlog_age_over_time(burst(3), duration=duration,
                                                   every=every)).figure.axes
    assert axes[1].get_xlabel() == f"virtual time ({unit})"
