"""``hyper-admin doctor`` (docs/lists.md, "Indexes the admin needs"): for every registered
model, the indexes its list needs (index_advisor.py) that the database lacks, as a script of
``CREATE INDEX`` statements with what each serves; and the one a list's search lacks, for the
hint superusers see on a big table (views/listing.py)."""

from __future__ import annotations

import typing as t
from dataclasses import dataclass, field

from .changelist import column_or_path, list_spec
from .index_advisor import Advice, advise, trigram_extension_missing, wanted_indexes
from .options import ModelAdmin
from .sql import Dialect


class Nobody:
    """Whom the doctor reads the options as, outside any request: no roles, no attributes.
    A ``get_*`` or ``scope`` that needs a real user's attributes gets None for them."""

    roles: frozenset[str] = frozenset()
    is_authenticated = True
    is_active = True

    def __getattr__(self, name: str) -> t.Any:
        return None


@dataclass
class ModelReport:
    model_admin: ModelAdmin
    advice: list[Advice] = field(default_factory=list)
    problem: str | None = None


def model_advice(model_admin: ModelAdmin, user: t.Any, engine: t.Any, dialect: Dialect, *,
                 kinds: t.Container[str] | None = None, cached: bool = False) -> list[Advice]:
    """The indexes ``model_admin``'s list (as ``user`` sees it) lacks; ``kinds``: only these
    (search, order, filter, dates, foreign key)."""
    info = model_admin.info
    spec = list_spec(model_admin, user, per_page=int(model_admin.per_page or 50),
                     max_per_page=int(model_admin.per_page or 50), secret_key=None)
    date_column = None
    if model_admin.date_hierarchy:
        visible = {c.attribute: c for c in model_admin.visible_columns()}
        date_column = column_or_path(info, model_admin.date_hierarchy, visible)
    wanted = [w for w in wanted_indexes(spec, info, dialect, date_column)
              if kinds is None or w.kind in kinds]
    infos = {ma.info.table: ma.info for ma in model_admin.admin.registry.values()
             if not ma.is_query_view}
    return advise(wanted, engine, dialect, infos, cached=cached)


def search_advice(model_admin: ModelAdmin, user: t.Any, engine: t.Any,
                  dialect: Dialect) -> list[Advice]:
    """The trigram indexes a contains search of this list lacks (PostgreSQL; none on SQLite,
    where no index serves it)."""
    if not dialect.is_postgresql:
        return []
    return [a for a in model_advice(model_admin, user, engine, dialect, kinds=("search",),
                                    cached=True) if a.trigram]


def examine(admin: t.Any, engine: t.Any, dialect: Dialect) -> list[ModelReport]:
    """Every registered model's missing indexes (query views and views have none to have)."""
    reports = []
    for model_admin in admin.registry.values():
        if model_admin.is_query_view or model_admin.info.relation == "view":
            continue
        report = ModelReport(model_admin)
        try:
            report.advice = model_advice(model_admin, Nobody(), engine, dialect)
        except Exception as exc:  # noqa: BLE001 - one model's options must not stop the rest
            report.problem = f"{type(exc).__name__}: {exc}"
        reports.append(report)
    return reports


def script(reports: t.Sequence[ModelReport], engine: t.Any, dialect: Dialect) -> str:
    """The reports as SQL to read and run: a comment per model and per index."""
    lines = [f"-- hyper-admin doctor: indexes the admin's lists need ({dialect.name})"]
    advice = [a for r in reports for a in r.advice]
    if any(a.trigram for a in advice) and trigram_extension_missing(engine, dialect):
        lines.append("CREATE EXTENSION IF NOT EXISTS pg_trgm;")
    if dialect.is_postgresql and advice:
        lines.append("-- CONCURRENTLY: the table stays writable meanwhile; run each statement "
                     "on its own, outside a transaction.")
    seen: set[str] = set()
    for report in reports:
        label = f"{report.model_admin.slug} ({report.model_admin.info.table})"
        if report.problem:
            lines.append(f"\n-- {label}: its options could not be read ({report.problem})")
            continue
        fresh = [a for a in report.advice if a.statement not in seen]
        if not fresh:
            lines.append(f"\n-- {label}: nothing missing")
            continue
        lines.append(f"\n-- {label}: {len(fresh)} missing")
        for item in fresh:
            seen.add(item.statement)
            lines.append(f"-- {item.kind}: serves {item.serves}")
            lines.append(item.statement)
    return "\n".join(lines)
