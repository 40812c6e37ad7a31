"""The demo Flask application: a support back office on hyper_admin.

    python -m hyper_admin.demo                 # SQLite file instance/demo.db, 2,000 orders
    DATABASE_URL=postgresql://127.0.0.1/test python -m hyper_admin.demo --rows 1000000 --reseed

On PostgreSQL the demo keeps to its own schema (``DEMO_PG_SCHEMA``, default ``hyper_admin_demo``),
created when missing and put first on the ``search_path`` of every connection.
"""

from __future__ import annotations

import os
import re
import secrets
import typing as t
import urllib.parse

from flask import Flask
from flask_login import LoginManager
from flask_sqlorm import FlaskSQLORM

from ..i18n import lazy_gettext
from ..passwords import hash_password, verify_password
from ..sqlorm_compat import sqlorm_uri  # here too: the demo's public helpers
from . import schema
from .models import utcnow
from .models import (
    Account,
    Contact,
    Order,
    OrderLine,
    Product,
    StaffUser,
    Tag,
    Ticket,
    TicketComment,
    TicketTag,
)
from .seed import DEFAULT_ROWS, seed

__all__ = ["create_app", "create_app_from_env", "run_demo", "sqlorm_uri", "resolve_database_url",
           "prepare_database", "ConfigurationError"]

DEFAULT_SQLITE_PATH = os.path.join("instance", "demo.db")
DEFAULT_FILE_ROOT = os.path.join("instance", "hyper_admin_files")
DEFAULT_PG_SCHEMA = "hyper_admin_demo"
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
_PG_SCHEMES = ("postgresql", "postgres", "postgresql+psycopg", "postgresql+psycopg2")


# --- database URLs -----------------------------------------------------------------------------


def resolve_database_url(database_url: str | None = None) -> str:
    """The URL given, else ``DATABASE_URL``, else the SQLite file ``instance/demo.db`` here."""
    return database_url or os.environ.get("DATABASE_URL") or os.path.abspath(DEFAULT_SQLITE_PATH)


def pg_schema_name() -> str:
    name = os.environ.get("DEMO_PG_SCHEMA") or DEFAULT_PG_SCHEMA
    if not _IDENTIFIER.fullmatch(name):
        raise ValueError(f"DEMO_PG_SCHEMA must be a plain identifier, got {name!r}")
    return name


def ensure_pg_schema(engine, name: str) -> None:
    """CREATE SCHEMA IF NOT EXISTS (its name is checked to be a plain identifier)."""
    if not _IDENTIFIER.fullmatch(name):
        raise ValueError(f"not a plain schema name: {name!r}")
    with engine as tx:
        tx.execute(f'CREATE SCHEMA IF NOT EXISTS "{name}"')


def prepare_database(engine, rows: int = DEFAULT_ROWS, reseed: bool = False, log=print) -> bool:
    """Create the tables and seed them when the database is empty, holds another number of
    orders than ``rows`` (so ``make demo ROWS=1000000`` after a small demo seeds the big one),
    or always with ``reseed``. Returns whether it seeded."""
    if not reseed and not schema.is_empty(engine) and _order_count(engine) == rows:
        # A database seeded by an earlier version gets the indexes added since.
        schema.create_indexes(engine)
        return False
    schema.drop_schema(engine)
    schema.create_schema(engine, indexes=False, foreign_keys=False)  # seed() adds them after
    seed(engine, rows=rows, log=log)
    return True


def _order_count(engine) -> int | None:
    try:
        return schema._raw_scalar(engine, "SELECT count(*) FROM orders")
    except Exception:  # noqa: BLE001 - a database from elsewhere: treat as "not our seed"
        return None


# --- the application ---------------------------------------------------------------------------


