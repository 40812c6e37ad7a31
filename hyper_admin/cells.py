"""How values are shown: list columns, cells, labels. Everything escaped; never a javascript: link.

The list turns its ``list_display`` into :class:`DisplayColumn` objects once per request, joins
what they need into the page query, and formats each row into cells with no further query.
"""

from __future__ import annotations

import datetime
import decimal
import enum
import zlib
import json
import math
import typing as t
from dataclasses import dataclass
from types import SimpleNamespace
from urllib.parse import quote, unquote, urlsplit


from markupsafe import Markup

from .i18n import (_, datetime_formatter, decimal_symbol, format_date, format_datetime, format_time,
                   format_timestamp, ngettext)
from .introspect import BADGE_TONES, ColumnInfo, ModelInfo, default_label, humanize, model_info
from .query import BadQuery, Join, PathJoins, RelatedColumn, path_key, resolve_path

if t.TYPE_CHECKING:
    from .options import ModelAdmin


@dataclass(eq=False)
class DisplayColumn:
    key: str                     # what list_display said (attribute, path or callable name)
    label: str
    column: ColumnInfo | None = None        # a column of the model
    related: RelatedColumn | None = None    # a column of a many-to-one target
    join: Join | None = None                # the join that brings the label / related column
    function: t.Callable | None = None      # a callable or ModelAdmin method
    sort_key: str | None = None             # name usable in ?sort=
    link: bool = False                      # links to the row's detail page
    numeric: bool = False

    @property
    def is_fk(self) -> bool:
        return self.column is not None and self.column.is_foreign_key and self.join is not None


@dataclass(slots=True)
class Cell:
    text: str = ""
    html: Markup | None = None   # already-escaped markup (formatters, badges)
    url: str | None = None
    title: str | None = None
    kind: str = "text"
    empty: bool = False
    edit_url: str | None = None  # list_editable: where the inline editor is (GET/POST)
    flag: bool | None = None     # a boolean's value (its text is "Yes"/"No" in the user's language)
    tone: str | None = None      # a badge's colour (choices, booleans): one of BADGE_TONES

    def link_row(self, url: str) -> "Cell":
        """The cell links the row's own page (``url``), even where its value links elsewhere."""
        self.url, self.kind = url, self.kind + " rowlink"
        return self

    @property
    def badge(self) -> Markup:
        """The cell's value as its badge (choices and booleans), for templates."""
        return Markup(cell_content(self))


class ListRow:
    """One row of the list: its key, detail URL, rendered ``<tr>`` and (computed when a
    template asks for them) its cells."""

    __slots__ = ("pk", "url", "html", "_cells", "_make_cells")

    def __init__(self, pk: str, url: str, cells: list[Cell] | None = None,
                 html: Markup = Markup(""), make_cells: t.Callable[[], list[Cell]] | None = None):
        self.pk, self.url, self.html = pk, url, html
        self._cells, self._make_cells = cells, make_cells

    @property
    def cells(self) -> list[Cell]:
        if self._cells is None:
            self._cells = self._make_cells() if self._make_cells is not None else []
        return self._cells


def encode_pk(values: t.Sequence[t.Any]) -> str:
    """CONTRACT §3: the key URL-quoted, composite parts joined by ``,``: the key's text in
    forms (``pk=`` of a selection) and audit entries. A URL carries it as ``pk_segment``
    makes it (url_for does, through the ``<pk>`` converter)."""
    return ",".join(quote(_pk_text(v), safe="") for v in values)


#: What a ``<pk>`` path segment escapes in a key's parts before the URL's own encoding: the
#: part separator, the escape character itself, and "/", which would split the path. The WSGI
#: server decodes a path once before routing, so these must arrive still escaped (as
#: ``%252C``); everything else is encoded once (a timestamp's ``:`` stays ``:``).
_SEGMENT_ESCAPES = str.maketrans({"%": "%25", ",": "%2C", "/": "%2F"})
#: What a URL path segment may hold unencoded (werkzeug's converters keep the same).
_SEGMENT_SAFE = "!$&'()*+,:;=@"


