"""Inlines (issue 19, item 1), the options test_inlines.py leaves out: History grouping,
composite-key children, read-only inlines and per-inline permissions, min_num/max_num, the
stacked layout, ordering, and ``fk`` among several keys (with the registration checks); on
SQLite and PostgreSQL."""

import re
from typing import Annotated

import pytest
from flask import Flask
from sqlorm import Column, Model, PrimaryKey

from apps import as_user
from crud_app import seeded, staff
from hyper_admin import Admin, Hint, Inline, ModelAdmin
from hyper_admin.checks import ConfigurationError
from hyper_admin.demo.models import Order, OrderLine, Tag, Ticket, TicketTag
from hyper_admin.sqlorm_compat import is_postgresql
from inline_app import (an_order, audit_count, edit_form, fetch, lines_of, login_app,
                        order_site)

LINES = dict(fields=["product_id", "quantity", "unit_price"], ordering=["id"])


@pytest.fixture
def db(engine):
    seeded(engine, rows=20)
    return engine, staff(engine)


def edit_path(order_id) -> str:
    return f"/admin/orders/{order_id}/edit"


# --- History ---------------------------------------------------------------------------------


def test_history_shows_the_lines_changed_with_the_orders_change(db):
    engine, people = db
    app, _admin = order_site(engine, Inline(OrderLine, **LINES))
    support = as_user(app, people["support"])
    order_id = an_order(engine, 2)
    (first, _p, quantity), _second = lines_of(engine, order_id)
    _html, data = edit_form(support, edit_path(order_id))
    data["currency"] = "CHF"
    data["order_lines-0-quantity"] = str(quantity + 3)
    assert support.post(edit_path(order_id), data=data).status_code == 303
    page = support.get(f"/admin/orders/{order_id}/history").get_data(as_text=True)
    cards = re.findall(r"<article .*?</article>", page, re.S)
    assert len(cards) == 2  # the order's change and its line's, on one page
    child = [c for c in cards if "data-child-entry" in c]
    assert len(child) == 1 and f'href="/admin/order_lines/{first}/history"' in child[0]
    assert str(quantity + 3) in child[0]
    assert "CHF" in next(c for c in cards if c not in child)
    # A viewer may read the order's History but not the lines: the order's entry only.
    viewer = as_user(app, people["viewer"]).get(f"/admin/orders/{order_id}/history")
    assert viewer.status_code == 200
    html = viewer.get_data(as_text=True)
    assert "data-child-entry" not in html and len(re.findall(r"<article ", html)) == 1


# --- composite-key children ----------------------------------------------------------------


def tag_site(engine):
    app = login_app(engine)
    admin = Admin(app, engine=engine, access_roles={"admin", "support", "viewer"})
    admin.register(Tag, permissions={"view": {"support"}})

    class Tickets(ModelAdmin):
        permissions = {"view": {"support"}, "change": {"support"}}
        discover_many_to_many = False  # the join rows as an inline here, not as a field
        readonly_fields = ["created_at", "updated_at"]
        inlines = [Inline(TicketTag, fields=["tag_id"], prefix="tagged")]

    admin.register(Ticket, Tickets)
    admin.register(TicketTag, permissions={"view": {"support"}, "add": {"support"},
                                           "delete": {"support"}})
    return app


def tags_of(engine, ticket):
    return [r["tag_id"] for r in fetch(engine, "SELECT tag_id FROM ticket_tags WHERE ticket_id "
                                               f"= {int(ticket)} ORDER BY tag_id")]


