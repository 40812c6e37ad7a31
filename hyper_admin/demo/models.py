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
"""

import datetime as dt
import decimal
import enum
import typing as t

from flask_login import UserMixin
from flask_sqlorm import Model
from sqlorm import Column, PrimaryKey, Relationship, SQLType

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
    "ALL_MODELS",
]


# --- enums -------------------------------------------------------------------------------------
# StrEnum: members are str, so sqlite3 and psycopg bind them as their value, and str() is the value.


class Plan(enum.StrEnum):
    FREE = "free"
    PRO = "pro"
    ENTERPRISE = "enterprise"


class OrderStatus(enum.StrEnum):
    PENDING = "pending"
    PAID = "paid"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"


class TicketStatus(enum.StrEnum):
    OPEN = "open"
    PENDING = "pending"
    SOLVED = "solved"
    CLOSED = "closed"


class TicketPriority(enum.StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


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
    name: str = Column(type=varchar(200), nullable=False)
    email: str = Column(type=varchar(254), nullable=False)
    plan: Plan = Column(type=enum_type(Plan), nullable=False, default=Plan.FREE)
    region: str = Column(type=varchar(10), nullable=False, default="eu")
    is_active: bool = Column(type=Boolean, nullable=False, default=True)
    created_at: dt.datetime = Column(type=Timestamp, nullable=False, default=utcnow)
    notes: t.Optional[str] = Column(type=Text, nullable=True)

    def __str__(self):
        return self.name or f"Account #{self.id}"


class Contact(Model):
    """A person at a customer account."""

    __table__ = "contacts"

    id: PrimaryKey[int] = Column(type=BigInt, primary_key=True, nullable=False)
    account_id: int = Column(type=BigInt, nullable=False, references="accounts(id)")
    account: Account = Relationship(Account, "id", "account_id", single=True)
    name: str = Column(type=varchar(200), nullable=False)
    email: str = Column(type=varchar(254), nullable=False)
    phone: t.Optional[str] = Column(type=varchar(40), nullable=True)
    role: t.Optional[str] = Column(type=varchar(80), nullable=True)
    created_at: dt.datetime = Column(type=Timestamp, nullable=False, default=utcnow)

    def __str__(self):
        if self.name and self.email:
            return f"{self.name} <{self.email}>"
        return self.name or self.email or f"Contact #{self.id}"


class Product(Model):
    __table__ = "products"

    id: PrimaryKey[int] = Column(type=BigInt, primary_key=True, nullable=False)
    sku: str = Column(type=varchar(32), nullable=False, unique=True)
    name: str = Column(type=varchar(200), nullable=False)
    price: decimal.Decimal = Column(type=numeric(10, 2), nullable=False)
    is_active: bool = Column(type=Boolean, nullable=False, default=True)
    created_at: dt.datetime = Column(type=Timestamp, nullable=False, default=utcnow)

    def __str__(self):
        if self.sku and self.name:
            return f"{self.sku} · {self.name}"
        return self.name or self.sku or f"Product #{self.id}"


class Order(Model):
    __table__ = "orders"

    id: PrimaryKey[int] = Column(type=BigInt, primary_key=True, nullable=False)
    reference: str = Column(type=varchar(20), nullable=False, unique=True)
    account_id: int = Column(type=BigInt, nullable=False, references="accounts(id)")
    account: Account = Relationship(Account, "id", "account_id", single=True)
    status: OrderStatus = Column(
        type=enum_type(OrderStatus), nullable=False, default=OrderStatus.PENDING
    )
    total: decimal.Decimal = Column(type=numeric(12, 2), nullable=False)
    currency: str = Column(type=varchar(3), nullable=False, default="EUR")
    created_at: dt.datetime = Column(type=Timestamp, nullable=False, default=utcnow)
    updated_at: dt.datetime = Column(type=Timestamp, nullable=False, default=utcnow)
    shipped_at: t.Optional[dt.datetime] = Column(type=Timestamp, nullable=True)

    def __str__(self):
        return self.reference or f"Order #{self.id}"


class OrderLine(Model):
    __table__ = "order_lines"

    id: PrimaryKey[int] = Column(type=BigInt, primary_key=True, nullable=False)
    order_id: int = Column(type=BigInt, nullable=False, references="orders(id)")
    order: Order = Relationship(Order, "id", "order_id", single=True)
    product_id: int = Column(type=BigInt, nullable=False, references="products(id)")
    product: Product = Relationship(Product, "id", "product_id", single=True)
    quantity: int = Column(type=Integer, nullable=False, default=1)
    unit_price: decimal.Decimal = Column(type=numeric(10, 2), nullable=False)

    def __str__(self):
        return f"Line #{self.id}: {self.quantity} × product #{self.product_id}"


class StaffUser(Model, UserMixin):
    """A back-office user. Signs in to the admin; ``roles`` is what the admin's roles_loader reads."""

    __table__ = "staff_users"

    id: PrimaryKey[int] = Column(type=BigInt, primary_key=True, nullable=False)
    username: str = Column(type=varchar(150), nullable=False, unique=True)
    name: str = Column(type=varchar(200), nullable=False)
    email: str = Column(type=varchar(254), nullable=False)
    roles_csv: str = Column(type=varchar(200), nullable=False, default="")
    password_hash: str = Column(type=varchar(255), nullable=False, default="!")
    is_active: bool = Column(type=Boolean, nullable=False, default=True)

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
        return self.name or self.username or f"Staff user #{self.id}"


