"""Charts as server-rendered SVG, and the number formats panels share. No Flask, no browser code.

A chart is an ``<svg role="img">`` with a ``<title>`` and a ``<desc>`` that says what it shows
in words, a ``viewBox`` (it scales to its container; strokes keep their width), axis labels on
round numbers, and a ``<title>`` per bucket that the browser shows on hover. Colours are
daisyUI's theme colours through Tailwind classes (``fill-primary`` is ``fill:
var(--color-primary)``), so the dark theme applies without a second chart. The numbers are also
given as a table next to the chart (the panel templates do that).

Tailwind compiles only the classes it finds in ``templates/`` and ``hyper_admin/``: every class
used here is written out in full in this module.
"""

from __future__ import annotations

import datetime as dt
import math
import string
import typing as t
from dataclasses import dataclass

from markupsafe import Markup, escape

from .i18n import (_, format_compact, format_duration, format_duration_compact, format_money,
                   format_percent, format_skeleton, localize_number_text)


@dataclass(frozen=True)
class Palette:
    fill: str
    stroke: str
    swatch: str     # for HTML legends and bar lists
    soft_fill: str  # the area under a line


#: Series colours by daisyUI colour name; a panel names one, or they are used in this order.
PALETTES: dict[str, Palette] = {
    "primary": Palette("fill-primary", "stroke-primary", "bg-primary", "fill-primary/10"),
    "accent": Palette("fill-accent", "stroke-accent", "bg-accent", "fill-accent/10"),
    "secondary": Palette("fill-secondary", "stroke-secondary", "bg-secondary", "fill-secondary/10"),
    "info": Palette("fill-info", "stroke-info", "bg-info", "fill-info/10"),
    "success": Palette("fill-success", "stroke-success", "bg-success", "fill-success/10"),
    "warning": Palette("fill-warning", "stroke-warning", "bg-warning", "fill-warning/10"),
    "error": Palette("fill-error", "stroke-error", "bg-error", "fill-error/10"),
    "neutral": Palette("fill-base-content/40", "stroke-base-content/40", "bg-base-content/40",
                       "fill-base-content/5"),
}
DEFAULT_ORDER = ("primary", "accent", "warning", "info", "secondary", "success", "error")


def palette(name: str | None, index: int = 0) -> Palette:
    if name is None:
        name = DEFAULT_ORDER[index % len(DEFAULT_ORDER)]
    try:
        return PALETTES[name]
    except KeyError:
        raise ValueError(f"unknown colour {name!r}: one of {', '.join(PALETTES)}") from None


# ---------------------------------------------------------------------------------------------
# Numbers


def format_value(value: t.Any, fmt: t.Any = None) -> str:
    """A panel's number as text, in the user's locale. ``fmt``: None (a number with thousands
    separators and no more decimals than it needs), ``"duration"`` (seconds as "3 hr 5 min",
    "3 h 5 min" in French), ``"percent"``, ``"currency:EUR"`` (money as the locale writes it:
    "€1,234.50", "1 234,50 €"; ``"currency:EUR:0"`` without cents), a format string such as
    ``"{:,.2f} kg"`` (its number given the locale's separators), or a function of the value."""
    if value is None:
        return "—"
    if callable(fmt):
        return str(fmt(value))
    if fmt == "duration":
        return format_duration(float(value))
    if fmt == "percent":
        return format_percent(value, 1)
    if isinstance(fmt, str) and fmt.startswith("currency:"):
        currency, places = _currency(fmt)
        return format_money(value, currency, places)
    if isinstance(fmt, str) and "{" in fmt:
        return _format_template(fmt, value)
    if fmt not in (None, "number"):
        raise ValueError(f"unknown format {fmt!r}")
    return format_number(value)


def _currency(fmt: str) -> tuple[str, int | None]:
    """("EUR", None) from "currency:EUR", ("EUR", 0) from "currency:EUR:0"."""
    _prefix, currency, places = (fmt.split(":") + [""])[:3]
    if len(currency) != 3 or not currency.isalpha() or places and not places.isdigit():
        raise ValueError(f"unknown format {fmt!r}: currency:<ISO code>[:<places>]")
    return currency.upper(), int(places) if places else None


def _format_template(fmt: str, value: t.Any) -> str:
    """``fmt.format(value)`` with the number in the locale's separators, its words as written."""
    out = []
    for literal, field, spec, _conversion in string.Formatter().parse(fmt):
        out.append(literal)
        if field is not None:
            out.append(localize_number_text(format(value, spec or "")))
    return "".join(out)


