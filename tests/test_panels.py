"""Dashboard panels: their numbers against Python over the raw rows, permissions and scope,
detail panels, the cache, failures, and what the pages send (on both databases)."""

import datetime as dt
import decimal
import re
import statistics
import threading
import time
import xml.etree.ElementTree as ET
from collections import Counter

import pytest
from flask_login import login_user
from markupsafe import escape
from sqlorm import SQL, Column, Model, PrimaryKey, SQLType

from apps import as_user
from crud_app import NOW, TicketAdmin, create_app, seeded, staff
from demo_db import seeded_engine
from hyper_admin import panels
from hyper_admin.cache import MemoryCache
from hyper_admin.demo.models import Account, Order, Product, StaffUser, Ticket, TicketComment
from hyper_admin.panels import (Breakdown, FunctionPanel, Markdown, Metric, Panel, PanelContext,
                                Series, Table, TimeSeries)

WEEK = dt.timedelta(days=7)
HX = {"HX-Request": "true"}
SLOW = ("EXISTS (WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c "
        "WHERE x < 200000000) SELECT 1 FROM c WHERE x = 199999999)")


@pytest.fixture
def site(request, backend, monkeypatch):
    with seeded_engine(request, rows=400) as engine:
        monkeypatch.setattr(panels, "utcnow", lambda: NOW)
        app, admin = create_app(engine)
        yield app, admin, staff(engine), engine


def raw(engine, query):
    """Rows of a plain SQL query, as dicts with timestamps and decimals converted."""
    with engine as tx:
        rows = [{k: r[k] for k in r.keys()} for r in tx.fetchall(query)]
    for row in rows:
        for key, value in row.items():
            if key.endswith("_at") and isinstance(value, str):
                row[key] = dt.datetime.fromisoformat(value)
            elif key == "total" and value is not None:
                row[key] = decimal.Decimal(str(value)).quantize(decimal.Decimal("0.01"))
    return rows


def data_of(app, admin, user, panel, row=None):
    """What ``panel.data`` gives ``user`` (as JSON, the way the cache keeps it)."""
    with app.test_request_context("/admin/"):
        login_user(user)
        state = app.extensions["hyper_admin"]["hyper_admin"]
        ctx = PanelContext(admin=admin, engine=state.engine, user=user, now=NOW, panel=panel, row=row)
        result = panels.compute(panel, ctx, None)
        assert result.ok, result.exception
        return result.data


def text_of(html):
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


# ---------------------------------------------------------------------------------------------
# Numbers, against Python over the raw rows


@pytest.mark.reads_only
def test_metrics_match_the_rows(site):
    app, admin, people, engine = site
    orders = raw(engine, "SELECT id, status, total, currency, created_at FROM orders")
    current = [o for o in orders if NOW - WEEK * 4 <= o["created_at"] < NOW]
    previous = [o for o in orders if NOW - WEEK * 8 <= o["created_at"] < NOW - WEEK * 4]

    count = Metric("Orders", model=Order, timestamp="created_at", period=WEEK * 4)
    assert data_of(app, admin, people["admin"], count) == {"value": len(current), "previous": len(previous)}

    paid = {"status__not_in": ["cancelled", "refunded"]}
    total = Metric("Revenue", model=Order, value=("sum", "total"), timestamp="created_at",
                   period=WEEK * 4, where=paid)
    got = data_of(app, admin, people["admin"], total)

    def paid_sum(rows):
        return sum(o["total"] for o in rows if o["status"] not in ("cancelled", "refunded"))

    assert got["value"] == pytest.approx(float(paid_sum(current)), abs=0.005)
    assert got["previous"] == pytest.approx(float(paid_sum(previous)), abs=0.005)

    median = Metric("Median", model=Order, value=("median", "total"), timestamp="created_at",
                    period=WEEK * 4)
    got = data_of(app, admin, people["admin"], median)
    assert got["value"] == pytest.approx(float(statistics.median(o["total"] for o in current)), abs=0.005)
    assert got["previous"] == pytest.approx(float(statistics.median(o["total"] for o in previous)), abs=0.005)

    # No period: one number over every row that matches.
    every = Metric("All paid", model=Order, value=("avg", "total"), where={"status": "paid"})
    paid_rows = [o["total"] for o in orders if o["status"] == "paid"]
    got = data_of(app, admin, people["admin"], every)
    assert got == {"value": pytest.approx(float(sum(paid_rows) / len(paid_rows)), abs=0.005), "previous": None}
    distinct = Metric("Accounts ordering", model=Order, value=("count_distinct", "currency"))
    assert data_of(app, admin, people["admin"], distinct)["value"] == len({o["currency"] for o in orders})
    odd = Metric("Median of all", model=Order, value=("median", "total"), where={"total__gte": 0})
    assert data_of(app, admin, people["admin"], odd)["value"] == pytest.approx(
        float(statistics.median(o["total"] for o in orders)), abs=0.005)


