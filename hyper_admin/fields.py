"""Form fields from column info: a converter registry, as SQLAdmin's ``@converts``.

A converter is ``fn(column: ColumnInfo, ctx: FieldContext) -> UnboundField``. The registry finds
one for a column by, in order: the ``Hint`` kind, ``"foreign_key"``, ``"choices"``, the Python
type's MRO (so a user type registered by class wins, and its subclasses find it), the column
kind, and finally ``"text"``. It never fails: an unknown column becomes a text input.

Validators come from the schema (``FieldContext.validators``), whatever converter is used, so a
user converter keeps NOT NULL, ``varchar(n)``, integer ranges and numeric precision.

Tailwind scans this module: converters set the control classes (``input w-full``, ``select
w-full``, ``textarea w-full``, ``toggle``); the form_field macro adds ``input-error``,
``select-error``, ``textarea-error`` or ``toggle-error`` to a field that has errors.
"""

from __future__ import annotations

import datetime
import decimal
import enum
import functools
import inspect
import json
import math
import re
import typing as t
from dataclasses import dataclass, field

import wtforms
from wtforms import validators as v
from wtforms.i18n import get_translations
from wtforms.fields import (
    BooleanField,
    ColorField,
    DateField,
    DateTimeLocalField,
    DecimalField,
    EmailField,
    Field,
    FloatField,
    IntegerField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
    URLField,
)
from wtforms.fields.choices import Choice
from wtforms.fields.core import UnboundField
from markupsafe import Markup
from wtforms.widgets import DateTimeLocalInput, HiddenInput, TextInput, html_params

from . import i18n
from .i18n import _, lazy_gettext as _l
from .introspect import ColumnInfo, parse_array_literal
from .uploads import BytesUploadField, UploadField

__all__ = [
    "FieldContext",
    "Converter",
    "ConverterRegistry",
    "converters",
    "ForeignKeyField",
    "JSONField",
    "LocaleDecimalField",
    "LocaleFloatField",
    "ChoiceField",
    "AdminForm",
    "build_form_class",
    "initial_data",
    "cleaned_values",
    "form_key",
]

Converter = t.Callable[[ColumnInfo, "FieldContext"], UnboundField]

INT_RANGES = {
    16: (-(2**15), 2**15 - 1),
    32: (-(2**31), 2**31 - 1),
    64: (-(2**63), 2**63 - 1),
}
#: Text columns without a length that read better as a textarea.
TEXTAREA_NAMES = re.compile(r"(^|_)(body|notes?|description|comments?|content|text|message)$", re.I)
EMAIL_NAMES = re.compile(r"^(email|.*_email)$", re.I)
URL_NAMES = re.compile(r"^(url|website|.*_url)$", re.I)
_NUMERIC = re.compile(r"(?:numeric|decimal)\s*\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\)", re.I)
DATETIME_FORMATS = ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S.%f"]
TIME_FORMATS = ["%H:%M:%S", "%H:%M", "%H:%M:%S.%f"]


@dataclass
class FieldContext:
    """What every converter gets besides the column: prepared from the schema and hints."""

    label: str
    description: str = ""
    validators: list[t.Any] = field(default_factory=list)
    required: bool = False
    render_kw: dict[str, t.Any] = field(default_factory=dict)
    default: t.Any = None

    def kwargs(self, **extra: t.Any) -> dict[str, t.Any]:
        """Keyword arguments for a WTForms field; ``extra`` wins, ``render_kw`` is merged."""
        render_kw = dict(self.render_kw)
        render_kw.update(extra.pop("render_kw", None) or {})
        return {
            "label": self.label,
            "description": self.description,
            "validators": list(self.validators),
            "render_kw": render_kw,
            "default": self.default,
            **extra,
        }


class ConverterRegistry:
    """Keys are column kinds (``"int"``), hint kinds (``"email"``), ``"choices"``,
    ``"foreign_key"`` or Python classes."""

    def __init__(self, converters: dict[t.Any, Converter] | None = None) -> None:
        self._converters: dict[t.Any, Converter] = dict(converters or {})

    def register(self, *keys: t.Any) -> t.Callable[[Converter], Converter]:
        """``@registry.register(Money)`` or ``@registry.register("email", "url")``."""
        if not keys:
            raise TypeError("register() needs at least one key")

        def decorator(fn: Converter) -> Converter:
            for key in keys:
                self._converters[key] = fn
            return fn

        return decorator

    def copy(self) -> ConverterRegistry:
        return ConverterRegistry(self._converters)

    def __contains__(self, key: t.Any) -> bool:
        return key in self._converters

    def candidates(self, column: ColumnInfo) -> list[t.Any]:
        """The keys tried for ``column``, in order."""
        keys: list[t.Any] = []
        if column.hint.kind:
            keys.append(column.hint.kind)
        if column.is_foreign_key:
            keys.append("foreign_key")
        if column.choices:
            keys.append("choices")
        if isinstance(column.python_type, type):
            keys.extend(k for k in column.python_type.__mro__ if k is not object)
        keys.append(column.kind)
        keys.append("text")
        return keys

    def lookup(self, column: ColumnInfo) -> Converter:
        for key in self.candidates(column):
            if key in self._converters:
                return self._converters[key]
        return _text

    def convert(self, column: ColumnInfo, ctx: FieldContext | None = None) -> UnboundField:
        return self.lookup(column)(column, ctx or field_context(column))


converters = ConverterRegistry()


# --- validators ------------------------------------------------------------------------------


class Regexp:
    """A regex check that runs on text only and says what it wants, unlike ``v.Regexp``'s
    generic message. Empty input is left to Optional/InputRequired."""

    def __init__(self, pattern: str, message: str) -> None:
        self.regex = re.compile(pattern, re.I)
        self.message = message

    def __call__(self, form: t.Any, field: Field) -> None:
        value = field.data
        if value in (None, ""):
            return
        if not isinstance(value, str) or not self.regex.match(value):
            raise v.ValidationError(self.message)


def Email() -> Regexp:  # noqa: N802 - reads as a validator class
    # Deliberately simple: the mail server is the only real judge.
    return Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", _l("Enter a valid email address."))


