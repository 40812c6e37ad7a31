"""Dashboard panels, declared in Python.

A panel is a small object that returns data: ``Metric`` (a number, with its change against the
previous period), ``TimeSeries`` (counts or sums per hour, day or week), ``Breakdown`` (the top
values of a column, as a bar list), ``Table`` (rows, linked to their detail pages), ``Markdown``
(a note), a function decorated with ``@admin.dashboard.panel(...)``, or a ``Panel`` subclass with
a template of its own. ``admin.dashboard`` holds the dashboard's panels; ``ModelAdmin.detail_panels``
those of a model's detail page, each filtered to the row shown.

Declarative panels name a model and its columns by attribute name; the names are checked when
the panel is created, so a typo fails at start-up. Each declarative panel runs one SQL
statement (``aggregates.py``), always within the ModelAdmin's ``scope`` for the user, and its
result is cached per panel, per scope (and per row on a detail page) for ``cache`` seconds.

Data returned by ``data()`` must be JSON (numbers, text, lists, dicts; datetimes and decimals
are converted): the cache may be Redis, shared by every worker, and the data is read back from
JSON even when it was just computed, so that a panel behaves alike with or without a cache.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import decimal
import enum
import hashlib
import json
import math
import re
import typing as t
from dataclasses import dataclass

from . import aggregates, sql
from .aggregates import Condition, SeriesQuery
from .i18n import _, current_locale
from .introspect import ColumnInfo, model_info
from .context import principal_of

if t.TYPE_CHECKING:
    from .cache import Cache
    from .options import ModelAdmin
    from .site import Admin

PANEL_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
#: Seconds a panel's result is kept unless the panel says otherwise.
DEFAULT_CACHE = 60
#: A refresh button (``?fresh=1``) recomputes only data older than this: a hundred people
#: pressing it at once cost one query, and the button is no way around the cache for anyone.
FRESH_AFTER = 10
#: A failure (a query past its time limit, an error) is remembered this long (at most the
#: panel's TTL), so that a dashboard open in ten browsers does not rerun a failing query ten
#: times; the refresh button tries again (after FRESH_AFTER).
ERROR_CACHE = 15
KINDS = ("metric", "series", "breakdown", "table", "markdown", "custom")
#: Grid columns a panel spans (of 4 on wide screens, 2 on tablets, 1 on phones).
WIDTH_CLASSES = {1: "", 2: "sm:col-span-2", 3: "sm:col-span-2 xl:col-span-3",
                 4: "sm:col-span-2 xl:col-span-4"}


def utcnow() -> dt.datetime:
    """Now, naive UTC: the end of every panel's time window (tests replace it)."""
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def slugify(title: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    return slug[:64].rstrip("-") or "panel"


# ---------------------------------------------------------------------------------------------
# What a panel's code is given


class PanelContext:
    """What ``data(ctx)`` (and a function panel) receives.

    - ``now``: naive UTC datetime, the end of the panel's time window;
    - ``row``: the primary key value of the detail page's row (None on the dashboard);
    - ``engine``, ``dialect`` (``"sqlite"`` or ``"postgresql"``);
    - ``scope(model)``: the user's scope condition on ``model`` (a sqlorm SQL object or None),
      for the models the panel declared (``model=``), which its cache key includes;
    - ``fetch(query)``: run a sqlorm ``SQL`` (or a ``sql.Statement``) within the panel's time
      limit, rows as dicts; ``timestamp(datetime)``: a datetime as a parameter for it;
    - ``labels(model, keys)``: the labels of rows of a model, by primary key;
    - ``user``: only for panels declared ``per_user=True`` (cached per user): a panel cached
      per scope must not depend on who asks, or the next person would see its answer.
    """

    def __init__(self, *, admin: "Admin", engine, user: t.Any, now: dt.datetime,
                 panel: "Panel", row: t.Any = None, row_model: type | None = None):
        self.admin = admin
        self.engine = engine
        self._dialect = sql.dialect_of(engine)
        self._user = user
        self._panel = panel
        self.now = now
        self.row = row
        self.row_model = row_model

    @property
    def dialect(self) -> str:
        return self._dialect.name

    @property
    def user(self) -> t.Any:
        if not self._panel.per_user:
            raise AttributeError(
                f"panel {self._panel.id!r} is cached per scope and shared by everyone who may "
                "see it: declare it per_user=True to read ctx.user")
        return self._user

    def model_admin(self, model: type) -> "ModelAdmin":
        try:
            return self.admin.model_admin(model)
        except KeyError:
            raise LookupError(f"panel {self._panel.id!r} reads {model.__name__}, which is not "
                              "registered with this admin") from None

    def scope(self, model: type):
        if model not in self._panel.models:
            raise LookupError(f"panel {self._panel.id!r} did not declare model={model.__name__}: "
                              "its cache would be shared across scopes")
        return self.model_admin(model).scope(self._user)

    def fetch(self, query: t.Any) -> list[dict[str, t.Any]]:
        if isinstance(query, sql.Statement):
            stmt = query
        else:
            from sqlorm.sql import render

            text, params = render(query, paramstyle=self._dialect.paramstyle)
            stmt = sql.Statement(self._dialect, text)
            stmt.params.extend(params.values() if isinstance(params, dict) else params or [])
        return [_as_dict(row) for row in sql.run(self.engine, stmt)]

    def timestamp(self, value: dt.datetime) -> t.Any:
        """A naive UTC datetime as a query parameter compared with a timestamp column: the
        datetime itself on PostgreSQL, ISO text (``YYYY-MM-DD HH:MM:SS``) on SQLite."""
        if self._dialect.is_postgresql:
            return value
        return value.replace(microsecond=0).isoformat(" ")

    def labels(self, model: type, keys: t.Iterable[t.Any]) -> dict[t.Any, str]:
        """Labels of rows of ``model`` by primary key, in one query (as the lists show them)."""
        from .cells import coerced, label_columns, label_for
        from .query import fetch_rows_by_pk

        info = model_info(model)
        wanted = list(dict.fromkeys(k for k in keys if k is not None))
        if not wanted or len(info.primary_key) != 1:
            return {}
        try:
            target_admin = self.admin.model_admin(model)
        except KeyError:
            target_admin = None
        rows = fetch_rows_by_pk(self.engine, self._dialect, info, [(k,) for k in wanted],
                                label_columns(target_admin, model))
        pk = info.primary_key[0]
        found = {}
        for row in rows:
            values = coerced(info, row)
            found[values[pk.name]] = label_for(target_admin, model, values)
        return found

    def conditions(self, panel: "Panel") -> list[t.Any]:
        """Every condition a declarative panel's query gets: the user's scope on the panel's
        model, the panel's ``where``, and the detail page's row."""
        found: list[t.Any] = []
        scope = self.scope(panel.model)
        if scope is not None:
            found.append(scope)
        found += panel.where_conditions(self)
        if panel.row_column is not None:
            if self.row is None:
                raise LookupError(f"panel {panel.id!r} is bound to a row: show it on a detail page")
            found.append(Condition(panel.row_column, "exact", self.row))
        return found

    @property
    def statement_dialect(self) -> sql.Dialect:
        return self._dialect


def _as_dict(row: t.Any) -> dict[str, t.Any]:
    if isinstance(row, dict):
        return row
    return {key: row[key] for key in row.keys()}


# ---------------------------------------------------------------------------------------------
# Panels


class Panel:
    """A panel. Subclass it with ``template = "myapp/panel.html"`` and ``data(self, ctx)`` for
    a panel of your own; the template gets ``panel`` and ``data`` (what ``data`` returned)."""

    kind = "custom"
    #: The template of the panel's body (None: ``hyper_admin/partials/panel_<kind>.html``).
    template: str | None = None
    default_width = 1
    #: Whether the page loads it in a request of its own (a Markdown note needs none).
    deferred = True
    no_query = False

    def __init__(self, title: str, *, id: str | None = None, model: t.Any = None,
                 where: t.Any = None, roles: t.Iterable[str] | None = None,
                 cache: float | None = None, refresh: float | None = None,
                 timeout: float | None = None, description: str | None = None,
                 width: int | None = None, row_column: str | None = None,
                 per_user: bool = False, link: str | None = None):
        #: Kept as given: a lazy title (``_l("Open tickets")``) is read in each page's language.
        self.title = title
        if link is not None and not (link.startswith("/") and not link.startswith("//")
                                     or link.lower().startswith(("http://", "https://"))):
            raise ValueError(f"panel link {link!r}: a path on this site or an http(s) URL")
        #: Where the panel's "View all" goes (a list, a query view), or None.
        self.link = link
        self.id = id or slugify(str(title))  # at import time: the source text, one id for all
        if not PANEL_ID.match(self.id):
            raise ValueError(f"panel id {self.id!r}: lowercase letters, digits, - and _")
        if isinstance(model, (list, tuple)):
            self.models: tuple[type, ...] = tuple(model)
            self.model = self.models[0] if len(self.models) == 1 else None
        else:
            self.models = (model,) if model is not None else ()
            self.model = model
        for one in self.models:
            if not hasattr(one, "__mapper__"):
                raise TypeError(f"panel {self.id!r}: {one!r} is not a sqlorm model")
        self.roles = frozenset([roles] if isinstance(roles, str) else roles) if roles is not None else None
        self.refresh = int(refresh) if refresh else None
        if self.refresh is not None and self.refresh < 5:
            raise ValueError(f"panel {self.id!r}: refresh every 5 seconds at the most")
        if cache is None:
            cache = 0 if self.no_query else DEFAULT_CACHE
            if self.refresh is not None:
                cache = min(cache, self.refresh)
        self.cache = max(0.0, float(cache))
        self.timeout = float(timeout) if timeout else None
        self.description = description
        self.width = int(width or self.default_width)
        if self.width not in WIDTH_CLASSES:
            raise ValueError(f"panel {self.id!r}: width is 1 to 4 grid columns")
        self.per_user = bool(per_user)
        self._where = where
        self.where_static: list[t.Any] = []
        self._row_column_name = row_column
        self.row_column: ColumnInfo | None = None
        self.bound_to: type | None = None
        if where is not None and not callable(where):
            self.where_static = self._parse_where(where)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.id!r}>"

    @property
    def owner(self) -> str:
        return f"panel {self.id!r}"

    @property
    def info(self):
        return model_info(self.model) if self.model is not None else None

    @property
    def width_class(self) -> str:
        return WIDTH_CLASSES[self.width]

    def _parse_where(self, where: t.Any) -> list[t.Any]:
        if where is None:
            return []
        if isinstance(where, t.Mapping):
            if self.model is None:
                raise TypeError(f"{self.owner}: a where mapping needs model=")
            return aggregates.parse_conditions(self.info, where, owner=self.owner)
        if isinstance(where, (list, tuple)):
            found = []
            for item in where:
                found += self._parse_where(item)
            return found
        return [where]  # a sqlorm SQL condition, written by the developer

    def where_conditions(self, ctx: PanelContext) -> list[t.Any]:
        """``where``: a mapping (checked at start-up), a sqlorm SQL condition, or a function of
        the context returning either (``lambda ctx: {"created_at__lt": ctx.now - day}``)."""
        if callable(self._where):
            return self._parse_where(self._where(ctx))
        return list(self.where_static)

    # -- who sees it --------------------------------------------------------------------------

    def has_permission(self, user: t.Any, admin: "Admin") -> bool:
        """Whether ``user`` sees the panel: ``view`` on each model it reads (like the model's
        own screens), and one of ``roles`` when given (superusers always). ``roles`` narrows
        who sees a panel; it never shows a model to someone who may not view it."""
        for model in self.models:
            try:
                model_admin = admin.model_admin(model)
            except KeyError:
                raise LookupError(f"{self.owner} reads {model.__name__}, which is not "
                                  "registered with this admin") from None
            if not model_admin.has_permission("view", user):
                return False
        if self.roles is not None:
            principal = principal_of(user)
            if not (principal.superuser or principal.roles & self.roles):
                return False
        return True

    # -- detail pages -------------------------------------------------------------------------

    def for_detail(self, detail_model: type) -> "Panel":
        """A copy of this panel bound to rows of ``detail_model`` (ModelAdmin.detail_panels):
        its query keeps the rows whose ``row_column`` is the detail row's key. Without
        ``row_column``: the primary key when the panel reads the detail's own model, else the
        one foreign key from the panel's model to it."""
        bound = copy.copy(self)
        bound.bound_to = detail_model
        if self.model is None or isinstance(self, FunctionPanel):
            # A function panel filters itself with ctx.row; a note needs no row.
            if self._row_column_name is not None and self.model is not None:
                bound.row_column = aggregates.column_of(self.info, self._row_column_name,
                                                        owner=self.owner)
            return bound
        info = self.info
        detail_info = model_info(detail_model)
        if len(detail_info.primary_key) != 1:
            raise TypeError(f"{self.owner}: detail panels need a model with a one-column key")
        if self._row_column_name is not None:
            bound.row_column = aggregates.column_of(info, self._row_column_name, owner=self.owner)
        elif self.model is detail_model:
            bound.row_column = detail_info.primary_key[0]
        else:
            candidates = [c for c in info.columns
                          if c.target_model is detail_model
                          or (c.references is not None and c.references[0] == detail_info.table)]
            if len(candidates) != 1:
                names = ", ".join(c.attribute for c in candidates) or "none"
                raise TypeError(
                    f"{self.owner}: which column of {self.model.__name__} holds the key of "
                    f"{detail_model.__name__}? Foreign keys found: {names}; say row_column=")
            bound.row_column = candidates[0]
        return bound

    # -- data ---------------------------------------------------------------------------------

    def data(self, ctx: PanelContext) -> t.Any:
        """The panel's data, as JSON-serialisable values."""
        raise NotImplementedError(f"{type(self).__name__}.data(ctx)")

    def _check_model(self) -> t.Any:
        if self.model is None or len(self.models) != 1:
            raise TypeError(f"{self.owner}: give model= (one registered sqlorm model)")
        return self.info



