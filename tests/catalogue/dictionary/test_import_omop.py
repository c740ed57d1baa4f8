"""Importing an OMOP CDM-style concept list: the variables arrive mapped to the terms we hold
for their concepts."""

from __future__ import annotations

import pytest

from tests.catalogue.dictionary.test_import_api import by_name, new_custodian, sample, upload


@pytest.fixture
def custodian(make, vocabularies):
    return new_custodian(make)


def test_omop_concepts_arrive_mapped(client, make, custodian):
    identifier = make.dataset(custodian["organisation"])
    headers = custodian["headers"]
    response = upload(client, identifier, sample("omop_concepts.csv"), "concepts.csv", headers)
    assert response.status_code == 200, response.json
    report = response.json
    assert (report["format"], report["added"], report["mappings_added"]) == ("omop", 6, 4)
    found = by_name(client, identifier, headers)
    # the concept's source code is a stored term: an exact match
    aml = found["aml"]["mappings"][0]
    assert (aml["object_id"], aml["predicate_id"]) == ("NCIT:C3171", "skos:exactMatch")
    assert aml["mapping_justification"] == "semapv:MappingReview"
    assert aml["comment"] == "from OMOP:4149320 (NCIt C3171)"
    # a LOINC code that one of our variables cross-references: a close match to that variable
    hb = found["hb"]
    assert (hb["value_type"], hb["unit"], hb["form"]) == ("decimal", "g/dL", "Measurement")
    assert (hb["mappings"][0]["object_id"], hb["mappings"][0]["predicate_id"]) == (
        "HV:0000045",
        "skos:closeMatch",
    )
    assert found["wbc"]["mappings"][0]["object_id"] == "HV:0000046"
    assert found["platelets_volume_in_blood"]["mappings"][0]["object_id"] == "HV:0000047"
    # concepts no loaded vocabulary knows arrive unmapped, each with a note
    assert found["bmi"]["mappings"] == []
    notes = [(n["row"], n["message"]) for n in report["notes"]]
    assert notes[0] == (
        6,
        "OMOP:4245997 (SNOMED 60621009) is in no loaded vocabulary: “bmi” was imported without "
        "a mapping",
    )
    # a concept name that starts with a digit makes a name our template can read back
    assert "c_5_azacytidine_treated" in found
    assert notes[1] == (7, "named the variable “c_5_azacytidine_treated”")


def test_omop_problems_are_named_by_row_and_column(client, make, custodian):
    identifier = make.dataset(custodian["organisation"])
    response = upload(
        client, identifier, sample("omop_broken.csv"), "concepts.csv", custodian["headers"]
    )
    assert response.status_code == 422
    assert response.json["errors"]["file"] == [
        "row 3, column “concept_id”: “C3171” is not an OMOP concept id (digits)",
        "row 4, column “unit”: “10^9 per litre” is not a UCUM unit: UCUM units have no spaces "
        "(e.g. g/dL, 10*9/L)",
    ]


def test_the_format_may_be_named(client, make, custodian):
    identifier = make.dataset(custodian["organisation"])
    response = upload(
        client,
        identifier,
        sample("omop_concepts.csv"),
        "concepts.csv",
        custodian["headers"],
        fmt="template",
    )
    assert response.status_code == 422  # read as our template, it lacks the required columns
    assert (
        "missing the required columns: name, label, value_type"
        in response.json["errors"]["file"][0]
    )
