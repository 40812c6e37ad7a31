"""What hyper_admin knows about a sqlorm model, read once per model.

From sqlorm's mapper plus ``typing.get_type_hints(..., include_extras=True)``, which recovers
what sqlorm loses (``Optional``, Enum classes, ``Annotated`` metadata). A model sqlorm cannot
fully describe still works: an unknown type becomes ``kind="text"``, never an error.
"""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import functools
import json
import re
import types
import typing as t
from dataclasses import dataclass, field
from functools import lru_cache

from sqlorm.mapper import unknown_value

#: Column names that look secret are hidden everywhere unless a ModelAdmin names them.
SECRET_NAME = re.compile(r"^(password.*|.*_hash|.*token.*|secret.*|api_key.*)$", re.IGNORECASE)
#: Columns whose value is the row's label when the model says nothing better.
LABEL_NAMES = ("name", "title", "label", "subject", "email", "username", "code", "slug")
_SAFE_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_VARCHAR = re.compile(r"^\s*(?:var)?char(?:acter)?(?:\s+varying)?\s*\(\s*(\d+)\s*\)", re.I)


@dataclass(frozen=True)
class Hint:
    """Admin hints carried by ``Annotated[...]`` metadata on a model attribute::

        email: Annotated[str, Hint(kind="email", help="Where invoices go")]
    """

    label: str | None = None
    help: str | None = None
    #: "email", "url", "textarea", "json", "password", "color"... picks a converter/widget.
    kind: str | None = None
    choices: t.Sequence[t.Any] | None = None
    max_length: int | None = None
    min: t.Any = None
    max: t.Any = None
    readonly: bool = False
    secret: bool | None = None
    #: The colour of a value's badge in lists, detail pages and the filter panel:
    #: ``{"urgent": "error", "paid": "success"}`` (tones: BADGE_TONES). Values not named here
    #: take the default for their name (cells.DEFAULT_TONES), else a neutral badge.
    badges: t.Mapping[t.Any, str] | None = None
    #: What an empty value (NULL, empty text) of this column shows in lists and detail pages
    #: (default: the ModelAdmin's ``empty_value_display``, else the Admin's, else "—").
    empty_value_display: str | None = None
    #: Files (``kind="file"``, ``"image"`` or a bytes column): the largest upload accepted,
    #: in bytes (default: ``ModelAdmin.max_upload_size`` / ``max_bytes_size``).
    max_size: int | None = None
    #: Files: the content types accepted, as sniffed from the content (``"application/pdf"``,
    #: ``"image/*"``); None accepts any (an image column: PNG, JPEG, GIF and WebP only).
    accept: t.Sequence[str] | None = None

    def __post_init__(self) -> None:
        unknown = sorted({str(tone) for tone in (self.badges or {}).values()} - set(BADGE_TONES))
        if unknown:
            raise ValueError(f"Hint(badges=...): unknown tone {unknown[0]!r} "
                             f"(use one of {', '.join(BADGE_TONES)})")


#: What a badge can say: its colour in the theme ("neutral": no colour).
BADGE_TONES = ("neutral", "info", "success", "warning", "error")

#: Words that labels keep in capitals ("sku" → "SKU", "api_key" → "API key", "APIKey" → "API
#: key"): acronyms a column or class name is likely to hold.
ACRONYMS = frozenset({
    "id", "sku", "isbn", "url", "uri", "ip", "uuid", "guid", "api", "vat", "html", "http",
    "https", "css", "json", "xml", "csv", "pdf", "sql", "ssh", "ssl", "tls", "dns", "smtp",
    "iban", "bic", "ean", "upc", "gtin", "eori", "ssn", "mfa", "otp", "sms", "utc", "gmt", "iso",
    "eu", "uk", "cpu", "gpu", "ui", "ux", "seo", "crm", "erp", "kpi", "faq", "qr", "rgb", "ttl",
    "oauth", "saml", "jwt",
})


def _acronym(word: str) -> str:
    """``sku`` → "SKU", ``ids`` → "IDs"; any other word as it is."""
    lower = word.lower()
    if lower in ACRONYMS:
        return word.upper()
    if lower.endswith("s") and lower[:-1] in ACRONYMS:
        return word[:-1].upper() + "s"
    return word


def humanize(name: str) -> str:
    """``api_key`` → "API key"; ``customer_sku`` → "Customer SKU": a name as a label, first
    word capitalised, known acronyms in capitals."""
    text = " ".join(_acronym(word) for word in name.replace("_", " ").split())
    return text[:1].upper() + text[1:]


