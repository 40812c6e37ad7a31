"""What the model screens share: the list spec for a user, loading one row within scope,
URLs of a model's screens, and permission checks that answer as CONTRACT §2 orders them."""

from __future__ import annotations

import hashlib
import typing as t
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from flask import abort, current_app, request, url_for
from flask_login import current_user

from ..cells import coerced, decode_pk, encode_pk, label_columns, label_for, make_object, resolve_list_display
from ..i18n import _
from ..introspect import ColumnInfo, ModelInfo, model_info
from ..options import ModelAdmin
from ..pipeline import admin_url, current_state, safe_next
from ..query import BadQuery, ListSpec, RelatedColumn, fetch_rows_by_pk, parse_list_params, parse_sort
from ..sql import Dialect, dialect_of


def engine_and_dialect() -> tuple[t.Any, Dialect]:
    engine = current_state().engine
    return engine, dialect_of(engine)


def next_path() -> str | None:
    """Where a form goes once saved when it says so, as Django's ``next``: the posted field
    ``next``, else ``?next=`` of its URL, when it is a path of this admin (admin_path)."""
    return admin_path(request.form.get("next") or request.args.get("next"))


def admin_path(target: str | None) -> str | None:
    """``target`` if it is a path of this admin (no open redirect, nowhere else on the site):
    a path (pipeline.safe_next) under the admin's own prefix, with no ``.`` or ``..`` segment,
    encoded or not. None otherwise."""
    target = safe_next(target)
    if target is None:
        return None
    path = unquote(urlsplit(target).path)
    if not path.startswith(admin_url(".dashboard")) or any(
            segment in (".", "..") for segment in path.split("/")):
        return None
    return target


def require(model_admin: ModelAdmin, action: str, obj: t.Any = None) -> None:
    if not model_admin.has_permission(action, current_user, obj):
        abort(403)


def model_admin_for(model: type) -> ModelAdmin | None:
    for model_admin in current_state().model_admins():
        if model_admin.model is model:
            return model_admin
    return None


def may_view(model: type) -> bool:
    target = model_admin_for(model)
    return target is not None and target.has_permission("view", current_user)


def list_url(model_admin: ModelAdmin, **args) -> str:
    return admin_url(".list", slug=model_admin.slug, **args)


def detail_url(model_admin: ModelAdmin, pk: t.Sequence[t.Any]) -> str:
    return url_for(".detail", slug=model_admin.slug, pk=encode_pk(pk))


def row_url(model: type, pk: t.Sequence[t.Any], *, check_view: bool = True) -> str | None:
    target = model_admin_for(model)
    if target is None or (check_view and not target.has_permission("view", current_user)):
        return None
    return detail_url(target, pk)


def cursor_key(model_admin: ModelAdmin) -> bytes:
    secret = current_app.secret_key or ""
    if isinstance(secret, str):
        secret = secret.encode()
    return hashlib.sha256(b"hyper_admin cursor|" + secret + b"|" + model_admin.slug.encode()).digest()


def _column_or_path(info: ModelInfo, name: str, visible: dict[str, ColumnInfo]
                    ) -> ColumnInfo | RelatedColumn | None:
    if "." in name:
        via_name, _unused, target_attr = name.partition(".")
        via = visible.get(via_name)
        if via is None:
            via = next((c for c in visible.values() if c.relation_attribute == via_name), None)
        if via is None or via.target_model is None:
            return None
        target = model_info(via.target_model)
        column = target.column(target_attr)
        if column is None or column.secret or len(target.primary_key) != 1:
            return None
        return RelatedColumn(name, via, column, target)
    return visible.get(name)


