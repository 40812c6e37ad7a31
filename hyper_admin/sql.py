"""SQL text and parameters, built by hand so that we control both.

Identifiers only ever come from introspected columns (``ColumnInfo.sql``); values only ever as
parameters. We render placeholders ourselves (``?`` for SQLite, ``%s`` for psycopg) instead of
through sqlorm's collector, whose unnamed parameters cost cubic time (SQLORM_NOTES.md), and run
the result as a ``ParametrizedStmt`` on the admin's own engine.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime
import decimal
import enum
import json
import time
import typing as t
from dataclasses import dataclass

from sqlorm.sql import ParametrizedStmt, render

from .sqlorm_compat import is_postgresql

if t.TYPE_CHECKING:
    from .introspect import ColumnInfo


@dataclass(frozen=True, slots=True)
class Dialect:
    name: str          # "sqlite" or "postgresql"
    placeholder: str   # "?" or "%s"
    paramstyle: str    # for sqlorm's render()

    @property
    def is_postgresql(self) -> bool:
        return self.name == "postgresql"


SQLITE = Dialect("sqlite", "?", "qmark")
POSTGRESQL = Dialect("postgresql", "%s", "format")


def dialect_of(engine) -> Dialect:
    return POSTGRESQL if is_postgresql(engine) else SQLITE


class Statement:
    """Append-only SQL text with positional parameters."""

    __slots__ = ("dialect", "parts", "params")

    def __init__(self, dialect: Dialect, text: str = ""):
        self.dialect = dialect
        self.parts: list[str] = [text] if text else []
        self.params: list[t.Any] = []

    def sql(self, text: str) -> "Statement":
        self.parts.append(text)
        return self

    def param(self, value: t.Any) -> str:
        """Add a parameter and return its placeholder, to be put into the text."""
        self.params.append(value)
        return self.dialect.placeholder

    def params_list(self, values: t.Iterable[t.Any]) -> str:
        """``(?, ?, ...)`` for an IN list (never empty: callers check)."""
        return "(" + ", ".join(self.param(v) for v in values) + ")"

    def external(self, condition: t.Any) -> str:
        """Embed a sqlorm SQL object (e.g. a ModelAdmin.scope condition) as text + params."""
        text, params = render(condition, paramstyle=self.dialect.paramstyle)
        if isinstance(params, dict):
            params = list(params.values())
        self.params.extend(params or [])
        return f"({text})"

    def __str__(self) -> str:
        return " ".join(p for p in self.parts if p)

    def compiled(self) -> ParametrizedStmt:
        return ParametrizedStmt(str(self), list(self.params))


class QueryTimeout(Exception):
    """A statement ran past its time limit and was cancelled by the database."""


#: Seconds a SELECT may run (None: no limit). The request pipeline sets it per request from
#: the Admin's ``statement_timeout``; :func:`limited` lowers it around one piece of work.
time_limit: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "hyper_admin_time_limit", default=None)


@contextlib.contextmanager
def limited(seconds: float | None):
    """Run the block's SELECTs with at most ``seconds`` each (never more than the current
    limit)."""
    current = time_limit.get()
    if seconds is None or (current is not None and current < seconds):
        seconds = current
    token = time_limit.set(seconds)
    try:
        yield
    finally:
        time_limit.reset(token)


def _is_timeout(exc: Exception) -> bool:
    if getattr(exc, "sqlstate", None) == "57014":  # PostgreSQL query_canceled
        return True
    return type(exc).__module__.startswith("sqlite3") and "interrupted" in str(exc)


@contextlib.contextmanager
def _deadline(tx, dialect: Dialect, seconds: float | None):
    if not seconds:
        yield
        return
    if dialect.is_postgresql:
        # Local to the transaction: it ends with it.
        tx.cursor(ParametrizedStmt(f"SET LOCAL statement_timeout = {max(1, int(seconds * 1000))}", [])).close()
        yield
        return
    conn = tx.session.connect()
    deadline = time.monotonic() + seconds
    # SQLite calls this every N virtual-machine steps; a true result interrupts the statement.
    conn.set_progress_handler(lambda: time.monotonic() > deadline, 20_000)
    try:
        yield
    finally:
        conn.set_progress_handler(None, 0)


def run(engine, stmt: Statement) -> list[t.Any]:
    """Execute a SELECT on ``engine`` within the current time limit; return all rows
    (dict-like). Raises QueryTimeout when the database cancelled it for running too long."""
    try:
        with engine as tx, _deadline(tx, stmt.dialect, time_limit.get()):
            cursor = tx.cursor(stmt.compiled())
            try:
                return cursor.fetchall()
            finally:
                cursor.close()
    except Exception as exc:
        if _is_timeout(exc):
            raise QueryTimeout(str(exc)) from exc
        raise


def to_db(column: "ColumnInfo", value: t.Any, dialect: Dialect) -> t.Any:
    """A Python value as the parameter the driver expects for ``column``."""
    if value is None:
        return None
    if isinstance(value, enum.Enum):
        value = value.value
    if column.kind == "json" and not isinstance(value, str):
        return json.dumps(value, ensure_ascii=False, default=str)
    if dialect.is_postgresql:
        return value
    # sqlite3 binds neither Decimal nor (without deprecated adapters) dates: store ISO text.
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, datetime.datetime):
        return value.isoformat(" ")
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    return value


def like_pattern(text: str, *, prefix: bool = False) -> str:
    """A LIKE pattern matching ``text`` literally (``%``, ``_`` and ``\\`` escaped)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"{escaped}%" if prefix else f"%{escaped}%"
