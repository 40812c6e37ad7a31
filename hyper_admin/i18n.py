"""The admin's own strings in the user's language, and numbers and dates in the user's locale.

The admin keeps a gettext catalog of its own (domain ``hyper_admin``, shipped in
``hyper_admin/translations``), apart from the application's: an app that uses flask-babel keeps
its ``_`` and its catalog, and our templates call the ``_`` that the admin's context processor
puts in their context, which shadows the app's global one only inside our templates.

Which locale a request gets, first answer wins:
  1. ``Admin(locale_selector=...)``, a callable returning a locale name (or None to go on);
  2. the app's flask-babel selector, when the app set flask-babel up;
  3. the browser's ``Accept-Language``, among the locales the admin has a catalog for;
  4. English.

Formatting goes through Babel's CLDR data, but the per-cell functions (``format_number``,
``format_datetime``) are compiled once per locale into plain string formatting: a list page
formats hundreds of values, and Babel's own functions cost tens of microseconds each.
"""

import datetime as dt
import decimal
import re
import typing as t
from functools import lru_cache
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel import dates as babel_dates
from babel import numbers as babel_numbers
from babel.support import LazyProxy, NullTranslations, Translations
from flask import current_app, g, has_request_context, request
from markupsafe import Markup

DOMAIN = "hyper_admin"
TRANSLATIONS_DIR = Path(__file__).parent / "translations"
DEFAULT_LOCALE = "en"


@lru_cache(maxsize=1)
def shipped_locales() -> tuple[str, ...]:
    """English (the source strings) and every locale with a compiled catalog of ours."""
    found = sorted(
        path.parent.parent.name
        for path in TRANSLATIONS_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.mo")
    )
    return (DEFAULT_LOCALE, *[name for name in found if name != DEFAULT_LOCALE])


# ---------------------------------------------------------------------------------------------
# Which locale


class _Bundle(t.NamedTuple):
    """What a request's strings and formats need, worked out once per request: a list page
    asks for it a hundred times."""

    locale: Locale
    name: str                       # "fr_CA"
    translations: NullTranslations


def _bundle() -> _Bundle:
    if not has_request_context():
        return _default_bundle()
    found = g.get("_hyper_admin_i18n")
    if found is None:
        locale = _locale(_select_locale())
        name = str(locale)
        found = g._hyper_admin_i18n = _Bundle(locale, name, translations_for(name))
    return found


@lru_cache(maxsize=1)
def _default_bundle() -> _Bundle:
    return _Bundle(_locale(DEFAULT_LOCALE), DEFAULT_LOCALE, translations_for(DEFAULT_LOCALE))


def current_locale() -> Locale:
    """The request's locale (see the module's docstring), worked out once per request."""
    return _bundle().locale


def _select_locale() -> str:
    selector = _admin_selector()
    if selector is not None:
        chosen = selector()
        if chosen:
            return str(chosen)
    if "babel" in current_app.extensions:
        try:
            import flask_babel

            chosen = flask_babel.get_locale()
        except Exception:  # a misconfigured app selector must not take the admin down
            chosen = None
        if chosen:
            return str(chosen)
    offered = shipped_locales()
    best = request.accept_languages.best_match(offered) if request else None
    return best or DEFAULT_LOCALE


def _admin_selector() -> t.Callable[[], t.Any] | None:
    states = current_app.extensions.get("hyper_admin") or {}
    state = states.get(request.blueprint or "")
    if state is None:
        return None
    return state.admin.locale_selector


@lru_cache(maxsize=64)
def _locale(name: str) -> Locale:
    try:
        return Locale.parse(name.replace("-", "_"))
    except (ValueError, UnknownLocaleError):
        return Locale.parse(DEFAULT_LOCALE)


# ---------------------------------------------------------------------------------------------
# Translating


@lru_cache(maxsize=64)
def translations_for(locale: str) -> NullTranslations:
    """Our catalog for ``locale`` ("fr_CA" falls back to "fr"); identity for English."""
    if locale.split("_")[0] == DEFAULT_LOCALE:
        return NullTranslations()
    return Translations.load(str(TRANSLATIONS_DIR), [locale], domain=DOMAIN)


def _translations() -> NullTranslations:
    return _bundle().translations


