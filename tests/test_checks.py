"""Registration checks (hyper_admin.checks, docs/checks.md): a bad option fails when the model
is registered, with its id, the option and the name, never on a user's first request."""

import pytest
from flask import Flask

from apps import Customer, Invoice, create_schema
from hyper_admin import Admin, ModelAdmin, action
from hyper_admin.checks import ConfigurationError


@pytest.fixture
def admin(engine):
    create_schema(engine)
    app = Flask(__name__)
    app.secret_key = "checks"
    return Admin(app, engine=engine)


@action("Flag")
def flag(model_admin, objects, user):
    return None


BAD = [
    ("hyper_admin.E001", "list_display", {"list_display": ["name", "nmae"]}, "nmae"),
    ("hyper_admin.E001", "list_display", {"list_display": ["name", 42]}, "42"),
    ("hyper_admin.E002", "list_display", {"list_display": ["name", "name.length"]}, "name.length"),
    ("hyper_admin.E003", "list_display_links", {"list_display": ["name"], "list_display_links": ["email"]}, "email"),
    ("hyper_admin.E004", "search_fields", {"search_fields": ["emial"]}, "emial"),
    ("hyper_admin.E005", "list_filter", {"list_filter": ["country"]}, "country"),
    ("hyper_admin.E006", "ordering", {"ordering": ["-created"]}, "-created"),
    ("hyper_admin.E006", "sortable_fields", {"sortable_fields": ["rank"]}, "rank"),
    ("hyper_admin.E007", "date_hierarchy", {"date_hierarchy": "name"}, "name"),
    ("hyper_admin.E008", "fields", {"fields": ["name", "phone"]}, "phone"),
    ("hyper_admin.E008", "fieldsets", {"fieldsets": [("Main", {"fields": ["name", "fax"]})]}, "fax"),
    ("hyper_admin.E008", "readonly_fields", {"readonly_fields": ["vat"]}, "vat"),
    ("hyper_admin.E009", "list_editable", {"list_display": ["id", "name"], "list_editable": ["id"]}, "id"),
    ("hyper_admin.E009", "list_editable", {"list_display": ["name"], "list_editable": ["email"]}, "email"),
    ("hyper_admin.E010", "actions", {"actions": ["refund"]}, "refund"),
    ("hyper_admin.E011", "formatters", {"formatters": {"nme": str}}, "nme"),
    ("hyper_admin.E013", "per_page", {"per_page": 0}, "0"),
    ("hyper_admin.E014", "permissions", {"permissions": {"view": "support"}}, "view"),
]


@pytest.mark.parametrize("check_id, option, options, name", BAD,
                         ids=[f"{b[0][-4:]}-{b[1]}-{b[3]}" for b in BAD])
def test_a_bad_option_fails_at_registration_with_its_id(admin, check_id, option, options, name):
    with pytest.raises(ConfigurationError) as caught:
        admin.register(Customer, **options)
    assert caught.value.id == check_id
    message = str(caught.value)
    assert option in message and name in message and "Customer" in message
    assert "customers" not in admin.registry  # nothing half-registered


def test_good_options_pass_including_paths_through_a_database_key(admin):
    admin.register(Customer)

    class InvoiceAdmin(ModelAdmin):
        # customer_id is a plain int: the REFERENCES of the table makes customer.name a path.
        list_display = ["id", "customer_id", "customer.name", "amount", "double"]
        search_fields = ["customer.email"]
        list_filter = ["customer_id"]
        ordering = ["-amount"]
        actions = [flag]
        permissions = {"view": {"support"}, "flag": ["support"]}

        def double(self, obj):
            return obj.amount * 2

    admin.register(Invoice, InvoiceAdmin)
    assert admin.registry["invoices"].info.column("customer_id").target_model is Customer


def test_a_path_through_an_unknown_target_is_refused(admin):
    admin.register(Customer)
    with pytest.raises(ConfigurationError) as caught:
        admin.register(Invoice, list_display=["id", "customer.vat_number"])
    assert caught.value.id == "hyper_admin.E002" and "customer.vat_number" in str(caught.value)


def test_several_problems_are_reported_together(admin):
    with pytest.raises(ConfigurationError) as caught:
        admin.register(Customer, list_filter=["a"], search_fields=["b"])
    assert {p.id for p in caught.value.problems} == {"hyper_admin.E005", "hyper_admin.E004"}
