"""INSERT, UPDATE and DELETE of one model's rows, each in the caller's transaction, and the
translation of the database's refusals (integrity errors, and values its types or rules do not
accept) into messages on form fields (never the raw text)."""

from __future__ import annotations

import re
import typing as t
from dataclasses import dataclass

from .i18n import _, lazy_gettext as _l
from .introspect import ColumnInfo, ModelInfo, quote_identifier
from .query import pk_condition
from .sql import Dialect, Statement, to_db


@dataclass
class IntegrityProblem(Exception):
    """A write the database refused: ``field`` is the attribute to show it on (or None)."""

    #: "unique", "foreign_key" (conflicts with other rows), "other" (a rule of a trigger):
    #: 409; "not_null", "check", "invalid" (a value the column's type refuses), "partition"
    #: (no partition holds the row): the input's own fault, 422.
    kind: str
    field: str | None
    message: str

    def __str__(self) -> str:
        return self.message

    @property
    def status(self) -> int:
        """The HTTP status a form answers it with."""
        return 409 if self.kind in ("unique", "foreign_key", "other") else 422


def insert(tx, dialect: Dialect, info: ModelInfo, values: dict[str, t.Any]) -> tuple:
    """Insert a row from ``values`` (attribute -> value); return its primary key. A NOT NULL
    column the database fills (a DEFAULT, an identity) given no value is left out, so that
    the database fills it rather than refuse a NULL."""
    values = {a: v for a, v in values.items()
              if v is not None or not (info.by_attribute[a].database_not_null
                                       and info.by_attribute[a].filled_by_database)}
    stmt = Statement(dialect)
    columns = [info.by_attribute[a] for a in values]
    returning = ", ".join(quote_identifier(c.name) for c in info.primary_key)
    if columns:
        names = ", ".join(quote_identifier(c.name) for c in columns)
        placeholders = ", ".join(stmt.param(to_db(c, values[c.attribute], dialect)) for c in columns)
        stmt.sql(f"INSERT INTO {info.table_sql} ({names}) VALUES ({placeholders}) RETURNING {returning}")
    else:
        stmt.sql(f"INSERT INTO {info.table_sql} DEFAULT VALUES RETURNING {returning}")
    row = _execute(tx, stmt, info, fetch=True, values=values)
    return tuple(row[c.name] for c in info.primary_key)


def update(tx, dialect: Dialect, info: ModelInfo, pk: tuple, values: dict[str, t.Any], *,
           scope: t.Any = None, expected: dict[str, t.Any] | None = None) -> int:
    """Update the row ``pk`` (within ``scope``); with ``expected`` (column name -> value read
    when the form opened) the update applies only if the row still holds those values.
    Returns the number of rows changed (0: gone, out of scope, or changed meanwhile)."""
    if not values:
        return 1
    stmt = Statement(dialect)
    sets = ", ".join(
        f"{quote_identifier(info.by_attribute[a].name)} = "
        f"{stmt.param(to_db(info.by_attribute[a], v, dialect))}"
        for a, v in values.items()
    )
    stmt.sql(f"UPDATE {info.table_sql} SET {sets} WHERE")
    conditions = [pk_condition(stmt, info, [pk])]
    if scope is not None:
        conditions.append(stmt.external(scope))
    for name, value in (expected or {}).items():
        column = info.by_name[name]
        if value is None:
            conditions.append(f"{column.sql} IS NULL")
        else:
            conditions.append(f"{column.sql} = {stmt.param(to_db(column, value, dialect))}")
    stmt.sql(" AND ".join(conditions))
    return _execute(tx, stmt, info, values=values)


def delete(tx, dialect: Dialect, info: ModelInfo, pks: list[tuple], *, scope: t.Any = None) -> int:
    if not pks:
        return 0
    stmt = Statement(dialect)
    stmt.sql(f"DELETE FROM {info.table_sql} WHERE")
    conditions = [pk_condition(stmt, info, pks)]
    if scope is not None:
        conditions.append(stmt.external(scope))
    stmt.sql(" AND ".join(conditions))
    return _execute(tx, stmt, info)


def _execute(tx, stmt: Statement, info: ModelInfo, *, fetch: bool = False,
             values: t.Mapping[str, t.Any] | None = None):
    try:
        cursor = tx.cursor(stmt.compiled())
    except Exception as exc:  # noqa: BLE001 - translated when it is an integrity error
        problem = integrity_problem(exc, info, values)
        if problem is None:
            raise
        raise problem from exc
    try:
        if fetch:
            return cursor.fetchone()
        return cursor.rowcount
    finally:
        cursor.close()


_SQLITE_COLUMNS = re.compile(r"constraint failed: (.+)$", re.I)
_WORDS = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
CHECK_MESSAGE = _l("A value breaks a rule of the database.")


