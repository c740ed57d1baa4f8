"""Browsing the ontologies in a real browser: find a term by typing part of its name (an ARIA
combobox driven by the keyboard), land on its page, and walk the hierarchy, whose deeper levels
load only when opened. And the same search without JavaScript."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.axe import assert_accessible
from tests.e2e.conftest import SCREENSHOTS, TIMEOUT_MS, LiveServer, Session
from tests.ontologies.conftest import load_bytes, tiny_ttl

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module", autouse=True)
def tiny_ontology(live_server: LiveServer) -> None:
    """The demo database holds accounts only: load the five-term TINY ontology into it once
    (loading the same file again changes nothing)."""
    report = load_bytes(live_server.app, tiny_ttl(), "tiny.ttl", prefix="TINY")
    assert report.status in {"loaded", "unchanged"}


def test_find_a_term_and_walk_the_tree(web: Session) -> None:
    page = web.page

    # The list of ontologies, reached from the main navigation.
    page.goto("/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Ontologies").click()
    expect(page).to_have_url(re.compile(r"/ontologies$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Ontologies")
    row = page.locator("table.ontology-table tbody tr", has_text="Tiny haem")
    expect(row).to_have_count(1)
    expect(row.locator("td").nth(0)).to_have_text("TINY")
    web.shot("ontologies list")

    # Type part of a word: the combobox suggests matching terms.
    search = page.get_by_role("combobox", name="Search terms in all ontologies")
    expect(search).to_have_attribute("aria-expanded", "false")
    search.press_sequentially("leuk", delay=40)
    listbox = page.get_by_role("listbox", name="Matching terms")
    expect(listbox).to_be_visible()
    expect(search).to_have_attribute("aria-expanded", "true")
    expect(search).to_have_attribute("aria-controls", re.compile(r".+-listbox$"))
    options = listbox.get_by_role("option")
    expect(options.first).to_contain_text("Acute Myeloid Leukemia")
    expect(options.first).to_contain_text("NCIT:C3171")
    expect(options.first.locator(".ac-hint")).to_have_text("word starts with")
    expect(listbox).to_contain_text("Acute Promyelocytic Leukemia")
    expect(page.get_by_role("status").filter(has_text="found")).to_have_count(1)
    web.shot("autocomplete suggests terms")

    # ArrowDown makes the first option active; Enter opens that term's page.
    search.press("ArrowDown")
    expect(options.first).to_have_attribute("aria-selected", "true")
    option_id = options.first.get_attribute("id")
    expect(search).to_have_attribute("aria-activedescendant", option_id or "")
    expect(search).to_be_focused()
    web.shot("first suggestion active")
    search.press("Enter")
    expect(page).to_have_url(re.compile(r"/terms/NCIT:C3171$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Acute Myeloid Leukemia")
    expect(page.locator(".synonyms .badge-synonym-abbreviation")).to_have_text("AML (abbreviation)")
    expect(page.get_by_role("link", name="ONCOTREE:AML")).to_have_attribute(
        "href", re.compile(r"^https://oncotree\.mskcc\.org/.*search=AML$")
    )
    expect(page.get_by_text("Not used by any dataset yet.")).to_be_visible()
    web.shot("term page")

    # The ontology's page: the root's first level comes with the page.
    page.get_by_role("navigation", name="Breadcrumbs").get_by_role("link", name="Tiny haem").click()
    expect(page).to_have_url(re.compile(r"/ontologies/TINY$"))
    tree = page.locator("ul.tree-root")
    root = tree.locator("details.tree-node").first
    root_summary = root.locator(":scope > summary")
    # the toggle stands beside the term's link (a link inside it would be a control inside a
    # control), named after the term
    root_term = tree.locator("li.tree-item").first.locator(":scope > .tree-term")
    expect(root_term.get_by_role("link")).to_have_text("Hematopoietic and Lymphoid Cell Neoplasm")
    expect(root_summary).to_have_accessible_name(
        "Narrower terms of Hematopoietic and Lymphoid Cell Neoplasm"
    )
    expect(root_summary.get_by_role("link")).to_have_count(0)
    aml_item = tree.locator('li[data-curie="NCIT:C3171"]')
    aml = aml_item.locator(":scope > details")
    expect(aml_item).to_be_visible()
    # no dataset uses this ontology: every count says so, muted
    expect(root_term.locator(".tree-datasets.is-zero")).to_have_text("0 datasets")
    web.shot("ontology page with its tree")
    assert_accessible(page)

    # Close and expand the root again with the keyboard (native <details>/<summary>).
    root_summary.focus()
    page.keyboard.press("Enter")
    expect(root).not_to_have_attribute("open", "")
    expect(aml_item).to_be_hidden()
    page.keyboard.press("Enter")
    expect(root).to_have_attribute("open", "")
    expect(aml_item).to_be_visible()

    # A deeper node fetches its children only when it opens.
    expect(aml.locator(".tree-fallback")).to_be_hidden()
    expect(tree.locator('[data-curie="NCIT:C3182"]')).to_have_count(0)
    with page.expect_response(re.compile(r"/ontologies/tree/NCIT:C3171$")) as fetched:
        aml.locator(":scope > summary").click(position={"x": 8, "y": 10})
    assert fetched.value.status == 200
    expect(aml).to_have_attribute("data-loaded", "true")
    apl = aml.locator('li[data-curie="NCIT:C3182"]')
    expect(apl).to_be_visible()
    expect(apl.get_by_role("link", name="Acute Promyelocytic Leukemia")).to_have_attribute(
        "href", "/terms/NCIT:C3182"
    )
    expect(aml.locator('li[data-curie="NCIT:C9999"]')).to_be_visible()
    expect(aml.locator(".tree-fallback")).to_have_count(0)
    expect(apl.locator(".tree-datasets")).to_have_text("0 datasets")  # tree.js builds them too

    # The polyhierarchy: the same term appears under its second parent too.
    mds = tree.locator('li[data-curie="NCIT:C3247"] > details')
    mds_summary = mds.locator(":scope > summary")
    mds_summary.focus()
    with page.expect_response(re.compile(r"/ontologies/tree/NCIT:C3247$")):
        page.keyboard.press("Space")
    expect(mds.locator('li[data-curie="NCIT:C9999"]')).to_be_visible()
    expect(tree.locator('li[data-curie="NCIT:C9999"]')).to_have_count(2)
    web.shot("tree expanded lazily")

    # Open a term from the tree: its page shows both paths from the root.
    mds.get_by_role("link", name="Therapy-Related Myeloid Neoplasm").click()
    expect(page).to_have_url(re.compile(r"/terms/NCIT:C9999$"))
    expect(page.locator("ol.term-path")).to_have_count(2)
    web.shot("term with two paths")
    assert_accessible(page)


def test_escape_closes_suggestions_and_enter_searches(web: Session) -> None:
    page = web.page
    page.goto("/ontologies")
    search = page.get_by_role("combobox", name="Search terms in all ontologies")
    search.press_sequentially("aml", delay=40)
    listbox = page.get_by_role("listbox", name="Matching terms")
    first = listbox.get_by_role("option").first
    expect(first).to_contain_text("Acute Myeloid Leukemia")
    expect(first.locator(".ac-hint")).to_have_text("abbreviation")
    expect(first.locator(".ac-synonym")).to_have_text("“AML”")
    web.shot("abbreviation match")
    search.press("Escape")
    expect(listbox).to_be_hidden()
    expect(search).to_have_attribute("aria-expanded", "false")
    expect(search).to_have_value("aml")
    # Enter with no active suggestion submits the form: the full results page.
    search.press("Enter")
    expect(page).to_have_url(re.compile(r"/ontologies/search\?q=aml$"))
    expect(page.get_by_role("heading", level=2, name="1 term matches “aml”")).to_be_visible()
    web.shot("search results page")


def test_autocomplete_can_fill_a_form_field_instead_of_navigating(web: Session) -> None:
    """Later pages (mapping a variable to a term, say) reuse the widget to pick a CURIE."""
    page = web.page
    page.goto("/ontologies")
    # Stand in for such a page: a form with a visible and a hidden field, enhanced by the widget.
    page.evaluate(
        """() => {
          const form = document.createElement("form");
          form.innerHTML = '<label for="disease">Disease</label>' +
            '<input id="disease" type="text" data-autocomplete="/api/v1/terms" ' +
            'data-ontology="TINY" data-autocomplete-target="disease-curie">' +
            '<input id="disease-curie" type="hidden" name="disease">';
          document.querySelector("main").appendChild(form);
          window.HarmonyAutocomplete.enhance(document.getElementById("disease"));
        }"""
    )
    disease = page.get_by_role("combobox", name="Disease")
    disease.press_sequentially("myelodys", delay=40)
    option = page.get_by_role("listbox").filter(visible=True).get_by_role("option").first
    expect(option).to_contain_text("Myelodysplastic Syndrome")
    disease.press("ArrowDown")
    disease.press("Enter")
    expect(page).to_have_url(re.compile(r"/ontologies$"))  # stayed on the page
    expect(disease).to_have_value("Myelodysplastic Syndrome")
    expect(page.locator("#disease-curie")).to_have_value("NCIT:C3247")
    expect(disease).to_have_attribute("aria-expanded", "false")
    web.shot("term chosen into a form field")
    disease.press_sequentially("x")  # editing the text forgets the chosen term
    expect(page.locator("#disease-curie")).to_have_value("")


@pytest.fixture
def no_script(browser: Browser, live_server: LiveServer) -> Iterator[Session]:
    from tests.e2e.conftest import BrowserLog

    context = browser.new_context(
        base_url=live_server.url,
        viewport={"width": 1280, "height": 800},
        locale="en-GB",
        java_script_enabled=False,
    )
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    log = BrowserLog()
    page.on("console", log.on_console)
    try:
        yield Session(page=page, log=log, base_url=live_server.url, name="no_script")
    finally:
        context.close()
    log.assert_clean("end of test")


def test_search_and_tree_work_without_javascript(no_script: Session) -> None:
    page = no_script.page
    page.goto("/ontologies")
    search = page.get_by_role("searchbox", name="Search terms in all ontologies")
    expect(search).not_to_have_attribute("role", "combobox")
    search.fill("leuk")
    search.press("Enter")
    expect(page).to_have_url(re.compile(r"/ontologies/search\?q=leuk$"))
    rows = page.locator("table.search-results tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("Acute Myeloid Leukemia")
    no_script.shot("search without javascript")
    page.goto("/ontologies/TINY")
    aml = page.locator('li[data-curie="NCIT:C3171"] > details')
    aml.locator(":scope > summary").click(position={"x": 8, "y": 10})
    link = aml.locator(".tree-fallback a")
    expect(link).to_be_visible()
    no_script.shot("tree without javascript")
    link.click()
    expect(page).to_have_url(re.compile(r"/terms/NCIT:C3171#children$"))
    assert SCREENSHOTS.is_dir()


def test_typing_before_the_script_arrives_keeps_every_keystroke(web: Session) -> None:
    """On a slow connection someone starts typing before autocomplete.js has run; turning the
    field into a combobox moves it into a wrapper, which blurs it: the keystrokes after that
    moment used to go nowhere (a browser journey typed "AML" and the field read "A")."""
    page = web.page
    script = re.compile(r"/static/js/autocomplete\.js$")
    page.route(script, lambda route: None)  # the page's own copy never arrives
    page.goto("/ontologies", wait_until="commit")
    search = page.get_by_label("Search terms in all ontologies")
    expect(search).to_be_visible()
    search.press_sequentially("le", delay=40)
    expect(search).not_to_have_attribute("role", "combobox")  # the script has not run yet
    # The script arrives now, in the middle of the word.
    page.evaluate(
        """() => new Promise((resolve) => {
            const script = document.createElement("script");
            script.src = document.querySelector('script[src*="autocomplete.js"]').src + "?late";
            script.onload = resolve;
            document.head.appendChild(script);
        })"""
    )
    expect(search).to_have_attribute("role", "combobox")
    expect(search).to_be_focused()
    page.keyboard.type("uk", delay=40)
    expect(search).to_have_value("leuk")
    expect(page.get_by_role("listbox", name="Matching terms")).to_be_visible()
