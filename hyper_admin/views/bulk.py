"""POST /admin/<slug>/action — bulk delete and custom actions; GET /admin/<slug>/export."""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import io
import json
import typing as t
from dataclasses import dataclass

from flask import Response, abort, current_app, request, stream_with_context, url_for
from flask_login import current_user
from wtforms import ValidationError

from .. import audit, copy_export, signals
from ..action_forms import audit_note
from ..cells import (TOKEN_SEPARATOR, DisplayColumn, coerced, decode_pk, encode_pk, label_columns,
                     label_for, label_needs_row, row_token)
from ..i18n import _, format_number, ngettext
from ..introspect import ColumnInfo, model_names, quote_identifier
from ..options import ModelAdmin
from ..pipeline import current_state
from ..query import (Join, ListParams, RelatedColumn, fetch_rows_by_pk, keyset_possible,
                     select_list, with_parents)
from ..sql import range_literal
from ..writes import IntegrityProblem, delete
from ..xlsx import xlsx_stream
from ..changelist import selection_columns
from . import action_forms
from .common import (changes_for, engine_and_dialect, list_request, read_engine_and_dialect, list_url, model_admin_for,
                     next_path, object_of, require)
from .render import Crumb, render_page, stream_page
from .rows import _done, reach_of

MAX_SELECTION = 10_000
#: Rows per statement of an export: what a streamed export holds in memory at once.
EXPORT_BATCH = 1000


def _selected_pks(model_admin: ModelAdmin) -> tuple[list[tuple], dict[tuple, str]]:
    """The selected keys, and the selection token each checkbox carried (see
    cells.row_token); ``all=1`` selects rows the user did not see: no tokens."""
    info = model_admin.info
    if request.form.get("all") == "1":
        listing = list_request(model_admin, request.args)
        params = listing.params
        params.per_page = MAX_SELECTION
        params.page, params.after, params.before = 1, None, None
        engine, dialect = engine_and_dialect()
        page = listing.page(engine, dialect, [], count_cap=None)
        if page.has_next:
            abort(400, description=_("at most %(count)s rows at once: narrow the search",
                                     count=format_number(MAX_SELECTION)))
        return [tuple(r[c.name] for c in info.primary_key) for r in page.rows], {}
    raw = request.form.getlist("pk")
    if len(raw) > MAX_SELECTION:
        abort(400, description=_("at most %(count)s rows at once",
                                 count=format_number(MAX_SELECTION)))
    pks, tokens = [], {}
    for text in raw:
        key_text, _unused, token = text.partition(TOKEN_SEPARATOR)
        pk = decode_pk(info, key_text)
        if pk is None:
            abort(400, description=_("malformed pk"))
        pks.append(pk)
        if token:
            tokens[pk] = token
    return list(dict.fromkeys(pks)), tokens


def action_view(model_admin: ModelAdmin):
    name = request.form.get("action", "")
    action = _chosen_action(model_admin, name)
    pks, tokens = _selected_pks(model_admin)
    if not pks:
        return _done(list_url(model_admin), _("Select at least one row first."), "warning")
    scope = model_admin.scope(current_user)
    objects, stale = _selected_objects(model_admin, pks, tokens, scope)
    if not objects and stale:
        return _done(list_url(model_admin), _("Every selected row changed since the list was "
                     "shown: nothing was done. Check them and select again."), "warning")
    if not objects:
        abort(404)
    label = _("Delete") if name == "delete" else str(action.label)
    confirm_text = _confirm_text(model_admin, name, action, label, len(objects), stale)
    form = action_forms.bind(model_admin, action)
    confirmed = request.form.get("confirmed") == "1"
    if confirm_text and (not confirmed or stale):
        return _confirm_page(model_admin, name, action, label, confirm_text, objects, stale,
                             tokens, form)
    if form is not None and not action_forms.validate(model_admin, form):
        # Nothing is written: the dialog again, with the errors on its fields.
        return _confirm_page(model_admin, name, action, label, confirm_text, objects, stale,
                             tokens, form, status=422)
    return _run_bulk(model_admin, _BulkRun(model_admin, name, action, label, objects, scope,
                                           form))


def _chosen_action(model_admin: ModelAdmin, name: str):
    """The custom action the form names (None for the built-in delete), once the user may run
    it: 403 for an action the user may not run, 400 for one the admin does not have."""
    actions = {a.name: a for a in model_admin.get_actions(current_user)}
    if name == "delete":
        require(model_admin, "delete")
    elif name not in actions:
        abort(403 if name in model_admin.action_names() else 400, description=_("unknown action"))
    return actions.get(name)


