"""Every ModelAdmin option and hook, one behaviour test (or a few) each, through Flask's test
client, on SQLite and PostgreSQL (the ``engine`` fixture)."""

import csv
import io
import re

import pytest
import wtforms
from markupsafe import Markup
from sqlorm import SQL
from wtforms import ValidationError

from hyper_admin import ModelAdmin
from hyper_admin.options import action, display
from options_app import (LONG_NOTES, OptChild, OptPair, OptParent, OptPlain, client_as,
                         create_app, create_schema, seed)
from test_crud import form_data, html, scalar


@pytest.fixture
def db(engine):
    create_schema(engine)
    ids = seed(engine)
    return engine, ids


def make(db, *registrations):
    engine, ids = db
    app, admin = create_app(engine, registrations)
    return app, admin, ids


def csrf(client) -> str:
    page = html(client.get("/admin/"))
    return re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)


def row_pks(page: str) -> list[str]:
    """Row keys of a list page, in order (each row links its detail page)."""
    return re.findall(r'<input type="checkbox" class="checkbox checkbox-xs" name="pk" value="([^"!]+)', page)


def detail_links(page: str, slug: str) -> list[str]:
    return re.findall(rf'href="/admin/{slug}/([^"/]+)/"', page)


def list_order(client, url: str, slug: str) -> list[str]:
    page = html(client.get(url))
    seen = []
    for pk in detail_links(page, slug):
        if pk not in seen:
            seen.append(pk)
    return seen


ALL = {"view": {"staff", "viewer"}, "add": {"staff"}, "change": {"staff"}, "delete": {"staff"},
       "export": {"staff"}}


# --- list_display ----------------------------------------------------------------------------


@display("Shouted")
def shout(obj):
    return obj.title.upper()


@display("Badge")
def badge(obj):
    return Markup('<span class="opt-badge">') + str(obj.status) + Markup("</span>")


class ChildListAdmin(ModelAdmin):
    permissions = ALL
    list_display = ["title", "parent", "parent.name", shout, "doubled", badge]

    @display("Twice the amount")
    def doubled(self, obj):
        return (obj.amount or 0) * 2


def test_list_display_columns_paths_callables_methods_and_markup(db):
    app, _, ids = make(db, (OptParent, {"permissions": ALL}), (OptChild, ChildListAdmin))
    page = html(client_as(app, "staff").get("/admin/opt_children/"))
    for header in ("Title", "Parent", "Parent name", "Shouted", "Twice the amount", "Badge"):
        assert f">{header}<" in page, header
    assert "APPLE" in page and "DAMSON" in page             # the @display callable
    assert ">60<" in page and ">80<" in page                # the method: 30*2, 40*2
    assert '<span class="opt-badge">open</span>' in page     # Markup is not escaped
    # the FK column: the parent's label, linked to its detail page
    assert f'href="/admin/opt_parents/{ids["Alpha"]}/"' in page
    # the related path column: the parent's name, plain text
    assert re.search(r"<td[^>]*>Beta</td>", page)


def test_markup_callable_output_is_trusted_but_its_inputs_are_not(db):
    engine, ids = db
    with engine as tx:
        tx.execute(SQL("UPDATE opt_children SET status =", SQL.Param("<script>x</script>"),
                       "WHERE id =", SQL.Param(ids["apple"])))
    app, _, _ = make(db, (OptParent, {"permissions": ALL}), (OptChild, ChildListAdmin))
    page = html(client_as(app, "staff").get("/admin/opt_children/"))
    assert "<script>x</script>" not in page
    assert '<span class="opt-badge">&lt;script&gt;x&lt;/script&gt;</span>' in page


def test_list_display_links(db):
    app, _, ids = make(db, (OptParent, {"permissions": ALL}),
                       (OptChild, {"permissions": ALL, "list_display": ["title", "status"],
                                   "list_display_links": ["status"]}))
    page = html(client_as(app, "staff").get("/admin/opt_children/"))
    apple = ids["apple"]
    assert re.search(rf'<a href="/admin/opt_children/{apple}/" class="r">open</a>', page)
    assert not re.search(r'<a href="/admin/opt_children/\d+/"[^>]*>apple</a>', page)
    assert re.search(r"<td[^>]*>apple</td>", page)


def test_the_first_column_links_the_row_by_default_even_a_foreign_key(db):
    """CONTRACT §6: every row links its own page through its first displayed column, even
    when that column is a foreign key (its label then links the row, not the parent)."""
    app, _, ids = make(db, (OptParent, {"permissions": ALL}),
                       (OptChild, {"permissions": ALL, "list_display": ["parent", "title"]}))
    page = html(client_as(app, "staff").get("/admin/opt_children/"))
    apple = ids["apple"]
    assert re.search(rf'<a href="/admin/opt_children/{apple}/" class="r">[^<]+</a>', page)
    assert not re.search(r'<a href="/admin/opt_children/\d+/"[^>]*>apple</a>', page)
    app, _, ids = make(db, (OptParent, {"permissions": ALL}),
                       (OptChild, {"permissions": ALL, "list_display": ["title", "parent"]}))
    page = html(client_as(app, "staff").get("/admin/opt_children/"))
    assert re.search(rf'<a href="/admin/opt_children/{ids["apple"]}/"[^>]*>apple</a>', page)
    assert re.search(r'<a href="/admin/opt_parents/\d+/"', page)  # the parent, from its column


