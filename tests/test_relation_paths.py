"""Relations several hops away (issue 18): ``order.account.region`` of a ticket, and
``ticket.order.account.region`` of a ticket's comment, in ``list_display``, ``search_fields``,
``list_filter``, ``sortable_fields``, ``ordering``, ``date_hierarchy`` and export.

The page reads and sorts through LEFT JOINs (one per path, aliased), so its number of statements
does not grow with the page size; a ticket without an order shows an empty cell. Filters and
search are semi-joins along the path (the count needs no join); the query string names a path
as Django does, ``order__account__region`` (``__in``, ``__isnull``... after it). A path that
goes nowhere fails at registration, with the check's id.
"""

import csv
import io
import json
import re
from html import unescape

import pytest
from flask import Flask
from flask_login import LoginManager
from sqlorm import SQL
from sqlorm.engine import Transaction

from apps import as_user
from crud_app import staff
from demo_db import seeded_engine
from hyper_admin import Admin, ModelAdmin
from hyper_admin.demo.models import (Account, Contact, Order, OrderLine, Product, StaffUser,
                                     Ticket, TicketComment)
from hyper_admin.problems import ConfigurationError
from hyper_admin.testing import AdminClient


class TicketPaths(ModelAdmin):
    list_display = ["subject", "order.account.region", "order.account.name", "order.status",
                    "order.created_at"]
    search_fields = ["subject", "order.account.name"]
    list_filter = ["order.account.region", "order.status", "order.created_at"]
    sortable_fields = ["order.total"]
    ordering = ["order.account.name", "-id"]
    date_hierarchy = "order.created_at"


class CommentPaths(ModelAdmin):
    list_display = ["id", "ticket.order.account.region", "ticket.subject"]
    list_filter = ["ticket.order.account.region"]


def make_app(engine) -> Flask:
    app = Flask(__name__)
    app.config.update(SECRET_KEY="paths-secret", TESTING=True)
    LoginManager(app).user_loader(lambda user_id: staff(engine)["admin"])
    admin = Admin(app, engine=engine)
    for model in (Account, Contact, Product, Order, OrderLine, StaffUser):
        admin.register(model)
    admin.register(Ticket, TicketPaths)
    admin.register(TicketComment, CommentPaths)
    return app


@pytest.fixture
def site(request, backend):
    with seeded_engine(request, rows=60) as engine:
        app = make_app(engine)
        yield AdminClient(app, as_user(app, staff(engine)["admin"])), engine


def _expected(engine, order_by: str = "t.id DESC", where: str = "") -> list[dict]:
    """Tickets with what their order and its account hold (NULL where a hop is missing)."""
    with engine as tx:
        rows = tx.fetchall(SQL(
            "SELECT t.id AS id, t.subject AS subject, a.region AS region, a.name AS account, "
            "o.status AS status, o.created_at AS created_at FROM tickets t "
            "LEFT JOIN orders o ON o.id = t.order_id LEFT JOIN accounts a ON a.id = o.account_id "
            f"{where} ORDER BY {order_by}"))
    return [dict(r) for r in rows]


def _subjects(page) -> list[str]:
    return [row["Subject"] for row in page.rows]


@pytest.mark.reads_only
def test_a_path_several_hops_away_shows_its_value_and_empty_where_a_hop_is_missing(site):
    client, engine = site
    page = client.list(Ticket, per_page=100)
    assert page.status == 200
    expected = {r["subject"]: r for r in _expected(engine)}
    assert len(page.rows) == len(expected)
    assert any(r["region"] is None for r in expected.values())  # tickets without an order
    for row in page.rows:
        want = expected[row["Subject"]]
        assert row["Order account region"] == (want["region"] or "—")
        assert row["Order account name"] == (want["account"] or "—")


