"""Faults under real gunicorn workers, on PostgreSQL: a statement past the time limit, a worker
killed inside a write transaction, and PostgreSQL restarted under load (on a throwaway cluster
of our own: the shared server stays up for the other tests).

The app is fault_app (the demo as deployed, plus an ``X-Worker-Pid`` header, an action that
waits inside its transaction, and a list whose query sleeps in the database).
"""

import os
import signal
import threading
import time

import psycopg
import pytest

from harness import (PG_URL, Browser, Gunicorn, PrivatePostgres, csrf_token, demo_env,
                     drop_schema, form_fields, new_schema_name, pg_schema_url,
                     private_postgres_problem, redis_problem, require, seed_demo, wait_for)
from load import audit_mark, make_plan, run_load, subjects, verify_writes
from pg import require_pg

DRIVER_TEXT = ("psycopg", "OperationalError", "Traceback", "SQLSTATE", "pg_sleep",
               "connection refused", "Connection refused", "terminating connection")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    require_pg()
    require(redis_problem())
    schema = new_schema_name()
    seed_demo(PG_URL, schema, rows=300)
    hold_dir = str(tmp_path_factory.mktemp("hold"))
    env = demo_env(PG_URL, schema, HYPER_ADMIN_STATEMENT_TIMEOUT="1",
                   RELIABILITY_HOLD_DIR=hold_dir)
    instance = Gunicorn("fault_app:app", env, workers=2, name="faults")
    try:
        instance.start()
        yield instance, schema, hold_dir
    finally:
        instance.close()
        drop_schema(schema)


def _signed_in(url):
    browser = Browser(url)
    assert browser.sign_in("support", "support").status == 303
    return browser


def _every_worker_answers(server, browser, path, seconds=20):
    """Until each of the server's current workers has answered ``path`` with 200."""
    answered: set[str] = set()

    def all_answered():
        response = browser.get(path)
        if response.status == 200:
            answered.add(response.headers["x-worker-pid"])
        return {str(p) for p in server.worker_pids()} <= answered

    wait_for(all_answered, seconds, f"every worker answering {path} with 200", interval=0.01)


def _assert_clear_503(response, words):
    assert response.status == 503, response.body[:300]
    assert "Temporarily unavailable" in response.body and words in response.body
    for text in DRIVER_TEXT:
        assert text not in response.body


def test_a_statement_past_the_time_limit_is_stopped_with_a_503(server):
    instance, schema, _ = server
    browser = _signed_in(instance.url)
    started = time.monotonic()
    response = browser.get("/admin/sleepy-products/")  # its query sleeps 5 s in PostgreSQL
    elapsed = time.monotonic() - started
    _assert_clear_503(response, "took too long")
    assert elapsed < 4, elapsed  # stopped at the 1 s limit, not waited out
    with psycopg.connect(PG_URL, autocommit=True) as conn:  # and stopped in the database too
        assert not conn.execute("SELECT 1 FROM pg_stat_activity WHERE state = 'active' AND "
                                "query LIKE %s", ("%pg_sleep(5)%",)).fetchone()
    _every_worker_answers(instance, browser, "/admin/products/")  # no worker left stuck


