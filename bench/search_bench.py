#!/usr/bin/env python
"""Search, counts and export at scale (issue 21): ratios against the list's floor (B0 of
list_bench.py), measured in one process, before and after the indexes ``hyper-admin doctor``
advises for the searched columns.

    ROWS=1000000 python bench/search_bench.py [--db sqlite|postgresql] [--rounds N]

Cases (Flask's test client in-process, interleaved, medians, as list_bench.py):

- ``B0``: list_bench's floor (driver + a bare Jinja table of the orders' first page).
- ``first_page``: the orders list.
- ``tickets_page``: the tickets list (what ``contains_tickets`` adds to it is printed too).
- ``contains_orders``: ``?q=0004217`` on the orders (a part of a reference: few rows).
- ``contains_tickets``: ``?q=refund`` on the tickets (a word of many subjects).
- ``contains_accounts``: ``?q=motors`` on the accounts.
- ``facets_status``: the filter panel's counts of the orders' status (one GROUP BY; the shared
  counts are off in this bench, each request counts: count_cache_bench.py measures them).
- ``dates``: the orders' date drill-down (years).

Then the doctor's search advice for orders, tickets and accounts is run (PostgreSQL: trigram
GIN indexes; SQLite: FTS5 trigram tables with their triggers) and the same cases measured again.

Export (PostgreSQL): rows per second of ``GET /admin/orders/export?format=csv`` against
PostgreSQL's own ``COPY (SELECT <the same columns>) TO STDOUT (FORMAT csv)`` of the whole
table, read to its end by psycopg in the same process; the export as PostgreSQL writes it
(copy_export.py) and as Python writes it, which must be the same bytes. ``--export-only``
measures only that. Exit status: 1 if a target line FAILs.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)

from list_bench import (CACHE_DIR, PG_URL, ROWS, Case, b0_app, drop_schema, measure,  # noqa: E402
                        median_ms, signed_in_client)

SEARCHES = [
    ("contains_orders", "/admin/orders/?q=0004217"),
    ("contains_tickets", "/admin/tickets/?q=refund"),
    ("contains_accounts", "/admin/accounts/?q=motors"),
]
HX = {"HX-Request": "true"}
#: Above this many rows the Python path's export is not measured (ten million rows: 4 minutes).
PYTHON_EXPORT_ROWS = 2_000_000


def cases_for(floor, ha) -> list[Case]:
    return [
        Case("B0", floor, "/orders/"),
        Case("first_page", ha, "/admin/orders/"),
        Case("tickets_page", ha, "/admin/tickets/"),
        *(Case(name, ha, url) for name, url in SEARCHES),
        Case("facets_status", ha, "/admin/orders/facets?field=status", HX),
        Case("dates", ha, "/admin/orders/dates", HX),
    ]


def report(title: str, cases: list[Case]) -> dict[str, float]:
    b0 = median_ms(cases[0])
    print(f"\n== {title}")
    print(f"{'case':<22}{'median ms':>11}{'× B0':>8}  url")
    ratios = {}
    for case in cases:
        med = median_ms(case)
        ratios[case.name] = med / b0
        print(f"{case.name:<22}{med:>11.2f}{med / b0:>8.1f}  {case.url}")
    return ratios


def apply_search_advice(app, engine) -> list[str]:
    """Run the doctor's search advice for the searched models; returns the statements."""
    from hyper_admin.doctor import Nobody, model_advice
    from hyper_admin.sql import dialect_of

    admin = app.extensions["hyper_admin_demo"]["admin"]
    dialect = dialect_of(engine)
    done = []
    with app.app_context():
        if dialect.is_postgresql:
            with engine as tx:
                tx.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public")
        for slug in ("orders", "tickets", "accounts"):
            model_admin = admin.model_admin(slug)
            for advice in model_advice(model_admin, Nobody(), engine, dialect,
                                       kinds=("search",)):
                if not advice.trigram:
                    continue
                for text in advice.statement.splitlines():
                    with engine as tx:
                        if dialect.is_postgresql:
                            tx.execute("SET LOCAL search_path TO "
                                       + tx.fetchscalar("SELECT current_schema() AS v")
                                       + ", public")
                            text = text.replace(" CONCURRENTLY", "")
                        tx.execute(text)
                done.append(advice.statement.splitlines()[0])
        # The admin reads indexes and FTS tables at most every five minutes: at once here.
        from hyper_admin import fts, index_advisor

        index_advisor.forget_indexes()
        fts.forget_trigram_tables()
        if dialect.is_postgresql:
            with engine as tx:
                tx.execute("ANALYZE orders")
                tx.execute("ANALYZE tickets")
                tx.execute("ANALYZE accounts")
    return done


