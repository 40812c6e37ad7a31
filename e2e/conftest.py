"""Browser tests: Debian's Chromium driven by Playwright, against a real server on loopback.

Never ``playwright install``: it downloads a browser, and this machine has no internet. Without
a browser the tests skip and say why, except under ``CI``, where they fail.
"""

import contextlib
import os
import shutil
import socket
import threading
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("HYPER_ADMIN_CHROMIUM", "/usr/bin/chromium")
DOCS_IMAGES = Path(__file__).resolve().parent.parent / "docs" / "images"
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def _no_browser_reason() -> str | None:
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        return f"no Chromium at {CHROMIUM} (make test installs Debian's chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright Python package is not installed (pip install -e '.[test]')"
    return None


@pytest.fixture(scope="session")
def browser():
    reason = _no_browser_reason()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(reason + " (CI is set: browser tests must run)")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@contextlib.contextmanager
def browser_page(browser, **options):
    """A page in a context of its own (``options``: Playwright's context options, such as
    ``locale=`` or ``color_scheme=``), closed on leaving."""
    context = browser.new_context(**{"viewport": {"width": 1280, "height": 800}, **options})
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def page(browser):
    with browser_page(browser) as page:
        yield page


def shot(page, name: str) -> Path:
    """Save a full-page screenshot under e2e/screenshots/ (gitignored) and return its path."""
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def docs_shot(page, name: str) -> None:
    """The visible part of the page, for the documentation (docs/images/, and e2e/screenshots/)."""
    path = shot(page, name)
    page.screenshot(path=str(path))
    DOCS_IMAGES.mkdir(exist_ok=True)
    shutil.copyfile(path, DOCS_IMAGES / f"{name}.png")


class LiveServer:
    def __init__(self, app):
        from werkzeug.serving import make_server

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.server = make_server("127.0.0.1", port, app, threaded=True)
        self.url = f"http://127.0.0.1:{port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.thread.join(timeout=5)


@pytest.fixture
def live_server():
    servers = []

    def start(app) -> LiveServer:
        server = LiveServer(app)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def serve_demo(tmp_path_factory, name: str, rows: int, config: dict | None = None):
    """The demo back office on a fresh SQLite file, served on loopback: a fixture's body
    (``yield from serve_demo(...)``). ``config``: app config such as ``HYPER_ADMIN_*`` settings."""
    from hyper_admin.demo.app import create_app

    app = create_app(f"sqlite://{tmp_path_factory.mktemp(name) / 'demo.db'}", rows=rows,
                     config=config)
    server = LiveServer(app)
    yield server
    server.stop()


def sign_in(page, url: str, who: str) -> None:
    """Open ``url``, sign in on the page it leads to as the demo user ``who`` (whose password
    is its name), and wait until ``url`` is back."""
    import re

    page.goto(url)
    page.fill("input[name=username]", who)
    page.fill("input[name=password]", who)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(re.escape(url.split("://", 1)[1].split("/", 1)[1]) + "$"))