# --- search, filters, sorting, paging ----------------------------------------------------------


def test_search_fields_with_a_related_path(db):
    app, _, ids = make(db, (OptParent, {"permissions": ALL}),
                       (OptChild, {"permissions": ALL, "list_display": ["title", "parent"],
                                   "search_fields": ["title", "parent.name"]}))
    client = client_as(app, "staff")
    found = set(row_pks(html(client.get("/admin/opt_children/?q=beta"))))
    assert found == {str(ids["damson"])}
    found = set(row_pks(html(client.get("/admin/opt_children/?q=alp"))))
    assert found == {str(ids[t]) for t in ("apple", "banana", "cherry")}
    found = set(row_pks(html(client.get("/admin/opt_children/?q=cherr"))))
    assert found == {str(ids["cherry"])}
    # status is not a search field
    assert row_pks(html(client.get("/admin/opt_children/?q=closed"))) == []


def test_default_search_is_text_columns(db):
    app, _, ids = make(db, (OptParent, {"permissions": ALL}),
                       (OptChild, {"permissions": ALL, "list_display": ["title"]}))
    found = set(row_pks(html(client_as(app, "staff").get("/admin/opt_children/?q=closed"))))
    assert found == {str(ids["cherry"])}


def test_list_filter_allows_only_listed_fields_and_foreign_keys(db):
    app, _, ids = make(db, (OptParent, {"permissions": ALL}),
                       (OptChild, {"permissions": ALL, "list_display": ["title"],
                                   "list_filter": ["status"]}))
    client = client_as(app, "staff")
    response = client.get("/admin/opt_children/?status=open")
    assert response.status_code == 200
    assert set(row_pks(html(response))) == {str(ids["apple"]), str(ids["banana"])}
    assert client.get("/admin/opt_children/?amount=10").status_code == 400
    assert client.get("/admin/opt_children/?amount__gte=10").status_code == 400
    assert client.get("/admin/opt_children/?title=apple").status_code == 400
    by_parent = client.get(f"/admin/opt_children/?parent_id={ids['Beta']}")
    assert by_parent.status_code == 200
    assert row_pks(html(by_parent)) == [str(ids["damson"])]
    assert client.get("/admin/opt_children/?parent_id=abc").status_code == 400


def test_sortable_fields_and_displayed_columns_only(db):
    app, _, ids = make(db, (OptParent, {"permissions": ALL}),
                       (OptChild, {"permissions": ALL, "list_display": ["title"],
                                   "sortable_fields": ["amount"]}))
    client = client_as(app, "staff")
    by_amount = row_pks(html(client.get("/admin/opt_children/?sort=amount")))
    assert by_amount == [str(ids[t]) for t in ("banana", "cherry", "apple", "damson")]
    desc = row_pks(html(client.get("/admin/opt_children/?sort=-amount")))
    assert desc == list(reversed(by_amount))
    by_title = row_pks(html(client.get("/admin/opt_children/?sort=-title")))
    assert by_title == [str(ids[t]) for t in ("damson", "cherry", "banana", "apple")]
    assert client.get("/admin/opt_children/?sort=status").status_code == 400
    assert client.get("/admin/opt_children/?sort=id").status_code == 200  # the primary key


def test_ordering_and_default_newest_first(db):
    app, _, ids = make(db, (OptParent, {"permissions": ALL}),
                       (OptChild, {"permissions": ALL, "list_display": ["title", "amount"],
                                   "ordering": ["amount"]}))
    client = client_as(app, "staff")
    assert row_pks(html(client.get("/admin/opt_children/"))) == [
        str(ids[t]) for t in ("banana", "cherry", "apple", "damson")]
    app2, _, _ = make(db, (OptParent, {"permissions": ALL}),
                      (OptChild, {"permissions": ALL, "list_display": ["title"]}))
    pks = [int(p) for p in row_pks(html(client_as(app2, "staff").get("/admin/opt_children/")))]
    assert pks == sorted(pks, reverse=True)


def test_per_page(db):
    app, _, ids = make(db, (OptParent, {"permissions": ALL}),
                       (OptChild, {"permissions": ALL, "list_display": ["title"], "per_page": 3}))
    client = client_as(app, "staff")
    page = html(client.get("/admin/opt_children/"))
    assert len(row_pks(page)) == 3
    next_url = re.search(r'href="([^"]+)" rel="next"', page).group(1).replace("&amp;", "&")
    rest = row_pks(html(client.get(next_url)))
    assert len(rest) == 1 and rest[0] not in row_pks(page)
    assert len(row_pks(html(client.get("/admin/opt_children/?per_page=2")))) == 2


def test_list_max_chars_truncates_with_full_text_in_title(db):
    app, _, _ = make(db, (OptParent, {"permissions": ALL, "list_display": ["name", "notes"],
                                      "list_max_chars": 20}))
    page = html(client_as(app, "staff").get("/admin/opt_parents/"))
    assert f'title="{LONG_NOTES.strip()[:2000]}' in page or f'title="{LONG_NOTES}"' in page
    cell = re.search(r'<td[^>]*title="A very long note[^"]*">([^<]*)</td>', page)
    assert cell is not None
    assert cell.group(1).endswith("…") and len(cell.group(1)) <= 20
    assert ">short<" in page  # short text untouched


