"""`next` on add forms (as Django's): after saving, go to a page of this admin the form names;
htmx posts into an element of the page get that element's new content."""

import json

import pytest

from apps import create_app, create_schema, csrf_from, members

ADD = "/admin/customers/new"
FIELDS = {"name": "Ada", "email": "ada@example.com"}


@pytest.fixture
def client(engine):
    create_schema(engine)
    app, _admin = create_app(engine)
    from hyper_admin.testing import AdminClient

    return AdminClient(app).login_as(members(engine)["root"])


def add(client, next_value=None, *, where="query", headers=None, **fields):
    data = {**FIELDS, **fields, "csrf_token": client.csrf_token()}
    url = ADD
    if next_value is not None and where == "query":
        from urllib.parse import quote

        url += "?next=" + quote(next_value, safe="")
    elif next_value is not None:
        data["next"] = next_value
    return client.client.post(url, data=data, headers=headers or {})


@pytest.mark.parametrize("where", ["query", "form"])
def test_a_saved_form_goes_to_next(client, where):
    response = add(client, "/admin/customers/?q=ada", where=where)
    assert response.status_code == 303
    assert response.headers["Location"] == "/admin/customers/?q=ada"


@pytest.mark.parametrize("target", [
    "https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)",
    "/elsewhere/", "/administrator/", "/admin/../elsewhere/", "/admin/%2e%2e/elsewhere/",
    "/admin/./customers/", "admin/customers/", ""])
def test_next_must_be_a_path_of_this_admin(client, target):
    response = add(client, target)
    assert response.status_code == 303
    location = response.headers["Location"]
    assert location.startswith("/admin/customers/") and location.endswith("/")
    assert location != "/admin/customers/"  # the new row's page, as without next


def test_with_htmx_next_is_a_navigation_of_the_main_area(client):
    response = add(client, "/admin/customers/", headers={"HX-Request": "true", "HX-Target": "main"})
    assert response.status_code == 200
    assert json.loads(response.headers["HX-Location"])["path"] == "/admin/customers/"


def test_an_htmx_form_inside_an_element_gets_that_elements_new_content(client):
    headers = {"HX-Request": "true", "HX-Target": "panel-notes",
               "HX-Current-URL": "http://localhost/admin/invoices/"}
    response = add(client, "/admin/customers/?q=ada", headers=headers)
    # A redirect the XHR follows (htmx swaps its answer where the form said), no navigation,
    # and no toast left waiting for a later page.
    assert response.status_code == 303 and "HX-Location" not in response.headers
    assert response.headers["Location"] == "/admin/customers/?q=ada"
    with client.client.session_transaction() as session:
        assert not session.get("_flashes")


def test_an_htmx_form_inside_an_element_that_fails_becomes_the_page(client):
    headers = {"HX-Request": "true", "HX-Target": "panel-notes",
               "HX-Current-URL": "http://localhost/admin/invoices/"}
    response = add(client, "/admin/customers/?q=ada", headers=headers, name="")
    assert response.status_code == 422
    # The form with its errors takes the main area, at its own URL (never a whole form page
    # inside the element); once saved, it goes back to the page it was sent from.
    assert response.headers["HX-Retarget"] == "#main"
    assert response.headers["HX-Reswap"].startswith("outerHTML")
    assert response.headers["HX-Push-Url"] == "/admin/customers/new?next=/admin/invoices/"
    assert 'action="/admin/customers/new?next=/admin/invoices/"' in response.get_data(as_text=True)


def test_a_form_aimed_at_the_main_area_is_answered_as_before(client):
    response = add(client, "/admin/invoices/", headers={"HX-Request": "true", "HX-Target": "main"},
                   name="")
    assert response.status_code == 422 and "HX-Retarget" not in response.headers


def test_the_add_form_keeps_next_and_cancel_goes_there(client):
    page = client.get(ADD + "?next=/admin/invoices/").get_data(as_text=True)
    assert 'action="/admin/customers/new?next=/admin/invoices/"' in page
    assert 'href="/admin/invoices/"' in page  # Cancel
    invalid = add(client, "/admin/invoices/", name="")
    assert invalid.status_code == 422
    page = invalid.get_data(as_text=True)
    assert 'action="/admin/customers/new?next=/admin/invoices/"' in page  # kept after an error
    fixed = client.client.post("/admin/customers/new?next=/admin/invoices/",
                               data={**FIELDS, "csrf_token": csrf_from(page)})
    assert fixed.status_code == 303 and fixed.headers["Location"] == "/admin/invoices/"
    page = client.get(ADD + "?next=https://evil.example/").get_data(as_text=True)
    assert 'action="/admin/customers/new"' in page and "evil.example" not in page