def test_children_with_a_composite_key_are_added_and_removed(db):
    engine, people = db
    support = as_user(tag_site(engine), people["support"])
    ticket = fetch(engine, "SELECT ticket_id FROM ticket_tags GROUP BY ticket_id "
                           "HAVING count(*) = 2 ORDER BY ticket_id")[0]["ticket_id"]
    kept, dropped = tags_of(engine, ticket)
    added = next(t for t in range(1, 9) if t not in (kept, dropped))
    html, data = edit_form(support, f"/admin/tickets/{ticket}/edit")
    # The key less the parent's part goes round as Django posts a row's id; the ticket's part
    # is the server's.
    assert data["tagged-INITIAL_FORMS"] == "2" and data["tagged-0-tag_id"] == str(kept)
    assert data["tagged-0-_version"] and "tagged-0-ticket_id" not in data
    data["tagged-1-DELETE"] = "on"
    data["tagged-2-tag_id"] = str(added)
    response = support.post(f"/admin/tickets/{ticket}/edit", data=data)
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    assert tags_of(engine, ticket) == sorted([kept, added])
    entries = fetch(engine, "SELECT action, pk, parent FROM hyper_admin_audit ORDER BY id")
    assert [(e["action"], e["parent"]) for e in entries] == [
        ("delete", f"tickets:{ticket}"), ("create", f"tickets:{ticket}")]
    # Posting a tag it already has again is the database's refusal, on the row: nothing kept.
    _html, data = edit_form(support, f"/admin/tickets/{ticket}/edit")
    data["tagged-0-DELETE"] = "on"
    data["tagged-2-tag_id"] = str(added)
    response = support.post(f"/admin/tickets/{ticket}/edit", data=data)
    assert response.status_code in (409, 422)
    assert tags_of(engine, ticket) == sorted([kept, added])


# --- read-only inlines and per-inline permissions ------------------------------------------


ADMIN_ONLY = {"add": {"admin"}, "change": {"admin"}, "delete": {"admin"}}


@pytest.mark.parametrize("how", ["inline_permissions", "child_admin"])
def test_without_change_on_the_lines_they_are_shown_not_editable(db, how):
    engine, people = db
    if how == "inline_permissions":
        app, _ = order_site(engine, Inline(OrderLine, permissions=ADMIN_ONLY, **LINES))
    else:
        app, _ = order_site(engine, Inline(OrderLine, **LINES),
                            line_permissions={"view": {"support"}})
    support = as_user(app, people["support"])
    order_id = an_order(engine, 2)
    before = lines_of(engine, order_id)
    html, data = edit_form(support, edit_path(order_id))
    section = html[html.find("data-inline="):]
    assert "order_lines-0-quantity" not in data and "order_lines-0-DELETE" not in html
    assert "data-inline-add" not in html and "data-inline-drop" not in html
    assert f">{before[0][2]}<" in section  # the quantity as text
    assert support.get("/admin/orders/inline/order_lines/row?n=2").status_code == 403
    # A posted child field is not written; the order's own change is.
    data["currency"] = "JPY"
    data["order_lines-0-quantity"] = "99"
    assert support.post(edit_path(order_id), data=data).status_code == 303
    assert lines_of(engine, order_id) == before
    assert fetch(engine, f"SELECT currency FROM orders WHERE id = {order_id}")[0]["currency"] == "JPY"
    # Removing or adding a row is refused outright, and writes nothing.
    for extra in ({"order_lines-0-DELETE": "on"},
                  {"order_lines-TOTAL_FORMS": "3", "order_lines-2-product_id": str(before[0][1]),
                   "order_lines-2-quantity": "2", "order_lines-2-unit_price": "3.00"}):
        response = support.post(edit_path(order_id), data={**data, "currency": "GBP", **extra})
        assert response.status_code == 403
        assert lines_of(engine, order_id) == before
    assert fetch(engine, f"SELECT currency FROM orders WHERE id = {order_id}")[0]["currency"] == "JPY"
    # The superuser edits them on the same form.
    _html, data = edit_form(as_user(app, people["admin"]), edit_path(order_id))
    assert data["order_lines-0-quantity"] == str(before[0][2])


