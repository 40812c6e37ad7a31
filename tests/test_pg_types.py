"""Every PostgreSQL type shown, edited, filtered, searched and exported as a user expects, and
SQLite's STRICT tables and type affinities (issue 18, items 2 to 4).

The schema is tests/pg_types_app.py's (pagila's shapes and one column of every other type):
its models declare little, the admin reads the rest from the catalog. A crawl opens every
list (sorted by each column, its next page, searched), row, edit form and delete confirmation
and wants no 5xx; every edit form posted back unchanged changes no row and records no audit
entry; bad input per type is a 422 on its field, whether the form or the database refuses it.
"""

import datetime as dt
import decimal
import html as html_lib
import io
import json
import re

import pytest

from hyper_admin.catalog import check_bounds, column_types
from hyper_admin.fields import parse_item
from hyper_admin.introspect import model_info, parse_array_literal
from hyper_admin.sql import Statement, array_literal, dialect_of, range_literal, run
from hyper_admin.testing import AdminClient
from hyper_admin.writes import IntegrityProblem, insert, update

import pg_types_app as schema

ROOT = schema.USERS["root"]


@pytest.fixture
def site(engine, backend):
    """The app over the schema of ``backend``, and its engine."""
    postgresql = backend == "postgresql"
    schema.create_schema(engine, postgresql)
    return schema.create_app(engine, postgresql), engine


@pytest.fixture
def pg_site(pg_schema):
    """The PostgreSQL schema only."""
    from demo_db import open_engine

    engine = open_engine(pg_schema[1])
    schema.create_schema(engine, True)
    yield schema.create_app(engine, True), engine
    engine.disconnect_all()


def client_of(app) -> AdminClient:
    return AdminClient(app).login_as(ROOT)


def rows(engine, table: str) -> list[dict]:
    stmt = Statement(dialect_of(engine), f"SELECT * FROM {table} ORDER BY 1, 2")
    return [dict(row) for row in run(engine, stmt)]


def audit_count(engine) -> int:
    try:
        found = run(engine, Statement(dialect_of(engine), "SELECT count(*) AS n FROM hyper_admin_audit"))
    except Exception:  # noqa: BLE001 - the admin made no table yet: nothing was recorded
        return 0
    return int(dict(found[0])["n"])


def row_links(html: str, slug: str) -> list[str]:
    """The rows' own pages a list links (the first column links each row)."""
    body = html.split('<tbody class="ha-rows">', 1)[-1].split("</tbody>", 1)[0]
    return sorted(set(re.findall(rf'href="(/admin/{re.escape(slug)}/[^/"?]+/)"', body)))


def list_links(html: str, slug: str) -> set[str]:
    """Every GET a list page makes or offers within its model: sorts, pages, facets, count."""
    found = re.findall(rf'(?:href|hx-get)="(/admin/{re.escape(slug)}/[^"]*)"', html)
    return {html_lib.unescape(url) for url in found
            if "/new" not in url and "/export" not in url and "/views" not in url}


def form_of(client: AdminClient, path: str) -> dict:
    response, data = client.form(path)
    assert response.status_code == 200, path
    return data


def errors_of(response) -> dict[str, list[str]]:
    from hyper_admin.testing import _form_errors

    return _form_errors(response.get_data(as_text=True))


# ---------------------------------------------------------------------------------------------
# What the catalog adds


