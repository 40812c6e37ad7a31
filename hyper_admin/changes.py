"""The write service: every change the admin makes to a row goes through here.

One rule for every path (the edit form, inline cells, bulk and custom actions, revert and
restore, and an application's own code): a row is read within the user's scope; an update
is conditioned on the values the user saw (a :class:`Conflict` otherwise); a row written
must still be within the user's scope (:data:`OUTSIDE_SCOPE` otherwise); one audit entry per
row changed, in the same transaction; the ModelAdmin's hooks around it; and work to run once
the transaction committed (:func:`on_commit`, ``ModelAdmin.after_commit``, the signal
``change_committed``). An application makes an audited, conflict-checked change from a job
or a script with the same guarantees::

    changes = admin.changes(Order, user=refund_bot)
    with changes.transaction():
        before = changes.read(order_id)
        changes.update(order_id, {"status": "refunded"}, expected=before)

A model-admin layer module: it is given the user (and the admin's state through
``context``), and never reads the request.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import logging
import typing as t
import weakref
from contextlib import contextmanager

from itsdangerous import BadSignature, URLSafeSerializer
from sqlorm.engine import Session, session_context
from wtforms import ValidationError

from . import audit, shared_counts, signals
from .cells import coerced, encode_pk, make_object
from .i18n import lazy_gettext as _l
from .introspect import ColumnInfo
from .query import fetch_rows_by_pk
from .replicas import write_position
from .sql import dialect_of
from .writes import delete, insert, update

if t.TYPE_CHECKING:
    from .cache import Cache
    from .options import ModelAdmin

log = logging.getLogger("hyper_admin")

OUTSIDE_SCOPE = _l("These values would put the row outside what you may see and change: "
                   "nothing was saved.")


class Conflict(Exception):
    """The row is no longer as it was read: someone changed (or deleted) it meanwhile."""


class MissingValues(Exception):
    """Columns an INSERT needs were left empty, even after ``on_model_change``."""

    def __init__(self, columns: t.Sequence[ColumnInfo]):
        super().__init__(", ".join(c.attribute for c in columns))
        self.columns = list(columns)


# ---------------------------------------------------------------------------------------------
# What a form saw: snapshots and version tokens

_LONG_VALUE = 256


def stable(value: t.Any) -> t.Any:
    """A value in a form that compares across reads: enums by value, JSON as sorted text,
    everything else as text."""
    if hasattr(value, "value") and not isinstance(value, (int, str)):
        return getattr(value, "value")
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, default=str)
    return str(value) if value is not None else None


def snapshot(values: t.Mapping[str, t.Any], columns: t.Sequence[ColumnInfo]) -> dict[str, t.Any]:
    """``columns``' values (keyed by column name) in a comparable form; long ones by hash."""
    out = {}
    for column in columns:
        value = stable(values.get(column.name))
        if isinstance(value, str) and len(value) > _LONG_VALUE:
            value = "sha256:" + hashlib.sha256(value.encode()).hexdigest()
        out[column.name] = value
    return out


class VersionTokens:
    """The token an edit form carries: the row as it was read, signed (with the application's
    secret key), so that a save can tell exactly what someone else changed meanwhile."""

    def __init__(self, secret_key: str | bytes):
        self._serializer = URLSafeSerializer(secret_key, salt="hyper_admin.edit-version")

    def dumps(self, values: t.Mapping[str, t.Any], columns: t.Sequence[ColumnInfo]) -> str:
        return self._serializer.dumps(snapshot(values, columns))

    def loads(self, token: str) -> dict[str, t.Any] | None:
        """The snapshot a token holds; None when it is not one of ours."""
        try:
            original = self._serializer.loads(token)
        except BadSignature:
            return None
        return original if isinstance(original, dict) else None


def version_column(model_admin: "ModelAdmin") -> ColumnInfo | None:
    """The column named by ModelAdmin.version_field (checked when the ModelAdmin is built)."""
    name = model_admin.version_field
    return model_admin.info.column(name) if name else None


