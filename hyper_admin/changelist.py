"""The list object (Django's ChangeList is the model): one list of one model as one user asks
for it: the columns it shows and the joins they need, what may be sorted, filtered and
searched (the validated spec), the parsed query string, and its page.

The list page, its count, the filter panel's counts, the date bar, live updates, export, bulk
actions on "all matching" and the command palette build one and share what it worked out,
instead of re-deriving pieces. A model-admin layer module: given the user and the admin's
settings, it reads no request; a malformed query string raises ``BadQuery`` (views answer 400).
"""

from __future__ import annotations

import dataclasses
import hashlib
import typing as t
from urllib.parse import urlencode

from .cells import DisplayColumn, resolve_list_display
from .changes import version_column
from .i18n import _
from .fts import trigram_tables
from .index_advisor import search_matches_few
from .introspect import ColumnInfo, ModelInfo
from .list_filters import FilterColumn, as_list_filter
from .many_to_many import display_items, filter_columns
from .query import (COUNT_CAP, BadQuery, Count, Join, ListParams, ListSpec, Page, PathJoins,
                    RelatedColumn, count_matching, parse_list_params, parse_sort, path_key,
                    resolve_path, select_list, with_parents)
from .sql import dialect_of

if t.TYPE_CHECKING:
    from .options import ModelAdmin
    from .shared_counts import SharedCounts


def cursor_key(model_admin: "ModelAdmin", secret_key: str | bytes | None) -> bytes:
    """The key cursors of this model's lists are signed with (per application and model)."""
    secret = secret_key or ""
    if isinstance(secret, str):
        secret = secret.encode()
    return hashlib.sha256(b"hyper_admin cursor|" + secret + b"|" + model_admin.slug.encode()).digest()


def column_or_path(info: ModelInfo, name: str, visible: dict[str, ColumnInfo]
                   ) -> ColumnInfo | RelatedColumn | None:
    """A visible column by attribute, or a path of foreign keys to a column
    (``order.account.region``: query.resolve_path), the first hop a visible column."""
    if "." in name:
        return resolve_path(info, name, visible)
    return visible.get(name)


def sort_column(info: ModelInfo, name: str, visible: dict[str, ColumnInfo],
                joins: PathJoins) -> ColumnInfo | RelatedColumn | None:
    """What ``name`` sorts by: a visible column, or a path (``order.account.region`` as
    options write it, ``order__account__region`` as the query string does) read through its
    LEFT JOINs in ``joins``."""
    if name in visible:
        return visible[name]
    path = name.replace("__", ".") if "." not in name else name
    related = resolve_path(info, path, visible) if "." in path else None
    if related is None:
        return None
    join = joins.along(related.hops, related.models)
    return related.joined(join) if join is not None else None


def list_spec(model_admin: "ModelAdmin", user: t.Any, *, per_page: int, max_per_page: int,
              secret_key: str | bytes | None, display_sort_keys: t.Iterable[str] = (),
              joins: PathJoins | None = None) -> ListSpec:
    """Which fields may be sorted, filtered and searched, for this user, per CONTRACT §3. The
    options were checked at registration (checks.py): a name that is not there now is a
    get_* override's, which fails here. Sorts by a relation path join in ``joins``."""
    info = model_admin.info
    visible = {c.attribute: c for c in model_admin.visible_columns()}
    joins = joins if joins is not None else PathJoins()
    sortable: dict[str, ColumnInfo] = {}
    for name in [*display_sort_keys, *model_admin.sortable_fields, *(c.attribute for c in info.primary_key)]:
        column = sort_column(info, name, visible, joins) if name else None
        if column is not None and not column.lazy and column.sortable:
            sortable[path_key(name)] = column
    filterable = _filterable(model_admin, user, visible)
    search: list[ColumnInfo | RelatedColumn] = []
    for name in model_admin.get_search_fields(user):
        target = column_or_path(info, name, visible)
        if target is None:
            raise TypeError(f"search_fields {name!r} of {type(model_admin).__name__} is not a visible column")
        search.append(target)
    spec = ListSpec(
        info=info, sortable=sortable, filterable=filterable, search=search, ordering=[],
        per_page=int(model_admin.per_page or per_page), max_per_page=max_per_page,
        scope=model_admin.list_scope(user), base=model_admin.base_query(user),
        cursor_key=cursor_key(model_admin, secret_key),
    )
    ordering = [path_key(name) for name in model_admin.get_ordering(user)]
    # The default order may use any visible column or path, sortable by users or not.
    orderable: dict[str, ColumnInfo] = {**sortable, **visible}
    for name in ordering:
        name = name.lstrip("-+")
        if name not in orderable:
            column = sort_column(info, name, visible, joins)
            if column is not None:
                orderable[name] = column
    try:
        spec.ordering = parse_sort(",".join(ordering), orderable)
    except BadQuery as exc:
        raise TypeError(f"ordering of {type(model_admin).__name__}: {exc}") from None
    return spec


