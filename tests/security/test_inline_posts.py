"""B15 (docs/security.md): an inline's post reaches only the children of the row being edited,
within the child admin's scope. A child's key of another order, a line outside the scope, or
the hidden key to the parent pointed at another order: nothing of it is written (SQLite and
PostgreSQL)."""

import pytest
from sqlorm import SQL

from apps import as_user
from crud_app import seeded, staff
from hyper_admin import Inline, ModelAdmin
from hyper_admin.demo.models import OrderLine
from inline_app import (LINES_FOR_SUPPORT, an_order, audit_count, edit_form, fetch, lines_of,
                        order_site)


class ScopedLines(ModelAdmin):
    """Support agents handle the lines of quantity below 50 only."""
    permissions = LINES_FOR_SUPPORT

    def scope(self, user):
        return None if "admin" in user.roles else SQL("order_lines.quantity < 50")


@pytest.fixture
def site(engine):
    seeded(engine, rows=20)
    inline = Inline(OrderLine, fields=["product_id", "quantity", "unit_price"], ordering=["id"])
    app, _admin = order_site(engine, inline, line_admin=ScopedLines)
    return app, engine, as_user(app, staff(engine)["support"])


def path(order_id) -> str:
    return f"/admin/orders/{order_id}/edit"


def test_B15_a_child_key_of_another_order_is_not_written(site):
    _app, engine, support = site
    mine = an_order(engine, 2)
    theirs = an_order(engine, 2, but=[mine])
    before_mine, before_theirs = lines_of(engine, mine), lines_of(engine, theirs)
    foreign = before_theirs[0][0]
    _html, data = edit_form(support, path(mine))
    changed = {**data, "order_lines-0-id": str(foreign), "order_lines-0-quantity": "42"}
    deleted = {**data, "order_lines-0-id": str(foreign), "order_lines-0-DELETE": "on"}
    for posted in (changed, deleted):
        response = support.post(path(mine), data=posted)
        assert response.status_code == 409  # "deleted by someone else": not a row of this order
        assert lines_of(engine, theirs) == before_theirs
        assert lines_of(engine, mine) == before_mine
    assert audit_count(engine) == 0


def test_B15_a_child_outside_the_scope_is_neither_shown_nor_written(site):
    _app, engine, support = site
    order_id = an_order(engine, 2)
    (first, _p, _q), (hidden, _p2, _q2) = lines_of(engine, order_id)
    with engine as tx:
        tx.execute(f"UPDATE order_lines SET quantity = 80 WHERE id = {int(hidden)}")
    html, data = edit_form(support, path(order_id))
    assert data["order_lines-INITIAL_FORMS"] == "1" and data["order_lines-0-id"] == str(first)
    assert f'value="{hidden}"' not in html
    for posted in ({"order_lines-0-id": str(hidden), "order_lines-0-quantity": "3"},
                   {"order_lines-0-id": str(hidden), "order_lines-0-DELETE": "on"}):
        response = support.post(path(order_id), data={**data, **posted})
        assert response.status_code == 409
        row = fetch(engine, f"SELECT quantity FROM order_lines WHERE id = {int(hidden)}")
        assert row == [{"quantity": 80}]
    assert audit_count(engine) == 0


def test_B15_the_key_to_the_parent_is_the_servers(site):
    _app, engine, support = site
    mine = an_order(engine, 2)
    theirs = an_order(engine, 2, but=[mine])
    before_theirs = lines_of(engine, theirs)
    (first, product, quantity), _second = lines_of(engine, mine)
    _html, data = edit_form(support, path(mine))
    data.update({"order_lines-0-order_id": str(theirs), "order_lines-0-quantity": str(quantity + 1),
                 "order_lines-2-order_id": str(theirs), "order_lines-2-product_id": str(product),
                 "order_lines-2-quantity": "5", "order_lines-2-unit_price": "9.00"})
    assert support.post(path(mine), data=data).status_code == 303
    lines = lines_of(engine, mine)
    assert len(lines) == 3 and lines[0] == (first, product, quantity + 1) and lines[2][2] == 5
    assert lines_of(engine, theirs) == before_theirs
    owners = fetch(engine, f"SELECT order_id FROM order_lines WHERE id IN ({int(first)}, {int(lines[2][0])})")
    assert {r["order_id"] for r in owners} == {mine}


def test_B15_a_new_childs_own_foreign_key_must_name_an_existing_row(site):
    """The new line's own foreign key (product) is checked like the parent form's keys: a row
    that exists, within the target admin's scope."""
    _app, engine, support = site
    order_id = an_order(engine, 2)
    _html, data = edit_form(support, path(order_id))
    data.update({"order_lines-2-product_id": "999999", "order_lines-2-quantity": "1",
                 "order_lines-2-unit_price": "1.00"})
    response = support.post(path(order_id), data=data)
    assert response.status_code == 422
    assert "id_order_lines-2-product_id-error" in response.get_data(as_text=True)
    assert len(lines_of(engine, order_id)) == 2 and audit_count(engine) == 0
