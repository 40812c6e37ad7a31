"""Unit tests of hyper_admin.query: parsing the list query string, cursors, and the SQL text it
produces (identifiers only from introspected columns, values only as parameters). Two tests run
the SQL on SQLite and PostgreSQL."""

import datetime as dt
import re
import decimal

import pytest
from sqlorm import SQL
from werkzeug.datastructures import MultiDict

from hyper_admin.demo.models import Account, Order
from hyper_admin.introspect import model_info
from hyper_admin.query import (MAX_FILTER_VALUES, BadQuery, ListSpec, RelatedColumn,
                               decode_cursor, encode_cursor, parse_list_params,
                               select_list, where_clause, with_tiebreaker)
from hyper_admin.sql import POSTGRESQL, SQLITE, Statement, dialect_of, like_pattern

INFO = model_info(Order)
C = INFO.by_attribute


def make_spec(**changes) -> ListSpec:
    account = model_info(Account)
    values = dict(
        info=INFO,
        sortable={n: C[n] for n in ("reference", "total", "created_at", "id", "status", "currency",
                                    "updated_at")},
        filterable={n: C[n] for n in ("status", "created_at", "total", "shipped_at", "account_id",
                                      "reference")},
        search=[C["reference"], RelatedColumn("account.name", C["account_id"],
                                              account.by_attribute["name"], account)],
        ordering=[(C["created_at"], True)],
        per_page=50,
        max_per_page=500,
        cursor_key=b"cursor-key-1",
    )
    values.update(changes)
    return ListSpec(**values)


SPEC = make_spec()


def parse(query=None, spec=SPEC, **kw):
    args = MultiDict(query if query is not None else list(kw.items()))
    params = parse_list_params(args, spec)
    params._spec = spec  # so that sql_of renders with the same spec
    return params


def bad(query, spec=SPEC):
    with pytest.raises(BadQuery):
        parse_list_params(MultiDict(query), spec)


def sql_of(params, spec=None, dialect=SQLITE):
    spec = spec or getattr(params, "_spec", SPEC)
    stmt = Statement(dialect)
    conditions = where_clause(stmt, spec, params)
    return " AND ".join(conditions), stmt.params


# --- filters -------------------------------------------------------------------------------------


def test_defaults():
    params = parse([])
    assert params.q == "" and params.page == 1 and params.per_page == 50
    assert params.filters == [] and params.after is None and params.before is None
    assert params.sort_given is False
    assert params.sort == [(C["created_at"], True), (C["id"], True)]  # ordering + tiebreaker


def test_eq_filter():
    (flt,) = parse([("status", "paid")]).filters
    assert (flt.column, flt.op, flt.values, flt.key) == (C["status"], "eq", ["paid"], "status")
    text, params = sql_of(parse([("status", "paid")]))
    assert text == "orders.status = ?" and params == ["paid"]


def test_repeated_key_means_any():
    params = parse([("status", "paid"), ("status", "refunded")])
    (flt,) = params.filters
    assert flt.op == "eq" and flt.values == ["paid", "refunded"]
    text, values = sql_of(params)
    assert text == "orders.status IN (?, ?)" and values == ["paid", "refunded"]


def test_in_filter():
    (flt,) = parse([("status__in", "paid,refunded"), ("status__in", "shipped")]).filters
    assert flt.op == "in" and flt.values == ["paid", "refunded", "shipped"]
    text, values = sql_of(parse([("status__in", "paid,refunded")]))
    assert text == "orders.status IN (?, ?)" and values == ["paid", "refunded"]


