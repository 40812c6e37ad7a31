#!/usr/bin/env python
"""A list read through a read replica against the same list read from the primary (issue 21):
one process, a primary and a streaming standby of its own (hyper_admin/demo/cluster.py), the
demo seeded on the primary, two demo apps on it (one with ``read_urls`` = the standby), their
requests interleaved, medians.

    ROWS=100000 python bench/replica_bench.py [--rounds N]

Cases: the orders' first page, a filtered page, the list's count and the status counts of the
filter panel, each from the primary and from the replica (the replica's answer includes the
status question the admin asks it on every request). Target: replica / primary ≤ 1 (within
the noise of the machine). Exit status: 1 if a target line FAILs by more than 10%.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)

from list_bench import Case, measure, median_ms, signed_in_client  # noqa: E402

ROWS = int(os.environ.get("ROWS", "100000"))
URLS = [
    ("first_page", "/admin/orders/", {}),
    ("filtered", "/admin/orders/?status=paid&sort=-created_at", {}),
    ("count", "/admin/orders/count?status=paid", {"HX-Request": "true"}),
    ("facets", "/admin/orders/facets?field=status", {"HX-Request": "true"}),
]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=20)
    options = parser.parse_args(argv)
    from hyper_admin.demo.app import create_app, prepare_database
    from hyper_admin.demo.cluster import ReplicatedCluster, cluster_problem

    problem = cluster_problem()
    if problem:
        print(f"replica_bench: {problem}")
        return 2
    cluster = ReplicatedCluster()
    apps = []
    try:
        cluster.build()
        started = time.perf_counter()
        # The count cache off: each request counts, on whichever server serves it.
        config = {"HYPER_ADMIN_COUNT_CACHE_SECONDS": 0}
        primary_app = create_app(cluster.primary_url, config=config)
        apps.append(primary_app)
        prepare_database(primary_app.extensions["hyper_admin_demo"]["engine"], rows=ROWS)
        cluster.wait_for_replay(timeout=300)
        # The demo's tables are in its schema: the replica's URL says so, as the primary's.
        from hyper_admin.demo.app import pg_schema_name

        standby = f"{cluster.standby_url}?options=-c%20search_path%3D{pg_schema_name()}"
        replica_app = create_app(cluster.primary_url, config={
            **config, "HYPER_ADMIN_READ_DATABASE_URLS": standby})
        apps.append(replica_app)
        print(f"{ROWS:,} orders seeded and replayed in {time.perf_counter() - started:.1f}s",
              flush=True)
        on_primary, on_replica = signed_in_client(primary_app), signed_in_client(replica_app)
        cases = []
        for name, url, headers in URLS:
            cases.append(Case(f"{name}_primary", on_primary, url, headers))
            cases.append(Case(f"{name}_replica", on_replica, url, headers))
        measure(cases, options.rounds)
        print(f"\n{'case':<22}{'median ms':>11}  url")
        for case in cases:
            print(f"{case.name:<22}{median_ms(case):>11.2f}  {case.url}")
        ok = True
        print()
        for name, _url, _headers in URLS:
            ratio = median_ms(next(c for c in cases if c.name == f"{name}_replica")) / median_ms(
                next(c for c in cases if c.name == f"{name}_primary"))
            within = ratio <= 1.10
            ok &= within
            print(f"{name}_replica_vs_primary ratio={ratio:.3f} target=1 "
                  f"{'ok' if ratio <= 1 else 'ok (within 10%)' if within else 'FAIL'}")
        return 0 if ok else 1
    finally:
        for app in apps:
            app.extensions["hyper_admin_demo"]["engine"].disconnect_all()
            for state in app.extensions.get("hyper_admin", {}).values():
                for engine in state.replicas.engines():
                    engine.disconnect_all()
        cluster.destroy()


if __name__ == "__main__":
    sys.exit(main())