def URL() -> Regexp:  # noqa: N802
    # http(s) only: the value may be shown as a link, and javascript: must never be one.
    return Regexp(r"^https?://[^\s/?#]+\.?[^\s]*$", _l("Enter a valid URL (http:// or https://)."))


class Finite:
    """NaN and infinities parse as float and Decimal but belong in no column."""

    def __call__(self, form: t.Any, field: Field) -> None:
        value = field.data
        if isinstance(value, float) and not math.isfinite(value):
            raise v.ValidationError(_("Enter a finite number."))
        if isinstance(value, decimal.Decimal) and not value.is_finite():
            raise v.ValidationError(_("Enter a finite number."))


class DecimalPlaces:
    """What ``numeric(precision, scale)`` can store, without PostgreSQL's silent rounding."""

    def __init__(self, precision: int, scale: int) -> None:
        self.precision, self.scale = precision, scale
        self.field_flags = {"step": "any"}

    def __call__(self, form: t.Any, field: Field) -> None:
        value = field.data
        if not isinstance(value, decimal.Decimal) or not value.is_finite():
            return
        quantum = decimal.Decimal(1).scaleb(-self.scale)
        try:
            exact = value.quantize(quantum) == value
        except decimal.InvalidOperation:
            exact = False
        if not exact:
            raise v.ValidationError(_("Enter at most %(count)s decimal places.", count=self.scale))
        if abs(value) >= decimal.Decimal(10) ** (self.precision - self.scale):
            raise v.ValidationError(
                _("Enter at most %(count)s digits before the decimal point.",
                  count=self.precision - self.scale)
            )


def int_range(column: ColumnInfo) -> tuple[int, int]:
    """The signed range of the column's integer type. SQLite's ``integer`` is 64-bit, so
    anything unrecognised is 64-bit; PostgreSQL's ``integer``/``int4`` is 32-bit."""
    sql = (column.sql_type or "").lower()
    if "big" in sql or "int8" in sql:
        return INT_RANGES[64]
    if "small" in sql or "int2" in sql:
        return INT_RANGES[16]
    if re.search(r"\bint(eger|4)?\b", sql):
        return INT_RANGES[32]
    return INT_RANGES[64]


def numeric_precision(column: ColumnInfo) -> tuple[int, int] | None:
    match = _NUMERIC.search(column.sql_type or "")
    if not match:
        return None
    return int(match.group(1)), int(match.group(2) or 0)


def is_required(column: ColumnInfo) -> bool:
    """NOT NULL with no default of the model's or the database's (which fills it when the
    field is left empty), and not a boolean (a toggle is never empty)."""
    return (not column.nullable and not column.has_default and not column.filled_by_database
            and column.kind != "bool")


def wants_email(column: ColumnInfo) -> bool:
    if column.hint.kind:
        return column.hint.kind == "email"
    return column.kind == "text" and bool(EMAIL_NAMES.match(column.attribute))


def wants_url(column: ColumnInfo) -> bool:
    if column.hint.kind:
        return column.hint.kind == "url"
    return column.kind == "text" and bool(URL_NAMES.match(column.attribute))


def schema_validators(column: ColumnInfo) -> list[t.Any]:
    """Validators every field of this column gets, whichever converter builds it."""
    found: list[t.Any] = []
    if is_required(column) and not (column.hint.kind == "password"):
        found.append(v.InputRequired())
    else:
        found.append(v.Optional())
    textual = column.kind == "text" and not column.choices and not column.is_foreign_key
    if textual and column.max_length:
        found.append(v.Length(max=column.max_length))
    if wants_email(column):
        found.append(Email())
    if wants_url(column):
        found.append(URL())
    # A domain's CHECK bounds (``year``: 1901 to 2155), narrowed by the hint's.
    low_bound, high_bound = column.database_bounds
    if column.hint.min is not None:
        low_bound = column.hint.min if low_bound is None else max(low_bound, column.hint.min)
    if column.hint.max is not None:
        high_bound = column.hint.max if high_bound is None else min(high_bound, column.hint.max)
    if column.kind == "int" and not column.choices:
        low, high = int_range(column)
        if low_bound is not None:
            low = max(low, low_bound)
        if high_bound is not None:
            high = min(high, high_bound)
        found.append(v.NumberRange(min=low, max=high))
    elif column.kind in ("float", "decimal", "date", "datetime", "time") and (
        low_bound is not None or high_bound is not None
    ):
        found.append(v.NumberRange(min=low_bound, max=high_bound))
    found.extend(_type_validators(column))
    if column.kind in ("float", "decimal"):
        found.append(Finite())
    if column.kind == "decimal":
        precision = numeric_precision(column)
        if precision:
            found.append(DecimalPlaces(*precision))
    return found


class TypedText:
    """A value typed as text that must parse as the column's type (a uuid, a network address,
    an interval, money): said on the field before the database would refuse it."""

    def __init__(self, column: ColumnInfo) -> None:
        self.column = column

    def __call__(self, form: t.Any, field: Field) -> None:
        value = field.data
        if value in (None, "") or not isinstance(value, str):
            return
        try:
            parse_item(self.column, value)
        except ValueError as exc:
            raise v.ValidationError(str(exc)) from None


def _type_validators(column: ColumnInfo) -> list[t.Any]:
    if column.kind in ("uuid", "network", "interval", "money"):
        return [TypedText(column)]
    return []


def field_context(column: ColumnInfo) -> FieldContext:
    return FieldContext(
        label=column.label,
        description=column.hint.help or "",
        validators=schema_validators(column),
        required=is_required(column),
        render_kw={},
        default=column.default if column.has_default else None,
    )


# --- field classes ---------------------------------------------------------------------------


class JSONField(TextAreaField):
    """JSON edited as indented text; ``data`` is the parsed Python value."""

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        if self.data is None:
            return ""
        return json.dumps(self.data, indent=2, ensure_ascii=False)

    def process_data(self, value: t.Any) -> None:
        if isinstance(value, (str, bytes)):
            try:
                value = json.loads(value)
            except ValueError:
                pass
        self.data = value

    def process_formdata(self, valuelist: list[str]) -> None:
        if not valuelist:
            return
        text = valuelist[0]
        if not text.strip():
            self.data = None
            return
        try:
            self.data = json.loads(text)
        except ValueError as exc:
            self.data = None
            raise ValueError(_("Enter valid JSON (line %(line)s, column %(column)s).",
                               line=getattr(exc, "lineno", 1), column=getattr(exc, "colno", 1))) from exc


