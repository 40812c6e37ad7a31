""""Show all" (``?all=1``, ModelAdmin.list_max_show_all): the pager's link once the count is
known and small enough, every row of the filtered, searched, sorted and scoped list on one
streamed page, refused (paged, with a message) over the cap or when turned off; on SQLite and
PostgreSQL over the demo schema (tests/crud_app.py: 60 orders, 50 rows a page)."""

import re

import pytest
from sqlorm import SQL

from apps import as_user, csrf_from
from crud_app import OrderAdmin, create_app, staff
from demo_db import seeded_engine
from hyper_admin import Admin
from hyper_admin.demo.models import Order
from hyper_admin.problems import ConfigurationError
from hyper_admin.views import show_all

HTMX_LIST = {"HX-Request": "true", "HX-Target": "list-results"}


@pytest.fixture
def site(request, backend):
    with seeded_engine(request) as engine:
        app, admin = create_app(engine)
        yield app, admin, staff(engine), engine


def rows_in(html):
    body = re.search(r'<tbody class="ha-rows">(.*?)</tbody>', html, re.S)
    return re.findall(r'<tr[ >]', body.group(1)) if body else []


def references(html):
    body = re.search(r'<tbody class="ha-rows">(.*?)</tbody>', html, re.S).group(1)
    return re.findall(r'>(ORD-[0-9A-Z-]+)<', body)


def scalar(engine, sql, *params):
    with engine as tx:
        return tx.fetchscalar(SQL(sql, *[SQL.Param(p) for p in params]))


def column(engine, sql):
    with engine as tx:
        return [row[0] for row in tx.fetchall(sql)]


def get(client, url, status=200, **headers):
    response = client.get(url, headers=headers)
    assert response.status_code == status, (url, response.status_code)
    return response.get_data(as_text=True)


def test_the_count_brings_the_show_all_link_under_the_cap(site):
    app, _, people, engine = site
    client = as_user(app, people["admin"])
    html = get(client, "/admin/orders/?sort=-total&total__gte=0")
    assert '<span id="list-show-all"></span>' in html  # the placeholder, until the count comes
    count = get(client, "/admin/orders/count?sort=-total&total__gte=0")
    assert 'id="list-show-all" hx-swap-oob="true"' in count and "Show all (60)" in count
    assert 'href="/admin/orders/?sort=-total&amp;total__gte=0&amp;all=1"' in count
    count = get(client, "/admin/orders/count")
    assert "Show all (60)" in count and 'href="/admin/orders/?all=1"' in count
    # A count asked for with the list (count=exact) puts the link in the pager at once.
    html = get(client, "/admin/orders/?count=exact")
    assert re.search(r'<span id="list-show-all"><a href="/admin/orders/\?all=1"[^>]*data-show-all>'
                     r'Show all \(60\)</a></span>', html)


def test_no_link_over_the_cap_nor_for_a_list_on_one_page(site):
    app, admin, people, _ = site
    client = as_user(app, people["admin"])
    assert "Show all" not in get(client, "/admin/tickets/count")  # one page holds them all
    assert "list-show-all" not in get(client, "/admin/tickets/")
    admin.register(Order, OrderAdmin, list_max_show_all=59)
    assert "Show all" not in get(client, "/admin/orders/count")
    assert "Show all" not in get(client, "/admin/orders/?count=exact")
    admin.register(Order, OrderAdmin, list_max_show_all=60)
    assert "Show all (60)" in get(client, "/admin/orders/count")


def test_all_renders_every_row_of_the_list(site):
    app, _, people, engine = site
    client = as_user(app, people["admin"])
    html = get(client, "/admin/orders/?all=1")
    assert len(rows_in(html)) == 60
    assert 'rel="next"' not in html and "data-show-pages" in html
    assert 'href="/admin/orders/"' in re.search(r'<a href="[^"]*"[^>]*data-show-pages', html).group(0)
    assert "60 orders" in html and "Every row on one page" in html
    # The model's order (-created_at): the same rows as the database, in the same order.
    assert references(html) == column(engine, "SELECT reference FROM orders ORDER BY created_at DESC, id DESC")


def test_all_applies_filters_sort_and_search(site):
    app, admin, people, engine = site
    client = as_user(app, people["admin"])
    html = get(client, "/admin/orders/?all=1&status=paid&sort=total")
    paid = column(engine, "SELECT reference FROM orders WHERE status = 'paid' ORDER BY total, id")
    assert references(html) == paid
    html = get(client, "/admin/orders/?all=1&q=ORD-000")
    assert set(references(html)) == set(column(
        engine, "SELECT reference FROM orders WHERE reference LIKE 'ORD-000%'"))
    # A nullable sort (shipped_at): pages by OFFSET rather than keyset, the same rows.
    admin.register(Order, OrderAdmin, sortable_fields=["shipped_at"])
    html = get(client, "/admin/orders/?all=1&sort=shipped_at,reference")
    assert len(references(html)) == 60 == len(set(references(html)))


