"""Pages an application adds inside the admin (docs/extending.md, "Pages inside the admin"):
site pages at a path of their own under the admin's prefix (``admin.page``), and pages of one
row at ``/<slug>/<pk>/<name>`` (``admin.row_page``). This module holds their declarations and
the checks made at registration (hyper_admin.E033, E034); views/pages.py serves them through
the pipeline."""

from __future__ import annotations

import re
import typing as t
from dataclasses import dataclass

from .problems import fail

SITE_PAGE_ID = "hyper_admin.E033"
ROW_PAGE_ID = "hyper_admin.E034"

_PATH = re.compile(r"(/[A-Za-z0-9_][A-Za-z0-9_.-]*)+")
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]*")
#: First segments of the admin's own URLs: a site page there would hide one of them.
BUILT_IN_SEGMENTS = frozenset({"login", "logout", "password", "static", "-"})
#: The last segment of a row's own URLs (/<slug>/<pk>/history...): taken by the admin.
BUILT_IN_ROW_SEGMENTS = frozenset({"history", "edit", "delete", "panels", "cell", "file",
                                   "thumbnail", "menu"})
_METHODS = frozenset({"GET", "POST"})


@dataclass(frozen=True)
class Page:
    """A page of the admin site (``admin.page``)."""

    path: str
    name: str
    view: t.Callable[..., t.Any]
    title: t.Any
    roles: frozenset[str] | None
    group: t.Any
    icon: str
    methods: tuple[str, ...]

    @property
    def endpoint(self) -> str:
        return f"page_{self.name}"

    def allows(self, principal: t.Any) -> bool:
        """Superusers always; else any role of ``roles`` (None: whoever may use the admin)."""
        return (principal.superuser or self.roles is None
                or bool(principal.roles & self.roles))


@dataclass(frozen=True)
class RowPage:
    """A page of one row of a model (``admin.row_page``), at ``/<slug>/<pk>/<name>``."""

    slug: str
    name: str
    view: t.Callable[..., t.Any]
    title: t.Any
    permission: str
    roles: frozenset[str] | None
    icon: str
    methods: tuple[str, ...]

    def allows(self, model_admin: t.Any, user: t.Any, principal: t.Any, obj: t.Any) -> bool:
        """The ModelAdmin's ``permission`` on the row, and one of ``roles`` when given."""
        if not model_admin.has_permission(self.permission, user, obj):
            return False
        return (principal.superuser or self.roles is None
                or bool(principal.roles & self.roles))


def _roles(roles: t.Iterable[str] | str | None) -> frozenset[str] | None:
    if roles is None:
        return None
    return frozenset([roles] if isinstance(roles, str) else roles)


def _methods(methods: t.Iterable[str], check_id: str, where: str) -> tuple[str, ...]:
    found = tuple(dict.fromkeys(str(m).upper() for m in methods))
    if not found or not set(found) <= _METHODS:
        fail(check_id, f"{where}: methods must be GET and/or POST, got {list(methods)!r}")
    return found


def site_page(admin: t.Any, path: str, view: t.Callable, *, title: t.Any,
              roles: t.Iterable[str] | str | None = None, group: t.Any = None,
              icon: str = "file-text", methods: t.Iterable[str] = ("GET",),
              name: str | None = None) -> Page:
    """A checked Page: its path a plain one under the prefix, clashing with nothing."""
    if not isinstance(path, str) or not _PATH.fullmatch(path):
        fail(SITE_PAGE_ID, f"page {path!r}: the path must be like '/reports/overview' (letters, "
                           "digits, _ . -; no trailing slash, no <converters>)")
    first = path.split("/")[1]
    if first in BUILT_IN_SEGMENTS:
        fail(SITE_PAGE_ID, f"page {path!r} clashes with the admin's own /{first} URLs")
    if first in admin.registry or first == "audit":
        fail(SITE_PAGE_ID, f"page {path!r} clashes with the URLs of the model {first!r}")
    if name is None:  # the function's name; a lambda's page is named after its path
        name = getattr(view, "__name__", "")
        if not _NAME.fullmatch(name):
            name = re.sub(r"[/.]", "_", path.strip("/"))
    if not _NAME.fullmatch(name):
        fail(SITE_PAGE_ID, f"page {path!r}: name {name!r} must be letters, digits, _ -")
    for other in admin.pages:
        if other.path == path or other.name == name:
            fail(SITE_PAGE_ID, f"page {path!r} ({name}) is already registered")
    if not callable(view):
        fail(SITE_PAGE_ID, f"page {path!r}: {view!r} is not callable")
    return Page(path=path, name=name, view=view, title=title, roles=_roles(roles), group=group,
                icon=icon, methods=_methods(methods, SITE_PAGE_ID, f"page {path!r}"))


def row_page(admin: t.Any, model_or_slug: t.Any, name: str, view: t.Callable, *, title: t.Any,
             permission: str = "view", roles: t.Iterable[str] | str | None = None,
             icon: str = "file-text", methods: t.Iterable[str] = ("GET",)) -> RowPage:
    """A checked RowPage: a registered model with pages of its own, a name no row URL takes."""
    try:
        model_admin = admin.model_admin(model_or_slug)
    except (KeyError, AttributeError, TypeError):
        model_admin = None
    if model_admin is None:
        fail(ROW_PAGE_ID, f"row page {name!r}: {model_or_slug!r} is not a registered model "
                          "(register it first)")
    if model_admin.is_query_view:
        fail(ROW_PAGE_ID, f"row page {name!r}: the query view {model_admin.slug!r} has no row "
                          "pages")
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        fail(ROW_PAGE_ID, f"row page {name!r} of {model_admin.slug!r}: the name must be letters, "
                          "digits, _ -")
    if name in BUILT_IN_ROW_SEGMENTS:
        fail(ROW_PAGE_ID, f"row page {name!r} of {model_admin.slug!r} clashes with the admin's "
                          f"own /<pk>/{name} URL")
    if any(p.slug == model_admin.slug and p.name == name for p in admin.row_pages):
        fail(ROW_PAGE_ID, f"row page {name!r} of {model_admin.slug!r} is already registered")
    if not callable(view):
        fail(ROW_PAGE_ID, f"row page {name!r}: {view!r} is not callable")
    return RowPage(slug=model_admin.slug, name=name, view=view, title=title,
                   permission=str(permission), roles=_roles(roles), icon=icon,
                   methods=_methods(methods, ROW_PAGE_ID, f"row page {name!r}"))
