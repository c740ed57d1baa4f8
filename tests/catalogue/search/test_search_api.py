"""``GET /api/v1/search`` over a fixed corpus: the same hits, order and counts on SQLite and
PostgreSQL (this module runs on both)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import and_, or_, text, update

from catalogue.search import facets, services
from core.db import get_session
from core.models import Organisation
from tests.catalogue.search.conftest import (
    AML,
    CLL,
    COUNTS,
    HB,
    MDS,
    MYELOID,
    MYELOMA,
    PLATELETS,
    Corpus,
    build_corpus,
)
from tests.conftest import shared_world

PUBLIC = {
    "aml-elderly",
    "mds-registry",
    "myeloma-maintenance",
    "cll-cohort",
    "rank-title",
    "rank-keywords",
    "rank-description",
    "rank-variables",
}


@pytest.fixture(scope="module")
def corpus(app, reference_engine) -> Iterator[Corpus]:
    """The corpus, made once for this module's tests (each runs in a savepoint of it, so that
    what one adds or changes is gone for the next): made for each of them, it was half of the
    module's time on PostgreSQL."""
    with shared_world(app, reference_engine) as make:
        yield build_corpus(make)


def search(client, make=None, user=None, **params: Any) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {make.token(user)}"} if user is not None else {}
    response = client.get("/api/v1/search", query_string=params, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json


def hits(body: dict[str, Any]) -> list[str]:
    return [item["identifier"] for item in body["items"]]


def counts(body: dict[str, Any], facet: str) -> dict[str, int]:
    return {v["value"]: v["count"] for v in body["facets"][facet]}


def test_the_contract_shape(client, corpus):
    body = search(client, q="myeloma")
    assert set(body) >= {"items", "total", "page", "per_page", "facets"}
    # the catalogue's own facets, and those other areas register (data use, fit, requestable)
    assert set(body["facets"]) >= {
        "disease",
        "source_type",
        "country",
        "custodian",
        "data_model",
        "age_group",
        "patients",
        "term",
    }
    for values in body["facets"].values():
        for value in values:
            assert {"value", "label", "count"} <= set(value)
    item = body["items"][0]
    assert item["identifier"] == "myeloma-maintenance"
    assert item["page_url"].endswith("/datasets/myeloma-maintenance")
    assert item["custodian"]["name"] == "Lyon Blood Registry"
    # what governance adds, as it is for a dataset without conditions or agreement
    assert item["requestable"] is False
    assert item["requestable_until"] is None
    assert item["data_use"] is None
    assert "fit" not in item  # only in a search with a purpose


@pytest.mark.parametrize("q", ["myeloma", "myeloid neoplasm", "Hb", "leukaemai", ""])
def test_the_hand_built_body_is_exactly_what_the_schema_documents(client, corpus, q):
    """The endpoint builds its body by hand (see catalogue/search/api.py for why): loading it
    with the documented schema neither refuses a field nor changes a value."""
    from catalogue.search.schemas import SearchResponseSchema

    body = search(client, q=q, per_page=100)
    assert body["items"]
    schema = SearchResponseSchema()
    assert schema.dump(schema.load(body)) == body


def test_without_words_every_published_dataset_is_listed(client, corpus):
    body = search(client)
    assert set(hits(body)) == PUBLIC and body["total"] == len(PUBLIC)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # British and American spellings alike, whichever the text or the query uses
        ("leukaemia", {"aml-elderly", "cll-cohort"}),
        ("leukemia", {"aml-elderly", "cll-cohort"}),
        ("tumour", {"aml-elderly", "cll-cohort"}),
        ("tumor", {"aml-elderly", "cll-cohort"}),
        ("haemoglobin", {"myeloma-maintenance", "aml-elderly"}),  # aml-elderly: Hb mapped
        ("randomized", {"mds-registry"}),
        # stemming: syndromes/syndrome, maintained/maintenance share no stem with each other,
        # but plural and singular do
        ("syndrome", {"mds-registry"}),
        ("registries", {"mds-registry"}),
        ("transfusions", {"mds-registry"}),
    ],
)
def test_spellings_and_stemming(client, corpus, query, expected):
    assert set(hits(search(client, q=query))) == expected


