"""GET /admin/<slug>/<pk>/history — a row's audit trail; the dashboard's recent actions."""

from __future__ import annotations

import typing as t

from flask import abort, request
from flask_login import current_user

from .. import audit
from ..cells import coerced, decode_pk, encode_pk
from ..i18n import _
from ..introspect import ColumnInfo
from ..options import ModelAdmin
from ..pipeline import admin_url, current_state, is_superuser
from ..query import fetch_rows_by_pk
from ..storage import TablesMissing
from .common import engine_and_dialect, list_url, object_of
from .inlines import child_admins, child_entries
from .render import Crumb, render_page
from ..values import Labels, action_label, fk_labels, value_text

PAGE = 50


def history_view(model_admin: ModelAdmin, pk: str):
    """The row's changes, newest first, each with its fields before and after. A row that still
    exists is shown within the user's scope (404 outside it); the history of a deleted row is
    for those who may delete rows of this model and see all of them (_may_see_deleted)."""
    info = model_admin.info
    pk_values = decode_pk(info, pk)
    if pk_values is None:
        abort(404)
    engine, dialect = engine_and_dialect()
    rows = fetch_rows_by_pk(engine, dialect, info, [pk_values], info.columns,
                            scope=model_admin.scope(current_user))
    if not rows and (fetch_rows_by_pk(engine, dialect, info, [pk_values], info.primary_key)
                     or not _may_see_deleted(model_admin)):
        abort(404)  # outside the scope, or a deleted row's history for someone who may not see it
    current_state().ensure_tables()
    before_id = request.args.get("before_id", type=int)
    children = child_admins(model_admin, current_user)
    found = audit.entries(engine, dialect, admin_name=current_state().name,
                          model_slug=model_admin.slug, pk=encode_pk(pk_values),
                          limit=PAGE + 1, before_id=before_id, children=bool(children))
    # The children's entries (inlines) of models this user may not read are left out.
    found = [e for e in found if e["model_slug"] == model_admin.slug or e["model_slug"] in children]
    more = found[PAGE - 1]["id"] if len(found) > PAGE else None
    entries = _entries(model_admin, [e for e in found[:PAGE] if e["model_slug"] == model_admin.slug])
    entries = child_entries(entries, found[:PAGE], children, _entries)
    if rows:
        title = model_admin.row_label(object_of(model_admin, coerced(info, rows[0])))
        row_url = admin_url(".detail", slug=model_admin.slug, pk=pk)
    else:
        title = found[0]["object_label"] if found else f"{model_admin.verbose_name} {pk}"
        row_url = None
    crumbs = [Crumb(_("Dashboard"), admin_url(".dashboard")),
              Crumb(model_admin.verbose_name_plural, list_url(model_admin))]
    crumbs += [Crumb(title, row_url), Crumb(_("History"))]
    obj = object_of(model_admin, coerced(info, rows[0])) if rows else None
    may_revert = bool(rows) and model_admin.has_permission("change", current_user, obj)
    may_restore = not rows and model_admin.has_permission("add", current_user)
    for entry in entries:
        if entry.get("child"):  # a child's entry is reverted from the child's own History
            entry["revert_url"] = entry["restore_url"] = None
            continue
        entry["revert_url"] = (admin_url(".revert", slug=model_admin.slug, pk=pk, entry_id=entry["id"])
                               if may_revert and entry["action"] not in ("create", "delete") else None)
        entry["restore_url"] = (admin_url(".restore", slug=model_admin.slug, pk=pk, entry_id=entry["id"])
                                if may_restore and entry["action"] == "delete" else None)
    return render_page(
        "history", slug=model_admin.slug, page_title=_("History of %(row)s",
                                                       row=title), breadcrumbs=crumbs,
        model_admin=model_admin, entries=entries, title=title, row_url=row_url, pk=pk,
        deleted=not rows,
        more_url=f"{request.path}?before_id={more}" if more is not None else None,
    )


def _may_see_deleted(model_admin: ModelAdmin) -> bool:
    """Whether the user may read the trail of a row that no longer exists: its entries hold the
    row's values, and whether the row was within the user's scope can no longer be asked of the
    database. So, as for recent actions: superusers, and users who may delete rows of a model
    that has no scope for them."""
    if is_superuser():
        return True
    return (model_admin.has_permission("delete", current_user)
            and model_admin.scope(current_user) is None)


def _entries(model_admin: ModelAdmin, found: list[dict[str, t.Any]]) -> list[dict[str, t.Any]]:
    """The page's entries, their values shown as lists show them (the labels of the foreign
    keys they hold looked up once for the page)."""
    columns = {c.attribute: c for c in model_admin.info.columns}
    labels = fk_labels((columns.get(attribute), value) for entry in found
                       for attribute, pair in entry["changes"].items() for value in pair)
    return [_entry(model_admin, entry, columns, labels) for entry in found]


def _entry(model_admin: ModelAdmin, entry: dict[str, t.Any], columns: dict[str, ColumnInfo],
           labels: Labels) -> dict[str, t.Any]:
    fields = []
    for attribute, (before, after) in sorted(entry["changes"].items(),
                                              key=lambda kv: _order(columns, kv[0])):
        column = columns.get(attribute)
        fields.append({"label": column.label if column is not None else attribute,
                       "before": value_text(column, before, labels),
                       "after": value_text(column, after, labels)})
    return {"id": entry["id"], "when": entry["created_at"], "user": entry["user_label"],
            "action": entry["action"], "action_label": action_label(model_admin, entry["action"]),
            "fields": fields, "note": entry["note"]}


def _order(columns: dict[str, ColumnInfo], attribute: str) -> int:
    names = list(columns)
    return names.index(attribute) if attribute in columns else len(names)


def _shown(column: ColumnInfo | None, value: t.Any) -> str | None:
    """A stored value as the page shows it (None: no value), as a list's cell reads, a
    foreign key by its row's label."""
    return value_text(column, value, fk_labels([(column, value)]))


def recent_actions(limit: int = 10) -> list[dict[str, t.Any]]:
    """The latest changes to models the user may view (a scoped model only for superusers:
    its entries would name rows outside the user's scope)."""
    state = current_state()
    superuser = is_superuser()
    slugs = {ma.slug: ma for ma in state.model_admins()
             if ma.has_permission("view", current_user)
             and (superuser or ma.scope(current_user) is None)}
    engine, dialect = engine_and_dialect()
    try:
        state.ensure_tables()
    except TablesMissing:
        return []  # create_tables=False before the migrations ran: the trail page says why
    out = []
    for entry in audit.entries(engine, dialect, admin_name=state.name, slugs=set(slugs),
                               limit=limit):
        model_admin = slugs[entry["model_slug"]]
        url = None if entry["action"] == "delete" else admin_url(
            ".detail", slug=model_admin.slug, pk=entry["pk"])
        out.append({"action": action_label(model_admin, entry["action"]), "verb": entry["action"],
                    "model_label": model_admin.verbose_name, "object_label": entry["object_label"],
                    "url": url, "user_label": entry["user_label"], "when": entry["created_at"],
                    "history_url": admin_url(".history", slug=model_admin.slug, pk=entry["pk"])})
    return out
