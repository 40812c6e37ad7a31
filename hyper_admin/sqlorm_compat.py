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

import contextlib
import re
import select
import threading
import typing as t
import urllib.parse

from sqlorm import Engine, EngineDispatcher
from sqlorm.engine import EngineError, Session, Transaction, session_context
from sqlorm.sql import ParametrizedStmt, SQLStr, render

__all__ = [
    "enable_postgresql",
    "allow_bare_sqlite_filename",
    "guard_pool",
    "engines_of",
    "is_postgresql",
    "Row",
    "sqlorm_uri",
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
# SQLite


def allow_bare_sqlite_filename(engine: Engine) -> Engine:
    """Let ``sqlite://app.db`` (a file in the working directory) connect.

    flask-sqlorm 0.3.2 opens SQLite with ``ensure_path=True``, and sqlorm's driver then calls
    ``os.makedirs(os.path.dirname(filename))``: for a bare file name that is
    ``os.makedirs("")``, a FileNotFoundError on the first query. The working directory exists,
    so there is nothing to create: the option is dropped for such names only.
    """
    import os

    factory = engine.connection_factory
    args, kwargs = getattr(factory, "args", None), getattr(factory, "kwargs", None)
    if (is_sqlite(engine) and args and isinstance(args[0], str) and isinstance(kwargs, dict)
            and kwargs.get("ensure_path") and not os.path.dirname(args[0])):
        kwargs["ensure_path"] = False
    return engine


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
    """A session that survives losing its connection.

    sqlorm pops a session off its (per-thread) session stack only after the transaction's
    COMMIT or ROLLBACK succeeded. On a connection the server closed (a restart, a terminated
    backend) the ROLLBACK raises too: the session stayed on the stack, its connection went back
    to the pool, and every later request of that worker failed on the same dead connection.
    Here the stack is always unwound, and a rollback on a closed connection is a no-op (the
    server discarded the transaction with the connection), so the error that broke the
    connection is the one raised.
    """

    transaction_class = PostgresTransaction

    def rollback(self):
        if self.conn is not None and not self.ended and _is_closed(self.conn):
            return
        super().rollback()

    def __exit__(self, exc_type, exc_value, exc_tb):
        # sqlorm's Session.__exit__, with the bookkeeping in a ``finally``.
        tx = self.transactions.pop()
        try:
            tx.__exit__(exc_type, exc_value, exc_tb)
        finally:
            if not self.transactions:
                self.last_tx_was_virtual = tx.virtual
                session_context.pop()
                if self.close_after_tx:
                    self.close()


def _is_closed(conn) -> bool:
    """psycopg: closed by us, or found broken (``closed`` is true for both)."""
    return bool(getattr(conn, "closed", False))


def _idle_connection_alive(conn) -> bool:
    """Whether a pooled (idle) psycopg connection may still be used, without a round trip.

    An idle connection has nothing to read. When the server shuts down or terminates the
    backend it sends an error and closes the socket, which makes it readable: such a
    connection is dead even though psycopg does not know yet. (A server that vanished without
    closing its sockets is only found out by the next query, which then fails.)
    """
    if _is_closed(conn):
        return False
    try:
        readable, _, _ = select.select([conn.fileno()], [], [], 0)
    except Exception:  # noqa: BLE001 - any doubt: not alive, a new connection will do
        return False
    return not readable


def guard_pool(engine: Engine) -> Engine:
    """Make ``engine``'s connection pool thread-safe and keep dead connections out of it.

    sqlorm 0.4.2's pool is a plain list: ``if self.pool: self.pool.pop(0)`` in two threads at
    once (gunicorn's gthread workers) pops an empty list, and a connection returned to the pool
    is never checked, so after a PostgreSQL restart every pooled connection fails forever.
    Here checkouts and returns hold a lock; a pooled connection the server closed is dropped at
    checkout, and a broken connection is closed and forgotten when returned (with every idle
    one: they were opened before the same outage). ``disconnect(conn, force=True)`` forgets
    the connection as well (sqlorm leaves it counted against ``max_pool_conns``).
    """
    if getattr(engine, "_hyper_admin_pool_guard", False) or engine.pool is False:
        return engine
    lock = threading.Lock()

    def close_quietly(conn) -> None:
        with contextlib.suppress(Exception):
            conn.close()
        engine.disconnected.send(engine, conn=conn)

    def connect(from_pool: bool = True):
        if not from_pool or engine.pool is False:
            return engine._connect()
        with lock:
            while engine.pool:
                conn = engine.pool.pop(0)
                if _idle_connection_alive(conn):
                    engine.active_conns.append(conn)
                    engine.pool_checkout.send(engine, conn=conn)
                    return conn
                close_quietly(conn)
            if engine.max_pool_conns and len(engine.active_conns) >= engine.max_pool_conns:
                raise EngineError("Max number of connections reached")
        conn = engine._connect()  # outside the lock: connecting may take a while
        with lock:
            engine.active_conns.append(conn)
        return conn

    def disconnect(conn, force: bool = False):
        with lock:
            known = conn in engine.active_conns
            if known:
                engine.active_conns.remove(conn)
            if force or engine.pool is False or _is_closed(conn):
                if getattr(conn, "broken", False):
                    idle, engine.pool = engine.pool, []
                    for other in idle:
                        close_quietly(other)
                close_quietly(conn)
                return
            if not known:
                raise EngineError("Cannot close connection which is not part of pool")
            engine.pool.append(conn)
        engine.pool_checkin.send(engine, conn=conn)

    def disconnect_all():
        with lock:
            conns, engine.pool, engine.active_conns = engine.pool + engine.active_conns, [], []
        for conn in conns:
            close_quietly(conn)

    engine.connect = connect
    engine.disconnect = disconnect
    engine.disconnect_all = disconnect_all
    engine._hyper_admin_pool_guard = True
    return engine


def release_idle_connection(engine: Engine) -> None:
    """Give the connection of the current session on ``engine`` back to the pool when no
    transaction is open on it; the session connects again on its next query.

    flask-sqlorm pushes one session per app context, and ``with engine`` joins it: its
    connection is held until the context ends. A streamed response keeps its context open, so
    each open live list (views/live.py) would hold a connection while it sleeps between polls.
    """
    session = session_context.top
    if (session is None or session.engine != engine or session.in_transaction
            or not session.conn or not session.auto_close_conn):
        return
    if session.last_tx_was_virtual:
        session.rollback()
    engine.disconnect(session.conn)
    session.conn = None


def _configure_connection(conn) -> None:
    from psycopg.types.string import TextLoader

    conn.row_factory = _row_factory
    # sqlorm's JSON type decodes with json.loads; psycopg would decode first and hand it a dict.
    for json_type in ("json", "jsonb"):
        conn.adapters.register_loader(json_type, TextLoader)


#: A PostgreSQL URL's ``?pgbouncer=true``: the server is reached through PgBouncer in
#: transaction pooling mode (docs/deployment.md, "PgBouncer").
PGBOUNCER_PARAM = "pgbouncer"


def _connect_kwargs(kwargs: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
    """psycopg.connect's keyword arguments from a URL's query (sqlorm passes it as such).

    ``pgbouncer=true`` turns psycopg's automatic server-side prepared statements off
    (``prepare_threshold=None``): psycopg prepares a statement on its connection after five
    runs, but behind PgBouncer in transaction pooling mode (before 1.21, Debian 12 ships 1.18)
    the next transaction may get another server connection, where that statement does not
    exist ("prepared statement _pg3_0 does not exist"), or one where another client prepared
    the same name ("already exists"). It is not an option of libpq, so it never reaches it."""
    kwargs = dict(kwargs)
    flag = kwargs.pop(PGBOUNCER_PARAM, None)
    if str(flag).lower() in ("1", "true", "yes", "on"):
        kwargs["prepare_threshold"] = None
    return kwargs


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
                conn = dbapi.connect(*_libpq_args(args), **_connect_kwargs(_factory.kwargs))
            _configure_connection(conn)
            return conn

        for attr in ("args", "kwargs", "uri"):
            if hasattr(factory, attr):
                setattr(connect, attr, getattr(factory, attr))
        engine.connection_factory = connect
        engine._hyper_admin_pg = True
        # Connections opened before we were called lack the row factory: drop them.
        engine.disconnect_all()
        guard_pool(engine)
    return target


# ---------------------------------------------------------------------------------------------
# Database URLs

#: The URL schemes that mean PostgreSQL.
PG_SCHEMES = ("postgresql", "postgres", "postgresql+psycopg", "postgresql+psycopg2")
_PLAIN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")


def sqlorm_uri(url: str, pg_schema: str | None = None) -> str:
    """Turn a usual database URL into the URI ``sqlorm.Engine.from_uri`` understands.

    - a path, or ``sqlite://<path>`` (sqlorm's form: ``sqlite:///abs/x.db``, ``sqlite://rel.db``):
      SQLite, unchanged;
    - ``postgresql://[user[:password]@]host[:port]/dbname[?param=value...]`` (also ``postgres://``,
      ``postgresql+psycopg://``) or an already converted ``postgresql://host=... dbname=...``:
      sqlorm hands everything after ``://`` to ``psycopg.connect`` as a conninfo string, which
      libpq only reads as ``key=value`` pairs, so the URL is parsed (by libpq itself) and written
      back as such. ``pg_schema`` (a plain name) adds ``options=-c search_path=<schema>``.

    Values containing ``?`` go to the query string (sqlorm splits the URI at the first ``?`` and
    passes query parameters as keyword arguments); the others stay in the conninfo, because sqlorm
    turns digit-only query values into ints (a password ``007`` would become ``7``).
    """
    if "://" not in url:
        return "sqlite://" + url
    scheme, rest = url.split("://", 1)
    if scheme.lower() not in PG_SCHEMES:
        return url  # sqlite:// and anything else sqlorm knows
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    if "=" in rest.split("?", 1)[0] and "@" not in rest.split("?", 1)[0].split("=", 1)[0]:
        # already a key=value conninfo (sqlorm's own form), maybe with ?query kwargs
        info, _, query = rest.partition("?")
        params = conninfo_to_dict(info)
        for key, value in urllib.parse.parse_qsl(query, keep_blank_values=True):
            params[key] = value
    else:
        # libpq parses and decodes the URL; ?pgbouncer= is ours (psycopg's, _connect_kwargs).
        address, _, query = rest.partition("?")
        ours = [(k, v) for k, v in urllib.parse.parse_qsl(query, keep_blank_values=True)
                if k == PGBOUNCER_PARAM]
        query = "&".join(part for part in query.split("&")
                         if part and part.partition("=")[0] != PGBOUNCER_PARAM)
        params = conninfo_to_dict("postgresql://" + address + (f"?{query}" if query else ""))
        params.update(ours)
    params = {k: str(v) for k, v in params.items() if v is not None}
    if pg_schema:
        if not _PLAIN_NAME.fullmatch(pg_schema):
            raise ValueError(f"not a plain schema name: {pg_schema!r}")
        # A name with capitals is quoted, or PostgreSQL would fold it to another schema's.
        name = pg_schema if pg_schema == pg_schema.lower() else f'"{pg_schema}"'
        option = f"-c search_path={name}"
        params["options"] = f"{params['options']} {option}" if params.get("options") else option
    in_query = {k: v for k, v in params.items() if "?" in v or k == PGBOUNCER_PARAM}
    conninfo = make_conninfo("", **{k: v for k, v in params.items() if k not in in_query})
    uri = "postgresql://" + conninfo
    if in_query:
        uri += "?" + urllib.parse.urlencode(in_query)
    return uri