_SCALE = re.compile(r"^\s*(?:numeric|decimal)\s*\(\s*\d+\s*,\s*(\d+)\s*\)\s*$", re.I)


@functools.lru_cache(maxsize=256)
def declared_scale(sql_type: str | None) -> int | None:
    """The scale a declared type says (``NUMERIC(12, 2)``: 2), None when it says none."""
    match = _SCALE.match(sql_type) if sql_type else None
    return int(match.group(1)) if match else None


class CatalogName(str):
    """A table or column name exactly as the database's catalog holds it (the models
    hyper_admin.reflect builds): always quoted in SQL, so that PostgreSQL keeps its capitals
    (``"Album"."AlbumId"``) and a reserved word stays a name. Equal to, and hashed as, the
    plain string."""

    __slots__ = ()


def quote_identifier(name: str) -> str:
    """An identifier as SQL text. Plain names stay bare (so PostgreSQL folds them as sqlorm's
    own statements do) unless the catalog gave them (CatalogName); anything else is
    double-quoted with quotes doubled."""
    if _SAFE_IDENTIFIER.match(name) and not isinstance(name, CatalogName):
        return name
    return '"' + name.replace('"', '""') + '"'


def quote_alias(name: str) -> str:
    """A result column's alias as SQL text: quoted when it holds capitals, so that PostgreSQL
    hands the row back keyed by ``name`` exactly, not folded to lower case."""
    return quote_identifier(CatalogName(name) if name != name.lower() else name)


def _mapped_table(model: type) -> str:
    # A reflected model's table is a CatalogName: str() would turn it into a plain name.
    table = model.__mapper__.table
    return table if isinstance(table, str) else str(table)


@dataclass(eq=False)
class ColumnInfo:
    name: str                      # column name in the database
    attribute: str                 # attribute on the model
    kind: str                      # int, float, decimal, bool, date, datetime, time, enum, json, text
    python_type: t.Any             # the annotation's type, unwrapped (None when unknown)
    sql_type: str | None
    nullable: bool
    primary_key: bool
    unique: bool
    lazy: bool
    default: t.Any                 # a value, a callable, or MISSING
    max_length: int | None
    enum: type[enum.Enum] | None
    choices: tuple[tuple[t.Any, t.Any], ...] | None  # (value, label); a label may be lazy
    references: tuple[str, str] | None  # (table, column)
    target_model: type | None      # the many-to-one relationship's model, when one pairs
    relation_attribute: str | None  # that relationship's attribute on the model
    secret: bool
    hint: Hint
    table: str
    #: What the database's catalog adds (catalog.column_facts), once it was read: its NOT
    #: NULL, and whether it fills the column itself when an INSERT leaves it out.
    database_not_null: bool | None = None  # None: the catalog was not read
    filled_by_database: bool = False
    #: The type the catalog declares (catalog.ColumnType), once read; None before.
    database_type: t.Any = None
    #: An array's items' kind, or a range's bounds' kind ("int", "date", "enum"...).
    item_kind: str | None = None
    #: (low, high) a domain's CHECK allows (inclusive; None: open), read from the catalog.
    database_bounds: tuple[t.Any, t.Any] = (None, None)

    @property
    def required_on_insert(self) -> bool:
        """Whether an INSERT must give this column a value: NOT NULL with no default of the
        model's or the database's. The table's NOT NULL once its catalog was read (a column
        the model calls required may still be NULL there), else the model's."""
        not_null = not self.nullable if self.database_not_null is None else self.database_not_null
        return not_null and not self.has_default and not self.filled_by_database

    @property
    def label(self) -> str:
        if self.hint.label:
            # A lazy label (``Hint(label=_l("Status"))``) in the language of this request:
            # every screen, CSV header and sentence reads it here, as text.
            return str(self.hint.label)
        words = self.attribute.removesuffix("_id") if self.is_foreign_key else self.attribute
        return humanize(words)

    @property
    def decimal_places(self) -> int | None:
        """The scale of a ``NUMERIC(p, s)`` / ``DECIMAL(p, s)`` column (money: 2), None when the
        declared type does not say. SQLite hands such values back as floats (10081.9)."""
        return declared_scale(self.sql_type) if self.kind in ("decimal", "float") else None

    @property
    def is_foreign_key(self) -> bool:
        return self.references is not None or self.target_model is not None

    @property
    def sql(self) -> str:
        """``table.column`` as SQL text; built from introspected names only."""
        return f"{quote_identifier(self.table)}.{quote_identifier(self.name)}"

    @property
    def select_sql(self) -> str:
        """What a SELECT reads for this column: the column itself, or its text where the
        driver's Python value loses what the database holds (an interval's months become
        days in a timedelta; money depends on the server's locale)."""
        if self.kind in _READ_AS_TEXT:
            return f"CAST({self.sql} AS TEXT)"
        return self.sql

    @property
    def aware(self) -> bool:
        """A timestamp with time zone (shown and edited in the user's zone)."""
        declared = (self.sql_type or "").lower()
        return "with time zone" in declared or "timestamptz" in declared

    @property
    def sortable(self) -> bool:
        """Whether lists may order by it: not by values with no order of their own (json) or
        that no cursor carries (arrays, ranges, tsvectors)."""
        return self.kind not in _UNSORTABLE_KINDS

    @property
    def editable(self) -> bool:
        """Whether a form may write it: a tsvector is the database's own index of other
        columns (kept by a trigger or a generated column)."""
        return self.kind != "tsvector"

    @property
    def text_like(self) -> bool:
        """Searched by default: text, and enums and other choices (by their labels and
        values, never with a text function on an enum type itself)."""
        return self.kind in ("text", "enum")

    def item_column(self) -> "ColumnInfo":
        """A column standing for one item of an array, or one bound of a range: the items'
        kind and type, an enum's labels as its choices; never null, no default."""
        found = self.database_type
        labels = tuple(found.labels) if found is not None and found.array else ()
        match = _VARCHAR.match(self.sql_type or "")
        return dataclasses.replace(
            self, kind=self.item_kind or "text", item_kind=None, nullable=False,
            primary_key=False, unique=False, default=MISSING, enum=None,
            choices=tuple((label, label) for label in labels) or None, references=None,
            target_model=None, relation_attribute=None,
            max_length=int(match.group(1)) if match else None)

    @property
    def has_default(self) -> bool:
        return self.default is not MISSING

    def default_value(self) -> t.Any:
        if self.default is MISSING:
            return None
        return self.default() if callable(self.default) else self.default

    @property
    def converts(self) -> bool:
        """Whether coerce() may change a value (text columns come back as they are)."""
        return self.kind in _COERCE

    def coerce(self, value: t.Any) -> t.Any:
        """A database value as the Python type the model declares (SQLite hands back dates as
        strings and booleans as 0/1). Values that do not convert are returned unchanged."""
        if value is None:
            return None
        try:
            return _COERCE.get(self.kind, _identity)(self, value)
        except (ValueError, TypeError, ArithmeticError):
            return value


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: t.Any = _Missing()


