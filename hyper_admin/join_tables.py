"""The SQL of many-to-many fields: a join table's rows, read for a page of rows in one
statement, written (inserted and deleted) in the caller's transaction, and the semi-join a
list filter needs.

sqlorm has no many-to-many: a join table is a model of its own whose rows pair a key of each
side (``ticket_tags(ticket_id, tag_id)``). :class:`JoinTable` names the join table's two
columns, both taken from its introspected :class:`~hyper_admin.introspect.ModelInfo`, never
from text; values only ever go as parameters. A data layer module: no Flask, no user.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass

from .introspect import ColumnInfo, ModelInfo, model_info
from .query import RelatedColumn
from .sql import Dialect, Statement, run, to_db

#: Keys read or written per statement (IN lists stay short: SQLORM_NOTES.md).
BATCH = 500


@dataclass(frozen=True, eq=False)
class JoinTable:
    """A join table: ``source`` holds the key of the model the field is on, ``target`` the
    key of the model it picks."""

    info: ModelInfo
    source: ColumnInfo
    target: ColumnInfo

    @property
    def table_sql(self) -> str:
        return self.info.table_sql


def two_key_tables(infos: t.Iterable[ModelInfo]) -> list[JoinTable]:
    """The tables among ``infos`` whose primary key is exactly two foreign keys to models
    with a single-column key (each read both ways: a JoinTable per side)."""
    found = []
    for info in infos:
        key = info.primary_key
        if len(key) != 2 or not all(c.target_model is not None for c in key):
            continue
        if any(len(model_info(c.target_model).primary_key) != 1 for c in key):
            continue
        first, second = key
        found += [JoinTable(info, first, second), JoinTable(info, second, first)]
    return found


def target_keys(engine, dialect: Dialect, join: JoinTable, source_keys: t.Sequence[t.Any]
                ) -> dict[t.Any, list[t.Any]]:
    """The target keys each of ``source_keys`` is joined to, sorted: one statement per
    :data:`BATCH` keys (a page of rows is one statement)."""
    out: dict[t.Any, list[t.Any]] = {}
    keys = list(dict.fromkeys(k for k in source_keys if k is not None))
    source, target = join.source, join.target
    for start in range(0, len(keys), BATCH):
        stmt = Statement(dialect)
        values = [to_db(source, k, dialect) for k in keys[start:start + BATCH]]
        stmt.sql(f"SELECT {source.sql} AS s, {target.sql} AS t FROM {join.table_sql} "
                 f"WHERE {source.sql} IN {stmt.params_list(values)} ORDER BY {target.sql}")
        for row in run(engine, stmt):
            out.setdefault(source.coerce(row["s"]), []).append(target.coerce(row["t"]))
    return out


def write_keys(tx, dialect: Dialect, join: JoinTable, source_key: t.Any, *,
               add: t.Iterable[t.Any] = (), remove: t.Iterable[t.Any] = ()) -> None:
    """Insert the rows joining ``source_key`` to ``add`` and delete those joining it to
    ``remove``, with ``tx`` (the change's own transaction)."""
    source, target = join.source, join.target
    removed = sorted(remove, key=str)
    for start in range(0, len(removed), BATCH):
        stmt = Statement(dialect)
        keys = [to_db(target, k, dialect) for k in removed[start:start + BATCH]]
        stmt.sql(f"DELETE FROM {join.table_sql} WHERE {source.sql} = "
                 f"{stmt.param(to_db(source, source_key, dialect))} "
                 f"AND {target.sql} IN {stmt.params_list(keys)}")
        tx.cursor(stmt.compiled()).close()
    names = f"({_name(source)}, {_name(target)})"
    for key in sorted(add, key=str):
        stmt = Statement(dialect)
        stmt.sql(f"INSERT INTO {join.table_sql} {names} VALUES "
                 + stmt.params_list([to_db(source, source_key, dialect), to_db(target, key, dialect)]))
        tx.cursor(stmt.compiled()).close()


def lock_row(engine, dialect: Dialect, info: ModelInfo, pk: tuple) -> None:
    """On PostgreSQL, lock the row whose join rows a save reads and writes, until its
    transaction ends: two saves of the same row's field run one after the other, so the
    second sees the first's join rows (and conflicts) instead of both reading the old ones.
    SQLite lets one writer in at a time already."""
    if not dialect.is_postgresql:
        return
    stmt = Statement(dialect)
    stmt.sql(f"SELECT 1 FROM {info.table_sql} WHERE " + " AND ".join(
        f"{c.sql} = {stmt.param(to_db(c, v, dialect))}" for c, v in zip(info.primary_key, pk))
        + " FOR UPDATE")
    run(engine, stmt)


def _name(column: ColumnInfo) -> str:
    # An INSERT's column list takes bare names.
    return column.sql.rpartition(".")[2]


@dataclass(eq=False, init=False)
class JoinedColumn(RelatedColumn):
    """A many-to-many field as the list's filters use it (``tags=3``, ``tags__in=3,7``,
    ``tags__isnull=true``): the join table's target column, tested within a semi-join on the
    list's own key, so that the list, its count and its facets need no join."""

    join_table: JoinTable | None = None

    def __init__(self, name: str, owner_key: ColumnInfo, join: JoinTable, label: str):
        super().__init__(name, owner_key, join.target, join.info)
        self.join_table = join
        self.attribute = name
        self.nullable = True
        self._label = label

    @property
    def label(self) -> str:
        return self._label

    @property
    def sql(self) -> str:
        return self.column.sql

    def within(self, dialect: Dialect, test: str) -> str:
        join = t.cast(JoinTable, self.join_table)
        return (f"{self.via.sql} IN (SELECT {join.source.sql} FROM {join.table_sql} "
                f"WHERE {test})")

    def reached(self, table_sql: str, conditions: t.Sequence[str]) -> str:
        join = t.cast(JoinTable, self.join_table)
        keys = f"SELECT {self.via.sql} FROM {table_sql}"
        if conditions:
            keys += " WHERE " + " AND ".join(conditions)
        return f"{join.source.sql} IN ({keys})"

    def is_null(self, dialect: Dialect, empty: bool) -> str:
        found = self.within(dialect, f"{self.column.sql} IS NOT NULL")
        return f"NOT ({found})" if empty else found