def _filterable(model_admin: "ModelAdmin", user: t.Any, visible: dict[str, ColumnInfo]
                ) -> dict[str, ColumnInfo]:
    filterable: dict[str, ColumnInfo] = {}
    info = model_admin.info
    items = model_admin.get_list_filter(user)
    joined = filter_columns(model_admin, [n for n in items if isinstance(n, str)])
    for name in items:
        custom = as_list_filter(name)
        if custom is not None:
            # Its choices for this user, its condition with this user (list_filters.py).
            filterable[custom.parameter_name] = FilterColumn(custom, user, info.table)
            continue
        column = joined.get(name) or column_or_path(info, name, visible)
        if column is None:
            raise TypeError(f"list_filter {name!r} of {type(model_admin).__name__} is not a "
                            "visible column or a path of foreign keys to a column")
        # A path's query-string name: order__account__region (RelatedColumn.attribute).
        filterable[column.attribute] = column
    if model_admin.date_hierarchy:
        # Checked at registration (E007); its links are __gte/__lte filters.
        column = column_or_path(info, model_admin.date_hierarchy, visible)
        if column is None:
            raise TypeError(f"date_hierarchy {model_admin.date_hierarchy!r} of "
                            f"{type(model_admin).__name__} is not a visible column or path")
        filterable.setdefault(column.attribute, column)
    for column in visible.values():
        # Foreign keys are always filterable: the detail page links children lists by them.
        if column.is_foreign_key:
            filterable.setdefault(column.attribute, column)
    return filterable


