"""The audit trail (issue 6): every write through the admin leaves an entry with the values
before and after, in the same transaction; a row's History and the dashboard show them."""

import json

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlorm import SQL

from apps import as_user, csrf_from, form_data
from crud_app import create_app, seeded, staff
from hyper_admin import audit


@pytest.fixture
def site(engine):
    seeded(engine, rows=20)
    app, admin = create_app(engine)
    return app, staff(engine), engine


def audit_rows(engine, slug=None):
    with engine as tx:
        rows = tx.fetchall("SELECT * FROM hyper_admin_audit ORDER BY id")
    out = [dict(r) for r in rows]
    for r in out:
        r["changes"] = json.loads(r["changes"])
    return [r for r in out if slug is None or r["model_slug"] == slug]


def test_create_edit_delete_are_audited_with_their_values(site):
    app, people, engine = site
    client = as_user(app, people["support"])
    token = csrf_from(client.get("/admin/contacts/new").get_data(as_text=True))
    with engine as tx:
        account = tx.fetchscalar("SELECT id AS v FROM accounts ORDER BY id LIMIT 1")
    response = client.post("/admin/contacts/new", data={
        "csrf_token": token, "account_id": str(account), "name": "Ada Audit",
        "email": "ada@example.com", "phone": "", "role": ""})
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    contact = int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    (created,) = audit_rows(engine, "contacts")
    assert created["action"] == "create" and created["pk"] == str(contact)
    assert created["changes"]["name"] == [None, "Ada Audit"]
    assert created["user_label"] and created["user_id"] == str(people["support"].id)

    data = form_data(client.get(f"/admin/contacts/{contact}/edit").get_data(as_text=True))
    data["name"] = "Ada Lovelace"
    assert client.post(f"/admin/contacts/{contact}/edit", data=data).status_code == 303
    updated = audit_rows(engine, "contacts")[-1]
    assert updated["action"] == "update"
    assert updated["changes"] == {"name": ["Ada Audit", "Ada Lovelace"]}

    # Saving an unchanged form writes nothing, and records nothing.
    data = form_data(client.get(f"/admin/contacts/{contact}/edit").get_data(as_text=True))
    assert client.post(f"/admin/contacts/{contact}/edit", data=data).status_code == 303
    assert len(audit_rows(engine, "contacts")) == 2

    token = csrf_from(client.get(f"/admin/contacts/{contact}/delete").get_data(as_text=True))
    assert client.post(f"/admin/contacts/{contact}/delete", data={"csrf_token": token}).status_code == 303
    deleted = audit_rows(engine, "contacts")[-1]
    assert deleted["action"] == "delete" and deleted["changes"]["name"] == ["Ada Lovelace", None]

    history = client.get(f"/admin/contacts/{contact}/history").get_data(as_text=True)
    assert "no longer exists" in history
    assert history.index(">Deleted</span>") < history.index(">Changed</span>") < history.index(">Created</span>")
    assert "<del" in history and "Ada Audit" in history and "Ada Lovelace" in history


def test_a_refused_write_leaves_no_audit_entry(site):
    app, people, engine = site
    client = as_user(app, people["admin"])
    with engine as tx:
        account = tx.fetchscalar("SELECT account_id AS v FROM orders LIMIT 1")
    token = csrf_from(client.get(f"/admin/accounts/{account}/delete").get_data(as_text=True))
    assert client.post(f"/admin/accounts/{account}/delete", data={"csrf_token": token}).status_code == 409
    assert audit_rows(engine, "accounts") == []


def test_bulk_actions_and_deletes_audit_each_row(site):
    app, people, engine = site
    client = as_user(app, people["support"])
    with engine as tx:
        orders = [r["id"] for r in tx.fetchall("SELECT id FROM orders WHERE status <> 'paid' ORDER BY id LIMIT 3")]
        comments = [r["id"] for r in tx.fetchall("SELECT id FROM ticket_comments ORDER BY id LIMIT 2")]
    token = csrf_from(client.get("/admin/orders/").get_data(as_text=True))
    assert client.post("/admin/orders/action", data={
        "action": "mark_paid", "pk": [str(i) for i in orders], "confirmed": "1",
        "csrf_token": token}).status_code == 303
    entries = audit_rows(engine, "orders")
    assert [e["pk"] for e in entries] == [str(i) for i in orders]
    assert all(e["action"] == "action:mark_paid" and e["changes"]["status"][1] == "paid" for e in entries)
    assert client.post("/admin/ticket_comments/action", data={
        "action": "delete", "pk": [str(i) for i in comments], "confirmed": "1",
        "csrf_token": token}).status_code == 303
    assert [(e["action"], e["pk"]) for e in audit_rows(engine, "ticket_comments")] == [
        ("delete", str(i)) for i in comments]


