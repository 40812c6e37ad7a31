"""CSV exports PostgreSQL writes itself (hyper_admin/copy_export.py): the same bytes as the
Python path, whatever the cells hold, through windows, scopes, searches and filters; and the
Python path kept wherever a cell has no exact SQL form."""

import csv
import datetime as dt
import decimal
import enum
import io
import typing as t
import uuid

import pytest
from flask import Flask
from flask_login import LoginManager, UserMixin
from sqlorm import SQL, Column, Model, PrimaryKey, Relationship

from hyper_admin import Admin, ModelAdmin, copy_export
from hyper_admin.testing import AdminClient
from hyper_admin.views import bulk

pytestmark = pytest.mark.parametrize("backend", ["postgresql"])


class Mood(enum.Enum):
    CALM = "calm"
    ODD = "=odd"  # a label that looks like a formula


class CxOwner(Model):
    __table__ = "cx_owners"
    id: PrimaryKey[int]
    name: t.Optional[str]


class CxTitled(Model):
    """A target whose label is Python's (``__str__``)."""

    __table__ = "cx_titled"
    id: PrimaryKey[int]
    title: str

    def __str__(self):
        return f"«{self.title}», n°{self.id}"


class CxThing(Model):
    __table__ = "cx_things"
    id: PrimaryKey[int]
    name: str
    note: t.Optional[str]
    mood: t.Optional[Mood]
    amount: t.Optional[decimal.Decimal]
    whole: t.Optional[decimal.Decimal]
    count: t.Optional[int]
    big: t.Optional[int]
    flag: t.Optional[bool]
    day: t.Optional[dt.date]
    at: t.Optional[dt.datetime]
    at_zone: t.Optional[dt.datetime]
    token: t.Optional[str]
    owner_id: t.Optional[int] = Column(references="cx_owners(id)")
    owner = Relationship(CxOwner, "id", "owner_id", single=True)
    titled_id: t.Optional[int] = Column(references="cx_titled(id)")
    titled = Relationship(CxTitled, "id", "titled_id", single=True)


class CxMeasure(Model):
    """A float: Python writes 100.0 where PostgreSQL writes 100 (the Python path stays)."""

    __table__ = "cx_measures"
    id: PrimaryKey[int]
    name: str
    weight: t.Optional[float]


SCHEMA = """
CREATE TYPE cx_mood AS ENUM ('calm', '=odd');
CREATE TABLE cx_owners (id bigint PRIMARY KEY, name varchar(80));
CREATE TABLE cx_titled (id integer PRIMARY KEY, title text NOT NULL);
CREATE TABLE cx_things (
    id bigint PRIMARY KEY, name varchar(200) NOT NULL, note text, mood cx_mood,
    amount numeric(12, 2), whole numeric(10, 0), count integer, big bigint, flag boolean,
    day date, at timestamp, at_zone timestamptz, token uuid,
    owner_id bigint REFERENCES cx_owners(id), titled_id integer REFERENCES cx_titled(id));
CREATE TABLE cx_measures (id integer PRIMARY KEY, name text NOT NULL, weight double precision);
"""

NAMES = ["plain", "a,comma", 'a "quote"', "two\nlines", "cr\rhere", "=SUM(A1)", "+1", "-2",
         "@me", "\ttab", "", "  spaces  ", "ünïcødé ✓", "'quoted", "\\.", "x" * 150]


def seed(engine) -> None:
    with engine as tx:
        for statement in SCHEMA.strip().split(";\n"):
            tx.execute(statement)
        tx.execute("INSERT INTO cx_owners VALUES (1, 'Ada'), (2, ''), (3, NULL), (4, '=evil'), "
                   "(5, 'comma, inc')")
        tx.execute("INSERT INTO cx_titled VALUES (1, 'Plain'), (2, 'with \"quotes\", and comma'), "
                   "(3, 'two\nlines')")
        for i in range(1, 121):
            name = NAMES[i % len(NAMES)] or "blank-name"
            tx.execute(
                "INSERT INTO cx_things VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, "
                "%s, %s, %s)",
                [i, name, NAMES[(i * 7) % len(NAMES)] if i % 5 else None,
                 ["calm", "=odd", None][i % 3],
                 [decimal.Decimal("10081.90"), decimal.Decimal("-5.00"), decimal.Decimal("0.00"),
                  None, decimal.Decimal("1e9")][i % 5],
                 [decimal.Decimal("5"), None, decimal.Decimal("-120")][i % 3],
                 [0, -3, 2**31 - 1, None][i % 4], [2**62, None, -1][i % 3],
                 [True, False, None][i % 3],
                 [dt.date(2026, 12, 7), dt.date(1, 1, 1), None, dt.date(999, 3, 4)][i % 4],
                 [dt.datetime(2026, 12, 7, 17, 31, 51), dt.datetime(2026, 1, 2, 3, 4, 5, 120000),
                  dt.datetime(2026, 1, 2, 3, 4, 5, 7), None][i % 4],
                 [dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.timezone.utc),
                  dt.datetime(2026, 6, 1, 12, 0, 0, 500, tzinfo=dt.timezone(dt.timedelta(hours=5, minutes=30))),
                  None][i % 3],
                 uuid.UUID(int=i) if i % 2 else None, [1, 2, 3, 4, 5, None][i % 6],
                 [1, 2, 3, None][i % 4]])
        tx.execute("INSERT INTO cx_measures VALUES (1, 'a', 100.0), (2, 'b', 0.1), (3, 'c', NULL)")


