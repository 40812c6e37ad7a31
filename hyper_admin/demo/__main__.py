"""python -m hyper_admin.demo (also: hyper-admin demo) [--rows N] [--reseed] [--seed-only]
[--host H] [--port P] [--database-url URL]"""

from __future__ import annotations

import argparse

from .seed import DEFAULT_ROWS


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m hyper_admin.demo",
        description="Serve the hyper_admin demo: a support back office with seeded data.",
    )
    parser.add_argument(
        "--rows", type=int, default=DEFAULT_ROWS,
        help=f"orders to seed when the database is empty (default {DEFAULT_ROWS:,})",
    )
    parser.add_argument(
        "--reseed", action="store_true", help="drop the demo tables and seed them again"
    )
    parser.add_argument("--seed-only", action="store_true", help="seed if needed, then exit")
    parser.add_argument("--host", default="127.0.0.1", help="default 127.0.0.1")
    parser.add_argument("--port", type=int, default=5000, help="default 5000")
    parser.add_argument(
        "--database-url",
        default=None,
        help="default: $DATABASE_URL, else the SQLite file instance/demo.db "
        "(PostgreSQL: postgresql://user@host/dbname; tables go to schema $DEMO_PG_SCHEMA, "
        "default hyper_admin_demo)",
    )
    args = parser.parse_args(argv)
    if args.rows < 0:
        parser.error("--rows must be >= 0")

    from .app import run_demo

    run_demo(
        host=args.host, port=args.port, rows=args.rows, database_url=args.database_url,
        reseed=args.reseed, serve=not args.seed_only,
    )


if __name__ == "__main__":
    main()
