"""The rows a user opened lately (their detail pages), for the palette's "Recently visited".

Kept in the session, so that they end with it (sign-out clears the session) and need no table;
the palette shows a visit only while the user may still view that row (model permission and
scope are checked again then)."""

from flask import session

from ..options import ModelAdmin
from ..pipeline import current_state

#: How many visits are kept (a few hundred bytes of the session cookie).
VISITS = 6
_KEY = "_hyper_admin_visited_"  # + the admin's name: one list per admin mounted


def remember_visit(model_admin: ModelAdmin, pk_text: str, label: str) -> None:
    """The row a detail page showed, newest first, once."""
    key = _KEY + current_state().name
    kept = [v for v in session.get(key, []) if v[:2] != [model_admin.slug, pk_text]]
    session[key] = [[model_admin.slug, pk_text, label[:80]], *kept][:VISITS]


def recent_visits() -> list[list[str]]:
    """``[slug, pk, label]`` of the rows opened lately, newest first."""
    return session.get(_KEY + current_state().name) or []
