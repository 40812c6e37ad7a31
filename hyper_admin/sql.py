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
import itertools
import json
import re
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
        text, params = str(self), list(self.params)
        if SOURCE_PREFIX in text:
            text, params = with_sources(text, params, self.dialect)
        return ParametrizedStmt(text, params)


# ---------------------------------------------------------------------------------------------
# Query views (hyper_admin.query_views): a registered SQL query used like a table. Statements name
# it by an identifier of ours; compiling puts the query in front as a common table expression,
# with the values of its named parameters and the user's scope bound for the current request.

#: Every query source's identifier starts with this (no table of an application does).
SOURCE_PREFIX = "hyper_admin_q"
_SOURCE_NAME = re.compile(SOURCE_PREFIX + r"\d+_[A-Za-z0-9_]+")
_sources: dict[str, "QuerySource"] = {}
_source_ids = itertools.count(1)
_NAMED_PARAM = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|--[^\n]*|::|:([A-Za-z_][A-Za-z0-9_]*)")


@dataclass(frozen=True, eq=False)
class QuerySource:
    """A SQL query with ``:name`` parameters, usable as a table named ``identifier`` in
    statements; its rows are called ``alias`` inside (``alias.column`` in a scope)."""

    identifier: str
    alias: str
    parts: tuple[str, ...]       # text, then alternately a parameter name and text
    param_names: frozenset[str]

    def render(self, dialect: Dialect, values: t.Mapping[str, t.Any],
               scope: t.Any = None) -> tuple[str, list[t.Any]]:
        """``SELECT * FROM (<query>) AS alias [WHERE scope]`` with its parameters."""
        out: list[str] = []
        params: list[t.Any] = []
        for i, part in enumerate(self.parts):
            if i % 2:
                out.append(dialect.placeholder)
                params.append(values[part])
            else:
                # psycopg's "format" style reads every % as a placeholder's start.
                out.append(part.replace("%", "%%") if dialect.is_postgresql else part)
        text = f"SELECT * FROM ({''.join(out)}) AS {self.alias}"
        if scope is not None:
            stmt = Statement(dialect)
            text += " WHERE " + stmt.external(scope)
            params += stmt.params
        return text, params


def query_source(name: str, sql_text: str) -> QuerySource:
    """Register ``sql_text`` (``:name`` parameters; quoted text, comments and ``::`` casts are
    left alone) as a source whose rows are called ``name``."""
    parts: list[str] = []
    last = 0
    for match in _NAMED_PARAM.finditer(sql_text):
        if match.group(1) is None:
            continue
        parts += [sql_text[last:match.start()], match.group(1)]
        last = match.end()
    parts.append(sql_text[last:])
    identifier = f"{SOURCE_PREFIX}{next(_source_ids)}_{name}"
    source = QuerySource(identifier, name, tuple(parts), frozenset(parts[1::2]))
    _sources[identifier] = source
    return source


#: identifier -> (parameter values, scope condition or None), for the current request. The
#: pipeline empties it at the start of every request; a statement naming a source that was not
#: bound raises, so that a query view is never read without its scope.
bound_sources: contextvars.ContextVar[t.Mapping[str, tuple[t.Mapping[str, t.Any], t.Any]]] = (
    contextvars.ContextVar("hyper_admin_bound_sources", default={}))


def bind_source(source: QuerySource, values: t.Mapping[str, t.Any], scope: t.Any) -> None:
    bound_sources.set({**bound_sources.get(), source.identifier: (dict(values), scope)})


class UnboundSource(RuntimeError):
    """A statement read a query view that no view bound for this request."""


def with_sources(text: str, params: list[t.Any], dialect: Dialect) -> tuple[str, list[t.Any]]:
    names = list(dict.fromkeys(_SOURCE_NAME.findall(text)))
    if not names:
        return text, params
    bound = bound_sources.get()
    items: list[str] = []
    prefix_params: list[t.Any] = []
    for name in names:
        source = _sources.get(name)
        if source is None or name not in bound:
            raise UnboundSource(f"query source {name} used without being bound")
        values, scope = bound[name]
        body, body_params = source.render(dialect, values, scope)
        items.append(f"{name} AS ({body})")
        prefix_params += body_params
    head = "WITH " + ", ".join(items) + " "
    if text.startswith("EXPLAIN"):
        # EXPLAIN (...) WITH ... SELECT: the statement explained starts at its SELECT.
        at = text.index("SELECT")
        return text[:at] + head + text[at:], prefix_params + params
    return head + text, prefix_params + params


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


#: What keeps the database from serving a request, as :func:`database_problem` names it.
TIMEOUT, UNREACHABLE, READ_ONLY, FULL, BUSY = "timeout", "unreachable", "read_only", "full", "busy"

