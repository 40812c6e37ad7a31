"""The list screen as a person sees it (issue 16, items 5, 6 and 9), in Chromium on the demo:
which rows a page shows and where Next and Back leave the reader, the phone's first screen,
badges that stay visible on every kind of row in both themes, columns that hold still while a
cell is edited, a sidebar as tall as the page, no 404 for a favicon.

Screenshots: e2e/screenshots/list-screen-*.png (1440×900 and 390×844, light and dark).
"""

import re
import time

import pytest

from conftest import SCREENSHOTS, browser_page, serve_demo, shot, sign_in

DESKTOP = {"width": 1440, "height": 900}
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True,
         "has_touch": True}


@pytest.fixture(scope="module")
def demo(tmp_path_factory, browser):
    yield from serve_demo(tmp_path_factory, "list-screen", rows=400)


def screen(page, name: str) -> None:
    """What is on screen (not the whole page: this is about what the first screen shows), in
    e2e/screenshots/<name>.png."""
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def settled(page) -> None:
    page.wait_for_function("() => !document.querySelector('.htmx-request, #list-count[hx-get]')")


def range_text(page) -> str:
    return re.sub(r"\s+", " ", page.locator("[data-list-range]").inner_text()).strip()


def scroll_y(page) -> float:
    return page.evaluate("window.scrollY")


def list_top(page) -> float:
    return page.evaluate("document.getElementById('list-results').getBoundingClientRect().top")


