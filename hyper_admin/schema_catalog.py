"""Every table and view of a schema as the database's catalog declares them, for
hyper_admin.reflect: columns (declared type, NOT NULL, DEFAULT, identity, generated, comment,
enum labels), the primary key, single-column foreign keys and unique constraints, and the
simple bounds of CHECK constraints.

PostgreSQL is read from ``pg_catalog`` in a fixed handful of statements whatever the number of
tables; SQLite with ``sqlite_master`` and a few PRAGMAs per table. Names are kept exactly as the
catalog holds them (introspect.CatalogName quotes them in SQL).
"""

from __future__ import annotations

import decimal
import re
import typing as t
from dataclasses import dataclass, field

from .introspect import CatalogName, quote_identifier
from .sql import Dialect, Statement, run

#: hyper_admin's own tables: the admin shows them its own way (the audit trail), never as data.
OWN_TABLES = frozenset({"hyper_admin_audit", "hyper_admin_saved_views"})

_PG_KINDS = {"r": "table", "p": "partitioned table", "v": "view", "m": "materialized view",
             "f": "foreign table"}
#: The kinds whose rows the admin never writes.
VIEW_KINDS = frozenset({"view", "materialized view"})


@dataclass(frozen=True)
class Relation:
    """A table or view found in the catalog, before its columns are read."""

    name: str
    kind: str  # "table", "partitioned table", "view", "materialized view", "foreign table"
    comment: str | None = None
    sql: str | None = None  # SQLite: the CREATE statement (its CHECK constraints)


@dataclass
class Bounds:
    """What simple CHECK constraints allow in one column: inclusive bounds, or a list."""

    min: t.Any = None
    max: t.Any = None
    choices: tuple[t.Any, ...] | None = None

    def merge(self, other: "Bounds") -> None:
        if other.min is not None:
            self.min = other.min if self.min is None else max(self.min, other.min)
        if other.max is not None:
            self.max = other.max if self.max is None else min(self.max, other.max)
        if other.choices is not None:
            self.choices = other.choices if self.choices is None else tuple(
                c for c in self.choices if c in other.choices)

    def __bool__(self) -> bool:
        return self.min is not None or self.max is not None or self.choices is not None


@dataclass
class ColumnSchema:
    name: str
    sql_type: str                  # as the catalog writes it: "character varying(120)"
    value_type: str                # the same, or a domain's base type: "integer" for "year"
    type_name: str                 # the value's type by its short name, lower case: "int4"
    not_null: bool
    default_sql: str | None        # the DEFAULT expression, as SQL text
    identity: bool = False         # GENERATED ... AS IDENTITY
    generated: bool = False        # GENERATED ALWAYS AS (...)
    comment: str | None = None
    enum_labels: tuple[str, ...] | None = None
    bounds: Bounds = field(default_factory=Bounds)
    unique: bool = False
    references: tuple[str, str] | None = None  # (table, column) of a single-column foreign key


@dataclass
class TableSchema:
    name: str
    kind: str
    columns: list[ColumnSchema]
    primary_key: tuple[str, ...] = ()
    unique_keys: list[tuple[str, ...]] = field(default_factory=list)
    comment: str | None = None

    @property
    def is_view(self) -> bool:
        return self.kind in VIEW_KINDS

    def column(self, name: str) -> ColumnSchema | None:
        return next((c for c in self.columns if c.name == name), None)


# ---------------------------------------------------------------------------------------------
# Which relations


def current_schema(engine, dialect: Dialect) -> str | None:
    """PostgreSQL: the first schema of the connection's search_path (None on SQLite)."""
    if not dialect.is_postgresql:
        return None
    rows = run(engine, Statement(dialect, "SELECT current_schema() AS name"))
    return rows[0]["name"] if rows else None


def schema_on_search_path(engine, dialect: Dialect, schema: str) -> bool:
    """Whether the admin's unqualified names reach ``schema`` (PostgreSQL)."""
    stmt = Statement(dialect)
    stmt.sql(f"SELECT {stmt.param(schema)} = ANY(current_schemas(false)) AS visible")
    rows = run(engine, stmt)
    return bool(rows and rows[0]["visible"])


