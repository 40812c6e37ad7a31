"""A support agent edits in Chromium what the demo's forms hold besides fields: an order's lines
inline, a ticket's tags (the chips picker, by keyboard), a reply written on the ticket's form,
the save buttons (Ctrl+S is "Save and continue editing"), and a staff user's own password.

Each task runs in one document: after signing in, every step is a click or a key (htmx), and a
marker set on ``window`` at the start must still be there at the end (a page load would wipe
it out). axe checks the new screens in both themes and both languages. The screenshots of
docs/forms.md (docs/images/order-lines-edited.png, password-page.png) are taken here
(inline-order-lines.png is test_inline_forms_browser.py's).
"""

import json
import re
from urllib.parse import parse_qs, urlsplit
from decimal import Decimal

import pytest
from sqlorm import SQL

from conftest import browser_page, docs_shot, serve_demo, sign_in
from test_accessibility_browser import THEME_KEY, format_violations, run_axe, settle

pytestmark = pytest.mark.browser

SCREEN = {"width": 1440, "height": 900}  # the documentation's screenshots


@pytest.fixture(scope="module")
def demo(tmp_path_factory, browser):
    yield from serve_demo(tmp_path_factory, "editing", rows=60)


def rows(demo, sql: str, *params) -> list[dict]:
    """What the demo's database holds now (``?`` placeholders, SQL.Param each)."""
    engine = demo.server.app.extensions["hyper_admin_demo"]["engine"]
    pieces = sql.split("?")
    query = [pieces[0]]
    for param, piece in zip(params, pieces[1:]):
        query += [SQL.Param(param), piece]
    with engine as tx:
        return [dict(r) for r in tx.fetchall(SQL(*query))]


def mark_document(page) -> None:
    page.evaluate("() => { window.__sameDocument = true; }")


def same_document(page) -> bool:
    return page.evaluate("() => window.__sameDocument === true")


def open_edit_form(page):
    """The detail page's Edit button (a boosted link: htmx swaps the page's main part)."""
    page.locator("#main a[href$='/edit']").first.click()
    page.wait_for_url(re.compile(r"/edit$"))
    page.locator("#main form [data-save-buttons]").wait_for()
    settle(page)


def search_for(page, search, text: str) -> None:
    """Type ``text`` in a picker's search box and wait for the options htmx asks for it (the
    box asked once already, for everything, when it got the focus)."""
    search.focus()

    def asked(response) -> bool:
        return parse_qs(urlsplit(response.url).query).get("q") == [text]

    with page.expect_response(asked):
        page.keyboard.type(text)
    settle(page)


def pick(page, search, text: str, expect: str) -> None:
    """Search for ``text``, go down to the first option (which must be ``expect``) and press
    Enter."""
    search_for(page, search, text)
    page.keyboard.press("ArrowDown")
    assert expect in page.evaluate("() => document.activeElement.textContent")
    page.keyboard.press("Enter")


def scroll_to(page, selector: str, block: str) -> None:
    """Scroll ``selector`` to the top (``start``, clear of the sticky header) or the bottom
    (``end``) of the window, for a screenshot."""
    page.locator(selector).evaluate(
        "(el, block) => { el.scrollIntoView({block}); window.scrollBy(0, block === 'start' "
        "? -64 : 16); }", block)


# --- an order's lines ---------------------------------------------------------------------------


