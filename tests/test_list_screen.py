"""What the list screen tells its user (issue 16, items 5, 6 and 9): which rows a page shows
("21–40 of 60 orders") on every page, keyset pages included; the folded filter panel's
summary ("Filters (2)"); badges coloured by what their value means; cells that keep dates,
names and numbers readable; labels that keep acronyms; a favicon; bulk confirmations in the
list's order. What only a browser shows (scroll positions, the phone's first screen, badge
contrast) is in e2e/test_list_screen_browser.py.
"""

import re
import typing as t
from html import unescape

import pytest
from sqlorm import Model, PrimaryKey

from apps import as_user, create_app as create_small_app, create_schema, members
from crud_app import create_app, staff
from demo_db import seeded_engine

from hyper_admin.cells import DEFAULT_TONES, badge_tone
from hyper_admin.demo.models import TicketComment
from hyper_admin.introspect import Hint, humanize, model_info, model_names
from hyper_admin.query import encode_cursor
from hyper_admin.testing import AdminClient
from hyper_admin.views.common import list_request

@pytest.fixture
def site(request, backend):
    with seeded_engine(request) as engine:  # 60 orders
        app, admin = create_app(engine)
        yield app, admin, staff(engine), engine

def html(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)

def shown_range(page: str) -> str:
    """The text of the list's "which rows" line, tags and spaces squeezed."""
    start = page.index("data-list-range>")
    text = page[start + len("data-list-range>"):page.index("</span>\n", start)]
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", text))).strip()

def link(page: str, rel: str) -> str:
    return unescape(re.search(rf'href="([^"]+)" rel="{rel}"', page).group(1))

# --- 5. which rows a page shows ------------------------------------------------------------------

@pytest.mark.reads_only
def test_keyset_pages_say_which_rows_they_show_forwards_and_back(site):
    app, _, people, _ = site
    client = as_user(app, people["support"])
    first = html(client.get("/admin/orders/?per_page=20"))
    assert shown_range(first).startswith("1–20 of")
    second = html(client.get(link(first, "next")))
    assert "after=" in link(first, "next")  # keyset: a cursor, no page number
    assert shown_range(second).startswith("21–40 of")
    third = html(client.get(link(second, "next")))
    assert shown_range(third).startswith("41–60 of")
    assert 'rel="next"' not in third
    # Back from the third page: the cursor's position says where the rows stand.
    assert "before=" in link(third, "prev")
    back = html(client.get(link(third, "prev")))
    assert shown_range(back).startswith("21–40 of")
    start = html(client.get(link(back, "prev")))
    assert shown_range(start).startswith("1–20 of")

@pytest.mark.reads_only
def test_the_range_waits_for_no_count_and_the_count_fills_it(site):
    app, _, people, _ = site
    client = as_user(app, people["support"])
    page = html(client.get("/admin/orders/?per_page=20&total__gte=0"))
    # The rows come at once: "1–20 of" and the count's placeholder, fetched after.
    assert shown_range(page) == "1–20 of"
    count_url = unescape(re.search(r'id="list-count" hx-get="([^"]+)"', page).group(1))
    count = html(client.get(count_url, headers={"HX-Request": "true", "HX-Target": "list-count"}))
    # The count's element, then the pager's "Show all (60)" out of band (test_show_all.py).
    count, show_all = count.split('<span id="list-show-all" hx-swap-oob="true">')
    assert re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", count)).strip() == "60 orders"
    assert "Show all (60)" in show_all

@pytest.mark.reads_only
def test_numbered_pages_and_htmx_swaps_say_their_range_too(site):
    app, _, people, _ = site
    client = as_user(app, people["support"])
    numbered = html(client.get("/admin/orders/?per_page=25&page=3"))
    assert shown_range(numbered).startswith("51–60 of")
    swap = html(client.get("/admin/orders/?per_page=25&page=2",
                           headers={"HX-Request": "true", "HX-Target": "list-results"}))
    assert "<html" not in swap and shown_range(swap).startswith("26–50 of")

@pytest.mark.reads_only
def test_a_page_holding_the_whole_list_says_only_its_count(site):
    app, _, people, _ = site
    client = as_user(app, people["support"])
    page = html(client.get("/admin/orders/?per_page=100"))
    assert shown_range(page) == "60 orders"
    assert "–" not in shown_range(html(client.get("/admin/orders/?status=paid&per_page=100")))

