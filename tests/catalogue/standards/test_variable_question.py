"""The variable-level question: which datasets have variables for these terms, which terms each
lacks, most covered first — and only over the datasets the caller may see."""

from __future__ import annotations

import pytest

from tests.catalogue.standards.conftest import (
    BLOOD_COUNTS,
    CALLERS,
    FLT3_ITD,
    HB,
    KARYOTYPE,
    NPM1,
    open_draft_with,
)

URL = "/api/v1/search/variables"


def ask(client, world, caller="anonymous", **params):
    response = client.get(URL, query_string=params, headers=world.headers[caller])
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json


def by_identifier(body):
    return {item["dataset"]["identifier"]: item for item in body["items"]}


def test_datasets_come_most_covered_first_with_their_variables_and_missing_terms(client, world):
    body = ask(client, world, terms=f"{NPM1},{FLT3_ITD},{KARYOTYPE}")
    assert [t["curie"] for t in body["terms"]] == [NPM1, FLT3_ITD, KARYOTYPE]
    assert body["terms"][0]["label"] == "NPM1 mutation"
    order = [item["dataset"]["identifier"] for item in body["items"]]
    assert order == [world.ids["aml_full"], world.ids["aml_part"]]
    full, part = body["items"]
    assert (full["covered"], full["total"], full["coverage"], full["complete"]) == (3, 3, 1.0, True)
    assert full["variables"] == {NPM1: ["npm1"], FLT3_ITD: ["flt3"], KARYOTYPE: ["karyo"]}
    assert full["missing"] == []
    assert part["variables"] == {NPM1: ["npm1_status"]}
    assert part["missing"] == [FLT3_ITD, KARYOTYPE]
    assert part["coverage"] == pytest.approx(1 / 3, abs=1e-3)
    assert body["total"] == 2
    # every published dataset was asked, though only two cover anything
    assert body["datasets_in_scope"] == 4


def test_a_broader_term_is_covered_through_the_narrower_mapped_variables(client, world):
    body = ask(client, world, terms=BLOOD_COUNTS)
    mds = by_identifier(body)[world.ids["mds"]]
    assert mds["variables"] == {BLOOD_COUNTS: ["anc", "hb", "plt"]}
    assert list(by_identifier(body)) == [world.ids["mds"]]


def test_terms_may_be_repeated_given_as_iris_or_in_any_case(client, world):
    iri = "https://w3id.org/harmony/hv/HV_0000125"
    body = ask(client, world, terms=["hv:0000124", iri])
    assert [t["curie"] for t in body["terms"]] == [NPM1, FLT3_ITD]
    assert by_identifier(body)[world.ids["aml_full"]]["covered"] == 2
    repeated = ask(client, world, terms=[NPM1, NPM1])
    assert [t["curie"] for t in repeated["terms"]] == [NPM1]


@pytest.mark.parametrize(
    ("terms", "named"),
    [
        ("HV:9999999", ["HV:9999999"]),
        (f"{NPM1},HV:0009999,not a term", ["HV:0009999", "not a term"]),
        ("NOPE:123", ["NOPE:123"]),
    ],
)
def test_unknown_terms_are_a_422_that_names_them(client, world, terms, named):
    response = client.get(URL, query_string={"terms": terms})
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    message = " ".join(response.json["errors"]["terms"])
    for text in named:
        assert text in message
    assert NPM1 not in message


@pytest.mark.parametrize("query", [{}, {"terms": ""}, {"terms": " , "}])
def test_a_question_without_terms_is_a_422(client, world, query):
    response = client.get(URL, query_string=query)
    assert response.status_code == 422
    assert "terms" in response.json["errors"]


def test_pages_split_the_ranking_and_keep_the_total(client, world):
    first = ask(client, world, terms=NPM1, per_page=1)
    second = ask(client, world, terms=NPM1, per_page=1, page=2)
    past = ask(client, world, terms=NPM1, per_page=1, page=9)
    assert first["total"] == second["total"] == past["total"] == 2
    assert [i["dataset"]["identifier"] for i in first["items"] + second["items"]] == [
        world.ids["aml_part"],  # same coverage: the larger declared patient count first
        world.ids["aml_full"],
    ]
    assert past["items"] == []
    bad = client.get(URL, query_string={"terms": NPM1, "per_page": 500})
    assert bad.status_code == 422 and "per_page" in bad.json["errors"]


DRAFT_SEEN = {
    "anonymous": False,
    "researcher": False,
    "custodian": True,  # of the draft's organisation
    "other_custodian": False,
    "admin": True,
}


@pytest.mark.parametrize("caller", CALLERS)
def test_drafts_are_found_only_by_those_who_may_see_them(client, world, caller):
    body = ask(client, world, caller, terms=f"{FLT3_ITD},{KARYOTYPE}")
    found = by_identifier(body)
    assert (world.ids["own_draft"] in found) is DRAFT_SEEN[caller]
    assert world.ids["retired"] not in found
    if caller == "admin":
        assert world.ids["foreign_draft"] not in found  # it maps neither term
    if DRAFT_SEEN[caller]:
        assert found[world.ids["own_draft"]]["dataset"]["status"] == "draft"
    retired = ask(client, world, caller, terms=NPM1)
    assert world.ids["retired"] not in by_identifier(retired)


@pytest.mark.parametrize("caller", CALLERS)
def test_an_open_draft_answers_for_its_editors_the_published_version_for_everyone_else(
    app, client, world, caller
):
    open_draft_with(app, world.ids["mds"], "hb_dx", HB)  # mds is of ``elsewhere``
    open_draft_with(app, world.ids["aml_part"], "flt3_status", FLT3_ITD)
    body = ask(client, world, caller, terms=FLT3_ITD)
    found = by_identifier(body)
    editor = caller == "admin"  # aml_part belongs to ``elsewhere``: no custodian here edits it
    assert (world.ids["aml_part"] in found) is editor
    if editor:
        assert found[world.ids["aml_part"]]["dataset"]["status"] == "draft"
    # the published version still answers for everyone: NPM1 was mapped before the draft
    assert world.ids["aml_part"] in by_identifier(ask(client, world, caller, terms=NPM1))


def test_the_question_is_documented_in_the_openapi_document(client):
    spec = client.get("/api/v1/openapi.json").json
    operation = spec["paths"]["/api/v1/search/variables"]["get"]
    assert any(p["name"] == "terms" for p in operation["parameters"])