class Ticket(Model):
    __table__ = "tickets"

    id: PrimaryKey[int] = Column(type=BigInt, primary_key=True, nullable=False)
    account_id: int = Column(type=BigInt, nullable=False, references="accounts(id)")
    account: Account = Relationship(Account, "id", "account_id", single=True)
    order_id: t.Optional[int] = Column(type=BigInt, nullable=True, references="orders(id)")
    order: t.Optional[Order] = Relationship(Order, "id", "order_id", single=True)
    subject: str = Column(type=varchar(200), nullable=False)
    status: TicketStatus = Column(
        type=enum_type(TicketStatus), nullable=False, default=TicketStatus.OPEN
    )
    priority: TicketPriority = Column(
        type=enum_type(TicketPriority), nullable=False, default=TicketPriority.NORMAL
    )
    assignee_id: t.Optional[int] = Column(
        type=BigInt, nullable=True, references="staff_users(id)"
    )
    assignee: t.Optional[StaffUser] = Relationship(StaffUser, "id", "assignee_id", single=True)
    created_at: dt.datetime = Column(type=Timestamp, nullable=False, default=utcnow)
    updated_at: dt.datetime = Column(type=Timestamp, nullable=False, default=utcnow)

    def __str__(self):
        if self.id is None:
            return self.subject or "New ticket"
        return f"#{self.id} {self.subject}" if self.subject else f"Ticket #{self.id}"


class TicketComment(Model):
    __table__ = "ticket_comments"

    id: PrimaryKey[int] = Column(type=BigInt, primary_key=True, nullable=False)
    ticket_id: int = Column(type=BigInt, nullable=False, references="tickets(id)")
    ticket: Ticket = Relationship(Ticket, "id", "ticket_id", single=True)
    author_id: t.Optional[int] = Column(type=BigInt, nullable=True, references="staff_users(id)")
    author: t.Optional[StaffUser] = Relationship(StaffUser, "id", "author_id", single=True)
    body: str = Column(type=Text, nullable=False)
    is_internal: bool = Column(type=Boolean, nullable=False, default=False)
    created_at: dt.datetime = Column(type=Timestamp, nullable=False, default=utcnow)

    def __str__(self):
        body = " ".join((self.body or "").split())
        if len(body) > 60:
            body = body[:59] + "…"
        return f"Comment #{self.id} on ticket #{self.ticket_id}: {body}" if body else f"Comment #{self.id}"


ALL_MODELS = (Account, Contact, Product, Order, OrderLine, StaffUser, Ticket, TicketComment)
