"""GET /admin/<slug>/ — the list; GET /admin/<slug>/lookup — the foreign-key picker's options."""

from __future__ import annotations

import typing as t
import weakref
from types import SimpleNamespace
from urllib.parse import parse_qsl, urlencode

from flask import abort, render_template, request, make_response
from flask_login import current_user
from markupsafe import Markup

from ..cells import (WRAP_AT, Cell, DisplayColumn, ListRow, coerced, encode_pk, format_value,
                    label_columns, label_for, label_needs_row, make_object, render_cell,
                    render_row, row_checkbox, row_token, select_label, td_renderer, esc)
from ..htmx import current_htmx
from ..i18n import _, format_count, format_number
from ..introspect import model_info
from ..options import ModelAdmin, default_label
from ..query import MAX_SORT_FIELDS, BadQuery, count_matching, lookup_rows, parse_value, select_list
from .dates import dates_url
from .facets import filter_chips, filter_panel
from .common import (engine_and_dialect, list_request, list_url, may_view, model_admin_for,
                     selection_columns)
from ..pipeline import URL_PLACEHOLDER, admin_url
from .render import Crumb, render_page, templates_for

LOOKUP_LIMIT = 20


def _args_without(*names: str, **updates: t.Any) -> str:
    items = [(k, v) for k, v in request.args.items(multi=True) if k not in names and k not in updates]
    items += [(k, v) for k, v in updates.items() if v is not None]
    return urlencode(items, safe=",")  # sort=status,-total reads as typed


def row_columns(model_admin: ModelAdmin, listing, *extra) -> tuple[list, list]:
    """The columns a list page selects for its rows (the displayed ones, those of the selection
    tokens, and ``extra``), and the token columns."""
    plain = [c.column for c in listing.columns if c.column is not None]
    if any(c.function is not None for c in listing.columns):
        # Callables get a model object: give them every column, not only the displayed ones.
        plain = [c for c in listing.spec.info.columns if not c.lazy]
    tokened = selection_columns(model_admin, listing.columns)
    plain += [c for c in tokened if c not in plain]
    plain += [c for c in extra if c is not None and c not in plain]
    return plain, tokened


def rows_of(model_admin: ModelAdmin, listing, page, tokened, *, actions=None,
            can_delete=None) -> list:
    """The page's rows as rendered list rows (checkboxes where the user has actions; pass what
    the caller already knows of those)."""
    user = current_user
    if actions is None:
        actions = model_admin.get_actions(user)
    if can_delete is None:
        can_delete = model_admin.has_permission("delete", user)
    selectable = bool(actions or can_delete)
    formatter = _RowFormatter(model_admin, listing.columns, page.rows[0] if page.rows else None,
                              selectable=selectable, tokened=tokened)
    return [formatter.row(row) for row in page.rows]


