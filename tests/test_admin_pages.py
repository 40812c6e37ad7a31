"""Pages inside the admin (admin.page, admin.row_page): the layout, the navigation and the
palette, the pipeline's answers (401, 403, 404 outside scope, 400 without CSRF), the demo's
refund (422 writes nothing, a refund is audited) and customer overview, registration errors."""

import re
from pathlib import Path

import pytest
from sqlorm import SQL

from apps import as_user, csrf_from
import hyper_admin.demo
from crud_app import create_app, seeded, staff
from hyper_admin.demo.models import Order, Ticket
from hyper_admin.demo.pages import register_pages
from hyper_admin.problems import ConfigurationError

DEMO_TEMPLATES = Path(hyper_admin.demo.__file__).parent / "templates"


def one(engine, sql, *params):
    with engine as tx:
        return tx.fetchscalar(SQL(sql, *[SQL.Param(p) for p in params]) if params else sql)


@pytest.fixture
def site(engine, tmp_path):
    seeded(engine, rows=20)
    app, admin = create_app(engine)

    @admin.page("/reports/support", title="Support report", roles={"support"}, group="Reports",
                icon="activity")
    def support_report(page):
        return page.render("report.html", who=page.user.username)

    @admin.row_page(Ticket, "summary", title="Ticket summary")
    def ticket_summary(page):
        return page.render("report.html", who=page.label)

    register_pages(admin, engine)
    admin.create_tables(app)
    # The demo's own templates (its pages'), and this test's.
    app.jinja_loader.searchpath += [str(DEMO_TEMPLATES), str(_templates(tmp_path))]
    return app, admin, staff(engine), engine


def _templates(folder):
    (folder / "report.html").write_text(
        '{% extends admin_layout %}{% block content %}<p id="who">{{ who }}</p>{% endblock %}')
    return folder


def test_a_site_page_renders_in_the_layout_with_nav_and_palette_for_allowed_roles(site):
    app, admin, people, engine = site
    support = as_user(app, people["support"])
    page = support.get("/admin/reports/support")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert '<p id="who">support</p>' in html
    assert 'aria-label="Breadcrumb"' in html and ">Reports<" in html
    assert 'id="nav"' in html and 'href="/admin/reports/support" aria-current="page"' in html
    assert page.headers["X-Frame-Options"] == "DENY" and "Content-Security-Policy" in page.headers
    # An htmx navigation gets the fragment (main, the navigation out of band), as any screen.
    fragment = support.get("/admin/reports/support", headers={"HX-Request": "true"})
    text = fragment.get_data(as_text=True)
    assert "<html" not in text and '<p id="who">support</p>' in text and 'hx-swap-oob' in text
    palette = support.get("/admin/-/palette?q=support rep").get_data(as_text=True)
    assert "/admin/reports/support" in palette
    # The viewer may not open it: 403, and it is neither in the navigation nor the palette.
    viewer = as_user(app, people["viewer"])
    assert viewer.get("/admin/reports/support").status_code == 403
    assert "/admin/reports/support" not in viewer.get("/admin/").get_data(as_text=True)
    assert "/admin/reports/support" not in viewer.get(
        "/admin/-/palette?q=support").get_data(as_text=True)
    # Nobody signed in: 401 (this app has no sign-in page).
    assert app.test_client().get("/admin/reports/support").status_code == 401


def test_a_row_page_has_the_rows_breadcrumbs_and_a_button_on_its_page(site):
    app, admin, people, engine = site
    support = as_user(app, people["support"])
    account = one(engine, "SELECT min(id) AS v FROM accounts")
    page = support.get(f"/admin/accounts/{account}/overview")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    crumbs = re.search(r'aria-label="Breadcrumb".*?</nav>', html, re.S).group(0)
    assert "Dashboard" in crumbs and "/admin/accounts/" in crumbs
    assert f'/admin/accounts/{account}/' in crumbs and "Customer overview" in crumbs
    assert "Latest orders" in html and "Open tickets" in html
    detail = support.get(f"/admin/accounts/{account}/").get_data(as_text=True)
    assert f'href="/admin/accounts/{account}/overview"' in detail
    # The viewer may view accounts but the page is support's: 403, and no button.
    viewer = as_user(app, people["viewer"])
    assert viewer.get(f"/admin/accounts/{account}/overview").status_code == 403
    assert "/overview" not in viewer.get(f"/admin/accounts/{account}/").get_data(as_text=True)
    assert app.test_client().get(f"/admin/accounts/{account}/overview").status_code == 401


def test_a_row_page_outside_the_users_scope_is_404_like_the_row(site):
    app, admin, people, engine = site
    support = as_user(app, people["support"])
    outside = one(engine, "SELECT min(id) AS v FROM tickets WHERE account_id IN "
                          "(SELECT id FROM accounts WHERE region <> 'eu')")
    inside = one(engine, "SELECT min(id) AS v FROM tickets WHERE account_id IN "
                         "(SELECT id FROM accounts WHERE region = 'eu')")
    assert support.get(f"/admin/tickets/{outside}/").status_code == 404
    assert support.get(f"/admin/tickets/{outside}/summary").status_code == 404
    assert support.get(f"/admin/tickets/{inside}/summary").status_code == 200
    assert as_user(app, people["admin"]).get(f"/admin/tickets/{outside}/summary").status_code == 200
    assert support.get(f"/admin/tickets/{inside}/nothing").status_code == 404
    assert support.get("/admin/tickets/999999/summary").status_code == 404


