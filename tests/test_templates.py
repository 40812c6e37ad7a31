"""Template overrides as in Django (docs/templates.md): the host app's
templates/hyper_admin/<slug>/<screen>.html beats templates/hyper_admin/<screen>.html beats the
admin's own; an override extends the template it replaces (hyper_admin_original/...) and
changes named blocks instead of copying it."""

from pathlib import Path

import pytest

from apps import Customer, Invoice, create_app, create_schema, members
from hyper_admin.testing import AdminClient

HOST_TEMPLATES = Path(__file__).resolve().parent / "host_templates"


@pytest.fixture
def host(engine):
    create_schema(engine)
    with engine:
        customer = Customer.create(name="Ada", email="ada@example.com")
        invoice = Invoice.create(customer_id=customer.id, amount=120)
    app, _ = create_app(engine)
    app.template_folder = str(HOST_TEMPLATES)  # the host app's own templates/ folder
    client = AdminClient(app).login_as(members(engine)["root"])
    return client, customer.id, invoice.id


def overrides(html: str) -> list[str]:
    import re

    return re.findall(r'data-override="([^"]+)"', html)


def test_a_per_model_template_beats_the_per_screen_one(host):
    client, customer, _ = host
    page = client.detail(Customer, customer)
    assert page.status == 200
    assert overrides(page.html) == ["per-model"]
    # It extends the admin's detail page: the fields and the shipped actions are still there.
    assert page.fields["Name"] == "Ada" and page.fields["Email"] == "ada@example.com"
    assert f'href="/admin/customers/{customer}/edit"' in page.html  # {{ super() }}


def test_a_per_screen_template_beats_the_admins_own(host):
    client, _, invoice = host
    page = client.detail(Invoice, invoice)
    assert page.status == 200
    assert overrides(page.html) == ["per-screen"]
    assert page.fields["Amount"] == "120"
    assert f'href="/admin/invoices/{invoice}/edit"' in page.html


def test_screens_without_an_override_are_the_admins(host):
    client, _, _ = host
    listing = client.list(Customer)
    assert listing.status == 200 and listing.rows[0]["Name"] == "Ada"
    assert overrides(listing.html) == []


def test_a_replaced_screen_keeps_the_admins_layout(host):
    client, _, _ = host
    page = client.get("/admin/").get_data(as_text=True)
    assert overrides(page) == ["dashboard"]
    assert "Welcome Root: 3 models." in page  # customers, invoices, the audit trail
    assert '<nav id="nav"' in page and "<html" in page  # the layout around the block


def test_an_override_answers_htmx_with_a_fragment(host):
    client, customer, _ = host
    response = client.get(f"/admin/customers/{customer}/", headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html
    assert overrides(html) == ["per-model"]


def test_the_original_templates_stay_reachable_by_name(host):
    client, _, _ = host
    env = client.app.jinja_env
    original = env.get_template("hyper_admin_original/detail.html")
    overridden = env.get_template("hyper_admin/detail.html")
    assert Path(original.filename).parent.parent != HOST_TEMPLATES
    assert Path(overridden.filename).is_relative_to(HOST_TEMPLATES)