def test_an_agent_edits_an_orders_lines_inline_without_a_page_load(browser, demo):
    order = rows(demo, "SELECT order_id FROM order_lines GROUP BY order_id "
                       "HAVING count(*) >= 2 ORDER BY order_id LIMIT 1")[0]["order_id"]
    before = rows(demo, "SELECT id, product_id, quantity FROM order_lines WHERE order_id = ? "
                        "ORDER BY id", order)
    product = rows(demo, "SELECT id, sku, name FROM products WHERE is_active = ? AND id NOT IN "
                         "(SELECT product_id FROM order_lines WHERE order_id = ?) ORDER BY id "
                         "LIMIT 1", True, order)[0]
    with browser_page(browser, viewport=SCREEN) as page:
        sign_in(page, f"{demo.url}/admin/orders/{order}/", "support")
        mark_document(page)
        open_edit_form(page)
        section = page.locator("[data-inline=order_lines]")
        initial = len(before)
        assert section.locator("tbody[data-inline-row][data-existing]").count() == initial

        page.fill("#id_order_lines-0-quantity", "7")
        page.check("input[name=order_lines-1-DELETE]")
        assert section.locator("tbody[data-inline-row='1']").get_attribute("data-removed") is not None
        # The blank row the form offers is dropped; "Add another" brings one over htmx.
        section.locator(f"tbody[data-inline-row='{initial}'] [data-inline-drop]").click()
        assert section.locator(f"tbody[data-inline-row='{initial}']").count() == 0
        section.locator("button[data-inline-add]").click()
        new = section.locator(f"tbody[data-inline-row='{initial + 1}']")
        new.wait_for()
        assert page.input_value("#id_order_lines-TOTAL_FORMS") == str(initial + 2)

        pick(page, new.locator("[data-fk-search]"), product["sku"], product["sku"])
        assert new.locator("input[data-fk-value]").input_value() == str(product["id"])
        new.locator("input[name$='-quantity']").fill("3")
        new.locator("input[name$='-unit_price']").fill("19.90")
        scroll_to(page, "[data-save-buttons]", "end")  # the lines and the buttons
        page.mouse.move(0, 0)  # no button shown hovered
        docs_shot(page, "order-lines-edited")

        page.locator("[data-save-buttons] button[name=_save]").click()
        page.wait_for_url(re.compile(rf"/admin/orders/{order}/$"))
        settle(page)
        after = rows(demo, "SELECT id, product_id, quantity, unit_price FROM order_lines "
                           "WHERE order_id = ? ORDER BY id", order)
        kept = {r["id"]: r for r in after}
        assert kept[before[0]["id"]]["quantity"] == 7
        assert before[1]["id"] not in kept
        added = [r for r in after if r["id"] not in {b["id"] for b in before}]
        assert [(r["product_id"], r["quantity"], Decimal(str(r["unit_price"]))) for r in added] \
            == [(product["id"], 3, Decimal("19.90"))]
        assert len(after) == initial  # one removed, one added
        lines = page.locator("#main aside").inner_text()
        assert f"3 × {product['name']}" in lines
        assert same_document(page)


# --- a ticket's tags ----------------------------------------------------------------------------


def test_an_agent_tags_a_ticket_by_keyboard_and_filters_the_list_by_tag(browser, demo):
    ticket = rows(demo, "SELECT id FROM tickets WHERE id NOT IN (SELECT ticket_id FROM "
                        "ticket_tags) ORDER BY id LIMIT 1")[0]["id"]
    tags = {r["name"]: r["id"] for r in rows(demo, "SELECT id, name FROM tags")}
    with browser_page(browser, viewport=SCREEN) as page:
        sign_in(page, f"{demo.url}/admin/tickets/{ticket}/", "support")
        mark_document(page)
        open_edit_form(page)
        picker = page.locator("[data-m2m-picker][data-name=tags]")
        search = picker.locator("[data-m2m-search]")
        chips = picker.locator("[data-m2m-chip]")
        assert chips.count() == 0

        pick(page, search, "bil", "Billing")          # ArrowDown to the option, Enter
        chips.first.wait_for()
        assert page.evaluate("() => document.activeElement.matches('[data-m2m-search]')")
        search_for(page, search, "ref")                 # Enter in the box: the first option
        page.keyboard.press("Enter")
        search_for(page, search, "vi")
        page.keyboard.press("Enter")
        assert chips.all_inner_texts() == ["Billing", "Refund", "VIP"]
        page.keyboard.press("Backspace")                # the empty box: the last chip goes
        assert chips.all_inner_texts() == ["Billing", "Refund"]
        assert picker.locator("[data-m2m-status]").inner_text() == "VIP −"

        page.locator("[data-save-buttons] button[name=_save]").focus()
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(rf"/admin/tickets/{ticket}/$"))
        settle(page)
        shown = page.locator("#main dl [data-chip]").all_inner_texts()
        assert shown == ["Billing", "Refund"]
        assert {r["tag_id"] for r in rows(demo, "SELECT tag_id FROM ticket_tags WHERE "
                                                "ticket_id = ?", ticket)} \
            == {tags["Billing"], tags["Refund"]}

        page.locator("nav[aria-label=Breadcrumb] a[href$='/admin/tickets/']").click()
        page.wait_for_url(re.compile(r"/admin/tickets/$"))
        settle(page)
        row = page.locator("#main table tbody tr", has=page.locator(f"a.r[href$='/tickets/{ticket}/']"))
        assert "Billing" in row.inner_text() and "Refund" in row.inner_text()
        assert same_document(page)

        # The filter panel offers "is empty / is not empty" for tags; one tag is ?tags=<id>.
        page.goto(f"{demo.url}/admin/tickets/?tags={tags['Refund']}")
        settle(page)
        listed = page.locator("#main table tbody a.r").all_inner_texts()
        tagged = {str(r["ticket_id"]) for r in rows(
            demo, "SELECT ticket_id FROM ticket_tags WHERE tag_id = ?", tags["Refund"])}
        assert str(ticket) in listed
        assert set(listed) == tagged


