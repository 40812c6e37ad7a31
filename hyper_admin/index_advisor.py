"""The index advisor behind ``hyper-admin doctor`` and the list's search hint (docs/lists.md,
"Indexes the admin needs"): what a model's list asks of the database (its search, default
order, filters, date drill-down and foreign keys), compared with the indexes the database has,
as the ``CREATE INDEX`` statements that are missing and what each one serves.

What each list query needs, and so what is advised:

- **search** (contains, the plain search): ``lower(col) LIKE '%term%'`` (query.search_test), which
  a trigram GIN index on ``lower(col)`` serves on PostgreSQL (pg_trgm). SQLite has no such index:
  its plain search reads the table, and nothing is advised for it. Exact (``=term``) and prefix
  (``^term``) searches compare the column itself: a B-tree index on it.
- **order**: the default order with its primary-key tiebreaker (query.with_tiebreaker), which a
  B-tree index on those columns serves, the first page and every keyset page alike.
- **filter**: a filter's column then the order's columns, which serves "WHERE status = ? ORDER BY
  created_at DESC LIMIT 50" without sorting the filtered rows.
- **dates**: the date drill-down's column (dates.py probes ranges of it, LIMIT 1).
- **foreign key**: each foreign key column, which the inlines, the delete page's preview and the
  filters by that key read by.

A wanted index is served by an existing B-tree index whose leading columns are the wanted ones
(in the same directions, or all reversed), or by another advice of the same table: so the order's
index also serves the date probes on its first column, and nothing is advised twice. Only names
from the models' introspected columns go into the statements."""

from __future__ import annotations

import hashlib
import re
import time
import typing as t
import weakref
from dataclasses import dataclass

from .fts import fts_script, read_trigram_tables
from .introspect import ColumnInfo, ModelInfo, quote_identifier
from .query import (ListParams, ListSpec, RelatedColumn, planner_estimate, search_condition,
                    table_estimate, with_tiebreaker)
from .sql import Dialect, Statement, run

#: PostgreSQL's longest identifier.
MAX_NAME = 63
#: Seconds the indexes read from a database's catalog are reused (the list's search hint).
INDEXES_TTL = 300.0


@dataclass(frozen=True)
class ExistingIndex:
    """An index the database has: its key columns (an expression as its normalised text),
    their directions (True: descending), its access method and operator classes."""

    name: str
    keys: tuple[str, ...]
    descending: tuple[bool, ...]
    method: str = "btree"
    opclasses: tuple[str, ...] = ()
    partial: bool = False


@dataclass(frozen=True)
class Wanted:
    """An index a list query needs: (column, descending) keys, or a trigram index."""

    table: str
    kind: str                    # search, order, filter, dates, foreign key
    keys: tuple[tuple[ColumnInfo, bool], ...]
    serves: str
    trigram: bool = False


@dataclass(frozen=True)
class Advice:
    """A missing index: the statement that creates it and what it serves."""

    table: str
    kind: str
    serves: str
    statement: str
    trigram: bool = False


# ---------------------------------------------------------------------------------------------
# What the database has


def _normalised(key: str) -> str:
    """An index key as comparable text: ``lower((name)::text)`` → ``lower(name)``."""
    text = re.sub(r"::[a-z ]+(\[\])?", "", key.lower())
    text = re.sub(r'[\s"()]', "", text)
    match = re.fullmatch(r"lower(.+)", text)
    return f"lower({match.group(1)})" if match else text


def read_indexes(engine: t.Any, dialect: Dialect, table: str) -> list[ExistingIndex]:
    """The indexes of ``table`` (an introspected name), from the database's catalog."""
    if dialect.is_postgresql:
        return _postgres_indexes(engine, dialect, table)
    return _sqlite_indexes(engine, dialect, table)