@pytest.mark.reads_only
def test_time_series_are_continuous_buckets_that_match_the_rows(site):
    app, admin, people, engine = site
    tickets = raw(engine, "SELECT id, status, created_at, updated_at FROM tickets")
    panel = TimeSeries("Opened vs closed", model=Ticket, bucket="day", days=30,
                       series=[Series("Opened", timestamp="created_at"),
                               Series("Closed", timestamp="updated_at",
                                      where={"status__in": ["solved", "closed"]})])
    data = data_of(app, admin, people["admin"], panel)
    days = [dt.datetime.fromisoformat(b) for b in data["buckets"]]
    today = NOW.replace(hour=0, minute=0, second=0)
    assert days == [today - dt.timedelta(days=29 - i) for i in range(30)]  # continuous, oldest first
    opened = Counter(t["created_at"].replace(hour=0, minute=0, second=0) for t in tickets)
    closed = Counter(t["updated_at"].replace(hour=0, minute=0, second=0) for t in tickets
                     if t["status"] in ("solved", "closed"))
    assert data["series"][0]["values"] == [opened.get(d, 0) for d in days]
    assert data["series"][1]["values"] == [closed.get(d, 0) for d in days]
    assert sum(data["series"][0]["values"]) > 0 and 0 in data["series"][0]["values"]  # zeros filled

    orders = raw(engine, "SELECT id, total, created_at FROM orders")
    weekly = TimeSeries("Revenue per week", model=Order, timestamp="created_at", bucket="week",
                        days=12 * 7, value=("sum", "total"))
    data = data_of(app, admin, people["admin"], weekly)
    weeks = [dt.datetime.fromisoformat(b) for b in data["buckets"]]
    assert len(weeks) == 12 and all(w.weekday() == 0 and w.hour == 0 for w in weeks)  # Mondays
    assert weeks[-1] <= NOW < weeks[-1] + WEEK

    def monday(when):
        day = when.replace(hour=0, minute=0, second=0)
        return day - dt.timedelta(days=day.weekday())

    sums = Counter()
    for o in orders:
        sums[monday(o["created_at"])] += o["total"]
    assert data["series"][0]["values"] == [pytest.approx(float(sums.get(w, 0)), abs=0.005) for w in weeks]

    hourly = TimeSeries("Orders per hour", model=Order, timestamp="created_at", bucket="hour", days=3)
    data = data_of(app, admin, people["admin"], hourly)
    hours = [dt.datetime.fromisoformat(b) for b in data["buckets"]]
    assert len(hours) == 72 and hours[-1] == NOW.replace(minute=0, second=0)
    per_hour = Counter(o["created_at"].replace(minute=0, second=0) for o in orders)
    assert data["series"][0]["values"] == [per_hour.get(h, 0) for h in hours]


@pytest.mark.reads_only
def test_breakdowns_match_the_rows(site):
    app, admin, people, engine = site
    tickets = raw(engine, "SELECT id, account_id, status, priority FROM tickets")
    open_ones = [t for t in tickets if t["status"] in ("open", "pending")]
    panel = Breakdown("By priority", model=Ticket, by="priority",
                      where={"status__in": ["open", "pending"]},
                      order=["urgent", "high", "normal", "low"])
    data = data_of(app, admin, people["admin"], panel)
    counts = Counter(t["priority"] for t in open_ones)
    assert [(i["key"], i["label"], i["value"]) for i in data["items"]] == [
        (p, p.capitalize(), counts.get(p, 0)) for p in ("urgent", "high", "normal", "low")]
    assert data["total"] == len(open_ones)

    by_account = Breakdown("Top accounts", model=Ticket, by="account_id", top=3)
    data = data_of(app, admin, people["admin"], by_account)
    per_account = Counter(t["account_id"] for t in tickets)
    expected = sorted(per_account.items(), key=lambda kv: (-kv[1], kv[0]))[:3]
    assert [(i["key"], i["value"]) for i in data["items"]] == expected
    names = {a["id"]: a["name"] for a in raw(engine, "SELECT id, name FROM accounts")}
    assert [i["label"] for i in data["items"]] == [names[k] for k, _ in expected]
    assert [i["ref"] for i in data["items"]] == [["accounts", str(k)] for k, _ in expected]
    assert data["total"] == len(tickets) and data["groups"] == len(per_account)
    assert data["other"] == len(tickets) - sum(v for _, v in expected)


@pytest.mark.reads_only
def test_tables_list_rows_linked_to_their_pages(site):
    app, admin, people, engine = site
    panel = Table("Refunds", model=Order, columns=["reference", "account_id", "total"],
                  where={"status": "refunded"}, order_by="-created_at", limit=4)
    data = data_of(app, admin, people["admin"], panel)
    orders = raw(engine, "SELECT id, reference, account_id, total, created_at FROM orders "
                         "WHERE status = 'refunded'")
    expected = sorted(orders, key=lambda o: (o["created_at"], o["id"]), reverse=True)[:4]
    assert [r["ref"] for r in data["rows"]] == [["orders", str(o["id"])] for o in expected]
    assert [r["cells"][0]["text"] for r in data["rows"]] == [o["reference"] for o in expected]
    names = {a["id"]: a["name"] for a in raw(engine, "SELECT id, name FROM accounts")}
    assert [r["cells"][1]["text"] for r in data["rows"]] == [names[o["account_id"]] for o in expected]
    assert [r["cells"][1]["ref"] for r in data["rows"]] == [["accounts", str(o["account_id"])] for o in expected]
    assert [c["numeric"] for c in data["columns"]] == [False, False, True]

    admin.dashboard.add(panel)
    html = as_user(app, people["admin"]).get("/admin/-/panels/refunds", headers=HX).get_data(as_text=True)
    first = expected[0]
    assert f'href="/admin/orders/{first["id"]}/"' in html and f'href="/admin/accounts/{first["account_id"]}/"' in html
    # A viewer may view orders and accounts; contacts are not linked for them (not shown here).
    assert as_user(app, people["viewer"]).get("/admin/-/panels/refunds", headers=HX).status_code == 200


