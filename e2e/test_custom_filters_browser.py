"""The demo's custom list filters in Chromium: a support agent opens the tickets, picks "SLA
breached" in the filter panel (an htmx swap, the address updated), sees its chip and removes
it; axe finds nothing on the list with the panel open, in English and in French."""

import re

import pytest
from sqlorm import SQL

from conftest import browser_page, serve_demo, shot, sign_in
from test_accessibility_browser import format_violations, run_axe, settle

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def demo(tmp_path_factory, browser):
    yield from serve_demo(tmp_path_factory, "custom-filters", rows=200)


def breached_ids(demo) -> set[int]:
    from hyper_admin.demo.filters import SlaBreached

    engine = demo.server.app.extensions["hyper_admin_demo"]["engine"]
    condition = SlaBreached().condition("yes", None)
    with engine as tx:
        return {row["id"] for row in tx.fetchall(SQL("SELECT id FROM tickets WHERE", condition))}


def shown_ids(page) -> set[int]:
    return {int(text.strip()) for text in
            page.locator("#list-results table tbody tr td:nth-child(2)").all_inner_texts()}


def test_support_picks_sla_breached_then_removes_the_chip(page, demo):
    expected = breached_ids(demo)
    assert expected, "the demo's seed has late tickets"
    sign_in(page, f"{demo.url}/admin/tickets/", "support")
    settle(page)
    everything = page.locator("#list-results table tbody tr").count()
    panel = page.locator("#filter-panel")
    assert "SLA breached" in panel.text_content()
    assert "Waiting on us for 24 h" in panel.text_content()
    # Its options come with their counts (their own request), then a click swaps the list.
    option = page.locator("#facet-sla_breached a", has_text="Yes")
    option.wait_for()
    page.locator("#facet-sla_breached[aria-busy=true]").wait_for(state="detached")
    assert re.search(rf"\b{len(expected)}\b", option.inner_text()), option.inner_text()
    page.evaluate("() => { window.__sameDocument = true; }")
    option.click()
    page.wait_for_url(re.compile(r"sla_breached=yes"))
    settle(page)
    assert page.evaluate("() => window.__sameDocument === true")  # an htmx swap, no reload
    assert shown_ids(page) == expected
    chip = page.locator("[data-filter-chip]", has_text="SLA breached")
    assert "SLA breached = Yes" in chip.inner_text()
    assert page.locator("#filter-count").inner_text() == "Filters (1)"
    shot(page, "tickets-sla-breached")

    chip.locator("a").click()
    page.wait_for_function("() => !location.search.includes('sla_breached')")
    settle(page)
    assert page.locator("[data-filter-chip]").count() == 0
    assert page.locator("#list-results table tbody tr").count() == everything


@pytest.mark.parametrize("locale", ["en-US", "fr-FR"])
def test_no_axe_violations_with_the_filter_panel_open(browser, demo, locale):
    with browser_page(browser, locale=locale) as page:
        sign_in(page, f"{demo.url}/admin/tickets/?sla_breached=yes", "support")
        settle(page)
        assert page.locator("details[data-filter-panel]").evaluate("d => d.open") is True
        title = "SLA breached" if locale == "en-US" else "SLA dépassé"
        if locale == "fr-FR" and title not in page.locator("#filter-panel").text_content():
            # The French catalog is compiled by the lead from i18n_pending: until then the
            # English title shows, which is still a page to check.
            title = "SLA breached"
        assert title in page.locator("#filter-panel").text_content()
        violations = run_axe(page)
        assert not violations, format_violations(violations)
