"""Files around a row's change: stored before the write, removed once it is committed.

- :func:`stored_uploads` puts the files a form accepted (uploads.Upload) into the storage and
  their keys into the values to write (a bytes column gets the bytes); if the write fails, or
  the transaction it joined rolls back, the new files are removed again.
- A replaced or deleted row's old file (and thumbnail) is removed after the commit
  (signals.change_committed), never before: a change rolled back keeps its file.
- The audit entry of a change with an upload notes the file's name, size and sha256
  (audit.note), never its content.
- :func:`file_formatters`: how a file or image column reads in lists and detail pages (a
  download link; a thumbnail).

Which storage: ``Admin(file_storage=...)``, else ``HYPER_ADMIN_FILE_ROOT`` in the app's
config, else the folder ``hyper_admin_files`` in the app's instance folder (LocalStorage).
"""

from __future__ import annotations

import logging
import os
import typing as t
import weakref
from contextlib import contextmanager

from flask import current_app, has_app_context, url_for
from markupsafe import Markup, escape
from sqlorm.engine import Session, session_context

from . import audit, signals
from .cells import encode_pk, format_value
from .file_storage import (FileStorage, LocalStorage, StorageKeyError, display_name, new_key,
                           thumbnail_key)
from .i18n import _
from .uploads import Upload, is_file_column, make_thumbnail

if t.TYPE_CHECKING:
    from .options import ModelAdmin

log = logging.getLogger("hyper_admin")

_defaults: "weakref.WeakKeyDictionary[t.Any, FileStorage]" = weakref.WeakKeyDictionary()
_uploaded: "weakref.WeakKeyDictionary[Session, list[tuple[FileStorage, str]]]" = weakref.WeakKeyDictionary()


def storage_for(admin: t.Any, app: t.Any = None) -> FileStorage:
    """The file storage of ``admin`` on ``app`` (default: the current application)."""
    given = getattr(admin, "file_storage", None)
    if given is not None:
        return given
    if app is None:
        if has_app_context():
            app = current_app._get_current_object()
        elif getattr(admin, "_states", None):
            app = admin._states[0].app
        else:
            raise RuntimeError("no application: pass Admin(file_storage=...)")
    storage = _defaults.get(app)
    if storage is None:
        root = app.config.get("HYPER_ADMIN_FILE_ROOT") or os.path.join(app.instance_path,
                                                                        "hyper_admin_files")
        storage = _defaults[app] = LocalStorage(root)
    return storage


def _remove(storage: FileStorage, keys: t.Iterable[str]) -> None:
    for key in keys:
        try:
            storage.delete(key)
        except StorageKeyError:
            pass  # not a key of ours (a value written elsewhere): nothing of ours to remove
        except Exception:  # noqa: BLE001 - the change stands; an orphan file is logged
            log.exception("hyper_admin could not remove the file %r", key)


@contextmanager
def stored_uploads(model_admin: "ModelAdmin", values: dict[str, t.Any]) -> t.Iterator[None]:
    """Store the uploads among ``values`` (attribute -> value) and replace them by what the
    columns hold; remove them again if the body raises or its transaction rolls back."""
    uploads = {a: v for a, v in values.items() if isinstance(v, Upload)}
    if not uploads:
        yield
        return
    storage = None
    saved: list[str] = []
    try:
        for attribute, upload in uploads.items():
            column = model_admin.info.column(attribute)
            audit.note(_("%(field)s: %(file)s", field=column.label, file=upload.facts()))
            if not is_file_column(column):  # a bytes column holds the content itself
                values[attribute] = upload.data
                continue
            storage = storage or storage_for(model_admin.admin)
            key = new_key(model_admin.info.table, upload.name, max_length=column.max_length)
            storage.save(key, upload.data, upload.content_type)
            saved.append(key)
            if upload.is_image:
                storage.save(thumbnail_key(key), make_thumbnail(upload.data), "image/png")
                saved.append(thumbnail_key(key))
            values[attribute] = key
        yield
    except BaseException:
        if storage is not None:
            _remove(storage, saved)
        raise
    session = session_context.top
    if storage is not None and saved and session is not None and session.in_transaction:
        # The write joined a transaction that is still open: its rollback removes them.
        _uploaded.setdefault(session, []).extend((storage, key) for key in saved)


def _committed(session: Session, **_unused: t.Any) -> None:
    _uploaded.pop(session, None)


def _rolled_back(session: Session, **_unused: t.Any) -> None:
    for storage, key in _uploaded.pop(session, []):
        _remove(storage, [key])


Session.after_commit.connect(_committed, weak=False)
Session.after_rollback.connect(_rolled_back, weak=False)


def replaced_keys(model_admin: "ModelAdmin", before: dict | None, after: dict | None) -> list[str]:
    """The stored files a committed change left behind: the keys ``before`` held that
    ``after`` (None: the row was deleted) no longer holds, with their thumbnails."""
    if not before or getattr(model_admin, "is_query_view", False):
        return []
    keys = []
    for column in model_admin.info.columns:
        if not is_file_column(column):
            continue
        old = before.get(column.name)
        new = after.get(column.name) if after is not None else None
        if isinstance(old, str) and old and old != new:
            keys += [old, thumbnail_key(old)]
    return keys


def _after_commit(sender: t.Any, *, model_admin: "ModelAdmin", before: dict | None = None,
                  after: dict | None = None, **_unused: t.Any) -> None:
    keys = replaced_keys(model_admin, before, after)
    if keys:
        _remove(storage_for(model_admin.admin, sender), keys)


signals.change_committed.connect(_after_commit, weak=False)


# ---------------------------------------------------------------------------------------------
# How files read in lists and detail pages


def _row_key(model_admin: "ModelAdmin", values: t.Mapping[str, t.Any]) -> str | None:
    info = model_admin.info
    try:
        pk = tuple(values[c.name] for c in info.primary_key)
    except KeyError:
        return None
    return encode_pk(pk) if pk and None not in pk else None


def _file_cell(model_admin: "ModelAdmin", attribute: str, image: bool, stored: bool):
    def formatter(value: t.Any, values: t.Any) -> Markup | str:
        if value in (None, "", b""):
            return "—"
        pk = _row_key(model_admin, values)
        name = display_name(value) if stored else format_value(None, value).text
        if pk is None:
            return name
        args = {"slug": model_admin.slug, "pk": pk, "field": attribute}
        link = Markup('<a class="link" href="{}" hx-boost="false" download>{}</a>').format(
            url_for(".file_download", **args), name)
        if not image:
            return link
        thumbnail = Markup('<img src="{}" alt="{}" loading="lazy" width="40" height="40" '
                           'class="size-10 shrink-0 rounded object-cover bg-base-200">').format(
            url_for(".file_thumbnail", **args), escape(name))
        return Markup('<span class="inline-flex items-center gap-2">{}{}</span>').format(
            thumbnail, link)
    return formatter


def file_formatters(model_admin: "ModelAdmin") -> dict[str, t.Callable[[t.Any, t.Any], t.Any]]:
    """Formatters for the model's file, image and bytes columns (a ModelAdmin's own
    ``formatters`` win)."""
    out = {}
    for column in model_admin.info.columns:
        if is_file_column(column):
            out[column.attribute] = _file_cell(model_admin, column.attribute,
                                               column.hint.kind == "image", True)
        elif column.kind == "bytes" and not column.secret:
            out[column.attribute] = _file_cell(model_admin, column.attribute, False, False)
    return out