@pytest.mark.reads_only
def test_the_page_shows_the_numbers(site):
    app, admin, people, engine = site
    admin.dashboard.add(
        Metric("Orders this week", model=Order, timestamp="created_at", period=WEEK),
        Metric("First response", model=Order, value=("avg", "total"), format="duration"),
    )
    orders = raw(engine, "SELECT id, created_at FROM orders")
    current = sum(1 for o in orders if NOW - WEEK <= o["created_at"] < NOW)
    previous = sum(1 for o in orders if NOW - 2 * WEEK <= o["created_at"] < NOW - WEEK)
    client = as_user(app, people["admin"])
    text = text_of(client.get("/admin/-/panels/orders-this-week", headers=HX).get_data(as_text=True))
    diff = current - previous
    sign = "+" if diff > 0 else "−" if diff < 0 else "±"
    assert f"Orders this week {current} " in text and f"{sign}{abs(diff)}" in text
    assert f"vs {previous} the previous 7 days" in text
    assert re.search(r"First response (\d+ d \d+ h|\d+ h \d+ min|\d+ min)", text_of(
        client.get("/admin/-/panels/first-response", headers=HX).get_data(as_text=True)))


class PanelEvent(Model):
    """A table with a zone-aware timestamp (PostgreSQL ``timestamptz``)."""

    __table__ = "panel_events"
    id: PrimaryKey[int] = Column(type=SQLType("bigint"), primary_key=True)
    happened_at: dt.datetime = Column(type=SQLType("timestamptz"))


def test_zone_aware_timestamps_are_bucketed_in_utc(pg_schema, monkeypatch):
    """The connection's time zone is New York: a ``timestamptz`` read as is would fall on the
    New York day; the panel buckets UTC days."""
    from sqlorm import Engine

    from hyper_admin import enable_postgresql

    url = pg_schema[1] + "%20-c%20TimeZone%3DAmerica%2FNew_York"
    engine = enable_postgresql(Engine.from_uri(url))
    try:
        seeded(engine, rows=10)
        with engine as tx:
            tx.execute("CREATE TABLE panel_events (id BIGINT GENERATED BY DEFAULT AS IDENTITY "
                       "PRIMARY KEY, happened_at TIMESTAMPTZ NOT NULL)")
            tx.execute("INSERT INTO panel_events (happened_at) VALUES "
                       "('2026-10-31 23:30:00+00'), ('2026-11-01 02:00:00+00'), "
                       "('2026-11-01 11:00:00+00'), ('2026-11-01 13:00:00+00')")
            assert tx.fetchscalar("SELECT current_setting('TimeZone')") == "America/New_York"
        app, admin = create_app(engine)
        admin.register(PanelEvent)
        people = staff(engine)
        days = TimeSeries("Events", model=PanelEvent, timestamp="happened_at", bucket="day", days=3)
        data = data_of(app, admin, people["admin"], days)
        assert data["buckets"][-2:] == ["2026-10-31T00:00:00", "2026-11-01T00:00:00"]
        # Read in New York time it would be [0, 2, 2]. (The last bucket is the whole of today.)
        assert data["series"][0]["values"] == [0, 1, 3]
        recent = Metric("Last 12 hours", model=PanelEvent, timestamp="happened_at",
                        period=dt.timedelta(hours=12))
        assert data_of(app, admin, people["admin"], recent) == {"value": 2, "previous": 1}
    finally:
        engine.disconnect_all()


# ---------------------------------------------------------------------------------------------
# Who sees what


def test_panels_follow_permissions_and_roles(site):
    app, admin, people, engine = site
    admin.dashboard.add(
        Metric("Tickets", model=Ticket),
        Metric("Comments", model=TicketComment),        # view: support only
        Metric("Staff", model=StaffUser),                # superusers only
        Metric("Support only", model=Ticket, roles={"support"}),
        Markdown("Note", "Hello **everyone**"),
    )
    expected = {
        "admin": {"tickets", "comments", "staff", "support-only", "note"},
        "support": {"tickets", "comments", "support-only", "note"},
        "viewer": {"tickets", "note"},
    }
    for who, visible in expected.items():
        client = as_user(app, people[who])
        page = client.get("/admin/").get_data(as_text=True)
        shown = set(re.findall(r'data-panel="([^"]+)"', page))
        assert shown == visible, who
        for panel in admin.dashboard:
            status = client.get(f"/admin/-/panels/{panel.id}", headers=HX).status_code
            assert status == (200 if panel.id in visible else 403), (who, panel.id)
        assert client.get("/admin/-/panels/no-such-panel", headers=HX).status_code == 404
    anonymous = app.test_client()  # this app has no sign-in page: 401, never data
    for headers in ({}, HX):
        response = anonymous.get("/admin/-/panels/tickets", headers=headers)
        assert response.status_code == 401 and 'data-panel' not in response.get_data(as_text=True)
    assert as_user(app, people["maria"]).get("/admin/-/panels/note").status_code == 200  # support
    # A panel over a model that is not registered is a programming error, said plainly.
    with pytest.raises(TypeError, match="not a sqlorm model"):
        Metric("Nothing", model=dict)