def create_app(database_url: str | None = None, rows: int | None = None, *,
               config: dict | None = None, ensure_schema: bool = True) -> Flask:
    """The demo app. ``rows``: seed that many orders if the database is empty (None: don't).

    ``config`` is added to ``app.config`` before the admin reads it (``HYPER_ADMIN_*`` keys).
    ``ensure_schema=False`` opens no connection at start-up (see :func:`create_app_from_env`).
    """
    from hyper_admin import Admin, enable_postgresql
    from hyper_admin.i18n import lazy_gettext as _l

    url = resolve_database_url(database_url)
    is_pg = url.split("://", 1)[0].lower() in _PG_SCHEMES
    uri = sqlorm_uri(url, pg_schema_name() if is_pg else None)

    # hyper_admin/demo/templates: the demo's own templates (a ticket's page, its conversation).
    app = Flask(__name__, template_folder="templates")
    # A random key per process unless one is configured: sessions end on restart, which a demo
    # can afford, and no secret is ever written down. Several workers need one shared key:
    # create_app_from_env requires it.
    app.config["SECRET_KEY"] = os.environ.get("SECRET_KEY") or secrets.token_hex(32)
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config.update(config or {})
    # Uploads and the products' pictures: beside the default database, in the instance folder.
    app.config.setdefault("HYPER_ADMIN_FILE_ROOT", os.path.abspath(DEFAULT_FILE_ROOT))

    db = FlaskSQLORM(app, uri)
    enable_postgresql(db)
    engine = db.engine
    if is_pg and ensure_schema:
        ensure_pg_schema(engine, pg_schema_name())
    if rows is not None:
        prepare_database(engine, rows)

    login_manager = LoginManager(app)  # no login view: the admin's built-in sign-in page is used

    @login_manager.user_loader
    def load_user(user_id: str):
        try:
            pk = int(user_id)
        except (TypeError, ValueError):
            return None
        # the admin's engine explicitly: flask-sqlorm's ambient session may belong to another app
        with engine:
            user = StaffUser.get(pk)
        return user if user is not None and user.is_active else None

    def authenticate(username: str, password: str):
        username = (username or "").strip()
        user = None
        if 0 < len(username) <= 150:
            with engine:
                user = StaffUser.find_one(username=username)
        # One hash check whatever the case (unknown user, "!" for no password, inactive): the
        # time taken tells nothing about which usernames exist.
        matches = verify_password(user.password_hash if user else None, password)
        return user if matches and user.is_active else None

    def change_password(user, old_password: str, new_password: str):
        """The password page (/admin/password): the signed-in agent's own hash, written
        through the admin's write service, so that History shows the change (the hash
        itself redacted, as every secret column is)."""
        with engine:
            row = StaffUser.get(int(user.get_id()))
        if not verify_password(row.password_hash if row else None, old_password):
            return False
        changes = admin.changes(StaffUser, user)
        with changes.transaction():
            before = changes.read((row.id,))
            changes.update((row.id,), {"password_hash": hash_password(new_password)},
                           expected=before)
        return True

    admin = Admin(
        app,
        title=_l("Support back office"),
        authenticate=authenticate,
        change_password=change_password,
        engine=engine,
        access_roles={"admin", "support", "viewer"},
        nav_groups=NAV_GROUPS,
        audit_nav_group=ADMINISTRATION,
    )
    register_models(admin, engine)
    _store_pictures(admin, app)

    app.extensions["hyper_admin_demo"] = {"db": db, "engine": engine, "admin": admin, "url": uri}
    return app


def _store_pictures(admin, app) -> None:
    """The seeded products' pictures in the admin's file storage (HYPER_ADMIN_FILE_ROOT, by
    default instance/hyper_admin_files)."""
    from ..file_changes import storage_for
    from .seed import store_pictures

    try:
        store_pictures(storage_for(admin, app))
    except OSError as exc:  # a read-only instance folder: the demo runs, without pictures
        app.logger.warning("the demo could not store its product pictures: %s", exc)


SALES, SUPPORT, ADMINISTRATION = (lazy_gettext("Sales"), lazy_gettext("Support"),
                                  lazy_gettext("Administration"))
