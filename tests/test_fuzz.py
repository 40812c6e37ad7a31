"""Fuzzing (issue 7): random input to the list query parser and to the form converters, through
the real views on SQLite and PostgreSQL. The one property: no 500, ever. A bad query string is
a 400, a bad form value a 422 with the form, a good one a normal answer.

Hypothesis draws from the junk that broke admins before (numbers beyond 64 bits, exponents
no database holds, NUL bytes, dates out of range, operators and field names that do not exist,
LIKE wildcards, SQL) mixed with plain random text, so each run explores new inputs; a failure
prints the example that reproduces it.
"""

import os

import pytest
from hypothesis import HealthCheck, event, given, settings, strategies as st
from sqlorm import Engine
from werkzeug.datastructures import MultiDict

from apps import as_user, form_data
from crud_app import create_app, seeded, staff
from hyper_admin import enable_postgresql

#: Examples per test and database; a longer hunt: HYPER_ADMIN_FUZZ_EXAMPLES=5000 pytest tests/test_fuzz.py
EXAMPLES = int(os.environ.get("HYPER_ADMIN_FUZZ_EXAMPLES", "150"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@pytest.fixture(scope="module")
def site(module_db_url):
    """The CRUD test site, seeded once per database, and a superuser's client."""
    kwargs = {"foreign_keys": True} if module_db_url.startswith("sqlite") else {}
    engine = enable_postgresql(Engine.from_uri(module_db_url, **kwargs))
    seeded(engine, rows=40)
    app, _ = create_app(engine)
    client = as_user(app, staff(engine)["admin"])
    with engine as tx:
        ids = {table: [r["id"] for r in tx.fetchall(f"SELECT id FROM {table} ORDER BY id LIMIT 12")]
               for table in ("orders", "accounts", "products", "tickets", "contacts")}
    yield client, ids
    engine.disconnect_all()


NASTY = [
    "", " ", "0", "-0", "-1", "1e999999", "-1E-999999", "9" * 400, "-" + "9" * 30, "NaN", "inf",
    "-Infinity", "0x10", "1_000", "１２", "2026-13-45", "2026-02-30", "9999-12-31T23:59:59+14:00",
    "0001-01-01", "10000-01-01", "24:61", "+00:00", "T", ",", ",,,", "%", "_", "%_%", "\\",
    "\\%", "'", '"', "'; DROP TABLE orders; --", "1 OR 1=1", "\x00", "a\x00b", "\r\n", "\u202e",
    "😀", "<script>", "true", "yes", "null", "None", "[]", "{}", "paid,shipped", "paid,,x",
    "-", "--id", "+total", "reference,-total", "id,id,id,id,id,id", "account.name", "account__name",
    "password_hash", "-password_hash", "é" * 300,
]
FIELD_NAMES = [
    "status", "priority", "total", "created_at", "shipped_at", "reference", "account", "account_id",
    "id", "subject", "name", "email", "password_hash", "region", "plan", "is_active", "bogus",
    "account.name", "", "__", "a\x00",
]
OPERATORS = ["", "__gte", "__lte", "__in", "__isnull", "__contains", "__eq", "__bogus", "__gte__in"]

printable = st.characters(exclude_categories=("Cs",))
values = st.one_of(
    st.sampled_from(NASTY),
    st.text(printable, max_size=40),
    st.integers(-2**80, 2**80).map(str),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.floats().map(repr),
    st.dates().map(lambda d: d.isoformat()),
    st.datetimes(timezones=st.none() | st.timezones()).map(lambda d: d.isoformat()),
)
filter_keys = st.builds(lambda f, op: f + op, st.sampled_from(FIELD_NAMES), st.sampled_from(OPERATORS))
sort_values = st.lists(
    st.builds(lambda sign, f: sign + f, st.sampled_from(["", "-", "+", "--"]), st.sampled_from(FIELD_NAMES)),
    min_size=1, max_size=7).map(",".join)
reserved = st.one_of(
    st.tuples(st.just("sort"), sort_values | values),
    st.tuples(st.sampled_from(["q", "page", "per_page", "after", "before", "count", "columns"]), values),
)
pairs = st.lists(
    st.one_of(reserved, st.tuples(filter_keys, values), st.tuples(st.text(printable, max_size=12), values)),
    max_size=6,
)
SLUGS = ["orders", "tickets", "accounts", "products", "contacts", "staff_users"]


@FUZZ
@given(slug=st.sampled_from(SLUGS), query=pairs,
       endpoint=st.sampled_from(["", "count", "export", "export?format=json", "lookup", "facets"]),
       htmx=st.booleans())
def test_list_query_strings_never_500(site, slug, query, endpoint, htmx):
    client, _ = site
    path, _, fixed = f"/admin/{slug}/{endpoint}".partition("?")
    args = MultiDict(query)
    if fixed:
        args.add(*fixed.split("="))
    headers = {"HX-Request": "true"} if htmx else {}
    response = client.get(path, query_string=args, headers=headers)
    body = response.get_data(as_text=True)
    event(f"list {response.status_code}")
    assert response.status_code in (200, 400), (response.status_code, body[:2000])
    assert "Traceback" not in body


def _edited(form: dict, changes: dict) -> dict:
    data = dict(form)
    for name, value in changes.items():
        key = sorted(data)[name % len(data)] if data else None
        if key and key not in ("csrf_token",) and not key.startswith("_"):
            data[key] = value
    return data


FORM_MODELS = ["orders", "accounts", "products", "tickets", "contacts"]


@FUZZ
@given(slug=st.sampled_from(FORM_MODELS), which=st.integers(0, 11), create=st.booleans(),
       changes=st.dictionaries(st.integers(0, 40), values, min_size=1, max_size=5))
def test_form_posts_never_500(site, slug, which, create, changes):
    client, ids = site
    if create:
        url = f"/admin/{slug}/new"
    else:
        keys = ids[slug]
        url = f"/admin/{slug}/{keys[which % len(keys)]}/edit"
    page = client.get(url)
    if page.status_code == 404:  # a row an earlier example deleted through a cascade
        return
    assert page.status_code == 200, page.status_code
    response = client.post(url, data=_edited(form_data(page.get_data(as_text=True)), changes))
    body = response.get_data(as_text=True)
    event(f"form {response.status_code}")
    # 303 saved, 422 the form with its errors (a value no converter or check accepts), 409 a
    # value the database refuses (a unique key an earlier example already took), on its field.
    assert response.status_code in (303, 409, 422), (response.status_code, body[:2000])
    if response.status_code == 409:
        assert "already used" in body or "breaks a rule" in body, body[:2000]
    assert "Traceback" not in body
