"""A dictionary upload that would remove variables or drop mappings asks first.

On the page: the file is kept (under ``DICTIONARY_PENDING_DIR``), what would go is listed with
counts, and nothing changes until the custodian confirms; a confirmation is the uploader's own,
for this dataset, within its time and only while the dataset has not changed. Through the API:
409 problem+json with ``report.removals`` unless ``confirm_removals=true``. Large files go
through the job worker under the same rule. A file that removes nothing imports as before."""

from __future__ import annotations

import io
import os
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from catalogue.dictionary import pending
from catalogue.dictionary.cli import import_dictionary_command
from core.models import Role
from tests.catalogue.dictionary.test_import_api import by_name, etag, new_custodian, upload
from tests.catalogue.dictionary.test_pages_dictionary import etag_of, text
from tests.catalogue.dictionary.test_pages_dictionary import upload as upload_on_page
from tests.conftest import csrf_token, login

HEADER = "name,label,value_type,permissible_values,term"
FIRST = [
    HEADER,
    "hb_dx,Haemoglobin at diagnosis,decimal,,HV:0000045",
    "kps,Karnofsky score,integer,,HV:0000179",
    "cyto,Cytogenetic abnormality,categorical,1=-5/del(5q)@HV:0000096|2=-7/del(7q)@HV:0000097"
    "|3=Complex,",
    "flt3,FLT3-ITD,categorical,0=Negative|1=Positive,HV:0000125",
]
# kps is gone (with its mapping), cyto's value 2 names something else now (its term goes),
# npm1 is new
REVISED = [
    HEADER,
    FIRST[1],
    "cyto,Cytogenetic abnormality,categorical,1=-5/del(5q)@HV:0000096|2=monosomy 7|3=Complex,",
    FIRST[4],
    "npm1,NPM1 mutation,categorical,0=Negative|1=Positive,HV:0000124",
]


def csv_bytes(lines: list[str]) -> bytes:
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture(autouse=True)
def held_here(app, tmp_path):
    """Held uploads go to this test's own folder (other test runs share instance/)."""
    before = app.config.get("DICTIONARY_PENDING_DIR")
    app.config["DICTIONARY_PENDING_DIR"] = str(tmp_path / "held")
    yield tmp_path / "held"
    app.config["DICTIONARY_PENDING_DIR"] = before


@pytest.fixture
def custodian(make, vocabularies) -> dict[str, Any]:
    return new_custodian(make)


@pytest.fixture
def dataset(client, make, custodian) -> str:
    """A draft whose dictionary is :data:`FIRST`, mapped."""
    identifier = make.dataset(custodian["organisation"])
    response = upload(client, identifier, csv_bytes(FIRST), "v1.csv", custodian["headers"])
    assert response.status_code == 200, response.json
    assert response.json["removals"] is None
    return identifier


def dictionary(client, custodian, identifier) -> dict[str, list[tuple[str | None, str]]]:
    """Variable → its mappings as (value, term)."""
    return {
        name: [(m["subject_value"], m["object_id"]) for m in v["mappings"]]
        for name, v in by_name(client, identifier, custodian["headers"]).items()
    }


def history_length(client, custodian, identifier) -> int:
    response = client.get(f"/api/v1/datasets/{identifier}/history", headers=custodian["headers"])
    return len(response.json)


EXPECTED_REMOVALS = {
    "variable_count": 1,
    "mapping_count": 2,
    "variables": [{"name": "kps", "label": "Karnofsky score", "mappings": 1}],
    "mappings": [
        {
            "variable": "kps",
            "subject_value": None,
            "object_id": "HV:0000179",
            "object_label": "Karnofsky performance status",
            "status": "accepted",
            "why": "its variable is removed",
        },
        {
            "variable": "cyto",
            "subject_value": "2",
            "object_id": "HV:0000097",
            "object_label": "Monosomy 7 or deletion 7q",
            "status": "accepted",
            "why": "the value 2 is now “monosomy 7” (was “-7/del(7q)”)",
        },
    ],
}


# --- the API ----------------------------------------------------------------------------------


def test_a_file_that_removes_nothing_needs_no_confirmation(client, custodian, dataset):
    grown = [*FIRST, "npm1,NPM1 mutation,categorical,0=Negative|1=Positive,HV:0000124"]
    response = upload(client, dataset, csv_bytes(grown), "v2.csv", custodian["headers"])
    assert response.status_code == 200, response.json
    assert (response.json["added"], response.json["removed"]) == (1, 0)
    assert response.json["removals"] is None


