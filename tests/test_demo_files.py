"""Files in the demo (docs/files.md): the products' seeded pictures in the configured storage,
with thumbnails in the list, and a ticket's attachment and screenshot through its form, on
SQLite and PostgreSQL."""

import io

import pytest
from PIL import Image

from hyper_admin.demo.seed import PICTURE_EVERY, picture_key, picture_png, store_pictures
from hyper_admin.file_storage import LocalStorage
from hyper_admin.testing import AdminClient

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")


@pytest.fixture
def demo(db_url, tmp_path, monkeypatch, request):
    """The demo seeded small on this test's database, its files under tmp_path/files."""
    from hyper_admin.demo.app import create_app as create_demo
    from hyper_admin.demo.models import StaffUser

    config = {"HYPER_ADMIN_FILE_ROOT": str(tmp_path / "files"), "TESTING": True}
    if db_url.startswith("sqlite"):
        app = create_demo(str(tmp_path / "demo.db"), rows=40, config=config)
    else:
        schema, _ = request.getfixturevalue("pg_schema")
        monkeypatch.setenv("DEMO_PG_SCHEMA", schema)
        from pg import PG_URL

        app = create_demo(PG_URL, rows=40, config=config)
    engine = app.extensions["hyper_admin_demo"]["engine"]
    with engine:
        people = {u.username: u for u in StaffUser.find_all().all()}
    yield app, engine, people, tmp_path / "files"
    engine.disconnect_all()


def _scalar(engine, sql):
    with engine as tx:
        return tx.fetchscalar(sql)


def test_the_seeded_pictures_are_stored_and_shown(demo):
    app, engine, people, root = demo
    pictured = _scalar(engine, "SELECT count(*) FROM products WHERE picture IS NOT NULL")
    assert pictured == 200 // PICTURE_EVERY
    assert _scalar(engine, f"SELECT picture FROM products WHERE id = {PICTURE_EVERY}") == \
        picture_key(PICTURE_EVERY)
    assert _scalar(engine, "SELECT picture FROM products WHERE id = 1") is None
    assert sorted(p.name for p in (root / "products" / "demo").iterdir()) == sorted(
        f"product-{n}.png" for n in range(PICTURE_EVERY, 201, PICTURE_EVERY))

    viewer = AdminClient(app).login_as(people["viewer"])
    listing = viewer.get("/admin/products/?q=" + _scalar(
        engine, f"SELECT sku FROM products WHERE id = {PICTURE_EVERY}")).get_data(as_text=True)
    assert f"/admin/products/{PICTURE_EVERY}/thumbnail/picture" in listing
    thumbnail = viewer.get(f"/admin/products/{PICTURE_EVERY}/thumbnail/picture")
    assert thumbnail.status_code == 200 and thumbnail.mimetype == "image/png"
    assert max(Image.open(io.BytesIO(thumbnail.get_data())).size) <= 160
    download = viewer.get(f"/admin/products/{PICTURE_EVERY}/file/picture")
    assert download.get_data() == picture_png(PICTURE_EVERY)
    assert download.headers["Content-Disposition"].startswith(
        f'attachment; filename="product-{PICTURE_EVERY}.png"')


def test_a_ticket_takes_an_attachment_and_a_screenshot(demo):
    app, engine, people, root = demo
    agent = AdminClient(app).login_as(people["support"])
    ticket = _scalar(engine, "SELECT min(t.id) FROM tickets t JOIN accounts a ON a.id = t.account_id "
                             "WHERE a.region = 'eu'")
    form = agent.get(f"/admin/tickets/{ticket}/edit").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in form
    assert 'type="file" name="attachment"' in form and 'type="file" name="screenshot"' in form
    screenshot = io.BytesIO()
    Image.new("RGB", (800, 600), (200, 30, 30)).save(screenshot, format="PNG")
    result = agent.edit("tickets", ticket, attachment=(io.BytesIO(b"%PDF-1.4 invoice"), "invoice.pdf"),
                        screenshot=(io.BytesIO(screenshot.getvalue()), "error.png"))
    assert result.ok, result.errors
    key = _scalar(engine, f"SELECT attachment FROM tickets WHERE id = {ticket}")
    assert key.startswith("tickets/") and key.endswith("/invoice.pdf")
    assert (root / key).read_bytes() == b"%PDF-1.4 invoice"
    detail = agent.get(f"/admin/tickets/{ticket}/").get_data(as_text=True)
    assert f"/admin/tickets/{ticket}/file/attachment" in detail
    assert f"/admin/tickets/{ticket}/thumbnail/screenshot" in detail
    assert agent.get(f"/admin/tickets/{ticket}/file/attachment").get_data() == b"%PDF-1.4 invoice"


def test_store_pictures_writes_only_what_is_missing(tmp_path):
    storage = LocalStorage(tmp_path)
    assert store_pictures(storage) == 200 // PICTURE_EVERY
    assert store_pictures(storage) == 0
    storage.delete(picture_key(PICTURE_EVERY))
    assert store_pictures(storage) == 1
    assert storage.read(picture_key(PICTURE_EVERY)) == picture_png(PICTURE_EVERY)
    assert picture_png(3) == picture_png(3) != picture_png(4)  # the same bytes for the same id


def test_the_production_entry_takes_the_file_root_from_the_environment(tmp_path):
    from hyper_admin.demo.app import create_app_from_env

    app = create_app_from_env({"DATABASE_URL": "postgresql://app@127.0.0.1:1/nowhere",
                               "SECRET_KEY": "k" * 32, "HYPER_ADMIN_LOGIN_STORAGE_URI": "memory://",
                               "HYPER_ADMIN_FILE_ROOT": str(tmp_path / "shared")})
    assert app.config["HYPER_ADMIN_FILE_ROOT"] == str(tmp_path / "shared")
    assert (tmp_path / "shared" / picture_key(PICTURE_EVERY)).is_file()
