"""A row's files: download and thumbnail (docs/files.md), and what forms need for uploads.

``GET /<slug>/<pk>/file/<field>``: the file of a file, image or bytes column, always as an
attachment, its type sniffed from its content (never the uploader's claim), behind the same
checks as the row's detail page (a row outside the scope: 404). ``GET
/<slug>/<pk>/thumbnail/<field>``: an image column's thumbnail, a PNG re-encoded by Pillow: the
only file content ever shown inline.
"""

from __future__ import annotations

import typing as t
from urllib.parse import quote

from flask import abort, request, url_for
from flask_login import current_user
from werkzeug.datastructures import CombinedMultiDict
from werkzeug.wrappers import Response

from ..file_changes import storage_for
from ..file_storage import StorageKeyError, display_name, sanitize_name, thumbnail_key
from ..introspect import ColumnInfo
from ..options import ModelAdmin
from ..uploads import (BytesUploadField, UploadField, UploadRefused, is_file_column,
                       is_upload_column, make_thumbnail, sniff_type)
from .common import load_row

_CHUNK = 1 << 16


def form_data() -> t.Any:
    """The posted form with its files (a multipart form's file inputs)."""
    return CombinedMultiDict([request.form, request.files]) if request.files else request.form


def prepare_file_fields(model_admin: ModelAdmin, form: t.Any, editable: t.Sequence[ColumnInfo],
                        pk_text: str | None) -> None:
    """Size limits from the ModelAdmin, and the current file's links, on the upload fields."""
    for column in editable:
        if not is_upload_column(column):
            continue
        try:
            field = form.field(column.attribute)
        except KeyError:
            continue
        if not isinstance(field, UploadField):
            continue  # form_overrides gave another field
        if field.max_size is None:
            field.max_size = (model_admin.max_bytes_size if isinstance(field, BytesUploadField)
                              else model_admin.max_upload_size)
        if pk_text is not None and field.has_current:
            args = {"slug": model_admin.slug, "pk": pk_text, "field": column.attribute}
            field.download_url = url_for(".file_download", **args)
            if field.image:
                field.thumbnail_url = url_for(".file_thumbnail", **args)


def _column(model_admin: ModelAdmin, name: str, *, image: bool = False) -> ColumnInfo:
    """The upload column ``name`` the user may see (404 otherwise, as an unknown field)."""
    visible = {c.attribute: c for c in model_admin.visible_columns()}
    shown = set(model_admin.get_detail_fields(current_user))
    column = visible.get(name)
    if column is None or name not in shown or not is_upload_column(column) or column.secret:
        abort(404)
    if image and column.hint.kind != "image":
        abort(404)
    return column


def _attachment_name(name: str) -> str:
    ascii_name = sanitize_name(name)
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


def _chunks(first: bytes, handle: t.Any) -> t.Iterator[bytes]:
    try:
        yield first
        while chunk := handle.read(_CHUNK):
            yield chunk
    finally:
        handle.close()


def download_view(model_admin: ModelAdmin, pk: str, field: str):
    column = _column(model_admin, field)
    _pk, values = load_row(model_admin, pk, columns=None)
    value = values.get(column.name)
    if value in (None, "", b""):
        abort(404)
    if is_file_column(column):
        try:
            handle = storage_for(model_admin.admin).open(value)
        except (FileNotFoundError, StorageKeyError, IsADirectoryError, NotADirectoryError):
            abort(404)
        first = handle.read(_CHUNK)
        body: t.Any = _chunks(first, handle)
        name = display_name(value)
    else:
        first = body = bytes(value)
        name = f"{model_admin.info.table}-{field}-{pk}.bin"
    response = Response(body, mimetype=sniff_type(first), direct_passthrough=True)
    response.headers["Content-Disposition"] = _attachment_name(name)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def thumbnail_view(model_admin: ModelAdmin, pk: str, field: str):
    column = _column(model_admin, field, image=True)
    _pk, values = load_row(model_admin, pk)
    key = values.get(column.name)
    if not key:
        abort(404)
    storage = storage_for(model_admin.admin)
    try:
        thumb = thumbnail_key(key)
        if storage.exists(thumb):
            data = storage.read(thumb)
        else:  # a file stored by other means: made once, then kept beside it
            data = make_thumbnail(storage.read(key))
            storage.save(thumb, data, "image/png")
    except (FileNotFoundError, StorageKeyError, UploadRefused, IsADirectoryError,
            NotADirectoryError):
        abort(404)
    response = Response(data, mimetype="image/png")
    response.headers["Content-Disposition"] = 'inline; filename="thumbnail.png"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
