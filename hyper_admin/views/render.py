"""Rendering admin pages: full page or fragment, decided here and nowhere else."""

from __future__ import annotations

import typing as t
import weakref
from dataclasses import dataclass, replace

from flask import current_app, make_response, render_template, request
from jinja2 import TemplateNotFound
from flask_login import current_user

from ..context import principal_of
from ..htmx import current_htmx, push_url, reswap, retarget
from ..i18n import _
from ..navigation import CLOSED_COOKIE, NavEntry, NavGroup, closed_groups, group_entries
from .shell import render_in_shell, shell_applies
from ..pipeline import admin_url, current_state, may_show_shell, user_label, user_roles

FULL_LAYOUT = "hyper_admin/layout.html"
FRAGMENT_LAYOUT = "hyper_admin/fragment.html"
#: A confirmation asked for by htmx goes into the layout's <dialog>: the page's heading and
#: content, without <main> (the same URL without htmx is the full page).
DIALOG_LAYOUT = "hyper_admin/dialog.html"
DIALOG_TARGET = "#confirm-dialog-body"


@dataclass(frozen=True, slots=True)
class Crumb:
    label: str
    url: str | None = None


def navigation(active_slug: str | None = None) -> list[NavEntry]:
    """The models the current user may view, in registration order (each with its
    ``nav_group`` and ``nav_order``: grouped_navigation puts them in their groups)."""
    state = current_state()
    entries = []
    for model_admin in state.model_admins():
        if not model_admin.has_permission("view", current_user):
            continue
        entries.append(
            NavEntry(
                label=str(model_admin.verbose_name_plural),
                url=admin_url(".list", slug=model_admin.slug),
                icon=model_admin.icon or "table",
                table=model_admin.slug,
                description=model_admin.description,
                active=model_admin.slug == active_slug,
                group=model_admin.nav_group,
                order=model_admin.nav_order,
            )
        )
    return entries


def grouped_navigation(*entry_lists: t.Iterable[NavEntry]) -> list[NavGroup]:
    """The sidebar's groups (navigation.group_entries) of the entries given: the models'
    (navigation()) and the pages' (page_navigation(), whose ``table`` names their group when
    ``group`` does not), in the Admin's ``nav_groups`` order, collapsed as the user left them
    (the hyper_admin_nav_closed cookie: static/nav_groups.js) unless the current page is in."""
    entries = [entry for entries in entry_lists for entry in entries or ()]
    return group_entries(entries, current_state().admin.nav_groups, closed=closed_nav_groups())


def closed_nav_groups() -> frozenset[str]:
    return closed_groups(request.cookies.get(CLOSED_COOKIE))


def _page_entries(entries: t.Iterable[NavEntry]) -> list[NavEntry]:
    return [entry if entry.group is not None else replace(entry, group=entry.table)
            for entry in entries]


def _with_nav_groups(context: dict) -> None:
    """The grouped sidebar of the context's ``nav`` and ``nav_pages``."""
    context.setdefault("nav_groups", grouped_navigation(
        context.get("nav"), _page_entries(context.get("nav_pages") or ())))


def page_navigation() -> list[NavEntry]:
    """The application's site pages (admin.page, views/pages.py) the signed-in user may open,
    in registration order; ``table`` holds their group, or "Pages" (the navigation's heading)."""
    pages = current_state().admin.pages
    if not pages:
        return []
    principal = principal_of(current_user)
    active = (request.endpoint or "").rpartition(".")[2]
    entries = [NavEntry(label=str(page.title), url=admin_url("." + page.endpoint),
                        icon=page.icon, table=str(page.group or _("Pages")), description="",
                        active=page.endpoint == active,
                        # The label itself (a lazy string's group key is its source text).
                        group=page.group if page.group is not None else _("Pages"))
               for page in pages if page.allows(principal)]
    groups = list(dict.fromkeys(entry.table for entry in entries))
    return sorted(entries, key=lambda entry: groups.index(entry.table))  # one heading per group


