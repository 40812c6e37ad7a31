"""The list query: parse the query string (CONTRACT §3), then build and run its SQL.

Nothing here touches Flask's request: views hand in a MultiDict and a :class:`ListSpec`.
A list page costs two SELECTs whatever its size and however many foreign keys it shows: the page
(with the labels of its foreign keys joined in) and a capped count.
"""

from __future__ import annotations

import base64
import copy as _copy
import dataclasses
import datetime
import decimal
import hashlib
import hmac
import json
import time
import typing as t
import weakref
from dataclasses import dataclass, field

from .fields import parse_item
from .fts import MIN_TERM, match_phrase
from .i18n import _
from .introspect import ColumnInfo, Hint, ModelInfo, quote_alias, quote_identifier
from .sql import Dialect, QueryTimeout, Statement, like_pattern, limited, run, to_db

RESERVED = frozenset({"q", "sort", "page", "after", "before", "per_page", "count", "columns", "live",
                      "all"})
#: Above this many rows (PostgreSQL's statistics say), an unfiltered list shows an estimate.
ESTIMATE_ABOVE = 200_000
#: Seconds a count may take before the list settles for an estimate.
COUNT_SECONDS = 1.0
#: Rows a filtered list's count reads at most ("more than 10,000" past it).
COUNT_CAP = 10_000
FILTER_OPS = ("gte", "lte", "in", "isnull", "contains")
MAX_FILTER_VALUES = 1000
MAX_SEARCH_LENGTH = 200
MAX_PAGE = 1_000_000
#: The largest row position a cursor may carry (far beyond any table a list pages through).
MAX_POSITION = 10**15
#: What PostgreSQL's numeric holds: digits before the decimal point, and after it.
NUMERIC_MAX_DIGITS = 131_072
NUMERIC_MAX_SCALE = 16_383


class BadQuery(ValueError):
    """A query string we refuse (400): unknown or disallowed field, malformed value."""


# ---------------------------------------------------------------------------------------------
# What may be used where, for one model and one user


def path_key(path: str) -> str:
    """A relation path as the query string names it: ``order.account.region`` ->
    ``order__account__region`` (``sort=``, and filters as ``<path>`` or ``<path>__<op>``)."""
    return path.replace(".", "__")


@dataclass(eq=False, init=False)
class RelatedColumn(ColumnInfo):
    """``order.account.region``: a column reached through many-to-one ``hops`` (foreign keys,
    the first one the list's own), usable as a column: it takes the column's kind, choices and
    type, and ``attribute`` is its query-string name (``order__account__region``).

    Conditions on it (filters, search) are semi-joins along the path (``within``), so that a
    list's count and filter counts need no join; the page reads its value, or sorts by it,
    through the LEFT JOINs of the path (``joined``: ``sql`` is then ``<alias>.<column>`` and
    ``name`` the row's key ``<alias>__<column>``): one statement whatever the page's size."""

    path: str = ""
    hops: tuple[ColumnInfo, ...] = ()
    models: tuple[ModelInfo, ...] = ()
    source: ColumnInfo | None = None
    join: "Join | None" = None

    def __init__(self, path: str, via: ColumnInfo, column: ColumnInfo, target: ModelInfo, *,
                 hops: t.Sequence[ColumnInfo] = (), models: t.Sequence[ModelInfo] = ()):
        for item in dataclasses.fields(ColumnInfo):
            setattr(self, item.name, getattr(column, item.name))
        self.path, self.source, self.join = path, column, None
        self.hops, self.models = tuple(hops) or (via,), tuple(models) or (target,)
        self.attribute = path_key(path)
        self.primary_key = self.unique = False
        # Empty when the column is, or when a hop leads nowhere.
        self.nullable = column.nullable or any(hop.nullable for hop in self.hops)

    @property
    def via(self) -> ColumnInfo:
        """The first hop: the foreign key of the list's own model."""
        return self.hops[0]

    @property
    def column(self) -> ColumnInfo:
        """The column at the end of the path, as its own model has it."""
        return t.cast(ColumnInfo, self.source)

    @property
    def target(self) -> ModelInfo:
        return self.models[-1]

    @property
    def label(self) -> str:
        words = [self.hops[0].label] + [hop.label.lower() for hop in self.hops[1:]]
        return " ".join([*words, self.column.label.lower()])

    @property
    def sql(self) -> str:
        if self.join is None:
            return self.column.sql
        return f"{self.join.alias}.{quote_identifier(self.column.name)}"

    def joined(self, join: "Join") -> "RelatedColumn":
        """This column read through ``join`` (the last of its path's joins): what a page
        selects and sorts by. A LEFT JOIN's column may be NULL whatever the schema says."""
        copy = _copy.copy(self)
        copy.join, copy.nullable = join, True
        copy.name = f"{join.alias}__{self.column.name}"
        if self.column not in join.columns:
            join.columns.append(self.column)
        return copy

    def within(self, dialect: Dialect, test: str) -> str:
        """``test`` (a condition on the end column's own ``sql``) as a condition on the list's
        rows: a semi-join per hop, innermost first."""
        condition = test
        for hop, model in reversed(list(zip(self.hops, self.models))):
            pk = model.primary_key[0]
            subquery = f"SELECT {pk.sql} FROM {model.table_sql} WHERE {condition}"
            if dialect.is_postgresql:
                # = ANY(ARRAY(...)) runs the subquery once, as an InitPlan whose array is an
                # index condition: OR-ed with an indexed test of the row's own column the
                # planner builds a BitmapOr of two index scans. "IN (SELECT ...)" is a hashed
                # SubPlan no index can use: every row of the table was tested (150 ms at 1M).
                condition = f"{hop.sql} = ANY(ARRAY({subquery}))"
            else:
                condition = f"{hop.sql} IN ({subquery})"
        return condition

    def reached(self, table_sql: str, conditions: t.Sequence[str]) -> str:
        """A condition on the last model's rows: those that rows of ``table_sql`` (the list's
        table) matching ``conditions`` lead to along the path."""
        keys = f"SELECT {self.hops[0].sql} FROM {table_sql}"
        if conditions:
            keys += " WHERE " + " AND ".join(conditions)
        for hop, model in zip(self.hops[1:], self.models):
            keys = f"SELECT {hop.sql} FROM {model.table_sql} WHERE {model.primary_key[0].sql} IN ({keys})"
        return f"{self.target.primary_key[0].sql} IN ({keys})"

    def is_null(self, dialect: Dialect, empty: bool) -> str:
        """Rows whose value along the path is empty (``empty``), or is not: a broken path (a
        NULL key on the way) counts as empty, as a LEFT JOIN would show it."""
        found = self.within(dialect, f"{self.column.sql} IS NOT NULL")
        if not empty:
            return found
        return f"NOT ({self.via.sql} IS NOT NULL AND {found})"


def resolve_path(info: ModelInfo, path: str,
                 first: t.Mapping[str, ColumnInfo] | None = None) -> RelatedColumn | None:
    """``order.account.region`` of ``info``'s model: each name but the last a foreign key
    (by attribute, or its relation's name) of the model the previous one leads to, the last a
    column of the last model; None when it is not (or a hop's target has a composite key,
    or the column is secret). ``first``: the columns the first hop may be taken from (the
    ModelAdmin's visible ones), by attribute."""
    from .introspect import model_info

    names = path.split(".")
    if len(names) < 2 or not all(names):
        return None
    hops, models, current = [], [], info
    for depth, name in enumerate(names[:-1]):
        columns = (first if depth == 0 and first is not None
                   else {c.attribute: c for c in current.columns if not c.secret})
        hop = _foreign_key_named(columns, name)
        if hop is None:
            return None
        current = model_info(hop.target_model)
        if len(current.primary_key) != 1:
            return None
        hops.append(hop)
        models.append(current)
    column = current.column(names[-1])
    if column is None or column.secret:
        return None
    return RelatedColumn(path, hops[0], column, current, hops=hops, models=models)