def relations(engine, dialect: Dialect, schema: str | None = None) -> list[Relation]:
    """The tables and views of ``schema`` (PostgreSQL; default: the current one) or of the
    SQLite database, by name; partitions, SQLite's own tables and hyper_admin's left out."""
    if dialect.is_postgresql:
        stmt = Statement(dialect)
        stmt.sql("SELECT c.relname AS name, c.relkind::text AS kind, "
                 "obj_description(c.oid, 'pg_class') AS comment "
                 "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                 f"WHERE n.nspname = {stmt.param(schema or current_schema(engine, dialect))} "
                 "AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND NOT c.relispartition "
                 "ORDER BY c.relname")
        found = [Relation(row["name"], _PG_KINDS[row["kind"]], row["comment"])
                 for row in run(engine, stmt)]
    else:
        stmt = Statement(dialect, "SELECT name, type, sql FROM sqlite_master "
                                  "WHERE type IN ('table', 'view') ORDER BY name")
        found = [Relation(row["name"], row["type"], None, row["sql"]) for row in run(engine, stmt)
                 if not row["name"].startswith("sqlite_")]
    return [r for r in found if r.name not in OWN_TABLES]


def read_tables(engine, dialect: Dialect, wanted: t.Sequence[Relation], schema: str | None = None,
                on_table: t.Callable[[int], None] | None = None) -> list[TableSchema]:
    """The full description of each relation of ``wanted`` (from :func:`relations`), in that
    order. ``on_table(n)`` is called as the n-th is read."""
    if dialect.is_postgresql:
        return _PostgresCatalog(engine, dialect, schema or current_schema(engine, dialect)).tables(
            wanted, on_table)
    tables = []
    for number, relation in enumerate(wanted, 1):
        tables.append(_sqlite_table(engine, dialect, relation))
        if on_table is not None:
            on_table(number)
    return tables


# ---------------------------------------------------------------------------------------------
# PostgreSQL: one statement per kind of fact, for the whole schema


_PG_RELATION_FILTER = ("JOIN pg_namespace n ON n.oid = c.relnamespace "
                       "WHERE n.nspname = {schema} AND c.relkind IN ('r', 'p', 'v', 'm', 'f') "
                       "AND NOT c.relispartition")


