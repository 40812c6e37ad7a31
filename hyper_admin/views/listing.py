"""GET /admin/<slug>/ — the list, and GET /admin/<slug>/count — its count (fetched after its rows)."""

from __future__ import annotations

import typing as t
from types import SimpleNamespace
from urllib.parse import parse_qsl, urlencode

from flask import Response, render_template, request, make_response, stream_template
from flask_login import current_user
from markupsafe import Markup

from ..cells import DisplayColumn
from ..context import principal_of
from ..doctor import search_advice
from ..htmx import current_htmx, push_url
from ..i18n import _, format_count, format_number
from ..options import ModelAdmin
from ..query import MAX_SORT_FIELDS, table_estimate
from .dates import dates_url
from .facets import filter_chips, filter_panel
from . import show_all
from .common import (list_request, list_url, read_engine_and_dialect, replica_notice,
                     shared_counts)
from .list_rows import _row_link, row_columns, rows_of
from .row_menu import has_row_menu
from ..pipeline import admin_url
from .render import Crumb, render_page, stream_page, templates_for


def _args_without(*names: str, **updates: t.Any) -> str:
    items = [(k, v) for k, v in request.args.items(multi=True) if k not in names and k not in updates]
    items += [(k, v) for k, v in updates.items() if v is not None]
    return urlencode(items, safe=",")  # sort=status,-total reads as typed


def list_view(model_admin: ModelAdmin):
    user = current_user
    listing = list_request(model_admin, request.args)
    columns, spec, params = listing.columns, listing.spec, listing.params
    engine, dialect = read_engine_and_dialect(model_admin)
    row_link = _row_link(model_admin)
    plain, tokened = row_columns(model_admin, listing, row_link[0] if row_link else None)
    actions = model_admin.get_actions(user)
    can_delete = model_admin.has_permission("delete", user)
    page, rows, rows_html, whole = _page_rows(model_admin, listing, engine, dialect, plain,
                                              tokened, actions=actions, can_delete=can_delete)

    base = list_url(model_admin)
    next_query, prev_query = listing.pager(page)
    next_url = f"{base}?{next_query}" if next_query is not None else None
    prev_url = f"{base}?{prev_query}" if prev_query is not None else None

    pairs = list(request.args.items(multi=True))
    headers = _headers(columns, spec, base, request.args.get("sort", "") if params.sort_given else "")

    context = dict(
        model_admin=model_admin, headers=headers, rows=rows, page=page, params=params,
        rows_html=rows_html, show_all=whole,
        q=params.q, next_url=next_url, prev_url=prev_url, list_url=base,
        filters=filter_chips(spec, params, pairs, base),
        filter_panel=filter_panel(model_admin, spec, pairs, base),
        actions=actions, row_menu=has_row_menu(model_admin, actions),
        can_add=model_admin.has_permission("add", user),
        can_change=model_admin.has_permission("change", user),
        can_delete=can_delete,
        can_export=model_admin.has_permission("export", user),
        searchable=bool(spec.search),
        column_choices=[{"key": c.key, "label": c.label, "shown": c in columns}
                        for c in listing.all_columns],
        chooser_state=[(k, v) for k, v in request.args.items(multi=True)
                       if k not in ("columns", "after", "before", "page")],
        query_string=request.query_string.decode("latin-1"),
        total_text=_total_text(page),
        row_range=_row_range(page),
        count_url=_count_url(model_admin) if page.total_kind == "deferred" else None,
        live=_live_context(model_admin, listing),
        dates_url=dates_url(model_admin) if model_admin.date_hierarchy else None,
        search_hint=_search_hint(model_admin, params, engine, dialect),
        replica_notice=replica_notice(),
    )
    htmx = current_htmx()
    if htmx.wants_fragment and htmx.target == "list-results":
        # The panel and the search form's hidden state sit outside #list-results: sent out of
        # band, unless only the page changed (Next/Previous), which leaves both as they are.
        names = templates_for("partials/list_results", model_admin.slug)
        panel_oob = not _only_paging(htmx, pairs)
        if whole.on:  # the whole list: sent as its rows are read
            response = Response(stream_template(names, panel_oob=panel_oob, **context),
                                mimetype="text/html")
        else:
            response = make_response(render_template(names, panel_oob=panel_oob, **context))
        return push_url(response, request.full_path.rstrip("?"))
    page_options = dict(slug=model_admin.slug, page_title=model_admin.verbose_name_plural,
                        breadcrumbs=[Crumb(_("Dashboard"), _dashboard_url()),
                                     Crumb(model_admin.verbose_name_plural)])
    if whole.on:
        return stream_page("list", fragment=htmx.wants_fragment, **page_options, **context)
    return render_page("list", **page_options, **context)


