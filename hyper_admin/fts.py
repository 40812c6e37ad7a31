"""SQLite's FTS5 trigram tables that serve a model's plain (contains) search (docs/lists.md,
"Search that fits the column"): an external-content FTS5 table over the model's table
(``content='tickets', content_rowid='id', tokenize='trigram'``) answers ``subject MATCH
'"refund"'`` from its index, where ``lower(subject) LIKE '%refund%'`` reads every row.

A list's search uses such a table for a column it indexes when one exists (query.search_test);
``hyper-admin doctor`` advises one, with the triggers that keep it in step with its table.
Found from ``sqlite_master`` and reused for FTS_TTL seconds per engine and table, so that a
table created while the admin runs is used within that time."""

from __future__ import annotations

import re
import time
import typing as t
import weakref

from .introspect import ModelInfo, quote_identifier
from .sql import Dialect, Statement, run

FTS_TTL = 300.0
#: A trigram has three characters: a shorter term has none to look up (LIKE answers it).
MIN_TERM = 3

_USING = re.compile(r"\busing\s+fts5\s*\((.*)\)\s*;?\s*$", re.I | re.S)


def _arguments(text: str) -> list[str]:
    """FTS5's arguments, split at the commas outside quotes."""
    parts, current, quote = [], [], ""
    for char in text:
        if quote:
            current.append(char)
            if char == quote:
                quote = ""
        elif char in "'\"`[":
            quote = "]" if char == "[" else char
            current.append(char)
        elif char == ",":
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    parts.append("".join(current).strip())
    return [p for p in parts if p]


def _unquoted(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] in "'\"`[" and text[-1] in "'\"`]":
        return text[1:-1]
    return text


def parse_fts5(sql: str) -> tuple[list[str], dict[str, str]] | None:
    """(indexed column names, options) of a ``CREATE VIRTUAL TABLE ... USING fts5(...)``."""
    match = _USING.search(sql or "")
    if match is None:
        return None
    columns, options = [], {}
    for argument in _arguments(match.group(1)):
        key, sep, value = argument.partition("=")
        if sep and key.strip().isidentifier():
            options[key.strip().lower()] = _unquoted(value)
            continue
        words = argument.split()
        if len(words) > 1 and words[-1].upper() == "UNINDEXED":
            continue
        columns.append(_unquoted(argument))
    return columns, options


def read_trigram_tables(engine: t.Any, dialect: Dialect, info: ModelInfo) -> dict[str, str]:
    """{column name: FTS5 table name} of the trigram tables over ``info``'s table whose rowid
    is its single INTEGER PRIMARY KEY (the rowid of the table's rows)."""
    if dialect.is_postgresql or len(info.primary_key) != 1:
        return {}
    pk = info.primary_key[0].name
    stmt = Statement(dialect, "SELECT name, sql FROM sqlite_master WHERE type = 'table' "
                              "AND sql LIKE 'CREATE VIRTUAL TABLE%' ORDER BY name")
    found: dict[str, str] = {}
    for row in run(engine, stmt):
        parsed = parse_fts5(row["sql"])
        if parsed is None:
            continue
        columns, options = parsed
        if (options.get("content", "").lower() != info.table.lower()
                or options.get("content_rowid", "rowid").lower() not in (pk.lower(), "rowid")
                or "trigram" not in options.get("tokenize", "").lower()):
            continue
        for column in columns:
            if column in info.by_name:
                found.setdefault(column, row["name"])
    return found


_cached: "weakref.WeakKeyDictionary[t.Any, dict[str, tuple[float, dict[str, str]]]]" = (
    weakref.WeakKeyDictionary())


def forget_trigram_tables() -> None:
    """Look in sqlite_master again on the next ask (an FTS5 table was just created)."""
    _cached.clear()


def trigram_tables(engine: t.Any, dialect: Dialect, info: ModelInfo) -> dict[str, str]:
    """read_trigram_tables, reused for FTS_TTL seconds (every list request asks)."""
    if dialect.is_postgresql:
        return {}
    now = time.monotonic()
    try:
        per_table = _cached.setdefault(engine, {})
    except TypeError:
        return read_trigram_tables(engine, dialect, info)
    hit = per_table.get(info.table)
    if hit is None or now - hit[0] > FTS_TTL:
        try:
            value = read_trigram_tables(engine, dialect, info)
        except Exception:  # noqa: BLE001 - a search must not fail for want of a better plan
            value = {}
        hit = per_table[info.table] = (now, value)
    return hit[1]


def match_phrase(term: str) -> str:
    """The term as one FTS5 phrase (quotes doubled): matched as a substring by trigrams."""
    return '"' + term.replace('"', '""') + '"'


def fts_script(table: str, pk: str, columns: t.Sequence[str]) -> str:
    """The FTS5 trigram table over ``table``'s ``columns``, filled, and the triggers that keep
    it in step with every insert, update and delete."""
    name = quote_identifier(f"{table}_search")
    cols = ", ".join(quote_identifier(c) for c in columns)
    new = ", ".join(f"new.{quote_identifier(c)}" for c in columns)
    old = ", ".join(f"old.{quote_identifier(c)}" for c in columns)
    pk_sql = quote_identifier(pk)
    table_sql = quote_identifier(table)
    content = table.replace("'", "''")
    key = pk.replace("'", "''")

    def trigger(suffix: str) -> str:
        return quote_identifier(f"{table}_search_{suffix}")

    return "\n".join([
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {name} USING fts5({cols}, content='{content}', "
        f"content_rowid='{key}', tokenize='trigram');",
        f"INSERT INTO {name}({name}) VALUES ('rebuild');",
        f"CREATE TRIGGER IF NOT EXISTS {trigger('ai')} AFTER INSERT ON {table_sql} BEGIN "
        f"INSERT INTO {name}(rowid, {cols}) VALUES (new.{pk_sql}, {new}); END;",
        f"CREATE TRIGGER IF NOT EXISTS {trigger('ad')} AFTER DELETE ON {table_sql} BEGIN "
        f"INSERT INTO {name}({name}, rowid, {cols}) VALUES ('delete', old.{pk_sql}, {old}); END;",
        f"CREATE TRIGGER IF NOT EXISTS {trigger('au')} AFTER UPDATE ON {table_sql} BEGIN "
        f"INSERT INTO {name}({name}, rowid, {cols}) VALUES ('delete', old.{pk_sql}, {old}); "
        f"INSERT INTO {name}(rowid, {cols}) VALUES (new.{pk_sql}, {new}); END;",
    ])
