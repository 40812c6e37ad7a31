"""Admin: the registry of models, the Flask extension, and the URL table."""

from __future__ import annotations

import re
import threading
import typing as t
from dataclasses import dataclass, field

from flask import Blueprint, Flask
from werkzeug.routing import BaseConverter

from . import admin_pages, checks, context, navigation, pipeline
from .cells import pk_segment
from .cookies import harden_session_cookie
from .introspect import model_names
from .cache import Cache, cache_from_uri
from .options import ModelAdmin
from .panels import Dashboard
from .paths import STATIC_DIR, TEMPLATES_DIR

if t.TYPE_CHECKING:
    from .replicas import ReplicaSet

#: Built-in defaults; ``HYPER_ADMIN_<NAME>`` in app.config overrides them, and an argument given
#: to ``Admin(...)`` overrides both.
DEFAULTS: dict[str, t.Any] = {
    "url_prefix": "/admin",
    "title": "Admin",
    "access_roles": frozenset({"admin"}),
    "superuser_roles": frozenset({"admin"}),
    "per_page": 50,
    "max_per_page": 500,
    "login_max_failures": 5,
    "login_failure_window": 300,
    "statement_timeout": 10.0,
    "audit_roles": frozenset(),
    "login_storage_uri": "memory://",
    "cache_uri": "memory://",
    "count_cache_seconds": 30.0,
    "live_interval": 5.0,
    "live_max_seconds": 300.0,
    "create_tables": True,
    "export_copy": True,
    "read_urls": (),
    "replica_max_lag": 30.0,
    "replica_wait": 0.2,
    "replica_retry_after": 5.0,
}
#: Settings whose configuration key is not ``HYPER_ADMIN_`` + the argument's name.
_CONFIG_KEYS = {"read_urls": "read_database_urls"}
_ROLE_SETTINGS = ("access_roles", "superuser_roles", "audit_roles")
_INT_SETTINGS = ("per_page", "max_per_page", "login_max_failures", "login_failure_window")
_FLOAT_SETTINGS = ("statement_timeout", "count_cache_seconds", "live_interval", "live_max_seconds")
_SECONDS_SETTINGS = ("replica_max_lag", "replica_wait", "replica_retry_after")  # 0 is a value
_BOOL_SETTINGS = ("create_tables", "export_copy")


