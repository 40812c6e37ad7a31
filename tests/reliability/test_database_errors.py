"""A database that cannot serve a request (read-only, full, out of reach, busy, too slow) is
answered 503 with a sentence for people, never a 500 or the driver's text; the error is logged;
the next request after the database recovers succeeds.

SQLite in-process, with the demo app as it runs in production (not TESTING): a read-only
database is ``PRAGMA query_only`` and a full disk ``PRAGMA max_page_count`` on every new
connection, which give SQLite's own SQLITE_READONLY and SQLITE_FULL deterministically, without
root or a small filesystem. PostgreSQL's faults run against real servers in test_faults.py.
"""

import logging
import sqlite3

import psycopg
import psycopg.errors
import pytest

from harness import csrf_token, form_fields
from hyper_admin import sql
from hyper_admin.demo.app import create_app
from hyper_admin.storage import ensure_tables

DRIVER_TEXT = ("sqlite", "SQLITE", "OperationalError", "Traceback", "readonly database",
               "disk is full", "psycopg")


@pytest.fixture
def demo(tmp_path):
    app = create_app(str(tmp_path / "demo.db"), rows=50)
    engine = app.extensions["hyper_admin_demo"]["engine"]
    ensure_tables(engine)  # the audit table exists before the database turns read-only
    client = app.test_client()
    page = client.get("/admin/login").get_data(as_text=True)
    signed_in = client.post("/admin/login", data={"username": "support", "password": "support",
                                                  "csrf_token": csrf_token(page), "next": ""})
    assert signed_in.status_code == 303
    yield app, engine, client
    engine.disconnect_all()


class _EveryNewConnection:
    """Run ``pragma`` on each connection the engine opens from now on (and drop those it
    holds), until :meth:`lift`."""

    def __init__(self, engine, pragma: str):
        self.engine, self.pragma = engine, pragma
        engine.disconnect_all()
        engine.connected.connect(self._apply, sender=engine)

    def _apply(self, engine, conn):
        conn.execute(self.pragma)

    def lift(self):
        self.engine.connected.disconnect(self._apply, sender=self.engine)
        self.engine.disconnect_all()


def _scalar(engine, query, *params):
    with engine as tx:
        cursor = tx.cursor()
        cursor.execute(query, params)
        return cursor.fetchone()[0]


def _post_edit(client, path, **changes):
    page = client.get(path)
    assert page.status_code == 200
    data = form_fields(page.get_data(as_text=True), path)
    data.update(changes)
    return client.post(path, data=data)


def _assert_clear_503(response, words):
    body = response.get_data(as_text=True)
    assert response.status_code == 503, body[:500]
    assert "Temporarily unavailable" in body and words in body
    for text in DRIVER_TEXT:
        assert text not in body


def test_a_read_only_database_answers_503_and_nothing_changes(demo, caplog):
    app, engine, client = demo
    ticket = _scalar(engine, "SELECT min(id) FROM tickets")
    subject = _scalar(engine, "SELECT subject FROM tickets WHERE id = ?", ticket)
    audit = _scalar(engine, "SELECT count(*) FROM hyper_admin_audit")
    read_only = _EveryNewConnection(engine, "PRAGMA query_only = ON")

    assert client.get(f"/admin/tickets/{ticket}/").status_code == 200  # reading still works
    with caplog.at_level(logging.WARNING, logger=app.logger.name):
        response = _post_edit(client, f"/admin/tickets/{ticket}/edit", subject="never saved")
    _assert_clear_503(response, "read-only")
    assert "database read_only on POST" in caplog.text  # logged, with the driver's words
    assert "readonly database" in caplog.text

    read_only.lift()
    assert _scalar(engine, "SELECT subject FROM tickets WHERE id = ?", ticket) == subject
    assert _scalar(engine, "SELECT count(*) FROM hyper_admin_audit") == audit
    saved = _post_edit(client, f"/admin/tickets/{ticket}/edit", subject="saved after")
    assert saved.status_code == 303
    assert _scalar(engine, "SELECT subject FROM tickets WHERE id = ?", ticket) == "saved after"


