"""Flask-Admin on the demo database, for comparison (bench-only dependency, see requirements.txt).

SQLAlchemy models mirror the demo's ``accounts`` and ``orders`` tables (no DDL is run: the tables
are the ones hyper_admin's demo seeded). ``Order.account`` is a many-to-one relationship, so the
list shows the account (``Account.__str__``) and the edit form offers every account in a select.

ModelView settings are Flask-Admin's defaults except ``column_list`` (the columns hyper_admin's
order list shows), ``column_filters = ["status"]`` and ``page_size = 50`` (default 20: the bench
compares the same 50 rows everywhere).
"""

from __future__ import annotations

import datetime as dt
import decimal

from flask import Flask
from flask_admin import Admin
from flask_admin.contrib.sqla import ModelView
from flask_admin.contrib.sqla.filters import FilterEqual
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import BigInteger, Boolean, DateTime, ForeignKey, Numeric, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

PAGE_SIZE = 50


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)


class Account(db.Model):
    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    plan: Mapped[str] = mapped_column(String(20))
    region: Mapped[str] = mapped_column(String(10))
    is_active: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    notes: Mapped[str | None] = mapped_column(Text, nullable=True)

    def __str__(self):
        return self.name


class Order(db.Model):
    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    account_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("accounts.id"))
    account: Mapped[Account] = relationship(Account)
    status: Mapped[str] = mapped_column(String(20))
    total: Mapped[decimal.Decimal] = mapped_column(Numeric(12, 2))
    currency: Mapped[str] = mapped_column(String(3))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime)
    shipped_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)

    def __str__(self):
        return self.reference


class OrderView(ModelView):
    column_list = ["reference", "account", "status", "total", "created_at"]
    column_filters = ["status"]
    page_size = PAGE_SIZE


class AccountView(ModelView):
    column_list = ["name", "email", "plan", "region", "is_active", "created_at"]
    page_size = PAGE_SIZE


def create_flask_admin_app(sqlalchemy_url: str, pg_schema: str | None = None) -> Flask:
    app = Flask("flask_admin_bench")
    app.config["SECRET_KEY"] = "bench-only"
    app.config["SQLALCHEMY_DATABASE_URI"] = sqlalchemy_url
    if pg_schema:
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {
            "connect_args": {"options": f"-c search_path={pg_schema}"}
        }
    db.init_app(app)
    try:  # Flask-Admin translates through flask-babel when it is installed (a test dependency)
        from flask_babel import Babel
    except ImportError:
        pass
    else:
        Babel(app)
    admin = Admin(app, name="Flask-Admin bench")
    orders = OrderView(Order, db.session, endpoint="order")
    admin.add_view(orders)
    admin.add_view(AccountView(Account, db.session, endpoint="account"))
    app.extensions["bench_order_view"] = orders
    return app


def status_filter_arg(app: Flask) -> str:
    """The query-string key of the ``status equals`` filter (``flt0_<index>``)."""
    view = app.extensions["bench_order_view"]
    with app.test_request_context():
        view._refresh_filters_cache()
        for index, flt in enumerate(view._filters):
            if isinstance(flt, FilterEqual) and flt.column.key == "status":
                return f"flt0_{view.get_filter_arg(index, flt)}"
    raise LookupError("no status equals filter")


def dispose(app: Flask) -> None:
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