def test_inline_permissions_replace_the_child_admins_for_the_actions_they_name(db):
    engine, people = db
    # The child admin lets support change lines but not delete them; the inline lets it
    # delete them and not change them.
    inline = Inline(OrderLine, permissions={"delete": {"support"}, "change": {"admin"}}, **LINES)
    app, _ = order_site(engine, inline, line_permissions={
        "view": {"support"}, "add": {"support"}, "change": {"support"}})
    support = as_user(app, people["support"])
    order_id = an_order(engine, 2)
    (first, _p, quantity), (second, _p2, _q2) = lines_of(engine, order_id)
    html, data = edit_form(support, edit_path(order_id))
    assert "order_lines-0-quantity" not in data and 'name="order_lines-1-DELETE"' in html
    data["order_lines-1-DELETE"] = "on"
    assert support.post(edit_path(order_id), data=data).status_code == 303
    assert [line for line, _p, _q in lines_of(engine, order_id)] == [first]


# --- min_num, max_num ------------------------------------------------------------------------


def test_min_num_and_max_num_are_enforced_with_a_clear_error(db):
    engine, people = db
    app, _ = order_site(engine, Inline(OrderLine, min_num=1, max_num=2, **LINES))
    support = as_user(app, people["support"])
    order_id = an_order(engine, 2)
    before = lines_of(engine, order_id)
    html, data = edit_form(support, edit_path(order_id))
    # Two rows kept of two: no blank row, "Add" disabled, the limit said.
    assert data["order_lines-TOTAL_FORMS"] == "2" and data["order_lines-MAX_NUM_FORMS"] == "2"
    assert re.search(r"<button[^>]*data-inline-add[^>]*disabled", html)
    assert "At most 2 rows." in html
    third = {"order_lines-TOTAL_FORMS": "3", "order_lines-2-product_id": str(before[0][1]),
             "order_lines-2-quantity": "1", "order_lines-2-unit_price": "1.00"}
    response = support.post(edit_path(order_id), data={**data, **third})
    assert response.status_code == 422
    assert "At most 2 rows can be kept here." in response.get_data(as_text=True)
    both_gone = {"order_lines-0-DELETE": "on", "order_lines-1-DELETE": "on"}
    response = support.post(edit_path(order_id), data={**data, **both_gone})
    assert response.status_code == 422
    assert "Keep at least 1 row here." in response.get_data(as_text=True)
    assert lines_of(engine, order_id) == before and audit_count(engine) == 0
    # An order with one line gets one blank row, the second and last.
    html, data = edit_form(support, edit_path(an_order(engine, 1)))
    assert data["order_lines-TOTAL_FORMS"] == "2" and data["order_lines-INITIAL_FORMS"] == "1"
    assert re.search(r"<button[^>]*data-inline-add[^>]*disabled", html)


# --- layout and ordering ---------------------------------------------------------------------


def test_the_stacked_layout_renders_and_saves(db):
    engine, people = db
    app, _ = order_site(engine, Inline(OrderLine, layout="stacked", extra=1, **LINES))
    support = as_user(app, people["support"])
    order_id = an_order(engine, 1)
    html, data = edit_form(support, edit_path(order_id))
    assert html.count("<fieldset data-inline-row=") == 2 and "<table class=\"table table-sm max-sm:block\" id=\"order_lines-rows\"" not in html
    assert re.search(r"<legend[^>]*>\s*New order line\s*</legend>", html)
    assert re.search(r'<label[^>]*for="id_order_lines-1-quantity"', html)  # a visible label per field
    assert re.search(r"<button[^>]*data-inline-add", html)  # no max_num: never disabled
    assert not re.search(r"<button[^>]*data-inline-add[^>]*disabled", html)
    data.update({"order_lines-1-product_id": str(lines_of(engine, order_id)[0][1]),
                 "order_lines-1-quantity": "4", "order_lines-1-unit_price": "2.50"})
    assert support.post(edit_path(order_id), data=data).status_code == 303
    assert [q for _i, _p, q in lines_of(engine, order_id)][-1] == 4
    # The demo's ticket replies are stacked too: the conversation read-only, a blank reply.
    from hyper_admin.demo.app import register_models

    demo = login_app(engine)
    register_models(Admin(demo, engine=engine, access_roles={"admin", "support", "viewer"}), engine)
    ticket = fetch(engine, "SELECT ticket_id FROM ticket_comments ORDER BY ticket_id")[0]["ticket_id"]
    html, data = edit_form(as_user(demo, people["support"]), f"/admin/tickets/{ticket}/edit")
    assert "<fieldset data-inline-row=\"0\" data-existing" in html and "comments-0-body" not in data
    assert re.search(r"<legend[^>]*>\s*New ticket comment\s*</legend>", html)


