"""The job worker as it runs in production: a separate ``harmony jobs worker`` process consuming
the queue (huey's SQLite file) against a real, committed database (SQLite or PostgreSQL, as
the run). A job is submitted through the API, the worker runs it; a worker killed in the
middle of a job leaves it ``running`` with nothing written, and the next worker to start runs
it again."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from bench.generate_dictionary import generate
from core import create_app, jobs, migrate
from core.db import get_session
from core.models import Role
from core.policies import SYSTEM
from tests import factories
from tests.dbutil import fresh_database

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A migrated database of its own with the vocabularies, a custodian and their token, and
    the settings a worker process needs to share its queue."""
    from ontologies.bundled import load_bundled

    tmp = tmp_path_factory.mktemp("jobs")
    with fresh_database(tmp, "jobs") as url:
        migrate.upgrade(url)
        env = {
            "HARMONY_ENV": "testing",
            "DATABASE_URL": url,
            "JOBS_IMMEDIATE": "0",
            "JOBS_URL": f"sqlite:///{tmp / 'queue.sqlite3'}",
            "LOG_LEVEL": "WARNING",
        }
        app = create_app(env=env)
        with app.app_context():
            load_bundled(SYSTEM)
        make = factories.Maker(app)
        organisation = make.organisation()
        user = make.user(Role.CUSTODIAN, organisation=organisation)
        yield {
            "app": app,
            "env": env,
            "make": make,
            "organisation": organisation,
            "headers": {"Authorization": f"Bearer {make.token(user)}"},
        }
        app.extensions["harmony_db"].engine.dispose()


def start_worker(env: dict[str, str]) -> subprocess.Popen[bytes]:
    """``harmony jobs worker`` running this checkout's code."""
    harmony = Path(sys.executable).parent / "harmony"
    return subprocess.Popen(  # noqa: S603 - our own command
        [str(harmony), "jobs", "worker"], env=os.environ | env | {"PYTHONPATH": str(ROOT)}, cwd=ROOT
    )


def stop(worker: subprocess.Popen[bytes], sig: int = signal.SIGINT) -> None:
    if worker.poll() is None:
        worker.send_signal(sig)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


def submit(app: Flask, world: dict[str, Any], data: bytes) -> str:
    identifier = world["make"].dataset(world["organisation"])
    response = app.test_client().post(
        f"/api/v1/datasets/{identifier}/dictionary",
        data={"file": (io.BytesIO(data), "big.csv")},
        headers=world["headers"] | {"Prefer": "respond-async", "If-Match": "*"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 202, response.json
    assert response.json["state"] == "queued"
    return str(response.json["id"])


def job_row(app: Flask, job_id: str) -> jobs.Job:
    with app.app_context():
        job = get_session().get(jobs.Job, job_id)
        assert job is not None
        return job


def wait_for(
    app: Flask, job_id: str, states: set[str], worker: subprocess.Popen[bytes], seconds: float = 120
) -> jobs.Job:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert worker.poll() is None, "the worker has stopped"
        job = job_row(app, job_id)
        if job.state.value in states:
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} still {job.state.value} after {seconds} s")


def dictionary(variables: int) -> bytes:
    out = io.StringIO()
    generate(out, variables, seed=7, progress=False)
    return out.getvalue().encode()


def count_variables(app: Flask, job: jobs.Job) -> int:
    from catalogue.dictionary import services as variables

    with app.app_context():
        page = variables.list_variables(SYSTEM, job.params["dataset"], None, page=1, per_page=1)
        return int(page.total)


def test_a_worker_process_runs_a_queued_job(world):
    app = world["app"]
    job_id = submit(app, world, dictionary(300))
    worker = start_worker(world["env"])
    try:
        job = wait_for(app, job_id, {"succeeded", "failed"}, worker)
    finally:
        stop(worker)
    assert job.state is jobs.JobState.SUCCEEDED, job.error
    assert job.result is not None and job.result["added"] == 300
    assert job.input is None  # the upload is not kept once the job has run
    assert count_variables(app, job) == 300
    assert worker.returncode == 0  # Ctrl-C stops the worker cleanly


def test_a_killed_worker_s_job_is_run_again_by_the_next_worker(world):
    app = world["app"]
    job_id = submit(app, world, dictionary(20_000))
    worker = start_worker(world["env"])
    try:
        running = wait_for(app, job_id, {"running", "succeeded", "failed"}, worker)
        assert running.state is jobs.JobState.RUNNING
        time.sleep(0.5)  # well inside the import (seconds on this machine)
    finally:
        stop(worker, signal.SIGKILL)
    left = job_row(app, job_id)
    assert left.state is jobs.JobState.RUNNING  # not lost, not half done
    assert left.input is not None
    assert count_variables(app, left) == 0  # its transaction died with it
    second = start_worker(world["env"])
    try:
        job = wait_for(app, job_id, {"succeeded", "failed"}, second)
    finally:
        stop(second)
    assert job.state is jobs.JobState.SUCCEEDED, job.error
    assert job.attempts == 2
    assert count_variables(app, job) == 20_000