def test_gte_lte_filters_are_typed():
    params = parse([("total__gte", "100.50"), ("created_at__lte", "2024-05-01")])
    gte, lte = params.filters
    assert gte.op == "gte" and gte.values == [decimal.Decimal("100.50")]
    assert lte.op == "lte" and lte.values == [dt.datetime(2024, 5, 1)]
    text, values = sql_of(params)
    assert text == "orders.total >= ? AND orders.created_at <= ?"
    # "<= a day" means through that day; SQLite gets ISO text, Decimal as exact text
    assert values == ["100.50", "2024-05-01 23:59:59.999999"]
    text, values = sql_of(params, dialect=POSTGRESQL)
    assert text == "orders.total >= %s AND orders.created_at <= %s"
    assert values == [decimal.Decimal("100.50"), dt.datetime(2024, 5, 1, 23, 59, 59, 999999)]


def test_isnull_filter():
    (flt,) = parse([("shipped_at__isnull", "1")]).filters
    assert flt.op == "isnull" and flt.values == [True]
    assert sql_of(parse([("shipped_at__isnull", "true")])) == ("orders.shipped_at IS NULL", [])
    assert sql_of(parse([("shipped_at__isnull", "0")])) == ("orders.shipped_at IS NOT NULL", [])
    bad([("shipped_at__isnull", "maybe")])
    bad([("shipped_at__isnull", "1"), ("shipped_at__isnull", "0")])


def test_contains_filter_escapes_like_wildcards():
    (flt,) = parse([("reference__contains", "AB%_c")]).filters
    assert flt.op == "contains"
    text, values = sql_of(parse([("reference__contains", "AB%_c")]))
    assert text == "lower(orders.reference) LIKE ? ESCAPE '\\'"
    assert values == ["%ab\\%\\_c%"]
    bad([("total__contains", "1")])  # not text


def test_fk_filter_is_an_int():
    (flt,) = parse([("account_id", "12")]).filters
    assert flt.values == [12]
    bad([("account_id", "twelve")])


# --- every BadQuery --------------------------------------------------------------------------------


@pytest.mark.parametrize("query", [
    [("nope", "1")],                                # unknown field
    [("currency", "EUR")],                          # a column, but not filterable
    [("updated_at__gte", "2024-01-01")],            # sortable is not filterable
    [("total", "abc")],                             # wrong type
    [("total", "NaN")],
    [("total__gte", "Infinity")],
    [("account_id", "1.5")],
    [("status", "lost")],                           # not a member of the enum
    [("status__in", "paid,lost")],
    [("created_at__gte", "2024-13-01")],            # a date that is no date
    [("created_at", "yesterday")],
    [("page", "-1")], [("page", "0")], [("page", "1000001")], [("page", "two")], [("page", "")],
    [("per_page", "abc")], [("per_page", "0")], [("per_page", "-5")], [("per_page", "")],
    [("q", "a\x00b")],                              # NUL bytes
    [("reference", "a\x00b")],
    [("q", "x" * 201)],                             # search too long
    [("status__in", ",".join(["paid"] * (MAX_FILTER_VALUES + 1)))],  # too many values
    [("total__between", "1")],                      # unknown operator
    [("total__gte", "1"), ("total__gte", "2")],     # one value only
    [("status__in", ",,")],
    [("sort", "nope")], [("sort", "-shipped_at")],  # not sortable
    [("after", "x.y"), ("before", "x.y")],          # after + before
    [("after", "abc")],                             # not a cursor we issued
    [("before", "")],
])
def test_bad_queries(query):
    bad(query)


def test_too_many_repeated_values():
    bad([("status", "paid")] * (MAX_FILTER_VALUES + 1))
    assert len(parse([("status", "paid")] * 3).filters[0].values) == 3


def test_page_and_cursor_exclude_each_other():
    sort = with_tiebreaker([(C["created_at"], True)], INFO)
    cursor = encode_cursor(["2024-05-01 10:00:00", 7], SPEC, sort)
    assert parse([("after", cursor)]).after == ["2024-05-01 10:00:00", 7]
    bad([("page", "2"), ("after", cursor)])
    bad([("page", "2"), ("before", cursor)])
    bad([("after", cursor), ("before", cursor)])


