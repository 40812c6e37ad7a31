"""Navigation groups (ModelAdmin.nav_group / nav_order, Admin(nav_groups=...), audit_nav_group):
the grouped sidebar, the dashboard's cards, the palette, permissions, the collapsed groups'
cookie and the registration checks, on SQLite and PostgreSQL over the demo schema
(tests/crud_app.py: viewer, support, admin the superuser)."""

import re

import pytest

from apps import as_user
from crud_app import OrderAdmin, TicketAdmin, create_app, staff
from demo_db import seeded_engine
from hyper_admin import Admin, ModelAdmin
from hyper_admin.demo.models import Account, Contact, Order, Product, StaffUser, Ticket
from hyper_admin.i18n import lazy_gettext
from hyper_admin.navigation import NavEntry, closed_groups, group_entries, group_key
from hyper_admin.problems import ConfigurationError
from hyper_admin.views import shell

GROUPS = [("Support", "life-buoy"), ("Sales", "shopping-cart"), ("Internal", "shield")]


@pytest.fixture
def site(request, backend):
    with seeded_engine(request) as engine:
        app, admin = create_app(engine, nav_groups=GROUPS, audit_nav_group="Internal")
        # Re-registered with their groups (each moves to the end of the registration order).
        admin.register(Account, nav_group="Sales", nav_order=2,
                       permissions={"view": {"support", "viewer"}})
        admin.register(Order, OrderAdmin, nav_group="Sales", nav_order=1)
        admin.register(Ticket, TicketAdmin, nav_group="Support", icon="ticket")
        admin.register(Product, nav_group="Catalog", permissions={"view": {"support", "viewer"}})
        admin.register(StaffUser, nav_group="Internal")
        admin.register(Contact, nav_group="Internal", permissions={"view": {"support"}})
        shell.shells.clear()
        yield app, admin, staff(engine)
        shell.shells.clear()


def nav_of(html):
    return re.search(r'<nav id="nav".*?</nav>', html, re.S).group(0)


def sidebar(html):
    """[(group key, open, [entry labels])] of the sidebar."""
    nav = nav_of(html)
    out = []
    for key, is_open, body in re.findall(
            r'<details data-nav-group="([^"]+)"( open)?.*?>(.*?)</details>', nav, re.S):
        out.append((key, bool(is_open), re.findall(r'<span class="truncate">([^<]+)</span>', body)))
    return out


def page(client, url, **headers):
    response = client.get(url, headers=headers)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def test_the_sidebar_groups_models_in_the_declared_order(site):
    app, _, people = site
    html = page(as_user(app, people["admin"]), "/admin/")
    assert sidebar(html) == [
        ("support", True, ["Tickets"]),
        ("sales", True, ["Orders", "Accounts"]),       # by nav_order, not registration
        ("internal", True, ["Staff users", "Contacts", "Audit entries"]),  # audit_nav_group
        ("catalog", True, ["Products"]),               # named but not declared: after those
        ("models", True, ["Order lines", "Ticket comments"]),  # no group: the default, last
    ]


def test_group_icons_and_labels(site):
    app, _, people = site
    nav = nav_of(page(as_user(app, people["admin"]), "/admin/"))
    summaries = dict(re.findall(r'data-nav-group="([^"]+)"[^>]*>\s*<summary[^>]*>(.*?)</summary>',
                                nav, re.S))
    assert "#life-buoy" in summaries["support"] and ">Support<" in summaries["support"]
    assert "#shopping-cart" in summaries["sales"] and "#shield" in summaries["internal"]
    assert "<svg" not in summaries["catalog"] and ">Models<" in summaries["models"]
    assert '#ticket"' in nav  # the model's own icon on its entry


def test_without_groups_the_sidebar_is_one_flat_list(request, backend):
    with seeded_engine(request) as engine:
        app, _ = create_app(engine)
        html = page(as_user(app, staff(engine)["admin"]), "/admin/")
    nav = nav_of(html)
    assert "<details" not in nav and ">Models</li>" in nav
    assert re.findall(r'<span class="truncate">([^<]+)</span>', nav)[:3] == [
        "Accounts", "Contacts", "Products"]
    assert "data-model-group" not in html  # the dashboard's cards: one list, as before


