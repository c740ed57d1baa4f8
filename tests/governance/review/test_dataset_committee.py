"""Which committee reviews requests for a dataset: read by anyone who sees the dataset, assigned
by administrators (API and the form on the dataset page), audited, and used at submission."""

from __future__ import annotations

from sqlalchemy import select

from core.audit import AuditEvent
from core.db import get_session, writing
from core.models import Role
from governance.requests.models import AccessRequest
from tests.conftest import login, post_form
from tests.governance.requests.world import submit_request

URL = "/api/v1/datasets/{}/committee"


def _second_committee(make):
    return make.committee(name="Lymphoma DAC")


def test_a_dataset_goes_to_the_default_committee_until_assigned(app, client, make, world):
    answer = client.get(URL.format("req-aml"), headers=world.auth("outsider"))
    assert answer.status_code == 200
    assert answer.get_json() == {
        "dataset": "req-aml",
        "committee_id": world.committee,
        "committee_name": "HARMONY Data Access Committee",
        "assigned": False,
    }
    other = _second_committee(make)
    admin = {"Authorization": f"Bearer {make.token(make.user(Role.ADMIN))}"}
    put = client.put(URL.format("req-aml"), json={"committee_id": other.id}, headers=admin)
    assert put.status_code == 200 and put.get_json()["assigned"] is True
    assert put.get_json()["committee_name"] == "Lymphoma DAC"
    with app.app_context(), writing():
        event = get_session().scalar(
            select(AuditEvent).where(AuditEvent.action == "dataset.committee_changed")
        )
        assert event is not None and event.after == {"committee_id": other.id}
        # a request for this dataset alone goes to its committee
        request_id = submit_request(world, datasets=[{"dataset": "req-aml"}])
        assert get_session().get(AccessRequest, request_id).committee_id == other.id
    back = client.put(URL.format("req-aml"), json={"committee_id": None}, headers=admin)
    assert back.get_json()["assigned"] is False
    assert back.get_json()["committee_id"] == world.committee


def test_only_administrators_assign(client, world):
    body = {"committee_id": world.committee}
    assert client.put(URL.format("req-aml"), json=body).status_code == 401
    for who in ("applicant", "aml_custodian", "chair"):
        answer = client.put(URL.format("req-aml"), json=body, headers=world.auth(who))
        assert answer.status_code == 403, who
    admin = world.auth("admin")
    unknown = client.put(URL.format("req-aml"), json={"committee_id": "nope"}, headers=admin)
    assert unknown.status_code == 422 and "committee_id" in unknown.get_json()["errors"]
    assert client.put(URL.format("no-such"), json=body, headers=admin).status_code == 404


def test_the_dataset_page_shows_the_committee_and_administrators_change_it(
    app, client, make, world
):
    other = _second_committee(make)
    admin = make.user(Role.ADMIN)
    login(client, admin.email)
    page = client.get("/datasets/req-myeloma").get_data(as_text=True)
    assert "reviewed by <strong>HARMONY Data Access Committee</strong>" in page
    answer = post_form(
        client,
        "/datasets/req-myeloma/committee",
        {"committee_id": other.id},
        page="/datasets/req-myeloma",
    )
    assert answer.status_code == 302
    page = client.get("/datasets/req-myeloma").get_data(as_text=True)
    assert "reviewed by <strong>Lymphoma DAC</strong>" in page
