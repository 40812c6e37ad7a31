"""The signed-in user's password page, /admin/password (issue 19, item 5): present only with
``Admin(change_password=fn)``; the admin checks the form, the application changes the
password. Its attacks (signed out, CSRF, guessing the current password) are in
tests/security/test_password_page_security.py."""

import pytest
from sqlorm import SQL
from werkzeug.security import check_password_hash, generate_password_hash

from apps import PASSWORD_HASH_METHOD, PEOPLE, create_app, create_schema, csrf_from, login, members
from hyper_admin.testing import AdminClient

URL = "/admin/password"


def password_hook(engine, calls: list):
    """An application's hook: the member's own hash, checked and replaced."""
    from apps import Member

    def change_password(user, old_password, new_password):
        calls.append((user.username, old_password, new_password))
        if new_password == "password123":
            return "That password is too common."
        with engine:
            row = Member.get(user.id)
        if not check_password_hash(row.password_hash, old_password):
            return False
        with engine as tx:
            tx.execute(SQL("UPDATE members SET password_hash =",
                           SQL.Param(generate_password_hash(new_password, PASSWORD_HASH_METHOD)),
                           "WHERE id =", SQL.Param(user.id)))
        return True
    return change_password


@pytest.fixture
def site(engine):
    create_schema(engine)
    calls: list = []
    app, _admin = create_app(engine, change_password=password_hook(engine, calls),
                             access_roles={"admin", "support"})
    return app, engine, calls


def signed_in(site, who="agent") -> AdminClient:
    return AdminClient(site[0]).login_as(members(site[1])[who])


def change(c: AdminClient, old, new, again=None):
    return c.post(URL, {"old_password": old, "new_password": new,
                        "new_password_confirm": new if again is None else again})


def test_the_page_has_the_three_fields_and_the_user_menu_links_it(site):
    c = signed_in(site)
    html = c.get(URL).get_data(as_text=True)
    for name in ("old_password", "new_password", "new_password_confirm", "csrf_token"):
        assert f'name="{name}"' in html
    assert 'type="password"' in html and 'autocomplete="new-password"' in html
    assert f'href="{URL}"' in c.get("/admin/").get_data(as_text=True)


def test_a_user_changes_their_password_and_signs_in_with_the_new_one(site):
    app, engine, calls = site
    c = signed_in(site)
    response = change(c, PEOPLE["agent"][1], "a much better one")
    assert response.status_code == 303 and response.headers["Location"] == "/admin/"
    assert calls == [("agent", PEOPLE["agent"][1], "a much better one")]
    assert "Your password was changed." in c.get("/admin/").get_data(as_text=True)
    fresh = app.test_client()
    assert login(fresh, "agent", "a much better one").status_code == 303
    assert login(app.test_client(), "agent", PEOPLE["agent"][1]).status_code == 401


def test_a_wrong_current_password_is_an_error_on_its_field(site):
    c = signed_in(site)
    response = change(c, "not it", "a much better one")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "This is not your current password." in html
    assert "not it" not in html and "a much better one" not in html  # never echoed


@pytest.mark.parametrize("old, new, again, message", [
    ("", "long enough 1", None, "Enter your current password."),
    ("agent-pass", "short", None, "Use at least 8 characters."),
    ("agent-pass", "long enough 1", "long enough 2", "The two new passwords differ."),
    ("agent-pass", "agent-pass", None, "Choose a password other than your current one."),
])
def test_the_form_is_checked_before_the_application_is_asked(site, old, new, again, message):
    c = signed_in(site)
    response = change(c, old, new, again)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert site[2] == []


def test_the_hook_may_refuse_the_new_password_with_a_message(site):
    response = change(signed_in(site), "agent-pass", "password123")
    assert response.status_code == 422
    assert "That password is too common." in response.get_data(as_text=True)


def test_the_minimum_length_is_a_setting(engine):
    create_schema(engine)
    calls: list = []
    app, _admin = create_app(engine, change_password=password_hook(engine, calls),
                             password_min_length=12, access_roles={"admin", "support"})
    c = AdminClient(app).login_as(members(engine)["agent"])
    assert "Use at least 12 characters." in change(c, "agent-pass", "elevenchars").get_data(
        as_text=True)
    assert change(c, "agent-pass", "twelve chars").status_code == 303


def test_without_the_hook_there_is_no_page_and_no_link(engine):
    create_schema(engine)
    app, _admin = create_app(engine, access_roles={"admin", "support"})
    c = AdminClient(app).login_as(members(engine)["agent"])
    assert c.get(URL).status_code == 404
    assert change(c, "agent-pass", "a much better one").status_code == 404
    assert URL not in c.get("/admin/").get_data(as_text=True)


def test_the_session_is_renewed_after_a_change(site):
    app, engine, _calls = site
    client = app.test_client()
    login(client, "agent")
    page = client.get(URL).get_data(as_text=True)
    with client.session_transaction() as session:
        session["planted"] = "x"
    client.post(URL, data={"old_password": "agent-pass", "new_password": "a much better one",
                           "new_password_confirm": "a much better one",
                           "csrf_token": csrf_from(page)})
    with client.session_transaction() as session:
        assert "planted" not in session and session.get("_user_id")


def test_the_demo_staff_change_their_password(db_url, tmp_path, monkeypatch, request):
    """The demo's hook writes the new hash through the write service: History has it, the
    hash itself redacted."""
    from hyper_admin.demo.app import create_app as create_demo
    from hyper_admin.demo.models import StaffUser
    from hyper_admin.passwords import verify_password

    if db_url.startswith("sqlite"):
        app = create_demo(str(tmp_path / "demo.db"), rows=5)
    else:
        schema, _ = request.getfixturevalue("pg_schema")
        monkeypatch.setenv("DEMO_PG_SCHEMA", schema)
        from pg import PG_URL

        app = create_demo(PG_URL, rows=5)
    app.config["TESTING"] = True
    engine = app.extensions["hyper_admin_demo"]["engine"]
    try:
        with engine:
            staff = {u.username: u for u in StaffUser.find_all().all()}
        agent = next(u for u in staff.values() if u.password_hash != "!" and u.is_active)
        from hyper_admin.demo.seed import STAFF

        old = next(p for name, p, *_rest in STAFF if name == agent.username)
        c = AdminClient(app).login_as(agent)
        assert change(c, "wrong password", "brand new secret").status_code == 422
        assert change(c, old, "brand new secret").status_code == 303
        with engine:
            saved = StaffUser.get(agent.id)
        assert verify_password(saved.password_hash, "brand new secret")
        history = c.get(f"/admin/staff_users/{agent.id}/history").get_data(as_text=True)
        assert saved.password_hash not in history and "brand new secret" not in history
        with engine as tx:
            actions = [r["action"] for r in tx.fetchall(SQL(
                "SELECT action FROM hyper_admin_audit WHERE model_slug = 'staff_users' AND pk =",
                SQL.Param(str(agent.id))))]
        assert actions == ["update"]
    finally:
        engine.disconnect_all()
