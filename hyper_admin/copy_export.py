"""CSV exports that PostgreSQL writes itself: ``COPY (SELECT ...) TO STDOUT (FORMAT csv)``.

The admin's CSV export formats each cell in Python (views/bulk.py): a million rows cost
Python's per-row work, twenty times COPY's. When every exported cell has a SQL form that
writes the very text Python writes (:func:`cell_sql`), PostgreSQL renders the rows and the
admin only passes them on; a foreign key's label, which may be a ``ModelAdmin.label`` or a
model's ``__str__``, stays Python's: the row carries a token with the target's key in its
place, and each distinct key's label is computed once and put in (:class:`Labels`).

Same bytes as the Python path (tests/test_export_copy.py compares them): cells quoted as
Python's csv module quotes them (PostgreSQL quotes the same characters; an empty text is
written NULL so that it is not quoted), CRLF line ends, formulas neutralised in SQL.

The export reads in windows of :data:`WINDOW` rows, one transaction each, every statement
under the request's time limit as the Python path's batches are: the window's last row is
found first (``OFFSET``), then COPY reads the rows up to and including it, so a row inserted
meanwhile is neither skipped nor repeated. A window is read whole before it is sent: the
database never waits on a slow download.
"""

from __future__ import annotations

import re
import secrets
import typing as t
from dataclasses import dataclass

from .introspect import ColumnInfo, ModelInfo, declared_scale, quote_identifier
from .query import Join, ListParams, ListSpec, window_statement
from .sql import Dialect, Statement, deadline, time_limit

#: Rows per window (one boundary query and one COPY, a transaction).
WINDOW = 50_000
#: Labels kept between windows: beyond it the cache starts again (memory stays bounded).
MAX_LABELS = 200_000
#: A CSV cell starting with one of these is read as a formula by spreadsheets: both export
#: paths prefix it with a quote (views/bulk.py, :func:`neutralised_text`, :func:`neutralised`).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
#: The same as the code points ascii() gives: an integer test costs a third of comparing texts.
_FORMULA_FIRST = "(" + ", ".join(str(ord(c)) for c in FORMULA_PREFIXES) + ")"

_TEXT_BASES = frozenset({"text", "character varying", "citext", "name", "uuid"})
_INT_BASES = frozenset({"smallint", "integer", "bigint"})
_KEY_BASES = _INT_BASES | {"uuid"}


def _base(found: t.Any) -> str:
    """The base type's name without its modifiers (``numeric(12,2)``: ``numeric``)."""
    return re.sub(r"\(.*?\)", "", found.base).strip()


def neutralised_text(text: str) -> str:
    """A text as a CSV export writes it: a formula's first character gets a quote."""
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def neutralised(text_sql: str) -> str:
    """A text as the Python export writes it: a formula's first character gets a quote, and
    an empty text is NULL (written empty, as Python writes it, where COPY would quote it)."""
    return (f"NULLIF(CASE WHEN ascii({text_sql}) IN {_FORMULA_FIRST} "
            f"THEN '''' || {text_sql} ELSE {text_sql} END, '')")


def _timestamp(ref: str, zone: bool) -> str:
    """``datetime.isoformat()``: a T, microseconds only when there are some (all six digits),
    ``+HH:MM``. Without a zone, the ISO text (DateStyle ISO, set by the COPY) with its
    fraction padded: half the cost of to_char."""
    if zone:
        return f"replace(to_char({ref}, 'YYYY-MM-DD\"T\"HH24:MI:SS.USTZH:TZM'), '.000000', '')"
    text = f"replace({ref}::text, ' ', 'T')"
    return f"CASE WHEN length({ref}::text) = 19 THEN {text} ELSE rpad({text}, 26, '0') END"


