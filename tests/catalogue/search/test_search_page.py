"""The search page: the same search as the API, as a form that works without JavaScript."""

from __future__ import annotations

import re

from tests.catalogue.search.conftest import AML, MYELOID
from tests.conftest import login


def page(client, **params) -> str:
    response = client.get("/search", query_string=params)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response.get_data(as_text=True)


def test_the_navigation_offers_search_to_everyone(client, corpus):
    assert 'href="/search"' in client.get("/").get_data(as_text=True)


def test_results_with_highlights_badges_and_links(client, corpus):
    html = page(client, q="myeloid neoplasm")
    assert "2 datasets" in html
    assert '<a href="/datasets/aml-elderly">' in html
    assert "<mark>myeloid</mark>" in html.lower()
    assert "300 patients" in html and "DE · NL" in html and "Clinical trial" in html
    # what the query was understood as, and that it was expanded
    understood = html[html.index('id="understood"') :]
    assert "Myeloid Neoplasm" in understood and "narrower terms" in understood
    # the variables that matched, and why
    hb = page(client, q="Hb")
    assert "<code>hgb_dx</code>" in hb and "mapped to Haemoglobin" in hb


def test_facets_are_a_form_with_a_disease_tree(client, corpus):
    html = page(client, disease=MYELOID)
    assert re.search(rf'name="disease" value="{MYELOID}"\s+checked', html)
    assert re.search(rf'name="disease" value="{AML}"', html)  # below it, to narrow further
    # the tree: Myeloid Neoplasm's branch holds AML, and it opens with the page
    branch = html[html.index(f'value="{MYELOID}"') :]
    assert branch.index(f'value="{AML}"') < branch.index("</fieldset>")
    assert (
        'name="country" value="FR"' in html
        and "Lyon Blood Registry" not in html.split('id="facet-custodian"')[0]
    )
    assert "Apply filters" in html
    # a selected filter is a chip that removes it
    assert "Disease: Myeloid Neoplasm" in html


def test_pagination_keeps_the_filters(client, corpus):
    html = page(client, country="IT", per_page=2, sort="title")
    assert "Page 1 of 2" in html
    next_link = re.search(r'href="([^"]+)" rel="next"', html).group(1)
    assert "country=IT" in next_link and "page=2" in next_link and "per_page=2" in next_link


def test_the_empty_state_suggests_a_way_out(client, corpus):
    html = page(client, q="lenalidomide", country="IT")
    assert "Nothing matches" in html
    assert "Remove the filter Country: Italy" in html
    assert "Check the spelling" in html
    assert "Only very common words" in page(client, q="the of")


def test_bad_parameters_are_shown_not_a_crash(client, corpus):
    response = client.get("/search", query_string={"q": "myeloma", "country": "XX"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "This search cannot run as asked" in html and "country" in html
    assert "myeloma-maintenance" in html  # the words are still searched


def test_titles_and_text_are_escaped(app, client, make, vocabularies):
    organisation = make.organisation()
    make.dataset(
        organisation,
        publish=True,
        title='Myeloma <script>alert("t")</script>',
        description='<img src=x onerror="alert(1)"> myeloma',
        keywords=['<b onmouseover="x">myeloma</b>'],
        variables=[{"name": "myeloma_x", "label": '<svg onload="alert(2)">myeloma'}],
    )
    html = page(client, q="myeloma")
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "<svg onload" not in html and "<b onmouseover" not in html
    assert "&lt;script&gt;" in html and "<mark>Myeloma</mark>" in html
    api = client.get("/api/v1/search", query_string={"q": "myeloma"}).json["items"][0]
    assert "&lt;script&gt;" in api["title_highlighted"]
    assert "&lt;svg" in api["variables"]["items"][0]["label_highlighted"]


def test_custodians_see_their_draft_badged(client, corpus):
    login(client, corpus.custodian.email)
    html = page(client, q="ibrutinib")
    assert "/datasets/leiden-draft" in html and "badge-draft" in html
    assert "/datasets/lyon-draft" not in html


def test_reindex_command(app, client, corpus):
    result = app.test_cli_runner().invoke(args=["catalogue", "reindex"])
    assert result.exit_code == 0, result.output
    assert "Indexed 10 dataset versions" in result.output
    assert "myeloma-maintenance" in page(client, q="myeloma")