def _selected_objects(model_admin: ModelAdmin, pks: list[tuple], tokens: dict[tuple, str],
                      scope) -> tuple[list, list[str]]:
    """The selected rows within the user's scope, in the list's order, as objects; and the
    labels of those left out because they changed since the list showed them."""
    engine, dialect = engine_and_dialect()
    info = model_admin.info
    rows = _in_selection_order(info, pks, [
        row for chunk in _chunks(pks) for row in
        fetch_rows_by_pk(engine, dialect, info, chunk, info.columns, scope=scope)])
    rows, stale = _without_stale(model_admin, rows, tokens)
    return [object_of(model_admin, coerced(info, r)) for r in rows], stale


def _without_stale(model_admin: ModelAdmin, rows: list, tokens: dict[tuple, str]) -> tuple[list, list[str]]:
    """The edit form's rule for selections: a row whose token (cells.row_token of the columns
    the list showed) differs from the one its checkbox carried changed since the list showed
    it, and is left out. Returns (the other rows, the labels of those left out)."""
    if not tokens:
        return rows, []
    info = model_admin.info
    shown = selection_columns(model_admin, list_request(model_admin, request.args).columns)
    fresh, stale = [], []
    for row in rows:
        values = coerced(info, row)
        pk = tuple(values[c.name] for c in info.primary_key)
        if pk in tokens and row_token(row, shown) != tokens[pk]:
            stale.append(model_admin.row_label(object_of(model_admin, values)))
        else:
            fresh.append(row)
    return fresh, stale


def _confirm_text(model_admin: ModelAdmin, name: str, action, label: str, count: int,
                  stale: list[str]) -> str:
    """What the confirmation asks ("": the action runs without one); when rows were left out
    as changed, it says so first, and then a confirmation is asked even if the action has none."""
    if name == "delete":
        text = _("Delete %(rows)s?", rows=model_admin.count_text(count))
    else:
        text = str(action.confirm or "").format(count=count)
        if not text and action.form is not None:  # a form is always asked for first
            text = _("Selected: %(rows)s.", rows=model_admin.count_text(count))
    if not stale:
        return text
    return " ".join((
        ngettext("%(num)s of the selected rows changed since the list was shown and is left out.",
                 "%(num)s of the selected rows changed since the list was shown and are left out.",
                 len(stale)),
        text or _("%(action)s the %(count)s others?", action=label, count=format_number(count))))


def _confirm_page(model_admin: ModelAdmin, name: str, action, label: str, confirm_text: str,
                  objects: list, stale: list[str], tokens: dict[tuple, str], form=None,
                  status: int = 200):
    """The confirmation dialog: the first 50 rows, those left out, and for a delete the rows
    of other models that point at these (one whose rule is "block" stops the delete); the
    action's form when it asks for input (422 when it came back with errors)."""
    info = model_admin.info
    deleting = name == "delete"
    reach = reach_of(model_admin, [info.pk_values(o) for o in objects]) if deleting else []
    return render_page(
        "action_confirm", slug=model_admin.slug, page_title=label, dialog=True,
        status_code=status, action_form=form, next_url=next_path(),
        breadcrumbs=_breadcrumbs(model_admin, label),
        model_admin=model_admin, action_name=name, action_label=label, confirm_text=confirm_text,
        items=[(model_admin.row_label(o), encode_pk(info.pk_values(o))) for o in objects[:50]],
        more=max(0, len(objects) - 50), stale=stale[:50],
        pks=[_posted(info.pk_values(o), tokens) for o in objects],
        all_matching=request.form.get("all") == "1", batch=BATCH,
        reach=reach,
        blocked=deleting and any(r["rule"] == "block" for r in reach),
        destructive=deleting or action.destructive,
        cancel_url=list_url(model_admin), query_string=request.query_string.decode("latin-1"),
    )


