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
def _declared_scale(sql_type: str | None) -> int | None:
    match = _SCALE.match(sql_type) if sql_type else None
    return int(match.group(1)) if match else None


def quote_identifier(name: str) -> str:
    """An identifier as SQL text. Plain names stay bare (so PostgreSQL folds them as sqlorm's
    own statements do); anything else is double-quoted with quotes doubled."""
    if _SAFE_IDENTIFIER.match(name):
        return name
    return '"' + name.replace('"', '""') + '"'


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
    choices: tuple[tuple[t.Any, str], ...] | None
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
            return self.hint.label
        words = self.attribute.removesuffix("_id") if self.is_foreign_key else self.attribute
        return humanize(words)

    @property
    def decimal_places(self) -> int | None:
        """The scale of a ``NUMERIC(p, s)`` / ``DECIMAL(p, s)`` column (money: 2), None when the
        declared type does not say. SQLite hands such values back as floats (10081.9)."""
        return _declared_scale(self.sql_type) if self.kind in ("decimal", "float") else None

    @property
    def is_foreign_key(self) -> bool:
        return self.references is not None or self.target_model is not None

    @property
    def sql(self) -> str:
        """``table.column`` as SQL text; built from introspected names only."""
        return f"{quote_identifier(self.table)}.{quote_identifier(self.name)}"

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
    if isinstance(python_type, type):
        for base, kind in _KIND_BY_TYPE:
            if issubclass(python_type, base):
                return kind
    origin = t.get_origin(python_type)
    if origin in (dict, list):
        return "json"
    if sql_type:
        lowered = sql_type.lower()
        for needle, kind in _KIND_BY_SQL:
            if needle in lowered:
                return kind
    return "text"


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
    choices = None
    if hint.choices:
        choices = tuple((c, str(c)) if not isinstance(c, tuple) else (c[0], str(c[1]))
                        for c in hint.choices)
    elif enum_class is not None:
        choices = tuple((member.value, _enum_label(member)) for member in enum_class)
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


def _enum_label(member: enum.Enum) -> str:
    text = str(member.value) if not isinstance(member.value, str) else member.value
    return text.replace("_", " ").capitalize() if text.islower() or "_" in text else text


def model_info_table(model: type) -> str:
    declared = model.__dict__.get("__hyper_admin_info__")
    if declared is not None:
        return declared.table
    return str(model.__mapper__.table)


@lru_cache(maxsize=None)
def model_info(model: type) -> ModelInfo:
    # A query view's row class (hyper_admin.queries) is no sqlorm model: it carries its own.
    declared = model.__dict__.get("__hyper_admin_info__")
    if declared is not None:
        return declared
    mapper = model.__mapper__
    table = str(mapper.table)
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
