"""Many-to-many fields through a join table (hyper_admin.many_to_many): declared and discovered,
picked on the form within the target's scope, saved in the row's transaction and audited as one
change of the field, conflict-checked, shown as chips, filtered and exported; on SQLite and
PostgreSQL over the demo's tickets and tags."""

import csv
import io
import json
import re

import pytest
from flask import Flask
from flask_login import LoginManager
from sqlorm import SQL
from sqlorm.engine import Transaction

from crud_app import staff
from demo_db import seeded_engine
from hyper_admin import Admin, ManyToMany, ModelAdmin
from hyper_admin.checks import ConfigurationError
from hyper_admin.demo.models import Account, StaffUser, Tag, Ticket, TicketTag
from hyper_admin.testing import AdminClient

#: Tags support agents may see (TagAdmin.scope below): VIP (8) is the managers'.
VISIBLE_TAGS = (1, 2, 3, 4, 5, 6, 7)


class TagAdmin(ModelAdmin):
    permissions = {"view": {"support"}}
    ordering = ["name"]

    def scope(self, user):
        if "admin" in user.roles:
            return None
        return SQL("tags.id IN (1, 2, 3, 4, 5, 6, 7)")


class TicketAdmin(ModelAdmin):
    list_display = ["id", "subject", "status", "tags"]
    list_filter = ["status", "tags"]
    permissions = {"view": {"support"}, "add": {"support"}, "change": {"support"},
                   "export": {"support"}}
    many_to_many = {"tags": ManyToMany(TicketTag, source="ticket_id", target="tag_id", to=Tag)}


def make_app(engine, *, ticket_admin=TicketAdmin, register_join=False):
    app = Flask(__name__)
    app.config.update(SECRET_KEY="m2m-secret", TESTING=True)
    login = LoginManager(app)

    @login.user_loader
    def load(user_id):
        with engine:
            return StaffUser.get(int(user_id))

    admin = Admin(app, engine=engine, access_roles={"support", "viewer"})
    admin.register(Account, permissions={"view": {"support"}})
    admin.register(Tag, TagAdmin)
    admin.register(Ticket, ticket_admin)
    if register_join:
        admin.register(TicketTag, permissions={"view": {"support"}})
    return app, admin


@pytest.fixture
def site(request, backend):
    with seeded_engine(request, rows=100) as engine:
        app, admin = make_app(engine)
        yield app, admin, staff(engine), engine


def client(site, username="support") -> AdminClient:
    app, _admin, people, _engine = site
    return AdminClient(app).login_as(people[username])


def rows(engine, sql):
    """Rows of a query written by the test (numbers put in by int())."""
    with engine as tx:
        return [dict(r) for r in tx.fetchall(sql)]


def tags_of(engine, ticket) -> list[int]:
    return [r["tag_id"] for r in rows(engine, "SELECT tag_id FROM ticket_tags WHERE ticket_id = "
                                      f"{int(ticket)} ORDER BY tag_id")]


def tag_name(engine, tag) -> str:
    return rows(engine, f"SELECT name FROM tags WHERE id = {int(tag)}")[0]["name"]


def ticket_with_tags(engine, count=2) -> int:
    found = rows(engine, "SELECT ticket_id FROM ticket_tags WHERE tag_id < 8 GROUP BY ticket_id "
                 f"HAVING count(*) = {count} AND max(tag_id) < 8 ORDER BY ticket_id")
    return found[0]["ticket_id"]


def audit_entries(engine, pk):
    return rows(engine, "SELECT action, changes FROM hyper_admin_audit WHERE model_slug = "
                f"'tickets' AND pk = '{int(pk)}' ORDER BY id")


# --- declaration and discovery ---------------------------------------------------------------


def test_a_join_table_of_two_foreign_keys_gives_both_sides_a_field(engine):
    with seeded_engine_of(engine) as seeded:
        app, admin = make_app(seeded, ticket_admin=ModelAdmin, register_join=True)
        with app.test_request_context():
            ticket_fields = admin.model_admin(Ticket).many_to_many_fields()
            tag_fields = admin.model_admin(Tag).many_to_many_fields()
        assert list(ticket_fields) == ["tags"] and ticket_fields["tags"].discovered
        assert ticket_fields["tags"].target is Tag
        assert list(tag_fields) == ["tickets"] and tag_fields["tickets"].target is Ticket
        people = staff(seeded)
        ticket = ticket_with_tags(seeded)
        page = AdminClient(app).login_as(people["admin"]).detail("tickets", ticket)
        names = sorted(tag_name(seeded, t) for t in tags_of(seeded, ticket))
        assert page.fields["Tags"] == " ".join(names)


