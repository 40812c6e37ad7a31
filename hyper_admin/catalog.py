"""What the database's own catalog says about a table, where the model says less.

A model may declare ``author_id: int`` while its table declares ``REFERENCES authors(id)``:
the admin then treats the column as the foreign key it is (labels, links, pickers, filters,
the delete preview), as if the model declared the relationship. Read with ``PRAGMA
foreign_key_list`` on SQLite and ``pg_constraint`` on PostgreSQL, one statement per table.
"""

from __future__ import annotations

import decimal
import re
import typing as t
from dataclasses import dataclass

from .introspect import quote_identifier
from .sql import Dialect, Statement, run


@dataclass(frozen=True, slots=True)
class ForeignKey:
    """A single-column foreign key the database declares on ``table``."""

    table: str
    column: str
    ref_table: str
    ref_column: str | None  # None: the referenced table's primary key (SQLite's short form)


def table_exists(engine, dialect: Dialect, table: str) -> bool:
    stmt = Statement(dialect)
    if dialect.is_postgresql:
        stmt.sql(f"SELECT to_regclass({stmt.param(quote_identifier(table))}) IS NOT NULL AS found")
        rows = run(engine, stmt)
        return bool(rows and rows[0]["found"])
    stmt.sql("SELECT 1 AS found FROM sqlite_master WHERE type IN ('table', 'view') "
             f"AND name = {stmt.param(table)}")
    return bool(run(engine, stmt))


def foreign_keys(engine, dialect: Dialect, table: str) -> list[ForeignKey]:
    """The single-column foreign keys declared on ``table`` (composite ones are left out: no
    column of the model stands for them alone)."""
    if dialect.is_postgresql:
        return _postgresql_foreign_keys(engine, dialect, table)
    return _sqlite_foreign_keys(engine, dialect, table)


def _postgresql_foreign_keys(engine, dialect: Dialect, table: str) -> list[ForeignKey]:
    stmt = Statement(dialect)
    # to_regclass reads the name as the admin's own statements do (bare names fold to lower
    # case) and follows the connection's search_path.
    stmt.sql(
        "SELECT a.attname AS column_name, ref.relname AS ref_table, ra.attname AS ref_column "
        "FROM pg_constraint c "
        "JOIN pg_class ref ON ref.oid = c.confrelid "
        "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] "
        "JOIN pg_attribute ra ON ra.attrelid = c.confrelid AND ra.attnum = c.confkey[1] "
        "WHERE c.contype = 'f' AND cardinality(c.conkey) = 1 "
        f"AND c.conrelid = to_regclass({stmt.param(quote_identifier(table))}) "
        "ORDER BY c.conname"
    )
    return [ForeignKey(table, row["column_name"], row["ref_table"], row["ref_column"])
            for row in run(engine, stmt)]


def _sqlite_foreign_keys(engine, dialect: Dialect, table: str) -> list[ForeignKey]:
    # PRAGMA takes no parameters; the table name comes from introspection, quoted.
    rows = [dict(row) for row in run(engine, Statement(
        dialect, f"PRAGMA foreign_key_list({quote_identifier(table)})"))]
    width: dict[t.Any, int] = {}
    for row in rows:
        width[row["id"]] = width.get(row["id"], 0) + 1
    return [ForeignKey(table, row["from"], row["table"], row["to"] or None)
            for row in rows if width[row["id"]] == 1]


@dataclass(frozen=True, slots=True)
class ColumnFacts:
    """What the table says of one column that the model may not: NOT NULL, and whether the
    database fills it when an INSERT leaves it out (a DEFAULT, an identity or serial, SQLite's
    INTEGER PRIMARY KEY, a generated column)."""

    not_null: bool
    filled_by_database: bool


def column_facts(engine, dialect: Dialect, table: str) -> dict[str, ColumnFacts]:
    if dialect.is_postgresql:
        stmt = Statement(dialect)
        stmt.sql(
            "SELECT a.attname AS name, a.attnotnull AS not_null, "
            "(a.atthasdef OR a.attidentity <> '' OR a.attgenerated <> '') AS filled "
            "FROM pg_attribute a "
            f"WHERE a.attrelid = to_regclass({stmt.param(quote_identifier(table))}) "
            "AND a.attnum > 0 AND NOT a.attisdropped"
        )
        return {row["name"]: ColumnFacts(bool(row["not_null"]), bool(row["filled"]))
                for row in run(engine, stmt)}
    rows = [dict(row) for row in run(engine, Statement(
        dialect, f"PRAGMA table_xinfo({quote_identifier(table)})"))]
    keys = [row for row in rows if row["pk"]]
    facts = {}
    for row in rows:
        rowid = (len(keys) == 1 and row["pk"] and str(row["type"]).upper() == "INTEGER")
        generated = row.get("hidden") in (2, 3)
        facts[row["name"]] = ColumnFacts(
            bool(row["notnull"]) or bool(rowid),
            row["dflt_value"] is not None or bool(rowid) or generated)
    return facts


