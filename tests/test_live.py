"""Live lists (ModelAdmin.live): the toggle, the event stream and the new rows' fragment.

The stream is read through Flask's test client as it is produced, with a poll interval of
50 ms; rows are inserted between two reads, as another process would.
"""

import re
import time

import pytest
from sqlorm import SQL

from apps import as_user
from crud_app import TicketAdmin, create_app, staff
from demo_db import seeded_engine
from hyper_admin.demo.models import Ticket


@pytest.fixture
def site(request, backend):
    with seeded_engine(request, rows=60) as engine:
        app, admin = create_app(engine)
        app.config.update(HYPER_ADMIN_LIVE_INTERVAL=0.05)
        app.extensions["hyper_admin"]["hyper_admin"].live_interval = 0.05
        app.extensions["hyper_admin"]["hyper_admin"].live_max_seconds = 3
        admin.register(Ticket, TicketAdmin, live=True)
        yield app, staff(engine), engine


def one(engine, sql):
    with engine as tx:
        return tx.fetchscalar(SQL(sql))


def insert_ticket(engine, region: str, status: str = "open") -> int:
    account = one(engine, f"SELECT min(id) FROM accounts WHERE region = '{region}'")
    with engine as tx:
        tx.execute(SQL("INSERT INTO tickets (account_id, subject, status, priority) VALUES (",
                       SQL.Param(account, "a"), ",", SQL.Param(f"Live {region} {status}", "s"), ",",
                       SQL.Param(status, "st"), ", 'normal')"))
    return one(engine, "SELECT max(id) FROM tickets")


def events(response, until, timeout=3.0):
    """Read the stream's events (name, data) until ``until(events)`` holds."""
    seen, buffer = [], ""
    started = time.monotonic()
    for chunk in response.response:
        buffer += chunk.decode() if isinstance(chunk, bytes) else chunk
        while "\n\n" in buffer:
            block, buffer = buffer.split("\n\n", 1)
            name = re.search(r"^event: (.*)$", block, re.M)
            data = re.search(r"^data: (.*)$", block, re.M)
            seen.append((name.group(1) if name else None, data.group(1) if data else block))
        if until(seen) or time.monotonic() - started > timeout:
            break
    response.close()
    return seen


@pytest.mark.reads_only
def test_toggle_in_the_query_string(site):
    app, people, engine = site
    c = as_user(app, people["support"])
    off = c.get("/admin/tickets/?status=open").get_data(as_text=True)
    assert 'aria-pressed="false"' in off and "data-live-stream" not in off
    on = c.get("/admin/tickets/?status=open&live=1").get_data(as_text=True)
    assert 'aria-pressed="true"' in on and 'id="live-pill"' in on and "hidden" in on
    stream = re.search(r'data-url="([^"]+)"', on).group(1).replace("&amp;", "&")
    assert stream.startswith("/admin/tickets/live?") and "status=open" in stream and "since=" in stream
    assert "live=1" not in stream
    # Tickets not live: no toggle.
    assert "data-live-toggle" not in c.get("/admin/contacts/").get_data(as_text=True)


def test_stream_counts_new_rows_matching_filters_and_scope_only(site):
    app, people, engine = site
    support = as_user(app, people["support"])  # tickets of EU accounts only
    since = one(engine, "SELECT max(id) FROM tickets")
    response = support.get(f"/admin/tickets/live?status=open&since={since}")
    assert response.status_code == 200
    assert response.mimetype == "text/event-stream"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Accel-Buffering"] == "no"
    first = events(response, lambda seen: any(n == "rows" for n, _ in seen))
    assert ("rows", "0") in first

    response = support.get(f"/admin/tickets/live?status=open&since={since}")
    insert_ticket(engine, "us")                   # out of scope
    insert_ticket(engine, "eu", status="solved")  # not matching the filter
    seen = events(response, lambda seen: any(n == "rows" for n, _ in seen))
    assert ("rows", "0") in seen
    response = support.get(f"/admin/tickets/live?status=open&since={since}")
    new = insert_ticket(engine, "eu")
    seen = events(response, lambda seen: ("rows", "1") in seen)
    assert ("rows", "1") in seen

    rows = support.get(f"/admin/tickets/live/rows?status=open&since={since}",
                       headers={"HX-Request": "true"})
    body = rows.get_data(as_text=True)
    assert rows.status_code == 200 and body.count("<tr>") == 1 and "Live eu open" in body
    assert f'"since": "{new}"' in rows.headers["HX-Trigger"]
    superuser = as_user(app, people["admin"])
    everyone = superuser.get(f"/admin/tickets/live/rows?since={since}").get_data(as_text=True)
    assert everyone.count("<tr>") == 3


@pytest.mark.reads_only
def test_stream_ends_and_the_browser_reconnects(site):
    app, people, engine = site
    app.extensions["hyper_admin"]["hyper_admin"].live_max_seconds = 0.2
    response = as_user(app, people["support"]).get("/admin/tickets/live?since=0")
    seen = events(response, lambda seen: any(n == "end" for n, _ in seen))
    assert seen[0][1].startswith("retry:") and seen[-1][0] == "end"


@pytest.mark.parametrize("query", ["", "since=abc", "since=1&sort=subject;drop", "since=1&nope=1",
                                   "since=99999999999999999999"])
@pytest.mark.reads_only
def test_bad_queries_are_400(site, query):
    app, people, _ = site
    assert as_user(app, people["support"]).get(f"/admin/tickets/live?{query}").status_code == 400


@pytest.mark.reads_only
def test_the_stream_is_guarded(site):
    app, people, _ = site
    assert app.test_client().get("/admin/tickets/live?since=0").status_code == 401
    assert as_user(app, people["support"]).get("/admin/staff_users/live?since=0").status_code == 403
    assert as_user(app, people["admin"]).get("/admin/contacts/live?since=0").status_code == 404


@pytest.mark.reads_only
def test_live_column_is_checked_at_registration(site):
    from hyper_admin.demo.models import Contact

    app, _, _ = site
    admin = app.extensions["hyper_admin"]["hyper_admin"].admin
    with pytest.raises(TypeError, match="live_column"):
        admin.register(Contact, live=True, live_column="name")
    admin.register(Ticket, TicketAdmin, live=True, live_column="created_at")
