"""The demo's "Support health" dashboard, and the panels of an account's page.

What the demo's schema does not record is derived from what it does:

- a ticket's *closing* time is its last update once it is solved or closed (``updated_at``:
  nothing else changes a closed ticket in the demo);
- a ticket's *first response* is its first comment by an agent that the customer could see
  (``author_id`` set, not internal).
"""

from __future__ import annotations

import datetime as dt
import statistics
import typing as t

from sqlorm import SQL

from hyper_admin.i18n import lazy_gettext as _l
from hyper_admin.i18n import lazy_pgettext
from hyper_admin.panels import (Breakdown, FunctionPanel, Markdown, Metric, PanelContext, Series,
                                Table, TimeSeries)

from .models import Account, Order, StaffUser, Ticket, TicketComment

OPEN = ["open", "pending"]
CLOSED = ["solved", "closed"]
#: Money that came in: orders neither cancelled nor refunded. Amounts are in the order's
#: currency, so the dashboard's sums are of euro orders only (a sum across currencies means
#: nothing).
PAID_EUR = {"status__not_in": ["cancelled", "refunded"], "currency": "EUR"}
WEEK = dt.timedelta(days=7)
QUARTER = dt.timedelta(days=90)

# Titles, descriptions and this note are lazy strings of the catalog: the dashboard speaks the
# user's language. Panel ids come from the titles in English, when the panels are declared.
ON_CALL_NOTE = _l("""\
**Urgent tickets** get a first answer within the hour, **high** ones within four hours.

- [Open urgent tickets](/admin/tickets/?status=open&priority=urgent)
- [Tickets waiting on us](/admin/tickets/?status=open)
- [Orders paid but not shipped for 3 days](/admin/stuck_orders/)

Escalate delivery problems to logistics; refunds above 1,000 € need a second agent.
""")


def register_dashboard(admin) -> None:
    board = admin.dashboard
    board.title = _l("Support health")
    board.add(
        Metric(_l("Open tickets"), model=Ticket, where={"status__in": OPEN}, good=None,
               description=_l("Open or waiting on the customer"), refresh=60),
        Metric(_l("Tickets opened"), model=Ticket, timestamp="created_at", period=WEEK,
               good="down"),
    )
    board.panel(_l("Median first response"), kind="metric", model=(Ticket, TicketComment),
                format="duration", good="down", period=WEEK,
                description=_l("To the first agent reply"))(median_first_response)
    board.add(
        Metric(_l("Stuck orders"), model=Order, where=stuck_orders_where, good="down",
               description=_l("Paid, not shipped after %(days)s days", days=STUCK_DAYS),
               link="/admin/stuck_orders/", cache=300),
        Metric(_l("Revenue (EUR)"), model=Order, value=("sum", "total"), timestamp="created_at",
               period=WEEK, where=PAID_EUR, format="currency:EUR:0"),
        TimeSeries(_l("Tickets opened vs closed"), model=Ticket, bucket="day", days=30,
                   series=[Series(lazy_pgettext("tickets", "Opened"), timestamp="created_at",
                                  color="primary"),
                           Series(lazy_pgettext("tickets", "Closed"), timestamp="updated_at",
                                  where={"status__in": CLOSED}, color="success")]),
        Breakdown(_l("Open tickets by priority"), model=Ticket, by="priority",
                  where={"status__in": OPEN}, order=["urgent", "high", "normal", "low"],
                  colors={"urgent": "error", "high": "warning", "normal": "primary",
                          "low": "neutral"}),
        Breakdown(_l("Top accounts by open tickets"), model=Ticket, by="account_id",
                  where={"status__in": OPEN}, top=6),
        TimeSeries(_l("Orders per week"), model=Order, timestamp="created_at", bucket="week",
                   days=12 * 7),
        TimeSeries(_l("Revenue per week (EUR)"), model=Order, timestamp="created_at",
                   bucket="week", days=12 * 7, value=("sum", "total"), where=PAID_EUR,
                   chart="line", format="currency:EUR:0", color="accent"),
        Table(_l("Urgent tickets waiting"), model=Ticket,
              columns=["subject", "account_id", "status", "created_at"],
              where={"status__in": OPEN, "priority": "urgent"}, order_by="created_at", limit=6),
        Markdown(_l("On call"), ON_CALL_NOTE),
    )


STUCK_DAYS = 3


