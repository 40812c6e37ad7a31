"""Query views (Admin.register_query): a SQL query as a read-only list, on SQLite and PostgreSQL.

The demo's "stuck_orders" (orders paid and not shipped after ``days`` days, with their account)
over the CRUD tests' site; every figure the admin shows is compared with SQL written here.
"""

import csv
import datetime as dt
import io
import re
from typing import Annotated, Optional

import pytest
from sqlorm import SQL

from apps import as_user
from crud_app import create_app, seeded, staff
from demo_db import seeded_engine
from hyper_admin.demo.dashboard import STUCK_ORDERS_SQL, register_stuck_orders
from hyper_admin.demo.models import Account, Contact
from hyper_admin.introspect import Hint
from hyper_admin.query_views import QueryMismatch, QueryParam
from hyper_admin.sql import UnboundSource, dialect_of


def eu_only(user):
    """Support agents see stuck orders of EU accounts only (like the site's tickets)."""
    if "admin" in user.roles:
        return None
    return SQL("stuck_orders.region =", SQL.Param("eu"))


@pytest.fixture
def site(request, backend):
    with seeded_engine(request, rows=400) as engine:
        app, admin = create_app(engine)
        register_stuck_orders(admin, dialect_of(engine).name, scope=eu_only, per_page=10)
        yield app, admin, staff(engine), engine


def client(site, username):
    app, _, people, _ = site
    return as_user(app, people[username])


def text(response) -> str:
    return response.get_data(as_text=True)


def expected_ids(engine, days=3, region=None):
    """The stuck orders, by SQL of the test's own (oldest payment first)."""
    cutoff = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None) - dt.timedelta(days=days)
    pg = dialect_of(engine).is_postgresql
    cutoff_param = cutoff if pg else cutoff.isoformat(" ", "seconds")
    query = SQL("SELECT o.id AS id FROM orders o JOIN accounts a ON a.id = o.account_id "
                "WHERE o.status = 'paid' AND o.shipped_at IS NULL AND o.updated_at <=",
                SQL.Param(cutoff_param, "cutoff"))
    if region:
        query = SQL(query, "AND a.region =", SQL.Param(region, "region"))
    query = SQL(query, "ORDER BY o.updated_at, o.id")
    with engine as tx:
        return [r["id"] for r in tx.fetchall(query)]


def row_ids(html: str) -> list[int]:
    """The order ids the rows link to (each row's reference links its order)."""
    body = re.search(r'<tbody class="ha-rows">(.*?)</tbody>', html, re.S)
    return [int(m) for m in re.findall(r'<tr><td><a href="/admin/orders/(\d+)/"', body.group(1))] if body else []


def walk(c, url):
    """Every row of a list, following its rel=next links."""
    ids = []
    while url:
        html = text(c.get(url))
        ids += row_ids(html)
        match = re.search(r'<a href="([^"]+)" rel="next"', html)
        url = match.group(1).replace("&amp;", "&") if match else None
    return ids


# --- the list ------------------------------------------------------------------------------


@pytest.mark.reads_only
def test_list_pages_count_and_export_match_the_sql(site):
    _, _, _, engine = site
    superuser = client(site, "admin")
    expected = expected_ids(engine)
    assert len(expected) > 20, "the seed must leave stuck orders to page through"
    assert walk(superuser, "/admin/stuck_orders/") == expected  # keyset pages, 10 a page
    count = text(superuser.get("/admin/stuck_orders/count"))
    assert f"{len(expected):,}" in count
    exported = list(csv.reader(io.StringIO(text(superuser.get("/admin/stuck_orders/export?format=csv")))))
    assert exported[0][:2] == ["Order", "Reference"]
    assert sorted(int(r[0]) for r in exported[1:]) == sorted(expected)
    assert walk(superuser, "/admin/stuck_orders/?days=30") == expected_ids(engine, days=30)


@pytest.mark.reads_only
def test_search_filter_and_sort(site):
    _, _, _, engine = site
    superuser = client(site, "admin")
    us = expected_ids(engine, region="us")
    assert walk(superuser, "/admin/stuck_orders/?region=us") == us
    first = expected_ids(engine)[0]
    with engine as tx:
        reference = tx.fetchscalar(SQL("SELECT reference FROM orders WHERE id =", SQL.Param(first)))
    assert row_ids(text(superuser.get(f"/admin/stuck_orders/?q=={reference}"))) == [first]
    newest_first = walk(superuser, "/admin/stuck_orders/?sort=-paid_at")
    assert sorted(newest_first) == sorted(expected_ids(engine))
    assert newest_first[0] == expected_ids(engine)[-1]
    facets = superuser.get("/admin/stuck_orders/facets?field=region")
    assert facets.status_code == 200 and "Region options" in text(facets)