def _number(value: t.Any) -> t.Any:
    if value is None:
        return None
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(number):
        return None
    return int(number) if number.is_integer() and abs(number) < 2**53 else number


class Metric(Panel):
    """One number, e.g. ``Metric("Orders this week", model=Order, period=timedelta(days=7),
    timestamp="created_at")``: the rows of the last ``period`` compared with the period before
    (the change shown as a difference and a percentage).

    - ``value``: ``"count"`` or ``(aggregate, column)``: ``sum``, ``avg``, ``min``, ``max``,
      ``median``, ``count``, ``count_distinct``;
    - ``where``: ``{"status__in": ["open", "pending"]}`` (operators ``exact``, ``ne``, ``gt``,
      ``gte``, ``lt``, ``lte``, ``in``, ``not_in``, ``isnull``), a sqlorm ``SQL`` condition, or
      a function of the context returning either;
    - ``format``: None (a number), ``"duration"`` (seconds), ``"percent"``, ``"{:,.2f} €"``, or
      a function;
    - ``good``: ``"up"`` (a rise shows green), ``"down"`` (a fall does), or None (neutral).
    """

    kind = "metric"

    def __init__(self, title: str, *, model: type, value: t.Any = "count", timestamp: str | None = None,
                 period: dt.timedelta | None = None, format: t.Any = None, good: str | None = "up",
                 **options):
        super().__init__(title, model=model, **options)
        info = self._check_model()
        self.value = aggregates.parse_value(info, value, owner=self.owner)
        if (period is None) != (timestamp is None):
            raise TypeError(f"{self.owner}: period= and timestamp= go together")
        self.timestamp = (aggregates.column_of(info, timestamp, owner=self.owner,
                                               kinds=("datetime", "date"))
                          if timestamp is not None else None)
        if period is not None and period <= dt.timedelta(0):
            raise ValueError(f"{self.owner}: period must be positive")
        self.period = period
        self.format = format
        if good not in ("up", "down", None):
            raise ValueError(f"{self.owner}: good is 'up', 'down' or None")
        self.good = good

    def data(self, ctx: PanelContext) -> dict[str, t.Any]:
        conditions = ctx.conditions(self)
        dialect = ctx.statement_dialect
        if self.period is not None:
            end = ctx.now
            middle = end - self.period
            start = middle - self.period
            stmt = aggregates.metric(dialect, self.info, self.value, conditions,
                                     timestamp=self.timestamp, start=start, middle=middle, end=end)
        else:
            stmt = aggregates.metric(dialect, self.info, self.value, conditions)
        rows = ctx.fetch(stmt)
        if self.value.aggregate == "median":
            by_period = {int(r["p"]): r["v"] for r in rows}
            current, previous = by_period.get(1), by_period.get(0)
        else:
            row = rows[0] if rows else {}
            current, previous = row.get("current"), row.get("previous")
        return {"value": _number(current),
                "previous": _number(previous) if self.period is not None else None}


