"""Facet counts of the filter panel: how many rows of the list each choice of a field would keep.

Built like ``query.py``: identifiers only from introspected columns, values only as parameters.
Nothing here touches Flask's request. One statement per field, bounded on any table size:

    SELECT v, count(*) FROM (
        SELECT * FROM (SELECT orders.status AS v FROM orders WHERE <list> AND orders.status = ?
                       LIMIT 10001) AS f0
        UNION ALL
        SELECT * FROM (SELECT ... AND orders.status = ? LIMIT 10001) AS f1 ...
    ) AS facet GROUP BY v

Each branch stops after ``cap + 1`` rows (an index on the column makes that cheap), so a count
reads at most ``cap + 1`` rows per value, and the whole statement runs under a time limit
(``sql.limited``, never more than the request's own limit): past it, no numbers.
"""

from __future__ import annotations

import dataclasses
import typing as t

from .i18n import format_number
from .introspect import ColumnInfo
from .query import ListParams, ListSpec, RelatedColumn, where_clause
from .sql import Dialect, QueryTimeout, Statement, limited, run, to_db

FACET_CAP = 10_000
FACET_TIME_LIMIT_MS = 1_000
#: The key of the "is empty" count in :func:`facet_counts`' answer.
NULL = None


def filter_kind(column: ColumnInfo) -> str:
    """Which control the filter panel shows for ``column``: ``choice`` (enum or declared
    choices), ``bool``, ``date`` (date and datetime), ``number``, ``fk`` or ``text``."""
    if _is_custom(column):
        return "choice"  # whatever its choices for this user (none: the panel leaves it out)
    if column.is_foreign_key:
        return "fk"
    if column.kind == "bool":
        return "bool"
    if column.choices:
        return "choice"
    if column.kind in ("date", "datetime"):
        return "date"
    if column.kind in ("int", "float", "decimal"):
        return "number"
    return "text"


def countable(column: ColumnInfo) -> bool:
    """Facet counts exist for fields with a small, known set of values."""
    return filter_kind(column) in ("choice", "bool")


def facet_values(column: ColumnInfo) -> list[t.Any]:
    """The values counted for ``column``, as the Python values ``parse_value`` gives."""
    if column.kind == "bool":
        return [True, False]
    return [value for value, _ in column.choices or ()]


def facet_statement(dialect: Dialect, spec: ListSpec, params: ListParams, column: ColumnInfo, *,
                    cap: int = FACET_CAP) -> Statement:
    """The counting statement. ``params`` must already leave out the filters on ``column``
    (the caller decides which conditions apply); each value's rows are counted up to
    ``cap + 1``; a nullable column also gets a branch for NULL."""
    # Filters on the counted column itself would make every other option count zero.
    params = dataclasses.replace(params, filters=[f for f in params.filters if f.column is not column])
    stmt = Statement(dialect)
    branches = _branches(column)
    related = column if isinstance(column, RelatedColumn) else None
    numbered = related is not None or _is_custom(column)
    stmt.sql("SELECT v, count(*) AS n FROM (")
    for i, (what, value) in enumerate(branches):
        if i:
            stmt.sql("UNION ALL")
        # A relation path's value is not in the list's table, a custom filter's is a condition:
        # their branches say their number.
        shown = str(int(i)) if numbered else column.sql
        stmt.sql(f"SELECT * FROM (SELECT {shown} AS v FROM {spec.info.table_sql}")
        conditions = where_clause(stmt, spec, params)
        if _is_custom(column):
            conditions.append(t.cast(t.Any, column).where(stmt, [value]))
        elif related is not None:
            conditions.append(related.is_null(dialect, True) if what == "null" else related.within(
                dialect, f"{related.column.sql} = "
                         f"{stmt.param(to_db(related.column, value, dialect))}"))
        elif what == "null":
            conditions.append(f"{column.sql} IS NULL")
        else:
            conditions.append(f"{column.sql} = {stmt.param(to_db(column, value, dialect))}")
        stmt.sql("WHERE " + " AND ".join(conditions))
        stmt.sql(f"LIMIT {int(cap) + 1}) AS f{i}")
    stmt.sql(") AS facet GROUP BY v")
    return stmt


def _is_custom(column: ColumnInfo) -> bool:
    """A custom list filter (list_filters.FilterColumn): each choice counted by its condition."""
    return getattr(column, "is_custom_filter", False)


def _branches(column: ColumnInfo) -> list[tuple[str, t.Any]]:
    """What facet_statement counts, in order: each value, then NULL for a nullable column."""
    branches: list[tuple[str, t.Any]] = [("value", v) for v in facet_values(column)]
    if column.nullable:
        branches.append(("null", None))
    return branches


@dataclasses.dataclass
class FacetCounts:
    """Rows per value (keys are the values of :func:`facet_values`, and :data:`NULL`)."""

    counts: dict[t.Any, int]
    cap: int

    def text(self, value: t.Any) -> str:
        n = self.counts.get(value, 0)
        return format_number(self.cap) + "+" if n > self.cap else format_number(n)

    def number(self, value: t.Any) -> int:
        """The count of ``value`` as a number (the cap when capped): what "row"/"rows" agree
        with."""
        return min(self.counts.get(value, 0), self.cap + 1)

    def capped(self, value: t.Any) -> bool:
        return self.counts.get(value, 0) > self.cap


def facet_counts(engine, dialect: Dialect, spec: ListSpec, params: ListParams,
                 column: ColumnInfo, *, cap: int = FACET_CAP,
                 time_limit_ms: int = FACET_TIME_LIMIT_MS) -> FacetCounts | None:
    """Counts per value of ``column`` among the list's rows (scope, base query, search and the
    filters on other fields), or None when the database took longer than ``time_limit_ms``."""
    if not _branches(column):
        return FacetCounts({}, cap)  # a custom filter with no choice for this user
    stmt = facet_statement(dialect, spec, params, column, cap=cap)
    try:
        with limited(time_limit_ms / 1000):
            rows = run(engine, stmt)
    except QueryTimeout:
        return None
    counts: dict[t.Any, int] = {}
    branches = _branches(column)
    for row in rows:
        if isinstance(column, RelatedColumn) or _is_custom(column):  # the branch's number
            key = branches[int(row["v"])][1]
            counts[key] = counts.get(key, 0) + int(row["n"])
            continue
        key = column.coerce(row["v"])
        if key is not None and column.kind == "bool":
            key = bool(key)
        elif column.enum is not None and key is not None:
            key = getattr(key, "value", key)
        counts[key] = counts.get(key, 0) + int(row["n"])
    return FacetCounts(counts, cap)
