"""The CRUD engine over the demo schema (CONTRACT §2–§4), on SQLite and PostgreSQL."""

import csv
import io
import re

import pytest
from sqlorm import SQL
from sqlorm.engine import Transaction

from crud_app import create_app, staff
from apps import as_user, csrf_from, form_data
from demo_db import seeded_engine
from hyper_admin.demo.models import Account, Order, TicketComment
from hyper_admin.testing import AdminClient


@pytest.fixture
def site(request, backend):
    """The demo database (the module's shared one for tests marked reads_only), an app of the
    test's own, its staff and engine."""
    with seeded_engine(request) as engine:
        app, admin = create_app(engine)
        yield app, staff(engine), engine


def client_for(site, username):
    app, people, _ = site
    return as_user(app, people[username])


def admin_for(site, username) -> AdminClient:
    app, people, _ = site
    return AdminClient(app).login_as(people[username])


def html(response) -> str:
    return response.get_data(as_text=True)


def token(client) -> str:
    return csrf_from(html(client.get("/admin/")))


def scalar(engine, sql, *params):
    with engine as tx:
        return tx.fetchscalar(SQL(sql, *[SQL.Param(p) for p in params]) if params else sql)


def first_id(engine, table, where="1=1"):
    return scalar(engine, f"SELECT min(id) AS v FROM {table} WHERE {where}")


# --- lists ---------------------------------------------------------------------------------


@pytest.mark.reads_only
def test_list_shows_rows_with_fk_labels_and_links(site):
    client = client_for(site, "support")
    page = html(client.get("/admin/orders/"))
    assert "ORD-" in page
    assert re.search(r'href="/admin/accounts/\d+/"', page)  # FK label linked to its detail
    assert 'rel="next"' in page
    assert re.search(r'href="/admin/orders/\d+/"', page)  # each row links its detail page


@pytest.mark.reads_only
def test_following_next_visits_every_row_once(site):
    client = client_for(site, "support")
    _, _, engine = site
    total = scalar(engine, "SELECT count(*) AS n FROM orders")
    url, seen, pages = "/admin/orders/?per_page=7", [], 0
    while url and pages < 50:
        page = html(client.get(url))
        seen += re.findall(r'name="pk" value="([^"!]+)', page)
        match = re.search(r'href="([^"]+)" rel="next"', page)
        url = match.group(1).replace("&amp;", "&") if match else None
        pages += 1
    assert len(seen) == len(set(seen)) == total


@pytest.mark.reads_only
def test_prev_link_returns_to_the_previous_page(site):
    client = client_for(site, "support")
    first = html(client.get("/admin/orders/?per_page=5"))
    next_url = re.search(r'href="([^"]+)" rel="next"', first).group(1).replace("&amp;", "&")
    second = html(client.get(next_url))
    prev_url = re.search(r'href="([^"]+)" rel="prev"', second).group(1).replace("&amp;", "&")
    back = html(client.get(prev_url))
    pks = lambda page: re.findall(r'name="pk" value="([^"!]+)', page)  # noqa: E731
    assert pks(back) == pks(first)


@pytest.mark.reads_only
def test_offset_pages_for_sorts_on_nullable_columns(site):
    client = client_for(site, "support")
    response = client.get("/admin/orders/?sort=shipped_at,-id&per_page=5&page=2",)
    assert response.status_code == 400  # shipped_at is not displayed nor sortable
    page = html(client.get("/admin/tickets/?sort=assignee_id&per_page=5"))
    assert 'rel="next"' in page and "page=2" in page


@pytest.mark.reads_only
def test_search_sort_and_filters(site):
    client = client_for(site, "support")
    _, _, engine = site
    ref = scalar(engine, "SELECT reference AS v FROM orders ORDER BY id LIMIT 1")
    page = html(client.get(f"/admin/orders/?q={ref.lower()}"))
    assert ref in page
    assert len(re.findall(r'name="pk"', page)) == 1
    assert ref in html(client.get(f"/admin/orders/?q=={ref}"))
    assert ref in html(client.get(f"/admin/orders/?q=^{ref[:6]}&per_page=500"))
    paid = html(client.get("/admin/orders/?status=paid&per_page=500"))
    n_paid = scalar(engine, "SELECT count(*) AS n FROM orders WHERE status = 'paid'")
    assert len(re.findall(r'name="pk"', paid)) == n_paid
    both = html(client.get("/admin/orders/?status=paid&status=refunded&per_page=500"))
    n_both = scalar(engine, "SELECT count(*) AS n FROM orders WHERE status IN ('paid', 'refunded')")
    assert len(re.findall(r'name="pk"', both)) == n_both
    assert html(client.get("/admin/orders/?status__in=paid,refunded&per_page=500")).count('name="pk"') == n_both
    ranged = html(client.get("/admin/orders/?total__gte=100&total__lte=200&per_page=500"))
    n_ranged = scalar(engine, "SELECT count(*) AS n FROM orders WHERE total >= 100 AND total <= 200")
    assert ranged.count('name="pk"') == n_ranged
    unshipped = html(client.get("/admin/orders/?shipped_at__isnull=1&per_page=500"))
    assert unshipped.count('name="pk"') == scalar(engine, "SELECT count(*) AS n FROM orders WHERE shipped_at IS NULL")
    assert client.get("/admin/orders/?created_at__gte=2026-01-01").status_code == 200
    account = first_id(engine, "accounts")
    by_fk = html(client.get(f"/admin/orders/?account_id={account}&per_page=500"))
    assert by_fk.count('name="pk"') == scalar(engine, "SELECT count(*) AS n FROM orders WHERE account_id = " + str(account))