def test_the_catalog_completes_what_the_models_leave_out(pg_site):
    film = model_info(schema.PgtFilm)
    rating = film.column("rating")
    assert rating.kind == "enum" and [v for v, _ in rating.choices] == ["G", "PG", "PG-13", "R", "NC-17"]
    features = film.column("special_features")
    assert (features.kind, features.item_kind) == ("array", "text")
    year = film.column("release_year")
    assert year.kind == "int" and year.database_bounds == (1901, 2155)  # the year domain
    assert film.column("rental_rate").decimal_places == 2  # numeric(4,2)
    fulltext = film.column("fulltext")
    assert fulltext.kind == "tsvector" and not fulltext.editable and not fulltext.sortable
    assert film.column("last_update").aware
    payment = model_info(schema.PgtPayment)
    assert (payment.relation, payment.partition_key) == ("partitioned table", ("payment_date",))
    assert not payment.read_only
    assert model_info(schema.PgtFilmList).read_only
    assert model_info(schema.PgtRatingCount).relation == "materialized view"
    gadget = model_info(schema.PgtGadget)
    kinds = {c.attribute: (c.kind, c.item_kind) for c in gadget.columns}
    assert kinds["state"] == ("enum", None) and dict(gadget.column("state").choices)["in_use"] == "In use"
    assert kinds["serial"] == ("uuid", None)
    assert kinds["host"] == kinds["network"] == kinds["mac"] == ("network", None)
    assert kinds["warranty"] == ("interval", None) and kinds["price"] == ("money", None)
    assert kinds["weight"] == ("decimal", None) and gadget.column("weight").decimal_places == 3
    assert kinds["firmware"] == ("bytes", None)
    assert kinds["settings"] == kinds["raw_doc"] == ("json", None)
    assert kinds["readings"] == ("array", "int") and kinds["labels"] == ("array", "text")
    assert kinds["sizes"] == ("range", "int") and kinds["available"] == ("range", "date")
    assert kinds["slot"] == ("range", "datetime")
    assert kinds["discount"] == ("decimal", None) and gadget.column("discount").database_bounds == (0, 100)
    assert kinds["opens_at"] == ("time", None) and kinds["made_on"] == ("date", None)
    assert gadget.column("seen_at").aware and not gadget.column("logged_at").aware
    assert gadget.column("name").max_length == 40
    # The table's NOT NULL, for columns the model says nothing of; filled by the database.
    assert not gadget.column("state").nullable and gadget.column("serial").filled_by_database


@pytest.mark.parametrize("backend", ["sqlite"])  # SQLite's type affinities: SQLite's alone
def test_sqlite_strict_tables_and_affinities(engine, backend):
    schema.create_schema(engine, False)
    schema.create_app(engine, False)
    types = column_types(engine, dialect_of(engine), "strict_thing")
    assert types["count"].strict and types["anything"].declared == "ANY"
    strict = {c.attribute: c.kind for c in model_info(schema.SltStrictThing).columns}
    assert strict == {"id": "int", "count": "int", "name": "text", "ratio": "float",
                      "data": "bytes", "anything": "text"}
    loose = model_info(schema.SltAffinityThing)
    kinds = {c.attribute: c.kind for c in loose.columns}
    assert kinds == {"id": "int", "qty": "int", "title": "text", "notes": "text",
                     "amount": "decimal", "price": "decimal", "ratio": "float",
                     "payload": "bytes", "flag": "bool", "created": "datetime", "day": "date",
                     "untyped": "text"}
    assert loose.column("title").max_length == 20 and loose.column("price").decimal_places == 2
    assert model_info(schema.SltAffinityView).read_only


# ---------------------------------------------------------------------------------------------
# The crawl: every screen of every model, no server error


def test_every_screen_answers_without_a_server_error(site):
    app, engine = site
    client = client_of(app)
    failures = []

    def visit(url: str) -> str:
        response = client.get(url)
        if response.status_code >= 500 or response.status_code == 400:
            failures.append((url, response.status_code))
        body = response.get_data()  # a bytea column's download is bytes, not a page
        return body.decode() if response.mimetype == "text/html" else ""

    for slug, model_admin in client.state.admin.registry.items():
        page = visit(f"/admin/{slug}/")
        links = list_links(page, slug)
        sorts = {u for u in links if "sort=" in u}
        assert sorts, f"{slug}: no column to sort by"
        for url in sorted(links):
            visit(url)
        for url in sorted(sorts):
            visit(url + "&per_page=2")  # the next page of every sort, by cursor or number
            nxt = re.search(r'<a href="([^"]+)" rel="next"', visit(url + "&per_page=2"))
            if nxt:
                visit(html_lib.unescape(nxt.group(1)))
        for q in ("a", "=a", "^a", "PG", "2006", "new", "10", "-1"):
            visit(f"/admin/{slug}/?q={q}")
        for fmt in ("csv", "json"):
            visit(f"/admin/{slug}/export?format={fmt}")
        pages = row_links(page, slug)
        assert pages, f"{slug}: no row links its page"
        for url in pages:
            visit(url)
            visit(url + "history")
            if not model_admin.info.read_only:
                visit(url + "edit")
                visit(url + "delete")
    assert failures == []


