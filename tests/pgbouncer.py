"""A PgBouncer of the tests' own (hyper_admin/demo/cluster.py; Debian's ``pgbouncer``, which ``make test`` installs when
missing): transaction pooling in front of the test PostgreSQL, on a free port, in a temporary
folder, run as the ``postgres`` user when the tests run as root (PgBouncer refuses root), and
stopped afterwards. It never touches a PgBouncer the machine may run itself.

A database of its own per use (``fresh_database``): PgBouncer does not pass the ``options``
start-up parameter that the other PostgreSQL tests choose their schema with."""

from __future__ import annotations

import contextlib
import uuid

from hyper_admin.demo.cluster import Bouncer, pgbouncer_problem, running_pgbouncer
from pg import PG_URL, require_pg, skip_or_fail

__all__ = ["Bouncer", "running_pgbouncer", "require_pgbouncer", "fresh_database"]


def require_pgbouncer() -> None:
    """Skip (fail when CI is set) where PgBouncer or PostgreSQL is missing."""
    require_pg()
    skip_or_fail(pgbouncer_problem(), "the PgBouncer tests")


@contextlib.contextmanager
def fresh_database():
    """The name of a new, empty database on the test server, dropped afterwards (whoever is
    still connected to it, PgBouncer's server connections included)."""
    import psycopg

    name = f"hyper_admin_pgb_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")  # a name of ours: [a-z0-9_]
    try:
        yield name
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
