"""Unit tests of hyper_admin.introspect: no database.

No ``from __future__ import annotations`` in this module: it declares sqlorm models, and sqlorm
reads the raw annotations. Model class names start with ``OptI`` (the registry is process-wide).
"""

import datetime as dt
import decimal
import enum
import typing as t

import pytest
from sqlorm import Column, Model, PrimaryKey, Relationship, SQLType

from hyper_admin.demo.models import Account, Contact, Order, OrderLine, StaffUser, Ticket
from hyper_admin.introspect import (MISSING, SECRET_NAME, ColumnInfo, Hint, _references,
                                    model_info, model_names, pluralize, quote_identifier)


class OptIColor(enum.Enum):
    RED = "red"
    DARK_BLUE = "dark_blue"
    LOUD = "LOUD"


class OptINumber(enum.Enum):
    ONE = 1
    TWO = 2


class OptIKinds(Model):
    __table__ = "opt_ikinds"

    id: PrimaryKey[int]
    flag: bool
    n: int
    f: float
    d: decimal.Decimal
    ts: dt.datetime
    day: dt.date
    tm: dt.time
    color: OptIColor
    number: OptINumber
    data: dict
    items: list
    blob: bytes
    s: str
    maybe: t.Optional[str]
    maybe_int: t.Optional[int]
    weird: complex
    ann_min: t.Annotated[int, Hint(min=0, label="At least zero", help="Count of things")]
    api_key_count: t.Annotated[int, Hint(secret=False)]
    hidden_note: t.Annotated[t.Optional[str], Hint(secret=True)]
    picked: t.Annotated[str, Hint(choices=["a", ("b", "Bee")])]
    as_json: t.Annotated[str, Hint(kind="json")]
    short: t.Annotated[str, Hint(max_length=5)]
    code_vc = Column(type=SQLType("varchar(12)"))
    char_vc = Column(type=SQLType("character varying (40)"))
    fixed = Column(type=SQLType("CHAR(3)"))
    big = Column(type=SQLType("bigint"))
    stamp = Column(type=SQLType("timestamp with time zone"))
    money = Column(type=SQLType("numeric(10,2)"))
    real_num = Column(type=SQLType("double precision"))
    jsonb_col = Column(type=SQLType("jsonb"))
    raw = Column(type=SQLType("bytea"))
    uid = Column(type=SQLType("uuid"))
    strange = Column(type=SQLType("geometry"))
    required_optional: t.Optional[str] = Column(type=SQLType("text"), nullable=False)


class OptISecrets(Model):
    __table__ = "opt_isecrets"

    id: PrimaryKey[int]
    password: str
    password_reset_at: str
    pin_hash: str
    refresh_token: str
    token: str
    secret: str
    secret_answer: str
    api_key: str
    api_key_v2: str
    passage: str
    hash_count: int
    api_key_count: t.Annotated[int, Hint(secret=False)]


class OptIParent(Model):
    __table__ = "opt_iparents"

    id: PrimaryKey[int]
    title: str
    kids = Relationship("OptIChild", "parent_id", "id")


class OptIChild(Model):
    """A foreign key declared with references= and paired with its relationship."""

    __table__ = "opt_ichildren"

    id: PrimaryKey[int]
    parent_id: int = Column(type=SQLType("bigint"), references="opt_iparents(id)")
    parent: OptIParent = Relationship(OptIParent, "id", "parent_id", single=True)
    email: str


class OptIRelOnly(Model):
    """A many-to-one relationship without references=: the key is still a foreign key."""

    __table__ = "opt_irelonly"

    id: PrimaryKey[int]
    owner_id: t.Optional[int]
    owner: OptIParent = Relationship(OptIParent, "id", "owner_id", single=True)


class OptIRefOnly(Model):
    """references= (a Column object) without a relationship."""

    __table__ = "opt_irefonly"

    id: PrimaryKey[int]
    parent_ref: int = Column(references=OptIParent.__mapper__.columns["id"])
    lazy_name: str = Column(lazy=True)
    username: str


class OptIFwd(Model):
    """Annotations naming types that do not exist."""

    __table__ = "opt_ifwd"

    id: PrimaryKey[int]
    thing: "NoSuchThing"  # noqa: F821
    other: t.Optional["AlsoMissing"]  # noqa: F821
    name: str