def test_an_edit_form_posted_back_unchanged_changes_nothing(site):
    app, engine = site
    client = client_of(app)
    for slug, model_admin in client.state.admin.registry.items():
        if model_admin.info.read_only:
            continue
        for url in row_links(client.get(f"/admin/{slug}/").get_data(as_text=True), slug):
            data = form_of(client, url + "edit")
            before = rows(engine, model_admin.info.table)
            response = client.client.post(url + "edit", data=data)
            assert response.status_code == 303, (url, errors_of(response))
            assert rows(engine, model_admin.info.table) == before, url
    assert audit_count(engine) == 0


# ---------------------------------------------------------------------------------------------
# Editing each type


def test_each_type_is_saved_as_its_own(pg_site):
    app, engine = pg_site
    client = client_of(app)
    result = client.edit("gadget", 2, state="broken", serial="D0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A14",
                         host="10.1.2.3", network="192.168.0.0/16", mac="08-00-2b-01-02-05",
                         warranty="2 years 3 days", price="7.50", weight="2.5", ratio="0.25",
                         firmware=(io.BytesIO(b"\x00\xff"), "fw.bin"), settings='{"k": [1, 2, {"deep": null}]}',
                         raw_doc='[1, "two"]', readings="5\n\n-7\n", labels="one\ntwo, three",
                         sizes=["2", "5"], available=["2024-05-01", ""], slot=["", "2024-05-01T12:00"],
                         discount="99.99", opens_at="07:15", made_on="2024-05-01",
                         logged_at="2024-05-01T08:00")
    assert result.status == 303, result.errors
    (row,) = [r for r in rows(engine, "gadget") if r["gadget_id"] == 2]
    assert row["state"] == "broken" and str(row["serial"]) == "d0eebc99-9c0b-4ef8-bb6d-6bb9bd380a14"
    assert str(row["host"]) == "10.1.2.3" and str(row["network"]) == "192.168.0.0/16"
    assert row["mac"] == "08:00:2b:01:02:05"
    assert row["warranty"] == dt.timedelta(days=2 * 365 + 3)
    assert row["weight"] == decimal.Decimal("2.500") and row["ratio"] == 0.25
    assert row["firmware"] == b"\x00\xff"
    assert json.loads(row["settings"]) == {"k": [1, 2, {"deep": None}]}
    assert json.loads(row["raw_doc"]) == [1, "two"]
    assert row["readings"] == [5, -7] and row["labels"] == ["one", "two, three"]  # real arrays
    assert (row["sizes"].lower, row["sizes"].upper) == (2, 5)
    assert row["available"].lower == dt.date(2024, 5, 1) and row["available"].upper is None
    assert row["slot"].lower is None and row["slot"].upper == dt.datetime(2024, 5, 1, 12, tzinfo=dt.timezone.utc)
    assert row["discount"] == decimal.Decimal("99.99") and row["opens_at"] == dt.time(7, 15)
    detail = client.detail("gadget", 2).fields
    assert detail["Readings"] == "5, -7" and detail["Sizes"] == "2 – 5"
    assert detail["State"] == "Broken" and detail["Available"] == "May 1, 2024 – …"


