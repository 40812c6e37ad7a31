"""Saved views: per user, optionally shared, stored in the application's database."""

import pytest

from apps import as_user, csrf_from
from crud_app import create_app, seeded, staff
from hyper_admin.cli import main as cli_main


@pytest.fixture
def site(engine):
    seeded(engine, rows=20)
    app, admin = create_app(engine)
    return app, staff(engine), engine


def menu(client) -> str:
    """The Views menu's entries, as the list page loads them when the menu opens."""
    response = client.get("/admin/orders/views",
                          headers={"HX-Request": "true", "HX-Target": "saved-views-list"})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def save(client, name, query, shared=False):
    token = csrf_from(client.get("/admin/orders/").get_data(as_text=True))
    data = {"name": name, "query": query, "csrf_token": token}
    if shared:
        data["shared"] = "1"
    return client.post("/admin/orders/views", data=data)


def test_save_reopen_share_and_delete(site):
    app, people, engine = site
    support, viewer = as_user(app, people["support"]), as_user(app, people["viewer"])
    response = save(support, "Paid orders", "status=paid&sort=-total&after=abc.def&page=3")
    assert response.status_code == 303
    assert response.headers["Location"] == "/admin/orders/?status=paid&sort=-total"  # no paging
    page = menu(support)
    assert "Paid orders" in page and "/admin/orders/?status=paid&amp;sort=-total" in page
    assert "<html" not in page
    assert "Paid orders" not in menu(viewer)  # private
    assert save(support, "Refunds", "status=refunded", shared=True).status_code == 303
    assert "Refunds" in menu(viewer)  # shared
    # Without htmx the same entries come as a page of the admin.
    full = viewer.get("/admin/orders/views").get_data(as_text=True)
    assert "<html" in full and "Refunds" in full and "Saved views of orders" in full
    with engine as tx:
        refunds = tx.fetchscalar("SELECT id AS v FROM hyper_admin_saved_views WHERE name = 'Refunds'")
    token = csrf_from(viewer.get("/admin/orders/").get_data(as_text=True))
    # someone else's view: not theirs to delete
    assert viewer.post(f"/admin/orders/views/{refunds}/delete", data={"csrf_token": token}).status_code == 404
    token = csrf_from(support.get("/admin/orders/").get_data(as_text=True))
    assert support.post(f"/admin/orders/views/{refunds}/delete", data={"csrf_token": token}).status_code == 303
    assert "Refunds" not in menu(viewer)


@pytest.mark.parametrize("query", ["nope=1", "sort=password_hash", "status=flying"])
def test_only_valid_list_queries_can_be_saved(site, query):
    app, people, _ = site
    assert save(as_user(app, people["support"]), "Bad", query).status_code == 400


def test_saving_needs_a_name_csrf_and_view_permission(site):
    app, people, _ = site
    support = as_user(app, people["support"])
    assert save(support, "", "status=paid").status_code == 400
    assert save(support, "x" * 101, "status=paid").status_code == 400
    assert support.post("/admin/orders/views", data={"name": "x", "query": ""}).status_code == 400
    maria = as_user(app, people["viewer"])
    token = csrf_from(maria.get("/admin/").get_data(as_text=True))
    assert maria.post("/admin/contacts/views", data={"name": "x", "query": "",
                                                     "csrf_token": token}).status_code == 403


def test_migrate_command_creates_the_tables(tmp_path, capsys, monkeypatch):
    module = tmp_path / "migrate_target.py"
    module.write_text(
        "from flask import Flask\nfrom flask_login import LoginManager\n"
        "from sqlorm import Engine\nfrom hyper_admin import Admin\n"
        f"app = Flask('m')\nLoginManager(app)\nengine = Engine.from_uri('sqlite://{tmp_path / 'm.db'}')\n"
        "Admin(app, engine=engine)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert cli_main(["migrate", "--app", "migrate_target:app"]) == 0
    assert "tables are ready" in capsys.readouterr().out
    import sqlite3

    names = {r[0] for r in sqlite3.connect(tmp_path / "m.db").execute(
        "SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"hyper_admin_saved_views", "hyper_admin_audit"} <= names