@dataclass
class AdminState:
    """What one Admin holds for one app: resolved settings, its blueprint name, its engine.

    Lives in ``app.extensions["hyper_admin"][blueprint_name]``, so that one ``Admin`` object can
    serve several apps (the app factory pattern) and one app can mount several admins.
    """

    admin: "Admin"
    app: Flask
    name: str
    url_prefix: str
    title: str
    access_roles: frozenset[str]
    superuser_roles: frozenset[str]
    per_page: int
    max_per_page: int
    login_max_failures: int
    login_failure_window: int
    statement_timeout: float | None
    audit_roles: frozenset[str]
    login_storage_uri: str
    cache_uri: str
    count_cache_seconds: float | None
    live_interval: float
    live_max_seconds: float
    create_tables: bool
    #: On PostgreSQL, CSV exports PostgreSQL can write are written by it (copy_export.py).
    export_copy: bool
    read_urls: tuple[t.Any, ...]
    replica_max_lag: float
    replica_wait: float
    replica_retry_after: float
    login_throttle: "pipeline.LoginThrottle" = field(init=False)
    panel_cache: "Cache" = field(init=False)
    audit_admin: ModelAdmin = field(init=False)
    #: The read replicas (replicas.py); empty when ``read_urls`` names none.
    replicas: "ReplicaSet" = field(init=False)

    def __post_init__(self) -> None:
        self._catalog_read: set[type] = set()
        self._catalog_lock = threading.Lock()
        self.login_throttle = pipeline.LoginThrottle(
            self.login_max_failures, self.login_failure_window, self.login_storage_uri
        )
        from .audit_list import AuditAdmin, HyperAdminAuditEntry

        self.audit_admin = AuditAdmin(HyperAdminAuditEntry, self.admin)
        self.panel_cache = cache_from_uri(self.cache_uri)
        self.replicas = _replica_set(self)

    @property
    def engine(self):
        """The sqlorm engine the admin reads and writes through (never the ambient session)."""
        if self.admin.engine is not None:
            return self.admin.engine
        sqlorm_ext = self.app.extensions.get("sqlorm")
        if sqlorm_ext is None:
            raise RuntimeError(
                "hyper_admin needs a database: pass Admin(engine=...) or initialise flask-sqlorm"
            )
        return sqlorm_ext.engine

    @property
    def authenticate(self):
        return self.admin.authenticate

    def ensure_tables(self) -> None:
        """hyper_admin's own tables (storage.py) before a request uses them: created where
        missing, or with ``create_tables=False`` only checked (storage.TablesMissing)."""
        from .storage import ensure_tables

        ensure_tables(self.engine, create=self.create_tables)

    def roles_of(self, user) -> frozenset[str]:
        return context.roles_of(user, self.admin.roles_loader)

    def read_catalog(self) -> list[ModelAdmin]:
        """Learn from the database what registered models do not declare (catalog.py): its
        foreign keys, NOT NULL, defaults, column types and the relation's kind (a view is
        read-only), for each model not read yet; then pair every model's keys with their
        targets. Returns the ModelAdmins read. Runs at
        registration when the database answers and before each admin request until every
        table was read (a table created after the app started is read once it exists)."""
        pending = [ma for ma in self.admin.registry.values()
                   if ma.model not in self._catalog_read and not ma.is_query_view]
        if not pending:
            return []
        from .catalog import column_facts, column_types, foreign_keys, relation_facts, table_exists
        from .sql import dialect_of

        read = []
        with self._catalog_lock:
            engine = self.engine
            dialect = dialect_of(engine)
            for model_admin in pending:
                info = model_admin.info
                if model_admin.model in self._catalog_read or not table_exists(engine, dialect, info.table):
                    continue
                info.add_database_references(
                    (fk.column, fk.ref_table, fk.ref_column)
                    for fk in foreign_keys(engine, dialect, info.table))
                info.add_database_facts(column_facts(engine, dialect, info.table))
                info.add_database_types(column_types(engine, dialect, info.table),
                                        relation_facts(engine, dialect, info.table))
                self._catalog_read.add(model_admin.model)
                read.append(model_admin)
            self.admin.link_models()
        return read

    def count_caches(self) -> list["Cache"]:
        """The caches holding counts of this application's admins (shared_counts.py): what a
        write through any of them invalidates (each admin may have a cache of its own)."""
        states = self.app.extensions.get("hyper_admin", {}).values()
        caches = {id(s.panel_cache): s.panel_cache for s in states if s.count_cache_seconds}
        return list(caches.values())

    def model_admins(self) -> list[ModelAdmin]:
        """The registered models, then the Audit trail (last in the navigation)."""
        return [*self.admin.registry.values(), self.audit_admin]

    def model_admin_by_slug(self, slug: str) -> ModelAdmin | None:
        found = self.admin.registry.get(slug)
        if found is None and slug == self.audit_admin.slug:
            return self.audit_admin
        return found


#: The prefix under which the shipped templates stay reachable when the app overrides them:
#: an override of ``hyper_admin/detail.html`` extends ``hyper_admin_original/detail.html``.
ORIGINAL_PREFIX = "hyper_admin_original"


def shipped_templates_loader():
    """The blueprint's templates: ``hyper_admin/...`` (which the app's own folder overrides,
    Flask searching it first) and the same files as ``hyper_admin_original/...``, which no
    override hides, so that an override extends the template it replaces and changes blocks."""
    from jinja2 import ChoiceLoader, FileSystemLoader, PrefixLoader

    return ChoiceLoader([
        FileSystemLoader(str(TEMPLATES_DIR)),
        PrefixLoader({ORIGINAL_PREFIX: FileSystemLoader(str(TEMPLATES_DIR / "hyper_admin"))}),
    ])


