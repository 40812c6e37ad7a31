"""A PgBouncer of the tests' own (Debian's ``pgbouncer``, which ``make test`` installs when
missing): transaction pooling in front of the test PostgreSQL, on a free port, in a temporary
folder, run as the ``postgres`` user when the tests run as root (PgBouncer refuses root), and
stopped afterwards. It never touches a PgBouncer the machine may run itself.

A database of its own per use (``fresh_database``): PgBouncer does not pass the ``options``
start-up parameter that the other PostgreSQL tests choose their schema with."""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from pg import IN_CI, PG_URL, require_pg

PGBOUNCER = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"


def require_pgbouncer() -> None:
    """Skip (fail when CI is set) where PgBouncer or PostgreSQL is missing."""
    require_pg()
    if not os.access(PGBOUNCER, os.X_OK):
        problem = "Debian's pgbouncer is not installed (make test installs it)"
        if IN_CI:
            pytest.fail(problem + " (CI is set: the PgBouncer tests must run)")
        pytest.skip(problem)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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
def running_pgbouncer(pool_size: int = 1):
    """A PgBouncer in transaction pooling mode with ``pool_size`` server connections per
    database: with one, every transaction of every client runs on the same server connection,
    so that any state a transaction left behind would show in the next one's."""
    folder = Path(tempfile.mkdtemp(prefix="hyper_admin_pgbouncer_"))
    port = _free_port()
    (folder / "users.txt").write_text('"postgres" ""\n')
    (folder / "pgbouncer.ini").write_text(f"""\
[databases]
* = host=127.0.0.1 port=5432

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
ignore_startup_parameters = extra_float_digits
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


@contextlib.contextmanager
def fresh_database():
    """The name of a new, empty database on the test server, dropped afterwards (whoever is
    still connected to it, PgBouncer's server connections included)."""
    import psycopg

    name = f"hyper_admin_pgb_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")  # a name of ours: [a-z0-9_]
    try:
        yield name
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
