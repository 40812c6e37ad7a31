"""The session cookie's flags: ``HttpOnly``, ``SameSite=Lax``, and ``Secure`` over HTTPS.

Flask sends ``HttpOnly`` already, but no ``SameSite`` and ``Secure`` only when configured. An
admin's session is the key to every customer's data, so mounting the admin turns both on where
the application left Flask's defaults: ``SameSite=Lax`` keeps the cookie off cross-site posts
(defence in depth behind the CSRF token), and ``Secure`` is set on every response to a request
that came over HTTPS, so the cookie never travels in clear text — without breaking a
development server on plain HTTP, which a fixed ``SESSION_COOKIE_SECURE = True`` would.
"""

from __future__ import annotations

from flask import Flask, has_request_context, request
from flask.sessions import SecureCookieSessionInterface


class _SecureOverHttps(SecureCookieSessionInterface):
    def get_cookie_secure(self, app: Flask) -> bool:
        configured = super().get_cookie_secure(app)
        return configured or (has_request_context() and request.is_secure)


def harden_session_cookie(app: Flask) -> None:
    """Set the flags the application has not chosen itself.

    An explicit ``SESSION_COOKIE_SAMESITE`` ("Strict", say) is kept. A session interface of the
    application's own (server-side sessions, Flask-Session) is left alone: it sets its cookie.
    """
    if app.config.get("SESSION_COOKIE_SAMESITE") is None:
        app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    if type(app.session_interface) is SecureCookieSessionInterface:
        app.session_interface = _SecureOverHttps()
