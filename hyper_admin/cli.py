"""The ``hyper-admin`` command."""

from __future__ import annotations

import sys
import typing as t

USAGE = """usage: hyper-admin COMMAND [options]

commands:
  serve     an admin over an existing database, no code: every table and view
            hyper-admin serve DATABASE_URL [--host H] [--port P] [--read-only]
            [--schema S] [--tables a,b] [--exclude x,y]   (hyper-admin serve --help)
  demo      serve the customer-support demo back office (hyper-admin demo --help)
  migrate   create hyper_admin's own tables in an app's database:
            hyper-admin migrate --app package.module:app   (or a create_app() factory)
  sql       print the statements creating hyper_admin's own tables (audit trail, saved
            views), for your migrations: hyper-admin sql [--dialect sqlite|postgresql]
  doctor    print the CREATE INDEX statements the app's admin lists need and the
            database lacks, with what each serves:
            hyper-admin doctor --app package.module:app [--check]
  templates-path
            print the folder of the admin's templates (for a Tailwind @source)
  version   print the version
"""


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(USAGE)
        return 0 if args else 2
    command, rest = args[0], args[1:]
    if command == "version":
        from . import __version__

        print(__version__)
        return 0
    if command == "templates-path":
        from .paths import TEMPLATES_DIR

        print(TEMPLATES_DIR)
        return 0
    if command == "migrate":
        return _migrate(rest)
    if command == "sql":
        return _sql(rest)
    if command == "doctor":
        return _doctor(rest)
    if command == "serve":
        from .serve import main as serve_main

        return serve_main(rest)
    if command == "demo":
        from .demo.__main__ import main as demo_main

        demo_main(rest)
        return 0
    print(f"hyper-admin: unknown command {command!r}\n\n{USAGE}", file=sys.stderr)
    return 2


def _sql(args: list[str]) -> int:
    """The DDL of hyper_admin's tables, per dialect, from the definitions the admin itself
    creates them with (storage.py): for applications that create every table in their own
    migrations (``Admin(create_tables=False)``)."""
    import argparse

    from . import __version__
    from .storage import DIALECTS, TABLES, ddl_script

    parser = argparse.ArgumentParser(
        prog="hyper-admin sql",
        description="Print the statements creating hyper_admin's own tables, to put in a "
                    "migration of your application.")
    parser.add_argument("--dialect", choices=sorted(DIALECTS),
                        help="only this database's statements (default: each, headed by a comment)")
    options = parser.parse_args(args)
    dialects = [options.dialect] if options.dialect else list(DIALECTS)
    scripts = []
    for dialect in dialects:
        scripts.append(f"-- hyper_admin {__version__}: its tables ({', '.join(TABLES)}) "
                       f"on {DIALECTS[dialect]}\n{ddl_script(dialect)}")
    print("\n\n".join(scripts))
    return 0


def _load_app(spec: str) -> t.Any:
    """The Flask app of ``module:attribute`` (an app, or a factory returning one)."""
    import importlib

    module_name, _, attribute = spec.partition(":")
    target = getattr(importlib.import_module(module_name), attribute or "app")
    return target() if callable(target) and not hasattr(target, "extensions") else target


def _mounted(command: str, spec: str) -> tuple[t.Any, dict]:
    """(the app of ``spec``, its Admins by name); the states are empty, and the command says
    so, when no Admin is mounted on it."""
    app = _load_app(spec)
    states = app.extensions.get("hyper_admin", {})
    if not states:
        print(f"hyper-admin {command}: no hyper_admin Admin is mounted on that app",
              file=sys.stderr)
    return app, states


def _migrate(args: list[str]) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="hyper-admin migrate")
    parser.add_argument("--app", required=True,
                        help="module:attribute of the Flask app, or of a factory returning it")
    options = parser.parse_args(args)
    app, states = _mounted("migrate", options.app)
    if not states:
        return 2
    from .storage import ensure_tables

    for name, state in states.items():
        with app.app_context():
            ensure_tables(state.engine)
        print(f"{name}: hyper_admin tables are ready")
    return 0


def _doctor(args: list[str]) -> int:
    """The index advisor (doctor.py): a SQL script on standard output; with ``--check``, exit
    status 1 when an index is missing (for a deployment's checks)."""
    import argparse

    parser = argparse.ArgumentParser(
        prog="hyper-admin doctor",
        description="Compare what the admin's lists ask of the database (search, order, "
                    "filters, date drill-down, foreign keys) with its indexes, and print the "
                    "CREATE INDEX statements that are missing, with what each serves.")
    parser.add_argument("--app", required=True,
                        help="module:attribute of the Flask app, or of a factory returning it")
    parser.add_argument("--check", action="store_true",
                        help="exit with status 1 when an index is missing")
    options = parser.parse_args(args)
    app, states = _mounted("doctor", options.app)
    if not states:
        return 2
    from .doctor import examine, script
    from .sql import dialect_of

    missing = 0
    for state in states.values():
        with app.app_context():
            dialect = dialect_of(state.engine)
            reports = examine(state.admin, state.engine, dialect)
            print(script(reports, state.engine, dialect))
        missing += sum(len(r.advice) for r in reports)
    return 1 if options.check and missing else 0


if __name__ == "__main__":
    sys.exit(main())
