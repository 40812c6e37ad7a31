"""The SQL of an inline: the rows of a child model that point at one parent row (its foreign
key), in the inline's order, within the child's scope. Names come from introspected columns
only; the parent's key is a parameter."""

from __future__ import annotations

import typing as t

from .introspect import ColumnInfo, ModelInfo, quote_identifier
from .sql import Dialect, Statement, run, to_db


def fetch_children(engine, dialect: Dialect, child: ModelInfo, fk: ColumnInfo, parent_key: t.Any,
                   columns: t.Sequence[ColumnInfo], *, ordering: t.Sequence[tuple[ColumnInfo, bool]] = (),
                   scope: t.Any = None, limit: int = 1000,
                   keys: t.Sequence[tuple] | None = None) -> list[t.Any]:
    """Rows of ``child`` whose ``fk`` holds ``parent_key`` (at most ``limit``), ordered by
    ``ordering`` (column, descending) then by the key; only those of ``keys`` when given (a
    save reads back the rows its form showed, and no others)."""
    stmt = Statement(dialect)
    names = {c.name: c for c in columns}
    for column in child.primary_key:
        names.setdefault(column.name, column)
    stmt.sql("SELECT " + ", ".join(f"{c.select_sql} AS {quote_identifier(c.name)}"
                                   for c in names.values())
             + f" FROM {child.table_sql} WHERE {fk.sql} = "
             + stmt.param(to_db(fk, parent_key, dialect)))
    if scope is not None:
        stmt.sql("AND " + stmt.external(scope))
    if keys is not None:
        if not keys:
            return []
        alternatives = []
        for key in keys:
            parts = [f"{column.sql} = {stmt.param(to_db(column, value, dialect))}"
                     for column, value in zip(child.primary_key, key)]
            alternatives.append("(" + " AND ".join(parts) + ")")
        stmt.sql("AND (" + " OR ".join(alternatives) + ")")
    order = [f"{column.sql} {'DESC' if descending else 'ASC'}" for column, descending in ordering]
    order += [f"{key.sql} ASC" for key in child.primary_key]
    stmt.sql(f"ORDER BY {', '.join(order)} LIMIT {int(limit)}")
    return list(run(engine, stmt))
