"""Inlines: a parent's child rows edited on its add and edit forms, as Django's inlines.

``ModelAdmin.inlines`` holds :class:`Inline` declarations (a plain model or slug there is the
read-only list of the detail page, as before). :class:`InlineForms` is one inline on one form
for one user: its rows as WTForms forms named by Django's formset convention
(``<prefix>-TOTAL_FORMS``, ``<prefix>-INITIAL_FORMS``, ``<prefix>-MIN_NUM_FORMS``,
``<prefix>-MAX_NUM_FORMS``, ``<prefix>-<n>-<field>``, ``<prefix>-<n>-DELETE``; each existing
row carries its key and ``<prefix>-<n>-_version``), their validation, and their save through
the write service (changes.py) in the parent's transaction.

A model-admin layer module: it is given the user and the posted data, never the request.
"""

from __future__ import annotations

import datetime as dt
import typing as t
from dataclasses import dataclass, field

from wtforms import ValidationError

from .cells import coerced, decode_pk, encode_pk
from .changes import Conflict, MissingValues, form_columns, snapshot, stable, token_columns
from .child_rows import fetch_children
from .context import principal_of
from .fields import cleaned_values, initial_data
from .i18n import _, ngettext
from .introspect import ColumnInfo, ModelInfo, model_info
from .query import fetch_rows_by_pk
from .sql import dialect_of
from .unchanged import forgive, untouched
from .values import fk_labels, model_admin_for, value_text
from .writes import IntegrityProblem

if t.TYPE_CHECKING:
    from .changes import Changes, VersionTokens
    from .options import ModelAdmin

LAYOUTS = ("tabular", "stacked")
#: Rows one inline takes in a post at most, whatever max_num says (Django's absolute_max):
#: a post cannot make the server build a million forms.
ABSOLUTE_MAX = 1000


class Inline:
    """One inline of a ModelAdmin: the rows of ``model`` that point at the parent row, edited
    on the parent's add and edit forms.

    ``fields`` (default: the child's form fields), ``readonly_fields``, ``extra`` blank rows,
    ``min_num``/``max_num`` rows after a save, ``ordering`` (names, ``-`` for descending),
    ``layout`` ``"tabular"`` or ``"stacked"``, ``fk`` (the child's foreign key to the parent,
    needed only when it has several), ``prefix`` of the posted names (default: the child's
    slug), ``permissions`` (action -> roles, over the child's ModelAdmin's for that action).
    Override :meth:`has_permission` for finer rules.
    """

    def __init__(self, model: type, *, fields: t.Sequence[str] | None = None,
                 readonly_fields: t.Sequence[str] = (), extra: int = 1, min_num: int = 0,
                 max_num: int | None = None, ordering: t.Sequence[str] | None = None,
                 layout: str = "tabular", fk: str | None = None, prefix: str | None = None,
                 permissions: t.Mapping[str, t.Collection[str]] | None = None,
                 verbose_name_plural: t.Any = None):
        self.model = model
        self.fields = list(fields) if fields is not None else None
        self.readonly_fields = list(readonly_fields)
        self.extra, self.min_num, self.max_num = extra, min_num, max_num
        self.ordering = list(ordering or ())
        self.layout = layout
        self.fk = fk
        self.prefix = prefix
        self.permissions = dict(permissions) if permissions is not None else None
        self.verbose_name_plural = verbose_name_plural

    def __repr__(self) -> str:
        return f"Inline({getattr(self.model, '__name__', self.model)!r})"

    def has_permission(self, action: str, user: t.Any, child_admin: "ModelAdmin",
                       obj: t.Any = None) -> bool:
        """Whether ``user`` may ``action`` (view, add, change, delete) rows of this inline:
        ``permissions`` for that action when it names it, else the child's ModelAdmin."""
        if self.permissions is not None and action in self.permissions:
            principal = principal_of(user)
            return principal.superuser or bool(principal.roles & set(self.permissions[action]))
        return child_admin.has_permission(action, user, obj)

    def get_prefix(self, child_admin: "ModelAdmin") -> str:
        return self.prefix or child_admin.slug

    def foreign_keys(self, parent: ModelInfo) -> list[ColumnInfo]:
        """The child's foreign keys to ``parent`` (by table, or by the model a key pairs with)."""
        child = model_info(self.model)
        return [c for c in child.columns
                if (c.references is not None and c.references[0] == parent.table)
                or c.target_model is parent.model]

    def foreign_key(self, parent: ModelInfo) -> ColumnInfo | None:
        """The key filled with the parent's: ``fk`` when given, else the only one."""
        found = self.foreign_keys(parent)
        if self.fk is not None:
            return next((c for c in found if self.fk in (c.attribute, c.name, c.relation_attribute)),
                        None)
        return found[0] if len(found) == 1 else None


