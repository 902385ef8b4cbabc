"""Consumer lag: per group, what was sent and not yet acked or dead-lettered; sampled over
virtual time and drawn as a chart."""

from __future__ import annotations

import pytest

from choreo_lab import Event, Kill, Restart, Service, Simulation
from choreo_lab.lag import LagSeries, lag_over_time, sample_lag
from choreo_lab.plots import Chart, lag_chart


class Registered(Event):
    user_id: str


def listener(name: str, *, broken: bool = False, processing_time: int = 0) -> Service:
    service = Service(name, {"seen": []}, processing_time=processing_time)

    @service.handles(Registered)
    def note(event: Registered, ctx) -> None:
        if broken:
            raise ConnectionError(f"{name} is unreachable")
        ctx.state["seen"].append(event.user_id)

    return service


def fan_out(**options) -> Simulation:
    return Simulation([listener("email"), listener("crm", broken=True)], seed=1, max_attempts=3,
                      **options)


def register(sim: Simulation, count: int) -> None:
    for n in range(count):
        sim.publish(Registered(user_id=f"u-{n}"), key=f"u-{n}")


def test_lag_counts_messages_waiting_in_flight_on_their_way_and_waiting_for_a_retry():
    sim = fan_out()
    register(sim, 3)
    assert sample_lag(sim) == {"email": 3, "crm": 3}  # on their way
    sim.run_for(1)
    assert sample_lag(sim) == {"email": 0, "crm": 3}  # crm's wait for their retries
    sim.run_until_idle()
    assert sample_lag(sim) == {"email": 0, "crm": 0}  # dead-lettered: out of the lag
    assert len(sim.dead_letters) == 3


def test_a_killed_group_lags_and_catches_up_without_touching_the_others():
    sim = Simulation([listener("email"), listener("crm")], seed=1,
                     faults=[Kill(service="crm", at=0), Restart(service="crm", at=100)])
    register(sim, 4)
    series = lag_over_time(sim, duration=200, every=50)
    assert series.times == (0, 50, 100, 150, 200)
    assert series.lags["crm"] == (4, 4, 0, 0, 0)
    assert series.lags["email"] == (4, 0, 0, 0, 0)
    assert series.peak("crm") == 4 and series.last("crm") == 0
    assert (series.caught_up("crm"), series.caught_up("email")) == (100, 50)


def test_a_redriven_dead_letter_counts_again_until_it_is_handled():
    sim = fan_out()
    register(sim, 1)
    sim.run_until_idle()
    sim.redrive()
    assert sim.lag("crm") == 1


def test_lag_over_time_refuses_bad_steps_and_unknown_groups_before_running():
    sim = fan_out()
    with pytest.raises(ValueError, match="every in whole virtual ms >= 1"):
        lag_over_time(sim, duration=100, every=0)
    with pytest.raises(Exception, match="crn"):
        lag_over_time(sim, duration=100, every=10, groups=["crn"])
    assert sim.now == 0


def test_the_series_reads_as_a_table_and_names_the_groups_it_has():
    series = LagSeries((0, 10), {"email": (2, 0), "crm": (2, 5)})
    assert str(series).splitlines() == ["lag sampled 2 times, t=0..10 ms",
                                        "  email  peak    2   caught up at t=10 ms",
                                        "  crm    peak    5   still 5 behind"]
    assert LagSeries((0, 5, 9), {"g": (0, 3, 0)}).caught_up("g") == 9
    with pytest.raises(KeyError, match="the groups are: email, crm"):
        series.peak("sms")


def test_the_lag_chart_is_a_png_with_the_series_as_its_text():
    sim = fan_out(latency=5)
    register(sim, 5)
    chart = lag_chart(lag_over_time(sim, duration=400, every=20))
    assert isinstance(chart, Chart)
    bundle = chart._repr_mimebundle_()
    assert bundle["image/png"].startswith(b"\x89PNG")
    assert bundle["text/plain"].startswith("Consumer lag over virtual time\nlag sampled 21 times")
    assert [line.get_label() for line in chart.figure.axes[0].get_lines()] == ["email", "crm"]
    again = fan_out(latency=5)
    register(again, 5)
    assert chart.png() == lag_chart(lag_over_time(again, duration=400, every=20)).png()
    with pytest.raises(TypeError, match="what lag_over_time"):
        lag_chart({"crm": [1, 2]})
