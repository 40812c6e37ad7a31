"""Values shown outside lists as lists show them: in a row's history, a revert's preview and the
conflict table of the edit form.

Such values come as the audit trail stored them (JSON: ISO text for dates, text for
decimals), as an edit form's version token holds them (text), or as Python values; each is
coerced to its column's type and formatted by ``cells.format_value`` (the user's locale, one
date format, declared decimal places, choices by label), and a foreign key is shown by the
label of the row it points at, looked up once per target model.
"""

from __future__ import annotations

import typing as t

from . import audit
from .cells import coerced, format_value, label_columns, label_for
from .context import current_state
from .i18n import lazy_gettext as _l, lazy_pgettext
from .introspect import ColumnInfo, model_info
from .query import fetch_rows_by_pk
from .sql import dialect_of

if t.TYPE_CHECKING:
    from .options import ModelAdmin

Labels = dict[str, dict[t.Any, str]]

#: What the audit trail's actions are called on screens.
ACTION_LABELS = {"create": _l("Created"), "update": _l("Changed"), "delete": _l("Deleted"),
                 "revert": lazy_pgettext("a recorded change, undone", "Reverted"),
                 "restore": _l("Restored")}


def action_label(model_admin: "ModelAdmin", action: str) -> str:
    """"Changed", "Deleted"..., or a custom action's own label (whoever may run it now)."""
    if action.startswith("action:"):
        name = action.partition(":")[2]
        return next((a.label for a in model_admin._all_actions() if a.name == name),
                    name.replace("_", " ").capitalize())
    return str(ACTION_LABELS.get(action, action.capitalize()))


def model_admin_for(model: type) -> "ModelAdmin | None":
    """The ModelAdmin of ``model`` in the admin serving the request (None: not registered)."""
    return next((ma for ma in current_state().model_admins() if ma.model is model), None)


def labels_of(model: type, pks: t.Iterable[t.Any], *, user: t.Any = None) -> dict[t.Any, str]:
    """Labels of rows of ``model`` by (single) primary key, in one query; with ``user``, only
    of rows within the model's scope for them (keys a user typed)."""
    info = model_info(model)
    keys = list(dict.fromkeys(pk for pk in pks if pk is not None))
    if not keys or len(info.primary_key) != 1:
        return {}
    engine = current_state().engine
    target_admin = model_admin_for(model)
    scope = target_admin.scope(user) if user is not None and target_admin is not None else None
    rows = fetch_rows_by_pk(engine, dialect_of(engine), info, [(k,) for k in keys],
                            label_columns(target_admin, model), scope=scope)
    pk_name = info.primary_key[0].name
    out = {}
    for row in rows:
        values = coerced(info, row)
        out[values[pk_name]] = label_for(target_admin, model, values)
    return out


def fk_labels(pairs: t.Iterable[tuple[ColumnInfo | None, t.Any]]) -> Labels:
    """The labels of the rows the foreign keys among ``pairs`` (column, value) point at, by
    column name then key: one query per foreign-key column."""
    wanted: dict[str, tuple[ColumnInfo, set]] = {}
    for column, value in pairs:
        if column is None or column.target_model is None or value is None:
            continue
        wanted.setdefault(column.name, (column, set()))[1].add(column.coerce(value))
    return {name: labels_of(column.target_model, keys) for name, (column, keys) in wanted.items()}


def value_text(column: ColumnInfo | None, value: t.Any, labels: Labels | None = None) -> str | None:
    """``value`` of ``column`` as a list's cell reads (None: no value)."""
    if value is None:
        return None
    if column is None:
        return format_value(None, value).text
    if column.secret or isinstance(value, str) and audit.is_cut(value):
        return str(value)  # "[redacted]", or a long value as the trail kept it
    coerced = column.coerce(value)
    if column.target_model is not None:
        label = (labels or {}).get(column.name, {}).get(coerced)
        return label if label is not None else f"#{coerced}"
    return format_value(column, coerced).text
