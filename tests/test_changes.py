"""The write service (hyper_admin.changes): an application's own code makes audited,
conflict-checked, scoped changes, and work after the commit runs only when it committed."""

import pytest
import wtforms
from sqlorm import SQL
from wtforms import ValidationError

from apps import as_user
from crud_app import OrderAdmin, TicketAdmin, create_app, seeded, staff
from hyper_admin import audit, changes as changes_module, signals
from hyper_admin.changes import Conflict, on_commit
from hyper_admin.demo.models import Account, Order, Ticket
from hyper_admin.sql import dialect_of


def audit_rows(engine, slug: str, pk) -> list[dict]:
    with engine:
        return audit.entries(engine, dialect_of(engine), admin_name="hyper_admin",
                             model_slug=slug, pk=str(pk))


def first(engine, sql: str):
    with engine as tx:
        return tx.fetchscalar(sql)


class Recorded(OrderAdmin):
    """Records what its hooks were given."""

    calls: list = []

    def after_model_change(self, obj, is_created):
        Recorded.calls.append(("after_model_change", obj.status, is_created))

    def after_commit(self, obj, action):
        Recorded.calls.append(("after_commit", obj.status, action))


@pytest.fixture
def site(engine):
    seeded(engine)
    app, admin = create_app(engine)
    admin.register(Order, Recorded)
    Recorded.calls = []
    return app, admin, staff(engine), engine


def test_an_application_changes_a_row_with_audit_hooks_and_after_commit_work(site):
    app, admin, people, engine = site
    order = first(engine, "SELECT min(id) FROM orders WHERE status = 'paid'")
    committed = []
    receiver = lambda sender, **kw: committed.append((kw["action"], kw["after"]["status"]))  # noqa: E731
    signals.change_committed.connect(receiver)
    try:
        with app.app_context():
            changes = admin.changes(Order, people["support"])
            before = changes.read((order,))
            with changes.transaction():
                audit.note("refund job #12")
                after = changes.update((order,), {"status": "refunded"}, expected=before)
                assert committed == [] and ("after_commit", "refunded", "update") not in Recorded.calls
    finally:
        signals.change_committed.disconnect(receiver)
    assert str(after["status"]) == "refunded"
    # after_model_change gets the row as saved; after_commit runs once committed.
    assert ("after_model_change", "refunded", False) in Recorded.calls
    assert Recorded.calls[-1] == ("after_commit", "refunded", "update")
    assert committed == [("update", "refunded")]
    entry = audit_rows(engine, "orders", order)[0]
    assert entry["action"] == "update" and entry["note"] == "refund job #12"
    assert entry["changes"]["status"] == ["paid", "refunded"]
    assert entry["user_label"] == people["support"].name
    # The note was that transaction's: the next change has none.
    with app.app_context():
        changes = admin.changes(Order, people["support"])
        changes.update((order,), {"currency": "USD"})
    assert audit_rows(engine, "orders", order)[0]["note"] is None


def test_a_row_changed_meanwhile_is_a_conflict_and_nothing_is_written(site):
    app, admin, people, engine = site
    order = first(engine, "SELECT min(id) FROM orders")
    with app.app_context():
        changes = admin.changes(Order, people["support"])
        before = changes.read((order,))
        with engine as tx:
            tx.execute(SQL("UPDATE orders SET currency = 'GBP' WHERE id =", SQL.Param(order)))
        with pytest.raises(Conflict):
            changes.update((order,), {"status": "cancelled"}, expected=before)
    assert first(engine, f"SELECT status FROM orders WHERE id = {order}") == str(before["status"])
    assert audit_rows(engine, "orders", order) == []
    assert not [c for c in Recorded.calls if c[0] == "after_commit"]