@pytest.mark.reads_only
def test_search_through_related_column(site):
    client = client_for(site, "support")
    _, _, engine = site
    name = scalar(engine, "SELECT a.name AS v FROM orders o JOIN accounts a ON a.id = o.account_id ORDER BY o.id LIMIT 1")
    page = html(client.get(f"/admin/orders/?q={name.upper()}&per_page=500"))
    assert page.count('name="pk"') >= 1


@pytest.mark.parametrize("query", [
    "sort=nope", "sort=password_hash", "page=0", "page=-1", "page=x", "per_page=x", "per_page=0",
    "status=flying", "created_at__gte=yesterday", "total__gte=abc", "nope=1", "status__like=x",
    "reference=abc",  # not in list_filter
    "after=forged.cursor", "after=WzFd.AAAAAAAAAAAAAAAA", "after=x&before=y", "page=2&after=x",
    "q=" + "a" * 300, "shipped_at__isnull=maybe", "total__in=x", "reference__gte=",
])
@pytest.mark.reads_only
def test_bad_list_queries_are_400(site, query):
    client = client_for(site, "support")
    response = client.get(f"/admin/orders/?{query}")
    assert response.status_code == 400, query
    assert "Traceback" not in html(response)


@pytest.mark.reads_only
def test_per_page_is_clamped(site):
    client = client_for(site, "support")
    page = html(client.get("/admin/orders/?per_page=1000000"))
    assert page.count('name="pk"') == 60  # all of them, at most max_per_page (500)


@pytest.mark.reads_only
def test_cursor_of_another_sort_is_refused(site):
    client = client_for(site, "support")
    page = html(client.get("/admin/orders/?per_page=5"))
    cursor = re.search(r"after=([^\"&]+)", page).group(1)
    assert client.get(f"/admin/orders/?after={cursor}&sort=total").status_code == 400
    assert client.get(f"/admin/tickets/?after={cursor}").status_code == 400


@pytest.mark.reads_only
def test_query_count_is_bounded_whatever_the_page_size_and_fks(site):
    client = client_for(site, "support")
    statements = []

    def count(sender, **kw):
        # Not the catalog's (fts.py reads sqlite_master once, then every five minutes).
        stmt = str(kw.get("stmt", ""))
        if stmt.lstrip().upper().startswith("SELECT") and "sqlite_master" not in stmt:
            statements.append(kw.get("stmt"))

    Transaction.before_execute.connect(count)
    try:
        def n(url):
            statements.clear()
            assert client.get(url).status_code == 200
            return len(statements)

        small, large = n("/admin/orders/?per_page=5"), n("/admin/orders/?per_page=50")
        lines = n("/admin/order_lines/?per_page=50")  # two foreign keys displayed
        tickets = n("/admin/tickets/?per_page=50")  # three, and a scope
        filtered = n("/admin/orders/?status=paid&per_page=50")
    finally:
        Transaction.before_execute.disconnect(count)
    # Neither page size nor foreign keys add queries; a page holding the whole list (50 of
    # this small table's orders) needs no count at all: its rows are the count.
    assert large == small - 1 and lines <= small
    # the page (labels joined in), its count (PostgreSQL may first read its statistics),
    # the signed-in user and the saved views
    assert max(small, tickets, filtered) <= 5


def test_empty_state_and_escaping_in_cells(site):
    client = client_for(site, "support")
    _, _, engine = site
    with engine as tx:
        tx.execute(SQL("UPDATE accounts SET name =", SQL.Param('<img src=x onerror=alert(1)>'),
                       "WHERE id =", SQL.Param(first_id(engine, "accounts", "id IN (SELECT account_id FROM orders)"))))
    page = html(client.get("/admin/orders/?per_page=500"))
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    empty = html(client.get("/admin/orders/?q=nothing-matches-this"))
    assert "No orders match" in empty


@pytest.mark.reads_only
def test_htmx_list_swap_is_a_fragment_of_the_results(site):
    client = client_for(site, "support")
    full = client.get("/admin/orders/")
    swap = client.get("/admin/orders/?sort=total", headers={"HX-Request": "true", "HX-Target": "list-results"})
    assert "<html" not in html(swap) and 'id="list-results"' in html(swap)
    assert swap.headers["HX-Push-Url"] == "/admin/orders/?sort=total"
    assert len(swap.data) < len(full.data)


def header_cells(page: str) -> dict[str, str]:
    """Each column header's markup, by its label."""
    import re

    thead = page[page.index("<thead>"):page.index("</thead>")]
    cells = {}
    for th in re.findall(r"<th scope=\"col\".*?</th>", thead, re.S):
        label = re.sub(r"<[^>]+>", "", th.split("<span", 1)[0]).strip()
        if label:
            cells[label] = th
    return cells


def hrefs(markup: str) -> list[str]:
    import re

    return [h.replace("&amp;", "&") for h in re.findall(r'href="(/admin/[^"]+)"', markup)
            if "/static/" not in h]