@pytest.mark.reads_only
def test_the_statements_of_a_page_do_not_grow_with_its_size(site):
    client, _engine = site
    statements = []

    def count(sender, **kw):
        if str(kw.get("stmt", "")).lstrip().upper().startswith("SELECT"):
            statements.append(kw.get("stmt"))

    def n(url):
        client.client.get(url)  # what a first request reads once (the catalog) is not counted
        statements.clear()
        response = client.client.get(url)
        assert response.status_code == 200, url
        return len(statements)

    Transaction.before_execute.connect(count)
    try:
        measured = {
            "tickets": (n("/admin/tickets/?per_page=2"), n("/admin/tickets/?per_page=10")),
            "tickets sorted by a path": (n("/admin/tickets/?per_page=2&sort=-order__account__region"),
                                         n("/admin/tickets/?per_page=10&sort=-order__account__region")),
            "tickets filtered by a path": (
                n("/admin/tickets/?per_page=2&order__account__region__isnull=0"),
                n("/admin/tickets/?per_page=5&order__account__region__isnull=0")),
            "comments, three hops": (n("/admin/ticket_comments/?per_page=5"),
                                     n("/admin/ticket_comments/?per_page=20")),
        }
    finally:
        Transaction.before_execute.disconnect(count)
    print("statements per page (small, large):", measured)
    for what, (small, large) in measured.items():
        assert small == large, what
        # the page (every path joined in), its count, the signed-in user, the saved views
        assert large <= 5, what


@pytest.mark.reads_only
def test_sorting_by_a_path_puts_empty_values_last_both_ways_and_pages_on(site):
    client, engine = site
    # Ties are broken by the key, in the direction of the sort's last field.
    for sort, order_by in (("order__account__name", "a.name ASC NULLS LAST, t.id ASC"),
                           ("-order__account__name", "a.name DESC NULLS LAST, t.id DESC")):
        expected = [r["subject"] for r in _expected(engine, order_by=_portable(engine, order_by))]
        first = client.list(Ticket, sort=sort, per_page=5)
        assert _subjects(first) == expected[:5], sort
        assert first.next_url
        second = client.client.get(first.next_url).get_data(as_text=True)
        assert [unescape(s) for s in re.findall(r'class="r">([^<]+)</a>', second)] == expected[5:10]
    # The default order is a path too (ordering = ["order.account.name", "-id"]).
    default = client.list(Ticket, per_page=100)
    assert _subjects(default) == [r["subject"] for r in _expected(
        engine, order_by=_portable(engine, "a.name ASC NULLS LAST, t.id DESC"))]
    # sortable_fields names a path the list does not show.
    assert client.list(Ticket, sort="-order__total").status == 200
    assert client.list(Ticket, sort="order__nope").status == 400


def _portable(engine, order_by: str) -> str:
    """``NULLS LAST`` as SQLite before 3.30 lacks it: written as an expression."""
    return re.sub(r"(\w+\.\w+) (ASC|DESC) NULLS LAST", r"(\1 IS NULL), \1 \2", order_by)


@pytest.mark.reads_only
def test_filters_on_a_path(site):
    client, engine = site
    rows = _expected(engine)

    def subjects(**query):
        page = client.list(Ticket, per_page=100, **query)
        assert page.status == 200, query
        return sorted(_subjects(page))

    regions = sorted({r["region"] for r in rows if r["region"]})
    one = regions[0]
    assert subjects(order__account__region=one) == sorted(
        r["subject"] for r in rows if r["region"] == one)
    assert subjects(order__account__region__in=",".join(regions)) == sorted(
        r["subject"] for r in rows if r["region"])
    assert subjects(order__account__region__isnull="1") == sorted(
        r["subject"] for r in rows if r["region"] is None)
    assert subjects(order__account__region__isnull="0") == sorted(
        r["subject"] for r in rows if r["region"] is not None)
    assert subjects(order__status="paid") == sorted(
        r["subject"] for r in rows if r["status"] == "paid")
    years = sorted({str(r["created_at"])[:4] for r in rows if r["created_at"]})
    assert subjects(order__created_at__gte=f"{years[0]}-01-01",
                    order__created_at__lte=f"{years[0]}-12-31") == sorted(
        r["subject"] for r in rows if str(r["created_at"] or "")[:4] == years[0])
    # The filter's chip names the path; the count of a filtered list answers.
    page = client.client.get(f"/admin/tickets/?order__account__region={one}").get_data(as_text=True)
    assert f"Order account region = {one}" in unescape(page)
    assert client.client.get(f"/admin/tickets/count?order__account__region={one}").status_code == 200
    # Not a path of the list's filters, or written with dots: refused.
    for bad in ("order__account__email=x", "order.account.region=eu", "order__nope=1",
                "order__account__region__nope=1"):
        assert client.client.get(f"/admin/tickets/?{bad}").status_code == 400, bad


@pytest.mark.reads_only
def test_search_goes_through_a_path(site):
    client, engine = site
    rows = _expected(engine)
    account = next(r["account"] for r in rows if r["account"])
    page = client.list(Ticket, q=account, per_page=100)
    assert sorted(_subjects(page)) == sorted(
        r["subject"] for r in rows if r["account"] == account or account.lower() in r["subject"].lower())