@pytest.mark.reads_only
def test_the_position_rides_in_the_signed_cursor(site):
    app, admin, people, _ = site
    client = as_user(app, people["support"])
    first = html(client.get("/admin/orders/?per_page=20"))
    cursor = re.search(r"after=([^&\"]+)", link(first, "next")).group(1)
    # Edited (another position, same signature): refused like any cursor we did not issue.
    body, signature = cursor.split(".")
    import base64
    import json

    values = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    assert values[-1] == 19  # the last row shown is the list's 20th
    forged = base64.urlsafe_b64encode(json.dumps([*values[:-1], 999]).encode()).decode().rstrip("=")
    assert client.get(f"/admin/orders/?per_page=20&after={forged}.{signature}").status_code == 400
    # A cursor issued without a position (before positions were carried) still pages: the
    # page shows its count alone, since it cannot know where it starts.
    from werkzeug.datastructures import MultiDict
    from flask_login import login_user

    with app.test_request_context("/admin/orders/"):
        login_user(people["support"])
        listing = list_request(admin.registry["orders"], MultiDict({"per_page": "20"}))
        old = encode_cursor(values[:-1], listing.spec, listing.params.sort)
    page = html(client.get(f"/admin/orders/?per_page=20&after={old}"))
    assert "–" not in shown_range(page) and "ORD-" in page

# --- 6. the folded filter panel ------------------------------------------------------------------

@pytest.mark.reads_only
def test_the_filter_panel_summary_says_how_many_filters_are_on(site):
    app, _, people, _ = site
    client = as_user(app, people["support"])
    none = html(client.get("/admin/orders/"))
    assert re.search(r"<details [^>]*data-filter-panel", none)
    assert '<span id="filter-count">Filters</span>' in none
    two = html(client.get("/admin/orders/?status=paid&status=shipped"))
    assert '<span id="filter-count">Filters (2)</span>' in two
    # An htmx swap brings the summary up to date out of band.
    swap = html(client.get("/admin/orders/?status=paid&total__gte=5&shipped_at__isnull=true",
                           headers={"HX-Request": "true", "HX-Target": "list-results"}))
    assert '<span id="filter-count" hx-swap-oob="true">Filters (3)</span>' in swap

@pytest.mark.reads_only
def test_touch_screens_get_no_shortcuts_button(site):
    """The button is in the page for keyboards; admin.css hides it where the primary pointer is
    a finger (the browser test checks what shows)."""
    app, _, people, _ = site
    page = html(as_user(app, people["support"]).get("/admin/orders/"))
    assert "data-shortcuts-open" in page
    assert re.search(r"@media \(hover:none\),\(pointer:coarse\)\{\[data-shortcuts-open\]",
                     compiled_css())

# --- 9. badges -----------------------------------------------------------------------------------

def badges_of(page: str) -> dict[str, str]:
    """Badge text -> its tone class (badge-success...; "neutral" for none)."""
    found = {}
    for classes, text in re.findall(r'<span class="(badge badge-sm ha-badge[^"]*)">([^<]+)</span>', page):
        tone = re.search(r"badge-(info|success|warning|error)\b", classes)
        found[unescape(text)] = tone.group(1) if tone else "neutral"
    return found

def test_status_values_get_their_colours_in_list_detail_and_facets(site):
    app, _, people, engine = site
    client = as_user(app, people["admin"])
    with engine as tx:
        urgent = tx.fetchscalar("SELECT min(id) AS v FROM tickets WHERE priority = 'normal'")
        tx.execute(f"UPDATE tickets SET priority = 'urgent', status = 'open' WHERE id = {int(urgent)}")
    tickets = badges_of(html(client.get("/admin/tickets/?per_page=500")))
    assert tickets["Urgent"] == "error" and tickets["High"] == "warning"
    assert tickets["Open"] == "warning" and tickets["Solved"] == "success"
    assert tickets["Closed"] == "neutral" and tickets["Normal"] == "neutral"
    orders = badges_of(html(client.get("/admin/orders/?per_page=500")))
    assert orders["Paid"] == "success" and orders["Shipped"] == "success"
    assert orders["Cancelled"] == "error" and orders["Pending"] == "warning"
    # The detail page shows the same badge.
    detail = html(client.get(f"/admin/tickets/{urgent}/"))
    assert badges_of(detail)["Urgent"] == "error"
    # The filter panel's options carry a dot of the colour (none for neutral values).
    panel = html(client.get("/admin/tickets/facets?field=priority"))
    dots = dict((unescape(label), tone) for tone, label in re.findall(
        r'<span class="status status-(\w+) shrink-0" aria-hidden="true"></span>\s*'
        r'<span class="min-w-0 flex-1 truncate">([^<]+)</span>', panel))
    assert dots == {"High": "warning", "Urgent": "error"}

