"""The demo database: schema, seed counts, referential integrity, sign-ins, determinism.

Runs on SQLite and PostgreSQL through conftest's ``engine`` fixture (a throwaway PostgreSQL schema
per test, dropped afterwards; skipped with the reason when PostgreSQL is unreachable, failing
under ``CI``).
"""

from __future__ import annotations

import datetime as dt
import decimal

import pytest
from werkzeug.security import check_password_hash

from hyper_admin.demo import schema
from hyper_admin.demo.app import sqlorm_uri
from hyper_admin.demo.models import Account, Order, OrderStatus, StaffUser
from hyper_admin.demo.seed import SIGN_INS, expected_counts, seed

ROWS = 500
NOW = dt.datetime(2026, 1, 15, 12, 0, 0)

# (child table, column, parent table, nullable)
FOREIGN_KEYS = [(t, c, p, rule == "SET NULL") for (t, c, p, rule) in schema.FOREIGN_KEYS]


def count(engine, table: str) -> int:
    with engine as tx:
        return int(tx.fetchscalar(f"SELECT count(*) FROM {table}"))


def seed_demo(engine) -> dict[str, int]:
    schema.create_schema(engine)
    return seed(engine, rows=ROWS, seed=42, now=NOW, log=None)


@pytest.fixture
def seeded(request, backend):
    """(engine, counts) of a database ``seed()`` just filled: the test's own, or for a test
    marked reads_only, one seeded once for the module (checked unchanged after each test)."""
    if request.node.get_closest_marker("reads_only"):
        shared = request.getfixturevalue("shared_demos").get(backend, ROWS, fill=seed_demo)
        with shared.engine() as engine:
            yield engine, shared.seeded
    else:
        engine = request.getfixturevalue("engine")
        yield engine, seed_demo(engine)


def test_schema_creates_and_drops(engine):
    assert schema.is_empty(engine)
    schema.create_schema(engine)
    assert all(schema.table_exists(engine, t) for t in schema.TABLE_NAMES)
    assert schema.is_empty(engine)
    schema.drop_schema(engine)
    assert not any(schema.table_exists(engine, t) for t in schema.TABLE_NAMES)


@pytest.mark.reads_only
def test_seed_gives_the_expected_counts(seeded):
    engine, counts = seeded
    for table, expected in expected_counts(ROWS).items():
        actual = count(engine, table)
        assert actual == counts[table], table
        if isinstance(expected, tuple):
            assert expected[0] <= actual <= expected[1], table
        else:
            assert actual == expected, table
    assert not schema.is_empty(engine)


@pytest.mark.reads_only
def test_no_orphan_rows(seeded):
    engine, _ = seeded
    with engine as tx:
        for table, column, parent, nullable in FOREIGN_KEYS:
            orphans = tx.fetchscalar(
                f"SELECT count(*) FROM {table} c LEFT JOIN {parent} p ON p.id = c.{column} "
                f"WHERE c.{column} IS NOT NULL AND p.id IS NULL"
            )
            assert orphans == 0, f"{table}.{column}"
            if not nullable:
                assert tx.fetchscalar(f"SELECT count(*) FROM {table} WHERE {column} IS NULL") == 0


def test_foreign_keys_are_enforced(seeded):
    engine, _ = seeded
    with pytest.raises(Exception):
        with engine as tx:
            tx.execute(
                "INSERT INTO orders (reference, account_id, status, total, currency) "
                "VALUES ('ORD-X', 999999999, 'paid', 1, 'EUR')"
            )


@pytest.mark.reads_only
def test_rows_are_consistent(seeded):
    engine, _ = seeded
    with engine as tx:
        # an order's total is the sum of its lines
        mismatched = tx.fetchscalar(
            "SELECT count(*) FROM (SELECT o.id FROM orders o JOIN order_lines l ON l.order_id = o.id"
            " GROUP BY o.id, o.total HAVING abs(o.total - sum(l.quantity * l.unit_price)) > 0.001) x"
        )
        assert mismatched == 0
        assert tx.fetchscalar("SELECT count(*) FROM orders WHERE updated_at < created_at") == 0
        assert tx.fetchscalar("SELECT count(*) FROM orders WHERE shipped_at < created_at") == 0
        assert tx.fetchscalar("SELECT count(*) FROM tickets WHERE updated_at < created_at") == 0
        assert tx.fetchscalar(
            "SELECT count(*) FROM orders WHERE shipped_at IS NOT NULL "
            "AND status NOT IN ('shipped', 'delivered', 'refunded')"
        ) == 0
        # most orders are delivered, few refunded
        delivered = tx.fetchscalar("SELECT count(*) FROM orders WHERE status = 'delivered'")
        refunded = tx.fetchscalar("SELECT count(*) FROM orders WHERE status = 'refunded'")
        assert delivered > ROWS // 2 and refunded < ROWS // 10


@pytest.mark.reads_only
def test_the_three_sign_ins_exist_with_their_roles(seeded):
    engine, _ = seeded
    assert set(SIGN_INS) == {"admin", "support", "viewer"}
    with engine:
        for username, (password, roles) in SIGN_INS.items():
            user = StaffUser.find_one(username=username)
            assert user is not None, username
            assert user.roles == roles == {username}
            assert user.is_active is True
            assert check_password_hash(user.password_hash, password)
            assert not check_password_hash(user.password_hash, password + "x")
            assert user.get_id() == str(user.id)
        # the other agents cannot sign in with any password
        agent = StaffUser.find_one(username="maria")
        assert agent.roles == {"support"} and not check_password_hash(agent.password_hash, "")
        assert StaffUser.find_one(username="former").is_active is False