class Staff(UserMixin):
    def __init__(self, name, roles):
        self.id, self.username, self.roles = name, name, set(roles)


class ThingAdmin(ModelAdmin):
    list_display = ["id", "name", "note", "mood", "amount", "whole", "count", "big", "flag",
                    "day", "at", "at_zone", "token", "owner_id", "titled_id", "owner.name"]
    search_fields = ["name", "note"]
    list_filter = ["flag", "mood"]
    permissions = {"view": {"agent"}, "export": {"agent"}}

    def scope(self, user):
        if "admin" in user.roles:
            return None
        return SQL("cx_things.count <>", SQL.Param(0))


USERS = {"root": Staff("root", {"admin"}), "agent": Staff("agent", {"agent"})}


def create_app(engine, config: dict | None = None, name: str = "test_export_copy") -> Flask:
    app = Flask(name)
    app.config.update(SECRET_KEY="copy-export", TESTING=True, **(config or {}))
    manager = LoginManager(app)
    manager.user_loader(USERS.get)
    admin = Admin(app, engine=engine, authenticate=lambda u, p: None, access_roles={"agent"})
    admin.register(CxThing, ThingAdmin)
    admin.register(CxOwner)
    admin.register(CxTitled)
    admin.register(CxMeasure)
    return app


@pytest.fixture
def site(engine):
    seed(engine)
    return create_app(engine), engine


@pytest.fixture
def copies(monkeypatch):
    """How many exports went through COPY."""
    made = []
    real = copy_export.CopyExport.__init__

    def counting(self, *args, **kwargs):
        made.append(self)
        real(self, *args, **kwargs)

    monkeypatch.setattr(copy_export.CopyExport, "__init__", counting)
    return made


def export(app, url: str, user: str = "root", *, copy: bool = True) -> bytes:
    for state in app.extensions["hyper_admin"].values():
        state.export_copy = copy
    response = AdminClient(app).login_as(USERS[user]).client.get(url)
    assert response.status_code == 200, response.status_code
    return response.get_data()


QUERIES = ["", "&sort=-amount", "&sort=name", "&q=comma", "&flag=true", "&mood=%3Dodd",
           "&sort=day,-at"]


@pytest.mark.parametrize("window", [7, 20_000])
def test_copy_writes_the_bytes_python_writes(site, copies, monkeypatch, window):
    app, _engine = site
    monkeypatch.setattr(copy_export, "WINDOW", window)
    for query in QUERIES:
        url = "/admin/cx_things/export?format=csv" + query
        python = export(app, url, copy=False)
        copies.clear()
        copied = export(app, url)
        assert copies, f"{query}: not exported by COPY"
        assert copied == python, query
    rows = list(csv.reader(io.StringIO(export(app, "/admin/cx_things/export?format=csv").decode())))
    assert len(rows) == 121
    header = rows[0]
    by_id = {row[0]: dict(zip(header, row)) for row in rows[1:]}
    assert by_id["5"]["Name"] == "'=SUM(A1)" and by_id["6"]["Name"] == "'+1"
    assert by_id["3"]["Name"] == "two\nlines" and by_id["10"]["Name"] == "blank-name"
    assert by_id["1"]["Mood"] == "'=odd" and by_id["3"]["Mood"] == "calm"
    assert by_id["2"]["Flag"] == "" and by_id["1"]["Flag"] == "False"
    assert by_id["1"]["At"] == "2026-01-02T03:04:05.120000"
    assert by_id["2"]["At"] == "2026-01-02T03:04:05.000007"
    assert by_id["3"]["Owner"] == "'=evil" and by_id["6"]["Owner"] == "Ada"
    assert by_id["1"]["Owner"] == by_id["7"]["Owner"] == "Cx owner #2"  # an empty name
    assert by_id["1"]["Titled"] == "«with \"quotes\", and comma», n°2"


