#!/usr/bin/env python
"""List benchmark of hyper_admin (issue 5): ratios against a bare floor, measured in one process.

    ROWS=1000000 python bench/list_bench.py [--db sqlite|postgresql|both] [--rounds N]
                                            [--profile N] [--explain]

Every case goes through Flask's test client in-process (no network) and the cases are timed
interleaved: each round GETs every case twice in a row, untimed then timed (starting at a
different case each round), and the median of each case's timed GETs is reported. Only ratios
are checked, never absolute times.

Cases:

- ``B0``: the floor. The 50 rows of the orders list's first page (reference, account name through
  a join, status, total, created_at) fetched with the driver (sqlite3 / psycopg, one connection
  kept open) and rendered by a bare Jinja table compiled once, in a bare Flask route.
- hyper_admin (the demo app, signed in as ``admin``): the orders list first page, page 1,000
  (reached by following ``rel="next"`` 999 times before timing), a filtered + sorted page, an
  exact and a prefix search, the edit page of an order, an htmx list swap and the full page of the
  same URL (for the bytes ratio).
- Flask-Admin (bench/flask_admin_app.py, same database, SQLAlchemy models mirroring the demo
  tables): first page, page 1,000, the status-filtered page and the edit page of an order.

Data: the demo seeder (``ROWS`` orders, 10,000 accounts from 1M rows on). SQLite files are cached
under /tmp/hyper_admin_bench/ and reused while they hold ``ROWS`` orders; PostgreSQL
(``BENCH_PG_URL``, default postgresql://postgres@127.0.0.1:5432/test) is seeded into a schema
``bench_<pid>`` that is dropped at the end. ``--db both`` runs each database in its own process
(two flask-sqlorm apps in one process share a session stack).

``--explain`` prints the query plan of the SQL hyper_admin runs for a few list URLs (captured with
sqlorm's ``Transaction.before_execute``); ``--profile N`` profiles N GETs of the first page with
cProfile and prints where the time goes. Exit status: 1 if a target line FAILs.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import html
import os
import platform
import pstats
import re
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))  # the repository root: hyper_admin
sys.path.insert(0, HERE)  # flask_admin_app
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests", "reliability"))  # harness

ROWS = int(os.environ.get("ROWS", "1000000"))
PG_URL = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
CACHE_DIR = os.environ.get("BENCH_CACHE_DIR", "/tmp/hyper_admin_bench")
DEFAULT_ROUNDS = 40
PAGE = 1000  # the deep page: reached by 999 "next" links
EDIT_ORDER_ID = 42

B0_SQL = (
    "SELECT o.id, o.reference, a.name AS account, o.status, o.total, o.created_at "
    "FROM orders o LEFT JOIN accounts a ON a.id = o.account_id "
    "ORDER BY o.id DESC LIMIT 50"
)
B0_TEMPLATE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Orders</title></head><body>
<table>
<thead><tr><th>Reference</th><th>Account</th><th>Status</th><th>Total</th><th>Created</th></tr></thead>
<tbody>
{%- for r in rows %}
<tr><td><a href="/orders/{{ r["id"] }}/edit">{{ r["reference"] }}</a></td><td>{{ r["account"] }}</td><td>{{ r["status"] }}</td><td>{{ r["total"] }}</td><td>{{ r["created_at"] }}</td></tr>
{%- endfor %}
</tbody></table></body></html>
"""

# Subscripts, not attributes: Jinja tries getattr() first and sqlite3.Row raises AttributeError,
# which alone costs ~1.5 ms on 250 cells.

HX = {"HX-Request": "true", "HX-Target": "list-results"}


@dataclass
class Case:
    name: str
    client: object
    url: str
    headers: dict = field(default_factory=dict)
    times: list = field(default_factory=list)
    size: int = 0

    def get(self):
        started = time.perf_counter()
        response = self.client.get(self.url, headers=self.headers)
        body = response.get_data()
        elapsed = time.perf_counter() - started
        if response.status_code != 200:
            raise RuntimeError(f"{self.name}: GET {self.url} -> {response.status_code}")
        self.size = len(body)
        return elapsed


# --- the apps ----------------------------------------------------------------------------------


