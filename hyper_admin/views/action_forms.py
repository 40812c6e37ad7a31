"""The form of an action that asks for input (action_forms.py), bound to the action's POST:
its pickers pointed at the model's own field lookups, its keys checked within the target's
scope before anything is written."""

from __future__ import annotations

import typing as t

from flask import request, url_for
from flask_login import current_user

from ..action_forms import ForeignKeyPicker, make_form, pickers
from ..changes import pickable_foreign_keys
from ..i18n import _
from ..introspect import model_info
from ..options import ActionInfo, ModelAdmin
from ..fields import strict_coerce
from .common import labels_of, model_admin_for


def bind(model_admin: ModelAdmin, action: ActionInfo | None) -> t.Any:
    """The action's form (None: it asks for nothing): the posted values once the user
    confirmed, its defaults when the dialog first opens."""
    if action is None or action.form is None:
        return None
    confirmed = request.form.get("confirmed") == "1"
    form = make_form(action.form, request.form if confirmed else None)
    pickable = pickable_foreign_keys(model_admin, current_user)
    for field in pickers(form):
        _prepare(model_admin, field, field.column in pickable)
    return form


def _prepare(model_admin: ModelAdmin, field: ForeignKeyPicker, may_pick: bool) -> None:
    """The picker searches what the model's form field of its column searches (views/lookup.py
    field_lookup: the target's labels within its scope); its key is the target's key type."""
    column = model_admin.info.column(field.column)
    target = column.target_model if column is not None else None
    if target is None:
        return
    field.key_column = model_info(target).primary_key[0]
    if field.raw_data:
        _coerce(field)
    if may_pick:
        field.lookup_url = url_for(".field_lookup", slug=model_admin.slug, field=field.column)
    if field.data is not None:
        # A posted key is named only within the target's scope (as on the model's own form).
        field.current_label = labels_of(target, [field.data], scoped=True).get(field.data)


def _coerce(field: ForeignKeyPicker) -> None:
    text = field.raw_data[0].strip() if field.raw_data else ""
    field.data = None
    if not text:
        return
    try:
        field.data = strict_coerce(field.key_column, text)
    except (ValueError, TypeError):
        field.process_errors.append(_("Not a valid choice."))


def validate(model_admin: ModelAdmin, form: t.Any) -> bool:
    """The form's own validation, then each picked key: a row within the target's scope that
    the user may pick (the column is on their form), else an error on that field."""
    valid = form.validate()
    pickable = pickable_foreign_keys(model_admin, current_user)
    for field in pickers(form):
        if field.errors or field.data is None:
            continue
        if field.column not in pickable or field.current_label is None:
            target_admin = model_admin_for(model_admin.info.column(field.column).target_model)
            field.errors = list(field.errors) + [
                target_admin.phrase("Choose an existing %(model)s.") if target_admin
                else _("Choose an existing row.")]
            valid = False
    return valid
