"""A term page's "Where it is used": the datasets tagged at or below the term and the variables
mapped to it, with counts, as each caller may see them; and the same counts in the term's JSON.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from html import unescape

import pytest
from sqlalchemy import event

from catalogue.models import Mapping, MappingPredicate, MappingStatus, Variable
from catalogue.search import usage
from core.db import get_session
from core.models import Role, User
from core.policies import SYSTEM
from ontologies import browse
from tests.conftest import login, shared_world

AML, MDS, CBF_AML, MYELOID = "NCIT:C3171", "NCIT:C3247", "NCIT:C122688", "NCIT:C9290"
LYMPHOMA = "NCIT:C8851"  # DLBCL: nothing in this world is about it
HB, COUNTS, PLATELETS = "HV:0000045", "HV:0000010", "HV:0000047"  # Hb lies below blood counts


@dataclass
class World:
    custodian: User  # of Leiden, which has an open draft of "aml-trial"
    other_custodian: User  # of Lyon, which has the draft "lyon-draft"
    researcher: User
    admin: User


@pytest.fixture(scope="module")
def world(app, reference_engine) -> Iterator[World]:
    with shared_world(app, reference_engine) as make:
        yield _build(app, make)


def _build(app, make) -> World:
    from catalogue.datasets import services as datasets

    leiden = make.organisation(name="Leiden Haematology", country="NL")
    lyon = make.organisation(name="Lyon Blood Registry", country="FR")
    world = World(
        custodian=make.user(Role.CUSTODIAN, organisation=leiden),
        other_custodian=make.user(Role.CUSTODIAN, organisation=lyon),
        researcher=make.user(Role.RESEARCHER),
        admin=make.user(Role.ADMIN),
    )
    make.dataset(
        leiden,
        identifier="aml-trial",
        title="AML induction trial",
        diseases=[AML],
        patients=300,
        publish=True,
        variables=[
            {"name": "hgb_dx", "label": "Haemoglobin at diagnosis", "mappings": [HB]},
            {"name": "plt_dx", "label": "Platelets at diagnosis", "mappings": [PLATELETS]},
            {"name": "hb_suggested", "label": "Hb (suggested only)"},
            {"name": "hb_rejected", "label": "Hb (rejected)"},
            {"name": "hb_narrow", "label": "Hb or something wider (narrowMatch)"},
            {
                "name": "hb_value",
                "label": "Anaemia grade",
                "permissible_values": [{"code": "low", "label": "Hb below 10 g/dL"}],
            },
        ],
    )
    make.dataset(
        lyon,
        identifier="cbf-aml",
        title="Core binding factor AML cohort",
        diseases=[CBF_AML],  # narrower than AML
        patients=1,
        publish=True,
        variables=[{"name": "hb_w4", "label": "Hemoglobin at week 4", "mappings": [HB]}],
    )
    make.dataset(
        lyon,
        identifier="mds-registry",
        title="MDS registry",
        diseases=[MDS],
        publish=True,
        variables=[{"name": "hb", "label": "Haemoglobin", "mappings": [COUNTS]}],
    )
    make.dataset(
        lyon,
        identifier="lyon-draft",
        title="Unpublished AML pilot",
        diseases=[AML],
        variables=[{"name": "hb_pilot", "label": "Hb in the pilot", "mappings": [HB]}],
    )
    make.dataset(
        lyon,
        identifier="retired-aml",
        title="Retired AML study",
        diseases=[AML],
        publish=True,
        variables=[{"name": "hb_old", "label": "Hb, retired", "mappings": [HB]}],
    )
    with app.app_context():
        datasets.retire(SYSTEM, "retired-aml", "Withdrawn.", datasets.UNCHECKED)
        session = get_session()
        published = datasets.get_version(SYSTEM, "aml-trial")
        by_name = {v.name: v for v in session.query(Variable).filter_by(version_id=published.id)}
        session.add_all(
            [
                Mapping(
                    variable_id=by_name["hb_suggested"].id,
                    object_curie=HB,
                    status=MappingStatus.SUGGESTED,
                ),
                Mapping(
                    variable_id=by_name["hb_rejected"].id,
                    object_curie=HB,
                    status=MappingStatus.REJECTED,
                ),
                Mapping(
                    variable_id=by_name["hb_narrow"].id,
                    object_curie=HB,
                    predicate=MappingPredicate.NARROW,
                ),
                # a permissible value's mapping counts for its variable
                Mapping(variable_id=by_name["hb_value"].id, object_curie=HB, value_code="low"),
            ]
        )
        session.commit()
        # Leiden opens a new version (a copy) and adds a Hb variable that only its custodians
        # and administrators see until it is published
        draft = datasets.new_version(SYSTEM, "aml-trial", datasets.UNCHECKED)
        session.add(
            Variable(
                version_id=draft.id,
                position=99,
                name="hgb_m6",
                label="Haemoglobin at month 6",
                value_type="decimal",
                mappings=[Mapping(object_curie=HB, status=MappingStatus.ACCEPTED)],
            )
        )
        session.commit()
    return world


def used(client, curie: str) -> str:
    """The "Where it is used" section as text."""
    response = client.get(f"/terms/{curie}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    section = html.split('aria-labelledby="used-h"')[1].split("</section>")[0]
    return section


def text(html: str) -> str:
    spaced = re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()
    return re.sub(r"\( ", "(", re.sub(r" ([.,;)])", r"\1", spaced))


def test_a_broader_disease_lists_the_datasets_tagged_with_it_or_below_it(client, world):
    section = used(client, AML)
    said = text(section)
    assert "Datasets about this disease (2)" in said
    assert "AML induction trial Leiden Haematology · 300 patients" in said
    assert "Core binding factor AML cohort Lyon Blood Registry · 1 patient" in said
    assert '<a href="/datasets/cbf-aml">Core binding factor AML cohort</a>' in section
    # neither the other organisation's draft, nor the retired study, nor MDS
    for hidden in ("Unpublished AML pilot", "Retired AML study", "MDS registry"):
        assert hidden not in said
    assert '<a href="/search?disease=NCIT:C3171">See these datasets in the search</a>' in section
    assert "Not used by any dataset yet." not in said

    broader = text(used(client, MYELOID))
    assert "Datasets about this disease (3)" in broader
    assert "MDS registry" in broader
    narrower = text(used(client, CBF_AML))
    assert "Datasets about this disease (1)" in narrower
    assert "AML induction trial" not in narrower


def test_haemoglobin_lists_the_variables_with_an_accepted_covering_mapping(client, world):
    section = used(client, HB)
    said = text(section)
    assert "Variables mapped to it (3)" in said
    assert "AML induction trial 2 variables" in said
    assert "hgb_dx Haemoglobin at diagnosis" in said
    assert "hb_value Anaemia grade through its value “low”" in said
    assert "Core binding factor AML cohort 1 variable hb_w4 Hemoglobin at week 4" in said
    assert (
        '<a href="/datasets/aml-trial/variables/hgb_dx"><code>hgb_dx</code> '
        "Haemoglobin at diagnosis</a>"
    ) in section
    # suggested, rejected and narrowMatch mappings do not count; nor drafts, nor retired data
    for hidden in ("hb_suggested", "hb_rejected", "hb_narrow", "hb_pilot", "hb_old", "hgb_m6"):
        assert hidden not in said
    assert "Datasets about this disease" not in said  # a variable term tags no dataset
    assert '<a href="/search?term=HV:0000045">See these variables in the search</a>' in section

    # the broader group term counts the variables below it too, and says through which term
    counts = text(used(client, COUNTS))
    assert "Variables mapped to it (5)" in counts
    assert "plt_dx Platelets at diagnosis as Platelet count" in counts
    assert "MDS registry 1 variable hb Haemoglobin" in counts


def test_a_term_nothing_uses_keeps_the_empty_state(client, world):
    said = text(used(client, LYMPHOMA))
    assert "Not used by any dataset yet." in said
    assert "Datasets about this disease" not in said
    assert "Variables mapped to it" not in said


@pytest.mark.parametrize(
    ("who", "datasets", "variables", "drafts"),
    [
        (None, 2, 3, set()),
        ("researcher", 2, 3, set()),
        # Leiden's draft of aml-trial replaces its published version for its custodian
        ("custodian", 2, 4, {"hgb_m6"}),
        ("other_custodian", 3, 4, {"Unpublished AML pilot", "hb_pilot"}),
        ("admin", 3, 5, {"Unpublished AML pilot", "hb_pilot", "hgb_m6"}),
    ],
)
def test_drafts_count_only_for_their_custodians_and_administrators(
    client, world, who, datasets, variables, drafts
):
    if who:
        login(client, getattr(world, who).email)
    aml, hb = text(used(client, AML)), text(used(client, HB))
    assert f"Datasets about this disease ({datasets})" in aml
    assert f"Variables mapped to it ({variables})" in hb
    for name in drafts:
        assert name in aml + hb
    for name in {"Unpublished AML pilot", "hb_pilot", "hgb_m6"} - drafts:
        assert name not in aml + hb
    assert "Retired AML study" not in aml and "hb_old" not in hb
    assert client.get(f"/api/v1/terms/{AML}").json["used_by"]["datasets"] == datasets
    assert client.get(f"/api/v1/terms/{HB}").json["used_by"] == {
        "datasets": 0,
        "variables": variables,
    }


def test_long_lists_stop_at_the_limit_and_link_to_the_search(client, world, monkeypatch):
    monkeypatch.setattr(browse, "USAGE_LIMIT", 1)
    aml = used(client, AML)
    assert "Datasets about this disease (2)" in text(aml)
    assert aml.count('href="/datasets/') == 1
    assert '<a href="/search?disease=NCIT:C3171">and 1 more dataset</a>' in aml
    counts = used(client, COUNTS)
    assert "Variables mapped to it (5)" in text(counts)
    assert counts.count("<code>") == 1  # one variable, under its dataset
    assert "AML induction trial 3 variables hgb_dx Haemoglobin at diagnosis as Haemoglobin" in (
        text(counts)
    )
    assert '<a href="/search?term=HV:0000010">and 4 more variables</a>' in counts


def test_the_counts_agree_with_the_search_filters(client, world):
    """The page's "see them all" links lead to as many datasets as the page counts."""
    search = client.get(f"/api/v1/search?disease={AML}").json
    assert search["total"] == 2
    by_term = client.get(f"/api/v1/search?term={HB}").json
    assert {d["identifier"] for d in by_term["items"]} == {"aml-trial", "cbf-aml"}


def test_a_fixed_number_of_statements_however_many_are_listed(app, world, reference_engine):
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("SELECT"):  # not the session's SAVEPOINT
            statements.append(statement)

    event.listen(reference_engine, "before_cursor_execute", count)
    try:
        with app.test_request_context():
            counted = {}
            for limit in (1, 20, 0):
                statements.clear()
                sections = usage.term_usage(SYSTEM, COUNTS, limit)
                counted[limit] = len(statements)
                # every draft's variables in place of the published ones: aml-trial's draft
                # (hgb_dx, plt_dx, hb_value, hgb_m6), cbf-aml, mds-registry, lyon-draft
                assert [s.total for s in sections] == [0, 7]
                if limit:
                    shown = sum(len(item.items) for item in sections[1].items)
                    assert shown == min(limit, 7)
                    assert sections[1].more == 7 - shown
    finally:
        event.remove(reference_engine, "before_cursor_execute", count)
    assert counted == {1: 3, 20: 3, 0: 2}