def cell_sql(column: ColumnInfo, ref: str) -> str | None:
    """SQL writing ``column`` (read as ``ref``) exactly as the Python export's CSV cell, or
    None where Python's text has no exact SQL form (floats, JSON, arrays, ranges, times,
    intervals, bytes, char(n), numerics of unbounded or >6 places; a type the catalog did not
    give)."""
    found = column.database_type
    if found is None or found.array or found.range_of:
        return None
    base, kind = _base(found), column.kind
    if base == "uuid" and kind in ("text", "uuid"):
        return ref  # hexadecimal digits and hyphens: never a formula, never empty
    if kind in ("text", "enum") and (base in _TEXT_BASES or found.category == "E"):
        return neutralised(f"{ref}::text")
    if kind in ("int", "decimal", "enum") and base in _INT_BASES:
        return ref
    if kind == "decimal" and base == "numeric":
        scale = declared_scale(found.declared)
        # str(Decimal) turns to exponents below 1e-6 (0E-7): PostgreSQL never does.
        return ref if scale is not None and scale <= 6 else None
    if kind == "bool" and base == "boolean":
        return f"CASE WHEN {ref} THEN 'True' WHEN NOT {ref} THEN 'False' END"
    if kind == "date" and base == "date":
        return _finite(ref, f"to_char({ref}, 'YYYY-MM-DD')")
    if kind == "datetime" and base in ("timestamp without time zone", "timestamp with time zone"):
        return _finite(ref, _timestamp(ref, base.endswith("with time zone")))
    return None


def _finite(ref: str, text: str) -> str:
    """``text`` for a finite date or time; ``infinity`` as PostgreSQL writes it (no Python
    date holds it: the Python path cannot read such a row at all)."""
    return f"CASE WHEN isfinite({ref}) THEN {text} ELSE {ref}::text END"


def label_key_sql(target: ModelInfo, alias: str) -> str | None:
    """The joined target's key as text (a label token carries it); None for a key a token
    cannot carry (composite, or not an integer or a uuid)."""
    if len(target.primary_key) != 1:
        return None
    key = target.primary_key[0]
    found = key.database_type
    if found is None or found.array or _base(found) not in _KEY_BASES:
        return None
    return f"{alias}.{quote_identifier(key.name)}::text"


@dataclass(frozen=True)
class SqlCell:
    """A cell's SQL whose placeholders take ``params``, in order."""

    text: str
    params: tuple[t.Any, ...] = ()


def column_label_sql(target: ModelInfo, alias: str, name: str, placeholder: str) -> SqlCell | None:
    """A joined row's label where no Python is involved (no ModelAdmin.label, no __str__):
    its label column's text, else ``<name> #<key>`` (introspect.default_label), neutralised;
    None when the label column or the key is not text or an integer."""
    key_sql = label_key_sql(target, alias)
    if key_sql is None:
        return None
    column = target.label_column
    fallback = f"{placeholder} || {key_sql}"
    prefix = f"{name} #"
    # The fallback starts with the name: neutralised here, as the whole label would be.
    params = (neutralised_text(prefix),)
    if column is None:
        return SqlCell(f"CASE WHEN {key_sql} IS NOT NULL THEN {fallback} END", params)
    found = column.database_type
    if (found is None or found.array or column.kind not in ("text", "int")
            or _base(found) not in _TEXT_BASES | _INT_BASES):
        return None
    text = f"{alias}.{quote_identifier(column.name)}::text"
    return SqlCell(f"CASE WHEN {key_sql} IS NULL THEN NULL "
                   f"WHEN {text} IS NULL OR {text} = '' THEN {fallback} "
                   f"ELSE {neutralised(text)} END", params)


class Labels:
    """A foreign key's labels in a COPY export: ``resolve(keys)`` gives the label of each key
    (as text of the database, the target's key ``::text``) that is still there."""

    def __init__(self, key_sql: str, resolve: t.Callable[[list[str]], t.Mapping[str, str | None]]):
        self.key_sql = key_sql
        self.resolve = resolve


def csv_field(text: str | None) -> bytes:
    """One cell as Python's csv module writes it (QUOTE_MINIMAL), neutralised."""
    if text is None:
        return b""
    text = neutralised_text(text)
    if any(c in text for c in ',"\r\n'):
        text = '"' + text.replace('"', '""') + '"'
    return text.encode()


