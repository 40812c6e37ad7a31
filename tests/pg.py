"""PostgreSQL for the tests: where it is, and whether it can be used.

A module of its own (not conftest) so that test modules can import it: ``e2e/`` has a conftest
too, and pytest would import the wrong one under the name ``conftest``.
"""

import contextlib
import os
import uuid

import pytest

PG_URL = os.environ.get("HYPER_ADMIN_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
IN_CI = bool(os.environ.get("CI"))
_pg_problem: list[str | None] = []


def pg_unavailable() -> str | None:
    """Why PostgreSQL cannot be used, or None. Checked once per run."""
    if not _pg_problem:
        try:
            import psycopg

            with psycopg.connect(PG_URL, connect_timeout=3) as conn:
                conn.execute("SELECT 1")
            _pg_problem.append(None)
        except Exception as exc:  # noqa: BLE001 - any failure means "no PostgreSQL here"
            _pg_problem.append(f"PostgreSQL at {PG_URL} unreachable: {exc}".strip())
    return _pg_problem[0]


def skip_or_fail(problem: str | None, what: str) -> None:
    """Skip the test for ``problem`` (a missing server or tool), or fail it when CI is set:
    there ``what`` must run."""
    if problem:
        if IN_CI:
            pytest.fail(f"{problem} (CI is set: {what} must run)")
        pytest.skip(problem)


def require_pg() -> None:
    skip_or_fail(pg_unavailable(), "PostgreSQL tests")


#: Dead rows in a catalog table past which a run starts by compacting it (see below).
CATALOG_BLOAT = 5_000
#: Schemas a worker drops between two plain VACUUMs of the catalog tables their DDL churns.
VACUUM_EVERY = 40
#: The catalog tables a test schema's DDL writes (tables, columns, types, constraints,
#: defaults, sequences, indexes, dependencies, statistics).
CHURNED_CATALOG = ("pg_class", "pg_attribute", "pg_type", "pg_constraint", "pg_depend",
                   "pg_attrdef", "pg_index", "pg_sequence", "pg_namespace", "pg_statistic",
                   "pg_description", "pg_trigger", "pg_rewrite", "pg_shdepend", "pg_init_privs",
                   "pg_enum", "pg_inherits")
_dropped: list[int] = [0]


def compact_catalog() -> list[str]:
    """Compact the test database's system catalogs when earlier runs left them bloated; returns
    the tables compacted. Every test makes and drops a schema: a run leaves hundreds of
    thousands of dead catalog rows, and a server without autovacuum (CI machines turn it off)
    keeps them, so that each later run's DDL gets slower (2.4 s per test setup seen after a
    day of runs, 0.2 s after compacting; the PostgreSQL half of test_crud.py took 177 s with
    78,000 dead rows in pg_constraint, 11 s once compacted). Called once per run, before any
    worker starts; during the run vacuum_catalog keeps the dead rows down."""
    if pg_unavailable():
        return []
    import psycopg

    with psycopg.connect(PG_URL, autocommit=True) as conn:
        bloated = [name for (name,) in conn.execute(
            "SELECT relname FROM pg_stat_sys_tables WHERE schemaname = 'pg_catalog' "
            "AND n_dead_tup > %s ORDER BY relname", (CATALOG_BLOAT,))]
        if bloated:
            # Catalog names from the server itself; VACUUM takes no parameters.
            tables = ", ".join(f"pg_catalog.{name}" for name in bloated)
            conn.execute("VACUUM FULL " + tables)
            conn.execute("VACUUM " + tables)  # VACUUM FULL leaves the dead-row counts as they were
    return bloated


def schema_url(schema: str) -> str:
    """PG_URL with ``search_path`` set to ``schema``. Commits there don't wait for the disk
    (``synchronous_commit=off``): a test's rows need no durability, and a test commits dozens
    of times."""
    sep = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{sep}options=-c%20search_path%3D{schema}%20-c%20synchronous_commit%3Doff"


def create_pg_schema(prefix: str = "ha_test_") -> str:
    """A new schema with a random name (``prefix`` + 12 hex digits); returns its name."""
    require_pg()
    import psycopg

    schema = prefix + uuid.uuid4().hex[:12]
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    return schema


def drop_pg_schema(schema: str) -> None:
    import psycopg

    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        _dropped[0] += 1
        if _dropped[0] % VACUUM_EVERY == 0:
            vacuum_catalog(conn)


def vacuum_catalog(conn) -> None:
    """A plain VACUUM of the catalog tables test schemas churn: their dead rows go (each
    schema dropped leaves hundreds), so that the catalog queries of the rest of the run do not
    read through them. It locks nothing that DDL of other workers needs. (Autovacuum would do
    it, but CI machines run PostgreSQL without it.)"""
    tables = ", ".join(f"pg_catalog.{name}" for name in CHURNED_CATALOG)
    conn.execute("VACUUM " + tables)  # catalog names of ours: no parameters in VACUUM


@contextlib.contextmanager
def fresh_pg_schema():
    """A new PostgreSQL schema, dropped on exit: (schema, url whose search_path is it)."""
    schema = create_pg_schema()
    try:
        yield schema, schema_url(schema)
    finally:
        drop_pg_schema(schema)
