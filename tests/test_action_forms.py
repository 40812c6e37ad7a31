"""Actions that ask for input (issue 20, item 3; docs/extending.md): the demo's "Assign to"
on tickets, on SQLite and PostgreSQL. The form is shown in the confirmation dialog; invalid
input comes back with its errors (422) and writes nothing; valid input runs the action and
notes the form's values in each row's audit entry; scope and permissions as for any action;
the same action on one row from its detail page; registration check E040."""

import json

import pytest
from flask import Flask
from sqlorm import SQL
from wtforms import Form, StringField

from apps import Customer, Invoice, as_user as signed_in, create_schema, csrf_from
from hyper_admin import Admin, action
from hyper_admin.action_forms import ForeignKeyPicker
from hyper_admin.checks import ConfigurationError

HX = {"HX-Request": "true"}


@pytest.fixture
def demo(db_url, tmp_path, monkeypatch, request):
    """The demo app, seeded small, on this test's database; (app, engine, staff by username)."""
    from hyper_admin.demo.app import create_app as create_demo
    from hyper_admin.demo.models import StaffUser

    if db_url.startswith("sqlite"):
        app = create_demo(str(tmp_path / "demo.db"), rows=40)
    else:
        schema, _ = request.getfixturevalue("pg_schema")
        monkeypatch.setenv("DEMO_PG_SCHEMA", schema)
        from pg import PG_URL

        app = create_demo(PG_URL, rows=40)
    app.config["TESTING"] = True
    engine = app.extensions["hyper_admin_demo"]["engine"]
    with engine:
        people = {u.username: u for u in StaffUser.find_all().all()}
    yield app, engine, people
    engine.disconnect_all()


def as_user(app, user):
    """A signed-in client whose POSTs carry the session's CSRF token (the pipeline's check)."""
    client = signed_in(app, user)
    token = csrf_from(client.get("/admin/").get_data(as_text=True))
    original = client.post

    def post(*args, data=None, **kwargs):
        return original(*args, data={"csrf_token": token, **(data or {})}, **kwargs)
    client.post = post
    return client


def fetch(engine, sql):
    with engine as tx:
        return [dict(r) for r in tx.fetchall(sql)]


def assignees(engine, ids):
    rows = fetch(engine, SQL("SELECT id, assignee_id FROM tickets WHERE id IN (",
                             SQL.List([SQL.Param(i) for i in ids]), ")"))
    return {r["id"]: r["assignee_id"] for r in rows}


def audit_rows(engine, slug="tickets"):
    return fetch(engine, SQL("SELECT pk, action, changes, note FROM hyper_admin_audit "
                             "WHERE model_slug =", SQL.Param(slug), "ORDER BY id"))


def two_tickets(engine, people):
    """Two tickets not assigned to María, by id."""
    rows = fetch(engine, SQL("SELECT id FROM tickets WHERE assignee_id IS NULL OR assignee_id <>",
                             SQL.Param(people["maria"].id), "ORDER BY id LIMIT 2"))
    return [r["id"] for r in rows]


def post_action(client, pks, **fields):
    data = {"action": "assign", "pk": [str(p) for p in pks], **fields}
    return client.post("/admin/tickets/action", data=data, headers=HX)


def test_choosing_the_action_opens_the_dialog_with_its_form(demo):
    app, engine, people = demo
    first, second = two_tickets(engine, people)
    response = post_action(as_user(app, people["support"]), [first, second])
    assert response.status_code == 200
    assert response.headers["HX-Retarget"] == "#confirm-dialog-body"
    page = response.get_data(as_text=True)
    assert 'id="confirm-dialog-title"' in page and "Assign to" in page
    # The agent picker searches what the ticket form's Assignee searches; the note is a textarea.
    assert 'name="agent"' in page and "/admin/tickets/lookup/assignee_id" in page
    assert '<textarea' in page and 'name="note"' in page
    assert 'name="confirmed" value="1"' in page
    assert page.count('name="pk"') == 2
    assert "Selected: 2 tickets." in page
    assert "This field is required" not in page  # no errors before the user submitted
    assert "data-action-form-errors" not in page


