#!/usr/bin/env python
"""Load bench of the demo deployed as in production (issue 7): gunicorn in front of the demo
on PostgreSQL, 50 users listing, searching, opening and editing rows for 60 s.

    .venv/bin/python bench/load_bench.py                          # sync, then gthread
    .venv/bin/python bench/load_bench.py --server sync --users 50 --duration 60
    .venv/bin/python bench/load_bench.py --private-pg               # PostgreSQL of its own
    .venv/bin/python bench/load_bench.py --server sync --restart-pg-at 20 --down 5

What runs:

- the database: the demo seeded with ``--rows`` orders (default 1,000,000; ~20 s) into a
  schema ``bench_load_<pid>`` of ``--pg-url`` (default $BENCH_PG_URL, else the test server),
  dropped at the end; with ``--private-pg`` or ``--restart-pg-at`` a throwaway cluster of our
  own instead (fsync off; the shared server is never restarted; its CPU is measured), removed
  at the end;
- the server: ``gunicorn -c python:hyper_admin.demo.gunicorn_conf hyper_admin.demo.wsgi:app``
  on a free loopback port, ``--workers`` sync workers (default 4), or gthread workers with
  ``--threads`` threads each; sign-in throttling in Redis ($HYPER_ADMIN_TEST_REDIS, default
  redis://127.0.0.1:6379/12) as a deployment of several workers needs;
- the users: tests/reliability/load.py, one thread and one browser each (cookies, keep-alive
  where the server keeps connections), signed in before the clock starts (as ``support`` and
  ``admin``: throttling counts failed sign-ins only, so no limit is raised for the bench),
  then without pause: list pages (35%) with the fragments they load by themselves (count,
  filter counts), searches (20%), detail pages (30%), edits (15%: the form, then the form
  posted back with its CSRF token and version; after a 409, the conflict page's form once).

Afterwards every acknowledged save (303) is looked up in the audit trail and the table: one
chain of audit entries per ticket (each entry's "before" is the previous "after"), the ticket
holding the last. The exit status is 1 when a request got a 5xx outside the fault window, no
answer, or an acknowledged save is missing.

Why not locust or wrk: wrk cannot sign in, read CSRF tokens and versions from forms and post
them back without a Lua program as long as this one; locust (gevent) would add its own
scheduler and event loop to the two cores the server uses. Here a thread per user costs
about half a millisecond of CPU per request (3 to 4 CPU seconds a minute at 50 users, 3% of
the machine), measured and printed, and every save's outcome is kept for the check
afterwards. Client and server share the machine: figures are a floor.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests", "reliability"))  # harness, load

from harness import (PG_URL, Gunicorn, PrivatePostgres, demo_env, drop_schema,  # noqa: E402
                     pg_schema_url, private_postgres_problem, redis_problem, seed_demo)
from load import (audit_mark, make_plan, percentile, run_load, subjects,  # noqa: E402
                  verify_writes)

ACCOUNTS = [("support", "support"), ("admin", "admin")]


def process_cpu(pids) -> float:
    """User + system CPU seconds of these processes (from /proc; those gone count 0)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])
        except (OSError, IndexError, ValueError):
            pass
    return total / ticks


