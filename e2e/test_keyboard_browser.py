"""Working fast in Chromium: the command palette, the keyboard shortcuts, confirmations in a
<dialog>, lists as cards on a phone, and the hover prefetch of row pages.

The screenshots of docs/screens.md's "Working fast" (docs/images/palette*.png,
shortcuts-help.png, list-phone.png) are taken here.
"""

import re

import pytest

from conftest import browser_page, docs_shot, serve_demo, sign_in



@pytest.fixture(scope="module")
def demo(tmp_path_factory, browser):
    yield from serve_demo(tmp_path_factory, "keyboard", rows=300)



def is_open(page, dialog_id: str) -> bool:
    return page.evaluate(f"document.getElementById('{dialog_id}').open")


def active(page) -> str:
    return page.evaluate("document.activeElement && (document.activeElement.id || document.activeElement.outerHTML.slice(0, 80))")


def test_palette_by_keyboard_alone(page, demo):
    from playwright.sync_api import expect

    sign_in(page, f"{demo.url}/admin/", "support")
    page.keyboard.press("Control+k")
    expect(page.locator("#palette")).to_be_visible()
    assert active(page) == "palette-input"
    # Opened empty: the models the user may view, loaded once.
    expect(page.locator("#palette-results [role=option]").first).to_be_visible()
    assert page.locator("#palette-results a[href='/admin/orders/']").count() == 1
    assert page.locator("#palette-results a[href='/admin/staff_users/']").count() == 0

    page.keyboard.type("ORD-00001")
    expect(page.locator("#palette-results a[href^='/admin/orders/'][href$='/']").nth(1)).to_be_visible()
    input_ = page.locator("#palette-input")
    first = input_.get_attribute("aria-activedescendant")
    assert first and page.locator(f"#{first}").get_attribute("aria-selected") == "true"
    page.keyboard.press("ArrowDown")
    second = input_.get_attribute("aria-activedescendant")
    assert second != first
    target = page.locator(f"#{second}").get_attribute("href")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(re.escape(target) + "$"))
    assert not is_open(page, "palette")

    # Esc closes, and focus goes back where it was (the top bar's button).
    page.locator("[data-palette-open]").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#palette")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator("#palette")).to_be_hidden()
    assert page.evaluate("document.activeElement.matches('[data-palette-open]')")


def test_palette_screenshots_light_and_dark(page, demo):
    from playwright.sync_api import expect

    sign_in(page, f"{demo.url}/admin/orders/", "admin")
    page.click("[data-palette-open]")
    page.keyboard.type("ord")
    expect(page.locator("#palette-results a[href^='/admin/orders/'][href$='/']").nth(2)).to_be_visible()
    page.keyboard.press("ArrowDown")
    page.wait_for_timeout(200)
    docs_shot(page, "palette")
    page.keyboard.press("Escape")
    page.click("[data-theme-toggle]")
    page.keyboard.press("Control+k")
    page.keyboard.type("ord")
    expect(page.locator("#palette-results a[href^='/admin/orders/'][href$='/']").nth(2)).to_be_visible()
    page.keyboard.press("ArrowDown")
    page.wait_for_timeout(200)
    docs_shot(page, "palette-dark")


def test_help_dialog_and_list_keys(page, demo):
    from playwright.sync_api import expect

    sign_in(page, f"{demo.url}/admin/tickets/", "support")
    page.keyboard.press("?")
    expect(page.locator("#shortcuts-help")).to_be_visible()
    assert "Keyboard shortcuts" in page.locator("#shortcuts-help").inner_text()
    docs_shot(page, "shortcuts-help")
    page.keyboard.press("Escape")
    expect(page.locator("#shortcuts-help")).to_be_hidden()

    # / focuses the search; letters typed there are text, not shortcuts.
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.name") == "q"
    page.keyboard.type("jk?")
    assert page.locator("#main form[role=search] input[name=q]").input_value() == "jk?"
    assert not is_open(page, "shortcuts-help")
    page.locator("#main form[role=search] input[name=q]").fill("")
    page.evaluate("document.activeElement.blur()")

    # j j Enter opens the second row; e edits it; g d goes to the dashboard.
    rows = page.locator("#list-results tbody.ha-rows > tr")
    page.keyboard.press("j")
    page.keyboard.press("j")
    assert rows.nth(1).get_attribute("data-row-cursor") == ""
    assert rows.nth(0).get_attribute("data-row-cursor") is None
    href = rows.nth(1).locator("a.r").get_attribute("href")
    page.keyboard.press("k")
    page.keyboard.press("j")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(re.escape(href) + "$"))
    page.keyboard.press("e")
    page.wait_for_url(re.compile(re.escape(href) + "edit$"))
    expect(page.locator("form input[name=subject]")).to_be_visible()
    # Typing in the form is typing: "g d" there stays in the field.
    page.locator("input[name=subject]").press("End")
    page.keyboard.type(" gd")
    assert page.url.endswith("edit")
    page.evaluate("document.activeElement.blur()")
    asked = []
    page.once("dialog", lambda d: (asked.append(d.message), d.accept()))  # unsaved changes
    page.keyboard.press("g")
    page.keyboard.press("d")
    page.wait_for_url(re.compile(r"/admin/$"))
    assert asked and "not saved" in asked[0]


