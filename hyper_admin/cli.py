"""The ``hyper-admin`` command."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hyper-admin", description="hyper_admin tools")
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo", help="serve the customer-support demo back office")
    demo.add_argument("--rows", type=int, default=2000, help="orders to seed (default 2000)")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=5000)
    demo.add_argument("--reseed", action="store_true", help="drop and seed again")
    demo.add_argument("--database-url", default=None,
                      help="sqlite://path or postgresql://... (default: $DATABASE_URL, else "
                           "instance/demo.db)")
    demo.add_argument("--seed-only", action="store_true", help="seed, then exit")

    commands.add_parser("version", help="print the version")

    args = parser.parse_args(argv)
    if args.command == "version":
        from . import __version__

        print(__version__)
        return 0
    if args.command == "demo":
        from .demo.app import run_demo

        run_demo(host=args.host, port=args.port, rows=args.rows, database_url=args.database_url,
                 reseed=args.reseed, serve=not args.seed_only)
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
