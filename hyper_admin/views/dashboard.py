"""GET /admin/ — the dashboard's panels (placeholders: each loads in its own request), the
models the user may view, and the latest changes made through the admin."""

from __future__ import annotations

from ..i18n import _
from ..pipeline import current_state
from .history import recent_actions
from .panels import dashboard_slots
from .render import Crumb, grouped_navigation, navigation, render_page


def index():
    models = navigation()
    return render_page(
        "dashboard",
        page_title=_("Dashboard"),
        breadcrumbs=[Crumb(_("Dashboard"))],
        models=models,
        # The cards in the sidebar's groups (here none is ever collapsed).
        model_groups=grouped_navigation(models),
        nav=models,
        recent_actions=recent_actions(),
        panels=dashboard_slots(),
        dashboard_title=current_state().admin.dashboard.title,
    )