def _foreign_key_named(columns: t.Mapping[str, ColumnInfo], name: str) -> ColumnInfo | None:
    column = columns.get(name)
    if column is not None and column.target_model is not None:
        return column
    for candidate in columns.values():
        if candidate.relation_attribute == name and candidate.target_model is not None:
            return candidate
    return None


@dataclass(eq=False)
class ListSpec:
    info: ModelInfo
    sortable: dict[str, ColumnInfo]
    filterable: dict[str, ColumnInfo]
    search: list[ColumnInfo | RelatedColumn]
    ordering: list[tuple[ColumnInfo, bool]]  # (column, descending)
    per_page: int
    max_per_page: int
    scope: t.Any = None        # sqlorm SQL condition or None
    base: t.Any = None         # ModelAdmin.base_query condition or None
    cursor_key: bytes = b""    # HMAC key of cursors (per app secret and model)
    #: SQLite: the FTS5 trigram tables that serve the search of a column (fts.py), by name.
    fts: dict[str, str] = field(default_factory=dict)


@dataclass
class Filter:
    column: ColumnInfo
    op: str          # "eq", "gte", "lte", "in", "isnull", "contains"
    values: list[t.Any]
    raw: list[str]
    key: str


@dataclass
class ListParams:
    q: str = ""
    sort: list[tuple[ColumnInfo, bool]] = field(default_factory=list)
    sort_given: bool = False
    filters: list[Filter] = field(default_factory=list)
    page: int = 1
    after: list[t.Any] | None = None
    before: list[t.Any] | None = None
    #: Where the ``after``/``before`` cursor's row stands in the list (0: the first row), when
    #: the cursor says: the page then knows which rows it shows ("51–100").
    cursor_position: int | None = None
    per_page: int = 50
    exact_count: bool = False
    #: ``all=1``: every row of the list on one page, when it holds few enough (the list's
    #: view checks ModelAdmin.list_max_show_all; select_all reads them).
    show_all: bool = False
    #: PostgreSQL: the search matches few rows (index_advisor.search_matches_few): find their
    #: keys first by the search's indexes, then the page among them.
    keys_first: bool = False


# ---------------------------------------------------------------------------------------------
# Parsing


def parse_value(column: ColumnInfo, raw: str) -> t.Any:
    """A query-string value as the column's type, or BadQuery."""
    text = raw.strip()
    kind = column.kind
    try:
        if kind == "int":
            value = int(text)
            if not -2**63 <= value < 2**63:
                raise ValueError  # no database column holds it (SQLite raised OverflowError)
            return value
        if kind == "float":
            value = float(text)
            if value != value or value in (float("inf"), float("-inf")):
                raise ValueError
            return value
        if kind == "decimal":
            value = decimal.Decimal(text)
            if (not value.is_finite() or value.adjusted() >= NUMERIC_MAX_DIGITS
                    or value.as_tuple().exponent < -NUMERIC_MAX_SCALE):
                raise ValueError  # PostgreSQL's numeric cannot hold it (an error there: a 500)
            return value
        if kind == "bool":
            lowered = text.lower()
            if lowered in ("1", "true", "yes", "on", "t"):
                return True
            if lowered in ("0", "false", "no", "off", "f"):
                return False
            raise ValueError
        if kind == "datetime":
            return datetime.datetime.fromisoformat(text)
        if kind == "date":
            return datetime.date.fromisoformat(text)
        if kind == "time":
            return datetime.time.fromisoformat(text)
        if kind == "enum" and column.enum is not None:
            for member in column.enum:
                if str(member.value) == text:
                    return member.value
            raise ValueError
        if kind in ("array", "range"):
            # An item of the array (filters ask which arrays hold it), a value in the range.
            return parse_value(column.item_column(), raw)
        if kind in ("uuid", "network", "interval", "money"):
            parse_item(column, text)  # what the database would refuse (a 500), refused here
    except (ValueError, ArithmeticError, TypeError):
        raise BadQuery(_("%(value)s is not a valid value for %(field)s",
                         value=repr(raw), field=column.attribute)) from None
    if column.choices and kind != "bool":
        allowed = {str(value) for value, _ in column.choices}
        if text not in allowed:
            raise BadQuery(_("%(value)s is not one of the choices of %(field)s",
                             value=repr(raw), field=column.attribute))
    if "\x00" in text:
        raise BadQuery(_("NUL bytes are not allowed"))
    return text


def _positive_int(raw: str, name: str, *, minimum: int = 1) -> int:
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise BadQuery(_("%(name)s must be a number", name=name)) from None
    if value < minimum:
        raise BadQuery(_("%(name)s must be at least %(minimum)s", name=name, minimum=minimum))
    return value


#: Fields ``sort=`` may name.
MAX_SORT_FIELDS = 5


def parse_sort(raw: str, sortable: t.Mapping[str, ColumnInfo]) -> list[tuple[ColumnInfo, bool]]:
    """``a,-b`` as (column, descending) pairs, each name looked up in ``sortable``."""
    sort: list[tuple[ColumnInfo, bool]] = []
    seen = set()
    for part in raw.split(","):
        part = part.strip()
        if not part:
            continue
        descending = part.startswith("-")
        name = part.lstrip("-+")
        column = sortable.get(name)
        if column is None:
            raise BadQuery(_("cannot sort by %(name)s", name=repr(name)))
        if name in seen:
            continue
        seen.add(name)
        sort.append((column, descending))
    if len(sort) > MAX_SORT_FIELDS:
        raise BadQuery(_("sort by at most %(count)s fields", count=MAX_SORT_FIELDS))
    return sort


def parse_list_params(args: t.Any, spec: ListSpec) -> ListParams:
    """``args`` is a werkzeug MultiDict (request.args)."""
    params = ListParams(per_page=spec.per_page)
    q = args.get("q", "")
    if len(q) > MAX_SEARCH_LENGTH:
        raise BadQuery(_("search is limited to %(count)s characters", count=MAX_SEARCH_LENGTH))
    if "\x00" in q:
        raise BadQuery(_("NUL bytes are not allowed"))
    params.q = q.strip()
    if "count" in args:
        if args["count"] != "exact":
            raise BadQuery(_("count takes the value exact"))
        params.exact_count = True
    if "all" in args:
        if args["all"] != "1":
            raise BadQuery(_("all takes the value 1"))
        params.show_all = True
    if "per_page" in args:
        params.per_page = min(_positive_int(args["per_page"], "per_page"), spec.max_per_page)
    if "page" in args:
        params.page = _positive_int(args["page"], "page")
        if params.page > MAX_PAGE:
            raise BadQuery(_("page is too large"))
    if args.get("sort"):
        params.sort = parse_sort(args["sort"], spec.sortable)
        params.sort_given = True
    else:
        params.sort = list(spec.ordering)
    params.sort = with_tiebreaker(params.sort, spec.info)

    if "after" in args and "before" in args:
        raise BadQuery(_("after and before exclude each other"))
    for name in ("after", "before"):
        if name in args:
            if "page" in args:
                raise BadQuery(_("page and %(name)s exclude each other", name=name))
            values, params.cursor_position = decode_cursor_position(args[name], spec, params.sort)
            setattr(params, name, values)

    for key in args.keys():
        if key in RESERVED:
            continue
        values = [v for v in args.getlist(key) if v.strip() != ""]
        if not values:
            # An empty input of a GET form (a date left blank) means "no filter", but the
            # field must still be one the user may filter by.
            _filterable_column(key, spec)
            continue
        params.filters.append(_parse_filter(key, values, spec))
    return params