class OptIDupId(Model):
    """``id: int`` without PrimaryKey: sqlorm adds a second, primary-key ``id`` column."""

    __table__ = "opt_idupid"

    id: int
    label: str


def col(info, attribute) -> ColumnInfo:
    column = info.column(attribute)
    assert column is not None, attribute
    return column


# --- kinds ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("attribute, kind", [
    ("id", "int"), ("flag", "bool"), ("n", "int"), ("f", "float"), ("d", "decimal"),
    ("ts", "datetime"), ("day", "date"), ("tm", "time"), ("color", "enum"), ("number", "enum"),
    ("data", "json"), ("items", "json"), ("blob", "bytes"), ("s", "text"), ("maybe", "text"),
    ("maybe_int", "int"), ("ann_min", "int"), ("as_json", "json"),
])
def test_kind_from_annotation(attribute, kind):
    assert col(model_info(OptIKinds), attribute).kind == kind


@pytest.mark.parametrize("attribute, kind", [
    ("code_vc", "text"), ("char_vc", "text"), ("fixed", "text"), ("big", "int"),
    ("stamp", "datetime"), ("money", "decimal"), ("real_num", "float"), ("jsonb_col", "json"),
    ("raw", "bytes"), ("uid", "text"), ("strange", "text"),
])
def test_kind_from_sql_type(attribute, kind):
    assert col(model_info(OptIKinds), attribute).kind == kind


def test_unknown_annotation_type_is_text_never_an_error():
    weird = col(model_info(OptIKinds), "weird")
    assert weird.kind == "text"


def test_unresolvable_forward_references_do_not_crash():
    info = model_info(OptIFwd)
    assert [c.attribute for c in info.columns] == ["id", "thing", "other", "name"]
    assert col(info, "thing").kind == "text"
    assert col(info, "other").kind == "text"
    name = col(info, "name")
    assert name.kind == "text" and name.nullable is False  # resolvable hints still apply


def test_demo_models_kinds():
    info = model_info(Order)
    assert col(info, "total").kind == "decimal"
    assert col(info, "status").kind == "enum"
    assert col(info, "created_at").kind == "datetime"
    assert col(info, "reference").max_length == 20
    assert col(info, "reference").unique is True
    assert col(info, "currency").default == "EUR"
    assert col(info, "shipped_at").has_default is False and col(info, "shipped_at").default is MISSING


# --- nullability, primary key, lengths, defaults --------------------------------------------------


def test_optional_is_nullable_and_plain_annotation_required():
    info = model_info(OptIKinds)
    assert col(info, "maybe").nullable is True
    assert col(info, "maybe_int").nullable is True
    assert col(info, "s").nullable is False
    assert col(info, "n").nullable is False
    assert col(info, "required_optional").nullable is False  # Column(nullable=False) wins
    assert col(model_info(Account), "notes").nullable is True
    assert col(model_info(Account), "name").nullable is False


def test_primary_key():
    info = model_info(OptIKinds)
    assert [c.attribute for c in info.primary_key] == ["id"]
    assert info.columns[0].primary_key and info.columns[0].nullable is False
    assert col(info, "n").primary_key is False
    assert info.pk_values({"id": 5, "n": 1}) == (5,)


def test_a_duplicated_id_column_keeps_the_primary_key():
    # sqlorm lists ``id`` twice (the annotated one, then its automatic primary key): the one
    # kept must be the primary key, or the model has no key at all.
    info = model_info(OptIDupId)
    assert [c.name for c in info.columns].count("id") == 1
    assert [c.name for c in info.primary_key] == ["id"]


def test_varchar_max_length():
    info = model_info(OptIKinds)
    assert col(info, "code_vc").max_length == 12
    assert col(info, "char_vc").max_length == 40
    assert col(info, "fixed").max_length == 3
    assert col(info, "short").max_length == 5  # from the Hint
    assert col(info, "s").max_length is None
    assert col(info, "money").max_length is None


# --- enums, choices, hints ---------------------------------------------------------------------


def test_enum_choices_and_labels():
    color = col(model_info(OptIKinds), "color")
    assert color.enum is OptIColor
    assert color.choices == (("red", "Red"), ("dark_blue", "Dark blue"), ("LOUD", "LOUD"))
    number = col(model_info(OptIKinds), "number")
    assert number.choices == ((1, "1"), (2, "2"))
    assert col(model_info(Order), "status").choices[0] == ("pending", "Pending")