@pytest.mark.reads_only
def test_scope_applies_to_panels_and_the_cache_keeps_scopes_apart(site):
    """TicketAdmin scopes everyone but admins to tickets of EU accounts: a panel over tickets
    says EU numbers to them, whoever loaded the panel first."""
    app, admin, people, engine = site
    admin.dashboard.add(Metric("Open tickets", model=Ticket, where={"status": "open"}))
    rows = raw(engine, "SELECT t.id, t.status, a.region FROM tickets t JOIN accounts a ON a.id = t.account_id")
    everyone = sum(1 for r in rows if r["status"] == "open")
    eu = sum(1 for r in rows if r["status"] == "open" and r["region"] == "eu")
    assert eu < everyone
    first = text_of(as_user(app, people["admin"]).get("/admin/-/panels/open-tickets", headers=HX).get_data(as_text=True))
    second = text_of(as_user(app, people["viewer"]).get("/admin/-/panels/open-tickets", headers=HX).get_data(as_text=True))
    assert first.startswith(f"Open tickets {everyone}") and second.startswith(f"Open tickets {eu}")
    again = text_of(as_user(app, people["support"]).get("/admin/-/panels/open-tickets", headers=HX).get_data(as_text=True))
    assert again.startswith(f"Open tickets {eu}")  # same scope as the viewer: the same entry


def test_the_cache_keeps_languages_apart_and_titles_follow_the_page(site):
    """A panel's data holds words (a breakdown's labels, a table's headers): French loaded
    first never reaches an English page. A lazy title is said in each page's language; the
    panel's id is its English source."""
    from hyper_admin.i18n import gettext, lazy_gettext

    app, admin, people, _engine = site

    @admin.dashboard.panel(lazy_gettext("Yes"), kind="breakdown", model=Ticket)
    def answers(ctx):
        return [(gettext("No"), 2)]

    client = as_user(app, people["admin"])
    url = "/admin/-/panels/yes"
    french = text_of(client.get(url, headers={**HX, "Accept-Language": "fr"}).get_data(as_text=True))
    english = text_of(client.get(url, headers={**HX, "Accept-Language": "en"}).get_data(as_text=True))
    assert french.startswith("Oui Non 2") and english.startswith("Yes No 2"), (french, english)


@pytest.mark.reads_only
def test_function_panels_read_the_user_only_when_cached_per_user(site):
    app, admin, people, engine = site

    @admin.dashboard.panel("Shared", kind="metric")
    def shared(ctx):
        return len(ctx.user.username)

    @admin.dashboard.panel("Mine", kind="metric", per_user=True)
    def mine(ctx):
        return len(ctx.user.username)

    @admin.dashboard.panel("Undeclared", kind="metric")
    def undeclared(ctx):
        return 1 if ctx.scope(Ticket) is None else 2

    client = as_user(app, people["admin"])
    response = client.get("/admin/-/panels/shared", headers=HX)
    assert response.status_code == 500 and "Could not load" in response.get_data(as_text=True)
    assert client.get("/admin/-/panels/undeclared", headers=HX).status_code == 500
    assert text_of(client.get("/admin/-/panels/mine", headers=HX).get_data(as_text=True)).startswith("Mine 5")
    viewer = as_user(app, people["viewer"])
    assert text_of(viewer.get("/admin/-/panels/mine", headers=HX).get_data(as_text=True)).startswith("Mine 6")


# ---------------------------------------------------------------------------------------------
# Detail pages


def _with_detail_panels(admin, model, base, panel_list):
    cls = type(f"{model.__name__}PanelsAdmin", (base,), {"detail_panels": panel_list})
    admin.register(model, cls)