def _postgres_indexes(engine: t.Any, dialect: Dialect, table: str) -> list[ExistingIndex]:
    stmt = Statement(dialect)
    stmt.sql(
        "SELECT i.relname AS name, am.amname AS method, ix.indpred IS NOT NULL AS partial, "
        "ARRAY(SELECT pg_get_indexdef(ix.indexrelid, k, true) "
        "      FROM generate_series(1, ix.indnkeyatts) AS k ORDER BY k) AS keys, "
        "ARRAY(SELECT (ix.indoption[k - 1] & 1) = 1 "
        "      FROM generate_series(1, ix.indnkeyatts) AS k ORDER BY k) AS descending, "
        "ARRAY(SELECT opc.opcname FROM unnest(ix.indclass::oid[]) WITH ORDINALITY AS c(oid, n) "
        "      JOIN pg_opclass AS opc ON opc.oid = c.oid ORDER BY c.n) AS opclasses "
        "FROM pg_index AS ix JOIN pg_class AS i ON i.oid = ix.indexrelid "
        "JOIN pg_am AS am ON am.oid = i.relam "
        f"WHERE ix.indrelid = to_regclass({stmt.param(quote_identifier(table))}) "
        "ORDER BY i.relname")
    return [ExistingIndex(name=row["name"], keys=tuple(_normalised(k) for k in row["keys"]),
                          descending=tuple(row["descending"]), method=row["method"],
                          opclasses=tuple(row["opclasses"]), partial=bool(row["partial"]))
            for row in run(engine, stmt)]


def _sqlite_indexes(engine: t.Any, dialect: Dialect, table: str) -> list[ExistingIndex]:
    found = []
    # PRAGMA takes no parameters: the name is an introspected one, quoted.
    for row in run(engine, Statement(dialect, f"PRAGMA index_list({quote_identifier(table)})")):
        name = row["name"]
        columns = run(engine, Statement(dialect, f"PRAGMA index_xinfo({quote_identifier(name)})"))
        keys = [c for c in columns if c["key"]]
        found.append(ExistingIndex(
            name=name, keys=tuple(_normalised(c["name"] or "?") for c in keys),
            descending=tuple(bool(c["desc"]) for c in keys), partial=bool(row["partial"])))
    return found


_cached: "weakref.WeakKeyDictionary[t.Any, dict[str, tuple[float, list[ExistingIndex]]]]" = (
    weakref.WeakKeyDictionary())


def forget_indexes() -> None:
    """Read the catalog again on the next ask (indexes were just created or dropped)."""
    _cached.clear()


def cached_indexes(engine: t.Any, dialect: Dialect, table: str) -> list[ExistingIndex]:
    """read_indexes, reused for INDEXES_TTL seconds per engine and table (the search hint
    asks on every search of a big table)."""
    now = time.monotonic()
    per_table = _cached.setdefault(engine, {})
    hit = per_table.get(table)
    if hit is None or now - hit[0] > INDEXES_TTL:
        hit = per_table[table] = (now, read_indexes(engine, dialect, table))
    return hit[1]


# ---------------------------------------------------------------------------------------------
# What the lists need


def _rowid_alias(info: ModelInfo, dialect: Dialect) -> ColumnInfo | None:
    """SQLite's INTEGER PRIMARY KEY: every index of the table ends with it already."""
    if dialect.is_postgresql or len(info.primary_key) != 1:
        return None
    pk = info.primary_key[0]
    return pk if (pk.sql_type or "").strip().upper() == "INTEGER" else None


def _own(column: t.Any, info: ModelInfo) -> bool:
    return (isinstance(column, ColumnInfo) and column.table == info.table and not column.lazy
            and column.name in info.by_name)


