"""GET /admin/<slug>/<pk>/menu — a row's menu in the list: what the detail page offers for the
row (open, edit, history, the application's pages of the row, the model's actions, delete),
for the signed-in user on that row.

The list shows a "⋯" button per row only when the model has actions or row pages (rows_of);
the button loads this fragment into the list's popover when it is opened, so a page of fifty
rows pays for one menu, not fifty, and each menu is decided on its row (a row page's
permission may depend on the row's values). Without htmx the same URL is a page of its own.
An action chosen here goes back to the list it was chosen from (``HX-Current-URL`` when it is
a path of this admin), as one chosen on the detail page goes back there."""

from __future__ import annotations

from flask import render_template
from flask_login import current_user

from ..cells import encode_pk
from ..htmx import current_htmx
from ..i18n import _
from ..options import ModelAdmin
from ..pipeline import admin_url, current_state
from .common import admin_path, detail_url, list_url, load_row, object_of
from .pages import row_page_links
from .render import Crumb, render_page, templates_for


def has_row_menu(model_admin: ModelAdmin, actions: list) -> bool:
    """Whether a list's rows get a menu: the user has actions on the model, or the model has
    pages of its rows (each row's menu then says which of them the user may open)."""
    if model_admin.is_query_view:
        return False
    return bool(actions) or any(p.slug == model_admin.slug
                                for p in current_state().admin.row_pages)


def row_menu_view(model_admin: ModelAdmin, pk: str):
    user = current_user
    pk_values, values = load_row(model_admin, pk)  # 404 when missing or outside the scope
    obj = object_of(model_admin, values)
    encoded = encode_pk(pk_values)
    own = detail_url(model_admin, pk_values)
    htmx = current_htmx()
    context = dict(
        model_admin=model_admin, pk=encoded, detail_url=own,
        can_change=model_admin.has_permission("change", user, obj),
        can_delete=model_admin.has_permission("delete", user, obj),
        row_actions=model_admin.get_actions(user),
        row_pages=row_page_links(model_admin, encoded, obj),
        # Where an action goes back to: the list the menu was opened from.
        next_url=(admin_path(htmx.current_path) if htmx.wants_fragment else None) or own,
    )
    if htmx.wants_fragment:
        return render_template(templates_for("partials/row_menu", model_admin.slug), **context)
    title = model_admin.row_label(obj)
    return render_page(
        "row_menu", slug=model_admin.slug, page_title=title,
        breadcrumbs=[Crumb(_("Dashboard"), admin_url(".dashboard")),
                     Crumb(model_admin.verbose_name_plural, list_url(model_admin)),
                     Crumb(title, own), Crumb(_("Actions"))],
        **context)
