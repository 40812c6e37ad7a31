"""A short bounded load through real gunicorn workers (bench/load_bench.py is the long one):
two instances of the demo as deployed, sync and gthread workers, on one PostgreSQL schema;
users listing, searching, opening and editing rows for 10 s. No answer is a 5xx or missing,
and every save acknowledged (303) is in the audit trail and the table, in one unbroken chain
per row (no update lost)."""

import psycopg
import pytest

from harness import (PG_URL, Gunicorn, demo_env, drop_schema, new_schema_name, pg_schema_url,
                     redis_problem, require, seed_demo)
from load import audit_mark, make_plan, run_load, subjects, verify_writes
from pg import require_pg

USERS, SECONDS = 24, 10


@pytest.fixture(scope="module")
def deployment():
    require_pg()
    require(redis_problem())
    schema = new_schema_name()
    seed_demo(PG_URL, schema, rows=2000)
    env = demo_env(PG_URL, schema)
    servers = [Gunicorn("hyper_admin.demo.wsgi:app", env, workers=2, name="sync"),
               Gunicorn("hyper_admin.demo.wsgi:app", env, workers=2, worker_class="gthread",
                        threads=4, name="gthread")]
    try:
        for server in servers:
            server.start()
        yield servers, schema
    finally:
        for server in servers:
            server.close()
        drop_schema(schema)


@pytest.mark.slow
def test_a_bounded_load_gets_no_error_and_loses_no_write(deployment):
    servers, schema = deployment
    with psycopg.connect(pg_schema_url(schema), autocommit=True) as conn:
        plan = make_plan(conn, hot_tickets=40)  # few rows: editors meet, conflicts happen
        mark = audit_mark(conn)
        before = subjects(conn, plan.edit_tickets)
    outcome = run_load([s.url for s in servers], users=USERS, duration=SECONDS, plan=plan,
                       accounts=[("support", "support"), ("admin", "admin")], run_tag="test")
    assert outcome.errors == [] and outcome.sign_in_failures == 0
    statuses = outcome.statuses()
    assert outcome.server_errors == 0 and outcome.transport_errors == 0, statuses
    assert set(statuses) <= {200, 303, 409}, statuses
    kinds = {row["kind"]: row["requests"] for row in outcome.table()}
    assert all(kinds.get(kind, 0) > 0 for kind in ("list", "search", "detail", "count",
                                                    "facets", "edit-form", "save")), kinds
    assert len(outcome.writes) > 20, kinds

    with psycopg.connect(pg_schema_url(schema), autocommit=True) as conn:
        check = verify_writes(conn, outcome.writes, mark, before)
    assert check["in_audit"] == check["acknowledged"] == len(outcome.writes), check
    assert check["audit_entries"] == check["acknowledged"], check  # no save without its answer
    assert check["lost_updates"] == [] and check["rows_not_holding_last_write"] == [], check
    for server in servers:
        assert "Traceback" not in server.log_text()
