"""Uploads: what a file is (sniffed from its bytes), whether a form takes it, and thumbnails.

The client's claims are never believed: neither its file name (only ever a display name,
sanitised into the storage key: file_storage.new_key) nor its ``Content-Type``. The type is
read from the content's first bytes (:func:`sniff_type`, a small signature table; Pillow for
images), ``application/octet-stream`` when unknown. Images are decoded by Pillow with a
pixel limit (:data:`MAX_IMAGE_PIXELS`, Pillow's decompression-bomb limit) checked before any
pixel is decoded, and shown only as thumbnails re-encoded here (PNG): an SVG, an HTML page or
a polyglot is never served inline.

The form fields: :class:`UploadField` (a file or image column: its data becomes a storage key
once stored, see file_changes.store_uploads) and :class:`BytesUploadField` (a bytes column:
its data becomes the bytes). Both keep the current value when no file is chosen and clear it
when the "Remove" box (``<name>-clear``) is ticked. A data-layer module: no Flask.
"""

from __future__ import annotations

import hashlib
import io
import typing as t
import warnings
from dataclasses import dataclass

from markupsafe import Markup, escape
from wtforms import Field, ValidationError

from .file_storage import display_name, sanitize_name
from .i18n import _, format_number

#: Column hint kinds stored through the file storage.
FILE_KINDS = ("file", "image")
#: Image types accepted for ``kind="image"`` and turned into thumbnails.
IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")
#: Largest image accepted, in pixels (width × height): Pillow's own decompression-bomb limit.
MAX_IMAGE_PIXELS = 89_478_485
#: A thumbnail's largest side, in pixels.
THUMBNAIL_SIZE = 160
DEFAULT_MAX_UPLOAD = 10 * 1024 * 1024
DEFAULT_MAX_BYTES = 5 * 1024 * 1024

_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"%PDF-", "application/pdf"),
    (b"PK\x03\x04", "application/zip"),
    (b"\x1f\x8b", "application/gzip"),
    (b"7z\xbc\xaf\x27\x1c", "application/x-7z-compressed"),
    (b"OggS", "audio/ogg"),
    (b"fLaC", "audio/flac"),
    (b"ID3", "audio/mpeg"),
)


def sniff_type(data: bytes) -> str:
    """The content type the bytes say they are (their signature), never what a client
    claimed; ``application/octet-stream`` when unknown. Text of any kind (HTML, SVG, scripts)
    is unknown on purpose: served as a download, never as a page."""
    head = bytes(data[:64])
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[4:8] == b"ftyp":
        return "video/mp4"
    for signature, content_type in _SIGNATURES:
        if head.startswith(signature):
            return content_type
    return "application/octet-stream"


def is_file_column(column: t.Any) -> bool:
    return column.hint.kind in FILE_KINDS and column.kind == "text"


def is_upload_column(column: t.Any) -> bool:
    """A column whose form field is a file input: files, images and bytes columns."""
    return is_file_column(column) or column.kind == "bytes"


@dataclass
class Upload:
    """A file a form accepted: its content, sniffed type, name (sanitised), size and hash."""

    name: str
    data: bytes
    content_type: str

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def is_image(self) -> bool:
        return self.content_type in IMAGE_TYPES

    def facts(self) -> str:
        """What the audit trail keeps of it: name, size and hash, never the content."""
        return f"{self.name} ({self.size} bytes, sha256 {self.sha256})"

    def __str__(self) -> str:  # compared by the edit view as "a new value"
        return f"upload:{self.sha256}"


class PendingUpload:
    """A file posted in a form, not read yet (its size limit is known once the view set it)."""

    def __init__(self, storage: t.Any):
        self.storage = storage
        self.filename = getattr(storage, "filename", None) or ""

    def read(self, limit: int) -> bytes:
        """At most ``limit + 1`` bytes: enough to tell whether it is too large."""
        stream = getattr(self.storage, "stream", self.storage)
        return stream.read(limit + 1)

    def __str__(self) -> str:
        return "upload:pending"


class UploadRefused(ValueError):
    """An upload a field does not take, with the message its field shows."""


def _size_text(size: int) -> str:
    if size >= 1024 * 1024:
        return _("%(num)s MB", num=format_number(round(size / (1024 * 1024), 1)))
    if size >= 1024:
        return _("%(num)s KB", num=format_number(round(size / 1024)))
    return _("%(num)s bytes", num=format_number(size))


def _accepted(content_type: str, accept: t.Sequence[str]) -> bool:
    for pattern in accept:
        if pattern == content_type or (pattern.endswith("/*")
                                       and content_type.startswith(pattern[:-1])):
            return True
    return False


def check_image(data: bytes, *, max_pixels: int = MAX_IMAGE_PIXELS) -> tuple[int, int]:
    """(width, height) of an image Pillow can read, within ``max_pixels`` (checked from its
    header, before decoding); UploadRefused otherwise."""
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
                if width * height > max_pixels:
                    raise UploadRefused(_(
                        "This image is too large: %(pixels)s pixels, at most %(max)s.",
                        pixels=format_number(width * height), max=format_number(max_pixels)))
                image.verify()
    except UploadRefused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise UploadRefused(_("This image is too large: at most %(max)s pixels.",
                              max=format_number(max_pixels))) from exc
    except Exception as exc:  # noqa: BLE001 - any decoder error: not an image we can read
        raise UploadRefused(_("This file is not an image that can be read (PNG, JPEG, GIF "
                              "or WebP).")) from exc
    return width, height


