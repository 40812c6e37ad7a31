"""Files and images (docs/files.md): uploads through the add and edit forms, downloads,
thumbnails, bytes columns, storage after commit and rollback, the audit trail. On SQLite and
PostgreSQL."""

import hashlib
import io
import json
from pathlib import Path
from typing import Annotated

import pytest
from sqlorm import Column, Model, PrimaryKey, SQLType

from hyper_admin import signals
from hyper_admin.audit import entries
from hyper_admin.file_storage import thumbnail_key
from hyper_admin.introspect import Hint
from hyper_admin.testing import AdminClient

from apps import members
from files_app import create_documents, files_app, png

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")


@pytest.fixture
def site(engine, tmp_path):
    create_documents(engine)
    root = tmp_path / "files"
    app, admin = files_app(engine, root)
    people = members(engine)
    client = AdminClient(app).login_as(people["agent"])
    return app, admin, engine, client, root


def _row(engine, pk):
    with engine as tx:
        return dict(tx.fetchone(f"SELECT * FROM fl_documents WHERE id = {int(pk)}"))


def _stored(root):
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def _upload(data: bytes, name: str):
    return (io.BytesIO(data), name)


def test_the_form_is_multipart_with_a_file_input_and_a_progress_bar(site):
    _app, _admin, _engine, client, _root = site
    html = client.get("/admin/fl_documents/new").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in html
    assert 'type="file" name="attachment"' in html
    assert 'accept="image/png,image/jpeg,image/gif,image/webp"' in html
    assert "data-upload-progress" in html


def test_upload_stores_the_file_under_a_key_never_the_name_as_a_path(site):
    _app, _admin, engine, client, root = site
    result = client.create("fl_documents", title="Contract", region="eu",
                           attachment=_upload(b"%PDF-1.4 contract", "../../etc/contract.pdf"))
    assert result.ok, result.errors
    key = _row(engine, result.pk)["attachment"]
    table, folder, name = key.split("/")
    assert table == "fl_documents" and len(folder) == 32 and name == "contract.pdf"
    assert _stored(root) == [key]
    assert (root / key).read_bytes() == b"%PDF-1.4 contract"


def test_download_is_an_attachment_typed_from_its_content(site):
    _app, _admin, engine, client, _root = site
    pk = client.create("fl_documents", title="A", region="eu",
                       attachment=_upload(b"%PDF-1.7 body", "report.pdf")).pk
    response = client.get(f"/admin/fl_documents/{pk}/file/attachment")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="report.pdf"')
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.get_data() == b"%PDF-1.7 body"
    detail = client.get(f"/admin/fl_documents/{pk}/").get_data(as_text=True)
    assert f"/admin/fl_documents/{pk}/file/attachment" in detail and "report.pdf" in detail


def test_an_image_gets_a_thumbnail_in_the_list_and_on_the_detail_page(site):
    _app, _admin, engine, client, root = site
    pk = client.create("fl_documents", title="Shot", region="eu",
                       picture=_upload(png(640, 480), "screen.png")).pk
    key = _row(engine, pk)["picture"]
    assert (root / thumbnail_key(key)).is_file()
    thumb = client.get(f"/admin/fl_documents/{pk}/thumbnail/picture")
    assert thumb.status_code == 200 and thumb.mimetype == "image/png"
    from PIL import Image
    image = Image.open(io.BytesIO(thumb.get_data()))
    assert max(image.size) == 160 and image.format == "PNG"
    url = f"/admin/fl_documents/{pk}/thumbnail/picture"
    assert url in client.get("/admin/fl_documents/").get_data(as_text=True)
    assert url in client.get(f"/admin/fl_documents/{pk}/").get_data(as_text=True)
    # A thumbnail lost meanwhile is made again from the image.
    (root / thumbnail_key(key)).unlink()
    assert client.get(url).status_code == 200 and (root / thumbnail_key(key)).is_file()


def test_a_file_column_has_no_thumbnail(site):
    _app, _admin, _engine, client, _root = site
    pk = client.create("fl_documents", title="A", region="eu",
                       attachment=_upload(png(), "a.png")).pk
    assert client.get(f"/admin/fl_documents/{pk}/thumbnail/attachment").status_code == 404
    assert client.get(f"/admin/fl_documents/{pk}/file/title").status_code == 404


