"""Background jobs in immediate mode (the job runs in the request, inside the test's
transaction): a dictionary import handed to a job answers 202 with a job resource whose result
or problem report the owner (and administrators, no one else) can read; a job left running by
a worker that died is queued again or marked failed, never lost."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from sqlalchemy import func, select

from core import jobs
from core.db import get_session
from core.models import Role
from tests.catalogue.dictionary.test_import_api import (
    etag,
    new_custodian,
    sample,
    upload,
    variables,
)
from tests.catalogue.mappings.test_sssom import world as sssom_world  # noqa: F401 - a fixture

ASYNC = {"Prefer": "respond-async"}


@pytest.fixture
def custodian(make, vocabularies):
    return new_custodian(make)


@pytest.fixture
def dataset(make, custodian) -> str:
    return make.dataset(custodian["organisation"])


def start_import(client, dataset, custodian, name="aml_trial_redcap.csv"):
    headers = custodian["headers"] | ASYNC
    return upload(client, dataset, sample(name), name, headers)


def test_import_as_a_job_answers_202_and_the_job_holds_the_report(client, dataset, custodian):
    response = start_import(client, dataset, custodian)
    assert response.status_code == 202, response.json
    location = response.headers["Location"]
    assert re.fullmatch(r"/api/v1/jobs/[0-9a-f]{32}", location)
    job = client.get(location, headers=custodian["headers"]).json
    assert job["state"] == "succeeded"
    assert job["kind"] == "dictionary_import"
    assert job["progress"] == {"done": 4, "total": 4, "phase": "done"}
    assert job["result"]["imported"] is True
    assert job["result"]["added"] == job["result"]["variables"] > 0
    assert job["result"]["dataset_url"] == f"/datasets/{dataset}"
    assert job["error"] is None
    listed = variables(client, dataset, custodian["headers"])
    assert listed["total"] == job["result"]["variables"]
    mine = client.get("/api/v1/jobs", headers=custodian["headers"]).json["items"]
    assert [j["id"] for j in mine] == [job["id"]]


def test_a_broken_file_fails_the_job_with_the_problems_and_writes_nothing(
    client, dataset, custodian
):
    response = start_import(client, dataset, custodian, "redcap_broken.csv")
    assert response.status_code == 202
    job = client.get(response.headers["Location"], headers=custodian["headers"]).json
    assert job["state"] == "failed"
    assert job["result"] is None
    error = job["error"]
    assert error["status"] == 422
    assert error["type"].endswith("/problems/dictionary-rejected") or error["title"]
    problems = error["report"]["problems"]
    assert problems and all(p["row"] >= 1 and p["message"] for p in problems)
    assert variables(client, dataset, custodian["headers"])["total"] == 0


def test_checks_that_need_no_file_answer_at_once(app, client, dataset, custodian):
    response = upload(
        client,
        dataset,
        sample("aml_trial_redcap.csv"),
        "aml_trial_redcap.csv",
        custodian["headers"] | ASYNC,
        if_match='"stale"',
    )
    assert response.status_code == 412
    with app.app_context():
        assert get_session().scalar(select(func.count()).select_from(jobs.Job)) == 0


def test_files_over_the_limit_become_jobs_and_small_ones_do_not(app, client, dataset, custodian):
    data = sample("aml_trial_redcap.csv")
    limit = app.config["JOBS_INLINE_MAX_KB"]
    try:
        app.config["JOBS_INLINE_MAX_KB"] = len(data) // 1024 + 1
        small = upload(client, dataset, data, "a.csv", custodian["headers"])
        assert small.status_code == 200, small.json
        app.config["JOBS_INLINE_MAX_KB"] = len(data) // 1024 - 1
        big = upload(client, dataset, data, "a.csv", custodian["headers"])
        assert big.status_code == 202
        assert big.json["result"]["unchanged"] == small.json["variables"]
    finally:
        app.config["JOBS_INLINE_MAX_KB"] = limit


@pytest.mark.parametrize(
    ("who", "status"), [("owner", 200), ("admin", 200), ("other", 404), ("anonymous", 401)]
)
def test_only_the_owner_and_administrators_see_a_job(client, make, dataset, custodian, who, status):
    location = start_import(client, dataset, custodian).headers["Location"]
    headers = {
        "owner": custodian["headers"],
        "admin": {"Authorization": f"Bearer {make.token(make.user(Role.ADMIN))}"},
        "other": new_custodian(make)["headers"],
        "anonymous": {},
    }[who]
    assert client.get(location, headers=headers).status_code == status
    page = client.get(location.removeprefix("/api/v1"), headers=headers)
    assert page.status_code == {401: 302}.get(status, status)
    if who == "other":
        assert client.get("/api/v1/jobs", headers=headers).json["items"] == []


def test_the_job_page_shows_the_outcome_without_inline_scripts(client, make, dataset, custodian):
    from tests.conftest import login

    location = start_import(client, dataset, custodian, "redcap_broken.csv").headers["Location"]
    login(client, custodian["user"].email)
    page = client.get(location.removeprefix("/api/v1"))
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Nothing was written." in html
    assert "<td>" in html  # the problems by row and column
    assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html) is None


def test_a_running_job_page_has_a_progress_bar_and_a_no_script_refresh(client, app, custodian):
    from tests.conftest import login

    with app.app_context():
        job = jobs.Job(
            kind="dictionary_import", title="Import", owner_id=custodian["user"].id,
            state=jobs.JobState.RUNNING, total=4, done=2, phase="checking", worker="elsewhere:1",
        )  # fmt: skip
        get_session().add(job)
        get_session().commit()
        job_id = job.id
    login(client, custodian["user"].email)
    html = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert '<progress data-job-field="bar" max="4" value="2"' in html
    assert "50 %" in html
    assert '<noscript><meta http-equiv="refresh"' in html
    assert "js/job.js" in html
    body = client.get(f"/api/v1/jobs/{job_id}", headers=custodian["headers"]).json
    assert body["state"] == "running"
    assert body["progress"] == {"done": 2, "total": 4, "phase": "checking"}


def _running_job(app, client, custodian, dataset, worker: str, attempts: int) -> str:
    """A job row as a worker leaves it when it dies in the middle of the import."""
    if_match = etag(client, dataset, custodian["headers"])
    with app.app_context():
        job = jobs.Job(
            kind="dictionary_import",
            title="Import",
            owner_id=custodian["user"].id,
            state=jobs.JobState.RUNNING,
            params={"dataset": dataset, "filename": "a.csv", "format": None, "if_match": if_match},
            input=sample("aml_trial_redcap.csv"),
            attempts=attempts,
            worker=worker,
            started_at=jobs.utcnow() - dt.timedelta(minutes=1),
        )
        get_session().add(job)
        get_session().commit()
        return job.id


def test_a_job_whose_worker_died_is_queued_again_and_runs(app, client, dataset, custodian):
    import socket

    dead = f"{socket.gethostname()}:{2**22 + 12345}"  # above any pid this machine hands out
    job_id = _running_job(app, client, custodian, dataset, dead, attempts=1)
    alive_elsewhere = _running_job(app, client, custodian, dataset, "other-host:1", attempts=1)
    with app.app_context():
        assert jobs.recover_jobs() == [job_id]
    job = client.get(f"/api/v1/jobs/{job_id}", headers=custodian["headers"]).json
    assert job["state"] == "succeeded"
    assert job["attempts"] == 2
    other = client.get(f"/api/v1/jobs/{alive_elsewhere}", headers=custodian["headers"]).json
    assert other["state"] == "running"  # another host's worker may still be at it
    with app.app_context():  # ... until it has been running longer than the stale limit
        assert jobs.recover_jobs(stale_after=dt.timedelta(seconds=1)) == [alive_elsewhere]


def test_a_job_whose_worker_died_twice_is_failed_with_the_reason(app, client, dataset, custodian):
    import socket

    dead = f"{socket.gethostname()}:{2**22 + 12345}"
    job_id = _running_job(app, client, custodian, dataset, dead, attempts=jobs.MAX_ATTEMPTS)
    with app.app_context():
        assert jobs.recover_jobs() == []
    job = client.get(f"/api/v1/jobs/{job_id}", headers=custodian["headers"]).json
    assert job["state"] == "failed"
    assert "stopped while running this job" in job["error"]["detail"]
    assert variables(client, dataset, custodian["headers"])["total"] == 0


def test_the_tidy_up_removes_old_export_files(app, tmp_path, custodian):
    old = tmp_path / "old.ttl"
    old.write_text("x")
    with app.app_context():
        job = jobs.Job(
            kind="dictionary_import", title="Export", owner_id=custodian["user"].id,
            state=jobs.JobState.SUCCEEDED, file_path=str(old), result={"filename": "c.ttl"},
            finished_at=jobs.utcnow() - dt.timedelta(days=app.config["JOBS_KEEP_DAYS"] + 1),
        )  # fmt: skip
        get_session().add(job)
        get_session().commit()
        assert jobs.tidy_jobs() == {"requeued": 0, "purged": 1}
        assert job.result == {"filename": "c.ttl", "expired": True}
    assert not old.exists()


def test_an_ontology_load_as_a_job_and_a_broken_one(client, make):
    from tests.ontologies.conftest import tiny_ttl

    admin = {"Authorization": f"Bearer {make.token(make.user(Role.ADMIN))}"}

    def load(data: bytes):
        response = client.post(
            "/api/v1/ontologies",
            data={"file": (io.BytesIO(data), "tiny.ttl"), "prefix": "TINY"},
            headers=admin | ASYNC,
            content_type="multipart/form-data",
        )
        assert response.status_code == 202, response.json
        return client.get(response.headers["Location"], headers=admin).json

    job = load(tiny_ttl())
    assert job["state"] == "succeeded", job["error"]
    assert (job["result"]["prefix"], job["result"]["status"]) == ("TINY", "loaded")
    assert job["result"]["ontology_url"] == "/ontologies/TINY"
    assert client.get("/api/v1/ontologies/TINY").status_code == 200
    broken = load(b"@prefix : <http://example.org/> .\n:a :b")
    assert broken["state"] == "failed"
    assert broken["error"]["status"] == 422
    assert broken["error"]["errors"]["file"]


def test_an_sssom_import_as_a_job(client, sssom_world):  # noqa: F811 - the fixture
    from tests.catalogue.mappings.test_sssom import SSSOM_HEADER

    identifier, _, auth = sssom_world
    text = SSSOM_HEADER + (
        "harmonyvar:flt3itd\tskos:exactMatch\tHV:0000125\tsemapv:ManualMappingCuration\t\tDr Who\t\n"
    )
    response = client.post(
        f"/api/v1/datasets/{identifier}/mappings.sssom.tsv",
        data={"file": (io.BytesIO(text.encode()), "m.sssom.tsv")},
        headers=auth | ASYNC | {"If-Match": "*"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 202, response.json
    job = client.get(response.headers["Location"], headers=auth).json
    assert job["state"] == "succeeded", job["error"]
    assert (job["result"]["rows"], job["result"]["added"]) == (1, 1)


def test_the_catalogue_export_is_a_job_whose_file_its_owner_downloads(client, make, custodian):
    make.dataset(custodian["organisation"], publish=True, title="An exported trial")
    response = client.post("/api/v1/exports/catalogue?format=nt", headers=custodian["headers"])
    assert response.status_code == 202, response.json
    job = client.get(response.headers["Location"], headers=custodian["headers"]).json
    assert job["state"] == "succeeded", job["error"]
    assert job["result"]["datasets"] >= 1
    assert job["result"]["filename"] == "harmony-catalogue.nt"
    download = client.get(job["result"]["download_url"], headers=custodian["headers"])
    assert download.status_code == 200
    assert "attachment" in download.headers["Content-Disposition"]
    assert b'"An exported trial"' in download.data
    other = new_custodian(make)["headers"]
    assert client.get(job["result"]["download_url"], headers=other).status_code == 404
    assert client.post("/api/v1/exports/catalogue?format=pdf", headers=other).status_code == 422


def test_the_reindex_is_an_administrators_job(client, make, custodian):
    make.dataset(custodian["organisation"], publish=True, title="Zyxwv trial")
    assert client.post("/api/v1/search/reindex", headers=custodian["headers"]).status_code == 403
    admin = {"Authorization": f"Bearer {make.token(make.user(Role.ADMIN))}"}
    response = client.post("/api/v1/search/reindex", headers=admin)
    assert response.status_code == 202
    job = client.get(response.headers["Location"], headers=admin).json
    assert job["state"] == "succeeded", job["error"]
    assert job["result"]["documents"] >= 1
    hits = client.get("/api/v1/search", query_string={"q": "Zyxwv"}).json
    assert hits["total"] == 1


def test_a_large_upload_on_the_dictionary_page_goes_to_the_job_s_page(
    app, client, make, vocabularies
):
    from tests.catalogue.dictionary.test_pages_dictionary import REDCAP
    from tests.catalogue.dictionary.test_pages_dictionary import upload as upload_page
    from tests.conftest import login

    organisation = make.organisation()
    custodian = make.user(Role.CUSTODIAN, organisation=organisation)
    identifier = make.dataset(organisation)
    login(client, custodian.email)
    limit = app.config["JOBS_INLINE_MAX_KB"]
    try:
        app.config["JOBS_INLINE_MAX_KB"] = len(REDCAP) // 1024 - 1
        response = upload_page(client, identifier, REDCAP, "trial.csv", "redcap")
        assert response.status_code == 303
        assert re.fullmatch(r"/jobs/[0-9a-f]{32}", response.headers["Location"])
        html = client.get(response.headers["Location"]).get_data(as_text=True)
        assert f'href="/datasets/{identifier}"' in html  # "Open the dataset"
        assert "succeeded" in html
        stale = upload_page(client, identifier, REDCAP, "trial.csv", "redcap", revision='"0-1"')
        assert stale.status_code == 412
    finally:
        app.config["JOBS_INLINE_MAX_KB"] = limit


def test_the_tidy_up_queues_again_a_job_whose_message_was_lost(app, client, dataset, custodian):
    if_match = etag(client, dataset, custodian["headers"])
    with app.app_context():
        job = jobs.Job(
            kind="dictionary_import", title="Import", owner_id=custodian["user"].id,
            params={"dataset": dataset, "filename": "a.csv", "format": None, "if_match": if_match},
            input=sample("aml_trial_redcap.csv"),
            created_at=jobs.utcnow() - dt.timedelta(minutes=app.config["JOBS_STALE_MINUTES"] + 1),
        )  # fmt: skip
        get_session().add(job)
        get_session().commit()
        assert jobs.tidy_jobs()["requeued"] == 1
        assert (
            get_session().get(jobs.Job, job.id, populate_existing=True).state.value == "succeeded"
        )
