"""The one request pipeline every admin view passes through.

Order, the same on every screen (CONTRACT §2, §4): not signed in → login; signed in without
admin access → 403; then CSRF on anything but GET/HEAD/OPTIONS; then the view, which checks the
model permission and row scope through the same helpers. Every response leaves with the security
headers and ``Vary: HX-Request``.
"""

from __future__ import annotations

import functools
import hashlib
import time
import typing as t
from urllib.parse import urlsplit

from markupsafe import Markup
from flask import Blueprint, abort, current_app, g, redirect, request, url_for
from flask_login import current_user
from flask_wtf.csrf import CSRFError, validate_csrf
from wtforms import ValidationError

from . import audit, checks, i18n, sql
from .context import current_state, is_signed_in  # noqa: F401 - the pipeline's API
from .htmx import client_redirect, current_htmx
from .paths import STATIC_DIR
from .replicas import Choice

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: Bytes of query string an admin URL may have (414 beyond). A list page repeats its query
#: string in each of its links (sorting, paging, filters), so that an unbounded one made pages
#: fifty times its size; 1,000 filter values of a few digits still fit.
MAX_QUERY_STRING = 16 * 1024


# ---------------------------------------------------------------------------------------------
# Users and roles (context.py holds them, so that the model-admin layer needs no pipeline)


def user_roles(user: t.Any = None) -> frozenset[str]:
    state = current_state()
    return state.roles_of(current_user if user is None else user)


def is_superuser(user: t.Any = None) -> bool:
    return bool(user_roles(user) & current_state().superuser_roles)


def has_admin_access(user: t.Any = None) -> bool:
    state = current_state()
    roles = user_roles(user)
    return bool(roles & (state.access_roles | state.superuser_roles))


def user_label(user: t.Any) -> str:
    for attr in ("name", "full_name", "username", "email"):
        value = getattr(user, attr, None)
        if value:
            return str(value)
    get_id = getattr(user, "get_id", None)
    return i18n.gettext("User %(id)s", id=get_id()) if get_id else i18n.gettext("User")


