"""Dictionary files that are odd or built to hurt, sent through the API: each answers a clear
4xx (422 naming the line and column, 413 for a file that unfolds into too much) and writes
nothing, or is read as the person who saved it meant."""

from __future__ import annotations

import codecs
import io
import zipfile
from typing import Any

import pytest
from openpyxl import Workbook

from tests.catalogue.dictionary.test_import_api import new_custodian, upload, variables

HEADER = "name,label,value_type,description,permissible_values"
ROWS = ["age,Age at diagnosis,integer,Completed years,", "sex,Sex,categorical,,1=Male|2=Female"]
REDCAP_HEADER = (
    '"Variable / Field Name","Form Name","Section Header","Field Type","Field Label",'
    '"Choices, Calculations, OR Slider Labels","Field Note"'
)


@pytest.fixture
def custodian(make, vocabularies) -> dict[str, Any]:
    return new_custodian(make)


@pytest.fixture
def dataset(make, custodian) -> str:
    return make.dataset(custodian["organisation"])


def send(client, custodian, dataset, data: bytes, filename: str = "d.csv", **kwargs: Any) -> Any:
    return upload(client, dataset, data, filename, custodian["headers"], **kwargs)


def imported(client, custodian, dataset) -> dict[str, dict[str, Any]]:
    return {v["name"]: v for v in variables(client, dataset, custodian["headers"])["items"]}


def problems(response) -> list[tuple[int, str | None, str]]:
    assert response.status_code == 422, response.json
    assert response.mimetype == "application/problem+json"
    return [(p["row"], p["column"], p["message"]) for p in response.json["report"]["problems"]]


