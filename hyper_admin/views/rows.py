"""One row: detail, create, edit and delete (CONTRACT §3–§4)."""

from __future__ import annotations

import typing as t
from dataclasses import dataclass
from urllib.parse import urlencode

from flask import abort, flash, make_response, redirect, request, url_for
from flask_login import current_user
from markupsafe import Markup
from wtforms import ValidationError

from .. import checks, fields as form_fields
from ..form_extras import prepopulate_form, site_link
from ..cells import Cell, coerced, encode_pk, format_value, label_columns, label_for
from ..changes import (Conflict, MissingValues, form_columns, snapshot, stable, token_columns)
from ..htmx import current_htmx, location, push_url, reswap, retarget
from ..i18n import _, format_number, lazy_gettext as _l
from ..introspect import ColumnInfo, model_info
from ..options import ModelAdmin
from ..query import count_referencing, fetch_rows_by_pk, on_delete_rule, referencing_rows
from ..unchanged import forgive, untouched
from ..writes import IntegrityProblem
from .common import (admin_path, changes_for, detail_url, engine_and_dialect, labels_of, list_url,
                     load_row, model_admin_for, next_path, object_of, require, row_url,
                     version_tokens)
from . import many_to_many as m2m, save_buttons
from . import files as file_views
from ..file_changes import stored_uploads
from . import inlines as inline_views
from ..inlines import InlineFailed
from .panels import detail_slots
from .pages import row_page_links
from .render import Crumb, render_page
from ..values import fk_labels, value_text
from .visits import remember_visit


def _crumbs(model_admin: ModelAdmin, *more: Crumb) -> list[Crumb]:
    return [Crumb(_("Dashboard"), url_for(".dashboard")),
            Crumb(model_admin.verbose_name_plural, list_url(model_admin)), *more]


def _done(url: str, message: str, category: str = "success"):
    """After a successful write: 303 for a page; for htmx, a client-side navigation."""
    flash(message, category)
    if current_htmx().request:
        # htmx would follow a 303 inside its XHR without updating the address bar: ask it to
        # navigate instead (it GETs the URL, swaps #main and pushes the URL).
        return location(make_response("", 200), url, target="#main",
                        swap="outerHTML show:window:top")
    return redirect(url, code=303)


def _in_place() -> bool:
    """Whether htmx posted the form into an element of the page (``hx-target`` other than the
    main area, e.g. a reply box inside a panel) rather than navigating."""
    htmx = current_htmx()
    return htmx.request and htmx.target not in (None, "main")


def _done_next(url: str, message: str):
    """After saving a form that named its ``next`` page: as _done; but a form htmx posted into
    an element of the page gets that element's new content: a 303 to ``url`` its XHR follows
    (htmx swaps the answer where the form said, no history entry). No toast then: the page
    that would show it is not loaded, and the new content says what was done."""
    if _in_place():
        return redirect(url, code=303)
    return _done(url, message)


def _as_page(response, url: str):
    """A form htmx posted into an element of the page that comes back with its errors takes
    the main area, at its own URL: never a whole form page inside a small element."""
    if _in_place():
        retarget(response, "#main")
        reswap(response, "outerHTML show:window:top")
        push_url(response, url)
    return response


# ---------------------------------------------------------------------------------------------
# Detail


@dataclass
class Field:
    label: str
    cell: Cell
    help: str | None = None


@dataclass
class Inline:
    label: str
    rows: list[tuple[str, str | None]]   # (label, url)
    more_url: str | None
    add_url: str | None
    count_text: str


def _value_cells(model_admin: ModelAdmin, columns: list[ColumnInfo], values: dict) -> list[Field]:
    fk_labels: dict[str, dict] = {}
    for column in columns:
        if column.target_model is not None and values.get(column.name) is not None:
            fk_labels[column.name] = labels_of(column.target_model, [values[column.name]])
    shown = []
    for column in columns:
        value = values.get(column.name)
        formatter = model_admin.formatters.get(column.attribute)
        if formatter is not None and value is not None:
            result = formatter(value, values)
            cell = Cell(html=result) if isinstance(result, Markup) else Cell(text=str(result))
        elif column.name in fk_labels:
            label = fk_labels[column.name].get(value)
            cell = Cell(text=label or f"#{value}", url=row_url(column.target_model, (value,)) if label else None, kind="fk")
        else:
            cell = format_value(column, value, badges=model_admin.badges.get(column.attribute),
                                empty=model_admin.empty_text(column))
        shown.append(Field(column.label, cell, column.hint.help))
    return shown


