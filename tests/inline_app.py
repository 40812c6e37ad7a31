"""A site over the demo's tables for the inline tests (test_inlines_more.py and
security/test_inline_posts.py): orders with their lines as an Inline the test declares, and
the SQL helpers those tests read the database with."""

from flask import Flask
from flask_login import LoginManager

from apps import form_data
from hyper_admin import Admin, ModelAdmin
from hyper_admin.demo.models import Account, Order, OrderLine, Product, StaffUser

SUPPORT_EDIT = {"view": {"support", "viewer"}, "add": {"support"}, "change": {"support"}}
LINES_FOR_SUPPORT = {"view": {"support"}, "add": {"support"}, "change": {"support"},
                     "delete": {"support"}}


def login_app(engine, secret="inline-more") -> Flask:
    app = Flask(__name__)
    app.config.update(SECRET_KEY=secret, TESTING=True)
    login = LoginManager(app)

    @login.user_loader
    def load(user_id):
        with engine:
            return StaffUser.get(int(user_id))

    return app


def order_site(engine, *inlines, line_admin: type | None = None,
               line_permissions=LINES_FOR_SUPPORT):
    """Orders (support may add and change them) whose form carries ``inlines``."""
    app = login_app(engine)
    admin = Admin(app, engine=engine, access_roles={"admin", "support", "viewer"})
    admin.register(Account, permissions={"view": {"support", "viewer"}})
    admin.register(Product, permissions={"view": {"support", "viewer"}})

    class Orders(ModelAdmin):
        permissions = SUPPORT_EDIT
        readonly_fields = ["created_at", "updated_at"]

    Orders.inlines = list(inlines)
    admin.register(Order, Orders)
    if line_admin is not None:
        admin.register(OrderLine, line_admin)
    else:
        admin.register(OrderLine, permissions=line_permissions)
    return app, admin


def fetch(engine, sql: str) -> list[dict]:
    """Rows of a query the test wrote (its numbers put in by int())."""
    with engine as tx:
        return [dict(r) for r in tx.fetchall(sql)]


def lines_of(engine, order_id) -> list[tuple]:
    return [(r["id"], r["product_id"], r["quantity"]) for r in fetch(
        engine, "SELECT id, product_id, quantity FROM order_lines WHERE order_id = "
                f"{int(order_id)} ORDER BY id")]


def an_order(engine, lines=2, but=()) -> int:
    """An order with exactly ``lines`` lines (not one of ``but``)."""
    found = fetch(engine, "SELECT order_id FROM order_lines GROUP BY order_id "
                          f"HAVING count(*) = {int(lines)} ORDER BY order_id")
    return next(r["order_id"] for r in found if r["order_id"] not in but)


def audit_count(engine) -> int:
    try:
        return fetch(engine, "SELECT count(*) AS n FROM hyper_admin_audit")[0]["n"]
    except Exception:  # noqa: BLE001 - the admin makes its tables on its first write
        return 0


def edit_form(client, path: str) -> tuple[str, dict]:
    page = client.get(path)
    assert page.status_code == 200, page.status_code
    html = page.get_data(as_text=True)
    return html, form_data(html)
