"""The demo database of the tests: seeded once per worker process, copied for each test.

``hyper_admin.demo.seed.seed`` takes about a second even for a few dozen orders (password
hashes, the clock's precomputed text, then the load), and hundreds of tests start from it. They
get the very same database from a template instead, seeded once per process, backend and row
count by ``seed()`` itself (with cheap password hashes, like tests/apps.py's members):

- SQLite: the template file is copied into the test's database by SQLite's backup API, page by
  page: tables, indexes and ANALYZE statistics, the same file;
- PostgreSQL: the test's schema gets the demo's DDL (``schema.create_schema``, foreign keys and
  indexes included), the template's rows (``INSERT ... SELECT``, parents first), its identity
  sequences where the seed left them, then fresh statistics (``ANALYZE``), as ``seed()`` ends.

Templates are only read once seeded, live in the process that made them (a temporary folder, a
``ha_tmpl_*`` schema) and are removed at the end of the session (``drop_templates``, called by
``tests/conftest.py``): nothing depends on an earlier run's leftovers.

``SharedDemo`` is one seeded database for the tests of a module that only read it (those marked
``reads_only``; ``SharedDemos``, the ``shared_demos`` fixture, holds a module's, one per backend,
row count and way of seeding). Each such test gets an Engine of its own on it (no pooled
connection outlives the test), and the database's fingerprint (every table, index, sequence and
row) is compared with the one taken after seeding when the test ends: a test that wrote fails,
and the database is seeded again before the next test.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import shutil
import sqlite3
import tempfile

from werkzeug.security import generate_password_hash

NOW = dt.datetime(2026, 11, 1, 12, 0, 0)  # every date of the seed counts back from it
# Like tests/apps.py's members: the demo's scrypt costs a sixth of a second per password, and
# the template's hashes must not depend on which test happened to seed it first.
PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"

_sqlite_templates: dict[int, str] = {}  # rows -> template file
_pg_templates: dict[int, "_PgTemplate"] = {}  # rows -> template schema
_template_dir: list[str] = []


def open_engine(url: str):
    """A sqlorm Engine on ``url``, PostgreSQL support enabled (and foreign keys on for SQLite)."""
    from sqlorm import Engine

    from hyper_admin import enable_postgresql

    kwargs = {"foreign_keys": True} if url.startswith("sqlite") else {}
    return enable_postgresql(Engine.from_uri(url, **kwargs))


def seed_from_scratch(engine, rows: int) -> None:
    """What every copy reproduces: the demo's DDL, then ``seed()`` with the tests' fixed clock."""
    from hyper_admin.demo import seed as demo_seed
    from hyper_admin.demo.schema import create_schema

    create_schema(engine)
    with _cheap_password_hashes(demo_seed):
        demo_seed.seed(engine, rows=rows, now=NOW, log=None)


@contextlib.contextmanager
def _cheap_password_hashes(demo_seed):
    real = demo_seed.generate_password_hash
    demo_seed.generate_password_hash = lambda password: generate_password_hash(
        password, PASSWORD_HASH_METHOD)
    try:
        yield
    finally:
        demo_seed.generate_password_hash = real


def copy_seeded(engine, rows: int) -> None:
    """The demo database of ``rows`` orders in ``engine``'s database, from this process's template.

    A database that already holds something (a test's own tables) is seeded from scratch
    instead, as before templates existed: a copy would replace what it holds.
    """
    if _is_empty(engine):
        _copy_template(engine, rows)
    else:
        seed_from_scratch(engine, rows)


def _copy_template(engine, rows: int) -> None:
    from hyper_admin.sqlorm_compat import is_postgresql

    if is_postgresql(engine):
        _copy_postgres(engine, _pg_template(rows))
    else:
        _copy_sqlite(engine, _sqlite_template(rows))


def _is_empty(engine) -> bool:
    from hyper_admin.sqlorm_compat import is_postgresql

    if is_postgresql(engine):
        sql = "SELECT count(*) AS n FROM pg_class WHERE relnamespace = current_schema()::regnamespace"
    else:
        sql = "SELECT count(*) AS n FROM sqlite_master"
    with engine as tx:
        return tx.fetchscalar(sql) == 0


# --- SQLite ----------------------------------------------------------------------------------


def _sqlite_template(rows: int) -> str:
    if rows not in _sqlite_templates:
        if not _template_dir:
            _template_dir.append(tempfile.mkdtemp(prefix="ha_demo_templates_"))
        path = f"{_template_dir[0]}/demo_{rows}.db"
        engine = open_engine(f"sqlite://{path}")
        try:
            seed_from_scratch(engine, rows)
        finally:
            engine.disconnect_all()
        _sqlite_templates[rows] = path
    return _sqlite_templates[rows]


def _copy_sqlite(engine, template: str) -> None:
    # A connection of its own: the backup replaces the whole database, whatever the engine's
    # pooled connections hold (they see the new schema on their next statement).
    target = engine.connection_factory(engine.dbapi)
    source = sqlite3.connect(template)
    try:
        source.backup(target)
    finally:
        source.close()
        target.close()


# --- PostgreSQL ------------------------------------------------------------------------------


class _PgTemplate:
    """A seeded template schema and what a copy needs of it, read once: each table's columns
    and where its identity sequence stands."""

    def __init__(self, schema: str, engine):
        from hyper_admin.demo.schema import KEYLESS_TABLES, TABLE_NAMES

        self.schema, self.columns, self.sequences = schema, {}, {}
        with engine as tx:
            for table in TABLE_NAMES:
                self.columns[table] = ", ".join(tx.fetchscalars(
                    "SELECT quote_ident(column_name) AS name FROM information_schema.columns "
                    f"WHERE table_schema = '{schema}' AND table_name = '{table}' "
                    "ORDER BY ordinal_position"))
                if table in KEYLESS_TABLES:
                    continue  # no identity sequence
                sequence = tx.fetchscalar(f"SELECT pg_get_serial_sequence('{table}', 'id') AS s")
                position = tx.fetchone(f"SELECT last_value, is_called FROM {sequence}")
                self.sequences[table] = (int(position["last_value"]), bool(position["is_called"]))


_pg_template_schemas: list[str] = []  # every one made, dropped by drop_templates


def _pg_template(rows: int) -> _PgTemplate:
    if rows not in _pg_templates:
        from pg import create_pg_schema, schema_url

        schema = create_pg_schema("ha_tmpl_")
        _pg_template_schemas.append(schema)
        engine = open_engine(schema_url(schema))
        try:
            seed_from_scratch(engine, rows)
            _pg_templates[rows] = _PgTemplate(schema, engine)
        finally:
            engine.disconnect_all()
    return _pg_templates[rows]


def _copy_postgres(engine, template: _PgTemplate) -> None:
    from hyper_admin.demo.schema import KEYLESS_TABLES, TABLE_NAMES, create_schema

    create_schema(engine)
    with engine as tx:
        for table in TABLE_NAMES:  # parents first: the foreign keys hold at every row
            columns = template.columns[table]
            tx.execute(f"INSERT INTO {table} ({columns}) OVERRIDING SYSTEM VALUE "
                       f'SELECT {columns} FROM "{template.schema}".{table}')
            if table in KEYLESS_TABLES:
                continue
            # The identity sequence where the seed left it: the next row gets the same id.
            last_value, is_called = template.sequences[table]
            tx.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {last_value}, "
                       f"{is_called})")
        for table in TABLE_NAMES:
            tx.execute(f"ANALYZE {table}")


def drop_templates() -> None:
    """Remove this process's templates (the end of a test session)."""
    if _pg_template_schemas:
        from pg import drop_pg_schema

        for schema in _pg_template_schemas:
            drop_pg_schema(schema)
        _pg_template_schemas.clear()
        _pg_templates.clear()
    if _template_dir:
        shutil.rmtree(_template_dir.pop(), ignore_errors=True)
        _sqlite_templates.clear()


# --- one database for a module's reading tests -----------------------------------------------


def fingerprint(engine) -> str:
    """A digest of everything a test could change: the tables, views, indexes and sequences
    the database holds (with their definitions), every row of every table and the position of
    every sequence."""
    from hyper_admin.sqlorm_compat import is_postgresql

    with engine as tx:
        if is_postgresql(engine):
            return _pg_fingerprint(tx)
        digest = hashlib.sha256()
        objects = [tuple(r) for r in tx.fetchall("SELECT type, name, sql FROM sqlite_master ORDER BY name")]
        digest.update(repr(objects).encode())
        for table in (name for kind, name, _ in objects if kind == "table"):
            rows = sorted(repr(tuple(r)) for r in tx.fetchall(f'SELECT * FROM "{table}"'))
            digest.update(f"{table}:{len(rows)}:".encode() + "\n".join(rows).encode())
        return digest.hexdigest()


def _pg_fingerprint(tx) -> str:
    # Two round trips, the server doing the hashing: this runs after every test that shares.
    catalog = tx.fetchone(
        "SELECT string_agg(c.relname || ':' || c.relkind::text, ',' ORDER BY c.relname) AS objects, "
        "  (SELECT string_agg(a.attrelid::regclass::text || '.' || a.attname || ':' "
        "     || format_type(a.atttypid, a.atttypmod) || ':' || a.attnotnull, ',' "
        "     ORDER BY a.attrelid::regclass::text, a.attnum) "
        "   FROM pg_attribute a JOIN pg_class r ON r.oid = a.attrelid "
        "   WHERE r.relnamespace = current_schema()::regnamespace AND a.attnum > 0 "
        "     AND NOT a.attisdropped) AS columns, "
        "  (SELECT string_agg(pg_get_constraintdef(k.oid), ',' ORDER BY k.conname) "
        "   FROM pg_constraint k WHERE k.connamespace = current_schema()::regnamespace) AS constraints "
        "FROM pg_class c WHERE c.relnamespace = current_schema()::regnamespace")
    pairs = [p.split(":") for p in (catalog["objects"] or "").split(",") if p]
    parts = [f"(SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) "
             f'FROM "{name}" t)' for name, kind in pairs if kind in ("r", "p")]
    parts += [f'(SELECT last_value || \':\' || is_called FROM "{name}")'
              for name, kind in pairs if kind == "S"]
    contents = tx.fetchone("SELECT concat_ws(',', " + ", ".join(parts) + ") AS v")["v"] if parts else ""
    summary = "\n".join([catalog["objects"] or "", catalog["columns"] or "",
                         catalog["constraints"] or "", contents])
    return hashlib.sha256(summary.encode()).hexdigest()


class SharedDemo:
    """One demo database at ``url`` (empty at first), for a module's tests that only read it:
    ``fill(engine)`` seeds it (by default a copy of the template of ``rows`` orders) and what
    it returns is kept as ``seeded``. ``engine()`` is a test's own Engine on it, checked when
    the test ends."""

    def __init__(self, url: str, rows: int, fill=None):
        self.url = url
        self.fill = fill or (lambda engine: copy_seeded(engine, rows))
        self._seed()

    def _seed(self) -> None:
        engine = open_engine(self.url)
        try:
            self.seeded = self.fill(engine)
            self.seeded_fingerprint = fingerprint(engine)
        finally:
            engine.disconnect_all()

    @contextlib.contextmanager
    def engine(self):
        """An Engine on the shared database for one test. When the test leaves the database
        other than seeded, the database is put back and the test fails (in its teardown)."""
        import pytest

        engine = open_engine(self.url)
        try:
            yield engine
            changed = fingerprint(engine) != self.seeded_fingerprint
        finally:
            engine.disconnect_all()
        if changed:
            self.restore()
            pytest.fail("this test changed the module's shared demo database: tests that "
                        "write take a database of their own (a fixture over `engine`)",
                        pytrace=False)

    def restore(self) -> None:
        """Seeded again from empty, whatever a test created, changed or dropped."""
        engine = open_engine(self.url)
        try:
            if self.url.startswith("sqlite"):
                _copy_sqlite(engine, ":memory:")  # an empty database's pages replace all
            else:
                with engine as tx:
                    schema = tx.fetchscalar("SELECT current_schema() AS s")
                    tx.execute(f'DROP SCHEMA "{schema}" CASCADE')
                    tx.execute(f'CREATE SCHEMA "{schema}"')
        finally:
            engine.disconnect_all()
        self._seed()


class SharedDemos(contextlib.ExitStack):
    """A module's shared demo databases, one per backend, row count and seeding, made on first
    use and removed on leaving (SQLite files under ``folder``, PostgreSQL schemas dropped)."""

    def __init__(self, folder):
        super().__init__()
        self.folder = folder
        self._made: dict[tuple, SharedDemo] = {}

    def get(self, backend: str, rows: int, fill=None) -> SharedDemo:
        """``fill``: how to seed it, when not by a copy of the template (see SharedDemo)."""
        key = (backend, rows, fill)
        if key not in self._made:
            if backend == "sqlite":
                url = f"sqlite://{self.folder / f'demo_{len(self._made)}.db'}"
            else:
                from pg import fresh_pg_schema

                _, url = self.enter_context(fresh_pg_schema())
            self._made[key] = SharedDemo(url, rows, fill)
        return self._made[key]


@contextlib.contextmanager
def seeded_engine(request, rows: int = 60):
    """The Engine of a test that starts from the demo database of ``rows`` orders: for a test
    marked ``reads_only``, its module's shared database (checked unchanged when the test ends);
    for any other, the test's own database (the ``engine`` fixture), seeded by a copy.

    ``request`` is the calling fixture's, which must take ``backend`` so that the test runs on
    both databases."""
    backend = request.getfixturevalue("backend")
    if request.node.get_closest_marker("reads_only"):
        shared = request.getfixturevalue("shared_demos").get(backend, rows)
        with shared.engine() as engine:
            yield engine
    else:
        engine = request.getfixturevalue("engine")
        copy_seeded(engine, rows)
        yield engine
