"""The demo's "Support health" dashboard in Chromium: panels load one by one after the page (a
skeleton until each arrives), a failing panel shows its error card, links inside panels
navigate like any other, and the account page shows its own panels.

The screenshots of docs/dashboards.md are taken here (docs/images/dashboard-*.png,
account-panels.png), on a demo seeded with 20,000 orders.
"""

import re
import shutil

import pytest

from conftest import DOCS_IMAGES, docs_shot, serve_demo, sign_in

SKELETONS = "[data-panel-skeleton]"


@pytest.fixture(scope="module")
def demo(tmp_path_factory, browser):
    yield from serve_demo(tmp_path_factory, "dashboard", rows=20_000)


@pytest.fixture
def wide(browser):
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    page = context.new_page()
    yield page
    context.close()



def test_panels_load_progressively_then_light_and_dark(wide, demo):
    from playwright.sync_api import expect

    page = wide
    held = []
    # Hold one panel's answer back: the page and every other panel must not wait for it.
    page.route(re.compile(r"/admin/-/panels/orders-per-week$"), lambda route: held.append(route))
    sign_in(page, f"{demo.url}/admin/", "admin")
    expect(page.locator(SKELETONS)).to_have_count(1)
    held_panel = page.locator("#panel-orders-per-week")
    assert held_panel.get_attribute("aria-busy") == "true"
    assert held_panel.locator(SKELETONS).is_visible()
    assert page.locator("#panel-open-tickets").inner_text().split("\n")[-1].strip().isdigit()
    assert page.locator("#panel-tickets-opened-vs-closed svg[role=img]").count() == 1
    assert len(held) == 1
    held[0].continue_()
    page.wait_for_selector(SKELETONS, state="detached")
    assert held_panel.locator("svg[role=img] title").first.text_content() == "Orders per week"
    assert page.locator("[data-panel] [role=alert]").count() == 0
    page.mouse.move(0, 0)
    docs_shot(page, "dashboard-panels")
    shutil.copyfile(DOCS_IMAGES / "dashboard-panels.png", DOCS_IMAGES / "dashboard.png")

    page.click("[data-theme-toggle]")
    assert page.locator("html").get_attribute("data-theme") == "dark"
    page.mouse.move(0, 0)
    docs_shot(page, "dashboard-panels-dark")

    # The data table behind a chart opens from its <details>.
    page.locator("#panel-tickets-opened-vs-closed summary").click()
    table = page.locator("#panel-tickets-opened-vs-closed table")
    assert table.locator("tbody tr").count() == 30
    assert table.locator("thead th").all_inner_texts() == ["Period", "Opened", "Closed"]


def test_refresh_and_error_cards(wide, demo):
    page = wide
    sign_in(page, f"{demo.url}/admin/", "support")
    page.wait_for_selector(SKELETONS, state="detached")
    with page.expect_response(lambda r: "/-/panels/open-tickets?fresh=1" in r.url) as answer:
        page.click("#panel-open-tickets [data-panel-refresh]")
    assert answer.value.status == 200
    page.wait_for_selector("#panel-open-tickets [data-panel-refresh]:not(.htmx-request)")

    # A panel that fails answers 503 with its error card: swapped in, no error toast.
    card = ('<section id="panel-tickets-opened" data-panel="tickets-opened"><div role="alert">'
            "Too slow to show</div></section>")
    page.route(re.compile(r"/-/panels/tickets-opened\?fresh=1$"), lambda route: route.fulfill(
        status=503, body=card, content_type="text/html",
        headers={"X-Hyper-Admin-Panel": "error"}))
    page.click("#panel-tickets-opened [data-panel-refresh]")
    page.wait_for_selector("#panel-tickets-opened [role=alert]")
    assert page.locator("#toasts .alert").count() == 0
    # Any other 5xx is not swapped into the page: a toast says the request failed.
    page.route(re.compile(r"/-/panels/open-tickets\?fresh=1$"), lambda route: route.fulfill(
        status=500, body="<main id=main>oops</main>", content_type="text/html"))
    page.click("#panel-open-tickets [data-panel-refresh]")
    page.locator("#toasts .alert").first.wait_for()
    assert "oops" not in page.locator("#main").inner_text()


def test_panel_links_navigate_and_the_account_page_has_its_panels(wide, demo):
    page = wide
    sign_in(page, f"{demo.url}/admin/", "support")
    page.wait_for_selector(SKELETONS, state="detached")
    link = page.locator("#panel-top-accounts-by-open-tickets a").first
    name = link.inner_text()
    link.click()
    page.wait_for_url(re.compile(r"/admin/accounts/\d+/$"))
    assert page.locator("h1").inner_text() == name
    assert page.locator("#nav").count() == 1  # the whole page, not the panel, was replaced
    page.wait_for_selector(SKELETONS, state="detached")
    panels = page.locator("[data-panel]")
    assert panels.count() == 8
    assert page.locator("#panel-orders-per-week svg[role=img]").count() == 1
    assert int(page.locator("#panel-open-tickets p").first.inner_text()) >= 1
    page.mouse.move(0, 0)
    docs_shot(page, "account-panels")
