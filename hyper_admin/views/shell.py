"""The admin's shell around a full page, rendered once per user, language and current page.

Every full page wraps its ``<main>`` in the same top bar, user menu, sidebar, dialogs and
``<head>`` (layout.html and base.html). Rendering them again on every request was a fifth of
a list page's time, for bytes that change only with who is signed in, their language, their
navigation and the page's title. Here layout.html is rendered with markers where the title and
``<main>`` go (shell.html); the pieces between the markers are kept, and each page fills in its
title and its ``<main>`` (main.html).

Everything the shell shows is in the cache key: the user's label, roles and navigation (worked
out on every request, so that a permission change shows at once), the language, the CSRF token,
the current endpoint (the sidebar marks the dashboard) and a host's CSP nonce (new on every
request: such shells are rendered each time and not kept). Pages whose
shell this cannot reproduce are rendered whole, as before: when the application overrides one
of the shell's templates, when templates reload (debug), when flashed messages wait (toasts
are part of the shell), and when a screen defines a block outside ``<main>`` (``head``,
``body_attrs``, ``body``). A screen's own ``title`` block is rendered on its own.
"""

from __future__ import annotations

import threading
import typing as t
import weakref
from collections import OrderedDict
from pathlib import Path

from flask import current_app, request, session
from flask.signals import before_render_template, template_rendered
from jinja2 import TemplateNotFound
from markupsafe import Markup, escape

from .. import i18n
from ..navigation import CLOSED_COOKIE, closed_groups
from ..paths import TEMPLATES_DIR
from ..pipeline import csrf_token

SHELL_TEMPLATE = "hyper_admin/shell.html"
MAIN_LAYOUT = "hyper_admin/main.html"
#: What the shell is made of: an application overriding any of them gets its layout rendered
#: whole on every page (its copy may show anything).
SHELL_TEMPLATES = (
    "hyper_admin/base.html", "hyper_admin/layout.html", SHELL_TEMPLATE, MAIN_LAYOUT,
    "hyper_admin/partials/nav.html", "hyper_admin/partials/nav_item.html",
    "hyper_admin/partials/dialogs.html",
    "hyper_admin/partials/toasts.html",
)
#: Blocks of base.html and layout.html outside <main>: a screen that defines one cannot be
#: put in the cached shell.
OUTSIDE_MAIN = frozenset({"head", "body_attrs", "body", "main"})
#: Shells kept per process (about 20 KB each).
MAX_SHELLS = 256

_TITLE = "\x00hyper-admin-shell-title\x00"
_MAIN = "\x00hyper-admin-shell-main\x00"


def render_template_blocks(names: t.Sequence[str], context: dict[str, t.Any]
                           ) -> tuple[str, t.Any]:
    """Flask's ``render_template`` (context processors, signals), also returning the Jinja
    context it rendered with: its ``blocks`` are those the template's chain defined."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    env = app.jinja_env
    template = env.get_or_select_template(list(names))
    app.update_template_context(context)
    before_render_template.send(app, _async_wrapper=app.ensure_sync, template=template,
                                context=context)
    jinja_context = template.new_context(context)
    try:
        html = "".join(template.root_render_func(jinja_context))
    except Exception:  # noqa: BLE001 - Jinja's own render does this, for template tracebacks
        env.handle_exception()
    template_rendered.send(app, _async_wrapper=app.ensure_sync, template=template,
                           context=context)
    return html, jinja_context


def _shipped(env: t.Any) -> bool:
    """Whether every template of the shell is ours (not overridden by the application)."""
    found = _shipped_in.get(env)
    if found is None:
        ours = Path(TEMPLATES_DIR).resolve()
        found = True
        for name in SHELL_TEMPLATES:
            try:
                filename = env.loader.get_source(env, name)[1]
            except TemplateNotFound:
                found = False
                break
            if filename is None or ours not in Path(filename).resolve().parents:
                found = False
                break
        _shipped_in[env] = found
    return found


_shipped_in: "weakref.WeakKeyDictionary[t.Any, bool]" = weakref.WeakKeyDictionary()


def shell_applies() -> bool:
    """Whether this request's full page may use the cached shell."""
    env = current_app.jinja_env
    if env.auto_reload or not _shipped(env):
        return False
    return not session.get("_flashes")


class _Shells:
    """The rendered shells, least recently used dropped first."""

    def __init__(self, size: int):
        self.size = size
        self._items: OrderedDict[tuple, tuple[str, str, str]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple) -> tuple[str, str, str] | None:
        with self._lock:
            parts = self._items.get(key)
            if parts is not None:
                self._items.move_to_end(key)
            return parts

    def put(self, key: tuple, parts: tuple[str, str, str]) -> None:
        with self._lock:
            self._items[key] = parts
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


shells = _Shells(MAX_SHELLS)


def _key(context: dict[str, t.Any], nonce: t.Any) -> tuple:
    nav = context.get("nav")
    roles = context.get("roles")
    return (
        id(current_app.jinja_env), request.script_root, request.blueprint, request.endpoint,
        i18n._bundle().name, csrf_token(),
        str(context.get("user_label")) if context.get("user_label") is not None else None,
        tuple(roles) if roles is not None else None,
        None if nav is None else tuple(_entry_key(entry) for entry in nav),
        tuple(_entry_key(entry) for entry in context.get("nav_pages") or ()),
        # The sidebar's collapsed groups (static/nav_groups.js keeps them in a cookie).
        tuple(sorted(closed_groups(request.cookies.get(CLOSED_COOKIE)))),
        None if nonce is None else str(nonce),
        str(context["admin"].title),
    )


def _entry_key(entry: t.Any) -> tuple:
    # Labels and descriptions may be lazy strings (unhashable): their text in this language.
    fields = getattr(entry, "__dataclass_fields__", None)
    if fields is None:
        return (str(entry),)
    return tuple(str(getattr(entry, name)) for name in fields)


def _shell(context: dict[str, t.Any], nonce: t.Any) -> tuple[str, str, str] | None:
    """(before the title, between title and <main>, after <main>) for this request, or None
    when the shell did not come out with exactly one of each marker. ``nonce``: the page's
    ``csp_nonce``, which may come from the application's context processors."""
    key = _key(context, nonce)
    parts = shells.get(key)
    if parts is None:
        html, _unused = render_template_blocks(
            [SHELL_TEMPLATE], {**context, "shell_title_marker": Markup(_TITLE),
                               "shell_main_marker": Markup(_MAIN)})
        if html.count(_TITLE) != 1 or html.count(_MAIN) != 1 or html.index(_TITLE) > html.index(_MAIN):
            return None
        before, rest = html.split(_TITLE)
        middle, after = rest.split(_MAIN)
        parts = (before, middle, after)
        if nonce is None:  # a CSP nonce is new on every request: such a shell is never reused
            shells.put(key, parts)
    return parts


def render_in_shell(names: t.Sequence[str], context: dict[str, t.Any]) -> str | None:
    """The full page of ``names``: its main.html in the cached shell; None when this page
    needs the whole layout rendered (the caller then does that)."""
    main, jinja_context = render_template_blocks(names, {**context, "admin_layout": MAIN_LAYOUT})
    blocks = jinja_context.blocks
    if OUTSIDE_MAIN.intersection(blocks):
        return None
    parts = _shell(context, jinja_context.get("csp_nonce"))
    if parts is None:
        return None
    if "title" in blocks:
        title = "".join(blocks["title"][0](jinja_context))
    else:
        title = f"{escape(context.get('page_title'))} · {escape(context['admin'].title)}"
    before, middle, after = parts
    return f"{before}{title}{middle}{main.strip()}{after}"
