"""Every workaround hyper_admin needs for sqlorm 0.4.2 / flask-sqlorm 0.3.2.

Each one is named after the problem it fixes (see shared SQLORM_NOTES.md) and has a test in
tests/test_sqlorm_compat.py that fails without it, so that it can be removed once upstream fixes
the problem.

The public entry point is :func:`enable_postgresql`: the one line an application adds to get a
working sqlorm database on PostgreSQL, with flask-sqlorm or without it::

    db = FlaskSQLORM(app, os.environ["DATABASE_URL"])
    enable_postgresql(db)          # no-op on SQLite: the same code runs on both
"""

from __future__ import annotations

import typing as t

from sqlorm import Engine, EngineDispatcher
from sqlorm.engine import Session, Transaction
from sqlorm.sql import ParametrizedStmt, SQLStr, render

__all__ = [
    "enable_postgresql",
    "engines_of",
    "is_postgresql",
    "Row",
]


# ---------------------------------------------------------------------------------------------
# Finding engines


def engines_of(target: t.Any) -> list[Engine]:
    """Every sqlorm Engine behind a FlaskSQLORM object, an EngineDispatcher or an Engine."""
    if isinstance(target, Engine):
        return [target]
    if isinstance(target, EngineDispatcher):
        return list(target.engines)
    engines = getattr(target, "engines", None)  # FlaskSQLORM keeps a dispatcher here
    if isinstance(engines, EngineDispatcher):
        found = list(engines.engines)
        main = getattr(target, "engine", None)
        if isinstance(main, Engine) and main not in found:
            found.insert(0, main)
        return found
    engine = getattr(target, "engine", None)
    if isinstance(engine, Engine):
        return [engine]
    raise TypeError(f"expected a sqlorm Engine or a FlaskSQLORM object, got {target!r}")


def is_postgresql(engine: Engine) -> bool:
    """Whether this engine talks to PostgreSQL (sqlorm's driver or psycopg itself)."""
    name = getattr(engine.dbapi, "__name__", "")
    return "postgresql" in name or name.startswith("psycopg")


def is_sqlite(engine: Engine) -> bool:
    return "sqlite" in getattr(engine.dbapi, "__name__", "")


# ---------------------------------------------------------------------------------------------
# PostgreSQL


class Row(dict):
    """A result row for psycopg: a dict whose ``keys()`` is a list, like ``sqlite3.Row``.

    sqlorm reads scalars with ``row[row.keys()[0]]`` (needs an indexable ``keys()``) and hydrates
    models from ``row.keys()``; psycopg's tuples and ``dict_row`` offer neither. Integer indexes
    are accepted too, as ``sqlite3.Row`` does.
    """

    __slots__ = ()

    def keys(self):  # type: ignore[override]
        return list(dict.keys(self))

    def __getitem__(self, key):
        if isinstance(key, int):
            return list(self.values())[key]
        return dict.__getitem__(self, key)


def _row_factory(cursor):
    description = cursor.description
    if description is None:
        return None
    names = [column.name for column in description]

    def make_row(values):
        return Row(zip(names, values))

    return make_row


class PostgresTransaction(Transaction):
    """Renders statements with psycopg's ``%s`` placeholders.

    sqlorm renders parameters as ``?`` unless told the driver's paramstyle, and never is.
    """

    def cursor(self, stmt=None, params=None):
        if stmt is not None and (isinstance(stmt, SQLStr) or hasattr(stmt, "__sql__")):
            stmt = ParametrizedStmt(*render(stmt, params, paramstyle="format"))
            params = None
        return super().cursor(stmt, params)

    def executemany(self, stmt, seq_of_parameters):
        if isinstance(stmt, SQLStr):
            stmt = render(stmt, paramstyle="format")[0]
        return super().executemany(stmt, seq_of_parameters)


class PostgresSession(Session):
    transaction_class = PostgresTransaction


def _configure_connection(conn) -> None:
    from psycopg.types.string import TextLoader

    conn.row_factory = _row_factory
    # sqlorm's JSON type decodes with json.loads; psycopg would decode first and hand it a dict.
    for json_type in ("json", "jsonb"):
        conn.adapters.register_loader(json_type, TextLoader)


def _libpq_args(args: tuple) -> tuple:
    """sqlorm strips ``postgresql://`` and hands psycopg the rest, e.g. ``user@host:5432/db``,
    which libpq cannot parse without its scheme. A ``key=value`` conninfo passes unchanged."""
    if args and isinstance(args[0], str) and "=" not in args[0]:
        return ("postgresql://" + args[0], *args[1:])
    return args


def enable_postgresql(target: t.Any) -> t.Any:
    """Make the PostgreSQL engines behind ``target`` work with sqlorm; leave others alone.

    ``target`` is a FlaskSQLORM object, an EngineDispatcher or an Engine. Returns it, so that
    ``db = enable_postgresql(FlaskSQLORM(app, url))`` reads as one line. Idempotent.
    """
    for engine in engines_of(target):
        if not is_postgresql(engine) or getattr(engine, "_hyper_admin_pg", False):
            continue
        engine.session_class = PostgresSession
        factory = engine.connection_factory

        def connect(dbapi, _factory=factory):
            args = getattr(_factory, "args", None)
            if args is None:
                conn = _factory(dbapi)
            else:
                conn = dbapi.connect(*_libpq_args(args), **_factory.kwargs)
            _configure_connection(conn)
            return conn

        for attr in ("args", "kwargs", "uri"):
            if hasattr(factory, attr):
                setattr(connect, attr, getattr(factory, attr))
        engine.connection_factory = connect
        engine._hyper_admin_pg = True
        # Connections opened before we were called lack the row factory: drop them.
        engine.disconnect_all()
    return target
