"""Live lists in Chromium (issue 8): the demo's tickets with Live on follow the rows another
process inserts into the database. A pill "N new rows" appears without moving the table;
clicking it prepends the rows (tinted for a moment); rows outside the list's filter never
count; reload and Back keep ``live=1`` and reconnect; leaving the list or turning Live off
closes the EventSource (the page's requests to ``/live`` are counted as the browser sees them).

The demo polls every 0.2 s here, and ends each stream after 3 s (the browser reconnects), so
that a stream left open would show up as new requests. The screenshots of docs/dashboards.md
(docs/images/live-list.png, stuck-orders.png) are taken here.
"""

import re
import sqlite3

import pytest

from conftest import browser_page, docs_shot, serve_demo, shot, sign_in

INTERVAL = 0.2
MAX_SECONDS = 3
RETRY_MS = int(INTERVAL * 1000) + 1000  # the stream's "retry:" (views/live.py)


@pytest.fixture(scope="module")
def demo(tmp_path_factory, browser):
    yield from serve_demo(tmp_path_factory, "live", rows=3000, config={
        "HYPER_ADMIN_LIVE_INTERVAL": INTERVAL, "HYPER_ADMIN_LIVE_MAX_SECONDS": MAX_SECONDS})


def database(demo) -> sqlite3.Connection:
    """A connection of our own to the demo's SQLite file: another process's writes."""
    uri = demo.server.app.extensions["hyper_admin_demo"]["url"]
    return sqlite3.connect(uri.split("://", 1)[1], timeout=10)


def insert_tickets(demo, *statuses: str, subject: str = "Live") -> None:
    """One ticket per status, in one transaction, for the first account."""
    with database(demo) as conn:
        account = conn.execute("SELECT min(id) FROM accounts").fetchone()[0]
        conn.executemany(
            "INSERT INTO tickets (account_id, subject, status, priority) VALUES (?, ?, ?, 'high')",
            [(account, f"{subject} ({status})", status) for status in statuses])


class Streams:
    """The page's requests to the live stream (``/live?``, not ``/live/rows``) as the browser
    sees them: started, answered, and ended (finished, or aborted by EventSource.close())."""

    def __init__(self, page):
        self.page = page
        self.started, self.answered, self.ended = [], [], []
        page.on("request", lambda r: self._add(self.started, r))
        page.on("response", lambda r: self._add(self.answered, r))
        page.on("requestfinished", lambda r: self._add(self.ended, r))
        page.on("requestfailed", lambda r: self._add(self.ended, r))

    @staticmethod
    def _add(seen, r):
        if re.search(r"/admin/tickets/live\?", r.url):
            seen.append(r.url)

    @property
    def open(self) -> int:
        return len(self.started) - len(self.ended)

    def wait(self, predicate, what: str, timeout: float = 10.0):
        """Let the page's events arrive until ``predicate()`` holds (a deadline, no guess)."""
        waited = 0.0
        while not predicate():
            if waited > timeout:
                raise AssertionError(f"timed out waiting for {what}: {len(self.started)} started, "
                                     f"{len(self.ended)} ended")
            self.page.wait_for_timeout(50)
            waited += 0.05


def pill_text(page) -> str:
    return " ".join(page.locator("#live-pill").inner_text().split())


@pytest.fixture
def docs_page(browser):
    with browser_page(browser, viewport={"width": 1280, "height": 760}, color_scheme="light") as page:
        yield page



def test_docs_screenshots(docs_page, demo):
    from playwright.sync_api import expect

    page = docs_page
    sign_in(page, f"{demo.url}/admin/tickets/?status=open&live=1", "support")
    pill = page.locator("#live-pill")
    page.locator("[data-live-stream]").wait_for(state="attached")
    expect(pill).to_be_hidden()
    with database(demo) as conn:  # support sees the tickets of EU accounts
        account = conn.execute("SELECT min(id) FROM accounts WHERE region = 'eu'").fetchone()[0]
        conn.executemany(
            "INSERT INTO tickets (account_id, subject, status, priority) VALUES (?, ?, 'open', ?)",
            [(account, "Refund not received after return", "high"),
             (account, "Invoice address is wrong", "normal"),
             (account, "Parcel damaged on arrival", "urgent")])
    expect(pill).to_have_text(re.compile(r"3\s+new rows"), timeout=10_000)
    page.mouse.move(0, 0)
    docs_shot(page, "live-list")

    page.goto(f"{demo.url}/admin/stuck_orders/")
    expect(page.locator("#bulk-form table tbody tr").first).to_be_visible()
    page.mouse.move(0, 0)
    docs_shot(page, "stuck-orders")