def detail_view(model_admin: ModelAdmin, pk: str):
    user = current_user
    pk_values, values = load_row(model_admin, pk)
    names = model_admin.get_detail_fields(user)
    visible = {c.attribute: c for c in model_admin.visible_columns()}
    columns = [visible[n] for n in names if n in visible]
    obj = object_of(model_admin, values)
    title = model_admin.row_label(obj)
    inlines = [_inline(model_admin, child, pk_values) for child in _inline_models(model_admin, user)]
    remember_visit(model_admin, encode_pk(pk_values), str(title))
    return render_page(
        "detail", slug=model_admin.slug, page_title=title,
        breadcrumbs=_crumbs(model_admin, Crumb(title)),
        model_admin=model_admin, fields=_value_cells(model_admin, columns, values) + m2m.detail_fields(
            model_admin, pk_values, lambda label, html: Field(label, Cell(html=html))),
        inlines=[i for i in inlines if i is not None], pk=encode_pk(pk_values),
        can_change=model_admin.has_permission("change", user, obj),
        can_delete=model_admin.has_permission("delete", user, obj),
        row_actions=model_admin.get_actions(user),
        panels=detail_slots(model_admin, encode_pk(pk_values)),
        site_url=site_link(model_admin, obj),
        row_pages=row_page_links(model_admin, encode_pk(pk_values), obj),
    )


def _inline_models(model_admin: ModelAdmin, user) -> list[tuple[type, ColumnInfo]]:
    info = model_admin.info
    registry = [ma.model for ma in model_admin.admin.registry.values()]
    children = info.children(registry)
    wanted = model_admin.get_inlines(user)
    found = []
    for item in wanted:
        item = getattr(item, "model", item)  # an Inline (inlines.py) is listed here too
        for child in children:
            target_admin = model_admin_for(child.model)
            if child.model is item or (target_admin is not None and target_admin.slug == item):
                found.append((child.model, child.column))
    return found


def _inline(model_admin: ModelAdmin, child: tuple[type, ColumnInfo], parent_pk: tuple) -> Inline | None:
    model, fk = child
    child_admin = model_admin_for(model)
    if child_admin is None or not child_admin.has_permission("view", current_user):
        return None
    info = child_admin.info
    engine, dialect = engine_and_dialect()
    per = int(model_admin.inline_per_page)
    rows = referencing_rows(engine, dialect, info, fk, [parent_pk[0]],
                            label_columns(child_admin, model),
                            scope=child_admin.scope(current_user), limit=per + 1)
    items = []
    for row in rows[:per]:
        values = coerced(info, row)
        items.append((label_for(child_admin, model, values),
                      detail_url(child_admin, info.pk_values(values))))
    filter_url = list_url(child_admin) + "?" + urlencode({fk.attribute: parent_pk[0]})
    add_url = None
    if child_admin.has_permission("add", current_user):
        add_url = url_for(".create", slug=child_admin.slug) + "?" + urlencode({fk.attribute: parent_pk[0]})
    count_text = f"{len(items)}+" if len(rows) > per else str(len(items))
    return Inline(label=child_admin.verbose_name_plural, rows=items,
                  more_url=filter_url, add_url=add_url, count_text=count_text)


# ---------------------------------------------------------------------------------------------
# Forms


def _field(form, attribute: str):
    try:
        return form.field(attribute)
    except KeyError:
        return None