def export_throughput(ha, pg_schema: str, app) -> tuple[float, float, int]:
    """(rows/s of the admin's CSV export, rows/s of COPY of the same columns, rows). The
    export is measured as PostgreSQL writes it (copy_export.py) and as Python writes it
    (``HYPER_ADMIN_EXPORT_COPY = False``); the two bodies must be the same bytes."""
    import psycopg

    state = app.extensions["hyper_admin"]["hyper_admin"]

    def timed_export(copy: bool) -> tuple[float, str, int, int]:
        """Seconds, SHA-256, bytes and rows of the export, read as it streams (ten million
        rows never sit in memory)."""
        state.export_copy = copy
        started = time.perf_counter()
        response = ha.get("/admin/orders/export?format=csv")
        assert response.status_code == 200, response.status_code
        digest, size, lines = hashlib.sha256(), 0, 0
        for chunk in response.iter_encoded():
            digest.update(chunk)
            size += len(chunk)
            lines += chunk.count(b"\r\n")
        response.close()
        return time.perf_counter() - started, digest.hexdigest(), size, lines - 1

    ours, digest, length, rows = timed_export(True)
    if ROWS <= PYTHON_EXPORT_ROWS:
        python, python_digest, _length, _rows = timed_export(False)
        assert digest == python_digest, "COPY and Python exports differ"
        python_text = f"Python path: {python:.2f}s ({rows / python:,.0f} rows/s, the same bytes)"
    else:
        python = None
        python_text = f"Python path: not run above {PYTHON_EXPORT_ROWS:,} rows"
    state.export_copy = True
    with psycopg.connect(PG_URL, autocommit=True, options=f"-c search_path={pg_schema}") as conn:
        # The export's own columns (its header says them): the label as the accounts' name.
        columns = ("o.id, o.reference, o.account_id, a.name, o.status, o.total, o.currency, "
                   "o.created_at")
        started = time.perf_counter()
        size = 0
        with conn.cursor().copy(f"COPY (SELECT {columns} FROM orders o LEFT JOIN accounts a "
                                "ON a.id = o.account_id ORDER BY o.id DESC) TO STDOUT "
                                "(FORMAT csv)") as copy:
            for chunk in copy:
                size += len(chunk)
        theirs = time.perf_counter() - started
    print(f"\nexport (COPY path): {rows:,} rows in {ours:.2f}s ({rows / ours:,.0f} rows/s, "
          f"{length:,} bytes); {python_text}; COPY alone: {theirs:.2f}s "
          f"({ROWS / theirs:,.0f} rows/s, {size:,} bytes)")
    if python is not None:
        print(f"export_python_vs_copy ratio={theirs / python:.3f} target=- info")
    return rows / ours, ROWS / theirs, rows


def run(kind: str, rounds: int, only_export: bool = False) -> int:
    from hyper_admin.demo.app import create_app

    os.makedirs(CACHE_DIR, exist_ok=True)
    pg_schema = None
    if kind == "sqlite":
        # A copy of its own: the FTS5 tables made here must not reach list_bench's database.
        source = os.path.join(CACHE_DIR, f"demo_{ROWS}.db")
        url = os.path.join(CACHE_DIR, f"search_{ROWS}_{os.getpid()}.db")
        if os.path.exists(source):
            import shutil

            shutil.copyfile(source, url)
        driver_target = url
    else:
        pg_schema = f"bench_search_{os.getpid()}"
        os.environ["DEMO_PG_SCHEMA"] = pg_schema
        url = driver_target = PG_URL
    app = b0 = None
    ok = True
    try:
        started = time.perf_counter()
        # The shared counts off: the filter counts and the date bar cost what the database
        # does for them (count_cache_bench.py measures the cache).
        app = create_app(url, rows=ROWS, config={"HYPER_ADMIN_COUNT_CACHE_SECONDS": 0})
        print(f"[{kind}] database ready in {time.perf_counter() - started:.1f}s", flush=True)
        engine = app.extensions["hyper_admin_demo"]["engine"]
        b0 = b0_app(kind, driver_target, pg_schema)
        ha = signed_in_client(app)
        if only_export:
            ours, copy, _rows = export_throughput(ha, pg_schema, app)
            print(f"export_vs_copy ratio={ours / copy:.3f} target=0.5 "
                  f"{'ok' if ours / copy >= 0.5 else 'FAIL'}")
            return 0 if ours / copy >= 0.5 else 1
        before = cases_for(b0.test_client(), ha)
        measure(before, rounds)
        plain = report(f"{kind}, {ROWS:,} orders, without the advised search indexes", before)
        started = time.perf_counter()
        made = apply_search_advice(app, engine)
        print(f"\n[{kind}] advised search indexes made in {time.perf_counter() - started:.1f}s:")
        for line in made:
            print("  " + line)
        after = cases_for(b0.test_client(), ha)
        measure(after, rounds)
        indexed = report(f"{kind}, {ROWS:,} orders, with them", after)
        print()
        for name, _url in SEARCHES:
            target_ok = indexed[name] <= 10
            ok &= target_ok
            print(f"{name}_vs_B0 without={plain[name]:.1f} with={indexed[name]:.1f} target=10 "
                  f"{'ok' if target_ok else 'FAIL'}")
        # The tickets' own page (tags as chips, three foreign keys' labels) is heavier than the
        # orders': what their search adds is measured against it.
        print(f"contains_tickets_vs_tickets_page without="
              f"{plain['contains_tickets'] / plain['tickets_page']:.2f} "
              f"with={indexed['contains_tickets'] / indexed['tickets_page']:.2f} target=- info")
        for name in ("facets_status", "dates", "first_page", "tickets_page"):
            print(f"{name}_vs_B0 ratio={indexed[name]:.1f} target=- info")
        if kind == "postgresql":
            ours, copy, _rows = export_throughput(ha, pg_schema, app)
            target_ok = ours / copy >= 0.5
            ok &= target_ok
            print(f"export_vs_copy ratio={ours / copy:.3f} target=0.5 "
                  f"{'ok' if target_ok else 'FAIL'}")
        return 0 if ok else 1
    finally:
        if b0 is not None:
            b0.extensions["b0_conn"].close()
        if app is not None:
            app.extensions["hyper_admin_demo"]["engine"].disconnect_all()
        if pg_schema:
            drop_schema(kind, pg_schema)
        elif kind == "sqlite" and os.path.exists(url):
            os.remove(url)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="postgresql")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--export-only", action="store_true",
                        help="PostgreSQL: only the export's throughput (both paths) against COPY")
    options = parser.parse_args(argv)
    if options.export_only and options.db != "postgresql":
        parser.error("--export-only measures PostgreSQL's export")
    return run(options.db, options.rounds, options.export_only)


if __name__ == "__main__":
    sys.exit(main())
