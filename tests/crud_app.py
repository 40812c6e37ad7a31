"""An admin over the demo's schema (accounts, orders, tickets...) for the CRUD tests."""

from flask import Flask
from flask_login import LoginManager
from sqlorm import SQL

from hyper_admin import Admin, ModelAdmin
from hyper_admin.demo.models import (Account, Contact, Order, OrderLine, Product, StaffUser,
                                     Ticket, TicketComment)
from hyper_admin.options import action
from demo_db import NOW, copy_seeded  # noqa: F401  (NOW: the seed's clock, for tests)


def seeded(engine, rows: int = 60) -> None:
    """The demo's tables and ``rows`` orders (and all around them) in ``engine``'s database:
    a copy of the process's template (tests/demo_db.py), the same rows as ``seed()`` writes."""
    copy_seeded(engine, rows)


def staff(engine) -> dict[str, StaffUser]:
    with engine:
        return {u.username: u for u in StaffUser.find_all().all()}


class OrderAdmin(ModelAdmin):
    list_display = ["reference", "account", "status", "total", "created_at"]
    search_fields = ["reference", "account.name"]
    list_filter = ["status", "created_at", "total", "shipped_at"]
    date_hierarchy = "created_at"
    ordering = ["-created_at"]
    readonly_fields = ["created_at"]
    inlines = [OrderLine, Ticket]
    permissions = {"view": {"support", "viewer"}, "change": {"support"}, "export": {"support"},
                   "mark_paid": {"support"}}
    actions = ["mark_paid"]

    @action("Mark as paid", confirm="Mark {count} orders as paid?")
    def mark_paid(self, objects, user):
        with self.admin_engine as tx:
            for order in objects:
                tx.execute(SQL("UPDATE orders SET status = 'paid' WHERE id =", SQL.Param(order.id)))
        return f"{len(objects)} orders marked as paid"


class TicketAdmin(ModelAdmin):
    list_display = ["id", "subject", "account", "status", "priority", "assignee"]
    list_filter = ["status", "priority"]
    permissions = {"view": {"support", "viewer"}, "add": {"support"}, "change": {"support"},
                   "delete": {"support"}}

    def scope(self, user):
        # Support agents of the demo see tickets of EU accounts only.
        if "admin" in user.roles:
            return None
        return SQL("tickets.account_id IN (SELECT id FROM accounts WHERE region =", SQL.Param("eu"), ")")


def create_app(engine, **admin_options) -> tuple[Flask, Admin]:
    app = Flask(__name__)
    app.config.update(SECRET_KEY="crud-secret", TESTING=True)
    login = LoginManager(app)

    @login.user_loader
    def load(user_id):
        with engine:
            return StaffUser.get(int(user_id))

    admin = Admin(app, engine=engine, access_roles={"support", "viewer"}, **admin_options)
    admin.register(Account, permissions={"view": {"support", "viewer"}, "add": {"support"},
                                         "change": {"support"}})
    admin.register(Contact, permissions={"view": {"support"}, "add": {"support"},
                                         "change": {"support"}, "delete": {"support"}})
    admin.register(Product, permissions={"view": {"support", "viewer"}})
    OrderAdmin.admin_engine = engine
    admin.register(Order, OrderAdmin)
    admin.register(OrderLine, permissions={"view": {"support"}})
    admin.register(Ticket, TicketAdmin)
    admin.register(TicketComment, permissions={"view": {"support"}, "delete": {"support"}})
    admin.register(StaffUser)
    return app, admin