def test_a_full_database_answers_503_and_nothing_changes(demo):
    app, engine, client = demo
    account = _scalar(engine, "SELECT min(id) FROM accounts")
    notes = _scalar(engine, "SELECT notes FROM accounts WHERE id = ?", account)
    pages = _scalar(engine, "PRAGMA page_count")
    full = _EveryNewConnection(engine, f"PRAGMA max_page_count = {pages}")

    big = "A long note. " * 20_000  # 260 kB: needs pages the database may not grow to
    response = _post_edit(client, f"/admin/accounts/{account}/edit", notes=big)
    _assert_clear_503(response, "run out of storage space")

    full.lift()
    assert _scalar(engine, "SELECT notes FROM accounts WHERE id = ?", account) == notes
    saved = _post_edit(client, f"/admin/accounts/{account}/edit", notes=big)
    assert saved.status_code == 303


def test_a_locked_database_answers_503(demo, tmp_path):
    """Another process holding the write lock past the busy timeout: SQLITE_BUSY."""
    app, engine, client = demo
    ticket = _scalar(engine, "SELECT min(id) FROM tickets")
    quick = _EveryNewConnection(engine, "PRAGMA busy_timeout = 50")
    holder = sqlite3.connect(str(tmp_path / "demo.db"), isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")  # the write lock, held
        response = _post_edit(client, f"/admin/tickets/{ticket}/edit", subject="locked out")
        _assert_clear_503(response, "busy")
        assert response.headers["Retry-After"] == "2"
    finally:
        holder.execute("ROLLBACK")
        holder.close()
        quick.lift()


def test_any_other_database_error_is_still_a_500(demo):
    """Only conditions of the database become 503: a broken query (a bug) stays a 500."""
    app, engine, client = demo
    with engine as tx:
        tx.execute("DROP TABLE order_lines")
    response = client.get("/admin/order_lines/")
    assert response.status_code == 500
    assert "no such table" not in response.get_data(as_text=True)


@pytest.mark.parametrize(("error", "problem"), [
    (psycopg.OperationalError("connection failed: Connection refused"), sql.UNREACHABLE),
    (psycopg.OperationalError("the connection is lost"), sql.UNREACHABLE),
    (psycopg.errors.AdminShutdown("terminating connection due to administrator command"),
     sql.UNREACHABLE),
    (psycopg.errors.CannotConnectNow("the database system is starting up"), sql.UNREACHABLE),
    (psycopg.errors.ConnectionFailure("x"), sql.UNREACHABLE),
    (psycopg.errors.ConnectionTimeout("connection timeout expired"), sql.UNREACHABLE),
    (psycopg.InterfaceError("not an outage"), None),
    (psycopg.errors.TooManyConnections("x"), sql.UNREACHABLE),
    (psycopg.errors.QueryCanceled("canceling statement due to statement timeout"), sql.TIMEOUT),
    (psycopg.errors.ReadOnlySqlTransaction("x"), sql.READ_ONLY),
    (psycopg.errors.DiskFull("could not extend file"), sql.FULL),
    (psycopg.errors.DeadlockDetected("x"), sql.BUSY),
    (psycopg.errors.LockNotAvailable("x"), sql.BUSY),
    (psycopg.errors.UniqueViolation("x"), None),
    (psycopg.errors.UndefinedTable("x"), None),
    (psycopg.errors.DivisionByZero("x"), None),
    (sqlite3.OperationalError("no such table: x"), None),
    (sqlite3.OperationalError("attempt to write a readonly database"), sql.READ_ONLY),
    (sqlite3.OperationalError("database or disk is full"), sql.FULL),
    (sqlite3.OperationalError("database is locked"), sql.BUSY),
    (sqlite3.OperationalError("unable to open database file"), sql.UNREACHABLE),
    (sqlite3.OperationalError("interrupted"), sql.TIMEOUT),
    (ValueError("not a database error"), None),
], ids=lambda v: v if isinstance(v, str) or v is None else type(v).__name__)
def test_database_problem_names_conditions_of_the_database_only(error, problem):
    assert sql.database_problem(error) == problem


def test_a_wrapped_driver_error_is_recognised():
    try:
        try:
            raise psycopg.errors.AdminShutdown("terminating connection")
        except psycopg.Error as exc:
            raise RuntimeError("while loading the user") from exc
    except RuntimeError as wrapped:
        assert sql.database_problem(wrapped) == sql.UNREACHABLE