def accept_upload(pending: PendingUpload, *, max_size: int, accept: t.Sequence[str] | None,
                  image: bool) -> Upload:
    """The upload read and checked: size, sniffed type (``accept``; images: PNG, JPEG, GIF,
    WebP that Pillow reads within the pixel limit). UploadRefused with the field's message."""
    data = pending.read(max_size)
    if len(data) > max_size:
        raise UploadRefused(_("This file is too large: at most %(size)s.",
                              size=_size_text(max_size)))
    if not data:
        raise UploadRefused(_("This file is empty."))
    content_type = sniff_type(data)
    if image:
        if content_type not in IMAGE_TYPES:
            raise UploadRefused(_("This file is not an image that can be read (PNG, JPEG, "
                                  "GIF or WebP)."))
        check_image(data)
    if accept and not _accepted(content_type, accept):
        raise UploadRefused(_("This type of file is not accepted here."))
    return Upload(name=sanitize_name(pending.filename), data=data, content_type=content_type)


def make_thumbnail(data: bytes, *, size: int = THUMBNAIL_SIZE) -> bytes:
    """A PNG of at most ``size`` × ``size`` pixels re-encoded from the image ``data`` (its
    first frame), within the pixel limit."""
    from PIL import Image

    check_image(data)
    with Image.open(io.BytesIO(data)) as image:
        image.seek(0)
        frame = image.convert("RGBA")
        frame.thumbnail((size, size))
        out = io.BytesIO()
        frame.save(out, format="PNG", optimize=True)
    return out.getvalue()


# --- form fields -----------------------------------------------------------------------------


class UploadInput:
    """The file input itself; the rest (current file, Remove, progress) is in the template
    partials/file_field.html."""

    def __call__(self, field: "UploadField", **kwargs: t.Any) -> Markup:
        kwargs.setdefault("id", field.id)
        kwargs.pop("required", None)  # a current file may stand; the field checks instead
        if field.accept_attr:
            kwargs.setdefault("accept", field.accept_attr)
        attrs = " ".join(f'{escape(k)}="{escape(v)}"' for k, v in kwargs.items()
                         if v is not None and v is not False)
        return Markup(f'<input type="file" name="{escape(field.name)}" {attrs}>')


class UploadField(Field):
    """A file column's input. ``data``: the stored key (kept when nothing was chosen), an
    :class:`Upload` once a posted file passed validation, None when removed."""

    widget = UploadInput()
    image = False

    def __init__(self, label: t.Any = None, validators: t.Any = None, *,
                 required: bool = False, accept: t.Sequence[str] | None = None,
                 max_size: int | None = None, image: bool = False, **kwargs: t.Any):
        # The schema's text validators (length, required) would judge an upload as text.
        super().__init__(label, [], **kwargs)
        self.required = required
        self.flags.required = required
        self.accept = list(accept) if accept else None
        self.max_size = max_size
        self.image = image
        self.cleared = False
        #: Set by the view: where the current file is downloaded and its thumbnail shown.
        self.download_url: str | None = None
        self.thumbnail_url: str | None = None

    @property
    def accept_attr(self) -> str | None:
        if self.image:
            return ",".join(IMAGE_TYPES)
        return ",".join(self.accept) if self.accept else None

    @property
    def current_name(self) -> str | None:
        return display_name(self.object_data) if isinstance(self.object_data, str) and self.object_data else None

    @property
    def has_current(self) -> bool:
        return self.object_data not in (None, "", b"")

    def process(self, formdata: t.Any, data: t.Any = None, extra_filters: t.Any = None) -> None:
        super().process(formdata, data, extra_filters)
        if formdata is None:
            return
        chosen = self.data if isinstance(self.data, PendingUpload) else None
        if chosen is None and formdata.get(self.name + "-clear"):
            self.data, self.cleared = None, True

    def process_formdata(self, valuelist: list[t.Any]) -> None:
        for value in valuelist:
            if getattr(value, "filename", None):  # a file input left empty posts no name
                self.data = PendingUpload(value)
                return

    def _value(self) -> str:
        return ""

    def pre_validate(self, form: t.Any) -> None:
        if isinstance(self.data, PendingUpload):
            try:
                self.data = self._accept(self.data)
            except UploadRefused as exc:
                self.data = self.object_data
                raise ValidationError(str(exc)) from None
        if self.required and self.data in (None, "", b""):
            raise ValidationError(_("Choose a file.") if not self.cleared
                             else _("A file is required here: choose another instead."))

    def _accept(self, pending: PendingUpload) -> Upload:
        return accept_upload(pending, max_size=self.max_size or DEFAULT_MAX_UPLOAD,
                             accept=self.accept, image=self.image)


class BytesUploadField(UploadField):
    """A bytes column's input: the file's content goes into the column (``data``: bytes)."""

    @property
    def current_name(self) -> str | None:
        data = self.object_data
        if isinstance(data, (bytes, bytearray, memoryview)) and len(data):
            return _("%(size)s of data", size=_size_text(len(data)))
        return None

    def process_data(self, value: t.Any) -> None:
        self.data = bytes(value) if isinstance(value, (bytearray, memoryview)) else value
        self.object_data = self.data

    def _accept(self, pending: PendingUpload) -> Upload:
        return accept_upload(pending, max_size=self.max_size or DEFAULT_MAX_BYTES,
                             accept=self.accept, image=False)
