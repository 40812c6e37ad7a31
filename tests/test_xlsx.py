"""hyper_admin.xlsx: the streaming XLSX writer of exports, read back by openpyxl."""

import datetime as dt
import decimal
import io
import zipfile

import openpyxl
import pytest

from hyper_admin import xlsx


def read(chunks) -> list[tuple]:
    book = openpyxl.load_workbook(io.BytesIO(b"".join(chunks)))
    return [tuple(row) for row in book.active.iter_rows(values_only=True)]


def test_cells_keep_their_types():
    when = dt.datetime(2024, 3, 10, 14, 3, 5)
    rows = read(xlsx.xlsx_stream("Orders", ["a", "b", "c", "d", "e", "f", "g", "h"], [[
        (7, 2.5, decimal.Decimal("12.30"), True, when, when.date(), dt.time(14, 3), "text"),
        (None, -1, decimal.Decimal("-0.01"), False, None, None, None, ""),
    ]]))
    assert rows[0] == ("a", "b", "c", "d", "e", "f", "g", "h")
    assert rows[1] == (7, 2.5, 12.3, True, when, dt.datetime(2024, 3, 10), dt.time(14, 3),
                       "text")
    assert rows[2][:4] == (None, -1, -0.01, False)


def test_values_excel_cannot_hold_exactly_become_text():
    aware = dt.datetime(2024, 1, 1, 12, tzinfo=dt.timezone.utc)
    rows = read(xlsx.xlsx_stream("S", ["big", "aware", "nan", "list", "json"], [[
        (10 ** 17, aware, float("nan"), ["a", None, "b"], {"k": [1, 2]}),
    ]]))
    assert rows[1] == ("100000000000000000", "2024-01-01T12:00:00+00:00", "nan", "a, , b",
                       '{"k": [1, 2]}')


def test_text_is_escaped_cut_and_cleaned_of_characters_xml_refuses():
    long = "x" * (xlsx.MAX_CELL_CHARS + 10)
    rows = read(xlsx.xlsx_stream("S", ["t"], [[("a\x00b\x1f<c>&\"d'",), (long,), ("  lead",)]]))
    assert rows[1][0] == "ab<c>&\"d'"
    assert len(rows[2][0]) == xlsx.MAX_CELL_CHARS
    assert rows[3][0] == "  lead"  # xml:space="preserve"


def test_each_batch_is_sent_before_the_next_is_read():
    read_batches = []

    def batches():
        for n in range(3):
            read_batches.append(n)
            yield [(n, f"row {n}")]

    stream = xlsx.xlsx_stream("S", ["n", "name"], batches())
    chunks = [next(stream)]  # the workbook's fixed parts, before any row is read
    assert read_batches == []
    chunks.append(next(stream))
    assert read_batches == [0]
    chunks.extend(stream)
    assert read_batches == [0, 1, 2]
    assert read(chunks)[1:] == [(0, "row 0"), (1, "row 1"), (2, "row 2")]


def test_rows_stop_at_excels_limit(monkeypatch):
    monkeypatch.setattr(xlsx, "MAX_ROWS", 4)
    rows = read(xlsx.xlsx_stream("S", ["n"], [[(n,) for n in range(5)], [(9,)]]))
    assert rows == [("n",), (0,), (1,), (2,)]


@pytest.mark.parametrize("name, title", [
    ("Orders", "Orders"), ("Q1/Q2: [draft]?", "Q1 Q2   draft"), ('Bad "x"\r\nEvil', 'Bad "x"  Evil'),
    ("A very long model name beyond thirty-one", "A very long model name beyond t"), ("''", "Sheet1"),
])
def test_sheet_titles_are_ones_excel_accepts(name, title):
    assert xlsx.sheet_title(name) == title


def test_column_letters():
    assert [xlsx.column_letter(i) for i in (0, 25, 26, 27, 701, 702)] == [
        "A", "Z", "AA", "AB", "ZZ", "AAA"]


def test_the_package_names_every_part_excel_needs():
    with zipfile.ZipFile(io.BytesIO(b"".join(xlsx.xlsx_stream("S", ["a"], [])))) as book:
        assert set(book.namelist()) == {
            "[Content_Types].xml", "_rels/.rels", "xl/workbook.xml", "xl/_rels/workbook.xml.rels",
            "xl/styles.xml", "xl/worksheets/sheet1.xml"}
        assert book.testzip() is None
