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

from .. import audit
from ..cells import format_value
from ..introspect import ColumnInfo
from .common import labels_of

Labels = dict[str, dict[t.Any, str]]


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