@dataclass
class Series:
    """One line (or set of bars) of a TimeSeries: its own timestamp column, value or filter."""

    name: str
    timestamp: str | None = None
    value: t.Any = None
    where: t.Any = None
    color: str | None = None


class TimeSeries(Panel):
    """Counts or sums per ``bucket`` (``"hour"``, ``"day"``, ``"week"``, weeks from Monday) over
    the last ``days`` days, one SQL aggregate; empty buckets are 0, so the series is continuous.
    Several ``series=[Series("Opened", timestamp="created_at"), Series("Closed", ...)]`` share
    one chart (and one statement)."""

    kind = "series"
    default_width = 2
    #: The last bucket holds now: it is still filling up (the chart says so).
    partial_last = True

    def __init__(self, title: str, *, model: type, timestamp: str | None = None, bucket: str = "day",
                 days: int = 30, value: t.Any = "count", series: t.Sequence[Series] | None = None,
                 chart: str | None = None, format: t.Any = None, color: str | None = None,
                 **options):
        super().__init__(title, model=model, **options)
        info = self._check_model()
        if bucket not in aggregates.BUCKETS:
            raise ValueError(f"{self.owner}: bucket is one of {', '.join(aggregates.BUCKETS)}")
        self.bucket = bucket
        self.days = int(days)
        if not 1 <= self.days <= 3660:
            raise ValueError(f"{self.owner}: days between 1 and 3660")
        if self.bucket_count > 1000:
            raise ValueError(f"{self.owner}: more than 1,000 buckets; use a longer bucket")
        if series is None:
            if timestamp is None:
                raise TypeError(f"{self.owner}: give timestamp= (or series=)")
            series = [Series(title, timestamp=timestamp, color=color)]
        self.series: list[tuple[Series, SeriesQuery]] = []
        for one in series:
            ts = aggregates.column_of(info, one.timestamp or timestamp, owner=self.owner,
                                      kinds=("datetime", "date"))
            one_value = aggregates.parse_value(info, one.value if one.value is not None else value,
                                               owner=self.owner)
            conditions = tuple(self._parse_where(one.where))
            if one.color is not None:
                from .charts import palette

                palette(one.color)
            self.series.append((one, SeriesQuery(ts, one_value, conditions)))
        self.chart = chart or ("bars" if len(self.series) == 1 else "line")
        if self.chart not in ("bars", "line"):
            raise ValueError(f"{self.owner}: chart is 'bars' or 'line'")
        self.format = format

    @property
    def summable(self) -> bool:
        return all(query.value.summable for _, query in self.series)

    @property
    def bucket_count(self) -> int:
        if self.bucket == "hour":
            return self.days * 24
        if self.bucket == "week":
            return math.ceil(self.days / 7)
        return self.days

    def buckets(self, now: dt.datetime) -> list[dt.datetime]:
        """The start of every bucket of the window, oldest first; the last holds ``now``."""
        if self.bucket == "hour":
            last, step = now.replace(minute=0, second=0, microsecond=0), dt.timedelta(hours=1)
        else:
            last = now.replace(hour=0, minute=0, second=0, microsecond=0)
            step = dt.timedelta(days=1)
            if self.bucket == "week":
                last -= dt.timedelta(days=last.weekday())
                step = dt.timedelta(days=7)
        n = self.bucket_count
        return [last - step * (n - 1 - i) for i in range(n)]

    def data(self, ctx: PanelContext) -> dict[str, t.Any]:
        starts = self.buckets(ctx.now)
        step = starts[1] - starts[0] if len(starts) > 1 else (
            dt.timedelta(hours=1) if self.bucket == "hour" else
            dt.timedelta(days=7 if self.bucket == "week" else 1))
        common = ctx.conditions(self)
        queries = [dataclasses.replace(query, conditions=(*common, *query.conditions))
                   for _, query in self.series]
        stmt = aggregates.time_series(ctx.statement_dialect, self.info, queries,
                                      bucket=self.bucket, start=starts[0], end=starts[-1] + step)
        found: dict[tuple[int, dt.datetime], t.Any] = {}
        for row in ctx.fetch(stmt):
            start = _bucket_start(row["b"])
            if start is not None:
                found[(int(row["s"]), start)] = _number(row["v"])
        series = []
        for index, (one, query) in enumerate(self.series):
            zero = 0 if query.value.summable else None
            series.append({"name": str(one.name), "color": one.color,
                           "values": [found.get((index, s), zero) for s in starts]})
        return {"buckets": [s.isoformat() for s in starts], "series": series}