def test_a_blank_row_with_a_clock_default_saved_later_stays_blank(db, monkeypatch):
    """The blank reply's "created at" shows the time the form was opened; posted back a while
    later (the default is later by then), the row is still a blank one, not a reply missing
    its message."""
    import datetime as dt

    from hyper_admin.demo.models import Account, StaffUser, TicketComment
    from hyper_admin.introspect import ColumnInfo

    engine, people = db
    demo = login_app(engine)
    admin = Admin(demo, engine=engine, access_roles={"support"})
    for model in (Account, StaffUser, TicketComment):
        admin.register(model, permissions={"view": {"support"}})
    admin.register(Ticket, permissions={"view": {"support"}, "change": {"support"}}, inlines=[
        Inline(TicketComment, fields=["body", "is_internal", "created_at"], prefix="comments",
               permissions={"add": {"support"}})])
    ticket = fetch(engine, "SELECT min(id) AS id FROM tickets")[0]["id"]
    path = f"/admin/tickets/{ticket}/edit"
    support = as_user(demo, people["support"])
    _html, data = edit_form(support, path)
    blank = data["comments-INITIAL_FORMS"]  # the blank row comes after the stored ones
    assert data[f"comments-{blank}-created_at"] and not data[f"comments-{blank}-body"]
    real = ColumnInfo.default_value

    def an_hour_later(column):
        value = real(column)
        return value + dt.timedelta(hours=1) if isinstance(value, dt.datetime) else value

    monkeypatch.setattr(ColumnInfo, "default_value", an_hour_later)
    before = fetch(engine, f"SELECT count(*) AS n FROM ticket_comments WHERE ticket_id = {int(ticket)}")
    data["subject"] = "Saved an hour after opening"
    response = support.post(path, data=data)
    assert response.status_code == 303, response.get_data(as_text=True)[-1500:]
    assert fetch(engine, f"SELECT count(*) AS n FROM ticket_comments WHERE ticket_id = {int(ticket)}") == before


def test_ordering_orders_the_rows(db):
    engine, people = db
    order_id = an_order(engine, 2)
    (first, _p, _q), (second, _p2, _q2) = lines_of(engine, order_id)
    with engine as tx:
        tx.execute(f"UPDATE order_lines SET quantity = 1 WHERE id = {int(first)}")
        tx.execute(f"UPDATE order_lines SET quantity = 7 WHERE id = {int(second)}")
    for ordering, expected in ((["-quantity"], [second, first]), (["quantity"], [first, second])):
        app, _ = order_site(engine, Inline(OrderLine, fields=["product_id", "quantity"],
                                           ordering=ordering))
        _html, data = edit_form(as_user(app, people["support"]), edit_path(order_id))
        assert [data["order_lines-0-id"], data["order_lines-1-id"]] == [str(k) for k in expected]


# --- fk among several, and the registration checks -------------------------------------------


class Letter(Model):
    """Two keys to the same table: sent and received letters of the demo's staff."""
    __table__ = "letters"
    id: PrimaryKey[int]
    sender_id: int = Column(references="staff_users(id)")
    recipient_id: int = Column(references="staff_users(id)")
    body: str


