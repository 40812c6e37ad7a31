"""axe-core on every screen of the demo, in the light and the dark theme: no violation of the
WCAG 2.1 A and AA rules.

axe is the committed copy in e2e/vendor/ (scripts/vendor.mjs writes it; no Node needed here).
One demo server and one signed-in browser context serve the whole module; each screen × theme
is a test of its own, on a new page of that context.
"""

import json
import re
import tempfile
from pathlib import Path

import pytest

from conftest import SCREENSHOTS, serve_demo, sign_in

pytestmark = pytest.mark.browser

AXE = (Path(__file__).resolve().parent / "vendor" / "axe.min.js").read_text(encoding="utf-8")
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    "resultTypes": ["violations"],
}
THEMES = ("light", "dark")
THEME_KEY = "hyper-admin-theme"  # templates/hyper_admin/base.html, static/admin.js


def registered_slugs() -> list[str]:
    """Every model the demo registers (hyper_admin/demo/app.py register_models), read from an
    unseeded instance when the tests are collected: a new model gets its list scanned."""
    from hyper_admin.demo.app import create_app

    with tempfile.TemporaryDirectory() as folder:
        app = create_app(f"sqlite://{folder}/slugs.db")
        return sorted(app.extensions["hyper_admin"]["hyper_admin"].admin.registry)


MODEL_SLUGS = registered_slugs()


@pytest.fixture(scope="module")
def demo(tmp_path_factory, browser):
    yield from serve_demo(tmp_path_factory, "a11y", rows=120)


def _signed_in(browser, demo, who, **options):
    context = browser.new_context(viewport={"width": 1280, "height": 800}, **options)
    page = context.new_page()
    sign_in(page, f"{demo.url}/admin/", who)
    page.close()
    return context


@pytest.fixture(scope="module")
def contexts(browser, demo):
    """Browser contexts by who is signed in: "anonymous", "admin", "viewer", and "admin-fr"
    (a browser asking for French)."""
    made = {
        "anonymous": browser.new_context(viewport={"width": 1280, "height": 800}),
        "admin": _signed_in(browser, demo, "admin"),
        "viewer": _signed_in(browser, demo, "viewer"),
        "admin-fr": _signed_in(browser, demo, "admin", locale="fr-FR"),  # the French catalog
    }
    yield made
    for context in made.values():
        context.close()


@pytest.fixture(scope="module")
def revert_url(contexts, demo):
    """An audited change to revert: order 5's total saved once through its form."""
    page = contexts["admin"].new_page()
    try:
        page.goto(f"{demo.url}/admin/orders/5/edit")
        page.fill("#id_total", "123.45")
        page.click("button:has-text('Save')")
        page.wait_for_url(re.compile(r"/admin/orders/5/$"))
        page.goto(f"{demo.url}/admin/orders/5/history")
        return page.locator("a:has-text('Revert')").first.get_attribute("href")
    finally:
        page.close()


# --- the screens: (who is signed in, how to get there on `page`) -------------------------------


def settle(page):
    """Wait for htmx to finish: the page loaded, no placeholder busy (dashboard panels, facet
    counts), no request in flight, no swap settling. (Quicker than "networkidle", which always
    waits half a second.)"""
    page.wait_for_load_state("load")
    # A function, not an expression string: the admin's CSP forbids eval.
    page.wait_for_function(
        "() => window.htmx && !document.querySelector("
        "'[aria-busy=true], .htmx-request, .htmx-settling, .htmx-swapping')")


def _goto(path):
    def open_(page, base, **_):
        page.goto(base + path)
    return open_


def _login_failed(page, base, **_):
    page.goto(base + "/admin/login")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", "not the password")
    page.click("button[type=submit]")
    page.locator("[role=alert]").wait_for()


def _dashboard(page, base, **_):
    page.goto(base + "/admin/")
    settle(page)
    assert page.locator("[data-panel-skeleton]").count() == 0


def _list_searched_and_filtered(page, base, **_):
    page.goto(base + "/admin/orders/?status=paid&currency=EUR")
    page.fill("input[name=q]", "OR")
    page.wait_for_url(re.compile(r"q=OR"))
    settle(page)
    assert page.locator("#filter-panel").is_visible()


def _filter_picker_open(page, base, **_):
    page.goto(base + "/admin/tickets/")
    settle(page)
    box = page.locator("#filter-panel [data-fk-search]").first
    box.focus()
    page.keyboard.type("a")
    page.locator("#filter-panel [role=listbox] [role=option]").first.wait_for()
    settle(page)


def _saved_views_open(page, base, **_):
    page.goto(base + "/admin/orders/")
    page.click("#saved-views > summary")
    page.locator("#saved-views-list:not([hx-get])").wait_for()
    settle(page)


def _columns_open(page, base, **_):
    page.goto(base + "/admin/orders/")
    page.click("#column-chooser > summary")
    page.locator("#column-chooser form").wait_for()


def _account_menu_open(page, base, **_):
    page.goto(base + "/admin/")
    page.locator("header .dropdown > [role=button]").focus()
    page.locator("form[action$='/logout']").wait_for()
    settle(page)


