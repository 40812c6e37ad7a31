"""Charts as SVG, and the number formats panels share (charts.py: no Flask)."""

import datetime as dt
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from hyper_admin import charts
from test_css_classes import css_escape

NS = "{http://www.w3.org/2000/svg}"
CSS = Path(__file__).resolve().parent.parent / "static" / "admin.css"
DAYS = [dt.datetime(2026, 5, 4) + dt.timedelta(days=i) for i in range(7)]


def test_round_ticks():
    assert charts.nice_ticks(18) == [0, 5, 10, 15, 20]
    assert charts.nice_ticks(1.7, integer=True) == [0, 1, 2]
    assert charts.nice_ticks(0.37) == [0, 0.1, 0.2, 0.3, 0.4]
    assert charts.nice_ticks(1_456_306) == [0, 500_000, 1_000_000, 1_500_000]
    assert charts.nice_ticks(0) == [0, 1]


def test_formats():
    assert charts.format_value(1234567) == "1,234,567"
    assert charts.format_value(12.345) == "12.3" and charts.format_value(1.5) == "1.50"
    assert charts.format_value(None) == "—"
    assert charts.format_value(3 * 3600 + 5 * 60, "duration") == "3 hr 5 min"
    assert charts.format_value(45, "duration") == "45 sec"
    assert charts.format_value(90000, "duration") == "1 day 1 hr"
    assert charts.format_value(1234.5, "{:,.2f} €") == "1,234.50 €"
    assert charts.format_value(1234.5, "currency:EUR") == "€1,234.50"
    assert charts.format_value(1234.5, "currency:usd:0") == "$1,234"
    assert charts.format_value(12.25, "percent") in ("12.2%", "12.3%")
    assert charts.format_value(3, lambda v: f"<{v}>") == "<3>"
    assert charts.compact(1_234_000) == "1.2M" and charts.compact(1500) == "1.5K" and charts.compact(20) == "20"
    assert charts.compact(7200, "duration") == "2h"
    for bogus in ("bogus", "currency:EURO", "currency:EUR:x"):
        with pytest.raises(ValueError):
            charts.format_value(1, bogus)


def test_formats_in_french():
    """Durations, money, percentages and axis labels as Babel writes them for the locale."""
    from flask import Flask

    with Flask(__name__).test_request_context(headers={"Accept-Language": "fr"}):
        assert charts.format_value(32 * 3600, "duration") == "1\u202fj 8\u202fh"
        assert charts.format_value(300, "duration") == "5\xa0min"
        assert charts.format_value(1234.5, "currency:EUR") == "1\u202f234,50\xa0€"
        assert charts.format_value(12345.6, "currency:EUR:0") == "12\u202f346\xa0€"
        assert charts.format_value(1234.5, "{:,.2f} €") == "1\u202f234,50 €"  # the number localized
        assert charts.format_value(12.5, "percent") == "12,5\xa0%"
        assert charts.format_value(1234567) == "1\u202f234\u202f567"
        assert charts.compact(1500) == "1,5\xa0k" and charts.compact(172800, "duration") == "2j"


@pytest.mark.parametrize("kind", ["bars", "line"])
def test_svg_is_valid_accessible_and_themed(kind):
    series = [charts.ChartSeries("Opened", [3, 0, 5, 2, 8, 1, 4]),
              charts.ChartSeries("Closed <&>", [1, 2, 0, 4, 6, 3, None], color="success")]
    svg_text = str(charts.time_series_svg(chart_id="c1", title='Tickets "today" & <b>', buckets=DAYS,
                                          bucket="day", series=series, kind=kind, partial_last=True))
    svg = ET.fromstring(svg_text)
    assert svg.get("role") == "img" and svg.get("viewBox") == "0 0 600 190"
    assert svg.get("preserveAspectRatio") == "xMidYMid meet"
    assert svg.get("aria-labelledby") == "c1-title c1-desc"
    assert svg.find(f"{NS}title").text == 'Tickets "today" & <b>'
    desc = svg.find(f"{NS}desc").text
    assert "Per day, from Mon, May 4, 2026 to Sun, May 10, 2026." in desc
    assert "Opened: total 23, highest 8 (Fri, May 8, 2026), latest 4." in desc
    assert "The last day is still in progress." in desc
    tips = [t.text for t in svg.iter(f"{NS}title")][1:]
    assert tips[0] == "Mon, May 4, 2026 — Opened: 3, Closed <&>: 1"
    assert tips[-1] == "Sun, May 10, 2026 (so far) — Opened: 4, Closed <&>: —"
    labels = [t.text for t in svg.iter(f"{NS}text")]
    assert labels[:3] == ["0", "2", "4"] and "May 4" in labels
    if kind == "bars":
        rects = [r for g in svg.iter(f"{NS}g") if g.get("class") in ("fill-primary", "fill-success")
                 for r in g.findall(f"{NS}rect")]
        assert len(rects) == 6 + 5  # zeros and missing values draw nothing
        assert rects[5].get("fill-opacity") == "0.4"  # the running day is pale
    else:
        lines = svg.findall(f"{NS}polyline")
        assert len(lines) == 4 and lines[1].get("stroke-dasharray") == "3 4"
    # Every class the chart uses is in the compiled stylesheet (Tailwind scans charts.py).
    css = CSS.read_text(encoding="utf-8")
    classes = {c for el in svg.iter() for c in (el.get("class") or "").split()}
    assert classes >= {"fill-base-content/60", "stroke-base-content/10"}
    for name in classes:
        assert re.search(r"\." + re.escape(css_escape(name)) + r"(?![\w-]|\\)", css), name


def test_empty_and_flat_series_still_draw():
    svg = ET.fromstring(str(charts.time_series_svg(
        chart_id="c2", title="Nothing", buckets=DAYS, bucket="day",
        series=[charts.ChartSeries("Zero", [0] * 7)])))
    assert svg.find(f"{NS}desc").text.startswith("Per day")
    week = [dt.datetime(2026, 5, 4) + dt.timedelta(weeks=i) for i in range(3)]
    assert charts.bucket_label(week[0], "week", short=False) == "week of Mon, May 4, 2026"
    assert charts.bucket_label(dt.datetime(2026, 5, 4, 14), "hour") == "14:00"
    with pytest.raises(ValueError):
        charts.time_series_svg(chart_id="c", title="x", buckets=DAYS, bucket="day",
                               series=[], kind="pie")


def test_every_colour_and_width_class_is_compiled():
    """Classes named in Python (series colours, panel widths) are compiled too."""
    from hyper_admin.panels import WIDTH_CLASSES

    css = CSS.read_text(encoding="utf-8")
    names = {c for p in charts.PALETTES.values() for c in (p.fill, p.stroke, p.swatch, p.soft_fill)}
    names |= {c for value in WIDTH_CLASSES.values() for c in value.split()}
    names |= {"hover:fill-base-content/5", "fill-base-content/0", "stroke-base-content/30"}
    missing = [n for n in sorted(names)
               if not re.search(r"\." + re.escape(css_escape(n)) + r"(?![\w-]|\\)", css)]
    assert not missing, f"run `npm run build:css`: {missing}"
