"""The demo's screens in French, one language at a time (issue 16, items 7 and 8): model names
from the catalog in every sentence, worded for their gender ("Ajouter une commande", "Compte
« X » ajouté"), counts in words ("12 commandes"), decimals typed with a comma, and the values
of a row's history and of the conflict table formatted as lists show them, foreign keys by
their labels. On SQLite and PostgreSQL."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from flask import Flask
from flask_login import LoginManager
from sqlorm import SQL

from crud_app import seeded, staff
from hyper_admin import Admin
from hyper_admin.demo.app import register_models
from hyper_admin.demo.models import Account, Order, Product, StaffUser
from hyper_admin.testing import AdminClient

FRENCH = {"HTTP_ACCEPT_LANGUAGE": "fr-FR,fr;q=0.9"}
ISO_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")


def _app(engine, register) -> Flask:
    app = Flask(__name__)
    app.config.update(SECRET_KEY="french-screens", TESTING=True)
    login = LoginManager(app)

    @login.user_loader
    def load(user_id):
        with engine:
            return StaffUser.get(int(user_id))

    admin = Admin(app, engine=engine, access_roles={"admin", "support", "viewer"})
    register(admin)
    return app


@pytest.fixture
def demo(engine):
    """The demo's ModelAdmins (their names and genders) over the seeded demo schema; a French
    support agent's client."""
    seeded(engine, rows=30)
    app = _app(engine, lambda admin: register_models(admin, engine))
    client = app.test_client()
    client.environ_base.update(FRENCH)
    return AdminClient(app, client).login_as(staff(engine)["support"]), engine


def _text(html: str) -> str:
    """What a person reads: the page without markup, entities decoded, spaces collapsed."""
    import html as html_lib

    text = re.sub(r"<(script|template)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", html_lib.unescape(re.sub(r"<[^>]+>", " ", text)))


def _order(engine, offset: int = 0) -> dict:
    with engine as tx:
        return dict(tx.fetchone(SQL("SELECT id, reference, account_id, total FROM orders "
                                    "ORDER BY id LIMIT 1 OFFSET", SQL.Param(offset))))


def _account_names(engine, *ids) -> dict[int, str]:
    with engine as tx:
        return {r["id"]: r["name"] for r in tx.fetchall(SQL(
            "SELECT id, name FROM accounts WHERE id IN", SQL.Tuple(ids)))}


def test_titles_buttons_and_counts_name_the_model_in_french(demo):
    client, engine = demo
    with engine as tx:
        orders = tx.fetchscalar("SELECT count(*) AS n FROM orders")
    listed = _text(client.get("/admin/orders/").get_data(as_text=True))
    assert "Ajouter une commande" in listed  # feminine
    assert f"{orders} commandes" in listed and "orders" not in listed.split("Commandes", 1)[1]
    form = client.get("/admin/orders/new").get_data(as_text=True)
    assert "<title>Ajouter une commande" in form and "Ajouter une commande</h1>" in form
    assert "Ajouter un compte</h1>" in client.get("/admin/accounts/new").get_data(as_text=True)
    one = client.list("orders", q="=" + _order(engine)["reference"])
    assert one.count_text == "1 commande"  # singular: ngettext with the names of the model


def test_toasts_agree_with_the_models_gender(demo):
    client, engine = demo
    created = client.create(Account, name="Société Générale d'Essais", email="essais@example.com",
                            plan="pro", region="eu")
    assert created.ok, created.errors
    page = _text(client.get(created.response.headers["Location"]).get_data(as_text=True))
    assert "Compte « Société Générale d'Essais » ajouté." in page
    order = _order(engine)
    saved = client.edit(Order, order["id"], total="12,50")
    assert saved.ok, saved.errors
    page = _text(client.get(saved.response.headers["Location"]).get_data(as_text=True))
    assert f"Commande « {order['reference']} » enregistrée." in page


def test_a_decimal_typed_with_a_comma_is_saved_exactly_and_shown_with_it(demo):
    client, engine = demo
    order = _order(engine)
    assert client.edit(Order, order["id"], total="893,50").ok
    assert _order(engine)["total"] in (Decimal("893.50"), 893.5)  # SQLite's numeric is a REAL
    with engine as tx:
        assert Decimal(str(tx.fetchscalar(SQL("SELECT total FROM orders WHERE id =",
                                              SQL.Param(order["id"]))))) == Decimal("893.50")
    # The edit form shows it as the list does, and "1 234,5" and "893.50" are read too.
    _response, data = client.form(f"/admin/orders/{order['id']}/edit")
    assert data["total"] == "893,50"
    assert client.edit(Order, order["id"], total="1 234,5").ok
    assert Decimal(str(_order(engine)["total"])) == Decimal("1234.50")
    assert client.edit(Order, order["id"], total="893.25").ok
    assert Decimal(str(_order(engine)["total"])) == Decimal("893.25")
    refused = client.edit(Order, order["id"], total="8,93,50")
    assert refused.status == 422 and refused.errors["total"]


def test_a_required_field_says_obligatoire_whoever_checks_it(demo):
    """WTForms' own check ("requis" in its French) and ours use one word."""
    client, _engine = demo
    result = client.create(Account, name="", email="", plan="pro", region="eu")
    assert result.status == 422
    assert result.errors["name"] == ["Ce champ est obligatoire."]
    assert "requis" not in _text(result.html)


