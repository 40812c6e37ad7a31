"""The wheel alone serves every page and asset: build it, install it into a fresh venv, fetch."""

import os
import subprocess
import sys
import sysconfig
import textwrap
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow

APP = textwrap.dedent('''
    import re, sys
    from flask import Flask
    from flask_login import LoginManager, UserMixin
    from sqlorm import Engine
    import hyper_admin
    from hyper_admin import Admin

    assert hyper_admin.__file__.startswith(sys.prefix), hyper_admin.__file__  # the wheel, not the checkout

    class User(UserMixin):
        id = "1"
        roles = {"admin"}

    app = Flask(__name__)
    app.config.update(SECRET_KEY="k", TESTING=True)
    LoginManager(app).user_loader(lambda uid: User())
    Admin(app, engine=Engine.from_uri("sqlite://:memory:"), authenticate=lambda u, p: None)
    client = app.test_client()
    login = client.get("/admin/login")
    assert login.status_code == 200, login.status_code
    with client.session_transaction() as s:
        s["_user_id"] = "1"
    page = client.get("/admin/").get_data(as_text=True)
    assert "Dashboard" in page
    french = client.get("/admin/", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert '<html lang="fr">' in french and "Tableau de bord" in french  # the shipped catalog
    assets = re.findall(r'(?:href|src)="(/admin/static/[^"#]+)"', page)
    assert any(a.split("?")[0].endswith(".css") for a in assets), assets
    assert any(a.split("?")[0].endswith(".js") for a in assets), assets
    for url in assets:
        r = client.get(url.replace("&amp;", "&"))
        assert r.status_code == 200 and len(r.data) > 100, url
    print("OK", len(assets))
''')


def test_wheel_installs_and_serves_pages_and_assets(tmp_path):
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(ROOT)],
                   check=True, capture_output=True, timeout=300)
    wheel = next(dist.glob("hyper_admin-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "hyper_admin/templates/hyper_admin/layout.html" in names
    assert "hyper_admin/static/admin.css" in names
    assert "hyper_admin/translations/fr/LC_MESSAGES/hyper_admin.mo" in names
    assert any(n.startswith("hyper_admin/static/vendor/htmx-") for n in names)
    # The browser tests' vendored axe-core (e2e/vendor/) is for the test tree only.
    assert not [n for n in names if n.startswith("e2e/") or "axe" in n.rsplit("/", 1)[-1]]

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    # The dependencies come from this test run's environment (no network needed); the package
    # itself only from the wheel.
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--no-deps", str(wheel)],
                   check=True, capture_output=True, timeout=300)
    deps = sysconfig.get_paths()["purelib"]
    env = {**os.environ, "PYTHONPATH": deps}
    result = subprocess.run([str(python), "-c", APP], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("OK")
