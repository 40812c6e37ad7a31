"""Sign-in protection (issue 7): the session cookie's flags (A06) and the time a failed sign-in
takes, which must not tell whether the username exists (G05). docs/security.md lists both.

The timing test runs the demo's own ``authenticate`` (the one users copy from the tutorial)
through the built-in sign-in page, on SQLite and PostgreSQL.
"""

import statistics
import time

import pytest
from flask import Flask
from flask.sessions import SessionInterface
from sqlorm import SQL
from werkzeug.security import check_password_hash, generate_password_hash

from apps import create_app, create_schema, csrf_from, login
from hyper_admin import verify_password
from hyper_admin.pipeline import LoginThrottle


# --- A06: cookie flags ---------------------------------------------------------------------------


@pytest.fixture
def login_app(engine):
    create_schema(engine)
    return create_app(engine)[0]


def session_cookie(response) -> str:
    cookies = [v for v in response.headers.getlist("Set-Cookie") if v.startswith("session=")]
    assert cookies, "the sign-in set no session cookie"
    return cookies[-1]


def flags(cookie: str) -> set[str]:
    return {part.strip().lower() for part in cookie.split(";")[1:]}


def test_A06_session_cookie_is_httponly_and_samesite_lax_over_http(login_app):
    response = login(login_app.test_client(), "root")
    assert response.status_code == 303
    cookie = flags(session_cookie(response))
    assert "httponly" in cookie and "samesite=lax" in cookie
    assert "secure" not in cookie  # a development server on plain HTTP keeps its session


def test_A06_session_cookie_is_secure_over_https(login_app):
    client = login_app.test_client()
    page = client.get("/admin/login", base_url="https://admin.example")
    response = client.post("/admin/login", base_url="https://admin.example", data={
        "username": "root", "password": "root-pass",
        "csrf_token": csrf_from(page.get_data(as_text=True))})
    assert response.status_code == 303
    cookie = flags(session_cookie(response))
    assert {"secure", "httponly", "samesite=lax"} <= cookie


def test_A06_the_application_s_own_choices_are_kept(engine):
    create_schema(engine)
    app, _ = create_app(engine, config={"SESSION_COOKIE_SAMESITE": "Strict"})
    cookie = flags(session_cookie(login(app.test_client(), "root")))
    assert "samesite=strict" in cookie and "samesite=lax" not in cookie

    class ServerSide(SessionInterface):  # an app's own sessions (Flask-Session, say)
        pass

    own = Flask(__name__)
    own.session_interface = ServerSide()
    from hyper_admin.cookies import harden_session_cookie

    harden_session_cookie(own)
    assert type(own.session_interface) is ServerSide


# --- G05: timing of failed sign-ins ---------------------------------------------------------------


@pytest.fixture
def demo(db_url, tmp_path, monkeypatch, request):
    """The demo app, seeded small, on this test's database; its throttle lifted for timing."""
    from hyper_admin.demo.app import create_app as create_demo

    if db_url.startswith("sqlite"):
        app = create_demo(str(tmp_path / "demo.db"), rows=20)
    else:
        schema, _ = request.getfixturevalue("pg_schema")
        monkeypatch.setenv("DEMO_PG_SCHEMA", schema)
        from pg import PG_URL

        app = create_demo(PG_URL, rows=20)
    state = app.extensions["hyper_admin"]["hyper_admin"]
    state.login_throttle = LoginThrottle(10**6, 300)  # measure the check, not the 429
    engine = app.extensions["hyper_admin_demo"]["engine"]
    yield app, state, engine
    engine.disconnect_all()


def failed_sign_in_times(app, attempts: dict[str, tuple[str, str]], rounds: int) -> dict:
    """Seconds of a failed sign-in per kind: the lower quartile of the rounds (a busy machine
    only ever adds time, so the low end is what the code costs), the kinds interleaved round
    by round so that a slow moment falls on all of them alike."""
    client = app.test_client()
    token = csrf_from(client.get("/admin/login").get_data(as_text=True))
    times: dict[str, list[float]] = {kind: [] for kind in attempts}
    for round_ in range(rounds + 1):
        order = list(attempts.items())
        order = order[round_ % len(order):] + order[:round_ % len(order)]
        for kind, (username, password) in order:
            start = time.perf_counter()
            response = client.post("/admin/login", data={
                "username": username, "password": password, "csrf_token": token})
            elapsed = time.perf_counter() - start
            assert response.status_code == 401, (kind, response.status_code)
            if round_:  # the first round warms caches (the stand-in hash is made once)
                times[kind].append(elapsed)
    return {kind: statistics.quantiles(values, n=4)[0] for kind, values in times.items()}


def spread(medians: dict) -> float:
    return max(medians.values()) / min(medians.values())


def test_G05_unknown_user_and_wrong_password_take_the_same_time(demo):
    app, state, engine = demo
    with engine as tx:  # an inactive account that still has its password
        tx.execute(SQL("UPDATE staff_users SET is_active =", SQL.Param(False),
                       "WHERE username =", SQL.Param("viewer")))
    attempts = {
        "unknown user": ("nobody-here", "support"),
        "wrong password": ("support", "not-the-password"),
        "account without a password": ("maria", "anything"),
        "inactive account, right password": ("viewer", "viewer"),
    }
    medians = failed_sign_in_times(app, attempts, rounds=10)
    # One hash check each (tens of milliseconds): the medians agree to within the noise.
    assert spread(medians) < 1.35, medians

    # The measurement can see a leak: an authenticate that skips the hash for unknown users
    # (the classic mistake) answers them many times faster.
    from hyper_admin.demo.models import StaffUser

    def leaky(username, password):
        with engine:
            user = StaffUser.find_one(username=username)
        if user is None:
            return None
        return user if check_password_hash(user.password_hash, password) else None

    state.admin.authenticate = leaky
    leaked = failed_sign_in_times(
        app, {k: attempts[k] for k in ("unknown user", "wrong password")}, rounds=5)
    assert leaked["wrong password"] > 3 * leaked["unknown user"], leaked


def test_verify_password_pays_one_hash_whatever_it_is_given():
    stored = generate_password_hash("s3cret", method="pbkdf2:sha256:50000")
    assert verify_password(stored, "s3cret") is True
    assert verify_password(stored, "wrong") is False
    for unusable in (None, "", "!", "*", "nonsense$a$b"):
        assert verify_password(unusable, "s3cret", method="pbkdf2:sha256:50000") is False
    # The stand-in for an unknown user costs what a real check costs, not nothing. Measured as
    # failed_sign_in_times does: interleaved, so that a busy moment (another test worker) falls
    # on both alike, and the lower quartile, since load only ever adds time.
    checks = {"real": lambda: verify_password(stored, "wrong"),
              "stand-in": lambda: verify_password(None, "wrong", method="pbkdf2:sha256:50000")}
    times: dict[str, list[float]] = {name: [] for name in checks}
    for _ in range(12):
        for name, check in checks.items():
            start = time.perf_counter()
            check()
            times[name].append(time.perf_counter() - start)
    real, stand_in = (statistics.quantiles(times[name], n=4)[0] for name in ("real", "stand-in"))
    assert 0.6 < stand_in / real < 1.6, (stand_in, real)
