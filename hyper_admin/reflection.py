"""``hyper_admin.reflect(db)``: sqlorm models for the tables and views of an existing database.

Each table or view of the schema becomes a model class built from what its catalog declares
(schema_catalog.py): a ``Column`` per column, named exactly as the database names it (a
CatalogName, quoted in every statement the admin builds), with its SQL type, NOT NULL, primary
key (composite ones too), single-column foreign key (``references=``, so that the admin labels
and links it), uniqueness and literal default; and an ``Annotated`` Python type carrying a
``Hint`` for what a form should know: enum labels and ``IN`` lists as choices, simple CHECK
bounds as min/max, the column's comment as help text, identity and generated columns
read-only. Views, materialized views and tables with no key the admin could write by are
read-only (``__hyper_admin_read_only__``): no add, change, delete or action for anyone.

Class names come from table names ("playlist_track" -> ``PlaylistTrack``, "albums" ->
``Album``); attributes are the column names in snake case ("AlbumId" -> ``album_id``). sqlorm
keeps its models in a registry keyed by class name, shared by every model of the process: the
classes of one ``reflect`` call live in a registry of their own instead (their base class's),
so they never replace, nor are replaced by, an application's models of the same name.
"""

from __future__ import annotations

import abc
import datetime
import decimal
import fnmatch
import keyword
import re
import typing as t
from dataclasses import dataclass

from .introspect import CatalogName, Hint, quote_identifier
from .schema_catalog import ColumnSchema, Relation, TableSchema, read_tables, relations
from .sql import Dialect, dialect_of
from .sqlorm_compat import enable_postgresql, engines_of

#: How often the progress callback hears from a long reflection.
PROGRESS_EVERY = 50

_PG_TYPES: dict[str, type] = {
    "int2": int, "int4": int, "int8": int, "float4": float, "float8": float,
    "numeric": decimal.Decimal, "bool": bool, "date": datetime.date,
    "timestamp": datetime.datetime, "timestamptz": datetime.datetime,
    "time": datetime.time, "timetz": datetime.time,
    "text": str, "varchar": str, "bpchar": str, "name": str, "citext": str,
    "json": dict, "jsonb": dict, "bytea": bytes,
}
#: SQLite's declared types, by the words they contain (its affinity rules, plus the date,
#: time and boolean names applications write), first match wins.
_SQLITE_TYPES: list[tuple[str, type]] = [
    ("BOOL", bool), ("DATETIME", datetime.datetime), ("TIMESTAMP", datetime.datetime),
    ("DATE", datetime.date), ("TIME", datetime.time), ("INT", int), ("CHAR", str),
    ("CLOB", str), ("TEXT", str), ("JSON", dict), ("BLOB", bytes), ("REAL", float),
    ("FLOA", float), ("DOUB", float), ("NUMERIC", decimal.Decimal), ("DECIMAL", decimal.Decimal),
]
_NUMBERS = (int, float, decimal.Decimal)


def reflect(db: t.Any, schema: str | None = None, include: t.Iterable[str] | None = None,
            exclude: t.Iterable[str] | None = None, *,
            on_progress: t.Callable[[int, int], None] | None = None) -> dict[str, type]:
    """sqlorm model classes for the tables and views of ``db`` (a FlaskSQLORM object or a
    sqlorm Engine), by table name.

    ``schema``: the PostgreSQL schema to read (default: the connection's current one); the
    models name their tables unqualified, so it must be on the connection's ``search_path``.
    ``include`` / ``exclude``: table names or glob patterns (``"film_*"``) to keep or leave out;
    an ``include`` item that matches nothing raises ValueError. hyper_admin's own tables are
    always left out. ``on_progress(done, total)`` hears every PROGRESS_EVERY tables read.

    The classes derive from ``db.Model`` (a FlaskSQLORM object) or from sqlorm's ``Model``
    bound to the engine. Register them with ``admin.register(model)``; each model's
    ``__reflected__`` is what the catalog said of its table (schema_catalog.TableSchema).
    """
    engine = engines_of(db)[0]
    enable_postgresql(engine)  # idempotent; the admin needs it on PostgreSQL anyway
    dialect = dialect_of(engine)
    if dialect.is_postgresql and schema is not None:
        _check_search_path(engine, dialect, schema)
    wanted = chosen_relations(relations(engine, dialect, schema), include, exclude)

    def progress(done: int) -> None:
        if on_progress is not None and (done % PROGRESS_EVERY == 0 or done == len(wanted)):
            on_progress(done, len(wanted))

    tables = read_tables(engine, dialect, wanted, schema, on_table=progress)
    base = _base_model(db, engine)
    class_names = _UniqueNames()
    return {str(table.name): _model_class(base, table, class_names.take(class_name(table.name)),
                                          dialect)
            for table in tables if table.columns}