def test_an_enum_array_and_jsonb_of_pagilas_film(pg_site):
    app, engine = pg_site
    client = client_of(app)
    result = client.edit("film", 2, rating="NC-17", special_features="Trailers\nCommentaries",
                         release_year="2155")
    assert result.status == 303, result.errors
    (row,) = [r for r in rows(engine, "film") if r["film_id"] == 2]
    assert row["rating"] == "NC-17" and row["release_year"] == 2155
    assert row["special_features"] == ["Trailers", "Commentaries"]
    # Creating one too: the array and the enum from the form, the tsvector from the trigger.
    created = client.create("film", title="ALIEN CENTER", language_id="1", rating="R",
                            special_features="Behind the Scenes", rental_duration="5",
                            rental_rate="2.99", replacement_cost="10.99")
    assert created.status == 303, created.errors
    (new,) = [r for r in rows(engine, "film") if r["title"] == "ALIEN CENTER"]
    assert new["special_features"] == ["Behind the Scenes"] and new["rating"] == "R"
    assert "alien" in new["fulltext"]
    # An array emptied stays an empty array; one left as no value stays NULL.
    assert client.edit("film", 2, special_features="").status == 303
    assert [r for r in rows(engine, "film") if r["film_id"] == 2][0]["special_features"] == []
    assert [r for r in rows(engine, "film") if r["film_id"] == 5][0]["special_features"] is None


def test_timestamptz_is_shown_and_edited_in_the_users_zone(pg_site):
    app, engine = pg_site
    client = client_of(app)
    client.client.set_cookie("hyper_admin_tz", "Europe/Paris")
    assert client.detail("gadget", 1).fields["Seen at"] == "Mar 10, 2024, 3:03 PM CET"
    assert client.detail("gadget", 1).fields["Logged at"] == "Mar 10, 2024, 2:03 PM"  # no zone
    form = client.get("/admin/gadget/1/edit").get_data(as_text=True)
    assert re.search(r'name="seen_at"[^>]*value="2024-03-10T15:03:00"', form)
    assert 'title="Time zone: Europe/Paris">CET</span>' in form
    result = client.edit("gadget", 1, seen_at="2024-03-10T16:30")
    assert result.status == 303, result.errors
    (row,) = [r for r in rows(engine, "gadget") if r["gadget_id"] == 1]
    assert row["seen_at"] == dt.datetime(2024, 3, 10, 15, 30, tzinfo=dt.timezone.utc)
    # A zone the browser cannot name (or none) is UTC, and says so.
    client.client.set_cookie("hyper_admin_tz", "../../etc/passwd")
    assert client.detail("gadget", 1).fields["Seen at"] == "Mar 10, 2024, 3:30 PM UTC"


# ---------------------------------------------------------------------------------------------
# Bad input: a 422 on the field, the row unchanged


BAD_GADGET_INPUT = {
    "serial": "not-a-uuid", "host": "999.1.1.1", "network": "10.0.0.1/8", "mac": "08:00:zz",
    "warranty": "forever", "price": "a lot", "weight": "1.2345", "settings": "{nope",
    "readings": "1\nx", "sizes": ["5", "1"], "discount": "150", "opens_at": "25:00",
    "seen_at": "someday", "made_on": "2024-13-01", "state": "lost",
    "name": "x" * 41,
}


@pytest.mark.parametrize("field", sorted(BAD_GADGET_INPUT))
def test_bad_input_of_each_type_is_a_422_on_its_field(pg_site, field):
    app, engine = pg_site
    client = client_of(app)
    before = rows(engine, "gadget")
    result = client.edit("gadget", 1, **{field: BAD_GADGET_INPUT[field]})
    assert result.status == 422 and list(result.errors) == [field], result.errors
    assert rows(engine, "gadget") == before


def test_a_bytea_upload_over_its_cap_is_a_422_on_its_field(pg_site, monkeypatch):
    app, engine = pg_site
    client = client_of(app)
    monkeypatch.setattr(client.state.admin.registry["gadget"], "max_bytes_size", 4)
    before = rows(engine, "gadget")
    result = client.edit("gadget", 1, firmware=(io.BytesIO(b"12345"), "fw.bin"))
    assert result.status == 422 and list(result.errors) == ["firmware"], result.errors
    assert rows(engine, "gadget") == before


@pytest.mark.parametrize("field, value", [
    ("rating", "XX"), ("release_year", "1800"), ("rental_rate", "123.456"),
    ("special_features", ""), ("length", "40000")])
