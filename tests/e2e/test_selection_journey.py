"""Named selections in Chromium: a researcher makes two named selections, fills each from the
dataset pages (one with chosen variables), switches the current one, shares one as a read-only
link, downloads its combined dictionary, opens it in the harmonisation matrix; logged out, the
link shows the selection (nothing of its owner), its dictionary downloads and its matrix
opens; after "Stop sharing" the link is gone. Every page is checked with axe-core and for
width at 1366 px.

The world (this module's own server): the bundled vocabularies, one custodian organisation with
two published datasets (an AML trial whose variables are mapped to HARMONY variables, and a
myeloma registry), and a researcher."""

from __future__ import annotations

import csv
import io
import re
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from werkzeug.serving import make_server

from core import create_app, migrate
from core.models import Role
from core.policies import SYSTEM
from tests.dbutil import fresh_database
from tests.e2e.axe import assert_accessible
from tests.e2e.conftest import TEST_ENV, LiveServer, Session, page_width
from tests.factories import PASSWORD, Maker

pytestmark = pytest.mark.e2e

AML = "journey-aml-2019"
AML_TITLE = "AML-19 induction trial"
MYELOMA = "journey-mm-registry"
MYELOMA_TITLE = "Myeloma transplant registry"
WIDTH = 1366
SHOTS = Path("/tmp/e2e-selection-journey")  # noqa: S108 - kept apart: other runs empty screenshots/


@dataclass
class Journey:
    server: LiveServer
    researcher: str  # email


@pytest.fixture(scope="module")
def journey(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Journey]:
    from ontologies.bundled import load_bundled

    with fresh_database(tmp_path_factory.mktemp("e2e-selection"), "e2e_selection") as url:
        migrate.upgrade(url)
        app = create_app({"DATABASE_URL": url}, env=TEST_ENV)
        with app.app_context():
            load_bundled(SYSTEM)
        make = Maker(app)
        leiden = make.organisation(name="Leiden Haematology", country="NL")
        make.dataset(
            leiden,
            identifier=AML,
            title=AML_TITLE,
            publish=True,
            variables=[
                {
                    "name": "flt3_itd",
                    "label": "FLT3-ITD",
                    "value_type": "boolean",
                    "permissible_values": [
                        {"code": "1", "label": "Present"},
                        {"code": "0", "label": "Absent"},
                    ],
                    "missing_codes": ["9"],
                    "mappings": ["HV:0000125"],
                },
                {
                    "name": "hb_dx",
                    "label": "Haemoglobin at diagnosis",
                    "value_type": "decimal",
                    "unit": "g/dL",
                    "mappings": ["HV:0000045"],
                },
                {
                    "name": "age_dx",
                    "label": "Age at diagnosis",
                    "value_type": "integer",
                    "unit": "a",
                    "mappings": ["HV:0000020"],
                },
            ],
        )
        make.dataset(
            leiden,
            identifier=MYELOMA,
            title=MYELOMA_TITLE,
            diseases=["NCIT:C3242"],
            publish=True,
            variables=[
                {"name": "iss", "label": "ISS stage", "value_type": "categorical"},
                {
                    "name": "hb",
                    "label": "Haemoglobin",
                    "value_type": "decimal",
                    "unit": "g/dL",
                    "mappings": ["HV:0000045"],
                },
            ],
        )
        researcher = make.user(Role.RESEARCHER, name="Rosa Researcher")
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, name="e2e-selection", daemon=True)
        thread.start()
        try:
            yield Journey(
                LiveServer(url=f"http://127.0.0.1:{server.server_port}", app=app),
                researcher.email,
            )
        finally:
            server.shutdown()
            thread.join(timeout=10)
            server.server_close()
            app.extensions["harmony_db"].engine.dispose()


@pytest.fixture
def live_server(journey: Journey) -> LiveServer:
    return journey.server


def shot(web: Session, step: str) -> None:
    """A screenshot in tests/e2e/screenshots/, copied to :data:`SHOTS`."""
    path = web.shot(step)
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, SHOTS / path.name)


def check(web: Session, step: str) -> None:
    """A screenshot, no serious axe violation, nothing wider than the window."""
    page = web.page
    assert page_width(page) <= WIDTH, step
    assert_accessible(page)
    shot(web, step)


