"""GET/POST /admin/<slug>/<pk>/cell/<field> — inline cell editing of ``list_editable`` fields.

GET answers the cell's editor (one field of the edit form, built as the edit form builds it);
``?view=1`` answers the cell's display again (Esc). POST saves through the edit form's rules:
row within scope (404), ``change`` permission on the row (403), the field's validation (422,
input kept), the hooks, and an UPDATE conditioned on the value read (stale: 409, input kept).
"""

from __future__ import annotations

from flask import abort, flash, make_response, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup
from wtforms import ValidationError

from .. import fields as form_fields
from ..cells import Cell, cell_button, format_value
from ..i18n import _, in_sentence
from ..introspect import ColumnInfo
from ..options import ModelAdmin
from ..unchanged import forgive, untouched
from ..writes import IntegrityProblem
from ..changes import Conflict, form_columns, snapshot, stable
from .common import changes_for, detail_url, load_row, object_of, require, version_tokens
from .render import templates_for
from .rows import _attach


def editable_columns(model_admin: ModelAdmin) -> dict[str, ColumnInfo]:
    """``list_editable`` as columns (attribute -> column), checked once per ModelAdmin: each must
    be a plain, visible column of the model shown by ``list_display``, neither a primary key nor
    a foreign key (TypeError otherwise, at first use)."""
    cached = model_admin.__dict__.get("_list_editable_columns")
    if cached is not None:
        return cached
    info = model_admin.info
    visible = {c.attribute for c in model_admin.visible_columns()}
    displayed = model_admin.list_display
    found: dict[str, ColumnInfo] = {}
    for name in model_admin.list_editable:
        where = f"list_editable {name!r} of {type(model_admin).__name__}"
        column = info.column(name) if isinstance(name, str) else None
        if column is None or column.attribute not in visible or column.lazy:
            raise TypeError(f"{where} is not a visible, non-lazy column of {model_admin.model.__name__}")
        if column.primary_key:
            raise TypeError(f"{where} is a primary key: keys are not editable in place")
        if column.is_foreign_key:
            raise TypeError(f"{where} is a foreign key: edit it on the form (it needs a picker)")
        if displayed is not None and name not in displayed:
            raise TypeError(f"{where} is not in list_display")
        found[column.attribute] = column
    model_admin._list_editable_columns = found
    return found


def cell_url(model_admin: ModelAdmin, pk_text: str, field: str) -> str:
    return url_for(".cell", slug=model_admin.slug, pk=pk_text, field=field)


def display_cell(model_admin: ModelAdmin, column: ColumnInfo, values: dict, pk: tuple) -> Cell:
    """The cell as the list shows it (same formatter, truncation and row link)."""
    value = values.get(column.name)
    formatter = model_admin.formatters.get(column.attribute)
    if formatter is not None:
        result = formatter(value, values)
        cell = Cell(html=result) if isinstance(result, Markup) else Cell(text=str(result))
    else:
        cell = format_value(column, value, max_chars=model_admin.list_max_chars,
                            badges=model_admin.badges.get(column.attribute),
                            empty=model_admin.empty_text(column))
    if column.attribute in model_admin.get_list_display_links(current_user) and not cell.url:
        cell.link_row(detail_url(model_admin, pk))
    return cell


def _render(model_admin: ModelAdmin, status: int = 200, **context):
    response = make_response(render_template(
        templates_for("partials/inline_cell", model_admin.slug), **context), status)
    return response


def cell_view(model_admin: ModelAdmin, pk: str, field: str):
    user = current_user
    # The CONTRACT's permission order: a missing row (404), then a change not granted (403:
    # a read-only model's cells too), then a field the list does not edit (400).
    pk_values, values = load_row(model_admin, pk)
    obj = object_of(model_admin, values)
    require(model_admin, "change", obj)
    if field not in editable_columns(model_admin):
        abort(400, description=_("%(field)s is not editable in the list", field=repr(field)))
    editable, _unused = form_columns(model_admin, user, obj)
    column = next((c for c in editable if c.attribute == field), None)
    if column is None:
        # Read-only for this user or row, or not a field of the form.
        abort(403)
    url = cell_url(model_admin, pk, field)

    def show(values: dict, status: int = 200, toast: bool = False):
        cell = display_cell(model_admin, column, values, pk_values)
        cell.edit_url = url
        return _render(model_admin, status, mode="view", toast=toast, cell=cell,
                       cell_html=cell_button(cell))

    def editor(form, version: str, status: int = 200, error: str | None = None):
        return _render(model_admin, status, mode="form", url=url, form=form, version=version,
                       field=form[field], field_id=f"ha-cell-{pk}-{field}", error=error,
                       label=column.label)

    form_class = model_admin.form_class([column])
    tokens = version_tokens()
    version = tokens.dumps(values, [column])
    if request.method == "GET":
        if request.args.get("view"):
            return show(values)
        return editor(form_class(data=form_fields.initial_data([column], values)), version)

    form = form_class(request.form, data=form_fields.initial_data([column], values))
    posted_version = request.form.get("_version", "")
    kept = untouched(form, [column], values)  # left as shown: the stored value stays
    if not (form.validate() or forgive(form, kept)):
        return editor(form, posted_version or version, 422)
    seen = snapshot(values, [column])
    if tokens.loads(posted_version) != seen:
        return editor(form, version, 409, error=_changed_meanwhile(column, values))
    new_values = {} if kept else form_fields.cleaned_values(form, [column])
    changed = {a: v for a, v in new_values.items() if stable(v) != stable(values.get(column.name))}
    try:
        changes_for(model_admin).update(pk_values, changed, columns=[column], original=seen)
    except Conflict:
        _unused, fresh = load_row(model_admin, pk)
        return editor(form, tokens.dumps(fresh, [column]), 409,
                      error=_changed_meanwhile(column, fresh))
    except ValidationError as exc:
        return editor(form, version, 422, error=str(exc))
    except IntegrityProblem as problem:
        return editor(form, version, problem.status, error=_attach(form, problem))
    _unused, fresh = load_row(model_admin, pk)
    title = model_admin.row_label(object_of(model_admin, fresh))
    if changed:
        flash(_("%(model)s “%(row)s”: %(field)s saved.", model=model_admin.verbose_name,
                row=title, field=in_sentence(column.label)), "success")
    return show(fresh, toast=bool(changed))


def _changed_meanwhile(column: ColumnInfo, values: dict) -> str:
    return _("Changed meanwhile: now %(value)s",
             value=format_value(column, values.get(column.name)).text)

