"""The Audit list: ``hyper_admin_audit`` as a read-only model of the admin, so that the whole
trail gets the list machinery every model has (filters by user, model, action and date, search,
keyset pages, counts, CSV/JSON export) at ``/admin/audit/``.

Superusers see it; ``Admin(audit_roles=...)`` opens it to more roles. Nobody adds, edits or
deletes through it: the trail is written only by the changes it records.

No ``from __future__ import annotations`` here: sqlorm reads the model's annotations at class
creation.
"""

import datetime
import typing as t
from typing import Annotated

from markupsafe import Markup, escape
from sqlorm import Column, Model, PrimaryKey

from .audit import TABLE
from .context import current_state, principal_of
from .i18n import format_timestamp, gettext, lazy_gettext as _l
from .introspect import Hint
from .options import ModelAdmin, display
from .values import action_label, fk_labels, value_text


class HyperAdminAuditEntry(Model):
    __table__ = TABLE

    id: PrimaryKey[int] = Column(primary_key=True, nullable=False)
    created_at: Annotated[datetime.datetime, Hint(label=_l("Date"))] = Column(nullable=False)
    admin_name: Annotated[str, Hint(label=_l("Admin name"))] = Column(nullable=False)
    user_id: Annotated[t.Optional[str], Hint(label=_l("User ID"))] = Column(nullable=True)
    user_label: Annotated[str, Hint(label=_l("User"))] = Column(nullable=False)
    model_slug: Annotated[str, Hint(label=_l("Model"))] = Column(nullable=False)
    table_name: Annotated[str, Hint(label=_l("Table"))] = Column(nullable=False)
    pk: Annotated[str, Hint(label=_l("Key"))] = Column(nullable=False)
    object_label: Annotated[str, Hint(label=_l("Row"))] = Column(nullable=False)
    action: Annotated[str, Hint(label=_l("Action"))] = Column(nullable=False)
    changes: Annotated[str, Hint(label=_l("Changes"))] = Column(nullable=False)
    note: Annotated[t.Optional[str], Hint(label=_l("Note"))] = Column(nullable=True)

    def __str__(self):
        return gettext("Audit entry #%(id)s", id=self.id)


READ_ONLY = ("view", "export")


class AuditAdmin(ModelAdmin):
    slug = "audit"
    verbose_name = _l("Audit entry")
    verbose_name_plural = _l("Audit entries")
    icon = "history"
    description = _l("Every change made through the admin, with its values before and after.")
    list_display = ["id", "created_at", "user_label", "action", "model_slug", "object_label", "history"]
    list_display_links = ["id"]
    list_filter = ["action", "model_slug", "user_label", "created_at"]
    search_fields = ["pk", "object_label", "user_label"]
    ordering = ["-id"]
    has_history = False  # the trail does not record itself
    # An entry is written in its change's transaction: read where it was written, never late.
    read_from_replica = False

    @property
    def nav_group(self) -> t.Any:
        """The navigation group ``Admin(audit_nav_group=...)`` puts the trail in."""
        return getattr(self.admin, "audit_nav_group", None)

    @property
    def formatters(self) -> dict[str, t.Callable[[t.Any, t.Any], t.Any]]:
        """What an entry's columns say as the rest of the admin says it: its time in the
        admin's one format (UTC), its model by name, its action by label, its changes as a
        row's history shows them."""
        return {"created_at": _when, "model_slug": _model_name, "action": _action,
                "changes": _changes}
    readonly_fields = ["id", "created_at", "admin_name", "user_id", "user_label", "model_slug",
                       "table_name", "pk", "object_label", "action", "changes", "note"]

    def has_permission(self, action: str, user: t.Any, obj: t.Any = None) -> bool:
        if action not in READ_ONLY:
            return False
        principal = principal_of(user)
        return principal.superuser or bool(principal.roles & current_state().audit_roles)

    def get_actions(self, user: t.Any) -> list:
        return []

    def scope(self, user: t.Any):
        """Only this admin's entries (several admins may share a database)."""
        from sqlorm import SQL

        return SQL(f"{TABLE}.admin_name =", SQL.Param(current_state().name))

    @display(_l("History"))
    def history(self, obj: t.Any) -> Markup:
        """The changed row's history, when its model is (still) registered here."""
        from flask import url_for

        registry = current_state().admin.registry
        if obj.model_slug not in registry:
            return Markup(escape(obj.pk))
        url = url_for(".history", slug=obj.model_slug, pk=obj.pk)
        return Markup('<a class="link" href="{}">{}</a>').format(url, gettext("history"))


def _registered(slug: t.Any) -> t.Any:
    """The ModelAdmin registered at ``slug`` in this admin (None: no longer registered)."""
    return current_state().admin.registry.get(slug)


def _when(value: t.Any, row: t.Any) -> str:
    if isinstance(value, str):
        value = datetime.datetime.fromisoformat(value)
    return format_timestamp(value, "UTC") if value is not None else "—"


def _model_name(slug: t.Any, row: t.Any) -> str:
    model_admin = _registered(slug)
    return str(model_admin.verbose_name_plural) if model_admin is not None else str(slug or "—")


def _action(action: t.Any, row: t.Any) -> str:
    model_admin = _registered(row.get("model_slug"))
    if model_admin is None or not action:
        return str(action or "—")
    return action_label(model_admin, action)


def _changes(text: t.Any, row: t.Any) -> Markup:
    """The changed fields, before and after, formatted as the row's history formats them."""
    import json

    try:
        changes = json.loads(text) if isinstance(text, str) else dict(text or {})
    except ValueError:
        return Markup(escape(text))
    model_admin = _registered(row.get("model_slug"))
    columns = {c.attribute: c for c in model_admin.info.columns} if model_admin is not None else {}
    labels = fk_labels((columns.get(name), value) for name, pair in changes.items()
                       for value in pair)
    items = []
    for name, (before, after) in changes.items():
        column = columns.get(name)
        shown = [value_text(column, value, labels) for value in (before, after)]
        items.append(Markup(
            '<li><span class="text-base-content/70">{}</span>: '
            '<del class="rounded bg-error/10 px-1 no-underline">{}</del> → '
            '<ins class="rounded bg-success/10 px-1 no-underline">{}</ins></li>'
        ).format(column.label if column is not None else name, *["—" if v is None else v for v in shown]))
    return Markup('<ul class="flex flex-col gap-1">{}</ul>').format(Markup("").join(items))