@pytest.mark.reads_only
def test_headers_sort_by_several_columns_as_django_does(site):
    client = client_for(site, "support")
    unsorted = header_cells(html(client.get("/admin/orders/")))
    # Nothing chosen yet (the model's default order): a header sorts by its column alone.
    assert hrefs(unsorted["Total"]) == ["/admin/orders/?sort=total"]
    assert "aria-sort" not in "".join(unsorted.values())

    one = header_cells(html(client.get("/admin/orders/?status=paid&sort=total")))
    # The first field: the other way round. Another column: first, the current sort after it.
    assert hrefs(one["Total"]) == ["/admin/orders/?status=paid&sort=-total"]
    assert hrefs(one["Status"]) == ["/admin/orders/?status=paid&sort=status,total"]
    assert 'aria-sort="ascending"' in one["Total"] and "Remove" not in one["Total"]

    two = header_cells(html(client.get("/admin/orders/?sort=status,-total")))
    status, total = two["Status"], two["Total"]
    assert 'aria-sort="ascending"' in status and "aria-sort" not in total  # one header at a time
    assert "sort field 1 ascending" in status and "sort field 2 descending" in total
    # A later field moves first in its direction; each can be taken out of the sort.
    assert hrefs(total)[0] == "/admin/orders/?sort=-total,status"
    assert "/admin/orders/?sort=-status,-total" == hrefs(status)[0]
    assert "/admin/orders/?sort=-total" in hrefs(status) and "/admin/orders/?sort=status" in hrefs(total)
    assert 'aria-label="Remove Total from the sort"' in total
    # The tiebreaker the query adds (the primary key) is not a chosen sort field.
    assert not any("aria-sort" in th or "sort field" in th
                   for label, th in two.items() if label not in ("Status", "Total"))


@pytest.mark.reads_only
def test_a_sixth_sort_field_drops_the_last(site):
    client = client_for(site, "support")
    five = "reference,status,total,-created_at,id"
    page = html(client.get(f"/admin/orders/?sort={five}"))
    assert client.get(f"/admin/orders/?sort={five}").status_code == 200
    account = hrefs(header_cells(page)["Account"])[0]
    assert account == "/admin/orders/?sort=account_id,reference,status,total,-created_at"
    assert client.get(account).status_code == 200
    rows_sorted = client.get("/admin/orders/?sort=status,-total&per_page=500")
    assert rows_sorted.status_code == 200


# --- detail --------------------------------------------------------------------------------


@pytest.mark.reads_only
def test_detail_shows_fields_labels_and_inlines(site):
    client = client_for(site, "support")
    _, _, engine = site
    order = first_id(engine, "orders")
    page = html(client.get(f"/admin/orders/{order}/"))
    ref = scalar(engine, f"SELECT reference AS v FROM orders WHERE id = {order}")
    assert ref in page
    assert "Order lines" in page
    assert f"/admin/order_lines/?order_id={order}" in page


@pytest.mark.parametrize("pk", ["999999", "abc", "1,2", "-", "%00"])
@pytest.mark.reads_only
def test_missing_or_malformed_rows_are_404(site, pk):
    client = client_for(site, "support")
    for suffix in ("/", "/edit", "/delete"):
        assert client.get(f"/admin/orders/{pk}{suffix}").status_code == 404


@pytest.mark.reads_only
def test_secret_columns_are_hidden_everywhere(site):
    client = client_for(site, "admin")
    _, _, engine = site
    user_id = first_id(engine, "staff_users")
    hash_prefix = scalar(engine, f"SELECT password_hash AS v FROM staff_users WHERE id = {user_id}")[:20]
    for url in ("/admin/staff_users/", f"/admin/staff_users/{user_id}/", f"/admin/staff_users/{user_id}/edit",
                "/admin/staff_users/new", "/admin/staff_users/export?format=csv",
                "/admin/staff_users/export?format=json"):
        body = html(client.get(url))
        assert hash_prefix not in body, url
        assert "password_hash" not in body and "Password hash" not in body, url
    assert client.get("/admin/staff_users/?sort=password_hash").status_code == 400
    assert client.get("/admin/staff_users/?password_hash=x").status_code == 400


# --- permissions and scope -----------------------------------------------------------------


def test_permission_matrix(site):
    _, _, engine = site
    order = first_id(engine, "orders")
    viewer, support = client_for(site, "viewer"), client_for(site, "support")
    assert viewer.get("/admin/orders/").status_code == 200
    assert viewer.get(f"/admin/orders/{order}/").status_code == 200
    assert viewer.get(f"/admin/orders/{order}/edit").status_code == 403
    assert viewer.get("/admin/orders/new").status_code == 403
    assert viewer.get(f"/admin/orders/{order}/delete").status_code == 403
    assert viewer.get("/admin/orders/export?format=csv").status_code == 403
    assert viewer.get("/admin/contacts/").status_code == 403
    assert viewer.get("/admin/staff_users/").status_code == 403
    assert support.get(f"/admin/orders/{order}/edit").status_code == 200
    assert support.get(f"/admin/orders/{order}/delete").status_code == 403
    assert support.get("/admin/staff_users/").status_code == 403
    # 404 before 403: a missing row answers 404 even where the action is not granted
    assert viewer.get("/admin/orders/999999/edit").status_code == 404
    page = html(viewer.get(f"/admin/orders/{order}/"))
    assert f"/admin/orders/{order}/edit" not in page  # what may not be done is hidden
    assert "/admin/contacts/" not in html(viewer.get("/admin/"))