def test_delete_confirmation_in_a_dialog_cancelled_then_confirmed_by_keyboard(page, demo):
    from playwright.sync_api import expect

    sign_in(page, f"{demo.url}/admin/ticket_comments/", "admin")
    link = page.locator("#list-results a.r").first
    detail = link.get_attribute("href")
    link.click()
    page.wait_for_url(re.compile(re.escape(detail) + "$"))

    # Without JavaScript the confirmation is a page of its own, at the link's URL.
    plain = page.request.get(f"{demo.url}{detail}delete")
    assert plain.status == 200 and "<main" in plain.text() and "HX-Retarget" not in plain.headers

    delete = page.locator("#main a:has-text('Delete')")
    # htmx takes over the link once it has processed the swapped page (before that, Enter
    # follows it as a plain link: the no-JS confirmation page, which is not what this tests).
    page.wait_for_function("el => !!el['htmx-internal-data']", arg=delete.element_handle())
    delete.focus()
    page.keyboard.press("Enter")
    dialog = page.locator("#confirm-dialog")
    expect(dialog).to_be_visible()
    assert "Yes, delete" in dialog.inner_text()
    assert page.evaluate("document.activeElement.textContent.trim()") == "Cancel"
    assert page.url.endswith(detail)  # the address bar did not move
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    assert page.url.endswith(detail)

    delete.focus()
    page.keyboard.press("Enter")
    expect(dialog).to_be_visible()
    page.wait_for_timeout(100)  # htmx's settle (20 ms) focuses [autofocus] once more
    page.keyboard.press("Shift+Tab")  # from Cancel to "Yes, delete"
    assert "Yes, delete" in page.evaluate("document.activeElement.textContent")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/admin/ticket_comments/$"))
    expect(dialog).to_be_hidden()
    expect(page.locator("#toasts")).to_contain_text("deleted")
    assert page.goto(f"{demo.url}{detail}").status == 404


def test_bulk_confirmation_in_a_dialog(page, demo):
    from playwright.sync_api import expect

    sign_in(page, f"{demo.url}/admin/ticket_comments/", "admin")
    boxes = page.locator("#list-results tbody input[name=pk]")
    boxes.nth(0).check()
    boxes.nth(1).check()
    page.click("#bulk-form button:has-text('Apply to selected')")
    dialog = page.locator("#confirm-dialog")
    expect(dialog).to_be_visible()
    assert "Delete 2" in dialog.inner_text()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    assert page.url.endswith("/admin/ticket_comments/")


def test_phone_list_is_cards(browser, demo):
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2,
                                  is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        sign_in(page, f"{demo.url}/admin/orders/", "support")
        row = page.locator("#list-results tbody.ha-rows > tr").first
        assert row.evaluate("r => getComputedStyle(r).display") == "flex"
        assert page.locator("#list-results thead").evaluate("t => getComputedStyle(t).display") == "block"
        box = row.bounding_box()
        assert box["width"] > 300 and box["height"] > 40  # a card across the screen
        link = row.locator("a.r").bounding_box()
        other = row.locator("td:not(.m)").last.bounding_box()
        assert other["y"] > link["y"]  # the other values wrap below the row's link
        # The row's menu button ends the link's line.
        menu = row.locator("td.m button").bounding_box()
        assert abs(menu["y"] + menu["height"] / 2 - (link["y"] + link["height"] / 2)) < 8
        assert menu["x"] + menu["width"] <= 390 and menu["x"] > link["x"] + link["width"]
        assert page.evaluate("document.scrollingElement.scrollWidth") <= 390
        # Each value says which column it is, from the table's headers.
        labelled = row.evaluate("""r => Array.from(r.cells)
            .filter(c => !c.querySelector('a.r, input[name=pk]') && !c.classList.contains('e')
                         && !c.classList.contains('m'))
            .map(c => [c.dataset.label, getComputedStyle(c, '::before').content])""")
        headers = page.locator("#list-results thead th").all_inner_texts()
        assert labelled and all(label in [h.strip() for h in headers] for label, _ in labelled)
        assert all(label in before for label, before in labelled), labelled
        # The filter panel starts folded on a phone: the rows come first.
        assert page.locator("details[data-filter-panel]").evaluate("d => d.open") is False
        docs_shot(page, "list-phone")
        # The navigation is a drawer.
        assert not page.locator("#nav").is_visible()
        page.click("label[for=admin-drawer]")
        page.wait_for_timeout(300)
        assert page.locator("#nav").is_visible()
    finally:
        context.close()