def stuck_orders_where(ctx: PanelContext) -> dict[str, t.Any]:
    """The rows of the "stuck_orders" query view, as a panel's ``where``."""
    return {"status": "paid", "shipped_at__isnull": True,
            "updated_at__lte": ctx.now - dt.timedelta(days=STUCK_DAYS)}


#: Orders paid (status "paid": the demo records no payment time, so the last update, which
#: made them paid) and not shipped for ``days`` days, with their account.
STUCK_ORDERS_SQL = {
    "postgresql": """
        SELECT o.id AS order_id, o.reference, o.account_id, a.name AS account_name, a.region,
               o.total, o.currency, o.updated_at AS paid_at,
               CAST(floor(EXTRACT(EPOCH FROM (now() AT TIME ZONE 'UTC') - o.updated_at) / 86400)
                    AS integer) AS age_days
        FROM orders o JOIN accounts a ON a.id = o.account_id
        WHERE o.status = 'paid' AND o.shipped_at IS NULL
          AND o.updated_at <= (now() AT TIME ZONE 'UTC') - make_interval(days => :days)""",
    "sqlite": """
        SELECT o.id AS order_id, o.reference, o.account_id, a.name AS account_name, a.region,
               o.total, o.currency, o.updated_at AS paid_at,
               CAST(julianday('now') - julianday(o.updated_at) AS INTEGER) AS age_days
        FROM orders o JOIN accounts a ON a.id = o.account_id
        WHERE o.status = 'paid' AND o.shipped_at IS NULL
          AND o.updated_at <= datetime('now', '-' || :days || ' days')""",
}


def register_stuck_orders(admin, dialect: str, **options: t.Any):
    """The query view "stuck_orders": orders paid but not shipped after 3 days (``?days=``
    from 1 to 90), oldest first, linked to the order and its account."""
    import decimal
    from typing import Annotated

    from hyper_admin.introspect import Hint
    from hyper_admin import QueryParam

    settings = dict(
        columns={
            "order_id": Annotated[int, Hint(label=_l("Order"))],
            "reference": Annotated[str, Hint(label=_l("Reference"))],
            "account_id": Annotated[int, Hint(label=_l("Account"))],
            "account_name": Annotated[str, Hint(label=_l("Account name"))],
            "region": Annotated[str, Hint(label=_l("Region"),
                                          choices=[("eu", "EU"), ("us", "US"), ("apac", "APAC"),
                                                   ("latam", "LATAM")])],
            "total": Annotated[decimal.Decimal, Hint(label=_l("Total"))],
            "currency": Annotated[str, Hint(label=_l("Currency"), choices=["EUR", "USD", "AUD"])],
            "paid_at": Annotated[dt.datetime, Hint(label=_l("Paid on"))],
            "age_days": Annotated[int, Hint(label=_l("Days waiting"))],
        },
        key="order_id", label_column="reference", links={"order_id": Order, "account_id": Account},
        params={"days": QueryParam(STUCK_DAYS, public=True, min=1, max=90)},
        list_display=["reference", "account_id", "region", "total", "currency", "paid_at", "age_days"],
        search_fields=["reference", "account_name"],
        list_filter=["region", "currency", "paid_at", "total"],
        sortable_fields=["order_id"],
        ordering=["paid_at", "order_id"],
        verbose_name=_l("Stuck order"), verbose_name_plural=_l("Stuck orders"),
        verbose_name_gender={"fr": "feminine"}, icon="clock",
        description=_l("Paid but not shipped after %(days)s days.", days=STUCK_DAYS),
        permissions={"view": {"support", "viewer"}, "export": {"support"}},
    )
    settings.update(options)
    return admin.register_query("stuck_orders", STUCK_ORDERS_SQL[dialect], **settings)