# ---------------------------------------------------------------------------------------------
# Column types: what a column holds, as the database declares it (a model may say only
# ``Column(type="mpaa_rating")``, or nothing at all)


@dataclass(frozen=True, slots=True)
class ColumnType:
    """A column's type as the catalog declares it, domains and arrays looked through.

    ``declared``: PostgreSQL's ``format_type`` (``numeric(4,2)``, ``text[]``, ``year``,
    ``timestamp with time zone``), SQLite's declared type (``VARCHAR(20)``, ``""``).
    ``base``: the type under the domains and the array (``integer`` for a ``year`` domain,
    ``text`` for ``text[]``, ``mpaa_rating``). ``category``: PostgreSQL's ``typcategory`` of the
    base (``E`` enum, ``N`` numeric, ``S`` string, ``D`` date/time, ``T`` interval, ``I``
    network, ``R`` range, ``U`` user: uuid, json, bytea, tsvector...), "" on SQLite.
    ``checks``: the CHECK expressions of the domains in between (``VALUE >= 1901``...).
    """

    declared: str
    base: str
    category: str = ""
    array: bool = False
    labels: tuple[str, ...] = ()       # an enum's labels, in their order
    checks: tuple[str, ...] = ()       # the domains' CHECK constraints
    domain: str | None = None          # the (outermost) domain's name
    range_of: str | None = None        # a range's subtype (format_type)
    strict: bool = False               # a column of a SQLite STRICT table

    @property
    def bounds(self) -> tuple[t.Any, t.Any]:
        """(low, high) the domains' CHECKs allow, inclusive, None where open."""
        return check_bounds(self.checks, "VALUE")


_COMPARISON = re.compile(
    r"\(*\s*\b{subject}\s*\)*(?:::[\w ]+?)?\)*\s*(>=|<=|>|<)\s*\(*\s*'?(-?\d+(?:\.\d+)?)'?\s*\)*(?:::[\w ]+)?")
_STRICT_STEP = {">": 1, "<": -1}


def check_bounds(checks: t.Iterable[str], subject: str) -> tuple[t.Any, t.Any]:
    """The numeric bounds that CHECK constraints put on ``subject`` (``VALUE`` in a domain,
    a column's name in a table), as ``pg_get_constraintdef`` writes them: ``CHECK (((VALUE >=
    1901) AND (VALUE <= 2155)))``. Only ANDs of comparisons with a number count; a strict one
    (``> 0``) counts on whole numbers only. (low, high), None where no bound was found."""
    low: t.Any = None
    high: t.Any = None
    pattern = re.compile(_COMPARISON.pattern.format(subject=re.escape(subject)), re.I)
    for check in checks:
        if re.search(r"\bOR\b|\bNOT\b", check, re.I):
            continue
        for op, number in pattern.findall(check):
            value = decimal.Decimal(number)
            if op in _STRICT_STEP:
                if value != value.to_integral_value():
                    continue
                value += _STRICT_STEP[op]
            value = int(value) if value == value.to_integral_value() else value
            if op.startswith(">"):
                low = value if low is None else max(low, value)
            else:
                high = value if high is None else min(high, value)
    return low, high


@dataclass(frozen=True, slots=True)
class RelationFacts:
    """What kind of relation a model reads: ``kind`` is "table", "partitioned table", "view",
    "materialized view" or "foreign table"; ``partition_key``: the columns a partitioned
    table routes rows by."""

    kind: str
    partition_key: tuple[str, ...] = ()

    @property
    def read_only(self) -> bool:
        return self.kind in ("view", "materialized view")


_RELKINDS = {"r": "table", "p": "partitioned table", "v": "view", "m": "materialized view",
             "f": "foreign table"}


def relation_facts(engine, dialect: Dialect, table: str) -> RelationFacts:
    """Whether ``table`` is a table, a partitioned table or a view (read-only in the admin)."""
    stmt = Statement(dialect)
    if not dialect.is_postgresql:
        stmt.sql(f"SELECT type FROM sqlite_master WHERE name = {stmt.param(table)}")
        rows = run(engine, stmt)
        return RelationFacts("view" if rows and rows[0]["type"] == "view" else "table")
    stmt.sql(
        "SELECT c.relkind::text AS kind, ARRAY(SELECT a.attname::text FROM "
        "unnest(p.partattrs::int2[]) WITH ORDINALITY AS k(attnum, n) JOIN pg_attribute a "
        "ON a.attrelid = c.oid AND a.attnum = k.attnum ORDER BY k.n) AS partition_key "
        "FROM pg_class c LEFT JOIN pg_partitioned_table p ON p.partrelid = c.oid "
        f"WHERE c.oid = to_regclass({stmt.param(quote_identifier(table))})"
    )
    rows = run(engine, stmt)
    if not rows:
        return RelationFacts("table")
    kind = rows[0]["kind"]
    return RelationFacts(_RELKINDS.get(kind, "table"), tuple(rows[0]["partition_key"] or ()))