def list_view(model_admin: ModelAdmin):
    user = current_user
    listing = list_request(model_admin, request.args)
    columns, joins, spec, params = listing.columns, listing.joins, listing.spec, listing.params
    engine, dialect = engine_and_dialect()
    row_link = _row_link(model_admin)
    plain, tokened = row_columns(model_admin, listing, row_link[0] if row_link else None)
    page = select_list(engine, dialect, spec, params, plain, joins, defer_count=True)
    actions = model_admin.get_actions(user)
    can_delete = model_admin.has_permission("delete", user)
    rows = rows_of(model_admin, listing, page, tokened, actions=actions, can_delete=can_delete)

    base = list_url(model_admin)
    next_url = prev_url = None
    if page.keyset:
        if page.next_cursor:
            next_url = f"{base}?{_args_without('after', 'before', 'page', after=page.next_cursor)}"
        if page.has_prev:
            prev_url = (f"{base}?{_args_without('after', 'before', 'page', before=page.prev_cursor)}"
                        if page.prev_cursor else f"{base}?{_args_without('after', 'before', 'page')}")
    else:
        if page.has_next:
            next_url = f"{base}?{_args_without('after', 'before', 'page', page=page.page + 1)}"
        if page.has_prev:
            prev_url = f"{base}?{_args_without('after', 'before', 'page', page=page.page - 1 if page.page > 2 else None)}"

    pairs = list(request.args.items(multi=True))
    headers = _headers(columns, spec, base, request.args.get("sort", "") if params.sort_given else "")

    context = dict(
        model_admin=model_admin, headers=headers, rows=rows, page=page, params=params,
        rows_html=Markup("\n".join(row.html for row in rows)),
        q=params.q, next_url=next_url, prev_url=prev_url, list_url=base,
        filters=filter_chips(spec, params, pairs, base),
        filter_panel=filter_panel(model_admin, spec, pairs, base),
        actions=actions,
        can_add=model_admin.has_permission("add", user),
        can_change=model_admin.has_permission("change", user),
        can_delete=can_delete,
        can_export=model_admin.has_permission("export", user),
        searchable=bool(spec.search),
        column_choices=[{"key": c.key, "label": c.label, "shown": c in columns}
                        for c in listing.all_columns],
        chooser_state=[(k, v) for k, v in request.args.items(multi=True)
                       if k not in ("columns", "after", "before", "page")],
        query_string=request.query_string.decode("latin-1"),
        total_text=_total_text(page),
        row_range=_row_range(page),
        count_url=_count_url(model_admin) if page.total_kind == "deferred" else None,
        live=_live_context(model_admin, listing),
        dates_url=dates_url(model_admin) if model_admin.date_hierarchy else None,
    )
    htmx = current_htmx()
    if htmx.wants_fragment and htmx.target == "list-results":
        # The panel and the search form's hidden state sit outside #list-results: sent out of
        # band, unless only the page changed (Next/Previous), which leaves both as they are.
        response = make_response(render_template(templates_for("partials/list_results", model_admin.slug),
                                                 panel_oob=not _only_paging(htmx, pairs), **context))
        response.headers["HX-Push-Url"] = request.full_path.rstrip("?")
        return response
    return render_page(
        "list", slug=model_admin.slug, page_title=model_admin.verbose_name_plural,
        breadcrumbs=[Crumb(_("Dashboard"), _dashboard_url()), Crumb(model_admin.verbose_name_plural)],
        **context,
    )


def _headers(columns: list[DisplayColumn], spec, base: str, sort: str) -> list[dict]:
    """The column headers, with their sort links, as Django's admin does it: a header's link
    makes its column the first sort field (ascending; the other way round when it already is
    first; in its direction when it was a later one), keeping the fields the list is sorted by
    after it, so that sorting by several columns takes clicks, not typing. A list sorted by
    several fields shows each one's rank and a link that takes it out of the sort. ``sort``: the ``sort=`` of the request (already
    checked), empty for the model's default order."""
    current: list[tuple[str, bool]] = []
    for part in sort.split(","):
        name = part.strip().lstrip("-+")
        if name and name not in dict(current):
            current.append((name, part.strip().startswith("-")))
    rank = {name: (i, descending) for i, (name, descending) in enumerate(current)}

    def link(fields: list[tuple[str, bool]]) -> str:
        value = ",".join(("-" if descending else "") + name for name, descending in fields)
        return f"{base}?{_args_without('after', 'before', 'page', 'sort', sort=value or None)}".rstrip("?")

    headers = []
    for column in columns:
        key = column.sort_key
        sort_url = remove_url = None
        position = rank.get(key) if key else None
        if key and key in spec.sortable:
            if position is None:
                first = (key, False)
            else:
                first = (key, not position[1] if position[0] == 0 else position[1])
            others = [(name, descending) for name, descending in current if name != key]
            sort_url = link([first, *others][:MAX_SORT_FIELDS])
            if position is not None and len(current) > 1:
                remove_url = link(others)
        headers.append({
            "label": column.label, "sort_url": sort_url, "numeric": column.numeric,
            "direction": None if position is None else ("desc" if position[1] else "asc"),
            "rank": position[0] + 1 if position is not None and len(current) > 1 else None,
            "primary": position is not None and position[0] == 0,
            "remove_url": remove_url,
        })
    return headers


def _live_context(model_admin: ModelAdmin, listing) -> dict | None:
    """The Live toggle (``?live=1``) and, when on, the stream's URLs from the newest row."""
    if not getattr(model_admin, "live", False):
        return None
    on = request.args.get("live") == "1"
    toggle = f"{list_url(model_admin)}?{_args_without('after', 'before', 'page', 'live', live='1' if not on else None)}"
    context = {"on": on, "toggle_url": toggle.rstrip("?")}
    if on:
        from .live import newest_value

        query = _args_without("after", "before", "page", "live", since=newest_value(model_admin, listing))
        context["stream_url"] = admin_url(".live", slug=model_admin.slug) + "?" + query
        context["rows_url"] = admin_url(".live_rows", slug=model_admin.slug) + "?" + query
    return context


