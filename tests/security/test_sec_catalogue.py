"""The attack catalogue (issue 7), first part: one test per attack, on SQLite and PostgreSQL,
each asserting the exact safe outcome — the status, that nothing changed, that nothing leaked.
docs/security.md lists them with what each proves.

The site is the CRUD test app over the demo schema: support agents (scoped to EU tickets),
viewers (read only), superusers.
"""

import re

import pytest
from sqlorm import SQL

from apps import as_user, csrf_from, form_data
from crud_app import create_app, seeded, staff

XSS = '<img src=x onerror=alert(1)>"\'</script>'


@pytest.fixture
def site(engine):
    seeded(engine, rows=20)
    app, admin = create_app(engine)
    return app, staff(engine), engine


def one(engine, sql, *params):
    with engine as tx:
        return tx.fetchscalar(SQL(sql, *[SQL.Param(p) for p in params]) if params else sql)


def row(engine, table, key):
    with engine as tx:
        return dict(tx.fetchone(SQL(f"SELECT * FROM {table} WHERE id =", SQL.Param(key))))


def token(client, url="/admin/"):
    return csrf_from(client.get(url).get_data(as_text=True))


def out_of_scope_ticket(engine):
    return one(engine, "SELECT min(id) AS v FROM tickets WHERE account_id IN "
                       "(SELECT id FROM accounts WHERE region <> 'eu')")


# --- authentication ------------------------------------------------------------------------------


@pytest.fixture
def login_app(engine):
    """The small app with the built-in sign-in page (apps.py)."""
    from apps import create_app as create_login_app, create_schema

    create_schema(engine)
    return create_login_app(engine)[0]


def test_A01_no_session_is_sent_to_sign_in(login_app):
    response = login_app.test_client().get("/admin/customers/?q=x")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/admin/login?next=")
    htmx = login_app.test_client().get("/admin/customers/", headers={"HX-Request": "true"})
    assert htmx.status_code == 401 and htmx.headers["HX-Redirect"].startswith("/admin/login")
    # Without a sign-in page (an app using its own login elsewhere), still no data: 401.
    assert login_app.test_client().post("/admin/customers/action").status_code in (302, 401)


def test_A02_session_of_a_deleted_user_is_anonymous(site):
    app, people, engine = site
    client = as_user(app, people["viewer"])
    with engine as tx:
        tx.execute(SQL("DELETE FROM staff_users WHERE id =", SQL.Param(people["viewer"].id)))
    assert client.get("/admin/orders/").status_code in (302, 401)


def test_A03_role_removed_mid_session_is_refused_at_once(site):
    app, people, engine = site
    client = as_user(app, people["support"])
    assert client.get("/admin/orders/").status_code == 200
    with engine as tx:
        tx.execute(SQL("UPDATE staff_users SET roles_csv = '' WHERE id =", SQL.Param(people["support"].id)))
    assert client.get("/admin/orders/").status_code == 403


# --- authorisation -------------------------------------------------------------------------------


def test_B01_viewer_cannot_edit(site):
    app, people, engine = site
    viewer = as_user(app, people["viewer"])
    order = one(engine, "SELECT min(id) AS v FROM orders")
    before = row(engine, "orders", order)
    response = viewer.post(f"/admin/orders/{order}/edit",
                           data={"status": "cancelled", "csrf_token": token(viewer)})
    assert response.status_code == 403 and row(engine, "orders", order) == before


@pytest.mark.parametrize("suffix", ["/", "/edit", "/delete", "/history", "/history/1/revert"])
def test_B02_out_of_scope_row_is_404_on_every_screen(site, suffix):
    app, people, engine = site
    ticket = out_of_scope_ticket(engine)
    assert as_user(app, people["support"]).get(f"/admin/tickets/{ticket}{suffix}").status_code == 404