def wanted_indexes(spec: t.Any, info: ModelInfo, dialect: Dialect,
                   date_column: ColumnInfo | None = None) -> list[Wanted]:
    """What a model's list (its ListSpec for a user) asks of the database."""
    wanted: list[Wanted] = []
    for target in spec.search:
        column = target.column if isinstance(target, RelatedColumn) else target
        if column.kind != "text" or column.choices:
            continue
        related = isinstance(target, RelatedColumn)
        via = f" (through {target.label})" if related else ""
        # PostgreSQL: a trigram index; SQLite: an FTS5 trigram table over the model's own
        # table, when its rows have a rowid (fts.py).
        if dialect.is_postgresql or (not related and _rowid_alias(info, dialect) is not None):
            wanted.append(Wanted(column.table, "search", ((column, False),), trigram=True,
                                 serves=f"the search for part of {column.name}{via}"))
        wanted.append(Wanted(column.table, "search", ((column, False),),
                             serves=f"the exact (=) and prefix (^) search of {column.name}{via}"))
    order = [(c, d) for c, d in with_tiebreaker(list(spec.ordering), info)]
    if order and all(_own(c, info) for c, _ in order):
        wanted.append(Wanted(info.table, "order", tuple(order),
                             serves="the list's default order, its first and every later page"))
    for column in spec.filterable.values():
        if not _own(column, info) or column.primary_key or (date_column is not None
                                                             and column is date_column):
            continue
        rest = [(c, d) for c, d in order if c is not column]
        # An equality on the filter's column: its direction is the order's, whichever it is.
        keys = ((column, rest[0][1] if rest else False), *rest)
        if not all(_own(c, info) for c, _ in keys):
            keys = ((column, False),)
        wanted.append(Wanted(info.table, "filter", keys,
                             serves=f"the filter on {column.name} in the list's order"))
    if date_column is not None and _own(date_column, info):
        wanted.append(Wanted(info.table, "dates", ((date_column, False),),
                             serves=f"the date drill-down by {date_column.name}"))
    for column in info.columns:
        if column.references is not None and not column.lazy:
            wanted.append(Wanted(info.table, "foreign key", ((column, False),),
                                 serves=f"rows by their {column.name} (inlines, the delete "
                                        "page's preview, the filter)"))
    return wanted


# ---------------------------------------------------------------------------------------------
# Comparing


def _btree_keys(want: Wanted, rowid: ColumnInfo | None) -> tuple[tuple[str, bool], ...]:
    """The wanted keys as an index would need them: SQLite's rowid left out at the end (every
    index ends with it, and the table itself is in its order: nothing left, nothing needed)."""
    keys = [(c.name.lower(), d) for c, d in want.keys]
    while keys and rowid is not None and keys[-1][0] == rowid.name.lower():
        keys.pop()
    return tuple(keys)


def _serves(index_keys: t.Sequence[tuple[str, bool]], wanted: t.Sequence[tuple[str, bool]]) -> bool:
    """Whether a B-tree with ``index_keys`` serves ``wanted``: the same leading columns, in the
    same directions or all reversed (a B-tree is read both ways). A direction matters only
    from the second key on: one key is read either way."""
    if len(index_keys) < len(wanted):
        return False
    if [name for name, _ in index_keys[:len(wanted)]] != [name for name, _ in wanted]:
        return False
    if len(wanted) == 1:
        return True
    same = all(a == b for (_, a), (_, b) in zip(index_keys, wanted))
    reversed_ = all(a != b for (_, a), (_, b) in zip(index_keys, wanted))
    return same or reversed_


def _has_trigram(indexes: t.Sequence[ExistingIndex], column: ColumnInfo) -> bool:
    wanted = f"lower({column.name.lower()})"
    return any(index.method in ("gin", "gist") and not index.partial and index.keys
               and index.keys[0] == wanted and index.opclasses
               and index.opclasses[0] in ("gin_trgm_ops", "gist_trgm_ops")
               for index in indexes)