def pk_segment(text: str) -> str:
    """A key's text (``encode_pk``'s, or a ``<pk>`` segment as the server decoded it) as the
    segment of a URL: each part with ``%``, ``,`` and ``/`` escaped, then URL-quoted once.
    A part that is only dots is escaped too: a browser would resolve ``/./`` away."""
    parts = []
    for part in text.split(","):
        raw = unquote(part)
        escaped = raw.translate(_SEGMENT_ESCAPES)
        if escaped.strip(".") == "":
            escaped = escaped.replace(".", "%2E")
        parts.append(quote(escaped, safe=_SEGMENT_SAFE))
    return ",".join(parts)


def url_pk(values: t.Sequence[t.Any]) -> str:
    """The key ``values`` as the ``<pk>`` segment of a URL (see pk_segment)."""
    return pk_segment(encode_pk(values))


def _pk_text(value: t.Any) -> str:
    if isinstance(value, (datetime.date, datetime.datetime, datetime.time)):
        return value.isoformat()
    return str(value)


def decode_pk(info: ModelInfo, text: str) -> tuple | None:
    """The key values of ``text`` (``encode_pk``'s, or a ``<pk>`` segment as the server
    decoded it) typed like the key columns, or None when malformed."""
    from .query import parse_value

    parts = text.split(",")
    if len(parts) != len(info.primary_key) or len(text) > 512:
        return None
    values = []
    for column, raw in zip(info.primary_key, parts):
        raw = unquote(raw)
        if raw == "":
            return None
        try:
            values.append(parse_value(column, raw) if column.kind != "text" else raw)
        except BadQuery:
            return None
    return tuple(values)


def safe_link(value: t.Any) -> str | None:
    """``value`` when it is an http(s) URL worth linking, else None (never javascript:, data:,
    or anything else a browser would run)."""
    if not isinstance(value, str) or len(value) > 2048:
        return None
    text = value.strip()
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    if parts.scheme.lower() in ("http", "https") and parts.netloc:
        return text
    return None


def make_object(model: type, info: ModelInfo, values: t.Mapping[str, t.Any]) -> t.Any:
    """A model instance from a row keyed by column name (for __str__, labels and callables)."""
    try:
        obj = model.__new__(model)
        state = {c.attribute: values[c.name] for c in info.columns if c.name in values}
        obj.__dict__.update(state)
        if hasattr(model, "__dirty__"):
            obj.__dict__["__dirty__"] = set()
        return obj
    except Exception:  # noqa: BLE001 - a model whose __new__ needs arguments
        return SimpleNamespace(**{c.attribute: values.get(c.name) for c in info.columns})


def coerced(info: ModelInfo, row: t.Mapping[str, t.Any], prefix: str = "") -> dict[str, t.Any]:
    """Row values (keyed by column name, possibly prefixed) coerced to the declared types."""
    out = {}
    for column in info.columns:
        key = prefix + column.name
        if key in row.keys():
            out[column.name] = column.coerce(row[key])
    return out


def label_for(model_admin: ModelAdmin | None, model: type, values: t.Mapping[str, t.Any]) -> str:
    info = model_info(model)
    obj = make_object(model, info, values)
    if model_admin is not None:
        return model_admin.row_label(obj)
    return default_label(model, obj)


def label_needs_row(model_admin: ModelAdmin | None, model: type) -> bool:
    """Whether a label needs more than the label column (a __str__ or ModelAdmin.label)."""
    if model_admin is not None and callable(getattr(model_admin, "label", None)):
        return True
    return model.__str__ is not object.__str__


def label_columns(model_admin: ModelAdmin | None, model: type) -> list[ColumnInfo]:
    """Columns to read to compute labels of ``model`` rows."""
    info = model_info(model)
    if label_needs_row(model_admin, model):
        return [c for c in info.columns if not c.lazy and not c.secret]
    columns = list(info.primary_key)
    if info.label_column is not None and info.label_column not in columns:
        columns.append(info.label_column)
    return columns


def number_text(value: decimal.Decimal | float, places: int | None) -> str:
    """A decimal or float as text, with the column's declared number of places when it has
    one (a NUMERIC(12,2) total reads 10081.90 beside 595.97, not 10081.9)."""
    if places is not None and (type(value) is float and math.isfinite(value)
                               or type(value) is decimal.Decimal and value.is_finite()):
        return f"{value:.{places}f}"
    return str(value)


