"""The list's filter panel, its chips and GET /admin/<slug>/facets, on SQLite and PostgreSQL."""

import datetime as dt
import re
from collections import Counter
from html import unescape
from urllib.parse import parse_qsl, urlsplit

import pytest
from markupsafe import escape
from sqlorm import SQL

from apps import as_user
from crud_app import create_app, staff
from demo_db import seeded_engine
from hyper_admin.demo.models import Account
from hyper_admin.facets import facet_statement
from hyper_admin.sql import QueryTimeout
from hyper_admin.views import facets as facets_views


@pytest.fixture
def site(request, backend):
    with seeded_engine(request) as engine:
        app, admin = create_app(engine)
        # A boolean and an enum filter on accounts, a foreign key on tickets.
        admin.model_admin(Account).list_filter = ["is_active", "plan"]
        yield app, admin, staff(engine), engine


def client(site, username):
    app, _, people, _ = site
    return as_user(app, people[username])


def html(response) -> str:
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response.get_data(as_text=True)


def grouped(engine, sql) -> dict:
    """{k: n} of a ``SELECT ... AS k, count(*) AS n ... GROUP BY`` statement."""
    with engine as tx:
        return {row["k"]: row["n"] for row in tx.fetchall(sql)}


def scalar(engine, sql, *params):
    with engine as tx:
        return tx.fetchscalar(SQL(sql, *[SQL.Param(p) for p in params]) if params else sql)


def counts_of(page: str) -> dict[str, str]:
    """Option label -> count text, from a facets response."""
    found = re.findall(r'truncate">([^<]+)</span>\s*<span class="text-xs tabular-nums[^"]*">'
                       r'<span class="sr-only">, </span>([\d,+]+)<', page)
    return {unescape(label): n for label, n in found}


def pk_count(page: str) -> int:
    return len(re.findall(r'name="pk" value=', page))


def pairs_of(url: str) -> list[tuple[str, str]]:
    return parse_qsl(urlsplit(unescape(url)).query, keep_blank_values=True)


# --- the panel ----------------------------------------------------------------------------------


@pytest.mark.reads_only
def test_panel_renders_typed_controls(site):
    page = html(client(site, "support").get("/admin/orders/?status=paid"))
    panel = page[page.index('id="filter-panel"'):page.index('id="list-results"')]
    legends = re.findall(r"<legend[^>]*>\s*<span>([^<]+)</span>", panel)
    assert legends == ["Status", "Created at", "Total", "Shipped at"]
    # enum: options as links, the active one marked, counts loaded by their own request
    assert 'hx-get="/admin/orders/facets?field=status&amp;status=paid" hx-trigger="load"' in panel
    assert re.search(r'href="/admin/orders/"[^>]*aria-current="true"', panel)  # un-choosing paid
    assert re.search(r'href="/admin/orders/\?status=paid&amp;status=refunded"', panel)
    # dates: from/to inputs and presets
    assert 'type="date" name="created_at__gte"' in panel and 'type="date" name="created_at__lte"' in panel
    assert ">Last 7 days</a>" in panel and ">This month</a>" in panel
    # numbers: min/max
    assert 'type="number" name="total__gte"' in panel and 'type="number" name="total__lte"' in panel
    # nullable: is empty / is not empty
    assert "shipped_at__isnull=1" in panel and "shipped_at__isnull=0" in panel
    assert "created_at__isnull" not in panel and "total__isnull" not in panel
    # the forms carry the rest of the query string
    assert '<input type="hidden" name="status" value="paid">' in panel
    # accessible: a fieldset per field, live counts
    assert panel.count("<fieldset") == 4 and 'aria-live="polite"' in panel


