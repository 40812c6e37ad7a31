"""The command palette's endpoint (GET /admin/-/palette) and the confirmation dialogs, on
SQLite and PostgreSQL, over the demo schema (tests/crud_app.py: viewer, support scoped to EU
tickets, admin the superuser)."""

import re

import pytest
from sqlorm import SQL

from apps import as_user, csrf_from
from crud_app import create_app, staff
from demo_db import seeded_engine
from hyper_admin.demo.models import StaffUser
from hyper_admin.sql import QueryTimeout
from hyper_admin.views import palette

HTMX = {"HX-Request": "true", "HX-Target": "palette-results"}


@pytest.fixture
def site(request, backend):
    with seeded_engine(request) as engine:
        app, admin = create_app(engine)
        yield app, admin, staff(engine), engine


def ask(client, q="", **headers):
    response = client.get("/admin/-/palette", query_string={"q": q}, headers={**HTMX, **headers})
    return response.status_code, response.get_data(as_text=True)


def hrefs(page):
    return re.findall(r'href="(/admin/[^"]*)"', page)


def groups(page):
    return re.findall(r'id="palette-group-\d+" role="presentation"[^>]*>([^<]+)<', page)


def execute(engine, sql, *params):
    with engine as tx:
        tx.execute(SQL(sql, *[SQL.Param(p) for p in params]))


def scalar(engine, sql):
    with engine as tx:
        return tx.fetchscalar(sql)


def test_models_are_those_the_user_may_view(site):
    app, _, people, _ = site
    status, page = ask(as_user(app, people["viewer"]))
    assert status == 200
    assert "/admin/tickets/" in hrefs(page) and "/admin/orders/" in hrefs(page)
    # contacts, order lines, comments and staff users are not the viewer's
    for slug in ("contacts", "order_lines", "ticket_comments", "staff_users"):
        assert f"/admin/{slug}/" not in page
    _, page = ask(as_user(app, people["admin"]))
    assert "/admin/staff_users/" in hrefs(page)
    # q filters the models by every word of it
    _, page = ask(as_user(app, people["viewer"]), "ord")
    assert "/admin/orders/" in hrefs(page) and "/admin/tickets/" not in hrefs(page)


def test_rows_of_a_model_the_user_may_not_view_never_appear(site):
    app, _, people, engine = site
    contact = scalar(engine, "SELECT min(id) FROM contacts")
    execute(engine, "UPDATE contacts SET name = 'Quixotic Quill' WHERE id =", contact)
    _, page = ask(as_user(app, people["viewer"]), "quixotic")
    assert f"/admin/contacts/{contact}/" not in page and "Quixotic" not in page
    _, page = ask(as_user(app, people["support"]), "quixotic")
    assert f"/admin/contacts/{contact}/" in hrefs(page)


def test_rows_outside_the_scope_never_appear(site):
    app, _, people, engine = site
    outside = scalar(engine, "SELECT min(t.id) FROM tickets t JOIN accounts a ON a.id = t.account_id "
                             "WHERE a.region <> 'eu'")
    inside = scalar(engine, "SELECT min(t.id) FROM tickets t JOIN accounts a ON a.id = t.account_id "
                            "WHERE a.region = 'eu'")
    execute(engine, "UPDATE tickets SET subject = 'Zebra crossing outside' WHERE id =", outside)
    execute(engine, "UPDATE tickets SET subject = 'Zebra crossing inside' WHERE id =", inside)
    status, page = ask(as_user(app, people["support"]), "zebra crossing")
    assert status == 200
    assert f"/admin/tickets/{inside}/" in hrefs(page)
    assert f"/admin/tickets/{outside}/" not in page and "outside" not in page
    # The superuser has no scope: both.
    _, page = ask(as_user(app, people["admin"]), "zebra crossing")
    assert {f"/admin/tickets/{inside}/", f"/admin/tickets/{outside}/"} <= set(hrefs(page))


def test_secret_columns_are_never_searched_nor_shown(site):
    app, admin, people, engine = site
    # Even a ModelAdmin naming the secret column in search_fields and list_display: the list
    # searches it (the ModelAdmin asked for it), the palette does not.
    admin.register(StaffUser, list_display=["username", "password_hash"],
                   search_fields=["username", "password_hash"])
    execute(engine, "UPDATE staff_users SET password_hash = 'pbkdf2:zzhashzz' WHERE username = 'kenji'")
    superuser = as_user(app, people["admin"])
    kenji = people["kenji"].id
    assert f"/admin/staff_users/{kenji}/" in superuser.get("/admin/staff_users/?q=zzhashzz").get_data(as_text=True)
    _, page = ask(superuser, "zzhashzz")
    assert f"/admin/staff_users/{kenji}/" not in page and "zzhashzz" not in page.replace("zzhashzz”", "")
    _, page = ask(superuser, "kenji")
    assert f"/admin/staff_users/{kenji}/" in hrefs(page) and "pbkdf2" not in page