def _invalid_form(page, base, **_):
    page.goto(base + "/admin/products/new")
    page.locator("form [name]:not([type=hidden])").first.wait_for()
    # Required fields left empty and a price that is not a number: the server answers 400.
    page.evaluate("""() => { for (const el of document.querySelectorAll('#main form [required]'))
                               el.removeAttribute('required'); }""")
    price = page.locator("#id_price")
    price.evaluate("el => el.type = 'text'")
    price.fill("not a price")
    page.click("#main button[type=submit]")
    page.locator("#main .text-error, #main [role=alert], #main [aria-invalid=true]").first.wait_for()


def _bulk_confirm(page, base, **_):
    page.goto(base + "/admin/orders/")
    page.locator("tbody input[name=pk]").nth(0).check()
    page.locator("tbody input[name=pk]").nth(1).check()
    page.select_option("#bulk-action", "mark_shipped")
    page.click("#bulk-form button[type=submit]")
    page.locator("input[name=confirmed]").wait_for(state="attached")


def _delete_from_detail(page, base, **_):
    """The confirmation as the detail page's Delete opens it (a dialog where admin.js makes
    one, else the page)."""
    page.goto(base + "/admin/ticket_comments/2/")
    page.click("#main a[href$='/delete']")
    page.locator("button:has-text('Yes, delete')").wait_for()


def _revert_preview(page, base, revert_url, **_):
    page.goto(base + revert_url)


SCREENS = {
    "login": ("anonymous", _goto("/admin/login")),
    "login-failed": ("anonymous", _login_failed),
    "dashboard": ("admin", _dashboard),
    **{f"list-{slug}": ("admin", _goto(f"/admin/{slug}/")) for slug in MODEL_SLUGS},
    "list-searched-filtered": ("admin", _list_searched_and_filtered),
    "list-empty": ("admin", _goto("/admin/orders/?q=no+such+order+anywhere")),
    "filter-picker-open": ("admin", _filter_picker_open),
    "saved-views-open": ("admin", _saved_views_open),
    "columns-open": ("admin", _columns_open),
    "account-menu-open": ("admin", _account_menu_open),
    "detail": ("admin", _goto("/admin/accounts/3/")),
    "detail-order": ("admin", _goto("/admin/orders/3/")),
    "detail-ticket": ("admin", _goto("/admin/tickets/3/")),  # its conversation and reply box
    "edit": ("admin", _goto("/admin/orders/3/edit")),
    "add": ("admin", _goto("/admin/contacts/new")),
    "form-invalid": ("admin", _invalid_form),
    "delete-confirm": ("admin", _goto("/admin/accounts/4/delete")),
    "delete-from-detail": ("admin", _delete_from_detail),
    "history": ("admin", _goto("/admin/orders/5/history")),
    "history-empty": ("admin", _goto("/admin/orders/6/history")),
    "revert-preview": ("admin", _revert_preview),
    "bulk-confirm": ("admin", _bulk_confirm),
    "audit-list": ("admin", _goto("/admin/audit/")),
    "error-403": ("viewer", _goto("/admin/staff_users/")),
    "error-404": ("admin", _goto("/admin/no-such-page/")),
    "fr-list": ("admin-fr", _goto("/admin/orders/?status=paid")),
    "fr-edit": ("admin-fr", _goto("/admin/orders/3/edit")),
    "fr-history": ("admin-fr", _goto("/admin/orders/5/history")),
}


def format_violations(violations) -> str:
    lines = []
    for v in violations:
        lines.append(f"{v['id']} ({v['impact']}): {v['help']}  {v['helpUrl']}")
        for node in v["nodes"][:8]:
            summary = (node.get("failureSummary") or "").replace("\n", " ")
            lines.append(f"    {' '.join(map(str, node['target']))}: {summary}")
        if len(v["nodes"]) > 8:
            lines.append(f"    … and {len(v['nodes']) - 8} more")
    return "\n".join(lines)


def run_axe(page) -> list[dict]:
    if not page.evaluate("() => !!window.axe"):
        # Evaluated through the DevTools protocol, which the page's CSP does not govern: a
        # <script> element holding axe (add_script_tag) would be an inline script it refuses.
        page.evaluate(AXE)
    return page.evaluate("options => axe.run(document, options).then(r => r.violations)",
                         AXE_OPTIONS)


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("screen", list(SCREENS))
def test_no_wcag_violations(screen, theme, contexts, demo, revert_url):
    who, open_screen = SCREENS[screen]
    page = contexts[who].new_page()
    try:
        page.add_init_script(f"localStorage.setItem({json.dumps(THEME_KEY)}, {json.dumps(theme)})")
        open_screen(page, demo.url, revert_url=revert_url)
        settle(page)
        assert page.evaluate("document.documentElement.dataset.theme") == theme
        violations = run_axe(page)
        if violations:  # the whole of axe's answer, for whoever fixes them
            SCREENSHOTS.mkdir(exist_ok=True)
            (SCREENSHOTS / f"axe-{screen}-{theme}.json").write_text(json.dumps(violations, indent=1))
        assert not violations, (f"{len(violations)} WCAG 2.1 A/AA violations on {screen} "
                                f"({theme}):\n" + format_violations(violations))
    finally:
        page.close()