@pytest.mark.reads_only
def test_panel_boolean_and_foreign_key(site, monkeypatch):
    app, admin, _, engine = site
    page = html(client(site, "support").get("/admin/accounts/?is_active=1"))
    assert re.search(r'href="/admin/accounts/"[^>]*aria-current="true"[^>]*>.*?Yes', page, re.S)
    assert 'href="/admin/accounts/?is_active=1&amp;is_active=0"' in page
    ticket_admin = admin.model_admin("tickets")
    monkeypatch.setattr(ticket_admin, "list_filter", ["status", "account_id"])
    account = scalar(engine, "SELECT min(id) AS v FROM accounts WHERE region = 'eu'")
    name = scalar(engine, "SELECT name AS v FROM accounts WHERE id = " + str(account))
    page = html(client(site, "support").get(f"/admin/tickets/?account_id={account}"))
    panel = page[page.index('id="filter-panel"'):]
    assert "data-fk-picker" in panel and 'hx-get="/admin/accounts/lookup"' in panel
    assert f'name="account_id" value="{account}" data-fk-value' in panel
    assert f'value="{escape(name)}"' in panel  # the chosen row's label in the search box
    assert f"Account = {escape(name)}" in page  # and on its chip


@pytest.mark.reads_only
def test_htmx_swap_updates_panel_out_of_band(site):
    response = client(site, "support").get(
        "/admin/orders/?status=paid&sort=total", headers={"HX-Request": "true", "HX-Target": "list-results"})
    page = html(response)
    assert '<section id="list-results"' in page
    assert re.search(r'<div id="filter-panel"[^>]* hx-swap-oob="true"', page)
    assert 'id="filter-count" hx-swap-oob="true"' in page
    state = page[page.index('id="list-search-state"'):]
    assert '<input type="hidden" name="status" value="paid">' in state
    assert '<input type="hidden" name="sort" value="total">' in state
    assert "<html" not in page


@pytest.mark.reads_only
def test_paging_swap_leaves_the_panel_alone(site):
    """Next/Previous change only the page: the panel and the search state, outside
    #list-results, stay as they are and are not sent again."""
    c = client(site, "support")
    first = "/admin/orders/?status=paid&sort=total&per_page=2"
    page = html(c.get(first))
    next_url = re.search(r'<a href="([^"]+)" rel="next"', page).group(1).replace("&amp;", "&")
    hx = {"HX-Request": "true", "HX-Target": "list-results",
          "HX-Current-URL": "http://localhost" + first}
    paged = html(c.get(next_url, headers=hx))
    assert '<section id="list-results"' in paged and 'rel="prev"' in paged
    assert "filter-panel" not in paged and "list-search-state" not in paged
    # Another filter (or sort) than the page the browser shows: the panel comes along.
    hx["HX-Current-URL"] = "http://localhost/admin/orders/?sort=total&per_page=2"
    assert re.search(r'<div id="filter-panel"[^>]* hx-swap-oob="true"', html(c.get(next_url, headers=hx)))


@pytest.mark.reads_only
def test_clear_all_keeps_search_and_sort(site):
    page = html(client(site, "support").get("/admin/orders/?q=a&sort=total&status=paid&total__gte=5"))
    match = re.search(r'<a href="([^"]+)"[^>]*>(?:(?!<a ).)*?Clear all filters</a>', page, re.S)
    assert match and pairs_of(match.group(1)) == [("q", "a"), ("sort", "total")]


# --- facet counts -------------------------------------------------------------------------------

STATUS_LABELS = {"pending": "Pending", "paid": "Paid", "shipped": "Shipped", "delivered": "Delivered",
                 "cancelled": "Cancelled", "refunded": "Refunded"}


@pytest.mark.reads_only
def test_facet_counts_equal_sql_counts(site):
    _, _, _, engine = site
    # a search, a filter on another field, and one on the counted field (left out of its counts)
    url = "/admin/orders/facets?field=status&q=Al&total__gte=100&status=paid&sort=-total&page=2"
    got = counts_of(html(client(site, "support").get(url)))
    expected = grouped(engine, """
        SELECT status AS k, count(*) AS n FROM orders
        WHERE total >= 100
          AND (lower(reference) LIKE '%al%'
               OR account_id IN (SELECT id FROM accounts WHERE lower(name) LIKE '%al%'))
        GROUP BY status""")
    assert sum(expected.values()) > 0
    assert got == {label: f"{expected.get(value, 0):,}" for value, label in STATUS_LABELS.items()}
    # the active option is still marked in the counts' answer
    assert html(client(site, "support").get(url)).count('aria-current="true"') == 1


