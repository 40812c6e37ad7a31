"""Fixtures shared by every test: a fresh database on SQLite and on PostgreSQL.

Every database test takes ``db_url`` (or ``engine``) and so runs once per backend. PostgreSQL
tests get a schema of their own, dropped afterwards, so runs never see each other's rows.
Where PostgreSQL is unreachable they skip with the reason, except under ``CI``, where they fail.
"""

from __future__ import annotations

import pytest

from pg import fresh_pg_schema  # noqa: E402  (shared with test modules)

# Hyperflask pins an older gunicorn than this environment's: `make test` runs that file in a
# venv of its own (.venv-hyperflask). Here it is not collected rather than skipped.
try:
    import hyperflask  # noqa: F401
except ImportError:
    collect_ignore = ["test_hyperflask.py"]


@pytest.fixture
def pg_schema():
    """A fresh PostgreSQL schema; yields (schema, url whose search_path is that schema)."""
    with fresh_pg_schema() as made:
        yield made


def pytest_sessionstart(session):
    """Before any worker starts (xdist's workers have ``workerinput``): a bloated catalog left by
    earlier runs is compacted (tests/pg.py: compact_catalog)."""
    if not hasattr(session.config, "workerinput"):
        from pg import compact_catalog

        compact_catalog()


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "reads_only: the test only reads the demo database, so it runs on its "
        "module's shared one (tests/demo_db.py: seeded_engine), checked unchanged afterwards")


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request):
    """The database kind a test runs on: every test that takes it (or ``db_url``, ``engine``)
    runs once per backend, its id ending in ``[sqlite]`` or ``[postgresql]``."""
    return request.param


@pytest.fixture
def db_url(backend, request, tmp_path):
    """A URL to an empty database, once per backend."""
    if backend == "sqlite":
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
    from demo_db import open_engine

    eng = open_engine(db_url)
    yield eng
    eng.disconnect_all()


@pytest.fixture(scope="module")
def shared_demos(tmp_path_factory):
    """The demo databases a module's ``reads_only`` tests share: one per backend and row count,
    made on first use, removed with the module (tests/demo_db.py)."""
    from demo_db import SharedDemos

    with SharedDemos(tmp_path_factory.mktemp("shared_demo")) as demos:
        yield demos


@pytest.fixture(autouse=True, scope="session")
def _demo_templates_dropped():
    """The demo templates this process seeded (tests/demo_db.py) go when the session ends."""
    yield
    from demo_db import drop_templates

    drop_templates()
