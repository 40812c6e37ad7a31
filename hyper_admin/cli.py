"""The ``hyper-admin`` command."""

from __future__ import annotations

import sys

USAGE = """usage: hyper-admin COMMAND [options]

commands:
  demo      serve the customer-support demo back office (hyper-admin demo --help)
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
    if command == "demo":
        from .demo.__main__ import main as demo_main

        demo_main(rest)
        return 0
    print(f"hyper-admin: unknown command {command!r}\n\n{USAGE}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
