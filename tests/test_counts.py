"""Counts that stay cheap on big tables, and the time limit on every SELECT."""

import re

import pytest
from sqlorm import SQL

from apps import as_user
from crud_app import create_app, seeded, staff
from demo_db import seeded_engine
from hyper_admin import query
from hyper_admin.sqlorm_compat import is_postgresql
from hyper_admin.views.common import list_request

SLOW = ("EXISTS (WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c "
        "WHERE x < 200000000) SELECT 1 FROM c WHERE x = 199999999)")


@pytest.fixture
def site(request, backend):
    with seeded_engine(request) as engine:
        app, admin = create_app(engine)
        yield app, admin, staff(engine), engine


def counted(app, admin, people, slug, args, cap):
    from werkzeug.datastructures import MultiDict

    with app.test_request_context(f"/admin/{slug}/"):
        from flask_login import login_user

        login_user(people["admin"])
        listing = list_request(admin.registry[slug], MultiDict(args))
        engine = app.extensions["hyper_admin"]["hyper_admin"].engine
        from hyper_admin.sql import dialect_of

        return query.count_matching(engine, dialect_of(engine), listing.spec, listing.params, cap=cap)


@pytest.mark.reads_only
def test_unfiltered_counts_are_exact_on_small_tables(site):
    app, admin, people, engine = site
    result = counted(app, admin, people, "orders", [], cap=10)
    assert result == query.Count(60, "exact")


@pytest.mark.reads_only
def test_filtered_counts_are_capped_then_exact_on_request(site):
    app, admin, people, engine = site
    capped = counted(app, admin, people, "orders", [("total__gte", "0")], cap=10)
    assert capped.kind in ("more_than", "estimate") and capped.value >= 10
    exact = counted(app, admin, people, "orders", [("total__gte", "0"), ("count", "exact")], cap=10)
    assert exact == query.Count(60, "exact")
    assert counted(app, admin, people, "orders", [("status", "paid")], cap=1000).kind == "exact"


@pytest.fixture
def pg_site(pg_schema):
    """PostgreSQL only: estimates come from its statistics (SQLite counts exactly: its literal
    count(*) has a fast path)."""
    from sqlorm import Engine

    from hyper_admin import enable_postgresql

    engine = enable_postgresql(Engine.from_uri(pg_schema[1]))
    seeded(engine)
    app, admin = create_app(engine)
    yield app, admin, staff(engine), engine
    engine.disconnect_all()


def test_postgresql_estimates_big_unfiltered_tables(pg_site, monkeypatch):
    app, admin, people, engine = pg_site
    assert is_postgresql(engine)
    with engine as tx:
        tx.execute("ANALYZE orders")
    monkeypatch.setattr(query, "ESTIMATE_ABOVE", 10)
    result = counted(app, admin, people, "orders", [], cap=10)
    assert result.kind == "estimate" and 30 <= result.value <= 120
    page = as_user(app, people["admin"]).get("/admin/orders/").get_data(as_text=True)
    # The statistics' estimate costs nothing: it is on the page itself.
    assert re.search(r"about \d+ orders", page) and "count exactly" in page
    exact = as_user(app, people["admin"]).get("/admin/orders/?count=exact").get_data(as_text=True)
    assert "60 orders" in exact


@pytest.mark.reads_only
def test_more_than_is_shown_with_a_link_to_count_exactly(site, monkeypatch):
    app, admin, people, engine = site
    original = query.count_matching

    def small_cap(*args, **kwargs):
        kwargs["cap"] = 5
        return original(*args, **kwargs)

    monkeypatch.setattr("hyper_admin.changelist.count_matching", small_cap)
    client = as_user(app, people["admin"])
    page = client.get("/admin/orders/?total__gte=0&per_page=10").get_data(as_text=True)
    count_url = re.search(r'<span id="list-count" hx-get="([^"]+)" hx-trigger="load"', page).group(1)
    assert count_url == "/admin/orders/count?total__gte=0&amp;per_page=10"
    count = client.get(count_url.replace("&amp;", "&"),
                       headers={"HX-Request": "true", "HX-Target": "list-count"}).get_data(as_text=True)
    assert count.strip().startswith('<span id="list-count">') and "<html" not in count
    assert "count exactly" in count
    assert ("more than 5 orders" in count) or re.search(r"about \d+ orders", count)
    assert "/admin/orders/?total__gte=0&amp;per_page=10&amp;count=exact" in count
    exact = client.get("/admin/orders/?total__gte=0&per_page=10&count=exact").get_data(as_text=True)
    assert "60 orders" in exact and 'hx-trigger="load"' not in exact.split('id="list-count"')[1][:80]
    assert client.get("/admin/orders/?count=yes").status_code == 400
    assert client.get("/admin/orders/count?status=flying").status_code == 400


@pytest.mark.reads_only
def test_the_list_never_waits_for_a_count(site):
    """A filtered list shows its rows at once; the count comes by its own request. A page that
    holds the whole list needs no count: its rows are the count."""
    app, admin, people, engine = site
    client = as_user(app, people["admin"])
    page = client.get("/admin/orders/?total__gte=0&per_page=10").get_data(as_text=True)
    assert "Counting" in page and "60 orders" not in page
    whole = client.get("/admin/orders/?status=paid&per_page=100").get_data(as_text=True)
    assert "Counting" not in whole and re.search(r'<span id="list-count">\d+ orders?', whole)
    # The count of a scoped list is the scope's (viewer sees only their region's tickets).
    viewer = as_user(app, people["viewer"])
    listed = viewer.get("/admin/tickets/?per_page=1").get_data(as_text=True)
    assert "Counting" in listed
    count = viewer.get("/admin/tickets/count?per_page=1").get_data(as_text=True)
    everyone = client.get("/admin/tickets/count?per_page=1").get_data(as_text=True)
    n = int(re.search(r"(\d+) tickets?", count).group(1))
    assert 0 < n < int(re.search(r"(\d+) tickets?", everyone).group(1))


def test_a_slow_query_is_stopped_with_a_clear_503(engine):
    seeded(engine, rows=10)
    app, admin = create_app(engine, statement_timeout=1.0)  # quick statements stay under it on a loaded machine

    def slow_scope(self, user):
        return SQL(SLOW)

    admin.registry["products"].scope = slow_scope.__get__(admin.registry["products"])
    people = staff(engine)
    response = as_user(app, people["admin"]).get("/admin/products/")
    assert response.status_code == 503
    body = response.get_data(as_text=True)
    assert "took too long" in body and "Traceback" not in body and "RECURSIVE" not in body
    # the connection is usable afterwards (the cancelled statement left nothing behind)
    assert as_user(app, people["admin"]).get("/admin/orders/").status_code == 200
