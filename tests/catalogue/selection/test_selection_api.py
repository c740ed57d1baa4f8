"""The selection's JSON API: add, remove and clear; what may be added; another user's
selection; limits and ETags."""

from __future__ import annotations

import pytest

from catalogue.selection import services
from tests.catalogue.selection.conftest import bearer

SELECTION = "/api/v1/me/selection"


def put(client, world, identifier, body=None, role="researcher", **headers):
    return client.put(
        f"{SELECTION}/datasets/{identifier}",
        json=body,
        headers={**bearer(world, role), **headers},
    )


def get(client, world, role="researcher"):
    response = client.get(SELECTION, headers=bearer(world, role))
    assert response.status_code == 200
    return response


def listed(client, world, role="researcher"):
    return {d["identifier"]: d for d in get(client, world, role).json["datasets"]}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", SELECTION),
        ("DELETE", SELECTION),
        ("PUT", f"{SELECTION}/datasets/sel-aml"),
        ("DELETE", f"{SELECTION}/datasets/sel-aml"),
        ("DELETE", f"{SELECTION}/datasets/sel-aml/variables/npm1"),
    ],
)
def test_anonymous_callers_are_asked_to_log_in(client, world, method, path):
    response = client.open(path, method=method, json={})
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"


def test_an_empty_selection_reads_without_being_created(client, world):
    body = get(client, world).json
    assert body["datasets"] == [] and body["total"] == 0 and body["id"] is None
    assert body["name"] == "My selection"


def test_add_a_dataset_then_read_it_with_its_title_and_status(client, world):
    response = put(client, world, "sel-aml")
    assert response.status_code == 200
    assert response.headers["ETag"]
    (item,) = response.json["datasets"]
    assert item["identifier"] == "sel-aml"
    assert item["id"] == world.ids["sel-aml"]
    assert item["title"] == "AML cohort with molecular markers"
    assert item["status"] == "published"
    assert item["variables"] == []
    assert get(client, world).json["total"] == 1


def test_adding_twice_changes_nothing(client, world):
    first = put(client, world, "sel-aml").json
    again = put(client, world, "sel-aml").json
    assert again["revision"] == first["revision"]
    assert len(again["datasets"]) == 1


def test_a_dataset_is_also_found_by_its_internal_id(client, world):
    assert put(client, world, world.ids["sel-mds"]).status_code == 200
    assert set(listed(client, world)) == {"sel-mds"}


def test_add_variables_with_their_labels_and_more_later(client, world):
    put(client, world, "sel-aml", {"variables": ["npm1", "flt3_itd"]})
    put(client, world, "sel-aml", {"variables": ["karyotype", "npm1"]})
    variables = listed(client, world)["sel-aml"]["variables"]
    assert [(v["name"], v["label"]) for v in variables] == [
        ("npm1", "NPM1 mutation"),
        ("flt3_itd", "FLT3-ITD status"),
        ("karyotype", "Karyotype"),
    ]
    assert all(v["available"] for v in variables)


def test_a_variable_the_dataset_does_not_have_is_named_and_nothing_is_added(client, world):
    response = put(client, world, "sel-aml", {"variables": ["npm1", "ipss_r", "nonsense"]})
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    (message,) = response.json["errors"]["variables"]
    assert "“ipss_r”" in message and "“nonsense”" in message and "npm1" not in message
    assert listed(client, world) == {}


@pytest.mark.parametrize(
    "body",
    [{"variables": "npm1"}, {"variables": [""]}, {"variables": [3]}, {"colour": "red"}],
    ids=["not-a-list", "empty-name", "not-a-string", "unknown-field"],
)
def test_a_malformed_body_is_refused_naming_the_field(client, world, body):
    response = put(client, world, "sel-aml", body)
    assert response.status_code == 422
    (name,) = response.json["errors"]
    assert name.split(".")[0] in {"variables", "colour"}
    assert listed(client, world) == {}


@pytest.mark.parametrize(
    ("identifier", "role"),
    [
        ("sel-draft", "researcher"),
        ("sel-draft", "custodian"),  # their own draft: visible, but not published
        ("sel-foreign-draft", "custodian"),
        ("no-such-dataset", "researcher"),
    ],
)
def test_drafts_and_datasets_one_may_not_see_cannot_be_added(client, world, identifier, role):
    response = put(client, world, identifier, role=role)
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert listed(client, world, role) == {}


def test_a_retired_dataset_cannot_be_added(client, world):
    response = put(client, world, "sel-retired")
    assert response.status_code == 409
    assert "retired" in response.json["detail"]


def test_remove_a_variable_keeps_the_dataset(client, world):
    put(client, world, "sel-aml", {"variables": ["npm1", "karyotype"]})
    response = client.delete(
        f"{SELECTION}/datasets/sel-aml/variables/npm1", headers=bearer(world, "researcher")
    )
    assert response.status_code == 204
    assert [v["name"] for v in listed(client, world)["sel-aml"]["variables"]] == ["karyotype"]
    again = client.delete(
        f"{SELECTION}/datasets/sel-aml/variables/npm1", headers=bearer(world, "researcher")
    )
    assert again.status_code == 404