# --- forms -------------------------------------------------------------------------------------


def field_names(page: str) -> list[str]:
    form = page[page.find("data-warn-unsaved"):]
    return [n for n in re.findall(r'name="([^"]+)"', form) if n not in ("csrf_token", "_version")]


def test_fields_limits_and_orders_the_form(db):
    app, _, ids = make(db, (OptParent, {"permissions": ALL, "fields": ["status", "name"]}))
    client = client_as(app, "staff")
    page = html(client.get("/admin/opt_parents/new"))
    names = field_names(page)
    assert names.index("status") < names.index("name")
    assert "website" not in names and "notes" not in names
    data = form_data(page)
    data.update({"name": "Delta", "status": "new", "website": "https://posted.example"})
    assert client.post("/admin/opt_parents/new", data=data).status_code == 303
    assert scalar(db[0], "SELECT website AS v FROM opt_parents WHERE name = 'Delta'") is None


def test_exclude_leaves_fields_out(db):
    app, _, ids = make(db, (OptParent, {"permissions": ALL, "exclude": ["website", "notes"]}))
    names = field_names(html(client_as(app, "staff").get(f"/admin/opt_parents/{ids['Alpha']}/edit")))
    assert "name" in names and "status" in names
    assert "website" not in names and "notes" not in names


def test_fieldsets_legend_description_and_order(db):
    app, _, _ = make(db, (OptParent, {"permissions": ALL, "fieldsets": [
        ("Identity", {"fields": ["name"], "description": "Who this parent is"}),
        ("Details", {"fields": ["website", "status"]}),
    ]}))
    page = html(client_as(app, "staff").get("/admin/opt_parents/new"))
    assert ">Identity</legend>" in page and ">Details</legend>" in page
    assert "Who this parent is" in page
    assert page.index("Identity") < page.index('name="name"') < page.index("Details") \
        < page.index('name="website"') < page.index('name="status"')
    assert 'name="notes"' not in page


def test_readonly_fields_shown_never_written(db):
    engine, ids = db
    app, _, _ = make(db, (OptParent, {"permissions": ALL, "readonly_fields": ["status"]}))
    client = client_as(app, "staff")
    alpha = ids["Alpha"]
    page = html(client.get(f"/admin/opt_parents/{alpha}/edit"))
    assert 'name="status"' not in page
    assert ">open<" in page  # shown
    data = form_data(page)
    data.update({"status": "hacked", "name": "Alpha 2"})
    assert client.post(f"/admin/opt_parents/{alpha}/edit", data=data).status_code == 303
    assert scalar(engine, f"SELECT status AS v FROM opt_parents WHERE id = {alpha}") == "open"
    assert scalar(engine, f"SELECT name AS v FROM opt_parents WHERE id = {alpha}") == "Alpha 2"
    # on create too
    new = form_data(html(client.get("/admin/opt_parents/new")))
    new.update({"name": "Epsilon", "status": "hacked"})
    assert client.post("/admin/opt_parents/new", data=new).status_code == 303
    assert scalar(engine, "SELECT status AS v FROM opt_parents WHERE name = 'Epsilon'") is None


def test_detail_fields(db):
    app, _, ids = make(db, (OptParent, {"permissions": ALL, "detail_fields": ["name", "status"]}))
    page = html(client_as(app, "staff").get(f"/admin/opt_parents/{ids['Alpha']}/"))
    assert "<dt" in page and ">Status</dt>" in page and ">Name</dt>" in page
    assert ">Website</dt>" not in page and ">Notes</dt>" not in page
    assert "https://example.com/alpha" not in page


def test_form_overrides(db):
    app, _, ids = make(db, (OptParent, {"permissions": ALL,
                                        "form_overrides": {"notes": wtforms.StringField}}))
    client = client_as(app, "staff")
    default = html(client_as(make(db, (OptParent, {"permissions": ALL}))[0], "staff")
                   .get(f"/admin/opt_parents/{ids['Beta']}/edit"))
    assert re.search(r'<textarea[^>]*name="notes"', default)
    page = html(client.get(f"/admin/opt_parents/{ids['Beta']}/edit"))
    assert not re.search(r'<textarea[^>]*name="notes"', page)
    assert re.search(r'<input[^>]*name="notes"[^>]*value="short"', page) or \
        re.search(r'<input[^>]*value="short"[^>]*name="notes"', page)


def test_form_args_label_and_description(db):
    app, _, _ = make(db, (OptParent, {"permissions": ALL, "form_args": {
        "name": {"label": "Full legal name", "description": "As written on the contract"}}}))
    page = html(client_as(app, "staff").get("/admin/opt_parents/new"))
    assert "Full legal name" in page
    assert "As written on the contract" in page


# --- display -----------------------------------------------------------------------------------


def test_formatters_in_list_and_detail(db):
    def euros(value, row):
        return Markup("<b class='money'>") + str(value) + Markup(" €</b>")

    app, _, ids = make(db, (OptParent, {"permissions": ALL}),
                       (OptChild, {"permissions": ALL, "list_display": ["title", "amount"],
                                   "formatters": {"amount": euros}}))
    client = client_as(app, "staff")
    assert "<b class='money'>30 €</b>" in html(client.get("/admin/opt_children/"))
    assert "<b class='money'>30 €</b>" in html(client.get(f"/admin/opt_children/{ids['apple']}/"))


