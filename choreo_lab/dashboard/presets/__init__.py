"""Dashboards for the course's workflows, built on the generic `Dashboard`."""

from .orders import BAD_ORDERS, OrderDashboard, order_dashboard

from .notifications import NotificationDashboard, notification_dashboard

from .orchestrated import OrchestratedOrderDashboard, orchestrated_dashboard

__all__ = ["BAD_ORDERS", "NotificationDashboard", "OrderDashboard", "notification_dashboard",
           "order_dashboard"]

from .content import ContentDashboard, content_dashboard

__all__ += ["ContentDashboard", "content_dashboard"]
__all__ += ["OrchestratedOrderDashboard", "orchestrated_dashboard"]
