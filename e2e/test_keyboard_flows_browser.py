"""Keyboard only, in Chromium: create, edit, filter and delete with Tab, Shift+Tab, Enter, Space,
arrows and Esc; no clicks, and text typed only into the element that has focus. Every focus
stop on the way must show where focus is (an outline or a box-shadow on the element, or on the
daisyUI field around it).

Pages are opened by URL (page.goto) at the start of a flow; everything after is keys.
"""

import re

import pytest

from conftest import serve_demo, shot, sign_in

pytestmark = pytest.mark.browser

#: What has focus, and whether it is shown: the element's own outline or box-shadow, or the
#: ring daisyUI draws on the field wrapping an input (label.input, .select, .textarea).
FOCUSED = """() => {
  const el = document.activeElement;
  // The heading admin.js focuses after a page swap is where Tab starts, not a stop.
  if (!el || el === document.body || el.matches('#main h1[tabindex="-1"]')) return null;
  const shows = (e) => {
    const s = getComputedStyle(e);
    return (s.outlineStyle !== "none" && parseFloat(s.outlineWidth) > 0) || s.boxShadow !== "none";
  };
  const field = el.parentElement && el.parentElement.closest(".input, .select, .textarea");
  return {
    tag: el.tagName.toLowerCase(), id: el.id, name: el.getAttribute("name"),
    type: el.getAttribute("type"), role: el.getAttribute("role"),
    href: el.getAttribute("href"), value: "value" in el ? el.value : null,
    text: (el.getAttribute("aria-label") || el.innerText || "").trim().replace(/\\s+/g, " "),
    visible: shows(el) || (field !== null && shows(field)),
  };
}"""


@pytest.fixture(scope="module")
def demo(tmp_path_factory, browser):
    yield from serve_demo(tmp_path_factory, "keyboard", rows=60)


@pytest.fixture(scope="module")
def context(browser, demo):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    sign_in(page, f"{demo.url}/admin/", "admin")
    page.close()
    yield context
    context.close()


@pytest.fixture
def page(context):
    page = context.new_page()
    yield page
    page.close()


def focused(page) -> dict | None:
    return page.evaluate(FOCUSED)


def assert_focus_visible(page, where: str) -> dict:
    now = focused(page)
    assert now is not None, f"{where}: focus is lost (on <body>)"
    assert now["visible"], f"{where}: focus is not visible on {now}"
    return now


def tab_to(page, matches, *, back=False, limit=80, where="") -> dict:
    """Press Tab (Shift+Tab with ``back``) until the focused element satisfies ``matches``;
    every stop on the way must show its focus. Past the last control focus leaves the page
    (<body>) once, then starts again from the top."""
    key = "Shift+Tab" if back else "Tab"
    seen = []
    wrapped = False
    for _ in range(limit):
        # A swap still settling would move focus to the new page's heading after this key.
        page.wait_for_function(
            "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')")
        page.keyboard.press(key)
        if focused(page) is None and not wrapped:
            wrapped = True
            seen.append("<body>")
            continue
        now = assert_focus_visible(page, f"{where} after {key} past {seen[-3:]}")
        if matches(now):
            return now
        seen.append(now["text"][:30] or now["name"] or now["tag"])
    raise AssertionError(f"{where}: nothing matching after {limit} × {key}: {seen}")


def text_is(label):
    return lambda f: f["text"] == label


def named(name):
    return lambda f: f["name"] == name


def type_here(page, text, *, replace=False):
    """Type into the focused element (select its content first with ``replace``)."""
    if replace:
        page.keyboard.press("ControlOrMeta+A")
    page.keyboard.type(text)


def test_create_then_edit_a_contact(page, demo):
    page.goto(f"{demo.url}/admin/contacts/")
    tab_to(page, text_is("Add contact"), where="contacts list")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/admin/contacts/new$"))

    tab_to(page, named("name"), where="add form")
    type_here(page, "Kim Keyboard")
    tab_to(page, named("email"), where="add form")
    type_here(page, "kim@keyboard.example")
    # The account: type into the picker, arrow down to the first option, Enter takes it.
    box = tab_to(page, lambda f: f["role"] == "combobox", where="add form")
    assert box["id"] == "id_account_id"
    with page.expect_response(re.compile(r"/admin/accounts/lookup\?q=a")):
        type_here(page, "a")
    listbox = page.locator("#id_account_id-options")
    listbox.locator("button[role=option]").first.wait_for()
    page.keyboard.press("Escape")  # closes the options, focus stays in the box
    assert listbox.is_hidden()
    assert assert_focus_visible(page, "options closed")["id"] == "id_account_id"
    page.keyboard.press("ArrowDown")  # opens them again on the first option
    option = assert_focus_visible(page, "first account option")
    assert option["role"] == "option"
    page.keyboard.press("Enter")
    chosen = assert_focus_visible(page, "account chosen")
    assert chosen["id"] == "id_account_id" and chosen["value"] == option["text"]
    assert page.locator("input[type=hidden][name=account_id]").input_value() != ""

    tab_to(page, text_is("Save"), where="add form")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/admin/contacts/\d+/$"))
    assert "was added" in page.locator("#toasts").inner_text() or \
        "was saved" in page.locator("#toasts").inner_text()
    assert "kim@keyboard.example" in page.locator("main").inner_text()
    detail_url = page.url

    # Edit: the detail page's Edit, a changed phone, Shift+Tab back to the name, Save.
    tab_to(page, text_is("Edit"), where="contact detail")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/edit$"))
    tab_to(page, named("phone"), where="edit form")
    type_here(page, "+44 20 7946 0000", replace=True)
    tab_to(page, named("name"), back=True, where="edit form")
    type_here(page, "Kim Keys", replace=True)
    tab_to(page, text_is("Save"), where="edit form")
    page.keyboard.press("Enter")
    page.wait_for_url(detail_url)
    main = page.locator("main").inner_text()
    assert "Kim Keys" in main and "+44 20 7946 0000" in main
    shot(page, "keyboard-contact-edited")


