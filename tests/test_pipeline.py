"""The request pipeline (CONTRACT §2, §4), on SQLite and PostgreSQL."""

from __future__ import annotations

import re

import pytest

from apps import as_user, create_app, create_schema, csrf_from, members
from hyper_admin.pipeline import safe_next


@pytest.fixture
def site(engine):
    create_schema(engine)
    app, admin = create_app(engine)
    return app, members(engine)


def test_anonymous_page_request_goes_to_login_with_next(site):
    app, _ = site
    response = app.test_client().get("/admin/?q=a%20b")
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/login?next=/admin/?q%3Da%2520b"


def test_anonymous_htmx_request_gets_hx_redirect_and_no_data(site):
    app, _ = site
    response = app.test_client().get(
        "/admin/", headers={"HX-Request": "true", "HX-Current-URL": "http://localhost/admin/"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"] == "/admin/login?next=/admin/"
    assert response.get_data() == b""


def test_anonymous_post_goes_to_login_before_csrf(site):
    app, _ = site
    response = app.test_client().post("/admin/logout")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/admin/login")


def test_unknown_admin_url_needs_sign_in_before_it_is_a_404(site):
    app, people = site
    assert app.test_client().get("/admin/no-such-model/").status_code == 302
    response = as_user(app, people["root"]).get("/admin/no-such-model/")
    assert response.status_code == 404
    assert "Not found" in response.get_data(as_text=True)


def test_user_without_access_role_gets_403_everywhere(site):
    app, people = site
    client = as_user(app, people["nobody"])
    for url in ("/admin/", "/admin/customers/", "/admin/anything"):
        response = client.get(url)
        assert response.status_code == 403, url
        body = response.get_data(as_text=True)
        assert "Not allowed" in body
        assert "Customers" not in body  # no navigation for someone without access


def test_access_roles_and_superuser_roles(engine):
    create_schema(engine)
    app, _ = create_app(engine, access_roles={"support", "viewer"})
    people = members(engine)
    assert as_user(app, people["agent"]).get("/admin/").status_code == 200
    assert as_user(app, people["reader"]).get("/admin/").status_code == 200
    # superusers always get in, even when access_roles does not name them
    assert as_user(app, people["root"]).get("/admin/").status_code == 200
    assert as_user(app, people["nobody"]).get("/admin/").status_code == 403


def test_roles_loader_and_role_objects(engine):
    create_schema(engine)

    class Role:
        def __init__(self, name):
            self.name = name

    app, _ = create_app(engine, roles_loader=lambda user: [Role("boss")] if user.username == "agent" else [],
                        access_roles={"boss"}, superuser_roles={"boss"})
    people = members(engine)
    assert as_user(app, people["agent"]).get("/admin/").status_code == 200
    assert as_user(app, people["root"]).get("/admin/").status_code == 403


def test_security_headers_and_vary_on_every_response(site):
    app, people = site
    client = as_user(app, people["root"])
    for response in (client.get("/admin/"), client.get("/admin/nope"),
                     app.test_client().get("/admin/login"), client.post("/admin/logout")):
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
        assert "HX-Request" in response.headers["Vary"]
        assert response.headers["Cache-Control"] == "no-store"


def test_fragment_for_htmx_full_page_otherwise(site):
    app, people = site
    client = as_user(app, people["root"])
    full = client.get("/admin/").get_data(as_text=True)
    fragment = client.get("/admin/", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" in full and '<main id="main"' in full
    assert "<html" not in fragment and '<main id="main"' in fragment
    assert len(fragment) < len(full)
    restore = client.get("/admin/", headers={"HX-Request": "true",
                                            "HX-History-Restore-Request": "true"})
    assert "<html" in restore.get_data(as_text=True)


def test_page_carries_csrf_meta_and_post_without_token_is_400(site):
    app, people = site
    client = as_user(app, people["root"])
    page = client.get("/admin/").get_data(as_text=True)
    token = csrf_from(page)
    assert client.post("/admin/logout").status_code == 400
    assert client.post("/admin/logout", data={"csrf_token": "forged"}).status_code == 400
    assert client.get("/admin/").status_code == 200  # still signed in: nothing changed
    response = client.post("/admin/logout", headers={"X-CSRFToken": token})
    assert response.status_code == 303
    assert client.get("/admin/").status_code == 302  # signed out


def test_csrf_token_of_another_session_is_refused(site):
    app, people = site
    other = as_user(app, people["agent"])
    token = csrf_from(other.get("/admin/").get_data(as_text=True))
    client = as_user(app, people["root"])
    assert client.post("/admin/logout", data={"csrf_token": token}).status_code == 400


def test_htmx_logout_uses_hx_redirect(site):
    app, people = site
    client = as_user(app, people["root"])
    token = csrf_from(client.get("/admin/").get_data(as_text=True))
    response = client.post("/admin/logout", headers={"X-CSRFToken": token, "HX-Request": "true"})
    assert response.headers["HX-Redirect"] == "/admin/login"


def test_get_of_logout_changes_nothing(site):
    app, people = site
    client = as_user(app, people["root"])
    assert client.get("/admin/logout").status_code in (404, 405)
    assert client.get("/admin/").status_code == 200


def test_app_login_view_is_used_without_authenticate(engine):
    create_schema(engine)
    app, _ = create_app(engine, authenticate=False)

    @app.route("/accounts/login")
    def app_login():
        return "app login"

    app.login_manager.login_view = "app_login"
    response = app.test_client().get("/admin/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/accounts/login?next=")
    assert app.test_client().get("/admin/login").status_code == 404


def test_no_login_view_at_all_gives_401_page(engine):
    create_schema(engine)
    app, _ = create_app(engine, authenticate=False)
    response = app.test_client().get("/admin/")
    assert response.status_code == 401
    assert "Sign in through the application" in response.get_data(as_text=True)


def test_missing_login_manager_is_a_clear_error(engine):
    from flask import Flask

    from hyper_admin import Admin

    app = Flask(__name__)
    app.config.update(SECRET_KEY="x", TESTING=True)
    Admin(app, engine=engine)
    with pytest.raises(RuntimeError, match="needs flask-login"):
        app.test_client().get("/admin/")


@pytest.mark.parametrize("target, safe", [
    ("/admin/orders/?q=1", True),
    ("/admin/", True),
    ("//evil.example/", False),
    ("/\\evil.example", False),
    ("\\\\evil.example", False),
    ("https://evil.example/admin/", False),
    ("javascript:alert(1)", False),
    ("/admin/\r\nLocation: x", False),
    ("", False),
    (None, False),
    ("admin/", False),
    ("/" + "a" * 5000, False),
])
def test_safe_next(target, safe):
    assert safe_next(target) == (target if safe else None)


def test_static_assets_are_served_and_versioned(site):
    app, people = site
    client = app.test_client()
    page = as_user(app, people["root"]).get("/admin/").get_data(as_text=True)
    urls = re.findall(r'(?:href|src)="(/admin/static/[^"#]+)', page)
    assert any("admin.css" in u for u in urls) and any("htmx" in u for u in urls)
    for url in urls:
        response = client.get(url.replace("&amp;", "&"))
        assert response.status_code == 200, url
        assert "immutable" in response.headers["Cache-Control"]
        assert response.headers["X-Content-Type-Options"] == "nosniff"