def test_notes_secrets_and_long_values(site):
    app, people, engine = site
    with app.test_request_context("/admin/"):
        from hyper_admin.introspect import model_info
        from hyper_admin.demo.models import StaffUser, Account

        info = model_info(StaffUser)
        changes = audit.diff(info, {"username": "a", "password_hash": "x" * 10},
                             {"username": "a", "password_hash": "y" * 10})
        assert changes == {"password_hash": ["[redacted]", "[redacted]"]}
        long = "z" * 5000
        kept = audit.diff(model_info(Account), {"notes": None}, {"notes": long})["notes"][1]
        assert kept.startswith("z" * 200) and "5,000 characters, sha256" in kept
        assert len(kept) < 300


def test_history_and_recent_actions_respect_permissions_and_scope(site):
    app, people, engine = site
    support, viewer = as_user(app, people["support"]), as_user(app, people["viewer"])
    with engine as tx:
        order = tx.fetchscalar("SELECT id AS v FROM orders WHERE status <> 'paid' ORDER BY id LIMIT 1")
    token = csrf_from(support.get("/admin/orders/").get_data(as_text=True))
    assert support.post("/admin/orders/action", data={
        "action": "mark_paid", "pk": str(order), "confirmed": "1", "csrf_token": token}).status_code == 303
    dashboard = viewer.get("/admin/").get_data(as_text=True)
    assert "Mark as paid" in dashboard and f"/admin/orders/{order}/history" in dashboard
    page = viewer.get(f"/admin/orders/{order}/history").get_data(as_text=True)
    assert "Mark as paid" in page and "Paid" in page
    # A deleted row's history: only for those who may delete (the viewer may not).
    assert viewer.get("/admin/orders/999999/history").status_code == 404
    assert support.get("/admin/products/1/history").status_code in (200, 404)
    assert viewer.get("/admin/orders/x,y/history").status_code == 404


EDITS = st.lists(
    st.fixed_dictionaries({
        "name": st.text(alphabet="abcdefghij XYZ<&>'", min_size=1, max_size=12).map(str.strip).filter(bool),
        "phone": st.one_of(st.just(""), st.text(alphabet="0123456789+ ", min_size=1, max_size=10).map(str.strip)),
        "role": st.sampled_from(["", "Buyer", "CTO", "Accounts"]),
    }),
    min_size=1, max_size=6)


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(edits=EDITS)
def test_replaying_the_audit_reproduces_the_row(site, edits):
    """Property: whatever sequence of edits, the create entry plus every update's "after"
    values, applied in order, give the row as it is in the database."""
    app, people, engine = site
    client = as_user(app, people["support"])
    with engine as tx:
        account = tx.fetchscalar("SELECT id AS v FROM accounts ORDER BY id LIMIT 1")
    token = csrf_from(client.get("/admin/contacts/new").get_data(as_text=True))
    response = client.post("/admin/contacts/new", data={
        "csrf_token": token, "account_id": str(account), "name": "Start",
        "email": "start@example.com", "phone": "", "role": ""})
    assert response.status_code == 303
    contact = response.headers["Location"].rstrip("/").rsplit("/", 1)[1]
    for edit in edits:
        data = form_data(client.get(f"/admin/contacts/{contact}/edit").get_data(as_text=True))
        data.update(edit)
        assert client.post(f"/admin/contacts/{contact}/edit", data=data).status_code == 303
    replayed: dict = {}
    for entry in audit_rows(engine, "contacts"):
        if entry["pk"] != contact:
            continue
        for attribute, (_, after) in entry["changes"].items():
            replayed[attribute] = after
    with engine as tx:
        row = dict(tx.fetchone(SQL("SELECT * FROM contacts WHERE id =", SQL.Param(int(contact)))))
    for attribute in ("name", "email", "phone", "role", "account_id"):
        assert replayed.get(attribute) == audit.jsonable(row[attribute]), attribute


def test_a_hook_adds_a_note_to_the_entry(site):
    app, people, engine = site
    admin = app.extensions["hyper_admin"]["hyper_admin"].admin
    contacts = admin.registry["contacts"]
    contacts.on_model_change = lambda values, obj, is_created: audit.note("Customer asked by phone")
    client = as_user(app, people["support"])
    with engine as tx:
        contact = tx.fetchscalar("SELECT id AS v FROM contacts ORDER BY id LIMIT 1")
    data = form_data(client.get(f"/admin/contacts/{contact}/edit").get_data(as_text=True))
    data["role"] = "Head of noted changes"
    assert client.post(f"/admin/contacts/{contact}/edit", data=data).status_code == 303
    (entry,) = audit_rows(engine, "contacts")
    assert entry["note"] == "Customer asked by phone"
    assert "Customer asked by phone" in client.get(f"/admin/contacts/{contact}/history").get_data(as_text=True)