def test_labels_of_python_are_computed_once_per_key(site, copies, monkeypatch):
    app, _engine = site
    calls = []
    real = CxTitled.__str__
    monkeypatch.setattr(CxTitled, "__str__", lambda self: calls.append(self.id) or real(self))
    monkeypatch.setattr(copy_export, "WINDOW", 50)
    export(app, "/admin/cx_things/export?format=csv")
    assert copies and sorted(calls) == [1, 2, 3]  # three titles, 120 rows, three windows
    # The owners' labels need no Python (no __str__, no ModelAdmin.label): SQL writes them.
    assert len(copies[0].labels) == 1


def test_the_scope_search_and_filters_hold(site, copies):
    app, engine = site
    body = export(app, "/admin/cx_things/export?format=csv&q=comma", "agent").decode()
    assert copies
    rows = list(csv.reader(io.StringIO(body)))[1:]
    with engine as tx:
        expected = {str(r["id"]) for r in tx.fetchall(
            "SELECT id FROM cx_things WHERE count <> 0 AND (lower(name) LIKE '%comma%' "
            "OR lower(note) LIKE '%comma%')")}
    assert {row[0] for row in rows} == expected and expected


def test_a_row_inserted_between_windows_is_neither_lost_nor_repeated(site, copies, monkeypatch):
    app, engine = site
    monkeypatch.setattr(copy_export, "WINDOW", 10)
    real = copy_export.CopyExport._copy
    seen = []

    def copy_then_insert(self, tx, after, through):
        chunks = real(self, tx, after, through)
        if not seen:
            with engine as other:  # another user's insert, committed between two windows
                other.execute("INSERT INTO cx_things (id, name) VALUES (0, 'late, first')")
                other.execute("INSERT INTO cx_things (id, name) VALUES (500, 'late, last')")
        seen.append(len(chunks))
        return chunks

    monkeypatch.setattr(copy_export.CopyExport, "_copy", copy_then_insert)
    body = export(app, "/admin/cx_things/export?format=csv&sort=id").decode()
    ids = [row[0] for row in list(csv.reader(io.StringIO(body)))[1:]]
    assert copies and len(seen) == 13
    # Sorted by id: 0 falls in a window already sent, 500 in one still to come.
    assert ids == [str(i) for i in range(1, 121)] + ["500"]


def test_cells_without_an_exact_sql_form_keep_the_python_path(site, copies):
    app, _engine = site
    body = export(app, "/admin/cx_measures/export?format=csv").decode()
    assert not copies
    assert "100.0" in body  # Python's float text, where PostgreSQL writes 100
    assert export(app, "/admin/cx_things/export?format=json").startswith(b"[")
    assert not copies  # JSON and XLSX are always Python's


@pytest.mark.parametrize("setting", [False, "false", "off", "0", "no"])
def test_copy_can_be_turned_off(engine, copies, setting):
    """``Admin(export_copy=False)``, or ``HYPER_ADMIN_EXPORT_COPY`` in the configuration (text
    from the environment)."""
    seed(engine)
    app = create_app(engine, {"HYPER_ADMIN_EXPORT_COPY": setting})
    response = AdminClient(app).login_as(USERS["root"]).client.get(
        "/admin/cx_things/export?format=csv")
    assert response.status_code == 200 and response.get_data().startswith(b"ID,")
    assert not copies
    app = create_app(engine, {"HYPER_ADMIN_EXPORT_COPY": "true"}, name="again")
    AdminClient(app).login_as(USERS["root"]).client.get("/admin/cx_things/export?format=csv").get_data()
    assert copies


@pytest.mark.parametrize("text, expected", [
    (None, b""), ("", b""), ("plain", b"plain"), ("=1+1", b"'=1+1"), ("a,b", b'"a,b"'),
    ('say "hi"', b'"say ""hi"""'), ("l1\nl2", b'"l1\nl2"'), ("-", b"'-"), ("é", "é".encode()),
])
def test_a_label_cell_is_what_the_csv_module_writes(backend, text, expected):
    assert copy_export.csv_field(text) == expected
    written = io.StringIO()
    csv.writer(written).writerow([bulk._csv_cell(text), "x"])
    assert written.getvalue().encode() == expected + b",x\r\n"


def test_infinite_dates_are_written_as_postgresql_writes_them(site, copies):
    """No Python date holds ``infinity`` (the Python path cannot read such a row); the COPY
    export writes it as PostgreSQL does, and the other cells as before."""
    app, engine = site
    with engine as tx:
        tx.execute("INSERT INTO cx_things (id, name, day, at, at_zone) "
                   "VALUES (999, 'forever', 'infinity', 'infinity', '-infinity')")
    rows = list(csv.reader(io.StringIO(
        export(app, "/admin/cx_things/export?format=csv&sort=-id").decode())))
    assert copies
    row = dict(zip(rows[0], rows[1]))
    assert (row["ID"], row["Name"], row["Day"], row["At"], row["At zone"]) == (
        "999", "forever", "infinity", "infinity", "-infinity")
    assert dict(zip(rows[0], rows[2]))["ID"] == "120"
