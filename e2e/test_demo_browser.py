"""A person using the demo back office in Chromium: sign in, look around, change things."""

import re

import pytest

from conftest import shot


@pytest.fixture(scope="module")
def demo(tmp_path_factory, browser):
    from hyper_admin.demo.app import create_app

    from conftest import LiveServer

    path = tmp_path_factory.mktemp("demo") / "demo.db"
    app = create_app(f"sqlite://{path}", rows=300)
    server = LiveServer(app)
    yield server
    server.stop()


def sign_in(page, demo, username):
    page.goto(f"{demo.url}/admin/")
    page.wait_for_url(re.compile(r"/admin/login"))
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", username)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/admin/$"))


def test_sign_in_and_dashboard(page, demo):
    page.goto(f"{demo.url}/admin/")
    assert "/admin/login" in page.url
    shot(page, "login")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", "wrong")
    page.click("button[type=submit]")
    assert page.locator("[role=alert]").inner_text().strip().startswith("Invalid")
    page.fill("input[name=password]", "admin")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/admin/$"))
    assert page.locator("h1").inner_text() == "Dashboard"
    for name in ("Accounts", "Orders", "Tickets", "Staff users"):
        assert page.locator("#main").get_by_text(name, exact=True).count() >= 1
    shot(page, "dashboard")
    page.locator("html").evaluate("el => el.dataset.theme = 'dark'")
    shot(page, "dashboard-dark")


def test_viewer_sees_read_only_screens(page, demo):
    sign_in(page, demo, "viewer")
    nav = page.locator("#nav").inner_text()
    assert "Orders" in nav and "Staff users" not in nav
    page.click("#nav >> text=Orders")
    page.wait_for_url(re.compile(r"/admin/orders/$"))
    assert page.locator("text=Add order").count() == 0
    page.locator("table tbody tr a.r").first.click()
    page.wait_for_url(re.compile(r"/admin/orders/\d+/$"))
    assert page.locator("text=Edit").count() == 0


def test_support_agent_day(page, demo):
    sign_in(page, demo, "support")
    # Search a customer.
    page.click("#nav >> text=Accounts")
    page.wait_for_url(re.compile(r"/admin/accounts/"))
    first_name = page.locator("table tbody tr td a.r").first.inner_text()
    page.fill("input[name=q]", first_name[:6])
    page.wait_for_url(re.compile(r"q="))
    page.wait_for_timeout(200)
    assert page.locator("table tbody tr").count() >= 1
    shot(page, "accounts-search")

    # Open an order from the list (the URL is kept in the address bar by htmx).
    page.click("#nav >> text=Orders")
    page.wait_for_url(re.compile(r"/admin/orders/$"))
    shot(page, "orders-list")
    page.click("a[rel=next]")
    page.wait_for_url(re.compile(r"after="))
    page.go_back()
    page.wait_for_url(re.compile(r"/admin/orders/$"))
    page.locator("table tbody tr a.r").first.click()
    page.wait_for_url(re.compile(r"/admin/orders/\d+/$"))
    shot(page, "order-detail")

    # Edit: change the status and the account with the foreign-key combobox.
    page.click("text=Edit")
    page.wait_for_url(re.compile(r"/edit$"))
    current_status = page.locator("select[name=status]").input_value()
    new_status = "cancelled" if current_status != "cancelled" else "refunded"
    page.select_option("select[name=status]", new_status)
    current_account = page.locator("input[type=hidden][name=account_id]").input_value()
    picker = page.locator("[data-fk-picker] input[type=search]").first
    picker.click()
    with page.expect_response(lambda r: "/admin/accounts/lookup?q=co" in r.url.lower()):
        picker.fill("co")
    option = page.locator(f"[data-fk-picker] [role=listbox] button[data-value]:not([data-value='{current_account}'])").first
    option.wait_for()
    chosen = option.get_attribute("data-value")
    option.click()
    assert page.locator("input[type=hidden][name=account_id]").input_value() == chosen
    shot(page, "order-edit")
    page.click("button:has-text('Save')")
    page.wait_for_url(re.compile(r"/admin/orders/\d+/$"))
    toast = page.locator("#toasts .alert").first
    toast.wait_for()
    assert "was saved" in toast.inner_text()
    assert new_status.capitalize() in page.locator("#main").inner_text()
    shot(page, "order-saved")

    # Delete a comment after confirming.
    page.click("#nav >> text=Ticket comments")
    page.wait_for_url(re.compile(r"/admin/ticket_comments/"))
    page.locator("table tbody tr a.r").first.click()
    page.wait_for_url(re.compile(r"/admin/ticket_comments/\d+/$"))
    comment_url = page.url
    page.click("a:has-text('Delete')")
    page.locator("#confirm-dialog").wait_for()  # the confirmation opens in a <dialog>
    assert page.url == comment_url
    shot(page, "comment-delete")
    page.click("#confirm-dialog button:has-text('Yes, delete')")
    page.wait_for_url(re.compile(r"/admin/ticket_comments/$"))
    assert "was deleted" in page.locator("#toasts").inner_text()
    assert page.request.get(comment_url).status == 404
