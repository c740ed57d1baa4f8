"""The dataset list in a real browser, on the whole demo: the search's facets and sorts on
/datasets, a retired dataset kept out of the list and found under the status filter, and long
unbroken words (a 200-character word in a query, a title, an organisation's name) that wrap
instead of widening the page past a 1366-pixel window."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from tests.e2e.axe import assert_accessible
from tests.e2e.conftest import LiveServer, Session, WholeDemo, page_width, serve_whole_demo

pytestmark = pytest.mark.e2e

WINDOW = {"width": 1366, "height": 900}
RETIRED = "mds-registry-it"  # a demo dataset, retired for this journey
LONG_WORD = (
    "haematologieregisterdatenbank" * 7
)  # 203 letters, no break (and no capital: camelCase splits)
LONG_TITLE = f"Longword cohort {LONG_WORD}"
LONG_ORGANISATION = f"Stichting {LONG_WORD[:180]}"


def _add_the_journeys_data() -> None:
    """A retired demo dataset, and a published one whose title, description and publisher's
    name hold a 200-character word."""
    from catalogue.datasets import services as datasets
    from core import services as accounts
    from core.models import OrganisationKind
    from core.policies import SYSTEM

    datasets.retire(SYSTEM, RETIRED, "Replaced by the 2025 registry extract.", datasets.UNCHECKED)
    organisation = accounts.create_organisation(
        SYSTEM, {"name": LONG_ORGANISATION, "country": "BE", "kind": OrganisationKind.REGISTRY}
    )
    created = datasets.create_dataset(
        SYSTEM,
        {
            "title": LONG_TITLE,
            "description": f"A cohort described by one long word: {LONG_WORD}, and again {LONG_WORD}.",
            "diseases": ["NCIT:C3171"],
            "source_type": "registry",
            "contact_email": "data@example.org",
            "organisation_id": organisation.id,
            "patients": 77,
            "countries": ["BE"],
            "keywords": ["longword"],
        },
    )
    datasets.publish(SYSTEM, created.identifier, datasets.UNCHECKED)


def _prepare(app: Flask) -> None:
    with app.app_context():
        _add_the_journeys_data()


@pytest.fixture(scope="module")
def live_server(whole_demo: WholeDemo) -> Iterator[LiveServer]:
    """This journey's own server on a copy of the whole demo, with the data above."""
    with serve_whole_demo(whole_demo, "list", _prepare) as server:
        yield server


def titles(page: Page) -> list[str]:
    return page.locator("li.search-hit h3").all_inner_texts()


def test_the_dataset_list_has_facets_sorts_and_keeps_retired_datasets_apart(web: Session) -> None:
    page = web.page
    page.set_viewport_size(WINDOW)

    # The list: every current dataset, the retired one not among them, the facets beside.
    page.goto("/datasets")
    expect(page.get_by_role("heading", name="Datasets", exact=True)).to_be_visible()
    hits = page.locator("li.search-hit")
    count = hits.count()
    assert count >= 7
    expect(page.locator("#results-h")).to_contain_text(f"{count} datasets")
    expect(page.locator(f'li.search-hit a[href="/datasets/{RETIRED}"]')).to_have_count(0)
    expect(page.locator("#facet-country")).to_be_visible()
    status = page.locator("#facet-status")
    expect(status.get_by_role("link", name=re.compile(r"^Retired 1"))).to_be_visible()
    web.shot("the dataset list")
    assert_accessible(page)

    # A facet: tick Germany and apply; the list stays the list, with a chip to undo it.
    page.locator("#facet-country").get_by_label(re.compile(r"^Germany")).check()
    page.get_by_role("button", name="Apply filters").first.click()
    expect(page).to_have_url(re.compile(r"/datasets\?.*country=DE"))
    page.wait_for_load_state()  # the new page whole, not the part parsed so far
    expect(page.get_by_role("link", name=re.compile(r"^Country: Germany"))).to_be_visible()
    germany = hits.count()
    assert 0 < germany < count

    # A sort: by title, A to Z.
    page.get_by_label("Sort by").select_option("title")
    page.get_by_role("button", name="Search", exact=True).click()
    expect(page).to_have_url(re.compile(r"/datasets\?.*sort=title"))
    page.wait_for_load_state()  # the new page whole, not the part parsed so far
    shown = titles(page)
    assert len(shown) == germany and shown == sorted(shown, key=str.casefold)
    web.shot("germany by title")

    # The status filter: the retired dataset, with its reason, and the way back.
    page.goto("/datasets")
    page.locator("#facet-status").get_by_role("link", name=re.compile(r"^Retired")).click()
    expect(page).to_have_url(re.compile(r"/datasets\?status=retired$"))
    page.wait_for_load_state()  # the new page whole, not the part parsed so far
    expect(page.get_by_role("heading", name="Retired datasets")).to_be_visible()
    card = page.locator(".retired-cards > li")
    expect(card).to_have_count(1)
    expect(card).to_contain_text("Replaced by the 2025 registry extract.")
    web.shot("retired datasets")
    assert_accessible(page)
    page.get_by_role("link", name="Back to the current datasets").click()
    expect(page).to_have_url(re.compile(r"/datasets$"))
    page.wait_for_load_state()  # the new page whole, not the part parsed so far


def test_long_words_wrap_within_the_window(web: Session) -> None:
    page = web.page
    page.set_viewport_size(WINDOW)

    # A 200-character word as the query: said to be too long, not too common; the page stays
    # within the window, on the search page and on the list alike.
    for path in ("/search", "/datasets"):
        page.goto(f"{path}?q={LONG_WORD}")
        expect(page.locator("#understood")).to_contain_text("longer than 60 characters")
        expect(page.locator("#understood")).not_to_contain_text("too common")
        assert page_width(page) <= WINDOW["width"], f"{path} is {page_width(page)} px wide"
    web.shot("a 200-character word")
    assert_accessible(page)

    # A hit whose title, snippet and publisher hold the long word, its publisher chosen as a
    # filter (a chip and a facet label with the long name).
    page.goto("/search?q=longword")
    hit = page.locator("li.search-hit").filter(has_text="Longword cohort")
    expect(hit).to_have_count(1)
    page.locator("#facet-custodian").get_by_label(re.compile("^Stichting")).check()
    page.get_by_role("button", name="Apply filters").first.click()
    expect(page.locator(".chips")).to_contain_text("Custodian organisation: Stichting")
    assert page_width(page) <= WINDOW["width"], f"the hit is {page_width(page)} px wide"
    web.shot("a hit with long words")
    assert_accessible(page)

    # Its publisher's page, with the long name.
    hit.get_by_role("link", name=re.compile("^Stichting")).click()
    expect(page).to_have_url(re.compile(r"/organisations/[0-9a-f]{32}$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Stichting")
    assert page_width(page) <= WINDOW["width"], f"the publisher is {page_width(page)} px wide"
    web.shot("a publisher with a long name")
    assert_accessible(page)
