"""GET /admin/ — the models the user may view, and the latest changes made through the admin."""

from __future__ import annotations

from .history import recent_actions
from .render import Crumb, navigation, render_page


def index():
    models = navigation()
    return render_page(
        "dashboard",
        page_title="Dashboard",
        breadcrumbs=[Crumb("Dashboard")],
        models=models,
        nav=models,
        recent_actions=recent_actions(),
    )