def test_dataset_text_and_variable_text_are_both_searched(client, corpus):
    # "month" is only in a variable label; "lenalidomide" only in a description
    assert hits(search(client, q="month")) == ["myeloma-maintenance"]
    assert hits(search(client, q="lenalidomide")) == ["myeloma-maintenance"]
    # every word must match, in any field
    assert hits(search(client, q="lenalidomide month")) == ["myeloma-maintenance"]
    assert hits(search(client, q="lenalidomide induction")) == []


def test_ranking_title_keywords_description_variables(client, corpus):
    body = search(client, q="ibrutinib")
    assert hits(body) == ["rank-title", "rank-keywords", "rank-description", "rank-variables"]


def test_highlights_and_matched_variables(client, corpus):
    item = search(client, q="ibrutinib")["items"][0]
    assert item["title_highlighted"] == "<mark>Ibrutinib</mark> in lymphoma"
    variables = search(client, q="ibrutinib dose")["items"][0]["variables"]
    assert variables["matching_words"] == 1
    assert variables["items"][0]["name"] == "ibr_dose"
    assert variables["items"][0]["label_highlighted"] == "<mark>Ibrutinib</mark> <mark>dose</mark>"
    description = search(client, q="relapse")["items"][0]
    assert "<mark>relapse</mark>" in description["snippet"]


def test_ontology_myeloid_neoplasm_finds_aml_and_mds(client, corpus):
    body = search(client, q="myeloid neoplasm")
    assert set(hits(body)) == {"aml-elderly", "mds-registry"}
    understood = body["query"]["understood_as"]
    assert understood[0]["terms"][0]["curie"] == MYELOID
    assert understood[0]["terms"][0]["narrower"] > 10  # expanded: the user can see it
    matched = {item["identifier"]: item["matched_terms"] for item in body["items"]}
    assert matched["mds-registry"] == [{"curie": MYELOID, "label": "Myeloid Neoplasm"}]


def test_ontology_hb_finds_a_variable_mapped_to_haemoglobin(client, corpus):
    body = search(client, q="Hb")
    # hgb_dx's label says nothing of haemoglobin: only its mapping to HV:0000045 matches
    assert "aml-elderly" in hits(body)
    item = next(i for i in body["items"] if i["identifier"] == "aml-elderly")
    assert item["variables"]["mapped_to_terms"] == 1
    assert item["variables"]["items"][0]["name"] == "hgb_dx"
    assert item["variables"]["items"][0]["terms"] == [{"curie": HB, "label": "Haemoglobin"}]
    assert body["query"]["understood_as"][0]["terms"][0]["curie"] == HB


def test_abbreviations_and_partial_names_name_terms(client, corpus):
    assert hits(search(client, q="AML")) == ["aml-elderly"]  # tagged, not in any text
    myeloma = search(client, q="myeloma")
    assert myeloma["query"]["understood_as"][0]["terms"][0]["curie"] == MYELOMA
    # a common word is not a term: "all" is no acute lymphoblastic leukaemia, "ALL" is
    assert search(client, q="all")["total"] == 0
    assert search(client, q="ALL")["query"]["understood_as"][0]["terms"][0]["label"] == (
        "Acute Lymphoblastic Leukemia"
    )


def test_misspelt_words_are_corrected_against_the_catalogue(client, corpus):
    body = search(client, q="lenalidomde")
    assert hits(body) == ["myeloma-maintenance"]
    assert body["query"]["corrections"] == [{"word": "lenalidomde", "also": ["lenalidomide"]}]


