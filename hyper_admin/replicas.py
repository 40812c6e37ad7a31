"""Read replicas: which PostgreSQL standby may serve a read now, or the primary.

A :class:`ReplicaSet` holds the standbys an Admin may read from and what it knows of each:
whether it answered lately (one that does not is skipped for ``retry_after`` seconds, and
said so in the log at most once a minute), how far it lags. :meth:`ReplicaSet.choose` asks
the standbys, in turn, one small question each (no table is read):

- how far it has replayed the primary's WAL (``pg_last_wal_replay_lsn()``) and how old the
  last transaction it replayed is (``now() - pg_last_xact_replay_timestamp()``). An idle
  primary writes nothing, so an old timestamp alone says nothing: a standby whose last
  replayed transaction is older than ``max_lag`` is compared with the primary's own position
  (``pg_current_wal_insert_lsn()``, asked then only) and is current when it has replayed it;
- for a user who has just written (``after``: the primary's WAL position after that write's
  commit, :func:`write_position`), whether the standby has replayed that far; it is asked
  again every few milliseconds for at most ``wait`` seconds, then the primary serves.

The view layer (views/common.py) decides which requests may read a replica and keeps the
user's position in their session; this module reads neither Flask nor the user.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
import typing as t
from dataclasses import dataclass, field

from .sql import Statement, dialect_of, limited, run

log = logging.getLogger("hyper_admin.replicas")

#: Seconds between two log lines about the same replica.
LOG_EVERY = 60.0
#: Seconds between two questions to a replica that has not replayed a user's write yet.
POLL_EVERY = 0.01
#: Seconds the status question may take (a replica that hangs is as good as down).
STATUS_TIME_LIMIT = 2.0
#: Seconds a replica's status is reused for reads of users with no write to wait for (at most
#: a tenth of ``max_lag``): that soon it cannot change what is chosen, and asking costs every
#: read a round trip (a replica-served list was 8-25% slower than the primary's, 0.5-1 ms).
STATUS_TTL = 0.5
#: libpq's connect_timeout given to replicas made from URLs that set none: a replica that is
#: down costs a read this long at most, once per ``retry_after``.
CONNECT_TIMEOUT = 2


def lsn_value(text: str | None) -> int | None:
    """A WAL position as PostgreSQL writes it (``"16/B374D848"``) as a number, to compare."""
    if not text:
        return None
    high, _, low = text.partition("/")
    return (int(high, 16) << 32) | int(low, 16)


def write_position(engine) -> str | None:
    """The primary's WAL position now: a commit made before this call is at or before it.
    The insert position, not the written one: with ``synchronous_commit=off`` a commit may
    not be written yet when the transaction returns. None on a database that is no
    PostgreSQL primary."""
    dialect = dialect_of(engine)
    if not dialect.is_postgresql:
        return None
    rows = run(engine, Statement(dialect, "SELECT CASE WHEN pg_is_in_recovery() THEN NULL "
                                          "ELSE pg_current_wal_insert_lsn()::text END AS lsn"))
    return rows[0]["lsn"] if rows else None


@dataclass
class Replica:
    """One standby and what this process knows of it."""

    engine: t.Any
    name: str
    down_until: float = 0.0     # time.monotonic() before which it is not asked
    logged_at: float = float("-inf")
    lag: float | None = None    # seconds, as last measured (None: unknown or current)
    #: (time.monotonic(), the status then) of the last answer judged current: reused for
    #: STATUS_TTL seconds by reads that wait for no write.
    fresh: tuple[float, t.Any] | None = None


@dataclass
class Choice:
    """Where one request reads: ``replica`` (None: the primary); ``caught_up``: the replica
    has replayed the user's last write (their mark can go); ``lagging``: replicas skipped for
    lagging past the threshold, with their lag in seconds (None when unknown)."""

    replica: Replica | None = None
    caught_up: bool = False
    lagging: list[tuple[Replica, float | None]] = field(default_factory=list)

    def engine(self, primary: t.Any) -> t.Any:
        return self.replica.engine if self.replica is not None else primary


@dataclass
class _Status:
    replayed: int | None
    received: int | None
    behind: float | None        # seconds since the last replayed transaction's commit


class ReplicaSet:
    """The standbys an Admin reads from (see the module's docstring)."""

    def __init__(self, engines: t.Sequence[t.Any], *, max_lag: float = 30.0, wait: float = 0.2,
                 retry_after: float = 5.0, names: t.Sequence[str] | None = None,
                 clock: t.Callable[[], float] = time.monotonic, status_ttl: float = STATUS_TTL):
        names = list(names or [])
        self.replicas = [Replica(engine, names[i] if i < len(names) else describe(engine, i))
                         for i, engine in enumerate(engines)]
        self.max_lag, self.wait, self.retry_after = float(max_lag), float(wait), float(retry_after)
        self.clock = clock
        # Never long beside the lag threshold: a tenth of it at most.
        self.status_ttl = min(float(status_ttl), self.max_lag / 10)
        self._turn = itertools.count()
        self._lock = threading.Lock()

    def __bool__(self) -> bool:
        return bool(self.replicas)

    def engines(self) -> list[t.Any]:
        return [replica.engine for replica in self.replicas]

    def choose(self, primary: t.Any, after: str | None = None) -> Choice:
        """A replica that is up, lags no more than ``max_lag`` and has replayed the WAL
        position ``after`` (a user's last write), waiting up to ``wait`` seconds for one to
        get there; otherwise the primary (``Choice.replica`` None)."""
        mark = lsn_value(after)
        choice = Choice()
        with self._lock:
            start = next(self._turn) % len(self.replicas) if self.replicas else 0
        now = self.clock()
        candidates = [r for r in self.replicas[start:] + self.replicas[:start] if r.down_until <= now]
        deadline = now + (self.wait if mark is not None else 0.0)
        primary_at: list[int | None] = []  # asked once, when a replica's timestamp is old
        while candidates:
            behind_mark = []
            for replica in candidates:
                if (mark is None and replica.fresh is not None
                        and self.clock() - replica.fresh[0] < self.status_ttl):
                    choice.replica = replica  # current a moment ago: no question this time
                    return choice
                status = self._status(replica)
                if status is None:
                    replica.fresh = None
                    continue
                if not self._current_enough(replica, status, primary, primary_at):
                    replica.fresh = None
                    choice.lagging.append((replica, replica.lag))
                    continue
                replica.fresh = (self.clock(), status)
                if mark is not None and (status.replayed is None or status.replayed < mark):
                    behind_mark.append(replica)
                    continue
                choice.replica, choice.caught_up = replica, mark is not None
                return choice
            if not behind_mark or self.clock() >= deadline:
                break
            time.sleep(POLL_EVERY)
            candidates = behind_mark
        return choice

    # -- asking a replica -----------------------------------------------------------------------

    def _status(self, replica: Replica) -> _Status | None:
        """Where the standby stands, or None when it cannot serve (then skipped a while)."""
        try:
            with limited(STATUS_TIME_LIMIT):
                rows = run(replica.engine, Statement(dialect_of(replica.engine), (
                    "SELECT pg_is_in_recovery() AS standby, "
                    "pg_last_wal_replay_lsn()::text AS replayed, "
                    "pg_last_wal_receive_lsn()::text AS received, "
                    "extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8 AS behind")))
        except Exception as exc:  # noqa: BLE001 - whatever failed, the primary serves the read
            self._skip(replica, f"unreachable ({type(exc).__name__}: {_first_line(exc)})")
            return None
        row = rows[0]
        if not row["standby"]:
            # A promoted standby (or the primary's own URL) is no replica of this primary.
            self._skip(replica, "not a standby (pg_is_in_recovery() is false)")
            return None
        return _Status(lsn_value(row["replayed"]), lsn_value(row["received"]), row["behind"])

    def _current_enough(self, replica: Replica, status: _Status, primary: t.Any,
                        primary_at: list[int | None]) -> bool:
        """Whether the standby lags no more than ``max_lag``; sets ``replica.lag``."""
        replica.lag = None
        if status.replayed is not None and status.received is not None \
                and status.replayed >= status.received:
            return True  # it has applied all it received (the receiver may be restarting)
        if status.behind is not None and status.behind <= self.max_lag:
            replica.lag = max(0.0, status.behind)
            return True
        if not primary_at:
            primary_at.append(lsn_value(write_position(primary)))
        if status.replayed is not None and primary_at[0] is not None \
                and status.replayed >= primary_at[0]:
            return True  # nothing written since: an idle primary, not a late standby
        replica.lag = status.behind
        return False

    def failed(self, replica: Replica, exc: BaseException) -> None:
        """A read ``replica`` was chosen for failed (it stopped after its status was asked):
        skipped for ``retry_after`` seconds, its status asked again then, logged."""
        replica.fresh = None
        self._skip(replica, f"failed a read ({type(exc).__name__}: {_first_line(exc)})")

    def _skip(self, replica: Replica, why: str) -> None:
        now = self.clock()
        replica.down_until = now + self.retry_after
        if now - replica.logged_at >= LOG_EVERY:
            replica.logged_at = now
            log.warning("read replica %s %s: reads go to the primary; asked again in %g s",
                        replica.name, why, self.retry_after)


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [""])[0][:200]


