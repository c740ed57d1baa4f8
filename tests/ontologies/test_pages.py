"""The ontology browser as a person sees it, without JavaScript: the list of ontologies, an
ontology's tree, a term's page, term search; and the tree data that tree.js fetches."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import quote

import pytest

from core.models import Role
from ontologies import browse
from tests.conftest import login
from tests.ontologies.conftest import load_bytes, tiny_ttl


def page(client, path: str, status: int = 200) -> str:
    response = client.get(path)
    assert response.status_code == status, path
    assert response.mimetype == "text/html"
    return response.get_data(as_text=True)


def main(html: str) -> str:
    return html.split('<main id="content"')[1].split("</main>")[0]


def text(html: str) -> str:
    """What the page says, tags removed and spaces collapsed."""
    spaced = re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()
    return re.sub(r" ([.,;)])", r"\1", re.sub(r"\( ", "(", spaced))


def nav_links(html: str) -> set[str]:
    nav = html.split('<nav class="main-nav"')[1].split("</nav>")[0]
    return set(re.findall(r">([^<>]+)</a>", nav))


def section(html: str, heading_id: str) -> str:
    """The <section> labelled by the heading with this id."""
    match = re.search(rf'<section[^>]*aria-labelledby="{heading_id}".*?</section>', html, re.S)
    assert match, f"no section {heading_id}"
    return match.group(0)


# --- the list of ontologies ------------------------------------------------------------------


def test_empty_state_says_how_ontologies_get_loaded(client):
    html = main(page(client, "/ontologies"))
    assert "No ontologies loaded yet" in html
    assert "harmony ontologies load FILE" in html
    assert "<table" not in html


def test_everyone_finds_ontologies_in_the_navigation(app, make):
    assert "Ontologies" in nav_links(page(app.test_client(), "/"))
    researcher = app.test_client()
    login(researcher, make.user(Role.RESEARCHER).email)
    assert "Ontologies" in nav_links(page(researcher, "/"))


def test_list_shows_each_loaded_ontology(client, tiny):
    html = main(page(client, "/ontologies"))
    assert "No ontologies loaded yet" not in html
    row = re.search(r"<tr>\s*<th scope=\"row\">.*?</tr>", html, re.S)
    assert row
    cells = [text(c) for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row.group(0), re.S)]
    assert cells[:5] == [
        "Tiny haem",
        "TINY",
        "1",
        "CC BY 4.0",
        "5",
    ]
    assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", cells[5])
    assert 'href="/ontologies/TINY"' in row.group(0)
    assert 'href="https://creativecommons.org/licenses/by/4.0/"' in row.group(0)


def test_list_has_a_search_box_that_works_without_javascript(client, tiny):
    html = page(client, "/ontologies")
    form = re.search(r'<form class="term-search"[^>]*>.*?</form>', html, re.S)
    assert form
    assert 'method="get"' in form.group(0) and 'action="/ontologies/search"' in form.group(0)
    assert 'name="q"' in form.group(0)
    assert 'data-autocomplete="/api/v1/terms"' in form.group(0)
    assert '<label for="term-q">' in form.group(0)
    assert "/static/js/autocomplete.js" in html.split("</head>")[0]


# --- an ontology and its tree ----------------------------------------------------------------


def test_ontology_page_shows_metadata_and_the_tree_roots(client, tiny):
    html = main(page(client, "/ontologies/TINY"))
    assert "<h1>Tiny haem" in html
    about = text(section(html, "about-h"))
    assert "Version 1" in about
    assert "Licence CC BY 4.0" in about
    assert '<a href="https://creativecommons.org/licenses/by/4.0/" rel="noopener license">' in html
    assert "Terms 5" in about
    tree = section(html, "tree-h")
    top = re.findall(
        r'<ul class="tree tree-root".*?>\s*<li class="tree-item" data-curie="([^"]+)"', tree
    )
    assert top == ["NCIT:C27134"]
    # The only root is open, with its first level rendered on the server (no JS needed) …
    root = re.search(r'<details class="tree-node"[^>]*data-loaded="true"[^>]*open>', tree)
    assert root and "/ontologies/tree/NCIT:C27134" in root.group(0)
    assert '<a href="/terms/NCIT:C27134">Hematopoietic and Lymphoid Cell Neoplasm</a>' in tree
    assert '<a href="/terms/NCIT:C3171">Acute Myeloid Leukemia</a>' in tree
    assert '<a href="/terms/NCIT:C3247">Myelodysplastic Syndrome</a>' in tree
    # … and the nodes below it, loaded lazily, still lead to the term page without JS.
    assert 'data-children-url="/ontologies/tree/NCIT:C3171"' in tree
    assert 'href="/terms/NCIT:C3171#children">See the 2 narrower terms' in tree
    assert "Acute Promyelocytic Leukemia" not in tree
    assert "/static/js/tree.js" in page(client, "/ontologies/TINY").split("</head>")[0]


def test_unknown_ontology_is_404(client, tiny):
    assert "No ontology with prefix" in page(client, "/ontologies/NOPE", 404)


def test_tree_json_gives_children_with_their_child_counts(client, tiny):
    response = client.get("/ontologies/tree/NCIT:C27134")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert [(c["curie"], c["label"], c["obsolete"], c["children"]) for c in response.json] == [
        ("NCIT:C3171", "Acute Myeloid Leukemia", False, 2),
        ("NCIT:C3247", "Myelodysplastic Syndrome", False, 1),
    ]
    assert response.json[0]["url"] == "/terms/NCIT:C3171"
    assert response.json[0]["children_url"] == "/ontologies/tree/NCIT:C3171"
    leaves = client.get("/ontologies/tree/ncit:C3171").json
    assert [(c["curie"], c["children"]) for c in leaves] == [("NCIT:C3182", 0), ("NCIT:C9999", 0)]
    assert client.get("/ontologies/tree/NCIT:C9999").json == []
    assert client.get("/ontologies/tree/NCIT:C0000000").status_code == 404


def test_tree_shows_obsolete_terms_greyed_with_a_badge(app, client, tiny):
    extra = (
        'obo:NCIT_C1111 a owl:Class ; rdfs:label "Old Leukemia Grouping"@en ; '
        "rdfs:subClassOf obo:NCIT_C3171 ; owl:deprecated true ; "
        "obo:IAO_0100001 obo:NCIT_C3182 ."
    )
    load_bytes(app, tiny_ttl(version="2", extra=extra), "tiny.ttl", prefix="TINY")
    children = client.get("/ontologies/tree/NCIT:C3171").json
    assert ("NCIT:C1111", True) in [(c["curie"], c["obsolete"]) for c in children]
    html = main(page(client, "/terms/NCIT:C3171"))
    old = re.search(r'<li class="is-obsolete">.*?</li>', section(html, "place-h"), re.S)
    assert old and "Old Leukemia Grouping" in old.group(0)
    assert '<span class="badge badge-obsolete">obsolete</span>' in old.group(0)
    term = main(page(client, "/terms/NCIT:C1111"))
    assert '<h1 class="is-obsolete">Old Leukemia Grouping' in term
    notice = text(
        re.search(r'<div class="alert[^"]*obsolete-notice".*?</div>', term, re.S).group(0)
    )
    assert "This term is obsolete." in notice
    assert "Use Acute Promyelocytic Leukemia (NCIT:C3182) instead." in notice
    assert 'href="/terms/NCIT:C3182"' in term.split("obsolete-notice")[1]


# --- a term's page ---------------------------------------------------------------------------


def test_term_page_shows_what_the_term_is(client, tiny):
    html = main(page(client, "/terms/NCIT:C3171"))
    assert "<h1>Acute Myeloid Leukemia</h1>" in html
    about = section(html, "about-h")
    facts = text(re.search(r'<dl class="facts">.*?</dl>', about, re.S).group(0))
    assert "CURIE NCIT:C3171" in facts
    assert "IRI http://purl.obolibrary.org/obo/NCIT_C3171" in facts
    assert "Ontology Tiny haem (TINY, version 1)" in facts
    assert 'href="http://purl.obolibrary.org/obo/NCIT_C3171"' in about
    assert 'href="/ontologies/TINY"' in about
    assert "Value type" not in facts and "Unit" not in facts  # only when set
    assert "obsolete-notice" not in html


def test_term_page_shows_synonyms_coloured_by_type(client, tiny):
    about = section(main(page(client, "/terms/NCIT:C3171")), "about-h")
    synonyms = re.search(r'<ul class="synonyms".*?</ul>', about, re.S).group(0)
    badges = re.findall(
        r'<span class="badge badge-synonym badge-synonym-(\w+)"[^>]*>([^<]+)', synonyms
    )
    assert badges == [("exact", "Acute Myeloid Leukaemia"), ("abbreviation", "AML")]


def test_term_page_links_cross_references_it_can(client, tiny):
    about = section(main(page(client, "/terms/NCIT:C3171")), "about-h")
    xrefs = re.search(r'<ul class="xrefs".*?</ul>', about, re.S).group(0)
    assert (
        '<a href="https://oncotree.mskcc.org/?version=oncotree_latest_stable&amp;field=CODE&amp;'
        'search=AML" rel="noopener">ONCOTREE:AML</a>'
    ) in xrefs


@pytest.mark.parametrize(
    ("xref", "url"),
    [
        (
            "NCIT:C3171",
            "https://ncit.nci.nih.gov/ncitbrowser/ConceptReport.jsp?dictionary=NCI_Thesaurus&code=C3171",
        ),
        ("LOINC:718-7", "https://loinc.org/718-7/"),
        (
            "ONCOTREE:AML",
            "https://oncotree.mskcc.org/?version=oncotree_latest_stable&field=CODE&search=AML",
        ),
        ("UMLS:C0023467", None),
        ("no prefix", None),
    ],
)
def test_cross_reference_urls(xref, url):
    assert browse.xref_url(xref) == url


def test_term_page_shows_every_path_from_a_root(client, tiny):
    html = main(page(client, "/terms/NCIT:C9999"))
    place = section(html, "place-h")
    paths = [
        [text(li) for li in re.findall(r"<li>(.*?)</li>", ol, re.S)]
        for ol in re.findall(r'<ol class="term-path">(.*?)</ol>', place, re.S)
    ]
    assert paths == [
        [
            "Hematopoietic and Lymphoid Cell Neoplasm",
            "Acute Myeloid Leukemia",
            "Therapy-Related Myeloid Neoplasm",
        ],
        [
            "Hematopoietic and Lymphoid Cell Neoplasm",
            "Myelodysplastic Syndrome",
            "Therapy-Related Myeloid Neoplasm",
        ],
    ]
    assert "2 paths lead from the top of TINY" in text(place)
    assert 'href="/terms/NCIT:C3247"' in place and 'href="/terms/NCIT:C3171"' in place
    assert "None: nothing is below this term." in text(place)


def test_term_page_lists_its_children_and_a_root_says_so(client, tiny):
    place = section(main(page(client, "/terms/NCIT:C27134")), "place-h")
    assert "This is a top-level term of Tiny haem." in text(place)
    children = re.search(r'<ul class="plain-list term-children">.*?</ul>', place, re.S).group(0)
    assert re.findall(r'<a href="(/terms/[^"]+)">([^<]+)</a>', children) == [
        ("/terms/NCIT:C3171", "Acute Myeloid Leukemia"),
        ("/terms/NCIT:C3247", "Myelodysplastic Syndrome"),
    ]


def test_where_used_is_empty_until_an_area_provides_usages(client, tiny, monkeypatch):
    used = section(main(page(client, "/terms/NCIT:C3171")), "used-h")
    assert "Not used by any dataset yet." in used

    def provider(actor, curie, limit):
        if curie != "NCIT:C3171":
            return [browse.Usage("datasets", "Datasets about this disease", 0)]
        listed = [browse.UsageItem("AML trial 2019", "/datasets/aml-2019", detail="Leiden")]
        return [
            browse.Usage(
                "datasets",
                "Datasets about this disease",
                total=23,
                items=listed[:limit],
                more=22,
                more_url="/search?disease=NCIT:C3171",
                noun=("dataset", "datasets"),
            )
        ]

    monkeypatch.setattr(browse, "USAGE_PROVIDERS", [provider])
    used = section(main(page(client, "/terms/NCIT:C3171")), "used-h")
    assert "Datasets about this disease (23)" in text(used)
    assert '<a href="/datasets/aml-2019">AML trial 2019</a>' in used
    assert '<a href="/search?disease=NCIT:C3171">and 22 more datasets</a>' in used
    assert "Not used by any dataset yet." not in used
    # a section that found nothing is not shown: the page says nothing uses the term
    used = section(main(page(client, "/terms/NCIT:C3247")), "used-h")
    assert "Datasets about this disease" not in used
    assert "Not used by any dataset yet." in used
    # the term's JSON carries the counts, each section's total whatever the page lists
    assert client.get("/api/v1/terms/NCIT:C3171").json["used_by"] == {"datasets": 23}
    assert client.get("/api/v1/terms/NCIT:C3247").json["used_by"] == {"datasets": 0}


@pytest.mark.parametrize(
    "identifier",
    [
        "NCIT:C3171",
        "ncit:C3171",
        "http://purl.obolibrary.org/obo/NCIT_C3171",
        quote("http://purl.obolibrary.org/obo/NCIT_C3171", safe=""),
    ],
)
def test_term_page_accepts_curie_or_iri(client, tiny, identifier):
    response = client.get(f"/terms/{identifier}", follow_redirects=True)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<h1>Acute Myeloid Leukemia</h1>" in html
    assert '<link rel="canonical" href="http://localhost/terms/NCIT:C3171">' in html


@pytest.mark.parametrize("identifier", ["NCIT:C0000000", "not-a-curie", "http://example.org/x"])
def test_unknown_term_answers_the_404_page(client, tiny, identifier):
    html = page(client, f"/terms/{identifier}", 404)
    assert '<p class="error-code">404</p>' in html


# --- search without JavaScript ---------------------------------------------------------------


def result_rows(html: str) -> list[list[str]]:
    table = re.search(r'<table class="table search-results">.*?</table>', html, re.S)
    assert table, "no results table"
    return [
        [text(c) for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", table.group(0).split("<tbody>")[1], re.S)
    ]


def test_search_page_lists_matches_with_how_they_matched(client, tiny):
    html = main(page(client, "/ontologies/search?q=leuk"))
    assert "2 terms match “leuk”" in html
    assert result_rows(html) == [
        ["Acute Myeloid Leukemia", "NCIT:C3171", "TINY", "word starts with"],
        ["Acute Promyelocytic Leukemia", "NCIT:C3182", "TINY", "word starts with"],
    ]
    assert 'href="/terms/NCIT:C3171"' in html and 'href="/ontologies/TINY"' in html
    assert 'value="leuk"' in html  # the box keeps what was typed


def test_search_page_names_the_synonym_or_abbreviation_that_matched(client, tiny):
    rows = result_rows(main(page(client, "/ontologies/search?q=aml")))
    assert rows[0] == ["Acute Myeloid Leukemia", "NCIT:C3171", "TINY", "abbreviation “AML”"]
    rows = result_rows(main(page(client, "/ontologies/search?q=acute+myeloid+leukaemia")))
    assert rows[0][3] == "exact synonym “Acute Myeloid Leukaemia”"
    rows = result_rows(main(page(client, "/ontologies/search?q=NCIT:C3247")))
    assert rows == [["Myelodysplastic Syndrome", "NCIT:C3247", "TINY", "identifier"]]


def test_search_page_filters_by_ontology_and_says_when_nothing_matches(client, tiny):
    assert "1 term matches “aml”" in main(page(client, "/ontologies/search?q=aml"))
    html = main(page(client, "/ontologies/search?q=leuk&ontology=tiny"))
    assert len(result_rows(html)) == 2
    assert '<option value="TINY" selected>' in html
    html = main(page(client, "/ontologies/search?q=leuk&ontology=DUO"))
    assert "No term matches “leuk”" in html and "search all ontologies" in html
    html = main(page(client, "/ontologies/search?q=zzzzqqq"))
    assert "No term matches “zzzzqqq”" in html and "<table" not in html


def test_search_page_without_a_query_shows_just_the_form(client, tiny):
    html = main(page(client, "/ontologies/search"))
    assert 'action="/ontologies/search"' in html and "match" not in text(html).lower()


def test_pages_keep_to_the_content_security_policy(client, tiny):
    for path in ("/ontologies", "/ontologies/TINY", "/terms/NCIT:C3171", "/ontologies/search?q=a"):
        html = page(client, path)
        assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html) is None, path  # no inline script
        assert "<style" not in html and " style=" not in html, path
        assert re.search(r"\son[a-z]+=", html) is None, path  # no inline event handlers


@pytest.mark.parametrize("role", [None, Role.RESEARCHER, Role.ADMIN])
def test_an_admin_reads_the_ontology_s_loads_from_the_audit_trail(app, make, client, tiny, role):
    """Each load of an ontology is an audit event; its page lists them for administrators
    only (with the version and counts in the summary)."""
    reader = client
    if role is not None:
        reader = app.test_client()
        assert login(reader, make.user(role).email).status_code == 302
    html = main(page(reader, "/ontologies/TINY"))
    if role is not Role.ADMIN:
        assert 'id="history-h"' not in html and "ontology.loaded" not in html
        return
    history = section(html, "history-h")
    assert "<code>ontology.loaded</code>" in history
    assert "TINY" in text(history) and "terms added" in text(history)