def _prepare_fk_fields(model_admin: ModelAdmin, form, editable: list[ColumnInfo]) -> None:
    for column in editable:
        if column.target_model is None:
            continue
        field = form.field(column.attribute)
        target_admin = model_admin_for(column.target_model)
        if target_admin is not None and target_admin.has_permission("view", current_user):
            field.lookup_url = url_for(".lookup", slug=target_admin.slug)
        else:  # labels only, through this form's own field (views/lookup.field_lookup_view)
            field.lookup_url = url_for(".field_lookup", slug=model_admin.slug,
                                       field=column.attribute)
        current = field.data if field.data not in (None, "") else None
        if current is not None:
            # A key from the request (posted, or a preset) is named only within the target's
            # scope: otherwise the form would tell the label of any row whose key one typed.
            typed = bool(field.raw_data) or column.attribute in request.args
            label = labels_of(column.target_model, [current], scoped=typed).get(current)
            field.current_label = label or f"#{current}"
            field.detail_url = row_url(column.target_model, (current,))
        else:
            field.current_label = None
            field.detail_url = None


def _render_form(model_admin: ModelAdmin, form, *, obj_values: dict | None, pk_text: str | None,
                 readonly: list[ColumnInfo], version: str | None, status: int = 200,
                 title: str, conflict: list[dict] | None = None, error: str | None = None,
                 missing: t.Sequence[ColumnInfo] = ()):
    user = current_user
    fieldsets = []
    readonly_by_name = {c.attribute: c for c in readonly}
    readonly_cells = {f.label: f for f in _value_cells(model_admin, readonly, obj_values or {})}
    for legend, group in model_admin.get_fieldsets(user, None if obj_values is None else obj_values):
        entries = []
        for name in group.get("fields", ()):
            field = _field(form, name)
            if field is not None:
                entries.append({"field": field})
            elif name in readonly_by_name and obj_values is not None:
                column = readonly_by_name[name]
                entries.append({"readonly": readonly_cells.get(column.label), "label": column.label})
        fieldsets.append({"legend": legend, "description": group.get("description"), "entries": entries})
    if missing and fieldsets:
        fieldsets[0]["entries"] += [_missing_entry(model_admin, column) for column in missing]
    m2m.place(fieldsets, form)
    crumbs = [Crumb(title)] if pk_text is None else [
        Crumb(title, url_for(".detail", slug=model_admin.slug, pk=pk_text)), Crumb(_("Edit"))]
    after = next_path()  # kept through a form that comes back with errors
    if _in_place():  # shown as a page now: once saved, back to the page it was sent from
        after = admin_path(current_htmx().current_path) or after
    action = (url_for(".edit", slug=model_admin.slug, pk=pk_text) if pk_text
              else url_for(".create", slug=model_admin.slug, **({"next": after} if after else {})))
    prepopulate_form(model_admin, form, editing=pk_text is not None)
    return _as_page(render_page(
        "form", slug=model_admin.slug, page_title=_("Edit %(row)s",
                                                    row=title) if pk_text else title,
        breadcrumbs=_crumbs(model_admin, *crumbs), status_code=status,
        model_admin=model_admin, form=form, fieldsets=fieldsets, action=action,
        version=version, pk=pk_text, conflict=conflict, error=error,
        inline_formsets=inline_views.shown(),
        buttons=save_buttons.buttons(model_admin, editing=pk_text is not None),
        site_url=site_link(model_admin, object_of(model_admin, obj_values)
                           if pk_text is not None and obj_values else None),
        cancel_url=(url_for(".detail", slug=model_admin.slug, pk=pk_text) if pk_text
                    else after or list_url(model_admin)),
    ), action)


def _missing_entry(model_admin: ModelAdmin, column: ColumnInfo) -> dict:
    """A required column this add form cannot set (checks.unfillable_on_insert), shown where
    the field would be, with why: never an error attached to nothing."""
    readonly = (column.attribute in model_admin.get_readonly_fields(current_user, None)
                or column.hint.readonly)
    reason = _("read-only for you") if readonly else _("not on this form for you")
    return {"missing": {
        "id": f"id_{column.attribute}", "label": column.label,
        "message": _("Required, but this form cannot set it (%(reason)s): no row can be added "
                     "until it can. Ask an administrator.", reason=reason)}}