def client_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_variant(args, name: str, database_url: str, schema: str, cluster) -> dict:
    extra = {}
    if args.count_cache_seconds is not None:  # the shared counts (docs/lists.md#shared-counts)
        extra["HYPER_ADMIN_COUNT_CACHE_SECONDS"] = str(args.count_cache_seconds)
    if args.cache_uri:
        extra["HYPER_ADMIN_CACHE_URI"] = args.cache_uri
    env = demo_env(database_url, schema, **extra)
    if name == "sync":
        server = Gunicorn("hyper_admin.demo.wsgi:app", env, workers=args.workers, name="bench")
        shape = f"{args.workers} sync workers"
    else:
        server = Gunicorn("hyper_admin.demo.wsgi:app", env, workers=args.workers,
                          worker_class="gthread", threads=args.threads, name="bench")
        shape = f"{args.workers} gthread workers x {args.threads} threads"
    print(f"\n== {shape}: {args.users} users, {args.duration:.0f} s ==", flush=True)
    server.start()
    timeline: dict[str, float] = {}
    try:
        with _connect(database_url, schema) as conn:
            plan = make_plan(conn, hot_tickets=args.hot_tickets)
            mark = audit_mark(conn)
            before = subjects(conn, plan.edit_tickets)
        pids = {server.process.pid, *server.worker_pids()}
        cpu_server, cpu_client, load_before = process_cpu(pids), client_cpu(), os.getloadavg()
        cpu_pg = postgres_cpu(cluster)

        def fault(clock):
            if args.restart_pg_at is None:
                return
            time.sleep(max(0.0, args.restart_pg_at - clock()))
            timeline["stop"] = clock()
            cluster.stop("fast")
            timeline["down"] = clock()
            time.sleep(args.down)
            timeline["start"] = clock()
            cluster.start()
            timeline["up"] = clock()

        outcome = run_load([server.url], users=args.users, duration=args.duration, plan=plan,
                           accounts=ACCOUNTS, run_tag=f"{name}-{os.getpid()}", seed=args.seed,
                           think=args.think, during=fault)
        pids |= server.worker_pids()
        cpu_server = process_cpu(pids) - cpu_server
        cpu_client = client_cpu() - cpu_client
        if cpu_pg is not None and not timeline:  # a restart starts a new postmaster
            cpu_pg = postgres_cpu(cluster) - cpu_pg
        else:
            cpu_pg = None
        with _connect(database_url, schema) as conn:
            check = verify_writes(conn, outcome.writes, mark, before)
        log = server.log_text()
    finally:
        server.close()
    return report(args, name, shape, outcome, check, timeline, cpu_server, cpu_client,
                  cpu_pg, load_before, log)


def _connect(database_url: str, schema: str):
    import psycopg

    return psycopg.connect(pg_schema_url(schema, database_url), autocommit=True)


def postgres_cpu(cluster) -> float | None:
    """CPU seconds of a private cluster so far: the postmaster with its backends, those gone
    included (a parent's cumulative children times); None on the shared server, whose CPU
    is other people's too."""
    if cluster is None:
        return None
    from harness import child_pids

    postmaster = cluster.postmaster_pid()
    return process_cpu({postmaster, *child_pids(postmaster)}) if postmaster else None