def test_invalid_input_comes_back_with_errors_and_writes_nothing(demo):
    app, engine, people = demo
    first, second = two_tickets(engine, people)
    client = as_user(app, people["support"])
    before, entries = assignees(engine, [first, second]), audit_rows(engine)
    for agent, error in (("", "This field is required."),
                         ("999999", "Choose an existing staff user."),
                         ("not-a-key", "Not a valid choice.")):
        response = post_action(client, [first, second], confirmed="1", agent=agent, note="x")
        assert response.status_code == 422, agent
        assert response.headers["HX-Retarget"] == "#confirm-dialog-body"
        page = response.get_data(as_text=True)
        error_list = page.split('id="agent-error"', 1)[1].split("</ul>", 1)[0]
        assert error in error_list
        assert 'aria-invalid="true"' in page
        assert "Correct the fields below, then confirm again." in page
        assert 'name="note"' in page and "x</textarea>" in page  # what was typed is kept
    assert assignees(engine, [first, second]) == before
    assert audit_rows(engine) == entries


def test_a_note_too_long_is_an_error_on_the_note(demo):
    app, engine, people = demo
    first, _second = two_tickets(engine, people)
    response = post_action(as_user(app, people["support"]), [first], confirmed="1",
                           agent=str(people["maria"].id), note="n" * 501)
    assert response.status_code == 422
    assert 'id="note-error"' in response.get_data(as_text=True)
    assert assignees(engine, [first])[first] != people["maria"].id


def test_valid_input_assigns_every_row_and_notes_the_values_in_each_audit_entry(demo):
    app, engine, people = demo
    first, second = two_tickets(engine, people)
    maria = people["maria"]
    client = as_user(app, people["support"])
    response = post_action(client, [first, second], confirmed="1",
                           agent=str(maria.id), note="VIP customer")
    assert response.status_code == 200
    assert json.loads(response.headers["HX-Location"])["path"] == "/admin/tickets/"
    assert assignees(engine, [first, second]) == {first: maria.id, second: maria.id}
    entries = [e for e in audit_rows(engine) if e["action"] == "action:assign"]
    assert sorted(e["pk"] for e in entries) == sorted([str(first), str(second)])
    for entry in entries:
        assert "Agent: María López" in entry["note"] and "Note: VIP customer" in entry["note"]
        assert json.loads(entry["changes"])["assignee_id"][1] == maria.id
    # The toast says who got them.
    page = client.get("/admin/tickets/").get_data(as_text=True)
    assert "2 tickets assigned to María López." in page


def test_rows_outside_the_scope_are_left_out(demo):
    app, engine, people = demo
    first, second = two_tickets(engine, people)
    admin = app.extensions["hyper_admin_demo"]["admin"]
    ticket_admin = admin.registry["tickets"]
    ticket_admin.scope = lambda user: (None if "admin" in user.roles
                                       else SQL("tickets.id <>", SQL.Param(first)))
    client = as_user(app, people["support"])
    maria = str(people["maria"].id)
    alone = post_action(client, [first], confirmed="1", agent=maria)
    assert alone.status_code == 404
    both = post_action(client, [first, second], confirmed="1", agent=maria)
    assert both.status_code == 200
    after = assignees(engine, [first, second])
    assert after[second] == people["maria"].id and after[first] != people["maria"].id
    assert [e["pk"] for e in audit_rows(engine) if e["action"] == "action:assign"] == [str(second)]


def test_a_user_without_the_permission_is_refused(demo):
    app, engine, people = demo
    first, _second = two_tickets(engine, people)
    before = assignees(engine, [first])
    response = post_action(as_user(app, people["viewer"]), [first], confirmed="1",
                           agent=str(people["maria"].id))
    assert response.status_code == 403
    assert assignees(engine, [first]) == before
    # Nor is the action offered to them on the row's page.
    page = as_user(app, people["viewer"]).get(f"/admin/tickets/{first}/").get_data(as_text=True)
    assert 'data-row-action="assign"' not in page


