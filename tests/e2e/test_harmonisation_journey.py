"""The harmonisation matrix in Chromium, on the whole demo, as a researcher builds one: from the
menu, a standard set as the rows, the datasets that have most of its terms added in one click,
the grid read (coverage per dataset, empty cells, a cell's variable), a term added with the
autocomplete and a dataset by typing words of its title, a dataset left out again, the CSV
downloaded; a dataset that does not exist is named beside its field. Every page is checked
with axe-core and for width at 1366 px."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator

import pytest
from flask import Flask
from playwright.sync_api import expect

from tests.e2e.axe import assert_accessible
from tests.e2e.conftest import LiveServer, Session, WholeDemo, page_width, serve_whole_demo

pytestmark = pytest.mark.e2e

WIDTH = 1366
SET = "ELN 2022 genetic risk (AML)"


def _warm(app: Flask) -> None:
    """Compile the page's templates before the browser waits on them."""
    assert (
        app.test_client().get("/harmonisation?set=eln-2022&datasets=aml-ic-2016").status_code == 200
    )


@pytest.fixture(scope="module")
def live_server(whole_demo: WholeDemo) -> Iterator[LiveServer]:
    """This journey's own server on a copy of the whole demo (its standard sets too)."""
    with serve_whole_demo(whole_demo, "matrix", _warm) as server:
        yield server


def fits(web: Session) -> None:
    """No layout wider than the window (a wide matrix scrolls inside its own frame)."""
    width = page_width(web.page)
    assert width <= WIDTH, f"{web.page.url} is {width} px wide"


def test_a_researcher_builds_a_matrix_from_a_standard_set(web: Session) -> None:
    page = web.page
    page.set_viewport_size({"width": WIDTH, "height": 900})
    page.goto("/")
    page.get_by_role("navigation").get_by_role("link", name="Harmonisation").click()
    expect(page.get_by_role("heading", level=1, name="Harmonisation matrix")).to_be_visible()
    expect(page.get_by_role("heading", name="Start with a question")).to_be_visible()
    fits(web)
    assert_accessible(page)
    web.shot("an empty matrix")

    # The rows: a standard set. Without datasets the page suggests those that have most terms.
    page.get_by_label("Standard set").select_option(value="eln-2022")
    expect(page.get_by_label("Standard set")).to_contain_text(SET)
    page.get_by_role("button", name="Show the matrix").click()
    expect(page.get_by_text("Now add the datasets to compare")).to_be_visible()
    suggestions = page.locator(".suggestion-list li")
    expect(suggestions.first).to_be_visible()
    suggested = suggestions.count()
    fits(web)
    assert_accessible(page)
    web.shot("the set and the datasets that have most of it")
    page.get_by_role("link", name=re.compile(rf"^Add all {suggested} datasets?$")).click()

    # The grid: a row per term of the set, a column per dataset, coverage on each column.
    matrix = page.locator("table.matrix-table")
    expect(matrix.locator("thead th.matrix-dataset")).to_have_count(suggested)
    rows = matrix.locator("tbody tr")
    terms = rows.count()
    assert terms > 10, "ELN 2022 has some thirty terms"
    times = "\N{MULTIPLICATION SIGN}"
    heading = page.get_by_role(
        "heading", name=re.compile(rf"^{terms} terms {times} {suggested} data")
    )
    expect(heading).to_be_visible()
    first_column = matrix.locator("thead th.matrix-dataset").first
    expect(first_column).to_contain_text(re.compile(rf"\d+ of {terms} terms"))
    expect(rows.first.locator("th")).to_contain_text("Karyotype")
    expect(matrix.locator("td.nil").first).to_have_text("none")
    cell = matrix.locator("td.has-variable a").first
    expect(cell).to_be_visible()
    fits(web)
    assert_accessible(page)
    page.locator("#matrix").scroll_into_view_if_needed()
    web.shot("the matrix of the set")

    # A cell leads to its variable's page.
    name = cell.inner_text()
    cell.click()
    expect(page).to_have_url(re.compile(rf"/variables/{re.escape(name)}$"))
    expect(page.locator(".variable-name")).to_have_text(name)
    page.go_back()

    # One more row: LDH, chosen from the autocomplete (the form sends itself).
    add_term = page.get_by_label("Add a term")
    add_term.fill("lactate dehydro")
    option = page.get_by_role("option", name=re.compile("Lactate dehydrogenase"))
    expect(option.first).to_be_visible()
    add_term.press("ArrowDown")
    add_term.press("Enter")
    expect(page).to_have_url(re.compile(r"terms=HV%3A0000054"))
    expect(matrix.locator("tbody tr").last.locator("th")).to_contain_text("Lactate dehydrogenase")
    expect(matrix.locator("tbody tr")).to_have_count(terms + 1)

    # One more column, by words of its title; then one left out again.
    page.get_by_label("Add a dataset").fill("DLBCL 80+")
    page.get_by_role("button", name="Show the matrix").click()
    expect(matrix.locator("thead th.matrix-dataset")).to_have_count(suggested + 1)
    expect(matrix.locator("thead th.matrix-dataset").last).to_contain_text("DLBCL 80+ 2014")
    page.locator(".dataset-chips li").first.locator("input[type=checkbox]").uncheck()
    page.get_by_role("button", name="Show the matrix").click()
    expect(matrix.locator("thead th.matrix-dataset")).to_have_count(suggested)
    fits(web)

    # The same grid as CSV.
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download as CSV").click()
    download = download_info.value
    assert download.suggested_filename == "harmonisation-eln-2022.csv"
    body = download.path().read_text(encoding="utf-8-sig")
    table = list(csv.reader(io.StringIO(body)))
    assert table[0][:3] == ["term", "label", "note"]
    assert len(table[0]) == 3 + suggested
    assert len(table) == 1 + terms + 1 + 1  # header, the set's terms, LDH, coverage
    assert table[-2][1] == "Lactate dehydrogenase"
    assert table[-1][1] == "terms covered"


def test_a_dataset_that_does_not_exist_is_named_beside_its_field(web: Session) -> None:
    page = web.page
    page.set_viewport_size({"width": WIDTH, "height": 900})
    web.log.allow_status(422)
    page.goto("/harmonisation?terms=HV:0000045")
    page.get_by_label("Add a dataset").fill("no such study")
    page.get_by_role("button", name="Show the matrix").click()
    field = page.get_by_label("Add a dataset")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#dataset_add-error")).to_have_text(
        "No published dataset has “no such study” in its identifier or title."
    )
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("One thing to fix")
    summary.get_by_role("link", name="Add a dataset").click()
    expect(field).to_be_focused()
    fits(web)
    assert_accessible(page)
    web.shot("a dataset that does not exist")

    # Several matches: the page offers them, and one is added by a link.
    field.fill("AML")
    page.get_by_role("button", name="Show the matrix").click()
    expect(page.get_by_text(re.compile(r"^\d+ datasets match “AML”"))).to_be_visible()
    page.get_by_role("link", name=re.compile(r"^Add AML-IC 2016")).click()
    expect(page.locator("table.matrix-table thead th.matrix-dataset")).to_have_count(1)
    assert_accessible(page)