def test_revert_a_change_then_restore_a_deleted_row(site):
    app, people, engine = site
    client = as_user(app, people["support"])
    with engine as tx:
        contact = tx.fetchscalar("SELECT id AS v FROM contacts ORDER BY id LIMIT 1")
        original = dict(tx.fetchone(SQL("SELECT * FROM contacts WHERE id =", SQL.Param(contact))))
    data = form_data(client.get(f"/admin/contacts/{contact}/edit").get_data(as_text=True))
    data.update(name="Changed Name", role="Temporary")
    assert client.post(f"/admin/contacts/{contact}/edit", data=data).status_code == 303
    change = audit_rows(engine, "contacts")[-1]
    # Someone changes the role again: the revert sets the name back and leaves the role.
    data = form_data(client.get(f"/admin/contacts/{contact}/edit").get_data(as_text=True))
    data["role"] = "Later role"
    assert client.post(f"/admin/contacts/{contact}/edit", data=data).status_code == 303

    history = client.get(f"/admin/contacts/{contact}/history").get_data(as_text=True)
    revert_url = f"/admin/contacts/{contact}/history/{change['id']}/revert"
    assert revert_url in history
    preview = client.get(revert_url).get_data(as_text=True)
    assert "Changed Name" in preview and original["name"] in preview
    assert "Changed again since" in preview and "Later role" in preview
    token = csrf_from(preview)
    assert client.post(revert_url, data={"csrf_token": token}).status_code == 303
    with engine as tx:
        row = dict(tx.fetchone(SQL("SELECT * FROM contacts WHERE id =", SQL.Param(contact))))
    assert row["name"] == original["name"] and row["role"] == "Later role"
    reverted = audit_rows(engine, "contacts")[-1]
    assert reverted["action"] == "revert" and reverted["changes"] == {"name": ["Changed Name", original["name"]]}
    assert reverted["note"] == f"Reverts change #{change['id']}"
    # Viewers may read the history, not revert.
    viewer = as_user(app, people["viewer"])
    assert viewer.get(revert_url).status_code == 403

    # Delete, then restore from the delete entry: the same row, key and values.
    token = csrf_from(client.get(f"/admin/contacts/{contact}/delete").get_data(as_text=True))
    assert client.post(f"/admin/contacts/{contact}/delete", data={"csrf_token": token}).status_code == 303
    deleted = audit_rows(engine, "contacts")[-1]
    history = client.get(f"/admin/contacts/{contact}/history").get_data(as_text=True)
    restore_url = f"/admin/contacts/{contact}/history/{deleted['id']}/restore"
    assert restore_url in history
    assert client.post(restore_url, data={"csrf_token": token}).status_code == 303
    with engine as tx:
        back = dict(tx.fetchone(SQL("SELECT * FROM contacts WHERE id =", SQL.Param(contact))))
    assert back == row
    assert audit_rows(engine, "contacts")[-1]["action"] == "restore"
    # Restoring twice: the key is taken, nothing happens.
    client.post(restore_url, data={"csrf_token": token})
    assert audit_rows(engine, "contacts")[-1]["action"] == "restore"
    with engine as tx:
        assert tx.fetchscalar(SQL("SELECT count(*) AS v FROM contacts WHERE id =", SQL.Param(contact))) == 1


def test_the_audit_trail_is_a_read_only_list_for_superusers(site):
    app, people, engine = site
    support, admin = as_user(app, people["support"]), as_user(app, people["admin"])
    with engine as tx:
        orders = [r["id"] for r in tx.fetchall("SELECT id FROM orders WHERE status <> 'paid' ORDER BY id LIMIT 3")]
    token = csrf_from(support.get("/admin/orders/").get_data(as_text=True))
    assert support.post("/admin/orders/action", data={
        "action": "mark_paid", "pk": [str(i) for i in orders], "confirmed": "1",
        "csrf_token": token}).status_code == 303
    # Superusers only (Admin(audit_roles=...) opens it to more roles).
    assert support.get("/admin/audit/").status_code == 403
    assert "/admin/audit/" not in support.get("/admin/").get_data(as_text=True)
    page = admin.get("/admin/audit/").get_data(as_text=True)
    # An entry's action by its label, its model by name, as the rest of the admin says them.
    assert "Audit entries" in page and page.count("Mark as paid") >= 3
    assert "<td>Orders</td>" in page and "action:mark_paid" not in page
    assert f"/admin/orders/{orders[0]}/history" in page
    # The list machinery: filters, search, export.
    filtered = admin.get("/admin/audit/?model_slug__contains=orders&action__contains=mark").get_data(as_text=True)
    assert filtered.count("Mark as paid") >= 3
    assert "Mark as paid" not in admin.get("/admin/audit/?action__contains=nothing-like-it").get_data(as_text=True)
    searched = admin.get(f"/admin/audit/?q=%3D{orders[1]}").get_data(as_text=True)
    assert f"/admin/orders/{orders[1]}/history" in searched and f"/admin/orders/{orders[0]}/history" not in searched
    export = admin.get("/admin/audit/export?format=csv&model_slug__contains=orders")
    assert export.status_code == 200 and export.get_data(as_text=True).count("action:mark_paid") == 3
    # Read only, even for a superuser.
    entry = audit_rows(engine, "orders")[0]["id"]
    assert admin.get(f"/admin/audit/{entry}/").status_code == 200
    assert admin.get(f"/admin/audit/{entry}/edit").status_code == 403
    assert admin.get("/admin/audit/new").status_code == 403
    token = csrf_from(admin.get("/admin/audit/").get_data(as_text=True))
    assert admin.post(f"/admin/audit/{entry}/delete", data={"csrf_token": token}).status_code == 403
    assert admin.post("/admin/audit/action", data={"action": "delete", "pk": str(entry),
                                                    "csrf_token": token}).status_code == 403


