"""Admin as a Flask extension and a registry (CONTRACT §1)."""

from __future__ import annotations

import pytest
from flask import Flask
from flask_login import LoginManager

from apps import Customer, Invoice, Member, as_user, create_app, create_schema, members
from hyper_admin import Admin, ModelAdmin


def bare_app(**config) -> Flask:
    app = Flask(__name__)
    app.config.update(SECRET_KEY="s", TESTING=True, **config)
    LoginManager(app)
    return app


def test_init_app_and_extension_state():
    admin = Admin(title="Back office")
    app = bare_app()
    admin.init_app(app)
    state = app.extensions["hyper_admin"]["hyper_admin"]
    assert state.admin is admin and state.title == "Back office"
    assert state.url_prefix == "/admin"
    assert "hyper_admin.dashboard" in app.view_functions


def test_one_admin_serves_several_apps():
    admin = Admin()
    admin.register(Customer)
    one, two = bare_app(HYPER_ADMIN_TITLE="One"), bare_app(HYPER_ADMIN_TITLE="Two")
    admin.init_app(one)
    admin.init_app(two)
    assert one.extensions["hyper_admin"]["hyper_admin"].title == "One"
    assert two.extensions["hyper_admin"]["hyper_admin"].title == "Two"


def test_config_overrides_defaults_and_arguments_override_config():
    app = bare_app(HYPER_ADMIN_TITLE="From config", HYPER_ADMIN_PER_PAGE="25",
                   HYPER_ADMIN_ACCESS_ROLES=["support"], HYPER_ADMIN_URL_PREFIX="/ops/")
    Admin(app)
    state = app.extensions["hyper_admin"]["hyper_admin_ops"]
    assert (state.title, state.per_page, state.access_roles, state.url_prefix) == (
        "From config", 25, frozenset({"support"}), "/ops")
    app2 = bare_app(HYPER_ADMIN_TITLE="From config")
    Admin(app2, title="From argument")
    assert app2.extensions["hyper_admin"]["hyper_admin"].title == "From argument"


def test_several_admins_with_different_prefixes(engine):
    create_schema(engine)
    app, _ = create_app(engine)
    Admin(app, url_prefix="/support", title="Support desk", engine=engine,
          access_roles={"support"})
    assert set(app.extensions["hyper_admin"]) == {"hyper_admin", "hyper_admin_support"}
    people = members(engine)
    agent = as_user(app, people["agent"])
    assert agent.get("/admin/").status_code == 403
    response = agent.get("/support/")
    assert response.status_code == 200
    assert "Support desk" in response.get_data(as_text=True)
    assert "/support/static/admin.css" in response.get_data(as_text=True)


def test_same_prefix_twice_is_an_error():
    app = bare_app()
    Admin(app)
    with pytest.raises(ValueError, match="already mounted"):
        Admin(app)


def test_register_with_options_and_decorator():
    admin = Admin()
    admin.register(Customer, icon="users")
    assert admin.model_admin(Customer).icon == "users"

    @admin.register(Customer)
    class CustomerAdmin(ModelAdmin):
        slug = "clients"
        icon = "building-2"

    assert isinstance(CustomerAdmin, type)  # the decorator returns the class itself
    assert isinstance(admin.model_admin(Customer), CustomerAdmin)
    assert list(admin.registry) == ["clients"]
    assert admin.model_admin("clients").verbose_name_plural == "Customers"


def test_register_rejects_unknown_options_and_slug_clashes():
    admin = Admin()
    with pytest.raises(TypeError, match="unknown ModelAdmin option"):
        admin.register(Customer, list_dispaly=["name"])
    admin.register(Customer)
    with pytest.raises(ValueError, match="taken by Customer"):
        admin.register(Invoice, slug="customers")
    with pytest.raises(TypeError, match="not a sqlorm model"):
        admin.register(dict)


def test_register_all_takes_subclasses_of_a_base():
    from sqlorm import Model

    admin = Admin()
    admin.register(Customer, icon="users")
    admin.register_all({"Customer": Customer, "Invoice": Invoice, "Member": Member})
    assert set(admin.registry) == {"customers", "invoices", "members"}
    assert admin.model_admin(Customer).icon == "users"  # kept, not replaced
    # A base with a registry of its own, as flask-sqlorm's db.Model: the process-wide Model
    # registry holds every test module's models, some with the same table names.
    import abc

    from sqlorm.model import ModelRegistry

    Base = type("Base", (Model, abc.ABC), {"__model_registry__": ModelRegistry()})

    class Shelf(Base):
        __table__ = "shelves"
        id: int

    class Bin(Base):
        __table__ = "bins"
        id: int

    other = Admin()
    other.register_all(Base)
    assert set(other.registry) == {"shelves", "bins"}


def test_dashboard_lists_only_models_the_user_may_view(engine):
    create_schema(engine)
    app, admin = create_app(engine, access_roles={"support", "viewer"})
    people = members(engine)
    root = as_user(app, people["root"]).get("/admin/").get_data(as_text=True)
    agent = as_user(app, people["agent"]).get("/admin/").get_data(as_text=True)
    reader = as_user(app, people["reader"]).get("/admin/").get_data(as_text=True)
    assert "Customers" in root and "Invoices" in root
    assert "Customers" in agent and "Invoices" in agent
    assert "Customers" in reader and "Invoices" not in reader


def test_has_permission_override_is_honoured(engine):
    create_schema(engine)
    app, admin = create_app(engine, access_roles={"support"})

    @admin.register(Invoice)
    class Nobody(ModelAdmin):
        permissions = {"view": {"support"}}

        def has_permission(self, action, user, obj=None):
            return False

    html = as_user(app, members(engine)["agent"]).get("/admin/").get_data(as_text=True)
    assert "Customers" in html and "Invoices" not in html


def test_verbose_names():
    from hyper_admin.introspect import model_names, pluralize

    # sqlorm's registry is process-wide and keyed by class name: no name another test uses.
    class InvoiceLineItem(Customer):
        __table__ = "invoice_line_items_x"

    assert model_names(InvoiceLineItem).verbose_name == "Invoice line item"
    assert model_names(InvoiceLineItem).verbose_name_plural == "Invoice line items"
    assert pluralize("Category") == "Categories" and pluralize("Address") == "Addresses"
    assert pluralize("Day") == "Days"