# SQLite's result codes (sqlite3 errors carry them as ``sqlite_errorname`` from Python 3.11).
_SQLITE_PROBLEMS = {
    "SQLITE_INTERRUPT": TIMEOUT,
    "SQLITE_READONLY": READ_ONLY,
    "SQLITE_FULL": FULL,
    "SQLITE_BUSY": BUSY,
    "SQLITE_LOCKED": BUSY,
    "SQLITE_CANTOPEN": UNREACHABLE,
    "SQLITE_IOERR": UNREACHABLE,
}
_SQLITE_MESSAGES = (  # the same, from the message, for an error without its code
    ("interrupted", TIMEOUT), ("readonly", READ_ONLY), ("disk is full", FULL),
    ("is locked", BUSY), ("unable to open database", UNREACHABLE), ("disk i/o error", UNREACHABLE),
)
# PostgreSQL's SQLSTATEs, by code then by class.
_PG_STATES = {
    "57014": TIMEOUT,       # query_canceled (statement_timeout)
    "25006": READ_ONLY,     # read_only_sql_transaction (a standby, default_transaction_read_only)
    "53100": FULL,          # disk_full
    "53300": UNREACHABLE,   # too_many_connections
    "57P01": UNREACHABLE,   # admin_shutdown: the server is stopping or restarting
    "57P02": UNREACHABLE,   # crash_shutdown
    "57P03": UNREACHABLE,   # cannot_connect_now: starting up or shutting down
    "40001": BUSY,          # serialization_failure
    "40P01": BUSY,          # deadlock_detected
    "55P03": BUSY,          # lock_not_available (lock_timeout)
}
_PG_CLASSES = {"08": UNREACHABLE, "58": UNREACHABLE}  # connection exceptions, system errors


def database_problem(exc: BaseException) -> str | None:
    """What the database could not do, when ``exc`` (or an error it was raised from) says the
    database is out of reach or refuses work for now: TIMEOUT, UNREACHABLE (connection refused
    or lost, server restarting), READ_ONLY, FULL (no space left) or BUSY (locked, deadlock).
    None for any other error: a bug, answered 500.

    These are conditions of the database, not of the request: the admin answers them 503 with
    a sentence of its own, never the driver's text.
    """
    seen = 0
    while exc is not None and seen < 5:
        module = type(exc).__module__
        if module.startswith("sqlite3"):
            code = getattr(exc, "sqlite_errorname", None) or ""
            for prefix, problem in _SQLITE_PROBLEMS.items():
                if code == prefix or code.startswith(prefix + "_"):
                    return problem
            message = str(exc).lower()
            for text, problem in _SQLITE_MESSAGES:
                if text in message:
                    return problem
        elif module.startswith("psycopg"):
            state = getattr(exc, "sqlstate", None)
            if state:
                problem = _PG_STATES.get(state) or _PG_CLASSES.get(state[:2])
                if problem:
                    return problem
            else:
                import psycopg  # loaded already: the error is one of its own

                if isinstance(exc, psycopg.OperationalError):
                    # No SQLSTATE: raised by the client (connection refused, lost, closed,
                    # timed out).
                    return UNREACHABLE
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return None


def driver_errors() -> tuple[type[BaseException], ...]:
    """The exception classes :func:`database_problem` may recognise, of the drivers
    installed: error handlers are registered for these only."""
    import sqlite3

    classes: list[type[BaseException]] = [sqlite3.OperationalError]
    try:
        import psycopg
        from psycopg import errors as pg_errors
    except ImportError:
        return tuple(classes)
    # Most are OperationalError; the read-only transaction is an InternalError.
    classes += [psycopg.OperationalError, pg_errors.ReadOnlySqlTransaction]
    return tuple(classes)


@contextlib.contextmanager
def deadline(tx, dialect: Dialect, seconds: float | None):
    """The statements of transaction ``tx`` run at most ``seconds`` each (None: no limit):
    PostgreSQL's ``SET LOCAL statement_timeout``, SQLite's progress handler."""
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
        with engine as tx, deadline(tx, stmt.dialect, time_limit.get()):
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
    if column.kind == "array" and isinstance(value, (list, tuple)):
        # As the literal's text, which PostgreSQL reads as the column's own array type (a
        # list would be sent as text[] or int8[], which no enum[] or int4[] column takes).
        if dialect.is_postgresql:
            return array_literal(value)
        return json.dumps(value, ensure_ascii=False, default=str)
    if column.kind == "range" and not isinstance(value, str):
        return range_literal(value)
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


def array_literal(items: t.Sequence[t.Any]) -> str:
    """A PostgreSQL array literal of ``items`` (``{"a","b c",NULL}``), each item quoted."""
    return "{" + ",".join("NULL" if item is None else _quoted(_literal_text(item))
                          for item in items) + "}"


def range_literal(value: t.Any) -> str:
    """A PostgreSQL range literal of a range value (psycopg's ``Range``: ``lower``,
    ``upper``, ``bounds`` such as ``"[)"``, ``isempty``): ``["2024-01-01","2024-02-01")``."""
    if getattr(value, "isempty", False):
        return "empty"
    bounds = getattr(value, "bounds", "[)") or "[)"
    lower, upper = (getattr(value, "lower", None), getattr(value, "upper", None))
    lower_text = "" if lower is None else _quoted(_literal_text(lower))
    upper_text = "" if upper is None else _quoted(_literal_text(upper))
    # An unbounded side is exclusive whatever the bounds say ("(" / ")").
    return (("(" if lower is None else bounds[0]) + f"{lower_text},{upper_text}"
            + (")" if upper is None else bounds[1]))


def _literal_text(value: t.Any) -> str:
    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "\\x" + bytes(value).hex()
    return str(value)


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def like_pattern(text: str, *, prefix: bool = False) -> str:
    """A LIKE pattern matching ``text`` literally (``%``, ``_`` and ``\\`` escaped)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"{escaped}%" if prefix else f"%{escaped}%"