def test_scope_hides_rows_as_404_everywhere(site):
    _, _, engine = site
    client = client_for(site, "support")
    outside = first_id(engine, "tickets", "account_id IN (SELECT id FROM accounts WHERE region <> 'eu')")
    inside = first_id(engine, "tickets", "account_id IN (SELECT id FROM accounts WHERE region = 'eu')")
    assert outside and inside
    for suffix in ("/", "/edit", "/delete"):
        assert client.get(f"/admin/tickets/{outside}{suffix}").status_code == 404
        assert client.get(f"/admin/tickets/{inside}{suffix}").status_code == 200
    listing = html(client.get("/admin/tickets/?per_page=500"))
    assert f'name="pk" value="{outside}!' not in listing and f'name="pk" value="{inside}!' in listing
    lookup = html(client.get("/admin/tickets/lookup?q="))
    assert f'data-value="{outside}"' not in lookup
    csrf = token(client)
    response = client.post("/admin/tickets/action", data={"action": "delete", "pk": [str(outside)],
                                                         "confirmed": "1", "csrf_token": csrf})
    assert response.status_code == 404
    assert scalar(engine, f"SELECT count(*) AS n FROM tickets WHERE id = {outside}") == 1
    response = client.post(f"/admin/tickets/{outside}/delete", data={"csrf_token": csrf})
    assert response.status_code == 404
    admin_client = client_for(site, "admin")
    assert admin_client.get(f"/admin/tickets/{outside}/").status_code == 200


# --- forms ---------------------------------------------------------------------------------


def test_edit_saves_changed_fields_and_redirects(site):
    client = admin_for(site, "support")
    _, _, engine = site
    order = first_id(engine, "orders")
    _, data = client.form(f"/admin/orders/{order}/edit")
    assert "csrf_token" in data and "_version" in data
    saved = client.edit(Order, order, status="refunded")
    assert saved.status == 303 and saved.pk == str(order)
    assert saved.response.headers["Location"] == f"/admin/orders/{order}/"
    assert scalar(engine, f"SELECT status AS v FROM orders WHERE id = {order}") == "refunded"
    assert "was saved" in html(client.get(saved.response.headers["Location"]))


def test_an_unchanged_form_round_trips_without_writing(site):
    client = client_for(site, "support")
    _, _, engine = site
    order = first_id(engine, "orders")
    with engine as tx:
        before = dict(tx.fetchone(f"SELECT * FROM orders WHERE id = {order}"))
    data = form_data(html(client.get(f"/admin/orders/{order}/edit")))
    response = client.post(f"/admin/orders/{order}/edit", data=data)
    assert response.status_code == 303
    assert "no changes" in html(client.get(response.headers["Location"]))
    with engine as tx:
        assert dict(tx.fetchone(f"SELECT * FROM orders WHERE id = {order}")) == before


def test_stale_edit_is_a_409_keeping_the_input(site):
    client = client_for(site, "support")
    _, _, engine = site
    order = first_id(engine, "orders")
    data = form_data(html(client.get(f"/admin/orders/{order}/edit")))
    with engine as tx:
        tx.execute(SQL("UPDATE orders SET total = 12345.67 WHERE id =", SQL.Param(order)))
    data["status"] = "cancelled"
    response = client.post(f"/admin/orders/{order}/edit", data=data)
    assert response.status_code == 409
    body = html(response)
    assert "Someone else changed this row" in body and "12345.67" in body
    conflict_table = body[body.index("What changed meanwhile"):body.index("</table>", body.index("What changed meanwhile"))]
    assert "Total" in conflict_table and "Status" not in conflict_table  # only what they changed
    # Only they changed the total: the form now holds theirs (saving again keeps it).
    assert "data-merged" in conflict_table and form_data(body)["total"] == "12345.67"
    assert form_data(body)["status"] == "cancelled"  # the user's input is kept
    assert scalar(engine, f"SELECT status AS v FROM orders WHERE id = {order}") != "cancelled"
    # Saving again from the conflict page (new version token) succeeds, and keeps their total.
    retry = form_data(body)
    assert client.post(f"/admin/orders/{order}/edit", data=retry).status_code == 303
    assert scalar(engine, f"SELECT status AS v FROM orders WHERE id = {order}") == "cancelled"
    assert str(scalar(engine, f"SELECT total AS v FROM orders WHERE id = {order}")) in ("12345.67", "12345.670")


def test_a_field_both_changed_is_the_users_choice(site):
    client = client_for(site, "support")
    _, _, engine = site
    order = first_id(engine, "orders")
    data = form_data(html(client.get(f"/admin/orders/{order}/edit")))
    with engine as tx:
        tx.execute(SQL("UPDATE orders SET total = 12345.67 WHERE id =", SQL.Param(order)))
    data["total"] = "99.50"
    body = html(client.post(f"/admin/orders/{order}/edit", data=data))
    table = body[body.index("What changed meanwhile"):body.index("</table>", body.index("What changed meanwhile"))]
    assert "data-merged" not in table and "99.50" in table
    # Theirs is one click away ("Take theirs" puts it in the field); the form keeps mine.
    assert re.search(r'data-take-theirs="id_total" data-value="12345.67"', table)
    assert form_data(body)["total"] == "99.50"


def test_forged_version_token_is_a_conflict_not_a_save(site):
    client = client_for(site, "support")
    _, _, engine = site
    order = first_id(engine, "orders")
    data = form_data(html(client.get(f"/admin/orders/{order}/edit")))
    data["status"] = "cancelled"
    for forged in ("", "garbage", data["_version"][:-2] + "xx"):
        response = client.post(f"/admin/orders/{order}/edit", data={**data, "_version": forged})
        assert response.status_code == 409
    assert scalar(engine, f"SELECT status AS v FROM orders WHERE id = {order}") != "cancelled"