@dataclass(eq=False)
class ChildRelation:
    """Rows of ``model`` pointing at the parent through ``column`` (one-to-many)."""

    model: type
    column: ColumnInfo
    attribute: str | None  # the parent's one-to-many relationship attribute, if declared


@dataclass(eq=False)
class ModelInfo:
    model: type
    table: str
    columns: list[ColumnInfo]
    primary_key: list[ColumnInfo]
    by_attribute: dict[str, ColumnInfo] = field(repr=False)
    by_name: dict[str, ColumnInfo] = field(repr=False)
    #: Whether the database's catalog was read into the columns (add_database_facts).
    catalog_read: bool = False
    #: What the catalog says the relation is: "table", "partitioned table", "view",
    #: "materialized view", "foreign table" (add_database_types), and a partitioned table's
    #: partition key columns.
    relation: str = "table"
    partition_key: tuple[str, ...] = ()

    @property
    def read_only(self) -> bool:
        """A view or a materialized view: listed and shown, never written by the admin."""
        return self.relation in ("view", "materialized view")

    @property
    def label_column(self) -> ColumnInfo | None:
        for candidate in LABEL_NAMES:
            column = self.by_attribute.get(candidate)
            if column is not None and not column.secret and not column.lazy:
                return column
        return None

    @property
    def table_sql(self) -> str:
        return quote_identifier(self.table)

    @property
    def foreign_keys(self) -> list[ColumnInfo]:
        return [c for c in self.columns if c.is_foreign_key]

    def column(self, attribute: str) -> ColumnInfo | None:
        return self.by_attribute.get(attribute)

    def children(self, registry: t.Iterable[type]) -> list[ChildRelation]:
        """Models of ``registry`` with a foreign key to this table (computed per call: the
        registry may grow after this model is introspected)."""
        found = []
        declared = {
            (rel.target, rel.target_col): rel.attribute
            for rel in self.model.__mapper__.relationships
            if not rel.single and _safe_target(rel) is not None
        }
        for other in registry:
            info = model_info(other)
            for column in info.columns:
                if column.references and column.references[0] == self.table:
                    attribute = declared.get((other, column.name))
                    found.append(ChildRelation(other, column, attribute))
        return found

    def add_database_references(self, found: t.Iterable[tuple[str, str, str | None]]) -> None:
        """Foreign keys the database declares, as ``(column, table, column or None)``, taken
        for the columns the model declares none for. ``link_targets`` then pairs them with
        models."""
        for name, ref_table, ref_column in found:
            column = self.by_name.get(name)
            if column is not None and column.references is None:
                column.references = (ref_table, ref_column or "")

    def add_database_facts(self, facts: t.Mapping[str, t.Any]) -> None:
        """NOT NULL and database defaults per column name (catalog.ColumnFacts)."""
        for column in self.columns:
            found = facts.get(column.name)
            if found is not None:
                column.database_not_null = found.not_null
                column.filled_by_database = found.filled_by_database
        self.catalog_read = True

    def add_database_types(self, types: t.Mapping[str, t.Any], relation: t.Any = None) -> None:
        """What the catalog declares of each column's type (catalog.ColumnType by column
        name) and of the relation (catalog.RelationFacts): kinds, enum labels as choices,
        array items, numeric places, domain bounds; views read-only (see
        :func:`apply_database_type`)."""
        for column in self.columns:
            found = types.get(column.name)
            if found is not None:
                apply_database_type(column, found)
        if relation is not None:
            self.relation = relation.kind
            self.partition_key = tuple(relation.partition_key)

    @property
    def key_filled_by_database(self) -> bool:
        """Whether an INSERT may leave the primary key out: a single integer key the database
        numbers (assumed until its catalog is read). Otherwise the add form asks for it."""
        key = self.primary_key
        return (len(key) == 1 and key[0].kind == "int"
                and (not self.catalog_read or key[0].filled_by_database or key[0].has_default))

    def link_targets(self, models_by_table: t.Mapping[str, type]) -> None:
        """Pair each foreign key no relationship describes with the model of its table (a
        ``Column(references=...)`` or a key the database declares), when it references that
        model's single-column primary key: the column then reads, links and is picked like a
        declared many-to-one relationship, reachable in paths as ``<name without _id>``."""
        for column in self.columns:
            if column.target_model is not None or column.references is None:
                continue
            target = models_by_table.get(column.references[0])
            if target is None:
                continue
            target_key = model_info(target).primary_key
            if len(target_key) != 1 or column.references[1] not in ("", target_key[0].name):
                continue
            column.references = (column.references[0], target_key[0].name)
            column.target_model = target
            relation = column.attribute.removesuffix("_id")
            if (relation != column.attribute and relation not in self.by_attribute
                    and not hasattr(self.model, relation)):
                column.relation_attribute = relation

    def pk_values(self, obj_or_row: t.Any) -> tuple:
        if isinstance(obj_or_row, dict) or hasattr(obj_or_row, "keys"):
            return tuple(obj_or_row[c.name] for c in self.primary_key)
        return tuple(getattr(obj_or_row, c.attribute) for c in self.primary_key)