def test_removals_answer_409_listing_what_would_go_and_write_nothing(client, custodian, dataset):
    before = (
        dictionary(client, custodian, dataset),
        etag(client, dataset, custodian["headers"]),
        history_length(client, custodian, dataset),
    )
    response = upload(client, dataset, csv_bytes(REVISED), "v2.csv", custodian["headers"])
    assert response.status_code == 409, response.json
    assert response.mimetype == "application/problem+json"
    body = response.json
    assert body["type"].endswith("/removals-unconfirmed")
    assert body["title"] == "Confirmation needed"
    assert "would delete 1 variable and 2 mappings" in body["detail"]
    assert "confirm_removals=true" in body["detail"]
    assert body["report"]["removals"] == EXPECTED_REMOVALS
    # what else the file would do, counted as the import would count it
    assert (body["report"]["added"], body["report"]["imported"]) == (1, True)
    assert response.headers["ETag"] == before[1]
    after = (
        dictionary(client, custodian, dataset),
        etag(client, dataset, custodian["headers"]),
        history_length(client, custodian, dataset),
    )
    assert after == before


def test_confirm_removals_true_imports_and_reports_what_went(client, custodian, dataset):
    response = upload(
        client, dataset, csv_bytes(REVISED), "v2.csv", custodian["headers"], confirm_removals=True
    )
    assert response.status_code == 200, response.json
    report = response.json
    assert (report["added"], report["removed"], report["mappings_removed"]) == (1, 1, 2)
    assert report["removals"] == EXPECTED_REMOVALS
    found = dictionary(client, custodian, dataset)
    assert "kps" not in found
    assert found["cyto"] == [("1", "HV:0000096")]
    assert found["npm1"] == [(None, "HV:0000124")]


def test_a_confirmation_quoting_an_old_etag_is_412(client, custodian, dataset):
    stale = etag(client, dataset, custodian["headers"])
    grown = [*FIRST, "wbc,White cells,decimal,,"]
    assert (
        upload(client, dataset, csv_bytes(grown), "v2.csv", custodian["headers"]).status_code == 200
    )
    response = upload(
        client,
        dataset,
        csv_bytes(REVISED),
        "v3.csv",
        custodian["headers"],
        if_match=stale,
        confirm_removals=True,
    )
    assert response.status_code == 412
    assert "kps" in dictionary(client, custodian, dataset)


def test_a_relabelled_value_alone_needs_confirmation_too(client, custodian, dataset):
    relabelled = [FIRST[0], FIRST[1], FIRST[2], REVISED[2], FIRST[4]]
    response = upload(client, dataset, csv_bytes(relabelled), "v2.csv", custodian["headers"])
    assert response.status_code == 409
    removals = response.json["report"]["removals"]
    assert (removals["variable_count"], removals["mapping_count"]) == (0, 1)
    assert "would delete 1 mapping of the draft" in response.json["detail"]