def _row_link(model_admin: ModelAdmin):
    """A query view's row link: (key column, detail URL template of the linked model)."""
    link_for = getattr(model_admin, "row_link_for", None)
    return link_for(current_user) if link_for is not None else None


def _count_url(model_admin: ModelAdmin) -> str:
    """Where the list fetches its count (the list's query string, without paging)."""
    query = _args_without("after", "before", "page")
    url = admin_url(".count", slug=model_admin.slug)
    return f"{url}?{query}" if query else url


def count_view(model_admin: ModelAdmin):
    """GET /admin/<slug>/count?<list query string>: how many rows the list matches, as the
    list shows it (exact, "about", "more than" with a link to count exactly), loaded by the
    list in its own request so that counting never holds the rows up."""
    listing = list_request(model_admin, request.args)
    engine, dialect = engine_and_dialect()
    total = count_matching(engine, dialect, listing.spec, listing.params)
    page = SimpleNamespace(total=total.value, total_kind=total.kind)
    query_string = _args_without("after", "before", "page", "count")
    return make_response(render_template(
        templates_for("partials/list_count", model_admin.slug), model_admin=model_admin,
        page=page, total_text=_total_text(page), list_url=list_url(model_admin),
        query_string=query_string, count_url=None))


def _only_paging(htmx, pairs: list[tuple[str, str]]) -> bool:
    """Whether this swap only moves to another page of the list the browser shows."""
    current = htmx.current_path
    if current is None:
        return False
    path, _unused, query = current.partition("?")
    if path != request.path:
        return False
    ignored = ("after", "before", "page")
    before = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if k not in ignored]
    return before == [(k, v) for k, v in pairs if k not in ignored]


def _dashboard_url() -> str:
    from flask import url_for

    return url_for(".dashboard")


def _row_range(page) -> dict | None:
    """The rows the page shows, counted from 1 ("51" to "100"), when the list spans more than
    this page and the page knows where it starts; None otherwise (the count alone says it)."""
    if not page.rows or page.offset is None:
        return None
    if not (page.has_next or page.has_prev or page.offset):
        return None
    return {"first": format_number(page.offset + 1), "last": format_number(page.offset + len(page.rows))}


def _total_text(page) -> str:
    """The count as the list shows it: "1,234", "about 9.8M", "more than 10,000" (per locale)."""
    return format_count(page.total, page.total_kind)


LABEL_MEMO_SIZE = 20_000
_label_memos: "weakref.WeakKeyDictionary[type, dict[tuple, str]]" = weakref.WeakKeyDictionary()


def _label_memo(model: type) -> dict[tuple, str]:
    """Labels of ``model`` rows by their joined values (see _RowFormatter._label_function)."""
    memo = _label_memos.get(model)
    if memo is None:
        memo = _label_memos[model] = {}
    return memo


