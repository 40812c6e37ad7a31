"""The SQL of the dashboard's panels: one aggregate statement per panel, on both dialects.

Identifiers only ever come from introspected columns (``ColumnInfo.sql``), values only ever as
parameters, like everywhere else (``sql.py``). Time buckets are computed by the database:
PostgreSQL ``date_trunc`` (weeks start on Monday, ISO), SQLite ``strftime`` with the ``weekday
0, -6 days`` modifiers (the Monday of the week, the same as PostgreSQL's). Timestamps are read
as UTC: a PostgreSQL ``timestamptz`` column is bucketed ``AT TIME ZONE 'UTC'``; a plain
``timestamp`` (or SQLite's ISO text, ``YYYY-MM-DD HH:MM:SS``) is taken to hold UTC already.
"""

from __future__ import annotations

import datetime as dt
import typing as t
from dataclasses import dataclass

from .introspect import ColumnInfo, ModelInfo, quote_identifier
from .sql import Dialect, Statement, to_db

AGGREGATES = ("count", "count_distinct", "sum", "avg", "min", "max", "median")
NUMERIC_KINDS = ("int", "float", "decimal")
BUCKETS = ("hour", "day", "week")
OPERATORS = {
    "exact": "=", "ne": "<>", "gt": ">", "gte": ">=", "lt": "<", "lte": "<=",
    "in": "IN", "not_in": "NOT IN", "isnull": "IS NULL",
}


@dataclass(frozen=True)
class Value:
    """What a panel adds up: ``count`` (rows) or an aggregate of one column."""

    aggregate: str
    column: ColumnInfo | None = None

    @property
    def summable(self) -> bool:
        """Whether values of parts add up to the value of the whole (totals make sense)."""
        return self.aggregate in ("count", "sum")


@dataclass(frozen=True)
class Condition:
    """``column <op> value``, from a ``where`` mapping such as ``{"status__in": [...]}``."""

    column: ColumnInfo
    op: str
    value: t.Any


def parse_value(info: ModelInfo, spec: t.Any, *, owner: str) -> Value:
    """``"count"``, or ``(aggregate, column)`` such as ``("sum", "total")``."""
    if spec == "count":
        return Value("count")
    if not (isinstance(spec, (tuple, list)) and len(spec) == 2):
        raise TypeError(f"{owner}: value is 'count' or (aggregate, column), not {spec!r}")
    aggregate, name = spec
    if aggregate not in AGGREGATES:
        raise TypeError(f"{owner}: unknown aggregate {aggregate!r} (one of {', '.join(AGGREGATES)})")
    column = column_of(info, name, owner=owner)
    if aggregate in ("sum", "avg", "median") and column.kind not in NUMERIC_KINDS:
        raise TypeError(f"{owner}: {aggregate} of {name!r} needs a numeric column")
    return Value(aggregate, column)


def column_of(info: ModelInfo, name: t.Any, *, owner: str, kinds: t.Sequence[str] = ()) -> ColumnInfo:
    """The column of ``info`` named ``name`` (an attribute name); a typo fails here, at start-up."""
    column = info.column(name) if isinstance(name, str) else None
    if column is None:
        known = ", ".join(c.attribute for c in info.columns)
        raise TypeError(f"{owner}: {info.model.__name__} has no column {name!r} (it has {known})")
    if column.secret:
        raise TypeError(f"{owner}: {name!r} looks secret; panels do not show secret columns")
    if kinds and column.kind not in kinds:
        raise TypeError(f"{owner}: {name!r} must be a column of kind {' or '.join(kinds)}, "
                        f"not {column.kind}")
    return column


def parse_conditions(info: ModelInfo, mapping: t.Mapping[str, t.Any], *, owner: str) -> list[Condition]:
    """``{"status": "open", "total__gte": 100, "region__in": ["eu", "us"]}`` as conditions."""
    found = []
    for key, value in mapping.items():
        name, _, op = str(key).partition("__")
        op = op or "exact"
        if op not in OPERATORS:
            raise TypeError(f"{owner}: unknown operator {op!r} in {key!r} "
                            f"(one of {', '.join(OPERATORS)})")
        column = column_of(info, name, owner=owner)
        if op in ("in", "not_in"):
            if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
                raise TypeError(f"{owner}: {key!r} takes a list of values")
            value = list(value)
        found.append(Condition(column, op, value))
    return found


# ---------------------------------------------------------------------------------------------
# Pieces


def _zone_aware(column: ColumnInfo) -> bool:
    sql_type = (column.sql_type or "").lower()
    return "timestamptz" in sql_type or "with time zone" in sql_type