NAV_GROUPS = [(SALES, "shopping-cart"), (SUPPORT, "life-buoy"), (ADMINISTRATION, "shield")]


def register_models(admin, engine) -> None:
    """The eight models with their permissions (role ``admin`` is the superuser: everything),
    the "Support health" dashboard and the panels of an account's page (demo/dashboard.py)."""
    from flask import g, has_app_context
    from flask_login import current_user
    from sqlorm import SQL

    from hyper_admin import Inline, ManyToMany, ModelAdmin
    from hyper_admin import action
    from hyper_admin.action_forms import ForeignKeyPicker
    from hyper_admin.i18n import lazy_gettext as _l, ngettext
    from hyper_admin.navigation import declared_groups
    from wtforms import Form, TextAreaField
    from wtforms.validators import InputRequired, Length, Optional

    from hyper_admin.sql import dialect_of

    from .dashboard import account_panels, register_dashboard, register_stuck_orders, ticket_panels
    from .filters import SlaBreached, WaitingOnUs
    from .pages import register_pages

    support_edit = {"view": {"support", "viewer"}, "add": {"support"}, "change": {"support"}}
    # The sidebar's groups (docs/extending.md#navigation-groups): their order and icons, unless
    # the Admin was given its own; the Audit trail joins Administration.
    if not admin.nav_groups:
        admin.nav_groups = declared_groups(NAV_GROUPS)
    if admin.audit_nav_group is None:
        admin.audit_nav_group = ADMINISTRATION

    class StampedAdmin(ModelAdmin):
        """``updated_at`` moves on with every change made through the admin: forms and inline
        cells by this hook, bulk actions by their own UPDATE. Read-only in the forms."""

        def on_model_change(self, values, obj, is_created):
            if is_created:
                values["updated_at"] = values.get("created_at") or utcnow()
            elif values:  # a save that changes nothing writes nothing, not even the stamp
                values["updated_at"] = utcnow()

    @admin.register(Account)
    class AccountAdmin(ModelAdmin):
        # Names from the admin's catalog (an app uses its own), with the gender French
        # sentences agree with: "Ajouter un compte", "Commande « X » ajoutée".
        verbose_name, verbose_name_plural = _l("Account"), _l("Accounts")
        verbose_name_gender = {"fr": "masculine"}
        icon = "building-2"
        nav_group = SALES
        description = _l("Customers: companies on a plan.")
        permissions = support_edit
        list_display = ["name", "email", "plan", "region", "is_active", "created_at"]
        search_fields = ["name", "email"]
        list_filter = ["plan", "region", "is_active"]
        readonly_fields = ["created_at"]
        inlines = [Contact, Order, Ticket]
        detail_panels = account_panels()

    @admin.register(Contact)
    class ContactAdmin(ModelAdmin):
        verbose_name, verbose_name_plural = _l("Contact"), _l("Contacts")
        verbose_name_gender = {"fr": "masculine"}
        icon = "contact"
        nav_group = SALES
        permissions = {"view": {"support"}, "add": {"support"}, "change": {"support"}}
        list_display = ["name", "email", "phone", "role", "account_id"]
        search_fields = ["name", "email"]
        readonly_fields = ["created_at"]

    @admin.register(Product)
    class ProductAdmin(ModelAdmin):
        verbose_name, verbose_name_plural = _l("Product"), _l("Products")
        verbose_name_gender = {"fr": "masculine"}
        icon = "package"
        nav_group = SALES
        permissions = {"view": {"support", "viewer"}}
        list_display = ["sku", "name", "picture", "price", "is_active"]
        search_fields = ["sku", "name"]
        list_filter = ["is_active"]

    @admin.register(Order)
    class OrderAdmin(StampedAdmin):
        verbose_name, verbose_name_plural = _l("Order"), _l("Orders")
        verbose_name_gender = {"fr": "feminine"}
        icon = "shopping-cart"
        nav_group = SALES
        description = _l("What customers bought, with the lines and the tickets of each.")
        permissions = support_edit
        list_display = ["reference", "account_id", "status", "total", "currency", "created_at"]
        search_fields = ["reference", "account.name"]
        actions = ["mark_shipped"]
        list_filter = ["status", "currency", "created_at"]
        date_hierarchy = "created_at"  # the drill-down bar above the list: years, months, days
        readonly_fields = ["created_at", "updated_at"]
        version_field = "updated_at"  # a save moves it on; a change by the app is a conflict
        # The lines are edited on the order's form (add, change, remove in one save); the
        # tickets stay a list on its page.
        inlines = [Inline(OrderLine, fields=["product_id", "quantity", "unit_price"],
                          ordering=["id"], extra=1), Ticket]

        @action(_l("Mark as shipped"), permission="change",
                confirm=_l("Mark {count} orders as shipped now?"))
        def mark_shipped(self, objects, user):
            now = utcnow()
            with engine as tx:
                for order in objects:
                    tx.execute(SQL("UPDATE orders SET status = 'shipped', shipped_at =",
                                   SQL.Param(now), ", updated_at =", SQL.Param(now),
                                   "WHERE id =", SQL.Param(order.id)))
            return ngettext("%(num)s order marked as shipped.", "%(num)s orders marked as shipped.",
                            len(objects))

    @admin.register(OrderLine)
    class OrderLineAdmin(ModelAdmin):
        verbose_name, verbose_name_plural = _l("Order line"), _l("Order lines")
        verbose_name_gender = {"fr": "feminine"}
        icon = "table"
        nav_group = SALES
        permissions = {"view": {"support"}, "add": {"support"}, "change": {"support"},
                       "delete": {"support"}}
        list_display = ["id", "order", "product", "quantity", "unit_price"]

        def label(self, obj):
            """The line as an agent reads it on its order's page: "2 × Wireless mouse"."""
            return f"{obj.quantity} × {product_name(obj.product_id)}"

    class ReplyInline(Inline):
        """A ticket's conversation as a support desk keeps it: what was written stays as
        written (no change, no delete from the form), and one blank reply."""

        def has_permission(self, action, user, child_admin, obj=None):
            if action in ("change", "delete"):
                return False
            return super().has_permission(action, user, child_admin, obj)

    @admin.register(Ticket)
    class TicketAdmin(StampedAdmin):
        verbose_name, verbose_name_plural = _l("Ticket"), _l("Tickets")
        verbose_name_gender = {"fr": "masculine"}
        icon = "ticket"
        nav_group = SUPPORT
        permissions = support_edit
        list_display = ["id", "subject", "account_id", "status", "priority", "assignee_id", "tags",
                        "updated_at"]
        list_editable = ["status", "priority"]
        live = True  # the queue: "Live" follows new tickets
        search_fields = ["subject"]
        # SlaBreached and WaitingOnUs: custom filters (demo/filters.py), what no column says.
        list_filter = ["status", "priority", "assignee_id", "tags", SlaBreached, WaitingOnUs]
        # Tickets carry tags through the join table ticket_tags (hyper_admin.ManyToMany).
        many_to_many = {"tags": ManyToMany(TicketTag, source="ticket_id", target="tag_id", to=Tag,
                                           label=_l("Tags"))}
        readonly_fields = ["created_at", "updated_at"]
        # The comments are its conversation (a panel, with the reply box), not an inline list;
        # templates/hyper_admin/tickets/detail.html puts it below the fields.
        detail_panels = ticket_panels()
        # On its form, the conversation again, and a reply written with the ticket's change.
        inlines = [ReplyInline(TicketComment, fields=["author_id", "body", "is_internal", "created_at"],
                               readonly_fields=["author_id", "created_at"], layout="stacked",
                               ordering=["created_at"], extra=1, prefix="comments")]
        actions = ["assign"]

        class AssignForm(Form):
            """What "Assign to" asks: the agent (a staff user, picked as the form's
            Assignee is), and a note kept in each ticket's history."""

            agent = ForeignKeyPicker(_l("Agent"), [InputRequired()], column="assignee_id")
            note = TextAreaField(_l("Note"), [Optional(), Length(max=500)],
                                 description=_l("Kept in each ticket's history."))

        @action(_l("Assign to"), permission="change", form=AssignForm)
        def assign(self, objects, user, form):
            # The bulk run's transaction, its stale-row check and its audit entries (with
            # the form's values noted) cover this UPDATE, as for "Mark as shipped".
            now = utcnow()
            with engine as tx:
                for ticket in objects:
                    tx.execute(SQL("UPDATE tickets SET assignee_id =", SQL.Param(form.agent.data),
                                   ", updated_at =", SQL.Param(now),
                                   "WHERE id =", SQL.Param(ticket.id)))
            return ngettext("%(num)s ticket assigned to %(agent)s.",
                            "%(num)s tickets assigned to %(agent)s.", len(objects),
                            agent=form.agent.current_label)

    @admin.register(Tag)
    class TagAdmin(ModelAdmin):
        verbose_name, verbose_name_plural = _l("Tag"), _l("Tags")
        verbose_name_gender = {"fr": "feminine"}
        icon = "bookmark"
        nav_group = SUPPORT
        permissions = {"view": {"support", "viewer"}}
        list_display = ["name"]
        search_fields = ["name"]
        ordering = ["name"]

    @admin.register(TicketComment)
    class TicketCommentAdmin(ModelAdmin):
        verbose_name, verbose_name_plural = _l("Ticket comment"), _l("Ticket comments")
        verbose_name_gender = {"fr": "masculine"}
        icon = "message-square"
        nav_group = SUPPORT
        permissions = {"view": {"support"}, "add": {"support"}, "change": {"support"},
                       "delete": {"support"}}
        list_display = ["id", "ticket", "author", "body", "is_internal", "created_at"]
        list_filter = ["is_internal"]
        readonly_fields = ["author_id", "created_at"]

        def on_model_change(self, values, obj, is_created):
            if is_created:  # the author is who writes it, never a choice of the form
                values["author_id"] = int(current_user.get_id())

    @admin.register(StaffUser)
    class StaffUserAdmin(ModelAdmin):
        verbose_name, verbose_name_plural = _l("Staff user"), _l("Staff users")
        verbose_name_gender = {"fr": "masculine"}
        icon = "shield"
        nav_group = ADMINISTRATION
        description = _l("Who may sign in, with which roles (comma-separated: admin, support, "
                         "viewer).")
        permissions = {}  # superusers (role admin) only
        list_display = ["username", "name", "email", "roles_csv", "is_active"]
        search_fields = ["username", "name", "email"]
        list_filter = ["is_active"]

    def product_name(product_id):
        """A product's name, read once per request (an order's page labels all its lines)."""
        names = g.setdefault("_demo_product_names", {}) if has_app_context() else {}
        if product_id not in names:
            with engine as tx:
                names[product_id] = tx.fetchscalar(SQL(
                    "SELECT name AS v FROM products WHERE id =", SQL.Param(product_id)))
        return names[product_id] or f"#{product_id}"

    register_stuck_orders(admin, dialect_of(engine).name, nav_group=SALES, nav_order=1)
    register_dashboard(admin)
    register_pages(admin, engine)  # the customer overview and the refund page (demo/pages.py)