def test_prefetch_one_request_per_hovered_link_used_by_the_click(page, demo):
    from playwright.sync_api import expect

    sign_in(page, f"{demo.url}/admin/orders/", "support")
    requests = []
    page.on("request", lambda r: requests.append(r))

    def to(path):
        return [r for r in requests if r.url.endswith(path)]

    links = page.locator("#list-results a.r")
    first = links.nth(0).get_attribute("href")
    links.nth(0).hover()
    page.wait_for_timeout(400)
    links.nth(0).hover()  # hovering again asks nothing more
    page.wait_for_timeout(200)
    assert len(to(first)) == 1
    assert to(first)[0].headers.get("x-hyper-admin-prefetch") == "1"
    links.nth(0).click()
    page.wait_for_url(re.compile(re.escape(first) + "$"))
    expect(page.locator("#main h1")).not_to_have_text("Orders")
    assert len(to(first)) == 1  # the click used the prefetched answer

    # Passing over a link quickly asks nothing.
    page.go_back()
    page.wait_for_url(re.compile(r"/admin/orders/$"))
    links = page.locator("#list-results a.r")
    third = links.nth(2).get_attribute("href")
    requests.clear()
    page.mouse.move(0, 0)
    links.nth(2).hover()
    page.mouse.move(0, 0)
    page.wait_for_timeout(300)
    assert to(third) == []

    # A slow link: the click comes before the prefetch's answer, and waits for it.
    second = links.nth(1).get_attribute("href")

    def slow(route):
        page.wait_for_timeout(700)
        route.continue_()

    page.route(re.compile(re.escape(second) + "$"), slow)
    links.nth(1).hover()
    page.wait_for_timeout(150)
    links.nth(1).click()
    page.wait_for_url(re.compile(re.escape(second) + "$"))
    expect(page.locator("#main h1")).not_to_have_text("Orders")
    assert len(to(second)) == 1


def test_no_prefetch_with_save_data(browser, demo):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.add_init_script("Object.defineProperty(navigator, 'connection', "
                            "{value: {saveData: true, effectiveType: '4g'}})")
    page = context.new_page()
    try:
        sign_in(page, f"{demo.url}/admin/orders/", "support")
        requests = []
        page.on("request", lambda r: requests.append(r.url))
        link = page.locator("#list-results a.r").first
        href = link.get_attribute("href")
        link.hover()
        page.wait_for_timeout(400)
        assert not [u for u in requests if u.endswith(href)]
        link.click()
        page.wait_for_url(re.compile(re.escape(href) + "$"))
        assert len([u for u in requests if u.endswith(href)]) == 1
    finally:
        context.close()


def test_focus_moves_to_the_new_page_heading_after_a_swap(page, demo):
    """A followed link is replaced by the new page: focus starts at its heading, as after a
    page load, and the next Tab goes on inside the new page, not back in the sidebar."""
    sign_in(page, f"{demo.url}/admin/orders/", "admin")
    link = page.locator("#list-results a.r").first
    page.wait_for_function("el => !!el['htmx-internal-data']", arg=link.element_handle())
    detail = link.get_attribute("href")
    link.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(re.escape(detail) + "$"))
    page.wait_for_function("() => document.activeElement && document.activeElement.tagName === 'H1'")
    assert page.evaluate("() => document.activeElement.closest('#main') !== null")
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.closest('#main') !== null")


def test_e_on_a_row_only_where_the_user_may_change_rows(browser, demo):
    """``e`` on the highlighted row opens its edit form for a user who may change rows; for a
    read-only user it does nothing (no request that would only answer 403)."""
    for who, edits in (("viewer", False), ("support", True)):
        with browser_page(browser) as page:
            _edit_highlighted_row(page, demo, who, edits)


def _edit_highlighted_row(page, demo, who, edits):
    sign_in(page, f"{demo.url}/admin/orders/", who)
    page.wait_for_function("() => document.querySelector('#list-results a.r') && document"
                           ".querySelector('#list-results a[hx-get]')['htmx-internal-data']")
    page.keyboard.press("j")
    href = page.locator("#list-results tr[data-row-cursor] a.r").get_attribute("href")
    requests = []
    page.on("request", lambda r: requests.append(r.url) if r.url.endswith("/edit") else None)
    page.keyboard.press("e")
    if edits:
        page.wait_for_url(re.compile(re.escape(href) + "edit$"))
    else:
        page.wait_for_timeout(300)  # a request would have started at once: none did
        assert page.url.endswith("/admin/orders/") and requests == []