def test_history_shows_values_as_lists_do(demo):
    client, engine = demo
    order = _order(engine)
    other = _order(engine, 5)["account_id"]
    assert other != order["account_id"]
    assert client.edit(Order, order["id"], total="893,50", account_id=other).ok
    html = client.get(f"/admin/orders/{order['id']}/history").get_data(as_text=True)
    page = _text(html)
    names = _account_names(engine, order["account_id"], other)
    table = page.split("Champ Avant Après", 1)[1]
    # Foreign keys by their labels on both sides, decimals with their places and a comma.
    assert names[order["account_id"]] in table and names[other] in table
    assert "893,50" in table
    # The change's time in the admin's one format, with its zone; no ISO text, no microseconds.
    assert re.search(r"\d{1,2} [a-zéû]+\.? \d{4}, \d{2}:\d{2} UTC", page)
    assert not ISO_TIMESTAMP.search(table) and not re.search(r":\d{2}\.\d{3,6}", table)
    assert "Modifié" in page


def test_the_conflict_table_shows_labels_on_every_side(demo):
    client, engine = demo
    order = _order(engine)
    mine, theirs = _order(engine, 3)["account_id"], _order(engine, 7)["account_id"]
    path = f"/admin/orders/{order['id']}/edit"
    _response, data = client.form(path)
    with engine as tx:  # someone else changes the account and the total meanwhile
        tx.execute(SQL("UPDATE orders SET account_id =", SQL.Param(theirs), ", total =",
                       SQL.Param("70.10"), ", updated_at =",
                       SQL.Param(dt.datetime(2030, 1, 1, 12, 0, 0)), "WHERE id =",
                       SQL.Param(order["id"])))
    data.update(account_id=str(mine), total="12,40")
    response = client.client.post(path, data=data)
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    table = _text(html.split("data-conflict-field", 1)[1].split("</table>", 1)[0])
    names = _account_names(engine, order["account_id"], mine, theirs)
    assert all(names[key] in table for key in (order["account_id"], mine, theirs)), table
    assert "70,10" in table and "12,40" in table
    assert not re.search(rf"\b{mine}\b|\b{theirs}\b", table.replace(names[mine], "")
                         .replace(names[theirs], "").replace(names[order["account_id"]], ""))


def test_the_audit_list_and_recent_actions_speak_the_admins_formats(demo):
    client, engine = demo
    order = _order(engine)
    assert client.edit(Order, order["id"], total="10,00").ok
    client.login_as(staff(engine)["admin"])
    audit = _text(client.get("/admin/audit/").get_data(as_text=True))
    assert "Modifié" in audit and "Commandes" in audit and " UTC" in audit
    assert "update" not in audit.split("Entrées d'audit", 2)[-1]
    entry = client.list("audit").pks[0]
    detail = _text(client.get(f"/admin/audit/{entry}/").get_data(as_text=True))
    assert "Total" in detail and "10,00" in detail and not ISO_TIMESTAMP.search(detail)
    dashboard = _text(client.get("/admin/").get_data(as_text=True))
    recent = dashboard.split("Actions récentes", 1)[1]
    assert re.search(r"\d{1,2} [a-zéû]+\.? \d{4}, \d{2}:\d{2} UTC", recent)
    assert not ISO_TIMESTAMP.search(recent)


@pytest.fixture
def prices(engine):
    """Products whose price is edited in the list (list_editable), for a French agent."""
    seeded(engine, rows=10)

    def register(admin):
        admin.register(Product, list_display=["sku", "name", "price"], list_editable=["price"],
                       permissions={"view": {"support"}, "change": {"support"}})

    app = _app(engine, register)
    client = app.test_client()
    client.environ_base.update(FRENCH)
    return AdminClient(app, client).login_as(staff(engine)["support"]), engine


def test_inline_edit_takes_a_comma(prices):
    client, engine = prices
    with engine as tx:
        product = tx.fetchone("SELECT id, sku, price FROM products ORDER BY id LIMIT 1")
    url = f"/admin/products/{product['id']}/cell/price"
    editor = client.get(url).get_data(as_text=True)
    shown = f"{Decimal(str(product['price'])):.2f}".replace(".", ",")
    assert f'value="{shown}"' in editor  # the input holds the value as the list shows it
    version = re.search(r'name="_version" value="([^"]+)"', editor).group(1)
    response = client.post(url, {"price": "893,50", "_version": version})
    assert response.status_code == 200, response.get_data(as_text=True)
    saved_cell = _text(response.get_data(as_text=True))
    # The toast names the field by its label, translated (the demo's Hint(label=_l("Price"))).
    assert "893,50" in saved_cell and "champ « prix » enregistré" in saved_cell
    with engine as tx:
        saved = tx.fetchscalar(SQL("SELECT price FROM products WHERE id =", SQL.Param(product["id"])))
    assert Decimal(str(saved)) == Decimal("893.50")
    listed = client.list("products", q="=" + product["sku"])
    assert [row["Prix"] for row in listed.rows] == ["893,50"]