def describe(engine: t.Any, index: int = 0) -> str:
    """``host:port/dbname`` of a replica's engine, for the log (never its password)."""
    factory = getattr(engine, "connection_factory", None)
    args = getattr(factory, "args", None) or ()
    if args and isinstance(args[0], str):
        try:
            from psycopg.conninfo import conninfo_to_dict

            text = args[0]
            info = conninfo_to_dict(text if "=" in text else "postgresql://" + text)
            return f"{info.get('host', 'localhost')}:{info.get('port', 5432)}/{info.get('dbname', '')}"
        except Exception:  # noqa: BLE001 - a name for the log only
            pass
    return f"#{index + 1}"


def with_connect_timeout(url: str, seconds: int = CONNECT_TIMEOUT) -> str:
    """A PostgreSQL URL with ``connect_timeout`` when it sets none."""
    if "connect_timeout" in url:
        return url
    return f"{url}{'&' if '?' in url else '?'}connect_timeout={int(seconds)}"


def replica_engine(target: t.Any) -> t.Any:
    """A sqlorm Engine for one entry of ``read_urls``: an Engine as given, or one made from a
    URL like the main one (sqlorm_uri, enable_postgresql), with a short connect timeout."""
    from sqlorm import Engine

    from .sqlorm_compat import enable_postgresql, sqlorm_uri

    if isinstance(target, str):
        url = target.strip()
        scheme = url.split("://", 1)[0].lower() if "://" in url else ""
        if scheme.startswith("postgres"):
            url = with_connect_timeout(url)
        target = Engine.from_uri(sqlorm_uri(url))
    return enable_postgresql(target)
