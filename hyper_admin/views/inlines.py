"""Inlines on the add and edit forms (hyper_admin/inlines.py): binding them to the request,
what the templates show of them, saving them with the parent, and
GET /<slug>/inline/<prefix>/row (one blank row for "Add another", with the new
``<prefix>-TOTAL_FORMS`` swapped out of band)."""

from __future__ import annotations

import typing as t

from flask import abort, g, make_response, render_template, request, url_for
from flask_login import current_user

from .. import audit
from ..cells import encode_pk
from ..i18n import in_sentence, lazy_gettext as _l
from ..inlines import ABSOLUTE_MAX, InlineForms, InlineRefused, InlineRow, declared, forms_for
from ..options import ModelAdmin
from ..pipeline import current_state, is_superuser
from .common import (changes_for, labels_of, model_admin_for, object_of, row_url,
                     version_tokens)


def bind(model_admin: ModelAdmin, parent_values: dict | None) -> list[InlineForms]:
    """The inlines of this form for the signed-in user, bound to the post (or as opened), kept
    for this request's rendering of the form (:func:`shown`). A post asking what the user may
    not do on an inline (new rows without ``add``, DELETE without ``delete``) is 403."""
    found = forms_for(model_admin, current_user, engine=current_state().engine,
                      tokens=version_tokens(), parent_values=parent_values)
    try:
        for forms in found:
            if request.method == "POST":
                forms.bind(request.form)
            else:
                forms.initial()
    except InlineRefused:
        abort(403)
    g.hyper_admin_inlines = found
    return found


def validate(found: list[InlineForms]) -> bool:
    ok = True
    for forms in found:
        ok &= forms.validate()
    return ok


def save(found: list[InlineForms], parent_values: dict) -> int:
    """Write every inline's rows (in the caller's transaction); InlineFailed rolls it back.
    Their audit entries name the parent row, whose History lists them with its own."""
    written = 0
    for forms in found if parent_values else ():
        parent = f"{forms.parent_admin.slug}:{encode_pk(forms.parent_admin.info.pk_values(parent_values))}"
        with audit.children_of(parent):
            written += forms.save(changes_for(forms.child_admin), parent_values)
    return written


def has_changes(found: list[InlineForms]) -> bool:
    return any(forms.has_changes for forms in found)


def shown() -> list[dict]:
    """What form.html shows of this request's inlines (none when the form has none)."""
    return [_formset(forms) for forms in g.get("hyper_admin_inlines", ())]


def _formset(forms: InlineForms) -> dict:
    rows = forms.shown_rows()
    labels = forms.labels()
    return {
        "prefix": forms.prefix, "label": forms.label, "layout": forms.layout,
        "errors": forms.errors, "total": len(rows), "initial": forms.initial_count,
        "min_num": forms.inline.min_num,
        "max_num": forms.inline.max_num if forms.inline.max_num is not None else ABSOLUTE_MAX,
        "headers": [c.label for c in forms.shown],
        "rows": [_row(forms, row, labels) for row in rows],
        "can_add": forms.can_add, "can_delete": forms.can_delete,
        "add_url": url_for(".inline_row", slug=forms.parent_admin.slug, prefix=forms.prefix),
        "kept": sum(1 for row in rows if not row.delete), "absolute_max": ABSOLUTE_MAX,
        "add_label": forms.child_admin.phrase("Add %(model)s"),
        "singular": in_sentence(forms.child_admin.verbose_name),
    }


def _row(forms: InlineForms, row: InlineRow, labels: t.Any) -> dict:
    _prepare_fk_fields(forms, row)
    editable = {c.attribute for c in (forms.existing_columns if row.existing else forms.new_columns)}
    cells = []
    for column in forms.shown:
        if column.attribute in editable:
            cells.append({"label": column.label, "field": row.form.field(column.attribute)})
        else:
            cells.append({"label": column.label, "text": forms.readonly_text(row, column, labels)})
    prefix = f"{forms.prefix}-{row.index}-"
    hidden = []
    if row.existing:
        hidden = [(prefix + c.attribute, "" if row.pk is None else str(
            row.values.get(c.name) if row.values else "")) for c in forms.key_columns]
        hidden.append((prefix + "_version", row.version or ""))
    title = None
    if row.existing and row.values is not None:
        title = forms.child_admin.row_label(object_of(forms.child_admin, row.values))
    return {"index": row.index, "existing": row.existing, "cells": cells, "hidden": hidden,
            "delete_name": prefix + "DELETE", "delete": row.delete,
            "can_delete": row.existing and forms.can_delete, "errors": row.errors,
            "conflict": row.conflict, "title": title,
            "url": row_url(forms.child_admin.model, row.pk) if row.existing and row.pk else None}


