"""Undo from the audit trail: revert one recorded change of a row, restore a deleted row.

GET  /admin/<slug>/<pk>/history/<id>/revert   the fields the revert would set, and those that
                                              changed again since (left as they are)
POST the same URL                             applies it as a new, audited change ("revert"),
                                              conflict-checked like an edit
POST /admin/<slug>/<pk>/history/<id>/restore  inserts a deleted row again from its delete
                                              entry, when its key is free ("restore")
"""

from __future__ import annotations

import typing as t

from flask import abort, request
from wtforms import ValidationError

from .. import audit
from ..cells import decode_pk, encode_pk
from ..changes import Conflict, snapshot
from ..i18n import _
from ..introspect import ColumnInfo
from ..options import ModelAdmin
from ..pipeline import admin_url, current_state
from ..query import BadQuery, fetch_rows_by_pk, parse_value
from ..writes import IntegrityProblem
from .common import changes_for, engine_and_dialect, list_url, object_of, require
from .history import _shown
from .render import Crumb, render_page
from .rows import _done


def _entry(model_admin: ModelAdmin, pk_text: str, entry_id: int) -> dict[str, t.Any]:
    engine, dialect = engine_and_dialect()
    current_state().ensure_tables()  # a GET may come before any write created the trail's table
    found = audit.entries(engine, dialect, admin_name=current_state().name,
                          model_slug=model_admin.slug, pk=pk_text, before_id=entry_id + 1, limit=1)
    if not found or found[0]["id"] != entry_id:
        abort(404)
    return found[0]


def _value(column: ColumnInfo, stored: t.Any) -> t.Any:
    """A value of the audit's JSON back as the column's Python value; ValueError when it
    cannot be (redacted, or cut because it was long)."""
    if stored is None:
        return None
    if column.secret or stored == audit.REDACTED:
        raise ValueError(f"{column.label} is not kept in the audit trail")
    if isinstance(stored, str) and audit.is_cut(stored):
        raise ValueError(f"{column.label} was too long to keep in full")
    if column.kind == "json" or isinstance(stored, (bool, int, float, dict, list)):
        return stored
    if column.kind in ("text", "enum") or column.choices:
        return stored
    try:
        return parse_value(column, str(stored))
    except BadQuery as exc:
        raise ValueError(f"{column.label}: {exc}") from None


def revert_view(model_admin: ModelAdmin, pk: str, entry_id: int):
    info = model_admin.info
    pk_values = decode_pk(info, pk)
    if pk_values is None:
        abort(404)
    current = changes_for(model_admin).read(pk_values)
    if current is None:
        abort(404)  # before the trail is read: a row outside the scope is not there
    obj = object_of(model_admin, current)
    require(model_admin, "change", obj)
    entry = _entry(model_admin, encode_pk(pk_values), entry_id)
    if entry["action"] in ("create", "delete"):
        abort(400, description=_("a create or a delete is undone by deleting or restoring the row"))
    columns = {c.attribute: c for c in info.columns}
    plan, shown, skipped, problems = {}, [], [], []
    for attribute, (before, after) in entry["changes"].items():
        column = columns.get(attribute)
        if column is None or column.primary_key:
            continue
        now = audit.jsonable(current.get(column.name))
        label = column.label
        if now != after:
            skipped.append({"label": label, "now": _shown(column, now), "then": _shown(column, after)})
            continue
        try:
            plan[attribute] = _value(column, before)
        except ValueError as exc:
            problems.append(str(exc))
            continue
        shown.append({"label": label, "now": _shown(column, now), "back": _shown(column, before)})
    title = model_admin.row_label(obj)
    history_url = admin_url(".history", slug=model_admin.slug, pk=pk)
    if request.method == "POST" and plan and not problems:
        touched = [columns[a] for a in plan]
        changes = changes_for(model_admin)
        try:
            with changes.transaction():
                audit.note(_("Reverts change #%(id)s", id=entry_id))
                changes.update(pk_values, plan, columns=touched,
                               original=snapshot(current, touched), action="revert", hooks=False)
        except Conflict:
            return _done(request.path, _("The row changed while you were looking: check the "
                                         "revert again."), "warning")
        except IntegrityProblem as problem:
            return _done(history_url, _("The database refused the revert: %(error)s",
                                        error=problem.message), "error")
        except ValidationError as exc:  # it would put the row outside the user's scope
            return _done(history_url, _("The revert was refused: %(error)s", error=exc), "error")
        return _done(history_url, _("Change #%(id)s of “%(row)s” was reverted.",
                                    id=entry_id, row=title))
    return render_page(
        "revert", slug=model_admin.slug, page_title=_("Revert change #%(id)s", id=entry_id),
        breadcrumbs=[Crumb(_("Dashboard"), admin_url(".dashboard")),
                     Crumb(model_admin.verbose_name_plural, list_url(model_admin)),
                     Crumb(title, admin_url(".detail", slug=model_admin.slug, pk=pk)),
                     Crumb(_("History"), history_url), Crumb(_("Revert #%(id)s", id=entry_id))],
        model_admin=model_admin, entry=entry, fields=shown, skipped=skipped, problems=problems,
        history_url=history_url, status_code=200 if request.method == "GET" else 409,
    )


def restore_view(model_admin: ModelAdmin, pk: str, entry_id: int):
    info = model_admin.info
    pk_values = decode_pk(info, pk)
    if pk_values is None:
        abort(404)
    entry = _entry(model_admin, encode_pk(pk_values), entry_id)
    if entry["action"] != "delete":
        abort(400, description=_("only a deleted row can be restored"))
    require(model_admin, "add")
    history_url = admin_url(".history", slug=model_admin.slug, pk=pk)
    engine, dialect = engine_and_dialect()
    if fetch_rows_by_pk(engine, dialect, info, [pk_values], info.primary_key):
        return _done(history_url, "A row with this key exists again: nothing to restore.", "warning")
    columns = {c.attribute: c for c in info.columns}
    values = {}
    try:
        for attribute, (before, _after) in entry["changes"].items():
            column = columns.get(attribute)
            if column is not None and before is not None:
                values[attribute] = _value(column, before)
    except ValueError as exc:
        return _done(history_url, _("This row cannot be restored: %(error)s.", error=exc), "error")
    changes = changes_for(model_admin)
    try:
        with changes.transaction():
            audit.note(_("Restores the row deleted in change #%(id)s", id=entry_id))
            changes.create(values, action="restore", hooks=False)
    except ValidationError:
        abort(404)  # outside the user's scope, rolled back: as if the row were not there
    except IntegrityProblem as problem:
        return _done(history_url, _("The database refused the restore: %(error)s",
                                    error=problem.message), "error")
    return _done(admin_url(".detail", slug=model_admin.slug, pk=pk),
                 _("“%(row)s” was restored.", row=entry["object_label"]))