def test_a_failing_trigger_leaves_row_and_audit_unchanged(site, engine):
    """Failure injection: the database refuses the UPDATE from a trigger. The page says so in
    the admin's layout without SQL or a traceback; neither the row nor the trail changed."""
    app, people, engine = site
    from hyper_admin.sqlorm_compat import is_postgresql

    with engine as tx:
        if is_postgresql(engine):
            tx.execute("CREATE FUNCTION refuse_boom() RETURNS trigger AS $$ BEGIN "
                       "IF NEW.name = 'BOOM' THEN RAISE EXCEPTION 'secret internal detail'; END IF; "
                       "RETURN NEW; END $$ LANGUAGE plpgsql")
            tx.execute("CREATE TRIGGER contacts_boom BEFORE UPDATE ON contacts "
                       "FOR EACH ROW EXECUTE FUNCTION refuse_boom()")
        else:
            tx.execute("CREATE TRIGGER contacts_boom BEFORE UPDATE ON contacts "
                       "WHEN NEW.name = 'BOOM' BEGIN SELECT RAISE(ABORT, 'secret internal detail'); END")
        contact = tx.fetchscalar("SELECT id AS v FROM contacts ORDER BY id LIMIT 1")
        before = dict(tx.fetchone(SQL("SELECT * FROM contacts WHERE id =", SQL.Param(contact))))
    client = as_user(app, people["support"])
    data = form_data(client.get(f"/admin/contacts/{contact}/edit").get_data(as_text=True))
    data["name"] = "BOOM"
    response = client.post(f"/admin/contacts/{contact}/edit", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code in (409, 500)
    assert "secret internal detail" not in page and "Traceback" not in page and "UPDATE" not in page
    assert 'id="main"' in page  # in the admin's layout
    with engine as tx:
        after = dict(tx.fetchone(SQL("SELECT * FROM contacts WHERE id =", SQL.Param(contact))))
    assert after == before
    assert audit_rows(engine, "contacts") == []


def test_a_database_error_mid_write_is_a_clear_500_with_nothing_written(site, caplog):
    app, people, engine = site
    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production: the 500 page, not a raise
    admin = app.extensions["hyper_admin"]["hyper_admin"].admin
    contacts = admin.registry["contacts"]

    def broken_hook(values, obj, is_created):
        with engine as tx:
            tx.execute("UPDATE contacts SET role = 'half-written' WHERE id = %d" % obj.id)
            tx.execute("SELECT * FROM no_such_table_for_this_test")

    contacts.on_model_change = broken_hook
    client = as_user(app, people["support"])
    with engine as tx:
        contact = tx.fetchscalar("SELECT id AS v FROM contacts ORDER BY id LIMIT 1")
        before = dict(tx.fetchone(SQL("SELECT * FROM contacts WHERE id =", SQL.Param(contact))))
    data = form_data(client.get(f"/admin/contacts/{contact}/edit").get_data(as_text=True))
    data["name"] = "Never saved"
    response = client.post(f"/admin/contacts/{contact}/edit", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Something went wrong" in page and 'id="main"' in page
    assert "no_such_table" not in page and "Traceback" not in page
    assert any("no_such_table" in (r.exc_text or "") or "no_such_table" in str(r.exc_info)
               for r in caplog.records)  # logged server-side
    with engine as tx:
        assert dict(tx.fetchone(SQL("SELECT * FROM contacts WHERE id =", SQL.Param(contact)))) == before
    assert audit_rows(engine, "contacts") == []