# ---------------------------------------------------------------------------------------------


def _identity(column: ColumnInfo, value: t.Any) -> t.Any:
    return value


def _to_bool(column: ColumnInfo, value: t.Any) -> t.Any:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "t", "true", "yes", "on")
    return bool(value)


def _to_int(column: ColumnInfo, value: t.Any) -> t.Any:
    return value if isinstance(value, int) and not isinstance(value, bool) else int(value)


def _to_float(column: ColumnInfo, value: t.Any) -> t.Any:
    return float(value)


def _to_decimal(column: ColumnInfo, value: t.Any) -> t.Any:
    if isinstance(value, decimal.Decimal):
        return value
    # via str: 12.3 from SQLite's REAL becomes Decimal("12.3"), not 12.2999999999999989...
    return decimal.Decimal(str(value))


def _to_datetime(column: ColumnInfo, value: t.Any) -> t.Any:
    if isinstance(value, datetime.datetime):
        return value
    if isinstance(value, datetime.date):
        return datetime.datetime(value.year, value.month, value.day)
    return datetime.datetime.fromisoformat(str(value))


def _to_date(column: ColumnInfo, value: t.Any) -> t.Any:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    text = str(value)
    return datetime.date.fromisoformat(text[:10])


def _to_time(column: ColumnInfo, value: t.Any) -> t.Any:
    if isinstance(value, datetime.time):
        return value
    return datetime.time.fromisoformat(str(value))


