"""A row's menu in the list (GET /admin/<slug>/<pk>/menu, views/row_menu.py): which lists get
one, what it offers each user on each row (its pages, the model's actions, edit, delete), where
an action chosen in it goes back to, its answers outside the user's scope, its page without
htmx, and the name it takes from row pages (hyper_admin.E034)."""

import re

import pytest

from apps import as_user, csrf_from
from crud_app import OrderAdmin, create_app, seeded, staff
from hyper_admin.demo.models import Order, Ticket
from hyper_admin.demo.pages import register_pages
from hyper_admin.problems import ConfigurationError

HTMX = {"HX-Request": "true", "HX-Target": "row-menu"}


def one(engine, sql):
    with engine as tx:
        return tx.fetchscalar(sql)


@pytest.fixture
def site(engine):
    seeded(engine, rows=20)
    app, admin = create_app(engine)
    register_pages(admin, engine)  # the demo's refund page of an order
    admin.create_tables(app)
    return app, admin, staff(engine), engine


def _menu_buttons(html):
    return re.findall(r'<td class="m"><button [^>]*hx-get="([^"]+)"[^>]*>', html)


def test_a_list_with_actions_or_row_pages_has_a_menu_per_row_and_others_none(site):
    app, admin, people, engine = site
    support = as_user(app, people["support"])
    html = support.get("/admin/orders/").get_data(as_text=True)
    urls = _menu_buttons(html)
    rows = re.findall(r'name="pk" value="(\d+)[!"]', html)
    assert rows and urls == [f"/admin/orders/{pk}/menu" for pk in rows]
    assert 'popovertarget="row-menu"' in html and 'hx-target="#row-menu"' in html
    # One popover for the list, outside the bulk form (the menu holds forms of its own), and
    # a header over the menus' column.
    assert html.count('id="row-menu" popover') == 1
    assert html.index('id="row-menu"') > html.index("</form>", html.index('id="bulk-form"'))
    assert '<span class="sr-only">Actions</span></th>' in html
    # The htmx swap of the rows (a sort, a page) carries them too.
    swap = support.get("/admin/orders/?sort=total", headers={
        "HX-Request": "true", "HX-Target": "list-results"}).get_data(as_text=True)
    assert len(_menu_buttons(swap)) == len(re.findall(r'name="pk" value=', swap)) > 0
    # Tickets have neither actions nor row pages here; products neither.
    for slug in ("tickets", "products"):
        other = support.get(f"/admin/{slug}/").get_data(as_text=True)
        assert not _menu_buttons(other) and 'id="row-menu"' not in other, slug


def test_the_menu_offers_what_the_user_may_do_on_that_row(site):
    app, admin, people, engine = site
    order = one(engine, "SELECT min(id) AS v FROM orders")
    superuser = as_user(app, people["admin"])
    menu = superuser.get(f"/admin/orders/{order}/menu", headers=HTMX)
    html = menu.get_data(as_text=True)
    assert menu.status_code == 200 and "<html" not in html and "<main" not in html
    for href in (f"/admin/orders/{order}/", f"/admin/orders/{order}/edit",
                 f"/admin/orders/{order}/history", f"/admin/orders/{order}/refund",
                 f"/admin/orders/{order}/delete"):
        assert f'href="{href}"' in html, href
    assert 'data-row-action="mark_paid"' in html and f'name="pk" value="{order}"' in html
    assert 'name="action" value="mark_paid"' in html and 'name="csrf_token"' in html
    # Support may change orders and mark them paid, not refund or delete them.
    support = as_user(app, people["support"]).get(f"/admin/orders/{order}/menu", headers=HTMX)
    text = support.get_data(as_text=True)
    assert f'href="/admin/orders/{order}/edit"' in text and 'data-row-action="mark_paid"' in text
    assert "/refund" not in text and "/delete" not in text
    # The viewer: the row and its history only.
    viewer = as_user(app, people["viewer"]).get(f"/admin/orders/{order}/menu", headers=HTMX)
    text = viewer.get_data(as_text=True)
    assert f'href="/admin/orders/{order}/"' in text and f"/admin/orders/{order}/history" in text
    for absent in ("/edit", "/refund", "/delete", "data-row-action"):
        assert absent not in text, absent


def test_a_row_page_shown_only_for_the_rows_it_allows(engine):
    """A row page's permission may depend on the row: each row's menu asks for that row."""
    seeded(engine, rows=20)
    app, admin = create_app(engine)

    @admin.row_page(Order, "ship", title="Ship it", permission="ship")
    def ship(page):
        return "ship"

    order_admin = admin.model_admin(Order)
    order_admin.has_permission = lambda action, user, obj=None: (
        action != "ship" or (obj is not None and str(obj.status) == "paid"))
    admin.create_tables(app)
    people = staff(engine)
    paid = one(engine, "SELECT min(id) AS v FROM orders WHERE status = 'paid'")
    pending = one(engine, "SELECT min(id) AS v FROM orders WHERE status = 'pending'")
    client = as_user(app, people["support"])
    assert "/ship" in client.get(f"/admin/orders/{paid}/menu", headers=HTMX).get_data(as_text=True)
    assert "/ship" not in client.get(f"/admin/orders/{pending}/menu",
                                     headers=HTMX).get_data(as_text=True)


