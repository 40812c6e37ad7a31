"""PostgreSQL servers of the demo's and the tests' own: a primary and a streaming standby
(Debian's PostgreSQL 15 binaries: ``initdb``, ``pg_ctl``, ``pg_basebackup -R``) and a
PgBouncer in transaction pooling mode (Debian's ``pgbouncer``), each in a folder of its own,
on free loopback ports, run as the ``postgres`` user when started as root (neither runs as
root). Nothing here touches a server the machine runs itself.

``make demo-replica`` (demo/replica.py) serves the demo on them; tests/pg_cluster.py and
tests/pgbouncer.py start them for the replica and PgBouncer tests. Built for speed, not
durability: fsync, synchronous commit and full-page writes off, small shared buffers.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

#: Where Debian puts PostgreSQL 15's server binaries (package postgresql-15).
BINDIR = Path(os.environ.get("HYPER_ADMIN_PG_BINDIR", "/usr/lib/postgresql/15/bin"))
_TOOLS = ("initdb", "pg_ctl", "pg_basebackup", "postgres")
PGBOUNCER = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"


def cluster_problem() -> str | None:
    """Why a primary and a standby cannot be built here, or None."""
    missing = [tool for tool in _TOOLS if not os.access(BINDIR / tool, os.X_OK)]
    if missing:
        return f"PostgreSQL server binaries missing under {BINDIR}: {', '.join(missing)}"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no postgres user to run PostgreSQL as"
        if not shutil.which("runuser"):
            return "running as root and runuser is missing"
    return None


def pgbouncer_problem() -> str | None:
    """Why PgBouncer cannot be started here, or None."""
    if not os.access(PGBOUNCER, os.X_OK):
        return "Debian's pgbouncer is not installed (make test and make demo-replica install it)"
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _settings(port: int, sockets: Path) -> str:
    return f"""
port = {port}
listen_addresses = '127.0.0.1'
unix_socket_directories = '{sockets}'
fsync = off
synchronous_commit = off
# Asynchronous commits reach the standby once written: soon, so that tests wait little.
wal_writer_delay = '10ms'
full_page_writes = off
wal_level = replica
max_wal_senders = 5
wal_keep_size = '64MB'
hot_standby = on
hot_standby_feedback = on
shared_buffers = '16MB'
max_connections = 60
track_counts = on
autovacuum = off
logging_collector = off
"""


class Server:
    """One server of the cluster: its data folder, port and log."""

    def __init__(self, cluster: "ReplicatedCluster", name: str):
        self.cluster = cluster
        self.name = name
        self.data = cluster.root / name
        self.log = cluster.root / f"{name}.log"
        self.port = _free_port()

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        self.cluster.run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60",
                         "start")

    def stop(self, mode: str = "fast") -> None:
        self.cluster.run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def is_running(self) -> bool:
        return self.cluster.run("pg_ctl", "-D", str(self.data), "status",
                                check=False).returncode == 0

    def log_tail(self) -> str:
        try:
            return self.log.read_text(errors="replace")[-3000:]
        except OSError:
            return ""

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        """Rows of one statement, in a connection of its own (autocommit): each call sees
        the server's statistics afresh."""
        import psycopg

        with psycopg.connect(self.url, autocommit=True, connect_timeout=5) as conn:
            cursor = conn.execute(sql, params)
            return cursor.fetchall() if cursor.description else []

    def scalar(self, sql: str, params: tuple = ()):
        return self.query(sql, params)[0][0]

    def destroy(self) -> None:
        """Stop at once (``-m immediate``), whatever its state; never raises."""
        with contextlib.suppress(Exception):
            if (self.data / "postmaster.pid").exists():
                self.cluster.run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop",
                                 check=False, timeout=30)
        try:
            pid = int((self.data / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)


class ReplicatedCluster:
    """A primary and a streaming standby (``pg_basebackup -R``) in a temporary folder."""

    def __init__(self):
        self.root = Path(tempfile.mkdtemp(prefix="hyper_admin_replicas_"))
        self.as_postgres = os.geteuid() == 0
        if self.as_postgres:
            entry = pwd.getpwnam("postgres")
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
        self.primary = Server(self, "primary")
        self.standby = Server(self, "standby")

    # -- running the binaries -------------------------------------------------------------------

    def run(self, tool: str, *args: str, check: bool = True,
            timeout: float = 120) -> subprocess.CompletedProcess:
        command = [str(BINDIR / tool), *args]
        if self.as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                                cwd=self.root)
        if check and result.returncode != 0:
            raise RuntimeError(
                f"{tool} {' '.join(args[:3])} failed ({result.returncode}):\n{result.stdout}\n"
                f"{result.stderr}\nprimary log:\n{self.primary.log_tail()}\n"
                f"standby log:\n{self.standby.log_tail()}")
        return result

    # -- building -------------------------------------------------------------------------------

    def build(self) -> "ReplicatedCluster":
        primary, standby = self.primary, self.standby
        self.run("initdb", "-D", str(primary.data), "-A", "trust", "-U", "postgres", "-E", "UTF8",
                 "--no-sync", "--no-instructions")
        with open(primary.data / "postgresql.conf", "a") as conf:
            conf.write(_settings(primary.port, self.root))
        # Trust on the loopback only, replication connections included.
        (primary.data / "pg_hba.conf").write_text(
            "local all all trust\n"
            "host all all 127.0.0.1/32 trust\n"
            "host replication all 127.0.0.1/32 trust\n"
            "local replication all trust\n")
        primary.start()
        # -R writes standby.signal and primary_conninfo; -X stream copies the WAL written
        # meanwhile; -c fast checkpoints at once instead of waiting for the next one.
        self.run("pg_basebackup", "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres",
                 "-D", str(standby.data), "-R", "-X", "stream", "-c", "fast", "--no-sync")
        with open(standby.data / "postgresql.conf", "a") as conf:
            # The copied settings name the primary's port: the last line of a setting wins.
            conf.write(f"\nport = {standby.port}\n")
        standby.start()
        self._wait_streaming()
        return self

    def _wait_streaming(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(Exception):
                if self.primary.query("SELECT 1 FROM pg_stat_replication WHERE state = 'streaming'"):
                    return
            time.sleep(0.05)
        raise RuntimeError(f"the standby never streamed:\n{self.standby.log_tail()}")

    def destroy(self) -> None:
        self.standby.destroy()
        self.primary.destroy()
        shutil.rmtree(self.root, ignore_errors=True)

    # -- helpers for the tests ------------------------------------------------------------------

    @property
    def primary_url(self) -> str:
        return self.primary.url

    @property
    def standby_url(self) -> str:
        return self.standby.url

    def primary_lsn(self) -> str:
        # The insert position: with asynchronous commit the last commit may not be written yet.
        return self.primary.scalar("SELECT pg_current_wal_insert_lsn()::text")

    def replayed(self, lsn: str) -> bool:
        return bool(self.standby.scalar(
            "SELECT coalesce(pg_last_wal_replay_lsn() >= %s::pg_lsn, false)", (lsn,)))

    def wait_for_replay(self, timeout: float = 20) -> None:
        """Until the standby has replayed everything the primary has written so far."""
        lsn = self.primary_lsn()
        deadline = time.monotonic() + timeout
        while not self.replayed(lsn):
            if time.monotonic() > deadline:
                raise TimeoutError(f"the standby did not replay {lsn} within {timeout} s")
            time.sleep(0.02)

    def pause_replay(self) -> None:
        self.standby.query("SELECT pg_wal_replay_pause()")
        # Pausing is asked for, then takes effect: wait until the standby says so.
        deadline = time.monotonic() + 10
        while self.standby.scalar("SELECT pg_get_wal_replay_pause_state()") != "paused":
            if time.monotonic() > deadline:
                raise TimeoutError("the standby did not pause its replay")
            time.sleep(0.01)

    def resume_replay(self) -> None:
        self.standby.query("SELECT pg_wal_replay_resume()")

    @contextlib.contextmanager
    def replay_paused(self):
        """The standby receives the primary's WAL but does not apply it: it lags from here on,
        and catches up when the block ends."""
        self.pause_replay()
        try:
            yield
        finally:
            self.resume_replay()

    def stop_standby(self) -> None:
        self.standby.stop("fast")

    def start_standby(self) -> None:
        self.standby.start()
        self._wait_streaming()



@dataclass
class Bouncer:
    port: int
    folder: Path
    process: subprocess.Popen

    def url(self, database: str, **query: str) -> str:
        tail = "&".join(f"{k}={v}" for k, v in query.items())
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}" + (f"?{tail}" if tail else "")

    def show(self, what: str) -> list[dict]:
        """A ``SHOW <what>`` of PgBouncer's admin console (STATS, POOLS, ...)."""
        import psycopg
        from psycopg.rows import dict_row

        with psycopg.connect(self.url("pgbouncer"), autocommit=True, row_factory=dict_row,
                             prepare_threshold=None) as conn:
            return conn.execute(f"SHOW {what}").fetchall()  # a fixed word of ours

    def log(self) -> str:
        path = self.folder / "pgbouncer.log"
        return path.read_text() if path.exists() else ""