def _filterable_column(key: str, spec: ListSpec) -> tuple[ColumnInfo, str]:
    """``<field>`` or ``<field>__<op>``, where a field may be a relation path
    (``order__account__region__in``)."""
    name, op = key, ""
    head, _unused, last = key.rpartition("__")
    if head and last in FILTER_OPS:
        name, op = head, last
    elif head and name not in spec.filterable:
        raise BadQuery(_("unknown filter operator %(operator)s", operator=repr(last))
                       if head in spec.filterable or "__" not in head
                       else _("cannot filter by %(name)s", name=repr(name)))
    column = spec.filterable.get(name)
    if column is None:
        raise BadQuery(_("cannot filter by %(name)s", name=repr(name)))
    return column, op or "eq"


def _parse_filter(key: str, raw_values: list[str], spec: ListSpec) -> Filter:
    column, op = _filterable_column(key, spec)
    name = column.attribute
    if len(raw_values) > MAX_FILTER_VALUES:
        raise BadQuery(_("at most %(count)s values per filter", count=MAX_FILTER_VALUES))
    if getattr(column, "is_custom_filter", False):
        return _custom_filter(column, op, raw_values, key)
    if op == "isnull":
        if len(raw_values) != 1:
            raise BadQuery(_("%(name)s takes one value", name=key))
        flag = parse_value(_BOOL_COLUMN, raw_values[0])
        return Filter(column, op, [flag], raw_values, key)
    if column.kind in _UNFILTERED_KINDS or (op in ("gte", "lte") and column.kind in _UNORDERED_KINDS):
        # Only whether they are empty: JSON, bytes and tsvectors have no value to type, and
        # arrays and ranges no order.
        raise BadQuery(_("cannot filter by %(name)s", name=repr(key)))
    if op == "in":
        parts = [p for raw in raw_values for p in raw.split(",") if p.strip() != ""]
        if len(parts) > MAX_FILTER_VALUES:
            raise BadQuery(_("at most %(count)s values per filter", count=MAX_FILTER_VALUES))
        if not parts:
            raise BadQuery(_("%(name)s needs at least one value", name=key))
        return Filter(column, op, [parse_value(column, p) for p in parts], raw_values, key)
    if op == "contains":
        if column.kind not in _CONTAINS_KINDS:
            raise BadQuery(_("%(name)s is not text", name=name))
        if len(raw_values) != 1 or len(raw_values[0]) > MAX_SEARCH_LENGTH:
            raise BadQuery(_("%(name)s takes one value of at most %(count)s characters",
                             name=key, count=MAX_SEARCH_LENGTH))
        if column.kind in ("array", "range"):
            return Filter(column, op, [parse_value(column, raw_values[0])], raw_values, key)
        return Filter(column, op, [raw_values[0]], raw_values, key)
    if op in ("gte", "lte") and len(raw_values) != 1:
        raise BadQuery(_("%(name)s takes one value", name=key))
    values = [parse_value(column, raw) for raw in raw_values if raw.strip() != ""]
    if not values:
        raise BadQuery(_("%(name)s needs a value", name=key))
    return Filter(column, op, values, raw_values, key)


def _custom_filter(column: ColumnInfo, op: str, raw_values: list[str], key: str) -> Filter:
    """A custom filter (list_filters.py) takes its own choices only, no operator: the value
    selects a condition, and is never part of the SQL."""
    if op != "eq":
        raise BadQuery(_("cannot filter by %(name)s", name=repr(key)))
    allowed = {value for value, _label in column.choices or ()}
    values = [raw.strip() for raw in raw_values]
    for value, raw in zip(values, raw_values):
        if value not in allowed:  # none offered to this user: nothing is allowed
            raise BadQuery(_("%(value)s is not one of the choices of %(field)s",
                             value=repr(raw), field=key))
    return Filter(column, op, values, raw_values, key)


#: Kinds filtered by emptiness only; kinds with no order; kinds ``__contains`` applies to
#: (text by its characters, an array by its items, a range by its values, the rest by text).
_UNFILTERED_KINDS = frozenset({"json", "bytes", "tsvector"})
_UNORDERED_KINDS = frozenset({"array", "range"})
_CONTAINS_KINDS = frozenset({"text", "array", "range", "uuid", "network", "interval", "money"})


_BOOL_COLUMN = ColumnInfo(
    name="_", attribute="isnull", kind="bool", python_type=bool, sql_type=None, nullable=False,
    primary_key=False, unique=False, lazy=False, default=None, max_length=None, enum=None,
    choices=None, references=None, target_model=None, relation_attribute=None, secret=False,
    hint=Hint(), table="_",
)


def with_tiebreaker(sort: list[tuple[ColumnInfo, bool]], info: ModelInfo) -> list[tuple[ColumnInfo, bool]]:
    """Append the primary key so that the order is total and pages are stable."""
    names = {c.name for c, _ in sort}
    descending = sort[-1][1] if sort else True
    extra = [(c, descending) for c in info.primary_key if c.name not in names]
    # A unique non-null sort column already makes the order total.
    if any(c.unique and not c.nullable for c, _ in sort):
        return list(sort)
    return list(sort) + extra


def keyset_possible(sort: list[tuple[ColumnInfo, bool]]) -> bool:
    """Keyset pagination compares sort values; NULLs do not compare, so every sort column must
    be NOT NULL (SQLite and PostgreSQL also disagree on where NULLs sort)."""
    return bool(sort) and all(not c.nullable for c, _ in sort)


# ---------------------------------------------------------------------------------------------
# Cursors: the sort values of a row, signed so that only cursors we issued are accepted


def _json_default(value: t.Any) -> t.Any:
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def _signature(key: bytes, body: bytes, sort: list[tuple[ColumnInfo, bool]]) -> str:
    shape = ",".join(("-" if d else "") + c.name for c, d in sort).encode()
    digest = hmac.new(key, shape + b"|" + body, hashlib.sha256).digest()[:12]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def encode_cursor(values: list[t.Any], spec: ListSpec, sort: list[tuple[ColumnInfo, bool]],
                  position: int | None = None) -> str:
    """``values``: the row's sort values. ``position``: where the row stands in the list (0 for
    the first), signed with them, so that the next page says which rows it shows."""
    payload = list(values) if position is None else [*values, int(position)]
    body = json.dumps(payload, default=_json_default, separators=(",", ":")).encode()
    text = base64.urlsafe_b64encode(body).decode().rstrip("=")
    return f"{text}.{_signature(spec.cursor_key, body, sort)}"


def decode_cursor(raw: str, spec: ListSpec, sort: list[tuple[ColumnInfo, bool]]) -> list[t.Any]:
    """The sort values a cursor carries (see decode_cursor_position)."""
    return decode_cursor_position(raw, spec, sort)[0]


