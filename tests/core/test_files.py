"""The shared reader of uploaded tables and the shared writer of CSV downloads (core.files):
each odd or hostile file gets a problem naming its line, never an exception a caller misses."""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from decimal import Decimal

import pytest
from openpyxl import Workbook

from core.files import (
    FileLimits,
    FileProblem,
    FileTooLarge,
    check_header,
    csv_rows,
    csv_writer,
    decode_text,
    workbook_rows,
)

TEXT = "name,label\nage,Age in years\nsex,Sex é\n"


@pytest.mark.parametrize(
    "data",
    [
        TEXT.encode("utf-8"),
        codecs.BOM_UTF8 + TEXT.encode("utf-8"),
        codecs.BOM_UTF16_LE + TEXT.encode("utf-16-le"),
        codecs.BOM_UTF16_BE + TEXT.encode("utf-16-be"),
        TEXT.encode("utf-16-le"),
        TEXT.encode("utf-16-be"),
        codecs.BOM_UTF32_LE + TEXT.encode("utf-32-le"),
        codecs.BOM_UTF32_BE + TEXT.encode("utf-32-be"),
        TEXT.encode("utf-32-le"),
        TEXT.encode("utf-32-be"),
    ],
    ids=[
        "utf8",
        "utf8-bom",
        "utf16le-bom",
        "utf16be-bom",
        "utf16le",
        "utf16be",
        "utf32le-bom",
        "utf32be-bom",
        "utf32le",
        "utf32be",
    ],
)
def test_unicode_text_is_read_in_any_of_its_encodings(data):
    assert decode_text(data) == TEXT


def test_bytes_that_are_not_utf8_are_named_by_their_line():
    with pytest.raises(FileProblem) as caught:
        decode_text("a,b\n1,2\n3,Größe\n".encode("cp1252"))
    assert caught.value.line == 3
    assert "not UTF-8" in caught.value.message and "Windows-1252" in caught.value.message


def test_a_nul_character_is_named_by_its_line():
    with pytest.raises(FileProblem) as caught:
        decode_text(b"a,b\n1,2\x00\n")
    assert caught.value.line == 2 and "NUL" in caught.value.message


@pytest.mark.parametrize("ending", ["\r", "\n", "\r\n"], ids=["cr", "lf", "crlf"])
def test_every_line_ending_reads_with_the_right_line_numbers(ending):
    text = ending.join(["a,b", "1,2", '3,"x' + ending + 'y"', "5,6", ""])
    assert list(csv_rows(text)) == [
        (1, ["a", "b"]),
        (2, ["1", "2"]),
        (3, ["3", "x\ny"]),
        (5, ["5", "6"]),
    ]


def test_a_quote_left_open_is_named_by_the_line_it_opens_on():
    text = 'a,b\n1,2\n3,"never closed\n5,6\n7,8\n'
    with pytest.raises(FileProblem) as caught:
        list(csv_rows(text))
    assert caught.value.line == 3 and "never closed" in caught.value.message


def test_a_quote_left_open_in_a_long_file_is_named_too():
    text = 'a,b\n1,"open\n' + "x,y\n" * 400_000
    with pytest.raises(FileProblem) as caught:
        list(csv_rows(text, limits=FileLimits(max_cell_chars=100_000)))
    assert caught.value.line == 2 and "never closed" in caught.value.message


def test_cells_beyond_the_csv_modules_default_limit_are_read():
    long = "x" * (131_072 + 10)  # the csv module's default limit
    assert list(csv_rows(f"a,b\n1,{long}\n"))[1] == (2, ["1", long])


def test_a_cell_beyond_the_limit_is_a_problem_on_its_line():
    with pytest.raises(FileProblem) as caught:
        list(csv_rows("a,b\n1,2\n3," + "x" * 200 + "\n", limits=FileLimits(max_cell_chars=100)))
    assert caught.value.line == 3 and "longer than 100 characters" in caught.value.message


def test_more_rows_than_the_limit_is_too_large():
    with pytest.raises(FileTooLarge) as caught:
        list(csv_rows("a\n" + "1\n" * 10, limits=FileLimits(max_rows=5)))
    assert caught.value.status == 413


def test_a_heading_twice_is_named():
    with pytest.raises(FileProblem) as caught:
        check_header(["name", "Label", " label "])
    assert caught.value.column == "label" and "twice" in caught.value.message


