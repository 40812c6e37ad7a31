"""A PostgreSQL primary and a streaming standby of the tests' own (hyper_admin/demo/cluster.py) (Debian's PostgreSQL 15
binaries: ``initdb``, ``pg_ctl``, ``pg_basebackup -R``), in a temporary folder, on free
loopback ports, run as the ``postgres`` user when the tests run as root (PostgreSQL refuses
root). It never touches the cluster at 5432 nor any other the machine runs; both servers are
stopped (``-m immediate``: nothing of theirs needs to survive) and the folder removed at the
end.

    with replicated_cluster() as cluster:
        cluster.primary_url, cluster.standby_url
        cluster.wait_for_replay()           # the standby has replayed the primary's WAL so far
        with cluster.replay_paused():       # the standby lags from here on
            ...
        cluster.stop_standby(); cluster.start_standby()   # the standby down, then up again

Built for speed, not durability: fsync, synchronous commit and full-page writes off, small
shared buffers. Where the binaries are missing the tests that need it skip and say why
(``require_pg_cluster``); under ``CI`` they fail instead, as tests/pg.py's ``require_pg`` does.
"""

from __future__ import annotations

import contextlib
import importlib.util
import time

from hyper_admin.demo.cluster import ReplicatedCluster, Server, cluster_problem
from pg import skip_or_fail


def require_pg_cluster() -> None:
    """Skip (fail when CI is set) where a primary and a standby cannot be built."""
    skip_or_fail(cluster_problem() or (None if importlib.util.find_spec("psycopg")
                                       else "psycopg is not installed"), "the replica tests")


@contextlib.contextmanager
def replicated_cluster():
    """A running primary and standby, removed on exit (skips where they cannot be built)."""
    require_pg_cluster()
    cluster = ReplicatedCluster()
    try:
        cluster.build()
        yield cluster
    finally:
        cluster.destroy()


def wait_until_idle(server: Server, timeout: float = 10) -> None:
    """Until no client but this one is connected to ``server``: a backend writes its pending
    statistics when it exits, before it leaves ``pg_stat_activity`` (a backend that stays
    connected may hold them for up to 10 s after a busy second)."""
    deadline = time.monotonic() + timeout
    while server.scalar("SELECT count(*) FROM pg_stat_activity WHERE backend_type = "
                        "'client backend' AND pid <> pg_backend_pid()"):
        if time.monotonic() > deadline:
            raise TimeoutError(f"clients still connected to the {server.name}")
        time.sleep(0.01)


def table_reads(server: Server, table: str) -> int:
    """How many scans (sequential and by index) the server's statistics count on ``table``
    of the ``public`` schema so far: which server a request read, told by the server itself.
    Close the application's connections first (``engine.disconnect_all()``): this waits
    until their backends are gone, so that what they read is counted."""
    wait_until_idle(server)
    return int(server.scalar(
        "SELECT coalesce(sum(coalesce(seq_scan, 0) + coalesce(idx_scan, 0)), 0) "
        "FROM pg_stat_user_tables WHERE schemaname = 'public' AND relname = %s", (table,)))