def list_spec(model_admin: ModelAdmin, user: t.Any, display_sort_keys: t.Iterable[str] = ()
              ) -> ListSpec:
    """Which fields may be sorted, filtered and searched, for this user, per CONTRACT §3."""
    info = model_admin.info
    visible = {c.attribute: c for c in model_admin.visible_columns()}
    sortable: dict[str, ColumnInfo] = {}
    for name in [*display_sort_keys, *model_admin.sortable_fields, *(c.attribute for c in info.primary_key)]:
        column = visible.get(name) if name else None
        if column is not None and not column.lazy:
            sortable[name] = column
    filterable: dict[str, ColumnInfo] = {}
    for name in model_admin.get_list_filter(user):
        column = visible.get(name)
        if column is None:
            raise TypeError(f"list_filter {name!r} of {type(model_admin).__name__} is not a visible column")
        filterable[name] = column
    if model_admin.date_hierarchy:
        column = visible.get(model_admin.date_hierarchy)
        if column is None or column.kind not in ("date", "datetime") or column.lazy:
            raise TypeError(f"date_hierarchy {model_admin.date_hierarchy!r} of "
                            f"{type(model_admin).__name__} is not a visible date or datetime column")
        filterable.setdefault(column.attribute, column)  # its links are __gte/__lte filters
    for column in visible.values():
        # Foreign keys are always filterable: the detail page links children lists by them.
        if column.is_foreign_key:
            filterable.setdefault(column.attribute, column)
    search: list[ColumnInfo | RelatedColumn] = []
    for name in model_admin.get_search_fields(user):
        target = _column_or_path(info, name, visible)
        if target is None:
            raise TypeError(f"search_fields {name!r} of {type(model_admin).__name__} is not a visible column")
        search.append(target)
    state = current_state()
    spec = ListSpec(
        info=info, sortable=sortable, filterable=filterable, search=search, ordering=[],
        per_page=int(model_admin.per_page or state.per_page),
        max_per_page=state.max_per_page,
        scope=model_admin.scope(user), base=model_admin.base_query(user),
        cursor_key=cursor_key(model_admin),
    )
    try:
        # The default order may use any visible column, sortable by users or not.
        spec.ordering = parse_sort(",".join(model_admin.get_ordering(user)),
                                   {**sortable, **visible})
    except BadQuery as exc:
        raise TypeError(f"ordering of {type(model_admin).__name__}: {exc}") from None
    return spec


@dataclass
class ListRequest:
    columns: list          # cells.DisplayColumn shown, in order (the ?columns= choice)
    joins: list            # query.Join the shown columns need
    spec: ListSpec
    params: t.Any          # query.ListParams
    all_columns: list      # every column list_display offers, for the column chooser


def list_request(model_admin: ModelAdmin, args) -> ListRequest:
    """The list's columns, what the user may use, and the parsed query string (400 if bad):
    shared by the list, its export and its "all matching" bulk actions."""
    user = current_user
    bind = getattr(model_admin, "bind", None)  # a query view (queries.QueryAdmin)
    if bind is not None:
        # Its parameters and the user's scope go into the query itself; the rest of the query
        # string is the list's.
        args = bind(user, args)
    columns, joins = resolve_list_display(model_admin, user, model_admin.get_list_display(user))
    spec = list_spec(model_admin, user, [c.sort_key for c in columns if c.sort_key])
    if bind is not None:
        spec.scope = None  # applied inside the query by bind()
    try:
        params = parse_list_params(args, spec)
    except BadQuery as exc:
        abort(400, description=str(exc))
    shown, needed = _chosen_columns(columns, joins, args)
    if bind is not None and model_admin.row_link_for(user) is None:
        for column in (*shown, *columns):
            column.link = False  # nowhere to go: a query view's rows have no page of their own
    return ListRequest(shown, needed, spec, params, columns)


def _chosen_columns(columns: list, joins: list, args) -> tuple[list, list]:
    """``columns=a,b`` (or repeated) shows those list_display columns, in that order."""
    if "columns" not in args:
        return columns, joins
    keys = [k.strip() for value in args.getlist("columns") for k in value.split(",") if k.strip()]
    by_key = {c.key: c for c in columns}
    unknown = [k for k in keys if k not in by_key]
    if unknown:
        abort(400, description=_("no column %(name)s in this list", name=repr(unknown[0])))
    if not keys:
        abort(400, description=_("choose at least one column"))
    shown = [by_key[k] for k in dict.fromkeys(keys)]
    if not any(c.link for c in shown):
        # The row must still link its detail page: the first plain column does.
        plain = [c for c in shown if c.join is None and c.related is None]
        (plain or shown)[0].link = True
    used = {id(c.join) for c in shown if c.join is not None}
    return shown, [j for j in joins if id(j) in used]