def test_a_worker_killed_inside_a_write_transaction_leaves_nothing_written(server):
    instance, schema, hold_dir = server
    browser = _signed_in(instance.url)
    with psycopg.connect(pg_schema_url(schema), autocommit=True) as conn:
        orders = [r[0] for r in conn.execute(
            "SELECT id FROM orders WHERE currency <> 'XTS' ORDER BY id LIMIT 3")]
        rows_before = conn.execute("SELECT id, currency, updated_at FROM orders WHERE id = "
                                   "ANY(%s) ORDER BY id", (orders,)).fetchall()
        audit_before = audit_mark(conn)
    workers_before = instance.worker_pids()
    token = csrf_token(browser.get("/admin/orders/").body)
    outcome = {}

    def post_the_action():
        try:
            outcome["status"] = browser.post("/admin/orders/action", {
                "action": "hold", "pk": [str(o) for o in orders], "csrf_token": token}).status
        except OSError as exc:
            outcome["error"] = exc

    request = threading.Thread(target=post_the_action)
    request.start()
    held = os.path.join(hold_dir, "held")
    wait_for(lambda: os.path.exists(held), 30, "the action to hold its transaction")
    worker, backend = map(int, open(held).read().split())
    os.unlink(held)
    assert worker in workers_before
    with psycopg.connect(pg_schema_url(schema), autocommit=True) as conn:
        # Two rows updated and one audit entry written, in a transaction still open.
        assert conn.execute("SELECT state FROM pg_stat_activity WHERE pid = %s",
                            (backend,)).fetchone()[0] == "idle in transaction"
        os.kill(worker, signal.SIGKILL)
        request.join(timeout=30)
        assert "status" not in outcome and isinstance(outcome.get("error"), OSError)
        wait_for(lambda: not conn.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s",
                                          (backend,)).fetchone(),
                 15, "PostgreSQL to end the killed worker's session")
        rows_after = conn.execute("SELECT id, currency, updated_at FROM orders WHERE id = "
                                  "ANY(%s) ORDER BY id", (orders,)).fetchall()
        audit_after = conn.execute("SELECT count(*) FROM hyper_admin_audit WHERE id > %s",
                                   (audit_before,)).fetchone()[0]
    assert rows_after == rows_before  # rolled back: no row half-changed
    assert audit_after == 0  # and no audit entry of it
    # The master replaced the worker, and the rows it had locked can be saved again.
    wait_for(lambda: len(instance.worker_pids()) == 2 and worker not in instance.worker_pids(),
             30, "gunicorn to replace the killed worker")
    path = f"/admin/orders/{orders[0]}/edit"
    data = form_fields(browser.get(path).body, path)
    data["currency"] = "XTS"
    assert browser.post(path, data).status == 303
    assert "Traceback" not in instance.log_text()


# ---------------------------------------------------------------------------------------------
# PostgreSQL restarted under load


@pytest.fixture
def private_postgres():
    require(private_postgres_problem())
    require(redis_problem())
    cluster = PrivatePostgres()
    try:
        cluster.init().start()
        yield cluster
    finally:
        cluster.destroy()


@pytest.mark.slow
def test_postgresql_restarted_under_load_503_then_recovery(private_postgres):
    schema = "demo"
    seed_demo(private_postgres.url, schema, rows=500)
    instance = Gunicorn("fault_app:app", demo_env(private_postgres.url, schema), workers=2,
                        name="restart")
    instance.start()
    try:
        with psycopg.connect(pg_schema_url(schema, private_postgres.url), autocommit=True) as conn:
            plan = make_plan(conn, hot_tickets=30)
            mark = audit_mark(conn)
            before = subjects(conn, plan.edit_tickets)
        workers = instance.worker_pids()
        probe = _signed_in(instance.url)
        timeline, down_pages = {}, []

        def restart(clock):
            time.sleep(2)  # the load runs normally first
            timeline["stop"] = clock()
            private_postgres.stop("fast")
            timeline["down"] = clock()
            down_pages.append(probe.get("/admin/orders/"))
            time.sleep(2)
            private_postgres.start()
            timeline["up"] = clock()
            _every_worker_answers(instance, probe, "/admin/orders/")
            timeline["recovered"] = clock()

        outcome = run_load([instance.url], users=8, duration=9, plan=plan, during=restart,
                           accounts=[("support", "support"), ("admin", "admin")],
                           run_tag="restart")
        with psycopg.connect(pg_schema_url(schema, private_postgres.url), autocommit=True) as conn:
            check = verify_writes(conn, outcome.writes, mark, before)
    finally:
        instance.close()

    statuses = outcome.statuses()
    assert outcome.errors == [] and outcome.sign_in_failures == 0
    assert set(statuses) <= {200, 303, 409, 503}, statuses  # never a 500, always an answer
    unavailable = [s for s in outcome.samples if s.status == 503]
    assert unavailable, statuses
    # Only requests that were running while the server was stopped, or sent while it was down.
    outside = [(s.at, s.seconds) for s in unavailable
               if s.at + s.seconds < timeline["stop"] or s.at > timeline["up"]]
    assert not outside, (timeline, outside)
    assert not [s for s in outcome.samples if s.at > timeline["recovered"] and s.status >= 500]
    assert timeline["recovered"] - timeline["up"] < 10, timeline
    _assert_clear_503(down_pages[0], "cannot be reached")
    assert down_pages[0].headers["retry-after"] == "5"
    # No worker died or was replaced for hanging: only the first ones ever answered.
    assert {s.worker for s in outcome.samples if s.worker} <= {str(p) for p in workers}
    # Every save answered 303 is there, in one unbroken chain per row.
    assert check["in_audit"] == check["acknowledged"] == len(outcome.writes), check
    assert check["lost_updates"] == [] and check["rows_not_holding_last_write"] == [], check