def test_hint_choices():
    picked = col(model_info(OptIKinds), "picked")
    assert picked.choices == (("a", "a"), ("b", "Bee"))
    assert picked.enum is None


def test_hint_falsy_values_are_kept():
    ann = col(model_info(OptIKinds), "ann_min")
    assert ann.hint.min == 0
    assert ann.hint.label == "At least zero" and ann.label == "At least zero"
    assert ann.hint.help == "Count of things"
    unhidden = col(model_info(OptIKinds), "api_key_count")
    assert unhidden.hint.secret is False and unhidden.secret is False
    hidden = col(model_info(OptIKinds), "hidden_note")
    assert hidden.secret is True and hidden.nullable is True


def test_labels_of_columns():
    info = model_info(OptIChild)
    assert col(info, "parent_id").label == "Parent"
    assert col(info, "id").label == "ID"
    assert col(model_info(OptIKinds), "maybe_int").label == "Maybe int"


# --- secrets -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name, secret", [
    ("password", True), ("password_reset_at", True), ("pin_hash", True), ("refresh_token", True),
    ("token", True), ("secret", True), ("secret_answer", True), ("api_key", True),
    ("api_key_v2", True), ("passage", False), ("hash_count", False), ("id", False),
    ("api_key_count", False),  # un-hidden by Hint(secret=False)
])
def test_secret_name_patterns(name, secret):
    assert col(model_info(OptISecrets), name).secret is secret


def test_secret_pattern_is_case_insensitive():
    assert SECRET_NAME.match("Password") and SECRET_NAME.match("API_KEY") and SECRET_NAME.match("User_Hash")
    assert not SECRET_NAME.match("hashtag")


def test_demo_password_hash_is_secret():
    assert col(model_info(StaffUser), "password_hash").secret is True


# --- references and relationships --------------------------------------------------------------


@pytest.mark.parametrize("value, expected", [
    ("accounts(id)", ("accounts", "id")),
    (" accounts ( id ) ", ("accounts", "id")),
    ('"Accounts"("ID")', ("Accounts", "ID")),
    ("accounts", ("accounts", "id")),
    (None, None),
    (42, None),
])
def test_references_parsing(value, expected):
    assert _references(value) == expected


def test_references_from_a_column_object():
    column = OptIParent.__mapper__.columns["id"]
    assert _references(column) == ("opt_iparents", "id")
    ref = col(model_info(OptIRefOnly), "parent_ref")
    assert ref.references == ("opt_iparents", "id")
    assert ref.is_foreign_key and ref.target_model is None and ref.relation_attribute is None


def test_foreign_key_pairs_with_its_many_to_one_relationship():
    parent_id = col(model_info(OptIChild), "parent_id")
    assert parent_id.references == ("opt_iparents", "id")
    assert parent_id.target_model is OptIParent
    assert parent_id.relation_attribute == "parent"
    contact = col(model_info(Contact), "account_id")
    assert contact.target_model is Account and contact.relation_attribute == "account"
    assignee = col(model_info(Ticket), "assignee_id")
    assert assignee.target_model is StaffUser and assignee.nullable is True
    info = model_info(Ticket)
    assert {c.attribute for c in info.foreign_keys} == {"account_id", "order_id", "assignee_id"}
    assert "account" not in {c.attribute for c in info.columns}  # relationships are not columns


def test_relationship_without_references_still_makes_a_foreign_key():
    owner = col(model_info(OptIRelOnly), "owner_id")
    assert owner.target_model is OptIParent
    assert owner.references == ("opt_iparents", "id")
    assert owner.is_foreign_key and owner.nullable is True


def test_children_discovery():
    info = model_info(OptIParent)
    registry = [OptIParent, OptIChild, OptIRelOnly, OptIRefOnly, OptIKinds, Account]
    found = {(c.model, c.column.attribute): c.attribute for c in info.children(registry)}
    assert found == {
        (OptIChild, "parent_id"): "kids",      # the parent's one-to-many relationship
        (OptIRelOnly, "owner_id"): None,
        (OptIRefOnly, "parent_ref"): None,
    }
    # computed per call: a registry without children finds none
    assert info.children([OptIKinds]) == []
    order_children = {c.model for c in model_info(Order).children([OrderLine, Ticket, Account])}
    assert order_children == {OrderLine, Ticket}