class _PostgresCatalog:
    def __init__(self, engine, dialect: Dialect, schema: str):
        self.engine, self.dialect, self.schema = engine, dialect, schema

    def _rows(self, select: str, tail: str = "") -> list[t.Any]:
        stmt = Statement(self.dialect)
        where = _PG_RELATION_FILTER.format(schema=stmt.param(self.schema))
        stmt.sql(f"{select} {where} {tail}")
        return run(self.engine, stmt)

    def tables(self, wanted: t.Sequence[Relation], on_table) -> list[TableSchema]:
        columns = self._columns()
        constraints = self._constraints()
        unique_indexes = self._unique_indexes()
        tables = []
        for number, relation in enumerate(wanted, 1):
            table = TableSchema(relation.name, relation.kind, columns.get(relation.name, []),
                                comment=relation.comment)
            for row in constraints.get(relation.name, []):
                _apply_constraint(table, row["kind"], row["columns"], row["ref_table"],
                                  row["ref_columns"], row["definition"])
            for name in unique_indexes.get(relation.name, []):
                _mark_unique(table, (name,))
            tables.append(table)
            if on_table is not None:
                on_table(number)
        return tables

    def _columns(self) -> dict[str, list[ColumnSchema]]:
        rows = self._rows(
            "SELECT c.relname AS rel, a.attname AS name, "
            "format_type(a.atttypid, a.atttypmod) AS sql_type, "
            "CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod) "
            "ELSE format_type(a.atttypid, a.atttypmod) END AS value_type, "
            "COALESCE(bt.typname, t.typname) AS type_name, "
            "COALESCE(bt.typtype, t.typtype)::text AS type_kind, "
            "COALESCE(bt.oid, t.oid) AS type_oid, "
            "CASE WHEN t.typtype = 'd' THEN t.oid END AS domain_oid, "
            "(a.attnotnull OR t.typnotnull) AS not_null, "
            "COALESCE(pg_get_expr(d.adbin, d.adrelid), t.typdefault) AS default_sql, "
            "a.attidentity::text AS identity, a.attgenerated::text AS generated, "
            "col_description(a.attrelid, a.attnum) AS comment "
            "FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
            "JOIN pg_type t ON t.oid = a.atttypid "
            "LEFT JOIN pg_type bt ON t.typtype = 'd' AND bt.oid = t.typbasetype "
            "LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum",
            "AND a.attnum > 0 AND NOT a.attisdropped ORDER BY c.relname, a.attnum")
        labels = self._enum_labels()
        domain_bounds = self._domain_bounds()
        found: dict[str, list[ColumnSchema]] = {}
        for row in rows:
            generated = bool(row["generated"])
            column = ColumnSchema(
                name=CatalogName(row["name"]), sql_type=row["sql_type"],
                value_type=row["value_type"], type_name=str(row["type_name"]).lower(),
                not_null=bool(row["not_null"]),
                default_sql=None if generated else row["default_sql"],
                identity=bool(row["identity"]), generated=generated, comment=row["comment"],
                enum_labels=labels.get(row["type_oid"]) if row["type_kind"] == "e" else None)
            bounds = domain_bounds.get(row["domain_oid"])
            if bounds is not None:
                column.bounds.merge(bounds)
            found.setdefault(row["rel"], []).append(column)
        return found

    def _constraints(self) -> dict[str, list[t.Any]]:
        names = ("ARRAY(SELECT a.attname::text FROM unnest(con.{keys}) WITH ORDINALITY k(num, pos) "
                 "JOIN pg_attribute a ON a.attrelid = con.{rel} AND a.attnum = k.num "
                 "ORDER BY k.pos)")
        rows = self._rows(
            "SELECT c.relname AS rel, con.contype::text AS kind, "
            "pg_get_constraintdef(con.oid) AS definition, "
            f"{names.format(keys='conkey', rel='conrelid')} AS columns, "
            "ref.relname AS ref_table, "
            f"{names.format(keys='confkey', rel='confrelid')} AS ref_columns "
            "FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid "
            "LEFT JOIN pg_class ref ON ref.oid = con.confrelid",
            "AND con.contype IN ('p', 'u', 'f', 'c') ORDER BY c.relname, con.conname")
        found: dict[str, list[t.Any]] = {}
        for row in rows:
            found.setdefault(row["rel"], []).append(row)
        return found

    def _unique_indexes(self) -> dict[str, list[str]]:
        """Single-column unique indexes that are no constraint (CREATE UNIQUE INDEX)."""
        rows = self._rows(
            "SELECT c.relname AS rel, a.attname AS name FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indrelid "
            "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]",
            "AND i.indisunique AND NOT i.indisprimary AND i.indnkeyatts = 1 "
            "AND i.indpred IS NULL AND i.indexprs IS NULL")
        found: dict[str, list[str]] = {}
        for row in rows:
            found.setdefault(row["rel"], []).append(row["name"])
        return found

    def _enum_labels(self) -> dict[int, tuple[str, ...]]:
        rows = run(self.engine, Statement(
            self.dialect, "SELECT enumtypid AS type_oid, enumlabel AS label FROM pg_enum "
                          "ORDER BY enumtypid, enumsortorder"))
        found: dict[int, list[str]] = {}
        for row in rows:
            found.setdefault(row["type_oid"], []).append(row["label"])
        return {oid: tuple(labels) for oid, labels in found.items()}

    def _domain_bounds(self) -> dict[int, Bounds]:
        rows = run(self.engine, Statement(
            self.dialect, "SELECT contypid AS domain_oid, pg_get_constraintdef(oid) AS definition "
                          "FROM pg_constraint WHERE contypid <> 0 AND contype = 'c'"))
        found: dict[int, Bounds] = {}
        for row in rows:
            bounds = check_bounds(row["definition"]).get("VALUE")
            if bounds:
                found.setdefault(row["domain_oid"], Bounds()).merge(bounds)
        return found


def _apply_constraint(table: TableSchema, kind: str, columns: list[str], ref_table: str | None,
                      ref_columns: list[str] | None, definition: str) -> None:
    """One constraint of ``table`` (PostgreSQL's contype letters; SQLite's read alike)."""
    columns = list(columns or [])
    if kind == "p":
        table.primary_key = tuple(columns)
    elif kind == "u":
        _mark_unique(table, tuple(columns))
    elif kind == "f" and len(columns) == 1 and ref_table:
        column = table.column(columns[0])
        if column is not None:
            column.references = (ref_table, (ref_columns or [""])[0])
    elif kind == "c":
        _apply_checks(table, definition)


def _mark_unique(table: TableSchema, columns: tuple[str, ...]) -> None:
    if columns and columns not in table.unique_keys:
        table.unique_keys.append(columns)
    if len(columns) == 1:
        column = table.column(columns[0])
        if column is not None:
            column.unique = True


