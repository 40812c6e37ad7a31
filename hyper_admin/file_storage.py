"""Where uploaded files live: a storage interface, a local directory and S3-compatible storage.

A file column (``Hint(kind="file")`` or ``"image"``) holds a storage *key*, never a path the
client chose: :func:`new_key` makes ``<table>/<random hex>/<sanitised name>``, so that two
uploads of ``report.pdf`` never collide and the original name stays readable for display
(:func:`display_name`). A backend maps keys to its own places and refuses any key that could
leave them (``..``, absolute paths, backslashes, NUL): :func:`check_key`.

``Admin(file_storage=LocalStorage("/srv/files"))`` picks the storage; without it, a folder
``hyper_admin_files`` in the application's instance folder. ``S3Storage`` needs boto3
(``pip install hyper_admin[s3]``). A data-layer module: no Flask.
"""

from __future__ import annotations

import io
import os
import re
import typing as t
import unicodedata
import uuid
from pathlib import Path

#: The longest original name kept in a key (the rest of the key is ~45 characters).
MAX_NAME = 120
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_SEGMENT = re.compile(r"^[A-Za-z0-9._-]+$")


class StorageKeyError(ValueError):
    """A key that does not name a place inside the storage (refused, never followed)."""


def sanitize_name(filename: str | None, *, max_length: int = MAX_NAME) -> str:
    """A client's file name made safe as one key segment: the last part of any path (``/``
    or ``\\``), accents folded to ASCII, anything but letters, digits, ``.``, ``_``, ``-``
    turned into ``_``, no leading dots (no hidden or ``..`` names), at most ``max_length``
    characters keeping the extension; ``file`` when nothing is left."""
    name = (filename or "").replace("\x00", "")
    name = re.split(r"[\\/]", name)[-1]
    name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    name = _UNSAFE.sub("_", name).strip("._-")
    if not name:
        return "file"
    if len(name) > max_length:
        stem, dot, ext = name.rpartition(".")
        ext = ext[:16] if dot else ""
        keep = max(1, max_length - len(ext) - (1 if ext else 0))
        name = (stem if dot else name)[:keep] + ("." + ext if ext else "")
    return name


def new_key(prefix: str, filename: str | None, *, max_length: int | None = None) -> str:
    """A fresh key for an upload: ``<prefix>/<32 hex>/<sanitised name>``; ``max_length``
    (the column's, when it has one) shortens the name to fit."""
    folder = sanitize_name(prefix, max_length=60)
    head = f"{folder}/{uuid.uuid4().hex}/"
    room = MAX_NAME if max_length is None else min(MAX_NAME, max_length - len(head))
    if room < 1:
        raise ValueError(f"a file key needs more than {max_length} characters")
    return head + sanitize_name(filename, max_length=room)


def display_name(key: str | None) -> str:
    """The name shown for a stored file: its key's last segment."""
    return (key or "").rsplit("/", 1)[-1]


def thumbnail_key(key: str) -> str:
    """Where the thumbnail of the image at ``key`` is kept, beside it."""
    return key + ".thumb.png"


def check_key(key: t.Any) -> str:
    """``key`` when it is relative, made of safe segments only; StorageKeyError otherwise."""
    if not isinstance(key, str) or not key or len(key) > 1024:
        raise StorageKeyError("not a storage key")
    parts = key.split("/")
    if any(part in ("", ".", "..") or not _SEGMENT.match(part) for part in parts):
        raise StorageKeyError("not a storage key")
    return key


class FileStorage:
    """The interface every backend implements. Keys are checked with :func:`check_key`."""

    def save(self, key: str, stream: t.BinaryIO | bytes, content_type: str | None = None) -> None:
        raise NotImplementedError

    def open(self, key: str) -> t.BinaryIO:
        """The file's content for reading; FileNotFoundError when there is none."""
        raise NotImplementedError

    def delete(self, key: str) -> None:
        """Remove the file (nothing happens when it is not there)."""
        raise NotImplementedError

    def exists(self, key: str) -> bool:
        raise NotImplementedError

    def size(self, key: str) -> int:
        raise NotImplementedError

    def read(self, key: str) -> bytes:
        with self.open(key) as handle:
            return handle.read()