def report(args, name, shape, outcome, check, timeline, cpu_server, cpu_client, cpu_pg,
           load_before, log) -> dict:
    rows = outcome.table()
    print(f"{'kind':<10} {'requests':>9} {'per s':>8} {'p50 ms':>8} {'p95 ms':>8} "
          f"{'p99 ms':>8} {'max ms':>8}")
    for row in rows:
        print(f"{row['kind']:<10} {row['requests']:>9} {row['per_s']:>8.1f} {row['p50']:>8.1f} "
              f"{row['p95']:>8.1f} {row['p99']:>8.1f} {row['max']:>8.1f}")
    statuses = outcome.statuses()
    fault = None
    if timeline:
        unavailable = [s for s in outcome.samples if s.status == 503]
        after_up = [s for s in outcome.samples if s.at >= timeline["up"] and s.status < 500]
        last_bad = max((s.at + s.seconds for s in outcome.samples
                        if s.status >= 500 or s.status == 0), default=None)
        outside = [s for s in outcome.samples if (s.status >= 500 or s.status == 0)
                   and (s.at + s.seconds < timeline["stop"] or s.at > timeline["up"] + 1)]
        fault = {
            **{k: round(v, 3) for k, v in timeline.items()},
            "responses_503": len(unavailable),
            "other_5xx": sum(1 for s in outcome.samples if s.status >= 500 and s.status != 503),
            "first_503_at": round(min(s.at for s in unavailable), 3) if unavailable else None,
            "last_error_end_at": round(last_bad, 3) if last_bad is not None else None,
            "first_2xx_after_up_s": (round(min(s.at + s.seconds for s in after_up)
                                           - timeline["up"], 3) if after_up else None),
            "recovered_after_up_s": (round(max(0.0, last_bad - timeline["up"]), 3)
                                     if last_bad is not None else None),
            "errors_outside_window": len(outside),
            "p50_ms_503": (round(percentile(sorted(s.seconds * 1000 for s in unavailable), 50), 1)
                           if unavailable else None),
            "p99_ms_503": (round(percentile(sorted(s.seconds * 1000 for s in unavailable), 99), 1)
                           if unavailable else None),
        }
    figures = {
        "variant": name, "shape": shape, "users": outcome.users, "rows": args.rows,
        "duration_s": round(outcome.duration, 2), "think_s": args.think,
        "throughput_per_s": round(len(outcome.samples) / outcome.duration, 1),
        "statuses": statuses, "server_errors_5xx": outcome.server_errors,
        "no_answer": outcome.transport_errors, "conflicts_409": outcome.conflicts,
        "saves_acknowledged": check["acknowledged"], "saves_in_audit": check["in_audit"],
        "audit_entries": check["audit_entries"],
        "committed_unacknowledged": check["committed_unacknowledged"],
        "rows_written": check["rows_written"],
        "rows_holding_last_write": check["rows_holding_last_write"],
        "lost_updates": len(check["lost_updates"]),
        "cpu_server_s": round(cpu_server, 1), "cpu_client_s": round(cpu_client, 1),
        "cpu_postgresql_s": None if cpu_pg is None else round(cpu_pg, 1),
        "loadavg_before": [round(x, 2) for x in load_before],
        "loadavg_after": [round(x, 2) for x in os.getloadavg()],
        "kinds": [{k: (round(v, 1) if isinstance(v, float) else v) for k, v in row.items()}
                  for row in rows],
        "fault": fault, "user_errors": outcome.errors[:10],
        "tracebacks_in_server_log": log.count("Traceback"),
        # A worker that hung, died or was replaced boots again: more boots than workers.
        "workers_booted": log.count("Booting worker with pid"),
        "worker_timeouts": log.count("WORKER TIMEOUT"),
    }
    print(f"throughput {figures['throughput_per_s']}/s over {figures['duration_s']} s; "
          f"statuses {statuses}")
    print(f"5xx {figures['server_errors_5xx']}, no answer {figures['no_answer']}, "
          f"409 {figures['conflicts_409']}")
    print(f"saves acknowledged {check['acknowledged']}, in the audit {check['in_audit']}, "
          f"audit entries {check['audit_entries']} (committed without an answer: "
          f"{check['committed_unacknowledged']}); tickets written {check['rows_written']}, "
          f"holding their last write {check['rows_holding_last_write']}, lost updates "
          f"{len(check['lost_updates'])}")
    pg_cpu = "" if cpu_pg is None else f", PostgreSQL {cpu_pg:.1f} s"
    print(f"CPU: server {cpu_server:.1f} s, client {cpu_client:.1f} s{pg_cpu} over "
          f"{outcome.duration:.0f} s on {os.cpu_count()} cores; load average before "
          f"{figures['loadavg_before']}, after {figures['loadavg_after']}")
    print(f"gunicorn: {figures['workers_booted']} workers booted, "
          f"{figures['worker_timeouts']} timed out, "
          f"{figures['tracebacks_in_server_log']} tracebacks in its log")
    if fault:
        print("fault: " + ", ".join(f"{k} {v}" for k, v in fault.items()))
    if outcome.errors:
        print("user errors:", *outcome.errors[:10], sep="\n  ")
    return figures