def test_discovery_can_be_turned_off(engine):
    class Quiet(ModelAdmin):
        discover_many_to_many = False

    class OneOff(ModelAdmin):
        many_to_many = {"tags": None}

    with seeded_engine_of(engine) as seeded:
        for ticket_admin in (Quiet, OneOff):
            app, admin = make_app(seeded, ticket_admin=ticket_admin, register_join=True)
            with app.test_request_context():
                assert admin.model_admin(Ticket).many_to_many_fields() == {}
                assert list(admin.model_admin(Tag).many_to_many_fields()) == ["tickets"]


class seeded_engine_of:
    """A seeded demo database for a test that takes the plain ``engine`` fixture's backend."""

    def __init__(self, engine):
        self.engine = engine

    def __enter__(self):
        from crud_app import seeded
        seeded(self.engine, rows=100)
        return self.engine

    def __exit__(self, *exc):
        return False


@pytest.mark.parametrize("declaration, message", [
    (ManyToMany("no_such_table"), "no sqlorm model"),
    (ManyToMany(TicketTag, source="nope", target="tag_id", to=Tag), "'nope' is no column"),
    (ManyToMany(TicketTag, source="ticket_id", target="tag_id", to=Account),
     "does not point at Account"),
    (ManyToMany(Account, to=Tag), "cannot tell the join table's source column"),
    ("tags", "is not a ManyToMany"),
])
def test_a_wrong_declaration_fails_at_registration(engine, declaration, message):
    class Wrong(ModelAdmin):
        many_to_many = {"tags": declaration}

    app = Flask(__name__)
    admin = Admin(app, engine=engine)
    with pytest.raises(ConfigurationError) as caught:
        admin.register(Ticket, Wrong)
    assert caught.value.id == "hyper_admin.E030"
    assert message in str(caught.value) and "'tags'" in str(caught.value)


def test_a_field_named_like_a_column_fails_at_registration(engine):
    class Clash(ModelAdmin):
        many_to_many = {"subject": ManyToMany(TicketTag, to=Tag)}

    with pytest.raises(ConfigurationError, match="name of a column"):
        Admin(Flask(__name__), engine=engine).register(Ticket, Clash)


def test_options_may_name_the_field_and_a_wrong_name_still_fails(engine):
    class Named(TicketAdmin):
        fields = ["subject", "account_id", "tags"]
        detail_fields = ["subject", "tags"]
        readonly_fields = ["tags"]

    Admin(Flask(__name__), engine=engine).register(Ticket, Named)  # no error

    class Typo(TicketAdmin):
        list_filter = ["tagz"]

    with pytest.raises(ConfigurationError) as caught:
        Admin(Flask(__name__), engine=engine).register(Ticket, Typo)
    assert caught.value.id == "hyper_admin.E005"


def test_the_join_columns_are_found_when_not_named(site):
    _app, admin, _people, _engine = site

    class Short(ModelAdmin):
        many_to_many = {"labels": ManyToMany("ticket_tags", to=Tag, label="Labels")}

    app2 = Flask(__name__)
    admin2 = Admin(app2, engine=site[3])
    admin2.register(Tag)
    admin2.register(Ticket, Short)
    with app2.test_request_context():
        relation = admin2.model_admin(Ticket).many_to_many_fields()["labels"]
    assert (relation.join.source.name, relation.join.target.name) == ("ticket_id", "tag_id")
    assert relation.label == "Labels"


# --- the form ----------------------------------------------------------------------------------


