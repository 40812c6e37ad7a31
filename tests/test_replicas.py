"""Read replicas (docs/replicas.md) on a real PostgreSQL primary and streaming standby of the
tests' own (tests/pg_cluster.py): PostgreSQL only by nature, a SQLite "replica" being refused.

Which server served a request is told by the servers themselves: the scans of the ``orders``
table each one counts (``pg_stat_user_tables``), read before and after the request with the
application's connections closed, so that every backend has written its statistics."""

import logging
import time

import pytest
from flask import Flask, Response

from apps import as_user, csrf_from, form_data
from crud_app import OrderAdmin, create_app, staff
from demo_db import open_engine, seed_from_scratch
from hyper_admin import Admin
from hyper_admin.demo.models import Order
from hyper_admin.panels import Metric
from hyper_admin.problems import ConfigurationError
from hyper_admin.replicas import describe, lsn_value, replica_engine, with_connect_timeout
from pg_cluster import replicated_cluster, table_reads

#: The session key of the user's last write (views/common.py: _mark_key).
MARK = "_hyper_admin_wrote.hyper_admin"


@pytest.fixture(scope="module")
def cluster():
    with replicated_cluster() as made:
        yield made


@pytest.fixture(scope="module")
def primary(cluster):
    engine = open_engine(cluster.primary_url)
    seed_from_scratch(engine, rows=300)
    with engine as tx:
        tx.execute("ANALYZE")
    cluster.wait_for_replay()
    yield engine
    engine.disconnect_all()


class Site:
    def __init__(self, cluster, primary, app, admin):
        self.cluster, self.primary, self.app, self.admin = cluster, primary, app, admin
        self.state = app.extensions["hyper_admin"]["hyper_admin"]
        self.users = staff(primary)

    def client(self, username: str):
        return as_user(self.app, self.users[username])

    def close_connections(self) -> None:
        self.primary.disconnect_all()
        for engine in self.state.replicas.engines():
            engine.disconnect_all()

    def scans(self, standby: bool = True) -> tuple[int, int | None]:
        self.close_connections()
        return (table_reads(self.cluster.primary, "orders"),
                table_reads(self.cluster.standby, "orders") if standby else None)

    def served(self, call, standby: bool = True):
        """``call()``'s response, read to its end (an export streams its rows), and the scans
        of orders it made on (the primary, the standby)."""
        before = self.scans(standby)
        result = call()
        result.get_data()
        after = self.scans(standby)
        return result, (after[0] - before[0], after[1] - before[1] if standby else None)


@pytest.fixture
def site(cluster, primary):
    """``site(**settings)``: the CRUD test admin on the primary, reading from the standby."""
    made: list[Site] = []

    def build(**settings) -> Site:
        options = dict(read_urls=[cluster.standby_url], replica_max_lag=3600.0, replica_wait=0.1,
                       replica_retry_after=0.3)
        options.update(settings)
        app, admin = create_app(primary, **options)
        made.append(Site(cluster, primary, app, admin))
        return made[-1]

    yield build
    for one in made:
        one.close_connections()
    if not cluster.standby.is_running():  # a test that failed with it stopped
        cluster.start_standby()
    cluster.resume_replay()
    cluster.wait_for_replay()


def order_to_edit(primary) -> tuple[int, str, str]:
    with primary as tx:
        row = tx.fetchone("SELECT id, reference, status FROM orders WHERE status <> 'cancelled' "
                          "ORDER BY id LIMIT 1")
    return row["id"], row["reference"], row["status"]


def cancelled_list(reference: str) -> str:
    return f"/admin/orders/?status=cancelled&q={reference}"


def lists_order(page, pk: int) -> bool:
    """Whether the list page has the order's row (its link to the order's page)."""
    return f'href="/admin/orders/{pk}/"' in page.get_data(as_text=True)


def test_lists_counts_facets_dates_exports_panels_and_lookups_read_the_replica(site):
    s = site()
    panel = s.admin.dashboard.add(Metric("Orders", model=Order))
    client = s.client("support")
    for url in ("/admin/orders/", "/admin/orders/?status=paid&sort=-total",
                "/admin/orders/count?count=exact", "/admin/orders/facets?field=status",
                "/admin/orders/dates", "/admin/orders/export?format=csv",
                "/admin/orders/lookup?q=ORD", f"/admin/-/panels/{panel.id}",
                "/admin/-/palette?q=ORD-00001"):
        response, (on_primary, on_standby) = s.served(lambda: client.get(url))
        assert response.status_code == 200, url
        assert on_standby > 0 and on_primary == 0, (url, on_primary, on_standby)