def failures(figures: dict) -> list[str]:
    out = []
    fault = figures["fault"]
    if fault is None and (figures["server_errors_5xx"] or figures["no_answer"]):
        out.append("5xx or unanswered requests without a fault")
    if fault is not None and (fault["errors_outside_window"] or fault["other_5xx"]):
        out.append("errors outside the fault window, or a 5xx other than 503")
    if figures["saves_in_audit"] != figures["saves_acknowledged"]:
        out.append("acknowledged saves missing from the audit trail")
    if figures["lost_updates"] or figures["rows_holding_last_write"] != figures["rows_written"]:
        out.append("lost updates")
    if figures["user_errors"]:
        out.append("a user thread failed")
    if figures["worker_timeouts"] or figures["tracebacks_in_server_log"]:
        out.append("a worker timed out, or the server logged a traceback")
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", choices=("sync", "gthread", "both"), default="both")
    parser.add_argument("--rows", type=int, default=1_000_000, help="orders seeded")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=4, help="per gthread worker (<= 10)")
    parser.add_argument("--think", type=float, default=0.0,
                        help="mean seconds a user waits between actions (default none)")
    parser.add_argument("--hot-tickets", type=int, default=200,
                        help="tickets the editors pick from (fewer: more conflicts)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--pg-url", default=os.environ.get("BENCH_PG_URL", PG_URL))
    parser.add_argument("--private-pg", action="store_true",
                        help="a throwaway PostgreSQL cluster of our own (fsync off), whose CPU "
                             "is measured, instead of the shared server")
    parser.add_argument("--restart-pg-at", type=float, default=None, metavar="SECONDS",
                        help="stop PostgreSQL (a private cluster) this long into the load")
    parser.add_argument("--down", type=float, default=5.0,
                        help="seconds PostgreSQL stays down (with --restart-pg-at)")
    parser.add_argument("--json", help="write the figures to this file")
    parser.add_argument("--count-cache-seconds", type=float, default=None,
                        help="HYPER_ADMIN_COUNT_CACHE_SECONDS (0: counts never shared)")
    parser.add_argument("--cache-uri", default=None,
                        help="HYPER_ADMIN_CACHE_URI, e.g. redis://127.0.0.1:6379/13 (shared "
                             "by the workers; default: each worker's own memory)")
    args = parser.parse_args(argv)

    problem = redis_problem()
    if problem:
        parser.error(problem + ": a deployment of several workers counts sign-ins in Redis")
    cluster = None
    if args.restart_pg_at is not None or args.private_pg:
        problem = private_postgres_problem()
        if problem:
            parser.error(problem)
        cluster = PrivatePostgres()
    print(f"hyper_admin load bench: {platform.python_version()}, {os.cpu_count()} cores, "
          f"{platform.platform()}")
    schema = f"bench_load_{os.getpid()}"
    all_figures = []
    try:
        if cluster is not None:
            cluster.init().start()
            database_url = cluster.url
            print(f"private PostgreSQL cluster on port {cluster.port}")
        else:
            database_url = args.pg_url
        started = time.monotonic()
        seed_demo(database_url, schema, args.rows)
        print(f"seeded {args.rows:,} orders into schema {schema} in "
              f"{time.monotonic() - started:.1f} s", flush=True)
        variants = ("sync", "gthread") if args.server == "both" else (args.server,)
        for name in variants:
            all_figures.append(run_variant(args, name, database_url, schema, cluster))
    finally:
        if cluster is not None:
            cluster.destroy()
        else:
            drop_schema(schema, args.pg_url)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(all_figures, f, indent=2)
    bad = [f"{f['variant']}: {problem}" for f in all_figures for problem in failures(f)]
    print("\n" + ("FAIL: " + "; ".join(bad) if bad else "ok: no 5xx outside a fault, "
                  "no unanswered request, every acknowledged save in the audit and the table"))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