def _bucket_start(value: t.Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    if isinstance(value, str):
        try:
            return dt.datetime.fromisoformat(value).replace(tzinfo=None)
        except ValueError:
            return None
    return None


class Breakdown(Panel):
    """The ``top`` values of the column ``by`` with the most rows (or the largest ``value``),
    as a bar list, with what the others add up to. A foreign key shows the related rows'
    labels, linked to their pages; a column with choices shows their labels. ``order`` lists
    keys to show first, in that order (zeros included), e.g. priorities; ``colors`` maps keys
    to daisyUI colour names."""

    kind = "breakdown"

    def __init__(self, title: str, *, model: type, by: str, value: t.Any = "count", top: int = 10,
                 order: t.Sequence[t.Any] | None = None, colors: t.Mapping[t.Any, str] | None = None,
                 format: t.Any = None, **options):
        super().__init__(title, model=model, **options)
        info = self._check_model()
        self.by = aggregates.column_of(info, by, owner=self.owner)
        if self.by.kind == "json":
            raise TypeError(f"{self.owner}: cannot break down by a JSON column")
        self.value = aggregates.parse_value(info, value, owner=self.owner)
        self.top = int(top)
        if not 1 <= self.top <= 100:
            raise ValueError(f"{self.owner}: top between 1 and 100")
        self.order = [_plain(k) for k in order] if order is not None else None
        from .charts import palette

        self.colors = {}
        for key, name in (colors or {}).items():
            palette(name)
            self.colors[_plain(key)] = name
        self.format = format

    def data(self, ctx: PanelContext) -> dict[str, t.Any]:
        stmt = aggregates.breakdown(ctx.statement_dialect, self.info, self.by, self.value,
                                    ctx.conditions(self), top=self.top)
        rows = ctx.fetch(stmt)
        keys = [self.by.coerce(r["k"]) for r in rows]
        labels: dict[t.Any, str] = {}
        slug = None
        target = self.by.target_model
        if target is not None:
            labels = ctx.labels(target, keys)
            try:
                slug = ctx.admin.model_admin(target).slug
            except KeyError:
                slug = None
        choices = dict(self.by.choices or ())
        items = []
        for key, row in zip(keys, rows):
            plain = _plain(key)
            if key is None:
                label = _("(none)")
            elif target is not None:
                label = labels.get(key, f"#{plain}")
            else:
                label = str(choices.get(key, choices.get(plain, plain)))
            ref = [slug, _encode_pk(key)] if slug and key in labels else None
            items.append({"key": plain, "label": label, "value": _number(row["v"]), "ref": ref})
        if self.order is not None:
            by_key = {item["key"]: item for item in items}
            ordered = []
            for key in self.order:
                item = by_key.pop(key, None)
                if item is None:
                    label = str(choices.get(key, key))
                    item = {"key": key, "label": label, "value": 0 if self.value.summable else None,
                            "ref": None}
                ordered.append(item)
            items = ordered + [i for i in items if i["key"] in by_key]
        total = _number(rows[0]["total"]) if rows else 0
        groups = int(rows[0]["n_groups"]) if rows else 0
        shown = sum(i["value"] or 0 for i in items)
        other = (total - shown) if (self.value.summable and total is not None) else None
        return {"items": items, "total": total, "groups": groups,
                "other": other if other else None,
                "hidden_groups": max(0, groups - len([i for i in items if i["value"]]))}


def _plain(value: t.Any) -> t.Any:
    """A key as JSON keeps it (enums by value)."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return _number(value)
    return value


def _encode_pk(value: t.Any) -> str:
    from .cells import encode_pk

    return encode_pk((value,))


class Table(Panel):
    """The first ``limit`` rows of a query, e.g. ``Table("Latest refunds", model=Order,
    columns=["reference", "account_id", "total"], where={"status": "refunded"},
    order_by="-updated_at")``. The first column links to each row's detail page; foreign keys
    show the related rows' labels."""

    kind = "table"
    default_width = 2

    def __init__(self, title: str, *, model: type, columns: t.Sequence[str] | None = None,
                 order_by: str | t.Sequence[str] | None = None, limit: int = 10, **options):
        super().__init__(title, model=model, **options)
        info = self._check_model()
        if columns is None:
            columns = [c.attribute for c in info.columns
                       if not c.secret and not c.lazy and not c.primary_key][:4]
        self.columns = [aggregates.column_of(info, name, owner=self.owner) for name in columns]
        if not self.columns:
            raise TypeError(f"{self.owner}: no columns to show")
        if isinstance(order_by, str):
            order_by = [order_by]
        order_by = order_by or ["-" + c.attribute for c in info.primary_key]
        self.order = []
        for key in order_by:
            column = aggregates.column_of(info, key.lstrip("-"), owner=self.owner)
            self.order.append((column, key.startswith("-")))
        self.limit = int(limit)
        if not 1 <= self.limit <= 100:
            raise ValueError(f"{self.owner}: limit between 1 and 100")

    def data(self, ctx: PanelContext) -> dict[str, t.Any]:
        from .cells import coerced, encode_pk, format_value

        info = self.info
        stmt = aggregates.rows(ctx.statement_dialect, info, self.columns, ctx.conditions(self),
                               order=self.order, limit=self.limit)
        rows = [coerced(info, row) for row in ctx.fetch(stmt)]
        slug = ctx.model_admin(self.model).slug
        fk_labels: dict[str, dict[t.Any, str]] = {}
        fk_slugs: dict[str, str | None] = {}
        for column in self.columns:
            if column.target_model is not None:
                fk_labels[column.name] = ctx.labels(column.target_model,
                                                    [r.get(column.name) for r in rows])
                try:
                    fk_slugs[column.name] = ctx.admin.model_admin(column.target_model).slug
                except KeyError:
                    fk_slugs[column.name] = None
        out_rows = []
        for row in rows:
            cells = []
            for column in self.columns:
                value = row.get(column.name)
                if column.name in fk_labels and value is not None:
                    label = fk_labels[column.name].get(value)
                    target = fk_slugs[column.name]
                    cells.append({"text": label or f"#{value}",
                                  "ref": [target, _encode_pk(value)] if label and target else None})
                else:
                    cell = format_value(column, value, max_chars=80)
                    cells.append({"text": cell.text, "ref": None, "empty": cell.empty})
            pk = tuple(row[c.name] for c in info.primary_key)
            out_rows.append({"ref": [slug, encode_pk(pk)], "cells": cells})
        return {"columns": [{"label": c.label,
                             "numeric": c.kind in aggregates.NUMERIC_KINDS and not c.is_foreign_key}
                            for c in self.columns],
                "rows": out_rows}


class Markdown(Panel):
    """A note in a small, safe subset of Markdown (see ``hyper_admin.markdown``): rendered with
    the page, no request of its own, no query."""

    kind = "markdown"
    deferred = False
    no_query = True
    default_width = 2

    def __init__(self, title: str, text: str, **options):
        super().__init__(title, **options)
        self.text = text  # a lazy string is translated when the page shows it

    def data(self, ctx: PanelContext) -> dict[str, t.Any]:
        return {"text": str(self.text)}


class FunctionPanel(Panel):
    """A panel computed by a function of the context (``@admin.dashboard.panel``). What the
    function returns, by ``kind``:

    - ``metric``: a number, ``(value, previous)`` or ``{"value": ..., "previous": ...}``;
    - ``series``: ``{"buckets": [datetime, ...], "series": [{"name": ..., "values": [...]}]}``
      (or ``"values"`` for one series);
    - ``breakdown``: ``[(label, value), ...]`` or dicts with ``label``, ``value``, ``url``;
    - ``table``: ``{"columns": [...], "rows": [[...], ...]}`` (a row may be a dict with
      ``cells`` and ``url``);
    - ``markdown``: the text;
    - anything JSON with ``template=``: the template gets it as ``data``.
    """

    def __init__(self, function: t.Callable[[PanelContext], t.Any], title: str, *,
                 kind: str = "metric", template: str | None = None, format: t.Any = None,
                 good: str | None = "up", bucket: str = "day", chart: str | None = None,
                 period: dt.timedelta | None = None, partial_last: bool = False, **options):
        if template is not None:
            kind = "custom"
        if kind not in KINDS:
            raise ValueError(f"panel kind is one of {', '.join(KINDS)}")
        if kind == "custom" and template is None:
            raise TypeError("a custom panel needs template=")
        self.kind = kind
        self.default_width = {"series": 2, "table": 2, "markdown": 2}.get(kind, 1)
        super().__init__(title, **options)
        self.function = function
        self.template = template
        self.format = format
        self.good = good
        self.bucket = bucket
        self.chart = chart or "bars"
        self.period = period
        self.summable = True
        self.partial_last = bool(partial_last)

    def data(self, ctx: PanelContext) -> t.Any:
        return normalise(self.kind, self.function(ctx))


def normalise(kind: str, result: t.Any) -> t.Any:
    """A function panel's result in the shape the panel templates read."""
    if kind == "metric":
        if isinstance(result, t.Mapping):
            return {"value": _number(result.get("value")), "previous": _number(result.get("previous"))}
        if isinstance(result, (tuple, list)):
            value, previous = (list(result) + [None, None])[:2]
            return {"value": _number(value), "previous": _number(previous)}
        return {"value": _number(result), "previous": None}
    if kind == "series":
        result = dict(result)
        buckets = [b.isoformat() if isinstance(b, (dt.date, dt.datetime)) else str(b)
                   for b in result.get("buckets", [])]
        series = result.get("series")
        if series is None:
            series = [{"name": result.get("name", "Value"), "values": result.get("values", [])}]
        return {"buckets": buckets,
                "series": [{"name": str(s.get("name", "")), "color": s.get("color"),
                            "values": [_number(v) for v in s.get("values", [])]} for s in series]}
    if kind == "breakdown":
        items = []
        for item in result or ():
            if isinstance(item, t.Mapping):
                label, value, url = item.get("label"), item.get("value"), item.get("url")
            else:
                label, value, url = item[0], item[1], None
            items.append({"key": str(label), "label": str(label), "value": _number(value),
                          "ref": None, "url": url})
        total = sum(i["value"] or 0 for i in items)
        return {"items": items, "total": total, "groups": len(items), "other": None,
                "hidden_groups": 0}
    if kind == "table":
        result = dict(result)
        rows = []
        for row in result.get("rows", []):
            url = None
            if isinstance(row, t.Mapping):
                url, row = row.get("url"), row.get("cells", [])
            rows.append({"ref": None, "url": url,
                         "cells": [{"text": "—" if v is None else str(v), "ref": None,
                                    "empty": v is None} for v in row]})
        return {"columns": [{"label": str(c), "numeric": False} for c in result.get("columns", [])],
                "rows": rows}
    if kind == "markdown":
        return {"text": str(result or "")}
    return result


# ---------------------------------------------------------------------------------------------
# The dashboard: a registry of panels


class Dashboard:
    """The panels of an admin's dashboard, in the order they were added.

    ``admin.dashboard.add(Metric(...), TimeSeries(...))``, or the decorator form for a function
    panel: ``@admin.dashboard.panel("Median first response", kind="metric", model=Ticket)``.
    ``title`` heads the panels on the page (e.g. "Support health").
    """

    def __init__(self, title: str | None = None):
        self.title = title
        self._panels: dict[str, Panel] = {}

    def add(self, *panels: Panel) -> Panel | None:
        for panel in panels:
            if not isinstance(panel, Panel):
                raise TypeError(f"{panel!r} is not a Panel")
            if panel.row_column is not None or panel._row_column_name is not None:
                raise TypeError(f"{panel.owner}: row_column is for ModelAdmin.detail_panels")
            if panel.id in self._panels:
                raise ValueError(f"the dashboard already has a panel {panel.id!r}; give id=")
            self._panels[panel.id] = panel
        return panels[-1] if panels else None

    def panel(self, title: str, *, kind: str = "metric", **options):
        """Decorate ``function(ctx)`` as a panel of this dashboard (see FunctionPanel)."""

        def decorate(function: t.Callable[[PanelContext], t.Any]):
            self.add(FunctionPanel(function, title, kind=kind, **options))
            return function

        return decorate

    def remove(self, panel_id: str) -> None:
        self._panels.pop(panel_id, None)

    def get(self, panel_id: str) -> Panel | None:
        return self._panels.get(panel_id)

    def __iter__(self) -> t.Iterator[Panel]:
        return iter(list(self._panels.values()))

    def __len__(self) -> int:
        return len(self._panels)


def bind_detail_panels(model_admin: "ModelAdmin") -> dict[str, Panel]:
    """ModelAdmin.detail_panels, each bound to rows of its model (checked at registration)."""
    bound: dict[str, Panel] = {}
    for panel in model_admin.detail_panels:
        if not isinstance(panel, Panel):
            raise TypeError(f"detail_panels of {type(model_admin).__name__}: {panel!r} is not a Panel")
        one = panel.for_detail(model_admin.model)
        if one.id in bound:
            raise ValueError(f"detail_panels of {type(model_admin).__name__}: two panels "
                             f"{one.id!r}; give id=")
        bound[one.id] = one
    return bound


# ---------------------------------------------------------------------------------------------
# Loading a panel: cache, single flight, errors


@dataclass
class PanelResult:
    data: t.Any = None
    at: float = 0.0                # when the data was computed (cache clock, seconds)
    error: str | None = None       # "timeout", "unavailable", "error"
    exception: BaseException | None = None   # only when computed by this request
    cached: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None


def _json_default(value: t.Any) -> t.Any:
    if isinstance(value, decimal.Decimal):
        return _number(value)
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"panel data must be JSON; got {type(value).__name__}")