def test_pagilas_film_refuses_bad_input_on_its_field(pg_site, field, value):
    app, engine = pg_site
    client = client_of(app)
    before = rows(engine, "film")
    if field == "special_features":  # an empty array is a value: refused by no one
        assert client.edit("film", 2, **{field: value}).status == 303
        return
    response = client.post("/admin/film/2/edit", {**form_of(client, "/admin/film/2/edit"), field: value})
    assert response.status_code == 422 and field in errors_of(response), errors_of(response)
    assert rows(engine, "film") == before


def test_what_only_the_database_refuses_is_a_422_on_its_field(pg_site):
    app, engine = pg_site
    client = client_of(app)
    # No partition holds 2030: the partitioned table refuses it, on the partition key.
    before = rows(engine, "payment")
    created = client.create("payment", payment_date="2030-01-01T10:00", customer_id="1",
                            amount="1.00")
    assert created.status == 422 and "payment_date" in created.errors, created.errors
    assert "No partition" in created.errors["payment_date"][0]
    assert rows(engine, "payment") == before
    # money out of its range: only PostgreSQL knows.
    before = rows(engine, "gadget")
    result = client.edit("gadget", 1, price="99999999999999999999")
    assert result.status == 422 and list(result.errors) == ["price"], result.errors
    # An interval past what PostgreSQL holds.
    result = client.edit("gadget", 1, warranty="999999999 years")
    assert result.status == 422 and list(result.errors) == ["warranty"], result.errors
    assert rows(engine, "gadget") == before


@pytest.mark.parametrize("values, field, kind", [
    ({"rating": "XX"}, "rating", "invalid"),                       # no such enum label
    ({"release_year": 1800}, "release_year", "check"),             # the year domain's CHECK
    ({"rental_rate": decimal.Decimal("1000")}, "rental_rate", "invalid"),  # numeric(4,2)
    ({"length": 40000}, "length", "invalid"),                      # smallint out of range
    ({"last_update": "2024-13-45"}, "last_update", "invalid"),     # no such date
    ({"special_features": "{unclosed"}, "special_features", "invalid"),  # malformed array
])
def test_the_database_refusals_name_their_column(pg_site, values, field, kind):
    app, engine = pg_site
    info = model_info(schema.PgtFilm)
    dialect = dialect_of(engine)
    with pytest.raises(IntegrityProblem) as caught:
        with engine as tx:
            update(tx, dialect, info, (1,), values)
    assert (caught.value.kind, caught.value.field, caught.value.status) == (kind, field, 422)
    assert "invalid input" not in caught.value.message  # ours, never the database's
    with pytest.raises(IntegrityProblem) as too_long:
        with engine as tx:
            insert(tx, dialect, model_info(schema.PgtGadget), {"name": "x" * 41})
    assert (too_long.value.field, too_long.value.kind) == ("name", "invalid")


@pytest.mark.parametrize("backend", ["sqlite"])  # SQLite's STRICT tables: SQLite's alone
def test_sqlite_strict_columns_refuse_other_types_on_their_field(engine, backend):
    schema.create_schema(engine, False)
    app = schema.create_app(engine, False)
    info = model_info(schema.SltStrictThing)
    with pytest.raises(IntegrityProblem) as caught:
        with engine as tx:
            update(tx, dialect_of(engine), info, (1,), {"count": "many"})
    assert (caught.value.kind, caught.value.field, caught.value.status) == ("invalid", "count", 422)
    result = client_of(app).edit("strict_thing", 1, count="many")
    assert result.status == 422 and list(result.errors) == ["count"]
    # ANY takes any value as it is given.
    assert client_of(app).edit("strict_thing", 1, anything="seven").status == 303
    assert rows(engine, "strict_thing")[0]["anything"] == "seven"


def test_the_issues_film_edit_with_a_bad_rating_is_a_422(pg_site):
    app, engine = pg_site
    client = client_of(app)
    data = form_of(client, "/admin/film/2/edit")
    response = client.post("/admin/film/2/edit", {**data, "rating": "XX"})
    assert response.status_code == 422 and "rating" in errors_of(response)


