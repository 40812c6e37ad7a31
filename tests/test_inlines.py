"""Inlines (issue 19, item 1): children edited on the parent's add and edit forms, posted as
Django's formsets, saved with the parent in one transaction, conflict-checked and audited per
child; on SQLite and PostgreSQL."""

import re

import pytest
from flask import Flask
from flask_login import LoginManager

from apps import as_user, form_data
from crud_app import seeded, staff

HX = {"HX-Request": "true"}


def demo_app(engine, **admin_options):
    """The demo's ModelAdmins (hyper_admin/demo/app.py register_models) on ``engine``."""
    from hyper_admin import Admin
    from hyper_admin.demo.app import register_models
    from hyper_admin.demo.models import StaffUser

    app = Flask(__name__)
    app.config.update(SECRET_KEY="inline-secret", TESTING=True)
    login = LoginManager(app)

    @login.user_loader
    def load(user_id):
        with engine:
            return StaffUser.get(int(user_id))

    admin = Admin(app, engine=engine, access_roles={"admin", "support", "viewer"}, **admin_options)
    register_models(admin, engine)
    return app, admin


@pytest.fixture
def site(engine):
    seeded(engine, rows=20)
    app, admin = demo_app(engine)
    return app, engine, staff(engine)


def fetch(engine, sql, **params):
    from sqlorm import SQL

    parts = [sql]
    with engine as tx:
        return [dict(r) for r in tx.fetchall(SQL(*parts))]


def lines_of(engine, order_id):
    return [(r["id"], r["product_id"], r["quantity"]) for r in fetch(
        engine, f"SELECT id, product_id, quantity FROM order_lines WHERE order_id = {int(order_id)} ORDER BY id")]


def an_order(engine, lines=2):
    """An order with exactly ``lines`` lines."""
    found = fetch(engine, "SELECT order_id, count(*) AS n FROM order_lines GROUP BY order_id "
                          f"HAVING count(*) = {int(lines)} ORDER BY order_id LIMIT 1")
    return found[0]["order_id"]


def edit_form(client, order_id):
    page = client.get(f"/admin/orders/{order_id}/edit")
    assert page.status_code == 200
    return page.get_data(as_text=True), form_data(page.get_data(as_text=True))


def test_the_edit_form_holds_the_lines_as_a_formset(site):
    app, engine, people = site
    client = as_user(app, people["support"])
    order_id = an_order(engine, 2)
    html, data = edit_form(client, order_id)
    lines = lines_of(engine, order_id)
    assert data["order_lines-TOTAL_FORMS"] == "3"  # two lines and one blank (extra=1)
    assert data["order_lines-INITIAL_FORMS"] == "2"
    assert data["order_lines-MIN_NUM_FORMS"] == "0"
    assert data["order_lines-0-id"] == str(lines[0][0])
    assert data["order_lines-0-quantity"] == str(lines[0][2])
    assert data["order_lines-0-_version"]
    assert "order_lines-0-order_id" not in data  # the key to the parent is the server's
    assert 'name="order_lines-0-DELETE"' in html
    assert data["order_lines-2-quantity"] == "1"  # the blank row's default


def post(client, url, data, **kwargs):
    return client.post(url, data=data, **kwargs)


def a_product(engine, but=()):
    found = fetch(engine, "SELECT id FROM products ORDER BY id")
    return next(r["id"] for r in found if r["id"] not in but)


def test_add_change_and_remove_lines_in_one_save(site):
    app, engine, people = site
    client = as_user(app, people["support"])
    order_id = an_order(engine, 2)
    (first, _p1, q1), (second, _p2, _q2) = lines_of(engine, order_id)
    _html, data = edit_form(client, order_id)
    data["order_lines-0-quantity"] = str(q1 + 5)          # change the first line
    data["order_lines-1-DELETE"] = "on"                   # remove the second
    product = a_product(engine)
    data["order_lines-2-product_id"] = str(product)       # fill the blank row
    data["order_lines-2-quantity"] = "4"
    data["order_lines-2-unit_price"] = "12.50"
    response = post(client, f"/admin/orders/{order_id}/edit", data)
    assert response.status_code == 303, response.get_data(as_text=True)[:3000]
    lines = lines_of(engine, order_id)
    assert [(q) for (_id, _p, q) in lines] == [q1 + 5, 4]
    assert lines[0][0] == first and second not in [i for i, _p, _q in lines]
    assert lines[1][1] == product
    # One audit entry per child row changed, each naming the order (its History).
    entries = fetch(engine, "SELECT model_slug, action, parent FROM hyper_admin_audit "
                            "WHERE model_slug = 'order_lines' ORDER BY id")
    assert [(e["action"], e["parent"]) for e in entries] == [
        ("delete", f"orders:{order_id}"), ("update", f"orders:{order_id}"),
        ("create", f"orders:{order_id}")]
    history = client.get(f"/admin/orders/{order_id}/history").get_data(as_text=True)
    assert history.count("data-child-entry") == 3