def test_filter_a_list(page, demo):
    page.goto(f"{demo.url}/admin/accounts/")
    summary = tab_to(page, lambda f: f["tag"] == "summary" and f["text"].startswith("Filters"),
                     where="accounts list")
    panel = page.locator("details:has(#filter-panel)")
    assert panel.get_attribute("open") is not None
    page.keyboard.press("Enter")  # fold the panel...
    assert panel.get_attribute("open") is None
    page.keyboard.press("Enter")  # ...and open it again
    assert panel.get_attribute("open") is not None
    assert summary["visible"]

    tab_to(page, lambda f: f["tag"] == "a" and f["text"].startswith("Pro"), where="filter panel")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"plan=pro"))
    chip = page.locator("[data-filter-chip]")
    chip.wait_for()
    assert "Pro" in chip.inner_text()
    plans = page.locator("#list-results tbody tr td:nth-child(4)").all_inner_texts()
    assert plans and set(plans) == {"Pro"}
    # Focus stays where the user was: on the option just chosen, now marked current.
    page.wait_for_function("() => !document.querySelector('[aria-busy=true], .htmx-request')")
    now = assert_focus_visible(page, "after choosing the filter")
    assert now["text"].startswith("Pro"), now
    assert page.locator("#filter-panel a[aria-current=true]").inner_text().startswith("Pro")

    # The chip's × removes it again.
    tab_to(page, lambda f: f["text"].startswith("Remove filter Plan"), where="filtered list")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/admin/accounts/$"))
    assert page.locator("[data-filter-chip]").count() == 0


def test_delete_a_row_through_its_confirmation(page, demo):
    page.goto(f"{demo.url}/admin/ticket_comments/")
    # The first row's link, from the top of the page.
    row = tab_to(page, lambda f: f["tag"] == "a" and re.search(r"/ticket_comments/\d+/$", f["href"] or ""),
                 where="comments list")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/admin/ticket_comments/\d+/$"))
    detail_url = page.url
    assert detail_url.endswith(row["href"])

    tab_to(page, text_is("Delete"), where="comment detail")
    page.keyboard.press("Enter")
    page.locator("button:has-text('Yes, delete')").wait_for()
    # A confirmation dialog starts on its Cancel (Enter alone deletes nothing): "Yes, delete"
    # is one Shift+Tab before it. (A confirmation page is searched backwards the same way.)
    page.wait_for_function("() => document.activeElement !== document.body || "
                           "location.pathname.endsWith('/delete')")
    tab_to(page, text_is("Yes, delete"), back=True, where="delete confirmation")
    page.keyboard.press("Space")
    page.wait_for_url(re.compile(r"/admin/ticket_comments/$"))
    assert "was deleted" in page.locator("#toasts").inner_text()
    assert page.request.get(detail_url).status == 404


def test_sorting_and_paging_keep_focus_in_the_list(page, demo):
    """A list swap replaces the link that had focus: focus lands on its counterpart in the new
    list (the same column's header, the next-page link), not on <body>."""
    page.goto(f"{demo.url}/admin/orders/?per_page=10")
    header = tab_to(page, lambda f: f["tag"] == "a" and (f["href"] or "").find("sort=") >= 0,
                    where="orders list")
    with page.expect_response(re.compile(r"/admin/orders/\?.*sort=")):
        page.keyboard.press("Enter")
    page.wait_for_function(
        "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')")
    now = assert_focus_visible(page, "after sorting")
    assert now["tag"] == "a" and "sort=" in (now["href"] or "") and now["text"] == header["text"]
    assert page.evaluate("() => document.getElementById('list-results').contains(document.activeElement)")

    tab_to(page, lambda f: f["tag"] == "a" and "after=" in (f["href"] or ""), where="sorted list")
    with page.expect_response(re.compile(r"/admin/orders/\?.*after=")):
        page.keyboard.press("Enter")
    page.wait_for_function(
        "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')")
    now = assert_focus_visible(page, "after the next page")
    assert page.evaluate("() => document.activeElement.getAttribute('rel')") == "next"


def test_live_toggle_answers_space(page, demo):
    page.goto(f"{demo.url}/admin/tickets/")
    tab_to(page, lambda f: f["role"] == "button" and f["tag"] == "a" and f["text"] == "Live",
           where="tickets list")
    assert page.locator("[data-live-toggle]").get_attribute("aria-pressed") == "false"
    with page.expect_response(re.compile(r"/admin/tickets/\?.*live=1")):
        page.keyboard.press("Space")
    page.wait_for_function(
        "() => document.querySelector('[data-live-toggle]').getAttribute('aria-pressed') === 'true'")
    assert "live=1" in page.url
