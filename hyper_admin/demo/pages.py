"""The demo's pages inside the admin (docs/extending.md, "Pages inside the admin"):

- ``/admin/accounts/<pk>/overview``: a customer at a glance (the account, its latest orders,
  its open tickets, what it paid), for support (and the superuser);
- ``/admin/orders/<pk>/refund``: refund an order (amount up to its total, a reason), for the
  superuser only: the order's status becomes "refunded" through the admin's write service,
  so the change and its amount and reason are in the order's History.
"""

from __future__ import annotations

import decimal

from flask import flash, redirect
from sqlorm import SQL
from wtforms import DecimalField, Form, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, ValidationError

from hyper_admin import audit
from hyper_admin.changes import Conflict
from hyper_admin.i18n import _, lazy_gettext as _l

from .dashboard import CLOSED
from .models import Account, Order, OrderStatus, TicketPriority, TicketStatus

RECENT_ORDERS = 10
OPEN_TICKETS = 20
REFUNDABLE = (OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.DELIVERED)
NOT_PAID = ["cancelled", "refunded"]  # as the dashboard's revenue: money that came in


def register_pages(admin, engine) -> None:
    """The customer overview and the refund page (after the models are registered)."""

    @admin.row_page(Account, "overview", title=_l("Customer overview"), roles={"support"},
                    icon="activity")
    def customer_overview(page):
        account_id = page.pk[0]
        with engine as tx:
            orders = tx.fetchall(SQL(
                "SELECT id, reference, status, total, currency, created_at FROM orders "
                "WHERE account_id =", SQL.Param(account_id),
                "ORDER BY created_at DESC, id DESC LIMIT", SQL.Param(RECENT_ORDERS)))
            tickets = tx.fetchall(SQL(
                "SELECT id, subject, status, priority, updated_at FROM tickets WHERE account_id =",
                SQL.Param(account_id), "AND status NOT IN (", SQL.Param(CLOSED[0]), ",",
                SQL.Param(CLOSED[1]), ") ORDER BY updated_at DESC, id DESC LIMIT",
                SQL.Param(OPEN_TICKETS)))
            revenue = tx.fetchall(SQL(
                "SELECT currency, sum(total) AS total, count(*) AS n FROM orders "
                "WHERE account_id =", SQL.Param(account_id), "AND status NOT IN (",
                SQL.Param(NOT_PAID[0]), ",", SQL.Param(NOT_PAID[1]),
                ") GROUP BY currency ORDER BY currency"))
        return page.render(
            "demo/customer_overview.html", account=page.obj, revenue=[dict(r) for r in revenue],
            orders=[dict(r, status=OrderStatus(r["status"]).label) for r in orders],
            tickets=[dict(r, status=TicketStatus(r["status"]).label,
                          priority=TicketPriority(r["priority"]).label) for r in tickets])

    @admin.row_page(Order, "refund", title=_l("Refund"), permission="refund",
                    icon="refresh-cw", methods=["GET", "POST"])
    def refund(page):
        order = page.obj
        form = RefundForm(page.form if page.method == "POST" else None)
        form.total = order.total
        form.amount.description = _("Up to %(total)s %(currency)s", total=order.total,
                                    currency=order.currency)
        if page.method == "POST":
            if str(order.status) == OrderStatus.REFUNDED:
                form.amount.errors = [_("This order is already refunded.")]
            elif str(order.status) not in REFUNDABLE:
                form.amount.errors = [_("Only a paid, shipped or delivered order can be refunded.")]
            elif form.validate():
                return _record_refund(page, form)
            return page.render("demo/refund.html", form=form, order=order, status=422)
        return page.render("demo/refund.html", form=form, order=order)


class RefundForm(Form):
    amount = DecimalField(_l("Amount"), places=2, validators=[
        InputRequired(), NumberRange(min=decimal.Decimal("0.01"))],
        render_kw={"inputmode": "decimal"})
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=500)],
                           render_kw={"class": "textarea w-full", "rows": 3})
    total: decimal.Decimal = decimal.Decimal(0)  # the order's: no refund above it

    def validate_amount(self, field):
        if field.data is not None and field.data > self.total:
            raise ValidationError(_("At most the order's total, %(total)s.", total=self.total))


def _record_refund(page, form):
    order = page.obj
    amount = form.amount.data.quantize(decimal.Decimal("0.01"))
    # The amount and the reason go with the status change into the order's audit entry.
    audit.note(_("Refund of %(amount)s %(currency)s: %(reason)s", amount=amount,
                 currency=order.currency, reason=form.reason.data.strip()))
    try:
        page.changes().update(page.pk, {"status": OrderStatus.REFUNDED}, expected=page.values)
    except Conflict:
        form.amount.errors = [_("The order changed meanwhile. Check it and try again.")]
        return page.render("demo/refund.html", form=form, order=order, status=409)
    flash(_("Refund of %(amount)s %(currency)s recorded for order %(reference)s.",
            amount=amount, currency=order.currency, reference=order.reference), "success")
    return redirect(page.detail_url, code=303)
