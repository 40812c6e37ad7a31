"""The admin's Content-Security-Policy, enforced by Chromium, never gets in the way: walking the
demo's main screens (dashboard, list, filter, sort, detail, edit and save, palette, shortcuts,
delete dialog, live list, inline edit) reports no policy violation.

Violations are caught twice: Chromium's console message ("... violates the following Content
Security Policy directive ...") and the document's ``securitypolicyviolation`` event, listened
to from an init script on every page. htmx's ``htmx:evalDisallowedError`` (an ``hx-on``, a
``js:`` value or an ``hx-trigger`` filter it was told not to evaluate) counts too. The test ends
by injecting an inline script itself: both channels must report it, so a quiet walk means
the policy held, not that nothing was listening.
"""

import re
import sqlite3

import pytest

from conftest import serve_demo, sign_in

LISTENER = """
(() => {
  const report = (text) => window.__hyperAdminCspReport && window.__hyperAdminCspReport(text);
  document.addEventListener("securitypolicyviolation", (event) => {
    report(`securitypolicyviolation: ${event.violatedDirective} blocked ${event.blockedURI || "inline"}`
           + ` at ${event.sourceFile || location.pathname}:${event.lineNumber}`);
  }, true);
  document.addEventListener("htmx:evalDisallowedError", (event) => {
    report(`htmx:evalDisallowedError on ${event.target && event.target.outerHTML.slice(0, 120)}`);
  }, true);
})();
"""


@pytest.fixture(scope="module")
def demo(tmp_path_factory, browser):
    yield from serve_demo(tmp_path_factory, "csp", rows=300,
                          config={"HYPER_ADMIN_LIVE_INTERVAL": 0.2})


class Violations:
    """What the page reported, by channel: the console and the DOM event (with htmx's)."""

    def __init__(self, page):
        self.console: list[str] = []
        self.events: list[str] = []
        page.expose_function("__hyperAdminCspReport", lambda text: self.events.append(text))
        page.add_init_script(LISTENER)
        page.on("console", self._console)
        page.on("pageerror", lambda error: self._console_text(f"page error: {error}"))

    def _console(self, message):
        self._console_text(message.text)

    def _console_text(self, text: str):
        if "Content Security Policy" in text or "EvalError" in text:
            self.console.append(text)

    @property
    def all(self) -> list[str]:
        return self.console + self.events


def settle(page):
    """htmx done: the page loaded, nothing busy, no request, swap or settle in flight."""
    page.wait_for_load_state("load")
    page.wait_for_function(
        "() => window.htmx && !document.querySelector("
        "'[aria-busy=true], .htmx-request, .htmx-settling, .htmx-swapping')")


def insert_open_ticket(demo, subject: str) -> None:
    """A ticket written by another process (the live list's pill counts it)."""
    uri = demo.server.app.extensions["hyper_admin_demo"]["url"]
    with sqlite3.connect(uri.split("://", 1)[1], timeout=10) as conn:
        account = conn.execute("SELECT min(id) FROM accounts").fetchone()[0]
        conn.execute("INSERT INTO tickets (account_id, subject, status, priority) "
                      "VALUES (?, ?, 'open', 'high')", (account, subject))


def walk_list_filter_sort_detail_edit(page, demo):
    from playwright.sync_api import expect

    page.click("#nav >> text=Orders")  # a boosted link: the list swapped into #main
    page.wait_for_url(re.compile(r"/admin/orders/$"))
    settle(page)
    paid = page.locator("#facet-status a", has_text="Paid").first
    paid.click()
    page.wait_for_url(re.compile(r"status=paid"))
    settle(page)
    page.click("thead a:has-text('Total')")
    page.wait_for_url(re.compile(r"sort=total"))
    settle(page)
    link = page.locator("#list-results a.r").first
    detail = link.get_attribute("href")
    link.click()
    page.wait_for_url(re.compile(re.escape(detail) + "$"))
    settle(page)
    page.locator("#main a:has-text('Edit')").first.click()
    page.wait_for_url(re.compile(re.escape(detail) + "edit$"))
    page.fill("#id_total", "321.09")
    page.click("button:has-text('Save')")  # answered with HX-Location (json)
    page.wait_for_url(re.compile(re.escape(detail) + "$"))
    expect(page.locator("#toasts")).to_contain_text("saved")
    settle(page)