def load_row(model_admin: ModelAdmin, pk_text: str, *, columns: list[ColumnInfo] | None = None
             ) -> tuple[tuple, dict[str, t.Any]]:
    """(pk, row values keyed by column name, coerced) of the row at ``pk_text`` within the
    user's scope; 404 when malformed, missing or out of scope — the same answer for all three."""
    info = model_admin.info
    pk = decode_pk(info, pk_text)
    if pk is None:
        abort(404)
    engine, dialect = engine_and_dialect()
    wanted = columns if columns is not None else info.columns
    rows = fetch_rows_by_pk(engine, dialect, info, [pk], wanted,
                            scope=model_admin.scope(current_user))
    if not rows:
        abort(404)
    return pk, coerced(info, rows[0])


def labels_of(model: type, pks: t.Iterable[t.Any], *, scoped: bool = False) -> dict[t.Any, str]:
    """Labels of rows of ``model`` by (single) primary key, in one query; with ``scoped``,
    only of rows within the model's scope for the current user (keys a user typed)."""
    info = model_info(model)
    keys = list(dict.fromkeys(pk for pk in pks if pk is not None))
    if not keys or len(info.primary_key) != 1:
        return {}
    engine, dialect = engine_and_dialect()
    target_admin = model_admin_for(model)
    scope = target_admin.scope(current_user) if scoped and target_admin is not None else None
    rows = fetch_rows_by_pk(engine, dialect, info, [(k,) for k in keys],
                            label_columns(target_admin, model), scope=scope)
    pk_name = info.primary_key[0].name
    out = {}
    for row in rows:
        values = coerced(info, row)
        out[values[pk_name]] = label_for(target_admin, model, values)
    return out


def object_of(model_admin: ModelAdmin, values: dict[str, t.Any]) -> t.Any:
    return make_object(model_admin.model, model_admin.info, values)


def audit_change(tx, model_admin: ModelAdmin, pk: t.Sequence[t.Any], action: str,
                 before: dict[str, t.Any] | None, after: dict[str, t.Any] | None) -> None:
    """Record a change of one row in the audit trail, with ``tx`` (the change's transaction),
    then tell the application (hyper_admin.signals): every write of the admin passes here.
    ``before``/``after``: the row's values keyed by column name, coerced (None: no row)."""
    from .. import audit, signals
    from ..pipeline import user_label

    _unused, dialect = engine_and_dialect()
    values = after if after is not None else before
    label = model_admin.row_label(object_of(model_admin, values)) if values else ""
    audit.record(tx, dialect, admin_name=current_state().name, user_id=current_user.get_id(),
                 user_label=user_label(current_user), model_slug=model_admin.slug,
                 info=model_admin.info, pk=encode_pk(pk), object_label=label, action=action,
                 before=before, after=after)
    app, user = current_app._get_current_object(), current_user._get_current_object()
    if after is None:
        signals.model_deleted.send(app, model_admin=model_admin, user=user, pk=tuple(pk),
                                   action=action, before=before)
    else:
        signals.model_changed.send(app, model_admin=model_admin, user=user, pk=tuple(pk),
                                   action=action, created=before is None, before=before,
                                   after=after)


def selection_columns(model_admin: ModelAdmin, columns: t.Sequence[t.Any]) -> list[ColumnInfo]:
    """What a list row's selection token covers: the row's own displayed columns (``columns``
    are the list's DisplayColumns) and the version column when the ModelAdmin names one."""
    out = [c.column for c in columns if c.column is not None and c.related is None]
    version = version_column(model_admin)
    if version is not None and version not in out:
        out.append(version)
    return out


def version_column(model_admin: ModelAdmin) -> ColumnInfo | None:
    """The column named by ModelAdmin.version_field (checked when the ModelAdmin is built)."""
    name = model_admin.version_field
    return model_admin.info.column(name) if name else None
