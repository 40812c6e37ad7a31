"""The support queue's custom list filters (hyper_admin.ListFilter): what no column of a ticket
says. Cutoff times are computed here, in Python, and sent as parameters: the same SQL runs on
SQLite and PostgreSQL, with no date arithmetic of either dialect."""

from __future__ import annotations

import datetime as dt
import typing as t

from sqlorm import SQL

from hyper_admin import ListFilter
from hyper_admin.i18n import lazy_gettext as _l

from .models import utcnow

#: How long a ticket of each priority may stay open or pending before it breaches its SLA.
SLA = {"urgent": dt.timedelta(hours=4), "high": dt.timedelta(hours=24),
       "normal": dt.timedelta(hours=72), "low": dt.timedelta(days=7)}
#: Statuses in which the customer waits for the support team.
WAITING = ("open", "pending")
#: How long a customer's message may stay unanswered.
REPLY_WITHIN = dt.timedelta(hours=24)


def _user_id(user: t.Any) -> int | None:
    try:
        return int(user.get_id())
    except (AttributeError, TypeError, ValueError):
        return None


class SlaBreached(ListFilter):
    """Open or pending tickets older than their priority allows (``SLA``)."""

    title = _l("SLA breached")
    parameter_name = "sla_breached"

    def now(self) -> dt.datetime:
        return utcnow()

    def choices(self, user):
        return [("yes", _l("Yes"))]

    def condition(self, value, user):
        now = self.now()
        late = SQL("tickets.status IN (", SQL.Param(WAITING[0]), ",", SQL.Param(WAITING[1]), ") AND (")
        for i, (priority, allowed) in enumerate(SLA.items()):
            late = late + SQL("OR" if i else "", "(tickets.priority =", SQL.Param(priority),
                              "AND tickets.created_at <", SQL.Param(now - allowed), ")")
        return late + SQL(")")


class WaitingOnUs(ListFilter):
    """Open or pending tickets where the customer has waited 24 hours for an answer: a
    message of theirs (or the ticket itself, when nobody answered yet) older than 24 hours
    with no public reply of an agent after it. "Assigned to me": those of the signed-in agent
    (a choice only a user with an id is offered)."""

    title = _l("Waiting on us for 24 h")
    parameter_name = "waiting_on_us"

    def now(self) -> dt.datetime:
        return utcnow()

    def choices(self, user):
        choices = [("yes", _l("Yes"))]
        if _user_id(user) is not None:
            choices.append(("mine", _l("Assigned to me")))
        return choices

    def condition(self, value, user):
        cutoff = self.now() - REPLY_WITHIN

        def replied(after: str) -> SQL:
            # A public message of an agent (author_id set) on the ticket, after ``after``.
            return SQL("EXISTS (SELECT 1 FROM ticket_comments r WHERE r.ticket_id = tickets.id "
                       "AND r.author_id IS NOT NULL AND r.is_internal =", SQL.Param(False),
                       after, ")")

        waiting = SQL(
            "tickets.status IN (", SQL.Param(WAITING[0]), ",", SQL.Param(WAITING[1]), ") AND (",
            "(tickets.created_at <", SQL.Param(cutoff), "AND NOT", replied(""), ")",
            "OR EXISTS (SELECT 1 FROM ticket_comments m WHERE m.ticket_id = tickets.id",
            "AND m.author_id IS NULL AND m.is_internal =", SQL.Param(False),
            "AND m.created_at <", SQL.Param(cutoff),
            "AND NOT", replied("AND r.created_at >= m.created_at"), "))")
        if value == "mine":
            waiting = waiting + SQL("AND tickets.assignee_id =", SQL.Param(_user_id(user)))
        return waiting
