"""The demo's models: a customer-support back office.

They subclass flask-sqlorm's ``Model`` (the class ``db.Model`` points to), so they exist before any
app or engine does. Tables are created by ``schema.py`` (real DDL per dialect), never by sqlorm's
``create_table``.

Declared the explicit way on purpose (see /work/shared/SQLORM_NOTES.md):

- every column is a ``Column(type=..., nullable=...)``: sqlorm drops ``Optional[...]`` (it would
  type the column ``"Optional"`` and keep it nullable) and maps ``Decimal`` and ``Enum`` to types
  with no conversion. The annotations still carry the Python type for
  ``typing.get_type_hints``;
- ``id: PrimaryKey[int]`` comes first (sqlorm's automatic ``id`` would be appended last);
- relationship targets are classes, not names: the model registry is process-wide and keyed by
  class name, so another ``Account`` model elsewhere in the process would otherwise win;
- no ``from __future__ import annotations``: sqlorm reads the raw annotations;
- SQLite hands back timestamps as ``str``, booleans as ``0/1`` and numerics as ``float``, and
  cannot bind ``Decimal``: the column types below convert both ways, and are harmless on
  PostgreSQL, where psycopg already returns the Python types.

Every word the admin shows for them is translatable, as an application's would be: field labels
by ``Annotated[..., Hint(label=_l(...))]``, the Enums' members by their ``label`` property (the
admin reads both when a page renders, in its language), and the rows' ``__str__`` through
``gettext``.
"""

import datetime as dt
import decimal
import enum
import typing as t
from typing import Annotated

from flask_login import UserMixin
from flask_sqlorm import Model
from sqlorm import Column, PrimaryKey, Relationship, SQLType

from hyper_admin.i18n import gettext as _
from hyper_admin.i18n import lazy_gettext as _l
from hyper_admin.i18n import lazy_pgettext
from hyper_admin.introspect import Hint

__all__ = [
    "Plan",
    "OrderStatus",
    "TicketStatus",
    "TicketPriority",
    "ROLES",
    "Account",
    "Contact",
    "Product",
    "Order",
    "OrderLine",
    "StaffUser",
    "Ticket",
    "TicketComment",
    "Tag",
    "TicketTag",
    "ALL_MODELS",
]


# --- enums -------------------------------------------------------------------------------------
# StrEnum: members are str, so sqlite3 and psycopg bind them as their value, and str() is the value.
# ``label`` is what the admin shows for a member (lists, filters, forms, history, panels): lazy,
# so each page says it in its language. A context per Enum: "Pending" is "En attente" for both
# an order and a ticket, but a paid order is "payée" and a closed ticket "fermé".


class Plan(enum.StrEnum):
    FREE = "free"
    PRO = "pro"
    ENTERPRISE = "enterprise"

    @property
    def label(self) -> str:
        return {"free": lazy_pgettext("plan", "Free"), "pro": lazy_pgettext("plan", "Pro"),
                "enterprise": lazy_pgettext("plan", "Enterprise")}[self.value]


class OrderStatus(enum.StrEnum):
    PENDING = "pending"
    PAID = "paid"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"

    @property
    def label(self) -> str:
        return {"pending": lazy_pgettext("order status", "Pending"),
                "paid": lazy_pgettext("order status", "Paid"),
                "shipped": lazy_pgettext("order status", "Shipped"),
                "delivered": lazy_pgettext("order status", "Delivered"),
                "cancelled": lazy_pgettext("order status", "Cancelled"),
                "refunded": lazy_pgettext("order status", "Refunded")}[self.value]


class TicketStatus(enum.StrEnum):
    OPEN = "open"
    PENDING = "pending"
    SOLVED = "solved"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return {"open": lazy_pgettext("ticket status", "Open"),
                "pending": lazy_pgettext("ticket status", "Pending"),
                "solved": lazy_pgettext("ticket status", "Solved"),
                "closed": lazy_pgettext("ticket status", "Closed")}[self.value]