def test_per_page_is_clamped_and_page_parsed():
    assert parse([("per_page", "100000")]).per_page == 500
    assert parse([("per_page", "20")]).per_page == 20
    assert parse([("page", "3")]).page == 3
    assert parse([("page", "1000000")]).page == 1_000_000


def test_q_is_stripped():
    assert parse([("q", "  hello ")]).q == "hello"


# --- sort --------------------------------------------------------------------------------------


def test_sort_parsing_directions_duplicates_and_tiebreaker():
    params = parse([("sort", "-total,status")])
    assert params.sort_given is True
    assert params.sort == [(C["total"], True), (C["status"], False), (C["id"], False)]
    assert parse([("sort", "total")]).sort == [(C["total"], False), (C["id"], False)]
    assert parse([("sort", "-total")]).sort == [(C["total"], True), (C["id"], True)]
    # a repeated field counts once (the first wins); empty parts are ignored
    assert parse([("sort", "total,,-total, ")]).sort == [(C["total"], False), (C["id"], False)]
    # the primary key is not repeated
    assert parse([("sort", "-id")]).sort == [(C["id"], True)]
    # a unique NOT NULL column already orders totally
    assert parse([("sort", "reference")]).sort == [(C["reference"], False)]


def test_sort_by_at_most_five_fields():
    assert len(parse([("sort", "total,created_at,id,status,currency")]).sort) == 5
    bad([("sort", "total,created_at,id,status,currency,updated_at")])


# --- cursors -------------------------------------------------------------------------------------


SORT = [(C["total"], True), (C["id"], True)]


def test_cursor_round_trip():
    values = ["12.50", 42]
    cursor = encode_cursor(values, SPEC, SORT)
    assert decode_cursor(cursor, SPEC, SORT) == values
    by_reference = [(C["reference"], False), (C["id"], False)]
    odd = ["naïve \"quoted\" ,.", 7]
    assert decode_cursor(encode_cursor(odd, SPEC, by_reference), SPEC, by_reference) == odd
    # typed values are encoded as text
    by_time = [(C["created_at"], True), (C["total"], True)]
    cursor = encode_cursor([dt.datetime(2024, 5, 1, 10), decimal.Decimal("1.10")], SPEC, by_time)
    assert decode_cursor(cursor, SPEC, by_time) == ["2024-05-01T10:00:00", "1.10"]


def test_signed_cursors_whose_values_do_not_fit_their_columns_are_refused():
    # Issued before a schema change, or signed with a leaked key: a 400, not a database error.
    for values in (["not a number", 42], ["12.50", "x"], [None, 42], [{"a": 1}, 42], ["1e999999", 42]):
        with pytest.raises(BadQuery):
            decode_cursor(encode_cursor(values, SPEC, SORT), SPEC, SORT)


def test_tampered_cursors_are_refused():
    import base64
    import json

    cursor = encode_cursor(["12.50", 42], SPEC, SORT)
    body, signature = cursor.split(".")
    forged = base64.urlsafe_b64encode(json.dumps(["12.50", 1]).encode()).decode().rstrip("=")
    for raw in (
        f"{forged}.{signature}",                    # changed body
        f"{body}.{signature[:-1]}A" if signature[-1] != "A" else f"{body}.{signature[:-1]}B",
        f"{body}",                                  # no signature
        f"{body}.{signature}.x",
        "",
        "x" * 5000,
    ):
        with pytest.raises(BadQuery):
            decode_cursor(raw, SPEC, SORT)
    with pytest.raises(BadQuery):  # another key (another app secret or model)
        decode_cursor(cursor, make_spec(cursor_key=b"cursor-key-2"), SORT)
    with pytest.raises(BadQuery):  # another sort
        decode_cursor(cursor, SPEC, [(C["total"], False), (C["id"], False)])
    with pytest.raises(BadQuery):
        decode_cursor(cursor, SPEC, [(C["created_at"], True), (C["id"], True)])
    # through the query string: a cursor of another sort is a 400
    bad([("after", cursor), ("sort", "total")])
    assert parse([("after", cursor), ("sort", "-total")]).after == ["12.50", 42]