# --- the save buttons ---------------------------------------------------------------------------


def test_ctrl_s_saves_and_stays_and_save_and_add_another_opens_a_blank_form(browser, demo):
    ticket = rows(demo, "SELECT id FROM tickets ORDER BY id DESC LIMIT 1 OFFSET 2")[0]["id"]
    with browser_page(browser, viewport=SCREEN) as page:
        sign_in(page, f"{demo.url}/admin/tickets/{ticket}/", "support")
        mark_document(page)
        open_edit_form(page)
        page.fill("#id_subject", "Parcel lost between Lyon and Turin")
        page.keyboard.press("Control+s")
        page.locator("#toasts .alert-success", has_text="was saved.").wait_for()
        settle(page)
        assert page.url.endswith(f"/admin/tickets/{ticket}/edit")
        assert page.input_value("#id_subject") == "Parcel lost between Lyon and Turin"
        assert rows(demo, "SELECT subject FROM tickets WHERE id = ?", ticket)[0]["subject"] \
            == "Parcel lost between Lyon and Turin"

        page.fill("#id_subject", "Parcel found in Turin")
        page.locator("[data-save-buttons] button[name=_addanother]").click()
        page.wait_for_url(re.compile(r"/admin/tickets/new$"))
        settle(page)
        assert page.input_value("#id_subject") == ""
        assert page.locator("[data-m2m-picker][data-name=tags] [data-m2m-chip]").count() == 0
        assert rows(demo, "SELECT subject FROM tickets WHERE id = ?", ticket)[0]["subject"] \
            == "Parcel found in Turin"
        assert same_document(page)


# --- a reply on the ticket's form ---------------------------------------------------------------


def test_a_reply_written_on_the_tickets_form_shows_in_the_conversation(browser, demo):
    # The ticket with the shortest conversation: its tags, the conversation and the reply
    # fit the documentation's screenshot.
    ticket = rows(demo, "SELECT ticket_id FROM ticket_comments GROUP BY ticket_id "
                        "ORDER BY count(*), ticket_id LIMIT 1")[0]["ticket_id"]
    with browser_page(browser, viewport=SCREEN) as page:
        sign_in(page, f"{demo.url}/admin/tickets/{ticket}/", "support")
        mark_document(page)
        open_edit_form(page)
        section = page.locator("[data-inline=comments]")
        new = section.locator("[data-inline-row]:not([data-existing])")
        assert new.count() == 1
        new.locator("textarea[name$='-body']").fill("Refund issued today.\nIt shows within 5 days.")
        new.locator("input[name$='-is_internal']").check()
        tags = page.locator("[data-m2m-picker][data-name=tags]")
        pick(page, tags.locator("[data-m2m-search]"), "deli", "Delivery")
        tags.locator("[data-m2m-chip]", has_text="Delivery").wait_for()
        settle(page)
        page.keyboard.press("Escape")  # the options reopen for the next tag: closed
        assert tags.locator("[role=listbox]").is_hidden()

        page.locator("[data-save-buttons] button[name=_save]").click()
        page.wait_for_url(re.compile(rf"/admin/tickets/{ticket}/$"))
        comment = page.locator("#panel-conversation li[id^=comment-]").last
        comment.wait_for()
        settle(page)
        assert "Refund issued today." in comment.inner_text()
        assert "It shows within 5 days." in comment.inner_text()
        assert "Internal note" in comment.inner_text()
        assert comment.locator("span.font-medium").first.inner_text() == "Sam Support"
        assert same_document(page)


