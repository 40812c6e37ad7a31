"""Smaller features of Django's admin around a row's pages: the "View on site" link
(``ModelAdmin.site_url``) and prepopulated fields (``ModelAdmin.prepopulated_fields``, filled
in the browser by static/admin.js)."""

from __future__ import annotations

import json
import typing as t
from urllib.parse import urlsplit

from .introspect import ColumnInfo

if t.TYPE_CHECKING:
    from .options import ModelAdmin

MAX_URL_LENGTH = 2048


def safe_site_url(url: t.Any) -> str | None:
    """``url`` when it is safe to link: http(s) with a host, or a path of this site ("/...",
    not "//host", which a browser reads as another site's address). Never javascript:,
    data: or anything else a browser would run."""
    if not isinstance(url, str) or not url.strip() or len(url) > MAX_URL_LENGTH:
        return None
    text = url.strip()
    if any(ord(ch) < 32 for ch in text) or "\\" in text:
        return None  # browsers drop tabs and newlines and read \ as /: "/\evil" is a host
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    if parts.scheme:
        return text if parts.scheme.lower() in ("http", "https") and parts.netloc else None
    if text.startswith("/") and not text.startswith("//"):
        return text
    return None


def site_link(model_admin: "ModelAdmin", obj: t.Any) -> str | None:
    """The row's "View on site" address, or None (no ``site_url``, or an unsafe answer)."""
    if obj is None:
        return None
    return safe_site_url(model_admin.site_url(obj))


def prepopulated_attributes(model_admin: "ModelAdmin", editable: t.Sequence[ColumnInfo],
                            editing: bool) -> dict[str, dict[str, str]]:
    """field name -> the data attributes its input gets for admin.js: the fields it is filled
    from (``data-prepopulate-from``, JSON), its maximum length, and on an edit form
    ``data-prepopulate-edit`` (filled only while the user has not typed into it, and not at
    all when it already holds a value)."""
    offered = {c.attribute: c for c in editable}
    out: dict[str, dict[str, str]] = {}
    for target, sources in dict(model_admin.prepopulated_fields).items():
        column = offered.get(target)
        names = [name for name in sources if name in offered]
        if column is None or not names:
            continue  # read-only for this user, or its sources are
        attributes = {"data-prepopulate-from": json.dumps(names)}
        if column.max_length:
            attributes["data-prepopulate-max"] = str(column.max_length)
        if editing:
            attributes["data-prepopulate-edit"] = ""
        out[target] = attributes
    return out


def prepopulate_form(model_admin: "ModelAdmin", form: t.Any, editing: bool) -> None:
    """Give the form's inputs their ``prepopulated_fields`` attributes (through the fields'
    ``render_kw``, which WTForms adds to the input it renders)."""
    if not model_admin.prepopulated_fields:
        return
    editable = [c for c in model_admin.info.columns if c.attribute in form]
    for name, attributes in prepopulated_attributes(model_admin, editable, editing).items():
        field = form[name]
        field.render_kw = {**(field.render_kw or {}), **attributes}
