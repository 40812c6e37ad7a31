"""PostgreSQL for the tests: where it is, and whether it can be used.

A module of its own (not conftest) so that test modules can import it: ``e2e/`` has a conftest
too, and pytest would import the wrong one under the name ``conftest``.
"""

import os

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


def require_pg() -> None:
    problem = pg_unavailable()
    if problem:
        if IN_CI:
            pytest.fail(problem + " (CI is set: PostgreSQL tests must run)")
        pytest.skip(problem)
