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

import copy
import datetime as dt
import decimal
import math
import re
import typing as t
from functools import lru_cache
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel import dates as babel_dates
from babel import lists as babel_lists
from babel import numbers as babel_numbers
from babel import units as babel_units
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


def ngettext(singular: str, plural: str, num: int, /, **variables: t.Any) -> str:
    """The singular or plural form the language wants for ``num`` (available as ``%(num)s``,
    formatted for the locale, unless ``num=`` says how to write it: "about 9.8M")."""
    text = _translations().ungettext(singular, plural, num)
    variables.setdefault("num", format_number(num))
    return _fill(text, variables)


def pgettext(context: str, message: str, **variables: t.Any) -> str:
    """``gettext`` for a word whose translation depends on where it stands ("Open" a ticket's
    state vs "Open" a page)."""
    return _fill(_translations().upgettext(context, message), variables)


def gendered(gender: str | None, message: str, **variables: t.Any) -> str:
    """``message`` worded for a noun of grammatical ``gender`` where the catalog has such a
    wording (``pgettext(gender, message)``: "Ajouter une %(model)s"), else the plain one.

    A gender of several words falls back word by word: "masculine elided" (French nouns
    beginning with a vowel: "cet article") is looked up, then "masculine", then none. Only
    the sentences of ``GENDERED_MESSAGES`` have gendered wordings."""
    translations = _translations()
    context = gender
    while context:
        text = translations.upgettext(context, message)
        if text != message:
            return _fill(text, variables)
        context = context.rpartition(" ")[0]
    return _fill(translations.ugettext(message), variables)


def in_sentence(name: t.Any) -> str:
    """A model's name as a word inside a sentence: "Order line" -> "order line"; a word in
    capitals stays ("API key")."""
    return " ".join(word if len(word) > 1 and word.isupper() else word.lower()
                    for word in str(name).split(" "))


#: The sentences naming a model that languages with gendered nouns word per gender (see
#: ModelAdmin.verbose_name_gender and docs/i18n.md). ``_gendered_wordings`` lists each one
#: plain and under every gender context, so that `make messages` extracts them all.
GENDERED_MESSAGES = (
    "Add %(model)s",
    "%(model)s “%(row)s” was added.",
    "%(model)s “%(row)s” was saved.",
    "%(model)s “%(row)s” was deleted.",
    "Choose an existing %(model)s.",
    "This %(model)s no longer exists: its history is kept.",
    "This %(model)s cannot be deleted while these rows refer to it: delete or reassign them first.",
)


def _gendered_wordings() -> None:  # pragma: no cover - never run: read by Babel's extractor
    gettext("Add %(model)s")
    pgettext("masculine", "Add %(model)s")
    pgettext("feminine", "Add %(model)s")
    gettext("%(model)s “%(row)s” was added.")
    pgettext("masculine", "%(model)s “%(row)s” was added.")
    pgettext("feminine", "%(model)s “%(row)s” was added.")
    gettext("%(model)s “%(row)s” was saved.")
    pgettext("masculine", "%(model)s “%(row)s” was saved.")
    pgettext("feminine", "%(model)s “%(row)s” was saved.")
    gettext("%(model)s “%(row)s” was deleted.")
    pgettext("masculine", "%(model)s “%(row)s” was deleted.")
    pgettext("feminine", "%(model)s “%(row)s” was deleted.")
    gettext("Choose an existing %(model)s.")
    pgettext("masculine", "Choose an existing %(model)s.")
    pgettext("feminine", "Choose an existing %(model)s.")
    gettext("This %(model)s no longer exists: its history is kept.")
    pgettext("masculine", "This %(model)s no longer exists: its history is kept.")
    pgettext("masculine elided", "This %(model)s no longer exists: its history is kept.")
    pgettext("feminine", "This %(model)s no longer exists: its history is kept.")
    gettext("This %(model)s cannot be deleted while these rows refer to it: delete or reassign "
            "them first.")
    pgettext("masculine", "This %(model)s cannot be deleted while these rows refer to it: "
             "delete or reassign them first.")
    pgettext("masculine elided", "This %(model)s cannot be deleted while these rows refer to "
             "it: delete or reassign them first.")
    pgettext("feminine", "This %(model)s cannot be deleted while these rows refer to it: "
             "delete or reassign them first.")