@pytest.mark.reads_only
def test_booleans_are_badges_too(site):
    app, _, people, _ = site
    page = html(as_user(app, people["admin"]).get("/admin/accounts/?per_page=500"))
    found = badges_of(page)
    assert found["Yes"] == "success" and found["No"] == "neutral"

def test_default_tones_go_by_the_value_or_its_label():
    assert DEFAULT_TONES["paid"] == "success" and DEFAULT_TONES["overdue"] == "error"
    assert DEFAULT_TONES["waiting"] == "warning"
    assert badge_tone(None, "Resolved") == "success"          # case and spaces ignored
    assert badge_tone(None, "on-hold") == "warning"
    assert badge_tone(None, 3, label="Failed") == "error"     # a coded value, named by its label
    assert badge_tone(None, "whatever") == "neutral"
    assert badge_tone(None, "paid", {"paid": "info"}) == "info"  # what is declared wins

# A model of this test's own (class names are process-wide in sqlorm's registry).
class LsParcel(Model):
    __table__ = "ls_parcels"
    id: PrimaryKey[int]
    sku: str
    tracking_url: str
    state: t.Annotated[str, Hint(choices=[("lost", "Lost"), ("stuck", "Stuck"), ("paid", "Paid"),
                                          ("home", "Home")],
                                 badges={"stuck": "error", "home": "success"})]
    speed: t.Annotated[str, Hint(choices=[("rush", "Rush"), ("slow", "Slow")])]

class APIToken(Model):
    __table__ = "ls_api_tokens"
    id: PrimaryKey[int]
    ip_address: str
    public_uuid: str

@pytest.fixture
def parcels(engine):
    create_schema(engine)
    pk = "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY" if engine_is_pg(engine) else "INTEGER PRIMARY KEY"
    with engine as tx:
        tx.execute(f"CREATE TABLE ls_parcels (id {pk}, sku TEXT, tracking_url TEXT, state TEXT, speed TEXT)")
        tx.execute(f"CREATE TABLE ls_api_tokens (id {pk}, ip_address TEXT, public_uuid TEXT)")
        tx.execute("INSERT INTO ls_api_tokens (ip_address, public_uuid) VALUES ('10.0.0.1', 'f00d')")
        for i, (state, speed) in enumerate([("lost", "rush"), ("stuck", "slow"), ("paid", "rush"),
                                            ("home", "slow")]):
            tx.execute("INSERT INTO ls_parcels (sku, tracking_url, state, speed) VALUES "
                       f"('SKU-{i}', 'https://track.example/{i}', '{state}', '{speed}')")
    app, admin = create_small_app(engine)
    admin.register(LsParcel, badges={"speed": {"rush": "warning"}, "state": {"paid": "info"}})
    admin.register(APIToken, permissions={"view": {"support"}})
    return app, admin, members(engine)

def engine_is_pg(engine) -> bool:
    from hyper_admin.sqlorm_compat import is_postgresql

    return is_postgresql(engine)

def test_badges_declared_by_hint_and_model_admin(parcels):
    app, _, people = parcels
    client = as_user(app, people["root"])
    found = badges_of(html(client.get("/admin/ls_parcels/")))
    assert found["Stuck"] == "error" and found["Home"] == "success"  # the column's Hint
    assert found["Lost"] == "error"                                  # the default for "lost"
    assert found["Paid"] == "info"                                   # the ModelAdmin beats the default
    assert found["Rush"] == "warning" and found["Slow"] == "neutral"  # ModelAdmin.badges
    # The same colours in the detail page.
    assert badges_of(html(client.get("/admin/ls_parcels/1/")))["Rush"] == "warning"

def test_badges_naming_no_column_or_no_tone_are_refused_at_registration(parcels):
    _, admin, _ = parcels
    with pytest.raises(TypeError, match="badges of .* names 'nope'"):
        admin.register(LsParcel, badges={"nope": {"x": "error"}})
    with pytest.raises(TypeError, match="unknown tone 'red'"):
        admin.register(LsParcel, badges={"speed": {"rush": "red"}})
    with pytest.raises(ValueError, match="unknown tone 'green'"):
        Hint(badges={"paid": "green"})

# --- 9. cells, headers and labels ----------------------------------------------------------------