def token_columns(model_admin: "ModelAdmin", editable: t.Sequence[ColumnInfo]) -> list[ColumnInfo]:
    """The columns an edit form's version token snapshots: the editable ones, and the version
    column when the ModelAdmin names one."""
    version = version_column(model_admin)
    if version is None or version in editable:
        return list(editable)
    return [*editable, version]


def next_version(column: ColumnInfo, current: t.Any) -> t.Any:
    """The value a save writes into the version column: a counter plus one, or now (UTC)."""
    if column.kind == "int":
        return (current or 0) + 1
    now = datetime.datetime.now(datetime.timezone.utc)
    if isinstance(current, datetime.datetime) and current.tzinfo is None:
        now = now.replace(tzinfo=None)
    if isinstance(current, datetime.datetime) and current >= now:
        now = current + datetime.timedelta(microseconds=1)  # always a different value
    return now


# ---------------------------------------------------------------------------------------------
# Which columns a user's form writes


def form_columns(model_admin: "ModelAdmin", user: t.Any, obj: t.Any
                 ) -> tuple[list[ColumnInfo], list[ColumnInfo]]:
    """(editable columns, read-only columns) of ``user``'s form, in form order (``obj``: the
    row edited, None on create)."""
    info = model_admin.info
    named = model_admin._named_fields()
    readonly = set(model_admin.get_readonly_fields(user, obj))
    editable, shown_readonly = [], []
    for name in model_admin.get_fields(user, obj):
        column = info.column(name)
        if column is None and name in model_admin.many_to_many_fields():
            continue  # a many-to-many field: no column (views/many_to_many.py)
        if column is None:
            raise TypeError(f"fields of {type(model_admin).__name__}: {name!r} is not a column")
        if column.secret and name not in named:
            continue
        if name in readonly or column.hint.readonly or not column.editable:
            shown_readonly.append(column)
        else:
            editable.append(column)
    return editable, shown_readonly


def pickable_foreign_keys(model_admin: "ModelAdmin", user: t.Any) -> dict[str, ColumnInfo]:
    """The foreign keys ``user`` may choose in this model's add or change form, by attribute
    (CONTRACT §6: whoever may add or change rows picks among the target's labels, whether
    or not they may view the target)."""
    if not (model_admin.has_permission("add", user) or model_admin.has_permission("change", user)):
        return {}
    editable, _unused = form_columns(model_admin, user, None)
    return {c.attribute: c for c in editable if c.target_model is not None}


# ---------------------------------------------------------------------------------------------
# After the commit

_pending: "weakref.WeakKeyDictionary[Session, list[t.Callable[[], t.Any]]]" = weakref.WeakKeyDictionary()


def on_commit(callback: t.Callable[[], t.Any]) -> None:
    """Run ``callback`` once the current transaction committed (never when it rolls back), as
    Django's ``transaction.on_commit``: a notification, a job, a mail, from a hook or an
    action. Outside a transaction it runs at once."""
    session = session_context.top
    if session is None or not session.in_transaction:
        callback()
        return
    _pending.setdefault(session, []).append(callback)


def _run_pending(session: Session, **_unused: t.Any) -> None:
    audit.clear_notes(if_recorded=True)  # they were this transaction's
    _written.pop(session, None)
    for callback in _pending.pop(session, []):
        try:
            callback()
        except Exception:  # noqa: BLE001 - the change is committed: report, never undo it
            log.exception("an after-commit callback of hyper_admin failed")


def _drop_pending(session: Session, **_unused: t.Any) -> None:
    _pending.pop(session, None)
    _written.pop(session, None)
    audit.clear_notes(if_recorded=True)


Session.after_commit.connect(_run_pending, weak=False)
Session.after_rollback.connect(_drop_pending, weak=False)


#: Per open transaction, the tables it wrote per count cache: their generations are replaced
#: once it committed (one bump per table and transaction, however many rows a bulk action
#: wrote), so that no count kept before the change is served after it (shared_counts.py).
_written: "weakref.WeakKeyDictionary[Session, dict[int, tuple[Cache, set[str]]]]" = (
    weakref.WeakKeyDictionary())


