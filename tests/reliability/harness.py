"""Real processes for the reliability tests and the load bench: gunicorn instances of the demo,
a throwaway PostgreSQL cluster of our own, and a small HTTP client that signs in and posts forms
as a browser does.

Shared by tests/reliability/ and bench/load_bench.py (which puts this folder on sys.path).
Everything here cleans up after itself: servers are stopped and their folders removed, even when
the caller fails.
"""

from __future__ import annotations

import contextlib
import glob
import http.client
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import typing as t
import urllib.parse
import uuid
from html.parser import HTMLParser
from http.cookies import SimpleCookie

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PG_URL = os.environ.get("HYPER_ADMIN_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("HYPER_ADMIN_TEST_REDIS", "redis://127.0.0.1:6379/12")
IN_CI = bool(os.environ.get("CI"))


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now (the kernel's choice)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate: t.Callable[[], t.Any], timeout: float, what: str, interval: float = 0.05):
    """Poll ``predicate`` until it returns something truthy (returned), or fail after
    ``timeout`` seconds saying ``what`` was awaited."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def require(problem: str | None) -> None:
    """Skip the test for ``problem`` (a missing server or binary), or fail under CI, where
    every test must run (the rule of tests/pg.py)."""
    if problem:
        import pytest

        if IN_CI:
            pytest.fail(problem + " (CI is set: the reliability tests must run)")
        pytest.skip(problem)


def loopback_source() -> str:
    """A loopback address of our own (127.x.y.z) for a client: sign-in throttling counts per
    client address, and other runs on this machine share the Redis that counts."""
    import random

    return "127.{}.{}.{}".format(*(random.randint(1, 254) for _ in range(3)))


def redis_problem(url: str = REDIS_URL) -> str | None:
    """Why Redis at ``url`` cannot be used, or None."""
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except Exception as exc:  # noqa: BLE001 - any failure means "no Redis here"
        return f"Redis at {url} unreachable: {exc}"
    return None


# ---------------------------------------------------------------------------------------------
# A PostgreSQL schema of our own on the shared server


def pg_schema_url(schema: str, base: str = PG_URL) -> str:
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options=-c%20search_path%3D{schema}"


def seed_demo(database_url: str, schema: str, rows: int, log=None) -> None:
    """Create ``schema`` and seed the demo into it (``rows`` orders) with a plain engine: no
    Flask app in this process (flask-sqlorm's receivers are process-wide)."""
    from sqlorm import Engine

    from hyper_admin import enable_postgresql
    from hyper_admin.demo.app import ensure_pg_schema, prepare_database, sqlorm_uri
    from hyper_admin.storage import ensure_tables

    engine = enable_postgresql(Engine.from_uri(sqlorm_uri(database_url, schema)))
    try:
        ensure_pg_schema(engine, schema)
        prepare_database(engine, rows=rows, reseed=True, log=log or (lambda *a, **k: None))
        ensure_tables(engine)
    finally:
        engine.disconnect_all()


def drop_schema(schema: str, base: str = PG_URL) -> None:
    """Drop ``schema`` and what it holds, waiting up to 30 s for the locks a run left."""
    import psycopg

    with psycopg.connect(base, autocommit=True, connect_timeout=5) as conn:
        conn.execute("SET lock_timeout = '30s'")
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def new_schema_name(prefix: str = "ha_rel_") -> str:
    return prefix + uuid.uuid4().hex[:12]


# ---------------------------------------------------------------------------------------------
# A throwaway PostgreSQL cluster


def postgres_bindir() -> str | None:
    """Debian's PostgreSQL binaries (the newest version installed), or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: [int(x) for x in re.findall(r"\d+", p)])
    return os.path.dirname(found[-1]) if found else None


class PrivatePostgres:
    """A PostgreSQL cluster of our own on a free loopback port, for faults the shared server
    must not suffer (a restart). fsync off; its data folder is removed by :meth:`destroy`.

    PostgreSQL refuses to run as root: as root, its commands run as the ``postgres`` user
    (``runuser``), in a folder owned by that user.
    """

    def __init__(self, bindir: str | None = None):
        self.bindir = bindir or postgres_bindir()
        if self.bindir is None:
            raise RuntimeError("no PostgreSQL server binaries (initdb) under /usr/lib/postgresql")
        self.port = free_port()
        self.root = tempfile.mkdtemp(prefix="ha_private_pg_")
        self.data = os.path.join(self.root, "data")
        self.log = os.path.join(self.root, "server.log")
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            entry = pwd.getpwnam("postgres")
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str, timeout: float = 60,
             check: bool = True) -> subprocess.CompletedProcess:
        command = [os.path.join(self.bindir, args[0]), *args[1:]]
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                                cwd=self.root)
        if check and result.returncode != 0:
            raise RuntimeError(f"{' '.join(args[:2])} failed ({result.returncode}):\n"
                               f"{result.stdout}\n{result.stderr}\n{self.server_log()}")
        return result

    def server_log(self) -> str:
        try:
            with open(self.log, encoding="utf-8", errors="replace") as f:
                return f.read()[-4000:]
        except OSError:
            return ""

    def init(self) -> "PrivatePostgres":
        self._run("initdb", "-D", self.data, "-A", "trust", "-U", "postgres", "-E", "UTF8",
                  "--no-sync", "--no-instructions")
        return self

    def start(self) -> None:
        options = (f"-p {self.port} -c listen_addresses=127.0.0.1 -c fsync=off "
                   f"-c synchronous_commit=off -c full_page_writes=off "
                   f"-c unix_socket_directories={self.root} -c max_connections=100")
        self._run("pg_ctl", "-D", self.data, "-l", self.log, "-o", options, "-w", "-t", "60",
                  "start")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", self.data, "-m", mode, "-w", "-t", "60", "stop")

    def is_running(self) -> bool:
        return self._run("pg_ctl", "-D", self.data, "status", check=False).returncode == 0

    def destroy(self) -> None:
        """Stop the server (immediately) and remove its folder; never raises."""
        try:
            if os.path.exists(os.path.join(self.data, "postmaster.pid")):
                self._run("pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop",
                          check=False, timeout=30)
        except Exception:  # noqa: BLE001 - cleaning up: go on and remove the folder
            pass
        finally:
            self._kill_leftover_postmaster()
            shutil.rmtree(self.root, ignore_errors=True)

    def postmaster_pid(self) -> int | None:
        try:
            with open(os.path.join(self.data, "postmaster.pid")) as f:
                return int(f.readline())
        except (OSError, ValueError):
            return None

    def _kill_leftover_postmaster(self) -> None:
        try:
            with open(os.path.join(self.data, "postmaster.pid")) as f:
                pid = int(f.readline())
        except (OSError, ValueError):
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)


def private_postgres_problem() -> str | None:
    """Why a private cluster cannot be started here, or None."""
    if postgres_bindir() is None:
        return "no PostgreSQL server binaries (initdb) under /usr/lib/postgresql"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no 'postgres' user to run PostgreSQL as"
        if shutil.which("runuser") is None:
            return "running as root and runuser is missing"
    return None


# ---------------------------------------------------------------------------------------------
# gunicorn


def child_pids(pid: int) -> set[int]:
    """The processes whose parent is ``pid`` (from /proc)."""
    found = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces and parentheses
        fields = stat[stat.rfind(")") + 2:].split()
        if len(fields) > 1 and fields[1] == str(pid) and fields[0] != "Z":
            found.add(int(entry))
    return found


class Gunicorn:
    """One gunicorn instance (a master and its workers) of ``app`` on a free loopback port.

    ``env`` is added to this process's environment. Output goes to a log file, shown by
    :meth:`log_tail` when something fails.
    """

    def __init__(self, app: str, env: dict[str, str], *, workers: int = 2,
                 worker_class: str = "sync", threads: int = 1, timeout: int = 30,
                 extra: t.Sequence[str] = (), name: str = "gunicorn"):
        self.app, self.workers = app, workers
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, **env}
        # The tests' own modules (fault_app) are importable by the workers.
        self.env["PYTHONPATH"] = os.pathsep.join(
            p for p in (os.path.dirname(os.path.abspath(__file__)), REPO,
                        self.env.get("PYTHONPATH", "")) if p)
        self.args = [sys.executable, "-m", "gunicorn",
                     "-c", "python:hyper_admin.demo.gunicorn_conf",
                     "-b", f"127.0.0.1:{self.port}", "-w", str(workers), "-k", worker_class,
                     "--threads", str(threads), "-t", str(timeout), "--graceful-timeout", "5",
                     *extra, app]
        self.logfile = tempfile.NamedTemporaryFile(prefix=f"ha_{name}_", suffix=".log",
                                                   delete=False)
        self.process: subprocess.Popen | None = None

    def start(self, ready_path: str = "/admin/login", timeout: float = 60) -> "Gunicorn":
        self.process = subprocess.Popen(self.args, env=self.env, stdout=self.logfile,
                                        stderr=subprocess.STDOUT, cwd=REPO,
                                        start_new_session=True)
        try:
            wait_for(lambda: self._answers(ready_path), timeout, f"gunicorn on {self.url}")
            # Every worker booted (the first answer only proves one did).
            wait_for(lambda: len(self.worker_pids()) == self.workers, timeout,
                     f"{self.workers} workers")
        except Exception:
            self.stop()
            raise RuntimeError(f"gunicorn did not start:\n{self.log_tail()}") from None
        return self

    def _answers(self, path: str) -> bool:
        if self.process.poll() is not None:
            raise RuntimeError(f"gunicorn exited ({self.process.returncode}):\n{self.log_tail()}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
            conn.request("GET", path)
            status = conn.getresponse().status
            conn.close()
            return status < 500
        except OSError:
            return False

    def worker_pids(self) -> set[int]:
        return child_pids(self.process.pid) if self.process else set()

    def log_tail(self, chars: int = 6000) -> str:
        self.logfile.flush()
        with open(self.logfile.name, encoding="utf-8", errors="replace") as f:
            return f.read()[-chars:]

    def log_text(self) -> str:
        return self.log_tail(10_000_000)

    def stop(self) -> None:
        """TERM the master (workers finish their request), KILL the group after 15 s."""
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def close(self) -> None:
        self.stop()
        self.logfile.close()
        with contextlib.suppress(OSError):
            os.unlink(self.logfile.name)


def demo_env(database_url: str, schema: str, **extra: str) -> dict[str, str]:
    """The environment of hyper_admin.demo.wsgi for a schema of ``database_url``."""
    return {"DATABASE_URL": database_url, "DEMO_PG_SCHEMA": schema,
            "SECRET_KEY": "reliability-" + uuid.uuid4().hex,
            "HYPER_ADMIN_LOGIN_STORAGE_URI": REDIS_URL, **extra}


# ---------------------------------------------------------------------------------------------
# A browser, as far as the admin needs one


class Response(t.NamedTuple):
    status: int
    headers: dict[str, str]
    body: str

    @property
    def location(self) -> str:
        return self.headers.get("location", "")


class Browser:
    """Cookies, keep-alive and forms over http.client: what a person's browser sends.

    ``source`` is the loopback address to connect from (127.x.y.z): sign-in throttling counts
    per client address, so tests that fail sign-ins on purpose use an address of their own.
    Cookies are kept per browser, not per server: like a browser in front of a load balancer,
    the same cookie goes to every instance.
    """

    def __init__(self, base_url: str, *, source: str | None = None, timeout: float = 30):
        self.base_url = base_url
        parts = urllib.parse.urlsplit(base_url)
        self.host, self.port = parts.hostname, parts.port
        self.source = source
        self.timeout = timeout
        self.cookies: dict[str, str] = {}
        self._conn: http.client.HTTPConnection | None = None
        self._idle_since = 0.0

    def at(self, base_url: str) -> "Browser":
        """The same browser (cookies), pointed at another server."""
        other = Browser(base_url, source=self.source, timeout=self.timeout)
        other.cookies = self.cookies
        return other

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            self._conn = http.client.HTTPConnection(
                self.host, self.port, timeout=self.timeout,
                source_address=(self.source, 0) if self.source else None)
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def request(self, method: str, path: str, data: dict | list | None = None,
                headers: dict[str, str] | None = None) -> Response:
        body = urllib.parse.urlencode(data, doseq=True) if data is not None else None
        sent = {}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if body is not None:
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        sent.update(headers or {})
        if method != "GET" and self._conn is not None and time.monotonic() - self._idle_since > 1:
            self.close()  # the server may have closed it meanwhile: never resend a write
        for attempt in (1, 2):
            reused = self._conn is not None
            conn = self._connection()
            try:
                conn.request(method, path, body=body, headers=sent)
                raw = conn.getresponse()
                payload = raw.read()
                break
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self.close()
                # A kept-alive connection the server closed while idle: a GET is sent again
                # on a new one, as browsers do. Anything else is the answer.
                if attempt == 2 or not reused or method != "GET":
                    raise
        self._idle_since = time.monotonic()
        response_headers = {k.lower(): v for k, v in raw.getheaders()}
        for header in raw.headers.get_all("Set-Cookie") or ():
            cookie = SimpleCookie()
            cookie.load(header)
            for name, morsel in cookie.items():
                if morsel["max-age"] == "0" or morsel["expires"].startswith("Thu, 01 Jan 1970"):
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        if raw.will_close:
            self.close()
        return Response(raw.status, response_headers, payload.decode("utf-8", errors="replace"))

    def get(self, path: str, **kw) -> Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, data: dict | list, **kw) -> Response:
        return self.request("POST", path, data=data, **kw)

    def sign_in(self, username: str, password: str) -> Response:
        page = self.get("/admin/login")
        token = csrf_token(page.body)
        return self.post("/admin/login", {"username": username, "password": password,
                                          "csrf_token": token, "next": ""})


# ---------------------------------------------------------------------------------------------
# Forms


_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"'
                   r'|<meta name="csrf-token" content="([^"]+)"')


def csrf_token(page: str) -> str:
    match = _CSRF.search(page)
    if not match:
        raise AssertionError("no CSRF token in the page:\n" + page[:2000])
    return match.group(1) or match.group(2)


class _FormReader(HTMLParser):
    """The fields of the first ``<form method="post">`` whose action starts with ``action``,
    with the values a browser would submit (checked boxes, selected options, textarea text)."""

    def __init__(self, action: str):
        super().__init__(convert_charrefs=True)
        self.action = action
        self.inside = False
        self.done = False
        self.fields: list[tuple[str, str]] = []
        self._select: str | None = None
        self._select_value: str | None = None
        self._select_first: str | None = None
        self._textarea: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = {k: (v or "") for k, v in attrs}
        if tag == "form" and not self.done and not self.inside:
            posts = a.get("method", "").lower() == "post"
            if posts and a.get("action", "").startswith(self.action):
                self.inside = True
            return
        if not self.inside:
            return
        name = a.get("name")
        if tag == "input" and name and "disabled" not in a:
            kind = a.get("type", "text").lower()
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self.fields.append((name, a.get("value", "on")))
            elif kind not in ("submit", "button", "reset", "file", "image"):
                self.fields.append((name, a.get("value", "")))
        elif tag == "select" and name and "disabled" not in a:
            self._select, self._select_value, self._select_first = name, None, None
        elif tag == "option" and self._select is not None:
            value = a.get("value", "")
            if self._select_first is None:
                self._select_first = value
            if "selected" in a:
                self._select_value = value
        elif tag == "textarea" and name and "disabled" not in a:
            self._textarea, self._text = name, []

    def handle_endtag(self, tag):
        if not self.inside:
            return
        if tag == "select" and self._select is not None:
            value = self._select_value if self._select_value is not None else self._select_first
            if value is not None:
                self.fields.append((self._select, value))
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            text = "".join(self._text)
            self.fields.append((self._textarea, text[1:] if text.startswith("\n") else text))
            self._textarea = None
        elif tag == "form":
            self.inside, self.done = False, True

    def handle_data(self, data):
        if self._textarea is not None:
            self._text.append(data)


def form_fields(page: str, action: str) -> dict[str, str]:
    """The fields a browser would post from the page's form whose action starts with
    ``action`` (one value per name: the admin's edit forms have no repeated names)."""
    reader = _FormReader(action)
    reader.feed(page)
    if not reader.fields:
        raise AssertionError(f"no form posting to {action} in the page:\n{page[:2000]}")
    return dict(reader.fields)
