"""What a check found wrong in a configuration: raised when a ModelAdmin or a query view is
registered (checks.py lists the checks; docs/checks.md their ids). A leaf module, so that
options, query views and the checks can all raise them."""

from __future__ import annotations

import typing as t
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    id: str        # hyper_admin.E001...
    message: str


class ConfigurationError(TypeError):
    """A ModelAdmin whose options cannot work; ``id`` names the check (docs/checks.md)."""

    def __init__(self, problems: t.Sequence[Problem]):
        self.problems = list(problems)
        self.id = self.problems[0].id
        super().__init__("; ".join(f"{p.message} ({p.id})" for p in self.problems))


def fail(check_id: str, message: str) -> t.NoReturn:
    """Raise one problem found while a ModelAdmin or a query view is built."""
    raise ConfigurationError([Problem(check_id, message)])