def create_view(model_admin: ModelAdmin, formdata=None, refused: dict[str, str] | None = None):
    """The add form; ``formdata`` and ``refused`` (field -> error) when "Save as new" on an
    edit form posts here (save_buttons.save_as_new)."""
    require(model_admin, "add")
    user = current_user
    editable, readonly = form_columns(model_admin, user, None)
    form_class = m2m.with_fields(model_admin, model_admin.form_class(editable))
    title = model_admin.phrase("Add %(model)s")
    unfillable = checks.unfillable_on_insert(model_admin, {c.attribute for c in editable})
    if request.method == "GET":
        initial = {c.attribute: c.default_value() for c in editable if c.has_default}
        # Presets from the query string (e.g. a child created from its parent's page).
        for column in editable:
            if column.attribute in request.args:
                initial[column.attribute] = request.args[column.attribute]
        form = form_class(data=initial)
        _prepare_fk_fields(model_admin, form, editable)
        m2m.prepare(model_admin, form)
        file_views.prepare_file_fields(model_admin, form, editable, None)
        # Said before anything is typed, unless on_model_change may still fill them.
        missing = [] if checks.fills_values_in_a_hook(model_admin) else unfillable
        inline_views.bind(model_admin, None)
        return _render_form(model_admin, form, obj_values=None, pk_text=None, readonly=[],
                            version=None, title=title, missing=missing)

    form = form_class(file_views.form_data() if formdata is None else formdata)
    _prepare_fk_fields(model_admin, form, editable)
    file_views.prepare_file_fields(model_admin, form, editable, None)
    m2m.prepare(model_admin, form, posted=True)

    def again(status: int, **problem):
        return _render_form(model_admin, form, obj_values=None, pk_text=None, readonly=[],
                            version=None, title=title, status=status, **problem)

    # The children's rows are saved with the new row (not copied by "Save as new").
    children = inline_views.bind(model_admin, None) if formdata is None else []
    children_valid = inline_views.validate(children)
    valid = (form.validate() and _references_exist(form, editable)
             and m2m.validate(model_admin, form)) and children_valid
    if not _refuse(form, refused) or not valid:  # after validate(), which resets errors
        return again(422)
    values = form_fields.cleaned_values(form, editable)
    # Columns the form does not show get the model's default, as sqlorm's own insert would.
    for column in model_admin.info.columns:
        if column.attribute not in values and column.has_default and not column.primary_key:
            values[column.attribute] = column.default_value()
    try:
        with stored_uploads(model_admin, values):  # removed again if the write fails
            parent = changes_for(model_admin)
            with parent.transaction():  # the inlines' rows in the same transaction
                pk, created = parent.create(values, must_fill=unfillable,
                                            related=m2m.changes(form))
                inline_views.save(children, created or {})
    except InlineFailed as exc:
        return again(exc.status, error=inline_views.FAILED)
    except MissingValues as exc:
        return again(422, missing=exc.columns)
    except ValidationError as exc:
        return again(422, error=str(exc))
    except IntegrityProblem as problem:
        return again(problem.status, error=_attach(form, problem))
    label = (model_admin.row_label(object_of(model_admin, created)) if created is not None
             else model_admin.verbose_name)
    message = model_admin.phrase("%(model)s “%(row)s” was added.",
                                 model=model_admin.verbose_name, row=label)
    after = next_path()
    button_target = save_buttons.after_create(model_admin, encode_pk(pk), after)
    if button_target is not None:
        return _done(button_target, message)
    if after is not None:
        return _done_next(after, message)
    return _done(detail_url(model_admin, pk), message)


def _refuse(form, refused: dict[str, str] | None) -> bool:
    """Errors decided before the form's own validation (``refused``: field -> message) put
    on their fields; False when there are any."""
    for name, message in (refused or {}).items():
        field = _field(form, name)
        if field is not None:
            field.errors = list(field.errors) + [message]
    return not refused


def _attach(form, problem: IntegrityProblem) -> str | None:
    """Put the problem on its field; return it as a general message when no field shows it."""
    field = _field(form, problem.field) if problem.field else None
    if field is None:
        return problem.message
    field.errors = list(field.errors) + [problem.message]
    return None


