"""The admin in the user's language: every string translatable, English and French complete,
the locale chosen per request, numbers and dates formatted per locale (docs/i18n.md)."""

import contextlib
import datetime as dt
import random
import re
from decimal import Decimal
from pathlib import Path

import pytest
from babel import dates as babel_dates
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from flask import Flask
from markupsafe import escape

from crud_app import create_app, seeded, staff
from demo_db import seeded_engine
from apps import as_user
from i18n_check import untranslated_in, untranslated_in_templates
from hyper_admin import i18n

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "hyper_admin" / "translations"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "pgettext": ((1, "c"), 2),
            "lazy_pgettext": ((1, "c"), 2), "lazy_gettext": None, "_l": None}


# ---------------------------------------------------------------------------------------------
# Every string is translatable, and French is complete


def test_no_template_holds_untranslated_text():
    found = untranslated_in_templates(ROOT / "templates")
    assert not found, "Wrap these in _():\n" + "\n".join(map(str, found))


def test_the_check_finds_text_and_visible_attributes_left_unwrapped(tmp_path):
    from jinja2 import Environment

    env = Environment()
    page = tmp_path / "page.html"
    page.write_text('<p>{{ _("Saved") }}</p>\n<button title="Delete row">{{ icon("x") }}</button>\n'
                    "{% if x %}<span>Nothing here</span>{% endif %}\n"
                    '<input placeholder="{{ _("Search") }}"><kbd>Ctrl</kbd><kbd>K</kbd>'
                    "<script>var a = 'words in code';</script>\n"
                    '{{ "Yes" if x else _("No") }}<p class="{{ "text-sm mt-2" }}"></p>\n'
                    '{% set sections = [("Lists", icon("list-filter"))] %}{% if key == "Ctrl" %}{% endif %}')
    found = untranslated_in(page, "page.html", env)
    assert [(f.line, f.text) for f in found] == [
        (2, "Delete row"), (3, "Nothing here"), (5, "Yes"), (6, "Lists")]


def _extracted_messages() -> dict[str, object]:
    with open(ROOT / "babel.cfg") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    found = {}
    for _filename, _lineno, message, _comments, context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS
    ):
        key = message if isinstance(message, str) else message[0]
        found[(context, key)] = message
    return found


def _catalog(locale: str):
    with open(TRANSLATIONS / locale / "LC_MESSAGES" / "hyper_admin.po", "rb") as po:
        return read_po(po, locale=locale)


@pytest.fixture(scope="module")
def extracted():
    return _extracted_messages()


def test_strings_are_extracted_from_python_and_templates(extracted):
    sources = {key for (_context, key) in extracted}
    assert "about %(count)s" in sources          # hyper_admin/i18n.py
    assert len(extracted) > 300, len(extracted)   # the admin has hundreds of strings


@pytest.mark.parametrize("locale", [name for name in i18n.shipped_locales() if name != "en"])
def test_catalog_translates_every_string(locale, extracted):
    catalog = _catalog(locale)
    missing, fuzzy = [], []
    for (context, key) in extracted:
        entry = catalog.get(key, context=context)
        if entry is None or not (all(entry.string) if entry.pluralizable else entry.string):
            missing.append(key)
        elif entry.fuzzy:
            fuzzy.append(key)
    assert not missing, f"{len(missing)} strings not translated in {locale}; run `make messages`"\
        " and translate:\n" + "\n".join(missing[:40])
    assert not fuzzy, f"fuzzy in {locale}:\n" + "\n".join(fuzzy)
    problems = [(message.id, errors) for message, errors in catalog.check()]
    assert not problems, problems  # placeholders (%(name)s) the same in the translation


@pytest.mark.parametrize("locale", [name for name in i18n.shipped_locales() if name != "en"])
def test_compiled_catalog_is_up_to_date(locale):
    """The .mo shipped in the wheel says what the .po says (`make messages` compiles it)."""
    source = _catalog(locale)
    with open(TRANSLATIONS / locale / "LC_MESSAGES" / "hyper_admin.mo", "rb") as mo:
        compiled = read_mo(mo)
    def strings(message):
        return message.string if isinstance(message.string, str) else tuple(message.string)

    expected = {(m.context, m.id if isinstance(m.id, str) else m.id[0]): strings(m)
                for m in source if m.id and m.string and not m.fuzzy}
    actual = {(m.context, m.id if isinstance(m.id, str) else m.id[0]): strings(m)
              for m in compiled if m.id}
    assert actual == expected