@pytest.mark.reads_only
def test_detail_panels_read_the_row_shown(site):
    app, admin, people, engine = site
    from hyper_admin import ModelAdmin

    _with_detail_panels(admin, Account, ModelAdmin, [
        Metric("Orders", model=Order),
        TimeSeries("Orders per week", model=Order, timestamp="created_at", bucket="week", days=70),
        Table("Latest orders", model=Order, columns=["reference", "status"], order_by="-created_at", limit=3),
        Metric("Itself", model=Account, value=("count", "id")),
    ])
    admin.registry["accounts"].permissions = {"view": {"support", "viewer"}}
    admin.registry["accounts"]._permissions = {"view": frozenset({"support", "viewer"})}
    orders = raw(engine, "SELECT id, account_id, created_at FROM orders")
    per_account = Counter(o["account_id"] for o in orders)
    busiest, quiet = per_account.most_common()[0][0], per_account.most_common()[-1][0]
    client = as_user(app, people["viewer"])
    page = client.get(f"/admin/accounts/{busiest}/").get_data(as_text=True)
    assert re.findall(r'hx-get="(/admin/accounts/\d+/panels/[^"]+)" hx-trigger="load"', page) == [
        f"/admin/accounts/{busiest}/panels/{p}" for p in ("orders", "orders-per-week", "latest-orders", "itself")]
    for account in (busiest, quiet):
        text = text_of(client.get(f"/admin/accounts/{account}/panels/orders", headers=HX).get_data(as_text=True))
        assert text.startswith(f"Orders {per_account[account]}")
        assert text_of(client.get(f"/admin/accounts/{account}/panels/itself", headers=HX).get_data(as_text=True)).startswith("Itself 1")
    latest = client.get(f"/admin/accounts/{busiest}/panels/latest-orders", headers=HX).get_data(as_text=True)
    mine = sorted((o for o in orders if o["account_id"] == busiest), key=lambda o: (o["created_at"], o["id"]), reverse=True)
    assert re.findall(r'href="/admin/orders/(\d+)/"', latest) == [str(o["id"]) for o in mine[:3]]
    full = client.get(f"/admin/accounts/{busiest}/panels/orders").get_data(as_text=True)
    name = raw(engine, f"SELECT name FROM accounts WHERE id = {int(busiest)}")[0]["name"]
    assert "<html" in full and f'href="/admin/accounts/{busiest}/"' in full and str(escape(name)) in full
    assert client.get("/admin/accounts/999999/panels/orders", headers=HX).status_code == 404
    assert client.get(f"/admin/accounts/{busiest}/panels/nope", headers=HX).status_code == 404
    assert client.get("/admin/accounts/x/panels/orders", headers=HX).status_code == 404
    # The dashboard's URL does not serve a detail panel.
    assert client.get("/admin/-/panels/orders", headers=HX).status_code == 404


@pytest.mark.reads_only
def test_a_row_outside_the_scope_is_404_for_its_panels(site):
    app, admin, people, engine = site
    _with_detail_panels(admin, Ticket, TicketAdmin, [Metric("Comments", model=TicketComment)])
    rows = raw(engine, "SELECT t.id, a.region FROM tickets t JOIN accounts a ON a.id = t.account_id")
    inside = next(r["id"] for r in rows if r["region"] == "eu")
    outside = next(r["id"] for r in rows if r["region"] != "eu")
    comments = Counter(c["ticket_id"] for c in raw(engine, "SELECT ticket_id FROM ticket_comments"))
    support = as_user(app, people["support"])
    assert text_of(support.get(f"/admin/tickets/{inside}/panels/comments", headers=HX).get_data(as_text=True)).startswith(
        f"Comments {comments[inside]}")
    assert support.get(f"/admin/tickets/{outside}/panels/comments", headers=HX).status_code == 404
    assert support.get(f"/admin/tickets/{outside}/").status_code == 404
    # The viewer may see the ticket but not comments: 403 for the panel, absent from the page.
    viewer = as_user(app, people["viewer"])
    assert viewer.get(f"/admin/tickets/{inside}/panels/comments", headers=HX).status_code == 403
    assert "data-panel=" not in viewer.get(f"/admin/tickets/{inside}/").get_data(as_text=True)
    assert viewer.get(f"/admin/tickets/{outside}/panels/comments", headers=HX).status_code == 404


@pytest.mark.reads_only
def test_detail_panels_are_checked_at_registration(site):
    app, admin, people, engine = site
    from hyper_admin import ModelAdmin

    with pytest.raises(TypeError, match="Foreign keys found: none"):
        _with_detail_panels(admin, Product, ModelAdmin, [Metric("Orders", model=Order)])
    with pytest.raises(TypeError, match="no column 'acount_id'"):
        _with_detail_panels(admin, Account, ModelAdmin, [Metric("Orders", model=Order, row_column="acount_id")])
    with pytest.raises(ValueError, match="two panels 'orders'"):
        _with_detail_panels(admin, Account, ModelAdmin, [Metric("Orders", model=Order), Metric("Orders", model=Order)])
    with pytest.raises(TypeError, match="row_column is for ModelAdmin.detail_panels"):
        admin.dashboard.add(Metric("Bound", model=Order, row_column="account_id"))


# ---------------------------------------------------------------------------------------------
# Declared in Python: mistakes fail at start-up


@pytest.mark.parametrize("make, message", [
    (lambda: Metric("M", model=Order, value=("sum", "totl")), "no column 'totl'"),
    (lambda: Metric("M", model=Order, value=("sum", "reference")), "needs a numeric column"),
    (lambda: Metric("M", model=Order, value=("mode", "total")), "unknown aggregate"),
    (lambda: Metric("M", model=Order, period=WEEK), "go together"),
    (lambda: Metric("M", model=Order, timestamp="status", period=WEEK), "kind datetime or date"),
    (lambda: Metric("M", model=Order, where={"status__like": "x"}), "unknown operator"),
    (lambda: Metric("M", model=Order, where={"stauts": "x"}), "no column 'stauts'"),
    (lambda: Metric("M", model=Order, where={"status__in": "paid"}), "takes a list"),
    (lambda: Table("T", model=StaffUser, columns=["username", "password_hash"]), "looks secret"),
    (lambda: TimeSeries("S", model=Order, timestamp="created_at", bucket="month"), "bucket is one of"),
    (lambda: TimeSeries("S", model=Order, timestamp="created_at", bucket="hour", days=60), "1,000 buckets"),
    (lambda: TimeSeries("S", model=Order), "give timestamp="),
    (lambda: Breakdown("B", model=Order, by="status", colors={"paid": "pink"}), "unknown colour"),
    (lambda: Metric("M", model=Order, refresh=1), "5 seconds"),
    (lambda: Metric("Bad id!", model=Order, id="Bad id!"), "panel id"),
    (lambda: FunctionPanel(lambda ctx: 1, "F", kind="gauge"), "kind is one of"),
])
def test_mistakes_fail_when_the_panel_is_declared(make, message):
    with pytest.raises((TypeError, ValueError), match=message):
        make()