def _run_bulk(model_admin: ModelAdmin, run: _BulkRun):
    """Run the action: at once, back to the list with its message; or, for thousands of rows
    when the confirmation asked for it, on a page that shows the batches as they are done."""
    if request.form.get("progress") == "1" and run.total > BATCH:
        # Streamed; the confirm form posted it without htmx so that the browser renders it as
        # it comes.
        response = stream_page(
            "action_progress", slug=model_admin.slug, page_title=run.label,
            breadcrumbs=_breadcrumbs(model_admin, run.label),
            model_admin=model_admin, run=run, list_url=list_url(model_admin))
        response.headers["X-Accel-Buffering"] = "no"  # nginx: pass each batch on at once
        return response
    for _unused in run.steps():
        pass
    # A row's action (its detail page) goes back to where it was chosen.
    return _done(next_path() or list_url(model_admin), run.message,
                 "success" if run.ok else "error")


def _breadcrumbs(model_admin: ModelAdmin, label: str) -> list[Crumb]:
    return [Crumb(_("Dashboard"), url_for(".dashboard")),
            Crumb(model_admin.verbose_name_plural, list_url(model_admin)), Crumb(label)]


BATCH = 1000


class _BulkRun:
    """A bulk delete or action over ``objects``, in batches of BATCH rows (bounded statements),
    all in one transaction: ``steps()`` yields how many rows are done after each batch, then
    ``ok`` and ``message`` say how it ended (on a refusal nothing was changed)."""

    def __init__(self, model_admin: ModelAdmin, name: str, action, label: str, objects: list,
                 scope, form=None) -> None:
        self.model_admin, self.name, self.action, self.label = model_admin, name, action, label
        self.objects, self.scope, self.form = objects, scope, form
        self.total = len(objects)
        self.done = 0
        self.ok = False
        self.message = ""

    def steps(self) -> t.Iterator[int]:
        model_admin, info, user = self.model_admin, self.model_admin.info, current_user
        engine, dialect = engine_and_dialect()
        changes = changes_for(model_admin)
        try:
            with changes.transaction() as tx:
                if self.name == "delete":
                    for obj in self.objects:
                        model_admin.on_model_delete(obj)
                    count = 0
                    for chunk in _chunks([info.pk_values(o) for o in self.objects], BATCH):
                        before = self._rows(engine, dialect, chunk)
                        count += delete(tx, dialect, info, chunk, scope=self.scope)
                        for pk, row in before.items():
                            model_admin.after_model_delete(object_of(model_admin, row))
                            changes.record(tx, pk, "delete", row, None)
                        self.done += len(chunk)
                        yield self.done
                    message = _("%(rows)s deleted.", rows=model_admin.count_text(count))
                else:
                    size = self.action.batch_size or self.total
                    result = None
                    inputs = () if self.form is None else (self.form,)
                    note = audit_note(self.form) if self.form is not None else ""
                    if note:
                        # Here, not in the view: a streamed run records from this generator.
                        audit.note(note)
                    for chunk in _chunks(self.objects, size):
                        pks = [info.pk_values(o) for o in chunk]
                        before = self._rows(engine, dialect, pks)
                        result = self.action.function(chunk, user, *inputs)
                        # Each row the action changed (or deleted), as it was and as it is now.
                        after = self._rows(engine, dialect, list(before), scoped=False)
                        for pk, row in before.items():
                            if after.get(pk) != row:
                                changes.record(tx, pk, f"action:{self.name}", row,
                                               after.get(pk))
                        self.done += len(chunk)
                        yield self.done
                    message = (str(result) if result
                               else ngettext("%(action)s: done for %(num)s row.",
                                             "%(action)s: done for %(num)s rows.", self.total,
                                             action=self.label))
                signals.action_performed.send(
                    current_app._get_current_object(), model_admin=model_admin,
                    user=current_user._get_current_object(), name=self.name,
                    pks=[info.pk_values(o) for o in self.objects], message=message)
        except IntegrityProblem:
            self.message = _("The database refused: other rows still refer to some of these. "
                             "Nothing was changed.")
            return
        except ValidationError as exc:
            self.message = _("%(action)s: %(error)s. Nothing was changed.",
                             action=self.label, error=exc)
            return
        self.ok, self.message = True, message

    def _rows(self, engine, dialect, pks: list[tuple], scoped: bool = True) -> dict[tuple, dict]:
        info = self.model_admin.info
        rows = fetch_rows_by_pk(engine, dialect, info, pks, info.columns,
                                scope=self.scope if scoped else None)
        out = {}
        for row in rows:
            values = coerced(info, row)
            out[tuple(values[c.name] for c in info.primary_key)] = values
        return out