# ---------------------------------------------------------------------------------------------
# Sign-in


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a path on this site, else None (no open redirect).

    Rejects absolute and scheme-relative URLs (``//evil``), backslash tricks (``/\\evil``, which
    browsers read as ``//evil``), and control characters.
    """
    if not target or not target.startswith("/") or len(target) > 2048:
        return None
    if target.startswith("//") or "\\" in target:
        return None
    if any(ord(c) < 32 or ord(c) == 127 for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


#: Screens whose URL shows on GET the form that its POST saves: a POST that finds the session
#: expired sends the user back to that form after sign-in, not to the dashboard.
FORM_PAGES = frozenset({"create", "edit", "delete", "revert"})


def _requested_path() -> str:
    """Where to come back after sign-in: the page (path and whole query string) the user was on.

    htmx: the page in the address bar (HX-Current-URL), where static/keep_input.js restores a
    form's unsent input. A full-page GET: that URL. A full-page POST of a form page: the GET of
    the same URL (the form again); any other POST: the dashboard (never replayed)."""
    htmx = current_htmx()
    if htmx.request:
        page = htmx.current_path
    elif request.method in SAFE_METHODS or _endpoint_name() in FORM_PAGES:
        page = request.full_path.rstrip("?")
    else:
        page = None
    # A query string too long for sign-in to follow (safe_next's limit) still leaves the page.
    return safe_next(page) or safe_next((page or "").partition("?")[0]) or url_for(".dashboard")


def _endpoint_name() -> str:
    return (request.endpoint or "").rpartition(".")[2]


def login_url(next_path: str | None) -> str | None:
    """Where to send someone who must sign in: our login page when ``authenticate=`` is set,
    else the app's flask-login ``login_view``; None when neither exists."""
    state = current_state()
    if state.authenticate is not None:
        return url_for(".login", next=next_path) if next_path else url_for(".login")
    manager = getattr(current_app, "login_manager", None)
    view = getattr(manager, "login_view", None) if manager else None
    if isinstance(getattr(manager, "blueprint_login_views", None), dict):
        view = manager.blueprint_login_views.get(request.blueprint, view)
    if not view:
        return None
    from flask_login import login_url as flask_login_url

    return flask_login_url(view, next_url=next_path)


def _send_to_login():
    target = login_url(_requested_path())
    if target is None:
        abort(401)
    if current_htmx().request:
        return client_redirect(target, status=401)
    return redirect(target, code=302)


def _ensure_login_manager() -> None:
    if not hasattr(current_app, "login_manager"):
        raise RuntimeError(
            "hyper_admin needs flask-login: create a LoginManager for this app, with a "
            "user_loader, before serving the admin"
        )


class LoginThrottle:
    """Counts failed sign-ins per account and per client address in a moving window.

    The counts live in a ``limits`` storage (the rate-limit engine of flask-limiter):
    ``memory://`` (the default) counts per process; ``redis://host:6379`` shares the counts
    between every worker and host, so that the limit is the same however many there are.
    """

    def __init__(self, max_failures: int, window_seconds: int, storage_uri: str = "memory://"):
        from limits import RateLimitItemPerSecond
        from limits.storage import storage_from_string
        from limits.strategies import MovingWindowRateLimiter

        self.max_failures = max_failures
        self.window = window_seconds
        self._limiter = MovingWindowRateLimiter(storage_from_string(storage_uri))
        # An address may hold several users (an office behind one NAT): four times as many.
        self._per_account = RateLimitItemPerSecond(max_failures, window_seconds)
        self._per_address = RateLimitItemPerSecond(max_failures * 4, window_seconds)

    def _limits(self, username: str, address: str | None):
        account = hashlib.sha256(username.strip().lower().encode()).hexdigest()
        return [(self._per_account, ("hyper_admin_login", "user", account)),
                (self._per_address, ("hyper_admin_login", "addr", address or "-"))]

    def blocked_for(self, username: str, address: str | None) -> int:
        """Seconds until another attempt is allowed, 0 when allowed now."""
        waits = []
        for item, keys in self._limits(username, address):
            if not self._limiter.test(item, *keys):
                reset = self._limiter.get_window_stats(item, *keys).reset_time
                waits.append(max(1, int(reset - time.time()) + 1))
        return max(waits, default=0)

    def failed(self, username: str, address: str | None) -> None:
        for item, keys in self._limits(username, address):
            self._limiter.hit(item, *keys)

    def succeeded(self, username: str, address: str | None) -> None:
        item, keys = self._limits(username, address)[0]
        self._limiter.clear(item, *keys)


# ---------------------------------------------------------------------------------------------
# CSRF


def check_csrf() -> None:
    token = request.form.get("csrf_token") or request.headers.get("X-CSRFToken")
    try:
        validate_csrf(token)
    except (ValidationError, CSRFError) as exc:
        abort(400, description=i18n.gettext(
            "The form expired or was not sent by this site (%(reason)s). Reload the page and "
            "try again.", reason=exc))


# ---------------------------------------------------------------------------------------------
# The guard and the router


def guard(view: t.Callable, *, public: bool = False,
          model_action: str | tuple[str, ...] | None = None) -> t.Callable:
    """Wrap ``view`` in the pipeline. ``public`` views (sign-in) skip the sign-in checks only.

    Model views (``model_action`` set) get the ModelAdmin of the URL's ``slug`` instead of the
    slug: unknown → 404, no ``view`` permission → 403, and for actions on no particular row
    (``add``, ``export``...) that action too (a tuple: any one of them). Views of one row check their action after loading
    it, so that a missing row is a 404 before a refused action is a 403 (CONTRACT §2).
    """

    @functools.wraps(view)
    def guarded(**kwargs):
        if len(request.query_string) > MAX_QUERY_STRING:
            # Before anything echoes it: every link of a list page repeats the query string.
            abort(414, description=i18n.gettext("This address is too long. Use fewer filter values."))
        sql.time_limit.set(current_state().statement_timeout)
        sql.bound_sources.set({})
        audit.clear_notes()
        if not public:
            _ensure_login_manager()
            if not is_signed_in(current_user):
                return _send_to_login()
            if not has_admin_access():
                abort(403)
            g._hyper_admin_shell = True
            for late in current_state().read_catalog():  # until every table was read
                checks.warn_about(checks.check(late))
        if model_action is not None:
            model_admin = current_state().model_admin_by_slug(kwargs.pop("slug"))
            if model_admin is None:
                abort(404)
            if not model_admin.has_permission("view", current_user):
                abort(403)
            served = model_admin.served_endpoints
            if served is not None and request.endpoint.rpartition(".")[2] not in served:
                abort(404)  # a query view has no rows to open, edit or delete
            wanted = (model_action,) if isinstance(model_action, str) else model_action
            if "view" not in wanted and not any(
                    model_admin.has_permission(action, current_user) for action in wanted):
                abort(403)
            kwargs["model_admin"] = model_admin
            if model_admin is current_state().audit_admin:
                current_state().ensure_tables()  # the trail's own list reads its table
        if request.method not in SAFE_METHODS:
            check_csrf()
            if model_action is not None:
                # The audit trail's table must exist before a write opens its transaction
                # (created there, a rolled-back write would roll the table back too).
                current_state().ensure_tables()
        return _served(view, kwargs)

    guarded._hyper_admin_guarded = True
    return guarded


#: What a replica's failure may be, that the primary answers instead (sql.database_problem):
#: out of reach (stopped, restarting, connection lost) or busy (a query cancelled by a
#: conflict with recovery). Never a time-out: the primary would run the same slow query.
_REPLICA_RETRIES = (sql.UNREACHABLE, sql.BUSY)


def _served(view: t.Callable, kwargs: dict):
    """The view's response; when its read replica failed it (after its status said it could
    serve: it stopped within that moment), once more from the primary, the replica skipped a
    while and logged (replicas.ReplicaSet.failed)."""
    try:
        return view(**kwargs)
    except Exception as exc:
        choice = g.get("_hyper_admin_read_choice")
        if (choice is None or choice.replica is None or request.method not in SAFE_METHODS
                or sql.database_problem(exc) not in _REPLICA_RETRIES):
            raise
        current_state().replicas.failed(choice.replica, exc)
        g._hyper_admin_read_choice = Choice()
        return view(**kwargs)


class Router:
    """Adds routes to an admin blueprint, every one of them guarded."""

    def __init__(self, blueprint: Blueprint):
        self.blueprint = blueprint

    def __call__(self, rule: str, view: t.Callable, *, endpoint: str | None = None,
                 methods: t.Sequence[str] = ("GET",), public: bool = False,
                 model_action: str | tuple[str, ...] | None = None) -> None:
        self.blueprint.add_url_rule(
            rule, endpoint or view.__name__,
            guard(view, public=public, model_action=model_action), methods=list(methods),
            # No redirect to the slashed URL before the guard ran: /admin/x answers like /admin/x/.
            strict_slashes=False,
        )


def may_show_shell() -> bool:
    """Whether the page may show the admin shell (navigation): only past the access check."""
    return bool(g.get("_hyper_admin_shell"))


# ---------------------------------------------------------------------------------------------
# Response headers


def _add_headers(response):
    headers = response.headers
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    # Scripts only from the admin's own files: no inline script, event handler attribute or
    # eval (base.html loads the theme from static/theme.js; htmx is told not to eval).
    headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
        "script-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
    )
    response.vary.add("HX-Request")
    if request.endpoint and request.endpoint.endswith(".static") and request.args.get("v"):
        # Versioned asset URL (static_url): the content at it never changes.
        headers["Cache-Control"] = "public, max-age=31536000, immutable"
    elif request.endpoint and request.endpoint.endswith(".static"):
        headers["Cache-Control"] = "no-cache"
    else:
        headers["Cache-Control"] = "no-store"
    return response