def test_invalid_input_is_422_with_errors_on_fields(site):
    client = admin_for(site, "support")
    _, _, engine = site
    order = first_id(engine, "orders")
    response = client.edit(Order, order, total="not a number")
    assert response.status == 422
    assert 'aria-invalid="true"' in response.html
    assert response.errors == {"total": ["Not a valid decimal value."]}


def test_no_mass_assignment_and_readonly_never_written(site):
    client = client_for(site, "support")
    _, _, engine = site
    order = first_id(engine, "orders")
    created = scalar(engine, f"SELECT created_at AS v FROM orders WHERE id = {order}")
    data = form_data(html(client.get(f"/admin/orders/{order}/edit")))
    data.update({"id": "424242", "created_at": "2001-01-01T00:00", "status": "shipped"})
    assert client.post(f"/admin/orders/{order}/edit", data=data).status_code == 303
    assert scalar(engine, "SELECT count(*) AS n FROM orders WHERE id = 424242") == 0
    assert scalar(engine, f"SELECT created_at AS v FROM orders WHERE id = {order}") == created


def test_unique_violation_is_409_on_the_field(site):
    client = admin_for(site, "support")
    _, _, engine = site
    first, second = [r for r in (first_id(engine, "orders"), first_id(engine, "orders", "id > (SELECT min(id) FROM orders)"))]
    taken = scalar(engine, f"SELECT reference AS v FROM orders WHERE id = {second}")
    response = client.edit(Order, first, reference=taken)
    assert response.status == 409
    body = response.html
    assert "already used" in body and "already used" in response.errors["reference"][0]
    assert "UNIQUE constraint" not in body and "duplicate key" not in body


def test_create_with_parent_preset_and_fk_picker(site):
    client = client_for(site, "support")
    _, _, engine = site
    account = first_id(engine, "accounts")
    page = html(client.get(f"/admin/contacts/new?account_id={account}"))
    assert "/admin/accounts/lookup" in page  # a search box, not a select of every account
    assert page.count("<option") < 20
    data = form_data(page)
    assert data["account_id"] == str(account)
    data.update({"name": "Ada Lovelace", "email": "ada@example.com", "phone": "", "role": ""})
    response = client.post("/admin/contacts/new", data=data)
    assert response.status_code == 303, html(response)[:3000]
    new_id = scalar(engine, "SELECT id AS v FROM contacts WHERE email = 'ada@example.com'")
    assert response.headers["Location"] == f"/admin/contacts/{new_id}/"


def test_foreign_key_to_a_missing_row_is_refused_cleanly(site):
    client = client_for(site, "support")
    data = form_data(html(client.get("/admin/contacts/new")))
    data.update({"account_id": "999999", "name": "X", "email": "x@example.com"})
    response = client.post("/admin/contacts/new", data=data)
    assert response.status_code in (409, 422)
    assert "FOREIGN KEY" not in html(response) and "violates" not in html(response)


@pytest.mark.reads_only
def test_lookup_is_keyset_paged_and_labelled(site):
    client = client_for(site, "support")
    body = html(client.get("/admin/accounts/lookup?q="))
    values = re.findall(r'data-value="(\d+)"', body)
    assert len(values) == 20 and "More" in body
    more = re.search(r'hx-get="([^"]+)"', body).group(1).replace("&amp;", "&")
    again = re.findall(r'data-value="(\d+)"', html(client.get(more)))
    assert again and not set(again) & set(values)
    assert client.get("/admin/accounts/lookup?after=abc").status_code == 400


# --- delete and actions -------------------------------------------------------------------


def test_delete_confirmation_lists_what_it_reaches_then_deletes(site):
    client = client_for(site, "support")
    _, _, engine = site
    ticket = first_id(engine, "tickets", "account_id IN (SELECT id FROM accounts WHERE region = 'eu') AND id IN (SELECT ticket_id FROM ticket_comments)")
    page = html(client.get(f"/admin/tickets/{ticket}/delete"))
    assert "Ticket comments" in page
    response = client.post(f"/admin/tickets/{ticket}/delete", data={"csrf_token": token(client)})
    assert response.status_code == 303
    assert scalar(engine, f"SELECT count(*) AS n FROM tickets WHERE id = {ticket}") == 0
    assert scalar(engine, f"SELECT count(*) AS n FROM ticket_comments WHERE ticket_id = {ticket}") == 0


def test_delete_blocked_by_the_database_is_a_409(site):
    client = admin_for(site, "admin")
    _, _, engine = site
    account = first_id(engine, "accounts", "id IN (SELECT account_id FROM orders)")
    response = client.delete(Account, account)
    assert response.status_code == 409
    assert "refused" in html(response)
    assert scalar(engine, f"SELECT count(*) AS n FROM accounts WHERE id = {account}") == 1


def test_bulk_delete_confirms_then_deletes(site):
    client = admin_for(site, "support")
    _, _, engine = site
    with engine as tx:
        ids = [r["id"] for r in tx.fetchall("SELECT id FROM ticket_comments ORDER BY id LIMIT 3")]
    confirm = client.action(TicketComment, "delete", ids, confirmed=False)
    assert confirm.status_code == 200 and "Delete 3 ticket comments?" in html(confirm)
    assert scalar(engine, f"SELECT count(*) AS n FROM ticket_comments WHERE id IN ({','.join(map(str, ids))})") == 3
    done = client.action(TicketComment, "delete", ids)
    assert done.status_code == 303
    assert scalar(engine, f"SELECT count(*) AS n FROM ticket_comments WHERE id IN ({','.join(map(str, ids))})") == 0