@pytest.mark.parametrize("query", [
    "sort=id", "sort=status", "sort=order_id;DROP TABLE orders", "sort=-(select 1)",
    "status=paid", "age_days=3", "region__like=eu", "reference=x", "order_id) OR (1=1=1",
    "days=abc", "days=0", "days=91", "days=3&days=4", "days=1e3", "after=forged.cursor",
])
@pytest.mark.reads_only
def test_identifiers_and_parameters_are_checked(site, query):
    assert client(site, "admin").get(f"/admin/stuck_orders/?{query}").status_code == 400


@pytest.mark.reads_only
def test_a_private_parameter_is_not_taken_from_the_query_string(site):
    app, admin, people, engine = site
    register_stuck_orders(admin, dialect_of(engine).name, params={"days": 3})
    c = as_user(app, people["admin"])
    assert c.get("/admin/stuck_orders/?days=30").status_code == 400  # "days" is no column
    assert c.get("/admin/stuck_orders/").status_code == 200


@pytest.mark.reads_only
def test_read_only_no_write_urls_no_selection(site):
    superuser = client(site, "admin")
    html = text(superuser.get("/admin/stuck_orders/"))
    assert 'name="pk"' not in html and "data-select-all" not in html
    assert "/admin/stuck_orders/new" not in html and 'id="bulk-action"' not in html
    order = expected_ids(site[3])[0]
    for url in (f"/admin/stuck_orders/{order}/", "/admin/stuck_orders/new",
                f"/admin/stuck_orders/{order}/edit", f"/admin/stuck_orders/{order}/delete",
                f"/admin/stuck_orders/{order}/history", "/admin/stuck_orders/lookup?q=a"):
        assert superuser.get(url).status_code == 404, url
    token = re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)
    for url in ("/admin/stuck_orders/action", "/admin/stuck_orders/new",
                f"/admin/stuck_orders/{order}/delete"):
        assert superuser.post(url, data={"csrf_token": token, "action": "delete",
                                         "pk": str(order)}).status_code == 404, url


def test_in_navigation_and_on_the_dashboard(site):
    html = text(client(site, "viewer").get("/admin/"))
    assert 'href="/admin/stuck_orders/"' in html and "Stuck orders" in html


# --- links, permissions, scope -------------------------------------------------------------


@pytest.mark.reads_only
def test_links_go_to_the_linked_rows_when_the_user_may_view_them(site):
    app, admin, people, engine = site
    admin.register_query(
        "account_contacts",
        "SELECT c.id AS contact_id, c.name, c.account_id, a.name AS account_name "
        "FROM contacts c JOIN accounts a ON a.id = c.account_id",
        columns={"contact_id": int, "name": str, "account_id": int, "account_name": str},
        links={"contact_id": Contact, "account_id": Account}, label_column="name",
        list_display=["name", "account_id"], permissions={"view": {"viewer", "support"}})
    viewer, support = as_user(app, people["viewer"]), as_user(app, people["support"])
    seen = text(viewer.get("/admin/account_contacts/"))   # viewer: accounts yes, contacts no
    assert re.search(r'<a href="/admin/accounts/\d+/"', seen)
    assert "/admin/contacts/" not in seen
    assert re.search(r'<td>[^<]+</td><td><a href="/admin/accounts/', seen)  # name: plain text
    allowed = text(support.get("/admin/account_contacts/"))
    assert re.search(r'<td><a href="/admin/contacts/\d+/" class="r">', allowed)


def test_permissions(site):
    app, admin, people, _ = site
    assert client(site, "viewer").get("/admin/stuck_orders/").status_code == 200
    assert client(site, "viewer").get("/admin/stuck_orders/export?format=csv").status_code == 403
    assert client(site, "support").get("/admin/stuck_orders/export?format=csv").status_code == 200
    register_stuck_orders(admin, dialect_of(site[3]).name, permissions={"view": {"support"}})
    viewer = as_user(app, people["viewer"])
    assert viewer.get("/admin/stuck_orders/").status_code == 403
    assert viewer.get("/admin/stuck_orders/count").status_code == 403
    assert "/admin/stuck_orders/" not in text(viewer.get("/admin/"))