def cache_key(admin_name: str, location: str, panel: Panel, ctx: PanelContext) -> str:
    """Panel, place (dashboard or ``<slug>/<pk>``) and what the data depends on: the user's
    scope on each model the panel reads (its SQL text and parameters), or the user for
    ``per_user`` panels; and the language, since the data holds words and formatted values
    (choice labels, column headers, dates)."""
    from sqlorm.sql import render

    parts: list[t.Any] = [["locale", str(current_locale())]]
    for model in panel.models:
        scope = ctx.scope(model)
        if scope is None:
            parts.append("all")
        else:
            text, params = render(scope, paramstyle="qmark")
            parts.append([text, params])
    if panel.per_user:
        get_id = getattr(ctx._user, "get_id", None)
        parts.append(["user", get_id() if get_id else repr(ctx._user)])
    digest = hashlib.sha256(json.dumps(parts, default=str, sort_keys=True).encode()).hexdigest()[:32]
    return f"panel:v1:{admin_name}:{location}:{panel.id}:{digest}"


def _classify(exc: BaseException) -> str:
    if isinstance(exc, sql.QueryTimeout) or sql.database_problem(exc) == sql.TIMEOUT:
        return "timeout"
    if sql.database_problem(exc) is not None:
        return "unavailable"
    return "error"