def test_custom_action_with_permission(site):
    _, people, engine = site
    order = first_id(engine, "orders", "status <> 'paid'")
    viewer, support = admin_for(site, "viewer"), admin_for(site, "support")
    assert viewer.action(Order, "mark_paid", [order]).status_code == 403
    viewer.assert_cannot(people["viewer"], "mark_paid", Order)
    support.assert_can(people["support"], "mark_paid", Order)
    assert support.action(Order, "mark_paid", [order]).status_code == 303
    assert scalar(engine, f"SELECT status AS v FROM orders WHERE id = {order}") == "paid"
    assert support.action(Order, "explode", [order], confirmed=False).status_code == 400


@pytest.mark.reads_only
def test_every_post_needs_csrf(site):
    client = client_for(site, "admin")
    _, _, engine = site
    order, ticket = first_id(engine, "orders"), first_id(engine, "tickets")
    for url, data in [(f"/admin/orders/{order}/edit", {"status": "paid"}),
                      ("/admin/contacts/new", {"name": "x"}),
                      (f"/admin/tickets/{ticket}/delete", {}),
                      ("/admin/tickets/action", {"action": "delete", "pk": str(ticket), "confirmed": "1"})]:
        assert client.post(url, data=data).status_code == 400, url
    assert scalar(engine, f"SELECT count(*) AS n FROM tickets WHERE id = {ticket}") == 1


def test_export_is_streamed_scoped_and_formula_safe(site):
    client = client_for(site, "support")
    _, _, engine = site
    order = first_id(engine, "orders")
    with engine as tx:
        tx.execute(SQL("UPDATE orders SET reference = '=HYPERLINK(1)' WHERE id =", SQL.Param(order)))
    response = client.get("/admin/orders/export?format=csv")
    assert response.status_code == 200 and response.is_streamed
    rows = list(csv.reader(io.StringIO(html(response))))
    assert len(rows) == 1 + scalar(engine, "SELECT count(*) AS n FROM orders")
    assert ["'=HYPERLINK(1)"] == [c for r in rows for c in r if "HYPERLINK" in c]
    assert client.get("/admin/orders/export?format=xml").status_code == 400


def test_bulk_action_on_all_rows_matching_the_list(site):
    client = client_for(site, "support")
    _, _, engine = site
    n_paid = scalar(engine, "SELECT count(*) AS n FROM orders WHERE status = 'paid'")
    other = scalar(engine, "SELECT status AS v FROM orders WHERE status <> 'paid' "
                           "GROUP BY status ORDER BY count(*) DESC LIMIT 1")
    n_other = scalar(engine, f"SELECT count(*) AS n FROM orders WHERE status = '{other}'")
    page = html(client.get("/admin/orders/?status=paid&per_page=2"))
    assert 'name="all" value="1"' in page and 'action="/admin/orders/action?status=paid&amp;per_page=2"' in page
    data = {"action": "mark_paid", "all": "1", "csrf_token": token(client)}
    confirm = client.post(f"/admin/orders/action?status={other}", data=data)
    assert confirm.status_code == 200 and f"Mark {n_other} orders as paid?" in html(confirm)
    assert 'name="all" value="1"' in html(confirm)
    done = client.post(f"/admin/orders/action?status={other}", data={**data, "confirmed": "1"})
    assert done.status_code == 303
    assert scalar(engine, f"SELECT count(*) AS n FROM orders WHERE status = '{other}'") == 0
    assert scalar(engine, "SELECT count(*) AS n FROM orders WHERE status = 'paid'") == n_paid + n_other


def test_bulk_delete_of_all_matching_respects_the_scope(site):
    client = client_for(site, "support")
    _, _, engine = site
    outside = scalar(engine, "SELECT count(*) AS n FROM tickets WHERE account_id IN (SELECT id FROM accounts WHERE region <> 'eu')")
    data = {"action": "delete", "all": "1", "confirmed": "1", "csrf_token": token(client)}
    assert client.post("/admin/tickets/action", data=data).status_code == 303
    assert scalar(engine, "SELECT count(*) AS n FROM tickets") == outside  # only in-scope rows went


def test_a_write_between_reading_and_updating_is_caught(site):
    """The row is read again inside the save's transaction and compared with the form's
    snapshot: here the write lands between them (from a hook), and the save is refused."""
    app, _, engine = site
    admin = app.extensions["hyper_admin"]["hyper_admin"].admin
    order_admin = admin.registry["orders"]

    def sneaky(values, obj, is_created):
        with engine as tx:
            tx.execute(SQL("UPDATE orders SET total = 4321 WHERE id =", SQL.Param(obj.id)))

    order_admin.on_model_change = sneaky
    client = client_for(site, "support")
    order = first_id(engine, "orders", "status <> 'cancelled'")
    data = form_data(html(client.get(f"/admin/orders/{order}/edit")))
    data["status"] = "cancelled"
    response = client.post(f"/admin/orders/{order}/edit", data=data)
    assert response.status_code == 409
    assert scalar(engine, f"SELECT status AS v FROM orders WHERE id = {order}") != "cancelled"


