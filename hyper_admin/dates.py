"""The list's date drill-down (``ModelAdmin.date_hierarchy``): which years, months or days hold
rows of the list, found without reading the table.

Django's date_hierarchy asks for the distinct years (months, days) of every matching row, a
walk of the whole table. Here each period is a probe that stops at its first row, which an
index on the column finds at once, all the probes of a level in one statement:

    SELECT k FROM (SELECT 3 AS k FROM (SELECT 1 FROM orders WHERE <list>
                                       AND created_at >= ? AND created_at < ? LIMIT 1) AS p3
                   UNION ALL ...) AS probes

The years level first reads the oldest and newest value (two ``ORDER BY ... LIMIT 1``
subqueries, also index seeks), then probes each year between them (the newest
``MAX_YEARS``). Built like ``query.py``: identifiers only from introspected columns, values
only as parameters; under a time limit (``sql.limited``), past which there is no bar.
"""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
import typing as t

from .facets import FACET_TIME_LIMIT_MS
from .introspect import ColumnInfo
from .query import ListParams, ListSpec, RelatedColumn, where_clause
from .sql import Dialect, QueryTimeout, Statement, limited, run, to_db

#: Years shown at most (the newest ones).
MAX_YEARS = 30


@dataclasses.dataclass(frozen=True)
class Selection:
    """Where the drill-down stands: nothing chosen, a year, a month or a day."""

    year: int | None = None
    month: int | None = None
    day: int | None = None

    @property
    def level(self) -> str:
        """What it lists: ``year``, ``month`` or ``day``; ``none`` once a day is chosen."""
        if self.year is None:
            return "year"
        if self.month is None:
            return "month"
        return "day" if self.day is None else "none"

    def bounds(self) -> tuple[dt.date, dt.date]:
        """The first and last day of the chosen period (as the list's ``__gte``/``__lte``)."""
        assert self.year is not None
        if self.month is None:
            return dt.date(self.year, 1, 1), dt.date(self.year, 12, 31)
        if self.day is None:
            last = calendar.monthrange(self.year, self.month)[1]
            return dt.date(self.year, self.month, 1), dt.date(self.year, self.month, last)
        day = dt.date(self.year, self.month, self.day)
        return day, day


def selection_of(gte: str | None, lte: str | None) -> Selection:
    """The period a ``<field>__gte`` / ``<field>__lte`` pair stands for: a whole year, month or
    day. Anything else (no bounds, one bound, another range such as "last 7 days") starts from
    the years."""
    try:
        first = dt.date.fromisoformat(gte) if gte else None
        last = dt.date.fromisoformat(lte) if lte else None
    except ValueError:
        return Selection()
    if first is None or last is None or first > last:
        return Selection()
    if first == last:
        return Selection(first.year, first.month, first.day)
    if (first.month, first.day) == (1, 1) and last == dt.date(first.year, 12, 31):
        return Selection(first.year)
    if first.day == 1 and last == dt.date(
            first.year, first.month, calendar.monthrange(first.year, first.month)[1]):
        return Selection(first.year, first.month)
    return Selection()


def _start(column: ColumnInfo, day: dt.date) -> t.Any:
    return dt.datetime(day.year, day.month, day.day) if column.kind == "datetime" else day


def _periods(selection: Selection, lo: int, hi: int) -> list[tuple[int, dt.date, dt.date]]:
    """(key, first day, first day after) of each period the level lists."""
    if selection.level == "year":
        return [(y, dt.date(y, 1, 1), dt.date(y + 1, 1, 1)) for y in range(lo, hi + 1)]
    year = t.cast(int, selection.year)
    if selection.level == "month":
        return [(m, dt.date(year, m, 1),
                 dt.date(year + 1, 1, 1) if m == 12 else dt.date(year, m + 1, 1))
                for m in range(1, 13)]
    month = t.cast(int, selection.month)
    days = calendar.monthrange(year, month)[1]
    return [(d, dt.date(year, month, d), dt.date(year, month, d) + dt.timedelta(days=1))
            for d in range(1, days + 1)]


