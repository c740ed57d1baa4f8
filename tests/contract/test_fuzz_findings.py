"""What the schemathesis run (fuzzing.py) found, pinned as plain requests."""

from __future__ import annotations

import pytest


def test_a_multipart_part_without_a_readable_name_is_422_not_500(client, make):
    """``name="\\"`` leaves the part's name unreadable (werkzeug gives None)."""
    from core.models import Role

    token = make.token(make.user(Role.ADMIN))
    boundary = "fuzz"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="\\"\r\n\r\nfalse\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.ttl"\r\n\r\n'
        f"\r\n--{boundary}--\r\n"
    )
    response = client.post(
        "/api/v1/ontologies",
        data=body.encode(),
        content_type=f"multipart/form-data; boundary={boundary}",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert "form" in response.get_json()["errors"]


def _admin(make) -> dict[str, str]:
    from core.models import Role

    return {"Authorization": f"Bearer {make.token(make.user(Role.ADMIN))}", "If-Match": "*"}


def test_a_change_sending_a_nested_object_half_is_422_not_500(client, make):
    """A PATCH may leave fields out, but an object it sends is whole: a provenance step
    without its date, a set's term without its CURIE."""
    headers = _admin(make)
    dataset = client.patch(
        "/api/v1/datasets/no-such-dataset",
        json={"provenance": [{"step": "pseudonymised"}]},
        headers=headers,
    )
    assert dataset.status_code == 422, dataset.get_data(as_text=True)
    assert "provenance.0.date" in dataset.get_json()["errors"]
    standard_set = client.patch(
        "/api/v1/standard-sets/no-such-set", json={"terms": [{}]}, headers=headers
    )
    assert standard_set.status_code == 422, standard_set.get_data(as_text=True)
    assert any(key.startswith("terms.0") for key in standard_set.get_json()["errors"])


def test_a_change_may_still_leave_fields_out(client, make):
    headers = _admin(make)
    response = client.patch(
        "/api/v1/datasets/no-such-dataset", json={"title": "A new title"}, headers=headers
    )
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("patients_max=", 200),  # a blank field of the search form: no bound, as documented
        ("patients_max=%20", 200),
        ("patients_max=1_000", 422),  # int() reads it, the document's integer does not
        ("patients_min=%D9%A3", 422),  # an Arabic-Indic three
        ("page=1_0", 422),
        ("per_page=", 200),
    ],
)
def test_search_numbers_are_blank_or_ascii_whole_numbers(client, query, status):
    response = client.get(f"/api/v1/search?{query}")
    assert response.status_code == status, response.get_data(as_text=True)


def test_the_search_documents_that_a_blank_number_means_none(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    parameters = spec["paths"]["/api/v1/search"]["get"]["parameters"]
    patients_max = next(p for p in parameters if p["name"] == "patients_max")
    assert {"type": "string", "pattern": r"^\s*$"} in patients_max["schema"]["anyOf"]
