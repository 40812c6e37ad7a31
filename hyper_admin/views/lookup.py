"""GET /admin/<slug>/lookup — a foreign-key picker's options (rows of the target model), and
GET /admin/<slug>/lookup/<field> — one form field's options, labels only (CONTRACT §6)."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import abort, make_response, render_template, request
from flask_login import current_user

from ..cells import coerced, label_columns, label_for
from ..changes import pickable_foreign_keys
from ..i18n import _
from ..introspect import model_info
from ..options import ModelAdmin
from ..query import BadQuery, lookup_rows, parse_value
from .common import model_admin_for, read_engine_and_dialect
from .render import templates_for

LOOKUP_LIMIT = 20


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
    column = pickable_foreign_keys(model_admin, current_user).get(field)
    target_model = column.target_model if column is not None else None
    if column is None:
        target_model = picked_through_join(model_admin, field)
    if target_model is None:
        abort(404)
    target_admin = model_admin_for(target_model)
    if target_admin is not None and target_admin.has_permission("view", current_user):
        names = target_admin.get_search_fields(current_user)
        info = target_admin.info
        search = [c for c in (info.column(n) for n in names if "." not in n) if c is not None]
    else:
        search = []
    return _lookup_response(target_model, target_admin, search)


def picked_through_join(model_admin: ModelAdmin, field: str) -> type | None:
    """The model a many-to-many field of this model's form picks, for a user who may add or
    change its rows (as a foreign key: CONTRACT §6); None otherwise."""
    if not (model_admin.has_permission("add", current_user)
            or model_admin.has_permission("change", current_user)):
        return None
    relation = model_admin.many_to_many_fields().get(field)
    return relation.target if relation is not None else None


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
    engine, dialect = read_engine_and_dialect(model_admin)
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