class ChangeList:
    """One list as ``user`` asks for it with the query string ``args``.

    ``columns``/``joins``: what the list shows (the ``?columns=`` choice) and the joins those
    need; ``all_columns``: every column list_display offers (the column chooser); ``spec``:
    what may be sorted, filtered and searched; ``params``: the parsed query string."""

    def __init__(self, model_admin: "ModelAdmin", user: t.Any, args: t.Any, *, per_page: int,
                 max_per_page: int, secret_key: str | bytes | None, engine: t.Any = None):
        self.model_admin = model_admin
        self.user = user
        self.request_args = args
        # A query view binds its parameters (and the user's scope) into the query itself; the
        # rest of the query string is the list's.
        args = model_admin.bind_query(user, args, engine)
        self.args = args
        # One LEFT JOIN per path of foreign keys, shared by labels, related columns and sorts.
        joins = PathJoins()
        # Many-to-many names become chips columns (one query per page: list_rows.rows_of).
        shown = display_items(model_admin, model_admin.get_list_display(user))
        self.all_columns, _unused = resolve_list_display(model_admin, user, shown, joins)
        self.spec = list_spec(model_admin, user, per_page=per_page, max_per_page=max_per_page,
                              secret_key=secret_key,
                              display_sort_keys=[c.sort_key for c in self.all_columns if c.sort_key],
                              joins=joins)
        if engine is not None:
            # SQLite: FTS5 trigram tables over the model's table serve its plain search.
            self.spec.fts = trigram_tables(engine, dialect_of(engine), model_admin.info)
        self.params: ListParams = parse_list_params(args, self.spec)
        self.columns, self.joins = _chosen_columns(self.all_columns, joins.all(), args,
                                                   self.params.sort)
        if not model_admin.rows_have_pages(user):
            for column in (*self.columns, *self.all_columns):
                column.link = False  # nowhere to go: a query view's rows have no page of their own

    @property
    def info(self) -> ModelInfo:
        return self.spec.info

    def selection_columns(self) -> list[ColumnInfo]:
        """What a row's selection token covers: the row's own displayed columns and the
        version column when the ModelAdmin names one."""
        return selection_columns(self.model_admin, self.columns)

    def page(self, engine: t.Any, dialect: t.Any, columns: t.Sequence[ColumnInfo],
             params: ListParams | None = None, *, shared: "SharedCounts | None" = None,
             **options: t.Any) -> Page:
        """The rows of the requested page (``columns`` of the model, and the joins' labels);
        ``params``: another page of the same list (export's batches, live's newest rows).
        ``shared``: counts go through the shared counts (shared_counts.py), and a deferred
        count that another request already made is on the page at once."""
        params = params or self.params
        if search_matches_few(engine, dialect, self.spec, params):
            params = dataclasses.replace(params, keys_first=True)
        if shared is not None:
            options["counter"] = lambda counted, cap: self.count(
                engine, dialect, shared=shared, params=counted, cap=cap)
        page = select_list(engine, dialect, self.spec, params, list(columns), self.joins,
                           **options)
        cap = options.get("count_cap", COUNT_CAP)
        if shared is not None and page.total_kind == "deferred" and cap is not None:
            known = shared.cached_count(engine, dialect, self.spec, params, cap=cap)
            if known is not None:
                page.total, page.total_kind = known.value, known.kind
                page.total_capped = known.kind == "more_than"
        return page

    def count(self, engine: t.Any, dialect: t.Any, *, shared: "SharedCounts | None" = None,
              params: ListParams | None = None, cap: int = COUNT_CAP) -> Count:
        """How many rows the list matches, as cheaply as it may be known; through
        ``shared`` when given (the same count for every user of the same scope, for a while)."""
        params = params or self.params
        if shared is None:
            return count_matching(engine, dialect, self.spec, params, cap=cap)
        return shared.count(engine, dialect, self.spec, params, cap=cap,
                            compute=lambda: count_matching(engine, dialect, self.spec, params,
                                                           cap=cap))

    def query_string(self, *without: str, **updates: t.Any) -> str:
        """This list's query string (as asked, a query view's parameters included) without
        the keys ``without`` and with ``updates`` (None drops a key): the pager's, the sort
        headers', the chips' links."""
        items = [(k, v) for k, v in self.request_args.items(multi=True)
                 if k not in without and k not in updates]
        items += [(k, v) for k, v in updates.items() if v is not None]
        return urlencode(items, safe=",")  # sort=status,-total reads as typed

    def pager(self, page: Page) -> tuple[str | None, str | None]:
        """The query strings of the next and the previous page (None: there is none). They
        leave out ``all``: a list paged because Show all was refused goes on paging."""
        paging = ("after", "before", "page", "all")
        next_query = prev_query = None
        if page.keyset:
            if page.next_cursor:
                next_query = self.query_string(*paging, after=page.next_cursor)
            if page.has_prev:
                prev_query = (self.query_string(*paging, before=page.prev_cursor)
                              if page.prev_cursor else self.query_string(*paging))
        else:
            if page.has_next:
                next_query = self.query_string(*paging, page=page.page + 1)
            if page.has_prev:
                prev_query = self.query_string(*paging, page=page.page - 1 if page.page > 2 else None)
        return next_query, prev_query


def selection_columns(model_admin: "ModelAdmin", columns: t.Sequence[DisplayColumn]) -> list[ColumnInfo]:
    """What a list row's selection token covers: the row's own displayed columns (``columns``
    are the list's DisplayColumns) and the version column when the ModelAdmin names one."""
    out = [c.column for c in columns if c.column is not None and c.related is None]
    version = version_column(model_admin)
    if version is not None and version not in out:
        out.append(version)
    return out


def _chosen_columns(columns: list[DisplayColumn], joins: list[Join], args: t.Any,
                    sort: t.Sequence[tuple[ColumnInfo, bool]] = ()
                    ) -> tuple[list[DisplayColumn], list[Join]]:
    """``columns=a,b`` (or repeated) shows those list_display columns, in that order; and
    the joins those columns and the sort read (with the joins each is reached through)."""
    shown = _shown_columns(columns, args)
    used = [c.join for c in shown] + [getattr(c, "join", None) for c, _descending in sort]
    return shown, with_parents(used, joins)


def _shown_columns(columns: list[DisplayColumn], args: t.Any) -> list[DisplayColumn]:
    if "columns" not in args:
        return columns
    keys = [k.strip() for value in args.getlist("columns") for k in value.split(",") if k.strip()]
    by_key = {c.key: c for c in columns}
    unknown = [k for k in keys if k not in by_key]
    if unknown:
        raise BadQuery(_("no column %(name)s in this list", name=repr(unknown[0])))
    if not keys:
        raise BadQuery(_("choose at least one column"))
    shown = [by_key[k] for k in dict.fromkeys(keys)]
    if not any(c.link for c in shown):
        shown[0].link = True  # the row must still link its own page
    return shown
