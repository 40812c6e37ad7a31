"""The session expires while a form is open (issue 16, item 10): the user saves, signs in
again, and finds what they typed back in the form (static/keep_input.js), then saves it."""

import json
import re

import pytest

from conftest import browser_page, serve_demo, shot, sign_in


@pytest.fixture(scope="module")
def demo(tmp_path_factory, browser):
    yield from serve_demo(tmp_path_factory, "expiry", rows=60)


def on_sign_in_page(page) -> None:
    """The 401 sent the browser to the sign-in page, next = the page with the form."""
    page.wait_for_url(re.compile(r"/admin/login\?next="))


def sign_in_again(page) -> None:
    page.fill("input[name=username]", "support")
    page.fill("input[name=password]", "support")
    page.click("button[type=submit]")


def drafts(page) -> list[dict]:
    return page.evaluate("""() => Object.keys(sessionStorage)
        .filter(k => k.startsWith("hyper-admin-input:"))
        .map(k => JSON.parse(sessionStorage.getItem(k)))""")


def test_an_edit_form_saved_after_expiry_keeps_its_input(page, demo):
    edit = f"{demo.url}/admin/accounts/1/edit"
    sign_in(page, edit, "support")
    old_token = page.input_value("form[data-warn-unsaved] input[name=csrf_token]")
    page.fill("#id_name", "Kept Across Sign-in Ltd")
    page.fill("#id_notes", "Typed before the session ended")
    page.select_option("#id_plan", "enterprise")
    was_active = page.is_checked("#id_is_active")
    page.set_checked("#id_is_active", not was_active)

    page.context.clear_cookies()  # the session ends while the form is open
    page.click("form[data-warn-unsaved] button[type=submit]")
    on_sign_in_page(page)
    kept = drafts(page)  # in this tab's sessionStorage, without the CSRF token
    assert len(kept) == 1
    names = {f["n"] for f in kept[0]["fields"]}
    assert {"name", "notes", "plan", "is_active"} <= names
    assert "csrf_token" not in names and old_token not in json.dumps(kept)
    sign_in_again(page)

    page.wait_for_url(edit)
    notice = page.locator("form[data-warn-unsaved] [data-input-restored]")
    notice.wait_for()
    assert "Your input is back in the form" in notice.inner_text()
    assert page.input_value("#id_name") == "Kept Across Sign-in Ltd"
    assert page.input_value("#id_notes") == "Typed before the session ended"
    assert page.input_value("#id_plan") == "enterprise"
    assert page.is_checked("#id_is_active") is (not was_active)
    # A fresh token, the page's own; the draft is gone once restored.
    token = page.input_value("form[data-warn-unsaved] input[name=csrf_token]")
    assert token != old_token
    assert token == page.get_attribute('meta[name="csrf-token"]', "content")
    assert drafts(page) == []
    shot(page, "session-expiry-restored")

    page.click("form[data-warn-unsaved] button[type=submit]")
    page.wait_for_url(f"{demo.url}/admin/accounts/1/")
    page.locator("#toasts", has_text="was saved").wait_for()
    assert "Kept Across Sign-in Ltd" in page.locator("main").inner_text()
    assert "Typed before the session ended" in page.locator("main").inner_text()


def test_an_inline_cell_saved_after_expiry_opens_again_with_its_input(page, demo):
    tickets = f"{demo.url}/admin/tickets/?sort=id&status=open"
    sign_in(page, tickets, "support")
    button = page.locator('button[data-cell-edit][hx-get$="/cell/status"]').first
    cell_url = button.get_attribute("hx-get")
    editor = page.locator(f'form[hx-post="{cell_url}"] select')
    button.click()
    editor.wait_for()
    editor.select_option("pending")

    page.context.clear_cookies()
    editor.press("Enter")  # inline_edit.js: Enter saves a select
    on_sign_in_page(page)
    assert [d["fields"][-1]["v"] for d in drafts(page)] == ["pending"]
    sign_in_again(page)

    page.wait_for_url(tickets)
    editor.wait_for()  # the cell's editor opened again, holding the input
    assert editor.input_value() == "pending"
    page.locator("#toasts", has_text="Your input is back in the form").wait_for()
    assert drafts(page) == []

    editor.press("Enter")
    page.locator(f'form[hx-post="{cell_url}"]').wait_for(state="detached")
    saved = page.locator(f'button[data-cell-edit][hx-get="{cell_url}"]')
    assert saved.inner_text().strip() == "Pending"


def test_a_chosen_foreign_key_comes_back_with_its_label(page, demo):
    edit = f"{demo.url}/admin/orders/1/edit"
    sign_in(page, edit, "support")
    value = page.locator("[data-fk-picker] input[data-fk-value][name=account_id]")
    search = page.locator("[data-fk-picker]:has(input[name=account_id]) [data-fk-search]")
    was = value.input_value()
    search.fill("a")
    choice = page.locator(f"[data-fk-picker] button[role=option][data-value]:not([data-value='{was}'])").first
    choice.wait_for()
    chosen, label = choice.get_attribute("data-value"), choice.get_attribute("data-label")
    choice.click()
    assert value.input_value() == chosen and search.input_value() == label

    page.context.clear_cookies()
    page.click("form[data-warn-unsaved] button[type=submit]")
    on_sign_in_page(page)
    sign_in_again(page)

    page.wait_for_url(edit)
    page.locator("[data-input-restored]").wait_for()
    assert value.input_value() == chosen
    assert search.input_value() == label  # the label, not the key, in the search box
    page.click("form[data-warn-unsaved] button[type=submit]")
    page.wait_for_url(f"{demo.url}/admin/orders/1/")
    assert label in page.locator("main").inner_text()


def test_a_row_changed_meanwhile_answers_with_the_conflict_not_an_overwrite(page, demo, browser):
    """The restored form keeps the version it was opened on."""
    edit = f"{demo.url}/admin/accounts/2/edit"
    sign_in(page, edit, "support")
    page.fill("#id_notes", "Mine, typed before the session ended")
    page.context.clear_cookies()
    page.click("form[data-warn-unsaved] button[type=submit]")
    on_sign_in_page(page)

    with browser_page(browser) as colleague:  # someone else saves the account meanwhile
        sign_in(colleague, edit, "support")
        colleague.fill("#id_email", "changed-meanwhile@example.com")
        colleague.click("form[data-warn-unsaved] button[type=submit]")
        colleague.wait_for_url(f"{demo.url}/admin/accounts/2/")

    sign_in_again(page)
    page.wait_for_url(edit)
    page.locator("[data-input-restored]").wait_for()
    assert page.input_value("#id_notes") == "Mine, typed before the session ended"
    page.click("form[data-warn-unsaved] button[type=submit]")
    conflict = page.locator("form[data-warn-unsaved] table", has_text="What changed meanwhile")
    conflict.wait_for()
    assert "changed-meanwhile@example.com" in conflict.inner_text()
    assert page.input_value("#id_notes") == "Mine, typed before the session ended"
