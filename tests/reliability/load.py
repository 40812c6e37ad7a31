"""A bounded, closed-loop load of browser-like users on the demo admin, and the check of what
it wrote. Used by tests/reliability/test_load.py (seconds) and bench/load_bench.py (a minute).

Each user is a thread with a browser of its own (harness.Browser: cookies, keep-alive when the
server keeps connections open). It signs in before the clock starts, then loops until the
deadline without pause (or ``think`` seconds between actions), picking one action at a time:

- ``list``: an orders or tickets list page, filtered or sorted at random, then the fragments
  the page loads by itself (``hx-trigger="load"``: ``count``, the list's count, and
  ``facets``, the filter panel's counts), with the ``HX-Request`` header, as htmx sends them;
- ``search``: the same with ``q=`` (a company word, an order reference prefix);
- ``detail``: an order or ticket page;
- ``edit``: a ticket's edit form, then the form posted back with a new subject, its CSRF token
  and version as the page carried them. A 409 (someone saved the ticket meanwhile) is answered
  as a person would: the conflict page's form, which keeps the new subject, is posted once more.

A save answered 303 is *acknowledged*: :func:`verify_writes` then checks each one against the
audit trail and the table.
"""

from __future__ import annotations

import html
import json
import random
import re
import statistics
import threading
import time
import typing as t
from dataclasses import dataclass, field

from harness import Browser, form_fields

MIX = {"list": 35, "search": 20, "detail": 30, "edit": 15}
KINDS = ("list", "search", "detail", "count", "facets", "edit-form", "save")
SEARCH_WORDS = ("Agile", "Blue", "Copper", "Delta", "Green", "Nova", "Solar", "Summit", "Labs",
                "Foods", "Systems", "Media")
ORDER_FILTERS = ("", "status=shipped", "status=pending", "currency=EUR", "sort=-total",
                 "sort=created_at", "status=paid&sort=-created_at", "page=2")
TICKET_FILTERS = ("", "status=open", "priority=urgent", "status=pending&priority=high",
                  "sort=-updated_at")
_LOAD_TRIGGERED = re.compile(r'hx-get="([^"]+)"\s+hx-trigger="load"')


@dataclass
class Sample:
    kind: str
    status: int          # 0: no HTTP answer (connection refused, reset, timed out)
    seconds: float
    at: float            # start, in seconds since the load began
    worker: str | None   # X-Worker-Pid, when the app sends it (tests' fault_app only)


@dataclass
class Write:
    pk: int
    value: str
    at: float


@dataclass
class Plan:
    """What the users may touch: key ranges seeded, and the tickets they edit (a small hot set,
    so that editors meet on the same rows and conflicts happen)."""

    max_order: int
    max_ticket: int
    edit_tickets: list[int]
    order_refs: list[str] = field(default_factory=list)


@dataclass
class Outcome:
    samples: list[Sample]
    writes: list[Write]
    users: int
    duration: float
    sign_in_failures: int
    errors: list[str]

    # -- figures ---------------------------------------------------------------------------

    def of(self, kind: str | None = None) -> list[Sample]:
        return [s for s in self.samples if kind is None or s.kind == kind]

    def count(self, predicate: t.Callable[[Sample], bool]) -> int:
        return sum(1 for s in self.samples if predicate(s))

    @property
    def server_errors(self) -> int:
        return self.count(lambda s: s.status >= 500)

    @property
    def transport_errors(self) -> int:
        return self.count(lambda s: s.status == 0)

    @property
    def conflicts(self) -> int:
        return self.count(lambda s: s.kind == "save" and s.status == 409)

    def statuses(self) -> dict[int, int]:
        out: dict[int, int] = {}
        for s in self.samples:
            out[s.status] = out.get(s.status, 0) + 1
        return dict(sorted(out.items()))

    def table(self) -> list[dict[str, t.Any]]:
        """Per kind (and all): requests, per second, p50/p95/p99/max in ms."""
        rows = []
        for kind in (*KINDS, None):
            samples = self.of(kind)
            if not samples:
                continue
            times = sorted(s.seconds * 1000 for s in samples)
            rows.append({"kind": kind or "all", "requests": len(samples),
                         "per_s": len(samples) / self.duration,
                         "p50": percentile(times, 50), "p95": percentile(times, 95),
                         "p99": percentile(times, 99), "max": times[-1],
                         "mean": statistics.fmean(times)})
        return rows