# ---------------------------------------------------------------------------------------------
# Filters and search


@pytest.mark.parametrize("query, titles", [
    ("rating=PG", {"ACADEMY DINOSAUR"}),
    ("rating__in=G,NC-17", {"ACE GOLDFINGER", "ADAPTATION HOLES"}),
    ("rating__isnull=1", {"AGENT TRUMAN"}),
    ("special_features=Trailers", {"ACE GOLDFINGER", "ADAPTATION HOLES"}),
    ("special_features__contains=Deleted Scenes", {"ACADEMY DINOSAUR", "ACE GOLDFINGER"}),
    ("special_features__in=Trailers,Behind the Scenes", {"ACADEMY DINOSAUR", "ACE GOLDFINGER",
                                                         "ADAPTATION HOLES"}),
    ("release_year__gte=2007", {"AGENT TRUMAN"}),
    ("rental_rate__lte=4.99", {"ACADEMY DINOSAUR", "ACE GOLDFINGER", "ADAPTATION HOLES",
                               "AFFAIR PREJUDICE", "AGENT TRUMAN"}),
])
def test_film_filters(pg_site, query, titles):
    app, _engine = pg_site
    page = client_of(app).list("film", **dict([query.split("=", 1)]))
    assert page.status == 200
    assert {row["Title"] for row in page.rows} == titles


@pytest.mark.parametrize("query, names", [
    ("state=in_use", {"Probe"}),
    ("serial=a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", {"Probe"}),
    ("serial__contains=b0eebc99", {"Bare"}),
    ("host=192.168.0.10/24", {"Probe"}),
    ("network__contains=2001:db8", {"Empties"}),
    ("mac=08:00:2b:01:02:04", {"Empties"}),
    ("warranty__gte=1 year", {"Probe"}),
    ("price__lte=5", {"Empties"}),
    ("weight__gte=1", {"Probe"}),
    ("readings=2", {"Probe"}),
    ("labels__contains=comma, inside", {"Probe"}),
    ("sizes=5", {"Probe"}),
    ("available__contains=2023-06-01", {"Empties"}),
    ("slot=2024-01-01T11:00:00+00:00", {"Probe", "Empties"}),
    ("discount__gte=10", {"Probe"}),
    ("opens_at__gte=12:00", {"Empties"}),
    ("seen_at__lte=2024-03-10", {"Probe", "Empties"}),
    ("made_on=2024-03-10", {"Probe"}),
    ("settings__isnull=1", {"Bare"}),
])
def test_gadget_filters(pg_site, query, names):
    app, _engine = pg_site
    page = client_of(app).list("gadget", **dict([query.split("=", 1)]))
    assert page.status == 200, page.html[:500]
    assert {row["Name"] for row in page.rows} == names


@pytest.mark.parametrize("query", [
    "rating=XX", "serial=zz", "host=nowhere", "mac=1", "warranty__gte=soon", "readings=x",
    "sizes__gte=1", "settings=1", "discount=many", "release_year=year"])
def test_a_filter_value_no_column_holds_is_a_400(pg_site, query):
    app, _engine = pg_site
    slug = "film" if query.split("=")[0].split("__")[0] in ("rating", "release_year") else "gadget"
    assert client_of(app).get(f"/admin/{slug}/?{query}").status_code == 400


def test_search_fits_each_column(pg_site):
    app, _engine = pg_site
    client = client_of(app)
    # An enum by its label, case-insensitively (never lower() on the enum itself).
    assert {r["Title"] for r in client.list("film", q="pg-13").rows} == {"AFFAIR PREJUDICE"}
    assert {r["Title"] for r in client.list("film", q="nc-1").rows} == {"ADAPTATION HOLES"}
    assert {r["Name"] for r in client.list("gadget", q="in use").rows} == {"Probe"}
    assert {r["Title"] for r in client.list("film", q="=PG").rows} == {"ACADEMY DINOSAUR"}
    assert {r["Title"] for r in client.list("film", q="^AC").rows} == {"ACADEMY DINOSAUR", "ACE GOLDFINGER"}
    assert {r["Title"] for r in client.list("film", q="lumberjack").rows} == {"ADAPTATION HOLES"}
    # The default search fields are the text-like ones: no tsvector, uuid, array or number.
    film_admin = client.state.admin.model_admin(schema.PgtFilm)
    assert film_admin.get_search_fields(ROOT) == ["title", "description", "rating"]
    # A tsvector named in search_fields is searched as text search: @@, never lower().
    film_admin.search_fields = ["title", "fulltext"]
    assert {r["Title"] for r in client.list("film", q="scientists").rows} == {"ACADEMY DINOSAUR"}
    assert client.list("film", q="=x").status == 200 and client.list("film", q="^x").status == 200