class TicketPriority(enum.StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"

    @property
    def label(self) -> str:
        return {"low": lazy_pgettext("ticket priority", "Low"),
                "normal": lazy_pgettext("ticket priority", "Normal"),
                "high": lazy_pgettext("ticket priority", "High"),
                "urgent": lazy_pgettext("ticket priority", "Urgent")}[self.value]


ROLES = ("admin", "support", "viewer")


# --- column types ------------------------------------------------------------------------------


def _load_datetime(value):
    if isinstance(value, str):
        return dt.datetime.fromisoformat(value)
    return value


def _load_bool(value):
    return bool(value) if isinstance(value, int) else value


_CENT = decimal.Decimal("0.01")


def _load_decimal(value):
    if isinstance(value, decimal.Decimal):
        return value
    if isinstance(value, (int, float, str)):
        # float from SQLite: go through repr so 12.3 becomes 12.30, not 12.2999999...
        return decimal.Decimal(str(value)).quantize(_CENT)
    return value


def _dump_decimal(value):
    # sqlite3 cannot bind Decimal; a string is exact and PostgreSQL casts it to numeric
    return str(value) if isinstance(value, decimal.Decimal) else value


def varchar(length: int) -> SQLType:
    return SQLType(f"varchar({length})")


def numeric(precision: int, scale: int) -> SQLType:
    return SQLType(f"numeric({precision},{scale})", _load_decimal, _dump_decimal)


def enum_type(enum_class: type[enum.Enum], length: int = 20) -> SQLType:
    def load(value):
        try:
            return enum_class(value)
        except ValueError:
            return value

    def dump(value):
        return value.value if isinstance(value, enum.Enum) else value

    return SQLType(f"varchar({length})", load, dump)


Text = SQLType("text")
Integer = SQLType("integer")
BigInt = SQLType("bigint")
Boolean = SQLType("boolean", _load_bool)
Timestamp = SQLType("timestamp", _load_datetime)


def utcnow() -> dt.datetime:
    """Naive UTC, second precision: what the ``timestamp`` columns hold on both dialects."""
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0)


# --- models ------------------------------------------------------------------------------------


class Account(Model):
    """A customer: a company with a plan."""

    __table__ = "accounts"

    id: PrimaryKey[int] = Column(type=BigInt, primary_key=True, nullable=False)
    name: Annotated[str, Hint(label=_l("Name"))] = Column(type=varchar(200), nullable=False)
    email: Annotated[str, Hint(label=_l("Email"))] = Column(type=varchar(254), nullable=False)
    plan: Annotated[Plan, Hint(label=_l("Plan"))] = Column(
        type=enum_type(Plan), nullable=False, default=Plan.FREE
    )
    region: Annotated[str, Hint(label=_l("Region"))] = Column(
        type=varchar(10), nullable=False, default="eu"
    )
    is_active: Annotated[bool, Hint(label=_l("Active"))] = Column(
        type=Boolean, nullable=False, default=True
    )
    created_at: Annotated[dt.datetime, Hint(label=_l("Created at"))] = Column(
        type=Timestamp, nullable=False, default=utcnow
    )
    notes: Annotated[t.Optional[str], Hint(label=_l("Notes"))] = Column(type=Text, nullable=True)

    def __str__(self):
        return self.name or _("Account #%(id)s", id=self.id)


class Contact(Model):
    """A person at a customer account."""

    __table__ = "contacts"

    id: PrimaryKey[int] = Column(type=BigInt, primary_key=True, nullable=False)
    account_id: Annotated[int, Hint(label=_l("Account"))] = Column(
        type=BigInt, nullable=False, references="accounts(id)"
    )
    account: Account = Relationship(Account, "id", "account_id", single=True)
    name: Annotated[str, Hint(label=_l("Name"))] = Column(type=varchar(200), nullable=False)
    email: Annotated[str, Hint(label=_l("Email"))] = Column(type=varchar(254), nullable=False)
    phone: Annotated[t.Optional[str], Hint(label=_l("Phone"))] = Column(
        type=varchar(40), nullable=True
    )
    role: Annotated[t.Optional[str], Hint(label=_l("Job title"))] = Column(
        type=varchar(80), nullable=True
    )
    created_at: Annotated[dt.datetime, Hint(label=_l("Created at"))] = Column(
        type=Timestamp, nullable=False, default=utcnow
    )

    def __str__(self):
        if self.name and self.email:
            return f"{self.name} <{self.email}>"
        return self.name or self.email or _("Contact #%(id)s", id=self.id)


class Product(Model):
    __table__ = "products"

    id: PrimaryKey[int] = Column(type=BigInt, primary_key=True, nullable=False)
    sku: Annotated[str, Hint(label=_l("SKU"))] = Column(
        type=varchar(32), nullable=False, unique=True
    )
    name: Annotated[str, Hint(label=_l("Name"))] = Column(type=varchar(200), nullable=False)
    price: Annotated[decimal.Decimal, Hint(label=_l("Price"))] = Column(
        type=numeric(10, 2), nullable=False
    )
    is_active: Annotated[bool, Hint(label=_l("Active"))] = Column(
        type=Boolean, nullable=False, default=True
    )
    created_at: Annotated[dt.datetime, Hint(label=_l("Created at"))] = Column(
        type=Timestamp, nullable=False, default=utcnow
    )
    # A storage key (hyper_admin's file storage, docs/files.md), shown as a thumbnail.
    picture: Annotated[t.Optional[str], Hint(label=_l("Picture"), kind="image")] = Column(
        type=varchar(300), nullable=True
    )

    def __str__(self):
        if self.sku and self.name:
            return f"{self.sku} · {self.name}"
        return self.name or self.sku or _("Product #%(id)s", id=self.id)