class Admin:
    """The hyper_admin Flask extension.

    ``Admin(app, **settings)`` or ``admin = Admin(**settings); admin.init_app(app)``. Models are
    registered on the Admin (before or after ``init_app``); settings are resolved per app.
    """

    def __init__(
        self,
        app: Flask | None = None,
        *,
        url_prefix: str | None = None,
        title: str | None = None,
        access_roles: t.Iterable[str] | None = None,
        superuser_roles: t.Iterable[str] | None = None,
        roles_loader: t.Callable[[t.Any], t.Iterable[t.Any]] | None = None,
        per_page: int | None = None,
        max_per_page: int | None = None,
        authenticate: t.Callable[[str, str], t.Any] | None = None,
        engine=None,
        name: str | None = None,
        login_max_failures: int | None = None,
        login_failure_window: int | None = None,
        statement_timeout: float | None = None,
        audit_roles: t.Iterable[str] | None = None,
        login_storage_uri: str | None = None,
        cache_uri: str | None = None,
        count_cache_seconds: float | None = None,
        locale_selector: t.Callable[[], t.Any] | None = None,
        create_tables: bool | None = None,
        export_copy: bool | None = None,
        read_urls: t.Iterable[t.Any] | str | None = None,
        replica_max_lag: float | None = None,
        replica_wait: float | None = None,
        replica_retry_after: float | None = None,
        change_password: t.Callable[[t.Any, str, str], t.Any] | None = None,
        password_min_length: int = 8,
        empty_value_display: str | None = None,
        file_storage: t.Any = None,
        nav_groups: t.Iterable[t.Any] | None = None,
        audit_nav_group: t.Any = None,
    ):
        given = {
            "url_prefix": url_prefix,
            "title": title,
            "access_roles": access_roles,
            "superuser_roles": superuser_roles,
            "per_page": per_page,
            "max_per_page": max_per_page,
            "login_max_failures": login_max_failures,
            "login_failure_window": login_failure_window,
            "statement_timeout": statement_timeout,
            "audit_roles": audit_roles,
            "login_storage_uri": login_storage_uri,
            "cache_uri": cache_uri,
            "count_cache_seconds": count_cache_seconds,
            "create_tables": create_tables,
            "export_copy": export_copy,
            "read_urls": read_urls,
            "replica_max_lag": replica_max_lag,
            "replica_wait": replica_wait,
            "replica_retry_after": replica_retry_after,
        }
        self._given = {key: value for key, value in given.items() if value is not None}
        self.roles_loader = roles_loader
        self.locale_selector = locale_selector
        self.authenticate = authenticate
        #: The signed-in user's password page (/password), when given: views/password.py.
        self.change_password = change_password
        self.password_min_length = int(password_min_length)
        #: What an empty value shows, unless a ModelAdmin or a column says otherwise.
        self.empty_value_display = empty_value_display
        #: Where uploaded files go (file_storage.py); None: the app's instance folder.
        self.file_storage = file_storage
        #: The navigation's groups in order, with their icons: [(label, icon) or label, ...]
        #: (navigation.py; ModelAdmin.nav_group puts a model in one).
        self.nav_groups = navigation.declared_groups(nav_groups)
        #: The group the Audit trail is listed under (None: the default group).
        navigation.check_options("audit_nav_group", group=audit_nav_group, order=0, icon=None)
        self.audit_nav_group = audit_nav_group
        self.engine = engine
        self.name = name
        self.registry: dict[str, ModelAdmin] = {}
        self._states: list[AdminState] = []
        #: The dashboard's panels (see docs/dashboards.md).
        self.dashboard = Dashboard()
        #: Pages of the application inside the admin (admin_pages.py, docs/extending.md).
        self.pages: list[admin_pages.Page] = []
        self.row_pages: list[admin_pages.RowPage] = []
        if app is not None:
            self.init_app(app)

    # -- registry -----------------------------------------------------------------------------

    def register(self, model: type, admin_class: type[ModelAdmin] | None = None, **options):
        """Register ``model`` now (with ``admin_class`` or the defaults) and return a decorator.

        The decorator form, ``@admin.register(Order)`` on a ModelAdmin subclass, replaces the
        defaults with that class and returns the class unchanged.
        """
        self._install(model, admin_class or ModelAdmin, options)

        def decorator(cls: type[ModelAdmin]) -> type[ModelAdmin]:
            if not (isinstance(cls, type) and issubclass(cls, ModelAdmin)):
                raise TypeError(f"@admin.register({model.__name__}) decorates a ModelAdmin subclass")
            self._install(model, cls, options)
            return cls

        return decorator

    def register_all(self, base: t.Any) -> None:
        """Register every model of a registry not registered yet.

        ``base`` is a model base class (``db.Model``: its concrete subclasses) or a dict of
        models such as ``Model.__model_registry__``.
        """
        if isinstance(base, dict):
            models = list(base.values())
        else:
            models = [m for m in base.__model_registry__.values() if issubclass(m, base)]
        registered = {ma.model for ma in self.registry.values()}
        for model in models:
            if model not in registered:
                self.register(model)

    def _install(self, model: type, admin_class: type[ModelAdmin], options: dict) -> None:
        if not hasattr(model, "__mapper__"):
            raise TypeError(f"{model!r} is not a sqlorm model")
        attrs = {}
        for key, value in options.items():
            if key.startswith("_") or not hasattr(admin_class, key):
                raise TypeError(f"unknown ModelAdmin option {key!r} for {model.__name__}")
            attrs[key] = value
        if attrs:
            admin_class = type(admin_class.__name__, (admin_class,), attrs)
        model_admin = admin_class(model, self)
        replaced = {slug: existing for slug, existing in self.registry.items()
                    if existing.model is model}
        for slug in replaced:
            del self.registry[slug]
        try:
            if model_admin.slug in self.registry:
                other = self.registry[model_admin.slug].model.__name__
                raise ValueError(
                    f"slug {model_admin.slug!r} of {model.__name__} is taken by {other}; "
                    "set ModelAdmin.slug"
                )
            if not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]*", model_admin.slug):
                raise ValueError(f"slug {model_admin.slug!r} must be letters, digits, _ . -")
            self.registry[model_admin.slug] = model_admin
            self.link_models()
            self._check_with_catalog([model_admin])
        except (ValueError, checks.ConfigurationError):
            # A registration that fails leaves the admin as it was.
            if self.registry.get(model_admin.slug) is model_admin:
                del self.registry[model_admin.slug]
            self.registry.update(replaced)
            raise

    def link_models(self) -> None:
        """Pair every registered model's foreign keys with the registered model of the table
        they reference (introspect.ModelInfo.link_targets): registering the target after the
        model that points at it links them too."""
        by_table: dict[str, type] = {}
        for model_admin in self.registry.values():
            if not model_admin.is_query_view:
                by_table.setdefault(model_admin.info.table, model_admin.model)
        for model_admin in self.registry.values():
            if not model_admin.is_query_view:
                model_admin.info.link_targets(by_table)

    def _check_with_catalog(self, model_admins: t.Iterable[ModelAdmin]) -> None:
        """Read what the database declares when it answers (the tables may not exist yet: the
        first admin request reads them then), and run the checks that need it."""
        for state in self._states:
            try:
                with state.app.app_context():
                    state.read_catalog()
            except Exception:  # noqa: BLE001 - no database yet: read on the first request
                pass
        for model_admin in model_admins:
            checks.raise_errors(checks.check(model_admin))

    def register_query(self, name: str, sql: t.Any, *, columns: t.Mapping[str, t.Any],
                       **options) -> ModelAdmin:
        """Register a SQL query as a read-only list at ``/<prefix>/<name>/`` (a query view).

        ``sql``: the query's text (or a sqlorm ``SQL`` without values), with ``:name``
        parameters; ``columns``: its result columns, name -> type (``int``, ``str``,
        ``Optional[datetime]``, an Enum, ``Annotated[..., Hint(...)]``), checked against what
        the query returns. Options: ``key`` (the column(s) identifying a row; default the
        first), ``label_column``, ``links`` (column -> model whose key it holds), ``row_link``,
        ``params`` (name -> default or ``QueryParam``), ``scope`` (user -> SQL condition over
        the query's columns), and the list options of a ModelAdmin (``list_display``,
        ``search_fields``, ``list_filter``, ``ordering``, ``permissions``, ``verbose_name``,
        ``icon``, ``description``...). See docs/dashboards.md. Returns its QueryAdmin.
        """
        from .query_views import build_query_admin

        model_admin = build_query_admin(self, name, sql, columns=columns, **options)
        if model_admin.slug in self.registry and not self.registry[model_admin.slug].is_query_view:
            raise ValueError(f"slug {model_admin.slug!r} is taken by a model; name the query view otherwise")
        if self.engine is not None:
            _verify_now(model_admin, self.engine)
        self.registry[model_admin.slug] = model_admin
        return model_admin

    def page(self, path: str, *, title: t.Any, roles: t.Iterable[str] | str | None = None,
             group: t.Any = None, icon: str = "file-text", methods: t.Iterable[str] = ("GET",),
             name: str | None = None) -> t.Callable:
        """Decorator: ``view(page)`` answers ``<prefix><path>`` inside the admin (sign-in,
        roles, CSRF on POST, headers), shown in the navigation and the palette to whoever
        ``roles`` (None: every admin user; superusers always) lets open it. ``view`` gets a
        :class:`hyper_admin.views.pages.PageRequest` and returns ``page.render(template,
        **context)`` or a response. Errors: ConfigurationError hyper_admin.E033."""

        def decorator(view: t.Callable) -> t.Callable:
            page = admin_pages.site_page(self, path, view, title=title, roles=roles, group=group,
                                         icon=icon, methods=methods, name=name)
            self.pages.append(page)
            for state in self._states:  # already mounted: the rule goes on the app itself
                from .views.pages import site_page_view

                state.app.add_url_rule(
                    state.url_prefix + page.path, f"{state.name}.{page.endpoint}",
                    pipeline.guard(site_page_view(page)), methods=list(page.methods),
                    strict_slashes=False)
            return view

        return decorator

    def row_page(self, model_or_slug: t.Any, name: str, *, title: t.Any,
                 permission: str = "view", roles: t.Iterable[str] | str | None = None,
                 icon: str = "file-text", methods: t.Iterable[str] = ("GET",)) -> t.Callable:
        """Decorator: ``view(page)`` answers ``<prefix>/<slug>/<pk>/<name>`` for a row the user
        may reach (scope: 404 outside it) with the ModelAdmin's ``permission`` on it (and one
        of ``roles`` when given; 403 otherwise), linked from the row's page. ``view`` gets a
        :class:`hyper_admin.views.pages.PageRequest` (``page.obj``, ``page.pk``...). Errors:
        ConfigurationError hyper_admin.E034."""

        def decorator(view: t.Callable) -> t.Callable:
            self.row_pages.append(admin_pages.row_page(
                self, model_or_slug, name, view, title=title, permission=permission,
                roles=roles, icon=icon, methods=methods))
            return view

        return decorator

    def create_tables(self, app: Flask) -> None:
        """Create hyper_admin's own tables (saved views...) in each engine this Admin uses on
        ``app``, where missing. They are also created on first use."""
        from .storage import ensure_tables

        for state in app.extensions.get("hyper_admin", {}).values():
            if state.admin is self:
                with app.app_context():
                    ensure_tables(state.engine)

    def changes(self, model_or_slug: t.Any, user: t.Any, *, app: Flask | None = None,
                user_label: str | None = None):
        """The write service (:class:`hyper_admin.changes.Changes`) for ``user`` on rows of a
        registered model, for an application's own code (a job, a script): reads within
        ``user``'s scope, conflict-checked updates, one audit entry per row changed, the
        ModelAdmin's hooks, after-commit work. Permissions are the caller's to check
        (``model_admin.has_permission``). ``app``: the application whose database it writes
        (default: the current one)."""
        from flask import current_app

        from .changes import Changes

        target = app if app is not None else current_app._get_current_object()
        state = next((s for s in self._states if s.app is target), None)
        if state is None:
            raise RuntimeError("this Admin is not initialised on that application")
        state.ensure_tables()  # the audit trail's, before a change's transaction opens
        get_id = getattr(user, "get_id", None)
        return Changes(self.model_admin(model_or_slug), user, engine=state.engine,
                       admin_name=state.name, count_caches=state.count_caches(),
                       replicated=bool(state.replicas),
                       user_label=user_label or pipeline.user_label(user),
                       user_id=get_id() if callable(get_id) else None)

    def model_admin(self, model_or_slug: t.Any) -> ModelAdmin:
        if isinstance(model_or_slug, str):
            return self.registry[model_or_slug]
        for model_admin in self.registry.values():
            if model_admin.model is model_or_slug:
                return model_admin
        raise KeyError(model_names(model_or_slug).class_name)

    # -- Flask extension ----------------------------------------------------------------------

    def _settings(self, app: Flask) -> dict[str, t.Any]:
        settings = dict(DEFAULTS)
        config = app.config.get_namespace("HYPER_ADMIN_")
        for key in DEFAULTS:
            config_key = _CONFIG_KEYS.get(key, key)
            if config_key in config:
                settings[key] = config[config_key]
        settings.update(self._given)
        for key in _ROLE_SETTINGS:
            value = settings[key]
            settings[key] = frozenset([value] if isinstance(value, str) else value)
        for key in _INT_SETTINGS:
            settings[key] = int(settings[key])
        for key in _BOOL_SETTINGS:
            value = settings[key]
            # From the environment a setting is text: "false", "0", "no" and "off" mean False.
            settings[key] = (value.strip().lower() not in ("", "0", "false", "no", "off")
                             if isinstance(value, str) else bool(value))
        for key in _FLOAT_SETTINGS:
            settings[key] = float(settings[key]) if settings[key] else None
        for key in _SECONDS_SETTINGS:
            settings[key] = float(settings[key])
        settings["read_urls"] = _read_urls(settings["read_urls"])
        prefix = "/" + str(settings["url_prefix"]).strip("/")
        settings["url_prefix"] = "" if prefix == "/" else prefix
        return settings

    def init_app(self, app: Flask) -> None:
        settings = self._settings(app)
        if not settings["url_prefix"]:
            raise ValueError(
                "mount the admin under a path (url_prefix='/admin'): at the site root its "
                "static files would collide with the app's own /static/"
            )
        name = self.name or _blueprint_name(settings["url_prefix"])
        states = app.extensions.setdefault("hyper_admin", {})
        if name in states:
            raise ValueError(
                f"an admin named {name!r} is already mounted on this app; pass Admin(name=...)"
            )
        state = AdminState(admin=self, app=app, name=name, **settings)
        states[name] = state
        self._states.append(state)
        _adapt_engines(self.engine, app.extensions.get("sqlorm"))
        self._check_with_catalog(list(self.registry.values()))
        harden_session_cookie(app)
        app.register_blueprint(self._blueprint(name), url_prefix=state.url_prefix)

    def _blueprint(self, name: str) -> Blueprint:
        from .views import files as file_views
        from .views import inlines as inline_views
        from .views import (auth, bulk, dashboard, dates, errors, facets, history, inline,
                            listing, live, lookup, palette, panels, password, revert, rows,
                            saved)
        from .views import pages as page_views
        from .views import common, row_menu

        bp = Blueprint(
            name,
            __name__,
            template_folder=str(TEMPLATES_DIR),
            static_folder=str(STATIC_DIR),
            static_url_path="/static",
        )
        bp.jinja_loader = shipped_templates_loader()
        # Before the rules that name it: a rule finds its converters when the app adds it.
        bp.record_once(lambda setup: setup.app.url_map.converters.setdefault(
            "admin_pk", KeyConverter))
        # The URL table. Every view goes through pipeline.guard: a view cannot skip a check.
        route = pipeline.Router(bp)
        route("/", dashboard.index, endpoint="dashboard")
        route("/login", auth.login, methods=["GET", "POST"], public=True)
        route("/logout", auth.logout, methods=["POST"])
        route("/password", password.password_view, endpoint="password", methods=["GET", "POST"])
        # "-" cannot start a slug: no model's URLs collide with the dashboard's panels.
        route("/-/panels/<panel_id>", panels.panel_view, endpoint="panel")
        route("/-/palette", palette.palette_view, endpoint="palette")
        route("/<slug>/", listing.list_view, endpoint="list", model_action="view")
        route("/<slug>/lookup", lookup.lookup_view, endpoint="lookup", model_action="view")
        route("/<slug>/lookup/<field>", lookup.field_lookup_view, endpoint="field_lookup",
              model_action=("add", "change"))
        route("/<slug>/facets", facets.facets_view, endpoint="facets", model_action="view")
        route("/<slug>/dates", dates.dates_view, endpoint="dates", model_action="view")
        route("/<slug>/count", listing.count_view, endpoint="count", model_action="view")
        route("/<slug>/export", bulk.export_view, endpoint="export", model_action="export")
        route("/<slug>/live", live.live_stream, endpoint="live", model_action="view")
        route("/<slug>/live/rows", live.live_rows, endpoint="live_rows", model_action="view")
        route("/<slug>/action", bulk.action_view, endpoint="action", methods=["POST"],
              model_action="view")
        route("/<slug>/views", saved.list_views, endpoint="saved_views", model_action="view")
        route("/<slug>/views", saved.save_view, endpoint="save_view", methods=["POST"],
              model_action="view")
        route("/<slug>/views/<view_id>/delete", saved.delete_view, endpoint="delete_view",
              methods=["POST"], model_action="view")
        route("/<slug>/inline/<prefix>/row", inline_views.row_view, endpoint="inline_row",
              model_action=("add", "change"))
        route("/<slug>/new", rows.create_view, endpoint="create", methods=["GET", "POST"],
              model_action="add")
        route("/<slug>/<admin_pk:pk>/", rows.detail_view, endpoint="detail", model_action="view")
        route("/<slug>/<admin_pk:pk>/menu", row_menu.row_menu_view, endpoint="row_menu",
              model_action="view")
        route("/<slug>/<admin_pk:pk>/history", history.history_view, endpoint="history", model_action="view")
        route("/<slug>/<admin_pk:pk>/panels/<panel_id>", panels.detail_panel_view, endpoint="detail_panel",
              model_action="view")
        route("/<slug>/<admin_pk:pk>/history/<int:entry_id>/revert", revert.revert_view, endpoint="revert",
              methods=["GET", "POST"], model_action="view")
        route("/<slug>/<admin_pk:pk>/history/<int:entry_id>/restore", revert.restore_view,
              endpoint="restore", methods=["POST"], model_action="add")
        route("/<slug>/<admin_pk:pk>/edit", rows.edit_view, endpoint="edit", methods=["GET", "POST"],
              model_action="view")
        route("/<slug>/<admin_pk:pk>/cell/<field>", inline.cell_view, endpoint="cell",
              methods=["GET", "POST"], model_action="view")
        route("/<slug>/<admin_pk:pk>/delete", rows.delete_view, endpoint="delete",
              methods=["GET", "POST"], model_action="view")
        route("/<slug>/<admin_pk:pk>/file/<field>", file_views.download_view,
              endpoint="file_download", model_action="view")
        route("/<slug>/<admin_pk:pk>/thumbnail/<field>", file_views.thumbnail_view,
              endpoint="file_thumbnail", model_action="view")
        # The application's pages (admin.row_page: any registered later too; admin.page: those
        # registered so far, later ones are added to the app by Admin.page).
        route("/<slug>/<admin_pk:pk>/<page_name>", page_views.row_page_view, endpoint="row_page",
              methods=["GET", "POST"], model_action="view")
        for page in self.pages:
            route(page.path, page_views.site_page_view(page), endpoint=page.endpoint,
                  methods=page.methods)
        route("/<path:unknown>", errors.not_found, methods=["GET", "POST"])
        pipeline.install(bp)
        # Read your writes: a write's position on the primary goes into the user's session.
        bp.after_request(common.record_write)
        errors.install(bp)
        return bp


