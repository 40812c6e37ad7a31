"""A French support agent: the browser asks for French, the admin answers in French, with
French dates and numbers, in the markup and in what the scripts say."""

import re

import pytest

from conftest import browser_page, docs_shot, serve_demo, sign_in
from hyper_admin.i18n import translations_for

FRENCH = translations_for("fr")


@pytest.fixture(scope="module")
def demo(tmp_path_factory, browser):
    yield from serve_demo(tmp_path_factory, "demo-fr", rows=300)


@pytest.fixture
def french_page(browser):
    with browser_page(browser, locale="fr-FR") as page:
        yield page


def test_a_french_agent_works_in_french(french_page, demo):
    page = french_page
    page.goto(f"{demo.url}/admin/")
    page.wait_for_url(re.compile(r"/admin/login"))
    assert page.locator("html").get_attribute("lang") == "fr"
    assert page.locator("button[type=submit]").inner_text().strip() == FRENCH.ugettext("Sign in")

    sign_in(page, f"{demo.url}/admin/orders/", "support")
    assert page.locator("h1").inner_text().strip() != ""
    search = page.locator("input[name=q]")
    assert search.get_attribute("placeholder") != "Search…"
    # Dates in the list are French ("25 nov. 2026, 14:03"), counts use French separators.
    first_rows = page.locator("#main table tbody").inner_text()
    assert re.search(r"\b\d{1,2} (janv|févr|mars|avr|mai|juin|juil|août|sept|oct|nov|déc)\.? \d{4}",
                     first_rows), first_rows[:500]
    docs_shot(page, "list-fr")

    # What the scripts say comes from the same catalog (the JSON block the layout renders).
    toggle = page.locator("[data-theme-toggle]")
    toggle.click()
    label = toggle.get_attribute("aria-label")
    assert label in (FRENCH.ugettext("Switch to light theme"), FRENCH.ugettext("Switch to dark theme"))
    assert "Switch" not in label


def test_a_french_agent_reads_french_names_and_types_a_comma(french_page, demo):
    """One language at a time: the model's French name in every sentence, worded for its gender
    ("Ajouter une commande"), the count in words, a total typed "893,50" saved and shown so."""
    page = french_page
    sign_in(page, f"{demo.url}/admin/orders/", "support")
    order, orders = FRENCH.ugettext("Order").lower(), FRENCH.ugettext("Orders").lower()
    add = FRENCH.upgettext("feminine", "Add %(model)s") % {"model": order}
    assert add == "Ajouter une commande"
    assert page.locator("#main").get_by_role("link", name=add).count() == 1
    page.wait_for_function("() => !document.querySelector('#list-count .loading')")
    assert re.fullmatch(rf"[\d\u202f ]+ {orders}", page.locator("#list-count").inner_text().split("·")[0].strip())
    page.locator("#main table tbody tr a").first.click()
    page.wait_for_url(re.compile(r"/admin/orders/\d+/$"))
    page.locator("#main").get_by_role("link", name=FRENCH.ugettext("Edit")).first.click()
    page.wait_for_url(re.compile(r"/edit$"))
    total = page.locator("input[name=total]")
    assert "," in total.input_value()  # shown as lists show it
    total.fill("893,50")
    page.locator("#main form button[type=submit]").first.click()
    page.wait_for_url(re.compile(r"/admin/orders/\d+/$"))
    toast = page.locator("#toasts").inner_text()
    assert "enregistrée" in toast and "Commande « " in toast, toast
    assert "893,50" in page.locator("#main").inner_text()