def test_plain_text_formatter_is_escaped(db):
    app, _, ids = make(db, (OptParent, {"permissions": ALL}),
                       (OptChild, {"permissions": ALL, "list_display": ["title", "amount"],
                                   "formatters": {"amount": lambda v, row: f"<i>{v}</i>"}}))
    page = html(client_as(app, "staff").get("/admin/opt_children/"))
    assert "<i>30</i>" not in page and "&lt;i&gt;30&lt;/i&gt;" in page


class RoleColumnsAdmin(ModelAdmin):
    permissions = ALL

    def get_list_display(self, user):
        if "admin" in user.roles:
            return ["title", "amount", "status"]
        return ["title"]


def test_get_list_display_per_user(db):
    app, _, _ = make(db, (OptParent, {"permissions": ALL}), (OptChild, RoleColumnsAdmin))
    root = html(client_as(app, "root").get("/admin/opt_children/"))
    staff = html(client_as(app, "staff").get("/admin/opt_children/"))
    assert ">Amount<" in root and ">Status<" in root
    assert ">Amount<" not in staff and ">Status<" not in staff and ">Title<" in staff
    # what is not displayed cannot be sorted either
    assert client_as(app, "staff").get("/admin/opt_children/?sort=amount").status_code == 400
    assert client_as(app, "root").get("/admin/opt_children/?sort=amount").status_code == 200


class HideArchivedAdmin(ModelAdmin):
    permissions = ALL
    list_display = ["name", "status"]

    def base_query(self, user):
        return SQL("opt_parents.status <>", SQL.Param("archived"))


def test_base_query_hides_rows_from_lists_only(db):
    app, _, ids = make(db, (OptParent, HideArchivedAdmin))
    client = client_as(app, "staff")
    listed = set(row_pks(html(client.get("/admin/opt_parents/"))))
    assert listed == {str(ids["Alpha"]), str(ids["Beta"])}
    gamma = ids["<b>Gamma</b>"]
    assert client.get(f"/admin/opt_parents/{gamma}/").status_code == 200
    assert client.get(f"/admin/opt_parents/{gamma}/edit").status_code == 200


# --- inlines -----------------------------------------------------------------------------------


def test_inlines_list_children_with_view_all_and_add_links(db):
    app, _, ids = make(db, (OptParent, {"permissions": ALL, "inlines": [OptChild]}),
                       (OptChild, {"permissions": ALL}))
    client = client_as(app, "staff")
    alpha = ids["Alpha"]
    page = html(client.get(f"/admin/opt_parents/{alpha}/"))
    for title in ("apple", "banana", "cherry"):
        assert f"Child {title}" in page
        assert f'href="/admin/opt_children/{ids[title]}/"' in page
    assert "Child damson" not in page
    assert f'href="/admin/opt_children/?parent_id={alpha}">View all' in page
    assert f'href="/admin/opt_children/new?parent_id={alpha}"' in page
    # "View all" lists exactly this parent's children
    listed = set(row_pks(html(client.get(f"/admin/opt_children/?parent_id={alpha}"))))
    assert listed == {str(ids[t]) for t in ("apple", "banana", "cherry")}
    # "Add" presets the parent
    new = form_data(html(client.get(f"/admin/opt_children/new?parent_id={alpha}")))
    assert new["parent_id"] == str(alpha)
    new.update({"title": "elder", "status": "", "amount": ""})
    assert client.post("/admin/opt_children/new", data=new).status_code == 303
    assert scalar(db[0], "SELECT parent_id AS v FROM opt_children WHERE title = 'elder'") == alpha


def test_inline_by_slug_and_hidden_without_view_permission(db):
    app, _, ids = make(db, (OptParent, {"permissions": ALL, "inlines": ["opt_children"]}),
                       (OptChild, {"permissions": {"view": {"staff"}}}))
    alpha = ids["Alpha"]
    staff = html(client_as(app, "staff").get(f"/admin/opt_parents/{alpha}/"))
    assert "Child apple" in staff
    assert f"/admin/opt_children/new?parent_id={alpha}" not in staff  # no add permission
    viewer = html(client_as(app, "viewer").get(f"/admin/opt_parents/{alpha}/"))
    assert "Child apple" not in viewer


# --- actions and permissions -------------------------------------------------------------------


class ActionAdmin(ModelAdmin):
    permissions = {"view": {"staff", "viewer"}, "close": {"closer"}}
    list_display = ["title", "status"]
    actions = ["close"]
    calls: list = []

    @action("Close them", permission="close", confirm="Close {count} children?")
    def close(self, objects, user):
        type(self).calls.append(sorted(o.title for o in objects))
        with self.admin.engine as tx:
            for obj in objects:
                tx.execute(SQL("UPDATE opt_children SET status = 'closed' WHERE id =", SQL.Param(obj.id)))
        return f"Closed {len(objects)} <children>"