def missing(wanted: t.Sequence[Wanted], indexes_of: t.Callable[[str], t.Sequence[ExistingIndex]],
            dialect: Dialect, rowid_of: t.Callable[[str], ColumnInfo | None],
            fts_of: t.Callable[[str], t.Mapping[str, str]] = lambda table: {}) -> list[Wanted]:
    """The wanted indexes no existing one (nor a longer wanted one) serves, longest first.
    ``fts_of``: SQLite's FTS5 trigram tables of a table, by the column they index."""
    result: list[Wanted] = []
    planned: dict[str, list[tuple[tuple[str, bool], ...]]] = {}
    trigrams: set[tuple[str, str]] = set()
    for want in sorted(wanted, key=lambda w: -len(w.keys)):
        if want.trigram:
            column = want.keys[0][0]
            key = (want.table, column.name)
            served = (_has_trigram(indexes_of(want.table), column) if dialect.is_postgresql
                      else column.name in fts_of(want.table))
            if key not in trigrams and not served:
                trigrams.add(key)
                result.append(want)
            continue
        keys = _btree_keys(want, rowid_of(want.table))
        if not keys:
            continue
        existing = [tuple(zip(index.keys, index.descending)) for index in indexes_of(want.table)
                    if index.method == "btree" and not index.partial]
        if any(_serves(index, keys) for index in [*existing, *planned.get(want.table, [])]):
            continue
        planned.setdefault(want.table, []).append(keys)
        result.append(want)
    return result


# ---------------------------------------------------------------------------------------------
# Statements


def index_name(table: str, parts: t.Sequence[str], suffix: str) -> str:
    name = "_".join([table, *parts, suffix])
    name = re.sub(r"[^A-Za-z0-9_]", "_", name).lower()
    if len(name) > MAX_NAME:
        digest = hashlib.sha1(name.encode()).hexdigest()[:8]
        name = f"{name[:MAX_NAME - 9]}_{digest}"
    return name


def statement(want: Wanted, dialect: Dialect, rowid: ColumnInfo | None = None) -> str:
    """The CREATE INDEX of ``want``: CONCURRENTLY on PostgreSQL (writes go on meanwhile)."""
    create = ("CREATE INDEX CONCURRENTLY IF NOT EXISTS" if dialect.is_postgresql
              else "CREATE INDEX IF NOT EXISTS")
    table = quote_identifier(want.table)
    if want.trigram:
        column = want.keys[0][0]
        name = index_name(want.table, [column.name], "trgm")
        return (f"{create} {quote_identifier(name)} ON {table} "
                f"USING gin (lower({quote_identifier(column.name)}) gin_trgm_ops);")
    keys = list(want.keys)
    while len(keys) > 1 and rowid is not None and keys[-1][0] is rowid:
        keys.pop()
    mixed = len({d for _, d in keys}) > 1
    columns = ", ".join(quote_identifier(c.name) + (" DESC" if mixed and d else "")
                        for c, d in keys)
    name = index_name(want.table, [c.name for c, _ in keys], "idx")
    return f"{create} {quote_identifier(name)} ON {table} ({columns});"


def advise(wanted: t.Sequence[Wanted], engine: t.Any, dialect: Dialect,
           infos: t.Mapping[str, ModelInfo], *, cached: bool = False) -> list[Advice]:
    """The missing indexes of ``wanted`` as statements (``infos``: the models by table name,
    for SQLite's rowid)."""
    read = cached_indexes if cached else read_indexes
    seen: dict[str, list[ExistingIndex]] = {}

    def indexes_of(table: str) -> list[ExistingIndex]:
        if table not in seen:
            seen[table] = read(engine, dialect, table)
        return seen[table]

    def rowid_of(table: str) -> ColumnInfo | None:
        info = infos.get(table)
        return _rowid_alias(info, dialect) if info is not None else None

    def fts_of(table: str) -> t.Mapping[str, str]:
        info = infos.get(table)
        return read_trigram_tables(engine, dialect, info) if info is not None else {}

    lacking = missing(wanted, indexes_of, dialect, rowid_of, fts_of)
    advice = [Advice(table=w.table, kind=w.kind, serves=w.serves, trigram=w.trigram,
                     statement=statement(w, dialect, rowid_of(w.table)))
              for w in lacking if dialect.is_postgresql or not w.trigram]
    if not dialect.is_postgresql:
        advice += _fts_advice([w for w in lacking if w.trigram], rowid_of)
    return advice