def workbook(rows: list[list[Any]]) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def bomb(megabytes: int) -> bytes:
    """A template workbook whose sheet unpacks to ``megabytes`` MB (an XML comment of spaces):
    about a thousandth of that zipped."""
    good = zipfile.ZipFile(io.BytesIO(workbook([HEADER.split(","), ROWS[0].split(",")])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for item in good.infolist():
            data = good.read(item)
            if item.filename != "xl/worksheets/sheet1.xml":
                archive.writestr(item, data)
                continue
            with archive.open(item.filename, "w", force_zip64=True) as sheet:
                head, _, tail = data.partition(b"<sheetData>")
                sheet.write(head + b"<!--")
                for _ in range(megabytes):
                    sheet.write(b" " * (1 << 20))
                sheet.write(b"--><sheetData>" + tail)
    return out.getvalue()


# --- decompression bombs and sizes ---------------------------------------------------------


def test_an_xlsx_decompression_bomb_is_413_and_writes_nothing(client, custodian, dataset):
    data = bomb(300)
    assert len(data) < 1024 * 1024
    response = send(client, custodian, dataset, data, "d.xlsx")
    assert response.status_code == 413, response.json
    assert response.mimetype == "application/problem+json"
    assert "decompression bomb" in response.json["detail"]
    assert imported(client, custodian, dataset) == {}


def test_a_redcap_workbook_bomb_is_413_too(client, custodian, dataset):
    response = send(client, custodian, dataset, bomb(300), "d.xlsx", fmt="redcap")
    assert response.status_code == 413


def test_a_workbook_over_the_uncompressed_limit_is_413(app, client, custodian, dataset):
    rows = [HEADER.split(",")] + [[f"v{i}", "x" * 300, "text", "", ""] for i in range(2000)]
    app.config["XLSX_MAX_UNCOMPRESSED_MB"], limit = 0, app.config["XLSX_MAX_UNCOMPRESSED_MB"]
    try:
        response = send(client, custodian, dataset, workbook(rows), "d.xlsx")
    finally:
        app.config["XLSX_MAX_UNCOMPRESSED_MB"] = limit
    assert response.status_code == 413 and "unpacks to" in response.json["detail"]


def test_more_rows_than_the_limit_is_413(app, client, custodian, dataset):
    data = "\n".join([HEADER] + [f"v{i},V {i},text,," for i in range(30)]).encode()
    app.config["UPLOAD_MAX_ROWS"], limit = 10, app.config["UPLOAD_MAX_ROWS"]
    try:
        response = send(client, custodian, dataset, data)
    finally:
        app.config["UPLOAD_MAX_ROWS"] = limit
    assert response.status_code == 413 and "more than 10 rows" in response.json["detail"]
    assert imported(client, custodian, dataset) == {}


# --- CSV text -------------------------------------------------------------------------------


def test_a_cell_beyond_the_csv_modules_limit_imports(client, custodian, dataset):
    description = "d" * 200_000  # the csv module refuses cells over 131,072 characters
    data = f"{HEADER}\nage,Age,integer,{description},\n".encode()
    response = send(client, custodian, dataset, data)
    assert response.status_code == 200, response.json
    assert imported(client, custodian, dataset)["age"]["description"] == description


def test_a_cell_beyond_our_limit_is_422_naming_its_line(app, client, custodian, dataset):
    data = f"{HEADER}\n{ROWS[0]}\nlong,Long,text,{'x' * 5000},\n".encode()
    app.config["UPLOAD_MAX_CELL_CHARS"], limit = 1000, app.config["UPLOAD_MAX_CELL_CHARS"]
    try:
        response = send(client, custodian, dataset, data)
    finally:
        app.config["UPLOAD_MAX_CELL_CHARS"] = limit
    [(row, _column, message)] = problems(response)
    assert row == 3 and "longer than 1,000 characters" in message


@pytest.mark.parametrize("fmt", ["template", "redcap"])
def test_a_quote_left_open_is_422_naming_the_line_it_opened_on(client, custodian, dataset, fmt):
    if fmt == "template":
        lines = [HEADER, ROWS[0], 'bmi,"Body mass index,decimal,,', ROWS[1], "x,X,text,,"]
    else:
        lines = [
            REDCAP_HEADER,
            "age,baseline,,text,Age,,",
            'sex,baseline,,radio,Sex,"1, M | 2, F",',
            'bmi,baseline,,text,"Body mass index,,',
            "hb,baseline,,text,Hb,,",
        ]
    response = send(client, custodian, dataset, "\n".join(lines).encode() + b"\n")
    [(row, _column, message)] = problems(response)
    assert row == (3 if fmt == "template" else 4) and "never closed" in message
    assert imported(client, custodian, dataset) == {}


@pytest.mark.parametrize("fmt", ["template", "redcap"])
def test_cr_only_line_endings_import(client, custodian, dataset, fmt):
    if fmt == "template":
        text = "\r".join([HEADER, *ROWS]) + "\r"
    else:
        text = "\r".join(
            [REDCAP_HEADER, "age,baseline,,text,Age,,", 'sex,baseline,,radio,Sex,"1, M | 2, F",']
        )
    response = send(client, custodian, dataset, text.encode())
    assert response.status_code == 200, response.json
    assert response.json["format"] == fmt
    assert sorted(imported(client, custodian, dataset)) == ["age", "sex"]


@pytest.mark.parametrize(
    ("text", "filename", "column"),
    [
        (f"{HEADER},Label\n{ROWS[0]},x\n", "d.csv", "Label"),
        (
            REDCAP_HEADER + ',"Field Label"\nage,baseline,,text,Age,,,Age\n',
            "d.csv",
            "Field Label",
        ),
        (None, "d.xlsx", "name"),
    ],
    ids=["template", "redcap", "xlsx"],
)
def test_a_heading_twice_is_422_naming_the_column(
    client, custodian, dataset, text, filename, column
):
    if text is None:
        data = workbook([["name", "label", "value_type", "name"], ["age", "Age", "integer", "x"]])
    else:
        data = text.encode()
    [(row, named, message)] = problems(send(client, custodian, dataset, data, filename))
    assert (row, named) == (1, column) and "twice" in message


UNICODE_TEXT = [HEADER, *ROWS, "groesse,Größe in cm,decimal,,"]


@pytest.mark.parametrize(
    "data",
    [
        codecs.BOM_UTF16_LE
        + "\r\n".join(UNICODE_TEXT).encode("utf-16-le"),  # Excel's "Unicode text"
        "\r\n".join(UNICODE_TEXT).encode("utf-16-le"),
        codecs.BOM_UTF16_BE + "\n".join(UNICODE_TEXT).encode("utf-16-be"),
        "\n".join(UNICODE_TEXT).encode("utf-16-be"),
        codecs.BOM_UTF32_LE + "\n".join(UNICODE_TEXT).encode("utf-32-le"),
        "\n".join(UNICODE_TEXT).encode("utf-32-be"),
    ],
    ids=["utf16le-bom", "utf16le", "utf16be-bom", "utf16be", "utf32le-bom", "utf32be"],
)
def test_utf16_and_utf32_files_are_read_as_such(client, custodian, dataset, data):
    response = send(client, custodian, dataset, data)
    assert response.status_code == 200, response.json
    assert response.json["added"] == 3
    assert imported(client, custodian, dataset)["groesse"]["label"] == "Größe in cm"


def test_a_broken_utf16_file_is_422_naming_its_line(client, custodian, dataset):
    data = "\n".join(UNICODE_TEXT).encode("utf-16-le") + "\ud800".encode(
        "utf-16-le", "surrogatepass"
    )
    [(row, _column, message)] = problems(send(client, custodian, dataset, data))
    assert row == 4 and "not UTF-16" in message


def test_invalid_utf8_is_422_naming_its_line(client, custodian, dataset):
    data = "\n".join([HEADER, *ROWS, "hb,Hämoglobin,decimal,,"]).encode("cp1252")
    [(row, _column, message)] = problems(send(client, custodian, dataset, data))
    assert row == 4 and "not UTF-8" in message and "Windows-1252" in message


def test_a_nul_byte_is_422_naming_its_line(client, custodian, dataset):
    data = "\n".join([HEADER, ROWS[0], "hb,Hb\x00,decimal,,"]).encode()
    [(row, _column, message)] = problems(send(client, custodian, dataset, data))
    assert row == 3 and "NUL" in message


def test_an_export_with_formula_like_cells_reads_back_unchanged(client, custodian, dataset):
    rows = [
        "neg,-1 = missing,categorical,=cmd|' /C calc'!A0,-1=Missing|1=Yes",
        "at,@SUM(A1),text,+1,",
    ]
    data = "\n".join([HEADER, *rows]).encode()
    assert send(client, custodian, dataset, data).status_code == 200
    before = imported(client, custodian, dataset)
    exported = client.get(
        f"/api/v1/datasets/{dataset}/dictionary.csv", headers=custodian["headers"]
    )
    assert exported.status_code == 200
    assert "'-1 = missing" in exported.text and "'=cmd" in exported.text
    again = send(client, custodian, dataset, exported.data)
    assert again.status_code == 200 and again.json["changed"] == 0, again.json
    assert imported(client, custodian, dataset) == before


def test_an_xlsx_with_xml_entities_is_422_at_once(client, custodian, dataset):
    """Excel never writes a DTD; a sheet that declares entities (a "billion laughs") is
    refused before a single one is expanded."""
    good = zipfile.ZipFile(io.BytesIO(workbook([HEADER.split(","), ROWS[0].split(",")])))
    entities = '<!DOCTYPE worksheet [<!ENTITY a0 "lol">' + "".join(
        f'<!ENTITY a{i} "{f"&a{i - 1};" * 10}">' for i in range(1, 10)
    )
    cell = b'<row r="9"><c r="A9" t="inlineStr"><is><t>&a9;</t></is></c></row></sheetData>'
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for item in good.infolist():
            data = good.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = (entities + "]>").encode() + data.replace(b"</sheetData>", cell)
            archive.writestr(item, data)
    [(row, _column, message)] = problems(send(client, custodian, dataset, out.getvalue(), "d.xlsx"))
    assert row == 1 and "not a readable Excel workbook" in message
    assert imported(client, custodian, dataset) == {}