def _only_column(expression: str, info: ModelInfo) -> str | None:
    """The field of a check whose expression (SQLite gives it) names exactly one column."""
    named = {word for word in _WORDS.findall(expression) if word in info.by_name}
    return _attribute(info, named.pop()) if len(named) == 1 else None
_PG_KEY = re.compile(r"Key \(([^)]+)\)")


def integrity_problem(exc: Exception, info: ModelInfo,
                      values: t.Mapping[str, t.Any] | None = None) -> IntegrityProblem | None:
    """An IntegrityProblem for what either driver says the database refused: a unique,
    foreign-key, not-null or check violation, a value its column's type does not take (text
    that is no number, a number out of range, text too long, no such enum label, an invalid
    date), no partition for the row; None for any other error. ``values`` (attribute -> value
    written) find the field when the database does not name its column. The message is ours,
    never the database's."""
    module = type(exc).__module__
    if module.startswith("sqlite3") and type(exc).__name__ == "IntegrityError":
        return _sqlite_problem(str(exc), info, values or {})
    if module.startswith("psycopg"):
        return _postgresql_problem(exc, info, values or {})
    return None


_SQLITE_STORE = re.compile(r"cannot store \w+ value in \w+ column [^.\s]+\.(\S+)", re.I)


def _sqlite_problem(text: str, info: ModelInfo, values: t.Mapping[str, t.Any]) -> IntegrityProblem:
    lowered = text.lower()
    if "unique" in lowered:
        return IntegrityProblem("unique", _sqlite_field(text, info),
                                _("This value is already used by another row."))
    if "foreign key" in lowered:
        return IntegrityProblem("foreign_key", None, _(
            "A referenced row does not exist, or other rows still refer to this one."))
    if "not null" in lowered:
        return IntegrityProblem("not_null", _sqlite_field(text, info), _("This field is required."))
    if "check" in lowered:
        match = _SQLITE_COLUMNS.search(text)
        field = _only_column(match.group(1) if match else "", info)
        return IntegrityProblem("check", field, str(CHECK_MESSAGE))
    stored = _SQLITE_STORE.search(text)
    if stored or "datatype mismatch" in lowered:
        # A STRICT table's column refused a value of another type (or a rowid a non-integer).
        field = _attribute(info, stored.group(1)) if stored else _rowid_field(info, values)
        return IntegrityProblem("invalid", field, _("The database does not accept this value."))
    return IntegrityProblem("other", None, _("The database refused this change."))


def _rowid_field(info: ModelInfo, values: t.Mapping[str, t.Any]) -> str | None:
    key = info.primary_key
    return key[0].attribute if len(key) == 1 and key[0].attribute in values else None


#: PostgreSQL's data exceptions (SQLSTATE class 22) and what the user is told.
_PG_DATA_MESSAGES: dict[str, t.Any] = {
    "22001": _l("This text is too long for the column."),
    "22003": _l("This number is out of the column's range."),
    "22007": _l("Enter a valid date and time."),
    "22008": _l("This date, time or duration is out of range."),
}
_PARTITION = re.compile(r"no partition of relation|violates partition constraint", re.I)
_PARTITION_KEY = re.compile(r"Partition key of the failing row contains \(([^)]*)\)")
_QUOTED_VALUE = re.compile(r': "(.*)"\s*$', re.S)
_TYPE_NAMED = re.compile(r'for (?:type|enum) "?([\w ]+(?:\(\d+(?:,\d+)?\))?)"?', re.I)
_NUMERIC_DETAIL = re.compile(r"precision (\d+), scale (\d+)")
_OUT_OF_RANGE = re.compile(r"^(\w+) out of range")  # "smallint out of range"


def _postgresql_problem(exc: Exception, info: ModelInfo,
                        values: t.Mapping[str, t.Any]) -> IntegrityProblem | None:
    sqlstate = getattr(exc, "sqlstate", None) or ""
    diag = getattr(exc, "diag", None)
    detail = getattr(diag, "message_detail", None) or ""
    if sqlstate == "23505":
        return IntegrityProblem("unique", _pg_field(detail, info),
                                _("This value is already used by another row."))
    if sqlstate == "23503":
        field = _pg_field(detail, info)
        if "still referenced" in detail:
            return IntegrityProblem("foreign_key", None, _("Other rows still refer to this one."))
        return IntegrityProblem("foreign_key", field, _("The referenced row does not exist."))
    if sqlstate == "23502":
        column = getattr(diag, "column_name", None)
        return IntegrityProblem("not_null", _attribute(info, column), _("This field is required."))
    if sqlstate == "23514":
        return _pg_check_problem(exc, info, values)
    if sqlstate.startswith("22"):
        return _pg_data_problem(exc, info, values)
    if sqlstate.startswith("23") or sqlstate == "P0001":
        # P0001: RAISE EXCEPTION from a trigger or function, a rule the database enforces
        # itself (SQLite's RAISE(ABORT) in a trigger arrives as an IntegrityError, above).
        return IntegrityProblem("other", None, _("The database refused this change."))
    return None


