"""GET/POST /admin/password: the signed-in user changes their own password.

The page exists only when the application gives ``Admin(change_password=fn)``; the admin never
stores, hashes or compares passwords itself. ``fn(user, old_password, new_password)`` returns
True once the password is changed, False when ``old_password`` is not the user's password (a
failed attempt: throttled like sign-in), or a message refusing the new password (shown on its
field). See docs/forms.md#password-page.
"""

from __future__ import annotations

import hashlib
import logging
import typing as t
import weakref

from flask import abort, flash, redirect, request, session, url_for
from flask_login import current_user, login_user
from wtforms import Form, PasswordField

from ..i18n import _, lazy_gettext as _l, ngettext
from ..pipeline import LoginThrottle, current_state
from .render import Crumb, render_page

log = logging.getLogger("hyper_admin.password")

#: Longer input is refused before the hook hashes anything (as on the sign-in page).
MAX_PASSWORD_LENGTH = 1024


class PasswordThrottle(LoginThrottle):
    """Wrong current passwords, counted per user and per address like failed sign-ins, but
    apart from them: guessing here does not lock the account out of signing in."""

    def _limits(self, username: str, address: str | None):
        account = hashlib.sha256(username.encode()).hexdigest()
        return [(self._per_account, ("hyper_admin_password", "user", account)),
                (self._per_address, ("hyper_admin_password", "addr", address or "-"))]


#: Per application, per mounted admin (AdminState is not hashable: its app is the key).
_throttles: "weakref.WeakKeyDictionary[t.Any, dict[str, PasswordThrottle]]" = (
    weakref.WeakKeyDictionary())


def _throttle(state) -> PasswordThrottle:
    per_admin = _throttles.setdefault(state.app, {})
    throttle = per_admin.get(state.name)
    if throttle is None:
        throttle = per_admin[state.name] = PasswordThrottle(
            state.login_max_failures, state.login_failure_window, state.login_storage_uri)
    return throttle


class PasswordForm(Form):
    old_password = PasswordField(_l("Current password"),
                                 render_kw={"autocomplete": "current-password"})
    new_password = PasswordField(_l("New password"), render_kw={"autocomplete": "new-password"})
    new_password_confirm = PasswordField(_l("New password again"),
                                         render_kw={"autocomplete": "new-password"})


def _user_key() -> str:
    """Who the attempts are counted for: the user's id (never their label, which may change)."""
    get_id = getattr(current_user, "get_id", None)
    return f"id:{get_id() if callable(get_id) else id(current_user)}"


def _page(form: PasswordForm, status: int = 200, error: str | None = None):
    min_length = current_state().admin.password_min_length
    form.new_password.description = ngettext(
        "At least %(num)s character.", "At least %(num)s characters.", min_length)
    return render_page(
        "password", page_title=_("Change your password"), status_code=status,
        breadcrumbs=[Crumb(_("Dashboard"), url_for(".dashboard")), Crumb(_("Password"))],
        form=form, error=error, cancel_url=url_for(".dashboard"))


def _field_problems(form: PasswordForm) -> bool:
    """Errors the admin finds itself (before asking the application); True when any."""
    old, new, again = (form.old_password.data or "", form.new_password.data or "",
                       form.new_password_confirm.data or "")
    min_length = current_state().admin.password_min_length
    if not old:
        form.old_password.errors.append(_("Enter your current password."))
    if len(new) < min_length:
        form.new_password.errors.append(ngettext(
            "Use at least %(num)s character.", "Use at least %(num)s characters.", min_length))
    elif new == old:
        form.new_password.errors.append(_("Choose a password other than your current one."))
    if new != again:
        form.new_password_confirm.errors.append(_("The two new passwords differ."))
    return any(f.errors for f in form)


def password_view():
    state = current_state()
    change = state.admin.change_password
    if change is None:
        abort(404)
    if request.method == "GET":
        return _page(PasswordForm())
    form = PasswordForm(request.form)
    for field in form:
        field.errors = []
        if len(field.data or "") > MAX_PASSWORD_LENGTH:
            abort(413)
    if _field_problems(form):
        return _page(form, 422)

    throttle, who, address = _throttle(state), _user_key(), request.remote_addr
    wait = throttle.blocked_for(who, address)
    if wait:
        response = _page(form, 429, ngettext(
            "Too many failed attempts. Try again in %(num)s second.",
            "Too many failed attempts. Try again in %(num)s seconds.", wait))
        response.headers["Retry-After"] = str(wait)
        return response

    user = current_user._get_current_object()
    answer = change(user, form.old_password.data, form.new_password.data)
    if answer is True:
        throttle.succeeded(who, address)
        log.info("password changed by user %s", who)  # never the password itself
        # A new session, as on sign-in: nothing from before the change rides along.
        session.clear()
        login_user(user)
        flash(_("Your password was changed."), "success")
        return redirect(url_for(".dashboard"), code=303)
    if isinstance(answer, str) and answer:
        form.new_password.errors.append(answer)
        return _page(form, 422)
    throttle.failed(who, address)
    form.old_password.errors.append(_("This is not your current password."))
    return _page(form, 422)
