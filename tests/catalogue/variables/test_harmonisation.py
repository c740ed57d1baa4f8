"""The harmonisation matrix: terms by published datasets, each cell the dataset's variables that
carry the term (the coverage rule), as a page, a CSV download and JSON; its errors name their
fields, all at once; a selection may give its columns."""

from __future__ import annotations

import csv
import io
import re
from html import unescape
from urllib.parse import parse_qsl, urlsplit

import pytest
from sqlalchemy import event

from catalogue.variables import services
from core.errors import InvalidInput, NotFound
from tests.catalogue.variables.conftest import BLASTS, COUNTS, HB, LDH, PLATELETS

MATRIX = f"/harmonisation?terms={HB}&terms={PLATELETS}&terms={LDH}"
COLUMNS = "&datasets=aml-trial&datasets=cbf-aml,mds-registry"


def text(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()


def grid(html: str) -> list[list[str]]:
    """The matrix table as text, row by row (the head row first)."""
    table = html.split('<table class="table matrix-table">', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr>(.*?)</tr>", table, re.S)
    return [[text(c) for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", r, re.S)] for r in rows]


# --- the page -----------------------------------------------------------------------------------


def test_the_grid_has_a_row_per_term_a_column_per_dataset_and_variables_in_cells(client, world):
    response = client.get(MATRIX + COLUMNS)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    rows = grid(html)
    head = rows[0]
    assert head[0] == "Term"
    assert head[1].startswith("AML induction trial Leiden Haematology")
    assert "3 of 3 terms" in head[1]  # Hb, platelets and LDH
    assert head[2].startswith("Core binding factor AML cohort Lyon Blood Registry")
    assert head[3].startswith("MDS registry")
    hb, platelets, ldh = rows[1:]
    assert hb[0].startswith("Haemoglobin HV:0000045")
    assert hb[1].startswith("hb_dx g/dL Haemoglobin at diagnosis")
    assert hb[2].startswith("hb_w4 g/L Hb at week 4")
    # the close match and the variable that carries Hb through a value, in dictionary order
    assert hb[3] == (
        "hb_close Hb, roughly · close match anaemia Anaemia grade · 2 values · through a value"
    )
    assert platelets[2].startswith("plt 10*9/L Platelets")
    assert platelets[3] == "none"
    assert ldh[1].startswith("ldh U/L LDH") and ldh[2] == "none"
    assert '<a href="/datasets/cbf-aml/variables/hb_w4"><code>hb_w4</code></a>' in html
    assert 'title="gram per litre">g/L</code>' in html
    assert "3 terms \N{MULTIPLICATION SIGN} 3 datasets" in text(html)
    assert "3 cells are empty." in text(html)


def test_each_column_says_how_many_terms_it_covers(client, world):
    head = grid(client.get(MATRIX + COLUMNS).get_data(as_text=True))[0]
    assert "3 of 3 terms" in head[1]
    assert "2 of 3 terms" in head[2]
    assert "1 of 3 terms" in head[3]


def test_a_broader_term_collects_the_variables_of_narrower_ones(client, world):
    rows = grid(
        client.get(f"/harmonisation?terms={COUNTS}&datasets=cbf-aml").get_data(as_text=True)
    )
    assert rows[1][1].startswith("hb_w4 g/L Hb at week 4 · as a narrower term")
    assert "plt 10*9/L Platelets · as a narrower term" in rows[1][1]
    assert "1 of 1 term" in rows[0][1]


def test_a_standard_set_gives_the_rows_in_its_order_with_its_notes(app, client, world):
    from catalogue.standards import services as standards
    from core.policies import SYSTEM

    with app.app_context():
        made = standards.create_set(
            SYSTEM,
            {
                "identifier": "tiny-score",
                "name": "Tiny score",
                "version": "1",
                "terms": [{"curie": LDH, "note": "with upper limit of normal"}, {"curie": HB}],
            },
        )
        assert made.identifier == "tiny-score"
    html = client.get(f"/harmonisation?set=tiny-score&terms={BLASTS}&datasets=aml-trial").get_data(
        as_text=True
    )
    rows = grid(html)
    assert [r[0].split(" HV:")[0] for r in rows[1:]] == [
        "Lactate dehydrogenase",
        "Haemoglobin",
        "Bone marrow blasts",
    ]
    assert "with upper limit of normal" in rows[1][0]
    assert "blast/pct % Marrow blasts (%)" in rows[3][1]
    assert "3 terms \N{MULTIPLICATION SIGN} 1 dataset · Tiny score" in text(html)


def test_only_published_datasets_are_columns_and_hidden_ones_read_as_unknown(app, world):
    from tests.conftest import login

    for who in (None, world.other_custodian, world.admin):
        client = app.test_client()
        if who is not None:
            login(client, who.email)
        response = client.get(f"/harmonisation?terms={HB}&datasets=aml-trial,lyon-draft,nope")
        assert response.status_code == 422
        said = text(response.get_data(as_text=True))
        # the draft reads as "not a published dataset" even for its own custodian; no leak
        assert "No published datasets “lyon-draft”, “nope”." in said
    retired = app.test_client().get(f"/harmonisation?terms={HB}&datasets=retired-aml")
    assert "No published dataset is called “retired-aml”." in text(retired.get_data(as_text=True))


def test_every_wrong_field_is_named_at_once_beside_its_field(client, world):
    response = client.get(
        "/harmonisation?set=no-such-set&terms=HV:9999999,not%20a%20curie&datasets=x"
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "3 things to fix" in text(html) or "Some things to fix" in text(html)
    assert 'id="set-error">There is no standard variable set “no-such-set”.' in html
    assert 'id="terms-error">Unknown terms: not a curie, HV:9999999.' in html
    assert 'id="datasets-error">No published dataset is called “x”.' in html
    assert 'aria-invalid="true"' in html


def test_one_side_alone_is_a_step_not_an_error_and_datasets_are_suggested(client, world):
    response = client.get(f"/harmonisation?terms={HB}&terms={PLATELETS}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    said = text(html)
    assert "Now add the datasets to compare, for example those below." in said
    assert "Datasets that have most of these terms" in said
    suggested = re.findall(r'<li><a href="([^"]+)">Add ([^<]+)</a>', html)
    titles = [title for _href, title in suggested]
    assert titles[:2] == ["AML induction trial", "Core binding factor AML cohort"]
    assert "Unpublished AML pilot" not in titles and "Retired AML study" not in titles
    href = unescape(suggested[0][0])
    assert ("datasets", "aml-trial") in parse_qsl(urlsplit(href).query)
    other = client.get("/harmonisation?datasets=aml-trial")
    assert other.status_code == 200
    assert "Now choose the rows: a standard set, or the terms you need." in text(
        other.get_data(as_text=True)
    )


def test_an_empty_form_offers_a_start(client, world):
    said = text(client.get("/harmonisation").get_data(as_text=True))
    assert "Start with a question" in said
    assert "thing to fix" not in said


def test_adding_a_term_or_a_dataset_by_typing_works_without_javascript(client, world):
    added = client.get(f"/harmonisation?terms={HB}&term_add=HV:0000047&datasets=aml-trial")
    assert added.status_code == 302
    assert parse_qsl(urlsplit(added.location).query) == [
        ("terms", HB),
        ("terms", PLATELETS),
        ("datasets", "aml-trial"),
    ]
    one = client.get(f"/harmonisation?terms={HB}&dataset_add=core binding")
    assert one.status_code == 302
    assert ("datasets", "cbf-aml") in parse_qsl(urlsplit(one.location).query)
    several = client.get(f"/harmonisation?terms={HB}&dataset_add=AML")
    assert several.status_code == 200
    html = several.get_data(as_text=True)
    assert "2 datasets match “AML”" in text(html)
    assert "Add AML induction trial" in text(html) and "Unpublished AML pilot" not in text(html)
    none = client.get(f"/harmonisation?terms={HB}&dataset_add=lyon-draft")
    assert none.status_code == 422
    assert 'id="dataset_add-error">No published dataset has “lyon-draft” in its identifier' in (
        none.get_data(as_text=True)
    )
    unknown = client.get("/harmonisation?term_add=no such thing at all")
    assert unknown.status_code == 422
    assert 'id="term_add-error"' in unknown.get_data(as_text=True)


def test_a_long_matrix_pages_its_terms_and_a_full_cell_is_one_link_away(client, world, monkeypatch):
    from catalogue.variables import views

    monkeypatch.setattr(views, "ROWS_PER_PAGE", 2)
    monkeypatch.setattr(views, "SHOWN_PER_CELL", 1)
    first = client.get(MATRIX + COLUMNS).get_data(as_text=True)
    assert [r[0].split(" HV:")[0] for r in grid(first)[1:]] == ["Haemoglobin", "Platelet count"]
    assert "Terms 1 to 2 of 3 (the CSV and the JSON have them all)." in text(first)
    assert "3 of 3 terms" in grid(first)[0][1]  # coverage counts every term, not the page's
    more = re.search(r'<a class="cell-more" href="([^"]+)">1 more variable</a>', first)
    assert more, "mds-registry's Hb cell lists hb_close and folds anaemia"
    single = client.get(unescape(more.group(1))).get_data(as_text=True)
    assert grid(single)[1][1].startswith("hb_close") and "anaemia" in grid(single)[1][1]
    following = re.search(r'<a href="([^"]+)" rel="next">Next terms', first)
    assert following
    second = client.get(unescape(following.group(1))).get_data(as_text=True)
    assert [r[0].split(" HV:")[0] for r in grid(second)[1:]] == ["Lactate dehydrogenase"]
    assert "Terms 3 to 3 of 3" in text(second)


def test_limits_are_refused_with_a_clear_message(app, world, monkeypatch):
    monkeypatch.setattr(services, "MAX_DATASETS", 2)
    monkeypatch.setattr(services, "MAX_TERMS", 2)
    client = app.test_client()
    html = client.get(MATRIX + COLUMNS).get_data(as_text=True)
    assert "The matrix compares at most 2 datasets at a time; this asks for 3." in html
    assert "The matrix shows at most 2 terms at a time." in html


# --- CSV and JSON -------------------------------------------------------------------------------


def test_the_csv_is_the_same_grid_streamed(client, world):
    response = client.get(MATRIX.replace("/harmonisation?", "/harmonisation.csv?") + COLUMNS)
    assert response.status_code == 200
    assert response.is_streamed
    assert response.mimetype == "text/csv"
    assert 'filename="harmonisation-matrix.csv"' in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == ["term", "label", "note", "aml-trial", "cbf-aml", "mds-registry"]
    assert rows[1] == [
        HB,
        "Haemoglobin",
        "",
        "hb_dx [g/dL]",
        "hb_w4 [g/L]",
        "hb_close; anaemia",
    ]
    assert rows[2][5] == ""
    assert rows[-1] == ["", "terms covered", "", "3 of 3", "2 of 3", "1 of 3"]


def test_a_csv_the_page_would_refuse_is_a_problem(client, world):
    response = client.get(
        "/harmonisation.csv?terms=HV:0000045", headers={"Accept": "application/json"}
    )
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert response.json["errors"] == {"datasets": [services.NO_DATASETS]}


def test_the_json_api_gives_the_grid_by_dataset(client, world):
    response = client.get(
        f"/api/v1/harmonisation?terms={HB},{PLATELETS}&datasets=cbf-aml,mds-registry"
    )
    assert response.status_code == 200
    body = response.json
    assert [d["identifier"] for d in body["datasets"]] == ["cbf-aml", "mds-registry"]
    assert body["datasets"][0]["covered"] == 2 and body["datasets"][0]["coverage"] == 1.0
    hb = body["terms"][0]
    assert hb["curie"] == HB and hb["covered"] == 2
    [w4] = hb["cells"]["cbf-aml"]
    assert w4["name"] == "hb_w4" and w4["unit"] == "g/L" and w4["unit_words"] == "gram per litre"
    assert w4["url"].endswith("/datasets/cbf-aml/variables/hb_w4")
    assert w4["predicate_id"] == "skos:exactMatch" and w4["via"] is None
    anaemia = hb["cells"]["mds-registry"][1]
    assert anaemia["through_value"] == "low"
    assert anaemia["permissible_values"][0] == {"code": "low", "label": "Hb below 10 g/dL"}
    assert body["terms"][1]["cells"]["mds-registry"] == []
    assert body["csv_url"].endswith(
        f"/harmonisation.csv?terms={HB.replace(':', '%3A')}&terms={PLATELETS.replace(':', '%3A')}"
        "&datasets=cbf-aml&datasets=mds-registry"
    )


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("datasets=aml-trial", "terms"),
        (f"terms={HB}", "datasets"),
        (f"terms={HB}&datasets=aml-trial&set=", "set"),
        (f"terms={HB}&datasets=aml-trial&selection=abc", "selection"),
        ("terms=nope&datasets=aml-trial", "terms"),
    ],
)
def test_the_api_answers_bad_queries_with_a_problem_naming_the_field(client, world, query, field):
    response = client.get(f"/api/v1/harmonisation?{query}")
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert field in response.json["errors"]


def test_the_api_is_documented(client, world):
    spec = client.get("/api/v1/openapi.json").json
    operation = spec["paths"]["/api/v1/harmonisation"]["get"]
    assert {p["name"] for p in operation["parameters"]} >= {"datasets", "terms", "set", "selection"}
    assert {"200", "422"} <= set(operation["responses"])
    assert "401" not in operation["responses"]  # public


# --- a selection as the columns -----------------------------------------------------------------


def test_a_selection_gives_the_columns_and_its_chosen_variables(app, client, world, monkeypatch):
    from catalogue.datasets import services as datasets
    from core.policies import SYSTEM

    with app.app_context():
        ids = {i: datasets.get_dataset(SYSTEM, i).id for i in ("mds-registry", "lyon-draft")}
    asked = []

    def reader(actor, selection_id):
        asked.append(selection_id)
        if selection_id != "mine":
            raise NotFound("No such selection.")
        return [(ids["mds-registry"], frozenset({"anaemia"})), (ids["lyon-draft"], None)]

    monkeypatch.setattr(services, "_selection_reader", lambda: reader)
    html = client.get(f"/harmonisation?selection=mine&terms={HB}&datasets=cbf-aml").get_data(
        as_text=True
    )
    rows = grid(html)
    # the selection's published dataset first (its draft left out), then the named one
    assert rows[0][1].startswith("MDS registry") and "1 chosen variable" in rows[0][1]
    assert rows[0][2].startswith("Core binding factor AML cohort")
    assert rows[1][1].startswith("anaemia")  # hb_close was not chosen
    assert "hb_close" not in rows[1][1]
    assert "Leave the selection out" in text(html)
    refused = client.get(f"/harmonisation?selection=theirs&terms={HB}")
    assert refused.status_code == 422
    assert "You have no selection “theirs”." in text(refused.get_data(as_text=True))
    assert asked == ["mine", "theirs"]


def test_the_matrix_opens_a_real_selection_of_its_owner_only(app, world):
    """With catalogue.selection's ``selection_for_matrix``: the owner's selection gives the
    columns (and the chosen variables); anybody else, anonymous included, is told there is no
    such selection."""
    from catalogue.selection import services as selection
    from tests.conftest import login

    with app.test_request_context():
        selection.add_dataset(world.researcher, "mds-registry", ["anaemia"])
        view = selection.add_dataset(world.researcher, "cbf-aml")
    owner = app.test_client()
    login(owner, world.researcher.email)
    rows = grid(owner.get(f"/harmonisation?selection={view.id}&terms={HB}").get_data(as_text=True))
    assert [r.split(" ")[0] for r in rows[0][1:]] == ["MDS", "Core"]
    assert rows[1][1].startswith("anaemia") and "hb_close" not in rows[1][1]
    assert rows[1][2].startswith("hb_w4")
    for other in (world.admin, None):
        client = app.test_client()
        if other is not None:
            login(client, other.email)
        refused = client.get(f"/api/v1/harmonisation?selection={view.id}&terms={HB}")
        assert refused.status_code == 422
        assert refused.json["errors"] == {"selection": [f"You have no selection “{view.id}”."]}


def test_without_the_selection_service_a_selection_is_refused_by_name(client, world, monkeypatch):
    monkeypatch.setattr(services, "_selection_reader", lambda: None)
    response = client.get(f"/api/v1/harmonisation?selection=mine&terms={HB}&datasets=aml-trial")
    assert response.status_code == 422
    assert response.json["errors"]["selection"] == [
        "Selections cannot be opened in the matrix yet."
    ]


# --- cost ---------------------------------------------------------------------------------------


def test_the_grid_costs_the_same_few_statements_however_large(app, world, reference_engine):
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            statements.append(statement)

    small = services.MatrixRequest(datasets=["aml-trial"], terms=[HB])
    large = services.MatrixRequest(
        datasets=["aml-trial", "cbf-aml", "mds-registry"],
        terms=[HB, PLATELETS, LDH, COUNTS, BLASTS],
    )
    counted = []
    event.listen(reference_engine, "before_cursor_execute", count)
    try:
        with app.test_request_context():
            for request in (small, large):
                statements.clear()
                matrix = services.build_matrix(None, request)
                counted.append(len(statements))
                assert len(matrix.rows) == len(request.terms)
    finally:
        event.remove(reference_engine, "before_cursor_execute", count)
    assert counted[0] == counted[1] <= 3, counted


def test_the_service_refuses_nothing_chosen(app, world):
    with app.test_request_context(), pytest.raises(InvalidInput) as refused:
        services.build_matrix(None, services.MatrixRequest())
    assert refused.value.errors == {
        "terms": [services.NO_TERMS],
        "datasets": [services.NO_DATASETS],
    }
