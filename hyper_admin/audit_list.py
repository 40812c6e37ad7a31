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
from .i18n import lazy_gettext as _l
from .introspect import Hint
from .options import ModelAdmin, display


class HyperAdminAuditEntry(Model):
    __table__ = TABLE

    id: PrimaryKey[int] = Column(primary_key=True, nullable=False)
    created_at: datetime.datetime = Column(nullable=False)
    admin_name: str = Column(nullable=False)
    user_id: t.Optional[str] = Column(nullable=True)
    user_label: Annotated[str, Hint(label=_l("User"))] = Column(nullable=False)
    model_slug: Annotated[str, Hint(label=_l("Model"))] = Column(nullable=False)
    table_name: str = Column(nullable=False)
    pk: Annotated[str, Hint(label=_l("Key"))] = Column(nullable=False)
    object_label: Annotated[str, Hint(label=_l("Row"))] = Column(nullable=False)
    action: str = Column(nullable=False)
    changes: str = Column(nullable=False)
    note: t.Optional[str] = Column(nullable=True)

    def __str__(self):
        return f"#{self.id} {self.action} {self.model_slug} {self.pk}"


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
    readonly_fields = ["id", "created_at", "admin_name", "user_id", "user_label", "model_slug",
                       "table_name", "pk", "object_label", "action", "changes", "note"]

    def has_permission(self, action: str, user: t.Any, obj: t.Any = None) -> bool:
        if action not in READ_ONLY:
            return False
        from . import pipeline

        state = pipeline.current_state()
        roles = state.roles_of(user)
        return bool(roles & (state.superuser_roles | state.audit_roles))

    def get_actions(self, user: t.Any) -> list:
        return []

    def scope(self, user: t.Any):
        """Only this admin's entries (several admins may share a database)."""
        from sqlorm import SQL

        from . import pipeline

        return SQL(f"{TABLE}.admin_name =", SQL.Param(pipeline.current_state().name))

    @display(_l("History"))
    def history(self, obj: t.Any) -> Markup:
        """The changed row's history, when its model is (still) registered here."""
        from flask import url_for

        from . import pipeline

        registry = pipeline.current_state().admin.registry
        if obj.model_slug not in registry:
            return Markup(escape(obj.pk))
        url = url_for(".history", slug=obj.model_slug, pk=obj.pk)
        return Markup('<a class="link" href="{}">history</a>').format(url)