def _without_column(params: ListParams, column: ColumnInfo) -> ListParams:
    # The drill-down's own bounds are what it replaces: probe among the rest of the list.
    return dataclasses.replace(params, filters=[f for f in params.filters if f.column is not column])


def year_range(engine, dialect: Dialect, spec: ListSpec, params: ListParams,
               column: ColumnInfo) -> tuple[int, int] | None:
    """The years of the oldest and newest value among the list's rows, or None (no rows)."""
    rows = run(engine, year_range_statement(dialect, spec, params, column))
    if not rows:
        return None
    lo, hi = (getattr(column.coerce(rows[0][key]), "year", None) for key in ("lo", "hi"))
    if lo is None or hi is None:  # no rows, or text that is no date
        return None
    return lo, min(hi, dt.MAXYEAR - 1)


def year_range_statement(dialect: Dialect, spec: ListSpec, params: ListParams,
                         column: ColumnInfo) -> Statement:
    """The oldest and newest value of ``column`` among the list's rows (``lo``, ``hi``)."""
    params = _without_column(params, column)
    stmt = Statement(dialect)
    ends = []
    for direction in ("ASC", "DESC"):
        conditions = where_clause(stmt, spec, params)
        if isinstance(column, RelatedColumn):
            # The values the list's rows lead to, read in the last model's own table.
            where = column.reached(spec.info.table_sql, conditions)
            own = column.column.sql
            ends.append(f"(SELECT {own} FROM {column.target.table_sql} WHERE {where} AND "
                        f"{own} IS NOT NULL ORDER BY {own} {direction} LIMIT 1)")
            continue
        conditions.append(f"{column.sql} IS NOT NULL")
        ends.append(f"(SELECT {column.sql} FROM {spec.info.table_sql} WHERE "
                    f"{' AND '.join(conditions)} ORDER BY {column.sql} {direction} LIMIT 1)")
    stmt.sql(f"SELECT {ends[0]} AS lo, {ends[1]} AS hi")
    return stmt


def probe_statement(dialect: Dialect, spec: ListSpec, params: ListParams, column: ColumnInfo,
                    periods: list[tuple[int, dt.date, dt.date]]) -> Statement:
    """One statement answering which of ``periods`` hold a row of the list."""
    params = _without_column(params, column)
    stmt = Statement(dialect)
    stmt.sql("SELECT k FROM (")
    for i, (key, first, after) in enumerate(periods):
        if i:
            stmt.sql("UNION ALL")
        conditions = where_clause(stmt, spec, params)
        own = column.column if isinstance(column, RelatedColumn) else column
        period = (f"{own.sql} >= {stmt.param(to_db(own, _start(own, first), dialect))} AND "
                  f"{own.sql} < {stmt.param(to_db(own, _start(own, after), dialect))}")
        # A relation path's dates: rows whose path leads to one in the period (semi-joins).
        conditions.append(column.within(dialect, period) if own is not column else period)
        stmt.sql(f"SELECT {int(key)} AS k FROM (SELECT 1 AS one FROM {spec.info.table_sql} "
                 f"WHERE {' AND '.join(conditions)} LIMIT 1) AS p{i}")
    stmt.sql(") AS probes")
    return stmt


def periods_with_rows(engine, dialect: Dialect, spec: ListSpec, params: ListParams,
                      column: ColumnInfo, selection: Selection, *,
                      time_limit_ms: int = FACET_TIME_LIMIT_MS) -> list[int] | None:
    """The years, months or days (as numbers, ascending) of ``selection``'s level that hold
    rows of the list; None when the database took longer than ``time_limit_ms``."""
    if selection.level == "none":
        return []
    try:
        with limited(time_limit_ms / 1000):
            lo = hi = 0
            if selection.level == "year":
                found = year_range(engine, dialect, spec, params, column)
                if found is None:
                    return []
                lo, hi = max(found[0], found[1] - MAX_YEARS + 1), found[1]
            periods = _periods(selection, lo, hi)
            rows = run(engine, probe_statement(dialect, spec, params, column, periods))
    except QueryTimeout:
        return None
    return sorted(int(row["k"]) for row in rows)
