"""The admin inside a Hyperflask app (docs/hyperflask.md).

Hyperflask loads every installed package's ``hyperflask.extensions`` entry point into each app
its factory creates; hyper_admin's points at ``init_app`` here. The admin then uses the app's
sqlorm database (``app.db``, Flask-SQLORM) and its users and sign-in (hyperflask-users' login
view, flask-login's ``current_user``); with ``HYPER_ADMIN_REGISTER_ALL`` (the default) every
model of ``app.db.Model`` declared in the app's package is listed, registered on the first request, once the app's
``models`` module has been imported by the factory.

Configuration (``config.yml``), besides the usual ``HYPER_ADMIN_*`` settings:

- ``HYPER_ADMIN_ENABLED`` (default true): false mounts nothing;
- ``HYPER_ADMIN_REGISTER_ALL`` (default true): register every model of ``app.db.Model``
  not registered yet (``admin.register(...)`` in your code still applies and wins);
- ``HYPER_ADMIN_TAILWIND`` (default false): add the admin's templates to the sources of
  the app's Tailwind build, for your own templates to use the admin's classes.
"""

from __future__ import annotations

import threading
import typing as t

from .paths import TEMPLATES_DIR
from .site import Admin
from .sqlorm_compat import enable_postgresql

#: The admin of Hyperflask apps: register models on it, in the app's code,
#: ``from hyper_admin.hyperflask import admin; admin.register(Order, OrderAdmin)``.
admin = Admin()


def init_app(app: t.Any) -> Admin | None:
    """Mount ``admin`` on a Hyperflask app (called by Hyperflask's factory)."""
    if not app.config.get("HYPER_ADMIN_ENABLED", True):
        return None
    db = app.extensions.get("sqlorm")
    if db is not None:
        enable_postgresql(db)
    admin.init_app(app)
    if app.config.get("HYPER_ADMIN_TAILWIND", False) and "assets" in app.extensions:
        app.extensions["assets"].tailwind_sources.append(str(TEMPLATES_DIR))
    if app.config.get("HYPER_ADMIN_REGISTER_ALL", True) and db is not None:
        _register_models_on_first_request(app, db)
    return admin


def _register_models_on_first_request(app: t.Any, db: t.Any) -> None:
    lock, done = threading.Lock(), []

    @app.before_request
    def register_models() -> None:
        if done:
            return
        with lock:
            if not done:
                models = _app_models(app, db)
                # A module imported again (a second app in one process, as in tests)
                # declares new classes: they replace the old ones' registrations.
                names = {(m.__module__, m.__qualname__): m for m in models.values()}
                for slug, model_admin in list(admin.registry.items()):
                    model = model_admin.model
                    if names.get((model.__module__, model.__qualname__), model) is not model:
                        del admin.registry[slug]
                admin.register_all(models)
                done.append(True)


def _app_models(app: t.Any, db: t.Any) -> dict[str, type]:
    """The concrete models of ``db.Model`` declared in the app's own package (sqlorm's
    registry is process-wide: other apps' and libraries' models are in it too)."""
    import inspect

    package = app.import_name
    return {name: model for name, model in db.Model.__model_registry__.items()
            if issubclass(model, db.Model) and not inspect.isabstract(model)
            and getattr(model, "__table__", None)
            and (package == "__main__" or model.__module__ == package
                 or model.__module__.startswith(package + "."))}