def _pg_check_problem(exc: Exception, info: ModelInfo,
                      values: t.Mapping[str, t.Any]) -> IntegrityProblem:
    diag = getattr(exc, "diag", None)
    primary = getattr(diag, "message_primary", None) or str(exc)
    if _PARTITION.search(primary):
        key = _PARTITION_KEY.search(getattr(diag, "message_detail", None) or "")
        names = [n.strip() for n in key.group(1).split(",")] if key else list(info.partition_key)
        field = next((f for f in (_attribute(info, n) for n in names) if f), None)
        return IntegrityProblem("partition", field,
                                _("No partition of the table holds this value."))
    domain = getattr(diag, "datatype_name", None)
    if domain:
        # A domain's CHECK (``year``): the written column of that domain.
        field = _only_written(info, values, lambda c: c.database_type is not None
                              and c.database_type.domain == domain)
        return IntegrityProblem("check", field, str(CHECK_MESSAGE))
    # PostgreSQL names an unnamed column check <table>_<column>_check.
    constraint = getattr(diag, "constraint_name", None) or ""
    name = constraint.removeprefix(info.table.split(".")[-1] + "_").removesuffix("_check")
    return IntegrityProblem("check", _attribute(info, name), str(CHECK_MESSAGE))


def _pg_data_problem(exc: Exception, info: ModelInfo,
                     values: t.Mapping[str, t.Any]) -> IntegrityProblem:
    """A value the column's type refuses (SQLSTATE class 22): on the column the database
    names, else the written column holding the value it quotes, else the only written
    column of the type it names."""
    diag = getattr(exc, "diag", None)
    primary = getattr(diag, "message_primary", None) or str(exc)
    sqlstate = getattr(exc, "sqlstate", "")
    field = _attribute(info, getattr(diag, "column_name", None))
    quoted = _QUOTED_VALUE.search(primary)
    if field is None and quoted:
        field = _only_written(info, values, lambda c: _as_text(values[c.attribute]) == quoted.group(1))
    named = _TYPE_NAMED.search(primary) or _OUT_OF_RANGE.search(primary)
    if field is None and named:
        type_name = named.group(1).strip().lower()
        field = _only_written(info, values, lambda c: type_name in _type_names(c))
    precision = _NUMERIC_DETAIL.search(getattr(diag, "message_detail", None) or "")
    if field is None and precision:
        declared = f"numeric({precision.group(1)},{precision.group(2)})"
        field = _only_written(info, values, lambda c: declared in _type_names(c))
    if "enum" in primary:
        message = _("Choose one of the allowed values.")
    else:
        message = str(_PG_DATA_MESSAGES.get(sqlstate) or _("The database does not accept this value."))
    return IntegrityProblem("invalid", field, message)


def _only_written(info: ModelInfo, values: t.Mapping[str, t.Any],
                  test: t.Callable[[ColumnInfo], bool]) -> str | None:
    """The attribute of the one written column passing ``test`` (None: none, or several)."""
    found = [a for a in values if (c := info.by_attribute.get(a)) is not None and test(c)]
    return found[0] if len(found) == 1 else None


def _as_text(value: t.Any) -> str:
    if isinstance(value, (list, tuple)):
        return str(value)
    return "" if value is None else str(getattr(value, "value", value))


def _type_names(column: ColumnInfo) -> set[str]:
    found = column.database_type
    names = {(column.sql_type or "").lower()}
    if found is not None:
        names |= {found.declared.lower(), found.base.lower(), (found.domain or "").lower()}
    return {re.sub(r",\s+", ",", n) for n in names if n}


def _attribute(info: ModelInfo, column_name: str | None) -> str | None:
    if not column_name:
        return None
    column: ColumnInfo | None = info.by_name.get(column_name.strip().strip('"'))
    return column.attribute if column is not None else None


def _sqlite_field(text: str, info: ModelInfo) -> str | None:
    match = _SQLITE_COLUMNS.search(text)
    if not match:
        return None
    first = match.group(1).split(",")[0].strip()
    return _attribute(info, first.split(".")[-1])


def _pg_field(detail: str, info: ModelInfo) -> str | None:
    match = _PG_KEY.search(detail)
    if not match:
        return None
    return _attribute(info, match.group(1).split(",")[0])