def compute(panel: Panel, ctx: PanelContext, default_timeout: float | None) -> PanelResult:
    """Run the panel now (no cache), within its time limit; errors become a result."""
    try:
        with sql.limited(panel.timeout or default_timeout):
            data = panel.data(ctx)
        data = json.loads(json.dumps(data, default=_json_default))
    except Exception as exc:  # noqa: BLE001 - a panel's failure is shown in the panel
        return PanelResult(error=_classify(exc), exception=exc)
    return PanelResult(data=data)


def load(panel: Panel, ctx: PanelContext, cache: "Cache", key: str, *, fresh: bool = False,
         default_timeout: float | None = None) -> PanelResult:
    """The panel's data from the cache, or computed (by one request at a time per key: the
    others wait for it, up to the panel's time limit, then read it)."""
    if not panel.cache:
        result = compute(panel, ctx, default_timeout)
        result.at = cache.now()
        return result

    def usable(entry: PanelResult | None) -> bool:
        return entry is not None and not (fresh and cache.now() - entry.at >= FRESH_AFTER)

    entry = _read(cache, key)
    if usable(entry):
        return entry
    wait = (panel.timeout or default_timeout or 10.0) + 1.0
    with cache.lock(key, wait):
        entry = _read(cache, key)
        if usable(entry):
            return entry
        result = compute(panel, ctx, default_timeout)
        result.at = cache.now()
        if result.ok:
            payload = {"at": result.at, "data": result.data}
            ttl = panel.cache
        else:
            payload = {"at": result.at, "error": result.error}
            ttl = min(panel.cache, ERROR_CACHE)
        cache.set(key, json.dumps(payload), ttl)
        return result


def _read(cache: "Cache", key: str) -> PanelResult | None:
    raw = cache.get(key)
    if raw is None:
        return None
    try:
        payload = json.loads(raw)
        return PanelResult(data=payload.get("data"), at=float(payload["at"]),
                           error=payload.get("error"), cached=True)
    except (ValueError, KeyError, TypeError):
        return None


__all__ = ["Panel", "Metric", "TimeSeries", "Series", "Breakdown", "Table", "Markdown",
           "FunctionPanel", "Dashboard", "PanelContext"]