def _stream(data: t.BinaryIO | bytes) -> t.BinaryIO:
    return io.BytesIO(data) if isinstance(data, (bytes, bytearray, memoryview)) else data


class LocalStorage(FileStorage):
    """Files in a directory: ``root/<key>``. Every key is resolved and must stay under the
    root (a symbolic link pointing out of it is refused too)."""

    def __init__(self, root: str | os.PathLike[str]):
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"LocalStorage({str(self.root)!r})"

    def path(self, key: str) -> Path:
        root = self.root.resolve()
        path = (root / check_key(key)).resolve()
        if not path.is_relative_to(root) or path == root:
            raise StorageKeyError("outside the storage")
        return path

    def save(self, key: str, stream: t.BinaryIO | bytes, content_type: str | None = None) -> None:
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        source = _stream(stream)
        partial = path.with_name(path.name + f".{uuid.uuid4().hex}.part")
        with open(partial, "wb") as out:
            while chunk := source.read(1 << 16):
                out.write(chunk)
        os.replace(partial, path)  # readers never see half a file

    def open(self, key: str) -> t.BinaryIO:
        return open(self.path(key), "rb")

    def delete(self, key: str) -> None:
        path = self.path(key)
        path.unlink(missing_ok=True)
        folder = path.parent
        root = self.root.resolve()
        # The key's own folder (<table>/<hex>) goes when empty; the root stays.
        while folder != root and folder.is_relative_to(root):
            try:
                folder.rmdir()
            except OSError:
                break
            folder = folder.parent

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def size(self, key: str) -> int:
        return self.path(key).stat().st_size


class S3Storage(FileStorage):
    """Files in an S3 bucket (AWS, MinIO, Ceph, R2... through boto3): object ``<prefix><key>``.
    ``client``: a boto3 S3 client (default: ``boto3.client("s3", **client_options)``, e.g.
    ``endpoint_url=``, ``region_name=``). Needs ``pip install hyper_admin[s3]``."""

    def __init__(self, bucket: str, *, prefix: str = "", client: t.Any = None,
                 **client_options: t.Any):
        if client is None:
            try:
                import boto3
            except ImportError as exc:  # pragma: no cover - the extra not installed
                raise ImportError("S3Storage needs boto3: pip install hyper_admin[s3]") from exc
            client = boto3.client("s3", **client_options)
        self.bucket = bucket
        self.prefix = prefix
        self.client = client

    def __repr__(self) -> str:
        return f"S3Storage({self.bucket!r}, prefix={self.prefix!r})"

    def _name(self, key: str) -> str:
        return self.prefix + check_key(key)

    def _missing(self, exc: Exception) -> bool:
        error = getattr(exc, "response", {}).get("Error", {})
        return str(error.get("Code")) in ("404", "NoSuchKey", "NotFound")

    def save(self, key: str, stream: t.BinaryIO | bytes, content_type: str | None = None) -> None:
        extra = {"ContentType": content_type} if content_type else {}
        self.client.upload_fileobj(_stream(stream), self.bucket, self._name(key), ExtraArgs=extra)

    def open(self, key: str) -> t.BinaryIO:
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self._name(key))
        except Exception as exc:
            if self._missing(exc):
                raise FileNotFoundError(key) from exc
            raise
        return answer["Body"]

    def read(self, key: str) -> bytes:
        body = self.open(key)
        try:
            return body.read()
        finally:
            body.close()

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._name(key))

    def _head(self, key: str) -> dict | None:
        try:
            return self.client.head_object(Bucket=self.bucket, Key=self._name(key))
        except Exception as exc:
            if self._missing(exc):
                return None
            raise

    def exists(self, key: str) -> bool:
        return self._head(key) is not None

    def size(self, key: str) -> int:
        head = self._head(key)
        if head is None:
            raise FileNotFoundError(key)
        return int(head["ContentLength"])