def tables_written(caches: t.Sequence["Cache"], tables: t.Iterable[str],
                   position: t.Callable[[], str | None] | None = None) -> None:
    """Rows of ``tables`` are being written: the counts ``caches`` keep of lists reading them
    are invalidated after the commit (at once outside a transaction), never before it (a
    count made meanwhile would read the rows as they were, and be kept). ``position``: the
    primary's WAL position after the commit, asked when the admin reads replicas (the new
    generations carry it: shared_counts.bump)."""
    if not caches:
        return
    tables = set(tables)
    session = session_context.top
    if session is None or not session.in_transaction:
        at = position() if position is not None else None
        for cache in caches:
            shared_counts.bump(cache, tables, at)
        return
    pending = _written.get(session)
    if pending is None:
        pending = _written[session] = {}

        def bump_all() -> None:
            at = position() if position is not None else None
            for cache, written in pending.values():
                shared_counts.bump(cache, written, at)

        on_commit(bump_all)
    for cache in caches:
        pending.setdefault(id(cache), (cache, set()))[1].update(tables)


# ---------------------------------------------------------------------------------------------
# The service


class Changes:
    """Changes to rows of one model by one user (``admin.changes(Model, user=...)`` or, in the
    admin's own views, for the signed-in user). Reads are scoped; writes happen in the
    caller's transaction (:meth:`transaction`), each recorded in the audit trail."""

    def __init__(self, model_admin: "ModelAdmin", user: t.Any, *, engine: t.Any,
                 admin_name: str, user_label: str, user_id: str | None,
                 count_caches: t.Sequence["Cache"] = (), replicated: bool = False):
        self.model_admin = model_admin
        #: Where the lists' shared counts are kept (AdminState.count_caches): a change
        #: invalidates those of its tables.
        self.count_caches = tuple(count_caches)
        #: With read replicas, the WAL position after a commit goes with the invalidation
        #: (a replica's count is kept only once it replayed it: shared_counts.py).
        self.position = (lambda: write_position(engine)) if replicated else None
        self.user = user
        self.engine = engine
        self.dialect = dialect_of(engine)
        self.admin_name = admin_name
        self.user_label = user_label
        self.user_id = user_id
        self.info = model_admin.info

    # -- reading -----------------------------------------------------------------------------

    @property
    def scope(self) -> t.Any:
        return self.model_admin.scope(self.user)

    def read(self, pk: t.Sequence[t.Any], columns: t.Sequence[ColumnInfo] | None = None
             ) -> dict[str, t.Any] | None:
        """The row at ``pk`` (values by column name, coerced) within the user's scope; None
        when missing or outside it — the same answer for both."""
        rows = fetch_rows_by_pk(self.engine, self.dialect, self.info, [tuple(pk)],
                                list(columns) if columns is not None else self.info.columns,
                                scope=self.scope)
        return coerced(self.info, rows[0]) if rows else None

    def object(self, values: t.Mapping[str, t.Any]) -> t.Any:
        """A model instance of a row's values (for hooks, labels and has_permission)."""
        return make_object(self.model_admin.model, self.info, values)

    # -- transactions ------------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> t.Iterator[t.Any]:
        """The transaction the changes of one save share (joins an open one)."""
        with self.engine as tx:
            yield tx

    def require_in_scope(self, pk: t.Sequence[t.Any]) -> None:
        """After a write in the current transaction: the row must still be within the user's
        scope, else ValidationError (the transaction rolls back). The scope bounds what a user
        writes as well as what they read: no creating rows in, or moving rows to, another's
        part."""
        scope = self.scope
        if scope is not None and not fetch_rows_by_pk(self.engine, self.dialect, self.info,
                                                      [tuple(pk)], self.info.primary_key,
                                                      scope=scope):
            raise ValidationError(str(OUTSIDE_SCOPE))

    # -- writing -----------------------------------------------------------------------------

    def create(self, values: dict[str, t.Any], *, must_fill: t.Sequence[ColumnInfo] = (),
               action: str = "create", hooks: bool = True, related: t.Sequence[t.Any] = ()
               ) -> tuple[tuple, dict[str, t.Any] | None]:
        """Insert a row of ``values`` (attribute -> value) after ``on_model_change`` and return
        (its key, the row as saved). In the current transaction; audited as ``action``.
        ``must_fill``: columns that must have a value by then (MissingValues otherwise,
        nothing written). ``hooks``: False for a row put back as it was (a restore).
        ``related``: changes of many-to-many fields (many_to_many.JoinChange), written with
        the row and recorded in its entry."""
        model_admin = self.model_admin
        with self.transaction() as tx:
            if hooks:
                model_admin.on_model_change(values, None, True)
            missing = [c for c in must_fill if values.get(c.attribute) is None]
            if missing:
                raise MissingValues(missing)
            pk = insert(tx, self.dialect, self.info, values)
            self.require_in_scope(pk)
            created = self._reread(pk)
            extra = self._related(tx, pk, related)
            if created is not None:
                self._saved(tx, pk, action, None, created, run_hooks=hooks, extra=extra)
        return pk, created

    def update(self, pk: t.Sequence[t.Any], changed: dict[str, t.Any], *,
               expected: t.Mapping[str, t.Any] | None = None,
               columns: t.Sequence[ColumnInfo] | None = None, original: dict | None = None,
               action: str = "update", hooks: bool = True, related: t.Sequence[t.Any] = ()
               ) -> dict[str, t.Any] | None:
        """Write ``changed`` (attribute -> value) only if the row still holds what the user
        saw: ``original``, the snapshot of ``columns`` an edit form or inline editor was
        opened with, or ``expected``, the row as ``read`` returned it (every column compared).
        The row is read again in this transaction and the UPDATE conditioned on it, so nobody
        writes in between; otherwise :class:`Conflict`. Returns the row as saved (None when
        nothing changed). ``hooks``: run ``on_model_change``/``after_model_change`` (an edit
        form does; a revert or an action's own write may not). ``related``: changes of
        many-to-many fields, conflict-checked, written and recorded with the row."""
        pk = tuple(pk)
        if columns is None:
            columns = self.info.columns
        if original is None and expected is not None:
            original = snapshot(expected, columns)
        with self.transaction() as tx:
            before_row = fetch_rows_by_pk(self.engine, self.dialect, self.info, [pk],
                                          self.info.columns, scope=self.scope)
            before = coerced(self.info, before_row[0]) if before_row else None
            if before is None or (original is not None and snapshot(before, columns) != original):
                raise Conflict()
            for item in related:
                item.verify(self, pk)  # Conflict when its join rows moved meanwhile
            if hooks:
                self.model_admin.on_model_change(changed, self.object(before), False)
            moved = [item for item in related if item.changed]
            if not changed and not moved:
                return None
            after = (self._conditional_update(tx, pk, before_row[0], before, columns, changed)
                     if changed else before)
            extra = self._related(tx, pk, moved)
            if after is not None:
                self._saved(tx, pk, action, before, after, run_hooks=hooks, extra=extra)
        return after

    def _conditional_update(self, tx, pk: tuple, row: t.Any, before: dict,
                            columns: t.Sequence[ColumnInfo], changed: dict) -> dict | None:
        # Floats, JSON and bytes do not compare reliably in SQL: the snapshot covers them.
        expected = {c.name: row[c.name] for c in columns
                    if c.kind not in ("json", "bytes", "float")}
        version = version_column(self.model_admin)
        if version is not None:
            # The row's version moves with every save, and the UPDATE is conditioned on it
            # too: a writer that changed only columns this form does not show is caught.
            expected[version.name] = row[version.name]
            changed = {**changed, version.attribute: next_version(version, before.get(version.name))}
        if update(tx, self.dialect, self.info, pk, changed, scope=self.scope,
                  expected=expected) == 0:
            raise Conflict()
        self.require_in_scope(pk)
        return self._reread(pk)

    def delete(self, pk: t.Sequence[t.Any]) -> dict[str, t.Any]:
        """Delete the row at ``pk`` (within scope) with its hooks; return it as it was.
        LookupError when it is not there (or outside the scope)."""
        pk = tuple(pk)
        model_admin = self.model_admin
        with self.transaction() as tx:
            before = self.read(pk)
            if before is None:
                raise LookupError(encode_pk(pk))
            obj = self.object(before)
            model_admin.on_model_delete(obj)
            if delete(tx, self.dialect, self.info, [pk], scope=self.scope) == 0:
                raise LookupError(encode_pk(pk))
            model_admin.after_model_delete(obj)
            self.record(tx, pk, "delete", before, None)
        return before

    def _reread(self, pk: tuple) -> dict[str, t.Any] | None:
        rows = fetch_rows_by_pk(self.engine, self.dialect, self.info, [pk], self.info.columns)
        return coerced(self.info, rows[0]) if rows else None

    def _related(self, tx, pk: tuple, related: t.Sequence[t.Any]) -> dict[str, list[t.Any]]:
        """Write the many-to-many changes of a row saved in ``tx``; their audit values."""
        extra: dict[str, list[t.Any]] = {}
        for item in related:
            if item.changed:
                extra.update(item.apply(self, tx, pk))
                tables_written(self.count_caches, [item.relation.join.info.table], self.position)
        return extra

    def _saved(self, tx, pk: tuple, action: str, before: dict | None, after: dict,
               run_hooks: bool = True, extra: dict | None = None) -> None:
        if run_hooks:
            # The row as saved (defaults, triggers and the database's own values included).
            self.model_admin.after_model_change(self.object(after), before is None)
        self.record(tx, pk, action, before, after, extra=extra)

    # -- the record of it --------------------------------------------------------------------

    def record(self, tx, pk: t.Sequence[t.Any], action: str, before: dict[str, t.Any] | None,
               after: dict[str, t.Any] | None, extra: dict[str, list[t.Any]] | None = None
               ) -> None:
        """Record a change of one row in the audit trail, in ``tx`` (the change's transaction),
        tell the application (hyper_admin.signals), and arrange its after-commit hook and
        signal. ``before``/``after``: the row's values keyed by column name (None: no row);
        ``extra``: changes of fields that are no columns (many-to-many). Every write of the
        admin passes here."""
        model_admin, pk = self.model_admin, tuple(pk)
        values = after if after is not None else before
        # The row's table, and the trail's (the Audit list's counts).
        tables_written(self.count_caches, [self.info.table, audit.TABLE], self.position)
        label = model_admin.row_label(self.object(values)) if values else ""
        audit.record(tx, self.dialect, admin_name=self.admin_name, user_id=self.user_id,
                     user_label=self.user_label, model_slug=model_admin.slug, info=self.info,
                     pk=encode_pk(pk), object_label=label, action=action, before=before,
                     after=after, extra=extra)
        sender, user = signals.current_sender(), _real(self.user)
        if after is None:
            signals.model_deleted.send(sender, model_admin=model_admin, user=user, pk=pk,
                                       action=action, before=before)
        else:
            signals.model_changed.send(sender, model_admin=model_admin, user=user, pk=pk,
                                       action=action, created=before is None, before=before,
                                       after=after)
        obj = self.object(values) if values else None

        def committed() -> None:
            model_admin.after_commit(obj, action)
            signals.change_committed.send(sender, model_admin=model_admin, user=user, pk=pk,
                                          action=action, before=before, after=after)

        on_commit(committed)


def _real(user: t.Any) -> t.Any:
    """The user object behind flask-login's ``current_user`` proxy (signals keep it)."""
    getter = getattr(user, "_get_current_object", None)
    return getter() if callable(getter) else user