def _to_enum(column: ColumnInfo, value: t.Any) -> t.Any:
    if column.enum is None or isinstance(value, column.enum):
        return value
    return column.enum(value)


def _to_json(column: ColumnInfo, value: t.Any) -> t.Any:
    if isinstance(value, (str, bytes)):
        return json.loads(value)
    return value


def _to_list(column: ColumnInfo, value: t.Any) -> t.Any:
    """An array as a list: psycopg hands over arrays of types it does not know (enums) as
    their text, ``{G,PG-13}``."""
    if isinstance(value, str):
        return parse_array_literal(value)
    return list(value) if isinstance(value, tuple) else value


def parse_array_literal(text: str) -> list[t.Any]:
    """A one-dimensional PostgreSQL array literal (``{a,"b c",NULL}``) as a list of text
    (None for an unquoted NULL); ValueError when it is none."""
    text = text.strip()
    if text.startswith("[") and "=" in text:  # explicit bounds: [0:2]={...}
        text = text.split("=", 1)[1]
    if not (text.startswith("{") and text.endswith("}")):
        raise ValueError("not an array literal")
    body = text[1:-1]
    items: list[t.Any] = []
    if not body.strip():
        return items
    i, n = 0, len(body)
    while i <= n:
        while i < n and body[i] == " ":
            i += 1
        if i < n and body[i] == "{":
            raise ValueError("a multi-dimensional array")
        if i < n and body[i] == '"':
            i += 1
            chars = []
            while i < n and body[i] != '"':
                if body[i] == "\\":
                    i += 1
                chars.append(body[i] if i < n else "")
                i += 1
            i += 1  # the closing quote
            items.append("".join(chars))
            while i < n and body[i] != ",":
                i += 1
        else:
            end = body.find(",", i)
            end = n if end < 0 else end
            word = body[i:end].strip()
            items.append(None if word.upper() == "NULL" else word)
            i = end
        i += 1  # past the comma
    return items


_COERCE: dict[str, t.Callable[[ColumnInfo, t.Any], t.Any]] = {
    "bool": _to_bool,
    "int": _to_int,
    "float": _to_float,
    "decimal": _to_decimal,
    "datetime": _to_datetime,
    "date": _to_date,
    "time": _to_time,
    "enum": _to_enum,
    "json": _to_json,
    "array": _to_list,
}

_KIND_BY_TYPE: list[tuple[type, str]] = [
    (bool, "bool"),
    (int, "int"),
    (float, "float"),
    (decimal.Decimal, "decimal"),
    (datetime.datetime, "datetime"),
    (datetime.date, "date"),
    (datetime.time, "time"),
    (enum.Enum, "enum"),
    (dict, "json"),
    (list, "json"),
    (bytes, "bytes"),
    (str, "text"),
]
_KIND_BY_SQL: list[tuple[str, str]] = [
    ("bool", "bool"),
    ("timestamp", "datetime"),
    ("datetime", "datetime"),
    ("date", "date"),
    ("time", "time"),
    ("int", "int"),
    ("serial", "int"),
    ("numeric", "decimal"),
    ("decimal", "decimal"),
    ("real", "float"),
    ("double", "float"),
    ("float", "float"),
    ("json", "json"),
    ("char", "text"),
    ("text", "text"),
    ("clob", "text"),
    ("uuid", "text"),
    ("blob", "bytes"),
    ("bytea", "bytes"),
]


def _unwrap(annotation: t.Any) -> tuple[t.Any, bool, list[t.Any]]:
    """(inner type, optional?, Annotated metadata) of a type hint."""
    optional = False
    metadata: list[t.Any] = []
    while True:
        origin = t.get_origin(annotation)
        if origin is t.Annotated:
            metadata.extend(annotation.__metadata__)
            annotation = annotation.__origin__
            continue
        if origin in (t.Union, types.UnionType):
            args = [a for a in t.get_args(annotation) if a is not type(None)]
            if len(args) < len(t.get_args(annotation)):
                optional = True
            if len(args) == 1:
                annotation = args[0]
                continue
            return None, optional, metadata
        return annotation, optional, metadata


def _kind(python_type: t.Any, sql_type: str | None, hint: Hint) -> str:
    if hint.kind == "json":
        return "json"
    return _python_kind(python_type) or _sql_kind(sql_type)