def test_permissions_hide_empty_groups(site):
    app, _, people = site
    html = page(as_user(app, people["viewer"]), "/admin/")
    groups = sidebar(html)
    # Internal holds staff users, contacts and the audit trail: none is the viewer's.
    assert [key for key, _open, _labels in groups] == ["support", "sales", "catalog"]
    assert ("sales", True, ["Orders", "Accounts"]) in groups
    assert 'data-model-group="internal"' not in html
    support = sidebar(page(as_user(app, people["support"]), "/admin/"))
    assert ("internal", True, ["Contacts"]) in support


def test_dashboard_cards_are_grouped_like_the_sidebar(site):
    app, _, people = site
    html = page(as_user(app, people["admin"]), "/admin/")
    main = html[html.index('<main id="main"'):]
    assert re.findall(r'data-model-group="([^"]+)"', main) == [
        "support", "sales", "internal", "catalog", "models"]
    sales = re.search(r'aria-labelledby="model-group-sales">(.*?)</ul>', main, re.S).group(1)
    assert re.findall(r'href="/admin/([a-z_]+)/"', sales) == ["orders", "accounts"]
    assert re.search(r'id="model-group-support"[^>]*>.*?#life-buoy.*?Support</h3>', main, re.S)


def test_the_palette_shows_each_models_group(site):
    app, _, people = site
    client = as_user(app, people["admin"])
    html = page(client, "/admin/-/palette?q=ord", **{"HX-Request": "true",
                                                      "HX-Target": "palette-results"})
    items = dict(re.findall(r'href="/admin/([a-z_]+)/"[^>]*>.*?truncate">[^<]+</span>'
                            r'<span[^>]*>([^<]+)</span>', html, re.S))
    assert items["orders"] == "Model · Sales"
    assert items["order_lines"] == "Model"  # no group
    # A group's name finds its models too.
    html = page(client, "/admin/-/palette?q=support", **{"HX-Request": "true",
                                                          "HX-Target": "palette-results"})
    assert 'href="/admin/tickets/"' in html


def test_a_collapsed_group_stays_closed_unless_it_holds_the_page(site):
    app, _, people = site
    client = as_user(app, people["admin"])
    client.set_cookie("hyper_admin_nav_closed", "sales,catalog,not-a-group", path="/admin/")
    states = {key: is_open for key, is_open, _labels in sidebar(page(client, "/admin/"))}
    assert states == {"support": True, "sales": False, "internal": True, "catalog": False,
                      "models": True}
    # The current page's group is always open, the others as the user left them.
    states = {key: is_open for key, is_open, _labels in sidebar(page(client, "/admin/orders/"))}
    assert states["sales"] is True and states["catalog"] is False
    # The same on htmx navigation (the sidebar comes out of band).
    fragment = page(client, "/admin/products/", **{"HX-Request": "true"})
    assert 'id="nav"' in fragment and 'hx-swap-oob="true"' in nav_of(fragment)
    states = {key: is_open for key, is_open, _labels in sidebar(fragment)}
    assert states["catalog"] is True and states["sales"] is False
    # The cached shell keys on the cookie: another state is another sidebar.
    client.set_cookie("hyper_admin_nav_closed", "", path="/admin/")
    states = {key: is_open for key, is_open, _labels in sidebar(page(client, "/admin/"))}
    assert all(states.values())


def test_the_sidebar_marks_the_current_page_in_its_group(site):
    app, _, people = site
    nav = nav_of(page(as_user(app, people["admin"]), "/admin/accounts/"))
    sales = re.search(r'data-nav-group="sales"(.*?)</details>', nav, re.S)
    assert "data-nav-active" in sales.group(0)
    assert re.search(r'href="/admin/accounts/" aria-current="page"', sales.group(1))
    assert nav.count('aria-current="page"') == 1


def test_query_views_take_a_group(site):
    app, admin, people = site
    admin.register_query("big_orders", "SELECT id, reference, total FROM orders WHERE total > 100",
                         columns={"id": int, "reference": str, "total": float},
                         nav_group="Sales", nav_order=3, icon="trending-up")
    groups = sidebar(page(as_user(app, people["admin"]), "/admin/"))
    assert ("sales", True, ["Orders", "Accounts", "Big orders"]) in groups


def test_the_navigation_of_a_page_has_the_nav_script():
    from hyper_admin.paths import STATIC_DIR

    script = (STATIC_DIR / "nav_groups.js").read_text()
    assert "hyper_admin_nav_closed" in script and "toggle" in script