def test_hierarchical_disease_counts(client, corpus):
    disease = counts(search(client), "disease")
    assert disease[MYELOID] == 2  # AML and MDS datasets, each counted once
    assert disease[AML] == 1 and disease[MDS] == 1 and disease[MYELOMA] == 1
    assert disease["NCIT:C27134"] == len(PUBLIC)  # the root: every dataset once
    tree = search(client)["facets"]["disease"]
    by_value = {v["value"]: v for v in tree}
    assert MYELOID in by_value[AML]["parents"]
    assert tree[0]["value"] == "NCIT:C27134" and tree[0]["parents"] == []


def test_flat_facet_counts(client, corpus):
    body = search(client)
    assert counts(body, "country") == {"NL": 1, "DE": 2, "FR": 1, "ES": 1, "IT": 4}
    assert counts(body, "source_type") == {
        "clinical_trial": 6,
        "registry": 1,
        "observational_cohort": 1,
    }
    assert counts(body, "data_model") == {"omop": 1, "custom": 1, "sdtm": 1}
    assert counts(body, "age_group") == {"adult": 3, "elderly": 3}
    assert counts(body, "custodian") == {corpus.leiden.id: 2, corpus.lyon.id: 6}
    assert counts(body, "patients") == {
        "0-99": 5,
        "100-499": 1,
        "500-999": 0,
        "1000-4999": 1,
        "5000-": 1,
    }
    assert counts(body, "term")["HV:0000003"] == 2  # laboratory: Hb and platelets mapped
    names = {v["value"]: v["label"] for v in body["facets"]["custodian"]}
    assert names == {corpus.leiden.id: "Leiden Haematology", corpus.lyon.id: "Lyon Blood Registry"}


def test_a_renamed_custodian_is_named_anew(app, client, corpus, monkeypatch):
    from core import services as accounts
    from core.policies import SYSTEM

    def names() -> dict[str, str]:
        return {v["value"]: v["label"] for v in search(client)["facets"]["custodian"]}

    assert names()[corpus.leiden.id] == "Leiden Haematology"
    with app.app_context():
        accounts.update_organisation(SYSTEM, corpus.leiden.id, {"name": "Leiden UMC Haematology"})
    assert names()[corpus.leiden.id] == "Leiden UMC Haematology"  # this worker: at once
    with app.app_context():  # another worker renames it: seen once the copy is old enough
        session = get_session()
        session.execute(
            update(Organisation).where(Organisation.id == corpus.lyon.id).values(name="Lyon HCL")
        )
        session.commit()
    monkeypatch.setattr(accounts, "NAMES_SECONDS", 0.0)
    assert names()[corpus.lyon.id] == "Lyon HCL"


def test_a_selected_custodian_without_hits_keeps_its_name(client, corpus):
    # Leiden holds no Spanish lenalidomide dataset; Lyon's is the alternative on offer
    body = search(client, q="lenalidomide", custodian=corpus.leiden.id, country="ES")
    assert body["total"] == 0
    assert [(v["label"], v["count"], v["selected"]) for v in body["facets"]["custodian"]] == [
        ("Lyon Blood Registry", 1, False),
        ("Leiden Haematology", 0, True),
    ]


def test_or_within_a_facet_and_across_facets(client, corpus):
    assert set(hits(search(client, country=["NL", "ES"]))) == {
        "aml-elderly",
        "myeloma-maintenance",
    }
    both = search(client, country=["DE", "FR"], source_type="clinical_trial")
    assert hits(both) == ["aml-elderly"]
    # a facet's own counts ignore its own selection (the alternatives stay visible) ...
    assert counts(both, "country")["ES"] == 1
    # ... but apply every other facet's
    assert "registry" not in counts(search(client, country="DE"), "source_type")
    assert counts(both, "source_type") == {
        "clinical_trial": 1,
        "registry": 1,
        "observational_cohort": 1,
    }