def test_action_confirms_then_runs_and_toasts(db):
    engine, ids = db
    ActionAdmin.calls = []
    app, _, _ = make(db, (OptParent, {"permissions": ALL}), (OptChild, ActionAdmin))
    client = client_as(app, "closer")
    listing = html(client.get("/admin/opt_children/"))
    assert '<option value="close">Close them</option>' in listing
    pks = [str(ids["apple"]), str(ids["banana"])]
    data = {"action": "close", "pk": pks, "csrf_token": csrf(client)}
    confirm = client.post("/admin/opt_children/action", data=data)
    assert confirm.status_code == 200
    assert "Close 2 children?" in html(confirm)
    assert ActionAdmin.calls == []
    assert scalar(engine, f"SELECT status AS v FROM opt_children WHERE id = {ids['apple']}") == "open"
    done = client.post("/admin/opt_children/action", data={**data, "confirmed": "1"})
    assert done.status_code == 303
    assert ActionAdmin.calls == [["apple", "banana"]]
    assert scalar(engine, f"SELECT count(*) AS n FROM opt_children WHERE status = 'closed'") == 3
    after = html(client.get(done.headers["Location"]))
    assert "Closed 2 &lt;children&gt;" in after and "<children>" not in after


def test_action_permission_refused_is_403(db):
    engine, ids = db
    ActionAdmin.calls = []
    app, _, _ = make(db, (OptParent, {"permissions": ALL}), (OptChild, ActionAdmin))
    client = client_as(app, "staff")
    assert "Close them" not in html(client.get("/admin/opt_children/"))
    response = client.post("/admin/opt_children/action",
                           data={"action": "close", "pk": [str(ids["apple"])], "confirmed": "1",
                                 "csrf_token": csrf(client)})
    assert response.status_code == 403
    assert ActionAdmin.calls == []


def test_permissions_map_actions_to_roles(db):
    app, _, ids = make(db, (OptParent, {"permissions": {"view": {"viewer", "staff"},
                                                        "change": {"staff"}}}))
    alpha = ids["Alpha"]
    viewer, staff = client_as(app, "viewer"), client_as(app, "staff")
    assert viewer.get("/admin/opt_parents/").status_code == 200
    assert viewer.get(f"/admin/opt_parents/{alpha}/").status_code == 200
    assert viewer.get(f"/admin/opt_parents/{alpha}/edit").status_code == 403
    assert staff.get(f"/admin/opt_parents/{alpha}/edit").status_code == 200
    assert staff.get("/admin/opt_parents/new").status_code == 403
    assert staff.get(f"/admin/opt_parents/{alpha}/delete").status_code == 403
    assert staff.get("/admin/opt_parents/export?format=csv").status_code == 403
    assert client_as(app, "root").get("/admin/opt_parents/new").status_code == 200
    # a zero-config model: superusers only
    app2, _, _ = make(db, (OptParent, {}))
    assert client_as(app2, "staff").get("/admin/opt_parents/").status_code == 403
    assert client_as(app2, "root").get("/admin/opt_parents/").status_code == 200


class ScopedChildAdmin(ModelAdmin):
    permissions = {**ALL, "close": {"staff"}}
    list_display = ["title", "status"]
    actions = ["close"]

    def scope(self, user):
        if "admin" in user.roles:
            return None
        return SQL("opt_children.status <>", SQL.Param("locked"))

    @action("Close", permission="close")
    def close(self, objects, user):
        return "closed"


def test_scope_makes_rows_outside_404_everywhere(db):
    engine, ids = db
    app, _, _ = make(db, (OptParent, {"permissions": ALL}), (OptChild, ScopedChildAdmin))
    client = client_as(app, "staff")
    damson, apple = ids["damson"], ids["apple"]
    for suffix in ("/", "/edit", "/delete"):
        assert client.get(f"/admin/opt_children/{damson}{suffix}").status_code == 404, suffix
        assert client.get(f"/admin/opt_children/{apple}{suffix}").status_code == 200, suffix
    assert client.get("/admin/opt_children/999999/").status_code == 404
    listed = row_pks(html(client.get("/admin/opt_children/")))
    assert str(damson) not in listed and str(apple) in listed
    lookup = html(client.get("/admin/opt_children/lookup?q="))
    assert f'data-value="{damson}"' not in lookup and f'data-value="{apple}"' in lookup
    assert f'data-value="{damson}"' not in html(client.get("/admin/opt_children/lookup?q=damson"))
    exported = list(csv.reader(io.StringIO(html(client.get("/admin/opt_children/export?format=csv")))))
    assert "damson" not in [c for r in exported for c in r]
    assert "apple" in [c for r in exported for c in r]
    as_json = html(client.get("/admin/opt_children/export?format=json"))
    assert "damson" not in as_json and "apple" in as_json
    token = csrf(client)
    assert client.post("/admin/opt_children/action", data={
        "action": "close", "pk": [str(damson)], "confirmed": "1", "csrf_token": token}).status_code == 404
    assert client.post(f"/admin/opt_children/{damson}/delete", data={"csrf_token": token}).status_code == 404
    data = form_data(html(client.get(f"/admin/opt_children/{apple}/edit")))
    assert client.post(f"/admin/opt_children/{damson}/edit", data=data).status_code == 404
    # bulk delete of a mix removes only the rows inside the scope
    client.post("/admin/opt_children/action", data={
        "action": "delete", "pk": [str(damson), str(ids["cherry"])], "confirmed": "1",
        "csrf_token": token})
    assert scalar(engine, f"SELECT count(*) AS n FROM opt_children WHERE id = {damson}") == 1
    assert scalar(engine, f"SELECT count(*) AS n FROM opt_children WHERE id = {ids['cherry']}") == 0
    assert client_as(app, "root").get(f"/admin/opt_children/{damson}/").status_code == 200