@pytest.mark.reads_only
def test_date_hierarchy_and_filter_counts_on_a_path(site):
    client, engine = site
    rows = _expected(engine)
    bar = client.client.get("/admin/tickets/dates")
    assert bar.status_code == 200
    years = sorted({str(r["created_at"])[:4] for r in rows if r["created_at"]})
    shown = re.findall(r"order__created_at__gte=(\d{4})-01-01&amp;order__created_at__lte=\1-12-31",
                       bar.get_data(as_text=True))
    assert sorted(set(shown)) == years
    month = client.client.get(f"/admin/tickets/dates?order__created_at__gte={years[0]}-01-01"
                              f"&order__created_at__lte={years[0]}-12-31")
    assert month.status_code == 200 and "order__created_at__gte=" in month.get_data(as_text=True)
    counts = client.client.get("/admin/tickets/facets?field=order__status")
    assert counts.status_code == 200
    text = unescape(counts.get_data(as_text=True))
    paid = sum(1 for r in rows if r["status"] == "paid")
    assert re.search(rf"Paid\b.*?\b{paid}\b", text, re.S), text[:2000]
    # The panel offers the path's filters.
    panel = client.client.get("/admin/tickets/").get_data(as_text=True)
    assert 'data-field="order__status"' in panel or "order__status" in panel


@pytest.mark.reads_only
def test_export_holds_the_path_columns(site):
    client, engine = site
    rows = {r["id"]: r for r in _expected(engine)}
    exported = client.client.get("/admin/tickets/export?format=json")
    assert exported.status_code == 200
    items = json.loads(exported.get_data(as_text=True))
    assert len(items) == len(rows)
    for item in items:
        assert item["order.account.region"] == rows[item["id"]]["region"]
        assert item["order.account.name"] == rows[item["id"]]["account"]
    table = list(csv.reader(io.StringIO(
        client.client.get("/admin/tickets/export?format=csv").get_data(as_text=True))))
    assert "Order account region" in table[0]


@pytest.mark.reads_only
def test_three_hops_from_a_comment(site):
    client, engine = site
    with engine as tx:
        expected = {r["id"]: r["region"] for r in tx.fetchall(SQL(
            "SELECT c.id AS id, a.region AS region FROM ticket_comments c "
            "JOIN tickets t ON t.id = c.ticket_id LEFT JOIN orders o ON o.id = t.order_id "
            "LEFT JOIN accounts a ON a.id = o.account_id"))}
    page = client.list(TicketComment, per_page=100)
    assert {int(r["ID"]): r["Ticket order account region"] for r in page.rows} == {
        k: v or "—" for k, v in expected.items()}
    region = next(v for v in expected.values() if v)
    filtered = client.list(TicketComment, per_page=100, ticket__order__account__region=region)
    assert sorted(int(r["ID"]) for r in filtered.rows) == sorted(
        k for k, v in expected.items() if v == region)
    assert client.list(TicketComment, sort="-ticket__order__account__region").status == 200


@pytest.mark.parametrize("options, check, name", [
    ({"list_display": ["subject", "order.account.nope"]}, "hyper_admin.E002", "order.account.nope"),
    ({"list_display": ["order.subject.region"]}, "hyper_admin.E002", "order.subject.region"),
    ({"search_fields": ["order.nope.name"]}, "hyper_admin.E004", "order.nope.name"),
    ({"list_filter": ["order.account.nope"]}, "hyper_admin.E005", "order.account.nope"),
    ({"sortable_fields": ["order.account.nope"]}, "hyper_admin.E006", "order.account.nope"),
    ({"ordering": ["-order.account.nope"]}, "hyper_admin.E006", "order.account.nope"),
    ({"date_hierarchy": "order.account.name"}, "hyper_admin.E007", "order.account.name"),
    ({"date_hierarchy": "order.nope.created_at"}, "hyper_admin.E007", "order.nope.created_at"),
])
def test_a_path_that_goes_nowhere_fails_at_registration(engine, options, check, name):
    app = Flask(__name__)
    app.config.update(SECRET_KEY="x")
    admin = Admin(app, engine=engine)
    for model in (Account, Order):
        admin.register(model)
    with pytest.raises(ConfigurationError) as caught:
        admin.register(Ticket, **options)
    assert check in {p.id for p in caught.value.problems}
    assert name in str(caught.value)
