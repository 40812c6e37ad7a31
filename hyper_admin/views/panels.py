"""Panels over HTTP: ``GET /-/panels/<id>`` (the dashboard's) and
``GET /<slug>/<pk>/panels/<id>`` (a detail page's, filtered to that row), and the placeholders
the pages show until each panel has loaded (htmx, ``hx-trigger="load"``).

A panel answers 200 with its content; when its query failed or ran past its time limit, it
answers 500 or 503 with an error card in place of the content and ``X-Hyper-Admin-Panel:
error``, which admin.js lets htmx swap in (other 5xx answers are not swapped). Without htmx the
same URL shows the panel alone inside the admin's layout.
"""

from __future__ import annotations

import datetime as dt
import typing as t
from dataclasses import dataclass

from flask import abort, current_app, make_response, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup

from .. import charts, markdown, panels
from ..htmx import current_htmx
from ..i18n import _, format_datetime, format_percent, lazy_gettext as _l, ngettext
from ..markdown import safe_url
from ..options import ModelAdmin
from ..panels import Panel, PanelContext, PanelResult
from ..pipeline import current_state
from .common import labels_of, list_url, load_row, model_admin_for, read_engine_and_dialect
from .render import Crumb, render_page, templates_for

ERROR_MESSAGES = {
    "timeout": _l("The query took too long and was stopped. The rest of the page is not "
                  "affected; try again in a moment."),
    "unavailable": _l("The database could not answer right now. Try again in a moment."),
    "error": _l("Something went wrong while computing this panel. The error was logged."),
}
ERROR_STATUS = {"timeout": 503, "unavailable": 503, "error": 500}


@dataclass
class PanelSlot:
    """A panel as a page shows it before it has loaded: a placeholder that fetches ``url``."""

    panel: Panel
    url: str
    dom_id: str
    html: Markup | None = None   # panels with no query, rendered with the page


def _visible(candidates: t.Iterable[Panel]) -> list[Panel]:
    admin = current_state().admin
    return [p for p in candidates if p.has_permission(current_user, admin)]


def dashboard_slots() -> list[PanelSlot]:
    """The dashboard's panels the user may see. Runs no panel query."""
    slots = []
    for panel in _visible(current_state().admin.dashboard):
        url = url_for(".panel", panel_id=panel.id)
        slots.append(_slot(panel, url, location="dashboard"))
    return slots


def detail_slots(model_admin: ModelAdmin, pk: str) -> list[PanelSlot]:
    """The detail page's panels the user may see (the row is known to be in scope)."""
    slots = []
    for panel in _visible(model_admin._detail_panels.values()):
        url = url_for(".detail_panel", slug=model_admin.slug, pk=pk, panel_id=panel.id)
        slots.append(_slot(panel, url, location=f"{model_admin.slug}/{pk}"))
    return slots


def _slot(panel: Panel, url: str, *, location: str) -> PanelSlot:
    slot = PanelSlot(panel, url, f"panel-{panel.id}")
    if not panel.deferred:
        # No query (a note): part of the page, not a request of its own.
        result = PanelResult(data=panel.data(None), at=current_state().panel_cache.now())
        slot.html = Markup(_render(panel, result, url, slot.dom_id))
    return slot


# ---------------------------------------------------------------------------------------------
# Routes


def panel_view(panel_id: str):
    panel = current_state().admin.dashboard.get(panel_id)
    if panel is None:
        abort(404)
    if not panel.has_permission(current_user, current_state().admin):
        abort(403)
    crumbs = [Crumb(_("Dashboard"), url_for(".dashboard")), Crumb(panel.title)]
    return _answer(panel, location="dashboard", url=url_for(".panel", panel_id=panel.id),
                   crumbs=crumbs)


def detail_panel_view(model_admin: ModelAdmin, pk: str, panel_id: str):
    # The row first: outside the scope it is a 404, like its detail page (CONTRACT §2 order).
    pk_values, _unused = load_row(model_admin, pk, columns=list(model_admin.info.primary_key))
    panel = model_admin._detail_panels.get(panel_id)
    if panel is None:
        abort(404)
    if not panel.has_permission(current_user, current_state().admin):
        abort(403)
    crumbs = []
    if not current_htmx().wants_fragment:
        label = labels_of(model_admin.model, [pk_values[0]]).get(pk_values[0], pk)
        crumbs = [Crumb(_("Dashboard"), url_for(".dashboard")),
                  Crumb(model_admin.verbose_name_plural, list_url(model_admin)),
                  Crumb(label, url_for(".detail", slug=model_admin.slug, pk=pk)),
                  Crumb(panel.title)]
    url = url_for(".detail_panel", slug=model_admin.slug, pk=pk, panel_id=panel.id)
    return _answer(panel, location=f"{model_admin.slug}/{pk}", url=url, crumbs=crumbs,
                   row=pk_values[0], row_model=model_admin.model)