def test_dashboard_ids_are_unique():
    board = panels.Dashboard()
    board.add(Markdown("Note", "x"))
    with pytest.raises(ValueError, match="already has a panel 'note'"):
        board.add(Markdown("Note", "y"))
    assert board.add(Markdown("Note", "y", id="note-2")).id == "note-2"
    assert [p.id for p in board] == ["note", "note-2"] and len(board) == 2


# ---------------------------------------------------------------------------------------------
# Loading: placeholders, fragments, the cache, failures


def _counting(admin, title="Counted", **options):
    calls = []

    @admin.dashboard.panel(title, kind="metric", **options)
    def counted(ctx):
        calls.append(time.monotonic())
        return len(calls)

    return calls


def test_the_dashboard_runs_no_panel_query_and_loads_each_panel_by_itself(site):
    app, admin, people, engine = site
    calls = _counting(admin)
    admin.dashboard.add(Metric("Polled", model=Order, refresh=30),
                        Markdown("Note", "Call **Ana** first"))
    client = as_user(app, people["admin"])
    page = client.get("/admin/").get_data(as_text=True)
    assert calls == []
    assert re.search(r'<section id="panel-counted" data-panel="counted"[^>]*aria-busy="true" '
                     r'hx-get="/admin/-/panels/counted" hx-trigger="load" hx-target="this" '
                     r'hx-swap="outerHTML"', page)
    assert 'class="skeleton' in page and "Models" in page and "Recent actions" in page
    # A note has no query: it is on the page already, escaped and formatted.
    assert "Call <strong>Ana</strong> first" in page and 'hx-get="/admin/-/panels/note"' not in page
    polled = client.get("/admin/-/panels/polled", headers=HX).get_data(as_text=True)
    assert 'hx-trigger="every 30s"' in polled and 'hx-get="/admin/-/panels/polled?fresh=1"' in polled
    fragment = client.get("/admin/-/panels/counted", headers=HX)
    assert fragment.status_code == 200 and len(calls) == 1
    body = fragment.get_data(as_text=True)
    assert body.lstrip().startswith('<section id="panel-counted"') and "<html" not in body
    assert "no-store" in fragment.headers["Cache-Control"] and "HX-Request" in fragment.headers["Vary"]
    full = client.get("/admin/-/panels/counted").get_data(as_text=True)
    assert "<html" in full and 'aria-label="Breadcrumb"' in full and 'id="panel-counted"' in full


@pytest.mark.reads_only
def test_results_are_cached_per_panel_for_their_ttl(site):
    app, admin, people, engine = site
    now = [1000.0]
    state = app.extensions["hyper_admin"]["hyper_admin"]
    state.panel_cache = MemoryCache(clock=lambda: now[0])
    calls = _counting(admin, cache=120)
    live = _counting(admin, "Live", cache=0)
    client = as_user(app, people["admin"])

    def get(panel_id, fresh=False):
        url = f"/admin/-/panels/{panel_id}" + ("?fresh=1" if fresh else "")
        return text_of(client.get(url, headers=HX).get_data(as_text=True))

    assert get("counted").startswith("Counted 1") and len(calls) == 1
    assert get("counted").startswith("Counted 1") and len(calls) == 1          # hit
    assert as_user(app, people["support"]).get("/admin/-/panels/counted", headers=HX).status_code == 200
    assert len(calls) == 1                                                    # same scope: shared
    now[0] += 119
    assert get("counted") == "Counted 1 min ago 1"                            # still fresh enough
    now[0] += 2
    assert get("counted").startswith("Counted 2") and len(calls) == 2          # expired: miss
    # The refresh button recomputes only what is older than FRESH_AFTER seconds.
    now[0] += panels.FRESH_AFTER - 1
    assert get("counted", fresh=True).startswith("Counted 2") and len(calls) == 2
    now[0] += 1
    assert get("counted", fresh=True).startswith("Counted 3") and len(calls) == 3
    # cache=0: every request computes.
    get("live"), get("live")
    assert len(live) == 2