def walk_palette_and_shortcuts(page):
    from playwright.sync_api import expect

    page.keyboard.press("Control+k")
    expect(page.locator("#palette")).to_be_visible()
    page.keyboard.type("ORD-0000")
    expect(page.locator("#palette-results a[href^='/admin/orders/'][href$='/']").first).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator("#palette")).to_be_hidden()
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    page.keyboard.press("?")
    expect(page.locator("#shortcuts-help")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator("#shortcuts-help")).to_be_hidden()


def walk_delete_dialog(page, demo):
    from playwright.sync_api import expect

    page.goto(f"{demo.url}/admin/ticket_comments/")
    link = page.locator("#list-results a.r").first
    detail = link.get_attribute("href")
    link.click()
    page.wait_for_url(re.compile(re.escape(detail) + "$"))
    delete = page.locator("#main a:has-text('Delete')")
    page.wait_for_function("el => !!el['htmx-internal-data']", arg=delete.element_handle())
    delete.click()  # retargeted into the layout's <dialog> (HX-Retarget, HX-Reswap, HX-Push-Url)
    dialog = page.locator("#confirm-dialog")
    expect(dialog).to_be_visible()
    dialog.locator("button", has_text="Yes, delete").click()
    page.wait_for_url(re.compile(r"/admin/ticket_comments/$"))
    expect(page.locator("#toasts")).to_contain_text("deleted")
    settle(page)


def walk_live_list_and_inline_edit(page, demo):
    from playwright.sync_api import expect

    page.goto(f"{demo.url}/admin/tickets/?status=open")
    settle(page)
    toggle = page.locator("[data-live-toggle]")
    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "true")
    page.locator("[data-live-stream]").wait_for(state="attached")
    page.wait_for_timeout(500)  # the stream's first answer
    insert_open_ticket(demo, "Seen live under the CSP")
    pill = page.locator("#live-pill")
    expect(pill).to_be_visible(timeout=10_000)
    pill.click()  # the rows' answer carries HX-Trigger {"hyper-admin-live": {"since": ...}}
    rows = page.locator("#bulk-form table tbody tr")
    expect(rows.first).to_contain_text("Seen live under the CSP")
    page.locator("[data-live-toggle]").click()
    expect(page.locator("[data-live-toggle]")).to_have_attribute("aria-pressed", "false")
    settle(page)

    cell = page.locator("table tbody tr").first.locator("td").nth(4)  # checkbox, id, subject, account, status
    cell.locator("[data-cell-edit], button").first.click()
    select = cell.locator("select")
    select.wait_for()
    settle(page)  # the editor swapped in and settled: htmx has processed its form
    select.select_option("pending")
    select.press("Enter")  # inline_edit.js saves a select on Enter
    page.wait_for_function(
        "el => !el.querySelector('select') && el.innerText.toLowerCase().includes('pending')",
        arg=cell.element_handle())
    settle(page)


def test_walking_the_main_screens_violates_no_content_security_policy(page, demo):
    violations = Violations(page)
    sign_in(page, f"{demo.url}/admin/", "admin")
    settle(page)  # the dashboard's panels, each loaded by htmx
    assert "script-src 'self';" in page.request.get(f"{demo.url}/admin/").headers[
        "content-security-policy"]

    walk_list_filter_sort_detail_edit(page, demo)
    walk_palette_and_shortcuts(page)
    walk_delete_dialog(page, demo)
    walk_live_list_and_inline_edit(page, demo)
    page.reload()
    settle(page)
    assert page.evaluate("document.documentElement.dataset.theme") in ("light", "dark")  # theme.js ran
    assert not violations.all, "\n".join(violations.all)

    # The check itself: an inline script is refused, and both channels say so.
    page.evaluate("""() => {
        const script = document.createElement("script");
        script.textContent = "window.__inlineRan = true";
        document.head.append(script);
    }""")
    page.wait_for_function("() => true")  # let the event and the console message arrive
    page.wait_for_timeout(200)
    assert page.evaluate("() => window.__inlineRan === undefined")
    assert any("script-src" in text for text in violations.events), violations.events
    assert any("Content Security Policy" in text for text in violations.console), violations.console