def _answer(panel: Panel, *, location: str, url: str, crumbs: list[Crumb], row: t.Any = None,
            row_model: type | None = None):
    state = current_state()
    engine, _dialect = read_engine_and_dialect(
        model_admin_for(row_model) if row_model is not None else None)
    ctx = PanelContext(admin=state.admin, engine=engine, user=current_user,
                       now=panels.utcnow(), panel=panel, row=row, row_model=row_model)
    key = panels.cache_key(state.name, location, panel, ctx)
    result = panels.load(panel, ctx, state.panel_cache, key, fresh=request.args.get("fresh") == "1",
                         default_timeout=state.statement_timeout)
    if result.exception is not None:
        _log(panel, result)
    html = _render(panel, result, url, f"panel-{panel.id}")
    status = 200 if result.ok else ERROR_STATUS.get(result.error or "error", 500)
    if current_htmx().wants_fragment:
        response = make_response(html, status)
    else:
        response = render_page("panel", page_title=panel.title, breadcrumbs=crumbs,
                               status_code=status, panel_html=Markup(html))
    if not result.ok:
        response.headers["X-Hyper-Admin-Panel"] = "error"
    return response


def _log(panel: Panel, result: PanelResult) -> None:
    logger = current_app.logger
    if result.error == "error":
        logger.error("hyper_admin: panel %r failed", panel.id, exc_info=result.exception)
    else:
        logger.warning("hyper_admin: panel %r: %s: %s", panel.id, result.error,
                       str(result.exception).strip().splitlines()[0] if str(result.exception).strip() else "")


# ---------------------------------------------------------------------------------------------
# Presentation: what the templates show, per kind


def _render(panel: Panel, result: PanelResult, url: str, dom_id: str) -> str:
    context: dict[str, t.Any] = {
        "panel": panel, "url": url, "fresh_url": url + "?fresh=1", "dom_id": dom_id,
        "result": result, "updated": _updated(result), "data": result.data,
        "error_message": ERROR_MESSAGES.get(result.error or "", None),
    }
    if result.ok:
        present = _PRESENTERS.get(panel.kind)
        if present is not None:
            context.update(present(panel, result.data, dom_id))
        body = [panel.template] if panel.template else templates_for(f"partials/panel_{panel.kind}")
    else:
        body = templates_for("partials/panel_error")
    context["body_template"] = body
    return render_template(templates_for("partials/panel"), admin=current_state(), **context)