def test_the_edit_form_shows_the_chips_and_looks_up_labels_in_scope(site):
    _app, _admin, _people, engine = site
    agent = client(site)
    ticket = ticket_with_tags(engine)
    response, data = agent.form(f"/admin/tickets/{ticket}/edit")
    html = response.get_data(as_text=True)
    assert sorted(int(v) for v in data["tags"]) == tags_of(engine, ticket)
    assert "_m2m_version" in data
    assert 'data-m2m-picker' in html and 'hx-get="/admin/tickets/lookup/tags"' in html
    for tag in tags_of(engine, ticket):
        assert f"Remove {tag_name(engine, tag)}" in html
    options = agent.get("/admin/tickets/lookup/tags?q=").get_data(as_text=True)
    values = [int(v) for v in re.findall(r'data-value="(\d+)"', options)]
    assert sorted(values) == list(VISIBLE_TAGS)  # VIP is out of the agent's scope
    assert agent.get("/admin/tickets/lookup/nope").status_code == 404


def test_adding_and_removing_tags_in_one_save_is_one_audited_change(site):
    _app, _admin, _people, engine = site
    agent = client(site)
    ticket = ticket_with_tags(engine)
    before = tags_of(engine, ticket)
    kept, dropped = before[0], before[1]
    added = next(t for t in VISIBLE_TAGS if t not in before)
    saved = agent.edit("tickets", ticket, tags=[kept, added])
    assert saved.ok, saved.errors
    assert tags_of(engine, ticket) == sorted([kept, added])
    entries = audit_entries(engine, ticket)
    assert len(entries) == 1 and entries[0]["action"] == "update"
    changes = json.loads(entries[0]["changes"])
    assert changes == {"tags": [sorted([tag_name(engine, kept), tag_name(engine, dropped)]),
                                sorted([tag_name(engine, kept), tag_name(engine, added)])]}
    # Saving the same choice again changes nothing and records nothing.
    assert agent.edit("tickets", ticket, tags=[kept, added]).ok
    assert len(audit_entries(engine, ticket)) == 1


def test_a_column_and_the_tags_change_together(site):
    _app, _admin, _people, engine = site
    ticket = ticket_with_tags(engine)
    saved = client(site).edit("tickets", ticket, subject="Tagged and renamed", tags=[])
    assert saved.ok, saved.errors
    assert tags_of(engine, ticket) == []
    changes = json.loads(audit_entries(engine, ticket)[0]["changes"])
    assert set(changes) == {"subject", "tags"} and changes["tags"][1] == []


def test_a_ticket_is_created_with_its_tags(site):
    _app, _admin, _people, engine = site
    account = rows(engine, "SELECT min(id) AS id FROM accounts")[0]["id"]
    created = client(site).create("tickets", subject="New with tags", account_id=account,
                                  tags=[2, 5])
    assert created.ok, created.errors
    assert tags_of(engine, int(created.pk)) == [2, 5]
    entries = audit_entries(engine, created.pk)
    assert [e["action"] for e in entries] == ["create"]
    assert json.loads(entries[0]["changes"])["tags"] == [
        [], sorted([tag_name(engine, 2), tag_name(engine, 5)])]


@pytest.mark.parametrize("posted", [[8], ["999999"], ["abc"]])
def test_a_tag_outside_the_scope_or_missing_is_refused(site, posted):
    _app, _admin, _people, engine = site
    ticket = ticket_with_tags(engine)
    before = tags_of(engine, ticket)
    saved = client(site).edit("tickets", ticket, tags=[before[0], *posted])
    assert saved.status == 422
    assert saved.errors.get("tags")
    assert "VIP" not in saved.html  # the refused key's label is not told
    assert tags_of(engine, ticket) == before and audit_entries(engine, ticket) == []


def test_changing_tags_someone_changed_meanwhile_is_a_conflict(site):
    _app, _admin, _people, engine = site
    agent = client(site)
    ticket = ticket_with_tags(engine)
    before = tags_of(engine, ticket)
    path = f"/admin/tickets/{ticket}/edit"
    _response, data = agent.form(path)
    with engine as tx:  # someone else removes a tag meanwhile
        tx.execute(SQL("DELETE FROM ticket_tags WHERE ticket_id =", SQL.Param(ticket),
                       "AND tag_id =", SQL.Param(before[0])))
    data["tags"] = [str(before[0]), str(before[1]), "3" if 3 not in before else "4"]
    response = agent.post(path, data)
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "What changed meanwhile" in html
    assert tags_of(engine, ticket) == [before[1]]  # nothing written
    # The form now carries the fresh keys: saving again applies the user's choice knowingly.
    fresh = re.search(r'name="_m2m_version" value="([^"]+)"', html).group(1)
    data["_m2m_version"] = fresh
    data["_version"] = re.search(r'name="_version" value="([^"]+)"', html).group(1)
    assert agent.post(path, data).status_code == 303
    assert tags_of(engine, ticket) == sorted(int(v) for v in data["tags"])


