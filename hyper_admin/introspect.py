"""What hyper_admin knows about a sqlorm model, read once per model.

Issue 3 needs names only; the full column/relationship description grows here (issue 4).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache


def table_name(model: type) -> str:
    return model.__mapper__.table


def _words(class_name: str) -> str:
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", " ", class_name)
    return spaced[:1].upper() + spaced[1:].lower()


def pluralize(name: str) -> str:
    lower = name.lower()
    if lower.endswith(("s", "x", "z", "ch", "sh")):
        return name + "es"
    if lower.endswith("y") and lower[-2:-1] not in ("a", "e", "i", "o", "u"):
        return name[:-1] + "ies"
    return name + "s"


@dataclass(frozen=True, slots=True)
class ModelNames:
    class_name: str
    table: str
    verbose_name: str
    verbose_name_plural: str


@lru_cache(maxsize=None)
def model_names(model: type) -> ModelNames:
    verbose = _words(model.__name__)
    return ModelNames(model.__name__, table_name(model), verbose, pluralize(verbose))
