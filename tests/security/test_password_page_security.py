"""Attacks on the password page, /admin/password (issue 19): ids A07, A08, A09 and C04 of
docs/security.md. The page changes a password through the application's hook; every attack
must leave the hook uncalled."""

import json

import pytest

from apps import PEOPLE, create_app, create_schema, csrf_from, login, members

URL = "/admin/password"
NEW = "a much better one"


@pytest.fixture
def site(engine):
    create_schema(engine)
    calls: list = []

    def change_password(user, old_password, new_password):
        calls.append(user.username)
        return old_password == PEOPLE[user.username][1]

    app, _admin = create_app(engine, change_password=change_password,
                             access_roles={"admin", "support"}, login_max_failures=3)
    return app, engine, calls


def signed_in(app, who="agent"):
    client = app.test_client()
    assert login(client, who).status_code == 303
    return client, csrf_from(client.get(URL).get_data(as_text=True))


def post(client, token, old, new=NEW, **headers):
    data = {"old_password": old, "new_password": new, "new_password_confirm": new}
    if token is not None:
        data["csrf_token"] = token
    return client.post(URL, data=data, headers=headers)


def test_A07_the_password_page_signed_out_sends_to_sign_in(site):
    app, _engine, calls = site
    client = app.test_client()
    page = client.get(URL)
    assert page.status_code == 302 and "/admin/login" in page.headers["Location"]
    htmx = client.get(URL, headers={"HX-Request": "true"})
    assert htmx.status_code == 401 and "/admin/login" in htmx.headers["HX-Redirect"]
    posted = client.post(URL, data={"old_password": "agent-pass", "new_password": NEW,
                                    "new_password_confirm": NEW})
    assert posted.status_code == 302 and calls == []


def test_A08_guessing_the_current_password_is_throttled_per_user(site):
    app, _engine, calls = site
    client, token = signed_in(app)
    for guess in ("guess-1", "guess-2", "guess-3"):
        assert post(client, token, guess).status_code == 422
    blocked = post(client, token, PEOPLE["agent"][1])  # even the right one now
    assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) > 0
    assert calls == ["agent"] * 3
    # Counted apart from sign-in: the account still signs in; another user is not blocked.
    assert login(app.test_client(), "agent").status_code == 303
    root, root_token = signed_in(app, "root")
    assert post(root, root_token, PEOPLE["root"][1]).status_code == 303


@pytest.mark.parametrize("csrf", [None, "forged", "other-session"])
def test_C04_the_password_page_refuses_a_post_without_its_token(site, csrf):
    app, _engine, calls = site
    client, token = signed_in(app)
    if csrf == "forged":
        token = token[:-4] + "AAAA"
    elif csrf == "other-session":
        _other, token = signed_in(app, "root")
    elif csrf is None:
        token = None
    response = post(client, token, PEOPLE["agent"][1])
    assert response.status_code == 400 and calls == []
    header = client.post(URL, data={"old_password": PEOPLE["agent"][1], "new_password": NEW,
                                    "new_password_confirm": NEW},
                         headers={"X-CSRFToken": token or "", "HX-Request": "true"})
    assert header.status_code == 400 and calls == []


def test_A09_without_the_hook_the_page_does_not_exist(engine):
    create_schema(engine)
    app, _admin = create_app(engine, access_roles={"admin", "support"})
    client = app.test_client()
    login(client, "agent")
    token = csrf_from(client.get("/admin/").get_data(as_text=True))
    assert client.get(URL).status_code == 404
    assert post(client, token, PEOPLE["agent"][1]).status_code == 404
    assert URL not in client.get("/admin/").get_data(as_text=True)
    assert members(engine)["agent"].password_hash  # nothing else to change: the admin stores none


def test_A07_the_page_never_echoes_a_password(site):
    app, _engine, _calls = site
    client, token = signed_in(app)
    for old, new, again in (("wrong-one!", NEW, NEW), (PEOPLE["agent"][1], NEW, NEW + "x"),
                            (PEOPLE["agent"][1], "short", "short")):
        html = client.post(URL, data={"old_password": old, "new_password": new,
                                      "new_password_confirm": again,
                                      "csrf_token": token}).get_data(as_text=True)
        for secret in (old, new, again):
            assert f'value="{secret}"' not in html and json.dumps(secret)[1:-1] not in html.split(
                "<main", 1)[1].split("</main>", 1)[0]