def _updated(result: PanelResult) -> dict[str, str]:
    """How old the data is: said on the panel once it is a minute old (fresh data needs no
    word), always in the refresh button's title."""
    age = max(0.0, current_state().panel_cache.now() - result.at)
    if age < 60:
        text = ""
    elif age < 3600:
        text = _("%(minutes)s min ago", minutes=int(age // 60))
    else:
        text = _("%(hours)s h ago", hours=int(age // 3600))
    when = dt.datetime.fromtimestamp(result.at, dt.timezone.utc)
    stamp = format_datetime(when.replace(tzinfo=None))
    return {"text": text, "iso": when.isoformat(timespec="seconds"),
            "title": _("Updated %(when)s UTC, %(age)s", when=stamp, age=text) if text
            else _("Updated %(when)s UTC, just now", when=stamp)}


def _ref_url(ref: t.Any) -> str | None:
    """The detail URL of ``[slug, pk]`` if the user may view that model, else None."""
    if not ref or not ref[0]:
        return None
    model_admin = current_state().model_admin_by_slug(ref[0])
    if model_admin is None or not model_admin.has_permission("view", current_user):
        return None
    return url_for(".detail", slug=ref[0], pk=ref[1])


def _period_texts(period: dt.timedelta | None) -> tuple[str, str] | tuple[None, None]:
    """How a metric's period is said: ("last 7 days", "the previous 7 days")."""
    if period is None:
        return None, None
    seconds = int(period.total_seconds())
    if seconds % 86400 == 0 and (seconds // 86400) % 7 == 0 and seconds // 86400 > 7:
        n = seconds // 604800
        return (ngettext("last %(num)s week", "last %(num)s weeks", n),
                ngettext("the previous %(num)s week", "the previous %(num)s weeks", n))
    if seconds % 86400 == 0:
        n = seconds // 86400
        return (ngettext("last day", "last %(num)s days", n),
                ngettext("the previous day", "the previous %(num)s days", n))
    if seconds % 3600 == 0:
        n = seconds // 3600
        return (ngettext("last hour", "last %(num)s hours", n),
                ngettext("the previous hour", "the previous %(num)s hours", n))
    n = seconds // 60
    return (_("last %(num)s min", num=n), _("the previous %(num)s min", num=n))


def _present_metric(panel: Panel, data: dict, dom_id: str) -> dict:
    fmt = getattr(panel, "format", None)
    value, previous = data.get("value"), data.get("previous")
    delta = None
    if value is not None and previous is not None:
        diff = value - previous
        direction = "up" if diff > 0 else "down" if diff < 0 else "flat"
        good = getattr(panel, "good", "up")
        tone = "neutral" if good is None or direction == "flat" else (
            "good" if direction == good else "bad")
        pct = None
        sign = "+" if diff > 0 else "−" if diff < 0 else "±"
        if previous:
            change = abs(diff / previous * 100)
            places = 1 if change < 10 else 0
            pct = (format_percent(0) if round(change, places) == 0
                   else sign + format_percent(change, places))
        delta = {"direction": direction, "tone": tone, "pct": pct,
                 "diff": sign + charts.format_value(abs(diff), fmt),
                 "previous": charts.format_value(previous, fmt)}
    period_text, compare_text = _period_texts(getattr(panel, "period", None))
    return {"value_text": charts.format_value(value, fmt), "delta": delta,
            "period_text": period_text, "compare_text": compare_text}


def _present_series(panel: Panel, data: dict, dom_id: str) -> dict:
    fmt = getattr(panel, "format", None)
    bucket = getattr(panel, "bucket", "day")
    buckets = [dt.datetime.fromisoformat(b) for b in data.get("buckets", [])]
    series = [charts.ChartSeries(s["name"], s["values"], s.get("color"))
              for s in data.get("series", [])]
    summable = getattr(panel, "summable", True)
    partial = getattr(panel, "partial_last", False)
    svg = charts.time_series_svg(
        chart_id=f"{dom_id}-chart", title=panel.title, buckets=buckets, bucket=bucket,
        series=series, kind=getattr(panel, "chart", "bars"), fmt=fmt, partial_last=partial,
        description=charts.describe(buckets, bucket, series, fmt, totals=summable,
                                    partial_last=partial))
    legend = []
    for index, one in enumerate(series):
        numbers = [v for v in one.values if v is not None]
        if summable:
            figure = charts.format_value(sum(numbers), fmt) if numbers else "—"
        else:
            figure = charts.format_value(one.values[-1] if one.values else None, fmt)
        legend.append({"name": one.name, "swatch": charts.palette(one.color, index).swatch,
                       "figure": figure})
    rows = []
    for i, start in enumerate(buckets):
        label = charts.bucket_label(start, bucket, short=False)
        if partial and i == len(buckets) - 1:
            label = _("%(when)s (so far)", when=label)
        rows.append({"label": label, "values": [charts.format_value(s.values[i], fmt) for s in series]})
    n = len(buckets)
    span = (ngettext("%(num)s hour", "%(num)s hours", n) if bucket == "hour" else
            ngettext("%(num)s week", "%(num)s weeks", n) if bucket == "week" else
            ngettext("%(num)s day", "%(num)s days", n))
    return {"svg": svg, "legend": legend, "table_rows": rows, "series_names": [s.name for s in series],
            "span_text": span, "summable": summable}


def _present_breakdown(panel: Panel, data: dict, dom_id: str) -> dict:
    fmt = getattr(panel, "format", None)
    colors = getattr(panel, "colors", {}) or {}
    items = data.get("items", [])
    top = max((i["value"] or 0 for i in items), default=0) or 1
    total = data.get("total")
    shown = []
    for item in items:
        value = item["value"] or 0
        url = _ref_url(item.get("ref")) or (safe_url(item["url"]) if item.get("url") else None)
        shown.append({
            "label": item["label"], "url": url, "value_text": charts.format_value(item["value"], fmt),
            "width": f"{max(0.0, min(100.0, value / top * 100)):.1f}",
            "share": format_percent(value / total * 100) if total else None,
            "swatch": charts.palette(colors.get(item["key"], "primary")).swatch,
        })
    other = data.get("other")
    hidden = data.get("hidden_groups") or 0
    return {"items": shown,
            "other_text": (ngettext("And %(num)s more: %(value)s", "And %(num)s more: %(value)s",
                                    hidden, value=charts.format_value(other, fmt))
                           if other and hidden else None),
            "total_text": charts.format_value(total, fmt) if total is not None else None}


def _present_table(panel: Panel, data: dict, dom_id: str) -> dict:
    rows = []
    for row in data.get("rows", []):
        row_url = _ref_url(row.get("ref")) or (safe_url(row["url"]) if row.get("url") else None)
        cells = []
        for index, cell in enumerate(row.get("cells", [])):
            url = row_url if index == 0 else _ref_url(cell.get("ref"))
            cells.append({"text": cell.get("text", ""), "url": url, "empty": cell.get("empty")})
        rows.append({"cells": cells})
    return {"columns": data.get("columns", []), "rows": rows}


def _present_markdown(panel: Panel, data: dict, dom_id: str) -> dict:
    return {"html": markdown.render(data.get("text", ""))}


_PRESENTERS: dict[str, t.Callable[[Panel, t.Any, str], dict]] = {
    "metric": _present_metric,
    "series": _present_series,
    "breakdown": _present_breakdown,
    "table": _present_table,
    "markdown": _present_markdown,
}
