"""``hyper-admin serve DATABASE_URL`` started as a real process (waitress on a free port) on
SQLite and PostgreSQL, over reflect_schema.py's tables: sign in as ``admin`` through the
sign-in page, every table listed, foreign keys labelled and linked, a composite-key row
reachable from its list; ``--read-only`` refuses every write with 403 and shows no write
control; the random password printed once; what stops it said in one line."""

import contextlib
import http.client
import io
import os
import re
import socket
import subprocess
import sys
import time
from http.cookies import SimpleCookie
from urllib.parse import urlencode

import pytest

from hyper_admin.serve import main as serve_main
from pg import PG_URL
from reflect_schema import SLUGS, create_reflect_schema

PASSWORD = "a long test password"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Browser:
    """Cookies and forms over http.client; redirects are not followed (their status counts)."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, data: dict | None = None) -> tuple[int, str, dict]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if data is not None:
            body = urlencode(data, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            text = response.read().decode("utf-8", errors="replace")
        finally:
            conn.close()
        for header in response.headers.get_all("Set-Cookie") or ():
            cookie = SimpleCookie()
            cookie.load(header)
            self.cookies.update({name: morsel.value for name, morsel in cookie.items()})
        return response.status, text, {k.lower(): v for k, v in response.getheaders()}

    def get(self, path: str) -> tuple[int, str]:
        status, text, _headers = self.request("GET", path)
        return status, text

    def post(self, path: str, data: dict) -> int:
        return self.request("POST", path, {"csrf_token": self.csrf, **data})[0]

    def sign_in(self, password: str) -> int:
        _status, page = self.get("/admin/login")
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        status, _text, headers = self.request("POST", "/admin/login", {
            "username": "admin", "password": password, "csrf_token": token, "next": ""})
        if status == 303:
            _status, dashboard = self.get(headers["location"])
            self.csrf = re.search(r'name="csrf-token" content="([^"]+)"', dashboard).group(1)
        return status


@contextlib.contextmanager
def serving(url: str, *args: str, cwd, password: str | None = PASSWORD):
    """``hyper-admin serve url args`` on a free port, up and answering; stopped afterwards.
    Yields (Browser, the path of its standard output)."""
    port = free_port()
    out, err = cwd / f"serve-{port}.out", cwd / f"serve-{port}.err"
    env = {k: v for k, v in os.environ.items() if k not in ("HYPER_ADMIN_PASSWORD", "SECRET_KEY")}
    if password is not None:
        env["HYPER_ADMIN_PASSWORD"] = password
    with open(out, "w") as stdout, open(err, "w") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "hyper_admin", "serve", url, "--port", str(port), *args],
            cwd=cwd, env=env, stdout=stdout, stderr=stderr)
    try:
        browser = Browser(port)
        deadline = time.monotonic() + 90
        while True:
            if process.poll() is not None:
                raise AssertionError(f"serve exited {process.returncode}: {err.read_text()}")
            with contextlib.suppress(OSError):
                if browser.get("/admin/login")[0] == 200:
                    break
            if time.monotonic() > deadline:
                raise AssertionError("serve did not answer within 90 s: " + err.read_text())
            time.sleep(0.2)
        yield browser, out
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def database(backend, engine, request, tmp_path):
    """(URL and arguments to serve the reflect schema, the slugs it gets). SQLite: the
    relative form of the URL (serve runs in the database's folder); PostgreSQL: the server's
    URL and ``--schema``."""
    create_reflect_schema(engine)
    engine.disconnect_all()
    if backend == "sqlite":
        return "sqlite://test.db", [], SLUGS[backend]
    schema, _url = request.getfixturevalue("pg_schema")
    return PG_URL, ["--schema", schema], SLUGS[backend]


#: What a page may not show in a read-only admin.
WRITE_CONTROLS = [r'href="[^"]*/new[?"]', r'href="[^"]*/edit"', r'href="[^"]*/delete"',
                  r'name="pk"', r'value="delete"', r'/cell/']


def test_serve_signs_in_lists_every_table_and_links_keys(database, tmp_path):
    url, args, slugs = database
    with serving(url, *args, cwd=tmp_path) as (browser, out):
        assert browser.sign_in("not the password") != 303
        assert browser.sign_in(PASSWORD) == 303
        status, dashboard = browser.get("/admin/")
        assert status == 200
        for slug in slugs.values():
            assert f'href="/admin/{slug}/"' in dashboard, slug
        # Foreign keys labelled and linked in lists.
        _status, albums = browser.get(f"/admin/{slugs['album']}/?sort=album_id")
        # The write controls a read-only admin must not show are there otherwise.
        assert all(re.search(control, albums) for control in WRITE_CONTROLS[:1] + [r'name="pk"'])
        rows = re.findall(r"<tr\b.*?</tr>", albums.split("<tbody", 1)[1], re.S)
        assert re.search(rf'href="/admin/{slugs["artist"]}/1/"[^>]*>AC/DC<', rows[0])
        assert re.search(rf'href="/admin/{slugs["artist"]}/2/"[^>]*>Accept<', rows[1])
        # A composite-key row's page, reached from its list.
        _status, playlist = browser.get(f"/admin/{slugs['playlist']}/")
        row_link = f"/admin/{slugs['playlist']}/2,3/"
        assert f'href="{row_link}"' in playlist
        status, detail = browser.get(row_link)
        assert status == 200 and "Restless and Wild" in detail
    said = out.read_text()
    assert "/admin" in said and "HYPER_ADMIN_PASSWORD" in said and PASSWORD not in said


def test_serve_read_only_refuses_every_write(database, tmp_path, engine):
    url, args, slugs = database
    with serving(url, *args, "--read-only", cwd=tmp_path) as (browser, _out):
        assert browser.sign_in(PASSWORD) == 303
        pages = ["/admin/", *(f"/admin/{slug}/" for slug in slugs.values()),
                 f"/admin/{slugs['album']}/1/", f"/admin/{slugs['playlist']}/1,1/",
                 f"/admin/{slugs['artist']}/1/"]
        for path in pages:
            status, html = browser.get(path)
            assert status == 200, path
            shown = [p for p in WRITE_CONTROLS if re.search(p, html)]
            assert not shown, (path, shown)
        album, row = slugs["album"], f"/admin/{slugs['playlist']}/1,1"
        for path in (f"/admin/{album}/new", f"/admin/{album}/1/edit",
                     f"/admin/{album}/1/delete", f"{row}/edit", f"{row}/delete"):
            assert browser.get(path)[0] == 403, path
            assert browser.post(path, {"title": "changed", "_save": "1"}) == 403, path
        assert browser.post(f"/admin/{album}/action",
                            {"action": "delete", "pk": "1", "confirmed": "1"}) == 403
        assert browser.post(f"/admin/{album}/1/cell/title", {"title": "changed"}) == 403
        assert browser.post(f"/admin/{album}/1/history/1/restore", {}) == 403
    with engine as tx:
        assert tx.fetchscalar('SELECT count(*) FROM "Album"') == 3
        assert tx.fetchscalar('SELECT "Title" FROM "Album" WHERE "AlbumId" = 1') \
            == "For Those About to Rock"


def test_serve_prints_a_random_password_once(tmp_path):
    from demo_db import open_engine

    engine = open_engine(f"sqlite://{tmp_path / 'music.db'}")
    create_reflect_schema(engine)
    engine.disconnect_all()
    with serving(f"sqlite://{tmp_path / 'music.db'}", "--tables", "Album,Art*",
                 cwd=tmp_path, password=None) as (browser, out):
        said = re.search(r"password (\S+)", out.read_text())
        assert said, out.read_text()
        assert browser.sign_in(said.group(1)) == 303
        _status, dashboard = browser.get("/admin/")
        assert 'href="/admin/album/"' in dashboard and 'href="/admin/artist/"' in dashboard
        assert 'href="/admin/sale/"' not in dashboard


@pytest.mark.parametrize("argv, said", [
    (["sqlite://no/such/file.db"], "no SQLite database file"),
    (["mysql://localhost/db"], "sqlite:// or postgresql://"),
    (["postgresql://postgres:secret@127.0.0.1:1/test"], "cannot connect to "
     "postgresql://postgres:***@127.0.0.1:1/test"),
])
def test_serve_says_what_stops_it(argv, said):
    log = io.StringIO()
    assert serve_main(argv, out=io.StringIO(), log=log) == 2
    assert said in log.getvalue()


def test_serve_refuses_a_table_it_cannot_find(tmp_path):
    from demo_db import open_engine

    engine = open_engine(f"sqlite://{tmp_path / 'music.db'}")
    create_reflect_schema(engine)
    engine.disconnect_all()
    log = io.StringIO()
    argv = [f"sqlite://{tmp_path / 'music.db'}", "--tables", "Album,Nosuch"]
    assert serve_main(argv, out=io.StringIO(), log=log) == 2
    assert "no table or view named 'Nosuch'" in log.getvalue()


def test_a_large_catalog_says_how_far_it_got(tmp_path):
    """A progress line on standard error every 50 tables, read and registered."""
    from demo_db import open_engine

    from hyper_admin.serve import ServeOptions, create_app

    engine = open_engine(f"sqlite://{tmp_path / 'wide.db'}")
    with engine as tx:
        for number in range(60):
            tx.execute(f"CREATE TABLE t{number} (id INTEGER PRIMARY KEY, name TEXT)")
    engine.disconnect_all()
    log = io.StringIO()
    app = create_app(ServeOptions(f"sqlite://{tmp_path / 'wide.db'}"), password="pw",
                     secret_key="test", log=log)
    app.extensions["hyper_admin_serve"]["engine"].disconnect_all()
    assert log.getvalue().splitlines() == [
        "hyper-admin serve: read 50 of 60 tables and views",
        "hyper-admin serve: read 60 of 60 tables and views",
        "hyper-admin serve: registered 50 of 60 tables and views",
        "hyper-admin serve: registered 60 of 60 tables and views",
    ]


def test_slugs_are_url_segments_unique_in_the_admin():
    from hyper_admin.serve import RESERVED_SLUGS, slug_for

    taken = set(RESERVED_SLUGS)
    names = ["PlaylistTrack", "order items", "Order Items", "static", "日本", ".hidden"]
    assert [slug_for(name, taken) for name in names] == [
        "playlisttrack", "order-items", "order-items-2", "static-2", "table", "hidden"]
