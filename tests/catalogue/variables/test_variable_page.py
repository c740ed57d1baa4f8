"""A variable's page at its IRI: who sees it, what it says about the variable, and "the same
concept in other datasets" — the published variables mapped to the same term or a narrower one
by the coverage rule, with their units and values."""

from __future__ import annotations

import re
from html import unescape

import pytest
from sqlalchemy import event

from catalogue.variables import services
from core.policies import SYSTEM
from tests.catalogue.variables.conftest import BLASTS
from tests.conftest import login


def text(html: str) -> str:
    spaced = re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()
    return re.sub(r"\( ", "(", re.sub(r" ([.,;:)])", r"\1", spaced))


def section(html: str, anchor: str) -> str:
    return html.split(f'id="{anchor}"', 1)[1].split("</section>", 1)[0]


def as_user(app, user):
    client = app.test_client()
    if user is not None:
        login(client, user.email)
    return client


def page(client, path: str, status: int = 200) -> str:
    response = client.get(path)
    assert response.status_code == status, (path, response.status_code)
    return response.get_data(as_text=True)


# --- who sees what --------------------------------------------------------------------------

CALLERS = ("anonymous", "researcher", "custodian", "other_custodian", "admin")
# (path, callers that get the page; everybody else gets 404)
VISIBILITY = [
    ("/datasets/aml-trial/variables/hb_dx", CALLERS),
    ("/datasets/aml-trial/variables/hb_dx?version=1", CALLERS),
    ("/datasets/retired-aml/variables/hb_old", CALLERS),  # a retired dataset's tombstone
    ("/datasets/aml-trial/variables/hgb_m6", ("custodian", "admin")),  # only in Leiden's draft
    ("/datasets/aml-trial/variables/hgb_m6?version=2", ("custodian", "admin")),
    ("/datasets/lyon-draft/variables/hb_pilot", ("other_custodian", "admin")),
    ("/datasets/aml-trial/variables/no_such_variable", ()),
    ("/datasets/no-such-dataset/variables/hb_dx", ()),
    ("/datasets/aml-trial/variables/hb_dx?version=7", ()),
    ("/datasets/aml-trial/variables/hb_dx?version=one", ()),
    ("/datasets/aml-trial/variables/hgb_m6?version=1", ()),  # not in version 1
]


@pytest.mark.parametrize("caller", CALLERS)
def test_published_variables_are_public_and_drafts_only_for_their_editors(app, world, caller):
    user = None if caller == "anonymous" else getattr(world, caller)
    client = as_user(app, user)
    for path, allowed in VISIBILITY:
        expected = 200 if caller in allowed else 404
        assert client.get(path).status_code == expected, (caller, path)


def test_the_address_is_the_iri_the_exports_write_also_for_a_name_with_a_slash(client, world):
    """SSSOM and CSVW percent-encode the name as a whole (``blast%2Fpct``); the server hands
    the decoded name to the page, which takes a path."""
    encoded = page(client, "/datasets/aml-trial/variables/blast%2Fpct")
    plain = page(client, "/datasets/aml-trial/variables/blast/pct")
    assert "Marrow blasts (%)" in text(encoded) and "Marrow blasts (%)" in text(plain)
    assert '<link rel="canonical" href="http://127.0.0.1:8000/datasets/aml-trial/variables/' in (
        encoded
    )
    assert "/variables/blast%2Fpct" in encoded.split('rel="canonical"')[1].split(">")[0]


