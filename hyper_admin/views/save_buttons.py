"""The save buttons of the add and edit forms, named as Django's (CONTRACT §6): ``_save``,
``_continue`` (Save and continue editing, also Ctrl/Cmd+S), ``_addanother`` and, on the edit
form, ``_saveasnew`` (a copy of the posted values, created as a new row). A form posted with
no button name (a script) is a ``_save``. Where each one goes after a successful save is decided
here; views/rows.py asks.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass

from flask import flash, request, url_for
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from ..changes import form_columns
from ..htmx import current_htmx, push_url
from ..i18n import _
from ..introspect import ColumnInfo
from ..options import ModelAdmin
from .common import require

SAVE, CONTINUE, ADD_ANOTHER, SAVE_AS_NEW = "_save", "_continue", "_addanother", "_saveasnew"


@dataclass(frozen=True)
class SaveButton:
    name: str
    label: str
    primary: bool = False
    shortcut: str | None = None   # aria-keyshortcuts


def chosen() -> str:
    """The button the form was posted with; none named (a script's POST) is Save."""
    for name in (SAVE_AS_NEW, CONTINUE, ADD_ANOTHER):
        if name in request.form:
            return name
    return SAVE


def buttons(model_admin: ModelAdmin, editing: bool) -> list[SaveButton]:
    """The form's buttons for the signed-in user: adding rows is what "Save and add another"
    and "Save as new" need."""
    may_add = model_admin.has_permission("add", current_user)
    shown = [SaveButton(SAVE, _("Save"), primary=True),
             SaveButton(CONTINUE, _("Save and continue editing"),
                        shortcut="Control+S Meta+S")]
    if may_add:
        shown.append(SaveButton(ADD_ANOTHER, _("Save and add another")))
    if editing and may_add:
        shown.append(SaveButton(SAVE_AS_NEW, _("Save as new")))
    return shown


def _edit_url(model_admin: ModelAdmin, pk_text: str) -> str:
    return url_for(".edit", slug=model_admin.slug, pk=pk_text)


def _add_url(model_admin: ModelAdmin, after: str | None) -> str:
    return url_for(".create", slug=model_admin.slug, **({"next": after} if after else {}))


def after_create(model_admin: ModelAdmin, pk_text: str, after: str | None) -> str | None:
    """Where a new row's form goes for the button pressed; None: as Save does."""
    button = chosen()
    if button in (CONTINUE, SAVE_AS_NEW):
        return _edit_url(model_admin, pk_text)
    if button == ADD_ANOTHER and model_admin.has_permission("add", current_user):
        return _add_url(model_admin, after)
    return None


def after_edit(model_admin: ModelAdmin, pk_text: str) -> str | None:
    """Where a saved edit form goes for the button pressed; None: as Save does."""
    button = chosen()
    if button == CONTINUE:
        return _edit_url(model_admin, pk_text)
    if button == ADD_ANOTHER and model_admin.has_permission("add", current_user):
        return _add_url(model_admin, None)
    return None


def unique_columns(model_admin: ModelAdmin) -> list[ColumnInfo]:
    """Columns no two rows may share: the primary key and what the model declares unique."""
    return [c for c in model_admin.info.columns if c.primary_key or c.unique]


def _same(column: ColumnInfo, posted: str, value: t.Any) -> bool:
    if value is None:
        return False
    shown = value.value if hasattr(value, "value") and not isinstance(value, str) else value
    return posted.strip() == str(shown).strip()


def save_as_new(model_admin: ModelAdmin, source: dict, create: t.Callable[..., t.Any]):
    """"Save as new" on an edit form: the add form's save of the posted values (audited as a
    create), then the new row's edit page. A unique field still holding the copied row's value
    is cleared when it may be empty, else the add form comes back with an error on it."""
    require(model_admin, "add")
    editable, _readonly = form_columns(model_admin, current_user, None)
    offered = {c.attribute for c in editable}
    formdata = MultiDict(request.form)
    refused: dict[str, str] = {}
    cleared: list[str] = []
    for column in unique_columns(model_admin):
        posted = formdata.get(column.attribute)
        if column.attribute not in offered or posted is None:
            continue
        if not _same(column, posted, source.get(column.name)):
            continue
        if column.nullable and not column.primary_key:
            formdata[column.attribute] = ""
            cleared.append(str(column.label))
        else:
            refused[column.attribute] = _(
                "Enter another value: this one belongs to the row you copied.")
    response = create(model_admin, formdata=formdata, refused=refused)
    if response.status_code < 300 or response.status_code >= 400:
        # The add form with its errors: its address is the add form's, not the copied row's.
        if current_htmx().request:
            push_url(response, url_for(".create", slug=model_admin.slug))
    elif cleared:
        flash(_("Cleared in the copy, as no two rows may share them: %(fields)s.",
                fields=", ".join(cleared)), "info")
    return response
