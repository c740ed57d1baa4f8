"""``POST /api/v1/data-use/check``: a purpose against conditions in the body or against a
dataset's current conditions — who may call it, 422s naming the field, a dataset the caller may
not see, the revision and the ontology versions reported; and the term store's hierarchy, which
must agree with the slice the pure tests use (this module runs on both databases)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from core.models import Role
from governance.matching.check import Hierarchy
from governance.matching.hierarchy import current_hierarchy
from tests.conftest import shared_world
from tests.governance.matching.haem import AML, ANCESTORS, APL, LABELS, MYELOID, MYELOMA

URL = "/api/v1/data-use/check"
DS_AML = {
    "permission": "DUO:0000007",
    "diseases": [AML],
    "modifiers": [{"term": "DUO:0000024", "date": "2026-06-01"}, {"term": "DUO:0000019"}],
}
PURPOSE = {
    "terms": ["DUO:0000007"],
    "diseases": [APL],
    "commercial": False,
    "ethics_approval": True,
    "country": "NL",
    "publication_not_before": "2027-01-01",
    "duration_months": 24,
}


@dataclass
class World:
    tokens: dict[str, str] = field(default_factory=dict)
    duo_version: str = ""
    ncit_version: str = ""


def set_conditions(app: Any, identifier: str, shape: dict[str, Any]) -> None:
    from core.policies import SYSTEM
    from governance.data_use import services as data_use

    with app.app_context():
        etag = data_use.get_conditions(SYSTEM, identifier).etag
        data_use.set_conditions(SYSTEM, identifier, shape, etag)


def add_agreement(app: Any, organisation: Any, identifier: str, acknowledgement: str) -> None:
    """An agreement in effect covering the dataset, written as its table holds it."""
    from catalogue.models import Dataset
    from core.db import get_session
    from governance.agreements.models import Agreement, AgreementDataset, AgreementStatus

    with app.app_context():
        session = get_session()
        dataset = session.query(Dataset).filter_by(identifier=identifier).one()
        agreement = Agreement(
            reference="DSA-CHECK-1",
            organisation_id=organisation.id,
            counterparty="HARMONY Alliance",
            status=AgreementStatus.ACTIVE,
            effective_on=dt.date.today() - dt.timedelta(days=30),
            expires_on=dt.date.today() + dt.timedelta(days=300),
            acknowledgement=acknowledgement,
            publication_review_days=30,
        )
        session.add(agreement)
        session.flush()
        session.add(AgreementDataset(agreement_id=agreement.id, dataset_id=dataset.id))
        session.commit()


@pytest.fixture(scope="module")
def world(app, reference_engine) -> Iterator[World]:
    with shared_world(app, reference_engine) as make:
        leiden = make.organisation(name="Leiden Haematology", country="NL")
        lyon = make.organisation(name="Lyon Blood Registry", country="FR")
        users = {
            "researcher": make.user(Role.RESEARCHER),
            "owner": make.user(Role.CUSTODIAN, organisation=leiden),
            "other_custodian": make.user(Role.CUSTODIAN, organisation=lyon),
        }
        world = World(tokens={role: make.token(u) for role, u in users.items()})
        make.dataset(leiden, identifier="aml-trial", title="AML trial", publish=True)
        make.dataset(leiden, identifier="aml-draft", title="AML registry (draft)")
        make.dataset(leiden, identifier="bare", title="No conditions yet", publish=True)
        make.dataset(leiden, identifier="aml-other", title="AML cohort", publish=True)
        set_conditions(app, "aml-trial", {**DS_AML, "modifiers": DS_AML["modifiers"][:1]})
        set_conditions(app, "aml-trial", DS_AML)  # revision 2
        set_conditions(app, "aml-draft", DS_AML)
        set_conditions(app, "aml-other", DS_AML)
        add_agreement(app, leiden, "aml-trial", "The HARMONY Alliance and Leiden Haematology.")
        from core.db import get_session
        from ontologies.models import Ontology

        with app.app_context():
            versions = {o.prefix: o.version for o in get_session().query(Ontology)}
        world.duo_version, world.ncit_version = versions["DUO"], versions["HAEM"]
        yield world


def post(client, world: World, body: Any, role: str | None = "researcher"):
    headers = {"Authorization": f"Bearer {world.tokens[role]}"} if role else {}
    return client.post(URL, json=body, headers=headers)


def test_anonymous_callers_are_asked_to_log_in(client, world):
    response = post(client, world, {"purpose": PURPOSE, "conditions": DS_AML}, role=None)
    assert response.status_code == 401
    assert response.content_type == "application/problem+json"


def test_check_against_conditions_in_the_body(client, world):
    response = post(client, world, {"purpose": PURPOSE, "conditions": DS_AML})
    assert response.status_code == 200, response.json
    body = response.json
    assert body["outcome"] == "compatible"
    assert body["reasons"] == []
    assert sorted(o["term"] for o in body["obligations"]) == ["DUO:0000019", "DUO:0000024"]
    assert body["ontology_versions"] == {"DUO": world.duo_version, "NCIT": world.ncit_version}
    assert body["conditions_revision"] is None and body["dataset"] is None


def test_unrelated_disease_is_incompatible_with_labels_in_the_reason(client, world):
    body = post(
        client, world, {"purpose": {**PURPOSE, "diseases": [MYELOMA]}, "conditions": DS_AML}
    ).json
    assert body["outcome"] == "incompatible"
    (reason,) = body["reasons"]
    assert reason["rule"] == "disease"
    assert "Plasma Cell Myeloma (NCIT:C3242)" in reason["message"]
    assert "Acute Myeloid Leukemia (NCIT:C3171)" in reason["message"]


def test_iris_and_codes_are_accepted(client, world):
    purpose = {
        **PURPOSE,
        "terms": ["http://purl.obolibrary.org/obo/DUO_0000007", "DUO:0000031"],
        "diseases": ["http://purl.obolibrary.org/obo/NCIT_C3182"],
    }
    conditions = {**DS_AML, "permission": "DS"}
    body = post(client, world, {"purpose": purpose, "conditions": conditions}).json
    assert body["outcome"] == "compatible", body


def test_check_against_a_dataset_reports_its_revision(client, world):
    body = post(client, world, {"purpose": PURPOSE, "dataset": "aml-trial"}).json
    assert body["outcome"] == "compatible", body
    assert body["dataset"] == "aml-trial"
    assert body["conditions_revision"] == 2
    assert body["conditions"]["diseases"] == [AML]
    assert body["ontology_versions"] == {"DUO": world.duo_version, "NCIT": world.ncit_version}


def test_a_dataset_s_agreement_adds_its_obligations(client, world):
    covered = post(client, world, {"purpose": PURPOSE, "dataset": "aml-trial"}).json
    uncovered = post(client, world, {"purpose": PURPOSE, "dataset": "aml-other"}).json
    assert covered["outcome"] == uncovered["outcome"] == "compatible"
    extra = covered["obligations"][len(uncovered["obligations"]) :]
    assert covered["obligations"][: len(uncovered["obligations"])] == uncovered["obligations"]
    assert [o["term"] for o in extra] == [
        "agreement:acknowledgement",
        "agreement:publication_review",
    ]
    assert "Leiden Haematology" in extra[0]["text"]


def test_check_against_a_dataset_names_what_fails(client, world):
    body = post(
        client,
        world,
        {"purpose": {**PURPOSE, "publication_not_before": "2026-01-01"}, "dataset": "aml-trial"},
    ).json
    assert body["outcome"] == "incompatible"
    assert [r["rule"] for r in body["reasons"]] == ["moratorium"]


@pytest.mark.parametrize(
    ("role", "status"), [("researcher", 404), ("other_custodian", 404), ("owner", 200)]
)
def test_a_draft_only_its_custodians_see(client, world, role, status):
    response = post(client, world, {"purpose": PURPOSE, "dataset": "aml-draft"}, role=role)
    assert response.status_code == status


def test_unknown_dataset_is_404(client, world):
    assert post(client, world, {"purpose": PURPOSE, "dataset": "no-such"}).status_code == 404


def test_dataset_without_conditions_is_422_naming_dataset(client, world):
    response = post(client, world, {"purpose": PURPOSE, "dataset": "bare"})
    assert response.status_code == 422
    assert "no data-use conditions" in response.json["errors"]["dataset"][0]


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"purpose": PURPOSE}, {"conditions", "dataset"}),
        (
            {"purpose": PURPOSE, "conditions": DS_AML, "dataset": "aml-trial"},
            {"conditions", "dataset"},
        ),
        ({"conditions": DS_AML}, {"purpose"}),
        (
            {"purpose": {**PURPOSE, "terms": ["DUO:0000999"]}, "conditions": DS_AML},
            {"purpose.terms"},
        ),
        (
            {"purpose": {**PURPOSE, "terms": ["DUO:0000019"]}, "conditions": DS_AML},
            {"purpose.terms"},
        ),
        (
            {"purpose": {**PURPOSE, "terms": ["DUO:0000038"]}, "conditions": DS_AML},
            {"purpose.terms"},
        ),
        ({"purpose": {**PURPOSE, "terms": []}, "conditions": DS_AML}, {"purpose.terms"}),
        (
            {"purpose": {**PURPOSE, "diseases": ["NCIT:C0000"]}, "conditions": DS_AML},
            {"purpose.diseases"},
        ),
        (
            {"purpose": {**PURPOSE, "diseases": ["not a curie"]}, "conditions": DS_AML},
            {"purpose.diseases"},
        ),
        (
            {"purpose": {**PURPOSE, "diseases": ["HP:0000118"]}, "conditions": DS_AML},
            {"purpose.diseases"},
        ),
        ({"purpose": {**PURPOSE, "diseases": []}, "conditions": DS_AML}, {"purpose.diseases"}),
        ({"purpose": {**PURPOSE, "country": "XX"}, "conditions": DS_AML}, {"purpose.country"}),
        (
            {"purpose": {**PURPOSE, "duration_months": 0}, "conditions": DS_AML},
            {"purpose.duration_months"},
        ),
        (
            {"purpose": {**PURPOSE, "publication_not_before": "soon"}, "conditions": DS_AML},
            {"purpose.publication_not_before"},
        ),
        ({"purpose": {**PURPOSE, "colour": "red"}, "conditions": DS_AML}, {"purpose.colour"}),
        (
            {"purpose": PURPOSE, "conditions": {**DS_AML, "permission": "DUO:0000019"}},
            {"conditions.permission"},
        ),
        (
            {"purpose": PURPOSE, "conditions": {**DS_AML, "diseases": ["NCIT:C0000"]}},
            {"conditions.diseases[0]"},
        ),
        (
            {
                "purpose": PURPOSE,
                "conditions": {**DS_AML, "modifiers": [{"term": "DUO:0000024", "date": "x"}]},
            },
            {"conditions.modifiers[0].date"},
        ),
    ],
)
def test_invalid_input_is_422_naming_the_field(client, world, body, fields):
    response = post(client, world, body)
    assert response.status_code == 422, response.json
    assert set(response.json["errors"]) == fields, response.json


def test_the_openapi_document_has_an_example(client):
    doc = client.get("/api/v1/openapi.json").json
    operation = doc["paths"]["/api/v1/data-use/check"]["post"]
    content = operation["requestBody"]["content"]["application/json"]
    assert content["example"]["purpose"]["terms"] == ["DUO:0000007"]
    assert "401" in operation["responses"] and "422" in operation["responses"]


# --- the hierarchy from the term store --------------------------------------------------------


def test_the_store_agrees_with_the_pure_tests_slice(app, world):
    with app.app_context():
        hierarchy = current_hierarchy(ANCESTORS)
    assert isinstance(hierarchy, Hierarchy)
    for term, ancestors in ANCESTORS.items():
        assert ancestors <= hierarchy.ancestors[term], term
        assert hierarchy.labels[term] == LABELS[term]
    assert hierarchy.within(APL, AML) and hierarchy.within(AML, MYELOID)
    assert not hierarchy.within(MYELOMA, AML) and not hierarchy.within(MYELOID, AML)
    assert hierarchy.versions == {"DUO": world.duo_version, "NCIT": world.ncit_version}


def test_purpose_schema_loads_into_the_check_s_purpose_and_dumps_back(app, world):
    from governance.matching.check import Purpose
    from governance.matching.schemas import PurposeSchema

    given = {
        **PURPOSE,
        "terms": ["DS", "http://purl.obolibrary.org/obo/DUO_0000031"],
        "diseases": ["ncit:C3182"],
        "users": ["Ada Lovelace"],
        "project": "HARMONY",
        "collaboration": True,
    }
    with app.app_context():
        purpose = PurposeSchema().load(given)
    assert isinstance(purpose, Purpose)
    assert purpose.terms == {"DUO:0000007", "DUO:0000031"}
    assert purpose.diseases == {APL}
    dumped = PurposeSchema().dump(purpose)
    assert dumped["terms"] == ["DUO:0000007", "DUO:0000031"]
    assert dumped["diseases"] == [APL]
    assert dumped["publication_not_before"] == "2027-01-01"
    assert dumped["sensitive"] is False and dumped["topic"] is None
    with app.app_context():
        assert PurposeSchema().load(dumped) == purpose
