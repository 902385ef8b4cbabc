"""Dashboards for the course's workflows, built on the generic `Dashboard`."""

from .orders import BAD_ORDERS, OrderDashboard, order_dashboard

__all__ = ["BAD_ORDERS", "OrderDashboard", "order_dashboard"]
