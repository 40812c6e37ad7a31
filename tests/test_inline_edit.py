"""Inline cell editing of ``list_editable`` fields (GET/POST /admin/<slug>/<pk>/cell/<field>),
on SQLite and PostgreSQL."""

import re

import pytest
from sqlorm import SQL

from hyper_admin.demo.models import Order
from crud_app import OrderAdmin, create_app, staff
from demo_db import seeded_engine
from apps import as_user, csrf_from


class EditableOrderAdmin(OrderAdmin):
    list_editable = ["status", "total"]

    def scope(self, user):
        # Non-admins reach orders of EU accounts only (to test the 404 outside the scope).
        if "admin" in user.roles:
            return None
        return SQL("orders.account_id IN (SELECT id FROM accounts WHERE region =", SQL.Param("eu"), ")")


@pytest.fixture
def site(request, backend):
    with seeded_engine(request) as engine:
        app, admin = create_app(engine)
        admin.register(Order, EditableOrderAdmin)
        yield app, staff(engine), engine


def scalar(engine, sql):
    with engine as tx:
        return tx.fetchscalar(sql)


def in_scope(engine):
    return scalar(engine, "SELECT min(o.id) AS v FROM orders o JOIN accounts a ON a.id = o.account_id "
                          "WHERE a.region = 'eu'")


def out_of_scope(engine):
    return scalar(engine, "SELECT min(o.id) AS v FROM orders o JOIN accounts a ON a.id = o.account_id "
                          "WHERE a.region <> 'eu'")


def signed_in(site, username):
    app, people, _ = site
    client = as_user(app, people[username])
    token = csrf_from(client.get("/admin/").get_data(as_text=True))
    return client, token


def open_editor(client, url):
    response = client.get(url, headers={"HX-Request": "true"})
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    return body, re.search(r'name="_version" value="([^"]+)"', body).group(1)


def test_button_only_for_users_who_may_change(site):
    _, _, engine = site
    order = in_scope(engine)
    support, _ = signed_in(site, "support")
    page = support.get("/admin/orders/?per_page=500").get_data(as_text=True)
    assert f'hx-get="/admin/orders/{order}/cell/status"' in page
    assert f'hx-get="/admin/orders/{order}/cell/total"' in page
    assert "/cell/reference" not in page
    viewer, _ = signed_in(site, "viewer")
    page = viewer.get("/admin/orders/").get_data(as_text=True)
    assert "ORD-" in page and "/cell/" not in page and "data-cell-edit" not in page


def test_get_editor_and_view(site):
    _, _, engine = site
    order = in_scope(engine)
    client, _ = signed_in(site, "support")
    body, version = open_editor(client, f"/admin/orders/{order}/cell/status")
    assert f'hx-post="/admin/orders/{order}/cell/status"' in body
    assert "<select" in body and "autofocus" in body and version
    status = scalar(engine, f"SELECT status AS v FROM orders WHERE id = {order}")
    assert re.search(rf'<option selected value="{status}"|<option value="{status}" selected', body)
    view = client.get(f"/admin/orders/{order}/cell/status?view=1").get_data(as_text=True)
    assert "data-cell-edit" in view and "<form" not in view


def test_valid_post_updates_the_row_and_returns_the_value(site):
    _, _, engine = site
    order = in_scope(engine)
    client, token = signed_in(site, "support")
    _, version = open_editor(client, f"/admin/orders/{order}/cell/total")
    response = client.post(f"/admin/orders/{order}/cell/total",
                           data={"total": "321.50", "_version": version, "csrf_token": token},
                           headers={"HX-Request": "true"})
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert re.search(r">321\.50?<", body) and "data-cell-edit" in body and "<form" not in body
    assert 'id="toasts" hx-swap-oob="beforeend"' in body and "saved" in body
    assert str(scalar(engine, f"SELECT total AS v FROM orders WHERE id = {order}")) in ("321.50", "321.5")


def test_invalid_value_is_a_422_keeping_the_input(site):
    _, _, engine = site
    order = in_scope(engine)
    before = scalar(engine, f"SELECT total AS v FROM orders WHERE id = {order}")
    client, token = signed_in(site, "support")
    _, version = open_editor(client, f"/admin/orders/{order}/cell/total")
    response = client.post(f"/admin/orders/{order}/cell/total",
                           data={"total": "lots", "_version": version, "csrf_token": token})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert 'value="lots"' in body and "text-error" in body and 'aria-invalid="true"' in body
    assert scalar(engine, f"SELECT total AS v FROM orders WHERE id = {order}") == before


def test_stale_value_is_a_409_and_nothing_is_written(site):
    _, _, engine = site
    order = in_scope(engine)
    client, token = signed_in(site, "support")
    _, version = open_editor(client, f"/admin/orders/{order}/cell/total")
    with engine as tx:
        tx.execute(SQL("UPDATE orders SET total = 12345.67 WHERE id =", SQL.Param(order)))
    response = client.post(f"/admin/orders/{order}/cell/total",
                           data={"total": "1.00", "_version": version, "csrf_token": token})
    assert response.status_code == 409
    body = response.get_data(as_text=True)
    assert "Changed meanwhile: now" in body and "12345.67" in body and 'value="1.00"' in body
    assert str(scalar(engine, f"SELECT total AS v FROM orders WHERE id = {order}")) == "12345.67"
    # The editor now carries the new version: saving again applies the input knowingly.
    retry = re.search(r'name="_version" value="([^"]+)"', body).group(1)
    again = client.post(f"/admin/orders/{order}/cell/total",
                        data={"total": "1.00", "_version": retry, "csrf_token": token})
    assert again.status_code == 200
    assert str(scalar(engine, f"SELECT total AS v FROM orders WHERE id = {order}")) in ("1.00", "1", "1.0")


