"""hyper_admin: an htmx admin for sqlorm models, mounted as a Flask blueprint."""

import importlib
import typing as t

__version__ = "0.1.0"
__all__ = ["Admin", "ModelAdmin", "Hint", "QueryParam", "action", "audit", "changes", "display",
           "converters", "enable_postgresql", "reflect", "verify_password", "ManyToMany",
           "Inline", "ListFilter", "__version__"]

# Public names are imported on first use: the pytest plugin (hyper_admin.testing, loaded by
# every pytest run where hyper_admin is installed) must not import Flask and sqlorm just to
# be registered.
_WHERE = {
    "Admin": ".site", "ModelAdmin": ".options", "action": ".options", "display": ".options",
    "Hint": ".introspect", "converters": ".fields", "enable_postgresql": ".sqlorm_compat",
    "verify_password": ".passwords", "QueryParam": ".query_views", "reflect": ".reflection",
    "ManyToMany": ".many_to_many",
    "Inline": ".inlines",
    "ListFilter": ".list_filters",
    "audit": None,
    "changes": None,
}

if t.TYPE_CHECKING:  # pragma: no cover
    from . import audit, changes
    from .fields import converters
    from .inlines import Inline
    from .introspect import Hint
    from .list_filters import ListFilter
    from .many_to_many import ManyToMany
    from .options import ModelAdmin, action, display
    from .passwords import verify_password
    from .query_views import QueryParam
    from .reflection import reflect
    from .site import Admin
    from .sqlorm_compat import enable_postgresql


def __getattr__(name: str) -> t.Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'hyper_admin' has no attribute {name!r}")
    module_name = _WHERE[name]
    if module_name is None:
        value = importlib.import_module(f".{name}", __name__)
    else:
        value = getattr(importlib.import_module(module_name, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_WHERE])