def _references_exist(form, editable: list[ColumnInfo]) -> bool:
    """A posted foreign key must name a row the user could have picked: one that exists within
    the target's scope. Otherwise the field gets an error (checked before any write)."""
    ok = True
    engine, dialect = engine_and_dialect()
    for column in editable:
        field = _field(form, column.attribute)
        if column.target_model is None or field is None or field.data in (None, ""):
            continue
        target_admin = model_admin_for(column.target_model)
        target = model_info(column.target_model)
        if len(target.primary_key) != 1:
            continue
        scope = target_admin.scope(current_user) if target_admin is not None else None
        if not fetch_rows_by_pk(engine, dialect, target, [(field.data,)], target.primary_key,
                                scope=scope):
            field.errors = list(field.errors) + [
                target_admin.phrase("Choose an existing %(model)s.")
                if target_admin else _("Choose an existing row.")]
            ok = False
    return ok


def edit_view(model_admin: ModelAdmin, pk: str):
    user = current_user
    pk_values, values = load_row(model_admin, pk)
    obj = object_of(model_admin, values)
    require(model_admin, "change", obj)
    editable, readonly = form_columns(model_admin, user, obj)
    form_class = m2m.with_fields(model_admin, model_admin.form_class(editable), obj)
    title = model_admin.row_label(obj)
    tokened = token_columns(model_admin, editable)
    tokens = version_tokens()
    version = tokens.dumps(values, tokened)
    if request.method == "GET":
        form = form_class(data=form_fields.initial_data(editable, values))
        _prepare_fk_fields(model_admin, form, editable)
        m2m.prepare(model_admin, form, pk_values[0])
        file_views.prepare_file_fields(model_admin, form, editable, pk)
        form.m2m_version = m2m.version(model_admin, form, pk_values[0])
        inline_views.bind(model_admin, values)
        return _render_form(model_admin, form, obj_values=values, pk_text=pk, readonly=readonly,
                            version=version, title=title)

    if save_buttons.chosen() == save_buttons.SAVE_AS_NEW:
        return save_buttons.save_as_new(model_admin, values, create_view)
    # The row's values back the form, so a value the form cannot show (a choice no longer
    # offered, a time zone) is kept unless the user changed it.
    form = form_class(file_views.form_data(), data=form_fields.initial_data(editable, values))
    _prepare_fk_fields(model_admin, form, editable)
    file_views.prepare_file_fields(model_admin, form, editable, pk)
    m2m.prepare(model_admin, form, pk_values[0], posted=True)
    form.m2m_version = request.form.get(m2m.VERSION_FIELD)
    children = inline_views.bind(model_admin, values)

    def again(status: int, shown_version: str, **problem):
        return _render_form(model_admin, form, obj_values=values, pk_text=pk, readonly=readonly,
                            version=shown_version, title=title, status=status, **problem)

    posted_version = request.form.get("_version", "")
    # Inputs left as the form showed them keep the row's own value (unchanged.py).
    kept = untouched(form, editable, values)
    touched = [c for c in editable if c.attribute not in kept]
    children_valid = inline_views.validate(children)
    if (not (form.validate() or forgive(form, kept))
            or not _references_exist(form, touched) or not m2m.validate(model_admin, form)
            or not children_valid):
        return again(422, posted_version or version)
    original = tokens.loads(posted_version)
    if original != snapshot(values, tokened):
        return _conflict(model_admin, form, values, editable, readonly, pk, title, version,
                         original=original)
    new_values = form_fields.cleaned_values(form, touched)
    before = {c.attribute: values.get(c.name) for c in editable}
    changed = {a: v for a, v in new_values.items() if stable(v) != stable(before.get(a))}
    m2m_original = m2m.posted_version()
    related = m2m.changes(form, expected=m2m_original or {})
    try:
        with stored_uploads(model_admin, changed):  # removed again if the write fails
            parent = changes_for(model_admin)
            with parent.transaction():  # the inlines' rows in the same transaction
                parent.update(pk_values, changed, columns=tokened, original=original,
                              related=related)
                inline_views.save(children, values)
    except InlineFailed as exc:
        return again(exc.status, version, error=inline_views.FAILED)
    except Conflict:
        moved = m2m.conflict_rows(form, m2m_original, pk_values[0])
        if moved:
            form.m2m_version = m2m.version(model_admin, form, pk_values[0])
            return again(409, version, conflict=moved, error=_(
                "Someone else changed this row since you opened the form. The form still holds "
                "your input: check and save again."))
        _unused, fresh = load_row(model_admin, pk)
        return _conflict(model_admin, form, fresh, editable, readonly, pk, title,
                         tokens.dumps(fresh, tokened), original=snapshot(values, tokened))
    except ValidationError as exc:
        return again(422, version, error=str(exc))
    except IntegrityProblem as problem:
        return again(problem.status, version, error=_attach(form, problem))
    message = (model_admin.phrase("%(model)s “%(row)s” was saved.",
                                  model=model_admin.verbose_name, row=title)
               if changed or any(r.changed for r in related)
               or inline_views.has_changes(children) else _("%(model)s “%(row)s”: no changes.",
                      model=model_admin.verbose_name, row=title))
    return _done(save_buttons.after_edit(model_admin, pk)
                 or detail_url(model_admin, pk_values), message)