# --- deployed behind a production server -------------------------------------------------------


class ConfigurationError(RuntimeError):
    """The environment lacks a setting a deployment of several workers needs."""


#: What a deployment must set, and why: each worker is a process of its own, so anything one
#: of them keeps in memory the others do not see.
REQUIRED_ENV = {
    "DATABASE_URL": "the database every worker shares, e.g. postgresql://app@db.internal:5432/app",
    "SECRET_KEY": "one key for every worker, so that a session or a form signed by one is "
                  "accepted by the others (e.g. python -c 'import secrets; "
                  "print(secrets.token_hex(32))')",
    "HYPER_ADMIN_LOGIN_STORAGE_URI": "where failed sign-ins are counted: redis://host:6379/0 "
                                     "shares the count between workers and hosts; memory:// "
                                     "counts per process (for a single process only)",
}
MIN_SECRET_KEY_LENGTH = 16


def settings_from_env(environ: t.Mapping[str, str]) -> dict[str, t.Any]:
    """The ``HYPER_ADMIN_<SETTING>`` variables of ``environ`` as app config (only the admin's
    own settings; role lists comma-separated)."""
    from hyper_admin.site import DEFAULTS, _ROLE_SETTINGS

    config: dict[str, t.Any] = {}
    for name in DEFAULTS:
        key = f"HYPER_ADMIN_{name.upper()}"
        if key not in environ:
            continue
        value = environ[key].strip()
        if name in _ROLE_SETTINGS:
            config[key] = frozenset(r.strip() for r in value.split(",") if r.strip())
        else:
            config[key] = value
    return config


