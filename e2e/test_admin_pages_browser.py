"""Pages inside the admin in a browser (the demo's): the superuser refunds an order from its
page (an invalid amount, then a valid one; the toast; the note in the order's History); support
opens an account's customer overview; axe finds nothing on either page."""

import re

import pytest

from conftest import serve_demo, shot, sign_in
from test_accessibility_browser import format_violations, run_axe, settle

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def demo(tmp_path_factory, browser):
    yield from serve_demo(tmp_path_factory, "pages", rows=60)


def _order_to_refund(demo):
    from sqlorm import SQL

    engine = demo.server.app.extensions["hyper_admin_demo"]["engine"]
    with engine as tx:
        return tx.fetchone(SQL("SELECT id, total FROM orders WHERE status NOT IN "
                               "('pending', 'refunded', 'cancelled') ORDER BY id LIMIT 1"))


def test_admin_refunds_an_order_from_its_page(browser, demo):
    order = _order_to_refund(demo)
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    try:
        sign_in(page, f"{demo.url}/admin/orders/{order['id']}/", "admin")
        settle(page)
        page.click("[data-row-page=refund]")
        page.wait_for_url(re.compile(rf"/admin/orders/{order['id']}/refund$"))
        settle(page)
        assert page.locator("nav[aria-label=Breadcrumb]").inner_text().count("Refund") == 1
        violations = run_axe(page)
        assert not violations, format_violations(violations)

        page.fill("input[name=amount]", str(order["total"] + 100))
        page.fill("textarea[name=reason]", "Parcel lost")
        page.click("main form button[type=submit]")
        page.locator("[aria-invalid=true]").first.wait_for()
        assert "At most the order" in page.locator("main").inner_text()
        violations = run_axe(page)
        assert not violations, format_violations(violations)

        page.fill("input[name=amount]", "2.50")
        page.click("main form button[type=submit]")
        page.wait_for_url(re.compile(rf"/admin/orders/{order['id']}/$"))
        page.locator("#toasts", has_text="Refund of 2.50").wait_for()
        shot(page, "order-refunded")
        page.click("a:has-text('History')")
        page.wait_for_url(re.compile(rf"/admin/orders/{order['id']}/history$"))
        assert "Parcel lost" in page.locator("main").inner_text()
    finally:
        context.close()


def test_the_refund_page_is_in_the_orders_row_menu(browser, demo):
    order = _order_to_refund(demo)
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    try:
        from sqlorm import SQL

        with demo.server.app.extensions["hyper_admin_demo"]["engine"] as tx:
            reference = tx.fetchscalar(SQL("SELECT reference AS v FROM orders WHERE id =",
                                           SQL.Param(order["id"])))
        sign_in(page, f"{demo.url}/admin/orders/?q={reference}", "admin")
        settle(page)
        row = page.locator(f"table tbody tr:has(a.r[href='/admin/orders/{order['id']}/'])")
        row.locator("td.m button").click()
        page.locator("#row-menu [data-row-page=refund]").click()
        page.wait_for_url(re.compile(rf"/admin/orders/{order['id']}/refund$"))
        assert page.locator("input[name=amount]").is_visible()
    finally:
        context.close()


def test_support_opens_a_customer_overview(browser, demo):
    from sqlorm import SQL

    engine = demo.server.app.extensions["hyper_admin_demo"]["engine"]
    with engine as tx:  # the account with the most orders, and its latest one
        account = tx.fetchscalar(SQL("SELECT account_id AS v FROM orders GROUP BY account_id "
                                     "ORDER BY count(*) DESC, account_id LIMIT 1"))
        latest = tx.fetchscalar(SQL("SELECT reference AS v FROM orders WHERE account_id =",
                                    SQL.Param(account), "ORDER BY created_at DESC, id DESC LIMIT 1"))
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    try:
        sign_in(page, f"{demo.url}/admin/accounts/{account}/", "support")
        settle(page)
        page.click("[data-row-page=overview]")
        page.wait_for_url(re.compile(rf"/admin/accounts/{account}/overview$"))
        settle(page)
        main = page.locator("main").inner_text()
        assert "Latest orders" in main and "Open tickets" in main and "Revenue" in main
        assert latest in main
        shot(page, "customer-overview")
        violations = run_axe(page)
        assert not violations, format_violations(violations)
    finally:
        context.close()