def _prepare_fk_fields(forms: InlineForms, row: InlineRow) -> None:
    """As the parent form's pickers (views/rows.py): a search of the target's labels, through
    the child's own field lookup when the user may not view the target."""
    for column in (forms.existing_columns if row.existing else forms.new_columns):
        if column.target_model is None:
            continue
        field = row.form.field(column.attribute)
        target_admin = model_admin_for(column.target_model)
        if target_admin is not None and target_admin.has_permission("view", current_user):
            field.lookup_url = url_for(".lookup", slug=target_admin.slug)
        else:
            field.lookup_url = url_for(".field_lookup", slug=forms.child_admin.slug,
                                       field=column.attribute)
        current = field.data if field.data not in (None, "") else None
        field.current_label = None
        field.detail_url = None
        if current is not None:
            label = labels_of(column.target_model, [current], scoped=bool(field.raw_data)).get(current)
            field.current_label = label or f"#{current}"
            field.detail_url = row_url(column.target_model, (current,))


def row_view(model_admin: ModelAdmin, prefix: str):
    """One blank row at index ``n`` (``?n=`` or the posted ``<prefix>-TOTAL_FORMS`` htmx
    includes), and that count plus one swapped into the form out of band."""
    forms = next((f for f in forms_for(model_admin, current_user, engine=current_state().engine,
                                       tokens=version_tokens()) if f.prefix == prefix), None)
    if forms is None:
        abort(404)
    if not forms.can_add:
        abort(403)
    text = request.args.get("n", request.args.get(f"{prefix}-TOTAL_FORMS", ""))
    try:
        index = int(text)
    except ValueError:
        abort(400, description="n must be a number")
    if not 0 <= index < ABSOLUTE_MAX:
        abort(400, description="n is out of range")
    row = forms.blank(index)
    formset = {"prefix": forms.prefix, "layout": forms.layout, "total": index + 1,
               "singular": in_sentence(forms.child_admin.verbose_name)}
    html = render_template("hyper_admin/partials/inline_row_response.html", fs=formset,
                           row=_row(forms, row, {}))
    return make_response(html)


FAILED = _l("A row below could not be saved, so nothing was saved: see the row.")


# ---------------------------------------------------------------------------------------------
# A parent's History: its children's entries with its own


def child_admins(model_admin: ModelAdmin, user: t.Any) -> dict[str, ModelAdmin]:
    """The ModelAdmins (by slug) of ``model_admin``'s inlines whose entries ``user`` reads on
    its History: models they may view, and without a scope unless superuser (an entry names
    a row, and whether that row was within their scope can no longer be asked)."""
    found = {}
    for inline in declared(model_admin, user):
        child = model_admin_for(inline.model)
        if child is None or not inline.has_permission("view", user, child):
            continue
        if child.scope(user) is None or is_superuser():
            found[child.slug] = child
    return found


def child_entries(entries: list[dict], found: list[dict], children: dict[str, ModelAdmin],
                  shown: t.Callable[[ModelAdmin, list[dict]], list[dict]]) -> list[dict]:
    """``entries`` (the parent's own, as shown) with the children's among ``found``, each
    shown as its own model's History shows it and naming its row, newest first."""
    by_id = {entry["id"]: entry for entry in entries}
    for entry in found:
        child = children.get(entry["model_slug"])
        if child is None or entry["id"] in by_id:
            continue
        item = shown(child, [entry])[0]
        item["child"] = {"model": child.verbose_name, "label": entry["object_label"],
                         "url": url_for(".history", slug=child.slug, pk=entry["pk"])}
        by_id[entry["id"]] = item
    return sorted(by_id.values(), key=lambda e: e["id"], reverse=True)