def test_signed_cursor_with_wrong_length_is_refused():
    cursor = encode_cursor(["12.50"], SPEC, SORT)  # signed, but one value for two columns
    with pytest.raises(BadQuery):
        decode_cursor(cursor, SPEC, SORT)


# --- like_pattern and SQL text -------------------------------------------------------------------


def test_like_pattern_escapes():
    assert like_pattern("50%") == "%50\\%%"
    assert like_pattern("a_b") == "%a\\_b%"
    assert like_pattern("back\\slash") == "%back\\\\slash%"
    assert like_pattern("%_\\", prefix=True) == "\\%\\_\\\\%"
    assert like_pattern("plain", prefix=True) == "plain%"


HOSTILE = "x'); DROP TABLE orders; --"


def test_values_become_placeholders_and_identifiers_come_from_columns():
    params = parse([("q", HOSTILE), ("reference__contains", HOSTILE), ("reference", HOSTILE)])
    text, values = sql_of(params)
    assert "DROP" not in text and "'); " not in text
    assert text.count("?") == len(values) == 4  # two search columns, contains, eq
    assert "%x'); drop table orders; --%" in values and HOSTILE in values
    # the identifiers in the text are exactly those of introspected columns
    assert "orders.reference" in text and "orders.account_id IN (SELECT accounts.id FROM accounts" in text
    assert "accounts.name" in text
    # a field name is never put into SQL: an unknown one is refused before
    for key in ("reference; DROP TABLE orders", "reference)--", 'reference"', "orders.reference"):
        bad([(key, "x")])
        bad([("sort", key)])


def test_search_modes():
    spec = make_spec(search=[C["reference"]])
    assert sql_of(parse([("q", "=ORD-1")], spec)) == ("(orders.reference = ?)", ["ORD-1"])
    # starts-with: a range an index serves, LIKE to stay exact; case-sensitive like "="
    assert sql_of(parse([("q", "^Ord")], spec)) == (
        "((orders.reference >= ? AND orders.reference < ? AND orders.reference LIKE ? "
        "ESCAPE '\\'))", ["Ord", "Ore", "Ord%"])
    assert sql_of(parse([("q", "Ord")], spec)) == (
        "(lower(orders.reference) LIKE ? ESCAPE '\\')", ["%ord%"])
    number = make_spec(search=[C["total"]])
    text, _ = sql_of(parse([("q", "12")], number))
    assert text == "(lower(CAST(orders.total AS TEXT)) LIKE ? ESCAPE '\\')"


def test_scope_and_base_query_come_first_with_their_parameters():
    spec = make_spec(scope=SQL("orders.account_id =", SQL.Param(3)),
                     base=SQL("orders.status <>", SQL.Param("cancelled")))
    text, values = sql_of(parse([("status", "paid")], spec))
    assert text == "(orders.account_id = ?) AND (orders.status <> ?) AND orders.status = ?"
    assert values == [3, "cancelled", "paid"]
    text, values = sql_of(parse([("status", "paid")], spec), dialect=POSTGRESQL)
    assert text == "(orders.account_id = %s) AND (orders.status <> %s) AND orders.status = %s"
    assert values == [3, "cancelled", "paid"]