# ---------------------------------------------------------------------------------------------
# Which locale a request gets


@pytest.fixture
def site(request, backend):
    with seeded_engine(request) as engine:
        app, admin = create_app(engine)
        yield app, admin, staff(engine)


def _page(site, path="/admin/orders/", **headers) -> str:
    app, _admin, people = site
    client = as_user(app, people["support"])
    response = client.get(path, headers=headers)
    assert response.status_code == 200
    return response.get_data(as_text=True)


@pytest.mark.reads_only
def test_accept_language_picks_french(site):
    page = _page(site, **{"Accept-Language": "fr-FR,fr;q=0.9,en;q=0.5"})
    assert '<html lang="fr">' in page
    assert i18n.translations_for("fr").ugettext("Search") in page
    assert i18n.translations_for("fr").ugettext("Search") != "Search"


@pytest.mark.reads_only
def test_english_when_the_browser_asks_for_nothing_we_ship(site):
    assert '<html lang="en">' in _page(site, **{"Accept-Language": "de-DE,de;q=0.9"})
    assert '<html lang="en">' in _page(site)


def test_the_admins_locale_selector_wins(engine):
    seeded(engine)
    app, _admin = create_app(engine, locale_selector=lambda: "fr")
    page = _page((app, None, staff(engine)), **{"Accept-Language": "en"})
    assert '<html lang="fr">' in page


def test_the_apps_flask_babel_selector_is_followed(engine):
    flask_babel = pytest.importorskip("flask_babel", reason="flask-babel is a test dependency")
    seeded(engine)
    app, _admin = create_app(engine)
    flask_babel.Babel(app, locale_selector=lambda: "fr_CA")
    page = _page((app, None, staff(engine)), **{"Accept-Language": "en"})
    assert '<html lang="fr-CA">' in page  # the app's locale, our French catalog
    assert i18n.translations_for("fr_CA").ugettext("Search") in page


# ---------------------------------------------------------------------------------------------
# Numbers, counts and dates per locale


def _in_locale(locale: str):
    app = Flask(__name__)
    context = app.test_request_context(headers={"Accept-Language": locale})
    return context


@pytest.mark.parametrize("locale, expected", [
    ("en", ["1,234,567", "about 9.8M", "more than 10,000", "12", "1,234.5"]),
    ("fr", ["1\u202f234\u202f567", "9,8\xa0M", "10\u202f000", "12", "1\u202f234,5"]),
])
def test_numbers_and_counts(locale, expected):
    with _in_locale(locale):
        got = [i18n.format_number(1234567), i18n.format_count(9_812_345, "estimate"),
               i18n.format_count(10_000, "more_than"), i18n.format_count(12),
               i18n.format_number(Decimal("1234.5"))]
    for value, wanted in zip(got, expected):
        assert wanted in value, (got, expected)
    if locale == "fr":
        french = i18n.translations_for("fr")
        assert got[1] == french.ugettext("about %(count)s") % {"count": "9,8\xa0M"}


@pytest.mark.parametrize("locale", ["en", "fr", "de", "es", "it", "ja", "pt_BR", "en_GB", "nl"])
def test_compiled_date_formats_match_babel(locale):
    """Our per-locale compiled formatter prints what Babel's own (slow) functions print."""
    generator = random.Random(locale)
    formats = i18n._date_formats(locale)
    babel_locale = i18n._locale(locale)
    time_pattern = babel_dates.get_time_format("short", babel_locale).pattern
    joined = babel_dates.get_datetime_format("medium", babel_locale).replace(
        "{1}", babel_dates.get_date_format("medium", babel_locale).pattern).replace(
        "{0}", time_pattern)
    for _ in range(200):
        value = dt.datetime(generator.randint(1990, 2040), generator.randint(1, 12),
                            generator.randint(1, 28), generator.randint(0, 23),
                            generator.randint(0, 59), generator.randint(0, 59))
        assert formats.datetime(value) == babel_dates.format_datetime(
            value, joined, locale=babel_locale)
        assert formats.date(value.date()) == babel_dates.format_date(
            value.date(), "medium", locale=babel_locale)
        assert formats.time(value.time()) == babel_dates.format_time(
            value.time(), time_pattern, locale=babel_locale)


