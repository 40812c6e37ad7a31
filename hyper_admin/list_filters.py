"""Custom list filters (Django's SimpleListFilter, done as a list's other filters are):
:class:`ListFilter` is what an application writes, a title, a query-string parameter, its
choices for a user and the SQL condition of each; :class:`FilterColumn` is how the list sees
one, a filterable "column" whose values are the choices, so that parsing, the WHERE clause,
facet counts, chips, saved views, export and paging take it as they take a column's filter.

The condition is the application's own SQL (a sqlorm ``SQL`` object, as ``scope`` is): its
values go as parameters. The value chosen in the query string only ever selects one of the
choices (anything else is a 400): it is never put into the SQL text. A data layer module: no
Flask, no request; the user is handed in.
"""

from __future__ import annotations

import datetime
import decimal
import enum
import re
import typing as t

from .introspect import ColumnInfo, Hint
from .sql import Dialect, Statement

#: What a parameter_name may be: a lower-case name without ``__`` (which the query string
#: reads as an operator, ``status__in``).
PARAMETER_NAME = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*")
#: Query-string keys the list and its views use for themselves (query.RESERVED, and the
#: counts endpoint's ``field``).
RESERVED_EXTRA = frozenset({"field"})


class ListFilter:
    """A filter of a list that no column says ("SLA breached"), usable in ``list_filter``
    beside column names, as a class or an instance::

        class SlaBreached(ListFilter):
            title = _l("SLA breached")
            parameter_name = "sla_breached"

            def choices(self, user):
                return [("yes", _("Yes"))]

            def condition(self, value, user):
                return SQL("tickets.created_at <", SQL.Param(cutoff))

    ``choices(user)``: the (value, label) pairs the filter panel offers, in order (a value is
    text, as the query string carries it). ``condition(value, user)``: a sqlorm SQL condition
    on the list's rows for one of those values (None: no condition), ANDed with the list's
    scope, search and other filters. Several values chosen at once are ORed.
    """

    title: t.Any = ""
    parameter_name: str = ""

    def choices(self, user: t.Any) -> t.Sequence[tuple[t.Any, t.Any]]:
        raise NotImplementedError

    def condition(self, value: str, user: t.Any) -> t.Any:
        raise NotImplementedError


def as_list_filter(item: t.Any) -> ListFilter | None:
    """``item`` of a ``list_filter`` as a ListFilter instance (a class is instantiated), or
    None when it is a name."""
    if isinstance(item, type) and issubclass(item, ListFilter):
        return item()
    return item if isinstance(item, ListFilter) else None


def filter_key(item: t.Any) -> str:
    """The query-string name of a ``list_filter`` item: a custom filter's parameter_name,
    a relation path as ``order__account__region``, a column's attribute."""
    custom = as_list_filter(item)
    if custom is not None:
        return custom.parameter_name
    return str(item).replace(".", "__")


def is_custom(item: t.Any) -> bool:
    return as_list_filter(item) is not None


class FilterColumn(ColumnInfo):
    """A custom filter as a filterable column of the list (never selected, sorted or
    searched): ``attribute`` is its parameter_name, ``choices`` the user's choices, the
    label its title; :meth:`where` is its condition."""

    is_custom_filter = True

    def __init__(self, list_filter: ListFilter, user: t.Any, table: str):
        values = tuple((str(value), label) for value, label in list_filter.choices(user) or ())
        super().__init__(
            name=list_filter.parameter_name, attribute=list_filter.parameter_name, kind="text",
            python_type=str, sql_type=None, nullable=False, primary_key=False, unique=False,
            lazy=False, default=None, max_length=None, enum=None, choices=values,
            references=None, target_model=None, relation_attribute=None, secret=False,
            hint=Hint(label=list_filter.title), table=table)
        self.list_filter = list_filter
        self.user = user

    @property
    def sortable(self) -> bool:
        return False

    def where(self, stmt: Statement, values: t.Sequence[str]) -> str:
        """The condition of the chosen ``values`` (each one of the choices, checked when the
        query string was parsed), ORed, as SQL text whose parameters go into ``stmt``."""
        parts = []
        for value in dict.fromkeys(values):
            condition = self.list_filter.condition(value, self.user)
            if condition is None:
                return "1 = 1"  # a choice that keeps every row (e.g. "All")
            parts.append(external(stmt, condition))
        return "(" + " OR ".join(parts) + ")" if parts else "1 = 0"


def external(stmt: Statement, condition: t.Any) -> str:
    """``condition`` (a sqlorm SQL object) as text in ``stmt``, its parameters made values
    the database's driver takes: a timestamp computed in Python works on SQLite (which binds
    ISO text, as the admin stores it) as on PostgreSQL."""
    start = len(stmt.params)
    text = stmt.external(condition)
    stmt.params[start:] = [portable(value, stmt.dialect) for value in stmt.params[start:]]
    return text


def portable(value: t.Any, dialect: Dialect) -> t.Any:
    if isinstance(value, enum.Enum):
        value = value.value
    if dialect.is_postgresql:
        return value
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, datetime.datetime):
        return value.isoformat(" ")
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    return value