def _apply_checks(table: TableSchema, definition: str, *, fold_case: bool = False) -> None:
    for name, bounds in check_bounds(definition).items():
        column = table.column(name)
        if column is None and fold_case:
            column = next((c for c in table.columns if c.name.lower() == name.lower()), None)
        if column is not None:
            column.bounds.merge(bounds)


# ---------------------------------------------------------------------------------------------
# SQLite: PRAGMAs per table


def _pragma(engine, dialect: Dialect, name: str, argument: str) -> list[dict]:
    # PRAGMA takes no parameters; the name comes from the catalog, quoted.
    text = f"PRAGMA {name}({quote_identifier(CatalogName(argument))})"
    return [dict(row) for row in run(engine, Statement(dialect, text))]


def _sqlite_table(engine, dialect: Dialect, relation: Relation) -> TableSchema:
    rows = [r for r in _pragma(engine, dialect, "table_xinfo", relation.name)
            if r["hidden"] in (0, 2, 3)]  # 1: a virtual table's hidden column
    table = TableSchema(relation.name, relation.kind, [
        ColumnSchema(name=CatalogName(row["name"]), sql_type=str(row["type"] or ""),
                     value_type=str(row["type"] or ""), type_name=str(row["type"] or "").lower(),
                     not_null=bool(row["notnull"]), default_sql=row["dflt_value"],
                     generated=row["hidden"] in (2, 3))
        for row in rows])
    table.primary_key = tuple(row["name"] for row in sorted(
        (r for r in rows if r["pk"]), key=lambda r: r["pk"]))
    if relation.kind != "table":
        return table
    widths: dict[t.Any, int] = {}
    foreign = _pragma(engine, dialect, "foreign_key_list", relation.name)
    for row in foreign:
        widths[row["id"]] = widths.get(row["id"], 0) + 1
    for row in foreign:
        if widths[row["id"]] == 1:
            _apply_constraint(table, "f", [row["from"]], row["table"], [row["to"] or ""], "")
    for index in _pragma(engine, dialect, "index_list", relation.name):
        if index["unique"] and not index.get("partial") and index["origin"] != "pk":
            names = [r["name"] for r in _pragma(engine, dialect, "index_info", index["name"])]
            if names and None not in names:
                _mark_unique(table, tuple(names))
    for definition in _check_clauses(relation.sql or ""):
        _apply_checks(table, definition, fold_case=True)
    return table


