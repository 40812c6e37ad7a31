#!/usr/bin/env python
"""Shared counts (issue 21, item 4): a list's side requests served from the count cache
against the same requests counted by the database, measured in one run.

    ROWS=100000 python bench/count_cache_bench.py [--db sqlite|postgresql] [--rounds N]
                                                  [--cache-uri memory://|redis://...]

In one process through Flask's test client, like list_bench.py (whose seeding, cache folder
and signed-in client it reuses), signed in as the demo's ``admin``. The requests a list page
makes after its rows (htmx fragments):

- ``facets``: ``GET /admin/orders/facets?field=status`` (the filter panel's counts of a
  field: one GROUP BY over up to 10,001 rows per status), and the same for accounts' ``plan`` and,
  on tickets, ``status`` and ``priority``;
- ``count``: ``GET /admin/orders/count?status=paid`` (the list's count, capped);
- ``dates``: ``GET /admin/orders/dates`` (the date bar: the years holding orders).

Each is timed three ways, interleaved per round (a different one first each round):

- ``off``: ``count_cache_seconds`` 0, the database counts (the behaviour before the cache);
- ``miss``: the cache on, its entries made old first (as a write does): counted, then kept
  (what the first user after a write pays);
- ``hit``: the cache on and holding the entry (every other user within the TTL).

It prints the medians and the ratios ``hit / off`` and ``miss / off`` per request, and the
statements each way ran. Only ratios are reported, never absolute targets.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))  # the repository root: hyper_admin
sys.path.insert(0, HERE)

from list_bench import CACHE_DIR, PG_URL, drop_schema, signed_in_client  # noqa: E402

ROWS = int(os.environ.get("ROWS", "100000"))
DEFAULT_ROUNDS = 30
HX = {"HX-Request": "true"}
URLS = {
    "facets orders.status": "/admin/orders/facets?field=status",
    "facets accounts.plan": "/admin/accounts/facets?field=plan",
    "facets tickets.status": "/admin/tickets/facets?field=status",
    "facets tickets.priority": "/admin/tickets/facets?field=priority",
    "count orders?status=paid": "/admin/orders/count?status=paid",
    "dates orders": "/admin/orders/dates",
}


def timed_get(client, url: str) -> float:
    started = time.perf_counter()
    response = client.get(url, headers=HX)
    response.get_data()
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        raise RuntimeError(f"GET {url} -> {response.status_code}")
    return elapsed


def statements_of(client, url: str) -> int:
    """The SELECTs one GET runs (sqlorm's before_execute)."""
    from sqlorm.engine import Transaction

    seen = []

    def count(sender, **kw):
        seen.append(kw.get("stmt"))

    Transaction.before_execute.connect(count)
    try:
        timed_get(client, url)
    finally:
        Transaction.before_execute.disconnect(count)
    return len(seen)


def run(kind: str, rounds: int, cache_uri: str) -> int:
    from hyper_admin.demo.app import create_app
    from hyper_admin.shared_counts import bump

    os.makedirs(CACHE_DIR, exist_ok=True)
    pg_schema = None
    if kind == "sqlite":
        url = os.path.join(CACHE_DIR, f"demo_{ROWS}.db")
    else:
        pg_schema = f"bench_counts_{os.getpid()}"
        os.environ["DEMO_PG_SCHEMA"] = pg_schema
        url = PG_URL
    app = None
    try:
        started = time.perf_counter()
        app = create_app(url, rows=ROWS, config={"HYPER_ADMIN_CACHE_URI": cache_uri})
        print(f"[{kind}] database ready in {time.perf_counter() - started:.1f}s", flush=True)
        client = signed_in_client(app)
        state = app.extensions["hyper_admin"]["hyper_admin"]
        ttl = 30.0

        def off(url_: str) -> float:
            state.count_cache_seconds = None
            return timed_get(client, url_)

        tables = [ma.info.table for ma in state.model_admins()]

        def miss(url_: str) -> float:
            state.count_cache_seconds = ttl
            bump(state.panel_cache, tables)  # as a write would: every entry is old now
            return timed_get(client, url_)

        def hit(url_: str) -> float:
            state.count_cache_seconds = ttl
            timed_get(client, url_)  # make sure it is there
            return timed_get(client, url_)

        ways = {"off": off, "miss": miss, "hit": hit}
        statements = {}
        for name, url_ in URLS.items():  # warm up (templates, the page cache), check 200
            for way in ways.values():
                way(url_)
            state.count_cache_seconds = None
            statements[name] = [statements_of(client, url_)]
            state.count_cache_seconds = ttl
            bump(state.panel_cache, tables)
            statements[name] += [statements_of(client, url_), statements_of(client, url_)]
        gc.collect()
        gc.freeze()
        times: dict[tuple[str, str], list[float]] = {(n, w): [] for n in URLS for w in ways}
        order = list(ways)
        for r in range(rounds):
            for name, url_ in URLS.items():
                for i in range(len(order)):
                    way = order[(r + i) % len(order)]
                    times[(name, way)].append(ways[way](url_))

        med = lambda values: statistics.median(values) * 1000  # noqa: E731
        print(f"\n== {kind}: {ROWS:,} orders, cache {cache_uri}, {rounds} rounds, medians "
              f"({platform.python_implementation()} {platform.python_version()}, "
              f"{os.cpu_count()} CPUs)")
        print(f"{'request':<26}{'off ms':>9}{'miss ms':>9}{'hit ms':>9}{'hit/off':>9}"
              f"{'miss/off':>10}  statements off/miss/hit")
        for name in URLS:
            o, m, h = (med(times[(name, w)]) for w in ways)
            print(f"{name:<26}{o:>9.2f}{m:>9.2f}{h:>9.2f}{h / o:>9.3f}{m / o:>10.3f}  "
                  f"{'/'.join(map(str, statements[name]))}")
        facets = [n for n in URLS if n.startswith("facets")]
        o = sum(med(times[(n, "off")]) for n in facets)
        h = sum(med(times[(n, "hit")]) for n in facets)
        print(f"\n{kind}_facets_hit_vs_off ratio={h / o:.3f} (the four facet requests together)")
        return 0
    finally:
        if app is not None:
            app.extensions["hyper_admin_demo"]["engine"].disconnect_all()
        if pg_schema:
            drop_schema(kind, pg_schema)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--rounds", type=int, default=DEFAULT_ROUNDS)
    parser.add_argument("--cache-uri", default="memory://")
    args = parser.parse_args(argv)
    return run(args.db, args.rounds, args.cache_uri)


if __name__ == "__main__":
    sys.exit(main())
