"""A streaming XLSX writer for exports: one worksheet, written row by row as the rows come.

An export may hold millions of rows: the workbook is a ZIP that ``zipfile`` writes to a sink
without seeking (data descriptors after each member), and the worksheet is streamed into its
member batch by batch, so memory stays that of one batch whatever the number of rows. Libraries
that write XLSX either hold the sheet in memory or spill it to a temporary file before they can
send a byte; this one sends the first bytes before the second batch is read.

Cells keep their types: numbers are numbers, booleans booleans, dates and times Excel serials
with a date format, everything else inline text. Text is never a formula in XLSX (a formula is
an ``<f>`` element, which this writer never writes), so no ``'`` prefix as in CSV.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import re
import typing as t
import zipfile
from xml.sax.saxutils import escape

#: Rows a worksheet holds, the header included (Excel's limit): the export stops there.
MAX_ROWS = 1_048_576
#: Characters a cell holds (Excel's limit): longer text is cut.
MAX_CELL_CHARS = 32_767
#: Integers beyond this lose digits as Excel's doubles: written as text instead.
_EXACT_INTEGER = 10 ** 15
_EPOCH = dt.datetime(1899, 12, 30)
# XML 1.0 refuses these characters even escaped.
_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

# Styles (cellXfs indexes in _STYLES): 0 plain, 1 date and time, 2 date, 3 time, 4 header.
_DATETIME, _DATE, _TIME, _HEADER = 1, 2, 3, 4

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    '</Types>'
)
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
    '</Relationships>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>'
    '</Relationships>'
)
_STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<numFmts count="3"><numFmt numFmtId="164" formatCode="yyyy-mm-dd hh:mm:ss"/>'
    '<numFmt numFmtId="165" formatCode="yyyy-mm-dd"/><numFmt numFmtId="166" formatCode="hh:mm:ss"/>'
    '</numFmts>'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="5"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="166" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    '</styleSheet>'
)


def _workbook(sheet_name: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        f'<sheets><sheet name="{_attribute(sheet_name)}" sheetId="1" r:id="rId1"/></sheets>'
        '</workbook>'
    )


def sheet_title(name: str) -> str:
    """A worksheet's name as Excel accepts it: at most 31 characters, none of ``[]:*?/\\``."""
    cleaned = re.sub(r"[\[\]:*?/\\\x00-\x1f]", " ", name).strip("' ") or "Sheet1"
    return cleaned[:31]


def _attribute(text: str) -> str:
    return escape(_ILLEGAL_XML.sub("", text), {'"': "&quot;"})


def column_letter(index: int) -> str:
    """``0`` → ``A``, ``25`` → ``Z``, ``26`` → ``AA``."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _serial(value: dt.datetime | dt.date | dt.time) -> float:
    if isinstance(value, dt.datetime):
        delta = value - _EPOCH
        return delta.days + delta.seconds / 86400 + delta.microseconds / 86_400_000_000
    if isinstance(value, dt.date):
        return float((value - _EPOCH.date()).days)
    return (value.hour * 3600 + value.minute * 60 + value.second + value.microsecond / 1e6) / 86400


def _text_cell(ref: str, text: str, style: int = 0) -> str:
    text = _ILLEGAL_XML.sub("", text)[:MAX_CELL_CHARS]
    styled = f' s="{style}"' if style else ""
    return f'<c r="{ref}" t="inlineStr"{styled}><is><t xml:space="preserve">{escape(text)}</t></is></c>'


def _number_cell(ref: str, number: t.Any, style: int = 0) -> str:
    styled = f' s="{style}"' if style else ""
    return f'<c r="{ref}"{styled}><v>{number}</v></c>'


def cell(ref: str, value: t.Any) -> str:
    """One cell's XML, typed by its value; ``""`` for an empty cell (None)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int):
        return _number_cell(ref, value) if abs(value) < _EXACT_INTEGER else _text_cell(ref, str(value))
    if isinstance(value, float):
        return _number_cell(ref, repr(value)) if value == value and abs(value) != float("inf") \
            else _text_cell(ref, str(value))
    if isinstance(value, decimal.Decimal):
        return _number_cell(ref, format(value, "f")) if value.is_finite() else _text_cell(ref, str(value))
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:  # Excel has no zones: the text keeps the offset
            return _text_cell(ref, value.isoformat())
        return _number_cell(ref, repr(_serial(value)), _DATETIME)
    if isinstance(value, dt.date):
        return _number_cell(ref, repr(_serial(value)), _DATE)
    if isinstance(value, dt.time) and value.tzinfo is None:
        return _number_cell(ref, repr(_serial(value)), _TIME)
    if isinstance(value, (list, tuple)):
        return _text_cell(ref, ", ".join("" if item is None else str(item) for item in value))
    if isinstance(value, dict):
        return _text_cell(ref, json.dumps(value, ensure_ascii=False, default=str))
    return _text_cell(ref, str(value))


class _Sink:
    """Where zipfile writes: bytes collected until the stream takes them. No ``seek`` or
    ``tell``, so zipfile writes data descriptors instead of going back to fix headers."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []

    def write(self, data: bytes) -> int:
        self.chunks.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data = b"".join(self.chunks)
        self.chunks.clear()
        return data


def _sheet_start(headers: list[str]) -> str:
    widths = "".join(
        f'<col min="{i}" max="{i}" width="{min(max(len(h) + 4, 12), 60)}" customWidth="1"/>'
        for i, h in enumerate(headers, start=1))
    header = "".join(_text_cell(f"{column_letter(i)}1", h, _HEADER) for i, h in enumerate(headers))
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<sheetViews><sheetView workbookViewId="0">'
        '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
        '</sheetView></sheetViews>'
        f'{"<cols>" + widths + "</cols>" if headers else ""}'
        f'<sheetData><row r="1">{header}</row>'
    )


def xlsx_stream(sheet_name: str, headers: list[str],
                batches: t.Iterable[t.Iterable[t.Sequence[t.Any]]]) -> t.Iterator[bytes]:
    """The workbook's bytes, one chunk per batch of rows: a header row (bold, frozen, with a
    filter) and the rows, at most ``MAX_ROWS`` in all."""
    sink = _Sink()
    letters = [column_letter(i) for i in range(len(headers))]
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as book:
        book.writestr("[Content_Types].xml", _CONTENT_TYPES)
        book.writestr("_rels/.rels", _ROOT_RELS)
        book.writestr("xl/workbook.xml", _workbook(sheet_title(sheet_name)))
        book.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        book.writestr("xl/styles.xml", _STYLES)
        yield sink.take()
        number = 1
        with book.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(_sheet_start(headers).encode())
            for batch in batches:
                parts = []
                for row in batch:
                    if number >= MAX_ROWS:
                        break
                    number += 1
                    cells = "".join(cell(f"{letter}{number}", value)
                                    for letter, value in zip(letters, row))
                    parts.append(f'<row r="{number}">{cells}</row>')
                sheet.write("".join(parts).encode())
                yield sink.take()
                if number >= MAX_ROWS:
                    break
            last = letters[-1] if letters else "A"
            sheet.write(f'</sheetData><autoFilter ref="A1:{last}{number}"/></worksheet>'.encode())
    yield sink.take()
