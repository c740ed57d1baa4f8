"""A custodian registers a dataset in a real browser: the form with a disease picked through the
autocomplete, a REDCap dictionary uploaded, the mapping assistant's suggestions reviewed with
the keyboard and accepted in bulk, the draft published; then the public sees it with its mapped
variables. Screenshots of every page go to tests/e2e/screenshots/ and /tmp/screens/."""

from __future__ import annotations

import re
import shutil
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from werkzeug.serving import make_server

from core import create_app, migrate
from core.demo import load_demo
from core.policies import SYSTEM
from tests.dbutil import fresh_database
from tests.e2e.conftest import DEMO_PASSWORD, TEST_ENV, LiveServer, Session, arrive

pytestmark = pytest.mark.e2e

CUSTODIAN_EMAIL = "custodian@demo.harmony.example"
REDCAP = (
    Path(__file__).resolve().parent.parent
    / "catalogue"
    / "dictionary"
    / "data"
    / "aml_trial_redcap.csv"
)
SCREENS = Path("/tmp/screens")  # noqa: S108 - a fixed place where people look at them
RUN = uuid.uuid4().hex[:6]
TITLE = f"AML-E2E {RUN}: intensive induction in adults"
IDENTIFIER = f"aml-e2e-{RUN}"


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """This journey's own server and database (demo accounts and the bundled vocabularies):
    the other journeys search all ontologies and must not find the HARMONY variables."""
    from ontologies.bundled import load_bundled

    with fresh_database(tmp_path_factory.mktemp("e2e-catalogue"), "e2e_catalogue") as url:
        migrate.upgrade(url)
        app = create_app({"DATABASE_URL": url}, env=TEST_ENV)
        with app.app_context():
            load_demo(password=DEMO_PASSWORD, with_steps=False)
            load_bundled(SYSTEM)
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, name="e2e-catalogue", daemon=True)
        thread.start()
        try:
            yield LiveServer(url=f"http://127.0.0.1:{server.server_port}", app=app)
        finally:
            server.shutdown()
            thread.join(timeout=10)
            server.server_close()
            app.extensions["harmony_db"].engine.dispose()


def shot(web: Session, step: str, *, viewport: bool = False) -> None:
    """A screenshot for the e2e folder (console checked) and a copy in /tmp/screens;
    ``viewport``: also what the screen shows there (long tables make full pages tiny)."""
    path = web.shot(step)
    SCREENS.mkdir(parents=True, exist_ok=True)
    name = f"catalogue-{path.name.split('-', 1)[1]}"
    shutil.copy(path, SCREENS / name)
    if viewport:
        web.page.screenshot(path=str(SCREENS / name.replace(".png", "-screen.png")))


def row_of(page: Page, variable: str, term: str | None = None):
    """The first review row of a variable's own mapping (to ``term``, when given)."""
    return rows_of(page, variable, term).first


def rows_of(page: Page, variable: str, term: str | None = None):
    rows = page.locator(f'tr[data-row][data-variable="{variable}"]:not([data-value])')
    if term is not None:
        rows = rows.filter(has=page.locator(".term-label", has_text=term))
    return rows