def create_app_from_env(environ: t.Mapping[str, str] | None = None) -> Flask:
    """The demo for a production server (``hyper_admin.demo.wsgi:app``), configured only by the
    environment: the variables of REQUIRED_ENV, ``DEMO_PG_SCHEMA`` and ``HYPER_ADMIN_*``.

    Nothing is seeded and no connection is opened here: a worker that starts (or is replaced)
    while the database is down still starts, and answers 503 until the database is back; and
    a preloaded app forks without a connection its workers would share. Seed beforehand with
    ``python -m hyper_admin.demo --seed-only``.
    """
    environ = os.environ if environ is None else environ
    problems = [f"{name} is not set: {why}" for name, why in REQUIRED_ENV.items()
                if not environ.get(name, "").strip()]
    key = environ.get("SECRET_KEY", "").strip()
    if key and len(key) < MIN_SECRET_KEY_LENGTH:
        problems.append(f"SECRET_KEY is too short: at least {MIN_SECRET_KEY_LENGTH} random "
                        "characters")
    if problems:
        raise ConfigurationError("the demo cannot start:\n  " + "\n  ".join(problems))
    config = settings_from_env(environ)
    config["SECRET_KEY"] = key
    if environ.get("HYPER_ADMIN_FILE_ROOT", "").strip():  # uploads: a folder every worker shares
        config["HYPER_ADMIN_FILE_ROOT"] = environ["HYPER_ADMIN_FILE_ROOT"].strip()
    app = create_app(environ["DATABASE_URL"].strip(), config=config, ensure_schema=False)
    return app


