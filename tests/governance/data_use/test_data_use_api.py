"""``GET/PUT /api/v1/datasets/{identifier}/data-use``: who may read and change a dataset's
data-use conditions, the ETag they quote, the numbered revisions, the audit event in the
dataset's history, and a 422 naming each wrong field (this module runs on both databases)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import select

from catalogue.models import Dataset
from core import audit, events
from core.db import get_session
from core.models import Role
from governance.data_use import services
from governance.data_use.models import DataUseConditions, DataUseTerm
from tests.conftest import shared_world

AML = "NCIT:C3171"
MYELOID = "NCIT:C9300"
DS_AML = {
    "permission": "DUO:0000007",
    "diseases": [AML],
    "modifiers": [{"term": "DUO:0000024", "date": "2026-06-01"}, {"term": "DUO:0000021"}],
}


@dataclass
class World:
    tokens: dict[str, str] = field(default_factory=dict)


@pytest.fixture(scope="module")
def world(app, reference_engine) -> Iterator[World]:
    with shared_world(app, reference_engine) as make:
        leiden = make.organisation(name="Leiden Haematology", country="NL")
        lyon = make.organisation(name="Lyon Blood Registry", country="FR")
        users = {
            "owner": make.user(Role.CUSTODIAN, organisation=leiden),
            "other_custodian": make.user(Role.CUSTODIAN, organisation=lyon),
            "researcher": make.user(Role.RESEARCHER),
            "admin": make.user(Role.ADMIN),
        }
        world = World(tokens={role: make.token(u) for role, u in users.items()})
        make.dataset(leiden, identifier="du-published", title="AML trial", publish=True)
        make.dataset(leiden, identifier="du-draft", title="Draft AML registry")
        make.dataset(leiden, identifier="du-retired", title="Old AML trial", publish=True)
        from catalogue.datasets import services as datasets
        from core.policies import SYSTEM

        with app.app_context():
            datasets.retire(SYSTEM, "du-retired", "Pooled elsewhere.", datasets.UNCHECKED)
        yield world


def headers(world: World, role: str | None, etag: str | None = None) -> dict[str, str]:
    out = {"Authorization": f"Bearer {world.tokens[role]}"} if role else {}
    if etag is not None:
        out["If-Match"] = etag
    return out


def url(identifier: str = "du-published") -> str:
    return f"/api/v1/datasets/{identifier}/data-use"


def put(client, world, body: Any, role: str = "owner", identifier: str = "du-published"):
    etag = client.get(url(identifier), headers=headers(world, role)).headers["ETag"]
    return client.put(url(identifier), json=body, headers=headers(world, role, etag))


def test_a_dataset_without_conditions_answers_revision_0(client, world):
    response = client.get(url())
    assert response.status_code == 200
    assert response.json == {
        "permission": None,
        "code": None,
        "label": None,
        "diseases": [],
        "disease_terms": [],
        "modifiers": [],
        "revision": 0,
    }
    assert response.headers["ETag"]


def test_set_read_and_labelled(client, world):
    response = put(client, world, DS_AML)
    assert response.status_code == 200, response.json
    body = client.get(url()).json  # anyone may read a published dataset's conditions
    assert body["permission"] == "DUO:0000007" and body["code"] == "DS"
    assert body["label"] == "disease specific research"
    assert body["diseases"] == [AML]
    assert (
        body["disease_terms"][0]["curie"] == AML
        and "myeloid" in body["disease_terms"][0]["label"].lower()
    )
    assert body["revision"] == 1
    # modifiers in the vocabulary's order (IRB before MOR), with their shorthand and label
    assert body["modifiers"] == [
        {"term": "DUO:0000021", "code": "IRB", "label": "ethics approval required"},
        {
            "term": "DUO:0000024",
            "code": "MOR",
            "label": "publication moratorium",
            "date": "2026-06-01",
        },
    ]


def test_iris_and_shorthand_are_stored_as_curies(client, world):
    body = {
        "permission": "http://purl.obolibrary.org/obo/DUO_0000007",
        "diseases": ["http://purl.obolibrary.org/obo/NCIT_C3171"],
        "modifiers": [{"term": "GS", "regions": ["nl", "EEA"]}],
    }
    response = put(client, world, body)
    assert response.status_code == 200, response.json
    assert response.json["permission"] == "DUO:0000007"
    assert response.json["diseases"] == [AML]
    assert response.json["modifiers"][0]["term"] == "DUO:0000022"
    assert response.json["modifiers"][0]["regions"] == ["EEA", "NL"]


def test_revisions_count_changes_and_each_is_audited_in_the_dataset_history(app, client, world):
    announced: list[events.Event] = []
    events.subscribe("data_use.changed", announced.append)
    try:
        first = put(client, world, DS_AML)
        again = put(client, world, DS_AML)  # the same content: nothing changes
        changed = put(client, world, {"permission": "DUO:0000042"})
    finally:
        events.unsubscribe(announced.append)
    assert [first.json["revision"], again.json["revision"], changed.json["revision"]] == [1, 1, 2]
    assert first.headers["ETag"] == again.headers["ETag"] != changed.headers["ETag"]
    assert [(e.object_id, e.payload["revision"]) for e in announced] == [
        ("du-published", 1),
        ("du-published", 2),
    ]
    with app.app_context():
        row = get_session().scalar(
            select(DataUseConditions)
            .join(Dataset, Dataset.id == DataUseConditions.dataset_id)
            .where(Dataset.identifier == "du-published")
        )
        recorded = [
            e
            for e in audit.events_for("dataset", row.dataset_id, newest_first=False)
            if e.action == "dataset.data_use_changed"
        ]
        assert [e.context["revision"] for e in recorded] == [1, 2]
        assert recorded[0].before is None or recorded[0].before.get("permission") is None
        assert recorded[1].before == {
            "permission": "DUO:0000007",
            "diseases": [AML],
            "modifiers": DS_AML["modifiers"][::-1],
        }
        assert recorded[1].after == {"permission": "DUO:0000042", "diseases": [], "modifiers": []}
        terms = set(
            get_session().scalars(
                select(DataUseTerm.term).where(DataUseTerm.dataset_id == row.dataset_id)
            )
        )
        assert terms == {"DUO:0000042"}
        assert audit.verify(get_session()).ok
    history = client.get(
        "/api/v1/datasets/du-published/history", headers=headers(world, "owner")
    ).json
    assert history[0]["action"] == "data_use_changed"
    assert "GRU" in history[0]["summary"]


def test_if_match_is_required_and_a_stale_one_refused(client, world):
    missing = client.put(url(), json=DS_AML, headers=headers(world, "owner"))
    assert missing.status_code == 428
    etag = client.get(url()).headers["ETag"]
    assert client.put(url(), json=DS_AML, headers=headers(world, "owner", etag)).status_code == 200
    stale = client.put(
        url(), json={"permission": "DUO:0000004"}, headers=headers(world, "owner", etag)
    )
    assert stale.status_code == 412
    assert client.get(url()).json["permission"] == "DUO:0000007"


@pytest.mark.parametrize(
    ("role", "identifier", "status"),
    [
        ("owner", "du-published", 200),
        ("admin", "du-published", 200),
        ("other_custodian", "du-published", 403),
        ("researcher", "du-published", 403),
        (None, "du-published", 401),
        ("owner", "du-draft", 200),
        ("admin", "du-draft", 200),
        ("other_custodian", "du-draft", 404),
        ("researcher", "du-draft", 404),
        (None, "du-draft", 401),
        ("owner", "du-retired", 409),
        ("owner", "nothing-here", 404),
    ],
)
def test_who_may_set_conditions(client, world, role, identifier, status):
    response = client.put(url(identifier), json=DS_AML, headers=headers(world, role, "*"))
    assert response.status_code == status, response.json


@pytest.mark.parametrize(
    ("role", "status"),
    [("owner", 200), ("admin", 200), ("other_custodian", 404), ("researcher", 404), (None, 404)],
)
def test_a_drafts_conditions_are_seen_by_its_editors_only(client, world, role, status):
    assert client.get(url("du-draft"), headers=headers(world, role)).status_code == status


INVALID = [
    ({}, "permission"),
    ({"permission": "DUO:0000024"}, "permission"),  # a modifier, not a permission
    ({"permission": ["DUO:0000042", "DUO:0000006"]}, "permission"),
    ({"permission": "DUO:0000005"}, "permission"),  # obsolete GRU-CC
    ({"permission": "DUO:0000014"}, "permission"),  # obsolete RU
    ({"permission": "DUO:9999999"}, "permission"),
    ({"permission": "NCIT:C3171"}, "permission"),
    ({"permission": "DUO:0000007"}, "diseases"),  # DS without a disease
    ({"permission": "DUO:0000007", "diseases": ["NCIT:C0000000"]}, "diseases[0]"),
    ({"permission": "DUO:0000007", "diseases": [AML, "HV:0000001"]}, "diseases[1]"),
    ({"permission": "DUO:0000007", "diseases": [AML, 7]}, "diseases[1]"),
    ({"permission": "DUO:0000042", "diseases": [AML]}, "diseases"),  # only DS names diseases
    ({"permission": "DUO:0000042", "modifiers": [{"term": "DUO:0000007"}]}, "modifiers[0].term"),
    (
        {"permission": "DUO:0000042", "modifiers": [{"term": "DUO:0000021"}, {"term": "IRB"}]},
        "modifiers[1].term",
    ),
    ({"permission": "DUO:0000042", "modifiers": [{"term": "DUO:0000024"}]}, "modifiers[0].date"),
    (
        {
            "permission": "DUO:0000042",
            "modifiers": [
                {"term": "DUO:0000021"},
                {"term": "DUO:0000019"},
                {"term": "DUO:0000024", "date": "2026-02-30"},
            ],
        },
        "modifiers[2].date",
    ),
    (
        {"permission": "DUO:0000042", "modifiers": [{"term": "DUO:0000025", "months": 0}]},
        "modifiers[0].months",
    ),
    (
        {"permission": "DUO:0000042", "modifiers": [{"term": "DUO:0000025", "months": 601}]},
        "modifiers[0].months",
    ),
    (
        {"permission": "DUO:0000042", "modifiers": [{"term": "DUO:0000025", "months": "12"}]},
        "modifiers[0].months",
    ),
    (
        {"permission": "DUO:0000042", "modifiers": [{"term": "DUO:0000022", "regions": ["XX"]}]},
        "modifiers[0].regions[0]",
    ),
    (
        {"permission": "DUO:0000042", "modifiers": [{"term": "DUO:0000022", "regions": []}]},
        "modifiers[0].regions",
    ),
    (
        {"permission": "DUO:0000042", "modifiers": [{"term": "DUO:0000026", "users": ["", "A"]}]},
        "modifiers[0].users[0]",
    ),
    (
        {
            "permission": "DUO:0000042",
            "modifiers": [{"term": "DUO:0000027", "projects": "HARMONY"}],
        },
        "modifiers[0].projects",
    ),
    (
        {"permission": "DUO:0000042", "modifiers": [{"term": "DUO:0000012", "topic": "  "}]},
        "modifiers[0].topic",
    ),
    (
        {"permission": "DUO:0000042", "modifiers": [{"term": "DUO:0000021", "date": "2026-01-01"}]},
        "modifiers[0].date",
    ),  # IRB takes no date
    ({"permission": "DUO:0000042", "colour": "blue"}, "colour"),
]


@pytest.mark.parametrize(("body", "field_name"), INVALID)
def test_invalid_conditions_are_refused_naming_the_field(client, world, body, field_name):
    response = put(client, world, body)
    assert response.status_code == 422, response.json
    assert field_name in response.json["errors"], response.json["errors"]
    assert client.get(url()).json["revision"] == 0  # nothing was written


def test_every_parameter_kind_is_accepted(client, world):
    body = {
        "permission": "DUO:0000042",
        "modifiers": [
            {"term": "DUO:0000012", "topic": "Measurable residual disease"},
            {"term": "DUO:0000022", "regions": ["EU", "CH", "NO"]},
            {"term": "DUO:0000024", "date": "2027-01-01"},
            {"term": "DUO:0000025", "months": 36},
            {"term": "DUO:0000026", "users": ["Dr A. Jansen"]},
            {"term": "DUO:0000027", "projects": ["HARMONY PLUS"]},
            {"term": "DUO:0000028", "institutions": ["Erasmus MC", "Charité"]},
            {"term": "DUO:0000045"},
        ],
    }
    response = put(client, world, body)
    assert response.status_code == 200, response.json
    by_code = {m["code"]: m for m in response.json["modifiers"]}
    assert by_code["GS"]["regions"] == ["CH", "EU", "NO"]
    assert by_code["TS"]["months"] == 36
    assert by_code["IS"]["institutions"] == ["Charité", "Erasmus MC"]
    assert set(by_code) == {"RS", "GS", "MOR", "TS", "US", "PS", "IS", "NPU"}


def test_a_get_body_can_be_sent_back(client, world):
    assert put(client, world, DS_AML).status_code == 200
    read = client.get(url(), headers=headers(world, "owner"))
    again = client.put(url(), json=read.json, headers=headers(world, "owner", read.headers["ETag"]))
    assert again.status_code == 200, again.json
    assert again.json["revision"] == 1


def test_conditions_of_reads_a_page_of_datasets_in_one_query(app, client, world):
    from sqlalchemy import event

    assert put(client, world, DS_AML).status_code == 200
    with app.app_context():
        session = get_session()
        ids = dict(session.execute(select(Dataset.identifier, Dataset.id)).all())
        statements: list[str] = []
        engine = session.get_bind()
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        try:
            found = services.conditions_of([ids["du-published"], ids["du-draft"]])
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        assert len(statements) == 1
        assert list(found) == [ids["du-published"]]  # the draft has none
        conditions = found[ids["du-published"]]
        assert conditions.permission == "DUO:0000007" and conditions.revision == 1
        row = session.get(DataUseConditions, ids["du-published"])
        assert conditions.signature == row.signature
        assert services.conditions_for(None, "du-published") == conditions
        assert services.conditions_for(None, "du-retired") is None
