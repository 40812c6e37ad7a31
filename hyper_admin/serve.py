"""``hyper-admin serve DATABASE_URL``: the admin over an existing database, with no code.

The tables and views of the database (``--schema``, ``--tables``, ``--exclude``) become models
at start (hyper_admin.reflect), each registered with the defaults, and the admin is served at
``http://HOST:PORT/admin`` by waitress, a production WSGI server (threads, no reloader, no
debugger). One account, ``admin``, a superuser: its password is ``HYPER_ADMIN_PASSWORD``, or a
random one printed once at start. ``--read-only``: the same admin with no add, change, delete or
action on any model (every write URL answers 403, no write control is shown).
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import os
import re
import secrets
import sys
import typing as t
import urllib.parse
from dataclasses import dataclass, field

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 5000
#: The one account's username.
ACCOUNT = "admin"


@dataclass
class ServeOptions:
    database_url: str
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    read_only: bool = False
    schema: str | None = None
    tables: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)


class ServeError(Exception):
    """What stops ``serve`` before it serves, said to the user in one line."""


def parse_args(argv: t.Sequence[str]) -> ServeOptions:
    parser = argparse.ArgumentParser(
        prog="hyper-admin serve",
        description="Serve an admin over an existing SQLite or PostgreSQL database: every "
                    "table and view, no code. One account, admin: its password is "
                    "$HYPER_ADMIN_PASSWORD, else a random one printed at start.")
    parser.add_argument("database_url", metavar="DATABASE_URL",
                        help="sqlite://path/to.db (relative), sqlite:///abs/path.db, or "
                             "postgresql://user@host:5432/dbname")
    parser.add_argument("--host", default=DEFAULT_HOST, help=f"default {DEFAULT_HOST}")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"default {DEFAULT_PORT}")
    parser.add_argument("--read-only", action="store_true",
                        help="no add, change, delete or action on any table")
    parser.add_argument("--schema", help="PostgreSQL: the schema to serve (default: the "
                                         "connection's current one, usually public)")
    parser.add_argument("--tables", default="", metavar="A,B",
                        help="only these tables and views (names or glob patterns)")
    parser.add_argument("--exclude", default="", metavar="X,Y",
                        help="leave out these tables and views (names or glob patterns)")
    args = parser.parse_args(list(argv))
    return ServeOptions(args.database_url, args.host, args.port, args.read_only, args.schema,
                        _names(args.tables), _names(args.exclude))


def _names(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


# ---------------------------------------------------------------------------------------------
# The database


def open_engine(options: ServeOptions):
    """A sqlorm Engine on the URL (PostgreSQL enabled, its search_path set to ``--schema``),
    checked to answer."""
    from sqlorm import Engine

    from .sqlorm_compat import (PG_SCHEMES, allow_bare_sqlite_filename, enable_postgresql,
                                sqlorm_uri)

    url = options.database_url
    is_pg = url.split("://", 1)[0].lower() in PG_SCHEMES
    if not is_pg:
        _require_sqlite_file(url)
    elif options.schema is not None and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,62}",
                                                         options.schema):
        raise ServeError(f"--schema {options.schema!r}: a plain name (letters, digits, _)")
    # SQLite enforces the foreign keys a schema declares (ON DELETE rules included) only
    # when each connection asks.
    extra = {} if is_pg else {"foreign_keys": True}
    try:
        engine = Engine.from_uri(sqlorm_uri(url, options.schema if is_pg else None), **extra)
    except Exception as exc:  # noqa: BLE001 - a URL sqlorm or libpq cannot read
        raise ServeError(f"cannot read the database URL: {exc}") from exc
    allow_bare_sqlite_filename(enable_postgresql(engine))
    try:
        with engine as tx:
            tx.execute("SELECT 1")
    except Exception as exc:  # noqa: BLE001 - unreachable, refused, no such database
        raise ServeError(f"cannot connect to {display_url(url)}: {exc}".strip()) from exc
    return engine


def _require_sqlite_file(url: str) -> None:
    """SQLite would create a missing file and serve it empty: a typo must say so instead."""
    scheme, _, path = url.partition("://") if "://" in url else ("sqlite", "", url)
    if scheme.lower() != "sqlite":
        raise ServeError(f"{scheme}:// is no database this serves: sqlite:// or postgresql://")
    # sqlite://path/to.db is relative to the working directory, sqlite:///abs/x.db absolute.
    path = path.split("?", 1)[0]
    if path in ("", ":memory:") or not os.path.isfile(path):
        raise ServeError(f"no SQLite database file at {path or url!r}")


def display_url(url: str) -> str:
    """The URL without its password."""
    parts = urllib.parse.urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urllib.parse.urlunsplit(parts._replace(netloc=netloc))
    return url


def reflect_models(engine, options: ServeOptions, log: t.TextIO) -> dict[str, type]:
    from .reflection import reflect

    def progress(done: int, total: int) -> None:
        _progress_line("read", total, log)(done)

    try:
        models = reflect(engine, schema=options.schema, include=options.tables or None,
                         exclude=options.exclude, on_progress=progress)
    except ValueError as exc:
        raise ServeError(str(exc)) from exc
    if not models:
        where = f"schema {options.schema}" if options.schema else display_url(options.database_url)
        raise ServeError(f"no table or view to serve in {where}")
    return models


#: A catalog of more tables than this gets a progress line every so many, while it is read
#: and while its models are registered.
PROGRESS_EVERY = 50


# ---------------------------------------------------------------------------------------------
# The application


class Account:
    """The one user. Its id carries a fingerprint of the password, so that a session signed
    in before the password changed (a restart with another one) is no longer valid."""

    is_authenticated = True
    is_active = True
    is_anonymous = False
    roles = frozenset({"admin"})
    username = name = ACCOUNT

    def __init__(self, password_hash: str, secret_key: str):
        digest = hmac.new(secret_key.encode(), password_hash.encode(), hashlib.sha256)
        self.session_id = f"{ACCOUNT}:{digest.hexdigest()[:24]}"
        self.password_hash = password_hash

    def get_id(self) -> str:
        return self.session_id

    def __str__(self) -> str:
        return ACCOUNT


#: Segments the admin's own URLs hold (its static files), never a table's.
RESERVED_SLUGS = frozenset({"static"})


def slug_for(table: str, taken: set[str]) -> str:
    """A URL segment for ``table``: lower case, runs of other characters than letters, digits,
    ``_``, ``.`` and ``-`` as one ``-``; unique among ``taken`` (which it joins)."""
    base = re.sub(r"[^a-z0-9_.-]+", "-", table.lower()).strip("-.") or "table"
    if not re.match(r"[a-z0-9_]", base):
        base = "t" + base
    slug, number = base, 2
    while slug in taken:
        slug, number = f"{base}-{number}", number + 1
    taken.add(slug)
    return slug


def create_app(options: ServeOptions, *, password: str, secret_key: str,
               log: t.TextIO = sys.stderr):
    """The Flask application ``serve`` runs: every reflected model registered on an Admin
    whose one account is ``admin`` with ``password``."""
    from flask import Flask
    from flask_login import LoginManager
    from werkzeug.security import generate_password_hash

    from .passwords import verify_password
    from .site import Admin

    engine = open_engine(options)
    models = reflect_models(engine, options, log)
    account = Account(generate_password_hash(password), secret_key)

    app = Flask(__name__)
    app.config["SECRET_KEY"] = secret_key
    login_manager = LoginManager(app)  # the admin's own sign-in page

    @login_manager.user_loader
    def load_user(user_id: str):
        same = hmac.compare_digest(str(user_id).encode(), account.session_id.encode())
        return account if same else None

    def authenticate(username: str, given: str):
        # One hash check whatever the username: the time taken tells nothing.
        known = (username or "").strip() == ACCOUNT
        matches = verify_password(account.password_hash if known else None, given)
        return account if matches and known else None

    admin = Admin(app, title=database_name(options.database_url), authenticate=authenticate,
                  engine=engine)
    # Mounted first, so that each registration reads its table's catalog (a while on large
    # catalogs: said every PROGRESS_EVERY tables).
    register_models(admin, models, read_only=options.read_only,
                    on_progress=_progress_line("registered", len(models), log))
    app.extensions["hyper_admin_serve"] = {"engine": engine, "models": models, "account": account}
    return app


def register_models(admin, models: t.Mapping[str, type], *, read_only: bool = False,
                    on_progress: t.Callable[[int], None] | None = None) -> None:
    """Each model with the defaults, at a slug made from its table's name, the rows of other
    tables that point at it listed on its rows' pages (``inlines``); every one read-only with
    ``read_only``; a table's comment as its description. ``on_progress(n)`` hears of each
    registration."""
    taken = set(RESERVED_SLUGS)
    children = children_by_table(models)
    ordered = sorted(models.items(), key=lambda item: item[0].lower())
    for number, (table, model) in enumerate(ordered, 1):
        reflected = getattr(model, "__reflected__", None)
        admin.register(model, slug=slug_for(table, taken), read_only=True if read_only else None,
                       description=(reflected.comment or "") if reflected is not None else "",
                       inlines=children.get(table, []))
        if on_progress is not None:
            on_progress(number)


def children_by_table(models: t.Mapping[str, type]) -> dict[str, list[type]]:
    """The models whose single-column foreign keys point at each table, by its name."""
    found: dict[str, list[type]] = {}
    for model in models.values():
        reflected = getattr(model, "__reflected__", None)
        for column in reflected.columns if reflected is not None else ():
            if column.references and column.references[0] in models:
                targets = found.setdefault(column.references[0], [])
                if model not in targets:
                    targets.append(model)
    return found


def _progress_line(done_what: str, total: int, log: t.TextIO) -> t.Callable[[int], None]:
    """A progress line every PROGRESS_EVERY of ``total`` tables, when there are more."""
    def progress(done: int) -> None:
        if total > PROGRESS_EVERY and (done % PROGRESS_EVERY == 0 or done == total):
            print(f"hyper-admin serve: {done_what} {done} of {total} tables and views",
                  file=log, flush=True)

    return progress


def database_name(url: str) -> str:
    """What the admin's title calls the database: the SQLite file's name, PostgreSQL's
    database name."""
    if "://" in url and url.split("://", 1)[0].lower().startswith("postgres"):
        try:
            from psycopg.conninfo import conninfo_to_dict

            rest = url.split("://", 1)[1]
            info = conninfo_to_dict(rest if "=" in rest.split("?")[0] and "@" not in rest
                                    else "postgresql://" + rest)
            return str(info.get("dbname") or "PostgreSQL")
        except Exception:  # noqa: BLE001 - only a title
            return "PostgreSQL"
    return os.path.basename(url.split("://", 1)[-1].split("?")[0]) or "SQLite"


# ---------------------------------------------------------------------------------------------
# The command


def main(argv: t.Sequence[str], *, out: t.TextIO = sys.stdout, log: t.TextIO = sys.stderr) -> int:
    options = parse_args(argv)
    password = os.environ.get("HYPER_ADMIN_PASSWORD") or ""
    generated = not password
    if generated:
        password = secrets.token_urlsafe(12)
    secret_key = os.environ.get("SECRET_KEY") or secrets.token_hex(32)
    try:
        app = create_app(options, password=password, secret_key=secret_key, log=log)
        server = _server(app, options)
    except ServeError as exc:
        print(f"hyper-admin serve: {exc}", file=log)
        return 2
    models = app.extensions["hyper_admin_serve"]["models"]
    shown_host = DEFAULT_HOST if options.host in ("0.0.0.0", "::", "") else options.host
    if ":" in shown_host:
        shown_host = f"[{shown_host}]"
    lines = [
        f"hyper-admin serve: {len(models)} tables and views of {display_url(options.database_url)}"
        + (" (read-only)" if options.read_only else ""),
        f"  http://{shown_host}:{server.effective_port}/admin",
        f"  sign in as {ACCOUNT}, password "
        + ("from HYPER_ADMIN_PASSWORD" if not generated
           else f"{password}   (shown once; set HYPER_ADMIN_PASSWORD to choose it)"),
    ]
    print("\n".join(lines), file=out, flush=True)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
    return 0


def _server(app, options: ServeOptions):
    # waitress: a production WSGI server in pure Python (threads, no reloader or debugger), on
    # every platform hyper_admin runs on; see the dependency in pyproject.toml.
    from waitress import create_server

    try:
        # A reverse proxy on the same host terminates HTTPS: its X-Forwarded-* headers say
        # the scheme (the session cookie gets Secure) and the client's address (sign-in
        # throttling counts per client). Nobody else's are believed.
        return create_server(app, host=options.host, port=options.port, ident="hyper-admin",
                             trusted_proxy="127.0.0.1", clear_untrusted_proxy_headers=True,
                             trusted_proxy_headers={"x-forwarded-for", "x-forwarded-proto",
                                                    "x-forwarded-host"})
    except OSError as exc:
        raise ServeError(f"cannot listen on {options.host}:{options.port}: {exc}") from exc
