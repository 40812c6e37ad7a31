#!/usr/bin/env python
"""Dashboard benchmark of hyper_admin (issue 8): the demo's dashboard against its raw SQL.

    ROWS=1000000 python bench/dashboard_bench.py [--db sqlite|postgresql|both] [--rounds N]

In one process through Flask's test client, like list_bench.py (whose seeding, cache folder,
driver connection and signed-in client it reuses). A browser fetches the page, then each panel
in a request of its own; here they are fetched one after the other, so "all panels" is the sum
a single worker spends on them:

- ``first``: GET /admin/ then the first panel's URL; ``all``: GET /admin/ then every panel's.
- ``cold``: the panel cache emptied before (each panel computes its data); ``warm``: served
  from the cache.
- ``raw``: the floor. The statements the panels ran (captured from sqlorm as they were sent),
  executed again with the bare driver on one open connection, rows fetched: per panel, the sum
  of its statements.

Ratios (medians over the rounds, the four measures interleaved per round):

- ``cold_all`` = cold all / sum of every panel's raw SQL, target 1.3;
- ``warm_all`` = warm all / a single raw query (the median panel's raw time), target 1.5;
- ``warm_first`` = warm first / the same single raw query, target 1.5;
- ``cold_first`` = cold first / the first panel's raw SQL (no target: the page's own cost is
  most of it when that query is cheap).

Exit status: 1 if a target line FAILs.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)

from list_bench import (CACHE_DIR, PG_URL, ROWS, driver_connection, drop_schema,  # noqa: E402
                        signed_in_client)

DEFAULT_ROUNDS = 10
TARGETS = {"cold_all": 1.3, "warm_all": 1.5, "warm_first": 1.5}


def capture_statements(client, urls: list[str]) -> dict[str, list[tuple[str, list]]]:
    """The SELECTs each panel URL sends (cache empty, so that it computes)."""
    from sqlorm.engine import Transaction

    captured: list[tuple[str, list]] = []

    def capture(sender, stmt=None, params=None, many=False, **kw):
        text = str(stmt)
        if not many and text.lstrip().upper().startswith(("SELECT", "WITH")) \
                and "FROM staff_users" not in text:
            captured.append((text, list(params or [])))

    out = {}
    Transaction.before_execute.connect(capture, weak=False)
    try:
        for url in urls:
            captured.clear()
            response = client.get(url, headers={"HX-Request": "true"})
            if response.status_code != 200:
                raise RuntimeError(f"GET {url} -> {response.status_code}")
            out[url] = list(captured)
    finally:
        Transaction.before_execute.disconnect(capture)
    return out


def timed_gets(client, urls: list[str]) -> tuple[float, float]:
    """(seconds to the first panel, seconds to all), page included."""
    started = time.perf_counter()
    for i, url in enumerate(urls):
        response = client.get(url, headers={"HX-Request": "true"} if i else {})
        response.get_data()
        if response.status_code != 200:
            raise RuntimeError(f"GET {url} -> {response.status_code}")
        if i == 1:
            first = time.perf_counter() - started
    return first, time.perf_counter() - started


def raw_times(conn, statements: dict[str, list[tuple[str, list]]]) -> dict[str, float]:
    out = {}
    for url, stmts in statements.items():
        started = time.perf_counter()
        for text, params in stmts:
            conn.execute(text, params).fetchall()
        out[url] = time.perf_counter() - started
    return out


def run(kind: str, rounds: int) -> int:
    from hyper_admin.cache import MemoryCache
    from hyper_admin.demo.app import create_app

    os.makedirs(CACHE_DIR, exist_ok=True)
    pg_schema = None
    if kind == "sqlite":
        url = target = os.path.join(CACHE_DIR, f"demo_{ROWS}.db")
    else:
        pg_schema = f"bench_{os.getpid()}"
        os.environ["DEMO_PG_SCHEMA"] = pg_schema
        url = target = PG_URL
    app = conn = None
    try:
        started = time.perf_counter()
        app = create_app(url, rows=ROWS)
        print(f"[{kind}] database ready in {time.perf_counter() - started:.1f}s", flush=True)
        conn = driver_connection(kind, target, pg_schema)
        client = signed_in_client(app)
        state = app.extensions["hyper_admin"]["hyper_admin"]
        panels = [p for p in state.admin.dashboard if p.deferred]
        panel_urls = [f"/admin/-/panels/{p.id}" for p in panels]

        def clear_cache():
            state.panel_cache = MemoryCache()

        clear_cache()
        statements = capture_statements(client, panel_urls)
        n_statements = sum(len(s) for s in statements.values())
        print(f"[{kind}] {len(panels)} panels, {n_statements} statements", flush=True)
        urls = ["/admin/", *panel_urls]
        for _ in range(2):  # warm up: templates, the database's page cache, the driver's
            clear_cache()
            timed_gets(client, urls)
            raw_times(conn, statements)
        gc.collect()
        gc.freeze()
        cold_first, cold_all, warm_first, warm_all, raw_sum, raw_first, raw_single = ([] for _ in range(7))
        per_panel: dict[str, list[float]] = {u: [] for u in panel_urls}
        for _ in range(rounds):
            clear_cache()
            first, whole = timed_gets(client, urls)
            cold_first.append(first)
            cold_all.append(whole)
            first, whole = timed_gets(client, urls)  # the cache is full now
            warm_first.append(first)
            warm_all.append(whole)
            raw = raw_times(conn, statements)
            for u, seconds in raw.items():
                per_panel[u].append(seconds)
            raw_sum.append(sum(raw.values()))
            raw_first.append(raw[panel_urls[0]])
            raw_single.append(statistics.median(raw.values()))

        med = lambda values: statistics.median(values) * 1000  # noqa: E731
        print(f"\n== {kind}: {ROWS:,} orders, {len(panels)} panels, {rounds} rounds, medians "
              f"({platform.python_implementation()} {platform.python_version()})")
        print(f"{'panel':<34} {'raw ms':>9}")
        for panel, u in zip(panels, panel_urls):
            print(f"{panel.id:<34} {med(per_panel[u]):>9.2f}")
        figures = {
            "cold_first": (med(cold_first), med(raw_first)),
            "cold_all": (med(cold_all), med(raw_sum)),
            "warm_first": (med(warm_first), med(raw_single)),
            "warm_all": (med(warm_all), med(raw_single)),
        }
        print(f"\n{'measure':<12} {'ms':>9} {'floor ms':>9}")
        for name, (ms, floor) in figures.items():
            print(f"{name:<12} {ms:>9.2f} {floor:>9.2f}")
        print()
        ok = True
        for name, (ms, floor) in figures.items():
            ratio = ms / floor
            target = TARGETS.get(name)
            if target is None:
                print(f"{kind}_{name} ratio={ratio:.2f} target=- info")
                continue
            passed = ratio <= target
            ok &= passed
            print(f"{kind}_{name} ratio={ratio:.2f} target={target} {'ok' if passed else 'FAIL'}")
        return 0 if ok else 1
    finally:
        if conn is not None:
            conn.close()
        if app is not None:
            app.extensions["hyper_admin_demo"]["engine"].disconnect_all()
        if pg_schema:
            drop_schema(kind, pg_schema)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--rounds", type=int, default=DEFAULT_ROUNDS)
    args = parser.parse_args(argv)
    if args.db == "both":
        status = 0
        for kind in ("sqlite", "postgresql"):  # one process each (flask-sqlorm's session stack)
            status = max(status, subprocess.call(
                [sys.executable, os.path.abspath(__file__), "--db", kind, "--rounds", str(args.rounds)]))
        return status
    return run(args.db, args.rounds)


if __name__ == "__main__":
    sys.exit(main())
