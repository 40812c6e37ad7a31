"""Nothing lost, in Chromium: two agents edit the same order; the second gets the conflict
screen, takes one of their values and saves; the History shows both changes, one is reverted."""

import re

import pytest

from conftest import serve_demo, shot, sign_in


@pytest.fixture(scope="module")
def demo(tmp_path_factory, browser):
    yield from serve_demo(tmp_path_factory, "audit", rows=200)


def signed_in_context(browser, demo, who):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    sign_in(page, f"{demo.url}/admin/", who)
    return context, page


def test_conflict_take_theirs_then_history_and_revert(browser, demo):
    first_ctx, first = signed_in_context(browser, demo, "admin")
    second_ctx, second = signed_in_context(browser, demo, "support")
    try:
        edit = f"{demo.url}/admin/orders/7/edit"
        first.goto(edit)
        second.goto(edit)
        # The first agent changes the currency and the total, and saves.
        first.fill("#id_currency", "GBP")
        first.fill("#id_total", "111.11")
        first.click("button:has-text('Save')")
        first.wait_for_url(re.compile(r"/admin/orders/7/$"))

        # The second, from a form opened before, changes the total and the currency: 409.
        second.fill("#id_total", "999.99")
        second.fill("#id_currency", "EUR")
        second.click("button:has-text('Save')")
        table = second.locator("table:has-text('What changed meanwhile')")
        table.wait_for()
        assert "GBP" in table.inner_text() and "111.11" in table.inner_text()
        assert second.input_value("#id_total") == "999.99"  # their input kept where both changed
        shot(second, "order-conflict")
        # Both changed the currency: take theirs; keep mine for the total.
        second.click("[data-take-theirs='id_currency']")
        assert second.input_value("#id_currency") == "GBP"
        second.click("button:has-text('Save')")
        second.wait_for_url(re.compile(r"/admin/orders/7/$"))
        detail = second.locator("main").inner_text()
        assert "GBP" in detail and "999.99" in detail  # nothing lost, the merge as chosen

        # Both changes are in the history; revert the second one.
        second.click("a:has-text('History')")
        second.wait_for_url(re.compile(r"/admin/orders/7/history$"))
        entries = second.locator("article")
        assert entries.count() >= 2
        assert "999.99" in entries.first.inner_text()
        shot(second, "order-history")
        entries.first.locator("a:has-text('Revert')").click()
        second.wait_for_url(re.compile(r"/revert$"))
        shot(second, "order-revert")
        second.click("button:has-text('Revert these fields')")
        second.wait_for_url(re.compile(r"/history$"))
        assert ">Reverted<" in second.content() or "Reverted" in second.locator("article").first.inner_text()
        # The dashboard lists it among the recent actions.
        second.goto(f"{demo.url}/admin/")
        recent = second.locator("section[aria-labelledby=recent-heading]")
        assert "Reverted" in recent.inner_text()
        shot(second, "dashboard-recent")
        # The whole trail, as a list (superusers): the revert is the newest entry.
        first.goto(f"{demo.url}/admin/audit/")
        newest = first.locator("table tbody tr").first
        newest.wait_for()
        assert "Reverted" in newest.inner_text()  # the action by its label
        shot(first, "audit-trail")
    finally:
        first_ctx.close()
        second_ctx.close()


def test_delete_summary_in_the_browser(page, demo):
    sign_in(page, f"{demo.url}/admin/accounts/1/delete", "admin")
    summary = page.locator("section[aria-labelledby=reach-heading]")
    summary.wait_for()
    assert "refuse" in summary.inner_text() or "cannot be deleted" in summary.inner_text()
    assert page.locator("button:has-text('Yes, delete')").is_disabled()
    shot(page, "account-delete-blocked")


def test_leaving_an_edited_form_asks_first(page, demo):
    sign_in(page, f"{demo.url}/admin/orders/9/edit", "admin")
    page.fill("#id_total", "1.23")
    asked = []

    def answer(dialog):
        asked.append(dialog.message)
        if len(asked) == 1:
            dialog.dismiss()  # stay
        else:
            dialog.accept()  # leave

    page.on("dialog", answer)
    page.click("#nav >> text=Tickets")
    page.wait_for_timeout(300)
    assert asked and "not saved" in asked[0]
    assert page.url.endswith("/admin/orders/9/edit") and page.input_value("#id_total") == "1.23"
    page.click("#nav >> text=Tickets")
    page.wait_for_url(re.compile(r"/admin/tickets/$"))
    assert len(asked) == 2