class _RowFormatter:
    """Turns the page's rows into ``<tr>`` markup. Everything that is the same for every row
    (URLs, permissions, which columns a row carries, how each column renders) is worked out
    once per page, not per row.

    Plain columns and foreign keys render straight from the database row (``td_renderer`` and
    ``_fk_renderer``). Callables, ``formatters``, related columns and editable cells take the
    general path: the row's values coerced, an object built if needed, Cells rendered."""

    _PK = URL_PLACEHOLDER + "pk__"

    def __init__(self, model_admin: ModelAdmin, columns: list[DisplayColumn], sample: t.Any,
                 selectable: bool = False, tokened: list | None = None):
        self.model_admin = model_admin
        self.selectable = selectable
        self.select_label = select_label() if selectable else None
        self.tokened = tokened or []
        self.columns = columns
        self.info = model_admin.info
        keys = set(sample.keys()) if sample is not None else set()
        self.own = [c for c in self.info.columns if c.name in keys]
        self.detail = admin_url(".detail", slug=model_admin.slug, pk=self._PK)
        #: The column whose value the row's link carries (a query view's linked row), or
        #: None: the row's own key.
        self.link_key: t.Any = None
        row_link = _row_link(model_admin)
        if row_link is not None:
            self.link_key, self.detail = row_link
        self.detail_parts = self.detail.split(self._PK, 1)
        self.max_chars = model_admin.list_max_chars
        pk = self.info.primary_key
        self.int_pk = pk[0] if len(pk) == 1 and pk[0].kind == "int" else None
        # list_editable: which displayed columns get an inline editor (per row: if the user
        # may change that row). Fields the form does not offer this user are left out.
        self.editable: dict[int, str] = {}
        if model_admin.list_editable:
            from .inline import editable_columns
            from .rows import _form_columns

            allowed = editable_columns(model_admin)
            in_form = {c.attribute for c in _form_columns(model_admin, current_user, None)[0]}
            for column in columns:
                if (column.column is not None and column.related is None and column.function is None
                        and column.column.attribute in allowed and column.column.attribute in in_form
                        and column.column.name in keys):
                    self.editable[id(column)] = admin_url(
                        ".cell", slug=model_admin.slug, pk=self._PK, field=column.column.attribute)
        self.fk: dict[int, tuple] = {}
        for column in columns:
            if column.is_fk:
                join = column.join
                target = join.target
                target_admin = model_admin_for(target.model)
                url = (admin_url(".detail", slug=target_admin.slug, pk=self._PK)
                       if target_admin is not None and may_view(target.model) else None)
                present = [c for c in target.columns if f"{join.alias}__{c.name}" in keys]
                self.fk[id(column)] = (join.alias + "__", target, target_admin, url, present)
        # Every column rendered straight from the row, or None: the general path for all.
        self.fast: list[t.Callable[[t.Any, str], str]] | None = None
        if not self.editable and sample is not None:
            fast = [self._fast_renderer(column, keys) for column in columns]
            if all(f is not None for f in fast):
                self.fast = fast  # type: ignore[assignment]

    def _link_key(self, row: t.Any) -> str:
        value = self.link_key.coerce(row[self.link_key.name])
        return "" if value is None else encode_pk((value,))

    def url_of(self, template: str, pk: tuple) -> str:
        return template.replace(self._PK, encode_pk(pk))

    def _fast_renderer(self, column: DisplayColumn, keys: set[str]):
        if column.function is not None or column.related is not None or column.column is None:
            return None
        if column.column.name not in keys or column.column.attribute in self.model_admin.formatters:
            return None
        if column.is_fk:
            return None if column.link else self._fk_renderer(column)
        return td_renderer(column.column, self.max_chars, link=column.link,
                           badges=self.model_admin.badges.get(column.column.attribute))

    def _fk_renderer(self, column: DisplayColumn):
        prefix, target, target_admin, url_template, present = self.fk[id(column)]
        target_pk = target.primary_key[0]
        if target_pk not in present:
            return None
        name, key_name = column.column.name, prefix + target_pk.name
        coerce_key = target_pk.coerce
        label_of = self._label_function(prefix, target, target_admin, present)
        if label_of is None:
            return None
        # Escaped once: a key that is an int needs no escaping of its own.
        url_parts = [esc(part) for part in url_template.split(self._PK, 1)] if url_template else None
        general = self._fk_cell

        def fk(row: t.Any, _url: str) -> str:
            if row[name] is None:
                return '<td class="e">—</td>'
            key = coerce_key(row[key_name])
            label = label_of(row) if key is not None else None
            if not label:
                return render_cell(general(column, row, {name: column.column.coerce(row[name])}))
            text = esc(label)
            td = '<td class="w">' if len(label) > WRAP_AT else "<td>"
            if url_parts is None:
                return f"{td}{text}</td>"
            encoded = str(key) if type(key) is int else esc(encode_pk((key,)))
            return f'{td}<a href="{url_parts[0]}{encoded}{url_parts[1]}" class="h">{text}</a></td>'
        return fk

    @staticmethod
    def _label_function(prefix: str, target, target_admin, present):
        """``label(row) -> str`` of the joined row, as ``label_for`` computes it: the label
        column's text, or the model's ``__str__`` / ``ModelAdmin.label`` on an object filled
        in place (no per-row dict of every column). None when this model needs the general
        path (its __new__ takes arguments)."""
        if not label_needs_row(target_admin, target.model):
            label_column = target.label_column
            if label_column is None or label_column not in present:
                return None
            key, coerce = prefix + label_column.name, label_column.coerce

            def simple(row: t.Any) -> str | None:
                value = coerce(row[key])
                return None if value is None or value == "" else str(value)
            return simple
        model = target.model
        try:
            model.__new__(model)
        except Exception:  # noqa: BLE001 - such a model goes through make_object's fallback
            return None
        fields = [(prefix + c.name, c.attribute, c.coerce if c.converts else None) for c in present]
        keys = [key for key, _, _ in fields]
        dirty = hasattr(model, "__dirty__")
        custom = target_admin is not None and callable(getattr(target_admin, "label", None))
        row_label = target_admin.row_label if target_admin is not None else (
            lambda obj: default_label(model, obj))
        # The model's __str__ is a function of the row's values: its result is reused for the
        # same values (a changed row is a new key). ModelAdmin.label may depend on who asks, so
        # it is called every time.
        memo = None if custom else _label_memo(model)

        def from_object(row: t.Any) -> str | None:
            if memo is not None:
                try:
                    memo_key = tuple([row[key] for key in keys])
                    return memo[memo_key]
                except KeyError:
                    pass
                except TypeError:  # an unhashable value (a JSON column): no reuse
                    memo_key = None
            obj = model.__new__(model)
            state = obj.__dict__
            for key, attribute, coerce in fields:
                state[attribute] = row[key] if coerce is None else coerce(row[key])
            if dirty:
                state["__dirty__"] = set()
            label = row_label(obj)
            if memo is not None and memo_key is not None:
                if len(memo) >= LABEL_MEMO_SIZE:
                    memo.clear()
                memo[memo_key] = label
            return label
        return from_object

    def row(self, row: t.Any) -> ListRow:
        if self.fast is None:
            return self._general_row(row)
        if self.int_pk is not None:
            key = self.int_pk.coerce(row[self.int_pk.name])
            encoded = str(key) if type(key) is int else encode_pk((key,))
        else:
            encoded = encode_pk(tuple(c.coerce(row[c.name]) for c in self.info.primary_key))
        url = self.detail_parts[0] + (encoded if self.link_key is None else self._link_key(row)) \
            + self.detail_parts[1]
        check = row_checkbox(encoded, row_token(row, self.tokened), self.select_label) \
            if self.selectable else ""
        tds = "".join([render(row, url) for render in self.fast])
        return ListRow(pk=encoded, url=url, html=Markup(f"<tr>{check}{tds}</tr>"),
                       make_cells=lambda: self._cells(row)[0])

    def _general_row(self, row: t.Any) -> ListRow:
        cells, pk, url = self._cells(row)
        list_row = ListRow(pk=encode_pk(pk), url=url, cells=cells)
        list_row.html = render_row(list_row, self.selectable, row_token(row, self.tokened))
        return list_row

    def _cells(self, row: t.Any) -> tuple[list[Cell], tuple, str]:
        info = self.info
        values = {c.name: c.coerce(row[c.name]) for c in self.own}
        pk = tuple(values[c.name] for c in info.primary_key)
        url = (self.url_of(self.detail, pk) if self.link_key is None
               else self.detail.replace(self._PK, self._link_key(row)))
        obj = None
        cells: list[Cell] = []
        may_change = False
        if self.editable:
            obj = make_object(self.model_admin.model, info, values)
            may_change = self.model_admin.has_permission("change", current_user, obj)
        for column in self.columns:
            if column.function is not None:
                if obj is None:
                    obj = make_object(self.model_admin.model, info, values)
                result = column.function(obj)
                cell = (Cell(html=result) if isinstance(result, Markup)
                        else format_value(None, result, max_chars=self.max_chars))
            elif column.related is not None:
                related = column.related.column
                raw = row[f"{column.join.alias}__{related.name}"] if column.join else None
                cell = format_value(related, related.coerce(raw), max_chars=self.max_chars)
            elif column.is_fk:
                cell = self._fk_cell(column, row, values)
            else:
                value = values.get(column.column.name)
                formatter = self.model_admin.formatters.get(column.column.attribute)
                if formatter is not None:
                    result = formatter(value, values)
                    cell = Cell(html=result) if isinstance(result, Markup) else Cell(text=str(result))
                else:
                    cell = format_value(column.column, value, max_chars=self.max_chars,
                                        badges=self.model_admin.badges.get(column.column.attribute))
            if column.link:  # the row's own page, even where the value links elsewhere
                cell.url = url
                cell.kind = cell.kind + " rowlink"
            if may_change and id(column) in self.editable:
                cell.edit_url = self.url_of(self.editable[id(column)], pk)
            cells.append(cell)
        return cells, pk, url

    def _fk_cell(self, column: DisplayColumn, row: t.Any, values: dict) -> Cell:
        value = values.get(column.column.name)
        if value is None:
            return Cell(text="—", empty=True)
        prefix, target, target_admin, url_template, present = self.fk[id(column)]
        joined = {c.name: c.coerce(row[prefix + c.name]) for c in present}
        key = joined.get(target.primary_key[0].name)
        if key is None:
            return Cell(text=f"#{value}", kind="fk", title=_("The referenced row does not exist"))
        label = label_for(target_admin, target.model, joined)
        url = self.url_of(url_template, (key,)) if url_template else None
        return Cell(text=label, url=url, kind="fk")


