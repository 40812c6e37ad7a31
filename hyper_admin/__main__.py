"""python -m hyper_admin: the hyper-admin command."""

import sys

from .cli import main

sys.exit(main())