@pytest.mark.reads_only
def test_scope_limits_every_answer(site):
    _, _, _, engine = site
    support = client(site, "support")
    eu = expected_ids(engine, region="eu")
    assert 0 < len(eu) < len(expected_ids(engine))
    assert walk(support, "/admin/stuck_orders/") == eu
    assert walk(support, "/admin/stuck_orders/?region=us") == []
    assert f"{len(eu):,}" in text(support.get("/admin/stuck_orders/count"))
    exported = text(support.get("/admin/stuck_orders/export?format=json"))
    assert sorted(int(i) for i in re.findall(r'"order_id": (\d+)', exported)) == sorted(eu)


# --- registration --------------------------------------------------------------------------


@pytest.mark.reads_only
def test_declared_columns_are_checked_against_the_query(site):
    _, admin, _, engine = site
    dialect = dialect_of(engine).name
    with pytest.raises(QueryMismatch, match="missing: \\['paid_on'\\]"):
        admin.register_query("wrong", STUCK_ORDERS_SQL[dialect], params={"days": 3},
                             columns={"order_id": int, "paid_on": dt.datetime})
    with pytest.raises(QueryMismatch, match="not declared"):
        admin.register_query("fewer", "SELECT id, name FROM accounts", columns={"id": int})
    assert "wrong" not in admin.registry and "fewer" not in admin.registry


def test_checked_on_first_use_when_the_database_was_not_ready(engine):
    app, admin = create_app(engine)  # no tables yet: the check waits for the first request
    admin.register_query("late", "SELECT id, name FROM accounts", columns={"id": int, "title": str})
    seeded(engine, rows=20)
    people = staff(engine)
    with pytest.raises(QueryMismatch):
        as_user(app, people["admin"]).get("/admin/late/")


@pytest.mark.parametrize("options, error", [
    ({"columns": {}}, TypeError),
    ({"columns": {"id; drop": int}}, ValueError),
    ({"columns": {"id": int}, "label_column": "name"}, TypeError),
    ({"columns": {"id": int}, "key": "nope"}, TypeError),
    ({"columns": {"id": int}, "links": {"id": object}}, TypeError),
    ({"columns": {"id": int}, "list_filter": ["name"]}, TypeError),
    ({"columns": {"id": int}, "ordering": ["-name"]}, TypeError),
    ({"columns": {"id": int}, "params": {"extra": 1}}, TypeError),
    ({"columns": {"id": int}, "fields": ["id"]}, TypeError),
    ({"columns": {"id": int, "at": dt.datetime}, "date_hierarchy": "at"}, TypeError),  # models only
])
@pytest.mark.reads_only
def test_registration_refuses_what_is_not_declared(site, options, error):
    with pytest.raises(error):
        site[1].register_query("bad", "SELECT id FROM accounts", **options)


@pytest.mark.reads_only
def test_parameters_are_named_and_typed(site):
    _, admin, people, engine = site
    admin.register_query(
        "big_orders", "SELECT id, total, created_at FROM orders WHERE total >= :minimum "
        "AND reference <> ':not_a_param' AND created_at >= :since",
        columns={"id": int, "total": Annotated[float, Hint(label="Total")],
                 "created_at": Optional[dt.datetime]},
        params={"minimum": QueryParam(100.0, public=True), "since": QueryParam(dt.datetime(2000, 1, 1))})
    c = as_user(site[0], people["admin"])
    assert c.get("/admin/big_orders/?minimum=5000").status_code == 200
    assert c.get("/admin/big_orders/?minimum=lots").status_code == 400
    assert c.get("/admin/big_orders/?since=2020-01-01").status_code == 400  # not public
    with engine as tx:
        n = tx.fetchscalar(SQL("SELECT count(*) FROM orders WHERE total >= 5000"))
    assert f">{n:,} big orders<" in text(c.get("/admin/big_orders/count?minimum=5000"))
    with pytest.raises(TypeError, match="not SQL.Param"):
        admin.register_query("valued", SQL("SELECT id FROM orders WHERE total >", SQL.Param(3)),
                             columns={"id": int})


@pytest.mark.reads_only
def test_a_statement_never_reads_an_unbound_query_view(site):
    """Outside a request that bound it (with its scope), a query view cannot be read."""
    from hyper_admin.query import ListParams, ListSpec, select_list

    _, admin, _, engine = site
    info = admin.registry["stuck_orders"].info
    spec = ListSpec(info=info, sortable={}, filterable={}, search=[], ordering=[],
                    per_page=10, max_per_page=10)
    with pytest.raises(UnboundSource):
        select_list(engine, dialect_of(engine), spec, ListParams(sort=[(info.primary_key[0], True)]),
                    info.columns, [])
