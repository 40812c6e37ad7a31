"""GET /admin/ — the models the user may view."""

from __future__ import annotations

from .render import Crumb, navigation, render_page


def index():
    models = navigation()
    return render_page(
        "dashboard",
        page_title="Dashboard",
        breadcrumbs=[Crumb("Dashboard")],
        models=models,
        nav=models,
    )