def test_disease_and_term_filters_follow_the_hierarchy(client, corpus):
    assert set(hits(search(client, disease=MYELOID))) == {"aml-elderly", "mds-registry"}
    iri = "http://purl.obolibrary.org/obo/NCIT_C9290"
    assert set(hits(search(client, disease=iri))) == {"aml-elderly", "mds-registry"}
    assert set(hits(search(client, disease=[AML, MYELOMA]))) == {
        "aml-elderly",
        "myeloma-maintenance",
    }
    # has variables for: blood counts covers haemoglobin and platelets below it
    assert set(hits(search(client, term="HV:0000010"))) == {"aml-elderly", "mds-registry"}
    assert hits(search(client, term=PLATELETS)) == ["mds-registry"]
    lab = search(client, term="HV:0000003")
    assert counts(lab, "term")["HV:0000003"] == lab["total"] == 2


def test_patient_ranges(client, corpus):
    assert set(hits(search(client, patients_min=1000))) == {"mds-registry", "cll-cohort"}
    assert set(hits(search(client, patients_min=100, patients_max=1500))) == {
        "aml-elderly",
        "mds-registry",
    }


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("patients", ["cll-cohort", "mds-registry", "aml-elderly", "myeloma-maintenance"]),
        ("title", ["aml-elderly", "cll-cohort", "mds-registry", "myeloma-maintenance"]),
    ],
)
def test_sorts(client, corpus, sort, expected):
    body = search(client, sort=sort, country=["NL", "DE", "FR", "ES"])
    assert hits(body) == expected


def test_recently_updated_first(client, corpus):
    assert hits(search(client, sort="updated", per_page=1)) == ["rank-variables"]


def test_pagination(client, corpus):
    first = search(client, sort="title", per_page=3)
    second = search(client, sort="title", per_page=3, page=2)
    last = search(client, sort="title", per_page=3, page=3)
    beyond = search(client, sort="title", per_page=3, page=9)
    assert first["total"] == second["total"] == len(PUBLIC)
    assert (first["page"], first["per_page"]) == (1, 3)
    pages = hits(first) + hits(second) + hits(last)
    assert len(pages) == len(set(pages)) == len(PUBLIC)
    assert hits(beyond) == [] and beyond["total"] == len(PUBLIC)


