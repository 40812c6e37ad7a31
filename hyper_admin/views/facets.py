"""The list's filter panel and active-filter chips, and GET /admin/<slug>/facets — the counts of
one field's choices, loaded by the panel in their own request so they never hold up the list.

Every control of the panel is a link or a GET form whose URL is the list's query string with
one change (CONTRACT §3): it works as a plain page load and as an htmx swap of #list-results.
"""

from __future__ import annotations

import calendar
import decimal
import functools
import datetime
import typing as t
from dataclasses import dataclass, field
from urllib.parse import quote_plus

from flask import abort, current_app, render_template, request, url_for
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from ..cells import badge_tone, format_value, status_class
from ..facets import FACET_CAP, FACET_TIME_LIMIT_MS, NULL, countable, filter_kind
from ..i18n import _, format_date, format_number, format_or_list
from ..introspect import ColumnInfo
from ..list_filters import filter_key
from ..options import ModelAdmin
from ..pipeline import admin_url
from ..query import FILTER_OPS, Filter, ListParams, ListSpec
from .common import (labels_of, list_request, model_admin_for, may_view,
                     read_engine_and_dialect, shared_counts)
from .render import templates_for

PAGING = ("page", "after", "before")
Pairs = list[tuple[str, str]]


@dataclass
class FilterOption:
    label: str
    url: str
    active: bool = False
    key: t.Any = None          # the value its count is filed under (FacetCounts)
    counted: bool = False      # whether a count is shown for it
    dot: str | None = None     # a choice's badge colour, as a dot before it (cells.status_class)


@dataclass
class FilterGroup:
    name: str                  # the field, as in the query string
    label: str
    kind: str                  # choice, bool, date, number, fk, text
    active: bool = False
    clear_url: str = ""        # the list without any filter on this field
    options: list[FilterOption] = field(default_factory=list)      # choices, then empty/not empty
    counts_url: str | None = None
    gte: str = ""
    lte: str = ""
    contains: str = ""
    gte_state: Pairs = field(default_factory=list)    # hidden inputs of the "from" form
    lte_state: Pairs = field(default_factory=list)
    eq_state: Pairs = field(default_factory=list)     # hidden inputs of the fk / text form
    presets: list[FilterOption] = field(default_factory=list)
    lookup_url: str | None = None
    current_value: str = ""
    current_label: str = ""


@dataclass
class FilterPanel:
    groups: list[FilterGroup]
    clear_url: str
    active: int                # how many filters the query string holds


@dataclass
class FilterChip:
    label: str                 # "Status = Paid", "Created at ≥ 2026-01-01"
    remove_url: str


# ---------------------------------------------------------------------------------------------
# Query strings


def _url(base: str, pairs: Pairs) -> str:
    """``base?urlencode(pairs)``: the panel builds dozens of these per page from the same few
    keys and values, so their quoting is memoised."""
    if not pairs:
        return base
    return base + "?" + "&".join(f"{_quoted(k)}={_quoted(v)}" for k, v in pairs)


@functools.lru_cache(maxsize=4096)
def _quoted(text: str) -> str:
    return quote_plus(text)


def _field_of(key: str) -> str:
    """The field a query-string key filters: ``total__gte`` -> ``total``, and a relation
    path's ``order__account__region__in`` -> ``order__account__region``."""
    head, _unused, last = key.rpartition("__")
    return head if head and last in FILTER_OPS else key


def _without(pairs: Pairs, *keys: str) -> Pairs:
    drop = set(keys) | set(PAGING)
    return [(k, v) for k, v in pairs if k not in drop]


def _bool_text(raw: str) -> str | None:
    lowered = raw.strip().lower()
    if lowered in ("1", "true", "yes", "on", "t"):
        return "1"
    if lowered in ("0", "false", "no", "off", "f"):
        return "0"
    return None


def _date_text(raw: str) -> str:
    """The date part of a filter value, as a date input shows it ('' if none)."""
    try:
        return datetime.date.fromisoformat(raw.strip()[:10]).isoformat()
    except ValueError:
        return ""


# ---------------------------------------------------------------------------------------------
# The panel


def date_presets(today: datetime.date) -> list[tuple[str, datetime.date, datetime.date]]:
    """(label, from, through) of the date presets, computed from ``today`` (UTC)."""
    last_day = calendar.monthrange(today.year, today.month)[1]
    return [
        (_("Today"), today, today),
        (_("Last 7 days"), today - datetime.timedelta(days=6), today),
        (_("This month"), today.replace(day=1), today.replace(day=last_day)),
        (_("This year"), today.replace(month=1, day=1), today.replace(month=12, day=31)),
    ]


def utc_today() -> datetime.date:
    return datetime.datetime.now(datetime.timezone.utc).date()