def test_a_long_bulk_delete_streams_its_progress(site, monkeypatch):
    """More rows than a batch: the confirm form posts without htmx and asks for the progress
    page, which shows each batch as it is done, then the outcome; one transaction."""
    from hyper_admin.views import bulk

    monkeypatch.setattr(bulk, "BATCH", 4)
    client = client_for(site, "support")
    _, _, engine = site
    with engine as tx:
        ids = [r["id"] for r in tx.fetchall("SELECT id FROM ticket_comments ORDER BY id LIMIT 10")]
    data = {"action": "delete", "pk": [str(i) for i in ids], "csrf_token": token(client)}
    confirm = html(client.post("/admin/ticket_comments/action", data=data))
    assert 'hx-boost="false"' in confirm and 'name="progress" value="1"' in confirm
    response = client.post("/admin/ticket_comments/action",
                           data={**data, "confirmed": "1", "progress": "1"})
    assert response.status_code == 200 and response.is_streamed
    assert response.headers["X-Accel-Buffering"] == "no"
    chunks = list(response.response)  # as the server sent them
    page = "".join(c.decode() if isinstance(c, bytes) else c for c in chunks)
    steps = re.findall(r'<progress [^>]*value="(\d+)" max="10">', page)
    assert steps == ["4", "8", "10"]
    assert "10 ticket comments deleted." in page and "alert-success" in page
    assert page.rstrip().endswith("</html>")
    assert scalar(engine, f"SELECT count(*) AS n FROM ticket_comments WHERE id IN ({','.join(map(str, ids))})") == 0


def test_a_refused_long_bulk_delete_changes_nothing(site, monkeypatch):
    from hyper_admin.views import bulk

    monkeypatch.setattr(bulk, "BATCH", 2)
    client = client_for(site, "admin")
    _, _, engine = site
    # Accounts with orders: the database refuses to delete them (foreign keys), whichever batch.
    with engine as tx:
        ids = [r["id"] for r in tx.fetchall(
            "SELECT id FROM accounts WHERE id IN (SELECT account_id FROM orders) ORDER BY id LIMIT 5")]
    data = {"action": "delete", "pk": [str(i) for i in ids], "confirmed": "1", "progress": "1",
            "csrf_token": token(client)}
    page = html(client.post("/admin/accounts/action", data=data))
    assert "Nothing was changed." in page and "alert-error" in page
    assert scalar(engine, f"SELECT count(*) AS n FROM accounts WHERE id IN ({','.join(map(str, ids))})") == 5


def test_a_batched_action_runs_per_batch_in_one_transaction(site, monkeypatch):
    from hyper_admin.options import action
    from hyper_admin.views import bulk

    monkeypatch.setattr(bulk, "BATCH", 3)
    app, _, engine = site
    admin = app.extensions["hyper_admin"]["hyper_admin"].admin
    order_admin = admin.registry["orders"]
    calls = []

    @action("Tag", permission="change", batch_size=3)
    def tag(self, objects, user):
        calls.append(len(objects))
        with engine as tx:
            for order in objects:
                tx.execute(SQL("UPDATE orders SET currency = 'XTS' WHERE id =", SQL.Param(order.id)))
        return f"Tagged a batch of {len(objects)}."

    monkeypatch.setattr(order_admin, "actions", [*order_admin.actions, tag])
    client = client_for(site, "support")
    with engine as tx:
        ids = [r["id"] for r in tx.fetchall("SELECT id FROM orders ORDER BY id LIMIT 7")]
    page = html(client.post("/admin/orders/action", data={
        "action": "tag", "pk": [str(i) for i in ids], "confirmed": "1", "progress": "1",
        "csrf_token": token(client)}))
    assert calls == [3, 3, 1]
    assert re.findall(r'value="(\d+)" max="7"', page) == ["3", "6", "7"]
    assert "Tagged a batch of 1." in page
    assert scalar(engine, "SELECT count(*) AS n FROM orders WHERE currency = 'XTS'") == 7


def test_delete_summary_says_what_the_database_will_do_and_it_does(site):
    """The delete page reads each foreign key's ON DELETE rule from the schema: an order's
    lines go with it (CASCADE), its tickets stay with no order (SET NULL); an account with
    orders cannot be deleted (RESTRICT), and the page says so before anyone tries."""
    client = client_for(site, "admin")
    _, _, engine = site
    order = first_id(engine, "orders", "id IN (SELECT order_id FROM order_lines) AND "
                                       "id IN (SELECT order_id FROM tickets)")
    lines = scalar(engine, f"SELECT count(*) AS n FROM order_lines WHERE order_id = {order}")
    tickets = [r for r in (scalar(engine, f"SELECT count(*) AS n FROM tickets WHERE order_id = {order}"),)][0]
    page = html(client.get(f"/admin/orders/{order}/delete"))
    rules = dict(re.findall(r'data-reach-rule="([^"]+)">\s*<span class="font-medium">(\d+)', page))
    assert rules == {"cascade": str(lines), "set null": str(tickets)}
    assert "deleted with it" in page and "their reference cleared" in page and "disabled" not in page
    total_tickets = scalar(engine, "SELECT count(*) AS n FROM tickets")
    assert client.post(f"/admin/orders/{order}/delete",
                       data={"csrf_token": token(client)}).status_code == 303
    assert scalar(engine, f"SELECT count(*) AS n FROM order_lines WHERE order_id = {order}") == 0
    assert scalar(engine, f"SELECT count(*) AS n FROM tickets WHERE order_id = {order}") == 0
    assert scalar(engine, "SELECT count(*) AS n FROM tickets") == total_tickets

    account = first_id(engine, "accounts", "id IN (SELECT account_id FROM orders)")
    page = html(client.get(f"/admin/accounts/{account}/delete"))
    assert 'data-reach-rule="block"' in page and "cannot be deleted while these rows refer to it" in page
    assert re.search(r'<button type="submit" class="btn btn-error btn-sm" disabled', page)
    # The bulk delete confirmation shows the same summary for the selection.
    confirm = html(client.post("/admin/accounts/action", data={
        "action": "delete", "pk": [str(account)], "csrf_token": token(client)}))
    assert 'data-reach-rule="block"' in confirm and "disabled" in confirm