def gettext(message: str, **variables: t.Any) -> str:
    """``message`` in the request's language, ``%(name)s`` placeholders filled from ``variables``.

    A variable given as ``Markup`` (a template's ``{% set who %}<b>{{ name }}</b>{% endset %}``)
    keeps its markup: the translation is escaped and the result is ``Markup``, so that a
    sentence with a link or emphasis in the middle stays one string for the translator."""
    return _fill(_translations().ugettext(message), variables)


def _fill(text: str, variables: dict[str, t.Any]) -> str:
    if not variables:
        return text
    if any(isinstance(value, Markup) for value in variables.values()):
        return Markup.escape(text) % variables
    return text % variables


def ngettext(singular: str, plural: str, num: int, **variables: t.Any) -> str:
    """The singular or plural form the language wants for ``num`` (available as ``%(num)s``,
    formatted for the locale)."""
    text = _translations().ungettext(singular, plural, num)
    variables.setdefault("num", format_number(num))
    return _fill(text, variables)


def pgettext(context: str, message: str, **variables: t.Any) -> str:
    """``gettext`` for a word whose translation depends on where it stands ("Open" a ticket's
    state vs "Open" a page)."""
    return _fill(_translations().upgettext(context, message), variables)


def lazy_gettext(message: str, **variables: t.Any) -> LazyProxy:
    """A string translated when it is used, for labels declared at import time."""
    return LazyProxy(gettext, message, enable_cache=False, **variables)


_ = gettext


def template_functions() -> dict[str, t.Any]:
    """What our templates call: ``_``, ``ngettext``, ``pgettext`` and the formatters, ``_``
    bound to the request's catalog (a page calls it a hundred times)."""
    translate = _bundle().translations.ugettext

    def bound_gettext(message: str, **variables: t.Any) -> str:
        return _fill(translate(message), variables)

    return {**_TEMPLATE_FUNCTIONS, "_": bound_gettext, "gettext": bound_gettext}


# ---------------------------------------------------------------------------------------------
# Numbers


class _NumberFormat(t.NamedTuple):
    decimal: str
    group: str


@lru_cache(maxsize=64)
def _number_format(locale: str) -> _NumberFormat:
    return _NumberFormat(babel_numbers.get_decimal_symbol(locale),
                         babel_numbers.get_group_symbol(locale))


def format_number(value: t.Any) -> str:
    """1234567 -> "1,234,567" in English, "1 234 567" in French (decimals kept as given)."""
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, (int, float, decimal.Decimal)):
        return str(value)
    return localize_number_text(f"{value:,}")


def localize_number_text(text: str) -> str:
    """A number already formatted the Python way ("1,234.5") with the locale's separators."""
    symbols = _number_format(_bundle().name)
    if symbols == (".", ","):
        return text
    return text.translate({ord(","): symbols.group, ord("."): symbols.decimal})


def format_compact(value: int) -> str:
    """9,812,345 -> "9.8M" ("9,8 M" in French): for estimates, which are not worth more digits."""
    if abs(value) < 1000:
        return format_number(value)
    return babel_numbers.format_compact_decimal(value, locale=current_locale(), fraction_digits=1)


def format_count(total: int | None, kind: str = "exact") -> str:
    """A list's row count as the list shows it: exact, "about 9.8M" or "more than 10,000"."""
    if total is None:
        return ""
    if kind == "more_than":
        return gettext("more than %(count)s", count=format_number(total))
    if kind == "estimate":
        return gettext("about %(count)s", count=format_compact(total))
    return format_number(total)


# ---------------------------------------------------------------------------------------------
# Dates


class _DateFormatter:
    """A CLDR pattern ("d MMM y HH:mm") compiled into %-formatting over precomputed names."""

    def __init__(self, pattern: str, locale: Locale):
        parsed = babel_dates.parse_pattern(pattern)
        self._format = parsed.format
        self._fields = []
        self._fallback = None
        for key in re.findall(r"%\((\w+)\)s", parsed.format):
            field = _field_function(key, locale)
            if field is None:  # a letter we do not compile: Babel formats the whole pattern
                self._fallback = (parsed, locale)
                break
            self._fields.append((key, field))
        fields = dict(self._fields)
        self._pieces = [fields[part[2:-2]] if part.startswith("%(") else part.replace("%%", "%")
                        for part in re.split(r"(%\(\w+\)s)", parsed.format) if part]

    def __call__(self, value: dt.date) -> str:
        if self._fallback is not None:
            parsed, locale = self._fallback
            return parsed.apply(value, locale)
        return "".join([piece if piece.__class__ is str else piece(value) for piece in self._pieces])


