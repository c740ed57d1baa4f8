"""SSSOM/TSV files that are odd or built to hurt: read as meant (UTF-16, CR-only lines) or a
422 naming the line and column (a column twice, a quote left open, a cell too long), 413 for
more rows than we read; nothing is written."""

from __future__ import annotations

import codecs
import io

import pytest

from catalogue.mappings import services as mappings
from catalogue.mappings import sssom
from core.policies import SYSTEM
from tests.catalogue.mappings import test_sssom
from tests.catalogue.mappings.test_sssom import SSSOM_HEADER

world = test_sssom.world  # the same fixture: a dataset with variables and mappings

ROW = (
    "harmonyvar:flt3itd\tskos:exactMatch\tHV:0000125\tsemapv:ManualMappingCuration\t\tDr Who\t{}\n"
)


def _send(client, identifier, auth, data: bytes):
    return client.post(
        f"/api/v1/datasets/{identifier}/mappings.sssom.tsv",
        data={"file": (io.BytesIO(data), "mappings.sssom.tsv")},
        headers=auth | {"If-Match": "*"},
        content_type="multipart/form-data",
    )


def _problems(response) -> list[tuple[int, str | None, str]]:
    assert response.status_code == 422, response.json
    return [(p["row"], p["column"], p["message"]) for p in response.json["report"]["problems"]]


def _accepted(app, identifier) -> int:
    with app.app_context():
        return mappings.list_mappings(SYSTEM, identifier, status="accepted").total


@pytest.mark.parametrize(
    "encode",
    [
        lambda text: codecs.BOM_UTF16_LE + text.encode("utf-16-le"),
        lambda text: text.encode("utf-16-be"),
        lambda text: text.replace("\n", "\r").encode(),
    ],
    ids=["utf16-bom", "utf16be", "cr-only"],
)
def test_unicode_encodings_and_old_line_endings_import(app, client, world, encode):
    identifier, _, auth = world
    response = _send(client, identifier, auth, encode(SSSOM_HEADER + ROW.format("größer")))
    assert response.status_code == 200, response.json
    assert response.json["added"] == 1


def test_a_column_twice_is_named(app, client, world):
    identifier, _, auth = world
    before = _accepted(app, identifier)
    text = SSSOM_HEADER.replace("\tcomment\n", "\tcomment\tobject_id\n") + ROW.format("x\tHV:1")
    [(row, column, message)] = _problems(_send(client, identifier, auth, text.encode()))
    assert (row, column) == (8, "object_id") and "twice" in message
    assert _accepted(app, identifier) == before


def test_a_quote_left_open_is_named_by_its_line(client, world):
    identifier, _, auth = world
    text = SSSOM_HEADER + ROW.format("fine") + ROW.format('"never closed') + ROW.format("x")
    [(row, _column, message)] = _problems(_send(client, identifier, auth, text.encode()))
    assert row == 10 and "never closed" in message


def test_a_cell_over_the_limit_is_named_by_its_line(app, client, world):
    identifier, _, auth = world
    app.config["UPLOAD_MAX_CELL_CHARS"], limit = 500, app.config["UPLOAD_MAX_CELL_CHARS"]
    try:
        text = SSSOM_HEADER + ROW.format("x" * 1000)
        [(row, _column, message)] = _problems(_send(client, identifier, auth, text.encode()))
    finally:
        app.config["UPLOAD_MAX_CELL_CHARS"] = limit
    assert row == 9 and "longer than 500" in message


def test_more_rows_than_the_limit_is_413(app, client, world):
    identifier, _, auth = world
    app.config["UPLOAD_MAX_ROWS"], limit = 3, app.config["UPLOAD_MAX_ROWS"]
    try:
        response = _send(client, identifier, auth, (SSSOM_HEADER + ROW.format("x") * 5).encode())
    finally:
        app.config["UPLOAD_MAX_ROWS"] = limit
    assert response.status_code == 413
    assert response.mimetype == "application/problem+json"


def test_metadata_nested_thousands_deep_is_422(client, world):
    identifier, _, auth = world
    text = "# extension: " + "[" * 20_000 + "]" * 20_000 + "\n" + SSSOM_HEADER + ROW.format("x")
    [(row, _column, message)] = _problems(_send(client, identifier, auth, text.encode()))
    assert row == 1 and "nested too deeply" in message


def test_a_huge_metadata_block_is_refused_before_it_is_parsed(client, world, monkeypatch):
    identifier, _, auth = world
    monkeypatch.setattr(sssom, "METADATA_MAX_CHARS", 1000)
    text = "# comment: " + "x" * 2000 + "\n" + SSSOM_HEADER + ROW.format("x")
    [(row, _column, message)] = _problems(_send(client, identifier, auth, text.encode()))
    assert row == 1 and "longer than 1,000 characters" in message
