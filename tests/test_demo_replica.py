"""``make demo-replica`` (hyper_admin/demo/replica.py): the demo on a primary behind PgBouncer
and a streaming standby of its own; its lists read the standby (the standby's own statistics
say so), its writes go through PgBouncer to the primary and reach the standby."""

import pytest

from apps import as_user, form_data
from pg_cluster import require_pg_cluster, wait_until_idle
from pgbouncer import require_pgbouncer
from hyper_admin.demo.models import StaffUser
from hyper_admin.demo.replica import replica_setup


@pytest.fixture(scope="module")
def demo():
    require_pg_cluster()
    require_pgbouncer()
    with replica_setup(rows=60) as running:
        yield running


def _staff(app, name):
    with app.extensions["hyper_admin_demo"]["engine"]:
        return StaffUser.find_one(username=name)


def _standby_order_reads(app, cluster) -> int:
    """Scans of the orders table the standby counted (its connections closed first, so that
    their statistics are in)."""
    for state in app.extensions["hyper_admin"].values():
        for replica in state.replicas.engines():
            replica.disconnect_all()
    wait_until_idle(cluster.standby)
    return int(cluster.standby.scalar(
        "SELECT coalesce(sum(coalesce(seq_scan, 0) + coalesce(idx_scan, 0)), 0) "
        "FROM pg_stat_user_tables WHERE relname = 'orders'"))


def test_the_demo_reads_its_standby_and_writes_through_pgbouncer(demo):
    app, cluster, bouncer = demo
    viewer = as_user(app, _staff(app, "viewer"))
    before = _standby_order_reads(app, cluster)
    for url in ("/admin/orders/", "/admin/orders/count", "/admin/orders/?q=ORD-0000"):
        assert viewer.get(url).status_code == 200, url
    assert _standby_order_reads(app, cluster) > before
    # A write: the edit form and its POST through PgBouncer to the primary, then replayed.
    admin = as_user(app, _staff(app, "admin"))
    with app.extensions["hyper_admin_demo"]["engine"] as tx:
        ticket = tx.fetchscalar("SELECT min(id) AS v FROM tickets")
    data = form_data(admin.get(f"/admin/tickets/{ticket}/edit").get_data(as_text=True))
    data["subject"] = "Edited on the replica demo"
    saved = admin.post(f"/admin/tickets/{ticket}/edit", data=data)
    assert saved.status_code == 303, saved.get_data(as_text=True)[:400]
    cluster.wait_for_replay()
    assert cluster.standby.scalar("SELECT subject FROM tickets WHERE id = %s",
                                  (ticket,)) == "Edited on the replica demo"
    assert "Edited on the replica demo" in admin.get(f"/admin/tickets/{ticket}/").get_data(
        as_text=True)
    # The admin's transactions went through PgBouncer (its statistics), not around it.
    assert sum(int(row["total_xact_count"]) for row in bouncer.show("STATS")
               if row["database"] == "postgres") > 10