def _python_kind(python_type: t.Any) -> str | None:
    """The kind an annotation's type says, or None when it says none."""
    if isinstance(python_type, type):
        for base, kind in _KIND_BY_TYPE:
            if issubclass(python_type, base):
                return kind
    origin = t.get_origin(python_type)
    if origin in (dict, list):
        return "json"
    return None


def _sql_kind(sql_type: str | None) -> str:
    if sql_type:
        lowered = sql_type.lower()
        for needle, kind in _KIND_BY_SQL:
            if needle in lowered:
                return kind
    return "text"


# ---------------------------------------------------------------------------------------------
# Kinds from the database's catalog (catalog.ColumnType)

#: Kinds a SELECT reads as text (ColumnInfo.select_sql).
_READ_AS_TEXT = frozenset({"interval", "money"})
#: Kinds no list orders by (ColumnInfo.sortable).
_UNSORTABLE_KINDS = frozenset({"json", "array", "range", "tsvector"})
#: Kinds the catalog knows better than any annotation but an Enum's or a Hint's: a ``list``
#: over ``text[]`` is an array, a ``Decimal`` over ``money`` is money.
_CATALOG_KINDS = frozenset({"array", "range", "uuid", "network", "interval", "money", "tsvector"})
#: PostgreSQL's base types whose kind is not their category's.
_KIND_BY_DATABASE_TYPE = {
    "uuid": "uuid", "inet": "network", "cidr": "network", "macaddr": "network",
    "macaddr8": "network", "interval": "interval", "money": "money", "tsvector": "tsvector",
    "tsquery": "tsvector", "json": "json", "jsonb": "json", "bytea": "bytes", "boolean": "bool",
}
#: PostgreSQL's type categories whose kind the type's name tells (numbers, dates and times,
#: booleans); any other category not named above (geometry, bit strings, composites...) is
#: shown as its text.
_NAMED_CATEGORIES = frozenset({"N", "D", "B"})


def database_kind(found: t.Any) -> tuple[str, str | None]:
    """(kind, item kind) of a column of catalog type ``found``: an array's items' kind, a
    range's bounds' kind."""
    item = _scalar_kind(found.base, found.category, bool(found.labels))
    if found.array:
        return "array", item
    if found.range_of:
        return "range", _scalar_kind(found.range_of, "D" if "time" in found.range_of
                                     or "date" in found.range_of else "N", False)
    return item, None


def _scalar_kind(base: str, category: str, enum_type: bool) -> str:
    if enum_type or category == "E":
        return "enum"
    name = re.sub(r"\(.*?\)", "", base).strip().lower()
    if name in _KIND_BY_DATABASE_TYPE:
        return _KIND_BY_DATABASE_TYPE[name]
    if category and category not in _NAMED_CATEGORIES:
        return "text"  # PostgreSQL's strings, and types the admin shows as text
    return _sql_kind(base)  # PostgreSQL's numbers and dates, SQLite's declared types


def apply_database_type(column: ColumnInfo, found: t.Any) -> None:
    """Complete ``column`` with its catalog type. The catalog decides the kind, unless the
    model declares an Enum, a ``Hint(kind=...)``, or an annotation of another kind than text
    or JSON (which the catalog overrides only with a kind of its own: array, range, uuid,
    network address, interval, money, tsvector). An enum type's labels become the choices;
    the declared type (its items' for arrays and ranges) gives numeric places, text length
    and integer range; a domain's CHECK its bounds."""
    column.database_type = found
    if column.python_type is None and column.database_not_null and not column.primary_key:
        column.nullable = False  # the model says nothing of it: the table's NOT NULL
    kind, item_kind = database_kind(found)
    declared = _python_kind(column.python_type)
    keeps_own = (column.enum is not None or bool(column.hint.kind)
                 or (declared not in (None, "text", "json") and kind not in _CATALOG_KINDS))
    if not keeps_own:
        column.kind, column.item_kind = kind, item_kind
    column.sql_type = (found.range_of if column.kind == "range" else found.base) or column.sql_type
    if column.kind == "enum" and column.enum is None and not column.hint.choices and found.labels:
        column.choices = tuple((label, value_in_words(label)) for label in found.labels)
    if column.kind == "text" and column.hint.max_length is None:
        match = _VARCHAR.match(found.base)
        column.max_length = int(match.group(1)) if match else None
    if column.kind in ("int", "float", "decimal"):
        column.database_bounds = tuple(found.bounds)
    if column.kind == "tsvector":
        column.filled_by_database = True  # by its trigger or generation expression