def format_number(value: t.Any) -> str:
    number = float(value)
    if number == int(number) and abs(number) < 1e15:
        return localize_number_text(f"{int(number):,}")
    size = abs(number)
    if size >= 100:
        return localize_number_text(f"{number:,.0f}")
    if size >= 10:
        return localize_number_text(f"{number:,.1f}")
    return localize_number_text(f"{number:,.2f}")


def compact(value: float, fmt: t.Any = None) -> str:
    """A short axis label in the user's locale: 1.2K, 3.4M ("1,2 k" in French); durations in
    their largest unit ("2h", "2j")."""
    if fmt == "duration":
        return format_duration_compact(value)
    if abs(value) >= 1000:
        return format_compact(value)
    if value == int(value):
        return f"{int(value)}"
    return localize_number_text(f"{value:.2g}")


def nice_ticks(maximum: float, count: int = 4, *, integer: bool = False) -> list[float]:
    """Round tick values from 0 to at least ``maximum``: 0, 5, 10, 15, 20 rather than 0, 4.6…
    ``integer``: the values are counts, so no tick between two whole numbers."""
    if not maximum or maximum <= 0 or not math.isfinite(maximum):
        return [0.0, 1.0]
    rough = maximum / count
    magnitude = 10 ** math.floor(math.log10(rough))
    for step in (1, 2, 2.5, 5, 10):
        if step * magnitude >= rough:
            break
    step *= magnitude
    if integer:
        step = max(1.0, float(math.ceil(step)))
    top = math.ceil(maximum / step - 1e-9) * step
    ticks, value = [], 0.0
    while value <= top + step / 2:
        ticks.append(round(value, 10))
        value += step
    return ticks


# ---------------------------------------------------------------------------------------------
# Time buckets as text


def bucket_label(start: dt.datetime, bucket: str, *, short: bool = True) -> str:
    """How a bucket is named in the user's locale: an hour "14:00" (or "Mon, Jun 3, 2024,
    14:00"), a day "Jun 3" (or "Mon, Jun 3, 2024"), a week by its Monday "Jun 3" (or "week of
    Mon, Jun 3, 2024")."""
    if bucket == "hour":
        return f"{start:%H}:00" if short else format_skeleton("yMMMEdHm", start.replace(minute=0))
    if short:
        return format_skeleton("MMMd", start)
    day = format_skeleton("yMMMEd", start)
    return _("week of %(day)s", day=day) if bucket == "week" else day


# ---------------------------------------------------------------------------------------------
# The time series chart


@dataclass(frozen=True)
class ChartSeries:
    name: str
    values: list[float | None]
    color: str | None = None


WIDTH, HEIGHT = 600, 190
TOP, BOTTOM, RIGHT = 10, 24, 6
FONT = 11