def test_B03_out_of_scope_rows_are_absent_from_lookup_export_and_list(site):
    app, people, engine = site
    support = as_user(app, people["support"])
    ticket = out_of_scope_ticket(engine)
    for url in ("/admin/tickets/?per_page=500", "/admin/tickets/lookup?q=",
                "/admin/tickets/export?format=csv", f"/admin/tickets/?q=%3D{ticket}"):
        body = support.get(url).get_data(as_text=True)
        assert not re.search(rf'(?<![\d]){ticket}(?![\d])', body.split("</nav>")[-1]), url


def test_B04_bulk_all_matching_stays_in_scope(site):
    app, people, engine = site
    support = as_user(app, people["support"])
    outside = one(engine, "SELECT count(*) AS v FROM tickets WHERE account_id IN "
                          "(SELECT id FROM accounts WHERE region <> 'eu')")
    assert support.post("/admin/tickets/action", data={
        "action": "delete", "all": "1", "confirmed": "1", "csrf_token": token(support)}).status_code == 303
    assert one(engine, "SELECT count(*) AS v FROM tickets") == outside


def test_B05_out_of_scope_key_in_a_bulk_selection_is_ignored(site):
    app, people, engine = site
    support = as_user(app, people["support"])
    ticket = out_of_scope_ticket(engine)
    response = support.post("/admin/tickets/action", data={
        "action": "delete", "pk": str(ticket), "confirmed": "1", "csrf_token": token(support)})
    assert response.status_code == 404 and one(engine, "SELECT count(*) AS v FROM tickets WHERE id = %d" % ticket) == 1


def test_B06_unregistered_model_is_404(site):
    app, people, _ = site
    admin = as_user(app, people["admin"])
    for url in ("/admin/pg_user/", "/admin/sqlite_master/", "/admin/hyper_admin_saved_views/"):
        assert admin.get(url).status_code == 404


def test_B07_a_readonly_field_posted_is_not_written(site):
    app, people, engine = site
    support = as_user(app, people["support"])
    order = one(engine, "SELECT min(id) AS v FROM orders")
    before = row(engine, "orders", order)
    data = form_data(support.get(f"/admin/orders/{order}/edit").get_data(as_text=True))
    data.update({"created_at": "1999-01-01T00:00", "id": "999999"})
    support.post(f"/admin/orders/{order}/edit", data=data)
    after = row(engine, "orders", order)
    assert after["created_at"] == before["created_at"] and after["id"] == order


def test_B08_the_audit_list_is_read_only_and_closed_to_agents(site):
    app, people, _ = site
    support = as_user(app, people["support"])
    assert support.get("/admin/audit/").status_code == 403
    assert support.get("/admin/audit/export?format=csv").status_code == 403


def test_B09_revert_needs_change_permission(site):
    app, people, engine = site
    viewer = as_user(app, people["viewer"])
    order = one(engine, "SELECT min(id) AS v FROM orders")
    assert viewer.post(f"/admin/orders/{order}/history/1/revert",
                       data={"csrf_token": token(viewer)}).status_code == 403
    # The contract's order: a row that is not there is 404 before "not granted" is 403.
    assert viewer.get("/admin/orders/999999/history/1/revert").status_code == 404


# --- CSRF ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("csrf", [None, "forged", "other-session"])
def test_C01_a_post_without_a_valid_token_changes_nothing(site, csrf):
    app, people, engine = site
    support = as_user(app, people["support"])
    if csrf == "other-session":
        csrf = token(as_user(app, people["admin"]))
    ticket = one(engine, "SELECT min(id) AS v FROM tickets WHERE account_id IN "
                         "(SELECT id FROM accounts WHERE region = 'eu')")
    data = {"action": "delete", "pk": str(ticket), "confirmed": "1"}
    if csrf:
        data["csrf_token"] = csrf
    assert support.post("/admin/tickets/action", data=data).status_code == 400
    assert one(engine, "SELECT count(*) AS v FROM tickets WHERE id = %d" % ticket) == 1