def format_value(column: ColumnInfo | None, value: t.Any, *, max_chars: int | None = None,
                 badges: t.Mapping[t.Any, str] | None = None, empty: str = "—") -> Cell:
    """A value as a cell: typed, escaped later by the template, long text truncated.
    ``badges``: the ModelAdmin's colours of this column's values (ModelAdmin.badges);
    ``empty``: what an empty value shows (ModelAdmin.empty_text)."""
    if value is None or value == "":
        return Cell(text=empty, empty=True, kind=column.kind if column else "text")
    kind = column.kind if column is not None else "text"
    if kind == "bool" or isinstance(value, bool):
        return Cell(text=_("Yes") if value else _("No"), kind="bool", flag=bool(value),
                    tone="success" if value else "neutral")
    if isinstance(value, enum.Enum):
        value = value.value
    if column is not None and kind in _TYPED_CELLS:
        return _TYPED_CELLS[kind](column, value, max_chars)
    if column is not None and column.choices and kind != "bool":
        label = str(dict(column.choices).get(value, value))
        return Cell(text=label, kind="choice", title=str(value),
                    tone=badge_tone(column, value, badges, label=label))
    if isinstance(value, datetime.datetime):
        # An aware value says its zone ("14:03 UTC"); a naive one's zone is not known.
        text = format_timestamp(value) if value.tzinfo is not None else format_datetime(value)
        return Cell(text=text, kind="datetime", title=value.isoformat())
    if isinstance(value, datetime.date):
        return Cell(text=format_date(value), kind="date", title=value.isoformat())
    if isinstance(value, datetime.time):
        return Cell(text=format_time(value), kind="time", title=value.isoformat())
    if isinstance(value, (decimal.Decimal, float)):
        # The decimal separator is the locale's; no grouping, as ids and codes are numbers too.
        return Cell(text=number_text(value, column.decimal_places if column else None)
                    .replace(".", decimal_symbol()), kind="number")
    if isinstance(value, int):
        return Cell(text=str(value), kind="number")
    if kind == "json" or isinstance(value, (dict, list)):
        text = json.dumps(value, ensure_ascii=False, default=str)
        return _truncated(text, max_chars, kind="json")
    if isinstance(value, bytes):
        return Cell(text=ngettext("%(num)s byte", "%(num)s bytes", len(value)), kind="bytes")
    text = str(value)
    cell = _truncated(text, max_chars, kind="text")
    cell.url = safe_link(text)
    return cell


def _array_cell(column: ColumnInfo, value: t.Any, max_chars: int | None) -> Cell:
    """An array's items, each shown as its type is ("Trailers, Deleted Scenes"); the full
    list in the title."""
    if not isinstance(value, (list, tuple)):
        return _truncated(str(value), max_chars, kind="text")
    if not value:
        return Cell(text=_("empty"), kind="array", empty=True)
    item = column.item_column()
    texts = ["NULL" if v is None else format_value(item, v).text for v in value]
    cell = _truncated(", ".join(texts), max_chars, kind="array")
    cell.title = cell.title or "\n".join(texts)[:2000]
    return cell


def range_text(value: t.Any, item: ColumnInfo | None = None) -> str:
    """A range as "lower – upper", each bound shown as its type is, "…" where it is open."""
    if getattr(value, "isempty", False):
        return _("empty")

    def bound(text: t.Any) -> str:
        return "…" if text is None else format_value(item, text).text

    return f"{bound(getattr(value, 'lower', None))} – {bound(getattr(value, 'upper', None))}"


def _range_cell(column: ColumnInfo, value: t.Any, max_chars: int | None) -> Cell:
    from .sql import range_literal

    if not hasattr(value, "lower"):
        return _truncated(str(value), max_chars, kind="text")
    return Cell(text=range_text(value, column.item_column()), kind="range",
                title=range_literal(value))


def _json_cell(column: ColumnInfo, value: t.Any, max_chars: int | None) -> Cell:
    """JSON on one line in lists, indented where there is room (a detail page, no limit)."""
    if isinstance(value, (str, bytes)):
        try:
            value = json.loads(value)
        except ValueError:
            return _truncated(str(value), max_chars, kind="json")
    indent = None if max_chars else 2
    text = json.dumps(value, ensure_ascii=False, default=str, indent=indent)
    return _truncated(text, max_chars, kind="json")