# --- labels ------------------------------------------------------------------------------------


def test_label_column():
    assert model_info(Account).label_column.attribute == "name"
    assert model_info(OptIParent).label_column.attribute == "title"
    assert model_info(OptIChild).label_column.attribute == "email"
    # a lazy column is skipped (reading it costs a query and returns another row's value)
    assert model_info(OptIRefOnly).label_column.attribute == "username"
    assert model_info(OptIKinds).label_column is None


def test_model_names():
    names = model_names(OrderLine)
    assert (names.class_name, names.table) == ("OrderLine", "order_lines")
    assert names.verbose_name == "Order line" and names.verbose_name_plural == "Order lines"
    assert pluralize("Category") == "Categories"
    assert pluralize("Box") == "Boxes"
    assert pluralize("Day") == "Days"
    assert pluralize("Status") == "Statuses"


# --- coerce --------------------------------------------------------------------------------------


def test_coerce_sqlite_style_values():
    info = model_info(OptIKinds)
    assert col(info, "ts").coerce("2024-05-01 12:30:00") == dt.datetime(2024, 5, 1, 12, 30)
    assert col(info, "ts").coerce("2024-05-01T12:30:15.250000") == dt.datetime(2024, 5, 1, 12, 30, 15, 250000)
    assert col(info, "ts").coerce(dt.date(2024, 5, 1)) == dt.datetime(2024, 5, 1)
    assert col(info, "day").coerce("2024-05-01") == dt.date(2024, 5, 1)
    assert col(info, "day").coerce("2024-05-01 00:00:00") == dt.date(2024, 5, 1)
    assert col(info, "day").coerce(dt.datetime(2024, 5, 1, 9)) == dt.date(2024, 5, 1)
    assert col(info, "tm").coerce("12:30:15") == dt.time(12, 30, 15)
    assert col(info, "flag").coerce(1) is True
    assert col(info, "flag").coerce(0) is False
    assert col(info, "flag").coerce("false") is False
    assert col(info, "flag").coerce("t") is True
    assert col(info, "d").coerce(12.3) == decimal.Decimal("12.3")
    assert str(col(info, "d").coerce(12.3)) == "12.3"       # exact, not 12.2999999…
    assert str(col(info, "d").coerce("0.10")) == "0.10"
    assert col(info, "d").coerce(7) == decimal.Decimal(7)
    assert col(info, "data").coerce('{"a": [1, 2]}') == {"a": [1, 2]}
    assert col(info, "data").coerce({"a": 1}) == {"a": 1}
    assert col(info, "items").coerce("[1, 2]") == [1, 2]
    assert col(info, "n").coerce("42") == 42
    assert col(info, "f").coerce("1.5") == 1.5
    assert col(info, "color").coerce("dark_blue") is OptIColor.DARK_BLUE
    assert col(info, "number").coerce(2) is OptINumber.TWO


def test_coerce_leaves_none_and_bad_values_alone():
    info = model_info(OptIKinds)
    for attribute in ("ts", "day", "flag", "d", "data", "n", "color"):
        assert col(info, attribute).coerce(None) is None
    assert col(info, "ts").coerce("not a date") == "not a date"
    assert col(info, "d").coerce("abc") == "abc"
    assert col(info, "data").coerce("{broken") == "{broken"
    assert col(info, "color").coerce("purple") == "purple"
    assert col(info, "s").coerce(5) == 5
    assert col(info, "weird").coerce(1j) == 1j


# --- SQL text ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name, sql", [
    ("orders", "orders"),
    ("order_lines", "order_lines"),
    ("_x1", "_x1"),
    ("Order Lines", '"Order Lines"'),
    ('we"ird', '"we""ird"'),
    ("x; DROP TABLE y", '"x; DROP TABLE y"'),
    ("1abc", '"1abc"'),
    ("ü", '"ü"'),
])
def test_quote_identifier(name, sql):
    assert quote_identifier(name) == sql


def test_column_sql_is_table_dot_column():
    info = model_info(Order)
    assert col(info, "reference").sql == "orders.reference"
    assert info.table_sql == "orders"