# --- lists, detail, filters, export ------------------------------------------------------------


@pytest.mark.reads_only
def test_the_list_and_the_detail_page_show_the_labels(site):
    _app, _admin, _people, engine = site
    agent = client(site)
    ticket = ticket_with_tags(engine)
    names = sorted(tag_name(engine, t) for t in tags_of(engine, ticket))
    page = agent.list("tickets", per_page=100)
    row = page.rows[page.pks.index(str(ticket))]
    assert row["Tags"] == " ".join(names)
    assert agent.detail("tickets", ticket).fields["Tags"] == " ".join(names)


@pytest.mark.reads_only
def test_the_list_reads_the_tags_of_a_page_in_one_query_whatever_its_size(site):
    agent = client(site)
    statements = []

    def count(sender, **kw):
        if "ticket_tags" in str(kw.get("stmt", "")):
            statements.append(kw.get("stmt"))

    def n(url):
        statements.clear()
        assert agent.get(url).status_code == 200
        return len(statements)

    Transaction.before_execute.connect(count)
    try:
        small, large = n("/admin/tickets/?per_page=5"), n("/admin/tickets/?per_page=20")
    finally:
        Transaction.before_execute.disconnect(count)
    assert small == large == 1


@pytest.mark.reads_only
def test_the_filter_keeps_the_tickets_carrying_a_tag(site):
    _app, _admin, _people, engine = site
    agent = client(site)
    with_3 = {r["ticket_id"] for r in rows(engine, "SELECT ticket_id FROM ticket_tags WHERE tag_id = 3")}
    with_3_or_7 = {r["ticket_id"] for r in rows(
        engine, "SELECT ticket_id FROM ticket_tags WHERE tag_id IN (3, 7)")}
    untagged = {r["id"] for r in rows(engine, "SELECT id FROM tickets WHERE id NOT IN "
                                      "(SELECT ticket_id FROM ticket_tags)")}
    assert with_3 and with_3_or_7 > with_3 and untagged
    page = agent.list("tickets", tags=3, per_page=100)
    assert {int(pk) for pk in page.pks} == with_3 and page.count == len(with_3)
    page = agent.list("tickets", tags__in="3,7", per_page=100)
    assert {int(pk) for pk in page.pks} == with_3_or_7 and page.count == len(with_3_or_7)
    page = agent.list("tickets", tags__isnull="true", per_page=100)
    assert {int(pk) for pk in page.pks} == untagged
    assert agent.list("tickets", tags="x").status == 400


@pytest.mark.reads_only
def test_the_filter_panel_picks_a_tag_by_its_label(site):
    _app, _admin, _people, engine = site
    agent = client(site)
    html = agent.get("/admin/tickets/?tags=3").get_data(as_text=True)
    # The panel's picker asks the tags' lookup (not "is empty" only) and names the chosen one.
    assert 'hx-get="/admin/tags/lookup"' in html
    name = rows(engine, "SELECT name FROM tags WHERE id = 3")[0]["name"]
    assert re.search(r'data-fk-picker data-label="%s"' % re.escape(name), html)


@pytest.mark.reads_only
def test_the_export_writes_the_labels(site):
    _app, _admin, _people, engine = site
    agent = client(site)
    ticket = ticket_with_tags(engine)
    names = sorted(tag_name(engine, t) for t in tags_of(engine, ticket))
    body = agent.get("/admin/tickets/export?format=csv").get_data(as_text=True)
    table = list(csv.DictReader(io.StringIO(body)))
    by_id = {r["ID"]: r for r in table}
    assert by_id[str(ticket)]["Tags"] == ", ".join(names)
    items = json.loads(agent.get("/admin/tickets/export?format=json").get_data(as_text=True))
    by_key = {item["id"]: item for item in items}
    assert by_key[ticket]["tags"] == names
