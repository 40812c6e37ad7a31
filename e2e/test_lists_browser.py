"""Lists at scale in Chromium: filter from the panel, remove the chip, sort, page, save a view."""

import re

import pytest

from conftest import docs_shot, serve_demo, shot, sign_in


@pytest.fixture(scope="module")
def demo(tmp_path_factory, browser):
    yield from serve_demo(tmp_path_factory, "lists", rows=400)


def test_filter_sort_page_and_save_a_view(page, demo):
    sign_in(page, f"{demo.url}/admin/orders/", "support")

    # The counts arrive in their own request; then filter by clicking an option.
    paid = page.locator("#facet-status a", has_text="Paid").first
    paid.wait_for()
    paid.click()
    page.wait_for_url(re.compile(r"status=paid"))
    chip = page.locator("[data-filter-chip]").first
    chip.wait_for()
    assert "Paid" in chip.inner_text()
    statuses = page.locator("table tbody tr td:nth-child(4)").all_inner_texts()
    assert statuses and set(s.strip() for s in statuses) == {"Paid"}
    page.wait_for_function("() => !document.querySelector('.htmx-request')")
    docs_shot(page, "list")

    # Sort by total (descending after a second click), then follow the next page.
    page.click("thead a:has-text('Total')")
    page.wait_for_url(re.compile(r"sort=total"))
    page.click("thead a:has-text('Total')")
    page.wait_for_url(re.compile(r"sort=-total"))
    totals = [float(t) for t in page.locator("table tbody tr td:nth-child(5)").all_inner_texts()]
    assert totals == sorted(totals, reverse=True)

    # Save the view, leave, and reopen it from the Views menu.
    page.click("#saved-views summary")
    page.fill("#saved-view-name", "Big paid orders")
    page.click("#saved-views button:has-text('Save view')")
    # The address already says status=paid: wait for the page the save leads to (its toast),
    # or the next click would race with that navigation.
    page.locator("#toasts", has_text="Saved view “Big paid orders”").wait_for()
    page.wait_for_function("() => !document.querySelector('.htmx-request')")
    page.click("#nav >> text=Tickets")
    page.wait_for_url(re.compile(r"/admin/tickets/"))
    page.click("#nav >> text=Orders")
    page.wait_for_url(re.compile(r"/admin/orders/$"))
    page.click("#saved-views summary")
    page.click("#saved-views a:has-text('Big paid orders')")
    page.wait_for_url(re.compile(r"status=paid.*sort=-total|sort=-total.*status=paid"))
    shot(page, "orders-saved-view")

    # Remove the filter chip: back to every order.
    page.locator("[data-filter-chip] a").first.click()
    page.wait_for_function("() => !location.search.includes('status=')")
    assert page.locator("[data-filter-chip]").count() == 0


def test_sort_by_two_columns_from_the_headers(page, demo):
    sign_in(page, f"{demo.url}/admin/orders/?per_page=500", "support")  # every order on one page
    # Total, then Currency: Currency comes first, Total stays as the second sort field.
    page.click("thead a:has-text('Total')")
    page.wait_for_url(re.compile(r"sort=total$"))
    page.click("thead a:has-text('Currency')")
    page.wait_for_url(re.compile(r"sort=currency,total$"))
    pairs = [tuple(p) for p in page.eval_on_selector_all(
        "table tbody tr",
        "rows => rows.map(r => [r.cells[5].innerText.trim(), parseFloat(r.cells[4].innerText)])")]
    assert len(pairs) == 400 and pairs == sorted(pairs)
    assert len({currency for currency, _ in pairs}) > 1
    # Each sort field shows its rank; the screen reader hears it too.
    total = page.locator("thead th", has_text="Total")
    assert total.get_attribute("aria-sort") is None
    assert "sort field 2 ascending" in total.inner_text()
    assert page.locator("thead th", has_text="Currency").get_attribute("aria-sort") == "ascending"
    page.wait_for_function("() => !document.querySelector('.htmx-request')")
    shot(page, "orders-sorted-by-two-columns")
    # Take Total out of the sort.
    total.get_by_label("Remove Total from the sort").click()
    page.wait_for_url(re.compile(r"sort=currency$"))
    assert page.locator("thead th", has_text="Total").get_attribute("aria-sort") is None
    assert "sort field" not in page.locator("thead").inner_text()


def test_drill_down_by_date(page, demo):
    sign_in(page, f"{demo.url}/admin/orders/", "support")
    bar = page.locator("nav#date-hierarchy")
    years = bar.locator("ul a")
    years.first.wait_for()
    year = years.last.inner_text()
    years.last.click()
    page.wait_for_url(re.compile(rf"created_at__gte={year}-01-01&created_at__lte={year}-12-31$"))
    page.locator("nav#date-hierarchy [aria-current]", has_text=year).wait_for()
    month = page.locator("nav#date-hierarchy ul a").first
    month_name = month.inner_text()
    month.click()
    page.wait_for_url(re.compile(rf"created_at__gte={year}-\d\d-01&created_at__lte={year}-\d\d-\d\d$"))
    first_day = re.search(r"created_at__gte=(\d{4}-\d\d)-01", page.url).group(1)
    page.wait_for_function("() => !document.querySelector('.htmx-request')")
    stamps = page.eval_on_selector_all("table tbody tr td:not(.m):nth-last-child(1 of :not(.m))",
                                       "cells => cells.map(c => c.title)")
    assert stamps and all(s.startswith(first_day) for s in stamps)
    crumbs = page.locator("nav#date-hierarchy ol").inner_text()
    assert "All dates" in crumbs and year in crumbs
    page.wait_for_function("() => !document.querySelector('.htmx-request')")
    shot(page, "orders-by-month")
    # Back up to every date: the bar's first crumb.
    page.locator("nav#date-hierarchy ol a", has_text="All dates").click()
    page.wait_for_function("() => !location.search.includes('created_at')")
    assert month_name not in page.locator("nav#date-hierarchy ol").inner_text()


def test_inline_edit_of_a_ticket_status(page, demo):
    sign_in(page, f"{demo.url}/admin/tickets/", "admin")
    cell = page.locator("table tbody tr").first.locator("td").nth(4)  # checkbox, id, subject, account, status
    before = cell.inner_text().strip()
    cell.locator("[data-cell-edit], button").first.click()
    select = cell.locator("select")
    select.wait_for()
    target = "closed" if before.lower() != "closed" else "open"
    select.select_option(target)
    select.press("Enter")
    page.wait_for_function(
        "([el, t]) => !el.querySelector('select') && el.innerText.toLowerCase().includes(t)",
        arg=[cell.element_handle(), target])
    shot(page, "tickets-inline-edit")
    page.reload()
    assert target in page.locator("table tbody tr").first.locator("td").nth(4).inner_text().lower()