def reloaded(page, timeout: float = 10.0) -> None:
    """Wait for the reload htmx makes on Back (historyCacheSize 0) to have loaded."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if page.evaluate("document.readyState === 'complete' && "
                             "performance.getEntriesByType('navigation')[0].type === 'reload'"):
                return
        except Exception:  # noqa: BLE001 - the page is being replaced: ask again
            pass
        page.wait_for_timeout(50)
    raise AssertionError("Back did not reload the list")


# --- 5. where am I -----------------------------------------------------------------------------


def test_pages_say_their_rows_and_previous_next_bring_the_list_top_into_view(browser, demo):
    with browser_page(browser, viewport=DESKTOP) as page:
        sign_in(page, f"{demo.url}/admin/orders/?per_page=25", "support")
        settled(page)
        assert range_text(page) == "1–25 of 400 orders"
        assert list_top(page) > 0 and scroll_y(page) == 0

        page.locator('a[rel="next"]').scroll_into_view_if_needed()
        assert list_top(page) < 0  # the top of the list is out of view, above
        page.locator('a[rel="next"]').click()
        page.wait_for_url(re.compile(r"after="))
        settled(page)
        assert range_text(page) == "26–50 of 400 orders"
        # The new page's first rows are in view, just under the sticky top bar.
        assert 40 <= list_top(page) <= 80, list_top(page)
        first = page.locator("#list-results tbody.ha-rows a.r").first
        assert first.inner_text() == "ORD-000375"  # the list's 26th order, newest first
        assert first.bounding_box()["y"] < DESKTOP["height"]
        screen(page, "list-screen-page-2")

        page.locator('a[rel="next"]').click()
        page.wait_for_url(re.compile(r"after="))
        settled(page)
        assert range_text(page) == "51–75 of 400 orders"
        page.locator('a[rel="prev"]').scroll_into_view_if_needed()
        page.locator('a[rel="prev"]').click()
        page.wait_for_url(re.compile(r"before="))
        settled(page)
        assert range_text(page) == "26–50 of 400 orders"
        assert 40 <= list_top(page) <= 80

        # A list short enough to see whole does not jump when paged.
        page.goto(f"{demo.url}/admin/orders/?per_page=5")
        settled(page)
        page.locator('a[rel="next"]').click()
        page.wait_for_url(re.compile(r"after="))
        settled(page)
        assert range_text(page) == "6–10 of 400 orders" and scroll_y(page) == 0


@pytest.mark.parametrize("prefetched", [False, True], ids=["click", "prefetched click"])
def test_back_from_a_row_returns_to_where_the_list_was_left(browser, demo, prefetched):
    with browser_page(browser, viewport=DESKTOP) as page:
        sign_in(page, f"{demo.url}/admin/orders/?per_page=100", "support")
        settled(page)
        row = page.locator("#list-results tbody.ha-rows a.r").nth(60)
        row.scroll_into_view_if_needed()
        page.mouse.wheel(0, 137)  # somewhere no link would scroll to by itself
        page.wait_for_timeout(100)
        left_at = scroll_y(page)
        assert left_at > 1500
        href = row.get_attribute("href")
        if prefetched:  # prefetch.js shows the row from its own fetch (its own pushState)
            row.hover()
            page.wait_for_timeout(300)
        row.click()
        page.wait_for_url(re.compile(re.escape(href) + "$"))
        settled(page)
        assert scroll_y(page) < 100  # the row's page starts at its top

        page.go_back()
        page.wait_for_url(re.compile(r"/admin/orders/\?per_page=100$"))
        reloaded(page)
        settled(page)
        assert abs(scroll_y(page) - left_at) <= 2, (scroll_y(page), left_at)
        # Opening the list afresh (a link, not Back) starts at the top.
        page.locator("#nav").get_by_role("link", name="Orders", exact=True).click()
        page.wait_for_url(re.compile(r"/admin/orders/$"))
        settled(page)
        assert scroll_y(page) == 0


# --- 6. on a phone -------------------------------------------------------------------------------


def test_phone_filters_start_closed_and_the_first_rows_are_on_the_first_screen(browser, demo):
    for theme in ("light", "dark"):
        with browser_page(browser, color_scheme=theme, **PHONE) as page:
            sign_in(page, f"{demo.url}/admin/orders/?status=paid&status=shipped", "support")
            settled(page)
            panel = page.locator("details[data-filter-panel]")
            assert panel.evaluate("d => d.open") is False
            assert page.locator("#filter-count").inner_text() == "Filters (2)"
            rows = page.locator("#list-results tbody.ha-rows > tr")
            first = rows.first.bounding_box()
            assert first["y"] + first["height"] <= 844, first
            assert not page.locator("[data-shortcuts-open]").is_visible()  # a touch screen
            screen(page, f"list-screen-phone-{theme}")

            # Opened, it stays open while filters change (list swaps keep it as it is).
            panel.locator("summary").click()
            assert panel.evaluate("d => d.open") is True
            page.locator("#facet-status a", has_text="Delivered").click()
            page.wait_for_url(re.compile(r"status=delivered"))
            settled(page)
            assert panel.evaluate("d => d.open") is True
            assert page.locator("#filter-count").inner_text() == "Filters (3)"

            # A boosted navigation to another list starts it closed again.
            page.click("label[for=admin-drawer]")
            page.click("#nav >> text=Tickets")
            page.wait_for_url(re.compile(r"/admin/tickets/$"))
            settled(page)
            assert page.locator("details[data-filter-panel]").evaluate("d => d.open") is False


def test_desktop_keeps_the_filter_sidebar_open_and_the_shortcuts_button(browser, demo):
    for theme in ("light", "dark"):
        with browser_page(browser, viewport=DESKTOP, color_scheme=theme) as page:
            sign_in(page, f"{demo.url}/admin/tickets/", "support")
            settled(page)
            assert page.locator("details[data-filter-panel]").evaluate("d => d.open") is True
            assert page.locator("[data-shortcuts-open]").is_visible()
            screen(page, f"list-screen-desktop-{theme}")


# --- 9. what a cell looks like ------------------------------------------------------------------

# Composites the backgrounds from the page down to an element in a canvas (which also turns
# any CSS colour, oklab or color-mix, into sRGB), as the eye sees them.
SEEN = """
([selector, index]) => {
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = 1;
  const ctx = canvas.getContext("2d", {willReadFrequently: true});
  const pixel = () => Array.from(ctx.getImageData(0, 0, 1, 1).data).slice(0, 3);
  const paint = (color) => { ctx.fillStyle = "#f0f"; ctx.fillStyle = color; ctx.fillRect(0, 0, 1, 1); };
  const badge = document.querySelectorAll(selector)[index];
  const chain = [];
  for (let el = badge.parentElement; el; el = el.parentElement) chain.unshift(el);
  paint(getComputedStyle(document.documentElement).backgroundColor === "rgba(0, 0, 0, 0)"
        ? "white" : getComputedStyle(document.documentElement).backgroundColor);
  for (const el of chain) paint(getComputedStyle(el).backgroundColor);
  const row = pixel();
  paint(getComputedStyle(badge).backgroundColor);
  const fill = pixel();
  paint(getComputedStyle(badge).color);
  const text = pixel();
  return {row, fill, text, tone: badge.className};
}
"""


def luminance(rgb) -> float:
    def channel(c):
        c /= 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a, b) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_badges_stay_visible_on_striped_hovered_and_selected_rows(browser, demo):
    for theme in ("light", "dark"):
        with browser_page(browser, viewport=DESKTOP, color_scheme=theme) as page:
            sign_in(page, f"{demo.url}/admin/tickets/?per_page=20", "support")
            settled(page)
            rows = page.locator("#list-results tbody.ha-rows > tr")
            page.keyboard.press("j")
            page.keyboard.press("j")  # the keyboard cursor on the second row (a striped one)
            rows.nth(4).hover()        # the pointer on the fifth
            page.wait_for_timeout(200)
            seen = {}
            for name, index in (("plain", 0), ("selected", 1), ("striped", 3), ("hovered", 4)):
                badge_index = page.evaluate(
                    "i => Array.from(document.querySelectorAll('#list-results .ha-badge'))"
                    ".indexOf(document.querySelectorAll('#list-results tbody.ha-rows > tr')[i]"
                    ".querySelector('.ha-badge'))", index)
                seen[name] = page.evaluate(SEEN, ["#list-results .ha-badge", badge_index])
            for name, colours in seen.items():
                row, fill, text = colours["row"], colours["fill"], colours["text"]
                # The badge stands out from its row, and its word is readable (WCAG AA).
                assert contrast(fill, row) >= 1.08 or max(abs(a - b) for a, b in zip(fill, row)) >= 10, \
                    (theme, name, colours)
                assert contrast(text, fill) >= 4.5, (theme, name, colours, contrast(text, fill))
            assert seen["striped"]["row"] != seen["plain"]["row"]  # the stripes are there
            screen(page, f"list-screen-badges-{theme}")


def test_editing_a_cell_keeps_every_column_where_it_was(browser, demo):
    with browser_page(browser, viewport=DESKTOP) as page:
        sign_in(page, f"{demo.url}/admin/tickets/?per_page=20", "support")
        settled(page)

        def widths():
            return page.eval_on_selector_all("#list-results thead th",
                                             "ths => ths.map(th => th.getBoundingClientRect().width)")
        before = widths()
        row = page.locator("#list-results tbody.ha-rows > tr").first
        column = row.evaluate("tr => Array.from(tr.cells).indexOf("
                              "Array.from(tr.querySelectorAll('[data-cell-edit]')).pop().closest('td'))")
        td = row.locator("> td").nth(column)  # the last editable cell: Priority, a narrow column
        td.locator("[data-cell-edit]").click()
        td.locator("select").wait_for()
        during = widths()
        assert all(abs(a - b) <= 1 for a, b in zip(before, during)), (before, during)
        screen(page, "list-screen-inline-edit")
        page.keyboard.press("Escape")
        td.locator("[data-cell-edit]").wait_for()
        after = widths()
        assert all(abs(a - b) <= 1 for a, b in zip(before, after)), (before, after)
        assert td.evaluate("td => td.style.width") == ""


def test_sidebar_runs_the_pages_full_height_and_its_navigation_stays_in_view(browser, demo):
    with browser_page(browser, viewport=DESKTOP) as page:
        sign_in(page, f"{demo.url}/admin/orders/?per_page=100", "support")
        settled(page)
        height = page.evaluate("document.documentElement.scrollHeight")
        side = page.locator(".drawer-side").bounding_box()
        assert height > 3 * DESKTOP["height"] and side["height"] >= height - 1
        shot(page, "list-screen-full-height")  # the whole page: the sidebar reaches its bottom
        page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
        page.wait_for_timeout(100)
        assert page.locator("#nav").get_by_role("link", name="Orders", exact=True).is_visible()
        top = page.locator(".drawer-side > aside").evaluate("a => a.getBoundingClientRect().top")
        assert abs(top) <= 1


def test_no_page_asks_for_something_that_is_not_there(browser, demo):
    with browser_page(browser, viewport=DESKTOP) as page:
        missing = []
        page.on("response", lambda r: missing.append(r.url) if r.status == 404 else None)
        sign_in(page, f"{demo.url}/admin/orders/", "support")
        settled(page)
        page.click("#nav >> text=Tickets")
        page.wait_for_url(re.compile(r"/admin/tickets/$"))
        settled(page)
        icon = page.locator('link[rel="icon"]').get_attribute("href")
        assert icon and page.request.get(demo.url + icon).status == 200
        assert missing == []
