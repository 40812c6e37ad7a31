"""The admin through PgBouncer in transaction pooling mode (tests/pgbouncer.py starts one, with
a single server connection, so that every transaction of every client runs on the same server
session): no state of one transaction reaches the next (SET LOCAL, transaction-scoped advisory
locks), no server-side prepared statement (``?pgbouncer=true``, sqlorm_compat._connect_kwargs),
and every list, row, bulk and export path works. PgBouncer's own statistics show that the
requests went through it."""

import re

import pytest

from apps import as_user, csrf_from, form_data
from crud_app import create_app, staff
from demo_db import open_engine, seed_from_scratch
from pgbouncer import fresh_database, require_pgbouncer, running_pgbouncer
from hyper_admin.sqlorm_compat import sqlorm_uri


@pytest.fixture(scope="module")
def bouncer():
    require_pgbouncer()
    with running_pgbouncer(pool_size=1) as bouncer:
        yield bouncer


@pytest.fixture(scope="module")
def database(bouncer):
    with fresh_database() as name:
        engine = open_engine(sqlorm_uri(bouncer.url(name, pgbouncer="true")))
        seed_from_scratch(engine, 20)  # the demo's DDL and rows, through PgBouncer too
        engine.disconnect_all()
        yield name


def _engine(bouncer, database, **query):
    return open_engine(sqlorm_uri(bouncer.url(database, **query)))


def _alternate(engines, times=8):
    """The same statement run in turn on each engine's connection, one transaction each."""
    for _ in range(times):
        for engine in engines:
            with engine as tx:
                assert tx.fetchscalar("SELECT count(*) AS n FROM orders WHERE id > 0") > 0


def test_prepared_statements_are_off_through_pgbouncer_and_would_break_otherwise(bouncer, database):
    import psycopg

    # Without ?pgbouncer=true: psycopg prepares the statement on its sixth run, on the one
    # server connection; the other client's sixth run prepares the same name there.
    plain = [_engine(bouncer, database) for _ in range(2)]
    with pytest.raises(psycopg.Error, match="prepared statement"):
        _alternate(plain)
    for engine in plain:
        engine.disconnect_all()
    # With it: never prepared, whatever the number of runs and clients.
    flagged = [_engine(bouncer, database, pgbouncer="true") for _ in range(2)]
    _alternate(flagged, times=20)
    with flagged[0] as tx:
        tx.fetchscalar("SELECT 1 AS v")
        assert tx.session.conn.prepare_threshold is None
    for engine in flagged:
        engine.disconnect_all()


def test_the_flag_reaches_psycopg_from_a_url_as_flask_sqlorm_gives_it(bouncer, database):
    """An application's engine (flask-sqlorm: ``Engine.from_uri`` of the URL as written, the
    flag a query parameter of it) is fixed by enable_postgresql as the admin's own."""
    from sqlorm import Engine

    from hyper_admin import enable_postgresql

    engine = enable_postgresql(Engine.from_uri(sqlorm_uri(bouncer.url(database)) + "?pgbouncer=1"))
    with engine as tx:
        tx.fetchscalar("SELECT 1 AS v")
        assert tx.session.conn.prepare_threshold is None
    engine.disconnect_all()


@pytest.fixture(scope="module")
def site(bouncer, database):
    engine = _engine(bouncer, database, pgbouncer="true")
    app, admin = create_app(engine)
    admin.create_tables(app)
    yield app, staff(engine), engine
    engine.disconnect_all()


def _xacts(bouncer, database) -> int:
    return next(int(row["total_xact_count"]) for row in bouncer.show("STATS")
                if row["database"] == database)


def _server_setting(bouncer, database, name) -> str:
    import psycopg

    with psycopg.connect(bouncer.url(database), autocommit=True, prepare_threshold=None) as conn:
        return conn.execute(f"SELECT current_setting('{name}')").fetchone()[0]  # our names


