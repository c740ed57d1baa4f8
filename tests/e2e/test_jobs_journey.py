"""A custodian uploads a dictionary too large to import in the request, in a real browser: the
page hands it to a job and goes to the job's page, which shows it waiting and then, when the
worker has run it, follows on its own (the page's script polls the job's JSON) to the result
and the way back to the dataset. Screenshots go to tests/e2e/screenshots/."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select
from werkzeug.serving import make_server

from core import create_app, jobs, migrate
from core.db import get_session, writing
from core.demo import load_demo
from core.models import User
from core.policies import SYSTEM
from tests.dbutil import fresh_database
from tests.e2e.conftest import DEMO_PASSWORD, TEST_ENV, LiveServer, Session
from tests.factories import Maker

pytestmark = pytest.mark.e2e

CUSTODIAN_EMAIL = "custodian@demo.harmony.example"
REDCAP = (
    Path(__file__).resolve().parent.parent
    / "catalogue"
    / "dictionary"
    / "data"
    / "aml_trial_redcap.csv"
)


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server whose jobs wait in a real queue (not run inside the request, as in the other
    tests) and whose uploads over 1 KB become jobs; the test plays the worker."""
    from ontologies.bundled import load_bundled

    folder = tmp_path_factory.mktemp("e2e-jobs")
    with fresh_database(folder, "e2e_jobs") as url:
        migrate.upgrade(url)
        settings = {
            "DATABASE_URL": url,
            "JOBS_IMMEDIATE": False,
            "JOBS_URL": f"sqlite:///{folder / 'queue.sqlite3'}",
            "JOBS_INLINE_MAX_KB": 1,
        }
        app = create_app(settings, env=TEST_ENV)
        with app.app_context():
            load_demo(password=DEMO_PASSWORD, with_steps=False)
            load_bundled(SYSTEM)
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, name="e2e-jobs", daemon=True)
        thread.start()
        try:
            yield LiveServer(url=f"http://127.0.0.1:{server.server_port}", app=app)
        finally:
            server.shutdown()
            thread.join(timeout=10)
            server.server_close()
            app.extensions["harmony_db"].engine.dispose()


def test_a_large_dictionary_is_imported_by_a_job_the_page_follows(
    web: Session, live_server: LiveServer
) -> None:
    app = live_server.app
    with app.app_context():
        custodian = get_session().scalar(select(User).where(User.email == CUSTODIAN_EMAIL))
        organisation = custodian.organisation  # type: ignore[union-attr]
    identifier = Maker(app).dataset(organisation, title="AML trial awaiting its dictionary")
    page = web.page

    page.goto("/login")
    page.get_by_label("Email address").fill(CUSTODIAN_EMAIL)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()  # logged in
    page.goto(f"/datasets/{identifier}/dictionary")
    page.get_by_label("Dictionary file").set_input_files(str(REDCAP))  # 2 KB: over the limit
    page.get_by_role("button", name="Upload and import").click()

    # The request answered at once: the job's page, waiting for the worker.
    expect(page).to_have_url(re.compile(r"/jobs/[0-9a-f]{32}$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("aml_trial_redcap.csv")
    expect(page.get_by_text("State: queued")).to_be_visible()
    expect(page.locator("progress")).to_be_visible()
    web.shot("job waiting")

    # The worker runs it; the page notices on its own and shows the result.
    job_id = page.url.rsplit("/", 1)[1]
    with app.app_context(), writing():
        jobs.run_job(job_id)
    expect(page.get_by_text("State: succeeded")).to_be_visible(timeout=10_000)
    expect(
        page.get_by_text(re.compile(r"Imported the dictionary from aml_trial_redcap\.csv"))
    ).to_be_visible()
    expect(page.locator("progress")).to_have_count(0)
    web.shot("job done")

    page.get_by_role("link", name="Open the dataset").click()
    expect(page).to_have_url(re.compile(rf"/datasets/{identifier}$"))
