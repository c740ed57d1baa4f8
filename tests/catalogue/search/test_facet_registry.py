"""Another package adds a facet (governance will add data-use permissions): it names its
parameter, checks its values, filters and counts, and search, its 422s and the page follow."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from catalogue.search import facets as registry
from catalogue.search.facets import Facet, FacetValue


class InitialFacet(Facet):
    """A toy facet: datasets by the first letter of their identifier, stored nowhere else."""

    name, label = "initial", "Initial"

    def check(self, values: list[str]) -> list[str]:
        bad = [v for v in values if len(v) != 1 or not v.isalpha()]
        if bad:
            raise self.invalid(f"One letter, not {', '.join(bad)}.")
        return [v.lower() for v in values]

    def condition(self, document: Any, selection: list[str]) -> Any:
        return func.substr(document.c.title_key, 1, 1).in_(selection)

    def counts(self, candidates: Any, where: Any, selection: Any) -> Any:
        initial = func.substr(candidates.c.title_key, 1, 1)
        return select(initial, func.count()).where(where).group_by(initial)

    def values(self, rows: list[tuple[str, int]], selection: Any) -> list[FacetValue]:
        chosen = set(selection or [])
        return [FacetValue(v, v.upper(), n, selected=v in chosen) for v, n in sorted(rows)]


@pytest.fixture
def initial_facet(monkeypatch):
    monkeypatch.setattr(registry, "_FACETS", list(registry._FACETS))
    registry.register_facet(InitialFacet())


def test_a_registered_facet_filters_counts_and_validates(client, corpus, initial_facet):
    body = client.get("/api/v1/search", query_string={"initial": ["l", "p"]}).json
    assert {i["identifier"] for i in body["items"]} == {
        "rank-keywords",
        "rank-description",
        "rank-variables",
        "myeloma-maintenance",
    }
    counts = {v["value"]: v["count"] for v in body["facets"]["initial"]}
    assert counts == {"a": 1, "c": 1, "i": 1, "l": 3, "m": 1, "p": 1}  # its own selection aside
    # with the other facets: AND across them
    narrowed = client.get("/api/v1/search", query_string={"initial": "l", "country": "ES"}).json
    assert narrowed["total"] == 0
    bad = client.get("/api/v1/search", query_string={"initial": "lp"})
    assert bad.status_code == 422 and "initial" in bad.json["errors"]
    assert "Initial" in client.get("/search", query_string={"initial": "l"}).get_data(as_text=True)


def test_names_are_unique(initial_facet):
    with pytest.raises(RuntimeError):
        registry.register_facet(InitialFacet())