def test_every_list_path_works_through_pgbouncer(bouncer, database, site):
    app, people, engine = site
    support = as_user(app, people["support"])
    before = _xacts(bouncer, database)
    default_timeout = _server_setting(bouncer, database, "statement_timeout")
    for url in ("/admin/orders/", "/admin/orders/?q=ORD-00001", "/admin/orders/?status=paid&sort=-total",
                "/admin/orders/?per_page=5", "/admin/orders/count?status=paid",
                "/admin/orders/facets?field=status", "/admin/orders/dates",
                "/admin/orders/export?format=csv", "/admin/orders/export?format=xlsx",
                "/admin/orders/export?format=json", "/admin/tickets/?q=order", "/admin/",
                "/admin/-/palette?q=ORD", "/admin/accounts/lookup?q=a"):
        for _ in range(6):  # past psycopg's prepare threshold
            response = support.get(url, headers={"HX-Request": "true"} if "facets" in url else {})
            response.get_data()
            assert response.status_code == 200, (url, response.status_code)
    # Keyset pages: Next, several times.
    page = support.get("/admin/orders/?per_page=5").get_data(as_text=True)
    for _ in range(3):
        next_url = re.search(r'rel="next"[^>]*href="([^"]+)"|href="([^"]+)"[^>]*rel="next"', page)
        assert next_url, "no Next link"
        target = (next_url.group(1) or next_url.group(2)).replace("&amp;", "&")
        answer = support.get(target)
        assert answer.status_code == 200
        page = answer.get_data(as_text=True)
    # The time limits were SET LOCAL: the one server session keeps the server's own.
    assert _server_setting(bouncer, database, "statement_timeout") == default_timeout
    # Through PgBouncer, one server connection for everyone.
    assert _xacts(bouncer, database) > before + 50
    servers = [row for row in bouncer.show("SERVERS") if row["database"] == database]
    assert len(servers) == 1


def test_row_and_bulk_writes_work_through_pgbouncer(bouncer, database, site):
    app, people, engine = site
    support = as_user(app, people["support"])
    superuser = as_user(app, people["admin"])
    with engine as tx:
        order = tx.fetchscalar("SELECT min(id) AS v FROM orders WHERE status <> 'paid'")
        ticket = tx.fetchscalar("SELECT min(id) AS v FROM tickets WHERE account_id IN "
                                "(SELECT id FROM accounts WHERE region = 'eu')")
        audits = tx.fetchscalar("SELECT count(*) AS v FROM hyper_admin_audit")
    url = f"/admin/tickets/{ticket}/edit"
    form_page = support.get(url).get_data(as_text=True)
    token = csrf_from(form_page)
    data = form_data(form_page)
    data.update(subject="Changed through PgBouncer", csrf_token=token)
    saved = support.post(url, data=data)
    assert saved.status_code == 303, saved.get_data(as_text=True)[:500]
    # The same form again (its version token now stale): a conflict, nothing written.
    data["subject"] = "Stale write"
    assert support.post(url, data=data).status_code == 409
    with engine as tx:
        assert tx.fetchscalar("SELECT subject AS v FROM tickets WHERE id = %d" % ticket) == \
            "Changed through PgBouncer"
    # A new ticket from the add form, as a browser posts it.
    new = form_data(support.get("/admin/tickets/new").get_data(as_text=True))
    new.update(subject="Opened through PgBouncer", csrf_token=token)
    with engine as tx:
        new["account_id"] = str(tx.fetchscalar(
            "SELECT min(id) AS v FROM accounts WHERE region = 'eu'"))
    created = support.post("/admin/tickets/new", data=new)
    assert created.status_code == 303, created.get_data(as_text=True)[:800]
    # A bulk action (its confirmation, then the run), a delete, the history.
    bulk = {"action": "mark_paid", "pk": str(order), "csrf_token": token}
    assert support.post("/admin/orders/action", data=bulk).status_code == 200
    assert support.post("/admin/orders/action", data=dict(bulk, confirmed="1")).status_code == 303
    delete_token = csrf_from(superuser.get("/admin/").get_data(as_text=True))
    with engine as tx:
        comment = tx.fetchscalar("SELECT min(id) AS v FROM ticket_comments")
    gone = superuser.post(f"/admin/ticket_comments/{comment}/delete",
                          data={"csrf_token": delete_token})
    assert gone.status_code == 303
    assert support.get(f"/admin/tickets/{ticket}/history").status_code == 200
    with engine as tx:
        assert tx.fetchscalar("SELECT status AS v FROM orders WHERE id = %d" % order) == "paid"
        assert tx.fetchscalar("SELECT count(*) AS v FROM ticket_comments WHERE id = %d"
                              % comment) == 0
        assert tx.fetchscalar("SELECT count(*) AS v FROM tickets WHERE subject = "
                              "'Opened through PgBouncer'") == 1
        # One entry per write: the edit, the new ticket, the action's row, the delete.
        assert tx.fetchscalar("SELECT count(*) AS v FROM hyper_admin_audit") == audits + 4
