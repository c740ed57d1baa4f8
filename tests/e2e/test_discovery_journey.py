"""A researcher finds data in a real browser: searches "myeloma", narrows the hits with facets,
opens a dataset, checks its R-ISS coverage and downloads its DCAT-AP record as Turtle. Then the
dashboard shows its charts. Screenshots go to tests/e2e/screenshots/ and /tmp/screens/."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import rdflib
from playwright.sync_api import expect

from tests.e2e.conftest import (
    DEMO_PASSWORD,
    LiveServer,
    Session,
    WholeDemo,
    arrive,
    serve_whole_demo,
)

pytestmark = pytest.mark.e2e

RESEARCHER_EMAIL = "researcher@demo.harmony.example"
SCREENS = Path("/tmp/screens")  # noqa: S108 - a fixed place where people look at them
DCAT = rdflib.Namespace("http://www.w3.org/ns/dcat#")
DCT = rdflib.Namespace("http://purl.org/dc/terms/")


@pytest.fixture(scope="module")
def live_server(whole_demo: WholeDemo) -> Iterator[LiveServer]:
    """This journey's own server on a copy of the whole demo: accounts, vocabularies,
    datasets, standard variable sets and the search index."""
    with serve_whole_demo(whole_demo, "discovery") as server:
        yield server


def shot(web: Session, step: str) -> None:
    path = web.shot(step)
    SCREENS.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, SCREENS / f"discovery-{path.name.split('-', 1)[1]}")


def test_researcher_searches_narrows_checks_coverage_and_downloads_turtle(web: Session) -> None:
    page = web.page
    page.goto("/login")
    page.get_by_label("Email address").fill(RESEARCHER_EMAIL)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()  # logged in

    # Search from the navigation.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Search").click()
    arrive(page, re.compile(r"/search"))
    page.get_by_label("Search for").fill("myeloma")
    page.get_by_label("Search for").press("Enter")
    expect(page).to_have_url(re.compile(r"[?&]q=myeloma"))
    hits = page.locator("li.search-hit")
    expect(hits.first).to_be_visible()
    total = hits.count()
    expect(hits.first.locator("h3 a")).to_contain_text(re.compile("myeloma", re.I))
    expect(hits.first.locator("mark").first).to_be_visible()  # highlighted words
    expect(page.locator("#understood")).to_contain_text(re.compile("myeloma", re.I))
    shot(web, "search myeloma")

    # Narrow with two facets: a disease from the tree (opened with its toggles) and a source type.
    tree = page.locator("#facet-disease")
    disease = tree.get_by_role("checkbox", name=re.compile(r"^Plasma Cell Myeloma", re.I))
    for _ in range(6):  # open the branches down to it, as a user does
        if disease.first.is_visible():
            break
        closed = tree.locator("button.tree-toggle[aria-expanded=false]")
        for _ in range(closed.count()):
            closed.nth(0).click()
    expect(disease.first).to_be_visible()
    disease.first.check()
    source = page.locator("#facet-source_type input[type=checkbox]").first
    source_label = page.locator("#facet-source_type .facet-label").first.inner_text()
    source.check()
    page.get_by_role("button", name="Apply filters").first.click()
    expect(page).to_have_url(re.compile(r"[?&]disease="))
    expect(page).to_have_url(re.compile(r"[?&]source_type="))
    expect(hits.first).to_be_visible()
    assert hits.count() <= total
    for card in hits.all():
        expect(card.locator(".badge-kind")).to_have_text(source_label)
    shot(web, "search narrowed")

    # Open the first hit: the dataset page shows the R-ISS coverage bar.
    hits.first.locator("h3 a").click()
    expect(page).to_have_url(re.compile(r"/datasets/[a-z0-9-]+$"))
    coverage = page.locator("#standard-sets")
    expect(coverage).to_be_visible()
    riss = coverage.locator("li.coverage-item").filter(has_text="R-ISS")
    expect(riss).to_have_count(1)
    expect(riss.locator(".coverage-figure")).to_contain_text(re.compile(r"\d+/\d+"))
    riss.locator("summary").click()
    expect(riss.locator(".coverage-detail")).to_be_visible()
    shot(web, "dataset r-iss coverage")

    # Download its DCAT-AP record as Turtle and read it.
    with page.expect_download() as download_info:
        page.locator(".metadata-links").get_by_role("link", name="Turtle").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".ttl")
    graph = rdflib.Graph().parse(download.path(), format="turtle")
    identifier = page.url.rsplit("/", 1)[1]
    datasets = list(graph.subjects(rdflib.RDF.type, DCAT.Dataset))
    assert len(datasets) == 1 and str(datasets[0]).endswith(f"/datasets/{identifier}")
    assert graph.value(datasets[0], DCT.title) is not None

    # The alliance dashboard: charts with their numbers.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Dashboard").click()
    expect(page.locator("svg[role=img]").first).to_be_visible()
    shot(web, "dashboard")