def test_edit_form_and_its_save_use_the_primary(site, primary):
    s = site()
    client = s.client("support")
    pk, _reference, _status = order_to_edit(primary)
    page, (on_primary, on_standby) = s.served(lambda: client.get(f"/admin/orders/{pk}/edit"))
    assert page.status_code == 200
    assert on_primary > 0 and on_standby == 0
    data = form_data(page.get_data(as_text=True))
    data["currency"] = "XTS"
    saved, (on_primary, on_standby) = s.served(lambda: client.post(f"/admin/orders/{pk}/edit",
                                                                   data=data))
    assert saved.status_code == 303
    assert on_primary > 0 and on_standby == 0
    with client.session_transaction() as session:
        assert session[MARK]  # the save's WAL position: the next reads wait for it


def test_read_your_writes_while_the_replica_has_not_replayed_the_edit(site, primary, cluster):
    s = site()
    editor, other = s.client("support"), s.client("admin")
    pk, reference, _status = order_to_edit(primary)
    data = form_data(editor.get(f"/admin/orders/{pk}/edit").get_data(as_text=True))
    data["status"] = "cancelled"
    with cluster.replay_paused():
        assert editor.post(f"/admin/orders/{pk}/edit", data=data).status_code == 303
        page, (on_primary, on_standby) = s.served(lambda: editor.get(cancelled_list(reference)))
        assert on_primary > 0 and on_standby == 0  # the editor's list: from the primary...
        assert lists_order(page, pk)  # ...with the change
        page, (on_primary, on_standby) = s.served(lambda: other.get(cancelled_list(reference)))
        assert on_standby > 0 and on_primary == 0  # someone else's: the replica, not there yet
        assert not lists_order(page, pk)
        with editor.session_transaction() as session:
            assert session[MARK]  # still waiting for the replica
    cluster.wait_for_replay()
    page, (on_primary, on_standby) = s.served(lambda: editor.get(cancelled_list(reference)))
    assert on_standby > 0 and on_primary == 0  # caught up: the editor reads the replica again
    assert lists_order(page, pk)
    with editor.session_transaction() as session:
        assert MARK not in session  # and the mark is gone


def test_counts_a_lagging_replica_made_after_a_write_are_not_kept(site, primary, cluster):
    """A write renews the generations of its tables with the primary's WAL position: a count
    another user's request then makes on a replica that has not replayed it is shown, not kept
    (kept, it would be served for count_cache_seconds after the replica caught up)."""
    s = site(count_cache_seconds=300.0)
    editor, other = s.client("support"), s.client("admin")
    facets = "/admin/orders/facets?field=status"
    pk, _reference, _status = order_to_edit(primary)
    data = form_data(editor.get(f"/admin/orders/{pk}/edit").get_data(as_text=True))
    data["status"] = "cancelled"
    with cluster.replay_paused():
        assert editor.post(f"/admin/orders/{pk}/edit", data=data).status_code == 303
        for _ in range(2):  # counted on the replica each time: the replica is behind the write
            page, (on_primary, on_standby) = s.served(lambda: other.get(facets))
            assert page.status_code == 200 and on_standby > 0 and on_primary == 0
    cluster.wait_for_replay()
    page, (_on_primary, on_standby) = s.served(lambda: other.get(facets))
    assert on_standby > 0  # caught up: counted once more, and kept
    page, (on_primary, on_standby) = s.served(lambda: other.get(facets))
    assert page.status_code == 200 and on_standby == 0 and on_primary == 0  # from the cache


def test_a_short_wait_lets_the_replica_catch_up_with_the_write(site, primary):
    s = site(replica_wait=5.0)
    editor = s.client("support")
    pk, reference, _status = order_to_edit(primary)
    data = form_data(editor.get(f"/admin/orders/{pk}/edit").get_data(as_text=True))
    data["status"] = "cancelled"
    assert editor.post(f"/admin/orders/{pk}/edit", data=data).status_code == 303
    # Replay runs: within the wait the replica replays the save and serves the editor.
    page, (on_primary, on_standby) = s.served(lambda: editor.get(cancelled_list(reference)))
    assert on_standby > 0 and on_primary == 0
    assert lists_order(page, pk)