def test_C02_writes_are_never_reached_by_get(site):
    app, people, engine = site
    admin = as_user(app, people["admin"])
    ticket = one(engine, "SELECT min(id) AS v FROM tickets")
    assert admin.get(f"/admin/tickets/action?action=delete&pk={ticket}&confirmed=1").status_code in (404, 405)
    assert admin.get("/admin/logout").status_code in (404, 405)
    assert admin.get(f"/admin/tickets/{ticket}/delete?confirmed=1").status_code == 200  # asks
    assert one(engine, "SELECT count(*) AS v FROM tickets WHERE id = %d" % ticket) == 1
    assert as_user(app, people["admin"]).get("/admin/").status_code == 200  # still signed in


# --- injection -----------------------------------------------------------------------------------


@pytest.mark.parametrize("query", [
    "sort=id;DROP TABLE orders", "sort=password_hash", "sort=(select 1)", "status%22--=1",
    "1=1", "total__gte=1 OR 1=1", "after=Wzk5OV0.forged", "before=%00", "per_page=abc",
    "columns=id,password_hash", "count=1;", "account_id=1 OR 1=1", "q=%00",
    "status__in=" + ",".join(str(i) for i in range(2000)),
])
def test_D01_hostile_query_strings_are_400_and_the_table_survives(site, query):
    app, people, engine = site
    response = as_user(app, people["admin"]).get(f"/admin/orders/?{query}")
    assert response.status_code == 400
    assert one(engine, "SELECT count(*) AS v FROM orders") == 20


@pytest.mark.parametrize("q", ["' OR '1'='1", "%", "_", "\\", "'; DROP TABLE orders; --", "=%", "^_"])
def test_D02_search_text_is_a_value_never_sql_nor_a_wildcard(site, q):
    app, people, engine = site
    response = as_user(app, people["admin"]).get("/admin/orders/", query_string={"q": q})
    assert response.status_code == 200
    assert 'name="pk"' not in response.get_data(as_text=True)  # matches nothing
    assert one(engine, "SELECT count(*) AS v FROM orders") == 20


def test_D03_huge_per_page_is_clamped(site):
    app, people, _ = site
    page = as_user(app, people["admin"]).get(f"/admin/orders/?per_page={10**9}").get_data(as_text=True)
    assert page.count('name="pk"') == 20  # every row, no error


@pytest.mark.parametrize("pk", ["1 OR 1=1", "1;DELETE FROM orders", "%00", "../1", "1,2", "9" * 400])
def test_D04_a_hostile_key_is_404(site, pk):
    app, people, engine = site
    from urllib.parse import quote

    assert as_user(app, people["admin"]).get(f"/admin/orders/{quote(pk, safe='')}/").status_code == 404
    assert one(engine, "SELECT count(*) AS v FROM orders") == 20


def test_D05_a_large_form_post_is_refused_or_harmless(site):
    app, people, engine = site
    support = as_user(app, people["support"])
    order = one(engine, "SELECT min(id) AS v FROM orders")
    before = row(engine, "orders", order)
    response = support.post(f"/admin/orders/{order}/edit",
                            data={"csrf_token": token(support), "reference": "x" * 10_000_000})
    assert response.status_code in (400, 413, 422)
    assert row(engine, "orders", order) == before


# --- output --------------------------------------------------------------------------------------


def test_E01_stored_xss_is_escaped_everywhere_it_is_shown(site):
    app, people, engine = site
    admin = as_user(app, people["admin"])
    account = one(engine, "SELECT min(account_id) AS v FROM orders")
    order = one(engine, "SELECT min(id) AS v FROM orders WHERE account_id = %d" % account)
    with engine as tx:
        tx.execute(SQL("UPDATE accounts SET name =", SQL.Param(XSS), "WHERE id =", SQL.Param(account)))
    # An edit through the admin puts the value into the trail and a toast too.
    data = form_data(admin.get(f"/admin/accounts/{account}/edit").get_data(as_text=True))
    data["name"] = XSS + "2"
    saved = admin.post(f"/admin/accounts/{account}/edit", data=data)
    assert saved.status_code == 303
    urls = ["/admin/orders/", f"/admin/orders/{order}/", f"/admin/orders/{order}/edit",
            f"/admin/accounts/{account}/", f"/admin/accounts/{account}/history", "/admin/",
            "/admin/audit/", f"/admin/accounts/lookup?q=img", "/admin/orders/?account_id=%d" % account,
            saved.headers["Location"]]
    for url in urls:
        body = admin.get(url).get_data(as_text=True)
        assert "<img src=x" not in body, url
        assert "</script>\"" not in body and "onerror=alert(1)>" not in body.replace("&gt;", ""), url


