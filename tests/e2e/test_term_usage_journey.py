"""Where a term is used, in a real browser, on the whole demo: from a dataset's variable table
to the Haemoglobin term page, which lists the variables mapped to it in every dataset; on to
one of them; and from a disease's page to the search filtered by that disease, which finds as
many datasets as the page counted."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect
from werkzeug.serving import make_server

from core import create_app, migrate
from core.demo import load_demo
from tests.dbutil import fresh_database
from tests.e2e.conftest import DEMO_PASSWORD, TEST_ENV, LiveServer, Session

pytestmark = pytest.mark.e2e

AML_TRIAL = "aml-ic-2016"  # a demo dataset about AML with a haemoglobin variable


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """This journey's own server on a database with the whole demo."""
    with fresh_database(tmp_path_factory.mktemp("e2e-usage"), "e2e_usage") as url:
        migrate.upgrade(url)
        app = create_app({"DATABASE_URL": url}, env=TEST_ENV)
        with app.app_context():
            load_demo(password=DEMO_PASSWORD, with_steps=True)
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, name="e2e-usage", daemon=True)
        thread.start()
        try:
            yield LiveServer(url=f"http://127.0.0.1:{server.server_port}", app=app)
        finally:
            server.shutdown()
            thread.join(timeout=10)
            server.server_close()
            app.extensions["harmony_db"].engine.dispose()


def test_a_term_page_leads_to_the_variables_and_datasets_that_use_it(web: Session) -> None:
    page = web.page

    # A dataset's variable table links each mapped term; follow Haemoglobin.
    page.goto(f"/datasets/{AML_TRIAL}?q=hb#variables")
    page.locator("table.variables-table").get_by_role("link", name="Haemoglobin").first.click()
    expect(page).to_have_url(re.compile(r"/terms/HV:0000045$"))
    used = page.locator("section[aria-labelledby=used-h]")
    heading = used.get_by_role("heading", name=re.compile(r"^Variables mapped to it \(\d+\)$"))
    expect(heading).to_be_visible()
    total = int(re.findall(r"\d+", heading.inner_text())[0])
    variables = used.locator("#used-variables .usage-sublist li")
    assert total > 1, "the demo maps haemoglobin in several datasets"
    expect(variables).to_have_count(min(total, 20))
    expect(used.locator("#used-variables > li > a").filter(has_text="AML-IC 2016")).to_be_visible()
    expect(used.get_by_text("Not used by any dataset yet.")).to_have_count(0)
    web.shot("haemoglobin used by variables")

    # One of them: its row in its dataset's variable table.
    first = variables.first
    name = first.locator("code").inner_text()
    first.get_by_role("link").click()
    expect(page).to_have_url(re.compile(rf"/datasets/[a-z0-9-]+\?q={re.escape(name)}#variables$"))
    rows = page.locator("table.variables-table tbody tr")
    expect(rows.filter(has=page.locator("code", has_text=re.compile(rf"^{name}$")))).to_have_count(
        1
    )
    expect(rows.first.get_by_role("link", name="Haemoglobin")).to_be_visible()
    web.shot("the variable in its dataset")

    # A disease: the datasets tagged with it or a narrower term, and the same in the search.
    page.goto("/terms/NCIT:C3171")
    datasets = page.locator("#used-datasets > li")
    heading = page.get_by_role("heading", name=re.compile(r"^Datasets about this disease \(\d+\)$"))
    count = int(re.findall(r"\d+", heading.inner_text())[0])
    expect(datasets).to_have_count(min(count, 20))
    web.shot("aml used by datasets")
    page.get_by_role(
        "link", name=re.compile(r"^(See these datasets in the search|and \d+ more)")
    ).click()
    expect(page).to_have_url(re.compile(r"/search\?disease=NCIT(:|%3A)C3171$"))
    expect(page.locator("li.search-hit")).to_have_count(count)
    web.shot("the search filtered by the disease")

    # A term nothing uses says so.
    page.goto("/terms/DUO:0000042")
    expect(page.locator("section[aria-labelledby=used-h]")).to_contain_text(
        "Not used by any dataset yet."
    )