def _plain_cell(column: ColumnInfo, value: t.Any, max_chars: int | None) -> Cell:
    """A value shown as the database writes it (a uuid, an address, an interval, money, a
    tsvector): its text, never a link."""
    return _truncated(str(value), max_chars, kind="text")


_TYPED_CELLS: dict[str, t.Callable[[ColumnInfo, t.Any, int | None], Cell]] = {
    "array": _array_cell,
    "range": _range_cell,
    "json": _json_cell,
    "uuid": _plain_cell,
    "network": _plain_cell,
    "interval": _plain_cell,
    "money": _plain_cell,
    "tsvector": _plain_cell,
}


def _truncated(text: str, max_chars: int | None, *, kind: str) -> Cell:
    if max_chars and len(text) > max_chars:
        return Cell(text=text[: max_chars - 1].rstrip() + "…", title=text[:2000], kind=kind)
    return Cell(text=text, kind=kind)


# --- cells as HTML -------------------------------------------------------------------------------
# The list's rows are rendered here rather than in a Jinja loop, as Django's admin does with
# items_for_result: 50 rows x 8 cells through template conditionals cost more than the rest of
# the page. partials/inline_cell.html answers an inline edit with cell_button's markup.

def _escape_text(text: str) -> str:
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&#34;").replace("'", "&#39;"))


try:  # markupsafe's C escaping, without the Markup object escape() wraps it in
    from markupsafe._speedups import _escape_inner as _escape_str
except ImportError:  # pragma: no cover - markupsafe without its C extension
    _escape_str = _escape_text


def esc(value: t.Any) -> str:
    """markupsafe.escape's output as a plain str, without building a Markup per value (the
    rows of a page escape hundreds of short strings)."""
    if type(value) is str:
        return _escape_str(value)
    if hasattr(value, "__html__"):
        return value.__html__()
    return _escape_str(str(value))


# --- badges --------------------------------------------------------------------------------------
# A choice (or a boolean) shows as a badge; its colour says what the value means at a glance
# (urgent in red, paid in green). Declared per column (Hint(badges=...)) or per ModelAdmin
# (ModelAdmin.badges), else guessed from the value's name.

#: The tone of a value by its name (lower case, "-" and " " as "_") when nothing is declared.
DEFAULT_TONES: dict[str, str] = {
    **dict.fromkeys((
        "paid", "active", "done", "resolved", "solved", "shipped", "delivered", "completed",
        "complete", "approved", "accepted", "succeeded", "success", "ok", "published", "verified",
        "enabled", "confirmed", "fulfilled", "passed", "won", "settled", "available", "in_stock",
        "online", "healthy",
    ), "success"),
    **dict.fromkeys((
        "urgent", "failed", "failure", "error", "cancelled", "canceled", "overdue", "rejected",
        "declined", "blocked", "critical", "expired", "lost", "fraud", "fraudulent", "bounced",
        "disputed", "unpaid", "suspended", "banned", "out_of_stock", "offline", "down", "breached",
    ), "error"),
    **dict.fromkeys((
        "pending", "waiting", "open", "high", "on_hold", "hold", "due", "review", "in_review",
        "needs_review", "awaiting", "awaiting_payment", "partial", "partially_paid", "trial",
        "warning", "at_risk", "escalated", "reopened", "unverified", "low_stock", "backordered",
    ), "warning"),
    **dict.fromkeys((
        "new", "processing", "in_progress", "scheduled", "queued", "running", "refunded",
        "returned", "info", "sent", "submitted",
    ), "info"),
}

_BADGE = "badge badge-sm ha-badge"
_BADGE_CLASSES = {
    "neutral": _BADGE,
    "info": _BADGE + " badge-info",
    "success": _BADGE + " badge-success",
    "warning": _BADGE + " badge-warning",
    "error": _BADGE + " badge-error",
}
assert set(_BADGE_CLASSES) == set(BADGE_TONES)


def _tone_key(value: t.Any) -> str:
    return str(value).strip().lower().replace("-", "_").replace(" ", "_")


