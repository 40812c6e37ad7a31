"""Where the shipped templates and static files live.

In a wheel they sit inside the package (pyproject's force-include puts them there); in a source
checkout or an editable install they are the repository's top-level ``templates/`` and
``static/``.
"""

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _find(name: str) -> Path:
    inside = _PACKAGE / name
    return inside if inside.is_dir() else _PACKAGE.parent / name


TEMPLATES_DIR = _find("templates")
STATIC_DIR = _find("static")
