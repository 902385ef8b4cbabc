"""Live dashboard widgets: kill and restart services, watch backlogs, workflows and consistency.

Imported on its own (``from choreo_lab.dashboard import Dashboard``) so that
``import choreo_lab`` does not need ipywidgets. Ready-made dashboards for the course's
workflows are in `choreo_lab.dashboard.presets`:

    from choreo_lab.dashboard.presets import order_dashboard
    dash = order_dashboard(seed=7)
    dash                      # the widgets, as the last line of a cell
    dash.kill("payment"); dash.place_order(); dash.run_until_idle()   # the same, as code
"""

from .board import Dashboard

__all__ = ["Dashboard"]
