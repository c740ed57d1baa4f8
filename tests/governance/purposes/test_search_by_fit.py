"""Search by fit to a saved purpose (``purpose=``, ``fit=``) and by requestability
(``requestable=``): each hit's outcome, the facets' counts, the filters, and the 422s."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import login
from tests.governance.purposes.conftest import CONDITIONS, FIT, bearer

SEARCH = "/api/v1/search"
ALL = set(CONDITIONS)


def search(client, world, role: str | None = "researcher", **params: Any) -> dict[str, Any]:
    headers = bearer(world, role) if role else {}
    response = client.get(SEARCH, query_string={"per_page": 100, **params}, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json


def hits(body: dict[str, Any]) -> set[str]:
    return {item["identifier"] for item in body["items"]}


def counts(body: dict[str, Any], facet: str) -> dict[str, int]:
    return {v["value"]: v["count"] for v in body["facets"][facet]}


def test_every_hit_shows_its_fit_and_the_facet_counts_the_outcomes(client, world):
    body = search(client, world, purpose=world.purpose_id)
    assert hits(body) == ALL  # a purpose alone filters nothing
    fits = {item["identifier"]: item["fit"] for item in body["items"]}
    assert {i: f["outcome"] for i, f in fits.items()} == FIT
    assert fits["fit-ds-aml"]["reasons"] == []
    for identifier in ("fit-ds-aml-irb", "fit-ds-myeloma", "fit-bare"):
        assert fits[identifier]["reasons"], identifier  # a reason a person understands
        assert all(r["message"] for r in fits[identifier]["reasons"])
    myeloma = fits["fit-ds-myeloma"]["reasons"]
    assert any(r["outcome"] == "incompatible" for r in myeloma)
    assert counts(body, "fit") == {
        "compatible": 4,
        "needs_review": 1,
        "incompatible": 1,
        "no_conditions": 1,
    }


def test_without_a_purpose_there_is_no_fit(client, world):
    body = search(client, world)
    assert all("fit" not in item for item in body["items"])
    assert body["facets"]["fit"] == []


@pytest.mark.parametrize(
    ("fit", "expected"),
    [
        (["compatible"], {i for i, f in FIT.items() if f == "compatible"}),
        (["needs_review", "incompatible"], {"fit-ds-aml-irb", "fit-ds-myeloma"}),
        (["no_conditions"], {"fit-bare"}),
        (["compatible", "no_conditions"], {i for i, f in FIT.items() if f != "needs_review"}
         - {"fit-ds-myeloma"}),
    ],
)  # fmt: skip
def test_fit_filters_on_the_outcomes(client, world, fit, expected):
    body = search(client, world, purpose=world.purpose_id, fit=fit)
    assert hits(body) == expected
    assert body["total"] == len(expected)
    assert {item["fit"]["outcome"] for item in body["items"]} == set(fit)
    # the facet's own counts stay those of every outcome (its values are alternatives)
    assert counts(body, "fit")["compatible"] == 4
    selected = {v["value"] for v in body["facets"]["fit"] if v["selected"]}
    assert selected == set(fit)


def test_fit_combines_with_the_other_facets(client, world):
    body = search(client, world, purpose=world.purpose_id, fit="compatible", disease="NCIT:C3242")
    assert hits(body) == set()
    body = search(client, world, purpose=world.purpose_id, disease="NCIT:C3242")
    assert hits(body) == {"fit-ds-myeloma"}
    assert counts(body, "fit") == {
        "compatible": 0,
        "needs_review": 0,
        "incompatible": 1,
        "no_conditions": 0,
    }


def test_a_changed_purpose_changes_the_fit(client, world):
    """The check is memoised by the purpose's content, not its id: an edit shows at once."""
    me = bearer(world, "researcher")
    url = f"/api/v1/me/purposes/{world.purpose_id}"
    current = client.get(url, headers=me)
    purpose = {**current.json["purpose"], "ethics_approval": True}
    changed = client.put(
        url,
        json={"name": current.json["name"], "purpose": purpose},
        headers={**me, "If-Match": current.headers["ETag"]},
    )
    assert changed.status_code == 200
    body = search(client, world, purpose=world.purpose_id, fit="needs_review")
    assert hits(body) == set()  # IRB is satisfied now
    assert counts(body, "fit")["compatible"] == 5