def _x_label_every(n: int, room: float) -> int:
    """Every how many buckets an x label fits (a label is ~48 units wide)."""
    fits = max(1, int(room // 52))
    return max(1, math.ceil(n / fits))


def time_series_svg(*, chart_id: str, title: str, buckets: t.Sequence[dt.datetime], bucket: str,
                    series: t.Sequence[ChartSeries], kind: str = "bars", fmt: t.Any = None,
                    description: str | None = None, partial_last: bool = False) -> Markup:
    """An SVG chart of one or more series over time buckets (bars side by side, or lines).

    ``partial_last``: the last bucket is still running (today, this week): its bar is paler
    and the line's last segment dashed, so that a half-finished day does not read as a drop.
    """
    if kind not in ("bars", "line"):
        raise ValueError("kind is 'bars' or 'line'")
    ticks = _y_ticks(series)
    tick_texts = [compact(v, fmt) for v in ticks]
    plot = _plot_area(len(buckets), ticks, tick_texts)
    desc = description or describe(buckets, bucket, series, fmt, partial_last=partial_last)
    draw_data = _bars if kind == "bars" else _lines
    out = [
        *_svg_head(chart_id, title, desc),
        *_y_axis(plot, ticks, tick_texts),
        *_x_axis(plot, buckets, bucket),
        *draw_data(plot, series, partial_last),
        *_hover_targets(plot, buckets, bucket, series, fmt, partial_last),
        "</svg>",
    ]
    return Markup("".join(out))


@dataclass(frozen=True)
class _Plot:
    """Where the data goes in the chart's viewBox: right of the y axis labels, above the x axis
    labels, one band per bucket; ``top`` is the value at the top of the y axis."""

    left: float
    width: float
    height: float
    band: float
    top: float
    n_buckets: int

    def y(self, value: float) -> float:
        return TOP + self.height - (value / self.top) * self.height


def _y_ticks(series: t.Sequence[ChartSeries]) -> list[float]:
    """The y axis values: round numbers from 0 past the highest value, whole numbers when
    every value is one (counts)."""
    values = [v for s in series for v in s.values if v is not None]
    integer = all(float(v).is_integer() for v in values)
    return nice_ticks(max(values, default=0), integer=integer)


def _plot_area(n: int, ticks: list[float], tick_texts: list[str]) -> _Plot:
    """The plot's box: its left edge leaves room for the longest y label."""
    left = 10 + FONT * 0.62 * max(len(text) for text in tick_texts)
    width = WIDTH - left - RIGHT
    return _Plot(left=left, width=width, height=HEIGHT - TOP - BOTTOM, band=width / max(n, 1),
                 top=ticks[-1] or 1.0, n_buckets=n)


def _svg_head(chart_id: str, title: str, desc: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'preserveAspectRatio="xMidYMid meet" role="img" class="block h-auto w-full" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" font-size="{FONT}">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(desc)}</desc>',
    ]


def _y_axis(plot: _Plot, ticks: list[float], tick_texts: list[str]) -> list[str]:
    """The grid lines, the zero line and the y labels."""
    out = ['<g class="stroke-base-content/10" shape-rendering="crispEdges">']
    for value in ticks[1:]:
        out.append(f'<line x1="{plot.left:.1f}" x2="{WIDTH - RIGHT}" y1="{plot.y(value):.1f}" '
                   f'y2="{plot.y(value):.1f}" vector-effect="non-scaling-stroke"/>')
    out.append("</g>")
    out.append(f'<line class="stroke-base-content/30" x1="{plot.left:.1f}" x2="{WIDTH - RIGHT}" '
               f'y1="{plot.y(0):.1f}" y2="{plot.y(0):.1f}" shape-rendering="crispEdges" '
               'vector-effect="non-scaling-stroke"/>')
    out.append('<g class="fill-base-content/60 tabular-nums" text-anchor="end" aria-hidden="true">')
    for value, text in zip(ticks, tick_texts):
        out.append(f'<text x="{plot.left - 6:.1f}" y="{plot.y(value) + FONT * 0.35:.1f}">'
                   f'{escape(text)}</text>')
    out.append("</g>")
    return out


def _x_axis(plot: _Plot, buckets: t.Sequence[dt.datetime], bucket: str) -> list[str]:
    """The x labels: as many buckets named as fit side by side."""
    every = _x_label_every(plot.n_buckets, plot.width)
    out = ['<g class="fill-base-content/60 tabular-nums" text-anchor="middle" aria-hidden="true">']
    for i in range(0, plot.n_buckets, every):
        x = plot.left + plot.band * (i + 0.5)
        out.append(f'<text x="{x:.1f}" y="{HEIGHT - 7}">{escape(bucket_label(buckets[i], bucket))}</text>')
    out.append("</g>")
    return out


def _bars(plot: _Plot, series: t.Sequence[ChartSeries], partial_last: bool) -> list[str]:
    """The series as bars, side by side within each bucket's band; no bar for 0 or no value."""
    k = max(len(series), 1)
    group = plot.band * (0.72 if plot.band > 6 else 0.9)
    bar_w = max(group / k - (1 if k > 1 else 0), 0.8)
    out = []
    for s_index, one in enumerate(series):
        colours = palette(one.color, s_index)
        out.append(f'<g class="{colours.fill}" shape-rendering="crispEdges">')
        for i, value in enumerate(one.values):
            if not value:
                continue
            x = plot.left + plot.band * i + (plot.band - group) / 2 + s_index * (group / k)
            height = max(plot.y(0) - plot.y(value), 1.0)
            pale = ' fill-opacity="0.4"' if partial_last and i == plot.n_buckets - 1 else ""
            out.append(f'<rect x="{x:.2f}" y="{plot.y(0) - height:.2f}" width="{bar_w:.2f}" '
                       f'height="{height:.2f}" rx="{min(2.0, bar_w / 3):.2f}"{pale}/>')
        out.append("</g>")
    return out


def _lines(plot: _Plot, series: t.Sequence[ChartSeries], partial_last: bool) -> list[str]:
    """The series as lines; a lone series has the area under it shaded."""
    out = []
    for s_index, one in enumerate(series):
        colours = palette(one.color, s_index)
        out += _line(plot, one, colours, shade_area=len(series) == 1, partial_last=partial_last)
    return out


_LINE_ATTRIBUTES = ('fill="none" stroke-width="2" stroke-linejoin="round" stroke-linecap="round" '
                    'vector-effect="non-scaling-stroke"')


def _line(plot: _Plot, one: ChartSeries, colours: Palette, *, shade_area: bool,
          partial_last: bool) -> list[str]:
    """One series as a line (no value: 0), its last segment dashed when its bucket is still
    running, and a dot on the latest value."""
    points = [(plot.left + plot.band * (i + 0.5), plot.y(v or 0)) for i, v in enumerate(one.values)]
    if not points:
        return []
    out = []
    if shade_area:
        zero = plot.y(0)
        area = f"{points[0][0]:.2f},{zero:.2f} {_points_text(points)} {points[-1][0]:.2f},{zero:.2f}"
        out.append(f'<polygon class="{colours.soft_fill}" points="{area}"/>')
    dashed_tail = partial_last and len(points) > 1
    solid = points[:-1] if dashed_tail else points
    if len(solid) > 1:
        out.append(f'<polyline class="{colours.stroke}" {_LINE_ATTRIBUTES} '
                   f'points="{_points_text(solid)}"/>')
    if dashed_tail:
        out.append(f'<polyline class="{colours.stroke}" {_LINE_ATTRIBUTES} stroke-dasharray="3 4" '
                   f'points="{_points_text(points[-2:])}"/>')
    last_x, last_y = points[-1]
    out.append(f'<circle class="{colours.fill}" cx="{last_x:.2f}" cy="{last_y:.2f}" r="2.5"/>')
    return out


def _points_text(points: list[tuple[float, float]]) -> str:
    return " ".join(f"{x:.2f},{y:.2f}" for x, y in points)


def _hover_targets(plot: _Plot, buckets: t.Sequence[dt.datetime], bucket: str,
                   series: t.Sequence[ChartSeries], fmt: t.Any, partial_last: bool) -> list[str]:
    """One hover target per bucket, with every series' value in its tooltip."""
    out = ['<g class="fill-base-content/0">']
    for i, start in enumerate(buckets):
        parts = [_("%(name)s: %(value)s", name=one.name, value=format_value(one.values[i], fmt))
                 for one in series]
        when = bucket_label(start, bucket, short=False)
        if partial_last and i == plot.n_buckets - 1:
            when = _("%(when)s (so far)", when=when)
        tip = f"{when} — " + ", ".join(parts)
        out.append(f'<rect class="hover:fill-base-content/5" x="{plot.left + plot.band * i:.2f}" '
                   f'y="{TOP}" width="{plot.band:.2f}" height="{plot.height:.2f}">'
                   f'<title>{escape(tip)}</title></rect>')
    out.append("</g>")
    return out


def describe(buckets: t.Sequence[dt.datetime], bucket: str, series: t.Sequence[ChartSeries],
             fmt: t.Any = None, *, totals: bool = True, partial_last: bool = False) -> str:
    """The chart in a sentence or two, for its ``<desc>``. ``totals``: whether the values add
    up (counts, sums; not averages or medians)."""
    if not buckets:
        return _("No data.")
    # Weeks are named by their Mondays here: "per week, from Mon, Jun 3 to Mon, Sep 2".
    named_by = "day" if bucket == "week" else bucket
    span = {"start": bucket_label(buckets[0], named_by, short=False),
            "end": bucket_label(buckets[-1], named_by, short=False)}
    text = [_("Per hour, from %(start)s to %(end)s.", **span) if bucket == "hour" else
            _("Per week, from %(start)s to %(end)s.", **span) if bucket == "week" else
            _("Per day, from %(start)s to %(end)s.", **span)]
    for one in series:
        numbers = [(v, i) for i, v in enumerate(one.values) if v is not None]
        if not numbers:
            text.append(_("%(series)s: no data.", series=one.name))
            continue
        high, at = max(numbers)
        parts = []
        if totals:
            parts.append(_("total %(value)s", value=format_value(sum(v for v, _n in numbers), fmt)))
        parts.append(_("highest %(value)s (%(when)s)", value=format_value(high, fmt),
                       when=bucket_label(buckets[at], bucket, short=False)))
        parts.append(_("latest %(value)s", value=format_value(one.values[-1], fmt)))
        text.append(_("%(series)s: %(figures)s.", series=one.name, figures=", ".join(parts)))
    if partial_last:
        text.append(_("The last hour is still in progress.") if bucket == "hour" else
                    _("The last week is still in progress.") if bucket == "week" else
                    _("The last day is still in progress."))
    return " ".join(text)