def badge_tone(column: ColumnInfo | None, value: t.Any, declared: t.Mapping[t.Any, str] | None = None,
               *, label: str | None = None) -> str:
    """The colour of ``value``'s badge: what the ModelAdmin declares (``declared``), else the
    column's ``Hint(badges=...)``, else the default for the value's (or its label's) name,
    else neutral."""
    hinted = column.hint.badges if column is not None else None
    for mapping in (declared, hinted):
        if mapping:
            tone = mapping.get(value)
            if tone is None and not isinstance(value, str):
                tone = mapping.get(str(value))
            if tone is not None:
                return tone
    tone = DEFAULT_TONES.get(_tone_key(value))
    if tone is None and label is not None:
        tone = DEFAULT_TONES.get(_tone_key(label))
    return tone or "neutral"


_STATUS_CLASSES = {
    "info": "status status-info",
    "success": "status status-success",
    "warning": "status status-warning",
    "error": "status status-error",
}


def status_class(tone: str | None) -> str | None:
    """The classes of a small dot of ``tone`` (the filter panel's options), None for neutral."""
    return _STATUS_CLASSES.get(tone or "neutral")


def badge_class(tone: str | None) -> str:
    """The classes of a badge of ``tone`` (neutral when unknown)."""
    return _BADGE_CLASSES.get(tone or "neutral", _BADGE)


def cell_content(cell: Cell) -> str:
    """A cell's content without its link or editor: text, badge or a formatter's markup."""
    if cell.html is not None:
        return str(cell.html)
    if cell.kind == "bool":
        tone = cell.tone or ("success" if cell.flag else "neutral")
        return f'<span class="{badge_class(tone)}">{esc(cell.text)}</span>'
    if cell.kind == "choice":
        return f'<span class="{badge_class(cell.tone)}">{esc(cell.text)}</span>'
    return esc(cell.text)


def _cell_link(cell: Cell) -> str:
    rowlink = "rowlink" in cell.kind
    attrs = "" if rowlink or cell.kind == "fk" else (
        ' rel="noopener noreferrer nofollow" target="_blank" hx-boost="false"')
    return (f'<a href="{esc(cell.url)}" class="{"r" if rowlink else "h"}"{attrs}>'
            f"{esc(cell.text)}</a>")


def cell_button(cell: Cell) -> Markup:
    """An editable cell (list_editable): the value is a button that fetches the inline editor;
    a linked value keeps its link and gets a small edit button beside it."""
    button = ('<button type="button" data-cell-edit class="cursor-text rounded px-1 -mx-1 text-left '
              'hover:bg-base-200 focus-visible:outline" hx-get="{}" hx-target="closest td" '
              'hx-swap="innerHTML" title="{}"').format(esc(cell.edit_url), esc(_("Edit")))
    if cell.url:
        label = esc(_("Edit %(value)s", value=cell.text))
        return Markup(f'{_cell_link(cell)} {button} aria-label="{label}">✎</button>')
    return Markup(f"{button}>{cell_content(cell)}</button>")


#: Text longer than this may wrap in a list cell (class "w"); shorter values (names, codes,
#: labels) and every date and number stay on one line: "Nov 30, 2026, 7:42 PM" or "Priya
#: Natarajan" broken over two lines reads as two values.
WRAP_AT = 30
_WRAPPABLE = ("text", "json", "fk")
_DATES = ("date", "datetime", "time")


def _cell_class(cell: Cell) -> str:
    """The ``<td>``'s class: n (a number, right-aligned, linked or not), e (empty), d (a date
    or time), w (long text, may wrap), or none."""
    kind = cell.kind.split(" ", 1)[0]
    if kind == "number":
        return "n"
    if cell.empty:
        return "e"
    if kind in _DATES:
        return "d"
    if cell.html is not None:
        return "w" if len(cell.html.striptags()) > WRAP_AT else ""
    if kind in _WRAPPABLE and len(cell.text) > WRAP_AT:
        return "w"
    return ""


def render_cell(cell: Cell) -> str:
    """One ``<td>`` of the list."""
    css = _cell_class(cell)
    attrs = f' class="{css}"' if css else ""
    if cell.title:
        attrs += f' title="{esc(cell.title)}"'
    if cell.edit_url:
        inner = str(cell_button(cell))
    elif cell.html is not None:
        inner = str(cell.html)
    elif cell.url:
        inner = _cell_link(cell)
    else:
        inner = cell_content(cell)
    return f"<td{attrs}>{inner}</td>"


def select_label() -> tuple[str, str]:
    """The escaped words around a row's key in its checkbox's label ("Select 42"), in the
    request's language: worked out once per page, not per row."""
    before, _sep, after = esc(_("Select %(row)s", row="\x00")).partition("\x00")
    return before, after


