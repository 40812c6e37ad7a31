"""Attacks through uploads and downloads (issue 19, docs/files.md): ids B14, D10, D11, E08 and
E09 of docs/security.md, on SQLite and PostgreSQL. The site (tests/files_app.py): documents
with a file, an image and a bytes column; support agents see the EU region only."""

import io

import pytest

from apps import as_user, members
from files_app import create_documents, files_app, gif_js_polyglot, png, png_bomb
from hyper_admin.file_storage import LocalStorage, StorageKeyError, new_key, sanitize_name
from hyper_admin.testing import AdminClient

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")

SVG = (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">'
       b"<script>alert(document.cookie)</script></svg>")
HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"


@pytest.fixture
def site(engine, tmp_path):
    create_documents(engine)
    root = tmp_path / "files"
    app, _admin = files_app(engine, root)
    people = members(engine)
    agent = AdminClient(app).login_as(people["agent"])
    return app, engine, agent, root, people


def _row(engine, pk):
    with engine as tx:
        return dict(tx.fetchone(f"SELECT * FROM fl_documents WHERE id = {int(pk)}"))


def _files(root):
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def _never_inline(response):
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.mimetype in ("application/octet-stream", "text/plain")


def test_E08_svg_and_html_uploads_are_never_served_inline(site):
    _app, engine, agent, root, _people = site
    for content, name in ((SVG, "logo.svg"), (HTML, "page.html"), (HTML, "page.png")):
        pk = agent.create("fl_documents", title=name, region="eu",
                          attachment=(io.BytesIO(content), name)).pk
        response = agent.get(f"/admin/fl_documents/{pk}/file/attachment")
        _never_inline(response)
        assert response.get_data() == content
        # Not an image: no thumbnail route for a file column, no <img> of it anywhere.
        assert agent.get(f"/admin/fl_documents/{pk}/thumbnail/attachment").status_code == 404
        assert "<img" not in agent.get(f"/admin/fl_documents/{pk}/").get_data(as_text=True).split(
            'id="main"')[1].split("</main>")[0]
    # As an image they are refused outright, whatever name and type the client claims.
    for content, name in ((SVG, "logo.svg"), (HTML, "photo.jpg")):
        refused = agent.create("fl_documents", title="x", region="eu",
                               picture=(io.BytesIO(content), name))
        assert refused.status == 422 and "not an image that can be read" in refused.html
    assert len(_files(root)) == 3  # the three attachments, kept as downloads only


def test_E09_a_gif_javascript_polyglot_is_no_script_and_shown_only_re_encoded(site):
    _app, engine, agent, root, _people = site
    polyglot = gif_js_polyglot()
    assert polyglot.startswith(b"GIF89a/*") and b"alert(" in polyglot
    pk = agent.create("fl_documents", title="poly", region="eu",
                      attachment=(io.BytesIO(polyglot), "x.js"),
                      picture=(io.BytesIO(polyglot), "x.gif")).pk
    for field in ("attachment", "picture"):
        download = agent.get(f"/admin/fl_documents/{pk}/file/{field}")
        assert download.headers["Content-Disposition"].startswith("attachment;")
        assert download.headers["X-Content-Type-Options"] == "nosniff"
        assert download.mimetype == "image/gif"  # its bytes' type: never a script type
        assert "javascript" not in download.headers["Content-Type"]
    thumbnail = agent.get(f"/admin/fl_documents/{pk}/thumbnail/picture")
    assert thumbnail.mimetype == "image/png" and thumbnail.headers["X-Content-Type-Options"] == "nosniff"
    data = thumbnail.get_data()
    assert data.startswith(b"\x89PNG") and b"alert(" not in data  # re-encoded by Pillow


def test_D10_names_are_never_paths(site, tmp_path):
    _app, engine, agent, root, _people = site
    names = ["../../etc/passwd", "/etc/passwd", "..\\..\\windows\\win.ini", "a\x00.png.sh",
             "....//....//x", "C:\\boot.ini", ".htaccess", ".."]
    for name in names:
        result = agent.create("fl_documents", title="n", region="eu",
                              attachment=(io.BytesIO(b"data"), name))
        assert result.ok, (name, result.errors)
        assert _row(engine, result.pk)["attachment"], name
        key = _row(engine, result.pk)["attachment"]
        table, folder, last = key.split("/")
        assert table == "fl_documents" and len(folder) == 32
        assert ".." not in key and "\\" not in key and "\x00" not in key and not last.startswith(".")
        assert (root / key).resolve().is_relative_to(root.resolve())
    assert not (tmp_path / "etc").exists() and not (root.parent / "etc").exists()
    assert sanitize_name("../../etc/passwd") == "passwd" and sanitize_name("..") == "file"
    assert new_key("t", "/etc/passwd").endswith("/passwd")
    # A key written into the column by other means never leaves the storage's root.
    storage = LocalStorage(root)
    for key in ("../outside.txt", "/etc/passwd", "a/../../b", "a\\..\\b", "a\x00b", "a//b", ""):
        with pytest.raises(StorageKeyError):
            storage.path(key)
    (tmp_path / "outside.txt").write_text("secret")
    with engine as tx:
        tx.execute("UPDATE fl_documents SET attachment = '../outside.txt'")
    response = agent.get(f"/admin/fl_documents/{result.pk}/file/attachment")
    assert response.status_code == 404 and b"secret" not in response.get_data()


def test_D11_a_decompression_bomb_is_refused_at_upload(site):
    _app, engine, agent, root, _people = site
    bomb = png_bomb()
    assert len(bomb) < 1000
    result = agent.create("fl_documents", title="bomb", region="eu",
                          picture=(io.BytesIO(bomb), "bomb.png"))
    assert result.status == 422
    assert "This image is too large: at most 89,478,485 pixels." in result.html
    assert _files(root) == []
    with engine as tx:
        assert tx.fetchscalar("SELECT count(*) AS n FROM fl_documents") == 0


def test_B14_a_file_outside_the_scope_answers_as_the_row(site):
    app, engine, agent, root, people = site
    boss = AdminClient(app).login_as(people["root"])
    pk = boss.create("fl_documents", title="US only", region="us",
                     attachment=(io.BytesIO(b"%PDF- us"), "us.pdf"),
                     picture=(io.BytesIO(png()), "us.png")).pk
    missing = 10**6
    for url in (f"/admin/fl_documents/{pk}/file/attachment",
                f"/admin/fl_documents/{pk}/thumbnail/picture",
                f"/admin/fl_documents/{pk}/file/blob"):
        assert boss.get(url).status_code in (200, 404)  # blob: empty, nothing to download
        assert agent.get(url).status_code == 404
        assert agent.get(url.replace(f"/{pk}/", f"/{missing}/")).status_code == 404
    assert agent.get(f"/admin/fl_documents/{pk}/").status_code == 404
    # No admin access, not signed in: as every admin URL answers.
    reader = as_user(app, people["reader"])
    assert reader.get(f"/admin/fl_documents/{pk}/file/attachment").status_code == 403
    anonymous = app.test_client().get(f"/admin/fl_documents/{pk}/file/attachment")
    assert anonymous.status_code == 302 and "/admin/login" in anonymous.headers["Location"]
