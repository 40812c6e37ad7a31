"""An action that asks for input, in Chromium (issue 20, item 3): a support agent assigns two
tickets with the demo's "Assign to" (an agent picked in the confirmation dialog), first
submitting it empty, then one ticket from its own page; the list and the page show the new
assignee without a page load; axe finds nothing in the dialog."""

import re

import pytest

from conftest import serve_demo, shot, sign_in
from test_accessibility_browser import format_violations, run_axe, settle


@pytest.fixture(scope="module")
def demo(tmp_path_factory, browser):
    yield from serve_demo(tmp_path_factory, "action_forms", rows=200)


def pick(dialog, who: str, name: str) -> None:
    """Search the agent picker for ``who`` and choose ``name`` among its options."""
    dialog.locator("#agent").fill(who)
    option = dialog.locator(f"#agent-options button[role=option][data-label='{name}']")
    option.wait_for()
    option.click()


def test_an_agent_assigns_tickets_through_the_dialog(page, demo):
    sign_in(page, f"{demo.url}/admin/tickets/", "support")
    settle(page)
    page.evaluate("() => { window.__sameDocument = true; }")  # a page load would wipe it
    rows = page.locator("table tbody tr")
    ids = []
    for i in range(2):
        box = rows.nth(i).locator("input[name=pk]")
        ids.append(box.get_attribute("value").split("!")[0])
        box.check()
    page.select_option("#bulk-action", "assign")
    page.get_by_role("button", name="Apply to selected").click()

    dialog = page.locator("#confirm-dialog")
    dialog.locator("[data-action-form]").wait_for()
    assert dialog.evaluate("d => d.open")
    assert "Selected: 2 tickets." in dialog.inner_text()
    settle(page)
    violations = run_axe(page)
    assert not violations, format_violations(violations)

    # Submitted empty: the dialog again, with the error on the agent field; nothing written.
    dialog.get_by_role("button", name="Assign to").click()
    error = dialog.locator("#agent-error")
    error.wait_for()
    assert "required" in error.inner_text()
    assert dialog.evaluate("d => d.open")
    # Focus is on the errors' summary, which a screen reader reads out first.
    assert page.evaluate("() => document.activeElement.matches('[data-action-form-errors]')")
    violations = run_axe(page)
    assert not violations, format_violations(violations)
    shot(page, "action-form-error")

    pick(dialog, "Kenji", "Kenji Watanabe")
    dialog.locator("textarea[name=note]").fill("Shipping questions go to Kenji.")
    dialog.get_by_role("button", name="Assign to").click()

    page.locator("#toasts", has_text="2 tickets assigned to Kenji Watanabe.").wait_for()
    settle(page)
    assert not dialog.evaluate("d => d.open")
    assert page.evaluate("() => window.__sameDocument === true")  # no page reload
    for pk in ids:
        row = page.locator(f"table tbody tr:has(input[name=pk][value^='{pk}!'])")
        assert "Kenji Watanabe" in row.inner_text(), pk


def test_an_agent_assigns_one_ticket_from_its_page(page, demo):
    sign_in(page, f"{demo.url}/admin/tickets/", "support")
    page.locator("table tbody tr a.r").nth(3).click()
    page.wait_for_url(re.compile(r"/admin/tickets/\d+/$"))
    ticket_url = page.url
    settle(page)
    page.locator("form[data-row-action=assign] button").click()
    dialog = page.locator("#confirm-dialog")
    dialog.locator("[data-action-form]").wait_for()
    assert "Selected: 1 ticket." in dialog.inner_text()
    pick(dialog, "Omar", "Omar Haddad")
    dialog.get_by_role("button", name="Assign to").click()

    page.locator("#toasts", has_text="1 ticket assigned to Omar Haddad.").wait_for()
    settle(page)
    assert page.url == ticket_url  # back on the ticket's page
    assignee = page.locator("dl > div", has=page.locator("dt", has_text="Assignee"))
    assert "Omar Haddad" in assignee.inner_text()


def test_an_agent_assigns_one_ticket_from_its_menu_in_the_list(page, demo):
    """The row's "⋯" in the list (views/row_menu.py): its popover under the button, the
    action's dialog from there, and back to the list as it was (its filter), no page load."""
    sign_in(page, f"{demo.url}/admin/tickets/?priority=high", "support")
    settle(page)
    page.evaluate("() => { window.__sameDocument = true; }")
    row = page.locator("table tbody tr").nth(1)
    pk = row.locator("input[name=pk]").get_attribute("value").split("!")[0]
    button = row.locator("td.m button")
    button.click()
    menu = page.locator("#row-menu")
    menu.locator("[data-row-menu-items]").wait_for()
    assert menu.evaluate("m => m.matches(':popover-open')")
    # Under its button, its right edge on the button's (anchor positioning).
    at, box = button.bounding_box(), menu.bounding_box()
    assert at["y"] + at["height"] <= box["y"] <= at["y"] + at["height"] + 12, (at, box)
    assert abs((box["x"] + box["width"]) - (at["x"] + at["width"])) <= 2, (at, box)
    assert menu.locator(f"a[href='/admin/tickets/{pk}/edit']").is_visible()
    settle(page)
    violations = run_axe(page)
    assert not violations, format_violations(violations)
    # The viewport as the user sees it (a full-page shot resizes it, and the popover with it).
    page.screenshot(path=str(shot(page, "row-menu")))
    page.keyboard.press("Escape")
    assert not menu.evaluate("m => m.matches(':popover-open')")

    button.click()
    menu.locator("form[data-row-action=assign] button").click()
    dialog = page.locator("#confirm-dialog")
    dialog.locator("[data-action-form]").wait_for()
    assert not menu.evaluate("m => m.matches(':popover-open')")
    assert "Selected: 1 ticket." in dialog.inner_text()
    pick(dialog, "Omar", "Omar Haddad")
    dialog.get_by_role("button", name="Assign to").click()

    page.locator("#toasts", has_text="1 ticket assigned to Omar Haddad.").wait_for()
    settle(page)
    assert page.evaluate("() => window.__sameDocument === true")  # no page reload
    assert re.search(r"/admin/tickets/\?priority=high$", page.url), page.url
    row = page.locator(f"table tbody tr:has(input[name=pk][value^='{pk}!'])")
    assert "Omar Haddad" in row.inner_text()