def lazy_gettext(message: str, **variables: t.Any) -> LazyProxy:
    """A string translated when it is used, for labels declared at import time."""
    return LazyProxy(gettext, message, enable_cache=False, **variables)


def lazy_pgettext(context: str, message: str, **variables: t.Any) -> LazyProxy:
    """``pgettext`` translated when it is used."""
    return LazyProxy(pgettext, context, message, enable_cache=False, **variables)


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


#: The cookie static/theme.js sets to the browser's time zone (an IANA name).
TIME_ZONE_COOKIE = "hyper_admin_tz"
_ZONE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_+\-]*(?:/[A-Za-z0-9_+\-]+){0,2}$")


def current_time_zone() -> dt.tzinfo:
    """The zone a user reads and types times with a time zone in (``timestamptz``), worked out
    once per request: the app's flask-babel time zone when it set one
    (``BABEL_DEFAULT_TIMEZONE`` or a time zone selector), else the browser's (the cookie
    static/theme.js sets), else UTC."""
    if not has_request_context():
        return dt.timezone.utc
    found = g.get("_hyper_admin_tz")
    if found is None:
        found = g._hyper_admin_tz = _select_time_zone()
    return found


def _select_time_zone() -> dt.tzinfo:
    babel = current_app.extensions.get("babel")
    if babel is not None and (getattr(babel, "timezone_selector", None) is not None
                              or "BABEL_DEFAULT_TIMEZONE" in current_app.config):
        try:
            import flask_babel

            chosen = flask_babel.get_timezone()
        except Exception:  # a misconfigured app selector must not take the admin down
            chosen = None
        if chosen is not None:
            return chosen
    return zone_named(request.cookies.get(TIME_ZONE_COOKIE, "")) or dt.timezone.utc


@lru_cache(maxsize=64)
def zone_named(name: str) -> dt.tzinfo | None:
    """The IANA zone ``name`` ("Europe/Paris"), or None when it names none."""
    if not name or len(name) > 64 or not _ZONE_NAME.match(name):
        return None
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo(name)
    except (ValueError, OSError, LookupError):
        return None


def zone_label(value: dt.datetime | None = None) -> str:
    """The user's zone as a form shows it beside a time: its abbreviation ("CET", "UTC")."""
    moment = value if value is not None else dt.datetime.now(dt.timezone.utc)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(current_time_zone()).tzname() or str(current_time_zone())


def format_timestamp(value: dt.datetime | None, zone: str | None = None) -> str:
    """A moment as every screen shows one: ``format_datetime``, followed by its time zone when
    it is known ("25 nov. 2026, 14:03 UTC"): ``zone`` names the zone of a naive value (the
    audit trail's times are UTC); an aware value is shown in the user's time zone
    (:func:`current_time_zone`), which it then names."""
    if value is None:
        return ""
    if value.tzinfo is not None:
        value = value.astimezone(current_time_zone())
        zone = value.tzname() or zone
        value = value.replace(tzinfo=None)
    text = format_datetime(value)
    return gettext("%(when)s %(zone)s", when=text, zone=zone) if zone else text


# ---------------------------------------------------------------------------------------------
# Numbers typed by the user


_SPACES = re.compile(r"[\s\u00a0\u202f\u2009'\u2019]")
_GROUPED = re.compile(r"^\d{1,3}(?:G\d{3})+$")


def parse_number_text(text: str) -> str:
    """A number typed in the user's locale ("893,50", "1 234,5"; "1,234.5" in English) as
    Python reads numbers ("893.50"); ValueError when its separators make no sense.

    The locale's decimal separator is accepted, and so is "." everywhere (what a browser's
    number input, a pasted value or an API sends): in French "893,50" and "893.50" are the same
    number. Any other separator is grouping, and only where it stands between groups of three
    digits: "1.234,5" is 1234.5 and "1,234" is 1234 in English, but "1,5" in English is refused
    rather than read as 15."""
    cleaned = _SPACES.sub("", text.strip())
    sign = ""
    if cleaned[:1] in ("+", "-"):
        sign, cleaned = cleaned[:1], cleaned[1:]
    mark = _decimal_mark(cleaned, decimal_symbol())
    whole, _sep, fraction = cleaned.rpartition(mark) if mark else (cleaned, "", "")
    for grouping in {",", "."} - {mark}:
        if grouping in fraction:
            raise ValueError(f"not a number: {text!r}")
        if grouping in whole:
            if not _GROUPED.match(whole.replace(grouping, "G")):
                raise ValueError(f"not a number: {text!r}")
            whole = whole.replace(grouping, "")
    if not (whole + fraction).isdigit() or not (whole + fraction).isascii():
        raise ValueError(f"not a number: {text!r}")
    return f"{sign}{whole}.{fraction}" if mark else sign + whole