def test_live_list_follows_new_rows(page, demo):
    from playwright.sync_api import expect

    streams = Streams(page)
    sign_in(page, f"{demo.url}/admin/tickets/?status=open", "admin")
    toggle = page.locator("[data-live-toggle]")
    expect(toggle).to_have_attribute("aria-pressed", "false")
    assert streams.started == []

    # Live on: the address says so and one stream opens, carrying the list's filter.
    toggle.click()
    page.wait_for_function("() => new URLSearchParams(location.search).get('live') === '1'")
    expect(toggle).to_have_attribute("aria-pressed", "true")
    streams.wait(lambda: streams.open == 1 and streams.answered, "the stream")
    assert "status=open" in streams.started[0] and "since=" in streams.started[0]
    pill = page.locator("#live-pill")
    expect(pill).to_be_hidden()

    # Two tickets in one transaction, one open (matches the filter), one solved (does not):
    # the pill counts one, in a polite live region, and the table does not move.
    table = page.locator("#bulk-form table")
    rows = table.locator("tbody tr")
    box, first_row, count = table.bounding_box(), rows.first.inner_text(), rows.count()
    insert_tickets(demo, "open", "solved", subject="Printer on fire")
    expect(pill).to_be_visible(timeout=10_000)
    assert pill_text(page) == "1 new row"
    assert page.locator("[aria-live=polite] #live-pill").count() == 1
    assert table.bounding_box() == box
    assert rows.first.inner_text() == first_row and rows.count() == count
    shot(page, "live-pill")

    # Click: the new row is prepended, tinted for a moment; the pill goes; the stream starts
    # again from the newest row shown.
    pill.click()
    expect(rows.first).to_contain_text("Printer on fire (open)")
    expect(rows.first).to_have_class(re.compile(r"\bha-new\b"))
    expect(pill).to_be_hidden()
    shot(page, "live-new-row")
    assert rows.count() == count + 1
    assert table.locator("tbody tr", has_text="Printer on fire (solved)").count() == 0
    expect(page.locator("tr.ha-new")).to_have_count(0, timeout=6_000)  # the tint fades out
    newest = page.evaluate("() => document.querySelector('[data-live-stream]').dataset.url")
    streams.wait(lambda: streams.open == 1 and streams.started[-1].endswith(newest.split("?")[1]),
                 "the stream started again from the new row")

    # A ticket outside the filter: no pill, through a whole stream and the reconnection that
    # follows it (a new stream counts from scratch and says its count first).
    insert_tickets(demo, "pending", subject="Not in this list")
    started = len(streams.started)
    streams.wait(lambda: len(streams.started) > started and streams.open == 1,
                 "the server to end the stream and the browser to reconnect", timeout=MAX_SECONDS + 5)
    answered = len(streams.answered)
    streams.wait(lambda: len(streams.answered) > answered, "the new stream's answer")
    page.wait_for_timeout(INTERVAL * 5 * 1000)
    expect(pill).to_be_hidden()

    # Reload keeps live=1 and reconnects (the old stream ends with the old page).
    started = len(streams.started)
    page.reload()
    expect(toggle).to_have_attribute("aria-pressed", "true")
    assert "live=1" in page.evaluate("location.search")
    streams.wait(lambda: len(streams.started) > started and streams.open == 1, "a stream after reload")

    # Leaving the list through the (boosted) navigation closes the stream; Back reopens it.
    page.click("#nav >> text=Orders")
    page.wait_for_function("() => location.pathname.endsWith('/admin/orders/')")
    streams.wait(lambda: streams.open == 0, "the stream to close when the list is left")
    started = len(streams.started)
    page.wait_for_timeout(RETRY_MS + 500)
    assert len(streams.started) == started, "a stream reconnected after the list was left"
    page.go_back()
    page.wait_for_function("() => location.search.includes('live=1')")
    expect(page.locator("[data-live-toggle]")).to_have_attribute("aria-pressed", "true")
    streams.wait(lambda: len(streams.started) > started and streams.open == 1, "a stream after Back")

    # Live off: the stream closes and nothing asks /live again.
    page.locator("[data-live-toggle]").click()
    page.wait_for_function("() => !location.search.includes('live=1')")
    expect(page.locator("[data-live-toggle]")).to_have_attribute("aria-pressed", "false")
    streams.wait(lambda: streams.open == 0, "the stream to close when Live is turned off")
    started = len(streams.started)
    page.wait_for_timeout(RETRY_MS + 500)
    assert len(streams.started) == started, "a stream reconnected after Live was turned off"
    assert page.locator("[data-live-stream], #live-pill").count() == 0