def log_in(page: Page, email: str) -> None:
    page.goto("/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def new_selection(page: Page, name: str) -> None:
    page.goto("/me/selections")
    page.get_by_label("Name").fill(name)
    page.get_by_role("button", name="Make the selection").click()
    expect(page.get_by_role("heading", level=1, name=name)).to_be_visible()
    expect(page.get_by_text("Current selection", exact=True)).to_be_visible()


def download_rows(page: Page, link_name: str) -> list[dict[str, str]]:
    with page.expect_download() as info:
        page.get_by_role("link", name=link_name).click()
    download = info.value
    assert download.suggested_filename.endswith("-dictionary.csv")
    text = open(download.path(), encoding="utf-8-sig").read()  # noqa: SIM115
    return list(csv.DictReader(io.StringIO(text)))


def test_two_named_selections_shared_downloaded_and_compared(web: Session, journey: Journey):
    page = web.page
    page.set_viewport_size({"width": WIDTH, "height": 900})
    log_in(page, journey.researcher)

    # The first selection: the AML trial with two of its variables.
    new_selection(page, "AML induction")
    page.goto(f"/datasets/{AML}")
    page.get_by_role("button", name="Add to selection").click()
    expect(page.get_by_text("In selection ✓").first).to_be_visible()
    page.get_by_label("flt3_itd in my selection").check()
    page.get_by_label("hb_dx in my selection").check()
    with page.expect_navigation():  # the post and the page that comes back
        page.get_by_role("button", name="Update my selection").click()
    page.wait_for_load_state()
    expect(page.get_by_text("with 2 variables")).to_be_visible()

    # The second: the myeloma registry, whole; it is now the current one.
    new_selection(page, "Myeloma transplant")
    page.goto(f"/datasets/{MYELOMA}")
    expect(page.get_by_text("The current one: “Myeloma transplant”.")).to_be_visible()
    page.get_by_role("button", name="Add to selection").click()
    expect(page.get_by_role("link", name="Selection (1)")).to_be_visible()

    # Both listed; switch back to the AML one: the header counts its dataset.
    page.goto("/me/selections")
    rows = page.locator("table.selections-table tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("Myeloma transplant")
    expect(rows.first).to_contain_text("Current")
    expect(rows.nth(1)).to_contain_text("1 dataset, 2 variables")
    check(web, "two named selections")
    rows.nth(1).get_by_role("button", name=re.compile("^Make current")).click()
    expect(page.get_by_text("“AML induction” is your current selection")).to_be_visible()
    expect(page.locator("table.selections-table tbody tr").first).to_contain_text("AML induction")

    # The AML selection's page: share it.
    page.get_by_role("link", name="AML induction").click()
    expect(page.get_by_role("heading", level=1, name="AML induction")).to_be_visible()
    expect(page.get_by_role("navigation", name="Your selections")).to_contain_text(
        "Myeloma transplant"
    )
    check(web, "the current selection")
    own_page = page.url
    page.get_by_role("button", name="Make a read-only link").click()
    link = page.locator("#share-link").inner_text().strip()
    assert re.fullmatch(r"https?://[^/]+/shared/selections/[A-Za-z0-9_-]{43}", link), link
    expect(page.get_by_text("Shared since")).to_be_visible()
    check(web, "the read-only link shown once")

    # The combined dictionary: the two chosen variables, with units and mapped terms.
    rows_csv = download_rows(page, "CSV of the combined dictionary")
    assert [(r["dataset"], r["variable"]) for r in rows_csv] == [
        (AML, "flt3_itd"),
        (AML, "hb_dx"),
    ]
    assert rows_csv[1]["unit"] == "g/dL"
    assert rows_csv[0]["mapped_terms"].startswith("skos:exactMatch HV:0000125 (")

    # Compare in the harmonisation matrix.
    page.get_by_role("link", name="Compare in the harmonisation matrix").click()
    expect(page).to_have_url(re.compile(r"/harmonisation\?selection=[0-9a-f]{32}$"))
    expect(page.get_by_text("of your selection are the first columns")).to_be_visible()
    page.goto(page.url + "&terms=HV:0000045")  # the rows: haemoglobin
    matrix = page.locator("main table")
    expect(matrix).to_contain_text(AML_TITLE)
    expect(matrix).to_contain_text("hb_dx")
    expect(matrix).not_to_contain_text(MYELOMA_TITLE)  # the other selection's
    shot(web, "the selection in the matrix")

    # Logged out, the link shows the selection read-only, and nothing of its owner.
    page.get_by_role("button", name="Log out").click()
    path = re.sub(r"^https?://[^/]+", "", link)
    page.goto(path)
    expect(page.get_by_role("heading", level=1, name="AML induction")).to_be_visible()
    expect(page.get_by_text("Shared selection · read-only")).to_be_visible()
    expect(page.get_by_role("link", name=AML_TITLE)).to_be_visible()
    expect(page.get_by_text("Haemoglobin at diagnosis")).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("Remove"))).to_have_count(0)
    content = page.content()
    assert journey.researcher not in content and "Rosa Researcher" not in content
    check(web, "the shared selection logged out")
    assert download_rows(page, "CSV of the combined dictionary") == rows_csv
    page.get_by_role("link", name="Compare in the harmonisation matrix").click()
    expect(page).to_have_url(re.compile(rf"/harmonisation\?datasets={AML}$"))
    page.goto(page.url + "&terms=HV:0000045")
    expect(page.locator("main table")).to_contain_text(AML_TITLE)
    shot(web, "the shared selection in the matrix")

    # The owner stops sharing: the link answers "not found".
    log_in(page, journey.researcher)
    page.goto(own_page)
    page.get_by_role("button", name="Stop sharing").click()
    expect(page.get_by_text("The selection is no longer shared")).to_be_visible()
    expect(page.get_by_role("button", name="Make a read-only link")).to_be_visible()
    page.get_by_role("button", name="Log out").click()
    web.log.allow_status(404)
    response = page.goto(path)
    assert response is not None and response.status == 404
    check(web, "the revoked link")