def first_order(engine):
    with engine as tx:
        row = tx.fetchone(
            "SELECT reference, account_id, status, total, created_at FROM orders ORDER BY id LIMIT 1"
        )
        return {k: row[k] for k in row.keys()}


def test_seeding_is_deterministic(seeded):
    engine, _ = seeded
    before = first_order(engine)
    last_ticket = None
    with engine as tx:
        last_ticket = tx.fetchscalar("SELECT subject FROM tickets ORDER BY id DESC LIMIT 1")
    schema.drop_schema(engine)
    seed(engine, rows=ROWS, seed=42, now=NOW, log=None)
    assert first_order(engine) == before
    with engine as tx:
        assert tx.fetchscalar("SELECT subject FROM tickets ORDER BY id DESC LIMIT 1") == last_ticket

    schema.drop_schema(engine)
    seed(engine, rows=ROWS, seed=7, now=NOW, log=None)
    other = first_order(engine)
    assert other["reference"] == before["reference"] == "ORD-000001"
    assert (other["total"], other["account_id"]) != (before["total"], before["account_id"])


@pytest.mark.reads_only
def test_seed_refuses_tables_with_rows(seeded):
    engine, _ = seeded
    with pytest.raises(RuntimeError, match="empty"):
        seed(engine, rows=10, log=None)


def test_models_read_and_write_after_a_seed(seeded):
    """Identity sequences continue after the explicit ids; column types convert both ways."""
    engine, counts = seeded
    with engine:
        account = Account.create(name="Zeta Test Ltd", email="zeta@example.com", region="eu")
        assert account.id == counts["accounts"] + 1
        order = Order.get(1)
        assert isinstance(order.total, decimal.Decimal) and order.total > 0
        assert isinstance(order.created_at, dt.datetime)
        assert isinstance(order.status, OrderStatus)
        assert str(order) == "ORD-000001"
        assert order.account.id == order.account_id
        order.total = decimal.Decimal("12.30")
        order.status = OrderStatus.REFUNDED
        order.update()
    with engine:
        again = Order.get(1)
        assert again.total == decimal.Decimal("12.30") and again.status == "refunded"


@pytest.mark.parametrize(
    "url, expected",
    [
        ("/tmp/demo.db", "sqlite:///tmp/demo.db"),
        ("sqlite://instance/demo.db", "sqlite://instance/demo.db"),
        (
            "postgresql://postgres@127.0.0.1:5432/test",
            "postgresql://user=postgres dbname=test host=127.0.0.1 port=5432 "
            "options='-c search_path=demo'",
        ),
        (
            "postgres://u:007@h/db",  # digits stay a string (sqlorm casts query values to int)
            "postgresql://user=u password=007 dbname=db host=h options='-c search_path=demo'",
        ),
        (
            "postgresql://u:a%3Fb@h/db",  # a '?' can't stay in the part sqlorm splits at '?'
            "postgresql://user=u dbname=db host=h options='-c search_path=demo'?password=a%3Fb",
        ),
        (
            "postgresql://host=h dbname=db",
            "postgresql://dbname=db host=h options='-c search_path=demo'",
        ),
    ],
)
def test_sqlorm_uri(url, expected):
    assert sqlorm_uri(url, "demo") == expected


@pytest.mark.parametrize(
    "url, expected",
    [
        # ?pgbouncer= is psycopg's business (sqlorm_compat._connect_kwargs), not libpq's: it
        # stays in the query sqlorm passes on as keyword arguments, libpq's own go in.
        ("postgresql://u@h:6432/db?pgbouncer=true",
         "postgresql://user=u dbname=db host=h port=6432?pgbouncer=true"),
        ("postgresql://u@h/db?sslmode=require&pgbouncer=1",
         "postgresql://user=u dbname=db host=h sslmode=require?pgbouncer=1"),
        ("postgresql://host=h dbname=db?pgbouncer=true",
         "postgresql://dbname=db host=h?pgbouncer=true"),
    ],
)
def test_sqlorm_uri_keeps_the_pgbouncer_flag_for_psycopg(url, expected):
    assert sqlorm_uri(url) == expected


def test_the_pgbouncer_flag_turns_prepared_statements_off():
    from hyper_admin.sqlorm_compat import _connect_kwargs

    for flag in ("true", "1", 1, "yes", "on", "TRUE"):
        assert _connect_kwargs({"pgbouncer": flag, "connect_timeout": 3}) == {
            "prepare_threshold": None, "connect_timeout": 3}
    for flag in ("false", "0", 0, ""):
        assert _connect_kwargs({"pgbouncer": flag}) == {}
    assert _connect_kwargs({"sslmode": "require"}) == {"sslmode": "require"}


def test_sqlorm_uri_rejects_odd_schema_names():
    with pytest.raises(ValueError):
        sqlorm_uri("postgresql://h/db", "x; DROP TABLE y")


def test_demo_app_signs_in_the_seeded_users(tmp_path):
    from hyper_admin.demo.app import create_app

    app = create_app(str(tmp_path / "demo.db"), rows=50)
    admin = app.extensions["hyper_admin_demo"]["admin"]
    user = admin.authenticate("support", "support")
    assert user is not None and user.roles == {"support"}
    assert admin.authenticate("support", "wrong") is None
    assert admin.authenticate("nobody", "support") is None
    assert admin.authenticate("former", "") is None
    with app.test_client() as client:
        response = client.get("/admin/")
        assert response.status_code == 302 and "/admin/login" in response.headers["Location"]
    app.extensions["hyper_admin_demo"]["engine"].disconnect_all()
