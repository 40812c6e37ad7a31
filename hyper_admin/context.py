"""Who is asking, and which admin answers: the request's context, resolved once per request.

A leaf module (Flask only): the pipeline's guard resolves the principal (the signed-in user
and their roles) when a request comes in, and the model-admin layer (options, panels, query
views, the audit list) reads it from here, never from the pipeline, the site or a view.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass

from flask import current_app, g, request
from werkzeug.local import LocalProxy

if t.TYPE_CHECKING:
    from .site import AdminState


def current_state() -> "AdminState":
    """The AdminState serving the current request (the admin whose blueprint matched)."""
    return current_app.extensions["hyper_admin"][request.blueprint]


@dataclass(frozen=True, slots=True)
class Principal:
    """A user as the admin sees them: their roles (as strings) and whether those make them a
    superuser of the admin serving the request."""

    user: t.Any
    roles: frozenset[str]
    superuser: bool


def is_signed_in(user: t.Any) -> bool:
    """Whether ``user`` is signed in with an account that is still active.

    flask-login refuses to sign in an inactive user, but keeps loading one whose session
    predates the deactivation; a user class not built on UserMixin may even call itself
    authenticated while inactive. Either way the admin treats the session as anonymous.
    """
    return bool(user is not None and getattr(user, "is_authenticated", False)
                and getattr(user, "is_active", True))


def roles_of(user: t.Any, loader: t.Callable[[t.Any], t.Iterable[t.Any]] | None = None) -> frozenset[str]:
    """The user's roles as strings: ``roles_loader(user)``, else ``user.roles``.

    Roles may be strings or objects with a ``name``. Computed once per request and user.
    """
    # A page asks about twenty times (each permission check), mostly through flask-login's
    # current_user proxy, whose every attribute read goes through a context lookup: the user
    # object itself is the cache key (signing in or out mid-request makes it another object).
    real = user._get_current_object() if isinstance(user, LocalProxy) else user
    cache = g.setdefault("_hyper_admin_roles", {})
    key = id(real)
    roles = cache.get(key)
    if roles is not None and roles[0] is real:
        return roles[1]
    if not is_signed_in(real):
        return frozenset()
    raw = loader(real) if loader is not None else getattr(real, "roles", None)
    if isinstance(raw, str):
        raw = [raw]
    found = frozenset(
        role if isinstance(role, str) else str(getattr(role, "name", role)) for role in raw or ()
    )
    cache[key] = (real, found)  # the object kept with its roles: its id is not reused meanwhile
    return found


def principal_of(user: t.Any) -> Principal:
    """``user`` with their roles, as the admin serving this request reads them."""
    state = current_state()
    roles = roles_of(user, state.admin.roles_loader)
    return Principal(user, roles, bool(roles & state.superuser_roles))