def test_an_action_chosen_in_the_menu_goes_back_to_the_list_it_was_chosen_from(site):
    app, admin, people, engine = site
    support = as_user(app, people["support"])
    order = one(engine, "SELECT min(id) AS v FROM orders WHERE status <> 'paid'")
    came_from = "http://localhost/admin/orders/?status=pending&sort=-total"
    html = support.get(f"/admin/orders/{order}/menu", headers=dict(
        HTMX, **{"HX-Current-URL": came_from})).get_data(as_text=True)
    assert 'name="next" value="/admin/orders/?status=pending&amp;sort=-total"' in html
    # Only the path is taken (htmx.HtmxDetails.current_path): never another site.
    html = support.get(f"/admin/orders/{order}/menu", headers=dict(
        HTMX, **{"HX-Current-URL": "https://evil.example/admin/orders/"})).get_data(as_text=True)
    assert 'name="next" value="/admin/orders/"' in html
    # A path outside the admin, or none: back to the row's own page instead.
    for elsewhere in ("http://localhost/account/settings", "http://localhost//evil.example/x",
                      "http://localhost/admin/../account", "javascript:alert(1)"):
        html = support.get(f"/admin/orders/{order}/menu", headers=dict(
            HTMX, **{"HX-Current-URL": elsewhere})).get_data(as_text=True)
        assert f'name="next" value="/admin/orders/{order}/"' in html, elsewhere
    # Posting the menu's form as it is: the action runs (its confirmation first), then back.
    token = csrf_from(support.get("/admin/orders/").get_data(as_text=True))
    form = {"action": "mark_paid", "pk": str(order), "csrf_token": token,
            "next": "/admin/orders/?status=pending&sort=-total"}
    confirm = support.post("/admin/orders/action", data=form)
    assert confirm.status_code == 200 and "Mark 1 orders as paid?" in confirm.get_data(as_text=True)
    done = support.post("/admin/orders/action", data=dict(form, confirmed="1"))
    assert done.status_code == 303
    assert done.headers["Location"].endswith("/admin/orders/?status=pending&sort=-total")
    assert one(engine, f"SELECT status AS v FROM orders WHERE id = {order}") == "paid"


def test_the_menu_answers_as_the_row_does(site):
    app, admin, people, engine = site
    support = as_user(app, people["support"])
    outside = one(engine, "SELECT min(id) AS v FROM tickets WHERE account_id IN "
                          "(SELECT id FROM accounts WHERE region <> 'eu')")
    inside = one(engine, "SELECT min(id) AS v FROM tickets WHERE account_id IN "
                         "(SELECT id FROM accounts WHERE region = 'eu')")
    assert support.get(f"/admin/tickets/{outside}/menu", headers=HTMX).status_code == 404
    assert support.get(f"/admin/tickets/{inside}/menu", headers=HTMX).status_code == 200
    assert support.get("/admin/orders/999999/menu", headers=HTMX).status_code == 404
    assert support.get("/admin/staff_users/1/menu", headers=HTMX).status_code == 403
    assert app.test_client().get(f"/admin/tickets/{inside}/menu").status_code == 401
    # A POST is no menu's: refused as any POST without its CSRF token, then as no page.
    assert support.post(f"/admin/tickets/{inside}/menu").status_code == 400
    token = csrf_from(support.get("/admin/tickets/").get_data(as_text=True))
    assert support.post(f"/admin/tickets/{inside}/menu",
                        data={"csrf_token": token}).status_code in (404, 405)


def test_without_htmx_the_menu_is_a_page_of_the_admin(site):
    app, admin, people, engine = site
    order = one(engine, "SELECT min(id) AS v FROM orders")
    page = as_user(app, people["support"]).get(f"/admin/orders/{order}/menu")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<html" in html and 'id="nav"' in html
    crumbs = re.search(r'aria-label="Breadcrumb".*?</nav>', html, re.S).group(0)
    assert 'href="/admin/orders/"' in crumbs and f'href="/admin/orders/{order}/"' in crumbs
    assert "Actions" in crumbs
    assert f'href="/admin/orders/{order}/edit"' in html and 'data-row-action="mark_paid"' in html
    # Its actions go back to the row's page.
    assert f'name="next" value="/admin/orders/{order}/"' in html


def test_menu_is_a_name_row_pages_may_not_take(engine):
    app, admin = create_app(engine)
    with pytest.raises(ConfigurationError, match="hyper_admin.E034"):
        admin.row_page(Ticket, "menu", title="Menu")(lambda page: "")


def test_rows_rendered_the_general_way_get_their_menu_too(engine, monkeypatch):
    """A callable column takes the list's general path (cells.render_row), not the fast one."""
    seeded(engine, rows=5)
    monkeypatch.setattr(OrderAdmin, "list_display", ["reference", "shout"])
    monkeypatch.setattr(OrderAdmin, "shout", lambda self, obj: str(obj.reference).upper(),
                        raising=False)
    app, admin = create_app(engine)
    admin.create_tables(app)
    html = as_user(app, staff(engine)["support"]).get("/admin/orders/").get_data(as_text=True)
    links = re.findall(r'href="/admin/orders/(\d+)/"', html)
    assert links and [u.split("/")[3] for u in _menu_buttons(html)] == list(dict.fromkeys(links))
    assert "ORD-0" in html and "ORD-0".upper() in html and "<td>ORD-" in html