# --- registration checks ------------------------------------------------------------------


@pytest.mark.parametrize("options", [
    {"nav_group": 5}, {"nav_group": ["Sales"]}, {"nav_order": "1"}, {"nav_order": True},
    {"nav_order": 1.5}, {"icon": 3},
])
def test_a_wrong_type_fails_at_registration(options):
    admin = Admin()
    with pytest.raises(ConfigurationError) as raised:
        admin.register(Account, **options)
    assert raised.value.id == "hyper_admin.E041"
    assert "Account" not in {type(ma.model).__name__ for ma in admin.registry.values()}
    assert admin.registry == {}


@pytest.mark.parametrize("nav_groups", [
    "Sales", [("Sales", 3)], [5], [("Sales", "x", "y")], [("Sales", "a"), ("sales", "b")],
])
def test_a_wrong_nav_groups_fails_when_the_admin_is_made(nav_groups):
    with pytest.raises(ConfigurationError) as raised:
        Admin(nav_groups=nav_groups)
    assert raised.value.id == "hyper_admin.E041"


def test_a_query_views_group_is_checked_too():
    with pytest.raises(ConfigurationError) as raised:
        Admin().register_query("late", "SELECT 1 AS id", columns={"id": int}, nav_group=("Sales",))
    assert raised.value.id == "hyper_admin.E041"


def test_audit_nav_group_must_be_a_label():
    with pytest.raises(ConfigurationError):
        Admin(audit_nav_group=3)


def test_the_subclass_form_is_checked_too():
    class Wrong(ModelAdmin):
        nav_order = "first"

    with pytest.raises(ConfigurationError, match="nav_order"):
        Admin().register(Order, Wrong)


def test_good_declarations_are_accepted():
    admin = Admin(nav_groups=["Sales", ("Support", "life-buoy"), [lazy_gettext("Billing")]])
    assert [label for label, _icon in admin.nav_groups][:2] == ["Sales", "Support"]
    admin.register(Account, nav_group=lazy_gettext("Sales"), nav_order=-1)
    assert admin.model_admin(Account).nav_order == -1


# --- group_entries (no database) ----------------------------------------------------------


def entry(label, group=None, order=0, active=False):
    return NavEntry(label=label, url=f"/{label}", icon="table", table=label.lower(),
                    group=group, order=order, active=active)


def test_group_entries_orders_groups_and_entries():
    groups = group_entries(
        [entry("A"), entry("B", "Y", 5), entry("C", "X"), entry("D", "Y", 5), entry("E", "Y", -1),
         entry("F", "Z")],
        [("X", "x-icon"), ("Y", None), ("Unused", "u")])
    assert [(g.label, g.icon, [e.label for e in g.entries]) for g in groups] == [
        ("X", "x-icon", ["C"]), ("Y", None, ["E", "B", "D"]), ("Z", None, ["F"]),
        ("Models", None, ["A"])]
    assert groups[-1].default and not groups[0].default


def test_group_entries_keeps_the_active_group_open():
    groups = group_entries([entry("A", "X", active=True), entry("B", "Y")], closed={"x", "y"})
    assert [(g.key, g.open, g.active) for g in groups] == [("x", True, True), ("y", False, False)]


def test_group_keys_do_not_depend_on_the_language():
    assert group_key(lazy_gettext("Sales")) == "sales"
    assert group_key("Après-vente & co") == "apr-s-vente-co"
    assert closed_groups("a,b-c,../x,,UPPER," + "z" * 81) == {"a", "b-c"}
    assert closed_groups(None) == frozenset()


def test_pages_of_the_admin_join_the_groups_by_label(site):
    app, admin, people = site

    @admin.page("/reports/sales", title="Sales report", group="Sales", icon="activity")
    def sales_report(page):
        return "report"

    @admin.page("/reports/other", title="Other report")
    def other_report(page):
        return "other"

    groups = sidebar(page(as_user(app, people["admin"]), "/admin/"))
    # nav_order 0 (a page's): before Orders (1) and Accounts (2).
    assert ("sales", True, ["Sales report", "Orders", "Accounts"]) in groups
    # Without a group: a "Pages" group of their own, before the default group (always last).
    assert [key for key, _open, _labels in groups][-2:] == ["pages", "models"]
    assert ("pages", True, ["Other report"]) in groups
