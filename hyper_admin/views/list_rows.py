"""The list's rows as markup: which columns a page selects, and _RowFormatter, which renders
each database row straight into a ``<tr>`` (the list page, its live updates)."""

from __future__ import annotations

import typing as t
import weakref

from flask_login import current_user
from markupsafe import Markup

from ..cells import (WRAP_AT, Cell, DisplayColumn, ListRow, encode_pk, format_value, label_for,
                    label_needs_row, make_object, pk_segment, render_cell, render_row,
                    row_checkbox, row_token, select_label, td_renderer, esc, url_pk)
from ..changelist import selection_columns
from ..changes import form_columns
from ..i18n import _
from ..introspect import default_label
from ..options import ModelAdmin
from ..pipeline import URL_PLACEHOLDER, admin_url
from .common import may_view, model_admin_for
from .row_menu import has_row_menu


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
    for column in listing.columns:
        # A many-to-many column reads the whole page's labels at once (many_to_many.ChipsColumn).
        prefetch = getattr(column.function, "prefetch", None)
        if prefetch is not None:
            prefetch(page.rows)
    formatter = _RowFormatter(model_admin, listing.columns, page.rows[0] if page.rows else None,
                              selectable=selectable, tokened=tokened,
                              menu=has_row_menu(model_admin, actions))
    return [formatter.row(row) for row in page.rows]


def _row_link(model_admin: ModelAdmin):
    """Where a query view's rows link: (key column, detail URL template of the linked model)."""
    link = model_admin.row_link_for(current_user)
    if link is None:
        return None
    column, target = link
    return column, admin_url(".detail", slug=target.slug, pk=URL_PLACEHOLDER + "pk__")


LABEL_MEMO_SIZE = 20_000
_label_memos: "weakref.WeakKeyDictionary[type, dict[tuple, str]]" = weakref.WeakKeyDictionary()


def _label_memo(model: type) -> dict[tuple, str]:
    """Labels of ``model`` rows by their joined values (see _RowFormatter._label_function)."""
    memo = _label_memos.get(model)
    if memo is None:
        memo = _label_memos[model] = {}
    return memo


def _menu_cell(model_admin: ModelAdmin) -> str:
    """The last cell of a row with a menu: a button that opens the list's popover and loads
    the row's menu into it (list_results.html holds the popover, outside the bulk form, since
    the menu holds forms of its own)."""
    url = admin_url(".row_menu", slug=model_admin.slug, pk=_RowFormatter._PK)
    return ('<td class="m"><button type="button" class="btn btn-ghost btn-xs" '
            f'popovertarget="row-menu" hx-get="{esc(url)}" hx-target="#row-menu" '
            f'hx-swap="innerHTML" aria-label="{esc(_("Actions"))}">⋯</button></td>')