@pytest.mark.parametrize("q", ["%", "_", "\\", "'; DROP TABLE tickets; --", "ORD-%", "=", "^", "^x",
                               "=ORD-000001", "ü😀\u202e", " " * 5, "a" * 200, "<script>alert(1)</script>",
                               "1 OR 1=1", "NULL"])
def test_junk_queries_answer_200_and_escape(site, q):
    app, _, people, _ = site
    status, page = ask(as_user(app, people["support"]), q)
    assert status == 200
    assert "<script>alert" not in page


@pytest.mark.parametrize("q", ["a" * 201, "abc\x00def"])
@pytest.mark.reads_only
def test_too_long_or_nul_queries_answer_400(site, q):
    app, _, people, _ = site
    assert ask(as_user(app, people["support"]), q)[0] == 400


def test_rows_are_limited_per_model_with_a_link_to_the_list(site):
    app, _, people, _ = site
    client = as_user(app, people["support"])
    _, page = ask(client, "o")  # one character: models only, no row search
    assert not re.search(r"/admin/orders/\d+/", page)
    _, page = ask(client, "ORD-")
    orders = set(re.findall(r'href="/admin/orders/(\d+)/"', page))
    assert len(orders) == palette.ROWS_PER_MODEL
    assert 'href="/admin/orders/?q=ORD-"' in page  # "All orders matching": more than five


def test_a_model_whose_search_runs_too_long_says_so(site, monkeypatch):
    app, _, people, _ = site
    real = palette.select_list

    def slow_orders(engine, dialect, spec, *args, **kwargs):
        if spec.info.table == "orders":
            raise QueryTimeout("canceling statement due to statement timeout")
        return real(engine, dialect, spec, *args, **kwargs)

    monkeypatch.setattr(palette, "select_list", slow_orders)
    status, page = ask(as_user(app, people["support"]), "ORD-")
    assert status == 200
    assert "took too long" in page
    assert 'href="/admin/orders/?q=ORD-"' in page


def test_recent_rows_are_the_users_own_changes(site):
    app, _, people, engine = site
    support = as_user(app, people["support"])
    account = scalar(engine, "SELECT min(id) FROM accounts")
    page = support.get(f"/admin/accounts/{account}/edit").get_data(as_text=True)
    from apps import form_data

    data = form_data(page)
    data["name"] = "Renamed Recently"
    assert support.post(f"/admin/accounts/{account}/edit", data=data).status_code == 303
    _, page = ask(support)
    assert "Recently changed by you" in groups(page)
    assert f'href="/admin/accounts/{account}/"' in page and "Renamed Recently" in page
    _, page = ask(support, "renamed")
    assert f'href="/admin/accounts/{account}/"' in page
    _, page = ask(support, "nothing like it")
    assert "Recently changed by you" not in groups(page)
    # Someone else's change is not the viewer's "recent".
    _, page = ask(as_user(app, people["viewer"]))
    assert "Recently changed by you" not in groups(page)


def test_saved_views_mine_and_shared_of_models_i_may_view(site):
    app, _, people, _ = site
    support = as_user(app, people["support"])
    token = csrf_from(support.get("/admin/").get_data(as_text=True))
    for name, query, shared in (("Open tickets", "status=open", ""), ("Urgent tickets", "priority=urgent", "1")):
        assert support.post("/admin/tickets/views", data={
            "name": name, "query": query, "shared": shared, "csrf_token": token}).status_code == 303
    _, page = ask(support, "tickets")
    assert "Saved views" in groups(page)
    assert 'href="/admin/tickets/?status=open"' in page and 'href="/admin/tickets/?priority=urgent"' in page
    _, page = ask(as_user(app, people["viewer"]), "tickets")
    assert "status=open" not in page  # not shared
    assert 'href="/admin/tickets/?priority=urgent"' in page and "shared by" in page


def test_fragment_for_the_palette_page_otherwise(site):
    app, _, people, _ = site
    client = as_user(app, people["support"])
    status, fragment = ask(client, "acc")
    assert status == 200 and "<main" not in fragment
    assert 'role="listbox"' in fragment and 'role="option"' in fragment
    page = client.get("/admin/-/palette?q=acc").get_data(as_text=True)
    assert "<main" in page and 'role="option"' not in page and 'href="/admin/accounts/"' in page
    # Never cached, like every admin page.
    assert client.get("/admin/-/palette").headers["Cache-Control"] == "no-store"


def test_signed_out_and_no_access(site):
    app, _, _, engine = site
    assert app.test_client().get("/admin/-/palette?q=a").status_code == 401
    with engine as tx:
        tx.execute(SQL("INSERT INTO staff_users (username, name, email, roles_csv, password_hash, "
                       "is_active) VALUES ('nobody', 'No Body', 'nb@example.com', '', '!',",
                       SQL.Param(True), ")"))
    nobody = staff(engine)["nobody"]
    assert as_user(app, nobody).get("/admin/-/palette?q=a").status_code == 403


