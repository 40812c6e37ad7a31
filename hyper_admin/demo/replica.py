"""``make demo-replica`` (``python -m hyper_admin.demo.replica``): the demo as a back office on
a busy production database runs it (docs/replicas.md, docs/deployment.md): a PostgreSQL
primary and a streaming standby of its own (demo/cluster.py), the primary behind PgBouncer in
transaction pooling mode (``?pgbouncer=true``), the standby serving the admin's reads
(``HYPER_ADMIN_READ_DATABASE_URLS``). Everything lives in temporary folders and is stopped and
removed when the server stops (Ctrl-C).

PgBouncer passes no libpq ``options``, with which the demo otherwise chooses its schema: the
schema is the ``postgres`` role's ``search_path`` instead, set on the primary (the standby
replays it), as docs/deployment.md advises."""

from __future__ import annotations

import argparse
import contextlib
import typing as t

from .app import create_app, pg_schema_name, prepare_database
from .cluster import ReplicatedCluster, cluster_problem, pgbouncer_problem, running_pgbouncer
from .seed import DEFAULT_ROWS

#: PgBouncer's server connections per database: a handful serve the demo's users.
POOL_SIZE = 10


@contextlib.contextmanager
def replica_setup(rows: int = DEFAULT_ROWS) -> t.Iterator[tuple[t.Any, ReplicatedCluster, t.Any]]:
    """(the demo app, the cluster, the PgBouncer): seeded with ``rows`` orders, removed on exit."""
    problem = cluster_problem() or pgbouncer_problem()
    if problem:
        raise SystemExit(f"make demo-replica: {problem}")
    cluster = ReplicatedCluster()
    try:
        cluster.build()
        schema = pg_schema_name()  # a plain identifier (checked): no quoting needed
        cluster.primary.query(f"ALTER ROLE postgres SET search_path TO {schema}, public")
        with running_pgbouncer(pool_size=POOL_SIZE, server_port=cluster.primary.port,
                               ignore_options=True) as bouncer:
            app = create_app(bouncer.url("postgres", pgbouncer="true"),
                             config={"HYPER_ADMIN_READ_DATABASE_URLS": cluster.standby_url})
            engine = app.extensions["hyper_admin_demo"]["engine"]
            try:
                prepare_database(engine, rows=rows)
                cluster.wait_for_replay(timeout=120)
                yield app, cluster, bouncer
            finally:
                engine.disconnect_all()
                for state in app.extensions.get("hyper_admin", {}).values():
                    for replica in state.replicas.engines():
                        replica.disconnect_all()
    finally:
        cluster.destroy()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m hyper_admin.demo.replica",
        description="Serve the demo on a PostgreSQL primary behind PgBouncer and a streaming "
                    "standby for its reads, all of its own, removed when it stops.")
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS,
                        help=f"orders to seed (default {DEFAULT_ROWS:,})")
    parser.add_argument("--host", default="127.0.0.1", help="default 127.0.0.1")
    parser.add_argument("--port", type=int, default=5000, help="default 5000")
    args = parser.parse_args(argv)
    with replica_setup(args.rows) as (app, cluster, bouncer):
        print(
            "\n"
            f"  hyper_admin demo on a primary, a replica and PgBouncer: "
            f"http://{args.host}:{args.port}/admin\n"
            f"  primary:   127.0.0.1:{cluster.primary.port} (through PgBouncer at "
            f"127.0.0.1:{bouncer.port}, transaction pooling)\n"
            f"  replica:   127.0.0.1:{cluster.standby.port} (streaming; lists, counts, "
            "exports and dashboards read it)\n"
            f"  schema:    {pg_schema_name()}\n"
            "  sign in as admin / admin, support / support or viewer / viewer\n"
            "  Ctrl-C stops the three servers and removes their folders.\n")
        app.run(host=args.host, port=args.port)


if __name__ == "__main__":
    main()