def time_param(column: ColumnInfo, value: dt.datetime, dialect: Dialect) -> t.Any:
    """A naive UTC datetime as the parameter ``column`` is compared with."""
    if dialect.is_postgresql and _zone_aware(column):
        return value.replace(tzinfo=dt.timezone.utc)
    if not dialect.is_postgresql:
        # The text SQLite compares with: "YYYY-MM-DD HH:MM:SS", as the admin writes them.
        return value.replace(microsecond=0).isoformat(" ")
    return to_db(column, value, dialect)


def bucket_sql(column: ColumnInfo, bucket: str, dialect: Dialect) -> str:
    """The start of the bucket ``column`` falls in, as an SQL expression."""
    if bucket not in BUCKETS:
        raise ValueError(f"bucket is one of {', '.join(BUCKETS)}")
    if dialect.is_postgresql:
        value = f"({column.sql} AT TIME ZONE 'UTC')" if _zone_aware(column) else column.sql
        return f"date_trunc('{bucket}', {value})"
    if bucket == "hour":
        return f"strftime('%Y-%m-%d %H:00:00', {column.sql})"
    if bucket == "day":
        return f"strftime('%Y-%m-%d 00:00:00', {column.sql})"
    return f"strftime('%Y-%m-%d 00:00:00', {column.sql}, 'weekday 0', '-6 days')"


def conditions_sql(stmt: Statement, conditions: t.Sequence[t.Any]) -> list[str]:
    """Each condition as SQL text (parameters added to ``stmt`` in order): ``Condition``s and
    sqlorm SQL objects (a scope, a ``where=SQL(...)``)."""
    dialect = stmt.dialect
    out = []
    for condition in conditions:
        if not isinstance(condition, Condition):
            out.append(stmt.external(condition))
            continue
        column, op, value = condition.column, condition.op, condition.value
        if op == "isnull":
            out.append(f"{column.sql} IS {'' if value else 'NOT '}NULL")
        elif op in ("in", "not_in"):
            if not value:
                out.append("1 = 0" if op == "in" else "1 = 1")
            else:
                values = [to_db(column, v, dialect) for v in value]
                out.append(f"{column.sql} {OPERATORS[op]} {stmt.params_list(values)}")
        elif value is None and op in ("exact", "ne"):
            out.append(f"{column.sql} IS {'' if op == 'exact' else 'NOT '}NULL")
        else:
            if isinstance(value, dt.datetime) and column.kind == "datetime":
                param = time_param(column, value, dialect)
            else:
                param = to_db(column, value, dialect)
            out.append(f"{column.sql} {OPERATORS[op]} {stmt.param(param)}")
    return out


def _where(stmt: Statement, conditions: t.Sequence[t.Any], extra: t.Sequence[str] = ()) -> None:
    parts = conditions_sql(stmt, conditions) + list(extra)
    if parts:
        stmt.sql("WHERE " + " AND ".join(parts))


def _aggregate(value: Value, when: str | None = None) -> str:
    """``value`` as an aggregate expression, over the rows where ``when`` holds (if given)."""
    column = value.column.sql if value.column is not None else None
    if value.aggregate == "count":
        if column is None:
            return f"count(CASE WHEN {when} THEN 1 END)" if when else "count(*)"
        return f"count(CASE WHEN {when} THEN {column} END)" if when else f"count({column})"
    inner = f"CASE WHEN {when} THEN {column} END" if when else column
    if value.aggregate == "count_distinct":
        return f"count(DISTINCT {inner})"
    if value.aggregate == "sum":
        return f"coalesce(sum({inner}), 0)"
    return f"{value.aggregate}({inner})"


# ---------------------------------------------------------------------------------------------
# Statements


def metric(dialect: Dialect, info: ModelInfo, value: Value, conditions: t.Sequence[t.Any], *,
           timestamp: ColumnInfo | None = None, start: dt.datetime | None = None,
           middle: dt.datetime | None = None, end: dt.datetime | None = None) -> Statement:
    """One number, or two when a period is given: rows with ``timestamp`` in [middle, end) are
    the current period ("current"), [start, middle) the previous one ("previous").

    Medians: the middle row (or the mean of the two middle rows) by ``row_number()`` over the
    sorted values, the same on both dialects. They come as rows ``(p, v)`` instead: ``p`` is 1
    for the current period, 0 for the previous one.
    """
    stmt = Statement(dialect)
    periods = timestamp is not None and start is not None
    if value.aggregate == "median":
        column = value.column.sql
        stmt.sql("SELECT p, avg(v) AS v FROM (SELECT p, v, row_number() OVER (PARTITION BY p "
                 "ORDER BY v) AS rn, count(*) OVER (PARTITION BY p) AS n FROM (SELECT")
        if periods:
            stmt.sql(f"CASE WHEN {timestamp.sql} >= "
                     f"{stmt.param(time_param(timestamp, middle, dialect))} THEN 1 ELSE 0 END AS p,")
        else:
            stmt.sql("1 AS p,")
        stmt.sql(f"{column} AS v FROM {info.table_sql}")
        extra = [f"{column} IS NOT NULL"]
        _where_with_period(stmt, conditions, extra, timestamp if periods else None, start, end)
        stmt.sql(") AS m) AS r WHERE rn IN ((n + 1) / 2, (n + 2) / 2) GROUP BY p")
        return stmt
    if periods:
        current = _aggregate(value, f"{timestamp.sql} >= {stmt.param(time_param(timestamp, middle, dialect))}")
        previous = _aggregate(value, f"{timestamp.sql} < {stmt.param(time_param(timestamp, middle, dialect))}")
        stmt.sql(f"SELECT {current} AS current, {previous} AS previous FROM {info.table_sql}")
    else:
        stmt.sql(f"SELECT {_aggregate(value)} AS current FROM {info.table_sql}")
    _where_with_period(stmt, conditions, [], timestamp if periods else None, start, end)
    return stmt


