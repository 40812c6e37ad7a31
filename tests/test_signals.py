"""What an application hears about the admin's writes (docs/hooks.md): the signals of
hyper_admin.signals, sent inside each change's transaction, and the ModelAdmin hooks around
deletes; on SQLite and PostgreSQL."""

import contextlib

import pytest
from sqlorm import SQL
from wtforms import ValidationError

from apps import Customer, create_app, create_schema, members
from hyper_admin import ModelAdmin, action
from hyper_admin.signals import action_performed, model_changed, model_deleted
from hyper_admin.testing import AdminClient


class CustomerAdmin(ModelAdmin):
    actions = ["shout"]
    deleted: list = []
    refuse_delete = False

    @action("Shout")
    def shout(self, objects, user):
        with self.engine as tx:
            for obj in objects:
                tx.execute(SQL("UPDATE customers SET name = upper(name) WHERE id =", SQL.Param(obj.id)))
        return f"{len(objects)} shouted"

    def after_model_delete(self, obj):
        type(self).deleted.append(obj.id)
        if type(self).refuse_delete:
            raise ValidationError("kept by after_model_delete")


@pytest.fixture
def site(engine):
    create_schema(engine)
    with engine:
        ids = [Customer.create(name=n, email=f"{n}@example.com").id for n in ("ada", "bob", "cy")]
    app, admin = create_app(engine, register=False)
    CustomerAdmin.engine, CustomerAdmin.deleted, CustomerAdmin.refuse_delete = engine, [], False
    admin.register(Customer, CustomerAdmin)
    client = AdminClient(app).login_as(members(engine)["root"])
    return app, client, engine, ids


@contextlib.contextmanager
def heard(app, *signals):
    """Every send of ``signals`` by ``app``: a list of (signal name, keyword arguments)."""
    events = []
    receivers = {s: (lambda s: lambda sender, **kw: events.append((s.name, kw)))(s) for s in signals}
    with contextlib.ExitStack() as stack:
        for signal, receiver in receivers.items():
            stack.enter_context(signal.connected_to(receiver, sender=app))
        yield events


def names(engine):
    with engine as tx:
        return {r["id"]: r["name"] for r in tx.fetchall("SELECT id, name FROM customers")}


def test_create_and_edit_send_model_changed(site):
    app, client, engine, ids = site
    with heard(app, model_changed, model_deleted) as events:
        created = client.create(Customer, name="dee", email="dee@example.com")
        edited = client.edit(Customer, ids[0], name="ada lovelace")
    assert created.ok and edited.ok
    (first, create), (second, update) = events
    assert first == second == "hyper-admin-model-changed"
    assert create["action"] == "create" and create["created"] is True and create["before"] is None
    assert create["pk"] == (int(created.pk),) and create["after"]["name"] == "dee"
    assert create["model_admin"].model is Customer and create["user"].username == "root"
    assert update["action"] == "update" and update["created"] is False
    assert update["pk"] == (ids[0],)
    assert (update["before"]["name"], update["after"]["name"]) == ("ada", "ada lovelace")


def test_a_save_that_changes_nothing_sends_nothing(site):
    app, client, _, ids = site
    with heard(app, model_changed) as events:
        assert client.edit(Customer, ids[0]).ok
    assert events == []


def test_delete_sends_model_deleted_and_calls_after_model_delete(site):
    app, client, engine, ids = site
    with heard(app, model_changed, model_deleted) as events:
        assert client.delete(Customer, ids[1]).status_code == 303
    [(name, kw)] = events
    assert name == "hyper-admin-model-deleted"
    assert kw["pk"] == (ids[1],) and kw["action"] == "delete" and kw["before"]["name"] == "bob"
    assert CustomerAdmin.deleted == [ids[1]]
    assert ids[1] not in names(engine)


def test_bulk_delete_sends_one_model_deleted_per_row_then_action_performed(site):
    app, client, engine, ids = site
    with heard(app, model_deleted, action_performed) as events:
        assert client.action(Customer, "delete", ids[:2]).status_code == 303
    assert [n for n, _ in events] == ["hyper-admin-model-deleted"] * 2 + ["hyper-admin-action-performed"]
    assert {kw["pk"] for _, kw in events[:2]} == {(ids[0],), (ids[1],)}
    done = events[2][1]
    assert done["name"] == "delete" and sorted(done["pks"]) == [(ids[0],), (ids[1],)]
    assert done["message"] == "2 customers deleted."
    assert sorted(CustomerAdmin.deleted) == sorted(ids[:2])


def test_a_custom_action_sends_the_rows_it_changed_and_action_performed(site):
    app, client, engine, ids = site
    with heard(app, model_changed, action_performed) as events:
        assert client.action(Customer, "shout", [ids[2]]).status_code == 303
    assert [n for n, _ in events] == ["hyper-admin-model-changed", "hyper-admin-action-performed"]
    changed, done = events[0][1], events[1][1]
    assert changed["action"] == "action:shout" and changed["after"]["name"] == "CY"
    assert done["name"] == "shout" and done["pks"] == [(ids[2],)] and done["message"] == "1 shouted"
    assert names(engine)[ids[2]] == "CY"


def test_a_receiver_that_refuses_rolls_the_change_back(site):
    app, client, engine, ids = site

    def refuse(sender, **kw):
        raise ValidationError("not today")

    with model_changed.connected_to(refuse, sender=app):
        refused = client.edit(Customer, ids[0], name="changed")
        assert refused.status == 422 and "not today" in refused.html
    with model_deleted.connected_to(refuse, sender=app):
        assert client.delete(Customer, ids[0]).status_code == 409
    assert names(engine)[ids[0]] == "ada"


def test_after_model_delete_refusing_keeps_the_rows(site):
    _, client, engine, ids = site
    CustomerAdmin.refuse_delete = True
    assert client.delete(Customer, ids[0]).status_code == 409
    assert client.action(Customer, "delete", ids).status_code == 303  # with an error toast
    assert set(names(engine)) == set(ids)


def test_signals_of_another_app_are_not_heard(site, engine):
    app, client, _, ids = site
    other, _ = create_app(engine, register=False)
    with heard(other, model_changed) as events:
        assert client.edit(Customer, ids[0], name="x").ok
    assert events == []
