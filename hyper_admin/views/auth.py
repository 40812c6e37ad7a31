"""GET/POST /admin/login and POST /admin/logout.

The built-in sign-in page exists only when the app passed ``Admin(authenticate=fn)``; the admin
never stores or compares passwords itself.
"""

from __future__ import annotations

from flask import abort, redirect, request, session, url_for
from flask_login import current_user, login_user, logout_user

from ..htmx import client_redirect, current_htmx
from ..i18n import _, ngettext
from ..pipeline import current_state, has_admin_access, login_url, safe_next
from .render import render_standalone

MAX_CREDENTIAL_LENGTH = 1024


def _after_login_target() -> str:
    candidate = request.values.get("next")
    return safe_next(candidate) or url_for(".dashboard")


def _login_page(*, error: str | None = None, username: str = "", status: int = 200):
    return render_standalone(
        "hyper_admin/login.html",
        page_title=_("Sign in"),
        error=error,
        username=username,
        next_url=safe_next(request.values.get("next")) or "",
        status_code=status,
    )


def login():
    state = current_state()
    if state.authenticate is None:
        abort(404)
    if request.method == "GET":
        if current_user.is_authenticated and has_admin_access():
            return redirect(_after_login_target(), code=302)
        return _login_page()

    username = request.form.get("username", "")
    password = request.form.get("password", "")
    if not username or not password:
        return _login_page(error=_("Enter your username and password."), username=username[:200],
                           status=422)
    if len(username) > MAX_CREDENTIAL_LENGTH or len(password) > MAX_CREDENTIAL_LENGTH:
        return _login_page(error=_("Invalid username or password."), status=401)

    address = request.remote_addr
    wait = state.login_throttle.blocked_for(username, address)
    if wait:
        response = _login_page(
            error=ngettext("Too many failed attempts. Try again in %(num)s second.",
                           "Too many failed attempts. Try again in %(num)s seconds.", wait),
            username=username, status=429,
        )
        response.headers["Retry-After"] = str(wait)
        return response

    user = state.authenticate(username, password)
    if user is None or not getattr(user, "is_active", True):
        state.login_throttle.failed(username, address)
        return _login_page(error=_("Invalid username or password."), username=username, status=401)

    state.login_throttle.succeeded(username, address)
    target = _after_login_target()
    # A new session on sign-in: nothing set before it (by anyone) survives into it.
    session.clear()
    login_user(user)
    return redirect(target, code=303)


def logout():
    logout_user()
    session.clear()
    target = login_url(None) or url_for(".dashboard")
    if current_htmx().request:
        return client_redirect(target)
    return redirect(target, code=303)