@pytest.mark.reads_only
def test_number_headers_align_with_their_numbers(site):
    app, _, people, _ = site
    page = html(as_user(app, people["admin"]).get("/admin/order_lines/?per_page=5"))
    headers = re.findall(r'<th scope="col" class="([^"]*)"[^>]*>\s*(?:<a [^>]*>)?([^<]+)', page)
    aligned = {label.strip(): "text-right" in classes for classes, label in headers}
    assert aligned["ID"] and aligned["Quantity"] and not aligned.get("Order", False)
    # The ID column's values are links (the row's own page) and numbers: right-aligned too.
    row = page.split('<tbody class="ha-rows">', 1)[1].split("</tr>", 1)[0]
    assert re.search(r'<td class="n"><a href="/admin/order_lines/\d+/" class="r">\d+</a></td>', row)

@pytest.mark.reads_only
def test_dates_and_names_stay_on_one_line_long_text_may_wrap(site):
    app, _, people, _ = site
    client = as_user(app, people["admin"])
    orders = html(client.get("/admin/orders/?per_page=50")).split('<tbody class="ha-rows">', 1)[1]
    assert re.search(r'<td class="d" title="\d{4}-\d\d-\d\dT[^"]+">', orders)  # a date: no wrap
    page = html(client.get("/admin/tickets/?per_page=50"))
    body = page.split('<tbody class="ha-rows">', 1)[1].split("</tbody>", 1)[0]
    long_subjects = re.findall(r'<td class="w">([^<]{31,})</td>', body)
    assert long_subjects                                                   # long text: may wrap
    short = re.findall(r"<td>([^<]+)</td>", body)
    assert short and all(len(unescape(s)) <= 30 for s in short)
    assert ".ha-rows td.w{white-space:normal;" in compiled_css()

def compiled_css() -> str:
    from hyper_admin.paths import STATIC_DIR

    return (STATIC_DIR / "admin.css").read_text(encoding="utf-8")

@pytest.mark.parametrize("name,label", [
    ("sku", "SKU"), ("isbn", "ISBN"), ("url", "URL"), ("id", "ID"), ("ip_address", "IP address"),
    ("uuid", "UUID"), ("api_key", "API key"), ("vat_number", "VAT number"), ("user_ids", "User IDs"),
    ("tracking_url", "Tracking URL"), ("status", "Status"), ("created_at", "Created at"),
])
def test_automatic_labels_keep_acronyms(name, label):
    assert humanize(name) == label

def test_labels_from_columns_and_class_names_keep_acronyms(parcels):
    app, _, people = parcels
    info = model_info(LsParcel)
    assert [c.label for c in info.columns][:3] == ["ID", "SKU", "Tracking URL"]
    assert model_names(APIToken).verbose_name == "API token"
    assert model_names(APIToken).verbose_name_plural == "API tokens"
    page = html(as_user(app, people["root"]).get("/admin/ls_api_tokens/"))
    assert ">IP address<" in page and ">Public UUID<" in page and "API tokens" in page

# --- 9. favicon, bulk confirmations --------------------------------------------------------------

def test_every_page_names_a_favicon_that_is_served(parcels):
    app, _, people = parcels
    client = as_user(app, people["root"])
    for path in ("/admin/", "/admin/ls_parcels/", "/admin/ls_parcels/1/", "/admin/login"):
        page = app.test_client().get(path) if path.endswith("login") else client.get(path)
        href = re.search(r'<link rel="icon" type="image/svg\+xml" href="([^"]+)">', html(page)).group(1)
        icon = client.get(unescape(href))
        assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"
        assert b"<svg" in icon.get_data()

def test_bulk_confirmation_lists_rows_in_the_lists_order_with_the_trash_icon(site):
    app, _, people, engine = site
    client = AdminClient(app).login_as(people["admin"])
    with engine as tx:
        ids = [r["id"] for r in tx.fetchall("SELECT id FROM ticket_comments ORDER BY id LIMIT 4")]
    chosen = [ids[2], ids[0], ids[3], ids[1]]  # as a list sorted some other way shows them
    confirm = client.action(TicketComment, "delete", chosen, confirmed=False)
    page = html(confirm)
    listed = [int(pk) for pk in re.findall(r'<li><a class="link link-hover" href="/admin/ticket_comments/(\d+)/"', page)]
    assert listed == chosen
    assert re.findall(r'name="pk" value="(\d+)', page) == [str(pk) for pk in chosen]
    button = re.search(r'<button type="submit" class="btn btn-sm btn-error"[^>]*>(.*?)</button>', page, re.S).group(1)
    assert "#trash-2" in button
    # "All rows matching the list": the list's order (newest first by default).
    every = client.post("/admin/tickets/action?status=closed&sort=id",
                        {"action": "delete", "all": "1"})
    shown = [int(pk) for pk in re.findall(r'href="/admin/tickets/(\d+)/"', html(every).split("<ul", 1)[1])]
    assert shown == sorted(shown) and len(shown) > 1