def _where_with_period(stmt: Statement, conditions, extra: list[str], timestamp: ColumnInfo | None,
                       start: dt.datetime | None, end: dt.datetime | None) -> None:
    parts = conditions_sql(stmt, conditions) + extra
    if timestamp is not None:
        dialect = stmt.dialect
        parts.append(f"{timestamp.sql} >= {stmt.param(time_param(timestamp, start, dialect))}")
        parts.append(f"{timestamp.sql} < {stmt.param(time_param(timestamp, end, dialect))}")
    if parts:
        stmt.sql("WHERE " + " AND ".join(parts))


@dataclass(frozen=True)
class SeriesQuery:
    timestamp: ColumnInfo
    value: Value
    conditions: tuple[t.Any, ...]


def time_series(dialect: Dialect, info: ModelInfo, series: t.Sequence[SeriesQuery], *,
                bucket: str, start: dt.datetime, end: dt.datetime) -> Statement:
    """Rows ``(s, b, v)``: series index, bucket start, value; only buckets that have rows (the
    caller fills the others with 0). Several series are one statement (``UNION ALL``)."""
    stmt = Statement(dialect)
    for index, one in enumerate(series):
        if index:
            stmt.sql("UNION ALL")
        bucket_expr = bucket_sql(one.timestamp, bucket, dialect)
        stmt.sql(f"SELECT {int(index)} AS s, {bucket_expr} AS b, {_aggregate(one.value)} AS v "
                 f"FROM {info.table_sql}")
        _where_with_period(stmt, one.conditions, [], one.timestamp, start, end)
        stmt.sql(f"GROUP BY {bucket_expr}")
    return stmt


def breakdown(dialect: Dialect, info: ModelInfo, by: ColumnInfo, value: Value,
              conditions: t.Sequence[t.Any], *, top: int) -> Statement:
    """Rows ``(k, v, total, n_groups)``: the ``top`` values of ``by`` with the largest ``value``,
    and (a window over the groups, computed before the LIMIT) the total over every group and
    how many groups there are."""
    stmt = Statement(dialect)
    aggregate = _aggregate(value)
    total = f"sum({aggregate}) OVER ()" if value.summable else "NULL"
    stmt.sql(f"SELECT {by.sql} AS k, {aggregate} AS v, {total} AS total, count(*) OVER () AS n_groups "
             f"FROM {info.table_sql}")
    _where(stmt, conditions)
    stmt.sql(f"GROUP BY {by.sql} ORDER BY v DESC NULLS LAST, k LIMIT {int(top)}")
    return stmt


def rows(dialect: Dialect, info: ModelInfo, columns: t.Sequence[ColumnInfo],
         conditions: t.Sequence[t.Any], *, order: t.Sequence[tuple[ColumnInfo, bool]],
         limit: int) -> Statement:
    """The first ``limit`` rows (primary key and ``columns``) in ``order`` ((column,
    descending) pairs; the primary key breaks ties)."""
    stmt = Statement(dialect)
    names: dict[str, ColumnInfo] = {c.name: c for c in info.primary_key}
    for column in columns:
        names.setdefault(column.name, column)
    stmt.sql("SELECT " + ", ".join(f"{c.sql} AS {quote_identifier(c.name)}" for c in names.values())
             + f" FROM {info.table_sql}")
    _where(stmt, conditions)
    keys = list(order)
    for column in info.primary_key:
        if all(column is not c for c, _ in keys):
            keys.append((column, bool(keys and keys[0][1])))
    stmt.sql("ORDER BY " + ", ".join(f"{c.sql} {'DESC' if desc else 'ASC'} NULLS LAST" for c, desc in keys)
             + f" LIMIT {int(limit)}")
    return stmt