def _fts_advice(wanted: t.Sequence[Wanted], rowid_of: t.Callable[[str], ColumnInfo | None]
                ) -> list[Advice]:
    """SQLite: one FTS5 trigram table per table, over all its columns the search lacks one for
    (its triggers keep it in step with the table)."""
    by_table: dict[str, list[ColumnInfo]] = {}
    for want in wanted:
        by_table.setdefault(want.table, []).append(want.keys[0][0])
    advice = []
    for table, columns in by_table.items():
        pk = rowid_of(table)
        if pk is None:
            continue
        names = [c.name for c in columns]
        advice.append(Advice(
            table=table, kind="search", trigram=True,
            serves="the search for part of " + ", ".join(names) + " (an FTS5 trigram table "
                   "and the triggers that keep it in step)",
            statement=fts_script(table, pk.name, names)))
    return advice


def trigram_extension_missing(engine: t.Any, dialect: Dialect) -> bool:
    """Whether pg_trgm still has to be created (its gin_trgm_ops is none of this database's)."""
    if not dialect.is_postgresql:
        return False
    rows = run(engine, Statement(dialect, "SELECT count(*) AS n FROM pg_extension "
                                          "WHERE extname = 'pg_trgm'"))
    return not rows[0]["n"]


# ---------------------------------------------------------------------------------------------
# A search's plan

#: At most this many matches, a contains search finds its keys first (search_matches_few).
FEW_MATCHES = 1000


def search_matches_few(engine: t.Any, dialect: Dialect, spec: ListSpec,
                       params: ListParams) -> bool:
    """Whether a plain (contains) search on PostgreSQL, every column of which a trigram index
    serves, matches at most FEW_MATCHES rows: then its keys are found first (a BitmapOr of
    those indexes, milliseconds) and the page sorted among them. Under "ORDER BY ... LIMIT 50"
    the planner otherwise walks the sort's index testing every row, expecting matches to come
    soon: a term matching nothing read a million orders (530 ms, where the keys took 0.8 ms);
    a term matching thousands of rows is found quickly that way, and keeps it. Decided by a
    probe of at most FEW_MATCHES + 1 keys through those indexes."""
    q = params.q
    if (not dialect.is_postgresql or not q or q[0] in "=^" or not spec.search
            or len(spec.info.primary_key) != 1):
        return False
    for target in spec.search:
        column = target.column if isinstance(target, RelatedColumn) else target
        if column.kind != "text" or column.choices:
            return False  # an arm no trigram index serves: no BitmapOr
        if not _has_trigram(cached_indexes(engine, dialect, column.table), column):
            return False
    if _planner_expects_many(engine, dialect, spec, params):
        return False
    stmt = Statement(dialect)
    condition = search_condition(stmt, spec, q, wrap=False)
    stmt.sql(f"SELECT 1 AS found FROM {spec.info.table_sql} WHERE {condition} "
             f"LIMIT {FEW_MATCHES + 1}")
    return len(run(engine, stmt)) <= FEW_MATCHES


#: A search the planner expects in at least this share of the rows is walked in the list's
#: order without a probe: 2% is two of the hundred histogram bounds PostgreSQL samples a column
#: with (one may be chance), and the walk then reads ~50 rows per row shown.
MANY_SHARE = 0.02


def _planner_expects_many(engine: t.Any, dialect: Dialect, spec: ListSpec,
                          params: ListParams) -> bool:
    """Whether the planner's estimate of the list's matches (a plan, no rows read: a fraction
    of a millisecond) says they are common, so that the probe (the GIN bitmap of every match:
    3 ms for 14,000 tickets) can be skipped. Only for a search of the table's own columns: an
    arm through a relation is estimated at a default half of the rows."""
    if any(isinstance(target, RelatedColumn) for target in spec.search):
        return False
    total = table_estimate(engine, dialect, spec.info)
    expected = planner_estimate(engine, dialect, spec, params) if total else None
    return expected is not None and expected >= max(MANY_SHARE * total, FEW_MATCHES * 10)