def row_checkbox(pk: str, token: str = "", label: tuple[str, str] | None = None) -> str:
    pk = pk if pk.isdigit() else esc(pk)
    value = f"{pk}{TOKEN_SEPARATOR}{token}" if token else pk
    before, after = label or select_label()
    return (f'<td><input type="checkbox" class="checkbox checkbox-xs" name="pk" value="{value}" '
            f'aria-label="{before}{pk}{after}"></td>')


# A selected row's checkbox posts "<pk>!<token>": the token is a short hash of the values the
# list showed (and the version column), so that a bulk action leaves out a row someone changed
# since (the edit form's rule, for selections). "!" never appears in an encoded key.
TOKEN_SEPARATOR = "!"


def row_token(row: t.Any, columns: t.Sequence[ColumnInfo]) -> str:
    """The token of ``row`` (raw database values keyed by column name) over ``columns``."""
    if not columns:
        return ""
    # Change detection, not a secret (a forged token only leaves the user's own row out): a
    # CRC is enough, stable across processes, and a tenth of a hash's cost on 50 rows.
    text = "\x1f".join(["\x00" if (v := row[c.name]) is None else str(v) for c in columns])
    return f"{zlib.crc32(text.encode()):08x}"


def render_row(row: ListRow, selectable: bool, token: str = "", menu: str = "") -> Markup:
    """A row of the list; ``menu``: its row menu's cell (views/list_rows.py), if it has one."""
    check = row_checkbox(row.pk, token) if selectable else ""
    return Markup(f"<tr>{check}{''.join(map(render_cell, row.cells))}{menu}</tr>")


def td_renderer(column: ColumnInfo, max_chars: int | None, link: bool = False,
                key: t.Any = None, badges: t.Mapping[t.Any, str] | None = None,
                empty: str = "—") -> t.Callable[[t.Any, str], str]:
    """``render(row, row_url) -> "<td>...</td>"`` for a plain column of the list, reading
    ``row[key]`` (the column's name, or its index in a tuple-like row). The same markup as
    ``render_cell(format_value(...))`` (the general path, which it falls back to for anything
    unusual), with short cuts for what a list is made of (numbers, timestamps, short text,
    choices): a page of 50 rows spent most of its time building Cell objects."""
    coerce = column.coerce
    key = column.name if key is None else key

    def general(raw: t.Any, url: str) -> str:
        cell = format_value(column, coerce(raw), max_chars=max_chars, badges=badges, empty=empty)
        if link:
            cell.link_row(url)
        return render_cell(cell)

    kind = column.kind
    if kind == "bool" or column.choices:
        if link:
            return lambda row, url: general(row[key], url)
        memo: dict[tuple[type, t.Any], str] = {}

        def choice(row: t.Any, url: str) -> str:
            raw = row[key]
            memo_key = (type(raw), raw)
            try:
                return memo[memo_key]
            except KeyError:
                html = general(raw, url)
                if len(memo) < 1024:
                    memo[memo_key] = html
                return html
            except TypeError:  # unhashable
                return general(raw, url)
        return choice
    if kind in ("int", "float", "decimal") and not link:
        point = decimal_symbol()
        places = column.decimal_places

        def number(row: t.Any, url: str) -> str:
            raw = row[key]
            value = coerce(raw)
            if type(value) is int:
                return f'<td class="n">{value!s}</td>'
            if type(value) in _NUMBER_TYPES:
                return f'<td class="n">{number_text(value, places).replace(".", point)}</td>'
            return general(raw, url)
        return number
    if kind == "datetime" and not link:
        parse = datetime.datetime.fromisoformat
        show = datetime_formatter()  # the request's locale, once per page

        def timestamp(row: t.Any, url: str) -> str:
            raw = row[key]
            if type(raw) is str and len(raw) >= 16 and raw[10] in " T" and raw[13] == ":":
                try:  # SQLite's text timestamps
                    value = parse(raw)
                except ValueError:
                    return general(raw, url)
                # isoformat() of "2026-11-24 23:58:34" is the same text with a "T": no call.
                iso = f"{raw[:10]}T{raw[11:]}" if len(raw) == 19 else value.isoformat()
                return f'<td class="d" title="{iso}">{show(value)}</td>'
            value = coerce(raw)
            if type(value) is datetime.datetime and value.tzinfo is None:
                return f'<td class="d" title="{value.isoformat()}">{show(value)}</td>'
            return general(raw, url)
        return timestamp
    if kind == "text":
        def text(row: t.Any, url: str) -> str:
            raw = row[key]
            if (type(raw) is str and raw and (not max_chars or len(raw) <= max_chars)
                    and raw.lstrip()[:4].lower() != "http"):
                td = '<td class="w">' if len(raw) > WRAP_AT else "<td>"
                if link:
                    return f'{td}<a href="{esc(url)}" class="r">{esc(raw)}</a></td>'
                return f"{td}{esc(raw)}</td>"
            return general(raw, url)
        return text
    return lambda row, url: general(row[key], url)


