"""GET /admin/<slug>/export: a foreign key's label beside its key (``account_id``, ``account``),
as the list shows it, read by each batch's own statement. On SQLite and PostgreSQL."""

import csv
import html as html_module
import io
import json
import math
import re

import pytest
from sqlorm import SQL
from sqlorm.engine import Transaction

from apps import as_user
from crud_app import create_app, staff
from demo_db import seeded_engine
from hyper_admin.views import bulk


@pytest.fixture
def site(request, backend):
    with seeded_engine(request) as engine:
        app, _admin = create_app(engine)
        yield app, staff(engine), engine


def text(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def fetch(engine, sql):
    with engine as tx:
        return list(tx.fetchall(sql))


def csv_rows(client, url):
    return list(csv.reader(io.StringIO(text(client.get(url)))))


def sheet_rows(response) -> list[tuple]:
    """The rows of an XLSX export's one worksheet, read back by openpyxl."""
    import openpyxl

    assert response.status_code == 200, response.status_code
    book = openpyxl.load_workbook(io.BytesIO(response.get_data()), read_only=True)
    return [tuple(row) for row in book.worksheets[0].iter_rows(values_only=True)]


def account_names(engine) -> dict[int, str]:
    return {int(r["id"]): r["name"] for r in fetch(engine, "SELECT id, name FROM accounts")}


@pytest.mark.reads_only
def test_csv_writes_the_label_after_the_key(site):
    app, people, engine = site
    rows = csv_rows(as_user(app, people["support"]), "/admin/orders/export?format=csv")
    header = rows[0]
    assert header[:4] == ["ID", "Reference", "Account (ID)", "Account"]
    names = account_names(engine)
    orders = {int(r["id"]): int(r["account_id"]) for r in fetch(engine, "SELECT id, account_id FROM orders")}
    assert len(rows) == 1 + len(orders)
    for row in rows[1:]:
        order, account_id, label = int(row[0]), int(row[2]), row[3]
        assert account_id == orders[order]
        assert label == names[account_id]  # Account.__str__: its name


@pytest.mark.reads_only
def test_json_has_key_then_label(site):
    app, people, engine = site
    items = json.loads(text(as_user(app, people["support"]).get("/admin/orders/export?format=json")))
    names = account_names(engine)
    assert list(items[0])[:4] == ["id", "reference", "account_id", "account"]
    assert all(item["account"] == names[item["account_id"]] for item in items)


@pytest.mark.reads_only
def test_labels_are_those_the_list_shows(site):
    """The list's rule: the label its cell shows (the list links it only for users who may
    view the target; the label is there either way)."""
    app, people, _engine = site
    client = as_user(app, people["support"])
    page = text(client.get("/admin/orders/?per_page=100"))
    shown = {int(k): html_module.unescape(v)
             for k, v in re.findall(r'href="/admin/accounts/(\d+)/" class="h">([^<]+)</a>', page)}
    assert shown
    exported = {item["account_id"]: item["account"]
                for item in json.loads(text(client.get("/admin/orders/export?format=json")))}
    assert {k: exported[k] for k in shown} == shown


@pytest.mark.reads_only
def test_every_foreign_key_of_the_list_gets_its_label_and_none_when_empty(site):
    app, people, engine = site
    admin = as_user(app, people["admin"])  # the superuser: tickets' export
    rows = csv_rows(admin, "/admin/tickets/export?format=csv")
    assert rows[0] == ["ID", "Subject", "Account (ID)", "Account", "Status", "Priority",
                       "Assignee (ID)", "Assignee"]
    staff_names = {int(r["id"]): r["name"] for r in fetch(engine, "SELECT id, name FROM staff_users")}
    names = account_names(engine)
    assert any(row[6] == "" for row in rows[1:]), "the seed must leave unassigned tickets"
    for row in rows[1:]:
        assert row[3] == names[int(row[2])]
        assert row[7] == (staff_names[int(row[6])] if row[6] else "")
    items = json.loads(text(admin.get("/admin/tickets/export?format=json")))
    assert [k for k in items[0] if k.startswith(("account", "assignee"))] == [
        "account_id", "account", "assignee_id", "assignee"]
    assert all(item["assignee"] is None for item in items if item["assignee_id"] is None)


def test_labels_are_formula_neutralised_in_csv_and_kept_in_json(site):
    app, people, engine = site
    with engine as tx:
        account = tx.fetchscalar("SELECT min(account_id) AS v FROM orders")
        tx.execute(SQL("UPDATE accounts SET name = '=HYPERLINK(\"x\")' WHERE id =", SQL.Param(account)))
    client = as_user(app, people["support"])
    rows = csv_rows(client, "/admin/orders/export?format=csv")
    labels = {row[3] for row in rows[1:] if int(row[2]) == account}
    assert labels == {"'=HYPERLINK(\"x\")"}
    items = json.loads(text(client.get("/admin/orders/export?format=json")))
    # JSON is read by programs, not spreadsheets: values as they are, like every other cell.
    assert {i["account"] for i in items if i["account_id"] == account} == {'=HYPERLINK("x")'}


@pytest.mark.reads_only
def test_one_statement_per_batch_never_one_per_row(site, monkeypatch):
    app, people, engine = site
    # The Python path's batches (PostgreSQL would write this CSV itself: test_export_copy.py).
    app.extensions["hyper_admin"]["hyper_admin"].export_copy = False
    client = as_user(app, people["admin"])
    total = fetch(engine, "SELECT count(*) AS n FROM tickets")[0]["n"]
    statements = []

    def count(sender, **kw):
        # Not the catalog's (fts.py reads sqlite_master once, then every five minutes).
        stmt = str(kw.get("stmt", ""))
        if stmt.lstrip().upper().startswith("SELECT") and "sqlite_master" not in stmt:
            statements.append(kw.get("stmt"))

    def exported(batch: int, fmt: str) -> int:
        monkeypatch.setattr(bulk, "EXPORT_BATCH", batch)
        statements.clear()
        response = client.get(f"/admin/tickets/export?format={fmt}")
        assert response.is_streamed
        if fmt == "xlsx":
            assert "Assignee" in sheet_rows(response)[0]
        else:
            body = text(response)
            assert "Assignee" in body or "assignee" in body
        return len(statements)

    Transaction.before_execute.connect(count)
    try:
        for fmt in ("csv", "json", "xlsx"):
            one_batch = exported(10_000, fmt)
            batched = exported(7, fmt)
            # The same requests, and one SELECT per batch of 7 (two foreign keys' labels
            # included): nothing per row.
            assert batched - one_batch == math.ceil(total / 7) - 1, (fmt, batched, one_batch)
    finally:
        Transaction.before_execute.disconnect(count)


@pytest.mark.reads_only
def test_xlsx_has_the_csv_columns_with_typed_cells(site):
    """format=xlsx: the same header and rows as CSV, numbers as numbers, times as dates, the
    header frozen with a filter; the file is an attachment of Excel's media type."""
    import datetime as dt

    import openpyxl

    app, people, engine = site
    client = as_user(app, people["support"])
    response = client.get("/admin/orders/export?format=xlsx&status=paid")
    assert response.is_streamed
    assert response.mimetype == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert response.headers["Content-Disposition"] == 'attachment; filename="orders.xlsx"'
    rows = sheet_rows(response)
    csv_body = csv_rows(client, "/admin/orders/export?format=csv&status=paid")
    assert list(rows[0]) == csv_body[0]
    assert len(rows) == len(csv_body) > 1
    header = rows[0]
    paid = {int(r["id"]): r for r in fetch(engine, "SELECT id, total, created_at FROM orders "
                                                   "WHERE status = 'paid'")}
    for row in rows[1:]:
        item = dict(zip(header, row))
        stored = paid[item["ID"]]
        assert isinstance(item["Total"], (int, float))
        assert abs(item["Total"] - float(stored["total"])) < 0.005
        assert isinstance(item["Created at"], dt.datetime)
        assert isinstance(item["Account"], str) and isinstance(item["Account (ID)"], int)
    book = openpyxl.load_workbook(io.BytesIO(client.get(
        "/admin/orders/export?format=xlsx&status=paid").get_data()))
    sheet = book.active
    assert sheet.title == "Orders"
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:{sheet.cell(1, len(header)).column_letter}{len(rows)}"


def test_xlsx_keeps_text_as_text_never_a_formula(site):
    app, people, engine = site
    with engine as tx:
        account = tx.fetchscalar("SELECT min(account_id) AS v FROM orders")
        tx.execute(SQL("UPDATE accounts SET name = '=HYPERLINK(\"x\")' WHERE id =",
                       SQL.Param(account)))
    response = as_user(app, people["support"]).get("/admin/orders/export?format=xlsx")
    names = [dict(zip(rows[0], row))["Account"] for rows in [sheet_rows(response)]
             for row in rows[1:]]
    assert '=HYPERLINK("x")' in names  # as typed: XLSX text is never evaluated
    import zipfile

    with zipfile.ZipFile(io.BytesIO(response.get_data())) as book:
        assert b"<f>" not in book.read("xl/worksheets/sheet1.xml")


@pytest.mark.reads_only
def test_an_unknown_format_is_refused(site):
    app, people, _engine = site
    response = as_user(app, people["support"]).get("/admin/orders/export?format=xls")
    assert response.status_code == 400
