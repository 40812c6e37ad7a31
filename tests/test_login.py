"""The built-in sign-in page (CONTRACT §2), on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlorm import SQL

from apps import as_user, create_app, create_schema, csrf_from, login, members
from redis_service import empty_redis_database


@pytest.fixture
def app(engine):
    create_schema(engine)
    return create_app(engine, login_max_failures=3)[0]


def test_login_page_has_the_contract_fields(app):
    html = app.test_client().get("/admin/login?next=/admin/x").get_data(as_text=True)
    for name in ("username", "password", "csrf_token", "next"):
        assert f'name="{name}"' in html
    assert 'value="/admin/x"' in html


def test_sign_in_follows_a_local_next(app):
    client = app.test_client()
    response = login(client, "root", next_url="/admin/?q=1")
    assert response.status_code == 303
    assert response.headers["Location"] == "/admin/?q=1"
    assert client.get("/admin/").status_code == 200


@pytest.mark.parametrize("target", [
    "https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:alert(1)",
    "http:/evil.example",
])
def test_sign_in_never_redirects_off_site(app, target):
    response = login(app.test_client(), "root", next_url=target)
    assert response.status_code == 303
    assert response.headers["Location"] == "/admin/"


def test_wrong_password_and_unknown_user_answer_alike(app):
    wrong = login(app.test_client(), "root", "nope")
    unknown = login(app.test_client(), "ghost", "nope")
    assert wrong.status_code == unknown.status_code == 401
    assert "Invalid username or password" in wrong.get_data(as_text=True)
    assert "Invalid username or password" in unknown.get_data(as_text=True)


def test_post_without_csrf_is_400_and_signs_nobody_in(app):
    client = app.test_client()
    response = client.post("/admin/login", data={"username": "root", "password": "root-pass"})
    assert response.status_code == 400
    assert client.get("/admin/").status_code == 302


def test_session_is_renewed_on_sign_in(app):
    client = app.test_client()
    with client.session_transaction() as sess:
        sess["planted"] = "by an attacker"
    login(client, "root")
    with client.session_transaction() as sess:
        assert "planted" not in sess
        assert sess["_user_id"]


def test_inactive_user_cannot_sign_in(engine, app):
    with engine as tx:
        tx.execute(SQL("UPDATE members SET active =", SQL.Param(False),
                       "WHERE username =", SQL.Param("agent")))
    assert login(app.test_client(), "agent").status_code == 401


def test_throttled_after_repeated_failures(app):
    client = app.test_client()
    for _ in range(3):
        assert login(client, "root", "bad").status_code == 401
    blocked = login(client, "root")  # even the right password waits
    assert blocked.status_code == 429
    assert int(blocked.headers["Retry-After"]) > 0
    assert "Too many failed attempts" in blocked.get_data(as_text=True)
    # another account from the same address is not blocked by root's failures alone
    assert login(app.test_client(), "agent").status_code == 303


def test_signed_in_user_visiting_login_goes_to_next(app, engine):
    client = as_user(app, members(engine)["root"])
    response = client.get("/admin/login?next=/admin/somewhere")
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/somewhere"


def test_user_label_and_escaping_on_dashboard(app, engine):
    with engine as tx:
        tx.execute("UPDATE members SET display_name = '<script>alert(1)</script>' "
                   "WHERE username = 'root'")
    html = as_user(app, members(engine)["root"]).get("/admin/").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_empty_fields_are_422(app):
    client = app.test_client()
    token = csrf_from(client.get("/admin/login").get_data(as_text=True))
    response = client.post("/admin/login", data={"username": "", "password": "",
                                                 "csrf_token": token})
    assert response.status_code == 422


REDIS_URL = "redis://127.0.0.1:6379/13"


@pytest.fixture
def redis_db():
    with empty_redis_database(REDIS_URL) as url:
        yield url


def test_throttling_is_shared_by_every_worker_through_redis(engine, redis_db):
    """Two apps stand for two workers: with a Redis storage, failures counted by one block the
    account on the other (with the default memory storage each would count its own)."""
    create_schema(engine)
    worker_a = create_app(engine, login_max_failures=3, login_storage_uri=redis_db)[0]
    worker_b = create_app(engine, login_max_failures=3, login_storage_uri=redis_db)[0]
    assert login(worker_a.test_client(), "root", "bad").status_code == 401
    assert login(worker_b.test_client(), "root", "bad").status_code == 401
    assert login(worker_a.test_client(), "root", "bad").status_code == 401
    assert login(worker_b.test_client(), "root").status_code == 429  # the third failure was on A
    # Memory storage: per worker.
    solo_a = create_app(engine, login_max_failures=3)[0]
    solo_b = create_app(engine, login_max_failures=3)[0]
    for _ in range(3):
        assert login(solo_a.test_client(), "agent", "bad").status_code == 401
    assert login(solo_a.test_client(), "agent").status_code == 429
    assert login(solo_b.test_client(), "agent").status_code == 303