_STRING_OR_CHECK = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|\bCHECK\s*\(", re.I)


def _check_clauses(create_sql: str) -> list[str]:
    """The ``CHECK (...)`` clauses of a CREATE TABLE statement, as written."""
    found = []
    for match in _STRING_OR_CHECK.finditer(create_sql):
        if match.group(0)[0] in "'\"":
            continue
        end = _closing_paren(create_sql, match.end() - 1)
        if end is not None:
            found.append("CHECK " + create_sql[match.end() - 1:end + 1])
    return found


def _closing_paren(text: str, start: int) -> int | None:
    """The index of the parenthesis closing the one at ``start`` (strings skipped)."""
    depth, quote = 0, None
    for index in range(start, len(text)):
        char = text[index]
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return index
    return None


# ---------------------------------------------------------------------------------------------
# CHECK constraints: the simple bounds a form can say before the database refuses


_IDENT = r'"(?:[^"]|"")+"|`[^`]+`|\[[^\]]+\]|[^\W\d][\w$]*'
_NUMBER = r"'?-?\d+(?:\.\d+)?'?"
_LITERAL = r"'(?:[^']|'')*'|-?\d+(?:\.\d+)?"
_CAST = re.compile(
    r"::(?:character varying|double precision|bit varying"
    r"|time(?:stamp)?(?: with(?:out)? time zone)?|[A-Za-z_][A-Za-z0-9_]*)"
    r"(?:\(\d+(?:\s*,\s*\d+)?\))?(?:\[\])*")
#: A name, a literal or an array in parentheses of their own (not a function's: length(x)).
_WRAPPED = re.compile(rf"(?<![\w$])\(\s*({_IDENT}|{_LITERAL}|ARRAY\[[^\]]*\])\s*\)")
_COMPARE = re.compile(rf"^({_IDENT})\s*(>=|>|<=|<)\s*({_NUMBER})$")
_COMPARE_FLIPPED = re.compile(rf"^({_NUMBER})\s*(>=|>|<=|<)\s*({_IDENT})$")
_BETWEEN = re.compile(rf"^({_IDENT})\s+BETWEEN\s+({_NUMBER})\s+AND\s+({_NUMBER})$", re.I)
_IN_LIST = re.compile(rf"^({_IDENT})\s+IN\s*\(((?:{_LITERAL})(?:\s*,\s*(?:{_LITERAL}))*)\)$", re.I)
_ANY_ARRAY = re.compile(
    rf"^({_IDENT})\s*=\s*ANY\s*\(?\s*ARRAY\[((?:{_LITERAL})(?:\s*,\s*(?:{_LITERAL}))*)\]\s*\)?$",
    re.I)
_FLIP = {">=": "<=", ">": "<", "<=": ">=", "<": ">"}


def check_bounds(definition: str) -> dict[str, Bounds]:
    """The simple bounds a CHECK constraint sets, by column name (a domain's: ``"VALUE"``):
    ``x >= 0``, ``x BETWEEN 1 AND 5``, ``x IN ('a', 'b')`` and PostgreSQL's rewritings of them
    (``(x)::text = ANY ((ARRAY['a'::text, ...])::text[])``), joined by AND. Anything else
    (OR, functions, other columns) is left to the database. Strict bounds on whole numbers
    become inclusive ones (``> 0``: at least 1); on others they stay as given."""
    text = re.sub(r"^\s*CHECK\s*", "", definition, flags=re.I)
    text = re.sub(r"\s+NOT\s+VALID\s*$", "", text, flags=re.I)
    text = _CAST.sub("", text)
    while True:
        unwrapped = _WRAPPED.sub(r"\1", text)
        if unwrapped == text:
            break
        text = unwrapped
    found: dict[str, Bounds] = {}
    for part in _conjuncts(_strip_parens(text)):
        parsed = _simple_bound(_strip_parens(part))
        if parsed is not None:
            found.setdefault(parsed[0], Bounds()).merge(parsed[1])
    return found


def _strip_parens(text: str) -> str:
    text = text.strip()
    while text.startswith("(") and _closing_paren(text, 0) == len(text) - 1:
        text = text[1:-1].strip()
    return text


def _conjuncts(text: str) -> list[str]:
    """``text`` split at its top-level ANDs (a BETWEEN's own AND kept); a part holding a
    top-level OR is dropped: it bounds nothing on its own."""
    parts, depth, quote, start, index = [], 0, None, 0, 0
    while index < len(text):
        char = text[index]
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif depth == 0:
            keyword = re.match(r"\s+(AND|OR)\s+", text[index:], re.I)
            if keyword:
                parts.append((text[start:index], keyword.group(1).upper()))
                index += keyword.end()
                start = index
                continue
        index += 1
    parts.append((text[start:], None))
    if any(joiner == "OR" for _part, joiner in parts):
        return []
    merged: list[str] = []
    for part, _joiner in parts:
        if merged and re.search(r"\bBETWEEN\s+\S+$", merged[-1], re.I):
            merged[-1] += " AND " + part
        else:
            merged.append(part)
    return merged


def _simple_bound(text: str) -> tuple[str, Bounds] | None:
    match = _COMPARE.match(text)
    if match:
        return _identifier(match.group(1)), _compared(match.group(2), _number(match.group(3)))
    match = _COMPARE_FLIPPED.match(text)
    if match:
        return _identifier(match.group(3)), _compared(_FLIP[match.group(2)],
                                                       _number(match.group(1)))
    match = _BETWEEN.match(text)
    if match:
        return _identifier(match.group(1)), Bounds(_number(match.group(2)),
                                                   _number(match.group(3)))
    match = _IN_LIST.match(text) or _ANY_ARRAY.match(text)
    if match:
        values = re.findall(_LITERAL, match.group(2))
        return _identifier(match.group(1)), Bounds(choices=tuple(_literal(v) for v in values))
    return None


def _compared(operator: str, value: t.Any) -> Bounds:
    strict_int = isinstance(value, int) and operator in (">", "<")
    if operator.startswith(">"):
        return Bounds(min=value + 1 if strict_int else value)
    return Bounds(max=value - 1 if strict_int else value)


def _identifier(text: str) -> str:
    if text[0] == '"':
        return text[1:-1].replace('""', '"')
    if text[0] in "`[":
        return text[1:-1]
    return text


def _number(text: str) -> t.Any:
    text = text.strip("'")
    return decimal.Decimal(text) if "." in text else int(text)


def _literal(text: str) -> t.Any:
    if text.startswith("'"):
        return text[1:-1].replace("''", "'")
    return _number(text)