def test_edit_keeps_the_file_when_none_is_chosen(site):
    _app, _admin, engine, client, root = site
    pk = client.create("fl_documents", title="A", region="eu",
                       attachment=_upload(b"%PDF-1 one", "one.pdf")).pk
    key = _row(engine, pk)["attachment"]
    result = client.edit("fl_documents", pk, title="B")
    assert result.ok, result.errors
    row = _row(engine, pk)
    assert row["title"] == "B" and row["attachment"] == key and _stored(root) == [key]


def test_replacing_removes_the_old_file_after_the_commit(site):
    _app, _admin, engine, client, root = site
    pk = client.create("fl_documents", title="A", region="eu",
                       picture=_upload(png(), "one.png")).pk
    old = _row(engine, pk)["picture"]
    seen_in_transaction = []

    def written(sender, **kwargs):  # the row is written, not committed yet
        seen_in_transaction.append((root / old).is_file())

    signals.model_changed.connect(written)
    try:
        result = client.edit("fl_documents", pk, picture=_upload(png(color=(0, 0, 255)), "two.png"))
    finally:
        signals.model_changed.disconnect(written)
    assert result.ok, result.errors
    new = _row(engine, pk)["picture"]
    assert new != old and new.endswith("/two.png")
    assert _stored(root) == sorted([new, thumbnail_key(new)])
    assert seen_in_transaction == [True]


def test_remove_clears_the_column_and_the_file(site):
    _app, _admin, engine, client, root = site
    pk = client.create("fl_documents", title="A", region="eu",
                       attachment=_upload(b"%PDF-1 x", "x.pdf")).pk
    html = client.get(f"/admin/fl_documents/{pk}/edit").get_data(as_text=True)
    assert 'name="attachment-clear"' in html and "x.pdf" in html
    result = client.edit("fl_documents", pk, **{"attachment-clear": "1"})
    assert result.ok, result.errors
    assert _row(engine, pk)["attachment"] is None and _stored(root) == []


def test_delete_removes_the_files(site):
    _app, _admin, engine, client, root = site
    pk = client.create("fl_documents", title="A", region="eu",
                       picture=_upload(png(), "p.png"), attachment=_upload(b"x", "x.txt")).pk
    assert len(_stored(root)) == 3
    response = client.delete("fl_documents", pk)
    assert response.status_code in (200, 303)
    assert _stored(root) == []


def test_a_failed_save_removes_the_new_file_and_keeps_the_old(site, engine):
    app, admin, _engine, client, root = site
    pk = client.create("fl_documents", title="A", region="eu",
                       attachment=_upload(b"old", "old.txt")).pk
    old = _row(engine, pk)["attachment"]

    def refuse(sender, **kwargs):
        raise RuntimeError("the receiver refuses")  # inside the transaction: rolled back

    signals.model_changed.connect(refuse)
    try:
        with pytest.raises(RuntimeError):
            client.edit("fl_documents", pk, attachment=_upload(b"new", "new.txt"))
    finally:
        signals.model_changed.disconnect(refuse)
    assert _row(engine, pk)["attachment"] == old
    assert _stored(root) == [old]


def test_size_and_type_limits_say_so_on_the_field(site):
    _app, _admin, engine, client, root = site
    result = client.create("fl_documents", title="A", region="eu",
                           pdf_only=_upload(b"PK\x03\x04 a zip", "a.pdf"))
    assert result.status == 422
    assert "This type of file is not accepted here." in result.html
    result = client.create("fl_documents", title="A", region="eu",
                           pdf_only=_upload(b"%PDF-" + b"x" * 3000, "big.pdf"))
    assert result.status == 422 and "This file is too large: at most 2 KB." in result.html
    result = client.create("fl_documents", title="A", region="eu",
                           picture=_upload(b"<svg xmlns='http://www.w3.org/2000/svg'/>", "a.svg"))
    assert result.status == 422 and "not an image that can be read" in result.html
    assert _stored(root) == []


def test_bytes_column_round_trip_with_its_cap(site):
    _app, _admin, engine, client, root = site
    data = bytes(range(256)) * 3
    pk = client.create("fl_documents", title="A", region="eu", blob=_upload(data, "raw.bin")).pk
    assert bytes(_row(engine, pk)["blob"]) == data
    assert _stored(root) == []  # kept in the database, not in the storage
    response = client.get(f"/admin/fl_documents/{pk}/file/blob")
    assert response.get_data() == data and response.mimetype == "application/octet-stream"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    too_big = client.edit("fl_documents", pk, blob=_upload(b"x" * 1001, "big.bin"))
    assert too_big.status == 422 and "This file is too large" in too_big.html
    assert bytes(_row(engine, pk)["blob"]) == data
    assert client.edit("fl_documents", pk, title="kept").ok
    assert bytes(_row(engine, pk)["blob"]) == data