def _in_selection_order(info, pks: list[tuple], rows: list) -> list:
    """``rows`` in the order of ``pks``: the list's order (the checkboxes are posted as the
    list shows them; ``all=1`` reads the list's query), so that the confirmation lists the
    rows as the user saw them, not as the database returned them."""
    place = {pk: i for i, pk in enumerate(pks)}

    def position(row) -> int:
        values = coerced(info, row)
        return place.get(tuple(values[c.name] for c in info.primary_key), len(place))
    return sorted(rows, key=position)


def _posted(pk: tuple, tokens: dict[tuple, str]) -> str:
    """A key as the confirmation posts it again: with the token it was selected with."""
    token = tokens.get(pk)
    return f"{encode_pk(pk)}{TOKEN_SEPARATOR}{token}" if token else encode_pk(pk)


def _chunks(items: list, size: int = 1000) -> list[list]:
    return [items[i:i + size] for i in range(0, len(items), size)]


def _neutralise(value: t.Any) -> t.Any:
    """CSV formula injection: a cell starting with = + - @ is read as a formula by
    spreadsheets; prefix it with a quote."""
    return copy_export.neutralised_text(value) if isinstance(value, str) else value


def _csv_cell(value: t.Any) -> t.Any:
    """A value as CSV writes it: numbers as they are (a negative total stays a number), any
    other text (strings, enum values, labels) neutralised."""
    kind = type(value)
    # What most cells are, first (a million-row export calls this for every cell).
    if kind is str:
        return "'" + value if value.startswith(copy_export.FORMULA_PREFIXES) else value
    if value is None or kind is int or kind is float or kind is bool:
        return value
    if isinstance(value, (bool, int, float, decimal.Decimal)):
        return _plain(value)
    plain = _plain(value)
    if isinstance(plain, (list, dict)):  # an array or a JSON value: its JSON text
        plain = json.dumps(plain, ensure_ascii=False)
    return _neutralise(plain)


@dataclass(frozen=True)
class ExportField:
    """One exported column: its CSV header, its JSON key, and its value from a batch row
    (``values``: the row's own columns coerced; ``row``: the database row, joins included)."""

    header: str
    key: str
    value: t.Callable[[dict, t.Any], t.Any]
    #: The cell as SQL writes it (copy_export.cell_sql); None: Python's text only.
    sql: str | None = None


def _own_value(column: ColumnInfo) -> t.Callable[[dict, t.Any], t.Any]:
    """The column's value, coerced from the batch's row (which selects every exported column:
    export_fields), not from ``values``, which only a many-to-many field needs."""
    name, coerce = column.name, column.coerce
    return lambda values, row: coerce(row[name])


def _label_key(column: ColumnInfo, taken: set[str]) -> str:
    """The JSON key of a foreign key's label: its relationship's name (``account`` beside
    ``account_id``), else the column's without ``_id``, else ``<column>_label``."""
    bare = column.attribute.removesuffix("_id") if column.attribute.endswith("_id") else None
    for candidate in (column.relation_attribute, bare, f"{column.attribute}_label"):
        if candidate and candidate not in taken:
            return candidate
    return f"{column.attribute}_label_"


class _JoinedLabel:
    """A foreign key's label in the export, read from the list's join in the batch's own row:
    as the list shows it (``label_for``: ModelAdmin.label, the model's __str__ or its label
    column), computed once per target row of a batch."""

    def __init__(self, join: Join):
        self.alias = join.alias
        self.target = join.target
        self.target_admin = model_admin_for(self.target.model)
        self.prefix = join.alias + "__"
        self.key_name = self.prefix + self.target.primary_key[0].name
        self.labels: dict[t.Any, str] = {}

    def __call__(self, values: dict, row: t.Any) -> str | None:
        key = row[self.key_name]
        if key is None:  # no foreign key, or a row that no longer exists
            return None
        label = self.labels.get(key)
        if label is None:
            label = label_for(self.target_admin, self.target.model,
                              coerced(self.target, row, self.prefix))
            self.labels[key] = label
        return label

    def forget(self) -> None:
        """A new batch: memory stays that of one batch."""
        self.labels.clear()

    def copy_labels(self, engine, dialect) -> copy_export.SqlCell | copy_export.Labels | None:
        """The same labels for a COPY export: in SQL when no Python makes them and SQL can
        write them, else each key's target row read by its key, once."""
        if not label_needs_row(self.target_admin, self.target.model):
            name = (self.target_admin.verbose_name if self.target_admin is not None
                    else model_names(self.target.model).verbose_name)
            in_sql = copy_export.column_label_sql(self.target, self.alias, str(name),
                                                  dialect.placeholder)
            if in_sql is not None:
                return in_sql
        key_sql = copy_export.label_key_sql(self.target, self.alias)
        if key_sql is None:
            return None
        key = self.target.primary_key[0]
        columns = label_columns(self.target_admin, self.target.model)

        def resolve(keys: list[str]) -> dict[str, str | None]:
            found: dict[str, str | None] = {}
            for chunk in _chunks(keys, 5000):
                rows = fetch_rows_by_pk(engine, dialect, self.target,
                                        [(key.coerce(k),) for k in chunk], columns)
                for row in rows:
                    values = coerced(self.target, row)
                    found[str(values[key.name])] = label_for(self.target_admin,
                                                             self.target.model, values)
            return found

        return copy_export.Labels(key_sql, resolve)


