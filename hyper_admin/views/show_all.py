""""Show all": a list of at most ``ModelAdmin.list_max_show_all`` rows on one page
(``?all=1``), its rows streamed in batches as they are read (query.select_all), and the
"Show all (N)" link of the list's pager once the count says the list is small enough."""

from __future__ import annotations

import typing as t
from dataclasses import dataclass

from markupsafe import Markup

from ..i18n import _, format_number
from ..options import ModelAdmin
from ..query import Page, keyset_possible, select_all
from .common import list_url
from .list_rows import rows_of

#: Rows read (and sent) per statement while a whole list is streamed.
BATCH = 500


@dataclass
class ShowAll:
    """What the list's pager says about Show all: ``on`` (this page is the whole list),
    ``url`` (the link, when the list is known to be small enough), ``paged_url`` (back to
    pages), ``refused`` (why ``all=1`` was not honoured)."""

    on: bool = False
    url: str | None = None
    count: str = ""
    paged_url: str | None = None
    refused: str | None = None


def cap_of(model_admin: ModelAdmin) -> int:
    return int(model_admin.list_max_show_all or 0)


def link(model_admin: ModelAdmin, listing: t.Any, total: int | None, kind: str) -> ShowAll | None:
    """The "Show all (N)" link for a list counted ``total`` (of ``kind``), or None: no count
    yet, an estimate, a list on one page, more rows than the cap, or Show all turned off."""
    cap = cap_of(model_admin)
    if (not cap or kind != "exact" or total is None or total > cap
            or total <= listing.params.per_page):
        return None
    query = listing.query_string("after", "before", "page", "count", all="1")
    return ShowAll(url=f"{list_url(model_admin)}?{query}", count=format_number(total))


def paged_url(model_admin: ModelAdmin, listing: t.Any) -> str:
    query = listing.query_string("after", "before", "page", "all")
    return f"{list_url(model_admin)}?{query}".rstrip("?")


def refusal(model_admin: ModelAdmin, listing: t.Any, engine: t.Any, dialect: t.Any
            ) -> tuple[int | None, str | None]:
    """(how many rows ``all=1`` shows, None) when the list may be shown whole, else (None,
    the message the paged list shows instead): Show all turned off, or more rows than the cap
    (counted up to the cap and no further)."""
    cap = cap_of(model_admin)
    if not cap:
        return None, _("Show all is turned off for this list: it is shown page by page.")
    total = listing.count(engine, dialect, cap=cap)
    if total.kind != "exact" or total.value is None or total.value > cap:
        return None, _("This list has more than %(count)s rows: it is shown page by page.",
                       count=format_number(cap))
    return total.value, None


def whole_list(model_admin: ModelAdmin, listing: t.Any, engine: t.Any, dialect: t.Any,
               columns: list, tokened: list, total: int, *, actions: list,
               can_delete: bool) -> tuple[Page, list, t.Iterator[Markup]]:
    """(the page, the first batch's rows, every batch's <tr> markup as it is read) of the
    whole list: the first batch is read now (the page needs to know whether rows came), the
    others while the response is sent."""
    batches = select_all(engine, dialect, listing.spec, listing.params, list(columns),
                         listing.joins, limit=cap_of(model_admin), batch=BATCH)
    first = next(batches, [])

    def rendered(rows: list) -> list:
        return rows_of(model_admin, listing, Page(rows=rows, has_next=False, has_prev=False,
                                                  next_cursor=None, prev_cursor=None,
                                                  keyset=False, page=1, total=None,
                                                  total_capped=False),
                       tokened, actions=actions, can_delete=can_delete)

    first_rows = rendered(first)

    def chunks() -> t.Iterator[Markup]:
        yield Markup("\n".join(row.html for row in first_rows))
        for rows in batches:
            yield Markup("\n" + "\n".join(row.html for row in rendered(rows)))

    page = Page(rows=first, has_next=False, has_prev=False, next_cursor=None, prev_cursor=None,
                keyset=keyset_possible(listing.params.sort), page=1, total=total,
                total_capped=False, total_kind="exact", offset=0)
    return page, first_rows, chunks()
