"""The Pareto dashboard and JSON API of codecnas (FastAPI); see ``create_app``."""

from dashboard.app import create_app
from dashboard.settings import DashboardSettings

__all__ = ["DashboardSettings", "create_app"]
