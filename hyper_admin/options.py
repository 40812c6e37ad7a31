"""ModelAdmin: declarative options (data) with per-request hook methods (behaviour)."""

from __future__ import annotations

import typing as t

from . import pipeline
from .introspect import model_names

if t.TYPE_CHECKING:
    from .site import Admin

ACTIONS = ("view", "add", "change", "delete", "export")


class ModelAdmin:
    """Options for one model. Subclass it, or pass options to ``admin.register(Model, **options)``.

    Every option is a class attribute; where behaviour depends on the request, a method with the
    option's name computes it (``get_...``) so that an override is one method.
    """

    #: URL segment; defaults to the model's table name.
    slug: str | None = None
    #: Human names; default from the class name ("OrderLine" -> "Order line", "Order lines").
    verbose_name: str | None = None
    verbose_name_plural: str | None = None
    #: A lucide icon name shown in navigation (see static/icons.svg).
    icon: str | None = None
    #: A sentence shown under the model's name on the dashboard.
    description: str = ""
    #: action -> roles allowed to do it. Superusers may do everything; the rest is denied.
    permissions: t.Mapping[str, t.Iterable[str]] = {}

    def __init__(self, model: type, admin: "Admin"):
        self.model = model
        self.admin = admin
        names = model_names(model)
        self.slug = self.slug or names.table
        self.verbose_name = self.verbose_name or names.verbose_name
        self.verbose_name_plural = self.verbose_name_plural or names.verbose_name_plural
        self._permissions = {
            action: frozenset(roles) for action, roles in dict(self.permissions).items()
        }

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.model.__name__} at {self.slug!r}>"

    # -- who may do what ----------------------------------------------------------------------

    def has_permission(self, action: str, user: t.Any, obj: t.Any = None) -> bool:
        """Whether ``user`` may do ``action`` (on ``obj`` when given). Override for fine control."""
        state = pipeline.current_state()
        roles = state.roles_of(user)
        if roles & state.superuser_roles:
            return True
        return bool(roles & self._permissions.get(action, frozenset()))

    def scope(self, user: t.Any):
        """A sqlorm SQL condition limiting the rows ``user`` may reach, or None for every row."""
        return None
