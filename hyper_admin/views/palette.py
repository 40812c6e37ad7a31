"""GET /admin/-/palette?q= — the command palette's results: the models the user may view, their
saved views, the rows they changed lately, and rows of searchable models matching ``q``.

The palette (a ``<dialog>`` of the layout, static/palette.js) asks for it as the user types;
without htmx the same URL is a page with a search form, so the palette's button works without
JavaScript too. Every row comes through the list's own query (query.select_list with ``q``):
the user's scope, ``base_query``, the model's ``search_fields`` minus secret columns, a few rows
per model, each model's search within a short time limit and the whole answer within a budget.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from urllib.parse import urlencode

from flask import abort, make_response, render_template, request
from flask_login import current_user
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException

from .. import audit
from ..cells import coerced, decode_pk, encode_pk, label_columns, label_for
from ..htmx import current_htmx
from ..i18n import _
from ..options import ModelAdmin
from ..pipeline import admin_url, current_state, is_superuser
from ..query import RelatedColumn, fetch_rows_by_pk, select_list
from ..sql import QueryTimeout, limited
from ..storage import TablesMissing
from .common import engine_and_dialect, list_request, list_url, read_engine_and_dialect
from ..values import action_label
from .render import Crumb, navigation, page_navigation, render_page, templates_for
from .saved import palette_views
from .visits import recent_visits

MAX_Q = 200
ROWS_PER_MODEL = 5
MIN_ROW_SEARCH = 2           # characters of q before rows are searched
MAX_MODELS_SEARCHED = 12     # searchable models asked per answer, in navigation order
MODEL_TIME_LIMIT = 0.5       # seconds one model's search may run
BUDGET = 1.5                 # seconds for all the models' searches of one answer
RECENT = 5
VIEWS = 8


@dataclass
class Item:
    label: str
    url: str
    icon: str
    hint: str = ""       # what it is: the model of a row, "Saved view of Orders"...


@dataclass
class Group:
    label: str
    items: list[Item] = field(default_factory=list)
    more_url: str | None = None  # "Search all N..." in the model's list
    note: str | None = None      # a search that was stopped


def palette_view():
    q = request.args.get("q", "").strip()
    if len(q) > MAX_Q or "\x00" in q:
        abort(400, description=_("search is limited to %(count)s characters", count=MAX_Q))
    groups = [g for g in (_visited(q), _models(q), _pages(q), _views(q), _recent(q)) if g.items]
    groups += _rows(q)
    context = dict(groups=groups, q=q, searched_rows=len(q) >= MIN_ROW_SEARCH)
    htmx = current_htmx()
    if htmx.wants_fragment and htmx.target == "palette-results":
        return make_response(render_template(templates_for("partials/palette_results"), listbox=True,
                                             **context))
    return render_page("palette", page_title=_("Go to"), breadcrumbs=[
        Crumb(_("Dashboard"), admin_url(".dashboard")), Crumb(_("Go to"))], listbox=False, **context)


def _matches(q: str, *texts: str) -> bool:
    """Every word of ``q`` in one of ``texts``, case-insensitively."""
    haystack = " ".join(map(str, texts)).casefold()
    return all(word in haystack for word in q.casefold().split())


def _models(q: str) -> Group:
    group = Group(_("Models"))
    for entry in navigation():
        if entry.url and _matches(q, entry.label, entry.table, entry.group or ""):
            # The model's navigation group, when it has one ("Sales"): where the sidebar has it.
            hint = (_("Model · %(group)s", group=entry.group) if entry.group is not None
                    else _("Model"))
            group.items.append(Item(entry.label, entry.url, entry.icon, hint))
    return group


def _pages(q: str) -> Group:
    """The application's site pages (admin.page) the user may open."""
    group = Group(_("Pages"))
    for entry in page_navigation():
        if _matches(q, entry.label, entry.table):
            group.items.append(Item(entry.label, entry.url, entry.icon, entry.table))
    return group


def _viewable() -> dict[str, ModelAdmin]:
    return {ma.slug: ma for ma in current_state().model_admins()
            if ma.has_permission("view", current_user)}


def _views(q: str) -> Group:
    models = _viewable()
    group = Group(_("Saved views"))
    for view in palette_views(models, q, limit=VIEWS):
        model_admin = models[view["model_slug"]]
        models_name = str(model_admin.verbose_name_plural).lower()
        hint = (_("View of %(models)s", models=models_name) if view["mine"] else
                _("View of %(models)s · shared by %(owner)s", models=models_name,
                  owner=view["owner"]))
        group.items.append(Item(view["name"], view["url"], "bookmark", hint))
    return group