@contextlib.contextmanager
def running_pgbouncer(pool_size: int = 1, server_port: int = 5432,
                      ignore_options: bool = False):
    """A PgBouncer in transaction pooling mode in front of the server at ``server_port``, with
    ``pool_size`` server connections per database: with one, every transaction of every client
    runs on the same server connection, so that any state a transaction left behind would show
    in the next one's. ``ignore_options``: accept libpq's ``options`` start-up parameter and
    drop it (the demo's schema then comes from its role's search_path)."""
    ignored = "extra_float_digits,options" if ignore_options else "extra_float_digits"
    folder = Path(tempfile.mkdtemp(prefix="hyper_admin_pgbouncer_"))
    port = _free_port()
    (folder / "users.txt").write_text('"postgres" ""\n')
    (folder / "pgbouncer.ini").write_text(f"""\
[databases]
* = host=127.0.0.1 port={server_port}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {folder}/users.txt
admin_users = postgres
pool_mode = transaction
default_pool_size = {pool_size}
max_client_conn = 200
ignore_startup_parameters = {ignored}
logfile = {folder}/pgbouncer.log
pidfile = {folder}/pgbouncer.pid
""")
    command = [PGBOUNCER, str(folder / "pgbouncer.ini")]
    if os.geteuid() == 0:  # PgBouncer will not run as root
        user = pwd.getpwnam("postgres")
        for path in (folder, *folder.iterdir()):
            os.chown(path, user.pw_uid, user.pw_gid)
        command = ["runuser", "-u", "postgres", "--", *command]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    bouncer = Bouncer(port=port, folder=folder, process=process)
    try:
        deadline = time.monotonic() + 10
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
                break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"pgbouncer did not start: {process.stderr.read().decode()}"
                                   f"{bouncer.log()}")
            time.sleep(0.05)
        yield bouncer
    finally:
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(folder, ignore_errors=True)