def declared(model_admin: "ModelAdmin", user: t.Any) -> list[Inline]:
    """The Inline declarations of ``model_admin`` for ``user`` (get_inlines)."""
    return [item for item in model_admin.get_inlines(user) if isinstance(item, Inline)]


class InlineRefused(Exception):
    """A post asks for what this user may not do on an inline (add, delete): 403."""


class InlineFailed(Exception):
    """A child row could not be written (conflict, integrity, validation): the transaction
    rolls back and the form is shown again with the problem on that row."""

    def __init__(self, status: int):
        super().__init__(status)
        self.status = status


@dataclass
class InlineRow:
    index: int
    form: t.Any
    existing: bool
    pk: tuple | None = None
    values: dict | None = None          # the stored row (existing rows)
    version: str | None = None
    original: dict | None = None        # the snapshot the posted version token holds
    delete: bool = False
    changed: dict = field(default_factory=dict)
    creates: dict | None = None         # a new row's values to insert
    errors: list[str] = field(default_factory=list)
    conflict: list[dict] = field(default_factory=list)

    @property
    def pk_text(self) -> str | None:
        return encode_pk(self.pk) if self.pk is not None else None


class InlineForms:
    """One inline on one parent form, for one user (see the module's docstring)."""

    def __init__(self, inline: Inline, parent_admin: "ModelAdmin", child_admin: "ModelAdmin",
                 user: t.Any, *, engine: t.Any, tokens: "VersionTokens",
                 parent_values: dict | None = None):
        self.inline, self.parent_admin, self.child_admin, self.user = (
            inline, parent_admin, child_admin, user)
        self.engine, self.dialect, self.tokens = engine, dialect_of(engine), tokens
        self.info = child_admin.info
        self.fk = inline.foreign_key(parent_admin.info)
        if self.fk is None:  # checks.py refuses it at registration; a get_inlines may not
            raise TypeError(f"{inline!r} has no single foreign key to {parent_admin.model.__name__}")
        self.prefix = inline.get_prefix(child_admin)
        self.parent_key = self.key_of(parent_values)
        self.label = str(inline.verbose_name_plural or child_admin.verbose_name_plural)
        self.layout = inline.layout if inline.layout in LAYOUTS else "tabular"
        may = {action: inline.has_permission(action, user, child_admin)
               for action in ("view", "add", "change", "delete")}
        self.can_view = may["view"] or may["change"]
        self.can_add, self.can_change, self.can_delete = may["add"], may["change"], may["delete"]
        self._columns()
        self.rows: list[InlineRow] = []
        self.errors: list[str] = []
        self.posted = False
        self.gone: list[str] = []     # rows someone else deleted meanwhile (labels)

    def key_of(self, parent_values: dict | None) -> t.Any:
        """The value the children's foreign key holds for the parent row ``parent_values``."""
        if parent_values is None:
            return None
        target = self.fk.references[1] if self.fk.references else ""
        if target and target in parent_values:
            return parent_values[target]
        key = self.parent_admin.info.primary_key
        return parent_values.get(key[0].name) if len(key) == 1 else None

    # -- which columns -----------------------------------------------------------------------

    def _columns(self) -> None:
        editable, readonly = form_columns(self.child_admin, self.user, None)
        by_name = {c.attribute: c for c in [*editable, *readonly]}
        names = self.inline.fields if self.inline.fields is not None else list(by_name)
        shown = [self.info.column(n) for n in names]
        self.shown = [c for c in shown if c is not None and c is not self.fk
                      and not (c.secret and c.attribute not in (self.inline.fields or ()))]
        fixed = set(self.inline.readonly_fields) | {c.attribute for c in readonly}
        writable = [c for c in self.shown if c.attribute not in fixed and c.editable
                    and not c.hint.readonly and c.attribute in by_name]
        self.new_columns = writable
        keys = {c.attribute for c in self.info.primary_key}
        self.existing_columns = ([c for c in writable if c.attribute not in keys]
                                 if self.can_change else [])
        self.token_cols = [*token_columns(self.child_admin, self.existing_columns),
                           *[c for c in self.info.primary_key if c not in self.existing_columns]]
        # The key of an existing row, posted as Django posts ``<prefix>-<n>-id`` (less the
        # parent's part of a composite key, which the server fills).
        self.key_columns = [c for c in self.info.primary_key if c is not self.fk]

    def readonly_for(self, row: InlineRow) -> list[ColumnInfo]:
        editable = self.existing_columns if row.existing else self.new_columns
        return [c for c in self.shown if c not in editable]

    @property
    def max_rows(self) -> int:
        return ABSOLUTE_MAX if self.inline.max_num is None else min(self.inline.max_num, ABSOLUTE_MAX)

    @property
    def editable(self) -> bool:
        """Whether this form offers any input at all for the inline."""
        return self.can_add or (self.can_change and bool(self.existing_columns)) or self.can_delete

    # -- forms ------------------------------------------------------------------------------

    def _form(self, index: int, columns: list[ColumnInfo], formdata: t.Any = None,
              data: dict | None = None) -> t.Any:
        form_class = self.child_admin.form_class(columns)
        form = form_class(formdata, prefix=f"{self.prefix}-{index}", data=data)
        for bound in form:  # the ids the converters give are per field name, not per row
            bound.id = f"id_{bound.name}"
            bound.label.field_id = bound.id
        return form

    def blank(self, index: int) -> InlineRow:
        """A new row's empty form at ``index`` (GET, the "Add another" row)."""
        return InlineRow(index, self._form(index, self.new_columns, data=self._defaults()),
                         existing=False)

    def _defaults(self) -> dict[str, t.Any]:
        return {c.attribute: c.default_value() for c in self.new_columns if c.has_default}

    def _stored(self, keys: t.Sequence[tuple] | None = None) -> list[dict]:
        if self.parent_key is None or not self.can_view:
            return []
        ordering = []
        for name in self.inline.ordering:
            column = self.info.column(name.lstrip("-"))
            if column is not None:
                ordering.append((column, name.startswith("-")))
        rows = fetch_children(self.engine, self.dialect, self.info, self.fk, self.parent_key,
                              self.info.columns, ordering=ordering,
                              scope=self.child_admin.scope(self.user), limit=ABSOLUTE_MAX,
                              keys=keys)
        return [coerced(self.info, row) for row in rows]

    def _existing_row(self, index: int, values: dict, formdata: t.Any = None) -> InlineRow:
        form = self._form(index, self.existing_columns, formdata,
                          data=initial_data(self.existing_columns, values))
        return InlineRow(index, form, existing=True, pk=self.info.pk_values(values),
                         values=values, version=self.tokens.dumps(values, self.token_cols))

    def initial(self) -> "InlineForms":
        """The rows an opened form shows: the stored ones, then the blank ones."""
        stored = self._stored()
        self.rows = [self._existing_row(i, values) for i, values in enumerate(stored)]
        if self.can_add:
            blanks = max(self.inline.extra, self.inline.min_num - len(stored))
            blanks = max(0, min(blanks, self.max_rows - len(stored)))
            self.rows += [self.blank(len(stored) + i) for i in range(blanks)]
        return self

    # -- a post ------------------------------------------------------------------------------

    def _count(self, formdata: t.Any, name: str) -> int | None:
        text = formdata.get(f"{self.prefix}-{name}")
        try:
            return int(text)
        except (TypeError, ValueError):
            return None

    def bind(self, formdata: t.Any) -> "InlineForms":
        """Read the inline's part of a post. A post without ``<prefix>-TOTAL_FORMS`` leaves
        the children as they are (a script posting the parent's fields only)."""
        if f"{self.prefix}-TOTAL_FORMS" not in formdata:
            return self.initial()
        self.posted = True
        total, initial = self._count(formdata, "TOTAL_FORMS"), self._count(formdata, "INITIAL_FORMS")
        if total is None or initial is None or not 0 <= initial <= total or total > ABSOLUTE_MAX:
            self.errors.append(_("The rows of this section were posted incompletely or "
                                 "tampered with: open the form again."))
            self.initial()
            self.posted = False
            return self
        stored = {self.info.pk_values(v): v for v in self._stored(self._posted_keys(formdata, initial))}
        for index in range(total):
            if not any(key.startswith(f"{self.prefix}-{index}-") for key in formdata):
                continue  # a new row removed in the browser
            if index < initial:
                self._bind_existing(formdata, index, stored)
            else:
                self._bind_new(formdata, index)
        return self

    def _posted_key(self, formdata: t.Any, index: int) -> tuple | None:
        parts = []
        for column in self.info.primary_key:
            if column is self.fk:
                parts.append(self.parent_key)
            else:
                parts.append(formdata.get(f"{self.prefix}-{index}-{column.attribute}"))
        if any(p is None for p in parts):
            return None
        return decode_pk(self.info, encode_pk(parts))

    def _posted_keys(self, formdata: t.Any, initial: int) -> list[tuple]:
        keys = [self._posted_key(formdata, i) for i in range(initial)]
        return [k for k in keys if k is not None]

    def _bind_existing(self, formdata: t.Any, index: int, stored: dict) -> None:
        key = self._posted_key(formdata, index)
        values = stored.get(key) if key is not None else None
        if values is None:
            # Deleted meanwhile, moved out of the scope, or a key of no child of this row:
            # all alike, a row this form can no longer change.
            self.gone.append(formdata.get(f"{self.prefix}-{index}-{self.key_columns[0].attribute}", "")
                             if self.key_columns else "")
            return
        row = self._existing_row(index, values, formdata)
        row.original = self.tokens.loads(formdata.get(f"{self.prefix}-{index}-_version", ""))
        row.delete = bool(formdata.get(f"{self.prefix}-{index}-DELETE"))
        if row.delete and not self.can_delete:
            raise InlineRefused(self.prefix)
        self.rows.append(row)

    def _bind_new(self, formdata: t.Any, index: int) -> None:
        form = self._form(index, self.new_columns, formdata, data=self._defaults())
        row = InlineRow(index, form, existing=False)
        if formdata.get(f"{self.prefix}-{index}-DELETE"):
            return  # added, then removed again before saving
        defaults = self._defaults()
        kept = untouched(form, self.new_columns, defaults)
        # A clock's default (a reply's "created at": now) was what the form showed when it was
        # opened; it has moved on since, so it says nothing about whether the row was used.
        moving = {name for name, value in defaults.items()
                  if isinstance(value, (dt.date, dt.time))}
        if all(c.attribute in kept or c.attribute in moving for c in self.new_columns):
            self.rows.append(row)  # an extra row left blank: shown again, never saved
            return
        if not self.can_add:
            raise InlineRefused(self.prefix)
        row.creates = {}
        self.rows.append(row)

    # -- validation --------------------------------------------------------------------------

    def validate(self) -> bool:
        """Validate every row that would be written, and the number of rows; errors go on the
        fields, the row, or the inline."""
        if not self.posted:
            return not self.errors
        ok = True
        for row in self.rows:
            if row.existing and not row.delete:
                ok &= self._validate_existing(row)
            elif row.creates is not None:
                ok &= self._validate_new(row)
        kept = sum(1 for r in self.rows if (r.existing and not r.delete) or r.creates is not None)
        if kept < self.inline.min_num:
            self.errors.append(ngettext("Keep at least %(num)s row here.",
                                        "Keep at least %(num)s rows here.", self.inline.min_num))
            ok = False
        if kept > self.max_rows:
            self.errors.append(ngettext("At most %(num)s row can be kept here.",
                                        "At most %(num)s rows can be kept here.", self.max_rows))
            ok = False
        return ok and not self.errors

    def _validate_existing(self, row: InlineRow) -> bool:
        if not self.existing_columns:
            return True
        kept = untouched(row.form, self.existing_columns, row.values)
        touched = [c for c in self.existing_columns if c.attribute not in kept]
        if not (row.form.validate() or forgive(row.form, kept)) or not self._references_exist(row.form, touched):
            return False
        new_values = cleaned_values(row.form, touched)
        before = {c.attribute: row.values.get(c.name) for c in self.existing_columns}
        row.changed = {a: v for a, v in new_values.items() if stable(v) != stable(before.get(a))}
        return True

    def _validate_new(self, row: InlineRow) -> bool:
        if not row.form.validate() or not self._references_exist(row.form, self.new_columns):
            return False
        values = cleaned_values(row.form, self.new_columns)
        for column in self.info.columns:
            if column.attribute not in values and column.has_default and not column.primary_key:
                values[column.attribute] = column.default_value()
        row.creates = values
        return True

    def _references_exist(self, form: t.Any, columns: t.Sequence[ColumnInfo]) -> bool:
        """A posted foreign key names a row the user could have picked (within scope)."""
        ok = True
        for column in columns:
            if column.target_model is None:
                continue
            bound = form.field(column.attribute)
            target = model_info(column.target_model)
            if bound.data in (None, "") or len(target.primary_key) != 1:
                continue
            target_admin = model_admin_for(column.target_model)
            scope = target_admin.scope(self.user) if target_admin is not None else None
            if not fetch_rows_by_pk(self.engine, self.dialect, target, [(bound.data,)],
                                    target.primary_key, scope=scope):
                bound.errors = [*bound.errors, target_admin.phrase("Choose an existing %(model)s.")
                                if target_admin else _("Choose an existing row.")]
                ok = False
        return ok

    @property
    def has_changes(self) -> bool:
        return any(r.delete or r.changed or r.creates for r in self.rows)

    # -- saving ------------------------------------------------------------------------------

    def save(self, changes: "Changes", parent_values: dict) -> int:
        """Write the rows in the caller's transaction: deletes, then changes, then new rows
        (as Django: a freed unique value can be taken by another row of the same save).
        Returns how many rows were written; InlineFailed (after marking the row) otherwise,
        and the caller's transaction rolls back."""
        if not self.posted:
            return 0
        parent_key = self.key_of(parent_values)
        if self.gone:
            self._gone_failure()
        written = 0
        for row in [r for r in self.rows if r.existing and r.delete]:
            written += self._write(row, lambda r: changes.delete(r.pk), status=409)
        for row in [r for r in self.rows if r.existing and not r.delete and r.changed]:
            written += self._write(row, lambda r: changes.update(
                r.pk, r.changed, columns=self.token_cols, original=r.original))
        for row in [r for r in self.rows if r.creates]:
            values = {**row.creates, self.fk.attribute: parent_key}
            row.creates = values
            written += self._write(row, lambda r: changes.create(
                r.creates, must_fill=self._unfillable()))
        return written

    def _gone_failure(self) -> None:
        self.errors.append(ngettext(
            "A row of this section was deleted by someone else since you opened the form: it "
            "is no longer shown. Check the rows and save again.",
            "%(num)s rows of this section were deleted by someone else since you opened the "
            "form: they are no longer shown. Check the rows and save again.", len(self.gone)))
        raise InlineFailed(409)

    def _unfillable(self) -> list[ColumnInfo]:
        fillable = {c.attribute for c in self.new_columns} | {self.fk.attribute}
        return [c for c in self.info.columns if c.required_on_insert and c.attribute not in fillable
                and not (c.primary_key and self.info.key_filled_by_database)]

    def _write(self, row: InlineRow, write: t.Callable[[InlineRow], t.Any], status: int = 422) -> int:
        try:
            write(row)
        except (Conflict, LookupError):
            self._mark_conflict(row)
            raise InlineFailed(409) from None
        except MissingValues as exc:
            row.errors.append(_("Required, but this row cannot set it: %(fields)s.",
                                fields=", ".join(c.label for c in exc.columns)))
            raise InlineFailed(422) from None
        except ValidationError as exc:
            row.errors.append(str(exc))
            raise InlineFailed(422) from None
        except IntegrityProblem as problem:
            try:
                bound = row.form.field(problem.field) if problem.field else None
            except KeyError:
                bound = None
            if bound is None:
                row.errors.append(problem.message)
            else:
                bound.errors = [*bound.errors, problem.message]
            raise InlineFailed(problem.status) from None
        return 1

    def _mark_conflict(self, row: InlineRow) -> None:
        """Someone else changed (or deleted) this row since the form was opened: the row
        shows what changed, takes their values where the user changed nothing, and carries
        the new version, so saving again applies the user's input knowingly."""
        fresh = self._stored([row.pk]) if row.pk is not None else []
        if not fresh:
            row.errors.append(_("Someone else deleted this row since you opened the form."))
            row.delete = True
            return
        now = fresh[0]
        current = snapshot(now, self.token_cols)
        original = row.original or {}
        kept = untouched(row.form, self.existing_columns, row.values)
        labels = fk_labels((c, v) for c in self.existing_columns
                           for v in (original.get(c.name), now.get(c.name)))
        for column in self.existing_columns:
            if original.get(column.name) == current.get(column.name):
                continue
            text = value_text(column, now.get(column.name), labels)
            row.conflict.append({"label": column.label, "current": "—" if text is None else text})
            if column.attribute in kept:
                bound = row.form.field(column.attribute)
                bound.data, bound.raw_data = initial_data([column], now).get(column.attribute), None
        row.values, row.version = now, self.tokens.dumps(now, self.token_cols)
        row.errors.append(_("Someone else changed this row since you opened the form. It now "
                            "holds their changes, and your input where you changed the same "
                            "fields: check and save again."))

    # -- shown -------------------------------------------------------------------------------

    def shown_rows(self) -> list[InlineRow]:
        """The rows to render, numbered again: existing rows first (the formset convention),
        then the new ones."""
        existing = [r for r in self.rows if r.existing]
        new = [r for r in self.rows if not r.existing]
        for index, row in enumerate([*existing, *new]):
            if row.index != index:
                row.index = index
                self._renumber(row)
        return [*existing, *new]

    def _renumber(self, row: InlineRow) -> None:
        prefix = f"{self.prefix}-{row.index}-"
        for bound in row.form:
            bound.name = prefix + bound.name.rsplit("-", 1)[-1] if "-" in bound.name else prefix + bound.name
            bound.id = f"id_{bound.name}"
            bound.label.field_id = bound.id

    @property
    def initial_count(self) -> int:
        return sum(1 for r in self.rows if r.existing)

    def readonly_text(self, row: InlineRow, column: ColumnInfo, labels: t.Any = None) -> str | None:
        if row.values is None:
            return None
        return value_text(column, row.values.get(column.name), labels)

    def labels(self) -> t.Any:
        """Labels of the foreign keys the read-only cells show, in one query per key."""
        return fk_labels((c, r.values.get(c.name)) for r in self.rows if r.values
                         for c in self.readonly_for(r))


def forms_for(model_admin: "ModelAdmin", user: t.Any, *, engine: t.Any,
              tokens: "VersionTokens", parent_values: dict | None = None,
              model_admin_of: t.Callable[[type], "ModelAdmin | None"] = model_admin_for
              ) -> list[InlineForms]:
    """Every Inline of ``model_admin`` this user may see on its form, unbound."""
    found = []
    for inline in declared(model_admin, user):
        child_admin = model_admin_of(inline.model)
        if child_admin is None or inline.foreign_key(model_admin.info) is None:
            continue
        forms = InlineForms(inline, model_admin, child_admin, user, engine=engine, tokens=tokens,
                            parent_values=parent_values)
        if forms.can_view:
            found.append(forms)
    return found