class Order(Model):
    __table__ = "orders"

    id: PrimaryKey[int] = Column(type=BigInt, primary_key=True, nullable=False)
    reference: Annotated[str, Hint(label=_l("Reference"))] = Column(
        type=varchar(20), nullable=False, unique=True
    )
    account_id: Annotated[int, Hint(label=_l("Account"))] = Column(
        type=BigInt, nullable=False, references="accounts(id)"
    )
    account: Account = Relationship(Account, "id", "account_id", single=True)
    status: Annotated[OrderStatus, Hint(label=_l("Status"))] = Column(
        type=enum_type(OrderStatus), nullable=False, default=OrderStatus.PENDING
    )
    total: Annotated[decimal.Decimal, Hint(label=_l("Total"))] = Column(
        type=numeric(12, 2), nullable=False
    )
    currency: Annotated[str, Hint(label=_l("Currency"))] = Column(
        type=varchar(3), nullable=False, default="EUR"
    )
    created_at: Annotated[dt.datetime, Hint(label=_l("Created at"))] = Column(
        type=Timestamp, nullable=False, default=utcnow
    )
    updated_at: Annotated[dt.datetime, Hint(label=_l("Updated at"))] = Column(
        type=Timestamp, nullable=False, default=utcnow
    )
    shipped_at: Annotated[t.Optional[dt.datetime], Hint(label=_l("Shipped at"))] = Column(
        type=Timestamp, nullable=True
    )

    def __str__(self):
        return self.reference or _("Order #%(id)s", id=self.id)


class OrderLine(Model):
    __table__ = "order_lines"

    id: PrimaryKey[int] = Column(type=BigInt, primary_key=True, nullable=False)
    order_id: Annotated[int, Hint(label=_l("Order"))] = Column(
        type=BigInt, nullable=False, references="orders(id)"
    )
    order: Order = Relationship(Order, "id", "order_id", single=True)
    product_id: Annotated[int, Hint(label=_l("Product"))] = Column(
        type=BigInt, nullable=False, references="products(id)"
    )
    product: Product = Relationship(Product, "id", "product_id", single=True)
    quantity: Annotated[int, Hint(label=_l("Quantity"))] = Column(
        type=Integer, nullable=False, default=1
    )
    unit_price: Annotated[decimal.Decimal, Hint(label=_l("Unit price"))] = Column(
        type=numeric(10, 2), nullable=False
    )

    def __str__(self):
        return _("Line #%(id)s: %(quantity)s × product #%(product)s", id=self.id,
                 quantity=self.quantity, product=self.product_id)


class StaffUser(Model, UserMixin):
    """A back-office user. Signs in to the admin; ``roles`` is what the admin's roles_loader reads."""

    __table__ = "staff_users"

    id: PrimaryKey[int] = Column(type=BigInt, primary_key=True, nullable=False)
    username: Annotated[str, Hint(label=_l("Username"))] = Column(
        type=varchar(150), nullable=False, unique=True
    )
    name: Annotated[str, Hint(label=_l("Name"))] = Column(type=varchar(200), nullable=False)
    email: Annotated[str, Hint(label=_l("Email"))] = Column(type=varchar(254), nullable=False)
    roles_csv: Annotated[str, Hint(label=_l("Roles"))] = Column(
        type=varchar(200), nullable=False, default=""
    )
    password_hash: str = Column(type=varchar(255), nullable=False, default="!")
    is_active: Annotated[bool, Hint(label=_l("Active"))] = Column(
        type=Boolean, nullable=False, default=True
    )

    # UserMixin defines __eq__ (by get_id), which would leave the class unhashable.
    def __hash__(self):
        return hash((type(self), self.get_id()))

    def get_id(self):
        return str(self.id)

    @property
    def roles(self) -> set[str]:
        return {r.strip() for r in (self.roles_csv or "").split(",") if r.strip()}

    @roles.setter
    def roles(self, value):
        if isinstance(value, str):
            value = value.split(",")
        self.roles_csv = ",".join(sorted({str(r).strip() for r in value if str(r).strip()}))

    def __setattr__(self, name, value):
        # sqlorm's Model.__setattr__ bypasses properties (it writes __dict__ and marks the name
        # dirty, which would make sqlorm write a "roles" column).
        if name == "roles":
            object.__setattr__(self, name, value)
        else:
            super().__setattr__(name, value)

    def __str__(self):
        return self.name or self.username or _("Staff user #%(id)s", id=self.id)