def test_audit_records_name_size_and_hash_never_the_content(site):
    app, _admin, engine, client, _root = site
    content = b"%PDF-1.4 secret content"
    pk = client.create("fl_documents", title="A", region="eu",
                       attachment=_upload(content, "secret.pdf"), blob=_upload(b"\x00\x01", "b.bin")).pk
    from hyper_admin.sql import dialect_of
    found = entries(engine, dialect_of(engine), admin_name="hyper_admin", model_slug="fl_documents",
                    pk=str(pk))
    assert len(found) == 1
    entry = found[0]
    text = json.dumps(entry["changes"]) + (entry["note"] or "")
    assert "secret content" not in text
    assert hashlib.sha256(content).hexdigest() in entry["note"]
    assert f"secret.pdf ({len(content)} bytes" in entry["note"]
    assert entry["changes"]["attachment"][1].endswith("/secret.pdf")
    # A bytes column's content is in the row, never in the trail: its size and hash only.
    assert entry["changes"]["blob"][1] == "<2 bytes, sha256 %s>" % hashlib.sha256(
        b"\x00\x01").hexdigest()[:16]
    assert "b.bin (2 bytes" in entry["note"]


def test_a_bulk_delete_removes_the_files_after_the_commit(site):
    _app, admin, engine, client, root = site
    pks = [client.create("fl_documents", title=f"D{i}", region="eu",
                         picture=_upload(png(), f"p{i}.png"),
                         attachment=_upload(b"%PDF- " + bytes([i]), f"a{i}.pdf")).pk
           for i in range(2)]
    kept = client.create("fl_documents", title="Kept", region="eu",
                         attachment=_upload(b"kept", "kept.txt")).pk
    assert len(_stored(root)) == 2 * 3 + 1
    seen_in_transaction = []

    def deleted(sender, **kwargs):  # the rows are gone, the transaction still open
        seen_in_transaction.append(len(_stored(root)))

    signals.model_deleted.connect(deleted)
    try:
        response = client.action("fl_documents", "delete", pks)
    finally:
        signals.model_deleted.disconnect(deleted)
    assert response.status_code == 303
    assert seen_in_transaction == [7, 7]
    assert _stored(root) == [_row(engine, kept)["attachment"]]


def test_the_default_storage_is_the_instance_folder_or_the_configured_root(engine, tmp_path):
    from apps import create_app
    from hyper_admin.file_changes import storage_for
    from hyper_admin.file_storage import LocalStorage

    app, admin = create_app(engine, register=False)
    storage = storage_for(admin, app)
    assert isinstance(storage, LocalStorage)
    assert storage.root == Path(app.instance_path) / "hyper_admin_files"
    app, admin = create_app(engine, register=False,
                            config={"HYPER_ADMIN_FILE_ROOT": str(tmp_path / "uploads")})
    assert storage_for(admin, app).root == tmp_path / "uploads"
    given = LocalStorage(tmp_path / "given")
    app, admin = create_app(engine, register=False, file_storage=given,
                            config={"HYPER_ADMIN_FILE_ROOT": str(tmp_path / "uploads")})
    assert storage_for(admin, app) is given


class FlBadHint(Model):
    __table__ = "fl_documents"
    id: PrimaryKey[int]
    title: Annotated[int, Hint(kind="image")] = Column(type=SQLType("integer"), nullable=True)


def test_a_file_hint_needs_a_string_column_and_no_list_editing(engine):
    from apps import create_app
    from hyper_admin.checks import ConfigurationError
    from files_app import DocumentAdmin, FlDocument

    create_documents(engine)
    _app, admin = create_app(engine, register=False)
    with pytest.raises(ConfigurationError) as caught:
        admin.register(FlBadHint)
    assert caught.value.id == "hyper_admin.E032" and "'title'" in str(caught.value)
    with pytest.raises(ConfigurationError) as caught:
        admin.register(FlDocument, DocumentAdmin, list_editable=["attachment"])
    assert caught.value.id == "hyper_admin.E032" and "'attachment'" in str(caught.value)
    admin.register(FlDocument, DocumentAdmin, list_editable=["title"])  # a text column is fine