def test_a_version_field_catches_changes_the_form_does_not_show(site, monkeypatch):
    """ModelAdmin.version_field: the form carries the row's version and the UPDATE checks and
    moves it, so another writer that changed a column outside the form (and moved the
    version, as the application does) is caught; a save moves the version on."""
    app, _, engine = site
    order_admin = app.extensions["hyper_admin"]["hyper_admin"].admin.registry["orders"]
    monkeypatch.setattr(order_admin, "version_field", "updated_at")
    monkeypatch.setattr(order_admin, "exclude", ["shipped_at", "updated_at"])
    client = client_for(site, "support")
    order = first_id(engine, "orders", "status <> 'cancelled'")
    data = form_data(html(client.get(f"/admin/orders/{order}/edit")))
    assert "shipped_at" not in data and "updated_at" not in data
    with engine as tx:  # the application ships it, and moves the version
        tx.execute(SQL("UPDATE orders SET shipped_at = created_at, updated_at = ",
                       SQL.Param("2099-01-01 00:00:00"), "WHERE id =", SQL.Param(order)))
    data["status"] = "cancelled"
    assert client.post(f"/admin/orders/{order}/edit", data=data).status_code == 409
    assert scalar(engine, f"SELECT status AS v FROM orders WHERE id = {order}") != "cancelled"
    # From a fresh form the save goes through and moves the version past the one it read.
    data = form_data(html(client.get(f"/admin/orders/{order}/edit")))
    data["status"] = "cancelled"
    assert client.post(f"/admin/orders/{order}/edit", data=data).status_code == 303
    assert str(scalar(engine, f"SELECT updated_at AS v FROM orders WHERE id = {order}")) > "2099-01-01 00:00:00"


def test_version_field_must_be_a_counter_or_a_timestamp():
    from hyper_admin import Admin, ModelAdmin
    from hyper_admin.demo.models import Order

    class Bad(ModelAdmin):
        version_field = "reference"

    with pytest.raises(TypeError, match="version_field"):
        Admin().register(Order, Bad)

    from hyper_admin.introspect import model_info
    from hyper_admin.changes import next_version

    counter = next(c for c in model_info(Order).columns if c.name == "id")
    assert next_version(counter, 41) == 42 and next_version(counter, None) == 1


def test_a_bulk_action_leaves_out_rows_changed_since_the_list_showed_them(site):
    """The edit form's rule for selections: each checkbox carries a token of the values the
    list showed; a row someone changed since is left out, and the confirmation says so."""
    client = client_for(site, "support")
    _, _, engine = site
    page = html(client.get("/admin/orders/?total__gte=0&per_page=3&sort=id"))
    posted = re.findall(r'name="pk" value="([^"]+)"', page)
    assert len(posted) == 3 and all("!" in p for p in posted)
    ids = [int(p.split("!")[0]) for p in posted]
    with engine as tx:
        tx.execute(SQL("UPDATE orders SET status = 'pending' WHERE id =", SQL.Param(ids[1])))
    before = "pending"
    page = html(client.get("/admin/orders/?total__gte=0&per_page=3&sort=id"))
    posted = re.findall(r'name="pk" value="([^"]+)"', page)
    with engine as tx:  # someone changes the second one's total meanwhile
        tx.execute(SQL("UPDATE orders SET total = total + 1 WHERE id =", SQL.Param(ids[1])))
    url = "/admin/orders/action?total__gte=0&per_page=3&sort=id"
    data = {"action": "mark_paid", "pk": posted, "confirmed": "1", "csrf_token": token(client)}
    confirm = html(client.post(url, data=data))  # confirmed, but asks again: the selection changed
    assert "1 of the selected rows changed since the list was shown" in confirm
    again = re.findall(r'name="pk" value="([^"]+)"', confirm)
    assert [int(p.split("!")[0]) for p in again] == [ids[0], ids[2]]
    assert client.post(url, data={**data, "pk": again}).status_code == 303
    statuses = {i: scalar(engine, f"SELECT status AS v FROM orders WHERE id = {i}") for i in ids}
    assert statuses[ids[0]] == statuses[ids[2]] == "paid" and statuses[ids[1]] == before
    # All changed: nothing done.
    with engine as tx:
        tx.execute(SQL("UPDATE orders SET total = total + 1 WHERE id =", SQL.Param(ids[1])))
    response = client.post(url, data={**data, "pk": [posted[1]]})
    assert response.status_code == 303
    assert "nothing was done" in html(client.get(response.headers["Location"]))
    assert scalar(engine, f"SELECT status AS v FROM orders WHERE id = {ids[1]}") == before