# --- confirmations in a <dialog> --------------------------------------------------------------


@pytest.mark.reads_only
def test_delete_confirmation_goes_into_the_dialog_for_htmx_and_is_a_page_otherwise(site):
    app, _, people, engine = site
    client = as_user(app, people["support"])
    ticket = scalar(engine, "SELECT min(t.id) FROM tickets t JOIN accounts a ON a.id = t.account_id "
                            "WHERE a.region = 'eu'")
    url = f"/admin/tickets/{ticket}/delete"
    response = client.get(url, headers={"HX-Request": "true", "HX-Target": "main"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert response.headers["HX-Retarget"] == "#confirm-dialog-body"
    assert response.headers["HX-Reswap"] == "innerHTML"
    assert response.headers["HX-Push-Url"] == "false"
    assert "<main" not in body and 'id="confirm-dialog-title"' in body
    assert "data-close-dialog autofocus>Cancel" in body and "Yes, delete" in body
    page = client.get(url)
    text = page.get_data(as_text=True)
    assert "HX-Retarget" not in page.headers and "<main" in text
    assert f'href="/admin/tickets/{ticket}/" class="btn btn-ghost btn-sm">Cancel' in text


def test_bulk_confirmation_goes_into_the_dialog_for_htmx(site):
    app, _, people, engine = site
    client = as_user(app, people["support"])
    token = csrf_from(client.get("/admin/orders/").get_data(as_text=True))
    order = scalar(engine, "SELECT min(id) FROM orders")
    response = client.post("/admin/orders/action", data={"action": "mark_paid", "pk": str(order),
                                                         "csrf_token": token},
                           headers={"HX-Request": "true", "HX-Target": "main"})
    assert response.status_code == 200
    assert response.headers["HX-Retarget"] == "#confirm-dialog-body"
    assert 'name="confirmed" value="1"' in response.get_data(as_text=True)


def _group_hrefs(page, label):
    """The hrefs of one group of the palette's results."""
    found = re.search(r'role="presentation"[^>]*>' + re.escape(label) + r"<(.*?)(?:palette-group-|\Z)",
                      page, re.S)
    return [h for h in re.findall(r'href="(/admin/[^"]*)"', found.group(1)) if "/static/" not in h] if found else []


def test_recently_visited_rows_newest_first_once_each(site):
    app, _, people, engine = site
    client = as_user(app, people["support"])
    orders = [r for r in scalar_rows(engine, "SELECT id FROM orders ORDER BY id LIMIT 3")]
    assert ask(client)[1].count("Recently visited") == 0  # nothing opened yet
    for pk in (orders[0], orders[1], orders[0], orders[2]):
        assert client.get(f"/admin/orders/{pk}/").status_code == 200
    _, page = ask(client)
    assert groups(page)[0] == "Recently visited"
    assert _group_hrefs(page, "Recently visited") == [
        f"/admin/orders/{orders[2]}/", f"/admin/orders/{orders[0]}/", f"/admin/orders/{orders[1]}/"]
    # q narrows them like everything else in the palette (by label or model)
    label = re.search(rf'href="/admin/orders/{orders[1]}/"[^>]*>.*?truncate">([^<]+)<', page, re.S).group(1)
    _, page = ask(client, label)
    assert _group_hrefs(page, "Recently visited") == [f"/admin/orders/{orders[1]}/"]
    # they are the user's own (kept in their session, which sign-out clears)
    other = as_user(app, people["viewer"])
    assert "Recently visited" not in ask(other)[1]


def test_recently_visited_rows_are_checked_again_when_shown(site):
    """A visited row leaves the list once it leaves the user's scope, or is deleted."""
    app, _, people, engine = site
    client = as_user(app, people["support"])
    eu = scalar(engine, "SELECT t.id FROM tickets t JOIN accounts a ON a.id = t.account_id "
                        "WHERE a.region = 'eu' ORDER BY t.id LIMIT 1")
    assert client.get(f"/admin/tickets/{eu}/").status_code == 200
    assert _group_hrefs(ask(client)[1], "Recently visited") == [f"/admin/tickets/{eu}/"]
    other = scalar(engine, "SELECT id FROM accounts WHERE region <> 'eu' ORDER BY id LIMIT 1")
    with engine as tx:
        tx.execute(SQL("UPDATE tickets SET account_id =", SQL.Param(other), "WHERE id =", SQL.Param(eu)))
    assert "Recently visited" not in ask(client)[1]


def scalar_rows(engine, sql):
    with engine as tx:
        return [row["id"] for row in tx.fetchall(sql)]
