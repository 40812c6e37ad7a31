"""Inlines and many-to-many on the demo's forms in Chromium: "Add order line" brings a blank row
without a reload, a new row is dropped at once, an existing one struck out and removed on save;
on a phone the rows are cards. The screenshots of docs/inlines.md are taken here
(docs/images/inline-*.png)."""

import re

import pytest

from conftest import docs_shot, serve_demo, sign_in

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def demo(tmp_path_factory, browser):
    yield from serve_demo(tmp_path_factory, "inlines", rows=300)


def open_page(browser, size):
    context = browser.new_context(viewport=size)
    return context, context.new_page()


def an_order_with_lines(page, demo, count=2):
    """The edit page of an order with ``count`` lines (the first found on the list)."""
    for order in range(1, 60):
        page.goto(f"{demo.url}/admin/orders/{order}/edit")
        if page.locator("[data-inline-row][data-existing]").count() == count:
            return order
    raise AssertionError("no order with that many lines")


def test_lines_are_added_removed_and_saved_without_a_reload(browser, demo):
    context, page = open_page(browser, {"width": 1440, "height": 900})
    try:
        sign_in(page, f"{demo.url}/admin/", "support")
        order = an_order_with_lines(page, demo)
        section = page.locator("[data-inline=order_lines]")
        rows = section.locator("[data-inline-row]")
        assert rows.count() == 3  # two lines and one blank row
        page.evaluate("window.__same_page = true")
        section.locator("[data-inline-add]").click()
        page.wait_for_function("() => document.querySelectorAll('[data-inline=order_lines] [data-inline-row]').length === 4")
        assert page.evaluate("window.__same_page") is True  # no reload
        assert page.locator("#id_order_lines-TOTAL_FORMS").input_value() == "4"
        # The cursor is in the new row; its "Remove" drops it from the page at once.
        assert page.evaluate("document.activeElement.closest('[data-inline-row]')"
                             "?.dataset.inlineRow") == "3"
        rows.nth(3).locator("[data-inline-drop]").click()
        assert rows.count() == 3
        # An existing row is struck out until the save removes it.
        rows.nth(1).locator("[data-inline-delete]").check()
        assert rows.nth(1).get_attribute("data-removed") is not None
        page.fill("#id_order_lines-0-quantity", "6")
        page.mouse.move(0, 0)
        section.scroll_into_view_if_needed()
        docs_shot(page, "inline-order-lines")
        page.click("button[name=_continue]")
        page.wait_for_selector("[role=status], .alert-success", timeout=10_000)
        assert section.locator("[data-inline-row][data-existing]").count() == 1
        assert page.locator("#id_order_lines-0-quantity").input_value() == "6"
        page.goto(f"{demo.url}/admin/orders/{order}/history")
        assert page.locator("[data-child-entry]").count() == 2
    finally:
        context.close()


def test_the_ticket_form_with_tags_and_replies(browser, demo):
    context, page = open_page(browser, {"width": 1440, "height": 900})
    try:
        sign_in(page, f"{demo.url}/admin/", "support")
        for ticket in range(1, 80):
            page.goto(f"{demo.url}/admin/tickets/{ticket}/edit")
            if (page.locator("[data-m2m-chip]").count() >= 2
                    and page.locator("[data-inline=comments] [data-existing]").count() >= 1):
                break
        picker = page.locator("[data-m2m-picker]")
        assert picker.locator("input[role=combobox]").get_attribute("aria-controls")
        # Focus opens the options (the tags not chosen yet); ArrowDown walks them.
        search = picker.locator("input[role=combobox]")
        search.scroll_into_view_if_needed()
        page.mouse.wheel(0, 250)
        search.focus()
        page.wait_for_selector("[data-m2m-picker] [role=listbox]:not([hidden]) button[role=option]")
        search.press("ArrowDown")
        assert page.evaluate("document.activeElement.getAttribute('role')") == "option"
        page.mouse.move(0, 0)
        docs_shot(page, "inline-ticket-tags")
        page.keyboard.press("Escape")
        page.locator("[data-inline=comments]").scroll_into_view_if_needed()
        docs_shot(page, "inline-ticket-replies")
        legend = page.locator("[data-inline=comments] fieldset:not([data-existing]) legend")
        assert re.fullmatch(r"New ticket comment", legend.inner_text().strip())
    finally:
        context.close()


def test_on_a_phone_each_line_is_a_card(browser, demo):
    context, page = open_page(browser, {"width": 390, "height": 844})
    try:
        sign_in(page, f"{demo.url}/admin/", "support")
        an_order_with_lines(page, demo)
        section = page.locator("[data-inline=order_lines]")
        section.scroll_into_view_if_needed()
        # Every field's label is shown and nothing is wider than the screen.
        label = section.locator("label[for=id_order_lines-0-quantity]")
        assert label.is_visible()
        width = page.evaluate("document.querySelector('[data-inline=order_lines]').scrollWidth")
        assert width <= 390
        assert section.locator("[data-inline-delete]").first.is_visible()
        page.mouse.move(0, 0)
        docs_shot(page, "inline-order-lines-phone")
    finally:
        context.close()
