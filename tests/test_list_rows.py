"""The list's rows are rendered straight from database rows (cells.td_renderer and the list's
foreign-key renderer) for speed: they must give exactly the markup of the general path
(format_value + render_cell), which stays the reference for every value it short-cuts."""

import datetime
import decimal

import pytest
from flask import g

from hyper_admin.cells import format_value, render_cell, td_renderer
from hyper_admin.views.common import list_request
from hyper_admin.views.list_rows import _RowFormatter
from hyper_admin.query import select_list

from crud_app import create_app, staff
from demo_db import seeded_engine
from test_fields import col

URL = "/admin/things/7/"

TEXT = [None, "", "plain", "<b>x</b> & 'y'", "http://example.com/a?b=1&c=2", "  https://x.io",
        "HTTP://LOUD.example", "httpd is a server", "javascript:alert(1)", "x" * 80, 12, 3.5]
NUMBERS = [None, "", 0, -7, 10**20, 3.25, 1e-07, float("inf"), "12.30", "abc", True,
           decimal.Decimal("1E+2"), decimal.Decimal("-0.00")]
TIMES = [None, "", "2026-11-24 23:58:34", "2026-11-24T23:58:34.123456", "2026-11-24",
         "2026-13-45 99:99", datetime.datetime(2026, 1, 2, 3, 4, 5), datetime.date(2026, 1, 2), 17]
CHOICES = [None, "", "paid", "open", "unknown", 1, True, "<i>"]


def general(column, raw, *, link=False, max_chars=40):
    cell = format_value(column, column.coerce(raw), max_chars=max_chars)
    if link:  # the row's page, even for a value that is an address
        cell.url = URL
        cell.kind = cell.kind + " rowlink"
    return render_cell(cell)


CASES = [
    (col("v", "text"), TEXT),
    (col("v", "int"), NUMBERS),
    (col("v", "float"), NUMBERS),
    (col("v", "decimal"), NUMBERS),
    (col("v", "decimal", sql_type="NUMERIC(12,2)"), NUMBERS + [10081.9, 21.990000000000002, 3]),
    (col("v", "datetime"), TIMES),
    (col("v", "date"), TIMES),
    (col("v", "bool"), [None, "", 0, 1, True, False, "yes", "no", "t"]),
    (col("v", "text", choices=(("paid", "Paid"), ("open", "Open <now>"))), CHOICES),
    (col("v", "json"), [None, '{"a": 1}', "[1, 2]", "not json", {"a": "<b>"}]),
]


@pytest.mark.parametrize("link", [False, True], ids=["plain", "row link"])
@pytest.mark.parametrize("column,values", CASES, ids=[c.kind + ("+choices" if c.choices else "")
                                                       + (f"+{c.sql_type}" if c.sql_type else "")
                                                       for c, _ in CASES])
def test_td_renderer_gives_the_general_markup(column, values, link):
    render = td_renderer(column, 40, link=link)
    for raw in values:
        expected = general(column, raw, link=link)
        assert render({"v": raw}, URL) == expected, raw
        assert render({"v": raw}, URL) == expected, raw  # again: memoised choices


def test_td_renderer_escapes_and_truncates():
    render = td_renderer(col("v", "text"), 10, link=True)
    html = render({"v": '<script>"x"</script>'}, "/a?b=1&c=2")
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert 'href="/a?b=1&amp;c=2"' in html
    long = render({"v": "abcdefghijklmnop"}, URL)
    assert "abcdefghi…" in long and 'title="abcdefghijklmnop"' in long


@pytest.fixture
def site(request, backend):
    with seeded_engine(request) as engine:
        app, admin = create_app(engine)
        yield app, admin, staff(engine)


@pytest.mark.parametrize("slug", ["orders", "tickets", "accounts", "order_lines"])
@pytest.mark.reads_only
def test_list_rows_fast_path_matches_general_path(site, slug):
    app, admin, people = site
    with app.test_request_context(f"/admin/{slug}/"):
        from flask_login import login_user

        login_user(people["admin"])
        app.preprocess_request()
        model_admin = admin.registry[slug]
        listing = list_request(model_admin, {})
        from hyper_admin.views.common import engine_and_dialect

        engine, dialect = engine_and_dialect()
        plain = [c.column for c in listing.columns if c.column is not None]
        page = select_list(engine, dialect, listing.spec, listing.params, plain, listing.joins)
        assert page.rows, slug
        formatter = _RowFormatter(model_admin, listing.columns, page.rows[0], selectable=True)
        if slug in ("orders", "tickets"):  # plain columns and foreign keys only
            assert formatter.fast is not None, slug
        for row in page.rows:
            fast, slow = formatter.row(row), formatter._general_row(row)
            assert str(fast.html) == str(slow.html)
            assert (fast.pk, fast.url) == (slow.pk, slow.url)
            assert [c.text for c in fast.cells] == [c.text for c in slow.cells]
        g.pop("_hyper_admin_roles", None)