def test_the_users_scope_bounds_what_the_service_reads_and_writes(site):
    app, admin, people, engine = site
    outside = first(engine, "SELECT min(t.id) FROM tickets t JOIN accounts a ON a.id = t.account_id "
                            "WHERE a.region <> 'eu'")
    us_account = first(engine, "SELECT min(id) FROM accounts WHERE region <> 'eu'")
    with app.app_context():
        changes = admin.changes(Ticket, people["support"])  # TicketAdmin: EU accounts only
        assert changes.read((outside,)) is None
        with pytest.raises(Conflict):
            changes.update((outside,), {"subject": "Not mine"})
        count = first(engine, "SELECT count(*) FROM tickets")
        with pytest.raises(ValidationError):
            changes.create({"subject": "Elsewhere", "account_id": us_account,
                            "status": "open", "priority": "normal"})
        assert first(engine, "SELECT count(*) FROM tickets") == count
        # The superuser has no scope.
        assert admin.changes(Ticket, people["admin"]).read((outside,)) is not None


def test_after_commit_work_is_dropped_when_the_transaction_rolls_back(site):
    app, admin, people, engine = site
    order = first(engine, "SELECT min(id) FROM orders")
    ran = []
    with app.app_context():
        changes = admin.changes(Order, people["support"])
        with pytest.raises(RuntimeError):
            with changes.transaction():
                changes.update((order,), {"currency": "JPY"})
                on_commit(lambda: ran.append("mail"))
                raise RuntimeError("the job failed after the update")
        assert ran == [] and not [c for c in Recorded.calls if c[0] == "after_commit"]
        assert first(engine, f"SELECT currency FROM orders WHERE id = {order}") != "JPY"
        assert audit_rows(engine, "orders", order) == []
        # Outside a transaction, on_commit runs at once.
        on_commit(lambda: ran.append("now"))
    assert ran == ["now"]


def test_a_failing_after_commit_hook_is_logged_and_the_change_stays(site, caplog):
    app, admin, people, engine = site

    class Failing(OrderAdmin):
        def after_commit(self, obj, action):
            raise RuntimeError("the mail server is down")

    admin.register(Order, Failing)
    order = first(engine, "SELECT min(id) FROM orders")
    client = as_user(app, people["support"])
    from apps import form_data

    page = client.get(f"/admin/orders/{order}/edit").get_data(as_text=True)
    data = dict(form_data(page), currency="CHF")
    with caplog.at_level("ERROR", logger="hyper_admin"):
        assert client.post(f"/admin/orders/{order}/edit", data=data).status_code == 303
    assert first(engine, f"SELECT currency FROM orders WHERE id = {order}") == "CHF"
    assert any("after-commit" in r.getMessage() for r in caplog.records)


def test_the_edit_form_runs_after_commit_with_the_saved_row(site):
    app, admin, people, engine = site
    order = first(engine, "SELECT min(id) FROM orders WHERE status = 'pending'")
    client = as_user(app, people["support"])
    from apps import form_data

    page = client.get(f"/admin/orders/{order}/edit").get_data(as_text=True)
    data = dict(form_data(page), status="paid")
    assert client.post(f"/admin/orders/{order}/edit", data=data).status_code == 303
    assert ("after_model_change", "paid", False) in Recorded.calls
    assert Recorded.calls[-1] == ("after_commit", "paid", "update")


def test_a_modeladmin_brings_its_own_form_converters(site):
    app, admin, people, engine = site

    def long_text(column, ctx):
        return wtforms.TextAreaField(**ctx.kwargs())

    admin.register(Account, permissions={"view": {"support"}, "add": {"support"}},
                   form_converters={"text": long_text})
    page = as_user(app, people["support"]).get("/admin/accounts/new").get_data(as_text=True)
    assert '<textarea' in page and 'name="name"' in page
    # Other models keep the global converters.
    page = as_user(app, people["admin"]).get("/admin/contacts/new").get_data(as_text=True)
    assert '<textarea id="id_name"' not in page and 'name="name"' in page


def test_the_module_is_public():
    import hyper_admin

    assert hyper_admin.changes is changes_module
    assert TicketAdmin.after_commit is not None