def median_first_response(ctx: PanelContext) -> dict[str, t.Any]:
    """The median time to a ticket's first agent reply, tickets opened in the last week
    against the week before (tickets not answered yet are left out)."""
    end = ctx.now
    middle = end - WEEK
    start = middle - WEEK
    query = SQL(
        "SELECT tickets.created_at AS opened, min(ticket_comments.created_at) AS answered "
        "FROM tickets JOIN ticket_comments ON ticket_comments.ticket_id = tickets.id "
        "AND ticket_comments.author_id IS NOT NULL AND ticket_comments.is_internal =",
        SQL.Param(False, "internal"),
        "WHERE tickets.created_at >=", SQL.Param(ctx.timestamp(start), "since"),
        "AND tickets.created_at <", SQL.Param(ctx.timestamp(end), "until"),
    )
    scope = ctx.scope(Ticket)
    if scope is not None:
        query = SQL(query, "AND (", scope, ")")
    query = SQL(query, "GROUP BY tickets.id, tickets.created_at")
    current, previous = [], []
    for row in ctx.fetch(query):
        opened, answered = _when(row["opened"]), _when(row["answered"])
        seconds = (answered - opened).total_seconds()
        if seconds >= 0:
            (current if opened >= middle else previous).append(seconds)
    return {"value": statistics.median(current) if current else None,
            "previous": statistics.median(previous) if previous else None}


def _when(value: t.Any) -> dt.datetime:
    """SQLite hands timestamps back as text."""
    return value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))


def account_panels() -> list:
    """The panels of an account's page: each reads the account's own rows (the foreign key to
    accounts is found by itself)."""
    return [
        Metric(_l("Open tickets"), model=Ticket, where={"status__in": OPEN}, good=None),
        Metric(_l("Tickets, 90 days"), model=Ticket, timestamp="created_at", period=QUARTER,
               good="down"),
        Metric(_l("Orders, 90 days"), model=Order, timestamp="created_at", period=QUARTER),
        Metric(_l("Spent, 90 days"), model=Order, value=("sum", "total"), timestamp="created_at",
               period=QUARTER, where={"status__not_in": ["cancelled", "refunded"]},
               format="{:,.2f}", description=_l("In the account's currency")),
        TimeSeries(_l("Orders per week"), model=Order, timestamp="created_at", bucket="week",
                   days=26 * 7),
        Table(_l("Latest orders"), model=Order,
              columns=["reference", "status", "total", "created_at"],
              order_by="-created_at", limit=6),
        Table(_l("Cancelled and refunded"), model=Order,
              columns=["reference", "status", "total", "updated_at"],
              where={"status__in": ["cancelled", "refunded"]}, order_by="-updated_at", limit=5),
        Breakdown(_l("Tickets by status"), model=Ticket, by="status",
                  order=["open", "pending", "solved", "closed"],
                  colors={"open": "warning", "pending": "info", "solved": "success",
                          "closed": "neutral"}, width=2),
    ]


#: Comments a ticket's page shows at most (the latest ones); the list has them all.
CONVERSATION_LIMIT = 200


def ticket_panels() -> list:
    """The panels of a ticket's page: its conversation, with the reply box."""
    return [FunctionPanel(conversation, _l("Conversation"), template="demo/conversation.html",
                          model=TicketComment, cache=0, per_user=True, width=4)]


def conversation(ctx: PanelContext) -> dict[str, t.Any]:
    """A ticket's comments (within the user's scope on comments), oldest first and in full,
    each with its author's name (None: the customer wrote it) and time; and whether the user
    may reply. Computed on every request (``cache=0``): a reply must show at once."""
    from hyper_admin.i18n import format_timestamp

    query = SQL("SELECT id, author_id, body, is_internal, created_at FROM ticket_comments "
                "WHERE ticket_id =", SQL.Param(ctx.row, "ticket"))
    scope = ctx.scope(TicketComment)
    if scope is not None:
        query = SQL(query, "AND (", scope, ")")
    rows = ctx.fetch(SQL(query, f"ORDER BY created_at DESC, id DESC LIMIT {CONVERSATION_LIMIT + 1}"))
    earlier = len(rows) > CONVERSATION_LIMIT
    rows = rows[:CONVERSATION_LIMIT][::-1]
    authors = ctx.labels(StaffUser, [row["author_id"] for row in rows])
    comment_admin = ctx.model_admin(TicketComment)
    comments = []
    for row in rows:
        written = _when(row["created_at"])
        comments.append({"id": row["id"], "author": authors.get(row["author_id"]),
                         "body": row["body"], "internal": bool(row["is_internal"]),
                         "at": written.isoformat() + "Z", "when": format_timestamp(written, "UTC")})
    return {"ticket": ctx.row, "ticket_slug": ctx.model_admin(Ticket).slug,
            "comment_slug": comment_admin.slug, "comments": comments, "earlier": earlier,
            "may_reply": comment_admin.has_permission("add", ctx.user)}