def decode_cursor_position(raw: str, spec: ListSpec, sort: list[tuple[ColumnInfo, bool]]
                           ) -> tuple[list[t.Any], int | None]:
    """The sort values a cursor carries and its row's position in the list (None: a cursor
    issued without one, as before positions were carried)."""
    if not isinstance(raw, str) or len(raw) > 4096 or raw.count(".") != 1:
        raise BadQuery(_("invalid cursor"))
    text, signature = raw.split(".")
    try:
        body = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError):
        raise BadQuery(_("invalid cursor")) from None
    if not hmac.compare_digest(signature, _signature(spec.cursor_key, body, sort)):
        raise BadQuery(_("invalid cursor: it does not belong to this list and sort"))
    try:
        values = json.loads(body)
    except ValueError:
        raise BadQuery(_("invalid cursor")) from None
    if not isinstance(values, list) or len(values) not in (len(sort), len(sort) + 1):
        raise BadQuery(_("invalid cursor"))
    position = values.pop() if len(values) > len(sort) else None
    if position is not None and (type(position) is not int or not 0 <= position <= MAX_POSITION):
        raise BadQuery(_("invalid cursor"))
    for (column, _unused), value in zip(sort, values):
        if not _fits(column, value):
            # Signed by us, yet not a value of the column (issued before a schema change, or
            # with a leaked secret): a bad query, not a database error.
            raise BadQuery(_("invalid cursor: it does not fit this list"))
    return values, position


_TYPED_KINDS = frozenset({"int", "float", "decimal", "bool", "date", "datetime", "time"})


def _fits(column: ColumnInfo, value: t.Any) -> bool:
    """Whether a cursor value can be compared with ``column`` (keyset columns are NOT NULL)."""
    if value is None or not isinstance(value, (str, int, float)):
        return False
    if column.kind not in _TYPED_KINDS:
        return True  # text and choices: any scalar the database gave (legacy values too)
    try:
        parse_value(column, str(value))
    except BadQuery:
        return False
    return True


# ---------------------------------------------------------------------------------------------
# SQL


@dataclass(eq=False)
class Join:
    """A many-to-one target joined into the list query for labels and related columns:
    ``via`` is a foreign key of the list's table, or of the ``parent`` join's (a path's next
    hop)."""

    via: ColumnInfo
    target: ModelInfo
    alias: str
    columns: list[ColumnInfo]
    parent: "Join | None" = None

    def on(self) -> str:
        """The join's condition: the target's key equals the foreign key it is reached by."""
        left = (self.via.sql if self.parent is None
                else f"{self.parent.alias}.{quote_identifier(self.via.name)}")
        return f"{self.alias}.{quote_identifier(self.target.primary_key[0].name)} = {left}"


class PathJoins:
    """The LEFT JOINs of a list, one per path of foreign keys from its table (``order_id``:
    j0; ``order_id``, ``account_id``: j1 joined on j0), shared by every column, label, sort
    and export that goes that way; aliased in the order they were made."""

    def __init__(self) -> None:
        self._by_path: dict[tuple[str, ...], Join] = {}

    def along(self, hops: t.Sequence[ColumnInfo], models: t.Sequence[ModelInfo]) -> Join | None:
        """The join that reaches the last of ``models`` through ``hops`` (made with the
        joins before it when missing); None when a target's key is composite."""
        join, key = None, ()
        for hop, model in zip(hops, models):
            key += (hop.attribute,)
            found = self._by_path.get(key)
            if found is None:
                if len(model.primary_key) != 1:
                    return None
                found = Join(via=hop, target=model, alias=f"j{len(self._by_path)}", columns=[],
                             parent=join)
                self._by_path[key] = found
            join = found
        return join

    def all(self) -> list[Join]:
        return list(self._by_path.values())


def with_parents(chosen: t.Iterable[Join | None], every: t.Sequence[Join]) -> list[Join]:
    """``chosen`` joins and the joins they are reached through, in ``every``'s order (a
    join comes after its parent)."""
    needed: set[int] = set()
    for join in chosen:
        while join is not None and id(join) not in needed:
            needed.add(id(join))
            join = join.parent
    return [join for join in every if id(join) in needed]


@dataclass
class Page:
    rows: list[t.Any]
    has_next: bool
    has_prev: bool
    next_cursor: str | None
    prev_cursor: str | None
    keyset: bool
    page: int
    total: int | None           # how many rows match: see total_kind
    total_capped: bool          # True: "more than total"
    total_kind: str = "exact"   # "exact", "estimate" (about), "more_than", "unknown",
                                # "deferred" (counted by its own request: count_matching)
    #: How many rows of the list come before this page's first (50 on "51–100"); None when
    #: unknown (a keyset cursor that carries no position).
    offset: int | None = None


def where_clause(stmt: Statement, spec: ListSpec, params: ListParams) -> list[str]:
    """Conditions of the list (scope, base query, search, filters), in textual order."""
    dialect = stmt.dialect
    conditions: list[str] = []
    if spec.scope is not None:
        conditions.append(stmt.external(spec.scope))
    if spec.base is not None:
        conditions.append(stmt.external(spec.base))
    if params.q and spec.search:
        conditions.append(search_condition(stmt, spec, params.q, keys_first=params.keys_first))
    for flt in params.filters:
        if getattr(flt.column, "is_custom_filter", False):
            conditions.append(flt.column.where(stmt, flt.values))  # list_filters.FilterColumn
        elif isinstance(flt.column, RelatedColumn):
            conditions.append(_path_filter_condition(stmt, flt, dialect))
        else:
            conditions.append(_filter_condition(stmt, flt, dialect))
    return conditions


def _path_filter_condition(stmt: Statement, flt: Filter, dialect: Dialect) -> str:
    """A filter on a relation path: the filter's test of the end column, within a semi-join
    per hop (RelatedColumn.within)."""
    related = t.cast(RelatedColumn, flt.column)
    if flt.op == "isnull":
        return related.is_null(dialect, bool(flt.values[0]))
    test = _filter_condition(stmt, dataclasses.replace(flt, column=related.column), dialect)
    return related.within(dialect, test)


def search_condition(stmt: Statement, spec: ListSpec, q: str, *, keys_first: bool = False,
                     wrap: bool = True) -> str:
    """``=text`` exact, ``^text`` starts with (both keep indexes usable), else contains;
    case-insensitive via lower() on both databases. ``keys_first`` (PostgreSQL): a contains
    search known to match few rows gets the keys-first form exact and prefix searches get;
    ``wrap=False``: never (the probe that decides it)."""
    if q.startswith("=") and len(q) > 1:
        mode, term = "exact", q[1:]
    elif q.startswith("^") and len(q) > 1:
        mode, term = "prefix", q[1:]
    else:
        mode, term = "contains", q
    parts = []
    for target in spec.search:
        column = target.column if isinstance(target, RelatedColumn) else target
        own = not isinstance(target, RelatedColumn)
        test = search_test(stmt, column, mode, term, spec.fts.get(column.name) if own else None)
        if test is None:
            continue  # the term is no value of this column (a word for a number column)
        if isinstance(target, RelatedColumn):
            test = target.within(stmt.dialect, test)  # a semi-join per hop of its path
        parts.append(test)
    if not parts:
        return "1 = 0"
    condition = "(" + " OR ".join(parts) + ")"
    info = spec.info
    if (wrap and stmt.dialect.is_postgresql and len(info.primary_key) == 1
            and ((mode != "contains" and len(parts) > 1) or (mode == "contains" and keys_first))):
        # An exact or prefix search matches few rows, found by a BitmapOr of index scans; but
        # under "ORDER BY ... LIMIT 50" the planner, which cannot estimate the OR well, walks
        # the sort index testing every row instead (1.4 s at 10M rows for one match). Finding
        # the keys first, then the page among them, keeps it to the few rows matched.
        pk = info.primary_key[0]
        condition = (f"{pk.sql} = ANY(ARRAY(SELECT {pk.sql} FROM {info.table_sql} "
                     f"WHERE {condition}))")
    return condition


#: Kinds an exact search (``=term``) compares as values, when the term is one.
_EXACT_VALUE_KINDS = frozenset({"int", "float", "decimal", "bool", "date", "datetime", "time",
                                "uuid", "network"})