def _check_search_path(engine, dialect: Dialect, schema: str) -> None:
    from .schema_catalog import schema_on_search_path

    if not schema_on_search_path(engine, dialect, schema):
        raise ValueError(f"schema {schema!r} is not on the connection's search_path: the "
                         "models name their tables unqualified (put it there, e.g. with "
                         f"options=-c search_path={schema} in the URL)")


def chosen_relations(found: t.Sequence[Relation], include: t.Iterable[str] | None,
                     exclude: t.Iterable[str] | None) -> list[Relation]:
    """The relations ``include`` names (all when None) and ``exclude`` does not; names or
    glob patterns, matched case-sensitively."""
    included = [p for p in include or () if p]
    excluded = [p for p in exclude or () if p]
    unmatched = [p for p in included if not any(fnmatch.fnmatchcase(r.name, p) for r in found)]
    if unmatched:
        raise ValueError("no table or view named " + ", ".join(repr(p) for p in unmatched))
    return [r for r in found
            if (not included or any(fnmatch.fnmatchcase(r.name, p) for p in included))
            and not any(fnmatch.fnmatchcase(r.name, p) for p in excluded)]


def _base_model(db: t.Any, engine: t.Any) -> type:
    """The base class of one call's models: the app's ``db.Model`` or sqlorm's ``Model`` bound
    to the engine, with a model registry of its own and no automatic ``id`` key."""
    from sqlorm import Model
    from sqlorm.model import ModelRegistry

    parent = getattr(db, "Model", None)
    if not (isinstance(parent, type) and issubclass(parent, Model)):
        parent = Model
    namespace: dict[str, t.Any] = {
        "__module__": __name__,
        "__model_registry__": ModelRegistry(),
        "Meta": type("Meta", (), {"auto_primary_key": None}),
    }
    if parent is Model:
        namespace["__engine__"] = engine
    return type(parent)("ReflectedModel", (parent, abc.ABC), namespace)


# ---------------------------------------------------------------------------------------------
# Names


_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


class _UniqueNames:
    def __init__(self, taken: t.Iterable[str] = ()):
        self.taken = set(taken)

    def take(self, name: str) -> str:
        candidate, number = name, 2
        while candidate in self.taken:
            candidate, number = f"{name}{number}", number + 1
        self.taken.add(candidate)
        return candidate


def _words(name: str) -> list[str]:
    return [w for w in re.split(r"[\W_]+", _CAMEL.sub("_", name)) if w]


def singular(word: str) -> str:
    """``albums`` -> "album", ``categories`` -> "category", ``addresses`` -> "address";
    ``status``, ``class`` and ``analysis`` stay."""
    lower = word.lower()
    if lower.endswith("ies") and len(word) > 4:
        return word[:-3] + ("Y" if word[-3:].isupper() else "y")
    if lower.endswith(("sses", "xes", "zes", "ches", "shes")):
        return word[:-2]
    if lower.endswith("s") and not lower.endswith(("ss", "us", "is")) and len(word) > 2:
        return word[:-1]
    return word


def class_name(table: str) -> str:
    """A model's class name from its table's: ``playlist_track`` -> "PlaylistTrack",
    ``albums`` -> "Album", ``InvoiceLine`` -> "InvoiceLine", ``ORDER_ITEMS`` -> "OrderItem"."""
    words = _words(table)
    if words:
        words[-1] = singular(words[-1])
    name = "".join((w.lower() if w.isupper() and len(w) > 1 else w)[:1].upper()
                   + (w.lower() if w.isupper() and len(w) > 1 else w)[1:] for w in words)
    if not name.isidentifier():
        name = "Table" + re.sub(r"\W", "", name)
    return name


def attribute_name(column: str, reserved: t.Container[str]) -> str:
    """A column's attribute: its name in snake case (``AlbumId`` -> "album_id", ``unit price``
    -> "unit_price"), with ``_`` after a Python keyword or a name the model class already has
    (``delete``, ``table``)."""
    text = "_".join(w.lower() for w in _words(column))
    if not text or not text.isidentifier():
        text = "c_" + text if text and ("c_" + text).isidentifier() else "column"
    if keyword.iskeyword(text) or text in reserved:
        text += "_"
    return text


# ---------------------------------------------------------------------------------------------
# One model


@dataclass(frozen=True)
class Reference:
    """A foreign key's target for sqlorm's Column(references=...): its table and column."""

    table: str
    name: str

    def __str__(self) -> str:
        table = quote_identifier(CatalogName(self.table))
        return f"{table}({quote_identifier(CatalogName(self.name))})"