_NUMBER_TYPES = (int, float, decimal.Decimal)


def resolve_list_display(model_admin: ModelAdmin, user: t.Any, items: t.Sequence[t.Any],
                         joins: PathJoins | None = None) -> tuple[list[DisplayColumn], list[Join]]:
    """Turn list_display items into columns, and the joins that bring their labels and
    related columns in (made in ``joins``, which the list's sorts may share)."""
    info = model_admin.info
    visible = {c.attribute: c for c in model_admin.visible_columns()}
    joins = joins if joins is not None else PathJoins()
    columns: list[DisplayColumn] = []
    links = set(model_admin.get_list_display_links(user))

    def join_for(via: ColumnInfo) -> Join | None:
        target = via.target_model
        if target is None:
            return None
        join = joins.along([via], [model_info(target)])
        if join is not None:
            for wanted in label_columns(_model_admin_of(model_admin, target), target):
                if wanted not in join.columns:
                    join.columns.append(wanted)
        return join

    for item in items:
        if callable(item) and not isinstance(item, str):
            columns.append(DisplayColumn(key=getattr(item, "__name__", "value"),
                                         label=getattr(item, "label", None) or _humanize(getattr(item, "__name__", "")),
                                         function=item, sort_key=getattr(item, "ordering", None),
                                         link=getattr(item, "__name__", None) in links))
            continue
        if not isinstance(item, str):
            raise TypeError(f"list_display item {item!r} is neither a name nor a callable")
        if "." in item:
            related = resolve_path(info, item, visible)
            if related is None:
                raise TypeError(f"list_display {item!r} of {type(model_admin).__name__} is not "
                                "a path of foreign keys to a column")
            join = joins.along(related.hops, related.models)
            if join is not None:  # read (and sorted by) through the path's LEFT JOINs
                related = related.joined(join)
            columns.append(DisplayColumn(
                key=item, label=related.label, related=related, join=join,
                sort_key=path_key(item) if join is not None and not related.lazy else None,
                link=item in links,
                numeric=related.kind in ("int", "float", "decimal"),
            ))
            continue
        column = visible.get(item) or _fk_column(info, item)
        if column is not None and column.attribute in visible:
            join = join_for(column) if column.target_model is not None else None
            columns.append(DisplayColumn(
                key=item, label=column.label, column=column, join=join,
                sort_key=column.attribute, link=item in links,
                numeric=column.kind in ("int", "float", "decimal") and not column.is_foreign_key,
            ))
            continue
        method = getattr(model_admin, item, None)
        if callable(method):
            columns.append(DisplayColumn(key=item, label=getattr(method, "label", None) or _humanize(item),
                                         function=method, sort_key=getattr(method, "ordering", None),
                                         link=item in links))
            continue
        raise TypeError(f"list_display {item!r} of {type(model_admin).__name__} is not a column, "
                        "a foreign key path or a method")
    if columns and not any(c.link for c in columns):
        columns[0].link = True
    return columns, joins.all()


def _fk_column(info: ModelInfo, name: str) -> ColumnInfo | None:
    column = info.column(name)
    if column is not None and column.target_model is not None:
        return column
    for candidate in info.columns:
        if candidate.relation_attribute == name and candidate.target_model is not None:
            return candidate
    return None


def _model_admin_of(model_admin: ModelAdmin, model: type) -> ModelAdmin | None:
    for other in model_admin.admin.registry.values():
        if other.model is model:
            return other
    return None


def _humanize(name: str) -> str:
    return humanize(name)