def test_all_stays_within_the_scope(site):
    app, _, people, engine = site
    # Support agents see tickets of EU accounts only (crud_app.TicketAdmin.scope).
    with engine as tx:
        for _ in range(60):
            tx.execute(SQL("INSERT INTO tickets (account_id, subject, status, priority, created_at, "
                           "updated_at) SELECT id, 'More', 'open', 'low', created_at, created_at "
                           "FROM accounts WHERE id IN (SELECT min(id) FROM accounts GROUP BY region)"))
    eu = scalar(engine, "SELECT count(*) FROM tickets WHERE account_id IN "
                        "(SELECT id FROM accounts WHERE region = 'eu')")
    every = scalar(engine, "SELECT count(*) FROM tickets")
    assert 50 < eu < every
    support = as_user(app, people["support"])
    assert f"Show all ({eu})" in get(support, "/admin/tickets/count")
    assert len(rows_in(get(support, "/admin/tickets/?all=1"))) == eu
    admin = as_user(app, people["admin"])
    assert len(rows_in(get(admin, "/admin/tickets/?all=1"))) == every


def test_all_is_streamed_in_batches(site, monkeypatch):
    app, admin, people, engine = site
    monkeypatch.setattr(show_all, "BATCH", 7)
    admin.register(Order, OrderAdmin, sortable_fields=["shipped_at"])
    client = as_user(app, people["admin"])
    response = client.get("/admin/orders/?all=1", buffered=False)
    assert response.is_streamed and response.status_code == 200
    html = response.get_data(as_text=True)
    assert references(html) == column(engine, "SELECT reference FROM orders ORDER BY created_at DESC, id DESC")
    # Keyset (NOT NULL sort) and OFFSET (nullable sort) batches give every row once.
    for query in ("sort=reference", "sort=-shipped_at,reference"):
        refs = references(get(client, f"/admin/orders/?all=1&{query}"))
        assert len(refs) == 60 == len(set(refs))
    assert references(get(client, "/admin/orders/?all=1&sort=reference")) == column(
        engine, "SELECT reference FROM orders ORDER BY reference")


def test_all_through_htmx(site):
    app, _, people, _ = site
    client = as_user(app, people["admin"])
    response = client.get("/admin/orders/?all=1&status=paid", headers=HTMX_LIST, buffered=False)
    assert response.is_streamed
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<section id="list-results"') and "<html" not in html
    assert response.headers["HX-Push-Url"] == "/admin/orders/?all=1&status=paid"
    fragment = get(client, "/admin/orders/?all=1", **{"HX-Request": "true"})
    assert len(rows_in(fragment)) == 60 and 'id="nav"' in fragment and "<html" not in fragment


def test_over_the_cap_the_list_is_paged_with_a_message(site):
    app, admin, people, _ = site
    admin.register(Order, OrderAdmin, list_max_show_all=40)
    client = as_user(app, people["admin"])
    html = get(client, "/admin/orders/?all=1")
    assert len(rows_in(html)) == 50 and 'rel="next"' in html
    assert "This list has more than 40 rows: it is shown page by page." in html
    assert "data-show-pages" not in html
    next_url = re.search(r'<a href="([^"]+)" rel="next"', html).group(1).replace("&amp;", "&")
    assert "all=" not in next_url  # the next page pages on, without asking again
    assert "data-show-all-refused" not in get(client, next_url)
    # Under the cap once filtered: shown whole.
    html = get(client, "/admin/orders/?all=1&status=paid")
    assert "data-show-all-refused" not in html


def test_zero_turns_show_all_off(site):
    app, admin, people, _ = site
    admin.register(Order, OrderAdmin, list_max_show_all=0)
    client = as_user(app, people["admin"])
    assert "Show all" not in get(client, "/admin/orders/count")
    html = get(client, "/admin/orders/?all=1")
    assert len(rows_in(html)) == 50
    assert "Show all is turned off for this list" in html


def test_all_takes_the_value_1_and_is_no_filter(site):
    app, _, people, _ = site
    client = as_user(app, people["admin"])
    assert "all takes the value 1" in get(client, "/admin/orders/?all=yes", status=400)
    html = get(client, "/admin/orders/?all=1&page=2")  # paging has no say over a whole list
    assert len(rows_in(html)) == 60
    # The next page's link of a paged list carries no all=, and keyset paging goes on.
    html = get(client, "/admin/orders/")
    next_url = re.search(r'<a href="([^"]+)" rel="next"', html).group(1).replace("&amp;", "&")
    assert "all=" not in next_url
    assert len(rows_in(get(client, next_url))) == 10
    # Export and the filter panel take the list's query string with all=1.
    export = client.get("/admin/orders/export?format=csv&all=1&status=paid")
    assert export.status_code == 200


def test_a_saved_view_keeps_all(site):
    app, _, people, _ = site
    client = as_user(app, people["admin"])
    token = csrf_from(get(client, "/admin/orders/"))
    response = client.post("/admin/orders/views", data={
        "name": "Every paid order", "query": "status=paid&all=1", "csrf_token": token})
    assert response.status_code in (200, 303)
    views = get(client, "/admin/orders/views")
    assert re.search(r'href="/admin/orders/\?[^"]*all=1', views)


def test_the_option_is_checked_at_registration():
    for wrong in (-1, "10", 1.5, True):
        with pytest.raises(ConfigurationError) as raised:
            Admin().register(Order, list_max_show_all=wrong)
        assert raised.value.id == "hyper_admin.E013"
    Admin().register(Order, list_max_show_all=0)
