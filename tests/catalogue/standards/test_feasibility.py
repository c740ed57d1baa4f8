"""Feasibility of a standard set (datasets ranked by coverage; patients of the published
datasets that cover it completely, under the small-cell rule) and a dataset's coverage of every
set."""

from __future__ import annotations

import pytest

from catalogue.standards import services
from core.policies import SYSTEM
from tests.catalogue.standards.conftest import (
    ALBUMIN,
    B2M,
    CALLERS,
    DEL17P,
    FLT3_ITD,
    KARYOTYPE,
    LDH,
    NPM1,
    T414,
    T1416,
)

R_ISS = [B2M, ALBUMIN, LDH, DEL17P, T414, T1416]


@pytest.fixture
def sets(app, world):
    with app.app_context():
        services.create_set(
            SYSTEM,
            {
                "identifier": "r-iss",
                "name": "R-ISS (myeloma)",
                "version": "2015",
                "diseases": ["NCIT:C3242"],
                "terms": [{"curie": c} for c in R_ISS[:2]]
                + [{"curie": LDH, "note": "with upper limit of normal"}]
                + [{"curie": c} for c in R_ISS[3:]],
            },
        )
        services.create_set(
            SYSTEM,
            {
                "identifier": "aml-genes",
                "name": "AML genes",
                "version": "1",
                "diseases": ["NCIT:C3171"],
                "terms": [{"curie": c} for c in (NPM1, FLT3_ITD, KARYOTYPE)],
            },
        )
    return world