def filter_panel(model_admin: ModelAdmin, spec: ListSpec, pairs: Pairs, base: str, *,
                 today: datetime.date | None = None) -> FilterPanel:
    """The panel for the list at ``base`` whose query string is ``pairs``: one group per field
    of ``get_list_filter``, typed by its column."""
    today = today or utc_today()
    groups = []
    for name in map(filter_key, model_admin.get_list_filter(current_user)):
        column = spec.filterable.get(name)
        if column is not None and not (getattr(column, "is_custom_filter", False) and not column.choices):
            groups.append(filter_group(model_admin, column, name, pairs, base, today=today))
    active = sum(1 for k, _ in pairs if _field_of(k) in spec.filterable and k not in ("q", "sort"))
    keep = [(k, v) for k, v in pairs if k in ("q", "sort", "per_page")]
    return FilterPanel(groups=groups, clear_url=_url(base, keep), active=active)


def filter_group(model_admin: ModelAdmin, column: ColumnInfo, name: str, pairs: Pairs, base: str,
                 *, today: datetime.date) -> FilterGroup:
    kind = filter_kind(column)
    own = [k for k, _ in pairs if _field_of(k) == name]
    group = FilterGroup(name=name, label=column.label, kind=kind, active=bool(own),
                        clear_url=_url(base, _without(pairs, *own)))
    values = MultiDict(pairs)

    if kind in ("choice", "bool"):
        if kind == "bool":
            choices = [("1", _("Yes"), True), ("0", _("No"), False)]
            normal = _bool_text
        else:
            choices = [(str(v), label, v) for v, label in column.choices or ()]
            normal = str.strip
        selected = [normal(r) for r in values.getlist(name)]
        selected += [normal(p) for r in values.getlist(name + "__in") for p in r.split(",") if p.strip()]
        rest = _without(pairs, name, name + "__in")
        for text, label, key in choices:
            active = text in selected
            chosen = [c for c, _, _ in choices if (c in selected) != (c == text)]
            tone = badge_tone(column, key, model_admin.badges.get(column.attribute), label=str(label)) \
                if kind == "choice" else "neutral"
            group.options.append(FilterOption(
                label=label, url=_url(base, rest + [(name, c) for c in chosen]), active=active,
                key=key, counted=True, dot=status_class(tone)))
        group.counts_url = _url(admin_url(".facets", slug=model_admin.slug), [("field", name), *pairs])
    elif kind == "date":
        group.gte = _date_text(values.get(name + "__gte", ""))
        group.lte = _date_text(values.get(name + "__lte", ""))
        group.gte_state = _without(pairs, name + "__gte")
        group.lte_state = _without(pairs, name + "__lte")
        rest = _without(pairs, name + "__gte", name + "__lte")
        for label, start, end in date_presets(today):
            group.presets.append(FilterOption(
                label=label,
                url=_url(base, rest + [(name + "__gte", start.isoformat()), (name + "__lte", end.isoformat())]),
                active=(values.get(name + "__gte"), values.get(name + "__lte")) == (start.isoformat(), end.isoformat())))
    elif kind == "number":
        group.gte = values.get(name + "__gte", "")
        group.lte = values.get(name + "__lte", "")
        group.gte_state = _without(pairs, name + "__gte")
        group.lte_state = _without(pairs, name + "__lte")
    elif kind == "fk":
        group.eq_state = _without(pairs, name)
        target = model_admin_for(column.target_model) if column.target_model is not None else None
        if target is not None and may_view(target.model) and len(target.info.primary_key) == 1:
            group.lookup_url = admin_url(".lookup", slug=target.slug)
        current = values.getlist(name)
        if len(current) == 1:
            group.current_value = current[0]
            group.current_label = _fk_labels(column, current).get(current[0], f"#{current[0]}")
    else:
        group.contains = values.get(name + "__contains", "")
        group.eq_state = _without(pairs, name + "__contains")

    if column.nullable:
        flag = _bool_text(values.get(name + "__isnull", "") or "")
        rest = _without(pairs, name + "__isnull")
        for text, label, key in (("1", _("Is empty"), NULL), ("0", _("Is not empty"), "not-null")):
            active = flag == text
            url = _url(base, rest if active else rest + [(name + "__isnull", text)])
            group.options.append(FilterOption(label=label, url=url, active=active, key=key,
                                              counted=key is NULL and group.counts_url is not None))
    return group


def _fk_labels(column: ColumnInfo, raw: list[str]) -> dict[str, str]:
    if column.target_model is None:
        return {}
    keys: list[t.Any] = []
    for text in raw:
        try:
            keys.append(int(text) if column.kind == "int" else text)
        except ValueError:
            continue
    return {str(k): label for k, label in labels_of(column.target_model, keys).items()}


# ---------------------------------------------------------------------------------------------
# Active filters as chips


_OPS = {"eq": "=", "gte": "≥", "lte": "≤", "in": "=", "contains": "contains"}
#: Values of one repeated filter (``status=a&status=b``) shown as a chip each; more: one chip.
MAX_VALUE_CHIPS = 20