def test_remove_a_dataset_removes_its_variables(client, world):
    put(client, world, "sel-aml", {"variables": ["npm1"]})
    put(client, world, "sel-mds")
    response = client.delete(f"{SELECTION}/datasets/sel-aml", headers=bearer(world, "researcher"))
    assert response.status_code == 204
    assert set(listed(client, world)) == {"sel-mds"}
    put(client, world, "sel-aml")  # back, without the variables it had
    assert listed(client, world)["sel-aml"]["variables"] == []
    client.delete(f"{SELECTION}/datasets/sel-aml", headers=bearer(world, "researcher"))
    again = client.delete(f"{SELECTION}/datasets/sel-aml", headers=bearer(world, "researcher"))
    assert again.status_code == 404


def test_clear_empties_the_selection(client, world):
    put(client, world, "sel-aml", {"variables": ["npm1"]})
    put(client, world, "sel-mds")
    response = client.delete(SELECTION, headers=bearer(world, "researcher"))
    assert response.status_code == 204
    assert get(client, world).json["datasets"] == []
    assert client.delete(SELECTION, headers=bearer(world, "researcher")).status_code == 204


def test_each_user_has_their_own_selection(client, world):
    put(client, world, "sel-aml")
    assert listed(client, world, "other_researcher") == {}
    response = client.delete(
        f"{SELECTION}/datasets/sel-aml", headers=bearer(world, "other_researcher")
    )
    assert response.status_code == 404
    assert set(listed(client, world)) == {"sel-aml"}


def test_a_selection_holds_a_limited_number_of_datasets(client, world, monkeypatch):
    monkeypatch.setattr(services, "MAX_DATASETS", 2)
    put(client, world, "sel-aml")
    put(client, world, "sel-mds")
    response = put(client, world, "sel-bare")
    assert response.status_code == 422
    assert "at most 2 datasets" in response.json["errors"]["dataset_id"][0]
    assert put(client, world, "sel-aml", {"variables": ["npm1"]}).status_code == 200
    assert set(listed(client, world)) == {"sel-aml", "sel-mds"}


def test_a_stale_etag_is_refused(client, world):
    etag = put(client, world, "sel-aml").headers["ETag"]
    put(client, world, "sel-mds", **{"If-Match": etag})
    stale = client.delete(SELECTION, headers={**bearer(world, "researcher"), "If-Match": etag})
    assert stale.status_code == 412
    current = get(client, world).headers["ETag"]
    fresh = client.delete(SELECTION, headers={**bearer(world, "researcher"), "If-Match": current})
    assert fresh.status_code == 204


def test_a_retired_dataset_stays_listed_as_retired(app, client, world):
    from catalogue.datasets import services as datasets
    from core.etags import UNCHECKED
    from core.policies import SYSTEM

    put(client, world, "sel-bare")
    with app.app_context():
        datasets.retire(SYSTEM, "sel-bare", "Withdrawn.", UNCHECKED)
    assert listed(client, world)["sel-bare"]["status"] == "retired"
    assert put(client, world, "sel-bare").status_code == 409
    response = client.delete(f"{SELECTION}/datasets/sel-bare", headers=bearer(world, "researcher"))
    assert response.status_code == 204


def test_variables_are_kept_by_name_across_versions(app, client, world):
    """A new published version keeps the chosen names; one it renamed is listed as not
    available, not dropped."""
    from sqlalchemy import select

    from catalogue.datasets import services as datasets
    from catalogue.models import Variable
    from core.db import get_session
    from core.etags import UNCHECKED
    from core.policies import SYSTEM

    put(client, world, "sel-aml", {"variables": ["npm1", "karyotype"]})
    with app.app_context():
        draft = datasets.new_version(SYSTEM, "sel-aml", UNCHECKED)
        session = get_session()
        renamed = session.scalar(
            select(Variable).where(Variable.version_id == draft.id, Variable.name == "karyotype")
        )
        renamed.name, renamed.label = "karyotype_iscn", "Karyotype (ISCN)"
        session.commit()
        datasets.publish(SYSTEM, "sel-aml", UNCHECKED)
    item = listed(client, world)["sel-aml"]
    assert item["version"] == 2
    assert [(v["name"], v["label"], v["available"]) for v in item["variables"]] == [
        ("npm1", "NPM1 mutation", True),
        ("karyotype", None, False),
    ]
    response = put(client, world, "sel-aml", {"variables": ["karyotype"]})
    assert response.status_code == 422


def test_the_body_is_optional(client, world):
    response = client.put(f"{SELECTION}/datasets/sel-mds", headers=bearer(world, "researcher"))
    assert response.status_code == 200
    assert set(listed(client, world)) == {"sel-mds"}