def test_the_search_sql_is_what_a_trigram_index_serves(pg_site):
    """docs/lists.md's index serves the list's search: ``lower(col) LIKE '%term%'`` on a GIN
    index of ``lower(col) gin_trgm_ops``."""
    from hyper_admin.changelist import list_spec
    from hyper_admin.query import parse_list_params, search_test, where_clause
    from werkzeug.datastructures import MultiDict

    app, engine = pg_site
    client = client_of(app)
    model_admin = client.state.admin.model_admin(schema.PgtFilm)
    with app.test_request_context():
        spec = list_spec(model_admin, ROOT, per_page=50, max_per_page=100, secret_key="k")
        stmt = Statement(dialect_of(engine))
        where = where_clause(stmt, spec, parse_list_params(MultiDict({"q": "pg"}), spec))
    text = " AND ".join(where)
    assert "lower(film.title) LIKE %s" in text and "lower(film.rating)" not in text
    assert "film.rating IN (%s, %s)" in text and "fulltext" not in text
    assert stmt.params[-2:] == ["PG", "PG-13"]
    stmt = Statement(dialect_of(engine))
    text = search_test(stmt, model_info(schema.PgtFilm).column("title"), "contains", "Dino")
    assert text == "lower(film.title) LIKE %s ESCAPE '\\'" and stmt.params == ["%dino%"]
    trigram = run(engine, Statement(dialect_of(engine),
                                    "SELECT extnamespace::regnamespace::text AS at FROM pg_extension "
                                    "WHERE extname = 'pg_trgm'"))
    with engine as tx:
        if trigram:
            ops = f"{trigram[0]['at']}.gin_trgm_ops"
        else:
            tx.execute("CREATE EXTENSION pg_trgm")  # in the test's schema, dropped with it
            ops = "gin_trgm_ops"
        tx.execute(f"CREATE INDEX film_title_trgm ON film USING gin (lower(title) {ops})")
    explain = Statement(dialect_of(engine), "EXPLAIN SELECT film_id FROM film WHERE " + text)
    explain.params = list(stmt.params)
    with engine as tx:
        tx.execute("SET LOCAL enable_seqscan = off")  # five rows: make the planner show its index
        plan = tx.cursor(explain.compiled()).fetchall()
    assert "film_title_trgm" in " ".join(str(dict(line)) for line in plan)


# ---------------------------------------------------------------------------------------------
# Views, partitions, export


def test_views_and_materialized_views_are_read_only(site, backend):
    app, engine = site
    client = client_of(app)
    slugs = ("film_list", "rating_counts") if backend == "postgresql" else ("affinity_view",)
    for slug in slugs:
        listing = client.get(f"/admin/{slug}/").get_data(as_text=True)
        assert f'href="/admin/{slug}/new"' not in listing
        (first, *_rest) = row_links(listing, slug)
        detail = client.get(first).get_data(as_text=True)
        assert "/edit" not in detail and "/delete" not in detail
        assert client.get(first + "edit").status_code == 403
        assert client.post(first + "edit", {}).status_code == 403
        assert client.post(first + "delete", {}).status_code == 403
        assert client.get(f"/admin/{slug}/new").status_code == 403


