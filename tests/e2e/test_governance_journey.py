"""Consent governance in a real browser: a custodian states the data-use conditions of a draft
dataset (DS with AML chosen through the autocomplete, IRB, PUB, GS in the EEA), makes a
data-sharing agreement for it (a non-PDF refused, the signed PDF uploaded, the agreement
activated) and publishes it; then a researcher describes a research purpose and searches
with "Fits my purpose": the hits carry fit badges whose reasons open, the outcomes are
counted, and "compatible" and "Requestable now" narrow the hits.

The world is the whole demo (accounts, vocabularies, datasets, their conditions and
agreements): the custodian's own draft ``allo-hct-outcomes-rotterdam`` starts with HMB and IS
and no agreement, so everything the journey shows on it is its own doing, and the other
demo datasets give the search every outcome. Screenshots go to tests/e2e/screenshots/."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterator

import pytest
from playwright.sync_api import FilePayload, Locator, Page, expect

from governance.agreements.services import today
from tests.e2e.conftest import DEMO_PASSWORD, LiveServer, Session, WholeDemo, serve_whole_demo

pytestmark = pytest.mark.e2e

CUSTODIAN_EMAIL = "custodian@demo.harmony.example"
RESEARCHER_EMAIL = "researcher@demo.harmony.example"
DATASET = "allo-hct-outcomes-rotterdam"  # the custodian's draft: HMB + IS, no agreement
TITLE = "Allogeneic transplantation in AML and MDS: Rotterdam outcomes extract"
DS_AML = "aml-ic-2016"  # a demo DS-AML dataset (IRB, PUB) under an active agreement
DS_MYELOMA = "mm-te-2015"  # a demo DS-myeloma dataset: no fit for an AML purpose
RUN = uuid.uuid4().hex[:6].upper()
REFERENCE = f"DSA-E2E-{RUN}"
PURPOSE = f"AML relapse study {RUN}"
TODAY = today()  # the agreements' clock (UTC)


def _pdf() -> bytes:
    """A small, well-formed PDF (the signed agreement)."""
    return (
        b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
        b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n"
        b"% signed in the e2e journey\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
    )


@pytest.fixture(scope="module")
def live_server(whole_demo: WholeDemo) -> Iterator[LiveServer]:
    """This journey's own server on a copy of the whole demo; the signed documents go to a
    folder of its own."""
    with serve_whole_demo(whole_demo, "governance") as server:
        yield server


def log_in(page: Page, email: str) -> None:
    page.goto("/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def pick_disease(page: Page, field: Locator, typed: str, curie: str) -> None:
    """Type into a disease autocomplete and walk down to ``curie`` with the keyboard."""
    # The page's scripts may still be on their way after a click's navigation: wait for the
    # field to become the combobox before typing into it.
    expect(field).to_have_attribute("role", "combobox")
    field.press_sequentially(typed, delay=40)
    listbox = page.get_by_role("listbox")
    expect(listbox).to_be_visible()
    option = listbox.get_by_role("option").filter(has_text=curie)
    expect(option).to_have_count(1)
    for _ in range(20):
        field.press("ArrowDown")
        if option.get_attribute("aria-selected") == "true":
            break
    expect(option).to_have_attribute("aria-selected", "true")
    field.press("Enter")
    expect(field).to_have_value("")


def badge(page: Page, code: str) -> Locator:
    return page.locator(".du-panel .du-badge", has_text=re.compile(rf"^{code}\b"))


def test_consent_governance_journey(web: Session) -> None:
    page = web.page
    page.on("dialog", lambda dialog: dialog.accept())  # "Publish …?"

    # --- 1. The custodian states the data-use conditions of their draft ---------------------
    log_in(page, CUSTODIAN_EMAIL)
    page.goto(f"/datasets/{DATASET}")
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    expect(badge(page, "HMB")).to_be_visible()  # the demo's conditions
    expect(page.locator("#requestable-h + p")).to_contain_text("Not requestable")
    page.get_by_role("link", name="Edit data-use conditions").click()
    expect(page).to_have_url(re.compile(rf"/datasets/{DATASET}/data-use$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Data-use conditions of")
    expect(page.get_by_role("radio", name=re.compile(r"^HMB"))).to_be_checked()

    page.get_by_role("radio", name=re.compile(r"^DS\b")).check()
    pick_disease(page, page.get_by_label("Add a disease"), "AML", "NCIT:C3171")
    chips = page.locator("#diseases ul.chips li.chip")
    expect(chips).to_have_count(1)
    expect(chips.first).to_contain_text("Acute Myeloid Leukemia")
    page.get_by_role("checkbox", name=re.compile(r"^IS\b")).uncheck()
    page.get_by_role("checkbox", name=re.compile(r"^IRB\b")).check()
    page.get_by_role("checkbox", name=re.compile(r"^PUB\b")).check()
    # GS and MOR ticked, but without their regions and date
    page.get_by_role("checkbox", name=re.compile(r"^GS\b")).check()
    page.get_by_role("checkbox", name=re.compile(r"^MOR\b")).check()
    web.shot("conditions form filled in")

    web.log.allow_status(422)
    page.get_by_role("button", name="Save conditions").click()
    regions = page.get_by_label("Countries or regions")
    expect(regions).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#GS_regions-error")).to_contain_text("regions")
    moratorium = page.get_by_label("Not published before")
    expect(moratorium).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#MOR_date-error")).to_be_visible()
    summary = page.locator("#error-summary")
    expect(summary).to_be_visible()
    expect(summary.get_by_role("link")).to_have_count(2)
    expect(chips).to_have_count(1)  # what was chosen is kept
    expect(page.get_by_role("checkbox", name=re.compile(r"^IRB\b"))).to_be_checked()
    web.shot("conditions error next to the field")
    summary.get_by_role("link", name=re.compile("^GS")).click()
    expect(regions).to_be_focused()
    regions.fill("EEA")
    page.get_by_role("checkbox", name=re.compile(r"^MOR\b")).uncheck()
    page.get_by_role("button", name="Save conditions").click()

    expect(page).to_have_url(re.compile(rf"/datasets/{DATASET}$"))
    expect(page.locator(".flash-success")).to_contain_text("Data-use conditions saved")
    for code in ("DS", "IRB", "PUB", "GS"):
        expect(badge(page, code)).to_be_visible()
    expect(badge(page, "HMB")).to_have_count(0)
    expect(badge(page, "IS")).to_have_count(0)
    expect(badge(page, "DS")).to_have_attribute(
        "title", re.compile(r"Acute Myeloid Leukemia \(NCIT:C3171\)")
    )
    expect(badge(page, "GS")).to_have_attribute("title", re.compile(r"EEA"))
    web.shot("dataset with its conditions")

    # --- 2. A data-sharing agreement for it -------------------------------------------------
    requesting = page.locator("#requestable-h + p")
    expect(requesting).to_contain_text("No active data-sharing agreement covers this dataset")
    requesting.get_by_role("link", name="Make an agreement").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("New data-sharing agreement")
    page.get_by_label("Reference").fill(REFERENCE)
    # the link from the dataset's page chose the dataset already
    expect(page.get_by_role("checkbox", name=re.compile(rf"\({DATASET}\)"))).to_be_checked()
    page.get_by_label("Effective from").fill((TODAY - dt.timedelta(days=7)).isoformat())
    expires = TODAY + dt.timedelta(days=400)
    page.get_by_label(re.compile(r"^Expires on")).fill(expires.isoformat())
    for curie in ("DUO:0000006", "DUO:0000007"):
        page.get_by_role("checkbox", name=re.compile(curie)).check()
    page.get_by_label("Acknowledgement text").fill("Acknowledge Erasmus MC Haematology.")
    page.get_by_label("Publication review period (days)").fill("30")
    signed = (TODAY - dt.timedelta(days=10)).isoformat()
    for n, (name, role, side) in enumerate(
        [
            ("Dr. Eva de Wit", "Head of haematology", "custodian"),
            ("Dr. Carlos Ortega", "Alliance governance officer", "alliance"),
        ],
        start=1,
    ):
        page.get_by_label(f"Signatory {n}: name").fill(name)
        page.get_by_label(f"Signatory {n}: role").fill(role)
        page.get_by_label(f"Signatory {n}: side").select_option(side)
        page.get_by_label(f"Signatory {n}: signed on").fill(signed)
    web.shot("agreement form")
    page.get_by_role("button", name="Save draft").click()
    expect(page.locator(".flash-success")).to_contain_text(f"The draft agreement {REFERENCE}")
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Agreement {REFERENCE}")
    expect(page.locator(".badge-status")).to_have_text("Draft")

    # a non-PDF is refused with a clear message, then the signed PDF is taken
    upload = page.get_by_label("Upload the signed agreement (PDF)")
    not_pdf = FilePayload(name="agreement.pdf", mimeType="application/pdf", buffer=b"not a PDF")
    upload.set_input_files(files=[not_pdf])
    page.get_by_role("button", name="Upload", exact=True).click()
    expect(page.locator("#file-error")).to_contain_text("The file is not a PDF")
    expect(upload).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_text("No signed document yet.")).to_be_visible()
    web.shot("agreement non-pdf refused")
    signed_pdf = FilePayload(name="signed.pdf", mimeType="application/pdf", buffer=_pdf())
    page.get_by_label("Upload the signed agreement (PDF)").set_input_files(files=[signed_pdf])
    page.get_by_role("button", name="Upload", exact=True).click()
    expect(page.locator(".flash-success")).to_contain_text("The signed document is uploaded")
    expect(page.get_by_role("link", name="signed.pdf")).to_be_visible()
    page.get_by_role("button", name="Activate agreement").click()
    expect(page.locator(".flash-success")).to_contain_text("The agreement is active")
    expect(page.locator(".badge-status")).to_have_text("Active")
    web.shot("agreement active")

    page.get_by_role("link", name=TITLE).click()
    expect(page).to_have_url(re.compile(rf"/datasets/{DATASET}$"))
    until = f"{expires.day} {expires.strftime('%B %Y')}"
    expect(requesting).to_contain_text(f"Requestable until the agreement expires on {until}")
    expect(requesting.get_by_role("link", name=REFERENCE)).to_be_visible()
    page.get_by_role("button", name="Publish").click()
    expect(page.locator(".flash-success")).to_contain_text("is published")
    web.shot("dataset requestable and published")
    page.get_by_role("button", name="Log out").click()

    # --- 3. A researcher describes a purpose and searches by fit ----------------------------
    log_in(page, RESEARCHER_EMAIL)
    page.get_by_role("link", name="My purposes").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My research purposes")
    web.shot("no purposes yet")
    page.get_by_role("link", name="Describe a purpose").first.click()
    page.get_by_label("Name").fill(PURPOSE)
    # Tab from the name to the kinds of research: GRU, HMB, then DS, ticked with the space bar
    ds = page.get_by_role("checkbox", name=re.compile(r"Disease-specific research \(DS\)"))
    for _ in range(3):
        page.keyboard.press("Tab")
    expect(ds).to_be_focused()
    page.keyboard.press("Space")
    expect(ds).to_be_checked()
    pick_disease(page, page.get_by_label("Add a disease"), "AML", "NCIT:C3171")
    page.get_by_label("Commercial use").select_option("no")
    page.get_by_label("Ethics approval").select_option("yes")
    page.get_by_label("Country where the data will be used").select_option("NL")
    web.shot("purpose form")
    page.get_by_role("button", name="Save the purpose").click()
    expect(page.locator(".flash-success")).to_contain_text(f"“{PURPOSE}” is saved")
    card = page.locator(".purpose-card").filter(has_text=PURPOSE)
    expect(card).to_contain_text("Acute Myeloid Leukemia")
    web.shot("purpose saved")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Search").click()
    page.get_by_label("Your research purpose").select_option(label=PURPOSE)
    page.get_by_role("button", name="Apply filters").first.click()
    expect(page).to_have_url(re.compile(r"[?&]purpose="))
    fit = page.locator("#facet-fit")
    expect(fit).to_be_visible()  # the page with the purpose, not the one before it
    page.wait_for_load_state("load")
    hits = page.locator("li.search-hit")
    expect(hits.first).to_be_visible()
    everything = hits.count()
    counts = {}
    for label in ("Compatible", "Needs review", "Incompatible"):
        row = fit.locator(".facet-row").filter(
            has=page.locator(".facet-label", has_text=re.compile(rf"^{label}$"))
        )
        expect(row).to_have_count(1)
        counts[label] = int(row.locator(".facet-count").inner_text().split()[0].replace(",", ""))
    assert counts["Compatible"] >= 2 and counts["Incompatible"] >= 1, counts
    assert counts["Needs review"] >= 1, counts

    ours, aml, myeloma = (hit_of(page, d) for d in (DATASET, DS_AML, DS_MYELOMA))
    expect(ours.locator(".badge-fit")).to_have_text("Fits your purpose")
    expect(aml.locator(".badge-fit")).to_have_text("Fits your purpose")
    expect(ours.locator(".du-badge").first).to_have_text("DS")
    expect(ours.locator(".hit-requestable")).to_have_text(f"Requestable until {expires}")
    # the reasons open from the keyboard
    why = myeloma.locator("details.fit-details summary")
    expect(myeloma.locator(".badge-fit")).to_have_text("Does not fit")
    expect(myeloma.locator(".fit-reasons")).to_be_hidden()
    why.focus()
    page.keyboard.press("Enter")
    expect(myeloma.locator(".fit-reasons")).to_be_visible()
    expect(myeloma.locator(".fit-reasons")).to_contain_text(re.compile("disease", re.I))
    review = hit_of(page, "dlbcl-80plus-2014")
    expect(review.locator(".badge-fit")).to_have_text("Needs review")
    review.locator("details.fit-details summary").click()
    expect(review.locator(".fit-reasons")).to_contain_text("COL")
    web.shot("search with a purpose")

    # "compatible" only: the custodian's new dataset and the demo's DS-AML one, not myeloma
    fit.get_by_role("checkbox", name=re.compile(r"^Compatible")).check()
    page.get_by_role("button", name="Apply filters").first.click()
    expect(page).to_have_url(re.compile(r"[?&]fit=compatible"))
    expect(hits).to_have_count(counts["Compatible"])
    expect(hits.locator(".badge-fit")).to_have_text(["Fits your purpose"] * counts["Compatible"])
    expect(hit_of(page, DATASET)).to_have_count(1)
    expect(hit_of(page, DS_AML)).to_have_count(1)
    expect(hit_of(page, DS_MYELOMA)).to_have_count(0)
    web.shot("compatible only")

    # and requestable now: every hit says until when
    requestable_now = page.locator("#facet-requestable").get_by_role("checkbox")
    requestable_now.check()
    page.get_by_role("button", name="Apply filters").first.click()
    expect(page).to_have_url(re.compile(r"[?&]requestable=true"))
    expect(hit_of(page, DATASET)).to_have_count(1)
    requestable = hits.count()
    assert 1 <= requestable <= counts["Compatible"]
    for hit in hits.all():
        expect(hit.locator(".hit-requestable")).to_contain_text("Requestable until")
    web.shot("compatible and requestable")
    assert requestable < everything


def hit_of(page: Page, identifier: str) -> Locator:
    """The search hit of a dataset."""
    return page.locator("li.search-hit").filter(
        has=page.locator(f'h3 a[href$="/datasets/{identifier}"]')
    )