class LockedAdmin(ModelAdmin):
    permissions = ALL

    def has_permission(self, action, user, obj=None):
        if action in ("change", "delete") and obj is not None and obj.status == "locked":
            return False
        return super().has_permission(action, user, obj)


def test_has_permission_per_object(db):
    app, _, ids = make(db, (OptParent, LockedAdmin))
    client = client_as(app, "staff")
    beta, alpha = ids["Beta"], ids["Alpha"]
    assert client.get(f"/admin/opt_parents/{beta}/edit").status_code == 403
    assert client.get(f"/admin/opt_parents/{beta}/delete").status_code == 403
    assert client.get(f"/admin/opt_parents/{alpha}/edit").status_code == 200
    detail = html(client.get(f"/admin/opt_parents/{beta}/"))
    assert f"/admin/opt_parents/{beta}/edit" not in detail
    assert f"/admin/opt_parents/{alpha}/edit" in html(client.get(f"/admin/opt_parents/{alpha}/"))
    data = form_data(html(client.get(f"/admin/opt_parents/{alpha}/edit")))
    data["name"] = "Beta!"
    assert client.post(f"/admin/opt_parents/{beta}/edit", data=data).status_code == 403
    assert client.post(f"/admin/opt_parents/{beta}/delete", data={"csrf_token": csrf(client)}).status_code == 403
    assert scalar(db[0], f"SELECT name AS v FROM opt_parents WHERE id = {beta}") == "Beta"


# --- labels ------------------------------------------------------------------------------------


class LabelledParentAdmin(ModelAdmin):
    permissions = ALL

    def label(self, obj):
        return f"Parent «{obj.name}» ({obj.status})"


def test_label_method_everywhere(db):
    app, _, ids = make(db, (OptParent, LabelledParentAdmin),
                       (OptChild, {"permissions": ALL, "list_display": ["title", "parent"]}))
    client = client_as(app, "staff")
    alpha = ids["Alpha"]
    expected = "Parent «Alpha» (open)"
    assert expected in html(client.get("/admin/opt_children/"))            # FK cells
    detail = html(client.get(f"/admin/opt_parents/{alpha}/"))
    assert f"<title>{expected}" in detail                                   # title
    assert re.search(rf'aria-current="page"[^>]*>{re.escape(expected)}<', detail)  # breadcrumb
    assert expected in html(client.get(f"/admin/opt_children/{ids['apple']}/"))  # FK on detail
    lookup = html(client.get("/admin/opt_parents/lookup?q=alp"))
    assert f'data-label="{expected}"' in lookup
    edit = html(client.get(f"/admin/opt_children/{ids['apple']}/edit"))
    assert expected in edit                                                 # the picker's label
    assert expected in html(client.get(f"/admin/opt_parents/{alpha}/edit"))


def test_label_fallbacks_str_then_name_then_model_and_pk(db):
    app, _, ids = make(db, (OptParent, {"permissions": ALL}),
                       (OptChild, {"permissions": ALL}), (OptPlain, {"permissions": ALL}))
    client = client_as(app, "staff")
    child = html(client.get(f"/admin/opt_children/{ids['apple']}/"))
    assert "<title>Child apple" in child                  # the model's __str__
    assert ">Alpha</a>" in child                         # parent: its name column
    parent = html(client.get(f"/admin/opt_parents/{ids['Alpha']}/"))
    assert "<title>Alpha" in parent
    plain = html(client.get(f"/admin/opt_plain/{ids['plain']}/"))
    assert f"<title>Opt plain #{ids['plain']}" in plain   # <Model> #pk
    lookup = html(client.get("/admin/opt_plain/lookup?q="))
    assert f'data-label="Opt plain #{ids["plain"]}"' in lookup


# --- naming and dashboard ----------------------------------------------------------------------


def test_slug(db):
    app, _, ids = make(db, (OptParent, {"permissions": ALL, "slug": "parents"}),
                       (OptChild, {"permissions": ALL, "list_display": ["title", "parent"]}))
    client = client_as(app, "staff")
    assert client.get("/admin/parents/").status_code == 200
    assert client.get(f"/admin/parents/{ids['Alpha']}/").status_code == 200
    assert client.get("/admin/opt_parents/").status_code == 404
    assert f'href="/admin/parents/{ids["Alpha"]}/"' in html(client.get("/admin/opt_children/"))


def test_verbose_names_icon_and_description(db):
    app, _, ids = make(db, (OptChild, {"permissions": ALL, "verbose_name": "Kid",
                                       "verbose_name_plural": "Kiddos", "icon": "baby",
                                       "description": "Little rows of their parents."}),
                       (OptParent, {"permissions": ALL}))
    client = client_as(app, "staff")
    dashboard = html(client.get("/admin/"))
    assert "Kiddos" in dashboard and "#baby" in dashboard
    assert "Little rows of their parents." in dashboard
    assert "Opt parents" in dashboard and "#table" in dashboard   # defaults
    listing = html(client.get("/admin/opt_children/"))
    assert "<title>Kiddos" in listing
    assert "Add kid" in html(client.get("/admin/opt_children/new"))


# --- hooks -------------------------------------------------------------------------------------