def test_the_partitioned_table_works_as_one_model(pg_site):
    app, engine = pg_site
    client = client_of(app)
    listing = client.list("payment", sort="-payment_date")
    assert listing.status == 200 and len(listing.rows) == 4
    created = client.create("payment", payment_date="2022-02-10T09:30", customer_id="2",
                            amount="3.50")
    assert created.status == 303, created.errors
    assert any(r["amount"] == decimal.Decimal("3.50") for r in rows(engine, "payment_p2022_02"))


def test_export_keeps_each_type(pg_site):
    app, _engine = pg_site
    client = client_of(app)
    exported = json.loads(client.get("/admin/gadget/export?format=json&columns=name,readings,"
                                     "labels,sizes,settings,firmware,serial,warranty").get_data())
    probe = next(item for item in exported if item["name"] == "Probe")
    assert probe["readings"] == [3, 1, 2]
    assert probe["labels"] == ["alpha", "with space", "comma, inside", 'quote " inside']
    assert probe["sizes"] == '["1","10")' and probe["settings"] == {"a": {"nested": True}, "b": [1, 2]}
    assert probe["firmware"] == "deadbeef" and probe["serial"] == "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"
    assert probe["warranty"] == "1 year 2 mons 3 days 04:05:06"
    csv_text = client.get("/admin/gadget/export?format=csv&columns=name,labels").get_data(as_text=True)
    assert '"[""alpha"", ""with space"", ""comma, inside"", ""quote \\"" inside""]"' in csv_text


# ---------------------------------------------------------------------------------------------
# The pieces


def test_domain_check_bounds():
    assert check_bounds(["CHECK (((VALUE >= 1901) AND (VALUE <= 2155)))"], "VALUE") == (1901, 2155)
    assert check_bounds(["CHECK (((VALUE >= (0)::numeric) AND (VALUE <= (100)::numeric)))"],
                        "VALUE") == (0, 100)
    assert check_bounds(["CHECK ((VALUE > 0))"], "VALUE") == (1, None)  # whole numbers
    assert check_bounds(["CHECK ((VALUE > 0.5))"], "VALUE") == (None, None)
    assert check_bounds(["CHECK (((VALUE < 0) OR (VALUE > 10)))"], "VALUE") == (None, None)
    assert check_bounds(["CHECK ((price >= 0))"], "price") == (0, None)
    assert check_bounds(["CHECK ((unit_price >= 0))"], "price") == (None, None)


def test_array_and_range_literals():
    items = ["a", "b c", None, 'q"x', "back\\slash", "", "NULL"]
    assert parse_array_literal(array_literal(items)) == items
    assert parse_array_literal("{G,PG-13}") == ["G", "PG-13"] and parse_array_literal("{}") == []
    assert parse_array_literal("{NULL,x}") == [None, "x"]
    with pytest.raises(ValueError):
        parse_array_literal("{{1,2},{3,4}}")
    from psycopg.types.range import Range

    assert range_literal(Range(1, 10)) == '["1","10")'
    assert range_literal(Range(None, dt.date(2024, 1, 1), "[]")) == '(,"2024-01-01"]'
    assert range_literal(Range(empty=True)) == "empty"


@pytest.mark.parametrize("kind, sql_type, good, bad", [
    ("uuid", "uuid", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "a0eebc99"),
    ("network", "inet", "2001:db8::1/64", "2001:zz::1"),
    ("network", "cidr", "10.0.0.0/8", "10.0.0.1/8"),
    ("network", "macaddr", "0800.2b01.0203", "08:00:2b"),
    ("interval", "interval", "1 year 2 mons 3 days 04:05:06", "a while"),
    ("interval", "interval", "P1Y2M3DT4H", "P1Q"),
    ("money", "money", "$1,234.56", "twelve"),
    ("int", "smallint", "32767", "32768"),
])
def test_values_typed_as_text_are_checked_as_their_type(kind, sql_type, good, bad):
    from hyper_admin.query import _BOOL_COLUMN
    import dataclasses

    column = dataclasses.replace(_BOOL_COLUMN, kind=kind, sql_type=sql_type)
    assert parse_item(column, good) is not None
    with pytest.raises(ValueError):
        parse_item(column, bad)
