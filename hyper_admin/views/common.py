"""What the model screens share: the list object and the write service for the signed-in user,
loading one row within scope, URLs of a model's screens, and permission checks that answer as
CONTRACT §2 orders them."""

from __future__ import annotations

import typing as t
from urllib.parse import unquote, urlsplit

from flask import abort, current_app, g, request, session, url_for
from flask_login import current_user

from ..cells import decode_pk, encode_pk, make_object
from ..changelist import ChangeList
from .. import values
from ..changes import Changes, VersionTokens
from ..introspect import ColumnInfo
from ..options import ModelAdmin
from ..i18n import _
from ..pipeline import admin_url, current_state, is_superuser, safe_next, user_label
from ..query import BadQuery
from ..replicas import Choice, write_position
from ..shared_counts import SharedCounts
from ..sql import Dialect, dialect_of


def engine_and_dialect() -> tuple[t.Any, Dialect]:
    """The primary: what every screen that decides or makes a write reads and writes."""
    engine = current_state().engine
    return engine, dialect_of(engine)


# -- read replicas (replicas.py, docs/replicas.md) ------------------------------------------------

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: A write whose commit came after its response started (a streamed bulk action): its
#: position is asked of the primary by the user's next read, which reads the primary.
_PENDING = "pending"
#: Endpoints whose POSTs write nothing in the database.
_NOT_WRITES = frozenset({"login", "logout"})


def _mark_key(state) -> str:
    """The session key of the user's last write's WAL position on this admin."""
    return f"_hyper_admin_wrote.{state.name}"


def read_engine_and_dialect(model_admin: ModelAdmin | None = None) -> tuple[t.Any, Dialect]:
    """The engine a read-only screen reads (lists, counts, filter counts, date bars, exports,
    panels, lookups, the palette): a read replica when the Admin has one that may serve this
    user now, else the primary. The one place that decides it; screens that decide a write
    call :func:`engine_and_dialect`. ``model_admin``: the model read, whose
    ``read_from_replica = False`` keeps it on the primary."""
    state = current_state()
    engine = _read_choice(state, model_admin).engine(state.engine)
    return engine, dialect_of(engine)


def _read_choice(state, model_admin: ModelAdmin | None) -> Choice:
    if (not state.replicas or request.method not in _SAFE_METHODS
            or (model_admin is not None and not model_admin.read_from_replica)):
        return Choice()
    made = g.get("_hyper_admin_read_choice")
    if made is not None:  # one answer per request: its rows and counts agree
        return made
    key = _mark_key(state)
    mark = session.get(key)
    if mark == _PENDING:
        session[key] = write_position(state.engine)
        made = Choice()
    else:
        # Read your writes: until a replica has replayed the user's last write, the
        # primary serves them (replicas.ReplicaSet.choose waits a little for one).
        made = state.replicas.choose(state.engine, after=mark)
        if made.caught_up:
            session.pop(key, None)
    g._hyper_admin_read_choice = made
    return made


def replica_notice() -> str | None:
    """For superusers, when this request skipped a replica for lagging past
    ``replica_max_lag``: a sentence saying so (the data it holds is that old)."""
    choice = g.get("_hyper_admin_read_choice")
    if choice is None or not choice.lagging or not is_superuser(current_user):
        return None
    lags = [lag for _replica, lag in choice.lagging if lag is not None]
    if not lags:
        return _("The read replica is behind the primary database: this page was read from "
                 "the primary.")
    return _("The read replica's data is %(seconds)s s old: this page was read from the "
             "primary database.", seconds=int(max(lags)))


def record_write(response):
    """After a write through the admin (a POST that succeeded), the primary's WAL position
    goes into the user's session: their reads stay on the primary until a replica has
    replayed it (read your writes)."""
    state = current_state()
    if (not state.replicas or request.method in _SAFE_METHODS or response.status_code >= 400
            or (request.endpoint or "").rpartition(".")[2] in _NOT_WRITES):
        return response
    key = _mark_key(state)
    if response.is_streamed:
        session[key] = _PENDING
        return response
    try:
        session[key] = write_position(state.engine) or _PENDING
    except Exception:  # noqa: BLE001 - the primary failed after the write: ask it next time
        session[key] = _PENDING
    return response


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


model_admin_for = values.model_admin_for


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


def list_request(model_admin: ModelAdmin, args) -> ChangeList:
    """The list as the signed-in user asks for it with ``args`` (400 when malformed): shared by
    the list, its count, facets, dates, live updates, export and "all matching" actions."""
    state = current_state()
    try:
        return ChangeList(model_admin, current_user, args, per_page=state.per_page,
                          max_per_page=state.max_per_page, secret_key=current_app.secret_key,
                          engine=state.engine)
    except BadQuery as exc:
        abort(400, description=str(exc))


def load_row(model_admin: ModelAdmin, pk_text: str, *, columns: list[ColumnInfo] | None = None
             ) -> tuple[tuple, dict[str, t.Any]]:
    """(pk, row values keyed by column name, coerced) of the row at ``pk_text`` within the
    user's scope; 404 when malformed, missing or out of scope — the same answer for all three."""
    pk = decode_pk(model_admin.info, pk_text)
    values = changes_for(model_admin).read(pk, columns) if pk is not None else None
    if values is None:
        abort(404)
    return pk, values


def labels_of(model: type, pks: t.Iterable[t.Any], *, scoped: bool = False) -> dict[t.Any, str]:
    """Labels of rows of ``model`` by key, in one query; with ``scoped``, only of rows within
    the model's scope for the signed-in user (keys a user typed)."""
    return values.labels_of(model, pks, user=current_user if scoped else None)


def object_of(model_admin: ModelAdmin, values: dict[str, t.Any]) -> t.Any:
    return make_object(model_admin.model, model_admin.info, values)


def changes_for(model_admin: ModelAdmin) -> Changes:
    """The write service (changes.py) for the signed-in user on this admin."""
    state = current_state()
    return Changes(model_admin, current_user, engine=state.engine, admin_name=state.name,
                   user_label=user_label(current_user), user_id=current_user.get_id(),
                   count_caches=state.count_caches(), replicated=bool(state.replicas))


def shared_counts(model_admin: ModelAdmin) -> SharedCounts:
    """The model's counts kept in the admin's cache for ``count_cache_seconds``
    (shared_counts.py): the list's, the filter panel's, the date bar's."""
    state = current_state()
    return SharedCounts(state.panel_cache, state.count_cache_seconds, namespace=state.name,
                        slug=model_admin.slug, wait=(state.statement_timeout or 10.0) + 1.0,
                        replica=_read_choice(state, model_admin).replica is not None)


def version_tokens() -> VersionTokens:
    """Edit forms' version tokens, signed with the application's secret key."""
    return VersionTokens(current_app.secret_key)


