"""The grouped sidebar in a browser (the demo: Sales, Support, Administration): a collapsed
group stays collapsed across a reload and htmx navigation, the current page's group is open,
and the dashboard with its grouped cards passes axe in both themes."""

import json
import re

import pytest

from conftest import serve_demo, shot, sign_in
from test_accessibility_browser import THEME_KEY, THEMES, format_violations, run_axe, settle

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def demo(tmp_path_factory, browser):
    yield from serve_demo(tmp_path_factory, "nav", rows=60)


@pytest.fixture
def admin_page(browser, demo):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    sign_in(page, f"{demo.url}/admin/", "admin")
    yield page
    context.close()


def group(page, key):
    return page.locator(f'#nav details[data-nav-group="{key}"]')


def is_open(page, key) -> bool:
    return group(page, key).evaluate("el => el.open")


def test_the_sidebar_shows_the_demo_groups(admin_page):
    page = admin_page
    keys = page.locator("#nav details[data-nav-group]").evaluate_all(
        "els => els.map(el => el.dataset.navGroup)")
    assert keys == ["sales", "support", "administration"]
    assert group(page, "support").locator("summary").inner_text().strip().lower() == "support"
    assert group(page, "sales").get_by_role("link", name="Stuck orders").is_visible()
    assert group(page, "administration").get_by_role("link", name="Audit entries").is_visible()


def test_a_collapsed_group_stays_collapsed_after_a_reload(admin_page, demo):
    page = admin_page
    group(page, "support").locator("summary").click()
    assert not is_open(page, "support")
    # Closed <details> content keeps a box, so ask the browser whether it is rendered (once
    # the closing transition, if any, is over).
    page.wait_for_function("() => !document.querySelector("
                           "'#nav details[data-nav-group=support] a').checkVisibility()")
    page.wait_for_function("() => document.cookie.includes('hyper_admin_nav_closed=support')")
    page.reload()
    settle(page)
    assert not is_open(page, "support") and is_open(page, "sales")
    # htmx navigation (the sidebar swapped out of band) keeps it closed too.
    group(page, "sales").get_by_role("link", name="Accounts", exact=True).click()
    page.wait_for_url(re.compile(r"/admin/accounts/$"))
    settle(page)
    assert not is_open(page, "support") and is_open(page, "sales")
    shot(page, "nav-support-collapsed")
    # Open again: remembered open.
    group(page, "support").locator("summary").click()
    page.wait_for_function("() => !document.cookie.includes('support')")
    page.reload()
    settle(page)
    assert is_open(page, "support")


def test_the_current_pages_group_is_always_open(admin_page, demo):
    page = admin_page
    group(page, "administration").locator("summary").click()
    page.wait_for_function("() => document.cookie.includes('administration')")
    page.goto(f"{demo.url}/admin/staff_users/")
    settle(page)
    assert is_open(page, "administration")
    current = group(page, "administration").locator('a[aria-current="page"]')
    assert current.inner_text().strip() == "Staff users" and current.is_visible()
    page.goto(f"{demo.url}/admin/orders/")
    settle(page)
    assert is_open(page, "sales")


@pytest.mark.parametrize("theme", THEMES)
def test_the_grouped_dashboard_passes_axe(browser, demo, theme):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        page.add_init_script(f"localStorage.setItem({json.dumps(THEME_KEY)}, {json.dumps(theme)})")
        sign_in(page, f"{demo.url}/admin/", "admin")
        settle(page)
        assert page.locator("#main [data-model-group]").count() == 3
        # One group collapsed in the sidebar: closed <details> are checked too.
        group(page, "support").locator("summary").click()
        violations = run_axe(page)
        shot(page, f"nav-dashboard-{theme}")
        assert not violations, format_violations(violations)
    finally:
        context.close()


def test_show_all_from_the_pager_and_back(admin_page, demo):
    """The list's pager: "Show all (N)" arrives with the count, shows every row on one page
    (streamed), and "Show pages" goes back to paging."""
    page = admin_page
    page.goto(f"{demo.url}/admin/products/")
    link = page.locator("[data-show-all]")
    link.wait_for()
    total = int(re.search(r"\((\d+)\)", link.inner_text()).group(1))
    assert page.locator("tbody.ha-rows tr").count() < total
    link.click()
    page.wait_for_url(re.compile(r"/admin/products/\?all=1$"))
    settle(page)
    assert page.locator("tbody.ha-rows tr").count() == total
    assert page.locator("a[rel=next]").count() == 0
    page.locator("[data-show-pages]").click()
    page.wait_for_url(re.compile(r"/admin/products/$"))
    settle(page)
    assert page.locator("tbody.ha-rows tr").count() < total
    assert page.locator("a[rel=next]").count() == 1