def feasibility(client, world, identifier, caller="anonymous", **params):
    response = client.get(
        f"/api/v1/standard-sets/{identifier}/feasibility",
        query_string=params,
        headers=world.headers[caller],
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json


@pytest.mark.parametrize("caller", CALLERS)
def test_a_small_complete_total_is_shown_as_under_ten_except_to_admins(client, sets, caller):
    """Only the 7-patient myeloma cohort covers R-ISS completely among the published datasets
    (the 5000-patient foreign draft does too, but drafts never count)."""
    body = feasibility(client, sets, "r-iss", caller)
    assert body["complete_datasets"] == 1
    assert body["small_cell_threshold"] == 10
    if caller == "admin":
        assert body["complete_patients"] == 7
    else:
        assert body["complete_patients"] == "<10"
    ranked = [item["dataset"]["identifier"] for item in body["items"]]
    # complete datasets first, the larger declared count first among them (the admin sees the
    # foreign draft too)
    expected = [sets.ids["myeloma_small"]]
    if caller == "admin":
        expected.insert(0, sets.ids["foreign_draft"])
    assert ranked[: len(expected)] == expected
    # the declared count on the dataset's own record is the custodian's statement: as given
    small = next(i for i in body["items"] if i["dataset"]["identifier"] == expected[-1])
    assert small["dataset"]["patients"] == 7


def test_datasets_are_ranked_by_coverage_with_their_missing_terms(client, sets):
    body = feasibility(client, sets, "aml-genes")
    items = {i["dataset"]["identifier"]: i for i in body["items"]}
    assert [i["dataset"]["identifier"] for i in body["items"]] == [
        sets.ids["aml_full"],
        sets.ids["aml_part"],
    ]
    assert items[sets.ids["aml_part"]]["missing"] == [FLT3_ITD, KARYOTYPE]
    assert items[sets.ids["aml_full"]]["complete"] is True
    assert body["complete_datasets"] == 1 and body["complete_patients"] == 500
    assert body["datasets_in_scope"] == 4
    assert body["set"]["identifier"] == "aml-genes"


def test_a_custodian_sees_their_draft_ranked_but_never_counted(app, client, sets):
    from tests.catalogue.standards.conftest import open_draft_with

    open_draft_with(app, sets.ids["aml_full"], "extra", "HV:0000135")  # opens a draft
    body = feasibility(client, sets, "aml-genes", "custodian")
    drafts = [i for i in body["items"] if i["dataset"]["status"] == "draft"]
    assert {d["dataset"]["identifier"] for d in drafts} == {
        sets.ids["own_draft"],
        sets.ids["aml_full"],  # its open draft, for its custodian
    }
    own = next(d for d in drafts if d["dataset"]["identifier"] == sets.ids["own_draft"])
    assert own["missing"] == [NPM1]
    # the totals count published versions, the same for everyone: the custodian's open draft
    # of the complete dataset changes nothing, their never-published draft adds nothing
    assert body["complete_datasets"] == 1 and body["complete_patients"] == 500
    public = feasibility(client, sets, "aml-genes")
    assert public["complete_datasets"] == 1 and public["complete_patients"] == 500


def test_a_zero_total_is_zero_not_hidden(client, sets, app):
    with app.app_context():
        services.create_set(
            SYSTEM, {"name": "Nobody has it", "version": "1", "terms": [{"curie": "HV:0000246"}]}
        )
    body = feasibility(client, sets, "nobody-has-it")
    assert body["complete_patients"] == 0 and body["items"] == [] and body["total"] == 0


def test_the_openapi_document_says_a_total_may_be_a_string(client):
    spec = client.get("/api/v1/openapi.json").json
    schema = spec["components"]["schemas"]["Feasibility"]["properties"]["complete_patients"]
    assert {"type": "string", "pattern": "^<[0-9]+$"} in schema["oneOf"]
    assert "<10" in schema["description"]


# --- a dataset's coverage of every set ------------------------------------------------------


def coverage(client, world, identifier, caller="anonymous", **params):
    return client.get(
        f"/api/v1/datasets/{identifier}/coverage",
        query_string=params,
        headers=world.headers[caller],
    )


def test_a_dataset_shows_each_active_set_meant_for_its_disease_first(client, sets):
    response = coverage(client, sets, sets.ids["aml_part"])
    assert response.status_code == 200
    body = response.json
    assert [s["set"]["identifier"] for s in body["sets"]] == ["aml-genes", "r-iss"]
    genes, riss = body["sets"]
    assert genes["relevant"] is True and riss["relevant"] is False
    assert (genes["covered"], genes["total"], genes["complete"]) == (1, 3, False)
    assert genes["coverage"] == pytest.approx(0.3333, abs=1e-4)
    assert genes["missing"] == [FLT3_ITD, KARYOTYPE]
    assert genes["terms"][0] == {
        "curie": NPM1,
        "label": "NPM1 mutation",
        "note": None,
        "covered": True,
        "variables": ["npm1_status"],
    }
    myeloma = coverage(client, sets, sets.ids["myeloma_small"]).json["sets"]
    assert myeloma[0]["set"]["identifier"] == "r-iss" and myeloma[0]["complete"] is True
    assert myeloma[0]["terms"][2]["note"] == "with upper limit of normal"


def test_retired_sets_leave_the_dataset_coverage(app, client, sets):
    with app.app_context():
        services.retire_set(SYSTEM, "r-iss", "*")
    body = coverage(client, sets, sets.ids["myeloma_small"]).json
    assert [s["set"]["identifier"] for s in body["sets"]] == ["aml-genes"]


@pytest.mark.parametrize(
    ("caller", "status"),
    [
        ("anonymous", 404),
        ("researcher", 404),
        ("other_custodian", 404),
        ("custodian", 200),
        ("admin", 200),
    ],
)
def test_a_drafts_coverage_is_for_its_editors_only(client, sets, caller, status):
    response = coverage(client, sets, sets.ids["own_draft"], caller)
    assert response.status_code == status
    if status == 200:
        genes = next(s for s in response.json["sets"] if s["set"]["identifier"] == "aml-genes")
        assert genes["covered"] == 2 and genes["missing"] == [NPM1]


def test_coverage_of_an_older_version(app, client, sets):
    from tests.catalogue.standards.conftest import open_draft_with

    open_draft_with(app, sets.ids["aml_part"], "flt3", FLT3_ITD)
    editor = coverage(client, sets, sets.ids["aml_part"], "admin").json["sets"][0]
    assert editor["covered"] == 2  # the draft, for an editor
    first = coverage(client, sets, sets.ids["aml_part"], "admin", version=1).json["sets"][0]
    assert first["covered"] == 1
    assert coverage(client, sets, sets.ids["aml_part"], "anonymous", version=2).status_code == 404
    assert coverage(client, sets, sets.ids["aml_part"], version=0).status_code == 422