def test_a_write_that_streams_its_response_is_waited_for_from_the_next_read(site):
    s = site()

    @s.admin.page("/stream-write", title="Stream", methods=("GET", "POST"))
    def stream_write(page):
        # Its work would run as the body is sent: after the session cookie went out.
        return Response((part for part in ("done",)), mimetype="text/plain")

    client = s.client("support")
    token = csrf_from(client.get("/admin/orders/").get_data(as_text=True))
    assert client.post("/admin/stream-write", data={"csrf_token": token}).status_code == 200
    with client.session_transaction() as session:
        assert session[MARK] == "pending"
    # The next read asks the primary where it stands, and reads it...
    _page, (on_primary, on_standby) = s.served(lambda: client.get("/admin/orders/"))
    assert on_primary > 0 and on_standby == 0
    with client.session_transaction() as session:
        assert session[MARK] not in (None, "pending")
    # ...and the one after reads the replica once it has replayed that far.
    s.cluster.wait_for_replay()
    _page, (on_primary, on_standby) = s.served(lambda: client.get("/admin/orders/"))
    assert on_standby > 0 and on_primary == 0
    with client.session_transaction() as session:
        assert MARK not in session


def test_a_lagging_replica_is_skipped_and_superusers_are_told(site, primary, cluster):
    s = site(replica_max_lag=0.3)
    admin, agent = s.client("admin"), s.client("support")
    cluster.wait_for_replay()
    time.sleep(0.4)
    # An idle primary: the last replayed commit is old, yet the replica has everything.
    page, (on_primary, on_standby) = s.served(lambda: admin.get("/admin/orders/"))
    assert on_standby > 0 and on_primary == 0
    assert "data-replica-lag" not in page.get_data(as_text=True)
    with cluster.replay_paused():
        cluster.primary.query("UPDATE orders SET currency = 'XTS' WHERE id = "
                              "(SELECT min(id) FROM orders)")
        time.sleep(0.4)  # past replica_max_lag since the last commit the replica replayed
        page, (on_primary, on_standby) = s.served(lambda: admin.get("/admin/orders/"))
        assert on_primary > 0 and on_standby == 0
        body = page.get_data(as_text=True)
        assert "data-replica-lag" in body and "this page was read from the primary" in body
        page, (on_primary, on_standby) = s.served(lambda: agent.get("/admin/orders/"))
        assert on_primary > 0 and on_standby == 0
        assert "data-replica-lag" not in page.get_data(as_text=True)  # staff only


def test_a_stopped_replica_is_skipped_with_a_log_line(site, cluster, caplog):
    s = site(replica_retry_after=0.5)
    client = s.client("support")
    cluster.stop_standby()
    with caplog.at_level(logging.WARNING, logger="hyper_admin.replicas"):
        for _ in range(2):
            page, (on_primary, _unknown) = s.served(lambda: client.get("/admin/orders/"),
                                                    standby=False)
            assert page.status_code == 200 and on_primary > 0
    lines = [r for r in caplog.records if r.name == "hyper_admin.replicas"]
    assert len(lines) == 1  # once, not per request
    assert "unreachable" in lines[0].getMessage() and str(cluster.standby.port) in lines[0].getMessage()
    cluster.start_standby()
    cluster.wait_for_replay()
    time.sleep(0.5)  # replica_retry_after: asked again
    page, (on_primary, on_standby) = s.served(lambda: client.get("/admin/orders/"))
    assert on_standby > 0 and on_primary == 0


def test_a_replica_that_stops_after_its_status_was_asked_leaves_the_read_to_the_primary(
        site, cluster, caplog):
    """Its status said it could serve (reused a moment: status_ttl), then it stopped: the read
    that failed on it is made again on the primary (one 200, never a 503), and the replica is
    skipped a while with one log line."""
    s = site(replica_retry_after=60.0)
    client = s.client("support")
    page, (_on_primary, on_standby) = s.served(lambda: client.get("/admin/orders/"))
    assert page.status_code == 200 and on_standby > 0
    s.state.replicas.status_ttl = 3600.0  # the status just asked is reused by the next read
    cluster.stop_standby()
    with caplog.at_level(logging.WARNING, logger="hyper_admin.replicas"):
        for url in ("/admin/orders/", "/admin/orders/facets?field=status"):
            page, (on_primary, _unknown) = s.served(lambda: client.get(url), standby=False)
            assert page.status_code == 200 and on_primary > 0, url
    lines = [r.getMessage() for r in caplog.records if r.name == "hyper_admin.replicas"]
    assert len(lines) == 1 and "failed a read" in lines[0], lines
    replica = s.state.replicas.replicas[0]
    assert replica.fresh is None and replica.down_until > time.monotonic() + 30


