"""How many datasets use each node of the ontology tree, and the term page's split of its usage
into "at this term itself" and "only at narrower terms", as each caller may see them.

The world is the one of tests/catalogue/search/test_term_usage.py: published datasets about
AML, a narrower AML and MDS; another organisation's draft about AML; a retired AML study; Hb
and platelet variables mapped (accepted, suggested, rejected, narrowMatch, through a value).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from sqlalchemy import event

from catalogue.search import usage
from core.policies import SYSTEM
from ontologies import browse
from tests.catalogue.search.test_term_usage import (
    AML,
    COUNTS,
    HB,
    LYMPHOMA,
    MYELOID,
    PLATELETS,
    World,
    _build,
    text,
    used,
)
from tests.conftest import login, shared_world

ACUTE_LEUKEMIA = "NCIT:C9300"  # AML's other parent
MDS = "NCIT:C3247"
BLOOD = "HV:0000003"  # "Blood counts and chemistry": the parent of COUNTS
CHEMISTRY = "HV:0000011"  # serum chemistry: nothing in this world maps to it
HAEMATOCRIT = "HV:0000052"


@pytest.fixture(scope="module")
def world(app, reference_engine) -> Iterator[World]:
    with shared_world(app, reference_engine) as make:
        yield _build(app, make)


def tree(client, curie: str) -> dict[str, int]:
    """The tree level below ``curie`` as tree.js gets it: child CURIE → datasets."""
    response = client.get(f"/ontologies/tree/{curie}")
    assert response.status_code == 200
    return {node["curie"]: node["datasets"] for node in response.json}


def badge(html: str, curie: str) -> str:
    """The dataset count shown beside ``curie`` in a tree or a list of narrower terms."""
    item = html.split(f'data-curie="{curie}"')[1] if "data-curie" in html else html
    found = re.search(
        rf'{re.escape(curie)}</span>.*?<span class="tree-datasets( is-zero)?"[^>]*>([^<]+)</span>',
        item,
        re.S,
    )
    assert found, f"no dataset count beside {curie}"
    return found.group(2) + (" (muted)" if found.group(1) else "")


def test_the_tree_counts_the_published_datasets_at_or_below_each_node(client, world):
    # AML: aml-trial is tagged with it, cbf-aml with a narrower AML; the other organisation's
    # draft and the retired study are not counted
    assert tree(client, MYELOID)[AML] == 2
    assert tree(client, MYELOID)[MDS] == 1
    assert tree(client, ACUTE_LEUKEMIA)[AML] == 2
    # the variables' tree counts the datasets with a variable mapped at or below (accepted,
    # covering predicates only): aml-trial, cbf-aml, and mds-registry's mapping to COUNTS
    assert tree(client, BLOOD)[COUNTS] == 3
    assert tree(client, BLOOD)[CHEMISTRY] == 0
    assert tree(client, COUNTS)[HB] == 2
    assert tree(client, COUNTS)[PLATELETS] == 1


def test_the_ontology_page_shows_the_counts_and_mutes_the_zeros(client, world):
    html = client.get("/ontologies/HAEM").get_data(as_text=True)
    said = text(html)
    assert "how many published datasets use it or a narrower term" in said
    assert badge(html, MYELOID) == "3 datasets"  # AML, the narrower AML, MDS
    assert badge(html, ACUTE_LEUKEMIA) == "2 datasets"
    assert badge(html, "NCIT:C7065") == "0 datasets (muted)"  # lymphocytic neoplasms
    assert 'title="3 datasets use this term or a narrower one"' in html


def test_the_term_page_counts_its_narrower_terms_datasets(client, world):
    html = client.get(f"/terms/{COUNTS}").get_data(as_text=True)
    children = html.split('id="children"')[1].split("</section>")[0]
    assert badge(children, HB) == "2 datasets"
    assert badge(children, PLATELETS) == "1 dataset"
    assert badge(children, HAEMATOCRIT) == "0 datasets (muted)"


@pytest.mark.parametrize(
    ("who", "aml", "counts"),
    [
        (None, 2, 3),
        ("researcher", 2, 3),
        # Lyon's custodian sees Lyon's draft about AML, with its Hb variable
        ("other_custodian", 3, 4),
        # Leiden's draft stands in for its published version: the same datasets
        ("custodian", 2, 3),
        ("admin", 3, 4),
    ],
)
def test_drafts_count_only_for_their_custodians_and_administrators(client, world, who, aml, counts):
    if who:
        login(client, getattr(world, who).email)
    assert tree(client, MYELOID)[AML] == aml
    assert tree(client, BLOOD)[COUNTS] == counts


def test_the_term_page_splits_its_usage_into_the_term_itself_and_narrower_terms(client, world):
    aml = text(used(client, AML))
    assert "Datasets about this disease (2)" in aml
    assert "Tagged with this term itself 1 dataset" in aml  # aml-trial
    assert "Tagged only with narrower terms 1 dataset" in aml  # cbf-aml

    counts = text(used(client, COUNTS))
    assert "Variables mapped to it (5)" in counts
    assert "Mapped to this term itself 1 variable" in counts  # mds-registry's hb
    assert "Mapped only to narrower terms 4 variables" in counts

    # a term with nothing below it has nothing to split
    assert "Mapped to this term itself" not in text(used(client, HB))


def test_one_dataset_is_one_dataset(client, world):
    cbf = used(client, "NCIT:C122688")  # only cbf-aml is about this narrower AML
    assert "Datasets about this disease (1)" in text(cbf)
    assert ">See this dataset in the search</a>" in cbf


def test_variable_names_lead_to_the_variable_pages(client, world):
    section = used(client, HB)
    assert (
        '<a href="/datasets/cbf-aml/variables/hb_w4"><code>hb_w4</code> Hemoglobin at week 4</a>'
        in section
    )
    assert client.get("/datasets/cbf-aml/variables/hb_w4").status_code == 200


def test_one_statement_counts_a_whole_tree_level(app, world, reference_engine):
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    event.listen(reference_engine, "before_cursor_execute", count)
    try:
        with app.test_request_context():
            per_level = {}
            for curie in (MYELOID, ACUTE_LEUKEMIA, COUNTS):  # 10, 3 and 9 children
                statements.clear()
                level = browse.tree_level(SYSTEM, curie)
                assert level.datasets is not None
                assert len(level.datasets) == len(level.children)
                per_level[curie] = len(statements)
            statements.clear()
            counted = usage.dataset_counts(SYSTEM, [AML, MDS, LYMPHOMA, HB, COUNTS])
            assert len(statements) == 1
    finally:
        event.remove(reference_engine, "before_cursor_execute", count)
    assert len(set(per_level.values())) == 1, per_level
    assert counted == {AML: 3, MDS: 1, HB: 3, COUNTS: 4}  # SYSTEM sees the drafts