class Ticket(Model):
    __table__ = "tickets"

    id: PrimaryKey[int] = Column(type=BigInt, primary_key=True, nullable=False)
    account_id: Annotated[int, Hint(label=_l("Account"))] = Column(
        type=BigInt, nullable=False, references="accounts(id)"
    )
    account: Account = Relationship(Account, "id", "account_id", single=True)
    order_id: Annotated[t.Optional[int], Hint(label=_l("Order"))] = Column(
        type=BigInt, nullable=True, references="orders(id)"
    )
    order: t.Optional[Order] = Relationship(Order, "id", "order_id", single=True)
    subject: Annotated[str, Hint(label=_l("Subject"))] = Column(type=varchar(200), nullable=False)
    status: Annotated[TicketStatus, Hint(label=_l("Status"))] = Column(
        type=enum_type(TicketStatus), nullable=False, default=TicketStatus.OPEN
    )
    priority: Annotated[TicketPriority, Hint(label=_l("Priority"))] = Column(
        type=enum_type(TicketPriority), nullable=False, default=TicketPriority.NORMAL
    )
    assignee_id: Annotated[t.Optional[int], Hint(label=_l("Assignee"))] = Column(
        type=BigInt, nullable=True, references="staff_users(id)"
    )
    assignee: t.Optional[StaffUser] = Relationship(StaffUser, "id", "assignee_id", single=True)
    created_at: Annotated[dt.datetime, Hint(label=_l("Created at"))] = Column(
        type=Timestamp, nullable=False, default=utcnow
    )
    updated_at: Annotated[dt.datetime, Hint(label=_l("Updated at"))] = Column(
        type=Timestamp, nullable=False, default=utcnow
    )
    # Files the customer sent: any file as a download, a screenshot also as a thumbnail.
    attachment: Annotated[t.Optional[str], Hint(label=_l("Attachment"), kind="file")] = Column(
        type=varchar(300), nullable=True
    )
    screenshot: Annotated[t.Optional[str], Hint(label=_l("Screenshot"), kind="image")] = Column(
        type=varchar(300), nullable=True
    )

    def __str__(self):
        if self.id is None:
            return self.subject or _("New ticket")
        return f"#{self.id} {self.subject}" if self.subject else _("Ticket #%(id)s", id=self.id)


class TicketComment(Model):
    __table__ = "ticket_comments"

    id: PrimaryKey[int] = Column(type=BigInt, primary_key=True, nullable=False)
    ticket_id: Annotated[int, Hint(label=_l("Ticket"))] = Column(
        type=BigInt, nullable=False, references="tickets(id)"
    )
    ticket: Ticket = Relationship(Ticket, "id", "ticket_id", single=True)
    author_id: Annotated[t.Optional[int], Hint(label=_l("Author"))] = Column(
        type=BigInt, nullable=True, references="staff_users(id)"
    )
    author: t.Optional[StaffUser] = Relationship(StaffUser, "id", "author_id", single=True)
    body: Annotated[str, Hint(label=_l("Message"))] = Column(type=Text, nullable=False)
    is_internal: Annotated[bool, Hint(label=_l("Internal note"))] = Column(
        type=Boolean, nullable=False, default=False
    )
    created_at: Annotated[dt.datetime, Hint(label=_l("Created at"))] = Column(
        type=Timestamp, nullable=False, default=utcnow
    )

    def __str__(self):
        body = " ".join((self.body or "").split())
        if len(body) > 60:
            body = body[:59] + "…"
        if not body:
            return _("Comment #%(id)s", id=self.id)
        return _("Comment #%(id)s on ticket #%(ticket)s: %(body)s", id=self.id,
                 ticket=self.ticket_id, body=body)


class Tag(Model):
    __table__ = "tags"

    id: PrimaryKey[int] = Column(type=BigInt, primary_key=True, nullable=False)
    name: Annotated[str, Hint(label=_l("Name"))] = Column(type=varchar(50), nullable=False,
                                                           unique=True)

    def __str__(self):
        return self.name or _("Tag #%(id)s", id=self.id)


class TicketTag(Model):
    """The join table of tickets and their tags (many-to-many: TicketAdmin.many_to_many)."""

    __table__ = "ticket_tags"

    ticket_id: PrimaryKey[int] = Column(type=BigInt, primary_key=True, nullable=False,
                                        references="tickets(id)")
    tag_id: PrimaryKey[int] = Column(type=BigInt, primary_key=True, nullable=False,
                                     references="tags(id)")


#: The models the demo's admin registers (TicketTag is the tickets' tags field, not a screen).
ALL_MODELS = (Account, Contact, Product, Order, OrderLine, StaffUser, Ticket, TicketComment, Tag)