class CopyExport:
    """The rows of a list as CSV bytes, one chunk per window. ``cells``: per exported
    field, a SQL expression or :class:`Labels`; ``params.sort`` must be a keyset sort."""

    def __init__(self, engine, dialect: Dialect, spec: ListSpec, params: ListParams,
                 joins: t.Sequence[Join], cells: list[str | SqlCell | Labels], *,
                 window: int | None = None):
        self.engine, self.dialect, self.spec, self.params = engine, dialect, spec, params
        self.joins, self.cells, self.window = list(joins), cells, int(window or WINDOW)
        self.nonce = secrets.token_hex(4)
        self.labels = [c for c in cells if isinstance(c, Labels)]
        # A label's place in a row: the nonce, the field's index, the key (digits, a uuid).
        self.token = re.compile(b"\x01" + self.nonce.encode() + rb"(\d+:[0-9a-f-]+)\x02")
        #: Label cells by token (``b"0:42"``), kept between windows up to MAX_LABELS.
        self.label_cells: dict[bytes, bytes] = {}

    def __iter__(self) -> t.Iterator[bytes]:
        after, limit = None, time_limit.get()
        while True:
            through, chunks = self._window(after, limit)
            if chunks:
                yield self._with_labels(self._crlf(chunks))
            if through is None:
                return
            after = through

    def _window(self, after: list[t.Any] | None, limit: float | None
                ) -> tuple[list[t.Any] | None, list[bytes]]:
        """The window past ``after``: its last row's sort values (None: the last window) and
        its rows, in one transaction."""
        with self.engine as tx, deadline(tx, self.dialect, limit):
            through = self._last_of_window(tx, after)
            return through, self._copy(tx, after, through)

    def _items(self, stmt: Statement) -> list[str]:
        items = []
        for index, cell in enumerate(self.cells):
            if isinstance(cell, Labels):
                token = stmt.param(f"\x01{self.nonce}{self.labels.index(cell)}:")
                items.append(f"{token} || {cell.key_sql} || chr(2)")
            elif isinstance(cell, SqlCell):
                for value in cell.params:
                    stmt.param(value)
                items.append(cell.text)
            else:
                items.append(cell)
            items[-1] += f" AS c{index}"
        return items

    def _last_of_window(self, tx, after: list[t.Any] | None) -> list[t.Any] | None:
        """The sort values of the window's last row; None when the rest fits in one."""
        stmt = Statement(self.dialect)
        items = [f"{column.sql} AS s{i}" for i, (column, _d) in enumerate(self.params.sort)]
        window_statement(stmt, self.spec, self.params, items, self.joins, after=after,
                         offset=self.window - 1)
        cursor = tx.cursor(stmt.compiled())
        try:
            row = cursor.fetchone()
        finally:
            cursor.close()
        return None if row is None else [row[f"s{i}"] for i in range(len(self.params.sort))]

    def _copy(self, tx, after, through) -> list[t.Any]:
        stmt = Statement(self.dialect)
        window_statement(stmt, self.spec, self.params, self._items(stmt), self.joins,
                         after=after, through=through)
        compiled = stmt.compiled()
        conn = tx.session.connect()
        with conn.cursor() as cursor:
            if conn.info.encoding != "utf-8":
                cursor.execute("SET LOCAL client_encoding TO 'UTF8'")
            cursor.execute("SET LOCAL DateStyle TO 'ISO, YMD'")  # _timestamp reads its text
            # Parameters are bound by psycopg on the client (COPY takes none): as literals.
            with cursor.copy(f"COPY ({compiled.stmt}) TO STDOUT (FORMAT csv)",
                             compiled.params) as copy:
                # Each chunk is a row in a buffer psycopg reuses: copied as it is read.
                return list(map(bytes, copy))

    @staticmethod
    def _crlf(chunks: list[t.Any]) -> bytes:
        """The window's rows with CRLF line ends (Python's csv module), each chunk one row:
        at once when no cell holds a line break, else row by row."""
        data = b"".join(chunks)
        if data.count(b"\n") == len(chunks):
            return data.replace(b"\n", b"\r\n")
        return b"".join(chunk[:-1] + b"\r\n" for chunk in chunks)

    def _with_labels(self, data: bytes) -> bytes:
        """The window with each token replaced by its label's cell: ``re.split`` leaves the
        tokens at odd places, replaced and joined in C (a callback per row costs twice)."""
        if not self.labels:
            return data
        parts = self.token.split(data)
        tokens = parts[1::2]
        missing = set(tokens).difference(self.label_cells)
        if len(self.label_cells) + len(missing) > MAX_LABELS:
            present = set(tokens)
            self.label_cells = {k: v for k, v in self.label_cells.items() if k in present}
        by_field: dict[int, list[bytes]] = {}
        for token in missing:
            by_field.setdefault(int(token.split(b":", 1)[0]), []).append(token)
        for index, field_tokens in by_field.items():
            keys = [token.split(b":", 1)[1].decode() for token in field_tokens]
            found = self.labels[index].resolve(keys)
            for token, key in zip(field_tokens, keys):
                self.label_cells[token] = csv_field(found.get(key))
        parts[1::2] = map(self.label_cells.__getitem__, tokens)
        return b"".join(parts)