def _type_hints(model: type) -> dict[str, t.Any]:
    try:
        return t.get_type_hints(model, include_extras=True)
    except Exception:  # noqa: BLE001 - unresolvable forward references: take what resolves
        hints: dict[str, t.Any] = {}
        for klass in reversed(model.__mro__):
            for name, annotation in getattr(klass, "__annotations__", {}).items():
                if not isinstance(annotation, str):
                    hints[name] = annotation
        return hints


def _references(value: t.Any) -> tuple[str, str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        match = re.match(r"^\s*([^\s(]+)\s*\(\s*([^\s)]+)\s*\)\s*$", value)
        if match:
            return match.group(1).strip('"'), match.group(2).strip('"')
        return (value.strip('"'), "id")
    table = getattr(value, "table", None)
    name = getattr(value, "name", None)
    if table is not None and name:
        return str(getattr(table, "name", table)), str(name)
    return None


def _safe_target(rel: t.Any) -> type | None:
    try:
        return rel.target
    except Exception:  # noqa: BLE001 - a relationship naming a model that does not exist
        return None


def _column_info(model: type, table: str, col: t.Any, hints: dict[str, t.Any],
                 relations: dict[str, t.Any]) -> ColumnInfo:
    annotation = hints.get(col.attribute)
    python_type, optional, metadata = _unwrap(annotation) if annotation is not None else (None, False, [])
    merged: dict[str, t.Any] = {}
    for item in metadata:
        if isinstance(item, Hint):
            merged.update({f.name: getattr(item, f.name) for f in dataclasses.fields(Hint)
                           if getattr(item, f.name) is not f.default})
    hint = Hint(**merged)
    sql_type = getattr(col.type, "sql_type", None) if col.type is not None else None
    sql_type = str(sql_type) if sql_type else None
    if sql_type in ("Optional",):  # sqlorm's name for an Optional[...] it could not map
        sql_type = None
    enum_class = python_type if isinstance(python_type, type) and issubclass(python_type, enum.Enum) else None
    kind = _kind(python_type, sql_type, hint)
    if col.primary_key:
        nullable = False
    elif col.nullable is False:
        nullable = False
    elif annotation is not None and python_type is not None:
        # The annotation says what the model means: ``str`` is required, ``Optional[str]`` not.
        nullable = optional
    else:
        nullable = bool(col.nullable) if col.nullable is not None else True
    max_length = hint.max_length
    if max_length is None and sql_type:
        match = _VARCHAR.match(sql_type)
        if match:
            max_length = int(match.group(1))
    choices = choices_of(hint, enum_class)
    relation = relations.get(col.name)
    target = _safe_target(relation) if relation is not None else None
    references = _references(col.references)
    if references is None and target is not None:
        references = (model_info_table(target), relation.target_col or "id")
    secret = hint.secret if hint.secret is not None else bool(SECRET_NAME.match(col.name))
    default = col.default if col.default is not unknown_value else MISSING
    return ColumnInfo(
        name=col.name, attribute=col.attribute, kind=kind, python_type=python_type,
        sql_type=sql_type, nullable=nullable, primary_key=bool(col.primary_key),
        unique=bool(col.unique), lazy=bool(col.lazy), default=default, max_length=max_length,
        enum=enum_class, choices=choices, references=references, target_model=target,
        relation_attribute=relation.attribute if relation is not None else None,
        secret=secret, hint=hint, table=table,
    )


def choices_of(hint: Hint, enum_class: type[enum.Enum] | None
               ) -> tuple[tuple[t.Any, t.Any], ...] | None:
    """A column's ``(value, label)`` pairs: the hint's choices (values, pairs or a mapping of
    value to label), else its Enum's members. Labels stay as given, lazy strings included, so
    that each page shows them in its own language (docs/forms.md, "Choices and their
    labels")."""
    if hint.choices:
        given = hint.choices.items() if isinstance(hint.choices, t.Mapping) else hint.choices
        return tuple((c[0], _text(c[1])) if isinstance(c, tuple) else (c, _choice_label(c))
                     for c in given)
    if enum_class is not None:
        return tuple((member.value, _enum_label(member)) for member in enum_class)
    return None


def _choice_label(value: t.Any) -> t.Any:
    return _enum_label(value) if isinstance(value, enum.Enum) else str(value)


def _text(label: t.Any) -> t.Any:
    """Text as it is, a lazy string still lazy; anything else (a number) as its str()."""
    if isinstance(label, str) or _is_lazy_text(label):
        return label
    return str(label)


def _is_lazy_text(value: t.Any) -> bool:
    # Babel's LazyProxy (hyper_admin.i18n.lazy_gettext), flask-babel's LazyString.
    return type(value).__name__ in ("LazyProxy", "LazyString")


def _enum_label(member: enum.Enum) -> t.Any:
    """What a member is shown as: its ``label`` when the Enum gives one (a property, or
    Django's ``TextChoices``; a lazy string stays lazy), else its value in words ("on_hold" ->
    "On hold")."""
    label = getattr(member, "label", None)
    if isinstance(label, str) or _is_lazy_text(label):
        return label
    return value_in_words(str(member.value) if not isinstance(member.value, str) else member.value)


def value_in_words(text: str) -> str:
    """A stored value as a label: ``on_hold`` -> "On hold"; ``PG-13`` stays as it is."""
    return text.replace("_", " ").capitalize() if text.islower() or "_" in text else text


def model_info_table(model: type) -> str:
    declared = model.__dict__.get("__hyper_admin_info__")
    if declared is not None:
        return declared.table
    return _mapped_table(model)


@lru_cache(maxsize=None)
def model_info(model: type) -> ModelInfo:
    # A query view's row class (hyper_admin.query_views) is no sqlorm model: it carries its own.
    declared = model.__dict__.get("__hyper_admin_info__")
    if declared is not None:
        return declared
    mapper = model.__mapper__
    table = _mapped_table(model)
    hints = _type_hints(model)
    relations = {
        rel.source_col: rel
        for rel in mapper.relationships
        if rel.single and rel.source_col
    }
    # ``id: int`` without PrimaryKey makes sqlorm list a second ``id`` (its automatic key):
    # keep one column per name, the primary key where there is a choice.
    chosen: dict[str, t.Any] = {}
    for col in mapper.columns:
        if col.name not in chosen or (col.primary_key and not chosen[col.name].primary_key):
            chosen[col.name] = col
    columns = [_column_info(model, table, col, hints, relations) for col in chosen.values()]
    pk = [c for c in columns if c.primary_key]
    # The auto ``id`` comes last in sqlorm's list; show it first.
    columns.sort(key=lambda c: 0 if c.primary_key else 1)
    return ModelInfo(
        model=model, table=table, columns=columns, primary_key=pk,
        by_attribute={c.attribute: c for c in columns},
        by_name={c.name: c for c in columns},
    )


# ---------------------------------------------------------------------------------------------
# Names (labels of models)


def table_name(model: type) -> str:
    return model_info_table(model)


def _words(class_name: str) -> str:
    """``OrderLine`` → "Order line"; ``APIKey`` → "API key": words in capitals (an acronym the
    class name writes so, or a known one) stay so."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", " ", class_name).split()
    words = [word if len(word) > 1 and word.isupper() else _acronym(word.lower()) for word in spaced]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def pluralize(name: str) -> str:
    lower = name.lower()
    if lower.endswith(("s", "x", "z", "ch", "sh")):
        return name + "es"
    if lower.endswith("y") and lower[-2:-1] not in ("a", "e", "i", "o", "u"):
        return name[:-1] + "ies"
    return name + "s"


@dataclass(frozen=True, slots=True)
class ModelNames:
    class_name: str
    table: str
    verbose_name: str
    verbose_name_plural: str


@lru_cache(maxsize=None)
def model_names(model: type) -> ModelNames:
    verbose = _words(model.__name__)
    return ModelNames(model.__name__, table_name(model), verbose, pluralize(verbose))


def default_label(model: type, obj: t.Any, verbose_name: t.Any = None) -> str:
    """A row's label when no ModelAdmin.label says it (CONTRACT §3): the model's ``__str__``,
    else its first label-like column, else ``<verbose name> #<pk>``."""
    if type(obj).__str__ is not object.__str__ and isinstance(obj, model):
        text = str(obj)
        if text:
            return text
    info = model_info(model)
    column = info.label_column
    if column is not None:
        value = obj.get(column.name) if isinstance(obj, dict) else getattr(obj, column.attribute, None)
        if value not in (None, ""):
            return str(value)
    pk = info.pk_values(obj) if info.primary_key else ()
    name = verbose_name or model_names(model).verbose_name
    return f"{name} #{','.join(str(v) for v in pk)}"

