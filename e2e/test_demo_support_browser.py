"""A support agent replies on a ticket of the demo in Chromium: the reply appears in the
conversation without the page being loaded again."""

import re

import pytest

from conftest import serve_demo, shot, sign_in


@pytest.fixture(scope="module")
def demo(tmp_path_factory, browser):
    yield from serve_demo(tmp_path_factory, "demo_support", rows=200)


def test_an_agent_replies_on_a_ticket_and_the_reply_appears_in_place(page, demo):
    sign_in(page, f"{demo.url}/admin/tickets/", "support")
    page.locator("table tbody tr a.r").first.click()
    page.wait_for_url(re.compile(r"/admin/tickets/\d+/$"))
    ticket_url = page.url
    panel = page.locator("#panel-conversation")
    reply = panel.locator("textarea[name=body]")
    reply.wait_for()  # the conversation is a panel: it loads after the page
    before = panel.locator("li[id^=comment-]").count()
    # A marker that a page load would wipe out.
    page.evaluate("() => { window.__sameDocument = true; }")

    reply.fill("We sent a replacement today.\nThe tracking number follows by e-mail.")
    panel.locator("input[name=is_internal]").check()
    panel.locator("button[type=submit]").click()

    comments = page.locator("#panel-conversation li[id^=comment-]")
    comments.nth(before).wait_for()
    assert comments.count() == before + 1
    last = comments.last
    assert "We sent a replacement today." in last.inner_text()
    assert "The tracking number follows by e-mail." in last.inner_text()
    assert "Internal note" in last.inner_text()
    assert page.locator("#panel-conversation textarea[name=body]").input_value() == ""
    assert page.evaluate("() => window.__sameDocument === true")  # no page reload
    assert page.url == ticket_url  # no navigation, no history entry
    assert last.locator("span.font-medium").inner_text() == "Sam Support"  # who signed in
    shot(page, "ticket-conversation")