def _visited(q: str) -> Group:
    """The rows whose detail pages the user opened lately, newest first: those of models the
    user may still view, still in the user's scope (one query per model)."""
    group = Group(_("Recently visited"))
    visits = recent_visits()
    models = _viewable()
    wanted: dict[str, list[tuple]] = {}
    for slug, pk_text, label in visits:
        model_admin = models.get(slug)
        if model_admin is None or not _matches(q, label, model_admin.verbose_name):
            continue
        pk = decode_pk(model_admin.info, pk_text)
        if pk is not None:
            wanted.setdefault(slug, []).append(pk)
    if not wanted:
        return group
    present = set()
    for slug, pks in wanted.items():
        model_admin = models[slug]
        engine, dialect = read_engine_and_dialect(model_admin)
        info = model_admin.info
        for row in fetch_rows_by_pk(engine, dialect, info, pks, info.primary_key,
                                    scope=model_admin.scope(current_user)):
            present.add((slug, encode_pk([row[c.name] for c in info.primary_key])))
    for slug, pk_text, label in visits:
        if (slug, pk_text) in present:
            model_admin = models[slug]
            group.items.append(Item(label, admin_url(".detail", slug=slug, pk=pk_text), "clock",
                                    str(model_admin.verbose_name)))
    return group


def _recent(q: str) -> Group:
    """Rows the user changed lately, newest first, once each. As on the dashboard, a model
    with a scope for this user is left out (unless a superuser): the row may have left it."""
    superuser = is_superuser()
    models = {slug: ma for slug, ma in _viewable().items()
              if superuser or ma.scope(current_user) is None}
    group = Group(_("Recently changed by you"))
    if not models:
        return group
    engine, dialect = engine_and_dialect()
    try:
        current_state().ensure_tables()
    except TablesMissing:
        return group  # create_tables=False before the migrations ran: nothing recorded yet
    seen = set()
    for entry in audit.entries(engine, dialect, admin_name=current_state().name,
                               slugs=set(models), user_id=str(current_user.get_id()), limit=50):
        key = (entry["model_slug"], entry["pk"])
        if key in seen or entry["action"] == "delete":
            seen.add(key)
            continue
        seen.add(key)
        model_admin = models[entry["model_slug"]]
        label = entry["object_label"] or f"{model_admin.verbose_name} {entry['pk']}"
        if not _matches(q, label, model_admin.verbose_name):
            continue
        group.items.append(Item(
            label, admin_url(".detail", slug=model_admin.slug, pk=entry["pk"]), "history",
            f"{model_admin.verbose_name} · {action_label(model_admin, entry['action']).lower()}"))
        if len(group.items) >= RECENT:
            break
    return group


def _rows(q: str) -> list[Group]:
    """Up to ROWS_PER_MODEL rows per searchable model matching ``q``, by the list's search."""
    if len(q) < MIN_ROW_SEARCH:
        return []
    groups = []
    deadline = time.monotonic() + BUDGET
    searched = 0
    for model_admin in _viewable().values():
        if model_admin.is_query_view:
            continue  # its rows have no page of their own
        try:
            listing = list_request(model_admin, MultiDict([("q", q), ("per_page", str(ROWS_PER_MODEL))]))
        except HTTPException:  # a query too long or odd for this list: not searched
            continue
        spec = listing.spec
        # Never search a secret column, even one a ModelAdmin names in search_fields.
        spec.search = [s for s in spec.search
                       if not (s.column if isinstance(s, RelatedColumn) else s).secret]
        if not spec.search:
            continue
        if searched >= MAX_MODELS_SEARCHED:
            break
        group = Group(model_admin.verbose_name_plural,
                      more_url=list_url(model_admin) + "?" + urlencode({"q": q}))
        left = deadline - time.monotonic()
        if left <= 0.05:
            group.note = _("Not searched: the search took too long. Open the list to search it.")
            groups.append(group)
            continue
        searched += 1
        columns = label_columns(model_admin, model_admin.model)
        engine, dialect = read_engine_and_dialect(model_admin)
        try:
            with limited(min(MODEL_TIME_LIMIT, left)):
                page = select_list(engine, dialect, spec, listing.params, columns, listing.joins,
                                   count_cap=None)
        except QueryTimeout:
            group.note = _("The search took too long here. Open the list to search it.")
            groups.append(group)
            continue
        info = model_admin.info
        for row in page.rows:
            values = coerced(info, row)
            pk = [values[c.name] for c in info.primary_key]
            group.items.append(Item(
                label_for(model_admin, model_admin.model, values),
                admin_url(".detail", slug=model_admin.slug, pk=encode_pk(pk)),
                model_admin.icon or "table", model_admin.verbose_name))
        if group.items:
            if not page.has_next:
                group.more_url = None
            groups.append(group)
    return groups