# --- the password page --------------------------------------------------------------------------


def test_a_staff_user_changes_their_password_and_signs_in_with_it(browser, demo):
    with browser_page(browser, viewport=SCREEN) as page:
        sign_in(page, f"{demo.url}/admin/", "viewer")
        mark_document(page)
        page.locator("header .dropdown > [role=button]").click()
        page.get_by_role("link", name="Change password").click()
        page.wait_for_url(re.compile(r"/admin/password$"))
        settle(page)
        assert same_document(page)  # the menu's link: no page load
        docs_shot(page, "password-page")
        page.fill("input[name=old_password]", "viewer")
        page.fill("input[name=new_password]", "harbour-lights-42")
        page.fill("input[name=new_password_confirm]", "harbour-lights-42")
        page.locator("#main form button[type=submit]").click()
        # A full-page POST on purpose (password.html): the session is a new one, and so are
        # the page's CSRF tokens.
        page.wait_for_url(re.compile(r"/admin/$"))
        page.locator("#toasts .alert-success", has_text="Your password was changed.").wait_for()

        page.locator("header .dropdown > [role=button]").click()
        page.get_by_role("button", name="Sign out").click()
        page.wait_for_url(re.compile(r"/admin/login"))
        page.fill("input[name=username]", "viewer")
        page.fill("input[name=password]", "viewer")
        page.click("button[type=submit]")
        page.locator("[role=alert]").wait_for()  # the old password no longer signs in
        page.fill("input[name=username]", "viewer")
        page.fill("input[name=password]", "harbour-lights-42")
        page.click("button[type=submit]")
        page.wait_for_url(re.compile(r"/admin/$"))
        assert "Val Viewer" in page.locator("header .dropdown").inner_text()


# --- axe: the new screens, light and dark, English and French ------------------------------------


def _order_edit(page, base):
    order = 3
    page.goto(f"{base}/admin/orders/{order}/edit")
    page.locator("[data-inline=order_lines] button[data-inline-add]").click()  # a row added over htmx
    page.locator("[data-inline=order_lines] tbody[data-inline-row]").nth(2).wait_for()


def _ticket_edit(page, base):
    page.goto(f"{base}/admin/tickets/2/edit")
    page.locator("[data-m2m-search]").focus()  # the options open under the chips
    page.locator("[data-m2m-picker] [role=listbox]:not([hidden]) [role=option]").first.wait_for()


def _password(page, base):
    page.goto(f"{base}/admin/password")
    page.locator("input[name=old_password]").wait_for()


SCREENS = {"order-edit": _order_edit, "ticket-edit": _ticket_edit, "password": _password}


@pytest.fixture(scope="module")
def agents(browser, demo):
    """A signed-in support agent per language."""
    made = {}
    for language, locale in (("en", "en-US"), ("fr", "fr-FR")):
        context = browser.new_context(viewport={"width": 1280, "height": 800}, locale=locale)
        page = context.new_page()
        sign_in(page, f"{demo.url}/admin/", "support")
        page.close()
        made[language] = context
    yield made
    for context in made.values():
        context.close()


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize("screen", list(SCREENS))
def test_no_wcag_violations_on_the_editing_screens(screen, theme, language, agents, demo):
    page = agents[language].new_page()
    try:
        page.add_init_script(f"localStorage.setItem({json.dumps(THEME_KEY)}, {json.dumps(theme)})")
        SCREENS[screen](page, demo.url)
        settle(page)
        assert page.evaluate("document.documentElement.dataset.theme") == theme
        assert page.locator("html").get_attribute("lang") == language
        violations = run_axe(page)
        assert not violations, (f"{len(violations)} WCAG 2.1 A/AA violations on {screen} "
                                f"({theme}, {language}):\n" + format_violations(violations))
    finally:
        page.close()
