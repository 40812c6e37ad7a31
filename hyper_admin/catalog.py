"""What the database's own catalog says about a table, where the model says less.

A model may declare ``author_id: int`` while its table declares ``REFERENCES authors(id)``:
the admin then treats the column as the foreign key it is (labels, links, pickers, filters,
the delete preview), as if the model declared the relationship. Read with ``PRAGMA
foreign_key_list`` on SQLite and ``pg_constraint`` on PostgreSQL, one statement per table.
"""

from __future__ import annotations

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
