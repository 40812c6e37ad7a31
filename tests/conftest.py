"""Fixtures shared by every test: a fresh database on SQLite and on PostgreSQL.

Every database test takes ``db_url`` (or ``engine``) and so runs once per backend. PostgreSQL
tests get a schema of their own, dropped afterwards, so runs never see each other's rows.
Where PostgreSQL is unreachable they skip with the reason, except under ``CI``, where they fail.
"""

from __future__ import annotations

import contextlib
import uuid

import pytest

from pg import PG_URL, require_pg  # noqa: E402  (shared with test modules)

# Hyperflask pins an older gunicorn than this environment's: `make test` runs that file in a
# venv of its own (.venv-hyperflask). Here it is not collected rather than skipped.
try:
    import hyperflask  # noqa: F401
except ImportError:
    collect_ignore = ["test_hyperflask.py"]


@contextlib.contextmanager
def fresh_pg_schema():
    """A new PostgreSQL schema, dropped on exit: (schema, url whose search_path is it)."""
    require_pg()
    import psycopg

    schema = "ha_test_" + uuid.uuid4().hex[:12]
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in PG_URL else "?"
    url = f"{PG_URL}{sep}options=-c%20search_path%3D{schema}"
    try:
        yield schema, url
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture
def pg_schema():
    """A fresh PostgreSQL schema; yields (schema, url whose search_path is that schema)."""
    with fresh_pg_schema() as made:
        yield made


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """A URL to an empty database, once per backend."""
    if request.param == "sqlite":
        yield f"sqlite://{tmp_path / 'test.db'}"
    else:
        yield request.getfixturevalue("pg_schema")[1]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def module_db_url(request, tmp_path_factory):
    """Like ``db_url``, one database for a whole module (tests that only read, or fuzz)."""
    if request.param == "sqlite":
        yield f"sqlite://{tmp_path_factory.mktemp('db') / 'test.db'}"
    else:
        with fresh_pg_schema() as (_, url):
            yield url


@pytest.fixture
def engine(db_url):
    """A sqlorm Engine on an empty database, PostgreSQL support enabled."""
    from sqlorm import Engine

    from hyper_admin import enable_postgresql

    kwargs = {"foreign_keys": True} if db_url.startswith("sqlite") else {}
    eng = enable_postgresql(Engine.from_uri(db_url, **kwargs))
    yield eng
    eng.disconnect_all()
