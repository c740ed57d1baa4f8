"""The public register: approved (and closed) uses only, with their title, lay summary,
institution, datasets, decision date and publications, amendments under their original; a
search; never a draft, open, returned, rejected or withdrawn request, never a person."""

from __future__ import annotations

import pytest

from core import workflow
from core.db import get_session, writing
from core.etags import UNCHECKED
from governance.oversight import services as oversight
from governance.requests.models import AccessRequest, RequestState
from tests.conftest import shared_world
from tests.governance.oversight.journey import approve_directly, approved, review
from tests.governance.requests.world import build_world, create_request, submit_request

URL = "/api/v1/register"
SECRET = {
    "scientific_abstract": "Retrospective analysis secret-abstract",
    "funding": "secret-funding-KWF",
    "conflicts_of_interest": "secret-conflict",
}


@pytest.fixture(scope="module")
def world(app, reference_engine):
    with shared_world(app, reference_engine) as make:
        world = build_world(app, make)
        team = [{"email": world.emails["teammate"], "name": "Tom Teammate"}]
        with app.app_context(), writing():
            first = approved(world, title="Relapse after FLT3 inhibitors", members=team,
                             lay_summary="How often AML comes back.", **SECRET)  # fmt: skip
            second = approved(world, title="Myeloma staging", lay_summary="Staging in myeloma.")
            for title, state in (("Rejected study", "reject"), ("Returned study", "return")):
                review(world, submit_request(world, title=title), state)
            submit_request(world, title="Open study")
            withdrawn = submit_request(world, title="Withdrawn study")
            workflow.apply("access_request", world.actor("applicant"), withdrawn, "withdraw",
                           if_match=UNCHECKED)  # fmt: skip
            create_request(world, title="Draft study")
            oversight.submit_report(world.actor("teammate"), first.id, {
                "kind": "publication", "title": "FLT3 relapse in 812 patients",
                "doi": "10.1182/blood.2026.42", "text": "secret-report-text",
            })  # fmt: skip
            oversight.submit_report(world.actor("applicant"), first.id, {
                "kind": "progress", "title": "secret-progress", "text": "secret-progress-text",
            })  # fmt: skip
            amendment = oversight.create_amendment(world.actor("applicant"), first.id, {
                "extend_months": 6, "justification": "secret-justification",
            })  # fmt: skip
            workflow.apply("access_request", world.actor("applicant"), amendment.id, "submit",
                           if_match=UNCHECKED)  # fmt: skip
            approve_directly(world, amendment.id)
            closed = get_session().get(AccessRequest, second.id)
            closed.state = RequestState.CLOSED
            get_session().commit()
            world.first = first.reference  # type: ignore[attr-defined]
            world.second = second.reference  # type: ignore[attr-defined]
        yield world


def test_approved_and_closed_uses_with_what_the_public_may_know(client, world):
    body = client.get(URL).get_json()
    assert body["total"] == 2
    entries = {e["reference"]: e for e in body["items"]}
    assert set(entries) == {world.first, world.second}
    first = entries[world.first]
    assert first["title"] == "Relapse after FLT3 inhibitors"
    assert first["lay_summary"] == "How often AML comes back."
    assert first["institution"] == "Amsterdam UMC"
    assert first["decided_on"]
    assert [(d["identifier"], d["title"]) for d in first["datasets"]] == [
        ("req-aml", "Leiden AML trials"), ("req-myeloma", "Lyon myeloma registry"),
    ]  # fmt: skip
    assert first["datasets"][0]["page"].endswith("/datasets/req-aml")
    assert [(p["title"], p["doi"]) for p in first["publications"]] == [
        ("FLT3 relapse in 812 patients", "10.1182/blood.2026.42")
    ]
    assert [(a["reference"], a["extend_months"]) for a in first["amendments"]] == [
        (f"{world.first}-A1", 6)
    ]
    assert set(first) == {"reference", "title", "lay_summary", "institution", "decided_on",
                          "datasets", "publications", "amendments"}  # fmt: skip


def test_nothing_else_and_no_person_ever(client, world):
    for text in (client.get(URL + "?per_page=200").get_data(as_text=True),
                 client.get("/register").get_data(as_text=True)):  # fmt: skip
        for hidden in ("Rejected study", "Returned study", "Open study", "Withdrawn study",
                       "Draft study", "Ann Applicant", "Tom Teammate", world.emails["applicant"],
                       world.emails["teammate"], "secret-", "example.org"):  # fmt: skip
            assert hidden not in text, hidden


def test_search_and_pages(client, world):
    found = client.get(URL, query_string={"q": "comes BACK"}).get_json()
    assert [e["reference"] for e in found["items"]] == [world.first]
    assert client.get(URL, query_string={"q": "rejected"}).get_json()["total"] == 0
    assert client.get(URL, query_string={"q": "100%_"}).get_json()["total"] == 0
    one = client.get(URL, query_string={"per_page": 1, "page": 2}).get_json()
    assert one["total"] == 2 and len(one["items"]) == 1
    assert client.get(URL, query_string={"per_page": 0}).status_code == 422


def test_the_page_lists_and_searches(client, world):
    html = client.get("/register").get_data(as_text=True)
    assert "Relapse after FLT3 inhibitors" in html and "Myeloma staging" in html
    assert 'href="https://doi.org/10.1182/blood.2026.42"' in html
    assert "extended by 6 months" in html and 'role="search"' in html
    empty = client.get("/register?q=nothing+like+it").get_data(as_text=True)
    assert "No approved use matches" in empty