def test_refund_validation_writes_nothing_and_a_refund_is_audited(site):
    app, admin, people, engine = site
    superuser = as_user(app, people["admin"])
    order = one(engine, "SELECT min(id) AS v FROM orders WHERE status IN "
                        "('paid', 'shipped', 'delivered')")
    total = one(engine, "SELECT total AS v FROM orders WHERE id = %d" % order)
    url = f"/admin/orders/{order}/refund"
    form = superuser.get(url)
    assert form.status_code == 200
    token = csrf_from(form.get_data(as_text=True))
    audits = one(engine, "SELECT count(*) AS v FROM hyper_admin_audit")
    # Without the CSRF token: 400 before the page runs.
    assert superuser.post(url, data={"amount": "1", "reason": "x"}).status_code == 400
    for amount in (str(total + 1), "0", "-3", "abc", ""):
        bad = superuser.post(url, data={"amount": amount, "reason": "Too much", "csrf_token": token})
        assert bad.status_code == 422, amount
        assert 'aria-invalid="true"' in bad.get_data(as_text=True)
    assert superuser.post(url, data={"amount": "1", "reason": "", "csrf_token": token}
                          ).status_code == 422
    assert one(engine, "SELECT count(*) AS v FROM hyper_admin_audit") == audits
    assert one(engine, "SELECT status AS v FROM orders WHERE id = %d" % order) != "refunded"

    done = superuser.post(url, data={"amount": "1.50", "reason": "Broken on arrival",
                                     "csrf_token": token})
    assert done.status_code == 303 and done.headers["Location"] == f"/admin/orders/{order}/"
    assert one(engine, "SELECT status AS v FROM orders WHERE id = %d" % order) == "refunded"
    with engine as tx:
        entry = tx.fetchone(SQL("SELECT * FROM hyper_admin_audit WHERE model_slug = 'orders' "
                                "AND pk =", SQL.Param(str(order)), "ORDER BY id DESC"))
    assert entry["user_id"] == str(people["admin"].id)
    assert "Refund of 1.50" in entry["note"] and "Broken on arrival" in entry["note"]
    history = superuser.get(f"/admin/orders/{order}/history").get_data(as_text=True)
    assert "Broken on arrival" in history
    # Once refunded, again is refused and writes nothing; so is a cancelled order.
    again = superuser.post(url, data={"amount": "1", "reason": "x", "csrf_token": token})
    assert again.status_code == 422
    cancelled = one(engine, "SELECT min(id) AS v FROM orders WHERE status = 'cancelled'")
    refused = superuser.post(f"/admin/orders/{cancelled}/refund",
                             data={"amount": "1", "reason": "x", "csrf_token": token})
    assert refused.status_code == 422
    assert "Only a paid, shipped or delivered order can be refunded." in refused.get_data(as_text=True)
    assert one(engine, "SELECT status AS v FROM orders WHERE id = %d" % cancelled) == "cancelled"
    # Support may view orders but not refund them (permission "refund": the superuser only).
    support = as_user(app, people["support"])
    assert support.get(url).status_code == 403
    assert "/refund" not in support.get(f"/admin/orders/{order}/").get_data(as_text=True)
    assert "/refund" in superuser.get(f"/admin/orders/{order}/").get_data(as_text=True)


def test_registration_errors_have_check_ids(site):
    app, admin, people, engine = site

    def view(page):
        return ""

    for path in ("reports", "/reports/", "/a/<int:x>", "/login", "/-/x", "/orders/x", "/audit",
                 "/static/x", "/reports/support"):
        with pytest.raises(ConfigurationError) as caught:
            admin.page(path, title="X", name=f"p{abs(hash(path))}")(view)
        assert caught.value.id == "hyper_admin.E033", path
    with pytest.raises(ConfigurationError) as caught:
        admin.page("/ok", title="X", methods=["PUT"])(view)
    assert caught.value.id == "hyper_admin.E033"
    with pytest.raises(ConfigurationError) as caught:
        admin.page("/other", title="X", name="support_report")(view)  # the name is taken
    assert caught.value.id == "hyper_admin.E033"

    class Unregistered:
        pass

    for target, name in ((Unregistered, "x"), ("nothing", "x"), (Order, "history"),
                         (Order, "edit"), (Order, "refund"), (Order, "a/b"), ("stuck", "x")):
        with pytest.raises(ConfigurationError) as caught:
            admin.row_page(target, name, title="X")(view)
        assert caught.value.id == "hyper_admin.E034", (target, name)
    assert len(admin.pages) == 1 and len(admin.row_pages) == 3


def test_a_page_registered_before_init_app_and_one_with_post(engine):
    seeded(engine, rows=5)
    from flask import Flask
    from flask_login import LoginManager

    from hyper_admin import Admin
    from hyper_admin.demo.models import StaffUser

    admin = Admin(engine=engine, access_roles={"support"})

    @admin.page("/tools/ping", title="Ping", methods=["GET", "POST"])
    def ping(page):
        return f"pong {page.method}"

    app = Flask(__name__)
    app.config.update(SECRET_KEY="k", TESTING=True)
    LoginManager(app).user_loader(lambda user_id: _load(engine, StaffUser, user_id))
    admin.init_app(app)
    client = as_user(app, staff(engine)["support"])
    assert client.get("/admin/tools/ping").get_data(as_text=True) == "pong GET"
    assert client.post("/admin/tools/ping").status_code == 400  # no CSRF token
    token = csrf_from(client.get("/admin/").get_data(as_text=True))
    assert client.post("/admin/tools/ping", data={"csrf_token": token}).get_data(
        as_text=True) == "pong POST"


def _load(engine, model, user_id):
    with engine:
        return model.get(int(user_id))