@pytest.mark.reads_only
def test_facet_counts_of_nullable_and_boolean_fields(site):
    _, _, _, engine = site
    got = counts_of(html(client(site, "support").get("/admin/accounts/facets?field=is_active&plan=pro")))
    active = scalar(engine, "SELECT count(*) AS n FROM accounts WHERE plan = 'pro' AND is_active =", True)
    total = scalar(engine, "SELECT count(*) AS n FROM accounts WHERE plan = 'pro'")
    assert got == {"Yes": f"{active:,}", "No": f"{total - active:,}"}


@pytest.mark.reads_only
def test_facet_counts_apply_scope(site):
    _, _, _, engine = site
    url = "/admin/tickets/facets?field=priority&status=open"
    support = counts_of(html(client(site, "support").get(url)))
    admin = counts_of(html(client(site, "admin").get(url)))
    scoped = grouped(engine, """
        SELECT priority AS k, count(*) AS n FROM tickets
        WHERE status = 'open' AND account_id IN (SELECT id FROM accounts WHERE region = 'eu')
        GROUP BY priority""")
    everyone = grouped(engine, "SELECT priority AS k, count(*) AS n FROM tickets WHERE status = 'open' GROUP BY priority")
    labels = {"low": "Low", "normal": "Normal", "high": "High", "urgent": "Urgent"}
    assert support == {label: str(scoped.get(v, 0)) for v, label in labels.items()}
    assert admin == {label: str(everyone.get(v, 0)) for v, label in labels.items()}
    assert support != admin


@pytest.mark.reads_only
def test_facet_counts_are_capped(site, monkeypatch):
    monkeypatch.setattr(facets_views, "FACET_CAP", 3)
    _, _, _, engine = site
    got = counts_of(html(client(site, "support").get("/admin/orders/facets?field=status")))
    n = grouped(engine, "SELECT status AS k, count(*) AS n FROM orders GROUP BY status")
    assert got == {label: ("3+" if n.get(v, 0) > 3 else str(n.get(v, 0)))
                   for v, label in STATUS_LABELS.items()}


@pytest.mark.reads_only
def test_facet_statement_reads_at_most_cap_rows_per_value(site):
    app, admin, people, engine = site
    with app.test_request_context("/admin/orders/"):
        from flask_login import login_user

        from hyper_admin.views.common import list_request
        from hyper_admin.sql import dialect_of
        from werkzeug.datastructures import MultiDict

        login_user(people["support"])
        listing = list_request(admin.model_admin("orders"), MultiDict([("q", "x")]))
        column = listing.spec.filterable["status"]
        text = str(facet_statement(dialect_of(engine), listing.spec, listing.params, column, cap=10))
    assert text.count("LIMIT 11") == len(STATUS_LABELS) and text.count("UNION ALL") == len(STATUS_LABELS) - 1
    assert "GROUP BY v" in text


@pytest.mark.reads_only
def test_facet_counts_past_the_time_limit_show_no_numbers(site, monkeypatch):
    def too_slow(engine, stmt):
        raise QueryTimeout("canceling statement due to statement timeout")

    monkeypatch.setattr("hyper_admin.facets.run", too_slow)
    page = html(client(site, "support").get("/admin/orders/facets?field=status"))
    assert counts_of(page) == {}
    assert ">Paid</span>" in page and "aria-busy" not in page


@pytest.mark.reads_only
def test_facets_refuse_fields_outside_list_filter(site):
    support = client(site, "support")
    assert support.get("/admin/orders/facets?field=reference").status_code == 400
    assert support.get("/admin/orders/facets?field=account_id").status_code == 400  # filterable FK, not in list_filter
    assert support.get("/admin/orders/facets?field=created_at").status_code == 400  # in list_filter, no counts
    assert support.get("/admin/orders/facets").status_code == 400
    assert support.get("/admin/orders/facets?field=status&total__gte=lots").status_code == 400
    assert support.get("/admin/orders/facets?field=status&status=nonsense").status_code == 400