class BytesField(StringField):
    """Binary data edited as hexadecimal (round-trips exactly; never re-encoded as text)."""

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return self.data.hex() if isinstance(self.data, (bytes, bytearray, memoryview)) else ""

    def process_data(self, value: t.Any) -> None:
        self.data = bytes(value) if isinstance(value, (bytearray, memoryview)) else value

    def process_formdata(self, valuelist: list[str]) -> None:
        if not valuelist:
            return
        text = "".join(valuelist[0].split())
        if not text:
            self.data = None
            return
        try:
            self.data = bytes.fromhex(text)
        except ValueError as exc:
            self.data = None
            raise ValueError("Enter hexadecimal bytes") from exc


# --- values typed as text: array items, range bounds, uuids, network addresses ---------------

_MAC = re.compile(r"^(?:[0-9a-f]{2}([:-]?)[0-9a-f]{2}(?:\1[0-9a-f]{2}){4}"
                  r"|[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4}|[0-9a-f]{6}[:-]?[0-9a-f]{6})$", re.I)
#: What PostgreSQL reads as an interval: quantities with units ("1 year 2 mons", "3 days
#: 04:05:06", "2 hours ago"), a time ("04:05"), or ISO 8601 ("P1Y2M3DT4H").
_INTERVAL = re.compile(
    r"^@?\s*(?:[+-]?\d+(?:\.\d+)?\s*(?:years?|y|mons?|months?|mon|m|weeks?|w|days?|d|hours?|h|"
    r"minutes?|mins?|seconds?|secs?|s|milliseconds?|ms|microseconds?|us|decades?|centuries|"
    r"century|millenni(?:um|a))\s*,?\s*)*(?:[+-]?\d+:\d{1,2}(?::\d{1,2}(?:\.\d+)?)?)?\s*(?:ago)?$"
    r"|^P(?=.)(?:\d+(?:\.\d+)?[YMWD])*(?:T(?:\d+(?:\.\d+)?[HMS])+)?$", re.I)
_MONEY = re.compile(r"^\(?-?\s*[^\d\s,.()-]{0,4}\s*-?\d[\d\s,.']*\s*[^\d\s,.()-]{0,4}\)?$")
_TRUE_WORDS = ("t", "true", "y", "yes", "on", "1")
_FALSE_WORDS = ("f", "false", "n", "no", "off", "0")


def parse_item(column: ColumnInfo, text: str) -> t.Any:
    """``text`` as a value of ``column`` (an array's item column, a range's bound column, or a
    column typed as text such as a uuid): ValueError with a sentence for the user when it is
    none."""
    kind = column.kind
    stripped = text.strip()
    if column.choices:
        allowed = {str(value): value for value, _label in column.choices}
        if stripped not in allowed:
            raise ValueError(_("%(value)s is not one of the choices.", value=stripped))
        return allowed[stripped]
    try:
        if kind == "int":
            value = int(stripped)
            low, high = int_range(column)
            if not low <= value <= high:
                raise ValueError
            return value
        if kind in ("decimal", "float"):
            number = decimal.Decimal(i18n.parse_number_text(stripped))
            if not number.is_finite():
                raise ValueError
            return float(number) if kind == "float" else number
        if kind == "bool":
            if stripped.lower() in _TRUE_WORDS:
                return True
            if stripped.lower() in _FALSE_WORDS:
                return False
            raise ValueError
        if kind == "date":
            return datetime.date.fromisoformat(stripped)
        if kind == "datetime":
            value = datetime.datetime.fromisoformat(stripped)
            if column.aware and value.tzinfo is None:
                value = value.replace(tzinfo=i18n.current_time_zone())
            return value
        if kind == "time":
            return datetime.time.fromisoformat(stripped)
    except (ValueError, ArithmeticError):
        raise ValueError(_ITEM_MESSAGES[kind]()) from None
    if kind == "uuid":
        return _checked(stripped, _uuid_text, _l("Enter a UUID like 123e4567-e89b-12d3-a456-426614174000."))
    if kind == "network":
        return _checked(stripped, _network_check(column), _NETWORK_MESSAGES.get(
            _base_name(column), _NETWORK_MESSAGES["inet"]))
    if kind == "interval" and not _INTERVAL.match(stripped):
        raise ValueError(_("Enter a duration like “1 year 2 mons”, “3 days 04:05:06” or “P1DT2H”."))
    if kind == "money" and not _MONEY.match(stripped):
        raise ValueError(_("Enter an amount like 12.34."))
    return text


_ITEM_MESSAGES: dict[str, t.Callable[[], str]] = {
    "int": lambda: _("Enter a whole number within the column's range."),
    "decimal": lambda: _("Enter a number."),
    "float": lambda: _("Enter a number."),
    "bool": lambda: _("Enter true or false."),
    "date": lambda: _("Enter a date like 2024-03-10."),
    "datetime": lambda: _("Enter a date and time like 2024-03-10 14:03:00."),
    "time": lambda: _("Enter a time like 14:03:00."),
}
_NETWORK_MESSAGES = {
    "inet": _l("Enter an IP address, such as 192.168.0.10 or 192.168.0.10/24."),
    "cidr": _l("Enter a network, such as 10.0.0.0/8 (no bits set after the mask)."),
    "macaddr": _l("Enter a MAC address, such as 08:00:2b:01:02:03."),
    "macaddr8": _l("Enter a MAC address, such as 08:00:2b:01:02:03:04:05."),
}


def _base_name(column: ColumnInfo) -> str:
    return re.sub(r"\(.*?\)", "", column.sql_type or "").strip().lower()


def _checked(text: str, check: t.Callable[[str], t.Any], message: t.Any) -> str:
    try:
        check(text)
    except ValueError:
        raise ValueError(str(message)) from None
    return text


def _uuid_text(text: str) -> None:
    import uuid

    uuid.UUID(text)


