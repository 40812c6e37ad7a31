"""INSERT, UPDATE and DELETE of one model's rows, each in the caller's transaction, and the
translation of database integrity errors into messages on form fields (never the raw text)."""

from __future__ import annotations

import re
import typing as t
from dataclasses import dataclass

from .i18n import _
from .introspect import ColumnInfo, ModelInfo, quote_identifier
from .query import pk_condition
from .sql import Dialect, Statement, to_db


@dataclass
class IntegrityProblem(Exception):
    """A write the database refused: ``field`` is the attribute to show it on (or None)."""

    kind: str              # "unique", "foreign_key", "not_null", "check", "other"
    field: str | None
    message: str

    def __str__(self) -> str:
        return self.message


def insert(tx, dialect: Dialect, info: ModelInfo, values: dict[str, t.Any]) -> tuple:
    """Insert a row from ``values`` (attribute -> value); return its primary key."""
    stmt = Statement(dialect)
    columns = [info.by_attribute[a] for a in values]
    returning = ", ".join(quote_identifier(c.name) for c in info.primary_key)
    if columns:
        names = ", ".join(quote_identifier(c.name) for c in columns)
        placeholders = ", ".join(stmt.param(to_db(c, values[c.attribute], dialect)) for c in columns)
        stmt.sql(f"INSERT INTO {info.table_sql} ({names}) VALUES ({placeholders}) RETURNING {returning}")
    else:
        stmt.sql(f"INSERT INTO {info.table_sql} DEFAULT VALUES RETURNING {returning}")
    row = _execute(tx, stmt, info, fetch=True)
    return tuple(row[c.name] for c in info.primary_key)


def update(tx, dialect: Dialect, info: ModelInfo, pk: tuple, values: dict[str, t.Any], *,
           scope: t.Any = None, expected: dict[str, t.Any] | None = None) -> int:
    """Update the row ``pk`` (within ``scope``); with ``expected`` (column name -> value read
    when the form opened) the update applies only if the row still holds those values.
    Returns the number of rows changed (0: gone, out of scope, or changed meanwhile)."""
    if not values:
        return 1
    stmt = Statement(dialect)
    sets = ", ".join(
        f"{quote_identifier(info.by_attribute[a].name)} = "
        f"{stmt.param(to_db(info.by_attribute[a], v, dialect))}"
        for a, v in values.items()
    )
    stmt.sql(f"UPDATE {info.table_sql} SET {sets} WHERE")
    conditions = [pk_condition(stmt, info, [pk])]
    if scope is not None:
        conditions.append(stmt.external(scope))
    for name, value in (expected or {}).items():
        column = info.by_name[name]
        if value is None:
            conditions.append(f"{column.sql} IS NULL")
        else:
            conditions.append(f"{column.sql} = {stmt.param(value)}")
    stmt.sql(" AND ".join(conditions))
    return _execute(tx, stmt, info)


def delete(tx, dialect: Dialect, info: ModelInfo, pks: list[tuple], *, scope: t.Any = None) -> int:
    if not pks:
        return 0
    stmt = Statement(dialect)
    stmt.sql(f"DELETE FROM {info.table_sql} WHERE")
    conditions = [pk_condition(stmt, info, pks)]
    if scope is not None:
        conditions.append(stmt.external(scope))
    stmt.sql(" AND ".join(conditions))
    return _execute(tx, stmt, info)


def _execute(tx, stmt: Statement, info: ModelInfo, *, fetch: bool = False):
    try:
        cursor = tx.cursor(stmt.compiled())
    except Exception as exc:  # noqa: BLE001 - translated when it is an integrity error
        problem = integrity_problem(exc, info)
        if problem is None:
            raise
        raise problem from exc
    try:
        if fetch:
            return cursor.fetchone()
        return cursor.rowcount
    finally:
        cursor.close()


_SQLITE_COLUMNS = re.compile(r"constraint failed: (.+)$", re.I)
_WORDS = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
CHECK_MESSAGE = _("A value breaks a rule of the database.")


def _only_column(expression: str, info: ModelInfo) -> str | None:
    """The field of a check whose expression (SQLite gives it) names exactly one column."""
    named = {word for word in _WORDS.findall(expression) if word in info.by_name}
    return _attribute(info, named.pop()) if len(named) == 1 else None
_PG_KEY = re.compile(r"Key \(([^)]+)\)")


def integrity_problem(exc: Exception, info: ModelInfo) -> IntegrityProblem | None:
    """An IntegrityProblem for a unique / foreign-key / not-null / check violation of either
    driver, or None for any other error. The message is ours, never the database's."""
    name = type(exc).__name__
    module = type(exc).__module__
    text = str(exc)
    if module.startswith("sqlite3") and name == "IntegrityError":
        lowered = text.lower()
        if "unique" in lowered:
            return IntegrityProblem("unique", _sqlite_field(text, info),
                                    _("This value is already used by another row."))
        if "foreign key" in lowered:
            return IntegrityProblem("foreign_key", None, _(
                "A referenced row does not exist, or other rows still refer to this one."))
        if "not null" in lowered:
            return IntegrityProblem("not_null", _sqlite_field(text, info), _("This field is required."))
        if "check" in lowered:
            match = _SQLITE_COLUMNS.search(text)
            field = _only_column(match.group(1) if match else "", info)
            return IntegrityProblem("check", field, CHECK_MESSAGE)
        return IntegrityProblem("other", None, _("The database refused this change."))
    if module.startswith("psycopg"):
        sqlstate = getattr(exc, "sqlstate", None) or ""
        diag = getattr(exc, "diag", None)
        detail = getattr(diag, "message_detail", None) or ""
        if sqlstate == "23505":
            return IntegrityProblem("unique", _pg_field(detail, info),
                                    _("This value is already used by another row."))
        if sqlstate == "23503":
            field = _pg_field(detail, info)
            if "still referenced" in detail:
                return IntegrityProblem("foreign_key", None, _("Other rows still refer to this one."))
            return IntegrityProblem("foreign_key", field, _("The referenced row does not exist."))
        if sqlstate == "23502":
            column = getattr(diag, "column_name", None)
            return IntegrityProblem("not_null", _attribute(info, column), _("This field is required."))
        if sqlstate == "23514":
            # PostgreSQL names an unnamed column check <table>_<column>_check.
            constraint = getattr(diag, "constraint_name", None) or ""
            name = constraint.removeprefix(info.table.split(".")[-1] + "_").removesuffix("_check")
            return IntegrityProblem("check", _attribute(info, name), CHECK_MESSAGE)
        if sqlstate.startswith("23"):
            return IntegrityProblem("other", None, _("The database refused this change."))
        if sqlstate == "P0001":
            # RAISE EXCEPTION from a trigger or function: a rule the database enforces itself
            # (SQLite's RAISE(ABORT) in a trigger arrives as an IntegrityError, above).
            return IntegrityProblem("other", None, _("The database refused this change."))
    return None


def _attribute(info: ModelInfo, column_name: str | None) -> str | None:
    if not column_name:
        return None
    column: ColumnInfo | None = info.by_name.get(column_name.strip().strip('"'))
    return column.attribute if column is not None else None


def _sqlite_field(text: str, info: ModelInfo) -> str | None:
    match = _SQLITE_COLUMNS.search(text)
    if not match:
        return None
    first = match.group(1).split(",")[0].strip()
    return _attribute(info, first.split(".")[-1])


def _pg_field(detail: str, info: ModelInfo) -> str | None:
    match = _PG_KEY.search(detail)
    if not match:
        return None
    return _attribute(info, match.group(1).split(",")[0])
