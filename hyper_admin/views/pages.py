"""The application's pages inside the admin (admin_pages.py): GET/POST of a site page
(``admin.page``) and GET/POST /<slug>/<pk>/<name> (``admin.row_page``); the pages a user may
open, for the navigation, the palette and a row's page.

Both pass through pipeline.guard like every admin view (sign-in, admin access, CSRF on POST,
headers); a row page also gets the model's view permission checked there, then its row read
within the user's scope here (404 outside it, as on the row's own page) before its own
permission (403)."""

from __future__ import annotations

import typing as t
from dataclasses import dataclass

from flask import abort, request
from flask_login import current_user

from ..admin_pages import Page, RowPage
from ..cells import encode_pk, label_for
from ..context import principal_of
from ..i18n import _
from ..options import ModelAdmin
from ..pipeline import admin_url, current_state
from .common import changes_for, detail_url, list_url, load_row, object_of
from .render import Crumb, NavEntry, render_page


@dataclass
class PageRequest:
    """What a page's function is given: who asks, and for a row page the row (within scope)."""

    page: Page | RowPage
    user: t.Any
    model_admin: ModelAdmin | None = None
    pk: tuple | None = None
    values: dict[str, t.Any] | None = None
    obj: t.Any = None

    @property
    def method(self) -> str:
        return request.method

    @property
    def form(self):
        """The posted form (a MultiDict: pass it to a WTForms form)."""
        return request.form

    @property
    def args(self):
        return request.args

    @property
    def url(self) -> str:
        return request.path

    @property
    def detail_url(self) -> str | None:
        """The row's own page (a row page), where a POST usually redirects."""
        return detail_url(self.model_admin, self.pk) if self.model_admin is not None else None

    @property
    def label(self) -> str | None:
        """The row's label as the admin shows it."""
        if self.model_admin is None:
            return None
        return label_for(self.model_admin, self.model_admin.model, self.values)

    def changes(self, model_or_slug: t.Any = None):
        """The write service (changes.py) for the signed-in user: on the page's model, or on
        ``model_or_slug``. Every write through it is audited."""
        model_admin = (self.model_admin if model_or_slug is None
                       else current_state().admin.model_admin(model_or_slug))
        return changes_for(model_admin)

    def breadcrumbs(self) -> list[Crumb]:
        crumbs = [Crumb(_("Dashboard"), admin_url(".dashboard"))]
        if self.model_admin is not None:
            crumbs += [Crumb(str(self.model_admin.verbose_name_plural), list_url(self.model_admin)),
                       Crumb(self.label, self.detail_url)]
        elif self.page.group:
            crumbs.append(Crumb(str(self.page.group)))
        return [*crumbs, Crumb(str(self.page.title))]

    def render(self, template: str, *, status: int = 200, title: t.Any = None, **context):
        """``template`` (which extends ``admin_layout``) inside the admin's layout, with the
        breadcrumbs Dashboard > [model > row] > the page's title."""
        context.setdefault("page", self)
        if self.model_admin is not None:
            context.setdefault("model_admin", self.model_admin)
            context.setdefault("obj", self.obj)
            context.setdefault("pk", encode_pk(self.pk))
        return render_page("page", template=template, page_title=str(title or self.page.title),
                           breadcrumbs=self.breadcrumbs(), status_code=status,
                           slug=getattr(self.model_admin, "slug", None), **context)


def site_page_view(page: Page) -> t.Callable:
    """The view of one site page (its own URL rule, endpoint ``page_<name>``)."""

    def view():
        if not page.allows(principal_of(current_user)):
            abort(403)
        return page.view(PageRequest(page, current_user._get_current_object()))

    view.__name__ = page.endpoint
    return view


def find_row_page(model_admin: ModelAdmin, name: str) -> RowPage | None:
    return next((p for p in current_state().admin.row_pages
                 if p.slug == model_admin.slug and p.name == name), None)


def row_page_view(model_admin: ModelAdmin, pk: str, page_name: str):
    page = find_row_page(model_admin, page_name)
    if page is None:
        abort(404)
    key, values = load_row(model_admin, pk)  # 404 when missing or outside the user's scope
    obj = object_of(model_admin, values)
    if not page.allows(model_admin, current_user, principal_of(current_user), obj):
        abort(403)
    if ("GET" if request.method == "HEAD" else request.method) not in page.methods:
        abort(405)
    return page.view(PageRequest(page, current_user._get_current_object(), model_admin, key,
                                 values, obj))


def row_page_links(model_admin: ModelAdmin, pk_text: str, obj: t.Any) -> list[NavEntry]:
    """The pages of this row the signed-in user may open (buttons on the row's page)."""
    pages = [p for p in current_state().admin.row_pages if p.slug == model_admin.slug]
    if not pages:
        return []
    principal = principal_of(current_user)
    return [NavEntry(label=str(page.title),
                     url=admin_url(".row_page", slug=model_admin.slug, pk=pk_text,
                                   page_name=page.name),
                     icon=page.icon, table=model_admin.slug, description="")
            for page in pages if page.allows(model_admin, current_user, principal, obj)]