@functools.lru_cache(maxsize=256)
def _asset_version(filename: str) -> str:
    path = STATIC_DIR / filename
    try:
        stat = path.stat()
    except OSError:
        return "0"
    return hashlib.sha1(f"{stat.st_mtime_ns}:{stat.st_size}".encode()).hexdigest()[:10]


def static_url(filename: str) -> str:
    """The versioned URL of one of our static files (the same for every request of this
    admin: cached, since the layout asks for the icon sprite dozens of times a page)."""
    key = (request.script_root, request.blueprint, filename)
    url = _static_urls.get(key)
    if url is None:
        url = _static_urls[key] = url_for(".static", filename=filename,
                                          v=_asset_version(filename))
    return url


_static_urls: dict[tuple[str, str | None, str], str] = {}


def admin_url(endpoint: str, **values: t.Any) -> str:
    """``url_for`` for this admin's own pages. URLs that depend only on the model (its list,
    its add page, the dashboard...) are the same for every request of this admin: cached,
    since a list page asks for twenty of them and each url_for costs a URL map build."""
    if not endpoint.startswith(".") or any(
            k != "slug" and not str(v).startswith(URL_PLACEHOLDER) for k, v in values.items()):
        return url_for(endpoint, **values)
    key = (request.script_root, request.blueprint, endpoint, *sorted(values.items()))
    url = _admin_urls.get(key)
    if url is None:
        url = url_for(endpoint, **values)
        if len(_admin_urls) < 10_000:
            _admin_urls[key] = url
    return url


