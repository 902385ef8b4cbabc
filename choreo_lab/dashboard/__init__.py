"""Live dashboard widgets: kill and restart services, watch backlogs, workflows and consistency.

Imported on its own (``from choreo_lab.dashboard import Dashboard``) so that
``import choreo_lab`` does not need ipywidgets. Ready-made dashboards for the course's
workflows are in `choreo_lab.dashboard.presets`. A dashboard of your own:

    dash = Dashboard(system)  # system(seed, faults) -> Simulation, as explore() takes it
    dash                      # the widgets, as the last line of a cell
    dash.kill(name); dash.run_until_idle()   # what the buttons do, as code
"""

from .board import Dashboard

__all__ = ["Dashboard"]