def row_key(table: TableSchema) -> tuple[tuple[str, ...], bool]:
    """(the columns identifying a row in the admin, whether the rows are read-only). A table's
    primary key, else a unique constraint over NOT NULL columns; a view, or a table with
    neither, is read-only and its rows are told apart by their first column (rows sharing it
    open the first one's page)."""
    if table.primary_key and not table.is_view:
        return table.primary_key, False
    if not table.is_view:
        for unique in table.unique_keys:
            if all((column := table.column(name)) is not None and column.not_null
                   for name in unique):
                return unique, False
    return (table.columns[0].name,), True


def _model_class(base: type, table: TableSchema, name: str, dialect: Dialect) -> type:
    from sqlorm import Column
    from sqlorm.types import SQLType

    key, read_only = row_key(table)
    names = _UniqueNames()
    reserved = set(dir(base)) | {"table", "c"}  # what sqlorm adds to each model class
    annotations: dict[str, t.Any] = {}
    namespace: dict[str, t.Any] = {
        "__module__": __name__, "__qualname__": name, "__table__": CatalogName(table.name),
        "__reflected__": table, "__hyper_admin_read_only__": read_only,
        "__annotations__": annotations,
    }
    for column in table.columns:
        attribute = names.take(attribute_name(column.name, reserved))
        python_type = python_type_of(column, dialect)
        in_key = column.name in key
        annotations[attribute] = _annotation(column, python_type, nullable=not (
            column.not_null or in_key))
        namespace[attribute] = Column(
            column.name, type=SQLType(column.value_type) if column.value_type else None,
            primary_key=in_key, nullable=not (column.not_null or in_key),
            default=literal_default(column.default_sql, python_type),
            references=Reference(*column.references) if column.references else None,
            unique=column.unique)
    return type(base)(name, (base,), namespace)


def python_type_of(column: ColumnSchema, dialect: Dialect) -> type | None:
    """The Python type of a column's values when it is one the admin edits as such; None
    (the admin goes by the SQL type) for the others: arrays, uuid, intervals, ranges..."""
    if column.enum_labels is not None:
        return str
    if dialect.is_postgresql:
        return _PG_TYPES.get(column.type_name)
    declared = column.type_name.upper()
    return next((python for word, python in _SQLITE_TYPES if word in declared), None)


def _annotation(column: ColumnSchema, python_type: type | None, *, nullable: bool) -> t.Any:
    hint = column_hint(column, python_type)
    inner: t.Any = python_type if python_type is not None else t.Any
    if nullable:
        inner = t.Optional[inner]
    return t.Annotated[inner, hint] if hint is not None else inner


def column_hint(column: ColumnSchema, python_type: type | None) -> Hint | None:
    """What a form should know that the SQL type does not say (None: nothing)."""
    options: dict[str, t.Any] = {}
    if column.comment:
        options["help"] = column.comment
    choices = column.enum_labels or column.bounds.choices
    if choices:
        options["choices"] = tuple(choices)
    if python_type in _NUMBERS:
        if column.bounds.min is not None:
            options["min"] = column.bounds.min
        if column.bounds.max is not None:
            options["max"] = column.bounds.max
    if column.identity or column.generated:
        options["readonly"] = True
    return Hint(**options) if options else None


_STRING_DEFAULT = re.compile(r"^\(?'((?:[^']|'')*)'\)?(?:::[\w ]+(?:\([\d, ]+\))?)?$")
_NUMBER_DEFAULT = re.compile(r"^\(*\s*(-?\d+(?:\.\d+)?)\s*\)*(?:::[\w ]+(?:\([\d, ]+\))?)?$")


def literal_default(default_sql: str | None, python_type: type | None) -> t.Any:
    """A DEFAULT that is a constant, as the model's default value (the add form starts from
    it); sqlorm's "no default" for anything else (``now()``, ``nextval(...)``: the database
    fills those, as the catalog tells the admin)."""
    from sqlorm.mapper import unknown_value

    text = (default_sql or "").strip()
    if not text or python_type is None:
        return unknown_value
    string = _STRING_DEFAULT.match(text)
    number = _NUMBER_DEFAULT.match(text)
    try:
        if python_type is str and string:
            return string.group(1).replace("''", "'")
        if python_type is bool and text.lower() in ("true", "false", "1", "0", "'t'", "'f'"):
            return text.lower() in ("true", "1", "'t'")
        raw = number.group(1) if number else string.group(1) if string else None
        if python_type in _NUMBERS and raw is not None:
            return python_type(raw if python_type is not int else int(decimal.Decimal(raw)))
    except (ValueError, ArithmeticError):
        pass
    return unknown_value