@pytest.mark.reads_only
def test_one_computation_for_simultaneous_requests(site):
    """Ten people open the dashboard at once: the first computes, the others wait for it."""
    app, admin, people, engine = site
    calls = []

    @admin.dashboard.panel("Slow", kind="metric")
    def slow(ctx):
        calls.append(1)
        time.sleep(0.3)
        return 42

    results = []

    def fetch():
        response = as_user(app, people["admin"]).get("/admin/-/panels/slow", headers=HX)
        results.append((response.status_code, "42" in response.get_data(as_text=True)))

    threads = [threading.Thread(target=fetch) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [(200, True)] * 5 and len(calls) == 1


def test_a_slow_query_gives_an_error_card_and_the_page_stays_up(engine, monkeypatch):
    seeded(engine, rows=20)
    monkeypatch.setattr(panels, "utcnow", lambda: NOW)
    app, admin = create_app(engine, statement_timeout=1.0)  # quick statements stay under it on a loaded machine
    admin.dashboard.add(Metric("Slow", model=Order, where=SQL(SLOW)),
                        Metric("Orders", model=Order))
    people = staff(engine)
    client = as_user(app, people["admin"])
    started = time.monotonic()
    response = client.get("/admin/-/panels/slow", headers=HX)
    assert time.monotonic() - started < 5
    assert response.status_code == 503 and response.headers["X-Hyper-Admin-Panel"] == "error"
    body = response.get_data(as_text=True)
    assert body.lstrip().startswith('<section id="panel-slow"') and 'role="alert"' in body
    assert "Too slow to show" in body and "Try again" in body and 'hx-get="/admin/-/panels/slow?fresh=1"' in body
    assert "RECURSIVE" not in body and "Traceback" not in body
    # The failure is remembered briefly: the next viewer does not run it again.
    runs = []
    real_compute = panels.compute
    monkeypatch.setattr(panels, "compute", lambda *a, **k: runs.append(a[0].id) or real_compute(*a, **k))
    assert client.get("/admin/-/panels/slow", headers=HX).status_code == 503
    assert runs == []
    full = client.get("/admin/-/panels/slow")
    assert full.status_code == 503 and "<html" in full.get_data(as_text=True)
    assert client.get("/admin/-/panels/orders", headers=HX).status_code == 200
    assert client.get("/admin/").status_code == 200


def test_a_panel_timeout_lowers_the_admins(engine, monkeypatch):
    seeded(engine, rows=20)
    app, admin = create_app(engine)  # statement_timeout 10 s
    admin.dashboard.add(Metric("Slow", model=Order, where=SQL(SLOW), timeout=0.2, cache=0))
    started = time.monotonic()
    response = as_user(app, staff(engine)["admin"]).get("/admin/-/panels/slow", headers=HX)
    assert response.status_code == 503 and time.monotonic() - started < 5


@pytest.mark.reads_only
def test_an_error_gives_an_error_card_and_is_logged(site, caplog):
    app, admin, people, engine = site

    @admin.dashboard.panel("Broken", kind="metric")
    def broken(ctx):
        raise RuntimeError("secret detail")

    response = as_user(app, people["admin"]).get("/admin/-/panels/broken", headers=HX)
    body = response.get_data(as_text=True)
    assert response.status_code == 500 and response.headers["X-Hyper-Admin-Panel"] == "error"
    assert "Could not load" in body and "The error was logged" in body and "secret detail" not in body
    assert any("panel 'broken' failed" in r.getMessage() and r.exc_info for r in caplog.records)


# ---------------------------------------------------------------------------------------------
# Charts and templates


@pytest.mark.reads_only
def test_charts_are_valid_svg_with_their_numbers_as_a_table(site):
    app, admin, people, engine = site
    panel = TimeSeries("Tickets opened", model=Ticket, timestamp="created_at", bucket="day", days=14)
    admin.dashboard.add(panel)
    data = data_of(app, admin, people["admin"], panel)
    html = as_user(app, people["admin"]).get("/admin/-/panels/tickets-opened", headers=HX).get_data(as_text=True)
    svg_text = re.search(r"<svg xmlns=.*?</svg>", html, re.S).group(0)
    svg = ET.fromstring(svg_text)
    ns = "{http://www.w3.org/2000/svg}"
    assert svg.tag == f"{ns}svg" and svg.get("role") == "img" and svg.get("viewBox") == "0 0 600 190"
    assert svg.find(f"{ns}title").text == "Tickets opened"
    assert "Per day, from" in svg.find(f"{ns}desc").text
    assert svg.get("aria-labelledby") == "panel-tickets-opened-chart-title panel-tickets-opened-chart-desc"
    values = data["series"][0]["values"]
    bars = [r for g in svg.findall(f"{ns}g") if "fill-primary" in (g.get("class") or "")
            for r in g.findall(f"{ns}rect")]
    assert len(bars) == sum(1 for v in values if v)
    table = re.search(r"<table.*?</table>", html, re.S).group(0)
    cells = re.findall(r'<td class="text-right tabular-nums">([^<]*)</td>', table)
    assert cells == [str(v) for v in values]
    assert len(re.findall(r'<th scope="row"', table)) == 14


def test_the_host_app_overrides_panel_templates(engine, tmp_path, monkeypatch):
    seeded(engine, rows=20)
    folder = tmp_path / "templates"
    (folder / "hyper_admin" / "partials").mkdir(parents=True)
    (folder / "myapp").mkdir()
    (folder / "hyper_admin" / "partials" / "panel_metric.html").write_text(
        '<p class="ours">{{ value_text }}!</p>')
    (folder / "myapp" / "gauge.html").write_text(
        '<meter min="0" max="{{ data.max }}" value="{{ data.value }}">{{ data.value }}</meter>')
    app, admin = create_app(engine)
    app.template_folder = str(folder)

    class Gauge(Panel):
        template = "myapp/gauge.html"

        def data(self, ctx):
            return {"value": 3, "max": 10}

    admin.dashboard.add(Metric("Orders", model=Order), Gauge("Load"))
    client = as_user(app, staff(engine)["admin"])
    assert '<p class="ours">20!</p>' in client.get("/admin/-/panels/orders", headers=HX).get_data(as_text=True)
    gauge = client.get("/admin/-/panels/load", headers=HX).get_data(as_text=True)
    assert '<meter min="0" max="10" value="3">3</meter>' in gauge and 'data-panel="load"' in gauge


@pytest.mark.reads_only
def test_function_panels_of_every_kind(site):
    app, admin, people, engine = site
    board = admin.dashboard
    board.panel("Pair", kind="metric", format="duration")(lambda ctx: (3600, 1800))
    board.panel("Bars", kind="breakdown")(lambda ctx: [("<b>a</b>", 3), {"label": "b", "value": 1, "url": "javascript:alert(1)"}])
    board.panel("Grid", kind="table")(lambda ctx: {"columns": ["x"], "rows": [["<i>1</i>"], {"cells": [None], "url": "/admin/orders/"}]})
    board.panel("Note", kind="markdown")(lambda ctx: "**hi** <script>")
    board.panel("Trend", kind="series", bucket="day")(lambda ctx: {
        "buckets": [NOW - dt.timedelta(days=1), NOW], "values": [1, 2]})
    client = as_user(app, people["admin"])

    def get(panel_id):
        response = client.get(f"/admin/-/panels/{panel_id}", headers=HX)
        assert response.status_code == 200, panel_id
        return response.get_data(as_text=True)

    assert "1 hr " in text_of(get("pair")) and "+30 min (+100%)" in text_of(get("pair"))
    bars = get("bars")
    assert "&lt;b&gt;a&lt;/b&gt;" in bars and "javascript" not in bars
    grid = get("grid")
    assert "&lt;i&gt;1&lt;/i&gt;" in grid and 'href="/admin/orders/"' in grid
    note = get("note")
    assert "<strong>hi</strong> &lt;script&gt;" in note
    assert ET.fromstring(re.search(r"<svg xmlns=.*?</svg>", get("trend"), re.S).group(0)) is not None


# ---------------------------------------------------------------------------------------------
# The demo


def test_the_demo_dashboard_and_account_panels_answer(tmp_path, monkeypatch):
    from hyper_admin.demo.app import create_app as demo_app

    app = demo_app(f"sqlite://{tmp_path / 'demo.db'}", rows=2000)
    admin = app.extensions["hyper_admin_demo"]["admin"]
    engine = app.extensions["hyper_admin_demo"]["engine"]
    with engine:
        people = {u.username: u for u in StaffUser.find_all().all()}
    client = as_user(app, people["admin"])
    ids = [p.id for p in admin.dashboard]
    assert ids == ["open-tickets", "tickets-opened", "median-first-response", "stuck-orders",
                   "revenue-eur",
                   "tickets-opened-vs-closed", "open-tickets-by-priority",
                   "top-accounts-by-open-tickets", "orders-per-week", "revenue-per-week-eur",
                   "urgent-tickets-waiting", "on-call"]
    for panel_id in ids:
        assert client.get(f"/admin/-/panels/{panel_id}", headers=HX).status_code == 200, panel_id
    for panel_id in admin.registry["accounts"]._detail_panels:
        assert client.get(f"/admin/accounts/1/panels/{panel_id}", headers=HX).status_code == 200, panel_id
    # The median first response, against Python over the comments.
    tickets = raw(engine, "SELECT id, created_at FROM tickets")
    comments = raw(engine, "SELECT ticket_id, author_id, is_internal, created_at FROM ticket_comments")
    now = panels.utcnow()
    first = {}
    for c in comments:
        if c["author_id"] is not None and not c["is_internal"]:
            first[c["ticket_id"]] = min(first.get(c["ticket_id"], c["created_at"]), c["created_at"])
    waits = [((first[t["id"]] - t["created_at"]).total_seconds(), t["created_at"])
             for t in tickets if t["id"] in first and now - 2 * WEEK <= t["created_at"] < now]
    current = [w for w, at in waits if at >= now - WEEK]
    with app.test_request_context("/admin/"):
        login_user(people["support"])
        panel = admin.dashboard.get("median-first-response")
        ctx = PanelContext(admin=admin, engine=engine, user=people["support"], now=now, panel=panel)
        assert panel.data(ctx)["value"] == (statistics.median(current) if current else None)
    # The viewer may not read comments: the first-response panel is not theirs.
    viewer = as_user(app, people["viewer"])
    assert viewer.get("/admin/-/panels/median-first-response", headers=HX).status_code == 403


def test_the_demo_seed_reaches_now(engine):
    """Seeded timestamps end at ``now`` whatever its hour (they used to lag by the hour of
    the day, which left today empty on the dashboard)."""
    from hyper_admin.demo.seed import seed

    now = dt.datetime(2026, 3, 4, 17, 0, 0)
    seeded_counts = seed(engine, rows=3000, now=now, log=None)
    assert seeded_counts["orders"] == 3000
    rows = raw(engine, "SELECT max(updated_at) AS updated_at FROM orders")
    latest = rows[0]["updated_at"]
    assert now - dt.timedelta(hours=2) <= latest <= now
    rows = raw(engine, "SELECT max(created_at) AS created_at FROM tickets")
    assert now - dt.timedelta(days=1) <= rows[0]["created_at"] <= now