@pytest.mark.parametrize("value", [*TEXT, "\x00é€", "a" * 1000, 0.1, decimal.Decimal("1.5")])
def test_cell_escaping_is_markupsafes_with_and_without_its_c_extension(value):
    from markupsafe import Markup, escape

    from hyper_admin import cells

    expected = str(escape(value))
    assert cells.esc(value) == expected
    assert cells.esc(Markup("<b>ok</b>")) == "<b>ok</b>"
    assert cells._escape_text(str(value)) == expected


@pytest.mark.parametrize("sql_type,raw,shown", [
    ("NUMERIC(12,2)", 10081.9, "10081.90"), ("numeric(12, 2)", decimal.Decimal("7.5"), "7.50"),
    ("DECIMAL(10,3)", 21.990000000000002, "21.990"), ("NUMERIC(12,2)", 3, "3.00"),
    ("NUMERIC(12,0)", 4.0, "4"), ("NUMERIC", 10081.9, "10081.9"), (None, 10081.9, "10081.9"),
    ("NUMERIC(12,2)", float("nan"), "NaN"), ("NUMERIC(12,2)", decimal.Decimal("Infinity"), "Infinity"),
])
def test_decimals_show_the_declared_number_of_places(sql_type, raw, shown):
    column = col("v", "decimal", sql_type=sql_type)
    html = td_renderer(column, 40)({"v": raw}, URL)
    assert html == f'<td class="n">{shown}</td>'
    assert html == general(column, raw)


@pytest.fixture
def demo(tmp_path):
    """The demo, seeded small on SQLite: its tickets have inline editors and tags."""
    from hyper_admin.demo.app import create_app as create_demo
    from hyper_admin.demo.models import StaffUser

    app = create_demo(str(tmp_path / "demo.db"), rows=40)
    engine = app.extensions["hyper_admin_demo"]["engine"]
    with engine:
        people = {u.username: u for u in StaffUser.find_all().all()}
    yield app, app.extensions["hyper_admin_demo"]["admin"], engine, people
    engine.disconnect_all()


@pytest.mark.parametrize("backend", ["sqlite"])  # the markup, whatever the database
def test_inline_editors_and_callables_take_the_fast_path_with_the_general_markup(demo, backend):
    """The tickets' list has inline editors (status, priority: a button where the user may
    change the row, plain text where not) and a many-to-many column (a callable): rendered
    straight from the row, exactly as the general path renders them."""
    from flask_login import login_user

    from hyper_admin.views.list_rows import row_columns

    app, admin, _engine, people = demo
    seen_buttons = set()
    for username in ("support", "viewer", "admin"):
        with app.test_request_context("/admin/tickets/"):
            login_user(people[username])
            app.preprocess_request()
            model_admin = admin.registry["tickets"]
            listing = list_request(model_admin, {})
            from hyper_admin.views.common import engine_and_dialect

            engine, dialect = engine_and_dialect()
            plain, tokened = row_columns(model_admin, listing)
            page = select_list(engine, dialect, listing.spec, listing.params, plain, listing.joins)
            for column in listing.columns:
                prefetch = getattr(column.function, "prefetch", None)
                if prefetch is not None:
                    prefetch(page.rows)
            formatter = _RowFormatter(model_admin, listing.columns, page.rows[0],
                                      selectable=True, tokened=tokened)
            assert formatter.editable and formatter.fast is not None
            for row in page.rows:
                fast, slow = formatter.row(row), formatter._general_row(row)
                assert str(fast.html) == str(slow.html), username
                assert (fast.pk, fast.url) == (slow.pk, slow.url)
            seen_buttons.add((username, "/cell/status" in str(fast.html)))
            assert "badge" in str(fast.html)  # the tags' chips
            g.pop("_hyper_admin_roles", None)
    assert seen_buttons == {("support", True), ("viewer", False), ("admin", True)}