class _RowFormatter:
    """Turns the page's rows into ``<tr>`` markup. Everything that is the same for every row
    (URLs, permissions, which columns a row carries, how each column renders) is worked out
    once per page, not per row.

    Plain columns and foreign keys render straight from the database row (``td_renderer`` and
    ``_fk_renderer``). Callables, ``formatters``, related columns and editable cells take the
    general path: the row's values coerced, an object built if needed, Cells rendered."""

    _PK = URL_PLACEHOLDER + "pk__"

    def __init__(self, model_admin: ModelAdmin, columns: list[DisplayColumn], sample: t.Any,
                 selectable: bool = False, tokened: list | None = None, menu: bool = False):
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
        #: The row menu's cell (views/row_menu.py) on each side of the row's key, or None.
        self.menu_parts = _menu_cell(model_admin).split(self._PK, 1) if menu else None
        self.max_chars = model_admin.list_max_chars
        pk = self.info.primary_key
        self.int_pk = pk[0] if len(pk) == 1 and pk[0].kind == "int" else None
        self.editable = self._editable_columns(columns, keys)
        self.fk = self._foreign_keys(columns, keys)
        #: Whether a row needs its model object: a callable's argument, or the object the
        #: change permission of an inline editor is asked with (made once per row).
        self.needs_object = bool(self.editable) or any(c.function is not None for c in columns)
        self._obj: t.Any = None
        self._pk: tuple = ()
        self._may_change = False
        # Every column rendered straight from the row, or None: the general path for all.
        self.fast: list[t.Callable[[t.Any, str], str]] | None = None
        if sample is not None:
            fast = [self._fast_renderer(column, keys) for column in columns]
            if all(f is not None for f in fast):
                self.fast = fast  # type: ignore[assignment]

    def _editable_columns(self, columns: list[DisplayColumn], keys: set[str]) -> dict[int, str]:
        """list_editable: which displayed columns get an inline editor (per row: if the user
        may change that row), with their editor's URL. Fields the form does not offer this
        user are left out."""
        model_admin = self.model_admin
        editable: dict[int, str] = {}
        if not model_admin.list_editable:
            return editable
        from .inline import editable_columns
        allowed = editable_columns(model_admin)
        in_form = {c.attribute for c in form_columns(model_admin, current_user, None)[0]}
        for column in columns:
            if (column.column is not None and column.related is None and column.function is None
                    and column.column.attribute in allowed and column.column.attribute in in_form
                    and column.column.name in keys):
                editable[id(column)] = admin_url(
                    ".cell", slug=model_admin.slug, pk=self._PK, field=column.column.attribute)
        return editable

    def _foreign_keys(self, columns: list[DisplayColumn], keys: set[str]) -> dict[int, tuple]:
        """Per foreign-key column: (its join's prefix, the target, its ModelAdmin, the URL
        template of its rows' pages or None, the target's columns the row holds)."""
        found: dict[int, tuple] = {}
        for column in columns:
            if column.is_fk:
                join = column.join
                target = join.target
                target_admin = model_admin_for(target.model)
                url = (admin_url(".detail", slug=target_admin.slug, pk=self._PK)
                       if target_admin is not None and may_view(target.model) else None)
                present = [c for c in target.columns if f"{join.alias}__{c.name}" in keys]
                found[id(column)] = (join.alias + "__", target, target_admin, url, present)
        return found

    def _link_key(self, row: t.Any) -> str:
        value = self.link_key.coerce(row[self.link_key.name])
        return "" if value is None else url_pk((value,))

    def url_of(self, template: str, pk: tuple) -> str:
        return template.replace(self._PK, url_pk(pk))

    def _fast_renderer(self, column: DisplayColumn, keys: set[str]):
        if column.function is not None:
            return self._function_renderer(column)
        if column.related is not None or column.column is None:
            return None
        if column.column.name not in keys or column.column.attribute in self.model_admin.formatters:
            return None
        if column.is_fk:
            return None if column.link else self._fk_renderer(column)
        plain = td_renderer(column.column, self.max_chars, link=column.link,
                            badges=self.model_admin.badges.get(column.column.attribute),
                            empty=self.model_admin.empty_text(column.column))
        if id(column) in self.editable:
            return self._editable_renderer(column, plain)
        return plain

    def _function_renderer(self, column: DisplayColumn):
        """A callable's cell (many-to-many chips included), given the row's object: what
        _cells makes of it."""
        function, link = column.function, column.link
        empty = self.model_admin.empty_text()

        def render(row: t.Any, url: str) -> str:
            result = function(self._obj)
            cell = (Cell(html=result) if isinstance(result, Markup)
                    else format_value(None, result, max_chars=self.max_chars, empty=empty))
            if link:
                cell.link_row(url)
            return render_cell(cell)
        return render

    def _editable_renderer(self, column: DisplayColumn, plain: t.Callable[[t.Any, str], str]):
        """An inline-editable column: its plain cell where the user may not change the row,
        else its value as a button opening the editor (_cells' markup)."""
        own = column.column
        template, link = self.editable[id(column)], column.link
        badges = self.model_admin.badges.get(own.attribute)
        empty = self.model_admin.empty_text(own)

        # A value's cell, split around its editor's URL: the same for every row that holds
        # the value (a status, a priority), but for the key in that URL. (Split at the
        # attribute: a value's own text is escaped, so it cannot hold one.)
        memo: dict[t.Any, tuple[str, str]] = {}
        marker = f'hx-get="{esc(template)}"'

        def render(row: t.Any, url: str) -> str:
            if not self._may_change:
                return plain(row, url)
            raw = row[own.name]
            parts = None if link else memo.get(raw)
            if parts is None:
                cell = format_value(own, own.coerce(raw), max_chars=self.max_chars,
                                    badges=badges, empty=empty)
                if link:
                    cell.link_row(url)
                cell.edit_url = template
                before, _marker, after = render_cell(cell).partition(marker)
                parts = (before, after)
                if not link and len(memo) < 100:
                    try:
                        memo[raw] = parts
                    except TypeError:  # an unhashable value: rendered every time
                        pass
            edit_url = esc(self.url_of(template, self._pk))
            return f'{parts[0]}hx-get="{edit_url}"{parts[1]}'
        return render

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
        empty_td = f'<td class="e">{esc(self.model_admin.empty_text(column.column))}</td>'

        def fk(row: t.Any, _url: str) -> str:
            if row[name] is None:
                return empty_td
            key = coerce_key(row[key_name])
            label = label_of(row) if key is not None else None
            if not label:
                return render_cell(general(column, row, {name: column.column.coerce(row[name])}))
            text = esc(label)
            td = '<td class="w">' if len(label) > WRAP_AT else "<td>"
            if url_parts is None:
                return f"{td}{text}</td>"
            encoded = str(key) if type(key) is int else esc(url_pk((key,)))
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
        segment = encoded if encoded.isdigit() else pk_segment(encoded)
        url = self.detail_parts[0] + (segment if self.link_key is None else self._link_key(row)) \
            + self.detail_parts[1]
        if self.needs_object:
            values = {c.name: c.coerce(row[c.name]) for c in self.own}
            self._obj = make_object(self.model_admin.model, self.info, values)
            self._pk = tuple(values[c.name] for c in self.info.primary_key)
            self._may_change = bool(self.editable) and self.model_admin.has_permission(
                "change", current_user, self._obj)
        check = row_checkbox(encoded, row_token(row, self.tokened), self.select_label) \
            if self.selectable else ""
        tds = "".join([render(row, url) for render in self.fast])
        if self.menu_parts is not None:
            tds += self.menu_parts[0] + segment + self.menu_parts[1]
        return ListRow(pk=encoded, url=url, html=Markup(f"<tr>{check}{tds}</tr>"),
                       make_cells=lambda: self._cells(row)[0])

    def _general_row(self, row: t.Any) -> ListRow:
        cells, pk, url = self._cells(row)
        list_row = ListRow(pk=encode_pk(pk), url=url, cells=cells)
        menu = ("" if self.menu_parts is None
                else pk_segment(list_row.pk).join(self.menu_parts))
        list_row.html = render_row(list_row, self.selectable, row_token(row, self.tokened), menu)
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
                        else format_value(None, result, max_chars=self.max_chars,
                                          empty=self.model_admin.empty_text()))
            elif column.related is not None:
                related = column.related.column
                raw = row[f"{column.join.alias}__{related.name}"] if column.join else None
                cell = format_value(related, related.coerce(raw), max_chars=self.max_chars,
                                    empty=self.model_admin.empty_text(related))
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
                                        badges=self.model_admin.badges.get(column.column.attribute),
                                        empty=self.model_admin.empty_text(column.column))
            if column.link:
                cell.link_row(url)
            if may_change and id(column) in self.editable:
                cell.edit_url = self.url_of(self.editable[id(column)], pk)
            cells.append(cell)
        return cells, pk, url

    def _fk_cell(self, column: DisplayColumn, row: t.Any, values: dict) -> Cell:
        value = values.get(column.column.name)
        if value is None:
            return Cell(text=self.model_admin.empty_text(column.column), empty=True)
        prefix, target, target_admin, url_template, present = self.fk[id(column)]
        joined = {c.name: c.coerce(row[prefix + c.name]) for c in present}
        key = joined.get(target.primary_key[0].name)
        if key is None:
            return Cell(text=f"#{value}", kind="fk", title=_("The referenced row does not exist"))
        label = label_for(target_admin, target.model, joined)
        url = self.url_of(url_template, (key,)) if url_template else None
        return Cell(text=label, url=url, kind="fk")