def _network_check(column: ColumnInfo) -> t.Callable[[str], t.Any]:
    import ipaddress

    name = _base_name(column)
    if name == "cidr":
        return lambda text: ipaddress.ip_network(text, strict=True)
    if name.startswith("macaddr"):
        def mac(text: str) -> None:
            if not _MAC.match(text) and not (name == "macaddr8" and re.fullmatch(
                    r"(?:[0-9a-f]{2}[:-]?){7}[0-9a-f]{2}", text, re.I)):
                raise ValueError
        return mac
    return ipaddress.ip_interface


def item_text(value: t.Any) -> str:
    """An array item or a range bound as a form shows it (and parse_item reads it back)."""
    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(i18n.current_time_zone()).replace(tzinfo=None)
        return value.isoformat(" ")
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    return str(value)


class ArrayField(TextAreaField):
    """An array edited one item per line; ``data`` is the list of its items, each read as the
    items' type says (``item``: the column of one item, ColumnInfo.item_column). Blank lines
    are no items. Left empty, the field keeps what the row held (an empty array stays empty,
    no value stays no value); a new row's is no value when the column allows it."""

    def __init__(self, *args: t.Any, item: ColumnInfo | None = None, nullable: bool = True,
                 **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self.item = item
        self.nullable = nullable

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        if not isinstance(self.data, (list, tuple)):
            return ""
        return "\n".join("" if item is None else item_text(item) for item in self.data)

    def process_data(self, value: t.Any) -> None:
        if isinstance(value, str):
            try:
                value = parse_array_literal(value)
            except ValueError:
                pass
        self.data = list(value) if isinstance(value, tuple) else value

    def process_formdata(self, valuelist: list[str]) -> None:
        if not valuelist:
            return
        lines = [(number, line.rstrip("\r")) for number, line
                 in enumerate(valuelist[0].split("\n"), 1) if line.strip()]
        if not lines:
            self.data = [] if isinstance(self.object_data, (list, tuple)) or not self.nullable else None
            return
        items, problems = [], []
        for number, line in lines:
            try:
                items.append(parse_item(self.item, line) if self.item is not None else line)
            except ValueError as exc:
                problems.append(_("Line %(number)s: %(problem)s", number=number, problem=str(exc)))
        if problems:
            self.data = None
            raise ValueError(" ".join(problems[:3]))
        self.data = items


class RangeInput:
    """Two inputs for a range's bounds, named alike (the field reads both): the first carries
    the field's id (its label's), the second says it is the upper bound."""

    def __call__(self, field: "RangeField", **kwargs: t.Any) -> Markup:
        kwargs.setdefault("id", field.id)
        kwargs.pop("required", None)  # one bound may be open
        input_type, extra = field.input_type()
        lower, upper = field.bound_texts()
        first = dict(kwargs, type=input_type, name=field.name, value=lower, **extra)
        first["aria-label"] = _("%(field)s: from", field=field.label.text)
        second = dict(first, id=f"{kwargs['id']}-upper", value=upper)
        second["aria-label"] = _("%(field)s: to", field=field.label.text)
        return Markup('<div class="flex items-center gap-2" data-range>'
                      f"<input {html_params(**first)}>"
                      '<span aria-hidden="true">–</span>'
                      f"<input {html_params(**second)}></div>")


class RangeField(Field):
    """A range (``int4range``, ``daterange``, ``tstzrange``...) edited as its two bounds; an
    empty bound is open (unbounded). ``data`` is a psycopg ``Range`` (its bounds' inclusivity
    kept from the stored value, else ``[)``), or None when both bounds are left empty and the
    column allows no value."""

    widget = RangeInput()

    def __init__(self, *args: t.Any, item: ColumnInfo | None = None, nullable: bool = True,
                 **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self.item = item
        self.nullable = nullable

    def input_type(self) -> tuple[str, dict[str, t.Any]]:
        kind = self.item.kind if self.item is not None else "text"
        if kind == "date":
            return "date", {}
        if kind == "datetime":
            return "datetime-local", {"step": 1}
        if kind in ("int", "decimal", "float"):
            return "text", {"inputmode": "numeric" if kind == "int" else "decimal"}
        return "text", {}

    def bound_texts(self) -> tuple[str, str]:
        if self.raw_data:
            return (self.raw_data + ["", ""])[0], (self.raw_data + ["", ""])[1]
        value = self.data
        if value is None or getattr(value, "isempty", False):
            return "", ""
        return tuple("" if bound is None else self._bound_text(bound)
                     for bound in (value.lower, value.upper))

    def _bound_text(self, bound: t.Any) -> str:
        text = item_text(bound)
        return text.replace(" ", "T") if isinstance(bound, datetime.datetime) else text

    def _value(self) -> str:
        """The range as read-only text: "lower – upper" ("" for an open bound)."""
        if self.data is None:
            return ""
        if getattr(self.data, "isempty", False):
            return _("empty")
        lower, upper = self.bound_texts()
        return f"{lower} – {upper}"

    def process_formdata(self, valuelist: list[str]) -> None:
        if not valuelist:
            return
        texts = [text.strip() for text in (list(valuelist) + ["", ""])[:2]]
        stored = self.object_data
        if not any(texts):
            if stored is not None and getattr(stored, "isempty", False):
                self.data = stored  # an empty range stays empty
            else:
                self.data = None if self.nullable else _range(None, None, "[)")
            return
        bounds = getattr(stored, "bounds", None) or "[)"
        values = []
        for text, stored_bound in zip(texts, (getattr(stored, "lower", None),
                                              getattr(stored, "upper", None))):
            if not text:
                values.append(None)
                continue
            try:
                value = parse_item(self.item, text) if self.item is not None else text
            except ValueError as exc:
                self.data = None
                raise ValueError(str(exc)) from None
            if isinstance(value, datetime.datetime) and isinstance(stored_bound, datetime.datetime) \
                    and value.tzinfo is not None and stored_bound.tzinfo is not None:
                value = value.astimezone(stored_bound.tzinfo)  # the same moment, as stored
            values.append(value)
        lower, upper = values
        if lower is not None and upper is not None and lower > upper:
            self.data = None
            raise ValueError(_("The lower bound is after the upper bound."))
        self.data = _range(lower, upper, bounds)


def _range(lower: t.Any, upper: t.Any, bounds: str) -> t.Any:
    from psycopg.types.range import Range

    return Range(lower, upper, bounds)


class ChoiceField(SelectField):
    """A select whose data is the choice's value (an enum member becomes its value). A stored
    value that is not among the choices (a legacy row) is offered and accepted as it is, so
    saving an unchanged form never rewrites it."""

    def __init__(self, *args: t.Any, nullable: bool = False, **kwargs: t.Any) -> None:
        coerce = kwargs.pop("coerce", str)
        kwargs["coerce"] = _empty_to_none(coerce)
        choices = kwargs.get("choices")
        if isinstance(choices, (list, tuple)):
            kwargs["choices"] = [c if isinstance(c, SelectChoice) else SelectChoice(*c) for c in choices]
        super().__init__(*args, **kwargs)
        self.nullable = nullable

    def process_data(self, value: t.Any) -> None:
        if isinstance(value, enum.Enum):
            value = value.value
        super().process_data(value)

    def iter_choices(self):  # noqa: ANN201 - wtforms' own signature
        found = super().iter_choices()
        current = self.object_data.value if isinstance(self.object_data, enum.Enum) else self.object_data
        if current not in (None, "") and not any(self.coerce(c.value) == current for c in found):
            found.append(
                Choice(
                    value=current, label=_("%(value)s (not a listed choice)", value=current),
                    selected=current == self.data, render_kw=None,
                )
            )
        return found


class ForeignKeyField(Field):
    """The key of a referenced row, picked with a search box (``partials/fk_picker.html``),
    never a select of the whole table.

    The view sets, after building the form: ``lookup_url`` (None when the user may not view the
    target model: the field is then shown read-only), ``current_label`` and ``detail_url``.
    The view must also check that a posted key exists within the target's scope.
    """

    widget = HiddenInput()

    def __init__(self, *args: t.Any, key_column: ColumnInfo | None = None,
                 nullable: bool = False, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self.key_column = key_column
        self.nullable = nullable
        self.lookup_url: str | None = None
        self.current_label: str | None = None
        self.detail_url: str | None = None

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else str(self.data)

    def process_data(self, value: t.Any) -> None:
        self.data = self.key_column.coerce(value) if self.key_column is not None else value

    def process_formdata(self, valuelist: list[str]) -> None:
        if not valuelist:
            return
        text = valuelist[0].strip()
        if not text:
            self.data = None
            return
        self.data = None
        self.data = strict_coerce(self.key_column, text) if self.key_column is not None else text

    def pre_validate(self, form: t.Any) -> None:
        # InputRequired lets "  " through: a blank key is no key.
        if self.data is None and not self.nullable and self.raw_data and not self.process_errors:
            raise v.StopValidation(_("This field is required."))


_KIND_TYPES: dict[str, type | tuple[type, ...]] = {
    "int": int,
    "float": float,
    "decimal": decimal.Decimal,
    "date": datetime.date,
    "datetime": datetime.datetime,
    "time": datetime.time,
    "bool": bool,
}


def strict_coerce(column: ColumnInfo, text: str) -> t.Any:
    """``column.coerce`` that fails (ValueError) instead of returning what it cannot convert."""
    value = column.coerce(text)
    expected = _KIND_TYPES.get(column.kind)
    if expected is not None and not isinstance(value, expected):
        raise ValueError("Not a valid choice.")
    if column.kind == "int" and (isinstance(value, bool) or not -2**63 <= value < 2**63):
        raise ValueError("Not a valid choice.")  # beyond 64 bits no database column holds it
    return value


class _LocaleNumber:
    """A number typed and shown in the user's locale: "893,50" in French, as lists show it,
    and "893.50" too (i18n.parse_number_text); shown with the column's declared places.
    What the locale's rules do not read is given to Python as typed ("1e3", "NaN"), so that
    the schema's validators answer it as before."""

    number_type: t.Callable[[str], t.Any] = decimal.Decimal
    invalid_message = "Not a valid decimal value."

    def __init__(self, *args: t.Any, shown_places: int | None = None, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self.shown_places = shown_places

    def process_formdata(self, valuelist: list[str]) -> None:
        if not valuelist:
            return
        text = valuelist[0].strip()
        if not text:
            self.data = None
            return
        try:
            normalized = i18n.parse_number_text(text)
        except ValueError:
            normalized = text
        try:
            self.data = self.number_type(normalized)
        except (ValueError, ArithmeticError) as exc:
            self.data = None
            raise ValueError(self.gettext(self.invalid_message)) from exc

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        if self.data is None or self.data == "":
            return ""
        return i18n.format_number_input(self.data, self.shown_places)


class LocaleDecimalField(_LocaleNumber, DecimalField):
    """A decimal column's field: exact (no float), in the user's locale."""


class LocaleFloatField(_LocaleNumber, FloatField):
    """A float column's field, in the user's locale."""

    number_type = float
    invalid_message = "Not a valid float value."


class _ZoneKeeping:
    """The HTML inputs are naive; an aware stored value keeps its zone through the form."""

    def _resolve_tz(self):  # noqa: ANN202
        tz = super()._resolve_tz()  # type: ignore[misc]
        if tz is None and isinstance(self.object_data, datetime.datetime):  # type: ignore[attr-defined]
            return self.object_data.tzinfo  # type: ignore[attr-defined]
        return tz


class ZonedDateTimeInput(DateTimeLocalInput):
    """A ``datetime-local`` input followed by the zone it is in ("CET"), which the input's
    description names too."""

    def __call__(self, field: Field, **kwargs: t.Any) -> Markup:
        zone_id = f"{kwargs.get('id', field.id)}-zone"
        kwargs["aria-describedby"] = f"{kwargs.get('aria-describedby', '')} {zone_id}".strip()
        moment = field.data if isinstance(field.data, datetime.datetime) else None
        zone = i18n.current_time_zone()
        label = i18n.zone_label(moment)
        title = _("Time zone: %(zone)s", zone=str(zone))
        return Markup('<div class="flex items-center gap-2">{}<span id="{}" '
                      'class="text-sm text-base-content/70" title="{}">{}</span></div>').format(
            super().__call__(field, **kwargs), zone_id, title, label)


class LocalDateTimeField(_ZoneKeeping, DateTimeLocalField):
    def process_formdata(self, valuelist: list[str]) -> None:
        super().process_formdata(valuelist)
        stored = self.object_data
        if (isinstance(self.data, datetime.datetime) and self.data.tzinfo is not None
                and isinstance(stored, datetime.datetime) and stored.tzinfo is not None):
            # The same moment in the stored value's zone: unchanged input compares equal.
            self.data = self.data.astimezone(stored.tzinfo)

    def _value(self) -> str:
        if self.raw_data:
            return " ".join(self.raw_data)
        if self.data and self.data.microsecond:
            value = self.data
            tz = self._resolve_tz()
            if tz is not None and value.tzinfo is not None:
                value = value.astimezone(tz).replace(tzinfo=None)
            # Milliseconds at most: a browser empties an input given more. Microseconds left
            # as shown are kept (unchanged.py), not rounded.
            return value.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]
        return super()._value()


class SecondsTimeField(TimeField):
    def _value(self) -> str:
        if self.raw_data:
            return " ".join(self.raw_data)
        if isinstance(self.data, datetime.time) and self.data.microsecond:
            return self.data.strftime("%H:%M:%S.%f")[:-3]  # as LocalDateTimeField's
        return super()._value()


def _empty_to_none(coerce: t.Callable[[t.Any], t.Any]) -> t.Callable[[t.Any], t.Any]:
    if getattr(coerce, "_empty_to_none", False):
        return coerce

    def wrapped(value: t.Any) -> t.Any:
        if value is None or value == "":
            return None
        if isinstance(value, enum.Enum):
            value = value.value
        return coerce(value)

    wrapped._empty_to_none = True  # type: ignore[attr-defined]
    return wrapped


# --- converters ------------------------------------------------------------------------------


def _with_class(ctx: FieldContext, css: str, **extra: t.Any) -> dict[str, t.Any]:
    render_kw = {"class": css}
    render_kw.update(extra.pop("render_kw", {}))
    return ctx.kwargs(render_kw=render_kw, **extra)


@converters.register("text")
def _text(column: ColumnInfo, ctx: FieldContext) -> UnboundField:
    if wants_email(column):
        return _email(column, ctx)
    if wants_url(column):
        return _url(column, ctx)
    long = column.max_length is not None and column.max_length > 255
    named = column.max_length is None and bool(TEXTAREA_NAMES.search(column.attribute))
    if long or named:
        return _textarea(column, ctx)
    return StringField(**_with_class(ctx, "input w-full"))


@converters.register("textarea")
def _textarea(column: ColumnInfo, ctx: FieldContext) -> UnboundField:
    return TextAreaField(**_with_class(ctx, "textarea w-full", render_kw={"rows": 4}))


@converters.register("email")
def _email(column: ColumnInfo, ctx: FieldContext) -> UnboundField:
    return EmailField(**_with_class(ctx, "input w-full", render_kw={"autocomplete": "off"}))


@converters.register("url")
def _url(column: ColumnInfo, ctx: FieldContext) -> UnboundField:
    return URLField(**_with_class(ctx, "input w-full"))


@converters.register("password")
def _password(column: ColumnInfo, ctx: FieldContext) -> UnboundField:
    # Never rendered back; empty means "unchanged" (cleaned_values leaves it out).
    return PasswordField(**_with_class(ctx, "input w-full", render_kw={"autocomplete": "new-password"}))


@converters.register("color")
def _color(column: ColumnInfo, ctx: FieldContext) -> UnboundField:
    kw = _with_class(ctx, "input w-full")
    kw["validators"].append(Regexp(r"^#[0-9a-f]{6}$", _l("Enter a colour like #1a2b3c.")))
    return ColorField(**kw)


@converters.register("int")
def _int(column: ColumnInfo, ctx: FieldContext) -> UnboundField:
    return IntegerField(**_with_class(ctx, "input w-full", render_kw={"inputmode": "numeric"}))


@converters.register("float")
def _float(column: ColumnInfo, ctx: FieldContext) -> UnboundField:
    # A text input: a number input would take only the browser's own decimal separator.
    return LocaleFloatField(
        widget=TextInput(), shown_places=column.decimal_places,
        **_with_class(ctx, "input w-full", render_kw={"inputmode": "decimal"}),
    )


@converters.register("decimal")
def _decimal(column: ColumnInfo, ctx: FieldContext) -> UnboundField:
    # places=None: the value as typed, never rounded; a text input: no float in the browser,
    # and the user's decimal separator ("893,50" in French, as lists show it).
    return LocaleDecimalField(
        places=None, widget=TextInput(), shown_places=column.decimal_places,
        **_with_class(ctx, "input w-full", render_kw={"inputmode": "decimal"}),
    )


@converters.register("bool")
def _bool(column: ColumnInfo, ctx: FieldContext) -> UnboundField:
    return BooleanField(**_with_class(ctx, "toggle"))


@converters.register("date")
def _date(column: ColumnInfo, ctx: FieldContext) -> UnboundField:
    return DateField(**_with_class(ctx, "input w-full"))


@converters.register("datetime")
def _datetime(column: ColumnInfo, ctx: FieldContext) -> UnboundField:
    # step=1: browsers show and submit the seconds our timestamps hold.
    if column.aware:
        # A timestamp with time zone: shown and typed in the user's zone, which it names.
        return LocalDateTimeField(
            format=list(DATETIME_FORMATS), tz=i18n.current_time_zone, widget=ZonedDateTimeInput(),
            **_with_class(ctx, "input w-full", render_kw={"step": 1}))
    return LocalDateTimeField(
        format=list(DATETIME_FORMATS), **_with_class(ctx, "input w-full", render_kw={"step": 1})
    )


@converters.register("time")
def _time(column: ColumnInfo, ctx: FieldContext) -> UnboundField:
    return SecondsTimeField(
        format=list(TIME_FORMATS), **_with_class(ctx, "input w-full", render_kw={"step": 1})
    )


@converters.register("choices", "enum")
def _choices(column: ColumnInfo, ctx: FieldContext) -> UnboundField:
    choices = list(column.choices or ())
    if not choices and column.enum is not None:
        choices = [(m.value, m.name) for m in column.enum]
    values = [value for value, _ in choices]
    types_ = {type(value) for value in values}
    coerce: t.Callable[[t.Any], t.Any] = types_.pop() if len(types_) == 1 else str
    if coerce is bool:
        coerce = lambda value: value in (True, "True", "true", "1", 1)  # noqa: E731
    if column.nullable:
        choices = [("", "—"), *choices]
    return ChoiceField(
        choices=choices, coerce=coerce, nullable=column.nullable,
        **_with_class(ctx, "select w-full"),
    )


@converters.register("json")
def _json(column: ColumnInfo, ctx: FieldContext) -> UnboundField:
    return JSONField(
        **_with_class(ctx, "textarea w-full font-mono text-xs", render_kw={"rows": 8, "spellcheck": "false"})
    )


@converters.register("bytes")
def _bytes(column: ColumnInfo, ctx: FieldContext) -> UnboundField:
    # A file input whose content goes into the column (uploads.py); BytesField (hexadecimal
    # text) stays for an application's form_overrides.
    return BytesUploadField(label=ctx.label, description=ctx.description, required=ctx.required,
                            accept=column.hint.accept, max_size=column.hint.max_size,
                            render_kw=_with_class(ctx, "file-input w-full")["render_kw"])


@converters.register("file", "image")
def _upload(column: ColumnInfo, ctx: FieldContext) -> UnboundField:
    return UploadField(label=ctx.label, description=ctx.description, required=ctx.required,
                       accept=column.hint.accept, max_size=column.hint.max_size,
                       image=column.hint.kind == "image",
                       render_kw=_with_class(ctx, "file-input w-full")["render_kw"])


@converters.register("array")
def _array(column: ColumnInfo, ctx: FieldContext) -> UnboundField:
    return ArrayField(
        item=column.item_column(), nullable=column.nullable,
        **_with_class(ctx, "textarea w-full", description=ctx.description or _l("One item per line."),
                      render_kw={"rows": 4, "spellcheck": "false"}),
    )


@converters.register("range")
def _range_field(column: ColumnInfo, ctx: FieldContext) -> UnboundField:
    return RangeField(item=column.item_column(), nullable=column.nullable,
                      **_with_class(ctx, "input w-full"))


@converters.register("uuid", "network")
def _code(column: ColumnInfo, ctx: FieldContext) -> UnboundField:
    return StringField(**_with_class(ctx, "input w-full font-mono",
                                     render_kw={"spellcheck": "false", "autocomplete": "off"}))


@converters.register("interval", "money")
def _typed_text(column: ColumnInfo, ctx: FieldContext) -> UnboundField:
    return StringField(**_with_class(ctx, "input w-full", render_kw={"spellcheck": "false"}))


@converters.register("tsvector")
def _tsvector(column: ColumnInfo, ctx: FieldContext) -> UnboundField:
    # Shown read-only (ColumnInfo.editable): the database keeps it from other columns.
    return TextAreaField(**_with_class(ctx, "textarea w-full font-mono text-xs",
                                       render_kw={"rows": 3, "readonly": True}))


@converters.register("foreign_key")
def _foreign_key(column: ColumnInfo, ctx: FieldContext) -> UnboundField:
    kw = ctx.kwargs()
    # The key's range check belongs to the lookup, not to a number the user never types.
    kw["validators"] = [x for x in kw["validators"] if not isinstance(x, v.NumberRange)]
    return ForeignKeyField(key_column=column, nullable=column.nullable, **kw)


# --- forms -----------------------------------------------------------------------------------


@functools.lru_cache(maxsize=32)
def _wtforms_translations(language: str):
    return get_translations([language])


#: WTForms' messages that our catalog words itself, so that a form uses one word for one thing
#: (WTForms' French says "requis" where ours says "obligatoire").
OUR_WORDING = frozenset({"This field is required."})


class _FormTranslations:
    """WTForms' own translations, but ours for the messages of OUR_WORDING."""

    def __init__(self, theirs: t.Any) -> None:
        self._theirs = theirs

    def gettext(self, string: str) -> str:
        return _(string) if string in OUR_WORDING else self._theirs.gettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self._theirs.ngettext(singular, plural, n)


class AdminForm(wtforms.Form):
    """A form whose fields are named after model attributes. ``form.field(attribute)`` finds
    one even when the attribute clashes with a Form attribute (``data``, ``errors``, ...), in
    which case its Python key differs (see :func:`form_key`) but its HTML name does not."""

    class Meta:
        csrf = False  # the request pipeline checks CSRF on every POST before the view runs

        def get_translations(self, form):  # noqa: ANN001, ANN201
            # WTForms' own messages ("Not a valid integer value.") in the user's language.
            return _FormTranslations(_wtforms_translations(i18n.current_locale().language))

        def bind_field(self, form, unbound_field, options):  # noqa: ANN001, ANN201
            names = getattr(form, "_html_names", {})
            options = dict(options, name=names.get(options["name"], options["name"]))
            return unbound_field.bind(form=form, **options)

    _html_names: t.ClassVar[dict[str, str]] = {}  # python key -> attribute (HTML name)
    _keys: t.ClassVar[dict[str, str]] = {}  # attribute -> python key

    def __init__(self, formdata=None, obj=None, prefix="", data=None, meta=None, **kwargs):  # noqa: ANN001
        if data:
            data = {self._keys.get(name, name): value for name, value in data.items()}
        super().__init__(formdata, obj=obj, prefix=prefix, data=data, meta=meta, **kwargs)

    def field(self, attribute: str) -> Field:
        return self._fields[self._keys.get(attribute, attribute)]

    def validate(self, extra_validators=None) -> bool:  # noqa: ANN001
        valid = super().validate(extra_validators)
        # No column holds a NUL (PostgreSQL refuses it; elsewhere it cuts strings short).
        for field in self:
            if any("\x00" in value for value in (field.raw_data or []) if isinstance(value, str)):
                field.errors = [*field.errors, _("NUL characters are not allowed.")]
                valid = False
        return valid


_RESERVED = frozenset(name for name in dir(AdminForm) if not name.startswith("_"))


def form_key(attribute: str, taken: t.Container[str] = ()) -> str:
    """The Python name of the field for ``attribute`` (the attribute itself unless it clashes
    with a form attribute or starts with ``_``, which WTForms would ignore)."""
    if attribute not in _RESERVED and not attribute.startswith("_"):
        return attribute
    key = "f_" + attribute.lstrip("_")
    while key in _RESERVED or key in taken:
        key += "_"
    return key


def _accepted_kwargs(field_class: type) -> set[str] | None:
    """Keyword arguments ``field_class`` accepts along its ``**kwargs`` chain; None = any."""
    accepted: set[str] = set()
    for klass in field_class.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        params = inspect.signature(init).parameters.values()
        accepted.update(p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY))
        if not any(p.kind is p.VAR_KEYWORD for p in params):
            return accepted
        if klass is object:
            break
    return None


def _rebuild(unbound: UnboundField, field_class: type | None, args: dict[str, t.Any] | None) -> UnboundField:
    kwargs = dict(unbound.kwargs)
    if args:
        args = dict(args)
        extra_validators = args.pop("validators", None)
        render_kw = args.pop("render_kw", None)
        kwargs.update(args)
        if extra_validators:
            kwargs["validators"] = [*(kwargs.get("validators") or []), *extra_validators]
        if render_kw:
            kwargs["render_kw"] = {**(kwargs.get("render_kw") or {}), **render_kw}
    target = field_class or unbound.field_class
    positional = unbound.args
    if field_class is not None:
        accepted = _accepted_kwargs(field_class)
        if accepted is not None:
            kwargs = {k: val for k, val in kwargs.items() if k in accepted}
        positional = ()  # converters pass everything by keyword; an override gets the same
    return UnboundField(target, *positional, **kwargs)


def build_form_class(
    columns: t.Sequence[ColumnInfo],
    *,
    registry: ConverterRegistry = converters,
    overrides: dict[str, type] | None = None,
    args: dict[str, dict[str, t.Any]] | None = None,
    name: str = "ModelForm",
) -> type[AdminForm]:
    """One field per column, named after ``column.attribute``.

    ``overrides`` (ModelAdmin.form_overrides) swaps the field class and keeps the schema's
    validators; ``args`` (ModelAdmin.form_args) is merged into the field's keyword arguments:
    ``validators`` are added to the schema's, ``render_kw`` is merged, anything else replaces.
    """
    overrides = overrides or {}
    args = args or {}
    attrs: dict[str, t.Any] = {}
    html_names: dict[str, str] = {}
    keys: dict[str, str] = {}
    for column in columns:
        unbound = registry.convert(column, field_context(column))
        if not isinstance(unbound, UnboundField):
            raise TypeError(f"converter for {column.attribute!r} returned {unbound!r}, not an unbound field")
        kwargs = dict(unbound.kwargs)
        kwargs.setdefault("id", f"id_{column.attribute}")
        unbound = UnboundField(unbound.field_class, *unbound.args, **kwargs)
        if column.attribute in overrides or column.attribute in args:
            unbound = _rebuild(unbound, overrides.get(column.attribute), args.get(column.attribute))
        key = form_key(column.attribute, attrs)
        if key != column.attribute:
            html_names[key] = column.attribute
        keys[column.attribute] = key
        attrs[key] = unbound
    attrs["_html_names"] = html_names
    attrs["_keys"] = keys
    attrs["_columns"] = tuple(columns)
    return type(name, (AdminForm,), attrs)


def _field(form: wtforms.Form, column: ColumnInfo) -> Field | None:
    if isinstance(form, AdminForm):
        try:
            return form.field(column.attribute)
        except KeyError:
            return None
    return form._fields.get(column.attribute)


def _read(row_or_obj: t.Any, column: ColumnInfo) -> t.Any:
    if isinstance(row_or_obj, t.Mapping) or (hasattr(row_or_obj, "keys") and hasattr(row_or_obj, "__getitem__")):
        keys = row_or_obj.keys()
        if column.name in keys:
            return row_or_obj[column.name]
        if column.attribute in keys:
            return row_or_obj[column.attribute]
        raise KeyError(column.attribute)
    if column.lazy:
        # Reading an unloaded lazy column runs sqlorm's broken SELECT (another row's value).
        loaded = getattr(row_or_obj, "__dict__", {})
        if column.attribute not in loaded:
            raise KeyError(column.attribute)
        return loaded[column.attribute]
    return getattr(row_or_obj, column.attribute)


def initial_data(columns: t.Sequence[ColumnInfo], row_or_obj: t.Any) -> dict[str, t.Any]:
    """Form data for an existing row (a mapping keyed by column names, or a model object),
    each value coerced to the declared Python type: a row read from SQLite fills the form as
    PostgreSQL's would. Columns the row does not carry are left out."""
    found: dict[str, t.Any] = {}
    for column in columns:
        try:
            value = _read(row_or_obj, column)
        except (KeyError, AttributeError):
            continue
        found[column.attribute] = column.coerce(value)
    return found


def cleaned_values(form: wtforms.Form, columns: t.Sequence[ColumnInfo]) -> dict[str, t.Any]:
    """What to write: the given columns only (whatever else was posted), enums as their
    values, Decimal exact, dates as date/datetime, JSON as Python objects, empty → None (or
    the column default when the column is NOT NULL and has one). An empty password field is
    left out: it means "unchanged"."""
    values: dict[str, t.Any] = {}
    for column in columns:
        bound = _field(form, column)
        if bound is None:
            continue
        value = bound.data
        if isinstance(bound, PasswordField) and not value:
            continue
        if isinstance(value, enum.Enum):
            value = value.value
        if isinstance(value, str) and value == "" and column.kind != "text":
            value = None
        if value == "" and column.kind == "text" and (column.nullable or column.has_default):
            value = None
        if value is None and not column.nullable and column.has_default:
            value = column.default_value()
            if isinstance(value, enum.Enum):
                value = value.value
        values[column.attribute] = value
    return values