@pytest.mark.parametrize("q", ["search", "leukaemia", "myeloid", "dataset tests"])
def test_relevance_pages_follow_the_one_order(client, make, corpus, q):
    # PostgreSQL breaks equal scores by ts_rank, computed only for the candidates that score at
    # least as high as the page's last hit: any page size must give the same order
    whole = search(client, q=q, per_page=50)
    for size in (1, 2, 3):
        paged: list[str] = []
        for page in range(1, -(-whole["total"] // size) + 1):
            paged += hits(search(client, q=q, per_page=size, page=page))
        assert paged == hits(whole), size


def test_equal_scores_go_by_the_text_rank_on_postgresql(app, client, make, corpus):
    with app.app_context():
        if get_session().get_bind().dialect.name != "postgresql":
            pytest.skip("ts_rank is PostgreSQL's; SQLite orders equal scores by the update")
    # both hold "imatinib" in their description only (the same score); one says it thrice
    organisation = corpus.leiden
    make.dataset(
        organisation,
        identifier="rank-thrice",
        publish=True,
        title="Registry two",
        description="Imatinib first line; imatinib dose; imatinib response.",
    )
    # the other one is updated later: without the rank it would come first
    make.dataset(
        organisation,
        identifier="rank-once",
        publish=True,
        title="Registry one",
        description="Patients treated with imatinib.",
    )
    order = hits(search(client, q="imatinib"))
    assert order.index("rank-thrice") < order.index("rank-once")
    assert hits(search(client, q="imatinib", per_page=1)) == [order[0]]


@pytest.mark.parametrize("who", ["anonymous", "researcher", "other_custodian"])
def test_drafts_and_retired_datasets_never_leak(client, make, corpus, who):
    user = None if who == "anonymous" else getattr(corpus, who)
    body = search(client, make, user, q="ibrutinib")
    found = set(hits(body))
    assert "retired-ibrutinib" not in found
    assert "leiden-draft" not in found
    if who != "other_custodian":
        assert "lyon-draft" not in found
    everything = search(client, make, user)
    assert "leiden-draft" not in hits(everything)
    # no trace in the counts either: the Leiden draft is a Dutch CLL biobank
    assert counts(everything, "country").get("NL") == 1
    assert counts(everything, "disease")[CLL] == 1 + (who == "other_custodian")
    # (Lyon's custodian counts Lyon's own draft, a French CLL biobank)
    assert counts(everything, "source_type").get("biobank", 0) == (who == "other_custodian")


def test_custodians_find_their_own_drafts(client, make, corpus):
    body = search(client, make, corpus.custodian, q="ibrutinib")
    assert "leiden-draft" in hits(body) and "lyon-draft" not in hits(body)
    draft = next(i for i in body["items"] if i["identifier"] == "leiden-draft")
    assert draft["status"] == "draft"
    assert draft["variables"]["items"][0]["name"] == "ibr_level"
    assert counts(search(client, make, corpus.custodian), "source_type")["biobank"] == 1
    admin = search(client, make, corpus.admin, q="ibrutinib")
    assert {"leiden-draft", "lyon-draft"} <= set(hits(admin))
    assert "retired-ibrutinib" not in hits(admin)


@pytest.mark.parametrize(
    "query",
    [
        "AND",
        "OR NOT",
        '"',
        '"unbalanced',
        "*",
        "ibru*",
        ":",
        "title:ibrutinib",
        "(",
        "((ibrutinib",
        "ibrutinib)",
        "NEAR(ibrutinib lymphoma)",
        "{text_title}: x",
        "ibrutinib AND lymphoma",
        "ibrutinib -lymphoma",
        "'; DROP TABLE datasets; --",
        "ibrutinib & | ! <->",
        "x" * 600,
        "ünïcödé β2",
    ],
)
def test_hostile_queries_give_results_or_nothing(client, corpus, query):
    body = search(client, q=query)
    assert isinstance(body["items"], list)
    if query in ("((ibrutinib", "ibrutinib)", "ibrutinib AND lymphoma", "ibrutinib & | ! <->"):
        assert "rank-title" in hits(body)  # the words are searched, the syntax ignored


def test_a_query_with_a_nul_is_refused_naming_q(client, corpus):
    """Text that cannot be stored is refused at the door for every parameter (core.inputs)."""
    response = client.get("/api/v1/search", query_string={"q": "ibrutinib\x00"})
    assert response.status_code == 422
    assert "q" in response.get_json()["errors"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"sort": "popularity"}, "sort"),
        ({"page": "0"}, "page"),
        ({"page": "two"}, "page"),
        ({"per_page": "1000"}, "per_page"),
        ({"country": "Neverland"}, "country"),
        ({"source_type": "spreadsheet"}, "source_type"),
        ({"data_model": "fhir"}, "data_model"),
        ({"age_group": "teen"}, "age_group"),
        ({"custodian": "no-such-organisation"}, "custodian"),
        ({"disease": "NCIT:C0000000"}, "disease"),
        ({"disease": "HV:0000045"}, "disease"),  # a term, but no disease
        ({"disease": "not a curie"}, "disease"),
        ({"term": "HV:9999999"}, "term"),
        ({"patients_min": "-1"}, "patients_min"),
        ({"patients_max": "many"}, "patients_max"),
        ({"patients_min": "500", "patients_max": "100"}, "patients_max"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_parameters_are_422_naming_the_parameter(client, corpus, params, field):
    response = client.get("/api/v1/search", query_string=params)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert field in response.json["errors"]


def test_a_runaway_search_is_a_503(client, corpus, app, monkeypatch):
    from catalogue.search import services

    visible = services._visible
    endless = text(
        "(WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 500000000) "
        "SELECT count(*) FROM c) > 0"
    )
    monkeypatch.setattr(services, "_visible", lambda actor, d: and_(visible(actor, d), endless))
    monkeypatch.setitem(app.config, "QUERY_TIMEOUT_MS", 300)
    started = time.monotonic()
    response = client.get("/api/v1/search", query_string={"q": "lymphoma", "country": "IT"})
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    assert time.monotonic() - started < 5


def test_facet_counts_match_the_filtered_totals(client, corpus):
    everything = search(client)
    for facet in ("country", "source_type", "disease", "term"):
        for value in everything["facets"][facet][:6]:
            filtered = search(client, **{facet: value["value"]})
            assert filtered["total"] == value["count"], (facet, value)


def test_cll_and_aml_words_and_tags_combine(client, corpus):
    # "leukaemia" is text; CLL names a term: both must hold
    assert hits(search(client, q="leukaemia CLL")) == ["cll-cohort"]
    assert set(hits(search(client, q="leukaemia", disease=[AML, CLL]))) == {
        "aml-elderly",
        "cll-cohort",
    }


# (first search, a second of the same shape): words, a term, facets, pages and sorts
SAME_SHAPE = [
    ({"q": "leukaemia", "country": "NL"}, {"q": "registry", "country": "FR"}),
    ({"q": "myeloma"}, {"q": "AML"}),
    ({"disease": MYELOID, "page": "1"}, {"disease": CLL, "page": "2", "per_page": "2"}),
    ({"q": "haemoglobin", "term": COUNTS}, {"q": "Hb", "term": HB}),
    ({"patients_min": "100", "sort": "title"}, {"patients_min": "400", "sort": "title"}),
    ({"country": ["NL", "FR"], "sort": "patients"}, {"country": ["DE", "NL"], "sort": "patients"}),
]


@pytest.mark.parametrize(("first", "second"), SAME_SHAPE)
def test_a_statement_built_for_one_search_answers_another_of_its_shape(
    client, corpus, first, second
):
    """The main statement is built once per shape and run with each search's values: the
    second search, run with the first one's statement, answers as if built for it alone."""
    services.STATEMENTS.clear()
    client.get("/api/v1/search", query_string=first)
    reused = client.get("/api/v1/search", query_string=second).json
    assert len(services.STATEMENTS._built) == 1  # one shape, one statement
    services.STATEMENTS.clear()
    alone = client.get("/api/v1/search", query_string=second).json
    assert reused == alone


def test_a_value_written_into_a_shared_statement_is_caught(client, corpus, monkeypatch, caplog):
    """Tests run with SEARCH_CHECK_STATEMENTS: a facet that writes its values into the
    statement but says they do not change it (its shape) would answer one search with another
    one's values; the check compares every reused statement with a fresh one and fails."""
    country = next(f for f in facets.facets() if f.name == "country")

    def written(document, selection):
        return or_(*(document.c.countries.like(f"% {v} %") for v in selection))

    monkeypatch.setattr(country, "condition", written)
    monkeypatch.setattr(country, "parameters", lambda selection: {})
    services.STATEMENTS.clear()
    client.get("/api/v1/search", query_string={"country": "NL"})
    caught = client.get("/api/v1/search", query_string={"country": "FR"})
    services.STATEMENTS.clear()
    assert caught.status_code == 500
    assert "instead of bound by name" in caplog.text


def test_a_search_plans_its_statements_for_their_values(app, client, corpus, monkeypatch):
    # PostgreSQL: statements psycopg prepared would get generic plans after a few runs; a
    # search's transaction keeps them made for its values (and its other settings)
    with app.app_context():
        if get_session().get_bind().dialect.name != "postgresql":
            pytest.skip("plan_cache_mode and set_config are PostgreSQL's")
    from catalogue.search import hits as page

    seen: dict[str, str] = {}
    original = page.page_hits

    def spying(*args: Any, **kwargs: Any) -> Any:
        session = get_session()
        for name in ("plan_cache_mode", "enable_seqscan", "statement_timeout"):
            seen[name] = session.scalar(text(f"SHOW {name}"))
        return original(*args, **kwargs)

    monkeypatch.setattr(page, "page_hits", spying)
    assert search(client, q="ibrutinib")["total"] > 0
    assert seen["plan_cache_mode"] == "force_custom_plan"
    assert seen["enable_seqscan"] == "off"
    assert seen["statement_timeout"] != "0"