def percentile(sorted_values: list[float], p: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return float("nan")
    rank = max(1, min(len(sorted_values), round(p / 100 * len(sorted_values) + 0.4999)))
    return sorted_values[rank - 1]


class _User:
    def __init__(self, number: int, base_url: str, account: tuple[str, str], plan: Plan,
                 run_tag: str, seed: int, think: float, record: t.Callable[[Sample], None],
                 acknowledge: t.Callable[[Write], None], clock: t.Callable[[], float]):
        self.number, self.account, self.plan = number, account, plan
        self.browser = Browser(base_url, timeout=30)
        self.rng = random.Random(seed * 1000 + number)
        self.run_tag, self.think = run_tag, think
        self.record, self.acknowledge, self.clock = record, acknowledge, clock
        self.saves = 0

    def sign_in(self, deadline: float) -> bool:
        """Until signed in (a 503 while the database is down is tried again) or ``deadline``."""
        while time.monotonic() < deadline:
            try:
                response = self.browser.sign_in(*self.account)
                if response.status == 303:
                    return True
            except OSError:
                self.browser.close()
            time.sleep(0.2)
        return False

    def _get(self, kind: str, path: str, htmx: bool = False):
        return self._send(kind, "GET", path, None, {"HX-Request": "true"} if htmx else None)

    def _send(self, kind, method, path, data=None, headers=None):
        started = time.monotonic()
        at = self.clock()
        try:
            response = self.browser.request(method, path, data=data, headers=headers)
        except OSError:
            self.browser.close()
            self.record(Sample(kind, 0, time.monotonic() - started, at, None))
            return None
        self.record(Sample(kind, response.status, time.monotonic() - started, at,
                           response.headers.get("x-worker-pid")))
        return response

    def act(self) -> None:
        kind = self.rng.choices(list(MIX), weights=list(MIX.values()))[0]
        getattr(self, "_" + kind)()
        if self.think:
            time.sleep(self.rng.uniform(0.5, 1.5) * self.think)

    def _list_page(self, kind: str, path: str) -> None:
        response = self._get(kind, path)
        if response is None or response.status != 200:
            return
        for url in _LOAD_TRIGGERED.findall(response.body):
            url = html.unescape(url)
            self._get("facets" if "/facets" in url else "count", url, htmx=True)

    def _list(self) -> None:
        if self.rng.random() < 0.6:
            self._list_page("list", "/admin/orders/?" + self.rng.choice(ORDER_FILTERS))
        else:
            self._list_page("list", "/admin/tickets/?" + self.rng.choice(TICKET_FILTERS))

    def _search(self) -> None:
        if self.plan.order_refs and self.rng.random() < 0.4:
            ref = self.rng.choice(self.plan.order_refs)
            self._list_page("search", "/admin/orders/?q=" + "%5E" + ref[:-2])  # ^prefix
        else:
            self._list_page("search", "/admin/accounts/?q=" + self.rng.choice(SEARCH_WORDS))

    def _detail(self) -> None:
        if self.rng.random() < 0.6:
            self._get("detail", f"/admin/orders/{self.rng.randint(1, self.plan.max_order)}/")
        else:
            self._get("detail", f"/admin/tickets/{self.rng.randint(1, self.plan.max_ticket)}/")

    def _edit(self) -> None:
        pk = self.rng.choice(self.plan.edit_tickets)
        path = f"/admin/tickets/{pk}/edit"
        page = self._get("edit-form", path)
        if page is None or page.status != 200:
            return
        self.saves += 1
        value = f"load {self.run_tag} u{self.number:03d} n{self.saves}"
        data = form_fields(page.body, path)
        data["subject"] = value
        for _ in range(2):  # the save, and once more from the conflict page
            response = self._send("save", "POST", path, data)
            if response is None:
                return
            if response.status == 303:
                self.acknowledge(Write(pk, value, self.clock()))
                return
            if response.status != 409:
                return
            data = form_fields(response.body, path)
            if data.get("subject") != value:
                raise AssertionError(f"the conflict page lost the user's input: {data}")


def run_load(base_urls: t.Sequence[str], *, users: int, duration: float, plan: Plan,
             accounts: t.Sequence[tuple[str, str]], run_tag: str, seed: int = 1,
             think: float = 0.0, sign_in_timeout: float = 120,
             during: t.Callable[[t.Callable[[], float]], None] | None = None) -> Outcome:
    """``users`` users spread over ``base_urls`` (instance i % n) and ``accounts``, for
    ``duration`` seconds once all signed in. ``during(clock)`` runs in the calling thread
    while the load runs (a fault to inject); the load lasts at least ``duration``."""
    samples: list[Sample] = []
    writes: list[Write] = []
    errors: list[str] = []
    lock = threading.Lock()
    start = [0.0]

    def clock() -> float:
        return time.monotonic() - start[0]

    def record(sample: Sample) -> None:
        with lock:
            samples.append(sample)

    def acknowledge(write: Write) -> None:
        with lock:
            writes.append(write)

    people = [_User(i, base_urls[i % len(base_urls)], accounts[i % len(accounts)], plan,
                    run_tag, seed, think, record, acknowledge, clock) for i in range(users)]
    signed_in = threading.Barrier(users + 1)
    stop = threading.Event()
    failed_sign_ins = [0]

    def body(user: _User) -> None:
        try:
            ok = user.sign_in(time.monotonic() + sign_in_timeout)
            if not ok:
                with lock:
                    failed_sign_ins[0] += 1
            signed_in.wait(timeout=sign_in_timeout + 30)
            while ok and not stop.is_set():
                user.act()
        except Exception as exc:  # noqa: BLE001 - reported, and fails the caller's checks
            with lock:
                errors.append(f"user {user.number}: {type(exc).__name__}: {exc}")
        finally:
            user.browser.close()

    threads = [threading.Thread(target=body, args=(u,), daemon=True) for u in people]
    for thread in threads:
        thread.start()
    signed_in.wait(timeout=sign_in_timeout + 30)
    start[0] = time.monotonic()
    try:
        if during is not None:
            during(clock)
        remaining = duration - clock()
        if remaining > 0:
            time.sleep(remaining)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    elapsed = clock()
    return Outcome(samples, writes, users, elapsed, failed_sign_ins[0], errors)


# ---------------------------------------------------------------------------------------------
# Before and after: the database


def make_plan(conn, hot_tickets: int = 100) -> Plan:
    """Key ranges and the edited tickets, read from the seeded database (psycopg connection
    whose search_path is the demo's schema)."""
    max_order = conn.execute("SELECT max(id) FROM orders").fetchone()[0]
    max_ticket = conn.execute("SELECT max(id) FROM tickets").fetchone()[0]
    tickets = [r[0] for r in conn.execute("SELECT id FROM tickets ORDER BY id LIMIT %s",
                                          (hot_tickets,))]
    refs = [r[0] for r in conn.execute("SELECT reference FROM orders ORDER BY id DESC LIMIT 50")]
    return Plan(max_order, max_ticket, tickets, refs)


def audit_mark(conn) -> int:
    """The newest audit entry's id (0 when none): entries after it belong to the next run."""
    row = conn.execute("SELECT coalesce(max(id), 0) FROM hyper_admin_audit").fetchone()
    return row[0]


def subjects(conn, pks: t.Iterable[int]) -> dict[int, str]:
    pks = sorted(set(pks))
    if not pks:
        return {}
    rows = conn.execute("SELECT id, subject FROM tickets WHERE id = ANY(%s)", (pks,))
    return {r[0]: r[1] for r in rows}


def verify_writes(conn, writes: t.Sequence[Write], since_audit_id: int,
                  before: dict[int, str]) -> dict[str, t.Any]:
    """Every acknowledged save against the audit trail and the table.

    ``before``: the subjects of the edited tickets before the load. Per ticket, the audit
    entries after ``since_audit_id`` must form one chain from that subject (each entry's
    "before" is the previous entry's "after": no update was lost), each acknowledged value
    must be one of them, and the ticket must hold the chain's last value.
    """
    entries = conn.execute(
        "SELECT id, pk, changes FROM hyper_admin_audit WHERE id > %s AND model_slug = 'tickets' "
        "AND action = 'update' ORDER BY id", (since_audit_id,)).fetchall()
    chains: dict[int, list[tuple[str, str]]] = {}
    for _, pk, changes in entries:
        subject = json.loads(changes).get("subject")
        if subject:
            chains.setdefault(int(pk), []).append((subject[0], subject[1]))
    audited = {(pk, after) for pk, chain in chains.items() for _, after in chain}
    acknowledged = {(w.pk, w.value) for w in writes}
    broken = []
    for pk, chain in chains.items():
        expected = before.get(pk)
        for old, new in chain:
            if old != expected:
                broken.append((pk, expected, old))
            expected = new
    now = subjects(conn, chains)
    stale_rows = [pk for pk, chain in chains.items() if now.get(pk) != chain[-1][1]]
    return {
        "acknowledged": len(writes),
        "acknowledged_distinct": len(acknowledged),
        "in_audit": len(acknowledged & audited),
        "missing_from_audit": sorted(acknowledged - audited)[:20],
        "audit_entries": len(entries),
        "committed_unacknowledged": len(audited - acknowledged),
        "rows_written": len(chains),
        "rows_holding_last_write": len(chains) - len(stale_rows),
        "rows_not_holding_last_write": stale_rows[:20],
        "lost_updates": broken[:20],
    }