def test_many_in_values_render_in_linear_time():
    """sqlorm's unnamed parameters render in cubic time (SQLORM_NOTES.md); ours must grow
    linearly: ten times the values may cost about ten times as much, not a thousand."""
    import time

    def cost(n):
        values = ",".join(str(i) for i in range(n))
        best = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            text, params = sql_of(parse([("account_id__in", values)]))
            best = min(best, time.perf_counter() - start)
        assert len(params) == n and text.count("?") == n
        return best

    assert cost(MAX_FILTER_VALUES) / cost(MAX_FILTER_VALUES // 10) < 60


# --- on the databases ----------------------------------------------------------------------------


@pytest.fixture
def orders(engine):
    from crud_app import seeded

    seeded(engine, rows=5)
    with engine as tx:
        account = tx.fetchscalar("SELECT min(id) AS v FROM accounts")
        for reference, total in (("50%_OFF", "10.00"), ("50XXOFF", "11.00"), ("back\\slash", "12.00")):
            tx.execute(SQL("INSERT INTO orders (reference, account_id, status, total, currency, "
                           "created_at, updated_at) VALUES (", SQL.List([
                               SQL.Param(reference), SQL.Param(account), SQL.Param("paid"),
                               SQL.Param(total), SQL.Param("EUR"),
                               SQL.Param("2026-01-01 10:00:00"), SQL.Param("2026-01-01 10:00:00")]),
                           ")"))
    return engine


def references(engine, spec, query):
    params = parse(query, spec)
    page = select_list(engine, dialect_of(engine), spec, params, [C["reference"]], [])
    return [r["reference"] for r in page.rows], page


def test_like_escaping_and_hostile_values_on_the_database(orders):
    spec = make_spec(search=[C["reference"]])
    assert references(orders, spec, [("q", "50%_")])[0] == ["50%_OFF"]
    assert references(orders, spec, [("reference__contains", "%_o")])[0] == ["50%_OFF"]
    assert references(orders, spec, [("q", "k\\s")])[0] == ["back\\slash"]
    assert references(orders, spec, [("q", "^50")])[0] == ["50XXOFF", "50%_OFF"] or \
        sorted(references(orders, spec, [("q", "^50")])[0]) == ["50%_OFF", "50XXOFF"]
    assert references(orders, spec, [("q", HOSTILE)])[0] == []
    with orders as tx:
        assert tx.fetchscalar("SELECT count(*) AS n FROM orders") == 8  # still there


def test_following_cursors_visits_every_row_once(orders):
    spec = make_spec(per_page=2)
    for sort in ("-total", "total", "reference", "-created_at"):
        seen, query = [], [("sort", sort)]
        for _ in range(10):
            rows, page = references(orders, spec, query)
            seen += rows
            if not page.next_cursor:
                break
            query = [("sort", sort), ("after", page.next_cursor)]
        assert len(seen) == len(set(seen)) == 8, sort


def test_an_empty_filter_value_means_no_filter_but_the_field_is_still_checked():
    spec = make_spec()
    assert parse([("status", ""), ("total__gte", " ")], spec).filters == []
    with pytest.raises(BadQuery):
        parse([("password_hash", "")], spec)
    with pytest.raises(BadQuery):
        parse([("status__like", "")], spec)


def test_postgresql_search_through_a_relation_keeps_indexes(pg_schema):
    """An exact search over reference OR the account's name must be a BitmapOr of two index
    scans on PostgreSQL: "account_id IN (SELECT ...)" OR-ed with an indexed test becomes a
    hashed SubPlan tested on every row of the table (a sequential scan of millions of rows)."""
    import psycopg

    from hyper_admin.demo import schema

    schema_name, url = pg_schema
    from sqlorm import Engine

    from hyper_admin import enable_postgresql

    engine = enable_postgresql(Engine.from_uri(url))
    try:
        schema.create_schema(engine)
    finally:
        engine.disconnect_all()
    params = parse([("q", "=ORD-000042")])
    where, values = sql_of(params, dialect=POSTGRESQL)
    assert "= ANY(ARRAY(SELECT" in where
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET enable_seqscan = off")  # an empty table: ask for the indexed plan
        plan = "\n".join(r[0] for r in conn.execute(
            f"EXPLAIN SELECT orders.id FROM orders WHERE {where} ORDER BY orders.id DESC LIMIT 51",
            values).fetchall())
    assert "BitmapOr" in plan, plan
    assert "SubPlan" not in plan, plan
    # The page is then read among the keys found, not by walking the sort index.
    assert re.search(r"Index Cond: \(id = ANY \(\$\d\)\)", plan), plan