def filter_chips(spec: ListSpec, params: ListParams, pairs: Pairs, base: str) -> list[FilterChip]:
    """One chip per active filter (per value for ``field=`` repeated), each with the URL of the
    list without exactly that filter."""
    chips: list[FilterChip] = []
    for flt in params.filters:
        label = flt.column.label
        given = [raw for raw in flt.raw if raw.strip() != ""]
        if flt.op == "eq" and len(given) > MAX_VALUE_CHIPS:
            # One chip for them all: each chip's link repeats the whole query string, so a chip
            # per value made a page grow with the square of their number (40 MB for 1,000).
            chips.append(FilterChip(_("%(filter)s is one of %(count)s values",
                                      filter=label, count=format_number(len(given))),
                                    _url(base, _without(pairs, flt.key))))
            continue
        if flt.op == "eq":
            names = _value_labels(flt)
            for i, raw in enumerate(flt.raw):
                if raw.strip() == "":
                    continue
                remove = _drop_one(pairs, flt.key, raw)
                chips.append(FilterChip(f"{label} = {names.get(raw.strip(), raw)}", _url(base, remove)))
            continue
        remove = _url(base, _without(pairs, flt.key))
        if flt.op == "isnull":
            text = (_("%(filter)s is empty", filter=label) if flt.values[0]
                    else _("%(filter)s is not empty", filter=label))
        elif flt.op == "in":
            names = _value_labels(flt)
            parts = [p.strip() for r in flt.raw for p in r.split(",") if p.strip()]
            text = _("%(filter)s is %(values)s", filter=label,
                     values=format_or_list([names.get(p, p) for p in parts]))
        elif flt.op == "contains":
            text = _("%(filter)s contains “%(text)s”", filter=label, text=flt.raw[0])
        else:
            text = f"{label} {_OPS[flt.op]} {_bound_text(flt)}"
        chips.append(FilterChip(text, remove))
    return chips


def _bound_text(flt: Filter) -> str:
    """A range filter's bound as the list shows such a value ("1 nov. 2026", "893,50"); a
    date given to a timestamp column stays a date."""
    raw = flt.raw[0].strip()
    value = flt.values[0] if flt.values else None
    if isinstance(value, datetime.date) and len(raw) <= 10:
        return format_date(value)
    if isinstance(value, (datetime.date, datetime.time, int, float, decimal.Decimal)):
        return format_value(flt.column, value).text
    return raw


def _drop_one(pairs: Pairs, key: str, value: str) -> Pairs:
    out, dropped = [], False
    for k, v in pairs:
        if k in PAGING:
            continue
        if not dropped and k == key and v == value:
            dropped = True
            continue
        out.append((k, v))
    return out


def _value_labels(flt: Filter) -> dict[str, str]:
    """Readable names of a filter's raw values: choice labels, Yes/No, foreign-key labels."""
    column = flt.column
    raws = [p.strip() for r in flt.raw for p in (r.split(",") if flt.op == "in" else [r]) if p.strip()]
    if column.kind == "bool":
        return {r: _("Yes") if _bool_text(r) == "1" else _("No") for r in raws}
    if column.choices:
        labels = {str(v): label for v, label in column.choices}
        return {r: labels.get(r, r) for r in raws}
    if column.is_foreign_key:
        return _fk_labels(column, raws)
    return {}


# ---------------------------------------------------------------------------------------------
# GET /admin/<slug>/facets?field=<name>&<the list's query string>


def facets_view(model_admin: ModelAdmin):
    """The choices of one filter field with, per choice, how many rows of the list (with every
    other condition of its query string) it would keep; no numbers past the time limit."""
    name = request.args.get("field", "")
    if name not in map(filter_key, model_admin.get_list_filter(current_user)):
        abort(400, description=_("cannot count by %(name)s", name=repr(name)))
    pairs = [(k, v) for k, v in request.args.items(multi=True) if k != "field"]
    # The field's own filters stay out of the counts (so every option stays clickable); sort and
    # paging do not change counts, and a cursor would not survive the sort being dropped.
    counted_args = MultiDict([(k, v) for k, v in pairs
                              if _field_of(k) != name and k not in ("sort", "per_page", *PAGING)])
    listing = list_request(model_admin, counted_args)
    column = listing.spec.filterable.get(name)
    if column is None or not countable(column):
        abort(400, description=_("%(name)s has no counts", name=repr(name)))
    # The full query string still has to be valid: the option URLs are built from it.
    list_request(model_admin, MultiDict([(k, v) for k, v in pairs if k not in PAGING]))
    engine, dialect = read_engine_and_dialect(model_admin)
    time_limit = int(current_app.config.get("HYPER_ADMIN_FACET_TIME_LIMIT_MS", FACET_TIME_LIMIT_MS))
    counts = shared_counts(model_admin).facet_counts(
        engine, dialect, listing.spec, listing.params, column, cap=FACET_CAP,
        time_limit_ms=time_limit)
    base = url_for(".list", slug=model_admin.slug)
    group = filter_group(model_admin, column, name, pairs, base, today=utc_today())
    return render_template(templates_for("partials/facet_counts", model_admin.slug),
                           model_admin=model_admin, group=group, counts=counts)