def test_a_row_action_from_the_detail_page_comes_back_to_it(demo):
    app, engine, people = demo
    first, second = two_tickets(engine, people)
    client = as_user(app, people["support"])
    page = client.get(f"/admin/tickets/{first}/").get_data(as_text=True)
    form = page.split('data-row-action="assign"', 1)[1].split("</form>", 1)[0]
    assert f'name="pk" value="{first}"' in form and 'name="action" value="assign"' in form
    assert f'name="next" value="/admin/tickets/{first}/"' in form
    dialog = client.post("/admin/tickets/action", headers=HX, data={
        "action": "assign", "pk": str(first), "next": f"/admin/tickets/{first}/"})
    assert dialog.status_code == 200
    assert f'name="next" value="/admin/tickets/{first}/"' in dialog.get_data(as_text=True)
    done = client.post("/admin/tickets/action", headers=HX, data={
        "action": "assign", "pk": str(first), "confirmed": "1",
        "agent": str(people["kenji"].id), "next": f"/admin/tickets/{first}/"})
    assert done.status_code == 200
    assert json.loads(done.headers["HX-Location"])["path"] == f"/admin/tickets/{first}/"
    after = assignees(engine, [first, second])
    assert after[first] == people["kenji"].id and after[second] != people["kenji"].id


def test_an_action_without_a_form_still_runs_as_before(demo):
    app, engine, people = demo
    order = fetch(engine, "SELECT id FROM orders WHERE status <> 'shipped' ORDER BY id LIMIT 1")[0]["id"]
    client = as_user(app, people["support"])
    asked = client.post("/admin/orders/action", headers=HX,
                        data={"action": "mark_shipped", "pk": str(order)})
    assert asked.status_code == 200 and "Mark 1 orders as shipped now?" in asked.get_data(as_text=True)
    assert "data-action-form" not in asked.get_data(as_text=True)
    done = client.post("/admin/orders/action", headers=HX,
                       data={"action": "mark_shipped", "pk": str(order), "confirmed": "1"})
    assert done.status_code == 200
    status = fetch(engine, SQL("SELECT status FROM orders WHERE id =", SQL.Param(order)))[0]
    assert status["status"] == "shipped"
    entry = [e for e in audit_rows(engine, "orders") if e["action"] == "action:mark_shipped"]
    assert [e["pk"] for e in entry] == [str(order)] and entry[0]["note"] is None


# -- registration check E040 -----------------------------------------------------------------


@pytest.fixture
def admin(engine):
    create_schema(engine)
    app = Flask(__name__)
    app.secret_key = "checks"
    return Admin(app, engine=engine)


class NotAForm:
    pass


class Clashing(Form):
    pk = StringField("Key")


class PicksAColumn(Form):
    who = ForeignKeyPicker("Who", column="amount")


class PicksTheCustomer(Form):
    who = ForeignKeyPicker("Who", column="customer_id")


def with_form(form_class):
    @action("Flag", form=form_class)
    def flag(model_admin, objects, user, form):
        return None
    return flag


def test_an_action_with_a_form_must_take_it(admin):
    @action("Flag", form=PicksTheCustomer)
    def flag(model_admin, objects, user):
        return None
    with pytest.raises(ConfigurationError) as caught:
        admin.register(Invoice, actions=[flag])
    assert caught.value.id == "hyper_admin.E040" and "must take the form" in str(caught.value)


@pytest.mark.parametrize("form_class, words", [
    (NotAForm, "is not a WTForms Form class"),
    (Clashing, "field 'pk' takes a name the action's POST uses itself"),
    (PicksAColumn, "which is not a foreign key of the model"),
])
def test_a_bad_action_form_fails_at_registration(admin, form_class, words):
    with pytest.raises(ConfigurationError) as caught:
        admin.register(Invoice, actions=[with_form(form_class)])
    assert caught.value.id == "hyper_admin.E040"
    assert words in str(caught.value) and "Invoice" in str(caught.value)


def test_a_good_action_form_registers(admin):
    admin.register(Customer)
    admin.register(Invoice, actions=[with_form(PicksTheCustomer)])
    assert "invoices" in admin.registry