def test_E02_javascript_and_data_urls_are_never_links(site):
    app, people, engine = site
    account = one(engine, "SELECT min(id) AS v FROM accounts")
    with engine as tx:
        tx.execute(SQL("UPDATE accounts SET notes =", SQL.Param("javascript:alert(1)"),
                       ", email =", SQL.Param("data:text/html,<b>x</b>"), "WHERE id =", SQL.Param(account)))
    admin = as_user(app, people["admin"])
    for url in (f"/admin/accounts/{account}/", "/admin/accounts/"):
        body = admin.get(url).get_data(as_text=True)
        assert 'href="javascript:' not in body and 'href="data:' not in body


def test_E03_export_cells_cannot_run_as_formulas(site):
    app, people, engine = site
    order = one(engine, "SELECT min(id) AS v FROM orders")
    with engine as tx:
        tx.execute(SQL("UPDATE orders SET reference = '=cmd|calc' WHERE id =", SQL.Param(order)))
    body = as_user(app, people["support"]).get("/admin/orders/export?format=csv").get_data(as_text=True)
    assert "'=cmd|calc" in body and "\n=cmd" not in body and ",=cmd" not in body


def test_E04_export_filename_is_ours(site):
    app, people, _ = site
    response = as_user(app, people["support"]).get('/admin/orders/export?format=csv&q=%22%0d%0aX-Evil:%201')
    assert response.headers["Content-Disposition"] == 'attachment; filename="orders.csv"'
    assert "X-Evil" not in response.headers


# --- redirects -----------------------------------------------------------------------------------


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "\\\\evil.example",
                                    "/\\evil.example", "javascript:alert(1)", "http:evil.example",
                                    "%2F%2Fevil.example", "/admin/\r\nLocation: http://evil.example"])
def test_F01_sign_in_never_redirects_off_site(login_app, target):
    from apps import login

    client = login_app.test_client()
    response = login(client, "root", next_url=target)
    assert response.status_code in (302, 303)
    location = response.headers["Location"]
    assert "evil" not in location and location.startswith("/") and not location.startswith(("//", "/\\"))


# --- information leaks ---------------------------------------------------------------------------


def test_G01_secret_columns_are_in_no_response_nor_export(site):
    app, people, engine = site
    admin = as_user(app, people["admin"])
    with engine as tx:
        hashes = [r["h"] for r in tx.fetchall("SELECT password_hash AS h FROM staff_users")
                  if r["h"] and len(r["h"]) > 20]
    assert hashes
    for url in ("/admin/staff_users/", f"/admin/staff_users/{people['admin'].id}/",
                f"/admin/staff_users/{people['admin'].id}/edit", "/admin/staff_users/export?format=csv",
                "/admin/staff_users/export?format=json", "/admin/staff_users/?sort=password_hash"):
        body = admin.get(url).get_data(as_text=True)
        assert "password_hash" not in body or url.endswith("sort=password_hash"), url
        for h in hashes:
            assert h not in body, url


def test_G02_errors_show_no_traceback_nor_sql(site):
    app, people, _ = site
    app.config["PROPAGATE_EXCEPTIONS"] = False
    admin = as_user(app, people["admin"])
    for url in ("/admin/orders/?sort=nope", "/admin/orders/abc/", "/admin/nothing/"):
        body = admin.get(url).get_data(as_text=True)
        assert "Traceback" not in body and "SELECT" not in body and "sqlite3" not in body
