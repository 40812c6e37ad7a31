"""S3Storage (hyper_admin/file_storage.py, docs/files.md) against a real S3 API: moto's server,
started by this module on 127.0.0.1 (a free port) with dummy credentials, so that nothing
reaches AWS or the network. The storage on its own, then uploads and downloads through the
admin on SQLite and PostgreSQL."""

import io
import os
import uuid

import boto3  # the test extra has boto3 and moto[server]: a missing one is an error, no skip
import moto.server as moto_server
import pytest
from botocore.config import Config

from apps import members
from files_app import create_documents, files_app, png
from hyper_admin.file_storage import S3Storage, StorageKeyError, thumbnail_key
from hyper_admin.testing import AdminClient

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")

# No credentials, profile or instance metadata of the machine may be used: moto accepts any
# key, and a real one must never be sent anywhere.
DUMMY_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "AWS_EC2_METADATA_DISABLED": "true",
    "NO_PROXY": "127.0.0.1",
    "no_proxy": "127.0.0.1",
}


@pytest.fixture(scope="module")
def s3_endpoint():
    """moto's S3 on 127.0.0.1 for this module; its URL."""
    with pytest.MonkeyPatch.context() as patch:
        for name in ("AWS_PROFILE", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE",
                     "HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
            patch.delenv(name, raising=False)
        for name, value in DUMMY_ENV.items():
            patch.setenv(name, value)
        server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        try:
            yield f"http://{host}:{port}"
        finally:
            server.stop()


def _client(endpoint):
    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing",
                        config=Config(s3={"addressing_style": "path"}))


@pytest.fixture
def bucket(s3_endpoint):
    """A fresh bucket (its name) and the client that made it."""
    client = _client(s3_endpoint)
    name = f"ha-test-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=name)
    return name, client


def _objects(client, bucket_name):
    answer = client.list_objects_v2(Bucket=bucket_name)
    return sorted(item["Key"] for item in answer.get("Contents", []))


def test_save_open_read_exists_size_and_delete(bucket):
    name, client = bucket
    storage = S3Storage(name, prefix="uploads/", client=client)
    key = "docs/0123abcd/report.pdf"
    assert not storage.exists(key)
    storage.save(key, b"%PDF-1.7 report", "application/pdf")
    assert storage.exists(key) and storage.size(key) == len(b"%PDF-1.7 report")
    assert storage.read(key) == b"%PDF-1.7 report"
    handle = storage.open(key)
    try:
        assert handle.read(5) == b"%PDF-" and handle.read() == b"1.7 report"
    finally:
        handle.close()
    head = client.head_object(Bucket=name, Key="uploads/" + key)
    assert head["ContentType"] == "application/pdf"
    assert _objects(client, name) == ["uploads/docs/0123abcd/report.pdf"]
    storage.save(key, io.BytesIO(b"replaced"))  # a stream, no type
    assert storage.read(key) == b"replaced"
    storage.delete(key)
    assert not storage.exists(key) and _objects(client, name) == []
    storage.delete(key)  # already gone: nothing happens


def test_a_missing_object_is_file_not_found(bucket):
    name, client = bucket
    storage = S3Storage(name, client=client)
    with pytest.raises(FileNotFoundError):
        storage.open("nothing/here.txt")
    with pytest.raises(FileNotFoundError):
        storage.size("nothing/here.txt")


def test_keys_that_could_leave_the_prefix_are_refused_before_any_request(bucket):
    name, client = bucket
    storage = S3Storage(name, prefix="tenant-a/", client=client)
    for key in ("../tenant-b/secret.txt", "/etc/passwd", "a/../../b", "a\\b", "a\x00b", "a//b", ""):
        for call in (lambda k: storage.save(k, b"x"), storage.open, storage.delete, storage.exists):
            with pytest.raises(StorageKeyError):
                call(key)
    assert _objects(client, name) == []


def test_a_client_is_built_from_options(bucket, s3_endpoint):
    name, _client_made = bucket
    storage = S3Storage(name, endpoint_url=s3_endpoint, region_name="us-east-1",
                        config=Config(s3={"addressing_style": "path"}))
    storage.save("a/b.txt", b"built")
    assert storage.read("a/b.txt") == b"built"
    assert repr(storage) == f"S3Storage({name!r}, prefix='')"


# --- through the admin -----------------------------------------------------------------------


@pytest.fixture
def s3_site(engine, tmp_path, bucket):
    name, client = bucket
    create_documents(engine)
    storage = S3Storage(name, prefix="admin/", client=client)
    app, _admin = files_app(engine, tmp_path / "unused", file_storage=storage)
    agent = AdminClient(app).login_as(members(engine)["agent"])
    return engine, agent, client, name, tmp_path


def _column(engine, pk, name):
    with engine as tx:
        return tx.fetchscalar(f"SELECT {name} FROM fl_documents WHERE id = {int(pk)}")


def test_upload_download_replace_and_delete_through_s3(s3_site):
    engine, agent, client, name, tmp_path = s3_site
    picture = png(320, 200)
    result = agent.create("fl_documents", title="S3", region="eu",
                          attachment=(io.BytesIO(b"%PDF-1.4 on s3"), "../../report.pdf"),
                          picture=(io.BytesIO(picture), "shot.png"))
    assert result.ok, result.errors
    pk = result.pk
    key, image = _column(engine, pk, "attachment"), _column(engine, pk, "picture")
    assert key.endswith("/report.pdf") and ".." not in key
    assert _objects(client, name) == sorted(
        ["admin/" + key, "admin/" + image, "admin/" + thumbnail_key(image)])
    assert not (tmp_path / "unused").exists()  # nothing written locally

    download = agent.get(f"/admin/fl_documents/{pk}/file/attachment")
    assert download.status_code == 200 and download.get_data() == b"%PDF-1.4 on s3"
    assert download.mimetype == "application/pdf"
    assert download.headers["Content-Disposition"].startswith('attachment; filename="report.pdf"')
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    thumbnail = agent.get(f"/admin/fl_documents/{pk}/thumbnail/picture")
    assert thumbnail.status_code == 200 and thumbnail.get_data().startswith(b"\x89PNG")
    assert agent.get(f"/admin/fl_documents/{pk}/file/picture").get_data() == picture

    replaced = agent.edit("fl_documents", pk, attachment=(io.BytesIO(b"%PDF-2 new"), "new.pdf"))
    assert replaced.ok, replaced.errors
    new_key = _column(engine, pk, "attachment")
    assert new_key != key and "admin/" + key not in _objects(client, name)
    assert agent.get(f"/admin/fl_documents/{pk}/file/attachment").get_data() == b"%PDF-2 new"

    assert agent.delete("fl_documents", pk).status_code in (200, 303)
    assert _objects(client, name) == []