def test_a_change_to_another_field_is_no_conflict(site):
    _, _, engine = site
    order = in_scope(engine)
    client, token = signed_in(site, "support")
    _, version = open_editor(client, f"/admin/orders/{order}/cell/status")
    with engine as tx:
        tx.execute(SQL("UPDATE orders SET total = 7.00 WHERE id =", SQL.Param(order)))
    response = client.post(f"/admin/orders/{order}/cell/status",
                           data={"status": "refunded", "_version": version, "csrf_token": token})
    assert response.status_code == 200
    assert scalar(engine, f"SELECT status AS v FROM orders WHERE id = {order}") == "refunded"


def test_forged_version_is_a_conflict(site):
    _, _, engine = site
    order = in_scope(engine)
    client, token = signed_in(site, "support")
    for forged in ("", "garbage"):
        response = client.post(f"/admin/orders/{order}/cell/status",
                               data={"status": "refunded", "_version": forged, "csrf_token": token})
        assert response.status_code == 409
    assert scalar(engine, f"SELECT status AS v FROM orders WHERE id = {order}") != "refunded"


def test_refusals(site):
    _, _, engine = site
    order, outside = in_scope(engine), out_of_scope(engine)
    client, token = signed_in(site, "support")
    _, version = open_editor(client, f"/admin/orders/{order}/cell/status")
    data = {"status": "refunded", "_version": version, "csrf_token": token}
    # Outside the user's scope: the same 404 as a missing row.
    assert client.get(f"/admin/orders/{outside}/cell/status").status_code == 404
    assert client.post(f"/admin/orders/{outside}/cell/status", data=data).status_code == 404
    assert client.get("/admin/orders/999999999/cell/status").status_code == 404
    # Not in list_editable (even a field of the form): 400.
    assert client.get(f"/admin/orders/{order}/cell/reference").status_code == 400
    assert client.post(f"/admin/orders/{order}/cell/reference",
                       data={"reference": "X", "csrf_token": token}).status_code == 400
    assert client.get(f"/admin/orders/{order}/cell/nonsense").status_code == 400
    # No CSRF token: 400.
    no_csrf = {k: v for k, v in data.items() if k != "csrf_token"}
    assert client.post(f"/admin/orders/{order}/cell/status", data=no_csrf).status_code == 400
    # A viewer may see the list but not change rows: 403.
    viewer, viewer_token = signed_in(site, "viewer")
    assert viewer.get(f"/admin/orders/{order}/cell/status").status_code == 403
    assert viewer.post(f"/admin/orders/{order}/cell/status",
                       data={**data, "csrf_token": viewer_token}).status_code == 403
    assert scalar(engine, f"SELECT status AS v FROM orders WHERE id = {order}") != "refunded"


def test_readonly_field_is_refused(site):
    app, people, engine = site

    class ReadonlyTotal(EditableOrderAdmin):
        readonly_fields = ["created_at", "total"]

    app.extensions["hyper_admin"]["hyper_admin"].admin.register(Order, ReadonlyTotal)
    order = in_scope(engine)
    client, _ = signed_in(site, "support")
    assert client.get(f"/admin/orders/{order}/cell/total").status_code == 403
    page = client.get("/admin/orders/?per_page=500").get_data(as_text=True)
    assert f"/admin/orders/{order}/cell/status" in page and "/cell/total" not in page


def test_hooks_run_and_can_refuse(site):
    app, _, engine = site
    seen = []

    class Hooked(EditableOrderAdmin):
        def on_model_change(self, values, obj, is_created):
            from wtforms import ValidationError
            if values.get("status") == "cancelled":
                raise ValidationError("Orders are not cancelled from the list.")
            seen.append(("on", dict(values), is_created))

        def after_model_change(self, obj, is_created):
            seen.append(("after", obj.id, is_created))

    app.extensions["hyper_admin"]["hyper_admin"].admin.register(Order, Hooked)
    order = in_scope(engine)
    client, token = signed_in(site, "support")
    _, version = open_editor(client, f"/admin/orders/{order}/cell/status")
    refused = client.post(f"/admin/orders/{order}/cell/status",
                          data={"status": "cancelled", "_version": version, "csrf_token": token})
    assert refused.status_code == 422
    assert "not cancelled from the list" in refused.get_data(as_text=True)
    ok = client.post(f"/admin/orders/{order}/cell/status",
                     data={"status": "refunded", "_version": version, "csrf_token": token})
    assert ok.status_code == 200
    assert [s[0] for s in seen] == ["on", "after"] and seen[1][1] == order


@pytest.mark.parametrize("name", ["id", "account_id", "nonsense"])
@pytest.mark.reads_only
def test_misconfigured_list_editable_is_a_type_error(site, name):
    app, people, engine = site

    class Bad(OrderAdmin):
        list_display = ["id", "reference", "account", "status"]
        list_editable = [name]

    with pytest.raises(TypeError, match="list_editable") as caught:  # at registration
        app.extensions["hyper_admin"]["hyper_admin"].admin.register(Order, Bad)
    assert caught.value.id == "hyper_admin.E009"