def templates_for(screen: str, slug: str | None = None) -> list[str]:
    """Override order, as in Django: the app's per-model template, then per-screen, then ours
    (Flask looks in the app's templates/ before the blueprint's).

    Which of them exists is remembered (unless templates auto-reload, as in debug mode): Jinja
    caches the templates it finds, not the ones it does not, and asking again for a per-model
    template that is not there searched every template folder on every request."""
    names = [f"hyper_admin/{screen}.html"]
    if slug:
        names.insert(0, f"hyper_admin/{slug}/{screen}.html")
    env = current_app.jinja_env
    if env.auto_reload:
        return names
    found_in_env = _found.get(env)
    if found_in_env is None:
        found_in_env = _found[env] = {}
    key = (screen, slug)
    found = found_in_env.get(key)
    if found is None:
        found = names[-1]
        for name in names[:-1]:
            try:
                env.get_template(name)
            except TemplateNotFound:
                continue
            found = name
            break
        found_in_env[key] = found
    return [found]


_found: "weakref.WeakKeyDictionary[t.Any, dict[tuple, str]]" = weakref.WeakKeyDictionary()


def render_page(screen: str, *, page_title: str, breadcrumbs: t.Sequence[Crumb] = (),
                status_code: int = 200, slug: str | None = None, dialog: bool = False,
                template: str | None = None, **context):
    """The page, or for htmx its fragment. ``dialog``: a confirmation, which htmx shows in the
    layout's modal <dialog> instead (retargeted there, the address bar left as it is).
    ``template``: this template instead of the screen's (an application's page)."""
    state = current_state()
    shell = may_show_shell()
    layout = FRAGMENT_LAYOUT if current_htmx().wants_fragment else FULL_LAYOUT
    in_dialog = dialog and layout == FRAGMENT_LAYOUT
    if in_dialog:
        layout = DIALOG_LAYOUT
    if shell:
        context.setdefault("nav", navigation(slug))
        context.setdefault("nav_pages", page_navigation())
        _with_nav_groups(context)
        context.setdefault("user", current_user)
        context.setdefault("user_label", user_label(current_user))
        context.setdefault("roles", sorted(user_roles()))
    context.update(admin=state, page_title=page_title, breadcrumbs=list(breadcrumbs),
                   admin_layout=layout, in_dialog=in_dialog)
    names = [template] if template else templates_for(screen, slug)
    html = None
    if layout == FULL_LAYOUT and shell_applies():
        html = render_in_shell(names, context)
    if html is None:
        html = render_template(names, **context)
    response = make_response(html, status_code)
    if in_dialog:
        retarget(response, DIALOG_TARGET)
        reswap(response, "innerHTML")
        push_url(response, False)
    return response


def stream_page(screen: str, *, page_title: str, breadcrumbs: t.Sequence[Crumb] = (),
                slug: str | None = None, fragment: bool = False, **context):
    """A full admin page sent as Jinja renders it (a long bulk action's progress, a list
    shown whole); ``fragment``: htmx's fragment of it instead."""
    from flask import Response, stream_template

    context.setdefault("nav", navigation(slug))
    context.setdefault("nav_pages", page_navigation())
    _with_nav_groups(context)
    context.setdefault("user", current_user)
    context.setdefault("user_label", user_label(current_user))
    context.setdefault("roles", sorted(user_roles()))
    stream = stream_template(templates_for(screen, slug), admin=current_state(),
                             page_title=page_title, breadcrumbs=list(breadcrumbs),
                             admin_layout=FRAGMENT_LAYOUT if fragment else FULL_LAYOUT,
                             **context)
    return Response(stream, mimetype="text/html")


def render_standalone(template: str, *, page_title: str, status_code: int = 200, **context):
    """A page without the admin shell (sign-in, errors before access is established)."""
    html = render_template(template, admin=current_state(), page_title=page_title, **context)
    return make_response(html, status_code)
