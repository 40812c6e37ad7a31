"""A form saved after the session expired (issue 16, item 10), on SQLite and PostgreSQL.

Sign-in must lead back to the page the user was on, with its whole query string: for htmx,
the page in the address bar (where static/keep_input.js restores the unsent input, tested in
e2e/test_session_expiry_browser.py); for a full-page POST of a form, that form (a GET of the
same URL), never a replay of the POST."""

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from apps import Customer, as_user, create_app, create_schema, csrf_from, login, members

LIST_WITH_QUERY = "/admin/customers/?q=a%20b&sort=-name&per_page=5&email__contains=%40x.org"


@pytest.fixture
def site(engine):
    create_schema(engine)
    app, _admin = create_app(engine, register=False)
    _admin.register(Customer, permissions={"view": {"support"}})  # root, a superuser, edits
    with engine:
        customer = Customer.create(name="Ada", email="ada@x.org")
    return app, members(engine), engine, customer.id


def next_of(url: str) -> str:
    values = parse_qs(urlsplit(url).query).get("next")
    assert values, f"no next in {url}"
    return values[0]


def name_of(engine, customer_id) -> str:
    with engine as tx:
        return tx.fetchscalar(f"SELECT name AS v FROM customers WHERE id = {int(customer_id)}")


@pytest.mark.parametrize("origin", [
    "http://localhost",       # the test client's own host
    "http://localhost:80",    # the same site, default port spelled out
    "https://admin.example.com",  # behind a proxy that passes its upstream's Host on
])
def test_htmx_401_next_keeps_the_whole_query_string(site, origin):
    app, _people, _engine, _customer = site
    response = app.test_client().get(
        "/admin/customers/?q=a%20b&sort=-name&per_page=5&email__contains=%40x.org&after=x",
        headers={"HX-Request": "true", "HX-Current-URL": origin + LIST_WITH_QUERY})
    assert response.status_code == 401 and response.get_data() == b""
    assert next_of(response.headers["HX-Redirect"]) == LIST_WITH_QUERY


def test_htmx_save_after_expiry_changes_nothing_and_comes_back_to_the_form(site):
    app, _people, engine, customer = site
    form_page = f"/admin/customers/{customer}/edit?next=%2Fadmin%2Fcustomers%2F%3Fq%3Da%26sort%3Dname"
    response = app.test_client().post(
        f"/admin/customers/{customer}/edit", data={"name": "Changed", "email": "ada@x.org"},
        headers={"HX-Request": "true", "HX-Current-URL": "http://localhost" + form_page})
    assert response.status_code == 401
    assert next_of(response.headers["HX-Redirect"]) == form_page
    assert name_of(engine, customer) == "Ada"


@pytest.mark.parametrize("current", [
    "http://localhost//evil.example/admin/",  # a path browsers read as another host
    "javascript:alert(1)",
    "http://[::1",                             # not even a URL
    "",
])
def test_htmx_401_from_a_page_that_is_no_path_of_this_site_goes_to_the_dashboard(site, current):
    app, _people, _engine, _customer = site
    response = app.test_client().get(
        "/admin/customers/", headers={"HX-Request": "true", "HX-Current-URL": current})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"] == "/admin/login?next=/admin/"


def test_a_query_string_too_long_for_sign_in_still_leads_back_to_its_page(site):
    app, _people, _engine, _customer = site
    long_list = "/admin/customers/?" + "&".join(f"id={n}" for n in range(1, 600))
    assert len(long_list) > 2048  # beyond what sign-in follows (safe_next)
    client = app.test_client()
    page = client.get(long_list)
    assert next_of(page.headers["Location"]) == "/admin/customers/"
    htmx = client.get("/admin/customers/count", headers={
        "HX-Request": "true", "HX-Current-URL": "http://localhost" + long_list})
    assert next_of(htmx.headers["HX-Redirect"]) == "/admin/customers/"


def test_plain_post_of_a_form_after_expiry_comes_back_to_that_form(site):
    app, _people, engine, customer = site
    client = app.test_client()  # no session: it expired
    for url in (f"/admin/customers/{customer}/edit",
                f"/admin/customers/{customer}/edit?next=%2Fadmin%2Fcustomers%2F%3Fq%3Da",
                "/admin/customers/new?name=Preset&email=p%40x.org",
                f"/admin/customers/{customer}/delete"):
        response = client.post(url, data={"name": "Changed", "email": "x@x.org"})
        assert response.status_code == 302, url
        assert next_of(response.headers["Location"]) == url
    assert name_of(engine, customer) == "Ada"
    with engine as tx:
        assert tx.fetchscalar("SELECT count(*) AS n FROM customers") == 1


def test_plain_post_that_is_no_form_page_is_never_replayed_after_sign_in(site):
    app, _people, _engine, _customer = site
    client = app.test_client()
    for url in ("/admin/customers/action?q=a", "/admin/logout"):
        response = client.post(url, data={"action": "delete", "pk": "1"})
        assert response.status_code == 302, url
        assert next_of(response.headers["Location"]) == "/admin/", url


def test_signing_in_again_leads_to_the_form_with_a_fresh_token_that_saves(site):
    app, people, engine, customer = site
    form_page = f"/admin/customers/{customer}/edit"
    old_page = as_user(app, people["root"]).get(form_page).get_data(as_text=True)
    old_token = csrf_from(old_page)

    browser = app.test_client()  # the same user, whose session has expired meanwhile
    refused = browser.post(form_page, data={"name": "Typed", "email": "ada@x.org",
                                            "csrf_token": old_token},
                           headers={"HX-Request": "true", "HX-Current-URL": "http://localhost" + form_page})
    assert refused.status_code == 401
    signed_in = login(browser, "root", next_url=next_of(refused.headers["HX-Redirect"]))
    assert signed_in.status_code == 303 and signed_in.headers["Location"] == form_page

    page = browser.get(form_page).get_data(as_text=True)
    # What keep_input.js needs: the form posting to the URL its draft is keyed by, the notice.
    assert re.search(rf'<form method="post" action="{re.escape(form_page)}"[^>]*data-warn-unsaved', page)
    assert re.search(r'<script src="/admin/static/keep_input\.js\?v=[^"]+" defer>', page)
    assert 'id="input-restored"' in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert token != old_token
    version = re.search(r'name="_version" value="([^"]+)"', page).group(1)
    saved = browser.post(form_page, data={"name": "Typed", "email": "ada@x.org",
                                          "csrf_token": token, "_version": version})
    assert saved.status_code == 303
    assert name_of(engine, customer) == "Typed"


def test_an_apps_own_login_view_gets_the_same_next(engine):
    create_schema(engine)
    app, admin = create_app(engine, authenticate=False, register=False)
    admin.register(Customer, permissions={"view": {"support"}})

    @app.route("/accounts/login")
    def app_login():
        return "app login"

    app.login_manager.login_view = "app_login"
    client = app.test_client()
    posted = client.post("/admin/customers/7/edit?next=%2Fadmin%2F", data={"name": "x"})
    assert posted.status_code == 302 and posted.headers["Location"].startswith("/accounts/login?")
    assert next_of(posted.headers["Location"]) == "/admin/customers/7/edit?next=%2Fadmin%2F"
    htmx = client.post("/admin/customers/7/edit", data={"name": "x"},
                       headers={"HX-Request": "true", "HX-Current-URL": "http://localhost" + LIST_WITH_QUERY})
    assert htmx.status_code == 401
    assert next_of(htmx.headers["HX-Redirect"]) == LIST_WITH_QUERY
