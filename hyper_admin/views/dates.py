"""GET /admin/<slug>/dates?<the list's query string>: the list's date drill-down bar
(``ModelAdmin.date_hierarchy``), loaded by the list after its rows, like the filter counts."""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort, current_app, render_template, request
from werkzeug.datastructures import MultiDict

from ..dates import Selection, selection_of
from ..facets import FACET_TIME_LIMIT_MS
from ..i18n import _, current_locale, format_date
from ..options import ModelAdmin
from ..pipeline import admin_url
from ..query import path_key
from .common import list_request, list_url, read_engine_and_dialect, shared_counts
from .facets import PAGING, _url
from .render import templates_for

Pairs = list[tuple[str, str]]


@dataclass(frozen=True)
class DateLink:
    label: str
    url: str | None       # None: the current period (a crumb that is where the user is)
    current: bool = False


@dataclass(frozen=True)
class DateBar:
    crumbs: list[DateLink]      # All dates › 2026 › November
    periods: list[DateLink]     # the years, months or days below the current one
    level: str                  # what ``periods`` are: year, month, day (none: a day is chosen)
    timed_out: bool = False


def dates_url(model_admin: ModelAdmin) -> str:
    """Where the list fetches its bar, with the list's query string (paging left out)."""
    pairs = [(k, v) for k, v in request.args.items(multi=True) if k not in PAGING]
    return _url(admin_url(".dates", slug=model_admin.slug), pairs)


def _period_url(base: str, pairs: Pairs, name: str, selection: Selection | None) -> str:
    kept = [(k, v) for k, v in pairs if k not in (f"{name}__gte", f"{name}__lte", *PAGING)]
    if selection is not None:
        first, last = selection.bounds()
        kept += [(f"{name}__gte", first.isoformat()), (f"{name}__lte", last.isoformat())]
    return _url(base, kept)


def date_bar(name: str, pairs: Pairs, base: str, found: list[int] | None,
             selection: Selection) -> DateBar:
    """The bar for ``selection``: its crumbs and the ``found`` periods below it, as links to
    the list at ``base`` with ``pairs`` (the list's query string) and that period's bounds."""
    months = current_locale().months["stand-alone"]
    crumbs = [DateLink(_("All dates"), _period_url(base, pairs, name, None),
                       current=selection.year is None)]
    if selection.year is not None:
        crumbs.append(DateLink(str(selection.year),
                               _period_url(base, pairs, name, Selection(selection.year)),
                               current=selection.month is None))
    if selection.month is not None:
        crumbs.append(DateLink(months["wide"][selection.month],
                               _period_url(base, pairs, name,
                                           Selection(selection.year, selection.month)),
                               current=selection.day is None))
    if selection.day is not None:
        crumbs.append(DateLink(format_date(selection.bounds()[0]), None, current=True))
    periods = []
    for key in found or ():
        if selection.level == "year":
            label, chosen = str(key), Selection(key)
        elif selection.level == "month":
            label, chosen = months["abbreviated"][key], Selection(selection.year, key)
        else:
            label, chosen = str(key), Selection(selection.year, selection.month, key)
        periods.append(DateLink(label, _period_url(base, pairs, name, chosen)))
    return DateBar(crumbs, periods, selection.level, timed_out=found is None)


def dates_view(model_admin: ModelAdmin):
    if not model_admin.date_hierarchy:
        abort(404)
    name = path_key(model_admin.date_hierarchy)  # a path's query-string name: order__created_at
    pairs: Pairs = [(k, v) for k, v in request.args.items(multi=True) if k not in PAGING]
    listing = list_request(model_admin, MultiDict(pairs))  # 400 for a bad query string
    column = listing.spec.filterable.get(name)
    if column is None:
        abort(404)
    selection = selection_of(request.args.get(f"{name}__gte"), request.args.get(f"{name}__lte"))
    engine, dialect = read_engine_and_dialect(model_admin)
    time_limit = int(current_app.config.get("HYPER_ADMIN_FACET_TIME_LIMIT_MS", FACET_TIME_LIMIT_MS))
    found = shared_counts(model_admin).periods_with_rows(
        engine, dialect, listing.spec, listing.params, column, selection,
        time_limit_ms=time_limit)
    bar = date_bar(name, pairs, list_url(model_admin), found, selection)
    return render_template(templates_for("partials/date_hierarchy", model_admin.slug),
                           model_admin=model_admin, bar=bar, field_label=column.label)