def letters_site(engine, inline):
    from hyper_admin.demo.models import StaffUser

    pk = ("BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY" if is_postgresql(engine)
          else "INTEGER PRIMARY KEY")
    with engine as tx:
        tx.execute(f"CREATE TABLE letters (id {pk}, sender_id BIGINT REFERENCES staff_users(id), "
                   "recipient_id BIGINT REFERENCES staff_users(id), body TEXT)")
    app = login_app(engine)
    admin = Admin(app, engine=engine, access_roles={"admin"})
    admin.register(StaffUser, fields=["username", "name", "email"], inlines=[inline])
    admin.register(Letter)
    return app


def test_fk_chooses_among_several_keys_to_the_parent(db):
    engine, people = db
    app = letters_site(engine, Inline(Letter, fk="recipient_id", fields=["sender_id", "body"]))
    root = as_user(app, people["admin"])
    maria, kenji = people["maria"].id, people["kenji"].id
    html, data = edit_form(root, f"/admin/staff_users/{maria}/edit")
    assert "letters-0-recipient_id" not in html and "letters-0-sender_id" in data
    data.update({"letters-0-sender_id": str(kenji), "letters-0-body": "Welcome aboard"})
    response = root.post(f"/admin/staff_users/{maria}/edit", data=data)
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    assert fetch(engine, "SELECT sender_id, recipient_id, body FROM letters") == [
        {"sender_id": kenji, "recipient_id": maria, "body": "Welcome aboard"}]


def problems_of(engine, inline, parent=Order) -> str:
    with pytest.raises(ConfigurationError) as caught:
        Admin(Flask(__name__), engine=engine).register(parent, inlines=[inline])
    assert caught.value.id == "hyper_admin.E031"
    return str(caught.value)


class Scan(Model):
    """A child row holding a file: an inline row cannot take its upload."""
    __table__ = "scans"
    id: PrimaryKey[int]
    order_id: int = Column(references="orders(id)")
    document: Annotated[str, Hint(kind="file")]
    page: bytes


def test_an_inline_with_an_upload_field_fails_at_registration(engine):
    message = problems_of(engine, Inline(Scan))
    assert "fields 'document' is a file column: an inline row takes no upload" in message
    assert "fields 'page' is a file column" in message
    # Shown read-only (or left out), it registers.
    Admin(Flask(__name__), engine=engine).register(Order, inlines=[
        Inline(Scan, fields=["document", "page"], readonly_fields=["document", "page"])])
    Admin(Flask(__name__), engine=engine).register(Order, inlines=[Inline(Scan, fields=["id"])])


def test_a_wrong_inline_fails_at_registration(engine):
    from hyper_admin.demo.models import StaffUser

    assert "several foreign keys to StaffUser (sender_id, recipient_id): name one with fk=" in \
        problems_of(engine, Inline(Letter), StaffUser)
    assert "fk 'author_id' is not a foreign key of Letter to StaffUser" in \
        problems_of(engine, Inline(Letter, fk="author_id"), StaffUser)
    assert "fk 'product_id' is not a foreign key of OrderLine to Order" in \
        problems_of(engine, Inline(OrderLine, fk="product_id"))
    assert "fields 'quantty' is not a column of OrderLine" in \
        problems_of(engine, Inline(OrderLine, fields=["quantty"]))
    assert "ordering 'price' is not a column" in problems_of(engine, Inline(OrderLine, ordering=["-price"]))
    assert "layout 'grid'" in problems_of(engine, Inline(OrderLine, layout="grid"))
    assert "max_num 1 must be" in problems_of(engine, Inline(OrderLine, min_num=2, max_num=1))
    assert "extra -1" in problems_of(engine, Inline(OrderLine, extra=-1))
    assert "permissions" in problems_of(engine, Inline(OrderLine, permissions={"change": "admin"}))
    assert "is not a sqlorm model" in problems_of(engine, Inline(object))
    # Right ones register; a plain model in inlines stays the detail page's list.
    Admin(Flask(__name__), engine=engine).register(Order, inlines=[
        Inline(OrderLine, fk="order", layout="stacked", min_num=1, max_num=1), Ticket])