def driver_connection(kind: str, target: str, pg_schema: str | None):
    """One connection of the bare driver (sqlite3, or psycopg in autocommit on the schema),
    rows as mappings: what the floors of the benches run their SQL on."""
    if kind == "sqlite":
        import sqlite3

        conn = sqlite3.connect(target, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        return conn
    import psycopg
    from psycopg.rows import dict_row

    return psycopg.connect(target, autocommit=True, row_factory=dict_row,
                           options=f"-c search_path={pg_schema}")


def b0_app(kind: str, target: str, pg_schema: str | None):
    """The floor: driver + a Jinja template compiled once, in a bare Flask route."""
    import jinja2
    from flask import Flask

    template = jinja2.Environment(autoescape=True).from_string(B0_TEMPLATE)
    conn = driver_connection(kind, target, pg_schema)

    def fetch():
        return conn.execute(B0_SQL).fetchall()

    app = Flask("b0")

    @app.get("/orders/")
    def orders():
        return template.render(rows=fetch())

    app.extensions["b0_conn"] = conn
    return app


def drop_schema(kind: str, pg_schema: str) -> None:
    """Drop a bench's PostgreSQL schema (tests/reliability/harness.py's, as load_bench's)."""
    from harness import drop_schema as drop

    drop(pg_schema, PG_URL)
    print(f"[{kind}] dropped schema {pg_schema}")


def signed_in_client(app):
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = "1"  # admin
    return client


_NEXT = re.compile(r'<a\s+href="([^"]+)"\s+rel="next"')


def next_url(body: str) -> str | None:
    match = _NEXT.search(body)
    return html.unescape(match.group(1)) if match else None


def follow_next(client, url: str, pages: int) -> str:
    """The URL of page ``pages`` reached from ``url`` by following rel=next (htmx fragments:
    the same links, fewer bytes)."""
    for page in range(1, pages):
        response = client.get(url, headers=HX)
        if response.status_code != 200:
            raise RuntimeError(f"GET {url} -> {response.status_code}")
        found = next_url(response.get_data(as_text=True))
        if not found:
            raise RuntimeError(f"no rel=next link on page {page} ({url})")
        url = found
    return url


# --- measuring ---------------------------------------------------------------------------------


def measure(cases: list[Case], rounds: int) -> None:
    for case in cases:  # warm up (template compilation, caches, page cache), check 200
        case.get()
        case.get()
    # Three apps live in this process (Flask-Admin and SQLAlchemy are large): freeze what setup
    # built, as a preloading server does, so that the collector's passes during the timed
    # requests scan what the requests allocate, not the others' heaps (without it, every case
    # pays a collection cost that depends on which apps happen to be loaded).
    gc.collect()
    gc.freeze()
    n = len(cases)
    for r in range(rounds):
        for i in range(n):
            case = cases[(r + i) % n]
            # One untimed GET first: the timed one must not pay for what the previous case (often
            # another app: Flask-Admin's 400 ms edit page) left in the CPU caches and the heap.
            # Whichever case came after Flask-Admin was measured 20-30% slower without it.
            case.get()
            case.times.append(case.get())


def median_ms(case: Case) -> float:
    return statistics.median(case.times) * 1000


def report(db: str, cases: dict[str, Case], rounds: int) -> bool:
    print(f"\n== {db}: {ROWS:,} orders, {rounds} rounds, medians "
          f"({platform.python_implementation()} {platform.python_version()}, "
          f"{os.cpu_count()} CPUs)")
    print(f"{'case':<28}{'median ms':>11}{'p10 ms':>9}{'p90 ms':>9}{'× B0':>8}{'bytes':>10}  url")
    b0 = median_ms(cases["B0"])
    for name, case in cases.items():
        ts = sorted(case.times)
        p10 = ts[len(ts) // 10] * 1000
        p90 = ts[(len(ts) * 9) // 10] * 1000
        med = median_ms(case)
        print(f"{name:<28}{med:>11.2f}{p10:>9.2f}{p90:>9.2f}{med / b0:>8.1f}{case.size:>10,}  "
              f"{case.url[:90]}")

    ok_all = True

    def line(name, value, target):
        nonlocal ok_all
        if target is None:
            print(f"{name} ratio={value:.3f} target=- info")
            return
        ok = value <= target
        ok_all &= ok
        shown = f"{target:.3f}" if target < 1 else f"{target:g}"
        print(f"{name} ratio={value:.3f} target={shown} {'ok' if ok else 'FAIL'}")

    m = {name: median_ms(case) for name, case in cases.items()}
    print()
    line("first_page_vs_B0", m["ha_first_page"] / b0, 3)
    line("filtered_sorted_vs_B0", m["ha_filtered_sorted"] / b0, 3)
    line("page1000_vs_first_page", m["ha_page1000"] / m["ha_first_page"], 1.2)
    line("edit_page_vs_B0", m["ha_edit_page"] / b0, 3)
    line("edit_page_kib", cases["ha_edit_page"].size / 1024, 50)
    line("htmx_swap_vs_full_bytes", cases["ha_htmx_swap"].size / cases["ha_sorted_full"].size,
         1 / 3)
    line("search_exact_vs_B0", m["ha_search_exact"] / b0, None)
    line("search_prefix_vs_B0", m["ha_search_prefix"] / b0, None)
    line("page1000_vs_B0", m["ha_page1000"] / b0, None)
    line("flask_admin_first_page_vs_B0", m["fa_first_page"] / b0, None)
    line("flask_admin_page1000_vs_B0", m["fa_page1000"] / b0, None)
    line("flask_admin_filtered_vs_B0", m["fa_filtered"] / b0, None)
    line("flask_admin_edit_page_vs_B0", m["fa_edit_page"] / b0, None)
    line("flask_admin_edit_page_kib", cases["fa_edit_page"].size / 1024, None)
    line("flask_admin_first_page_vs_ours", m["fa_first_page"] / m["ha_first_page"], None)
    return ok_all


# --- query plans and profile -------------------------------------------------------------------

EXPLAIN_URLS = [
    ("first page", "/admin/orders/"),
    ("filtered + sorted", "/admin/orders/?status=paid&sort=-created_at"),
    ("page 1,000", None),  # filled in
    ("exact search", "/admin/orders/?q=%3DORD-000042"),
    ("prefix search", "/admin/orders/?q=%5EORD-00004"),
    ("contains search", "/admin/orders/?q=ORD-000042"),
    ("sort by total", "/admin/orders/?sort=-total"),
    ("sort by created_at", "/admin/orders/?sort=-created_at"),
]


def explain(kind: str, client, page1000_url: str, driver_conn) -> None:
    from sqlorm.engine import Transaction

    captured: list[tuple[str, object]] = []

    def capture(sender, stmt=None, params=None, many=False, **kw):
        if not many:
            captured.append((str(stmt), params))

    Transaction.before_execute.connect(capture, weak=False)
    try:
        for label, url in EXPLAIN_URLS:
            url = url or page1000_url
            captured.clear()
            started = time.perf_counter()
            status = client.get(url).status_code
            elapsed = (time.perf_counter() - started) * 1000
            print(f"\n### {label}: GET {url} -> {status} in {elapsed:.1f} ms (one cold-ish run)")
            for stmt, params in list(captured):
                if "FROM staff_users" in stmt or not stmt.lstrip().upper().startswith(
                        ("SELECT", "WITH")):
                    continue  # flask-login's user loader, SET LOCAL statement_timeout
                print(f"SQL: {stmt}\n     params={params!r}")
                if kind == "sqlite":
                    plan = driver_conn.execute("EXPLAIN QUERY PLAN " + stmt, params or ()).fetchall()
                    lines = [f"  {r[0]:>3} {r[1]:>3} {r[3]}" for r in plan]
                    started = time.perf_counter()
                    driver_conn.execute(stmt, params or ()).fetchall()
                    lines.append(f"  (run alone: {(time.perf_counter() - started) * 1000:.2f} ms)")
                else:
                    cur = driver_conn.execute("EXPLAIN ANALYZE " + stmt, params or None)
                    lines = ["  " + next(iter(r.values())) for r in cur.fetchall()]
                print("\n".join(lines))
    finally:
        Transaction.before_execute.disconnect(capture)


def profile(client, url: str, n: int) -> None:
    for _ in range(5):
        client.get(url)
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    for _ in range(n):
        client.get(url).get_data()
    profiler.disable()
    wall = (time.perf_counter() - started) / n * 1000
    stats = pstats.Stats(profiler)
    print(f"\n== cProfile of {n} GETs of {url}: {wall:.2f} ms per request under the profiler")

    # Self time grouped by where the code lives.
    groups: dict[str, float] = {}
    for (filename, _line, func), (_cc, _nc, tottime, _ct, _callers) in stats.stats.items():
        f = filename.replace("\\", "/")
        if f.endswith(".html"):
            group = "templates (compiled Jinja code)"
        elif "/hyper_admin/" in f:
            group = "hyper_admin/" + f.rsplit("/hyper_admin/", 1)[1]
        elif "/sqlorm/" in f:
            group = "sqlorm"
        elif "/psycopg" in f or "sqlite3" in func or "psycopg" in func or func.startswith(
            "<method 'execute'") or func.startswith("<method 'fetch"):
            group = "DB driver (execute/fetch)"
        elif "/jinja2/" in f:
            group = "jinja2 runtime"
        elif "/markupsafe/" in f or "markupsafe" in func:
            group = "markupsafe"
        elif "/werkzeug/" in f or "/flask/" in f or "/flask_login/" in f or "/flask_sqlorm/" in f:
            group = "flask/werkzeug/flask-login/flask-sqlorm"
        else:
            group = "other: " + (f.rsplit("/", 1)[-1] if f != "~" else func)[:60]
        groups[group] = groups.get(group, 0.0) + tottime
    total = sum(groups.values()) or 1.0
    print(f"{'self time by location':<60}{'ms/req':>9}{'share':>8}")
    for group, seconds in sorted(groups.items(), key=lambda kv: -kv[1])[:25]:
        print(f"{group:<60}{seconds / n * 1000:>9.3f}{seconds / total:>8.1%}")
    print("\n-- top functions by cumulative time")
    stats.sort_stats("cumulative").print_stats(40)
    print("-- top functions by self time")
    stats.sort_stats("tottime").print_stats(30)


# --- one database ------------------------------------------------------------------------------


def run(kind: str, rounds: int, do_explain: bool, profile_n: int) -> int:
    from hyper_admin.demo.app import create_app

    from flask_admin_app import create_flask_admin_app, dispose, status_filter_arg

    os.makedirs(CACHE_DIR, exist_ok=True)
    pg_schema = None
    if kind == "sqlite":
        path = os.path.join(CACHE_DIR, f"demo_{ROWS}.db")
        url, driver_target, sa_url = path, path, "sqlite:///" + path
    else:
        pg_schema = f"bench_{os.getpid()}"
        os.environ["DEMO_PG_SCHEMA"] = pg_schema
        url, driver_target = PG_URL, PG_URL
        sa_url = "postgresql+psycopg://" + PG_URL.split("://", 1)[1]

    started = time.perf_counter()
    ha_app = None
    fa_app = None
    b0 = None
    try:
        ha_app = create_app(url, rows=ROWS)  # seeds unless the database already holds ROWS orders
        print(f"[{kind}] database ready in {time.perf_counter() - started:.1f}s", flush=True)
        b0 = b0_app(kind, driver_target, pg_schema)
        fa_app = create_flask_admin_app(sa_url, pg_schema)
        ha = signed_in_client(ha_app)
        fa = fa_app.test_client()
        floor = b0.test_client()

        started = time.perf_counter()
        page1000 = follow_next(ha, "/admin/orders/", PAGE)
        print(f"[{kind}] page {PAGE:,} reached in {time.perf_counter() - started:.1f}s: "
              f"{page1000}", flush=True)
        flt = status_filter_arg(fa_app)

        cases = [
            Case("B0", floor, "/orders/"),
            Case("ha_first_page", ha, "/admin/orders/"),
            Case("ha_page1000", ha, page1000),
            Case("ha_filtered_sorted", ha, "/admin/orders/?status=paid&sort=-created_at"),
            Case("ha_search_exact", ha, "/admin/orders/?q=%3DORD-000042"),
            Case("ha_search_prefix", ha, "/admin/orders/?q=%5EORD-00004"),
            Case("ha_edit_page", ha, f"/admin/orders/{EDIT_ORDER_ID}/edit"),
            Case("ha_htmx_swap", ha, "/admin/orders/?sort=-created_at", HX),
            Case("ha_sorted_full", ha, "/admin/orders/?sort=-created_at"),
            Case("fa_first_page", fa, "/admin/order/"),
            Case("fa_page1000", fa, f"/admin/order/?page={PAGE - 1}"),
            Case("fa_filtered", fa, f"/admin/order/?{flt}=paid"),
            Case("fa_edit_page", fa, f"/admin/order/edit/?id={EDIT_ORDER_ID}"),
        ]
        started = time.perf_counter()
        measure(cases, rounds)
        print(f"[{kind}] measured in {time.perf_counter() - started:.1f}s", flush=True)
        ok = report(kind, {c.name: c for c in cases}, rounds)

        if do_explain:
            explain(kind, ha, page1000, b0.extensions["b0_conn"])
        if profile_n:
            profile(ha, "/admin/orders/", profile_n)
        return 0 if ok else 1
    finally:
        if fa_app is not None:
            dispose(fa_app)
        if b0 is not None:
            b0.extensions["b0_conn"].close()
        if ha_app is not None:
            ha_app.extensions["hyper_admin_demo"]["engine"].disconnect_all()
        if pg_schema:
            drop_schema(kind, pg_schema)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--rounds", type=int, default=DEFAULT_ROUNDS,
                        help=f"timed rounds over every case (default {DEFAULT_ROUNDS})")
    parser.add_argument("--explain", action="store_true",
                        help="print the query plans of the SQL hyper_admin runs")
    parser.add_argument("--profile", type=int, default=0, metavar="N",
                        help="cProfile N GETs of hyper_admin's first page")
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error("--rounds must be >= 1")
    if args.db == "both":
        status = 0
        for kind in ("sqlite", "postgresql"):
            cmd = [sys.executable, os.path.abspath(__file__), "--db", kind,
                   "--rounds", str(args.rounds)]
            if args.explain:
                cmd.append("--explain")
            if args.profile:
                cmd += ["--profile", str(args.profile)]
            status = max(status, subprocess.call(cmd))
        return status
    return run(args.db, args.rounds, args.explain, args.profile)


if __name__ == "__main__":
    sys.exit(main())