def search_test(stmt: Statement, column: ColumnInfo, mode: str, term: str,
                fts_table: str | None = None) -> str | None:
    """The condition that ``column`` matches the search ``term`` ("exact", "prefix" or
    "contains"), in the form its type allows, or None when no value of it can match.

    Text: ``lower(col) LIKE '%term%'`` (the term lower-cased), the form a trigram index on
    ``lower(col)`` serves (docs/lists.md); exact and prefix as an equality and a range a plain index
    serves. Enums and other choices: ``col IN (...)`` of the values whose label or value
    holds the term, case-insensitively (never a text function on an enum type). A tsvector:
    full-text search (``@@ plainto_tsquery``), for a plain search only. Other types: their
    text (``CAST(col AS TEXT)``), or an equality with the value an exact term is.

    ``fts_table`` (SQLite): an FTS5 trigram table indexing the column (fts.py), which answers
    a contains search of three characters or more from its index."""
    dialect = stmt.dialect
    if column.choices and column.kind != "bool":
        values = _matching_choices(column, mode, term)
        if not values:
            return None
        return f"{column.sql} IN {stmt.params_list([to_db(column, v, dialect) for v in values])}"
    if column.kind == "tsvector":
        if mode != "contains" or not dialect.is_postgresql:
            return None
        return f"{column.sql} @@ plainto_tsquery({stmt.param(term)})"
    if column.kind == "text":
        if mode == "exact":
            return f"{column.sql} = {stmt.param(term)}"
        if mode == "prefix":
            # A range on the column itself, which a plain index serves on both databases;
            # LIKE keeps it exact. (Case-sensitive, like "=": both are for known values.)
            upper = term[:-1] + chr(ord(term[-1]) + 1)
            return (f"({column.sql} >= {stmt.param(term)} AND {column.sql} < {stmt.param(upper)} "
                    f"AND {column.sql} LIKE {stmt.param(like_pattern(term, prefix=True))} "
                    "ESCAPE '\\')")
        if fts_table is not None and not dialect.is_postgresql and len(term) >= MIN_TERM:
            return (f"{quote_identifier(column.table)}.rowid IN (SELECT rowid FROM "
                    f"{quote_identifier(fts_table)} WHERE {quote_identifier(column.name)} "
                    f"MATCH {stmt.param(match_phrase(term))})")
        return f"lower({column.sql}) LIKE {stmt.param(like_pattern(term.lower()))} ESCAPE '\\'"
    if mode == "exact" and column.kind in _EXACT_VALUE_KINDS:
        try:
            value = parse_value(column, term)
        except BadQuery:
            return None
        return f"{column.sql} = {stmt.param(to_db(column, value, dialect))}"
    text = f"CAST({column.sql} AS TEXT)"
    if mode == "exact":
        return f"{text} = {stmt.param(term)}"
    pattern = like_pattern(term.lower(), prefix=mode == "prefix")
    return f"lower({text}) LIKE {stmt.param(pattern)} ESCAPE '\\'"


def _matching_choices(column: ColumnInfo, mode: str, term: str) -> list[t.Any]:
    """The choices whose value or label (in the request's language) the term matches."""
    wanted = term.casefold()

    def matches(text: t.Any) -> bool:
        found = str(text).casefold()
        if mode == "exact":
            return found == wanted
        return found.startswith(wanted) if mode == "prefix" else wanted in found

    return [value for value, label in column.choices or ()
            if matches(value) or matches(label)]


def _filter_condition(stmt: Statement, flt: Filter, dialect: Dialect) -> str:
    column = flt.column
    if flt.op == "isnull":
        return f"{column.sql} IS {'' if flt.values[0] else 'NOT '}NULL"
    if column.kind == "array":
        # Rows whose array holds the item (any of the items of an ``__in``).
        operator = "&&" if flt.op == "in" else "@>"
        return f"{column.sql} {operator} {stmt.param(to_db(column, list(flt.values), dialect))}"
    if column.kind == "range":
        # Rows whose range holds the value, typed as the range's values (the catalog's name).
        subtype = column.database_type.range_of if column.database_type is not None else None
        tests = [f"{column.sql} @> CAST({stmt.param(to_db(column.item_column(), v, dialect))} "
                 f"AS {subtype})" if subtype else f"{column.sql} @> {stmt.param(v)}"
                 for v in flt.values]
        return tests[0] if len(tests) == 1 else "(" + " OR ".join(tests) + ")"
    if flt.op == "contains":
        pattern = like_pattern(flt.values[0].lower())
        text = column.sql if column.kind == "text" else f"CAST({column.sql} AS TEXT)"
        return f"lower({text}) LIKE {stmt.param(pattern)} ESCAPE '\\'"
    if flt.op == "gte":
        return f"{column.sql} >= {stmt.param(to_db(column, flt.values[0], dialect))}"
    if flt.op == "lte":
        value = flt.values[0]
        if column.kind == "datetime" and isinstance(value, datetime.datetime) and value.time() == datetime.time():
            # created_at__lte=2024-05-01 means "through that day", as people mean it
            value = value + datetime.timedelta(days=1) - datetime.timedelta(microseconds=1)
        return f"{column.sql} <= {stmt.param(to_db(column, value, dialect))}"
    values = [to_db(column, v, dialect) for v in flt.values]
    if len(values) == 1:
        return f"{column.sql} = {stmt.param(values[0])}"
    return f"{column.sql} IN {stmt.params_list(values)}"


def _keyset_condition(stmt: Statement, sort: list[tuple[ColumnInfo, bool]], values: list[t.Any],
                      *, backwards: bool) -> str:
    directions = {d for _, d in sort}
    if len(directions) == 1:
        descending = directions.pop()
        op = "<" if descending != backwards else ">"
        cols = ", ".join(c.sql for c, _ in sort)
        # Cursor values are the database's own values (JSON-encoded), so they go back as-is.
        placeholders = ", ".join(stmt.param(v) for v in values)
        return f"({cols}) {op} ({placeholders})"
    # Mixed directions: (a > x) OR (a = x AND b < y) OR ...
    terms = []
    for i, (column, descending) in enumerate(sort):
        parts = [f"{c.sql} = {stmt.param(v)}" for (c, _), v in zip(sort[:i], values[:i])]
        op = "<" if descending != backwards else ">"
        parts.append(f"{column.sql} {op} {stmt.param(values[i])}")
        terms.append("(" + " AND ".join(parts) + ")")
    return "(" + " OR ".join(terms) + ")"


def _order_by(sort: list[tuple[ColumnInfo, bool]], *, reverse: bool = False) -> str:
    items = []
    for column, descending in sort:
        if reverse:
            descending = not descending
        direction = "DESC" if descending else "ASC"
        # One NULL placement on both databases: NULLs last, whichever the direction.
        nulls = " NULLS LAST" if column.nullable else ""
        items.append(f"{column.sql} {direction}{nulls}")
    return ", ".join(items)


