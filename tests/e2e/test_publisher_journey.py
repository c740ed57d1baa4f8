"""A publisher's page in a real browser, on the whole demo: from a dataset's custodian link to
the organisation's page (country, kind, its published datasets, patients per disease, mapping
coverage), on to the index of publishers and its orders, back to the organisation's datasets in
the dataset list; a custodian is told of a draft the page does not count; an unknown
organisation is a page that says so."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from tests.e2e.axe import assert_accessible
from tests.e2e.conftest import (
    DEMO_PASSWORD,
    LiveServer,
    Session,
    WholeDemo,
    page_width,
    serve_whole_demo,
)

pytestmark = pytest.mark.e2e

WINDOW = {"width": 1366, "height": 900}
AML_TRIAL = "aml-ic-2016"  # a demo dataset
PUBLISHER = "Erasmus Universitair Medisch Centrum Rotterdam"  # its custodian
ULM_CUSTODIAN = "custodian-ulm@demo.harmony.example"
ULM_DRAFT = "Ulm draft registry for the publisher journey"


def _prepare(app: Flask) -> None:
    with app.app_context():
        _add_a_draft()


def _add_a_draft() -> None:
    """A draft of Universitaet Ulm's, which its custodian is told of and nobody counts."""
    from sqlalchemy import select

    from catalogue.datasets import services as datasets
    from core.db import get_session
    from core.models import Organisation
    from core.policies import SYSTEM

    ulm = get_session().scalar(select(Organisation).where(Organisation.name == "Universitaet Ulm"))
    assert ulm is not None
    datasets.create_dataset(
        SYSTEM,
        {
            "title": ULM_DRAFT,
            "diseases": ["NCIT:C3171"],
            "organisation_id": ulm.id,
            "patients": 90_000,
        },
    )


@pytest.fixture(scope="module")
def live_server(whole_demo: WholeDemo) -> Iterator[LiveServer]:
    """This journey's own server on a copy of the whole demo, with a draft of Ulm's."""
    with serve_whole_demo(whole_demo, "publishers", _prepare) as server:
        yield server


def figures(page: Page) -> list[str]:
    """Each figure's number and words, read from the markup (the rendered text runs the two
    together while the stylesheet is still loading)."""
    parts = page.eval_on_selector_all(
        ".publisher-figures li",
        "items => items.map(li => Array.from(li.children, c => c.textContent).join(' '))",
    )
    return [" ".join(str(text).split()) for text in parts]


def test_from_a_dataset_to_its_publisher_and_the_publishers(web: Session) -> None:
    page = web.page
    page.set_viewport_size(WINDOW)

    # The dataset's custodian is a link to its publisher's page.
    page.goto(f"/datasets/{AML_TRIAL}")
    page.locator(".dataset-byline").get_by_role("link", name=PUBLISHER).click()
    expect(page).to_have_url(re.compile(r"/organisations/[0-9a-f]{32}$"))
    publisher_url = page.url
    expect(page.get_by_role("heading", level=1)).to_have_text(PUBLISHER)
    expect(page.locator(".publisher-byline")).to_contain_text("Hospital")
    expect(page.locator(".publisher-byline")).to_contain_text("Netherlands")
    shown = figures(page)
    assert shown[0] == "1 published dataset", shown
    assert re.fullmatch(r"[\d,]+ patients covered", shown[1]), shown
    assert re.fullmatch(r"\d+% of [\d,]+ variables mapped to standard terms", shown[2]), shown
    datasets = page.locator("table.publisher-datasets tbody tr")
    expect(datasets).to_have_count(1)
    expect(datasets.get_by_role("link")).to_have_attribute("href", f"/datasets/{AML_TRIAL}")
    diseases = page.locator("table.publisher-diseases tbody tr")
    expect(diseases.first.get_by_role("link", name="Acute Myeloid Leukemia")).to_be_visible()
    assert page_width(page) <= WINDOW["width"]
    web.shot("a publisher")
    assert_accessible(page)

    # Its datasets in the dataset list, filtered by it (the list's facets and sorts at hand).
    page.get_by_role("link", name="Filter and sort them in the dataset list").click()
    expect(page).to_have_url(re.compile(r"/datasets\?custodian=[0-9a-f]{32}$"))
    expect(page.locator("li.search-hit")).to_have_count(1)
    chip = re.compile(rf"^Custodian organisation: {re.escape(PUBLISHER)}")
    expect(page.locator(".chips").get_by_role("link", name=chip)).to_be_visible()

    # The index of publishers: each one linked, with its figures, in the order asked for.
    page.goto(publisher_url)
    page.get_by_role("navigation", name="Breadcrumbs").get_by_role(
        "link", name="Publishers"
    ).click()
    expect(page).to_have_url(re.compile(r"/organisations$"))
    rows = page.locator("table.publishers-table tbody tr")
    count = rows.count()
    assert count >= 5
    expect(page.locator("#list-h")).to_contain_text(f"{count} organisations publish")
    names = page.locator("table.publishers-table tbody th").all_inner_texts()
    assert names == sorted(names, key=str.casefold)
    web.shot("the publishers")
    assert_accessible(page)
    page.get_by_label("Order").select_option("country")
    page.get_by_role("button", name="Sort").click()
    expect(page).to_have_url(re.compile(r"/organisations\?sort=country$"))
    countries = page.locator("table.publishers-table tbody td:nth-child(2)").all_inner_texts()
    assert countries == sorted(countries)
    rows.filter(has_text=PUBLISHER).get_by_role("link").click()
    expect(page).to_have_url(publisher_url)


def test_a_custodian_is_told_of_a_draft_the_page_does_not_count(web: Session) -> None:
    page = web.page
    page.set_viewport_size(WINDOW)
    page.goto("/datasets/flt3-mido-2017")  # Ulm's
    page.locator(".facts").get_by_role("link", name="Universitaet Ulm").click()
    expect(page).to_have_url(re.compile(r"/organisations/[0-9a-f]{32}$"))  # arrived
    expect(page.locator(".publisher-figures li").first).to_be_visible()
    public = figures(page)
    expect(page.locator(".alert-draft")).to_have_count(0)
    expect(page.get_by_text(ULM_DRAFT)).to_have_count(0)
    ulm_url = page.url

    page.goto("/login")
    page.get_by_label("Email address").fill(ULM_CUSTODIAN)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()  # logged in
    page.goto(ulm_url)
    expect(page.locator(".alert-draft")).to_contain_text(
        "1 dataset of this organisation has a draft."
    )
    assert figures(page) == public  # the draft counts nowhere
    web.shot("a publisher as its custodian")
    assert_accessible(page)


def test_an_unknown_organisation_is_a_page_that_says_so(web: Session) -> None:
    page = web.page
    web.log.allow_status(404)
    response = page.goto("/organisations/no-such-organisation")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    web.shot("an unknown organisation")
    assert_accessible(page)