class KeyConverter(BaseConverter):
    """The ``<pk>`` of a row's URLs: a key's text (``cells.encode_pk``'s, or a segment of
    the current URL) goes into the URL as ``cells.pk_segment`` makes it, encoded once (a
    timestamp's ``:`` stays ``:``; a ``,`` or ``/`` inside a part stays escaped, since the
    server decodes the path before routing). A request's segment reaches the view as the
    server decoded it; ``cells.decode_pk`` reads it."""

    def to_url(self, value: t.Any) -> str:
        return pk_segment(str(value))


def _adapt_engines(*targets: t.Any) -> None:
    """The sqlorm workarounds an engine needs whatever the database (sqlorm_compat)."""
    from .sqlorm_compat import allow_bare_sqlite_filename, engines_of

    for target in targets:
        if target is not None:
            for engine in engines_of(target):
                allow_bare_sqlite_filename(engine)


def _read_urls(value: t.Any) -> tuple[t.Any, ...]:
    """``read_urls`` as a tuple of URLs and engines: from the environment, one string of
    comma-separated URLs."""
    if not value:
        return ()
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    return tuple(value)


def _replica_set(state: AdminState) -> "ReplicaSet":
    """The admin's read replicas: engines made from ``read_urls`` (replicas.replica_engine),
    each checked to be PostgreSQL (hyper_admin.E042)."""
    from .problems import fail
    from .replicas import ReplicaSet, replica_engine
    from .sqlorm_compat import is_postgresql

    engines = []
    for target in state.read_urls:
        try:
            engine = replica_engine(target)
        except TypeError as exc:  # neither a URL nor an engine
            fail("hyper_admin.E042", f"read_urls: {exc}")
        if not is_postgresql(engine):
            fail("hyper_admin.E042", "read_urls: a read replica must be a PostgreSQL standby; "
                 f"{'this URL' if isinstance(target, str) else 'this engine'} is not PostgreSQL")
        engines.append(engine)
    primary = state.admin.engine
    if engines and primary is not None and not is_postgresql(primary):
        fail("hyper_admin.E042", "read_urls: read replicas need a PostgreSQL primary; the "
             "admin's engine is not PostgreSQL")
    return ReplicaSet(engines, max_lag=state.replica_max_lag, wait=state.replica_wait,
                      retry_after=state.replica_retry_after)


def _verify_now(model_admin, engine) -> None:
    """Check a query view's columns at registration when the database answers; when it does
    not (not created yet, unreachable), the first request checks them."""
    from .query_views import QueryMismatch

    try:
        model_admin.verify(engine)
    except QueryMismatch:
        raise
    except Exception:  # noqa: BLE001 - any database error: checked again on first use
        pass


def _blueprint_name(url_prefix: str) -> str:
    if url_prefix == "/admin":
        return "hyper_admin"
    suffix = re.sub(r"[^A-Za-z0-9]+", "_", url_prefix).strip("_")
    return f"hyper_admin_{suffix}" if suffix else "hyper_admin_root"


current_state = context.current_state