@pytest.mark.parametrize(
    ("role", "params", "field"),
    [
        ("researcher", {"fit": "compatible"}, "fit"),  # fit without a purpose
        ("researcher", {"purpose": "PURPOSE", "fit": "maybe"}, "fit"),
        ("researcher", {"purpose": "no-such-purpose"}, "purpose"),
        ("researcher", {"purpose": "not an id!"}, "purpose"),
        ("researcher", {"purpose": ["PURPOSE", "OTHER"]}, "purpose"),
        ("other_researcher", {"purpose": "PURPOSE"}, "purpose"),  # not theirs
        (None, {"purpose": "PURPOSE"}, "purpose"),  # anonymous
        ("researcher", {"requestable": "maybe"}, "requestable"),
        ("researcher", {"requestable": ["true", "false"]}, "requestable"),
    ],
)
def test_bad_values_are_422_naming_the_parameter(client, world, role, params, field):
    def real(value: Any) -> Any:
        if isinstance(value, list):
            return [real(v) for v in value]
        return {"PURPOSE": world.purpose_id, "OTHER": world.other_purpose_id}.get(value, value)

    headers = bearer(world, role) if role else {}
    response = client.get(
        SEARCH, query_string={k: real(v) for k, v in params.items()}, headers=headers
    )
    assert response.status_code == 422, response.json
    assert field in response.json["errors"]


def test_requestable_filters_and_counts(client, world):
    """Requestable: an active agreement covers it today and it has conditions (fit-bare is
    covered but has none; fit-nres's agreement expired yesterday)."""
    body = search(client, world)
    assert counts(body, "requestable") == {"true": 1}
    only = search(client, world, requestable="true")
    assert hits(only) == {"fit-ds-aml"}
    hit = only["items"][0]
    assert hit["requestable"] is True and hit["requestable_until"]  # an ISO date
    assert hit["data_use"]["permission"] == "DUO:0000007"
    bare = next(i for i in body["items"] if i["identifier"] == "fit-bare")
    assert bare["requestable"] is False and bare["data_use"] is None
    assert only["facets"]["requestable"][0]["selected"] is True
    others = search(client, world, requestable="FALSE")
    assert hits(others) == ALL - {"fit-ds-aml"}
    # with fit: AND
    both = search(client, world, requestable="true", purpose=world.purpose_id, fit="compatible")
    assert hits(both) == {"fit-ds-aml"}


def test_the_hand_built_body_with_fit_is_what_the_schema_documents(client, world):
    from catalogue.search.schemas import SearchResponseSchema

    body = search(client, world, purpose=world.purpose_id)
    schema = SearchResponseSchema()
    assert schema.dump(schema.load(body)) == body


def test_the_openapi_document_names_the_parameters_and_fields(client):
    spec = client.get("/api/v1/openapi.json").json
    get = spec["paths"]["/api/v1/search"]["get"]
    parameters = {p["name"]: p for p in get["parameters"]}
    assert parameters["fit"]["schema"]["type"] == "array"
    assert parameters["purpose"]["schema"]["type"] == "string"
    assert parameters["requestable"]["schema"]["type"] == "string"
    hit = spec["components"]["schemas"]["SearchHit"]["properties"]
    assert {"requestable", "requestable_until", "data_use", "fit"} <= set(hit)


def test_a_purpose_using_every_field_searches_and_its_answers_count(client, world):
    """Every answer a saved purpose can hold — dates, lists, yes/no — goes through the store
    and back into the check: the moratorium's date and the country decide the fit."""
    headers = bearer(world, "researcher")
    full = {
        "terms": ["DUO:0000007", "DUO:0000038"],
        "diseases": ["NCIT:C3171"],
        "commercial": False,
        "ethics_approval": True,
        "country": "NL",
        "publication_not_before": "2027-01-01",
        "duration_months": 24,
        "sensitive": False,
        "users": ["A. Researcher"],
        "project": "AML relapse",
        "institution": "Leiden University",
        "topic": "relapse",
        "collaboration": True,
        "clinical_care": False,
    }
    created = client.post(
        "/api/v1/me/purposes", json={"name": "Every field", "purpose": full}, headers=headers
    )
    assert created.status_code == 201, created.get_data(as_text=True)
    body = search(client, world, purpose=created.json["id"])
    fits = {item["identifier"]: item["fit"]["outcome"] for item in body["items"]}
    assert fits["fit-ds-aml"] == "compatible"
    assert fits["fit-ds-myeloma"] == "incompatible"
    # and it reads back, as JSON and on its pages
    again = client.get(f"/api/v1/me/purposes/{created.json['id']}", headers=headers)
    assert again.status_code == 200 and again.json["purpose"]["publication_not_before"] == (
        "2027-01-01"
    )
    login(client, world.emails["researcher"])
    assert "2027-01-01" in client.get(f"/me/purposes/{created.json['id']}/edit").get_data(
        as_text=True
    )
    assert "Every field" in client.get("/me/purposes").get_data(as_text=True)
    assert client.get(f"/search?purpose={created.json['id']}").status_code == 200