@pytest.mark.reads_only
def test_list_cells_show_dates_in_the_users_locale(site):
    english = _page(site)
    french = _page(site, **{"Accept-Language": "fr"})
    months = "janv|févr|mars|avr|mai|juin|juil|août|sept|oct|nov|déc"
    assert re.search(r"\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{1,2}, \d{4}", english)
    assert re.search(rf"\b\d{{1,2}} ({months})\.? \d{{4}}", french)


def test_the_apps_own_labels_translate_when_the_page_renders(engine):
    """Labels the app gives as lazy strings of its own catalog follow the request's locale."""
    from babel.support import LazyProxy

    from apps import Customer, create_app as create_small_app, create_schema, members

    def customers_label():
        return "Clients" if i18n.current_locale().language == "fr" else "Customers"

    create_schema(engine)
    app, admin = create_small_app(engine, register=False)
    admin.register(Customer, verbose_name_plural=LazyProxy(customers_label, enable_cache=False))
    client = as_user(app, members(engine)["root"])
    english = client.get("/admin/customers/").get_data(as_text=True)
    french = client.get("/admin/customers/", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "<h1" in english and "Customers</h1>" in english.replace("\n", "")
    assert "Clients" in french and "Customers" not in french


def _french_client(site):
    from hyper_admin.testing import AdminClient

    app, _admin, people = site
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "fr-FR,fr;q=0.9"
    return AdminClient(app, client).login_as(people["support"])


def _first_order(site):
    app, _admin, _people = site
    from hyper_admin.demo.models import Order

    engine = app.extensions["hyper_admin"]["hyper_admin"].engine
    with engine:
        return Order, Order.find_one().id


def test_a_french_form_speaks_french_down_to_wtforms(site):
    """Our messages, WTForms' own ("Not a valid decimal value.") and the page around them."""
    french = i18n.translations_for("fr")
    order, pk = _first_order(site)
    result = _french_client(site).edit(order, pk, total="pas un nombre")
    assert result.status == 422
    assert result.errors["total"] == ["N'est pas une valeur décimale valide."]  # WTForms' catalog
    assert french.ugettext("Save") in result.html and ">Save<" not in result.html
    assert '<html lang="fr">' in result.html


def test_french_errors_and_toasts(site):
    french = i18n.translations_for("fr")
    client = _french_client(site)
    missing = client.get("/admin/orders/999999999/")
    text = missing.get_data(as_text=True)
    assert missing.status_code == 404
    assert str(escape(french.ugettext("Not found"))) in text
    assert str(escape(french.ugettext("There is nothing here, or it is not visible to you."))) in text
    bad = client.get("/admin/orders/?sort=nope").get_data(as_text=True)
    assert "impossible de trier par" in bad
    order, pk = _first_order(site)
    saved = client.edit(order, pk, status="paid")
    assert saved.status in (200, 303)
    toast = client.get(f"/admin/orders/{pk}/").get_data(as_text=True)
    assert "enregistré" in toast or "Aucune modification" in toast


def test_chart_labels_and_descriptions_in_french():
    from hyper_admin import charts

    with _in_locale("fr"):
        monday = dt.datetime(2026, 5, 4)
        assert charts.bucket_label(monday, "day") == "4 mai"
        assert charts.bucket_label(monday, "week", short=False) == "semaine du lun. 4 mai 2026"
        series = [charts.ChartSeries("Ouverts", [1200, 3])]
        text = charts.describe([monday, monday + dt.timedelta(days=1)], "day", series)
        assert text.startswith("Par jour, du lun. 4 mai 2026 au mar. 5 mai 2026.")
        assert "total 1\u202f203" in text


# ---------------------------------------------------------------------------------------------
# Numbers typed by the user, durations, money, time zones


@contextlib.contextmanager
def _in_any_locale(name: str):
    """A request in ``name``, shipped or not (an app's selector may choose any locale)."""
    with Flask(__name__).test_request_context():
        from flask import g

        g._hyper_admin_i18n = i18n._Bundle(i18n._locale(name), name, i18n.translations_for(name))
        yield


@pytest.mark.parametrize("locale, typed, expected", [
    ("fr", "893,50", "893.50"), ("fr", "893.50", "893.50"), ("fr", "1 234,5", "1234.5"),
    ("fr", "1\u202f234,5", "1234.5"), ("fr", "1.234,5", "1234.5"), ("fr", "-3,2", "-3.2"),
    ("en", "1,234.5", "1234.5"), ("en", "1,234", "1234"), ("en", "893.50", "893.50"),
    ("de", "1.234,5", "1234.5"), ("de", "12,5", "12.5"), ("de_CH", "1’234.5", "1234.5"),
])
def test_numbers_typed_in_the_users_locale(locale, typed, expected):
    with _in_any_locale(locale):
        assert i18n.parse_number_text(typed) == expected


@pytest.mark.parametrize("locale, typed", [
    ("en", "893,50"), ("en", "1,5"), ("fr", "1,2,3"), ("fr", "1.2.3"), ("fr", "12,3.4"),
    ("fr", ""), ("fr", "abc"), ("fr", "١٢"), ("fr", "--1"),
])
def test_numbers_whose_separators_make_no_sense_are_refused(locale, typed):
    with _in_locale(locale), pytest.raises(ValueError):
        i18n.parse_number_text(typed)


def test_an_input_shows_a_number_as_the_list_does():
    with _in_locale("fr"):
        assert i18n.format_number_input(Decimal("893.5"), 2) == "893,50"
        assert i18n.format_number_input(2.5) == "2,5"
        assert i18n.format_number_input(Decimal("NaN"), 2) == "NaN"
    with _in_locale("en"):
        assert i18n.format_number_input(Decimal("1234.5"), 2) == "1234.50"  # no grouping


def test_one_timestamp_format_with_its_zone():
    moment = dt.datetime(2026, 11, 25, 14, 3, 7, 123456)
    with _in_locale("fr"):
        assert i18n.format_timestamp(moment, "UTC") == "25 nov. 2026, 14:03 UTC"
        assert i18n.format_timestamp(moment.replace(tzinfo=dt.timezone.utc)) == "25 nov. 2026, 14:03 UTC"
        assert i18n.format_timestamp(moment) == i18n.format_datetime(moment)  # zone unknown
    with _in_locale("en"):
        assert i18n.format_timestamp(moment, "UTC") == "Nov 25, 2026, 2:03\u202fPM UTC"


def test_durations_money_and_percentages_as_babel_writes_them():
    with _in_locale("fr"):
        assert i18n.format_duration(32 * 3600) == "1\u202fj 8\u202fh"
        assert i18n.format_duration(90) == "2\xa0min"
        assert i18n.format_money(Decimal("12345.5"), "EUR") == "12\u202f345,50\xa0€"
        assert i18n.format_percent(12.5, 1) == "12,5\xa0%"
        assert i18n.format_or_list(["payée", "remboursée"]) == "payée ou remboursée"
    with _in_locale("en"):
        assert i18n.format_duration(32 * 3600) == "1 day 8 hr"
        assert i18n.format_money(Decimal("12345.5"), "EUR", 0) == "€12,346"


# ---------------------------------------------------------------------------------------------
# Sentences about a model: its names, its gender


def test_a_gendered_wording_falls_back_to_a_broader_one_then_to_the_plain_one():
    with _in_locale("fr"):
        feminine = i18n.gendered("feminine", "Add %(model)s", model="commande")
        masculine = i18n.gendered("masculine", "Add %(model)s", model="produit")
        elided = i18n.gendered("masculine elided", "Add %(model)s", model="article")
        plain = i18n.gendered(None, "Add %(model)s", model="chose")
        unknown = i18n.gendered("neuter", "Add %(model)s", model="chose")
    french = i18n.translations_for("fr")
    assert feminine == french.upgettext("feminine", "Add %(model)s") % {"model": "commande"}
    assert elided == french.upgettext("masculine", "Add %(model)s") % {"model": "article"}
    assert plain == unknown == french.ugettext("Add %(model)s") % {"model": "chose"}
    assert len({feminine.split()[1], masculine.split()[1]}) == 2  # "une" / "un"
    with _in_locale("en"):
        assert i18n.gendered("feminine", "Add %(model)s", model="order") == "Add order"


def test_every_gendered_sentence_is_extracted_for_every_gender(extracted):
    for message in i18n.GENDERED_MESSAGES:
        for context in (None, "masculine", "feminine"):
            assert (context, message) in extracted, (context, message)


def test_french_words_every_gendered_sentence_per_gender():
    catalog = _catalog("fr")
    for message in i18n.GENDERED_MESSAGES:
        entries = [catalog.get(message, context=gender) for gender in ("masculine", "feminine")]
        assert all(entry is not None and entry.string for entry in entries), message
        assert len({entry.string for entry in entries}) == 2, message  # they read differently


def test_names_inside_a_sentence_keep_their_acronyms():
    assert i18n.in_sentence("Order line") == "order line"
    assert i18n.in_sentence("API key") == "API key"
    assert i18n.in_sentence(i18n.lazy_gettext("Audit entries")) == "audit entries"


def test_a_model_admin_words_its_sentences_with_its_names_and_gender(engine):
    from babel.support import LazyProxy

    from apps import Customer, create_app as create_small_app, create_schema

    def name(english, french):
        return LazyProxy(lambda: french if i18n.current_locale().language == "fr" else english,
                         enable_cache=False)

    create_schema(engine)
    _app, admin = create_small_app(engine, register=False)
    admin.register(Customer, verbose_name=name("Customer", "Cliente"),
                   verbose_name_plural=name("Customers", "Clientes"),
                   verbose_name_gender={"fr": "feminine", "de": "masculine"})
    model_admin = admin.model_admin(Customer)
    with _in_locale("fr"):
        assert model_admin.get_verbose_name_gender() == "feminine"
        assert model_admin.phrase("Add %(model)s") == i18n.gendered(
            "feminine", "Add %(model)s", model="cliente")
        assert model_admin.count_text(12) == "12 clientes"
        assert model_admin.count_text(1) == "1 cliente"
        assert model_admin.count_text(9_800_000, "environ 9,8 M").endswith("M clientes")
        assert model_admin.row_label(Customer(id=7)).startswith(("Cliente #7", ))
    with _in_locale("en"):
        assert model_admin.get_verbose_name_gender() is None
        assert model_admin.phrase("Add %(model)s") == "Add customer"
        assert model_admin.count_text(1234) == "1,234 customers"
    with _in_any_locale("de_AT"):
        assert model_admin.get_verbose_name_gender() == "masculine"  # by its language


def test_lazy_model_names_work_on_every_screen(engine):
    """Lazy verbose names (flask-babel's lazy_gettext, ours) go through lowercasing, sorting,
    joining, flashed toasts and the palette: every screen answers, in the request's language."""
    from babel.support import LazyProxy

    from apps import Customer, Invoice, create_app as create_small_app, create_schema, members
    from hyper_admin.testing import AdminClient

    def name(english, french):
        return LazyProxy(lambda: french if i18n.current_locale().language == "fr" else english,
                         enable_cache=False)

    create_schema(engine)
    app, admin = create_small_app(engine, register=False)
    admin.register(Customer, verbose_name=name("Customer", "Cliente"),
                   verbose_name_plural=name("Customers", "Clientes"),
                   verbose_name_gender=name("", "feminine"))
    admin.register(Invoice, verbose_name=name("Invoice", "Facture"),
                   verbose_name_plural=name("Invoices", "Factures"))
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "fr"
    agent = AdminClient(app, client).login_as(members(engine)["root"])
    created = agent.create(Customer, name="Zoé", email="zoe@example.com")
    assert created.ok, created.errors
    pages = {path: agent.get(path) for path in (
        "/admin/", "/admin/customers/", "/admin/customers/new", f"/admin/customers/{created.pk}/",
        f"/admin/customers/{created.pk}/history", "/admin/customers/views",
        "/admin/-/palette?q=cli", "/admin/-/palette?q=zo", "/admin/customers/export?format=json")}
    for path, response in pages.items():
        assert response.status_code == 200, (path, response.status_code)
        assert "Customer" not in response.get_data(as_text=True), path
    confirm = agent.action(Customer, "delete", [created.pk], confirmed=False)
    assert confirm.status_code == 200 and "1 cliente" in confirm.get_data(as_text=True)
    assert "Cliente" in pages["/admin/customers/"].get_data(as_text=True)
    assert agent.action(Customer, "delete", [created.pk]).status_code in (200, 303)