def export_fields(model_admin: ModelAdmin, shown: list[DisplayColumn],
                  every_join: t.Sequence[Join] = ()
                  ) -> tuple[list[ColumnInfo], list[Join], list[ExportField]]:
    """What the export reads and writes: the list's columns (the key first when the list does
    not show it), and after each foreign key the list shows as a label (``account_id``), that
    label (``account``); a relation path's column (``order.account.region``) where the list
    shows it. Labels and paths are read by the batch's own query through the list's joins
    (``every_join``: the list's, which the chosen ones are reached through), so a batch is one
    statement whatever the number of rows, foreign keys and paths."""
    columns = [c.column for c in shown if c.column is not None]
    missing = [k for k in model_admin.info.primary_key if k not in columns]
    columns = missing + columns
    joins_of = {id(c.column): c.join for c in shown
                if c.column is not None and c.is_fk and len(c.join.target.primary_key) == 1}
    taken = {c.attribute for c in model_admin.info.columns}
    fields: list[ExportField] = []
    joins: list[Join] = []
    for entry in [*missing, *shown]:
        if isinstance(entry, DisplayColumn):
            if entry.related is not None and entry.join is not None:
                own = t.cast(RelatedColumn, entry.related).column
                ref = f"{entry.join.alias}.{quote_identifier(own.name)}"
                fields.append(ExportField(entry.label, entry.key, _related_value(entry),
                                          copy_export.cell_sql(own, ref)))
                joins.append(entry.join)
            if entry.function is not None and hasattr(entry.function, "texts"):
                # A many-to-many field: its labels (a list in JSON, joined by ", " in CSV).
                fields.append(ExportField(entry.label, entry.key, _ChipTexts(entry.function)))
                continue
            if entry.column is None:
                continue  # a path (above), or a callable: nothing of the row's own to export
            column = entry.column
        else:
            column = entry
        join = joins_of.get(id(column))
        sql = copy_export.cell_sql(column, column.sql)
        if join is None:
            fields.append(ExportField(column.label, column.attribute, _own_value(column), sql))
            continue
        fields.append(ExportField(_("%(field)s (ID)", field=column.label), column.attribute,
                                  _own_value(column), sql))
        key = _label_key(column, taken)
        taken.add(key)
        fields.append(ExportField(column.label, key, _JoinedLabel(join)))
        joins.append(join)
    return columns, with_parents(joins, every_join or joins), fields


class _ChipTexts:
    """A many-to-many field's labels in the export, read for a whole batch at once."""

    def __init__(self, column: t.Any):
        self.column = column

    def __call__(self, values: dict, row: t.Any) -> list[str]:
        return self.column.texts(values)


def _related_value(column: DisplayColumn) -> t.Callable[[dict, t.Any], t.Any]:
    """A relation path's value in the batch's row, read through its join."""
    own = t.cast(RelatedColumn, column.related).column
    key = f"{t.cast(Join, column.join).alias}__{own.name}"
    return lambda values, row: own.coerce(row[key])


def _copy_cells(fields: list[ExportField], engine, dialect
                ) -> list[str | copy_export.SqlCell | copy_export.Labels] | None:
    """What COPY selects for each field (copy_export.CopyExport), or None when a field has no
    SQL form (a float, a many-to-many field, a label whose key a token cannot carry...) or
    there is one field (Python's csv module quotes a lone empty cell)."""
    cells: list[str | copy_export.SqlCell | copy_export.Labels] = []
    for field in fields:
        cell = (field.value.copy_labels(engine, dialect) if isinstance(field.value, _JoinedLabel)
                else field.sql)
        if cell is None:
            return None
        cells.append(cell)
    return cells if len(cells) > 1 else None