def _field_function(key: str, locale: Locale) -> t.Callable[[t.Any], str] | None:
    letter, width = key[0], len(key)
    # Plain str() and %-formatting: a nested format spec costs twice as much, per cell.
    padded = "%%0%dd" % width
    if letter == "y":
        return (lambda v: "%02d" % (v.year % 100)) if width == 2 else (lambda v: padded % v.year)
    if letter in "ML":
        context = "format" if letter == "M" else "stand-alone"
        if width <= 2:
            return (lambda v: str(v.month)) if width == 1 else (lambda v: "%02d" % v.month)
        kind = {3: "abbreviated", 4: "wide", 5: "narrow"}[min(width, 5)]
        names = [""] + [locale.months[context][kind][m] for m in range(1, 13)]
        return lambda v: names[v.month]
    if letter == "E":
        kind = "wide" if width == 4 else "narrow" if width == 5 else "abbreviated"
        names = [locale.days["format"][kind][d] for d in range(7)]
        return lambda v: names[v.weekday()]
    if letter == "h":
        return (lambda v: str(v.hour % 12 or 12)) if width == 1 else (lambda v: "%02d" % (v.hour % 12 or 12))
    if letter == "a":
        periods = locale.day_periods["format"]["abbreviated"]
        am, pm = periods.get("am", "AM"), periods.get("pm", "PM")
        return lambda v: pm if v.hour >= 12 else am
    attribute = {"d": "day", "H": "hour", "m": "minute", "s": "second"}.get(letter)
    if attribute is None:
        return None
    if width == 1:
        return lambda v: str(getattr(v, attribute))
    return lambda v: padded % getattr(v, attribute)


class _DateFormats(t.NamedTuple):
    datetime: _DateFormatter
    date: _DateFormatter
    time: _DateFormatter


@lru_cache(maxsize=64)
def _date_formats(name: str) -> _DateFormats:
    locale = _locale(name)
    date_pattern = babel_dates.get_date_format("medium", locale).pattern
    time_pattern = babel_dates.get_time_format("short", locale).pattern
    joined = babel_dates.get_datetime_format("medium", locale)
    joined = joined.replace("{1}", date_pattern).replace("{0}", time_pattern)
    return _DateFormats(_DateFormatter(joined, locale), _DateFormatter(date_pattern, locale),
                        _DateFormatter(time_pattern, locale))


def datetime_formatter() -> t.Callable[[dt.datetime], str]:
    """``format_datetime`` for the request's locale, looked up once (for a page of cells)."""
    return _date_formats(_bundle().name).datetime


def decimal_symbol() -> str:
    """The request's decimal separator ("." or ",")."""
    return _number_format(_bundle().name).decimal


def format_datetime(value: dt.datetime | None) -> str:
    """"Nov 25, 2026, 2:03 PM" / "25 nov. 2026, 14:03" (to the minute: the title attribute of
    a cell carries the ISO value to the microsecond)."""
    if value is None:
        return ""
    return _date_formats(_bundle().name).datetime(value)


def format_date(value: dt.date | None) -> str:
    """"Nov 25, 2026" / "25 nov. 2026"."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = value.date()
    return _date_formats(_bundle().name).date(value)


def format_time(value: dt.time | None) -> str:
    """"2:03 PM" / "14:03"."""
    if value is None:
        return ""
    return _date_formats(_bundle().name).time(value)


def format_skeleton(skeleton: str, value: dt.date) -> str:
    """A date in the locale's arrangement of the given fields ("MMMd": "Jun 3" / "3 juin");
    for short texts such as chart labels (Babel's own function, not compiled: not per cell)."""
    return babel_dates.format_skeleton(skeleton, value, locale=current_locale())


def locale_tag() -> str:
    """The request's locale as a BCP 47 tag, for ``<html lang>``: "fr", "pt-BR"."""
    return _bundle().name.replace("_", "-")


_TEMPLATE_FUNCTIONS: dict[str, t.Any] = {
    "_": gettext,
    "gettext": gettext,
    "ngettext": ngettext,
    "pgettext": pgettext,
    "format_number": format_number,
    "format_count": format_count,
    "format_datetime": format_datetime,
    "format_date": format_date,
    "format_time": format_time,
    "locale_tag": locale_tag,
}