def _workbook(rows: list[list[object]]) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _bomb(megabytes: int) -> bytes:
    """A workbook whose sheet unpacks to ``megabytes`` MB of XML (a comment of spaces)."""
    good = zipfile.ZipFile(io.BytesIO(_workbook([["name"], ["age"]])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bomb:
        for item in good.infolist():
            data = good.read(item)
            if item.filename != "xl/worksheets/sheet1.xml":
                bomb.writestr(item, data)
                continue
            with bomb.open(item.filename, "w", force_zip64=True) as sheet:
                head, _, tail = data.partition(b"<sheetData>")
                sheet.write(head + b"<!--")
                chunk = b" " * (1 << 20)
                for _ in range(megabytes):
                    sheet.write(chunk)
                sheet.write(b"--><sheetData>" + tail)
    return out.getvalue()


def test_a_workbook_is_read_row_by_row():
    data = _workbook([["name", "label"], ["age", None], ["n", 3]])
    assert list(workbook_rows(data)) == [
        (1, ["name", "label"]),
        (2, ["age"]),  # empty cells at the end of a row are left out
        (3, ["n", "3"]),
    ]


def test_a_decompression_bomb_is_refused_before_it_is_opened():
    data = _bomb(200)
    assert len(data) < 1024 * 1024
    with pytest.raises(FileTooLarge) as caught:
        list(workbook_rows(data))
    assert caught.value.status == 413 and "decompression bomb" in caught.value.detail


def test_a_workbook_over_the_uncompressed_limit_is_refused():
    rows = [[f"name{i}", "x" * 200] for i in range(3000)]  # ~0.7 MB of text, a normal ratio
    with pytest.raises(FileTooLarge) as caught:
        list(workbook_rows(_workbook(rows), FileLimits(xlsx_max_uncompressed_bytes=200_000)))
    assert "unpacks to" in caught.value.detail


def test_a_workbook_with_more_rows_than_the_limit_is_refused():
    with pytest.raises(FileTooLarge):
        list(workbook_rows(_workbook([["n"]] * 20), FileLimits(max_rows=10)))


def test_not_a_workbook_is_a_problem():
    with pytest.raises(FileProblem):
        list(workbook_rows(b"PK\x03\x04 not really a zip"))


# --- downloads ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ('=HYPERLINK("http://evil","x")', '\'=HYPERLINK("http://evil","x")'),
        ("+1+1", "'+1+1"),
        ("-2+3", "'-2+3"),
        ("-3.5", "'-3.5"),  # text that looks like a number is still text
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("plain", "plain"),
        ("a=b", "a=b"),
        ("", ""),
        (-3.5, "-3.5"),  # numbers by construction stay numbers
        (-7, "-7"),
        (Decimal("-1.25"), "-1.25"),
        (None, ""),
    ],
)
def test_downloads_neutralise_cells_that_start_like_a_formula(cell, written):
    out = io.StringIO()
    csv_writer(out, lineterminator="\r\n").writerow(["x", cell])
    assert next(csv.reader(io.StringIO(out.getvalue(), newline=""))) == ["x", written]


def test_a_neutralised_download_reads_back_unchanged():
    out = io.StringIO()
    rows = [["name", "missing_codes"], ["hb", "-99|-98"], ["f", "=1+1"], ["g", "'quoted"]]
    csv_writer(out, lineterminator="\r\n").writerows(rows)
    assert [cells for _line, cells in csv_rows(out.getvalue())] == rows


def test_no_download_writes_csv_past_the_shared_writer():
    """A new CSV or TSV download must use core.files.csv_writer (the route walk in
    tests/catalogue/datasets/test_csv_downloads.py checks what the existing ones send)."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    allowed = {
        root / "core" / "files.py",
        # a REDCap workbook turned into CSV text that the importer reads itself, never sent
        root / "catalogue" / "dictionary" / "importer.py",
    }
    offenders = [
        str(path.relative_to(root))
        for package in ("core", "catalogue", "governance", "ontologies")
        if (root / package).is_dir()
        for path in (root / package).rglob("*.py")
        if path not in allowed
        and ("csv.writer(" in (text := path.read_text()) or "DictWriter" in text)
    ]
    assert offenders == []
