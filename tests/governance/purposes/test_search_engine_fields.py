"""The governance facets in a search engine: the fields their providers write (data-use terms,
the conditions' signature, the active agreements covering a dataset), and their clauses and
counts, evaluated over those documents, giving exactly what their SQL statements give — the
same hits and the same facet values, for every selection of data_use, requestable, purpose
and fit."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from catalogue.search import services as search_services
from catalogue.search.engine import base
from catalogue.search.facets import facets
from core.db import get_session
from core.etags import UNCHECKED
from core.models import User
from core.policies import SYSTEM
from governance.agreements.models import Agreement
from governance.data_use import search as data_use_search
from governance.data_use.models import DataUseConditions
from governance.purposes import search as purposes_search
from tests.governance.purposes.conftest import CONDITIONS, DS, HMB, IRB, NPU, NRES
from tests.governance.purposes.engine_double import (
    documents,
    engine_answer,
    engine_keeps,
    holds,
    ready_engine,
    record_refreshes,
)

GOVERNANCE = ("data_use", "requestable", "fit")


def test_the_fields_are_registered_with_their_providers(app):
    fields = base.all_fields()
    for name in ("data_use", "conditions_signature", "agreements"):
        assert fields[name] == "keyword"
    assert data_use_search.engine_fields in base.PROVIDERS
    assert purposes_search.engine_fields in base.PROVIDERS


def test_each_document_carries_its_terms_signature_and_active_agreements(app, world):
    with app.app_context():
        docs = {d.fields["dataset_id"][0]: d.fields for d in documents(world.dataset_ids.values())}
        session = get_session()
        signature = dict(
            session.execute(select(DataUseConditions.dataset_id, DataUseConditions.signature)).all()
        )
        active = session.scalar(
            select(Agreement.id).where(Agreement.reference.like("DSA-active-%"))
        )
    ids = world.dataset_ids
    by_identifier = {identifier: docs[ids[identifier]] for identifier in CONDITIONS}
    assert {i: f["data_use"] for i, f in by_identifier.items()} == {
        "fit-ds-aml": [DS],
        "fit-ds-aml-again": [DS],
        "fit-ds-aml-irb": sorted([DS, IRB]),
        "fit-hmb-npu": sorted([HMB, NPU]),
        "fit-nres": [NRES],
        "fit-ds-myeloma": [DS],
        "fit-bare": [],
    }
    assert by_identifier["fit-bare"]["conditions_signature"] == ["none"]
    for identifier in set(CONDITIONS) - {"fit-bare"}:
        assert by_identifier[identifier]["conditions_signature"] == [signature[ids[identifier]]]
    # equal conditions, one signature
    assert (
        by_identifier["fit-ds-aml"]["conditions_signature"]
        == by_identifier["fit-ds-aml-again"]["conditions_signature"]
    )
    # the active agreement covers fit-ds-aml and fit-bare; fit-nres's agreement has expired
    assert {i: f["agreements"] for i, f in by_identifier.items() if f["agreements"]} == {
        "fit-ds-aml": [active],
        "fit-bare": [active],
    }


SELECTIONS: list[dict[str, Any]] = [
    {},
    {"data_use": [DS]},
    {"data_use": [IRB, HMB]},
    {"requestable": ["true"]},
    {"requestable": ["false"]},
    {"purpose": ["PURPOSE"]},
    {"purpose": ["PURPOSE"], "fit": ["compatible"]},
    {"purpose": ["PURPOSE"], "fit": ["needs_review", "incompatible"]},
    {"purpose": ["PURPOSE"], "fit": ["no_conditions"]},
    {"purpose": ["PURPOSE"], "fit": ["compatible", "no_conditions"]},
    {"purpose": ["PURPOSE"], "fit": ["compatible"], "requestable": ["true"]},
    {"purpose": ["PURPOSE"], "fit": ["needs_review"], "data_use": [DS]},
    {"purpose": ["PURPOSE"], "requestable": ["false"], "data_use": [NRES, HMB]},
]


@pytest.mark.parametrize("args", SELECTIONS, ids=lambda a: "&".join(sorted(a)) or "none")
def test_the_engine_forms_answer_as_the_sql_statement(app, world, args):
    with app.app_context():
        session = get_session()
        researcher = session.scalar(select(User).where(User.email == world.emails["researcher"]))
        leiden = session.scalar(
            select(Agreement.organisation_id).where(Agreement.reference.like("DSA-active-%"))
        )
        wanted = {
            k: [world.purpose_id if v == "PURPOSE" else v for v in vs] for k, vs in args.items()
        }
        query = search_services.parse_query({**wanted, "custodian": [leiden], "per_page": ["100"]})
        sql = search_services.search(researcher, query)
        registered = [f for f in facets() if f.name in GOVERNANCE]
        selections = {
            f.name: f.bind(researcher, query.selections[f.name])
            for f in registered
            if f.name in query.selections
        }
        hits, values = engine_answer(registered, selections, documents(world.dataset_ids.values()))
    assert hits == {h.dataset_id for h in sql.items}
    assert hits  # every selection here keeps some dataset …
    for name in GOVERNANCE:
        assert values[name] == sql.facets[name], name
    if "fit" not in args:  # … and counts some under each facet it shows
        assert any(v.count for v in values["data_use"])


def test_requestable_follows_the_agreements_and_conditions_of_the_day(app, world):
    """The day's agreements are read at search time: the agreement that ended yesterday
    counts for nothing, and a dataset loses its conditions' signature when it has none."""
    with app.app_context():
        docs = documents(world.dataset_ids.values())
        clause = purposes_search.RequestableFacet().engine_clause(True)
        requestable = {d.fields["dataset_id"][0] for d in docs if holds(clause, d)}
    assert requestable == {world.dataset_ids["fit-ds-aml"]}


def test_a_change_of_conditions_is_in_the_engine_after_the_commit(app, world, monkeypatch):
    asked = record_refreshes(monkeypatch)
    from governance.data_use import services as data_use

    bare = world.dataset_ids["fit-bare"]
    with app.app_context():
        requestable = purposes_search.RequestableFacet().engine_clause(True)
        hmb = data_use_search.FACET.engine_clause([HMB])
        no_conditions = purposes_search.FitFacet().engine_clause(
            purposes_search.FitSelection("any", ("no_conditions",))
        )
        ready_engine()
        assert not engine_keeps(requestable, bare)  # covered, but without conditions
        assert engine_keeps(no_conditions, bare)
        data_use.set_conditions(SYSTEM, "fit-bare", {"permission": HMB}, UNCHECKED)
        assert engine_keeps(requestable, bare)
        assert engine_keeps(hmb, bare)
        assert not engine_keeps(no_conditions, bare)
        (document,) = documents([bare])
        assert document.fields["data_use"] == [HMB]
    assert asked == [[bare]]