class HookedAdmin(ModelAdmin):
    permissions = ALL
    events: list = []

    def on_model_change(self, values, obj, is_created):
        type(self).events.append(("change", dict(values), None if obj is None else obj.id, is_created))
        if values.get("name") == "Forbidden":
            raise ValidationError("Names must not be <Forbidden>")
        if "name" in values:
            values["name"] = values["name"].upper()

    def after_model_change(self, obj, is_created):
        with self.admin.engine as tx:
            exists = tx.fetchscalar(SQL("SELECT count(*) AS n FROM opt_parents WHERE id =", SQL.Param(obj.id)))
        type(self).events.append(("after", obj.id, obj.name, is_created, exists))

    def on_model_delete(self, obj):
        type(self).events.append(("delete", obj.id))
        if obj.status == "locked":
            raise ValidationError("Locked parents stay")


def test_on_model_change_adjusts_values_before_write(db):
    engine, ids = db
    HookedAdmin.events = []
    app, _, _ = make(db, (OptParent, HookedAdmin))
    client = client_as(app, "staff")
    data = form_data(html(client.get("/admin/opt_parents/new")))
    data.update({"name": "zeta", "status": "open"})
    response = client.post("/admin/opt_parents/new", data=data)
    assert response.status_code == 303
    new_id = scalar(engine, "SELECT id AS v FROM opt_parents WHERE name = 'ZETA'")
    assert new_id is not None
    assert HookedAdmin.events[0][0] == "change" and HookedAdmin.events[0][3] is True
    after = [e for e in HookedAdmin.events if e[0] == "after"]
    assert after == [("after", new_id, "ZETA", True, 1)]  # once, after the row exists
    # edit: obj is the row as it was, is_created False
    HookedAdmin.events = []
    alpha = ids["Alpha"]
    data = form_data(html(client.get(f"/admin/opt_parents/{alpha}/edit")))
    data["name"] = "alpha two"
    assert client.post(f"/admin/opt_parents/{alpha}/edit", data=data).status_code == 303
    assert scalar(engine, f"SELECT name AS v FROM opt_parents WHERE id = {alpha}") == "ALPHA TWO"
    assert [e[0] for e in HookedAdmin.events] == ["change", "after"]
    assert HookedAdmin.events[0][2] == alpha and HookedAdmin.events[0][3] is False
    assert HookedAdmin.events[1][3] is False


def test_on_model_change_validation_error_is_422_and_writes_nothing(db):
    engine, ids = db
    HookedAdmin.events = []
    app, _, _ = make(db, (OptParent, HookedAdmin))
    client = client_as(app, "staff")
    before = scalar(engine, "SELECT count(*) AS n FROM opt_parents")
    data = form_data(html(client.get("/admin/opt_parents/new")))
    data.update({"name": "Forbidden"})
    response = client.post("/admin/opt_parents/new", data=data)
    assert response.status_code == 422
    assert "Names must not be &lt;Forbidden&gt;" in html(response)
    assert scalar(engine, "SELECT count(*) AS n FROM opt_parents") == before
    assert not [e for e in HookedAdmin.events if e[0] == "after"]
    alpha = ids["Alpha"]
    data = form_data(html(client.get(f"/admin/opt_parents/{alpha}/edit")))
    data["name"] = "Forbidden"
    response = client.post(f"/admin/opt_parents/{alpha}/edit", data=data)
    assert response.status_code == 422
    assert "Names must not be &lt;Forbidden&gt;" in html(response)
    assert scalar(engine, f"SELECT name AS v FROM opt_parents WHERE id = {alpha}") == "Alpha"


def test_on_model_delete_may_refuse(db):
    engine, ids = db
    HookedAdmin.events = []
    app, _, _ = make(db, (OptParent, HookedAdmin))
    client = client_as(app, "staff")
    token = csrf(client)
    beta, gamma = ids["Beta"], ids["<b>Gamma</b>"]
    response = client.post(f"/admin/opt_parents/{beta}/delete", data={"csrf_token": token})
    assert response.status_code in (403, 409, 422)
    assert "Locked parents stay" in html(response)
    assert scalar(engine, f"SELECT count(*) AS n FROM opt_parents WHERE id = {beta}") == 1
    assert ("delete", beta) in HookedAdmin.events
    # bulk delete: refused as a whole
    client.post("/admin/opt_parents/action", data={"action": "delete", "pk": [str(beta), str(gamma)],
                                                   "confirmed": "1", "csrf_token": token})
    assert scalar(engine, f"SELECT count(*) AS n FROM opt_parents WHERE id IN ({beta}, {gamma})") == 2
    # a row the hook accepts is deleted
    assert client.post(f"/admin/opt_parents/{gamma}/delete", data={"csrf_token": token}).status_code == 303
    assert scalar(engine, f"SELECT count(*) AS n FROM opt_parents WHERE id = {gamma}") == 0


# --- escaping and links ------------------------------------------------------------------------


def test_only_http_urls_are_links(db):
    app, _, ids = make(db, (OptParent, {"permissions": ALL, "list_display": ["name", "website"]}))
    client = client_as(app, "staff")
    page = html(client.get("/admin/opt_parents/"))
    assert 'href="https://example.com/alpha"' in page
    assert 'href="http://example.org/g"' in page
    assert 'href="javascript:' not in page and "javascript:alert(1)" in page
    detail = html(client.get(f"/admin/opt_parents/{ids['Beta']}/"))
    assert 'href="javascript:' not in detail and "javascript:alert(1)" in detail
    assert 'href="https://example.com/alpha"' in html(client.get(f"/admin/opt_parents/{ids['Alpha']}/"))