def test_an_unchanged_save_writes_no_child(site):
    app, engine, people = site
    client = as_user(app, people["support"])
    order_id = an_order(engine, 2)
    _html, data = edit_form(client, order_id)
    response = post(client, f"/admin/orders/{order_id}/edit", data)
    assert response.status_code == 303
    assert fetch(engine, "SELECT count(*) AS n FROM hyper_admin_audit")[0]["n"] == 0


def test_a_child_validation_error_writes_nothing(site):
    app, engine, people = site
    client = as_user(app, people["support"])
    order_id = an_order(engine, 2)
    before = lines_of(engine, order_id)
    reference = fetch(engine, f"SELECT reference FROM orders WHERE id = {order_id}")[0]["reference"]
    _html, data = edit_form(client, order_id)
    data["reference"] = reference + "-X"                  # a valid change of the parent
    data["order_lines-0-quantity"] = str(before[0][2] + 1)  # a valid change of a line
    data["order_lines-1-quantity"] = "many"               # and an invalid one
    response = post(client, f"/admin/orders/{order_id}/edit", data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    # The error is on the row's own field, the input kept.
    assert re.search(r'id="id_order_lines-1-quantity-error"', page)
    assert 'value="many"' in page
    assert lines_of(engine, order_id) == before
    assert fetch(engine, f"SELECT reference FROM orders WHERE id = {order_id}")[0]["reference"] == reference
    assert fetch(engine, "SELECT count(*) AS n FROM hyper_admin_audit")[0]["n"] == 0


def test_a_database_refusal_on_a_child_rolls_the_parent_back(site):
    app, engine, people = site
    client = as_user(app, people["support"])
    order_id = an_order(engine, 2)
    before = lines_of(engine, order_id)
    reference = fetch(engine, f"SELECT reference FROM orders WHERE id = {order_id}")[0]["reference"]
    _html, data = edit_form(client, order_id)
    data["reference"] = reference + "-Y"
    data["order_lines-0-unit_price"] = "1234567890123"  # beyond NUMERIC(10, 2)
    response = post(client, f"/admin/orders/{order_id}/edit", data)
    assert response.status_code in (409, 422)
    assert lines_of(engine, order_id) == before
    assert fetch(engine, f"SELECT reference FROM orders WHERE id = {order_id}")[0]["reference"] == reference


def test_two_editors_changing_the_same_line_conflict_on_that_row(site):
    app, engine, people = site
    order_id = an_order(engine, 2)
    first = as_user(app, people["support"])
    second = as_user(app, people["maria"])
    _h1, mine = edit_form(first, order_id)
    _h2, theirs = edit_form(second, order_id)
    (line, _p, quantity), _other = lines_of(engine, order_id)
    theirs["order_lines-0-quantity"] = str(quantity + 1)
    assert post(second, f"/admin/orders/{order_id}/edit", theirs).status_code == 303
    mine["order_lines-0-quantity"] = str(quantity + 7)
    mine["order_lines-1-quantity"] = "9"
    response = post(first, f"/admin/orders/{order_id}/edit", mine)
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "Someone else changed this row" in page
    row = page[page.find('data-inline-row="0"'):page.find('data-inline-row="1"')]
    assert "data-inline-problem" in row
    assert str(quantity + 7) in row  # the user's input kept where both changed it
    # Nothing of the first editor's save was written, the second line included.
    assert lines_of(engine, order_id)[0][2] == quantity + 1
    assert lines_of(engine, order_id)[1][2] != 9 or _other[2] == 9
    # Saving again, knowingly, applies the input.
    again = form_data(page)
    assert post(first, f"/admin/orders/{order_id}/edit", again).status_code == 303
    assert lines_of(engine, order_id)[0][2] == quantity + 7


def test_a_line_deleted_meanwhile_is_a_conflict(site):
    app, engine, people = site
    client = as_user(app, people["support"])
    order_id = an_order(engine, 2)
    _html, data = edit_form(client, order_id)
    line = lines_of(engine, order_id)[1][0]
    with engine as tx:
        tx.execute(f"DELETE FROM order_lines WHERE id = {int(line)}")
    data["order_lines-0-quantity"] = "3"
    response = post(client, f"/admin/orders/{order_id}/edit", data)
    assert response.status_code == 409
    assert "deleted by someone else" in response.get_data(as_text=True)


def test_the_add_form_creates_the_order_with_its_lines(site):
    app, engine, people = site
    client = as_user(app, people["admin"])
    page = client.get("/admin/orders/new").get_data(as_text=True)
    data = form_data(page)
    assert data["order_lines-TOTAL_FORMS"] == "1" and data["order_lines-INITIAL_FORMS"] == "0"
    account = fetch(engine, "SELECT id FROM accounts ORDER BY id LIMIT 1")[0]["id"]
    p1, p2 = a_product(engine), a_product(engine, but=[a_product(engine)])
    data.update({"reference": "ORD-INLINE-1", "account_id": str(account), "status": "pending",
                 "total": "30.00", "currency": "EUR",
                 "order_lines-TOTAL_FORMS": "2",
                 "order_lines-0-product_id": str(p1), "order_lines-0-quantity": "1",
                 "order_lines-0-unit_price": "10.00",
                 "order_lines-1-product_id": str(p2), "order_lines-1-quantity": "2",
                 "order_lines-1-unit_price": "10.00"})
    response = post(client, "/admin/orders/new", data)
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    order_id = fetch(engine, "SELECT id FROM orders WHERE reference = 'ORD-INLINE-1'")[0]["id"]
    assert [(p, q) for _i, p, q in lines_of(engine, order_id)] == [(p1, 1), (p2, 2)]


def test_a_failing_line_on_the_add_form_creates_no_order(site):
    app, engine, people = site
    client = as_user(app, people["admin"])
    data = form_data(client.get("/admin/orders/new").get_data(as_text=True))
    account = fetch(engine, "SELECT id FROM accounts ORDER BY id LIMIT 1")[0]["id"]
    data.update({"reference": "ORD-INLINE-2", "account_id": str(account), "status": "pending",
                 "total": "30.00", "currency": "EUR",
                 "order_lines-0-product_id": "999999", "order_lines-0-quantity": "1",
                 "order_lines-0-unit_price": "10.00"})
    response = post(client, "/admin/orders/new", data)
    assert response.status_code == 422
    assert "id_order_lines-0-product_id-error" in response.get_data(as_text=True)
    assert not fetch(engine, "SELECT id FROM orders WHERE reference = 'ORD-INLINE-2'")


def test_a_post_without_the_formset_leaves_the_lines_alone(site):
    """A script that posts the order's own fields only (no <prefix>-TOTAL_FORMS)."""
    app, engine, people = site
    client = as_user(app, people["support"])
    order_id = an_order(engine, 2)
    before = lines_of(engine, order_id)
    _html, data = edit_form(client, order_id)
    data = {k: v for k, v in data.items() if not k.startswith("order_lines-")}
    data["currency"] = "USD"
    assert post(client, f"/admin/orders/{order_id}/edit", data).status_code == 303
    assert lines_of(engine, order_id) == before


def test_the_row_endpoint_renders_one_blank_row(site):
    app, engine, people = site
    client = as_user(app, people["support"])
    response = client.get("/admin/orders/inline/order_lines/row?order_lines-TOTAL_FORMS=3",
                          headers=HX)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'name="order_lines-3-quantity"' in html
    assert 'id="id_order_lines-3-quantity"' in html
    assert re.search(r'<input[^>]*name="order_lines-TOTAL_FORMS"[^>]*value="4"[^>]*hx-swap-oob', html)
    assert "<html" not in html
    assert client.get("/admin/orders/inline/order_lines/row?n=x", headers=HX).status_code == 400
    assert client.get("/admin/orders/inline/nothing/row?n=1", headers=HX).status_code == 404
    # A viewer may neither add nor change orders.
    viewer = as_user(app, people["viewer"])
    assert viewer.get("/admin/orders/inline/order_lines/row?n=1", headers=HX).status_code == 403
