"""Live dashboard widgets: kill and restart services, watch backlogs, sagas and consistency.

Imported on its own (``from choreo_lab.dashboard import order_dashboard``) so that
``import choreo_lab`` does not need ipywidgets.

    dash = order_dashboard(seed=7)
    dash                      # the widgets, as the last line of a cell
    dash.kill("payment"); dash.place_order(); dash.run_until_idle()   # the same, as code
"""

from .board import Dashboard
from .orders import BAD_ORDERS, OrderDashboard, order_dashboard

__all__ = ["BAD_ORDERS", "Dashboard", "OrderDashboard", "order_dashboard"]
