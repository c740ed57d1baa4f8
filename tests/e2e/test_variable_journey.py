"""A variable's page in Chromium, on the whole demo, as a researcher would use it to answer a
harmonisation question in one click: from a dataset's variable table to its haemoglobin
variable (definition, unit in words, mapping in words), on to the same concept in another
dataset (in another unit), to all of them side by side in the harmonisation matrix; a coded
variable's values with the terms they are mapped to (also reached from a value's IRI); an older
version of a variable. Each page is checked with axe-core and for width at 1366 px."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from flask import Flask
from playwright.sync_api import expect

from tests.e2e.axe import assert_accessible
from tests.e2e.conftest import LiveServer, Session, WholeDemo, serve_whole_demo

pytestmark = pytest.mark.e2e

AML_TRIAL = "aml-ic-2016"  # a demo AML trial with haemoglobin (hb_dx) and the WHO diagnosis
WIDTH = 1366


def _warm(app: Flask) -> None:
    """Compile the pages' templates before the browser waits on them."""
    warm = app.test_client()
    for path in (f"/datasets/{AML_TRIAL}", f"/datasets/{AML_TRIAL}/variables/hb_dx"):
        assert warm.get(path).status_code == 200


@pytest.fixture(scope="module")
def live_server(whole_demo: WholeDemo) -> Iterator[LiveServer]:
    """This journey's own server on a copy of the whole demo."""
    with serve_whole_demo(whole_demo, "variable", _warm) as server:
        yield server


def fits(web: Session) -> None:
    """No layout wider than the window."""
    width = web.page.evaluate("document.documentElement.scrollWidth")
    assert width <= WIDTH, f"{web.page.url} is {width} px wide"


def test_a_variable_answers_a_harmonisation_question_in_one_click(web: Session) -> None:
    page = web.page
    page.set_viewport_size({"width": WIDTH, "height": 900})

    # The dataset's variable table links each name to the variable's page.
    page.goto(f"/datasets/{AML_TRIAL}?q=hb_dx#variables")
    page.locator("table.variables-table").get_by_role("link", name="hb_dx", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/datasets/{AML_TRIAL}/variables/hb_dx$"))
    expect(page.get_by_role("heading", level=1, name="Haemoglobin")).to_be_visible()
    definition = page.locator("#definition")
    expect(definition).to_contain_text("Decimal number")
    expect(definition).to_contain_text("g/dL (gram per decilitre)")
    mappings = page.locator("#mappings")
    expect(mappings.get_by_role("link", name="Haemoglobin")).to_be_visible()
    expect(mappings).to_contain_text("Exact match")
    expect(mappings).to_contain_text("Chosen by a person")
    same = page.locator("#same-concept")
    heading = same.locator("p.concept-count").first
    expect(heading).to_have_text(re.compile(r"^\d+ variables in \d+ datasets$"))
    others = same.locator("table.same-table tbody tr")
    assert others.count() >= 2, "the demo maps haemoglobin in several datasets"
    elsewhere = set(others.locator("td:nth-child(2) > a").all_inner_texts())
    fits(web)
    assert_accessible(page)
    web.shot("haemoglobin at diagnosis")

    # The same concept in another dataset, possibly in another unit: one click away.
    first = others.first
    name = first.locator("th code").inner_text()
    dataset_title = first.locator("td:nth-child(2) > a").inner_text()
    first.locator("th a").click()
    expect(page).to_have_url(re.compile(rf"/variables/{re.escape(name)}$"))
    expect(page.locator(".dataset-byline")).to_contain_text(dataset_title)
    expect(page.locator("#same-concept")).to_contain_text("hb_dx")  # and back the other way
    fits(web)
    web.shot("the same concept elsewhere")

    # All of them side by side in the harmonisation matrix.
    page.go_back()
    page.get_by_role("link", name="Compare them in the harmonisation matrix").click()
    expect(page).to_have_url(re.compile(r"/harmonisation\?"))
    matrix = page.locator("table.matrix-table")
    # this dataset's column and one for each other dataset listed
    expect(matrix.locator("thead th.matrix-dataset")).to_have_count(len(elsewhere) + 1)
    expect(matrix.locator("tbody tr")).to_have_count(1)
    own = matrix.locator(f'a[href$="/datasets/{AML_TRIAL}/variables/hb_dx"]')
    expect(own).to_be_visible()
    expect(matrix.locator("td.nil")).to_have_count(0)  # every one of them has Hb
    fits(web)
    assert_accessible(page)
    web.shot("haemoglobin in the matrix")


def test_a_coded_variable_lists_its_values_with_their_terms(web: Session) -> None:
    page = web.page
    page.set_viewport_size({"width": WIDTH, "height": 900})
    # a value's IRI (what the SSSOM export names) leads people to the values on the page
    page.goto(f"/datasets/{AML_TRIAL}/variables/who2016/values/1")
    expect(page).to_have_url(re.compile(rf"/datasets/{AML_TRIAL}/variables/who2016#values$"))
    values = page.locator("#values")
    expect(values.get_by_role("heading", name="Permissible values (9)")).to_be_visible()
    first = values.locator("tbody tr").first
    expect(first.locator("th")).to_have_text("1")
    expect(first).to_contain_text("AML with t(8;21)")
    expect(first.get_by_role("link")).to_contain_text("Acute Myeloid Leukemia with t(8;21)")
    expect(first).to_contain_text("exact match")
    expect(page.locator("#definition")).to_contain_text("Categorical (a list of values)")
    fits(web)
    assert_accessible(page)
    web.shot("a coded variable and its values")

    # Its older version, with a way to the latest.
    page.get_by_role("link", name="Version 1").click()
    expect(page).to_have_url(re.compile(r"/variables/who2016\?version=1$"))
    expect(page.get_by_role("note")).to_contain_text("as version 1")
    page.get_by_role("link", name=re.compile(r"See it in the latest version")).click()
    expect(page).to_have_url(re.compile(r"/variables/who2016$"))
    assert_accessible(page)


def test_an_unknown_variable_is_a_plain_not_found(web: Session) -> None:
    web.log.allow_status(404)
    response = web.page.goto(f"/datasets/{AML_TRIAL}/variables/no_such_variable")
    assert response is not None and response.status == 404
    expect(web.page.get_by_role("heading", level=1)).to_have_text(re.compile("not found", re.I))