def test_browsers_get_the_page_and_rdf_clients_the_variable_at_the_same_address(client, world):
    response = client.get("/datasets/aml-trial/variables/hb_dx", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert "Accept" in response.vary
    turtle = client.get("/datasets/aml-trial/variables/hb_dx", headers={"Accept": "text/turtle"})
    assert turtle.status_code == 200
    assert turtle.mimetype == "text/turtle"
    assert "Haemoglobin at diagnosis" in turtle.get_data(as_text=True)
    assert "Accept" in turtle.vary
    draft = client.get("/datasets/lyon-draft/variables/hb_pilot", headers={"Accept": "text/turtle"})
    assert draft.status_code == 404


# --- what the page says ---------------------------------------------------------------------


def test_the_definition_type_unit_in_words_range_and_missing_codes(client, world):
    html = page(client, "/datasets/aml-trial/variables/hb_dx")
    said = text(section(html, "definition"))
    assert "Haemoglobin in peripheral blood on the day of diagnosis." in said
    assert "Name hb_dx Label Haemoglobin at diagnosis Type Decimal number" in said
    assert "Unit g/dL (gram per decilitre)" in said
    assert "Range 2 to 25" in said
    assert "Form laboratory Time point diagnosis" in said
    assert "Missing codes -9, -8" in said
    head = text(html.split("<header", 2)[2].split("</header>")[0])
    assert "Variable hb_dx Haemoglobin at diagnosis Published in AML induction trial" in head
    assert "Leiden Haematology (Netherlands) · version 1" in text(html)
    assert "No list of values: any decimal number within the range above." in text(
        section(html, "values")
    )


def test_values_are_listed_with_their_labels_and_the_terms_they_are_mapped_to(client, world):
    said = text(section(page(client, "/datasets/aml-trial/variables/dx"), "values"))
    assert "Permissible values (3)" in said
    assert "1 AML Acute Myeloid Leukemia exact match" in said
    assert re.search(r"2 Core binding factor AML .+ close match", said)
    assert "3 Other —" in said


def test_mappings_say_the_match_and_how_it_was_made_in_words(app, client, world):
    public = text(section(page(client, "/datasets/aml-trial/variables/hb_dx"), "mappings"))
    assert "Haemoglobin HV:0000045 Exact match The variable is the term" in public
    assert "Matched by the words of its name (lexical matching) 0.93" in public
    assert "2024-03-01" in public
    # people's names are for the dataset's editors; everybody else sees the organisation
    assert "Leiden Haematology" in public and "Ada Lovelace" not in public
    editor = as_user(app, world.custodian)
    mine = text(section(page(editor, "/datasets/aml-trial/variables/hb_dx?version=1"), "mappings"))
    assert "Dr Ada Lovelace" in mine


def test_an_unmapped_variable_says_so_and_lists_no_other_datasets(client, world):
    html = page(client, "/datasets/mds-registry/variables/hb_suggested")
    assert "Not mapped to a standard term yet." in text(section(html, "mappings"))
    assert "This variable is not mapped to a standard term, so the catalogue cannot tell" in text(
        section(html, "same-concept")
    )


# --- the same concept in other datasets -----------------------------------------------------


def test_the_same_concept_lists_published_variables_by_the_coverage_rule(client, world):
    said = text(section(page(client, "/datasets/aml-trial/variables/hb_dx"), "same-concept"))
    assert "Haemoglobin HV:0000045 · this variable is an exact match" in said
    assert "3 variables in 2 datasets" in said
    # another dataset's Hb in another unit: the harmonisation question, answered here
    assert "hb_w4 Hb at week 4 Core binding factor AML cohort Lyon Blood Registry" in said
    assert "g/L (gram per litre)" in said
    assert "hb_close Hb, roughly MDS registry" in said and "Close match" in said
    assert "anaemia Anaemia grade MDS registry" in said
    assert "through its value low" in said
    assert "2 values" in said  # anaemia's value set, folded
    # not: itself, a broader mapping, narrowMatch, a suggestion, a draft, a retired dataset, or
    # the open draft's own new variable
    for hidden in ("counts", "hb_narrow", "hb_suggested", "hb_pilot", "hb_old", "hgb_m6"):
        assert f" {hidden} " not in f" {said} ", hidden
    assert "hb_dx" not in said


def test_a_broader_term_lists_the_variables_of_narrower_terms(client, world):
    said = text(section(page(client, "/datasets/mds-registry/variables/counts"), "same-concept"))
    assert "Peripheral blood counts HV:0000010" in said
    for name in ("hb_dx", "plt_dx", "hb_w4", "plt", "hb_close", "anaemia"):
        assert f" {name} " in f" {said} ", name
    assert "as Haemoglobin (narrower)" in said and "as Platelet count (narrower)" in said
    assert "this dataset" in said  # hb_close and anaemia are counts' neighbours


def test_a_term_nobody_else_uses_has_a_clear_empty_state(client, world):
    said = text(section(page(client, "/datasets/aml-trial/variables/ldh"), "same-concept"))
    assert "No other published dataset has a variable for this term yet." in said


def test_the_list_stops_at_its_limit_and_counts_the_rest(client, world, monkeypatch):
    monkeypatch.setattr(services, "SAME_CONCEPT_LISTED", 1)
    said = text(section(page(client, "/datasets/aml-trial/variables/hb_dx"), "same-concept"))
    assert (
        "3 variables (1 variable listed here; find the datasets of all of them in the search)"
        in said
    )
    html = section(page(client, "/datasets/aml-trial/variables/hb_dx"), "same-concept")
    assert 'href="/search?term=HV:0000045"' in html


def test_compare_them_leads_to_the_matrix_of_these_datasets(client, world):
    html = section(page(client, "/datasets/aml-trial/variables/hb_dx"), "same-concept")
    link = re.search(r'href="(/harmonisation\?[^"]+)">Compare them', html)
    assert link
    url = unescape(link.group(1))
    assert "terms=HV:0000045" in url
    assert url.index("datasets=aml-trial") < url.index("datasets=cbf-aml")
    assert "datasets=mds-registry" in url
    assert page(client, url).count('class="matrix-cell') == 3


def test_a_fixed_number_of_statements_however_many_variables_are_listed(
    app, world, reference_engine, monkeypatch
):
    """No statement per listed variable: listing one or all of a variable's others costs the
    same, from a cold session."""
    from core.db import get_session

    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    cases = [("mds-registry", "counts", 1, 1), ("mds-registry", "counts", 50, 6)]
    cases += [("aml-trial", "hb_dx", 1, 1), ("aml-trial", "hb_dx", 50, 3)]
    counted = {}
    event.listen(reference_engine, "before_cursor_execute", count)
    try:
        with app.test_request_context():
            for identifier, name, limit, listed in cases:
                monkeypatch.setattr(services, "SAME_CONCEPT_LISTED", limit)
                get_session().expunge_all()
                statements.clear()
                shown = services.variable_page(None, identifier, name)
                counted[(name, limit)] = len(statements)
                assert sum(len(c.others) for c in shown.concepts) == listed
    finally:
        event.remove(reference_engine, "before_cursor_execute", count)
    assert counted[("counts", 1)] == counted[("counts", 50)], counted
    assert counted[("hb_dx", 1)] == counted[("hb_dx", 50)], counted
    assert max(counted.values()) <= 14, counted


# --- versions and drafts --------------------------------------------------------------------


def test_an_older_version_shows_the_variable_as_it_was_and_links_the_latest(client, world):
    old = page(client, "/datasets/cbf-aml/variables/hb_w4?version=1")
    assert "<h1>Hb at week 4 (v1)</h1>" in old
    said = text(old)
    assert "You are looking at this variable as version 1" in said
    assert "See it in the latest version (2)" in said
    assert (
        '<link rel="canonical" href="http://127.0.0.1:8000/datasets/cbf-aml/variables/hb_w4?version=1">'
        in old
    )
    latest = page(client, "/datasets/cbf-aml/variables/hb_w4")
    assert "<h1>Hb at week 4</h1>" in latest
    versions = text(section(latest, "versions-h"))
    assert "Version 1 published" in versions and "Version 2 published" in versions


def test_editors_see_the_draft_and_a_variable_the_draft_dropped(app, world):
    editor = as_user(app, world.custodian)
    draft = text(page(editor, "/datasets/aml-trial/variables/hgb_m6"))
    assert (
        "Draft. Only your organisation's custodians and the administrators see this variable"
        in (draft)
    )
    dropped = text(page(editor, "/datasets/aml-trial/variables/sex"))
    assert "The open draft (version 2) no longer has this variable: this is version 1" in dropped
    # everybody else sees the published version, with no word of the draft
    public = text(page(app.test_client(), "/datasets/aml-trial/variables/sex"))
    assert "draft" not in public.lower()


def test_the_service_hides_what_the_caller_may_not_see(app, world):
    from core.errors import NotFound

    with app.test_request_context():
        assert services.variable_page(SYSTEM, "lyon-draft", "hb_pilot").is_draft
        with pytest.raises(NotFound):
            services.variable_page(None, "lyon-draft", "hb_pilot")
        with pytest.raises(NotFound):
            services.variable_page(world.researcher, "aml-trial", "hgb_m6")


def test_the_dataset_page_links_each_variable_name_to_its_page(client, world):
    html = page(client, "/datasets/aml-trial?q=hb_dx")
    assert '<a href="/datasets/aml-trial/variables/hb_dx"><code>hb_dx</code></a>' in html
    older = page(client, "/datasets/cbf-aml/versions/1?q=hb")
    assert '<a href="/datasets/cbf-aml/variables/hb_w4?version=1"><code>hb_w4</code></a>' in older


def test_the_blasts_term_page_is_reachable_from_the_mapping(client, world):
    html = section(page(client, "/datasets/aml-trial/variables/blast/pct"), "mappings")
    assert f'href="/terms/{BLASTS}"' in html


@pytest.mark.parametrize(
    ("identifier", "name"),
    [("aml-trial", "hb_dx"), ("aml-trial", "blast/pct"), ("x y", "a b?c#d%e"), ("é", "ü:@+")],
)
def test_variable_links_are_what_the_route_builds(app, identifier, name):
    """The pages write variable links out (a matrix has thousands); they must be what
    ``url_for`` gives for the route, odd characters included."""
    from flask import url_for

    from catalogue.variables.views import variable_url

    with app.test_request_context():
        assert variable_url(identifier, name) == url_for(
            "variables.variable", identifier=identifier, name=name
        )
        assert variable_url(identifier, name, 2) == url_for(
            "variables.variable", identifier=identifier, name=name, version=2
        )