def select_list(engine, dialect: Dialect, spec: ListSpec, params: ListParams,
                columns: list[ColumnInfo], joins: list[Join], *,
                count_cap: int | None = COUNT_CAP, defer_count: bool = False,
                counter: t.Callable[[ListParams, int], Count] | None = None) -> Page:
    """Run the page query (and a count capped at ``count_cap``; None: no count) and return rows
    keyed by column name, with joined columns keyed ``<alias>__<column>``.

    ``defer_count``: count only what costs nothing (a page holding the whole list, the
    statistics' estimate of a big unfiltered table, ``count=exact`` asked for); otherwise the
    total is "deferred", for the list to fetch with count_matching in a request of its own.
    ``counter(params, cap)``: what counts when a count is needed (default count_matching; the
    list page's goes through the shared counts, shared_counts.py)."""
    keyset = keyset_possible(params.sort) and params.page == 1
    backwards = params.before is not None
    rows = list(run(engine, _page_statement(dialect, spec, params, columns, joins, keyset=keyset)))
    more = len(rows) > params.per_page
    rows = rows[: params.per_page]
    if backwards:
        rows.reverse()
    offset = _page_offset(params, keyset, backwards, more, len(rows))
    links = _page_links(spec, params, rows, keyset=keyset, more=more, offset=offset)
    total = _page_total(engine, dialect, spec, params, len(rows), keyset=keyset, more=more,
                        count_cap=count_cap, defer_count=defer_count, counter=counter)
    return Page(rows=rows, has_next=links.has_next, has_prev=links.has_prev,
                next_cursor=links.next_cursor, prev_cursor=links.prev_cursor, keyset=keyset,
                page=params.page, total=total.value, total_capped=total.kind == "more_than",
                total_kind=total.kind, offset=offset)


def select_all(engine, dialect: Dialect, spec: ListSpec, params: ListParams,
               columns: list[ColumnInfo], joins: list[Join], *, limit: int,
               batch: int = 500) -> t.Iterator[list[t.Any]]:
    """Every row of the list (its scope, filters, search and sort, from its first row
    whatever page ``params`` asks) up to ``limit`` rows, in lists of ``batch`` rows: one
    statement per batch, past the last row's sort values where the sort allows (keyset),
    else by OFFSET. The caller streams each batch before the next one is read."""
    every = dataclasses.replace(params, page=1, after=None, before=None, cursor_position=None,
                                exact_count=False, per_page=int(batch))
    keyset = keyset_possible(params.sort)
    remaining = int(limit)
    while remaining > 0:
        page = select_list(engine, dialect, spec, every, columns, joins, count_cap=None)
        rows = page.rows[:remaining]
        if rows:
            yield rows
        remaining -= len(rows)
        if not page.has_next or not rows:
            return
        if keyset:
            every.after = [rows[-1][c.name] for c, _descending in params.sort]
        else:
            every.page += 1


def _page_statement(dialect: Dialect, spec: ListSpec, params: ListParams,
                    columns: list[ColumnInfo], joins: list[Join], *, keyset: bool) -> Statement:
    """The page's SELECT: the list's filters, past the cursor (keyset) or the pages before
    (OFFSET), one row more than the page holds to learn whether another page follows."""
    stmt = Statement(dialect)
    conditions = _from_where(stmt, spec, params, _select_items(spec.info, params.sort, columns, joins),
                             joins)
    backwards = params.before is not None
    if keyset and (params.after is not None or backwards):
        cursor_values = params.after if params.after is not None else params.before
        conditions.append(_keyset_condition(stmt, params.sort, cursor_values, backwards=backwards))
    if conditions:
        stmt.sql("WHERE " + " AND ".join(conditions))
    stmt.sql("ORDER BY " + _order_by(params.sort, reverse=backwards))
    stmt.sql(f"LIMIT {int(params.per_page) + 1}")
    if not keyset and params.page > 1:
        stmt.sql(f"OFFSET {int((params.page - 1) * params.per_page)}")
    return stmt


def _from_where(stmt: Statement, spec: ListSpec, params: ListParams, items: list[str],
                joins: t.Sequence[Join]) -> list[str]:
    """``SELECT items FROM`` the list's table and joins; returns the list's conditions (their
    parameters follow the items' in ``stmt``), for the caller to add to and write."""
    stmt.sql("SELECT " + ", ".join(items) + f" FROM {spec.info.table_sql}")
    for join in joins:
        stmt.sql(f"LEFT JOIN {join.target.table_sql} {join.alias} ON {join.on()}")
    return where_clause(stmt, spec, params)


def window_statement(stmt: Statement, spec: ListSpec, params: ListParams, items: list[str],
                     joins: t.Sequence[Join], *, after: list[t.Any] | None = None,
                     through: list[t.Any] | None = None, offset: int | None = None) -> Statement:
    """The list's rows in its order (a keyset sort: keyset_possible), as ``items``: those
    past the sort values ``after``, up to and including those of ``through``; ``offset``:
    only the row that many rows in (a window's last row). ``stmt`` may hold the items'
    parameters already."""
    conditions = _from_where(stmt, spec, params, items, joins)
    if after is not None:
        conditions.append(_keyset_condition(stmt, params.sort, after, backwards=False))
    if through is not None:
        # NOT past it: keyset sorts have no NULLs, so the test is never unknown.
        conditions.append(
            "NOT (" + _keyset_condition(stmt, params.sort, through, backwards=False) + ")")
    if conditions:
        stmt.sql("WHERE " + " AND ".join(conditions))
    stmt.sql("ORDER BY " + _order_by(params.sort))
    if offset is not None:
        stmt.sql(f"LIMIT 1 OFFSET {int(offset)}")
    return stmt


def _select_items(info: ModelInfo, sort: list[tuple[ColumnInfo, bool]], columns: list[ColumnInfo],
                  joins: list[Join]) -> list[str]:
    """What the page selects: the shown columns, the sort's and the key's (the cursors and the
    row links read them), and the joined columns as ``<alias>__<column>``."""
    selected = {c.name: c for c in columns}
    for column, _descending in sort:
        if getattr(column, "join", None) is None:  # a path's: its join selects it
            selected.setdefault(column.name, column)
    for column in info.primary_key:
        selected.setdefault(column.name, column)
    items = [f"{c.select_sql} AS {quote_identifier(c.name)}" for c in selected.values()]
    for join in joins:
        for column in join.columns:
            items.append(f"{join.alias}.{quote_identifier(column.name)} AS "
                         f"{quote_alias(join.alias + '__' + column.name)}")
    return items


@dataclass(frozen=True)
class _PageLinks:
    has_next: bool
    has_prev: bool
    next_cursor: str | None
    prev_cursor: str | None


def _page_links(spec: ListSpec, params: ListParams, rows: list, *, keyset: bool, more: bool,
                offset: int | None) -> _PageLinks:
    """Whether pages come before and after this one and, on keyset pages, the cursors that
    open them (each carrying its row's position in the list, when known)."""
    if not keyset:
        return _PageLinks(has_next=more, has_prev=params.page > 1, next_cursor=None,
                          prev_cursor=None)
    sort = params.sort

    def cursor_of(row, position: int | None) -> str:
        return encode_cursor([row[c.name] for c, _descending in sort], spec, sort, position)

    if params.before is not None:
        has_prev, has_next = more, True
    else:
        has_next = more
        has_prev = params.after is not None
    last = None if offset is None else offset + len(rows) - 1
    next_cursor = cursor_of(rows[-1], last) if rows and has_next else None
    prev_cursor = cursor_of(rows[0], offset) if rows and has_prev else None
    if not rows and params.after is not None:
        has_prev, prev_cursor = True, None
    return _PageLinks(has_next=has_next, has_prev=has_prev, next_cursor=next_cursor,
                      prev_cursor=prev_cursor)


def _page_total(engine, dialect: Dialect, spec: ListSpec, params: ListParams, shown: int, *,
                keyset: bool, more: bool, count_cap: int | None, defer_count: bool,
                counter: t.Callable[[ListParams, int], Count] | None = None) -> Count:
    """The page's total, by select_list's rules (see its docstring)."""
    if count_cap is None:
        return Count(None, "unknown")
    from_start = params.before is None and (params.after is None or not keyset)
    if not more and from_start and not params.exact_count:
        # The last page of the list, reached from its start: its rows are the count.
        skipped = 0 if keyset else (params.page - 1) * int(params.per_page)
        return Count(skipped + shown, "exact")
    if defer_count and not params.exact_count:
        return free_count(engine, dialect, spec, params) or Count(None, "deferred")
    if counter is not None:
        return counter(params, count_cap)
    return count_matching(engine, dialect, spec, params, cap=count_cap)