_admin_urls: dict[tuple, str] = {}
# Values starting with this are placeholders of a URL template (the list's row links): such
# URLs are cached too, and the caller puts each row's key in place of the placeholder.
URL_PLACEHOLDER = "__hyper_admin_"


def _icon_function(sprite: str) -> t.Callable[..., Markup]:
    def icon(name: str, class_: str = "size-4") -> Markup:
        """A Lucide icon from our sprite (static/icons.svg): cached markup, where a Jinja macro
        call per icon cost a tenth of the list page."""
        key = (sprite, name, class_)
        markup = _icons.get(key)
        if markup is None:
            markup = _icons[key] = Markup(
                '<svg class="{}" aria-hidden="true"><use href="{}#{}"></use></svg>'
            ).format(class_, sprite, name)
        return markup
    return icon


_icons: dict[tuple[str, str, str], Markup] = {}


def csrf_token() -> str:
    """flask-wtf's signed CSRF token for this session, reused for a few minutes instead of
    signed again on every page (the signature is a tenth of a millisecond; the token stays
    valid for WTF_CSRF_TIME_LIMIT from when it was signed, so reuse is capped well below)."""
    from flask import session
    from flask_wtf.csrf import generate_csrf

    config = current_app.config
    field = config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    if field in g:
        return g.get(field)
    raw = session.get(field)
    limit = config.get("WTF_CSRF_TIME_LIMIT", 3600)
    reuse = CSRF_REUSE_SECONDS if limit is None else min(CSRF_REUSE_SECONDS, limit / 10)
    key = (id(current_app), config.get("WTF_CSRF_SECRET_KEY") or current_app.secret_key, raw)
    now = time.monotonic()
    if isinstance(raw, str):
        hit = _csrf_tokens.get(key)
        if hit is not None and now - hit[1] < reuse:
            setattr(g, field, hit[0])
            return hit[0]
    token = generate_csrf()
    raw = session.get(field)
    if isinstance(raw, str):
        if len(_csrf_tokens) > 10_000:
            _csrf_tokens.clear()
        _csrf_tokens[key[:2] + (raw,)] = (token, now)
    return token


CSRF_REUSE_SECONDS = 300.0
_csrf_tokens: dict[tuple, tuple[str, float]] = {}


def _template_context() -> dict[str, t.Any]:
    return {"static_url": static_url, "csrf_token": csrf_token, "url_for": admin_url,
            "icon": _icon_function(static_url("icons.svg")), **i18n.template_functions()}


def install(blueprint: Blueprint) -> None:
    blueprint.after_request(_add_headers)
    blueprint.context_processor(_template_context)
