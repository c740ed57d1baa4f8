"""Requestability in a search engine: a document carries the active agreements that cover its
dataset (whatever their dates); the agreements in effect are read when searching, so an
agreement that ends needs no document written again, and one that starts has its datasets
written again after the commit. The engine's answer is the SQL rule's for agreements in every
state."""

from __future__ import annotations

from typing import Any

from core.etags import UNCHECKED
from core.policies import SYSTEM
from governance.agreements import services
from governance.purposes import search as purposes_search
from tests.governance.agreements.conftest import make_agreement
from tests.governance.purposes.engine_double import (
    documents,
    engine_keeps,
    holds,
    ready_engine,
    record_refreshes,
)


def engine_requestable(world: Any) -> set[str]:
    """The datasets the engine's requestable=true clause keeps, by identifier."""
    clause = purposes_search.RequestableFacet().engine_clause(True)
    by_id = {i: identifier for identifier, i in world.datasets.items()}
    return {
        by_id[d.fields["dataset_id"][0]]
        for d in documents(world.datasets.values())
        if holds(clause, d)
    }


def sql_requestable(world: Any) -> set[str]:
    by_id = {i: identifier for identifier, i in world.datasets.items()}
    return {by_id[i] for i in services.requestable_until(world.datasets.values())}


def test_a_document_carries_the_active_agreements_of_its_dataset(world, ctx):
    fields = {
        d.fields["dataset_id"][0]: d.fields["agreements"]
        for d in documents(world.datasets.values())
    }
    agreements = world.agreements
    # agr-mds is covered by agreements in every state: only the active ones are kept (the
    # superseded version 1's amendment is the active one)
    assert fields[world.datasets["agr-mds"]] == sorted(
        [agreements["active"], agreements["amendment"]]
    )
    assert fields[world.datasets["agr-aml"]] == [agreements["aml"]]
    assert fields[world.datasets["agr-bare"]] == []
    in_effect = set(purposes_search.agreements_in_effect())
    assert {agreements["active"], agreements["amendment"], agreements["aml"]} <= in_effect
    for state in ("draft", "expired", "terminated", "superseded", "bare"):
        assert agreements[state] not in in_effect, state


def test_the_engine_keeps_the_datasets_sql_calls_requestable(world, ctx):
    # agr-mds has agreements but no conditions; agr-bare neither
    assert engine_requestable(world) == sql_requestable(world) == {"agr-aml", "agr-lyon"}


def test_an_agreement_that_ends_stops_counting_at_once(world, ctx, monkeypatch):
    asked = record_refreshes(monkeypatch)
    aml = world.datasets["agr-aml"]
    ready_engine()
    assert "agr-aml" in engine_requestable(world)  # the day's agreements, read and kept
    assert engine_keeps(purposes_search.RequestableFacet().engine_clause(True), aml)
    services.terminate(SYSTEM, world.agreements["aml"], "Funding ended.", UNCHECKED)
    assert engine_requestable(world) == sql_requestable(world) == {"agr-lyon"}
    assert engine_keeps(purposes_search.RequestableFacet().engine_clause(False), aml)
    assert asked == [[world.datasets["agr-aml"]]]  # written again all the same


def test_an_agreement_that_starts_has_its_datasets_written_again(world, ctx, monkeypatch):
    from tests.governance.agreements.conftest import add_conditions

    asked = record_refreshes(monkeypatch)
    bare = world.datasets["agr-bare"]
    ready_engine()
    add_conditions("agr-bare")
    assert "agr-bare" not in engine_requestable(world)
    made = make_agreement(world.organisations["leiden"], "DSA-ENGINE", "active", ["agr-bare"])
    assert made in purposes_search.agreements_in_effect()
    assert engine_keeps(purposes_search.RequestableFacet().engine_clause(True), bare)
    expected = {"agr-aml", "agr-lyon", "agr-bare"}
    assert engine_requestable(world) == sql_requestable(world) == expected
    # made, given its document, activated: each change asks for agr-bare
    assert asked and all(call == [bare] for call in asked)
