"""Where a term is used, in a real browser, on the whole demo: from a dataset's variable table
to the Haemoglobin term page, which lists the variables mapped to it in every dataset; on to
one of them (its own page); from a disease's page to the search filtered by that disease, which
finds as many datasets as the page counted; and the ontology tree, whose nodes say how many
datasets use them or a narrower term, as many as the term page lists. Axe checks the term page
and the tree."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from tests.e2e.axe import assert_accessible
from tests.e2e.conftest import LiveServer, Session, WholeDemo, fits, serve_whole_demo

pytestmark = pytest.mark.e2e

AML_TRIAL = "aml-ic-2016"  # a demo dataset about AML with a haemoglobin variable
WIDE = {"width": 1366, "height": 900}


@pytest.fixture(scope="module")
def live_server(whole_demo: WholeDemo) -> Iterator[LiveServer]:
    """This journey's own server on a copy of the whole demo."""
    with serve_whole_demo(whole_demo, "usage") as server:
        yield server


def test_a_term_page_leads_to_the_variables_and_datasets_that_use_it(web: Session) -> None:
    page = web.page
    page.set_viewport_size(WIDE)

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

    # Haemoglobin has nothing below it: no split into "itself" and "narrower terms".
    expect(used.locator(".usage-split")).to_have_count(0)
    assert fits(page)
    assert_accessible(page)

    # One of them, by its name: the variable's own page.
    first = variables.first
    name = first.locator("code").inner_text()
    first.get_by_role("link", name=re.compile(rf"^{re.escape(name)} ")).click()
    expect(page).to_have_url(re.compile(rf"/datasets/[a-z0-9-]+/variables/{re.escape(name)}$"))
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(page.locator("main")).to_contain_text("Haemoglobin")
    web.shot("the variable's page")

    # A group of variables: how many are mapped to it itself and how many only below it.
    page.goto("/terms/HV:0000010")  # peripheral blood counts
    heading = page.get_by_role("heading", name=re.compile(r"^Variables mapped to it \(\d+\)$"))
    total = int(re.findall(r"\d+", heading.inner_text())[0])
    split = page.locator("#used-variables-split")
    expect(split).to_be_visible()
    itself = split.locator("dt", has_text="Mapped to this term itself").locator("+ dd")
    below = split.locator("dt", has_text="Mapped only to narrower terms").locator("+ dd")
    counts = [
        int(re.findall(r"[\d,]+", x.inner_text())[0].replace(",", "")) for x in (itself, below)
    ]
    assert sum(counts) == total and counts[1] > 0
    # its narrower terms each say how many datasets use them; none is muted
    children = page.locator("ul.term-children > li")
    hb = children.filter(has=page.get_by_role("link", name="Haemoglobin", exact=True))
    expect(hb.locator(".tree-datasets")).to_have_text(re.compile(r"^\d+ datasets?$"))
    expect(children.locator(".tree-datasets.is-zero").first).to_have_text("0 datasets")
    assert fits(page)
    web.shot("blood counts split by term")
    assert_accessible(page)

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


def test_the_tree_counts_the_datasets_using_each_node(web: Session) -> None:
    page = web.page
    page.set_viewport_size(WIDE)

    # What AML's page lists: the datasets tagged with it and those with variables mapped to it.
    page.goto("/terms/NCIT:C3171")
    used = page.locator("section[aria-labelledby=used-h]")
    listed = set(used.locator("#used-datasets > li > a").all_inner_texts()) | set(
        used.locator("#used-variables > li > a").all_inner_texts()
    )
    assert listed, "the demo has datasets about AML"

    # The disease tree, anonymous: published datasets, the top level with the page.
    page.goto("/ontologies/HAEM")
    expect(page.locator("#tree-hint")).to_contain_text(
        "how many published datasets use it or a narrower term"
    )
    tree = page.locator("ul.tree-root")
    myeloid = tree.locator('li[data-curie="NCIT:C9290"]')
    expect(myeloid.locator(":scope > .tree-term .tree-datasets")).to_have_text(
        re.compile(r"^\d+ datasets?$")
    )
    # open Myeloid Neoplasm with the keyboard: its children load with their counts
    toggle = myeloid.locator(":scope > details > summary")
    expect(toggle).to_have_accessible_name("Narrower terms of Myeloid Neoplasm")
    toggle.focus()
    page.keyboard.press("Enter")
    aml = myeloid.locator('li[data-curie="NCIT:C3171"]')
    count = aml.locator(":scope > .tree-term .tree-datasets")
    expect(count).to_have_text(f"{len(listed)} dataset{'s' if len(listed) != 1 else ''}")
    expect(count).to_have_attribute("title", re.compile(r"this term or a narrower one$"))
    muted = myeloid.locator(".tree-datasets.is-zero")
    expect(muted.first).to_have_text("0 datasets")
    aml.locator(":scope > details > summary").click()
    expect(aml.locator("ul.tree > li").first).to_be_visible()
    expect(aml.locator("ul.tree .tree-datasets").first).to_have_text(re.compile(r"^\d+ datasets?$"))
    assert fits(page)
    web.shot("the tree with dataset counts")
    assert_accessible(page)

    # The count leads to the term: its page lists as many.
    aml.locator(":scope > .tree-term").get_by_role("link", name="Acute Myeloid Leukemia").click()
    expect(page).to_have_url(re.compile(r"/terms/NCIT:C3171$"))
    expect(page.locator("#used-datasets-split")).to_be_visible()
    web.shot("aml split by term")