#: Rows (the table's statistics) from which a search that reads the whole table gets a hint.
SEARCH_HINT_ROWS = 100_000


def _search_hint(model_admin: ModelAdmin, params, engine, dialect) -> dict | None:
    """For a superuser, when a plain (contains) search reads the whole of a big table because
    no trigram index serves it: how big, and the statements that would (doctor.py)."""
    q = params.q
    if (not q or q[0] in "=^" or not dialect.is_postgresql
            or not principal_of(current_user).superuser):
        return None
    rows = table_estimate(engine, dialect, model_admin.info)
    if rows is None or rows < SEARCH_HINT_ROWS:
        return None
    advice = search_advice(model_admin, current_user, engine, dialect)
    if not advice:
        return None
    return {"rows": format_count(rows, "estimate"), "statements": [a.statement for a in advice]}


def _page_rows(model_admin: ModelAdmin, listing, engine, dialect, plain, tokened, *,
               actions, can_delete) -> tuple[t.Any, list, t.Any, show_all.ShowAll]:
    """(the page, its rendered rows, their markup, what the pager says of Show all): for
    ``all=1`` the whole list when it may be shown so (its markup then an iterator, read as the
    response is sent), else the page the query string asks for."""
    every, refused = (show_all.refusal(model_admin, listing, engine, dialect)
                      if listing.params.show_all else (None, None))
    if every is not None:
        page, rows, rows_html = show_all.whole_list(model_admin, listing, engine, dialect, plain,
                                                    tokened, every, actions=actions,
                                                    can_delete=can_delete)
    else:
        page = listing.page(engine, dialect, plain, defer_count=True,
                            shared=shared_counts(model_admin))
        rows = rows_of(model_admin, listing, page, tokened, actions=actions, can_delete=can_delete)
        rows_html = Markup("\n".join(row.html for row in rows))
    return page, rows, rows_html, _show_all_state(model_admin, listing, page, every, refused)


def _show_all_state(model_admin: ModelAdmin, listing, page, every: int | None,
                    refused: str | None) -> show_all.ShowAll:
    """The pager's Show all: on (with the way back to pages), the link when the page's count
    allows it, or why ``all=1`` was refused."""
    if every is not None:
        return show_all.ShowAll(on=True, count=format_number(every),
                                paged_url=show_all.paged_url(model_admin, listing))
    state = (show_all.link(model_admin, listing, page.total, page.total_kind)
             or show_all.ShowAll())
    state.refused = refused
    return state


def _headers(columns: list[DisplayColumn], spec, base: str, sort: str) -> list[dict]:
    """The column headers, with their sort links, as Django's admin does it: a header's link
    makes its column the first sort field (ascending; the other way round when it already is
    first; in its direction when it was a later one), keeping the fields the list is sorted by
    after it, so that sorting by several columns takes clicks, not typing. A list sorted by
    several fields shows each one's rank and a link that takes it out of the sort. ``sort``: the ``sort=`` of the request (already
    checked), empty for the model's default order."""
    current: list[tuple[str, bool]] = []
    for part in sort.split(","):
        name = part.strip().lstrip("-+")
        if name and name not in dict(current):
            current.append((name, part.strip().startswith("-")))
    rank = {name: (i, descending) for i, (name, descending) in enumerate(current)}

    def link(fields: list[tuple[str, bool]]) -> str:
        value = ",".join(("-" if descending else "") + name for name, descending in fields)
        return f"{base}?{_args_without('after', 'before', 'page', 'sort', sort=value or None)}".rstrip("?")

    headers = []
    for column in columns:
        key = column.sort_key
        sort_url = remove_url = None
        position = rank.get(key) if key else None
        if key and key in spec.sortable:
            if position is None:
                first = (key, False)
            else:
                first = (key, not position[1] if position[0] == 0 else position[1])
            others = [(name, descending) for name, descending in current if name != key]
            sort_url = link([first, *others][:MAX_SORT_FIELDS])
            if position is not None and len(current) > 1:
                remove_url = link(others)
        headers.append({
            "label": column.label, "sort_url": sort_url, "numeric": column.numeric,
            "direction": None if position is None else ("desc" if position[1] else "asc"),
            "rank": position[0] + 1 if position is not None and len(current) > 1 else None,
            "primary": position is not None and position[0] == 0,
            "remove_url": remove_url,
        })
    return headers