def column_types(engine, dialect: Dialect, table: str) -> dict[str, ColumnType]:
    """Each column's declared type by column name (two statements on PostgreSQL, whatever
    the number of columns: the columns, then every type they reach through domains, arrays
    and ranges)."""
    if dialect.is_postgresql:
        return _postgresql_column_types(engine, dialect, table)
    return _sqlite_column_types(engine, dialect, table)


def _sqlite_column_types(engine, dialect: Dialect, table: str) -> dict[str, ColumnType]:
    strict = False
    try:
        listed = run(engine, Statement(dialect, f"PRAGMA table_list({quote_identifier(table)})"))
        strict = bool(listed and dict(listed[0]).get("strict"))
    except Exception:  # noqa: BLE001 - SQLite before 3.37 has no table_list (and no STRICT)
        pass
    rows = [dict(row) for row in run(engine, Statement(
        dialect, f"PRAGMA table_xinfo({quote_identifier(table)})"))]
    return {row["name"]: ColumnType(str(row["type"] or ""), str(row["type"] or ""),
                                    strict=strict)
            for row in rows}


def _postgresql_column_types(engine, dialect: Dialect, table: str) -> dict[str, ColumnType]:
    stmt = Statement(dialect)
    stmt.sql(
        "SELECT a.attname::text AS name, a.atttypid::int8 AS type_oid, "
        "format_type(a.atttypid, a.atttypmod) AS declared FROM pg_attribute a "
        f"WHERE a.attrelid = to_regclass({stmt.param(quote_identifier(table))}) "
        "AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum"
    )
    columns = run(engine, stmt)
    if not columns:
        return {}
    types = _postgresql_types(engine, dialect, sorted({row["type_oid"] for row in columns}))
    return {row["name"]: _resolved(row["declared"], row["type_oid"], types) for row in columns}


def _postgresql_types(engine, dialect: Dialect, oids: list[int]) -> dict[int, dict[str, t.Any]]:
    """The types ``oids`` name, and those they are made of (array elements, domain bases,
    range subtypes), by oid."""
    stmt = Statement(dialect)
    stmt.sql(
        "WITH RECURSIVE reached(oid) AS ("
        f"SELECT unnest({stmt.param(oids)}::int8[])::oid "
        "UNION SELECT n.next FROM reached JOIN pg_type t ON t.oid = reached.oid "
        "CROSS JOIN LATERAL (VALUES (CASE WHEN t.typcategory = 'A' THEN t.typelem END), "
        "(NULLIF(t.typbasetype, 0)), "
        "((SELECT r.rngsubtype FROM pg_range r WHERE r.rngtypid = t.oid))) AS n(next) "
        "WHERE n.next IS NOT NULL AND n.next <> 0) "
        "SELECT t.oid::int8 AS oid, t.typtype::text AS typtype, "
        "t.typcategory::text AS category, "
        "CASE WHEN t.typcategory = 'A' THEN t.typelem::int8 END AS element, "
        "NULLIF(t.typbasetype, 0)::int8 AS domain_base, "
        "CASE WHEN t.typbasetype <> 0 THEN format_type(t.typbasetype, t.typtypmod) END "
        "AS domain_declared, format_type(t.oid, NULL) AS name, "
        "ARRAY(SELECT e.enumlabel::text FROM pg_enum e WHERE e.enumtypid = t.oid "
        "ORDER BY e.enumsortorder) AS labels, "
        "ARRAY(SELECT pg_get_constraintdef(c.oid) FROM pg_constraint c "
        "WHERE c.contypid = t.oid AND c.contype = 'c' ORDER BY c.conname) AS checks, "
        "(SELECT format_type(r.rngsubtype, NULL) FROM pg_range r WHERE r.rngtypid = t.oid) "
        "AS range_of "
        "FROM pg_type t WHERE t.oid IN (SELECT oid FROM reached)"
    )
    return {row["oid"]: dict(row) for row in run(engine, stmt)}


def _resolved(declared: str, oid: int, types: t.Mapping[int, dict[str, t.Any]]) -> ColumnType:
    """Look through domains and arrays down to the base type (at most a few levels)."""
    checks: list[str] = []
    domain = None
    array = False
    current, current_declared = oid, declared
    for _level in range(8):
        found = types.get(current)
        if found is None:
            break
        if found["domain_base"]:
            domain = domain or found["name"]
            checks.extend(found["checks"] or ())
            current, current_declared = found["domain_base"], found["domain_declared"]
            continue
        if found["element"]:
            array = True
            current = found["element"]
            current_declared = current_declared.removesuffix("[]")
            continue
        return ColumnType(declared, current_declared, found["category"], array,
                          tuple(found["labels"] or ()), tuple(checks), domain,
                          found["range_of"])
    return ColumnType(declared, current_declared, "", array, (), tuple(checks), domain)