@pytest.mark.reads_only
def test_facets_need_sign_in_and_view_permission(site):
    app, _, _, _ = site
    anonymous = app.test_client()
    assert anonymous.get("/admin/orders/facets?field=status").status_code in (302, 401, 403)
    viewer = client(site, "viewer")
    assert viewer.get("/admin/orders/facets?field=status").status_code == 200
    assert viewer.get("/admin/contacts/facets?field=role").status_code == 403
    assert viewer.get("/admin/staff_users/facets?field=is_active").status_code == 403


# --- presets and chips --------------------------------------------------------------------------


@pytest.mark.parametrize("today", [dt.date(2026, 11, 1), dt.date(2026, 10, 20)])
@pytest.mark.reads_only
def test_date_presets_are_valid_filters_returning_the_right_rows(site, monkeypatch, today):
    monkeypatch.setattr(facets_views, "utc_today", lambda: today)
    _, _, _, engine = site
    support = client(site, "support")
    page = html(support.get("/admin/orders/?per_page=500"))
    presets = re.search(r'aria-label="Created at presets">(.*?)</ul>', page, re.S).group(1)
    links = dict((unescape(label), url) for url, label in re.findall(r'<a href="([^"]+)"[^>]*>([^<]+)</a>', presets))
    assert list(links) == ["Today", "Last 7 days", "This month", "This year"]
    expected = {
        "Today": (today, today),
        "Last 7 days": (today - dt.timedelta(days=6), today),
        "This month": (today.replace(day=1), (today.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)),
        "This year": (dt.date(today.year, 1, 1), dt.date(today.year, 12, 31)),
    }
    for label, url in links.items():
        start, end = expected[label]
        assert dict(pairs_of(url)) == {"per_page": "500", "created_at__gte": start.isoformat(),
                                       "created_at__lte": end.isoformat()}
        got = html(support.get(unescape(url)))
        n = scalar(engine, f"SELECT count(*) AS n FROM orders WHERE created_at >= '{start}' "
                           f"AND created_at < '{end + dt.timedelta(days=1)}'")
        assert pk_count(got) == n, label
        assert re.search(rf'aria-current="true">{label}</a>', got)  # the preset shows as chosen


@pytest.mark.reads_only
def test_chips_have_readable_labels_and_each_removal_drops_one_filter(site):
    url = ("/admin/orders/?q=a&status=paid&status=refunded&total__gte=10&created_at__gte=2026-01-01"
           "&shipped_at__isnull=1&sort=-total")
    page = html(client(site, "support").get(url))
    chips = re.findall(r'data-filter-chip>([^<]+?)\s*<a href="([^"]+)"', page)
    labels = [unescape(label) for label, _ in chips]
    # Bounds read as the list shows such values: declared places, the locale's date format.
    assert labels == ["Status = Paid", "Status = Refunded", "Total ≥ 10.00", "Created at ≥ Jan 1, 2026",
                      "Shipped at is empty"]
    original = Counter(pairs_of(url))
    removed = []
    for _, remove_url in chips:
        left = Counter(pairs_of(remove_url))
        gone = original - left
        assert sum(gone.values()) == 1 and not (left - original), remove_url
        removed += list(gone)
        assert client(site, "support").get(unescape(remove_url)).status_code == 200
    assert sorted(removed) == sorted(p for p in original if p[0] not in ("q", "sort"))


@pytest.mark.reads_only
def test_in_filter_chip_and_options(site):
    page = html(client(site, "support").get("/admin/orders/?status__in=paid,refunded"))
    assert "Status is Paid or Refunded" in page
    panel = page[page.index('id="filter-panel"'):]
    # both chosen through __in show as chosen; un-choosing one rewrites the filter as repeated keys
    assert len(re.findall(r'aria-current="true"', panel[:panel.index("</fieldset>")])) == 2
    assert 'href="/admin/orders/?status=refunded"' in panel