def _page_offset(params: ListParams, keyset: bool, backwards: bool, more: bool,
                 shown: int) -> int | None:
    """How many rows of the list come before the page's first: the cursor's position carried
    from page to page (rows added or removed meanwhile may shift it a little; the first page
    always starts at 0), or None when the cursor carries none."""
    if not keyset:
        return (params.page - 1) * int(params.per_page)
    if params.after is not None:
        return None if params.cursor_position is None else params.cursor_position + 1
    if params.before is not None:
        if not more:
            return 0  # nothing before these rows: the list's start
        if params.cursor_position is None:
            return None
        return max(params.cursor_position - shown, 0)
    return 0


@dataclass(frozen=True)
class Count:
    value: int | None
    kind: str  # "exact", "estimate", "more_than", "unknown"
    #: The count ran out of time and this is what was left (an estimate, "more than"): worth
    #: showing once, not worth keeping (shared_counts.py keeps no such count).
    timed_out: bool = False


def count_matching(engine, dialect: Dialect, spec: ListSpec, params: ListParams, *,
                   cap: int = COUNT_CAP) -> Count:
    """How many rows the list matches, as cheaply as is honest.

    Unfiltered: above ESTIMATE_ABOVE rows the database's statistics answer ("about 9.8M");
    below, or without statistics, an exact ``count(*)``. Filtered: a count capped at
    ``cap`` rows and COUNT_SECONDS; past that, PostgreSQL's planner estimate, else "more than
    cap". ``count=exact`` in the query string asks for the exact number (within the request's
    time limit)."""
    stmt = Statement(dialect)
    conditions = where_clause(stmt, spec, params)
    try:
        if params.exact_count:
            return Count(_count(engine, stmt, spec, conditions, None), "exact")
        if not conditions:
            estimate = _table_estimate(engine, dialect, spec.info)
            if estimate is not None and estimate > ESTIMATE_ABOVE:
                return Count(estimate, "estimate")
            with limited(COUNT_SECONDS * 5):
                return Count(_count(engine, stmt, spec, conditions, None), "exact")
        with limited(COUNT_SECONDS):
            n = _count(engine, stmt, spec, conditions, cap)
        if n <= cap:
            return Count(n, "exact")
    except QueryTimeout:
        timed_out = True
    else:
        timed_out = False
    if dialect.is_postgresql:
        estimate = planner_estimate(engine, dialect, spec, params)
        if estimate is not None:
            return Count(max(estimate, cap + 1), "estimate", timed_out)
    return Count(cap, "more_than", timed_out)


def free_count(engine, dialect: Dialect, spec: ListSpec, params: ListParams) -> Count | None:
    """The count that needs no counting: a big unfiltered table's estimate from the
    database's statistics (read at most once a minute), else None."""
    conditions = where_clause(Statement(dialect), spec, params)
    if conditions:
        return None
    estimate = _table_estimate(engine, dialect, spec.info)
    if estimate is not None and estimate > ESTIMATE_ABOVE:
        return Count(estimate, "estimate")
    return None


def count_statement(dialect: Dialect, spec: ListSpec, params: ListParams,
                    cap: int | None) -> Statement:
    """The list's counting statement: every row (``cap`` None) or up to ``cap + 1`` rows."""
    stmt = Statement(dialect)
    return _count_statement(stmt, spec, where_clause(stmt, spec, params), cap)


def _count_statement(base: Statement, spec: ListSpec, conditions: list[str],
                     cap: int | None) -> Statement:
    stmt = Statement(base.dialect)
    stmt.params = list(base.params)
    where = (" WHERE " + " AND ".join(conditions)) if conditions else ""
    if cap is None:
        stmt.sql(f"SELECT count(*) AS n FROM {spec.info.table_sql}{where}")
    else:
        stmt.sql(f"SELECT count(*) AS n FROM (SELECT 1 FROM {spec.info.table_sql}{where} "
                 f"LIMIT {int(cap) + 1}) AS capped")
    return stmt


def _count(engine, base: Statement, spec: ListSpec, conditions: list[str], cap: int | None) -> int:
    rows = run(engine, _count_statement(base, spec, conditions, cap))
    return int(rows[0]["n"]) if rows else 0


ESTIMATE_TTL = 60.0  # seconds an estimate is reused: statistics change on ANALYZE, not per row
_estimates: "weakref.WeakKeyDictionary[t.Any, dict[str, tuple[float, int | None]]]" = (
    weakref.WeakKeyDictionary())


def _table_estimate(engine, dialect: Dialect, info: ModelInfo) -> int | None:
    """The table's row count from the statistics the database keeps (PostgreSQL's
    ``pg_class.reltuples``, SQLite's ``sqlite_stat1`` after ANALYZE), or None without them.
    Kept for ESTIMATE_TTL seconds per engine and table."""
    now = time.monotonic()
    try:
        per_table = _estimates.setdefault(engine, {})
    except TypeError:  # an engine that cannot be weakly referenced: no reuse
        return _read_table_estimate(engine, dialect, info)
    cached = per_table.get(info.table)
    if cached is not None and now - cached[0] < ESTIMATE_TTL:
        return cached[1]
    value = _read_table_estimate(engine, dialect, info)
    per_table[info.table] = (now, value)
    return value


def table_estimate(engine, dialect: Dialect, info: ModelInfo) -> int | None:
    """The table's row count as its statistics say (None: never analysed), reused a while."""
    return _table_estimate(engine, dialect, info)


def _read_table_estimate(engine, dialect: Dialect, info: ModelInfo) -> int | None:
    stmt = Statement(dialect)
    if dialect.is_postgresql:
        stmt.sql("SELECT reltuples::bigint AS n FROM pg_class "
                 f"WHERE oid = to_regclass({stmt.param(quote_identifier(info.table))})")
    else:
        stmt.sql("SELECT max(CAST(stat AS INTEGER)) AS n FROM sqlite_stat1 "
                 f"WHERE tbl = {stmt.param(info.table)}")
    try:
        rows = run(engine, stmt)
    except Exception:  # noqa: BLE001 - no sqlite_stat1 table: never analysed
        return None
    if not rows or rows[0]["n"] is None or rows[0]["n"] < 0:
        return None  # never analysed
    return int(rows[0]["n"])


def planner_estimate(engine, dialect: Dialect, spec: ListSpec, params: ListParams) -> int | None:
    """How many rows the planner expects the list to match (a plan, no row read; PostgreSQL);
    None when it cannot say."""
    stmt = Statement(dialect)
    stmt.sql(f"EXPLAIN (FORMAT JSON) SELECT 1 FROM {spec.info.table_sql}")
    conditions = where_clause(stmt, spec, params)
    if conditions:
        stmt.sql("WHERE " + " AND ".join(conditions))
    try:
        rows = run(engine, stmt)
        plan = rows[0][rows[0].keys()[0]]
        plan = json.loads(plan) if isinstance(plan, (str, bytes)) else plan
        return int(plan[0]["Plan"]["Plan Rows"])
    except (QueryTimeout, LookupError, ValueError, TypeError):
        return None


