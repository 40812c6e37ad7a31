"""SQL text and parameters, built by hand so that we control both.

Identifiers only ever come from introspected columns (``ColumnInfo.sql``); values only ever as
parameters. We render placeholders ourselves (``?`` for SQLite, ``%s`` for psycopg) instead of
through sqlorm's collector, whose unnamed parameters cost cubic time (SQLORM_NOTES.md), and run
the result as a ``ParametrizedStmt`` on the admin's own engine.
"""

from __future__ import annotations

import datetime
import decimal
import enum
import json
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


def run(engine, stmt: Statement) -> list[t.Any]:
    """Execute a SELECT on ``engine`` and return all rows (dict-like)."""
    with engine as tx:
        cursor = tx.cursor(stmt.compiled())
        try:
            return cursor.fetchall()
        finally:
            cursor.close()


def run_scalar(engine, stmt: Statement) -> t.Any:
    rows = run(engine, stmt)
    if not rows:
        return None
    row = rows[0]
    return row[row.keys()[0]]


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