def _decimal_mark(text: str, point: str) -> str | None:
    """Which of "," and "." is ``text``'s decimal separator (None: none, or only grouping)."""
    marks = [mark for mark in (",", ".") if mark in text]
    if len(marks) == 2:  # "1.234,5", "1,234.5": the last one
        return max(marks, key=text.rindex)
    if len(marks) == 1 and text.count(marks[0]) == 1 and marks[0] in (point, "."):
        return marks[0]
    return None


def format_number_input(value: t.Any, places: int | None = None) -> str:
    """A decimal or float as a form's input shows it, as lists show it: the locale's decimal
    separator, no grouping, the column's declared places ("893,50")."""
    finite = (isinstance(value, decimal.Decimal) and value.is_finite()
              or isinstance(value, float) and math.isfinite(value))
    text = f"{value:.{places}f}" if finite and places is not None else str(value)
    return text.replace(".", decimal_symbol())


# ---------------------------------------------------------------------------------------------
# Durations, money, percentages (dashboards)


_DURATION_UNITS = (("duration-day", 86400), ("duration-hour", 3600), ("duration-minute", 60),
                   ("duration-second", 1))


def format_duration(seconds: float) -> str:
    """A duration in its two largest units, as the locale abbreviates them: "1 day 8 hr",
    "1 j 8 h"; "5 min", "45 s"."""
    seconds = max(0.0, float(seconds))
    if seconds < 60:
        return _unit(round(seconds), "duration-second")
    if seconds < 3600:
        return _unit(round(seconds / 60), "duration-minute")
    hours, minutes = divmod(int(round(seconds / 60)), 60)
    if hours < 24:
        parts = [_unit(hours, "duration-hour")] + ([_unit(minutes, "duration-minute")] if minutes else [])
    else:
        days, hours = divmod(hours, 24)
        parts = [_unit(days, "duration-day")] + ([_unit(hours, "duration-hour")] if hours else [])
    return babel_lists.format_list(parts, style="unit-narrow", locale=current_locale())


def format_duration_compact(seconds: float) -> str:
    """A duration in its largest unit, narrow, for a chart's axis: "2d" / "2j", "3h"."""
    for unit, size in _DURATION_UNITS:
        if seconds >= size or unit == "duration-second":
            amount = seconds / size
            amount = int(amount) if float(amount).is_integer() else round(amount, 1)
            return babel_units.format_unit(amount, unit, length="narrow", locale=current_locale())
    return ""  # pragma: no cover - the loop always returns


def _unit(amount: int, unit: str) -> str:
    return babel_units.format_unit(amount, unit, length="short", locale=current_locale())


@lru_cache(maxsize=256)
def _pattern(name: str, kind: str, places: int | None) -> babel_numbers.NumberPattern:
    """The locale's currency or percent pattern, with ``places`` fraction digits if given."""
    locale = _locale(name)
    source = (locale.currency_formats["standard"] if kind == "currency"
              else locale.percent_formats[None])
    pattern = copy.copy(babel_numbers.parse_pattern(source))
    if places is not None:
        pattern.frac_prec = (places, places)
    return pattern


def format_money(value: t.Any, currency: str, places: int | None = None) -> str:
    """An amount of ``currency`` as the locale writes money: "€12,345.50", "12 345,50 €"
    (``places``: fraction digits, default the currency's own)."""
    name = _bundle().name
    return _pattern(name, "currency", places).apply(
        value, _locale(name), currency=currency, currency_digits=places is None)


def format_percent(value: t.Any, places: int = 0) -> str:
    """``value`` percent as the locale writes it: 12.5 -> "12.5%" / "12,5 %"."""
    name = _bundle().name
    return _pattern(name, "percent", places).apply(float(value) / 100, _locale(name))


def format_or_list(items: t.Sequence[str]) -> str:
    """"a, b or c" in the user's language ("a, b ou c")."""
    return babel_lists.format_list(list(items), style="or", locale=current_locale())


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
    "format_timestamp": format_timestamp,
    "locale_tag": locale_tag,
}
