"""Unchanged means unchanged, in Chromium (issue 18): saving an edit form without touching it
changes nothing, whatever the browser does to the values it sends back. Chromium sends a
``datetime-local`` of ``10:00:00`` as ``10:00``, empties one whose fraction has more than three
digits, sends a textarea's line breaks as CRLF, and one empty input for both ``''`` and NULL.
"""

import datetime
import decimal
import re
import sqlite3
import typing as t

import pytest
from flask import Flask
from flask_login import LoginManager, UserMixin
from sqlorm import Column, Engine, Model, PrimaryKey, SQLType

from conftest import sign_in
from hyper_admin import Admin


class UbNote(Model):
    __table__ = "ub_notes"
    id: PrimaryKey[int] = Column(type=SQLType("integer"), primary_key=True, nullable=False)
    title: str = Column(type=SQLType("text"), nullable=False)
    nickname: t.Optional[str] = Column(type=SQLType("text"), nullable=True)
    notes: t.Optional[str] = Column(type=SQLType("text"), nullable=True)
    seen_at: t.Optional[datetime.datetime] = Column(type=SQLType("timestamp"), nullable=True)
    opens: t.Optional[datetime.time] = Column(type=SQLType("time"), nullable=True)
    price: t.Optional[decimal.Decimal] = Column(type=SQLType("numeric(12,4)"), nullable=True)
    ratio: t.Optional[float] = Column(type=SQLType("double precision"), nullable=True)
    extra: t.Optional[dict] = Column(type=SQLType("json"), nullable=True)
    active: t.Optional[bool] = Column(type=SQLType("boolean"), nullable=True)


ROWS = [
    (1, "Microseconds", "", "first line\nsecond line", "2024-05-01 10:00:00.123456",
     "09:30:00.250000", "1.5", 0.30000000000000004, '{"b": 1, "a": [1, 2.5]}', None),
    (2, "Whole seconds", None, None, "2024-05-01 10:00:00", None, None, None, None, 1),
]


class UbUser(UserMixin):
    def __init__(self, name: str):
        self.id, self.roles = name, {"admin"}


@pytest.fixture
def site(tmp_path, live_server):
    path = tmp_path / "notes.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE ub_notes (id INTEGER PRIMARY KEY, title TEXT NOT NULL, "
                   "nickname TEXT, notes TEXT, seen_at TIMESTAMP, opens TIME, price NUMERIC(12,4), "
                   "ratio DOUBLE PRECISION, extra TEXT, active BOOLEAN)")
        db.executemany("INSERT INTO ub_notes VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", ROWS)
    app = Flask(__name__)
    app.config.update(SECRET_KEY="ub-secret")
    users = {"admin": UbUser("admin")}
    LoginManager(app).user_loader(users.get)
    admin = Admin(app, engine=Engine.from_uri(f"sqlite://{path}"),
                  authenticate=lambda name, password: users.get(name) if password == name else None)
    admin.register(UbNote)
    return live_server(app), path


def _rows(path) -> list[tuple]:
    with sqlite3.connect(path) as db:
        return db.execute("SELECT * FROM ub_notes ORDER BY id").fetchall()


@pytest.mark.browser
def test_saving_an_untouched_edit_form_changes_nothing(browser, site):
    server, path = site
    before = _rows(path)
    context = browser.new_context()
    page = context.new_page()
    try:
        sign_in(page, f"{server.url}/admin/ub_notes/", "admin")
        for key in (1, 2):
            page.goto(f"{server.url}/admin/ub_notes/{key}/edit")
            page.click("main button[type=submit]:has-text('Save')")
            page.wait_for_url(re.compile(rf"/admin/ub_notes/{key}/$"))
            assert "no changes" in page.locator("#toasts").inner_text()
        assert _rows(path) == before
        # A change to one field writes that field only.
        page.goto(f"{server.url}/admin/ub_notes/1/edit")
        page.fill("#id_title", "Changed")
        page.click("main button[type=submit]:has-text('Save')")
        page.wait_for_url(re.compile(r"/admin/ub_notes/1/$"))
        after = _rows(path)
        assert after[0] == tuple("Changed" if i == 1 else v for i, v in enumerate(before[0]))
        assert after[1] == before[1]
    finally:
        context.close()