def lookup_view(model_admin: ModelAdmin):
    """Options for a foreign-key picker: rows of this model matching ``q``, scoped, keyset-paged
    by primary key (``after=``), labelled. Markup: ``<button role="option">`` in ``<li role="none">``."""
    info = model_admin.info
    search = [info.column(n) for n in model_admin.get_search_fields(current_user) if "." not in n]
    return _lookup_response(model_admin.model, model_admin, [c for c in search if c is not None])


def field_lookup_view(model_admin: ModelAdmin, field: str):
    """The options of one foreign key of this model's form, for a user who may add or change
    its rows (CONTRACT §6): the target's labels under the target's scope, even without
    ``view`` on the target. Without it, only the target's label column is searched, so that
    the answers say nothing of its other columns."""
    from .rows import pickable_foreign_keys

    column = pickable_foreign_keys(model_admin, current_user).get(field)
    if column is None:
        abort(404)
    target_admin = model_admin_for(column.target_model)
    if target_admin is not None and target_admin.has_permission("view", current_user):
        names = target_admin.get_search_fields(current_user)
        info = target_admin.info
        search = [c for c in (info.column(n) for n in names if "." not in n) if c is not None]
    else:
        search = []
    return _lookup_response(column.target_model, target_admin, search)


def _lookup_response(model: type, model_admin: ModelAdmin | None, search: list):
    """Rows of ``model`` matching ``q`` in ``search`` or its label column, within the scope of
    ``model_admin`` (when the model has one), as picker options."""
    info = model_info(model)
    if len(info.primary_key) != 1:
        abort(404)  # a picker chooses one key value
    pk_column = info.primary_key[0]
    q = request.args.get("q", "")
    if len(q) > 200 or "\x00" in q:
        abort(400, description=_("search is limited to %(count)s characters", count=200))
    after_text = request.args.get("after")
    after = None
    if after_text is not None:
        try:
            after = parse_value(pk_column, after_text) if pk_column.kind == "int" else after_text
        except BadQuery:
            abort(400, description=_("invalid after"))
    engine, dialect = engine_and_dialect()
    if info.label_column is not None and info.label_column not in search:
        search.append(info.label_column)
    scope = model_admin.scope(current_user) if model_admin is not None else None
    rows = lookup_rows(engine, dialect, info, label_columns(model_admin, model),
                       term=q.strip(), search=search, after=after, scope=scope,
                       limit=LOOKUP_LIMIT)
    options = []
    for row in rows[:LOOKUP_LIMIT]:
        values = coerced(info, row)
        options.append({"value": values[pk_column.name],
                        "label": label_for(model_admin, model, values)})
    more_url = None
    if len(rows) > LOOKUP_LIMIT:
        more_url = f"{request.path}?{urlencode({'q': q, 'after': options[-1]['value']})}"
    slug = model_admin.slug if model_admin is not None else info.table
    return make_response(render_template(
        templates_for("partials/lookup_options", slug),
        options=options, more_url=more_url, q=q))