def _input_values(form, editable: list[ColumnInfo]) -> dict[ColumnInfo, t.Any]:
    """The user's input, as the values it would write (None where a field does not parse)."""
    out = {}
    for column in editable:
        field = _field(form, column.attribute)
        if field is None:
            continue
        try:
            out[column] = form_fields.cleaned_values(form, [column]).get(column.attribute)
        except Exception:  # noqa: BLE001 - an input that does not parse is a change of its own
            out[column] = field.data
    return out


def _conflict(model_admin, form, current: dict, editable, readonly, pk, title, version, *,
              original: dict | None):
    """409: the row changed since the form was opened. Lists, per field someone else changed,
    the value the form was opened with, the value now, and the user's input (kept in the form);
    the form carries the new version, so saving again applies the user's input knowingly."""
    now = snapshot(current, editable)
    # Their values as the form's widgets hold them, for "Take theirs" (static/admin.js).
    theirs = type(form)(formdata=None, data=form_fields.initial_data(editable, current))
    inputs = _input_values(form, editable)
    mine = snapshot({c.name: v for c, v in inputs.items()}, editable)
    # Every side reads as the list reads it: a foreign key by its row's label on each side.
    labels = fk_labels((c, v) for c in editable for v in (
        (original or {}).get(c.name), current.get(c.name), inputs.get(c)))

    def shown(column: ColumnInfo, value: t.Any) -> str:
        if isinstance(value, str) and value.startswith("sha256:"):
            return _("(long text)")  # the form's version token keeps long values by their hash
        text = value_text(column, value, labels)
        return "—" if text is None else text

    changed = []
    for column in editable:
        if original is not None and original.get(column.name) == now[column.name]:
            continue
        field = _field(form, column.attribute)
        their_field = _field(theirs, column.attribute)
        if (original is not None and field is not None and their_field is not None
                and mine.get(column.name) == original.get(column.name)):
            # Only they changed this field: the form takes their value, or saving again would
            # silently undo their change (a three-way merge; only fields both changed remain
            # for the user to choose).
            field.data, field.raw_data = their_field.data, None
            changed.append({"label": column.label,
                            "was": shown(column, original.get(column.name)),
                            "current": shown(column, current.get(column.name)),
                            "mine": None, "field_id": field.id, "theirs_value": None,
                            "merged": True})
            continue
        was = original.get(column.name) if original is not None else None
        if their_field is None:
            their_value = None
        elif their_field.type == "BooleanField":
            their_value = "y" if their_field.data else ""
        else:
            their_value = their_field._value() if hasattr(their_field, "_value") else str(their_field.data or "")
        changed.append({
            "label": column.label,
            "was": _("(unknown)") if original is None else shown(column, was),
            "current": shown(column, current.get(column.name)),
            "mine": shown(column, inputs.get(column)),
            "field_id": field.id if field is not None else None,
            "theirs_value": their_value,
            "merged": False,
        })
    return _render_form(model_admin, form, obj_values=current, pk_text=pk, readonly=readonly,
                        version=version, title=title, status=409, conflict=changed,
                        error=_("Someone else changed this row since you opened the form. The "
                                "form now holds their changes, and your input where you changed "
                                "the same fields: check and save again."))


