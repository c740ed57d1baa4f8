"""A quote left open in an uploaded table is named where it opened, in every format that is
read as CSV or TSV (our template, REDCap, an OMOP concept list, SSSOM): not blamed on a later
row as an "unknown value type" once the cells have slid, and nothing is written.

The files are the mistake as people make it: a quote opened in the middle of a dictionary
(``"Sex`` instead of ``Sex``) that the csv module closes at the next quote in the file, which
was meant to open a cell rows later."""

from __future__ import annotations

import re

import pytest

from catalogue.mappings import services as mappings
from core.policies import SYSTEM
from tests.catalogue.dictionary import test_import_hostile as hostile
from tests.catalogue.dictionary.test_import_hostile import REDCAP_HEADER, imported, problems, send
from tests.catalogue.dictionary.test_pages_dictionary import upload as upload_on_page
from tests.catalogue.mappings import test_sssom
from tests.catalogue.mappings.test_sssom_hostile import ROW as SSSOM_ROW
from tests.catalogue.mappings.test_sssom_hostile import SSSOM_HEADER
from tests.catalogue.mappings.test_sssom_hostile import _send as send_sssom
from tests.conftest import login

world = test_sssom.world  # a dataset with variables and mappings, for the SSSOM import
custodian, dataset = hostile.custodian, hostile.dataset  # a custodian's empty draft

TEMPLATE = [
    "name,label,value_type,permissible_values,description",
    "age,Age at diagnosis,integer,,Completed years",
    'sex,"Sex,categorical,1=Male|2=Female,',  # line 3, column 5: the quote is never closed
    "wbc,White cells,decimal,,per litre",
    'flt3,FLT3-ITD,categorical,"0=Negative|1=Positive",by PCR',
    "npm1,NPM1,categorical,0=Negative|1=Positive,by PCR",
]
REDCAP = [
    REDCAP_HEADER,
    "age,baseline,,text,Age,,years",
    'bmi,baseline,,text,"Body mass index,,kg/m2',  # line 3, column 20
    "hb,baseline,,text,Haemoglobin,,g/dL",
    'flt3,molecular,,radio,FLT3-ITD,"0, Negative | 1, Positive",',
    "npm1,molecular,,yesno,NPM1 mutated,,",
]
OMOP = [
    "concept_id,concept_name,domain_id,vocabulary_id,concept_code",
    "4152194,Systolic blood pressure,Measurement,SNOMED,271649006",
    '3004410,"Haemoglobin A1c,Measurement,LOINC,4548-4',  # line 3, column 9
    "4099154,Body weight,Measurement,SNOMED,27113001",
    '4245997,"Body mass index",Measurement,SNOMED,60621009',
]
CASES = {
    "template": (TEMPLATE, 3, 5, "label"),
    "redcap": (REDCAP, 3, 20, "Field Label"),
    "omop": (OMOP, 3, 9, "concept_name"),
}
WHERE = re.compile(r"^line (\d+), column (\d+): this quote \(\"\) is never closed")


@pytest.mark.parametrize("fmt", sorted(CASES))
def test_a_quote_left_open_is_named_at_the_line_and_column_it_opened(
    client, custodian, dataset, fmt
):
    lines, line, column, heading = CASES[fmt]
    response = send(client, custodian, dataset, ("\n".join(lines) + "\n").encode(), fmt=fmt)
    [(row, named, message)] = problems(response)  # one problem, not a later row's value type
    assert (row, named) == (line, heading)
    assert WHERE.match(message), message
    assert WHERE.match(message).groups() == (str(line), str(column))
    assert "unknown value type" not in message and "concept id" not in message
    assert imported(client, custodian, dataset) == {}


def test_the_same_file_with_the_quote_closed_imports(client, custodian, dataset):
    fixed = [TEMPLATE[0], TEMPLATE[1], "sex,Sex,categorical,1=Male|2=Female,", *TEMPLATE[3:]]
    response = send(client, custodian, dataset, ("\n".join(fixed) + "\n").encode())
    assert response.status_code == 200, response.json
    assert sorted(imported(client, custodian, dataset)) == ["age", "flt3", "npm1", "sex", "wbc"]


def test_a_quoted_cell_over_several_lines_is_still_a_cell(client, custodian, dataset):
    """REDCap labels hold line breaks and doubled quotes: a quoted cell that ends in a quote
    followed by the delimiter is read as one cell, as before."""
    lines = [
        REDCAP_HEADER,
        'age,baseline,,text,"Age at diagnosis\n(the ""index"" date)",,years',
        'sex,baseline,,radio,Sex,"1, Male | 2, Female",',
    ]
    response = send(client, custodian, dataset, ("\n".join(lines) + "\n").encode())
    assert response.status_code == 200, response.json
    found = imported(client, custodian, dataset)
    assert found["age"]["label"] == 'Age at diagnosis\n(the "index" date)'
    assert [v["code"] for v in found["sex"]["permissible_values"]] == ["1", "2"]


def test_an_sssom_file_names_the_line_of_the_file_after_its_metadata(app, client, world):
    """The table starts after the ``#`` block: the line named is the file's, in the row and in
    the message alike."""
    identifier, _, auth = world
    with app.app_context():
        before = mappings.list_mappings(SYSTEM, identifier, status="accepted").total
    text = (
        SSSOM_HEADER
        + SSSOM_ROW.format("fine")
        + SSSOM_ROW.replace("\tDr Who", '\t"Dr Who').format("opened here")  # line 10
        + SSSOM_ROW.format('"a quoted comment"')
        + SSSOM_ROW.format("x")
    )
    response = send_sssom(client, identifier, auth, text.encode())
    assert response.status_code == 422, response.json
    [problem] = response.json["report"]["problems"]
    assert (problem["row"], problem["column"]) == (10, "author_label")
    column = SSSOM_ROW.index("Dr Who") + 1
    assert problem["message"].startswith(f"line 10, column {column}: this quote"), problem
    with app.app_context():
        assert mappings.list_mappings(SYSTEM, identifier, status="accepted").total == before


def test_the_upload_page_shows_the_line_and_column(client, custodian, dataset):
    """On the page, the problem table names the line and the column heading; the draft is
    unchanged."""
    login(client, custodian["user"].email)
    response = upload_on_page(client, dataset, ("\n".join(TEMPLATE) + "\n").encode(), "d.csv")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Nothing was imported: 1 problem in d.csv" in html
    assert "line 3, column 5: this quote" in html and "<td>label</td>" in html
    assert imported(client, custodian, dataset) == {}