def test_a_model_that_opts_out_reads_the_primary(site):
    s = site()

    class PrimaryOrders(OrderAdmin):
        read_from_replica = False

    s.admin.register(Order, PrimaryOrders)
    client = s.client("support")
    for url in ("/admin/orders/", "/admin/orders/count?count=exact",
                "/admin/orders/facets?field=status", "/admin/orders/export?format=csv"):
        response, (on_primary, on_standby) = s.served(lambda: client.get(url))
        assert response.status_code == 200
        assert on_primary > 0 and on_standby == 0, url


def test_read_urls_from_the_environment_are_comma_separated(cluster, primary):
    app = Flask(__name__)
    app.config["HYPER_ADMIN_READ_DATABASE_URLS"] = f" {cluster.standby_url}, {cluster.standby_url}?sslmode=disable "
    app.config["HYPER_ADMIN_REPLICA_MAX_LAG"] = "12"
    Admin(app, engine=primary)
    state = app.extensions["hyper_admin"]["hyper_admin"]
    assert len(state.replicas.replicas) == 2 and state.replica_max_lag == 12.0
    assert {r.name for r in state.replicas.replicas} == {f"127.0.0.1:{cluster.standby.port}/postgres"}


def test_a_sqlite_replica_is_refused(tmp_path):
    app = Flask(__name__)
    primary = open_engine(f"sqlite://{tmp_path / 'main.db'}")
    with pytest.raises(ConfigurationError) as refused:
        Admin(app, engine=primary, read_urls=[f"sqlite://{tmp_path / 'copy.db'}"])
    assert refused.value.id == "hyper_admin.E042"
    assert "hyper_admin" not in app.extensions or not app.extensions["hyper_admin"]


def test_replicas_need_a_postgresql_primary(tmp_path, cluster):
    app = Flask(__name__)
    primary = open_engine(f"sqlite://{tmp_path / 'main.db'}")
    with pytest.raises(ConfigurationError) as refused:
        Admin(app, engine=primary, read_urls=[cluster.standby_url])
    assert refused.value.id == "hyper_admin.E042" and "primary" in str(refused.value)


def test_wal_positions_compare_as_numbers():
    assert lsn_value("0/3001FC8") < lsn_value("0/3002000") < lsn_value("1/0")
    assert lsn_value("16/B374D848") == (0x16 << 32) + 0xB374D848
    assert lsn_value(None) is None and lsn_value("") is None


def test_replica_urls_get_a_short_connect_timeout_unless_they_set_one():
    assert with_connect_timeout("postgresql://r/shop") == "postgresql://r/shop?connect_timeout=2"
    assert with_connect_timeout("postgresql://r/shop?sslmode=require") == \
        "postgresql://r/shop?sslmode=require&connect_timeout=2"
    assert with_connect_timeout("postgresql://r/shop?connect_timeout=9") == \
        "postgresql://r/shop?connect_timeout=9"
    engine = replica_engine("postgresql://reader:secret@replica-1:5433/shop")
    assert describe(engine) == "replica-1:5433/shop"  # never the password, in the log


def test_a_replicas_status_is_reused_a_moment_for_reads_that_wait_for_no_write(cluster, primary):
    """Asking the standby where it stands costs each read a round trip: for a user with no write
    to wait for, an answer younger than status_ttl (at most a tenth of max_lag) is reused."""
    from sqlorm.engine import Transaction

    from hyper_admin.replicas import ReplicaSet

    now = [100.0]
    standby = replica_engine(cluster.standby_url)
    replicas = ReplicaSet([standby], max_lag=30.0, clock=lambda: now[0], status_ttl=0.5)
    asked: list[str] = []

    def count(sender, stmt=None, **kw):
        if "pg_last_wal_replay_lsn" in str(stmt):
            asked.append(str(stmt))

    Transaction.before_execute.connect(count, weak=False)
    try:
        assert replicas.choose(primary).replica is not None and len(asked) == 1
        now[0] += 0.3
        assert replicas.choose(primary).replica is not None and len(asked) == 1  # reused
        position = cluster.primary_lsn()
        assert replicas.choose(primary, after=position) is not None and len(asked) == 2
        now[0] += 0.6
        assert replicas.choose(primary).replica is not None and len(asked) == 3  # asked again
        assert ReplicaSet([standby], max_lag=1.0).status_ttl == 0.1  # a tenth of the lag
    finally:
        Transaction.before_execute.disconnect(count)
        standby.disconnect_all()