def test_custodian_registers_maps_and_publishes_a_dataset(web: Session) -> None:
    page = web.page
    page.on("dialog", lambda dialog: dialog.accept())  # "Publish …?", "Accept all …?"

    # Log in; "My datasets" is in the navigation.
    page.goto("/login")
    page.get_by_label("Email address").fill(CUSTODIAN_EMAIL)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()  # logged in
    nav = page.get_by_role("navigation", name="Main")
    nav.get_by_role("link", name="My datasets").click()
    expect(page).to_have_url(re.compile(r"/datasets/mine$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("My datasets")
    shot(web, "my datasets")

    # The form: a disease chosen in the autocomplete becomes a chip.
    page.get_by_role("link", name="Register a dataset").first.click()
    arrive(page, re.compile(r"/datasets/new$"))
    page.get_by_label("Title").fill(TITLE)
    page.get_by_label("Identifier").fill(IDENTIFIER)
    page.get_by_label("Description").fill(
        "Adults with newly diagnosed **AML** treated with intensive induction.\n\n"
        "- 18 sites\n- central molecular diagnostics"
    )
    disease = page.get_by_role("combobox", name="Add a disease")
    disease.press_sequentially("AML", delay=40)
    listbox = page.get_by_role("listbox", name="Matching terms")
    expect(listbox).to_be_visible()
    option = listbox.get_by_role("option").filter(has_text="NCIT:C3171")
    expect(option).to_have_count(1)
    expect(option).to_contain_text("Acute Myeloid Leukemia")
    shot(web, "disease autocomplete")
    for _ in range(20):  # walk down to it with the keyboard
        disease.press("ArrowDown")
        if option.get_attribute("aria-selected") == "true":
            break
    disease.press("Enter")
    chips = page.locator("ul.chips li.chip")
    expect(chips).to_have_count(1)
    expect(chips.first).to_contain_text("Acute Myeloid Leukemia")
    expect(chips.first.get_by_role("button", name="Remove Acute Myeloid Leukemia")).to_be_visible()
    expect(disease).to_have_value("")
    page.get_by_label("Source type").select_option("clinical_trial")
    page.get_by_label("Data model").select_option("custom")
    page.get_by_label("Trial registration ids").fill("NCT123")  # not a valid NCT number
    page.get_by_label("Countries").fill("NL, BE, DE")
    page.get_by_label("Number of patients").fill("812")
    page.get_by_label("First year").fill("2012")
    page.get_by_label("Last year").fill("2019")
    page.get_by_label("Adult").check()
    page.get_by_label("Elderly").check()
    page.get_by_label("Contact email").fill("trial-data@example.org")
    page.get_by_label("Pseudonymised by the provider").fill("2020-02-01")

    web.log.allow_status(422)
    page.get_by_role("button", name="Register dataset").click()
    summary = page.locator("#error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()
    expect(summary.get_by_role("link", name="Trial registration ids")).to_be_visible()
    trial = page.get_by_label("Trial registration ids")
    expect(trial).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#trial_ids-error")).to_contain_text("NCT01234567")
    expect(chips).to_have_count(1)  # the chip and everything typed are kept
    expect(page.get_by_label("Number of patients")).to_have_value("812")
    shot(web, "form errors")
    summary.get_by_role("link", name="Trial registration ids").click()
    expect(trial).to_be_focused()
    trial.fill("NCT01234567")
    shot(web, "form filled in")
    page.get_by_role("button", name="Register dataset").click()

    # The draft's page: a banner, and what is missing (nothing: it could be published now).
    expect(page).to_have_url(re.compile(rf"/datasets/{IDENTIFIER}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    expect(page.locator(".flash-success")).to_contain_text("is registered as a draft")
    expect(page.locator(".alert-draft")).to_contain_text("Only your organisation's custodians")
    expect(page.locator(".badge-draft").first).to_have_text("Draft")
    expect(page.get_by_role("link", name="Acute Myeloid Leukemia")).to_have_attribute(
        "href", "/terms/NCIT:C3171"
    )
    expect(page.get_by_text("No data dictionary yet.")).to_be_visible()
    shot(web, "draft dataset page")

    # Upload the REDCap dictionary.
    page.get_by_role("link", name="Upload dictionary").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Upload the data dictionary")
    page.get_by_label("Dictionary file").set_input_files(str(REDCAP))
    page.get_by_label("Format", exact=True).select_option("redcap")
    page.get_by_role("button", name="Upload and import").click()
    report = page.locator("#report")
    expect(report.get_by_role("heading", level=2)).to_have_text("Imported aml_trial_redcap.csv")
    added = report.locator(".figure").filter(has_text="added").locator(".figure-value")
    expect(added).to_have_text("17")
    expect(report).to_contain_text("descriptive field “reg_intro” holds no data")
    shot(web, "dictionary imported")

    # Ask the assistant for suggestions.
    report.get_by_role("link", name="Review mappings").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Review mappings")
    page.get_by_role("button", name="Suggest mappings").click()
    expect(page.locator(".flash-success")).to_contain_text("The mapping assistant looked at 17")
    expect(page.locator("#shortcuts")).to_be_visible()
    rows = page.locator("tr[data-row]")
    expect(rows.first).to_have_class(re.compile(r"\bis-active\b"))
    expect(rows.first.locator("th code")).to_have_text("record_id")
    shot(web, "suggestions", viewport=True)

    # The keyboard: r rejects the assistant's guesses for the record id, a accepts "Sex".
    guesses = rows_of(page, "record_id").count()
    assert guesses >= 1
    for _ in range(guesses):
        active = page.locator("tr[data-row].is-active")
        expect(active.locator("th code")).to_have_text("record_id")
        row = page.locator(f'tr[data-mapping="{active.get_attribute("data-mapping")}"]')
        page.keyboard.press("r")
        expect(row).to_have_attribute("data-status", "rejected")
        expect(row.locator("[data-status-badge]")).to_have_text("Rejected")
    sex = row_of(page, "sex", "Sex")
    expect(sex).to_have_class(re.compile(r"\bis-active\b"))
    expect(sex).to_be_focused()
    page.keyboard.press("a")
    expect(sex.locator("[data-status-badge]")).to_have_text("Accepted")
    after_sex = page.locator("tr[data-row].is-active")
    expect(after_sex.locator("th code")).to_have_text("age_dx")
    page.keyboard.press("j")
    expect(page.locator("tr[data-row].is-active .term-label")).to_have_text("Age at study entry")
    page.keyboard.press("k")
    expect(page.locator("tr[data-row].is-active .term-label")).to_have_text("Age at diagnosis")

    # "o" picks another term: vital status, not overall survival, for os_status.
    guess = row_of(page, "os_status", "Overall survival")
    survival = page.locator(f'tr[data-mapping="{guess.get_attribute("data-mapping")}"]')
    survival.locator("th").click()
    expect(survival).to_have_class(re.compile(r"\bis-active\b"))
    page.keyboard.press("o")
    picker = survival.get_by_role("combobox", name="Term for os_status", exact=True)
    expect(picker).to_be_focused()
    picker.press_sequentially("vital stat", delay=40)
    choice = survival.get_by_role("option").filter(has_text="HV:0000225")
    expect(choice).to_have_count(1)
    shot(web, "another term", viewport=True)
    for _ in range(10):
        picker.press("ArrowDown")
        if choice.get_attribute("aria-selected") == "true":
            break
    picker.press("Enter")
    expect(survival.locator(".term-label")).to_have_text("Vital status")
    expect(survival.locator(".reason")).to_have_text("chosen by Carl Custodian")
    expect(survival.locator(".score-cell")).to_have_text("—")
    expect(survival.locator("[data-status-badge]")).to_have_text("Accepted")
    expect(row_of(page, "os_status", "Follow-up time")).to_have_count(0)  # withdrawn
    expect(page.locator("#review-status")).to_contain_text("os_status → HV:0000225")
    shot(web, "reviewed with the keyboard", viewport=True)

    # Accept the rest in bulk above 0.9.
    page.get_by_label("Accept all with a score of at least").fill("0.9")
    page.get_by_role("button", name="Accept all ≥ threshold").click()
    expect(page.locator(".flash-success")).to_contain_text(
        re.compile(r"Accepted \d+ suggestions with a score of at least 0.9")
    )
    page.get_by_role("link", name=re.compile("^Accepted")).click()
    accepted = page.locator("tr[data-row]")
    expect(row_of(page, "hb_dx", "Haemoglobin")).to_be_visible()
    expect(row_of(page, "flt3itd", "FLT3 internal tandem duplication")).to_be_visible()
    assert accepted.count() >= 12
    shot(web, "accepted mappings", viewport=True)

    # Publish.
    page.get_by_role("link", name="Back to the dataset").click()
    expect(page.locator("#variables")).to_contain_text("17 variables")
    page.get_by_role("button", name="Publish").click()
    expect(page.locator(".flash-success")).to_contain_text("Version 1 is published")
    expect(page.locator(".dataset-byline .badge-published")).to_have_text("Published")
    shot(web, "published")

    # My datasets shows it published, with the share of variables mapped.
    nav.get_by_role("link", name="My datasets").click()
    mine = page.locator("table.dataset-table tbody tr").filter(has_text=TITLE)
    expect(mine.locator(".badge-published")).to_have_text("Published")
    expect(mine.locator("td.num")).to_have_text("17")
    shot(web, "my datasets with the published dataset")
    page.get_by_role("button", name="Log out").click()

    # The public: the list, the page, the mapped variables.
    page.goto("/datasets")
    card = page.locator(".dataset-card").filter(has_text=TITLE)
    expect(card).to_contain_text("812 patients")
    expect(card.get_by_role("link", name="Acute Myeloid Leukemia")).to_be_visible()
    shot(web, "public list")
    card.get_by_role("link", name=TITLE).click()
    expect(page.locator(".alert-draft")).to_have_count(0)
    expect(page.get_by_role("heading", name="Manage this dataset")).to_have_count(0)
    expect(page.locator(".prose strong")).to_have_text("AML")
    expect(page.get_by_role("link", name="NCT01234567")).to_have_attribute(
        "href", "https://clinicaltrials.gov/study/NCT01234567"
    )
    hb = page.locator("table.variables-table tr").filter(
        has=page.locator("th code", has_text=re.compile("^hb_dx$"))
    )
    expect(hb.get_by_role("link", name="Haemoglobin")).to_have_attribute(
        "href", "/terms/HV:0000045"
    )
    status = page.locator("table.variables-table tr").filter(
        has=page.locator("th code", has_text=re.compile("^os_status$"))
    )
    expect(status.get_by_role("link", name="Vital status")).to_be_visible()
    shot(web, "public dataset page", viewport=True)
    page.get_by_label("Mapping").select_option("unmapped")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"mapped=unmapped"))
    names = page.locator("table.variables-table tbody th code")
    expect(names.first).to_have_text("record_id")
    assert "hb_dx" not in names.all_inner_texts()
    shot(web, "public unmapped variables")