def _live_context(model_admin: ModelAdmin, listing) -> dict | None:
    """The Live toggle (``?live=1``) and, when on, the stream's URLs from the newest row."""
    if not getattr(model_admin, "live", False):
        return None
    on = request.args.get("live") == "1"
    toggle = f"{list_url(model_admin)}?{_args_without('after', 'before', 'page', 'live', live='1' if not on else None)}"
    context = {"on": on, "toggle_url": toggle.rstrip("?")}
    if on:
        from .live import newest_value

        query = _args_without("after", "before", "page", "live", since=newest_value(model_admin, listing))
        context["stream_url"] = admin_url(".live", slug=model_admin.slug) + "?" + query
        context["rows_url"] = admin_url(".live_rows", slug=model_admin.slug) + "?" + query
    return context


def _count_url(model_admin: ModelAdmin) -> str:
    """Where the list fetches its count (the list's query string, without paging)."""
    query = _args_without("after", "before", "page")
    url = admin_url(".count", slug=model_admin.slug)
    return f"{url}?{query}" if query else url


def count_view(model_admin: ModelAdmin):
    """GET /admin/<slug>/count?<list query string>: how many rows the list matches, as the
    list shows it (exact, "about", "more than" with a link to count exactly), loaded by the
    list in its own request so that counting never holds the rows up."""
    listing = list_request(model_admin, request.args)
    engine, dialect = read_engine_and_dialect(model_admin)
    total = listing.count(engine, dialect, shared=shared_counts(model_admin))
    page = SimpleNamespace(total=total.value, total_kind=total.kind)
    query_string = _args_without("after", "before", "page", "count")
    # The pager's "Show all (N)", now that N is known (out of band: it sits in the pager).
    oob_show_all = (None if listing.params.show_all else
                    show_all.link(model_admin, listing, total.value, total.kind))
    return make_response(render_template(
        templates_for("partials/list_count", model_admin.slug), model_admin=model_admin,
        page=page, total_text=_total_text(page), list_url=list_url(model_admin),
        query_string=query_string, count_url=None, oob_show_all=oob_show_all))


def _only_paging(htmx, pairs: list[tuple[str, str]]) -> bool:
    """Whether this swap only moves to another page of the list the browser shows."""
    current = htmx.current_path
    if current is None:
        return False
    path, _unused, query = current.partition("?")
    if path != request.path:
        return False
    ignored = ("after", "before", "page")
    before = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if k not in ignored]
    return before == [(k, v) for k, v in pairs if k not in ignored]


def _dashboard_url() -> str:
    from flask import url_for

    return url_for(".dashboard")


def _row_range(page) -> dict | None:
    """The rows the page shows, counted from 1 ("51" to "100"), when the list spans more than
    this page and the page knows where it starts; None otherwise (the count alone says it)."""
    if not page.rows or page.offset is None:
        return None
    if not (page.has_next or page.has_prev or page.offset):
        return None
    return {"first": format_number(page.offset + 1), "last": format_number(page.offset + len(page.rows))}


def _total_text(page) -> str:
    """The count as the list shows it: "1,234", "about 9.8M", "more than 10,000" (per locale)."""
    return format_count(page.total, page.total_kind)