def test_a_bad_confirm_removals_value_is_422_naming_the_field(client, custodian, dataset):
    response = client.post(
        f"/api/v1/datasets/{dataset}/dictionary",
        data={"file": (io.BytesIO(csv_bytes(REVISED)), "v2.csv"), "confirm_removals": "perhaps"},
        headers=custodian["headers"],
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "confirm_removals" in response.json["errors"]


def test_the_openapi_document_describes_the_confirmation(client):
    document = client.get("/api/v1/openapi.json").json
    operation = document["paths"]["/api/v1/datasets/{identifier}/dictionary"]["post"]
    form = operation["requestBody"]["content"]["multipart/form-data"]["schema"]
    described = str(form)
    assert "confirm_removals" in described and "409" in described
    assert "409" in operation["responses"]
    assert "report.removals" in operation["description"]


def test_a_job_follows_the_same_rule(app, client, custodian, dataset):
    headers = custodian["headers"] | {"Prefer": "respond-async"}
    refused = upload(client, dataset, csv_bytes(REVISED), "v2.csv", headers)
    assert refused.status_code == 202
    job = client.get(refused.headers["Location"], headers=custodian["headers"]).json
    assert job["state"] == "failed"
    assert job["error"]["status"] == 409
    assert job["error"]["report"]["removals"] == EXPECTED_REMOVALS
    assert "kps" in dictionary(client, custodian, dataset)
    confirmed = upload(
        client, dataset, csv_bytes(REVISED), "v2.csv", headers, confirm_removals=True
    )
    job = client.get(confirmed.headers["Location"], headers=custodian["headers"]).json
    assert job["state"] == "succeeded", job
    assert job["result"]["removed"] == 1 and job["result"]["mappings_removed"] == 2
    assert "kps" not in dictionary(client, custodian, dataset)


def test_the_command_line_lists_what_would_go_unless_confirmed(
    app, client, custodian, dataset, tmp_path
):
    path = tmp_path / "v2.csv"
    path.write_bytes(csv_bytes(REVISED))
    runner = CliRunner()
    with app.app_context():
        refused = runner.invoke(import_dictionary_command, [dataset, str(path)])
    assert refused.exit_code == 1
    assert "would remove: kps (1 mapping)" in refused.output
    assert "would drop: cyto value 2 → HV:0000097" in refused.output
    assert "run again with --confirm-removals" in refused.output
    assert "kps" in dictionary(client, custodian, dataset)
    with app.app_context():
        done = runner.invoke(import_dictionary_command, [dataset, str(path), "--confirm-removals"])
    assert done.exit_code == 0, done.output
    assert "1 added, 1 changed, 1 removed" in done.output
    assert "kps" not in dictionary(client, custodian, dataset)


# --- the page ---------------------------------------------------------------------------------


@pytest.fixture
def on_page(client, custodian, dataset) -> str:
    login(client, custodian["user"].email)
    return dataset


def answer(client, identifier: str, token: str, action: str) -> Any:
    return client.post(
        f"/datasets/{identifier}/dictionary",
        data={"csrf_token": csrf_token(client, "/"), "token": token, "action": action},
    )


def token_of(html: str) -> str:
    match = re.search(r'name="token" value="([^"]+)"', html)
    assert match, "no confirmation form on the page"
    return match.group(1)


def test_the_page_lists_what_would_go_and_changes_nothing(client, custodian, on_page, held_here):
    before = dictionary(client, custodian, on_page)
    response = upload_on_page(client, on_page, csv_bytes(REVISED), "v2.csv")
    assert response.status_code == 409
    html = text(response)
    assert "Confirm: v2.csv would delete 1 variable and 2 mappings" in html
    assert "Nothing has been imported yet" in html
    assert "1 variable that would be removed" in html
    assert "2 mappings that would be dropped" in html
    assert '<code>kps</code></td><td>Karnofsky score</td><td class="num">1</td>' in html
    assert "the value 2 is now “monosomy 7” (was “-7/del(7q)”)" in html
    assert "1 variable added, 1 changed, 2 unchanged" in html
    assert "Delete them and import v2.csv" in html and "Cancel: keep the dictionary" in html
    assert dictionary(client, custodian, on_page) == before
    # the file is kept for the answer, in the folder every worker shares
    assert len(list(held_here.glob("*.data"))) == 1
    # the page offers the confirmation again until it is answered
    assert token_of(text(client.get(f"/datasets/{on_page}/dictionary"))) == token_of(html)


def test_confirming_on_the_page_imports_the_kept_file(client, custodian, on_page, held_here):
    html = text(upload_on_page(client, on_page, csv_bytes(REVISED), "v2.csv"))
    response = answer(client, on_page, token_of(html), "confirm")
    assert response.status_code == 200
    page = text(response)
    assert "Imported v2.csv" in page
    assert "Removed: <code>kps</code>." in page
    assert (
        "1 mapping came with the file; 2 mappings of removed variables or changed values were dropped."
        in page
    )
    assert "kps" not in dictionary(client, custodian, on_page)
    assert list(held_here.iterdir()) == []
    again = answer(client, on_page, token_of(html), "confirm")
    assert again.status_code == 410
    assert "no longer waiting for your confirmation" in text(again)


def test_cancelling_keeps_the_dictionary_and_drops_the_file(client, custodian, on_page, held_here):
    before = dictionary(client, custodian, on_page)
    html = text(upload_on_page(client, on_page, csv_bytes(REVISED), "v2.csv"))
    response = answer(client, on_page, token_of(html), "cancel")
    assert response.status_code == 200
    assert "Nothing was imported from v2.csv" in text(response)
    assert dictionary(client, custodian, on_page) == before
    assert list(held_here.iterdir()) == []
    assert 'name="token"' not in text(client.get(f"/datasets/{on_page}/dictionary"))


def test_a_confirmation_after_the_dataset_changed_is_refused(client, custodian, on_page, held_here):
    html = text(upload_on_page(client, on_page, csv_bytes(REVISED), "v2.csv"))
    # meanwhile the draft changes (another file, through the API)
    grown = [*FIRST, "wbc,White cells,decimal,,"]
    assert (
        upload(client, on_page, csv_bytes(grown), "v1b.csv", custodian["headers"]).status_code
        == 200
    )
    response = answer(client, on_page, token_of(html), "confirm")
    assert response.status_code == 412
    assert "The dataset changed after you uploaded v2.csv" in text(response)
    assert "upload the file again" in text(response)
    found = dictionary(client, custodian, on_page)
    assert "kps" in found and "wbc" in found and "npm1" not in found
    assert list(held_here.iterdir()) == []


def test_a_confirmation_is_the_uploaders_own(app, client, make, custodian, on_page):
    html = text(upload_on_page(client, on_page, csv_bytes(REVISED), "v2.csv"))
    colleague = make.user(Role.CUSTODIAN, organisation=custodian["organisation"])
    other = app.test_client()
    login(other, colleague.email)
    assert 'name="token"' not in text(other.get(f"/datasets/{on_page}/dictionary"))
    response = answer(other, on_page, token_of(html), "confirm")
    assert response.status_code == 410
    assert "kps" in dictionary(client, custodian, on_page)
    # a made-up token is nobody's
    assert answer(client, on_page, "../../etc/passwd", "confirm").status_code == 410


def test_an_expired_confirmation_is_refused_and_swept(client, custodian, on_page, held_here):
    html = text(upload_on_page(client, on_page, csv_bytes(REVISED), "v2.csv"))
    token = token_of(html)
    old = held_here / f"{token}.json"
    text_of = old.read_text()
    old.write_text(re.sub(r'"held_at": "[^"]+"', '"held_at": "2020-01-01T00:00:00+00:00"', text_of))
    response = answer(client, on_page, token, "confirm")
    assert response.status_code == 410
    assert "older than 30 minutes" in text(response)
    assert "kps" in dictionary(client, custodian, on_page)
    # an upload left behind is swept by the next hold
    stray = held_here / "left-behind.data"
    stray.write_bytes(b"x")
    os.utime(stray, (0, 0))
    upload_on_page(client, on_page, csv_bytes(REVISED), "v2.csv")
    assert not stray.exists()


def test_a_large_file_refused_by_its_job_waits_on_the_page(app, client, custodian, on_page):
    limit = app.config["JOBS_INLINE_MAX_KB"]
    app.config["JOBS_INLINE_MAX_KB"] = 0
    try:
        response = upload_on_page(client, on_page, csv_bytes(REVISED), "v2.csv")
        assert response.status_code == 303
        job_page = text(client.get(response.headers["Location"]))
        assert "Confirmation needed" in job_page
        assert "would delete 1 variable and 2 mappings of the draft" in job_page
        assert "Open the dataset&#39;s dictionary page to see what would go" in job_page
        waiting = text(client.get(f"/datasets/{on_page}/dictionary"))
        assert "Confirm: v2.csv would delete 1 variable and 2 mappings" in waiting
        confirmed = answer(client, on_page, token_of(waiting), "confirm")
        assert confirmed.status_code == 303  # the confirmed import runs as a job too
        done = text(client.get(confirmed.headers["Location"]))
        assert ">succeeded<" in done
        assert (
            "Imported the dictionary from v2.csv (template): 1 added, 1 changed, 1 removed" in done
        )
    finally:
        app.config["JOBS_INLINE_MAX_KB"] = limit
    assert "kps" not in dictionary(client, custodian, on_page)


def test_the_upload_form_still_quotes_the_current_revision(client, on_page):
    html = text(client.get(f"/datasets/{on_page}/dictionary"))
    assert etag_of(html)


def test_held_uploads_outside_a_request_are_none(app, custodian):
    with app.app_context():
        assert pending.held(custodian["user"], "nothing-here") is None
        assert Path(pending._folder()).name == "held"