def test_html_in_values_is_escaped_everywhere(db):
    engine, ids = db
    app, _, _ = make(db, (OptParent, {"permissions": ALL}),
                     (OptChild, {"permissions": ALL, "list_display": ["title", "parent", "parent.name"]}))
    client = client_as(app, "staff")
    gamma = ids["<b>Gamma</b>"]
    raw, escaped = "<b>Gamma</b>", "&lt;b&gt;Gamma&lt;/b&gt;"
    with engine as tx:
        tx.execute(SQL("UPDATE opt_children SET parent_id =", SQL.Param(gamma), "WHERE id =",
                       SQL.Param(ids["apple"])))
    pages = {
        "parent list": client.get("/admin/opt_parents/"),
        "child list (fk cell and related path)": client.get("/admin/opt_children/"),
        "detail (title, breadcrumb)": client.get(f"/admin/opt_parents/{gamma}/"),
        "edit form": client.get(f"/admin/opt_parents/{gamma}/edit"),
        "child detail (fk)": client.get(f"/admin/opt_children/{ids['apple']}/"),
        "child form (picker label)": client.get(f"/admin/opt_children/{ids['apple']}/edit"),
        "lookup": client.get("/admin/opt_parents/lookup?q=gamma"),
        "delete confirmation": client.get(f"/admin/opt_parents/{gamma}/delete"),
    }
    for what, response in pages.items():
        body = html(response)
        assert response.status_code == 200, what
        assert raw not in body, what
        assert escaped in body, what
    detail = html(pages["detail (title, breadcrumb)"])
    assert f"<title>{escaped}" in detail
    assert f'aria-current="page" class="text-base-content/80">{escaped}<' in detail
    assert f'value="{escaped}"' in html(pages["edit form"])
    # toast after a save
    data = form_data(html(pages["edit form"]))
    assert data["name"] == raw  # the browser would post the unescaped value back
    data["status"] = "open"
    saved = client.post(f"/admin/opt_parents/{gamma}/edit", data=data)
    assert saved.status_code == 303
    toast = html(client.get(saved.headers["Location"]))
    assert raw not in toast and escaped in toast and "was saved" in toast
    assert scalar(engine, f"SELECT name AS v FROM opt_parents WHERE id = {gamma}") == raw


# --- composite primary keys --------------------------------------------------------------------


def test_composite_primary_key_list_detail_edit(db):
    engine, _ = db
    app, _, _ = make(db, (OptPair, {"permissions": ALL}))
    client = client_as(app, "staff")
    listing = client.get("/admin/opt_pairs/")
    assert listing.status_code == 200
    page = html(listing)
    for key in ("1,2", "1,3", "2,2"):
        assert f'href="/admin/opt_pairs/{key}/"' in page
    detail = client.get("/admin/opt_pairs/1,3/")
    assert detail.status_code == 200 and "one-three" in html(detail)
    edit = client.get("/admin/opt_pairs/1,3/edit")
    assert edit.status_code == 200
    data = form_data(html(edit))
    data.update({"value": "changed", "a": "9", "b": "9"})
    saved = client.post("/admin/opt_pairs/1,3/edit", data=data)
    assert saved.status_code == 303
    assert saved.headers["Location"] == "/admin/opt_pairs/1,3/"
    assert scalar(engine, "SELECT value AS v FROM opt_pairs WHERE a = 1 AND b = 3") == "changed"
    assert scalar(engine, "SELECT count(*) AS n FROM opt_pairs WHERE a = 9") == 0
    assert scalar(engine, "SELECT value AS v FROM opt_pairs WHERE a = 1 AND b = 2") == "one-two"
    for bad in ("1", "1,2,3", "1,", ",2", "x,2", "1,99"):
        for suffix in ("/", "/edit", "/delete"):
            assert client.get(f"/admin/opt_pairs/{bad}{suffix}").status_code == 404, (bad, suffix)


def test_composite_primary_key_create_and_delete(db):
    engine, _ = db
    app, _, _ = make(db, (OptPair, {"permissions": ALL}))
    client = client_as(app, "staff")
    page = html(client.get("/admin/opt_pairs/new"))
    assert 'name="a"' in page and 'name="b"' in page  # a natural key is entered
    data = form_data(page)
    data.update({"a": "5", "b": "6", "value": "five-six"})
    created = client.post("/admin/opt_pairs/new", data=data)
    assert created.status_code == 303
    assert created.headers["Location"] == "/admin/opt_pairs/5,6/"
    deleted = client.post("/admin/opt_pairs/5,6/delete", data={"csrf_token": csrf(client)})
    assert deleted.status_code == 303
    assert scalar(engine, "SELECT count(*) AS n FROM opt_pairs WHERE a = 5") == 0


def test_public_display_decorator_is_not_shadowed_by_the_display_module(db):
    import hyper_admin
    from hyper_admin import options

    app, _, _ = make(db, (OptParent, {"permissions": ALL}))
    assert client_as(app, "staff").get("/admin/opt_parents/").status_code == 200
    # ``from hyper_admin import display`` is the decorator of the docs, even after the views
    # (which import the hyper_admin.cells module, once named display) are loaded.
    assert hyper_admin.display is options.display
    assert hyper_admin.action is options.action