# ---------------------------------------------------------------------------------------------
# Delete


def reach_of(model_admin: ModelAdmin, pks: list[tuple]) -> list[dict]:
    """What deleting ``pks`` reaches: per child model, how many rows point at them (capped),
    with the first few labels."""
    info = model_admin.info
    if len(info.primary_key) != 1 or not pks:
        return []
    engine, dialect = engine_and_dialect()
    registry = [ma.model for ma in model_admin.admin.registry.values()]
    out = []
    keys = [pk[0] for pk in pks]
    for child in info.children(registry):
        child_info = model_info(child.model)
        child_admin = model_admin_for(child.model)
        child_scope = child_admin.scope(current_user) if child_admin is not None else None
        n, capped = count_referencing(engine, dialect, child_info, child.column, keys,
                                      scope=child_scope)
        if not n:
            continue
        examples = []
        if child_admin is not None and child_admin.has_permission("view", current_user):
            rows = referencing_rows(engine, dialect, child_info, child.column, keys,
                                    label_columns(child_admin, child.model), limit=5,
                                    scope=child_scope, newest_first=False)
            for row in rows:
                values = coerced(child_info, row)
                examples.append((label_for(child_admin, child.model, values),
                                 detail_url(child_admin, child_info.pk_values(values))))
        count = format_number(n) + ("+" if capped else "")
        if child_admin is None:
            name, count_text = child.model.__name__, f"{count} {child.model.__name__}"
        else:
            name = child_admin.verbose_name if n == 1 and not capped else child_admin.verbose_name_plural
            count_text = child_admin.count_text(n + 1 if capped else n, count)
        rule = on_delete_rule(engine, dialect, child_info, child.column, info)
        out.append({"label": name, "count": count, "count_text": count_text,
                    "column": child.column.label, "examples": examples,
                    "nullable": child.column.nullable, "rule": rule,
                    "outcome": REACH_OUTCOMES[rule]})
    return out


REACH_OUTCOMES = {
    "cascade": _l("deleted with it"),
    "set null": _l("kept, their reference cleared"),
    "set default": _l("kept, their reference set to its default"),
    "block": _l("block the delete: the database will refuse it"),
    "none": _l("kept, pointing at a row that no longer exists (no foreign key in the database)"),
}


def delete_view(model_admin: ModelAdmin, pk: str):
    pk_values, values = load_row(model_admin, pk)
    obj = object_of(model_admin, values)
    require(model_admin, "delete", obj)
    title = model_admin.row_label(obj)

    reach = reach_of(model_admin, [pk_values])

    def page(status: int = 200, error: str | None = None):
        return render_page(
            "delete", slug=model_admin.slug, page_title=_("Delete %(row)s?",
                                                          row=title), dialog=True,
            breadcrumbs=_crumbs(model_admin, Crumb(title, detail_url(model_admin, pk_values)),
                                Crumb(_("Delete"))),
            model_admin=model_admin, title=title, reach=reach,
            blocked=any(r["rule"] == "block" for r in reach),
            pk=pk, cancel_url=detail_url(model_admin, pk_values), status_code=status,
            error=error,
        )

    if request.method == "GET":
        return page()
    try:
        changes_for(model_admin).delete(pk_values)
    except LookupError:
        abort(404)
    except IntegrityProblem:
        return page(409, _("The database refused the delete: other rows still refer to this one. "
                           "Delete or reassign them first."))
    except ValidationError as exc:
        return page(409, str(exc))
    return _done(list_url(model_admin), model_admin.phrase(
        "%(model)s “%(row)s” was deleted.", model=model_admin.verbose_name, row=title))