def export_view(model_admin: ModelAdmin):
    require(model_admin, "export")
    fmt = request.args.get("format", "csv")
    if fmt not in EXPORT_FORMATS:
        abort(400, description=_("format must be csv, json or xlsx"))
    args = request.args.copy()
    args.pop("format", None)
    listing = list_request(model_admin, args)
    spec, params = listing.spec, listing.params
    columns, joins, fields = export_fields(model_admin, listing.columns, listing.joins)
    labels = [f.value for f in fields if isinstance(f.value, _JoinedLabel)]
    chip_lists = [f.value for f in fields if isinstance(f.value, _ChipTexts)]
    if not keyset_possible(params.sort):
        params.sort = [(c, True) for c in model_admin.info.primary_key]
    engine, dialect = read_engine_and_dialect(model_admin)
    info = model_admin.info

    def batches():
        """(values, row) pairs, EXPORT_BATCH rows per statement; memory stays that of one batch."""
        batch = ListParams(q=params.q, sort=params.sort, filters=params.filters,
                           per_page=EXPORT_BATCH)
        while True:
            page = select_list(engine, dialect, spec, batch, columns, joins, count_cap=None)
            for label in labels:
                label.forget()
            for chips in chip_lists:
                chips.column.prefetch(page.rows)
            # Every column coerced: only a many-to-many field needs it (its rows' keys).
            yield [(coerced(info, r) if chip_lists else None, r) for r in page.rows]
            if not page.next_cursor:
                return
            batch.after = [page.rows[-1][c.name] for c, _ in batch.sort]

    def as_csv():
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow([_neutralise(f.header) for f in fields])
        yield buffer.getvalue()
        cells = (_copy_cells(fields, engine, dialect) if dialect.is_postgresql and not chip_lists
                 and current_state().export_copy else None)
        if cells is not None:
            yield from copy_export.CopyExport(engine, dialect, spec, params, joins, cells)
            return
        for rows in batches():
            buffer.seek(0)
            buffer.truncate()
            for values, row in rows:
                writer.writerow([_csv_cell(", ".join(f.value(values, row))
                                           if isinstance(f.value, _ChipTexts)
                                           else f.value(values, row)) for f in fields])
            yield buffer.getvalue()

    def as_json():
        yield "["
        first = True
        for rows in batches():
            for values, row in rows:
                item = {f.key: _plain(f.value(values, row)) for f in fields}
                yield ("" if first else ",") + json.dumps(item, ensure_ascii=False, default=str)
                first = False
        yield "]"

    def as_xlsx():
        rows = (([_xlsx_value(f.value(values, row)) for f in fields] for values, row in batch)
                for batch in batches())
        yield from xlsx_stream(str(model_admin.verbose_name_plural),
                               [str(f.header) for f in fields], rows)

    filename = f"{model_admin.slug}.{fmt}"
    body = {"csv": as_csv, "json": as_json, "xlsx": as_xlsx}[fmt]()
    response = Response(stream_with_context(body), mimetype=EXPORT_FORMATS[fmt])
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


#: Export formats and their media types.
EXPORT_FORMATS = {
    "csv": "text/csv",
    "json": "application/json",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _xlsx_value(value: t.Any) -> t.Any:
    """A value as an XLSX cell takes it: numbers, booleans, dates and times keep their type
    (xlsx.cell formats them), anything else as the JSON export has it."""
    if value is None or isinstance(value, (bool, int, float, decimal.Decimal, dt.date, dt.time)):
        return value
    return _plain(value)


def _plain(value: t.Any) -> t.Any:
    """A value as JSON holds it: arrays as lists and JSON columns as they are (their items
    plain too), bytes in hexadecimal, a range as PostgreSQL writes it (``[1,10)``), dates in
    ISO 8601, anything else as its text."""
    if hasattr(value, "value") and not isinstance(value, (int, str, float)):
        value = getattr(value, "value", value)
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    if hasattr(value, "isempty") and hasattr(value, "lower"):
        return range_literal(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value if value is None or isinstance(value, (int, float, str, bool)) else str(value)