def fetch_rows_by_pk(engine, dialect: Dialect, info: ModelInfo, pks: list[tuple],
                     columns: list[ColumnInfo], *, scope: t.Any = None) -> list[t.Any]:
    """Rows of ``info`` whose key is in ``pks`` (scoped), in one query."""
    if not pks:
        return []
    stmt = Statement(dialect)
    names = {c.name: c for c in columns}
    for column in info.primary_key:
        names.setdefault(column.name, column)
    stmt.sql("SELECT " + ", ".join(f"{c.select_sql} AS {quote_identifier(c.name)}" for c in names.values())
             + f" FROM {info.table_sql} WHERE")
    conditions = []
    if scope is not None:
        conditions.append(stmt.external(scope))
    conditions.append(pk_condition(stmt, info, pks))
    stmt.sql(" AND ".join(conditions))
    return list(run(engine, stmt))


def pk_condition(stmt: Statement, info: ModelInfo, pks: list[tuple]) -> str:
    dialect = stmt.dialect
    if len(info.primary_key) == 1:
        column = info.primary_key[0]
        values = [to_db(column, pk[0], dialect) for pk in pks]
        if len(values) == 1:
            return f"{column.sql} = {stmt.param(values[0])}"
        return f"{column.sql} IN {stmt.params_list(values)}"
    terms = []
    for pk in pks:
        parts = [f"{c.sql} = {stmt.param(to_db(c, v, dialect))}" for c, v in zip(info.primary_key, pk)]
        terms.append("(" + " AND ".join(parts) + ")")
    return "(" + " OR ".join(terms) + ")"


# ---------------------------------------------------------------------------------------------
# Small queries of the detail, delete and lookup screens


def lookup_rows(engine, dialect: Dialect, info: ModelInfo, columns: list[ColumnInfo], *,
                term: str, search: list[ColumnInfo], after: t.Any = None, scope: t.Any = None,
                limit: int = 20) -> list[t.Any]:
    """Rows for a foreign-key picker: matching ``term`` (a key, or text in ``search``), newest
    key first, keyset-paged with ``after`` (a key), at most ``limit + 1`` (one more tells the
    caller there is a next page)."""
    pk = info.primary_key[0]
    stmt = Statement(dialect)
    stmt.sql("SELECT " + ", ".join(f"{c.select_sql} AS {quote_identifier(c.name)}" for c in columns)
             + f" FROM {info.table_sql}")
    conditions = []
    if scope is not None:
        conditions.append(stmt.external(scope))
    if term:
        tests = []
        if term.isdigit() and pk.kind == "int":
            try:  # within 64 bits: SQLite cannot even bind a larger one
                tests.append(f"{pk.sql} = {stmt.param(parse_value(pk, term))}")
            except BadQuery:
                pass
        for column in search:
            test = search_test(stmt, column, "contains", term)
            if test is not None:
                tests.append(test)
        conditions.append("(" + " OR ".join(tests) + ")" if tests else "1 = 0")
    if after is not None:
        conditions.append(f"{pk.sql} < {stmt.param(to_db(pk, after, dialect))}")
    if conditions:
        stmt.sql("WHERE " + " AND ".join(conditions))
    stmt.sql(f"ORDER BY {pk.sql} DESC LIMIT {int(limit) + 1}")
    return list(run(engine, stmt))


def referencing_rows(engine, dialect: Dialect, child: ModelInfo, column: ColumnInfo,
                     keys: list[t.Any], columns: list[ColumnInfo], *, scope: t.Any = None,
                     limit: int = 10, newest_first: bool = True) -> list[t.Any]:
    """Rows of ``child`` whose ``column`` holds one of ``keys`` (at most ``limit``)."""
    if not keys:
        return []
    stmt = Statement(dialect)
    stmt.sql("SELECT " + ", ".join(f"{c.select_sql} AS {quote_identifier(c.name)}" for c in columns)
             + f" FROM {child.table_sql} WHERE")
    conditions = [f"{column.sql} IN {stmt.params_list([to_db(column, k, dialect) for k in keys])}"]
    if scope is not None:
        conditions.append(stmt.external(scope))
    stmt.sql(" AND ".join(conditions))
    direction = "DESC" if newest_first else "ASC"
    order = ", ".join(f"{key.sql} {direction}" for key in child.primary_key)
    stmt.sql(f"ORDER BY {order} LIMIT {int(limit)}")
    return list(run(engine, stmt))


def count_referencing(engine, dialect: Dialect, child: ModelInfo, column: ColumnInfo,
                      keys: list[t.Any], *, scope: t.Any = None, cap: int = 1000) -> tuple[int, bool]:
    """How many ``child`` rows (within ``scope``) reference ``keys`` through ``column``,
    counted up to ``cap``."""
    if not keys:
        return 0, False
    stmt = Statement(dialect)
    stmt.sql(f"SELECT count(*) AS n FROM (SELECT 1 FROM {child.table_sql} WHERE "
             f"{column.sql} IN {stmt.params_list([to_db(column, k, dialect) for k in keys])}")
    if scope is not None:
        stmt.sql("AND " + stmt.external(scope))
    stmt.sql(f"LIMIT {int(cap) + 1}) AS reached")
    n = run(engine, stmt)[0]["n"]
    return (cap, True) if n > cap else (n, False)


# ---------------------------------------------------------------------------------------------
# What the database does to referencing rows on delete

ON_DELETE = {  # the database's words -> ours
    "CASCADE": "cascade", "SET NULL": "set null", "SET DEFAULT": "set default",
    "RESTRICT": "block", "NO ACTION": "block",
    "c": "cascade", "n": "set null", "d": "set default", "r": "block", "a": "block",
}
_rules: "weakref.WeakKeyDictionary[t.Any, dict[tuple[str, str], str]]" = weakref.WeakKeyDictionary()


def on_delete_rule(engine, dialect: Dialect, child: ModelInfo, column: ColumnInfo,
                   parent: ModelInfo) -> str:
    """What deleting a ``parent`` row does to ``child`` rows referencing it through ``column``,
    as the database's schema says: "cascade", "set null", "set default", "block", or "none"
    (no foreign key in the database, or SQLite with foreign keys off: the rows are left
    pointing at nothing). Read once per engine and column."""
    try:
        cache = _rules.setdefault(engine, {})
    except TypeError:
        cache = {}
    key = (child.table, column.name)
    if key not in cache:
        cache[key] = _read_on_delete_rule(engine, dialect, child, column, parent)
    return cache[key]


def _read_on_delete_rule(engine, dialect: Dialect, child: ModelInfo, column: ColumnInfo,
                         parent: ModelInfo) -> str:
    stmt = Statement(dialect)
    if dialect.is_postgresql:
        # to_regclass reads a name as SQL does: quoted as the admin's own statements quote it.
        child_table, parent_table = quote_identifier(child.table), quote_identifier(parent.table)
        stmt.sql("SELECT c.confdeltype AS rule FROM pg_constraint c "
                 "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY(c.conkey) "
                 f"WHERE c.contype = 'f' AND c.conrelid = to_regclass({stmt.param(child_table)}) "
                 f"AND c.confrelid = to_regclass({stmt.param(parent_table)}) "
                 f"AND a.attname = {stmt.param(column.name)}")
        rows = run(engine, stmt)
        if not rows:
            return "none"
        rule = rows[0]["rule"]
        return ON_DELETE.get(rule.decode() if isinstance(rule, bytes) else str(rule), "block")
    enforced = run(engine, Statement(dialect).sql("PRAGMA foreign_keys"))
    if not enforced or not list(dict(enforced[0]).values())[0]:
        return "none"
    # The table name comes from introspection; PRAGMA takes no parameters.
    stmt.sql(f"PRAGMA foreign_key_list({quote_identifier(child.table)})")
    for row in run(engine, stmt):
        row = dict(row)
        if row.get("from") == column.name and row.get("table") == parent.table:
            return ON_DELETE.get(str(row.get("on_delete", "NO ACTION")).upper(), "block")
    return "none"
