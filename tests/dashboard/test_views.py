"""Extra panels on a dashboard: a view of the simulation, redrawn when virtual time moves."""

from __future__ import annotations

from choreo_lab import Event, Service, Simulation
from choreo_lab.dashboard import Dashboard
from choreo_lab.dashboard.presets import content_dashboard
from choreo_lab.dashboard.views import BacklogAgeView
from choreo_lab.examples.content import TRANSCODE_TIME

from .helpers import click, text


class Job(Event):
    job_id: str


def slow_system(seed: int, faults) -> Simulation:
    worker = Service("worker", processing_time=100)

    @worker.handles(Job)
    def work(event: Job, ctx) -> None:
        return None

    return Simulation([worker], seed=seed, faults=faults)


def publish_jobs(sim: Simulation, count: int) -> None:
    for n in range(count):
        sim.publish(Job(job_id=f"j-{n}"))


def test_a_view_is_drawn_as_a_picture_and_redrawn_only_when_time_moves():
    calls = []
    view = BacklogAgeView(["worker"])

    def counted(sim: Simulation):
        calls.append(sim.now)
        return view(sim)

    dash = Dashboard(slow_system, seed=1, views={"Backlog": counted})
    panel, = dash.views
    assert panel.box in dash.widget.children
    assert bytes(panel.image.value).startswith(b"\x89PNG")
    dash.refresh()
    assert calls == [0]  # the same moment: not drawn again
    dash._do("publish", lambda sim: publish_jobs(sim, 5))
    dash.run_for(250)
    assert calls[-1] == 250
    series = view.series()
    assert series.times == (0, 250) and series.backlogs["worker"] == (0, 2)  # 1 in work, 2 done
    assert series.oldest("worker") > 0


def test_the_samples_start_again_after_reset():
    view = BacklogAgeView(["worker"])
    dash = Dashboard(slow_system, seed=1, views={"Backlog": view})
    dash._do("publish", lambda sim: publish_jobs(sim, 3))
    dash.run_for(300)
    dash.reset()
    assert view.series().times == (0,)


def test_a_view_that_raises_is_reported_and_the_dashboard_goes_on():
    def broken(sim: Simulation):
        raise ValueError("no such chart")

    dash = Dashboard(slow_system, seed=1, views={"Broken": broken})
    dash.run_for(50)
    assert any("the view 'Broken' failed: ValueError: no such chart" in p for p in dash.problems)
    assert dash.sim.now == 50


def test_a_view_that_returns_text_is_shown_as_text():
    dash = Dashboard(slow_system, seed=1, views={"Clock": lambda sim: f"t = {sim.now} <ms>"})
    dash.run_for(20)
    panel, = dash.views
    assert text(panel.text) == "t = 20 <ms>"
    assert panel.image.layout.display == "none"


def test_the_content_dashboard_shows_transcodings_backlog_age_growing_and_falling():
    dash = content_dashboard(seed=7)
    panel, = dash.views
    assert "Transcoding" in panel.title
    click(dash, "Upload a video", times=4)
    dash.run_for(TRANSCODE_TIME * 2)
    ages = panel.view.series().ages["transcoding"]
    assert max(ages) >= TRANSCODE_TIME // 2
    dash.run_until_idle()
    assert panel.view.series().ages["transcoding"][-1] == 0
    assert bytes(panel.image.value).startswith(b"\x89PNG")


def test_the_backlog_chart_samples_in_virtual_time_while_the_dashboard_runs():
    dash = content_dashboard(seed=7)
    panel, = dash.views
    click(dash, "Upload a video", times=3)
    dash.run_until_idle()                    # one click, many samples: one each 10 s or more
    times = panel.view.series().times
    assert len(times) > 10 and times[-1] == dash.sim.now
    assert max(panel.view.series().backlogs["transcoding"]) >= 2
    dash.reset(seed=7)
    click(dash, "Upload a video")
    dash.run_for(60_000)
    assert panel.view.series().times[-6:] == (10_000, 20_000, 30_000, 40_000, 50_000, 60_000)


def test_the_workflows_panel_lets_its_last_column_wrap_header_and_all():
    """Beside a "broken" badge the panel is wider than its column: "settled after" wraps
    instead of being cut off at the panel's edge."""
    import re

    from choreo_lab.dashboard.render import workflow_table
    html = workflow_table([("o-1", "completed")], {"o-1": "ShipmentScheduled"}, None,
                          has_workflows=True, shown=5)
    header = re.search(r'<th style="([^"]*)">settled after</th>', html)
    assert header is not None and "white-space:normal" in header.group(1)
    assert "width:100%" in html