# --- running it --------------------------------------------------------------------------------


def _display_url(url: str) -> str:
    """The URL without its password, for the banner."""
    if "://" not in url:
        return url
    parts = urllib.parse.urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urllib.parse.urlunsplit(parts._replace(netloc=netloc))
    return url


def run_demo(
    host: str = "127.0.0.1",
    port: int = 5000,
    rows: int = DEFAULT_ROWS,
    database_url: str | None = None,
    reseed: bool = False,
    serve: bool = True,
) -> None:
    """Seed the database if needed (see prepare_database), print how to sign in, serve the demo
    (unless ``serve`` is false)."""
    url = resolve_database_url(database_url)
    app = create_app(url)
    prepare_database(app.extensions["hyper_admin_demo"]["engine"], rows=rows, reseed=reseed)
    if not serve:
        return
    shown_host = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    where = _display_url(url)
    if url.split("://", 1)[0].lower() in _PG_SCHEMES:
        where += f" (schema {pg_schema_name()})"
    print(
        "\n"
        f"  hyper_admin demo: http://{shown_host}:{port}/admin\n"
        f"  database: {where}\n"
        "  sign in as\n"
        "    admin / admin       everything\n"
        "    support / support   accounts, orders, tickets\n"
        "    viewer / viewer     read only\n"
    )
    app.run(host=host, port=port)
