"""The OpenSearch adapter (catalogue/search/engine/opensearch.py) against a test double of the
CLIENT: no OpenSearch server can run where these tests run.

What these tests prove: the requests the adapter sends are the documented query DSL and REST
bodies written out by hand here (bool/terms/range/exists, constant_score and script_score,
post_filter with filter aggregations for disjunctive counts, keyed range buckets with exclusive
``to``, sort with missing values last, track_total_hits, from/size, _bulk actions with
refresh=wait_for and require_alias, one atomic _aliases request); that responses shaped as the
documentation shows become the contract's EngineResult; that every client failure becomes
EngineUnavailable (the service's cue to answer with SQL) and partial answers are never used.

What they cannot prove: that a real server answers those requests as its documentation says
(relevance numbers, the whitespace analyzer's tokens, BM25 statistics per shard, painless
scripts, aliases moved while other nodes search or write, cluster failures mid-request).
"""

from __future__ import annotations

import datetime as dt
import random
import warnings
from typing import Any

import opensearchpy
import pytest

from catalogue.search.engine import base
from catalogue.search.engine.base import (
    AllOf,
    AnyOf,
    EngineDocument,
    EngineQuery,
    EngineUnavailable,
    Everything,
    Match,
    MatchCount,
    Not,
    Range,
    RangeCount,
    Score,
    Terms,
    TermsCount,
    Unsupported,
    visible,
)
from catalogue.search.engine.check import holds, points
from catalogue.search.engine.opensearch import OpenSearchEngine, fields_signature, mapping
from core.config import ConfigError
from tests.catalogue.search.opensearch_double import MemoryClient

BUILT_AT = dt.datetime(2026, 12, 7, 14, 51, 15, 123456, tzinfo=dt.UTC)
NEW_INDEX = "harmony-search-20261207145115123456"
OLD_INDEX = "harmony-search-20261201080000000000"


# --- the test double of the client ----------------------------------------------------------


class FakeIndices:
    """Indices and aliases as the documented APIs change them (no documents)."""

    def __init__(self, client: FakeClient) -> None:
        self.client = client
        self.aliases: dict[str, list[str]] = {}  # alias -> indices
        self.mappings: dict[str, Any] = {}  # index -> mappings
        #: runs just before an _aliases request is applied: another process's rebuild
        self.racer: Any = None

    def create(self, *, index: str, body: Any = None, **params: Any) -> Any:
        self.client.record("indices.create", index=index, body=body)
        self.mappings[index] = (body or {}).get("mappings", {})
        return {"acknowledged": True, "index": index}

    def delete(self, *, index: str, **params: Any) -> Any:
        self.client.record("indices.delete", index=index)
        del self.mappings[index]
        for indices in self.aliases.values():
            if index in indices:
                indices.remove(index)
        return {"acknowledged": True}

    def exists(self, *, index: str, **params: Any) -> bool:
        self.client.record("indices.exists", index=index)
        return index in self.mappings or bool(self.aliases.get(index))

    def get_alias(self, *, name: str, **params: Any) -> Any:
        self.client.record("indices.get_alias", name=name)
        if not self.aliases.get(name):
            raise opensearchpy.NotFoundError(404, "aliases_not_found_exception", {})
        return {index: {"aliases": {name: {}}} for index in self.aliases[name]}

    def get_mapping(self, *, index: str, **params: Any) -> Any:
        self.client.record("indices.get_mapping", index=index)
        indices = self.aliases.get(index) or ([index] if index in self.mappings else [])
        if not indices:
            raise opensearchpy.NotFoundError(404, "index_not_found_exception", {})
        return {i: {"mappings": self.mappings[i]} for i in indices}

    def update_aliases(self, *, body: Any, **params: Any) -> Any:
        if self.racer is not None:
            racer, self.racer = self.racer, None
            racer()
        self.client.record("indices.update_aliases", body=body)
        aliases = {name: list(indices) for name, indices in self.aliases.items()}
        for action in body["actions"]:  # all or nothing, as the API applies them
            ((kind, target),) = action.items()
            indices = aliases.setdefault(target["alias"], [])
            if kind == "add":
                indices.append(target["index"])
            elif target["index"] in indices:
                indices.remove(target["index"])
            else:
                raise opensearchpy.NotFoundError(404, "aliases_not_found_exception", {})
        self.aliases = aliases
        return {"acknowledged": True}

    def put_settings(self, *, index: str, body: Any, **params: Any) -> Any:
        self.client.record("indices.put_settings", index=index, body=body)
        return {"acknowledged": True}

    def refresh(self, *, index: str, **params: Any) -> Any:
        self.client.record("indices.refresh", index=index)
        return {"_shards": {"total": 1, "successful": 1, "failed": 0}}

    def serve(self, index: str, alias: str = "harmony-search") -> None:
        """An index built earlier, with the fields of today, behind the alias."""
        self.mappings[index] = mapping()
        self.aliases.setdefault(alias, []).append(index)


class FakeClient:
    """Records every call; answers with what a test queued; raises what a test set in
    ``failures`` (by method name, on the n-th call when given as ``(n, error)``)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.indices = FakeIndices(self)
        self.responses: dict[str, list[Any]] = {}
        self.failures: dict[str, Any] = {}

    def record(self, method: str, **arguments: Any) -> None:
        self.calls.append((method, arguments))
        failure = self.failures.get(method)
        if isinstance(failure, tuple):
            nth, error = failure
            if sum(1 for m, _ in self.calls if m == method) == nth:
                raise error
        elif failure is not None:
            raise failure

    def named(self, method: str) -> list[dict[str, Any]]:
        return [arguments for m, arguments in self.calls if m == method]

    def search(self, *, index: str, body: Any, **params: Any) -> Any:
        self.record("search", index=index, body=body, **params)
        return self.responses["search"].pop(0)

    def bulk(self, *, body: Any, **params: Any) -> Any:
        self.record("bulk", body=body, **params)
        queued = self.responses.get("bulk")
        if queued:
            return queued.pop(0)
        items = [
            {action: {"_id": meta["_id"], "status": 200}}
            for line in body
            for action, meta in line.items()
            if action in ("index", "delete") and isinstance(meta, dict) and "_id" in meta
        ]
        return {"took": 1, "errors": False, "items": items}

    def count(self, *, index: str, **params: Any) -> Any:
        self.record("count", index=index)
        return self.responses["count"].pop(0)


@pytest.fixture
def client() -> FakeClient:
    return FakeClient()


@pytest.fixture
def engine(client: FakeClient) -> OpenSearchEngine:
    return OpenSearchEngine(client, clock=lambda: BUILT_AT)


def response(
    ids: list[int], total: int, aggregations: dict[str, Any] | None = None, **extra: Any
) -> dict[str, Any]:
    """A _search response as the documentation shows one."""
    answer: dict[str, Any] = {
        "took": 3,
        "timed_out": False,
        "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
        "hits": {
            "total": {"value": total, "relation": "eq"},
            "max_score": None,
            "hits": [{"_index": NEW_INDEX, "_id": str(i), "_score": None} for i in ids],
        },
    }
    if aggregations is not None:
        answer["aggregations"] = aggregations
    answer.update(extra)
    return answer


def sent(client: FakeClient) -> dict[str, Any]:
    (call,) = client.named("search")
    assert call["index"] == "harmony-search"
    return call["body"]


# --- (a) requests -----------------------------------------------------------------------------


def test_a_filter_becomes_bool_terms_range_and_must_not_in_filter_context(client, engine):
    client.responses["search"] = [response([], 0)]
    query = EngineQuery(
        filter=AllOf(
            (
                visible({"org-a"}),
                Match("title", ("leukemia", "leukaemia")),
                Range("patients", 100, 500),
                Range("updated_at", low=5),
                AnyOf((Everything(),)),
            )
        ),
        sort="title",
    )
    engine.search(query)
    assert sent(client) == {
        "from": 0,
        "size": 20,
        "track_total_hits": True,
        "_source": False,
        "query": {
            "bool": {
                "filter": [
                    {
                        "bool": {
                            "filter": [
                                {
                                    "bool": {
                                        "should": [
                                            {"terms": {"visibility": ["published"]}},
                                            {
                                                "bool": {
                                                    "filter": [
                                                        {
                                                            "terms": {
                                                                "visibility": [
                                                                    "published_with_draft"
                                                                ]
                                                            }
                                                        },
                                                        {
                                                            "bool": {
                                                                "must_not": [
                                                                    {
                                                                        "terms": {
                                                                            "organisation_id": [
                                                                                "org-a"
                                                                            ]
                                                                        }
                                                                    }
                                                                ]
                                                            }
                                                        },
                                                    ]
                                                }
                                            },
                                            {
                                                "bool": {
                                                    "filter": [
                                                        {"terms": {"visibility": ["draft"]}},
                                                        {"terms": {"organisation_id": ["org-a"]}},
                                                    ]
                                                }
                                            },
                                        ],
                                        "minimum_should_match": 1,
                                    }
                                },
                                {"terms": {"title": ["leukemia", "leukaemia"]}},
                                {"range": {"patients": {"gte": 100, "lte": 500}}},
                                {"range": {"updated_at": {"gte": 5}}},
                                {"match_all": {}},
                            ]
                        }
                    }
                ]
            }
        },
        "sort": [{"title_key": {"order": "asc"}}, {"doc_id": {"order": "asc"}}],
    }


@pytest.mark.parametrize(
    ("clause", "dsl"),
    [
        # no bounds: any value, but a document without the field still does not match
        (Range("patients"), {"exists": {"field": "patients"}}),
        (AnyOf(()), {"match_none": {}}),
        (AllOf(()), {"match_all": {}}),
        (Terms("country", ()), {"match_none": {}}),
        (Not(Terms("country", ("DE",))), {"bool": {"must_not": [{"terms": {"country": ["DE"]}}]}}),
    ],
)
def test_edge_clauses(client, engine, clause, dsl):
    client.responses["search"] = [response([], 0)]
    engine.search(EngineQuery(filter=clause))
    assert sent(client)["query"] == {"bool": {"filter": [dsl]}}


@pytest.mark.parametrize(
    ("sort", "order"),
    [
        (
            "updated",
            [
                {"updated_at": {"order": "desc", "missing": "_last"}},
                {"title_key": {"order": "asc"}},
                {"doc_id": {"order": "asc"}},
            ],
        ),
        ("title", [{"title_key": {"order": "asc"}}, {"doc_id": {"order": "asc"}}]),
        (
            "patients",
            [
                {"patients": {"order": "desc", "missing": "_last"}},
                {"title_key": {"order": "asc"}},
                {"doc_id": {"order": "asc"}},
            ],
        ),
        (
            "relevance",
            [
                {"_score": {"order": "desc"}},
                {"updated_at": {"order": "desc", "missing": "_last"}},
                {"title_key": {"order": "asc"}},
                {"doc_id": {"order": "asc"}},
            ],
        ),
    ],
)
def test_every_sort_ends_in_the_exact_tie_breaks(client, engine, sort, order):
    client.responses["search"] = [response([], 0)]
    engine.search(EngineQuery(filter=Everything(), sort=sort))
    assert sent(client)["sort"] == order


def test_relevance_adds_points_as_constant_scores_and_the_rank_below_half_a_point(client, engine):
    client.responses["search"] = [response([7, 3], 2)]
    query = EngineQuery(
        filter=Match("title", ("aml",)),
        scores=(
            Score(Match("title", ("aml",)), 8),
            Score(Terms("disease", ("NCIT:C3171",)), 6),
            Score(Terms("term", ("HV:1",)), 0),  # no points: no clause
        ),
        rank_keys=("aml", "induct", "aml"),
        sort="relevance",
    )
    assert engine.search(query).ids == [7, 3]
    match = {"query": "aml induct", "operator": "or"}
    assert sent(client)["query"] == {
        "bool": {
            "filter": [{"terms": {"title": ["aml"]}}],
            "should": [
                {"constant_score": {"filter": {"terms": {"title": ["aml"]}}, "boost": 8}},
                {"constant_score": {"filter": {"terms": {"disease": ["NCIT:C3171"]}}, "boost": 6}},
                {
                    "script_score": {
                        "query": {
                            "bool": {
                                "should": [
                                    {"match": {"title": {**match, "boost": 1.0}}},
                                    {"match": {"keywords": {**match, "boost": 0.4}}},
                                    {"match": {"description": {**match, "boost": 0.2}}},
                                ],
                                "minimum_should_match": 1,
                            }
                        },
                        "script": {
                            "source": "0.5 * _score / (_score + 1.0)",
                            "lang": "painless",
                        },
                    }
                },
            ],
            "minimum_should_match": 0,
        }
    }


def test_fractional_points_are_scaled_to_whole_numbers(client, engine):
    client.responses["search"] = [response([], 0)]
    query = EngineQuery(
        filter=Everything(),
        scores=(Score(Terms("country", ("DE",)), 0.5), Score(Terms("country", ("NL",)), 1.25)),
        sort="relevance",
    )
    engine.search(query)
    boosts = [c["constant_score"]["boost"] for c in sent(client)["query"]["bool"]["should"]]
    # x4: 2 and 5 keep the order and the sums of 0.5 and 1.25, and stay whole
    assert boosts == [2.0, 5.0]


@pytest.mark.parametrize(
    "points",
    [
        (0.1,),  # no power of two up to 1024 makes it whole
        (-1,),  # Lucene scores are never negative
        (2.0**22,),  # float32 scores could no longer keep a rank below half a point apart
    ],
)
def test_points_the_scores_cannot_keep_apart_are_left_to_sql(client, engine, points):
    query = EngineQuery(
        filter=Everything(),
        scores=tuple(Score(Terms("country", ("DE",)), p) for p in points),
        sort="relevance",
    )
    with pytest.raises(Unsupported):
        engine.search(query)
    assert client.named("search") == []


def test_other_sorts_compute_no_scores(client, engine):
    client.responses["search"] = [response([], 0)]
    query = EngineQuery(
        filter=Everything(),
        scores=(Score(Terms("country", ("DE",)), 3),),
        rank_keys=("aml",),
        sort="patients",
    )
    engine.search(query)
    assert sent(client)["query"] == {"bool": {"filter": [{"match_all": {}}]}}


def test_selected_facets_filter_the_hits_and_every_other_facets_counts(client, engine):
    client.responses["search"] = [response([], 0, aggregations=AGGREGATIONS)]
    engine.search(FACETED)
    body = sent(client)
    assert body["post_filter"] == {
        "bool": {
            "filter": [
                {"terms": {"country": ["DE", "NL"]}},
                {"terms": {"source_type": ["registry"]}},
            ]
        }
    }
    assert body["aggs"] == {
        # country is selected: counted under source_type only, so DE's alternatives stay
        "facet0": {
            "filter": {"terms": {"source_type": ["registry"]}},
            "aggs": {"count0": {"terms": {"field": "countries_set", "size": 10_000}}},
        },
        # source_type is selected: counted under country only
        "facet1": {
            "filter": {"terms": {"country": ["DE", "NL"]}},
            "aggs": {
                "count0": {
                    "terms": {
                        "field": "source_type",
                        "include": ["registry", "biobank"],
                        "size": 2,
                    }
                }
            },
        },
        # not selected: counted under every selected facet, as the hits are
        "facet2": {
            "filter": {
                "bool": {
                    "filter": [
                        {"terms": {"country": ["DE", "NL"]}},
                        {"terms": {"source_type": ["registry"]}},
                    ]
                }
            },
            "aggs": {
                "count0": {
                    "range": {
                        "field": "patients",
                        "keyed": True,
                        # inclusive bounds; the aggregation includes "from" and excludes "to"
                        "ranges": [
                            {"key": "0-99", "from": 0, "to": 100},
                            {"key": "100-499", "from": 100, "to": 500},
                            {"key": "5000-", "from": 5000},
                        ],
                    }
                },
                "count1": {"filter": {"bool": {"must_not": [{"exists": {"field": "patients"}}]}}},
            },
        },
    }
    # the query itself holds only the filter: aggregations see it, not the post filter
    assert body["query"] == {"bool": {"filter": [{"terms": {"visibility": ["published"]}}]}}


@pytest.mark.parametrize(
    "query",
    [
        EngineQuery(filter=Terms("no_such_field", ("x",))),
        EngineQuery(filter=Everything(), counts=(("x", (TermsCount("no_such_field"),)),)),
    ],
)
def test_a_field_the_index_lacks_is_left_to_sql(client, engine, query):
    # OpenSearch matches nothing on an unmapped field instead of failing: never ask
    with pytest.raises(Unsupported, match="no_such_field"):
        engine.search(query)
    assert client.named("search") == []


def test_a_deep_page_is_from_and_size(client, engine):
    client.responses["search"] = [response([], 1500)]
    engine.search(EngineQuery(filter=Everything(), offset=980, limit=20))
    body = sent(client)
    assert (body["from"], body["size"]) == (980, 20)


def test_a_page_beyond_the_result_window_is_left_to_sql(client, engine):
    # from + size > index.max_result_window (10,000) is refused by the server
    with pytest.raises(Unsupported, match="max_result_window"):
        engine.search(EngineQuery(filter=Everything(), offset=9_990, limit=20))
    assert client.named("search") == []


# --- (b) responses ----------------------------------------------------------------------------

FACETED = EngineQuery(
    filter=Terms("visibility", ("published",)),
    facets=(
        ("country", Terms("country", ("DE", "NL"))),
        ("source_type", Terms("source_type", ("registry",))),
    ),
    counts=(
        ("country", (TermsCount("countries_set"),)),
        ("source_type", (TermsCount("source_type", include=("registry", "biobank")),)),
        (
            "patients",
            (
                RangeCount(
                    "patients", (("0-99", 0, 99), ("100-499", 100, 499), ("5000-", 5000, None))
                ),
                MatchCount("unknown", Not(Range("patients"))),
            ),
        ),
        ("age_group", ()),  # counts nothing
    ),
    sort="updated",
)

AGGREGATIONS = {
    "facet0": {
        "doc_count": 9,
        "count0": {
            "doc_count_error_upper_bound": 0,
            "sum_other_doc_count": 0,
            "buckets": [
                {"key": " DE NL ", "doc_count": 5},
                {"key": " FR ", "doc_count": 4},
            ],
        },
    },
    "facet1": {
        "doc_count": 6,
        "count0": {
            "doc_count_error_upper_bound": 0,
            "sum_other_doc_count": 0,
            "buckets": [{"key": "registry", "doc_count": 4}, {"key": "biobank", "doc_count": 2}],
        },
    },
    "facet2": {
        "doc_count": 4,
        "count0": {
            "buckets": {
                "0-99": {"from": 0.0, "to": 100.0, "doc_count": 1},
                "100-499": {"from": 100.0, "to": 500.0, "doc_count": 2},
                "5000-": {"from": 5000.0, "doc_count": 0},
            }
        },
        "count1": {"doc_count": 1},
    },
}


def test_a_response_becomes_ids_total_and_each_facets_rows(client, engine):
    client.responses["search"] = [response([12, 4, 30], 4, aggregations=AGGREGATIONS)]
    result = engine.search(FACETED)
    assert result.ids == [12, 4, 30]
    assert result.total == 4
    assert result.counts == {
        "country": [(" DE NL ", 5), (" FR ", 4)],
        "source_type": [("registry", 4), ("biobank", 2)],
        # empty range buckets left out, as the SQL statement's GROUP BY leaves them out
        "patients": [("0-99", 1), ("100-499", 2), ("unknown", 1)],
        "age_group": [],
    }


def test_counts_cut_short_are_never_shown(client, engine):
    cut = {
        "facet0": {
            "doc_count": 9,
            "count0": {
                "sum_other_doc_count": 3,  # values the buckets asked for left out
                "buckets": [{"key": " DE ", "doc_count": 6}],
            },
        }
    }
    client.responses["search"] = [response([], 9, aggregations=cut)]
    query = EngineQuery(filter=Everything(), counts=(("country", (TermsCount("countries_set"),)),))
    with pytest.raises(Unsupported, match="countries_set"):
        engine.search(query)


def test_an_empty_include_list_counts_nothing(client, engine):
    client.responses["search"] = [
        response([], 0, aggregations={"facet0": {"doc_count": 5, "count0": {"doc_count": 0}}})
    ]
    query = EngineQuery(filter=Everything(), counts=(("term", (TermsCount("term", ()),)),))
    assert engine.search(query).counts == {"term": []}
    assert sent(client)["aggs"]["facet0"]["aggs"] == {"count0": {"filter": {"match_none": {}}}}


@pytest.mark.parametrize(
    "partial",
    [
        {"timed_out": True},
        {"_shards": {"total": 3, "successful": 2, "skipped": 0, "failed": 1}},
    ],
)
def test_a_partial_answer_is_not_used(client, engine, partial):
    client.responses["search"] = [response([1], 1, **partial)]
    with pytest.raises(EngineUnavailable, match="partial"):
        engine.search(EngineQuery(filter=Everything()))


# --- (c) rebuild ------------------------------------------------------------------------------


def documents(n: int) -> list[EngineDocument]:
    return [
        EngineDocument(
            i,
            {
                "title": "acut myeloid leukemia",
                "visibility": ["published"],
                "country": ["DE", "NL"],
                "patients": None if i % 2 else 300,
                "updated_at": 1_700_000_000_000_000 + i,
            },
        )
        for i in range(1, n + 1)
    ]


def test_rebuild_loads_a_new_index_in_chunks_then_moves_the_alias_atomically(client, engine):
    client.indices.serve(OLD_INDEX)
    progress: list[int] = []
    written = engine.rebuild(iter(documents(1_201)), progress.append)

    assert written == 1_201
    assert progress == [500, 1_000, 1_201]
    create = client.named("indices.create")[0]
    assert create["index"] == NEW_INDEX
    assert create["body"]["settings"] == {"index": {"refresh_interval": "-1"}}
    assert create["body"]["mappings"] == mapping()
    bulks = client.named("bulk")
    assert [len(b["body"]) for b in bulks] == [1_000, 1_000, 402]  # action + source lines
    assert bulks[0]["body"][:2] == [
        {"index": {"_index": NEW_INDEX, "_id": "1"}},
        {
            "title": "acut myeloid leukemia",
            "visibility": ["published"],
            "country": ["DE", "NL"],
            "updated_at": 1_700_000_000_000_001,
            "doc_id": 1,  # unknown patients left out: sorted last, in no range
        },
    ]
    assert all("refresh" not in b and "require_alias" not in b for b in bulks)
    assert client.named("indices.update_aliases") == [
        {
            "body": {
                "actions": [
                    {"remove": {"index": OLD_INDEX, "alias": "harmony-search"}},
                    {"add": {"index": NEW_INDEX, "alias": "harmony-search"}},
                ]
            }
        }
    ]
    order = [m for m, _ in client.calls if m != "bulk"]
    assert order == [
        "indices.create",
        "indices.put_settings",  # refresh back on (null: the default)
        "indices.refresh",
        "indices.get_alias",
        "indices.update_aliases",
        "indices.get_alias",  # no other rebuild moved it at the same moment
        "indices.delete",  # the old index, once the alias left it
    ]
    assert client.named("indices.put_settings") == [
        {"index": NEW_INDEX, "body": {"index": {"refresh_interval": None}}}
    ]
    assert client.named("indices.delete") == [{"index": OLD_INDEX}]
    assert client.indices.aliases == {"harmony-search": [NEW_INDEX]}
    assert set(client.indices.mappings) == {NEW_INDEX}


def test_the_first_rebuild_creates_the_alias(client, engine):
    assert engine.rebuild(documents(3)) == 3
    assert client.named("indices.update_aliases")[0]["body"] == {
        "actions": [{"add": {"index": NEW_INDEX, "alias": "harmony-search"}}]
    }
    assert client.named("indices.delete") == []


def test_a_rebuild_that_fails_leaves_the_old_index_serving(client, engine):
    client.indices.serve(OLD_INDEX)
    client.failures["bulk"] = (2, opensearchpy.ConnectionTimeout("TIMEOUT", "timed out", None))
    progress: list[int] = []
    with pytest.raises(EngineUnavailable, match="bulk"):
        engine.rebuild(documents(1_201), progress.append)
    assert progress == [500]
    assert client.named("indices.update_aliases") == []
    assert client.named("indices.delete") == [{"index": NEW_INDEX}]  # not the old one


def test_a_rebuild_whose_documents_are_refused_is_dropped(client, engine):
    client.responses["bulk"] = [
        {
            "took": 2,
            "errors": True,
            "items": [
                {"index": {"_id": "1", "status": 201, "result": "created"}},
                {
                    "index": {
                        "_id": "2",
                        "status": 400,
                        "error": {"type": "strict_dynamic_mapping_exception", "reason": "…"},
                    }
                },
            ],
        }
    ]
    with pytest.raises(EngineUnavailable, match=r"1 of 2 actions failed.*strict_dynamic_mapping"):
        engine.rebuild(documents(2))
    assert client.named("indices.delete") == [{"index": NEW_INDEX}]
    assert client.named("indices.update_aliases") == []


def test_a_rebuild_never_deletes_an_index_under_the_alias_name(client, engine):
    client.indices.mappings["harmony-search"] = {}  # a concrete index, not an alias
    with pytest.raises(EngineUnavailable, match="not an alias"):
        engine.rebuild(documents(1))
    assert client.named("indices.update_aliases") == []
    assert client.named("indices.delete") == [{"index": NEW_INDEX}]


def test_two_rebuilds_at_once_settle_on_the_newest_index(client, engine):
    # two processes found no index and rebuilt: the other moved the alias between our
    # reading it and our move, so the alias held both; every rebuild keeps the newest name
    other = "harmony-search-20261207145115999999"

    def other_rebuild() -> None:
        client.indices.mappings[other] = mapping()
        client.indices.aliases["harmony-search"] = [other]

    client.indices.racer = other_rebuild
    assert engine.rebuild(documents(2)) == 2
    assert client.indices.aliases == {"harmony-search": [other]}
    assert client.named("indices.delete") == [{"index": NEW_INDEX}]  # ours lost
    assert set(client.indices.mappings) == {other}


def test_the_mapping_follows_the_fields_and_their_kinds(monkeypatch):
    monkeypatch.setitem(base.EXTRA_FIELDS, "another_areas_field", "keyword")
    body = mapping()
    assert body["dynamic"] == "strict"
    properties = body["properties"]
    assert properties["doc_id"] == {"type": "long"}
    assert properties["title"] == {
        "type": "text",
        "analyzer": "whitespace",
        "similarity": "BM25",
        "index_options": "freqs",
    }
    assert properties["countries_set"] == {"type": "keyword"}
    assert properties["updated_at"] == {"type": "long"}
    assert properties["another_areas_field"] == {"type": "keyword"}
    assert set(properties) == {"doc_id", *base.FIELDS, *base.EXTRA_FIELDS}
    assert body["_meta"] == {"harmony_fields": fields_signature()}


def test_shards_and_replicas_when_configured(client):
    engine = OpenSearchEngine(client, "alliance", shards=3, replicas=1, clock=lambda: BUILT_AT)
    engine.rebuild(documents(1))
    create = client.named("indices.create")[0]
    assert create["index"] == "alliance-20261207145115123456"
    assert create["body"]["settings"] == {
        "index": {"refresh_interval": "-1", "number_of_shards": 3, "number_of_replicas": 1}
    }


# --- (d) writes -------------------------------------------------------------------------------


def test_a_write_indexes_and_deletes_through_the_alias_and_waits_for_a_refresh(client, engine):
    engine.write(documents(2), deleted=[9])
    (bulk,) = client.named("bulk")
    assert bulk["body"] == [
        {"index": {"_index": "harmony-search", "_id": "1"}},
        {
            "title": "acut myeloid leukemia",
            "visibility": ["published"],
            "country": ["DE", "NL"],
            "updated_at": 1_700_000_000_000_001,
            "doc_id": 1,
        },
        {"index": {"_index": "harmony-search", "_id": "2"}},
        {
            "title": "acut myeloid leukemia",
            "visibility": ["published"],
            "country": ["DE", "NL"],
            "patients": 300,
            "updated_at": 1_700_000_000_000_002,
            "doc_id": 2,
        },
        {"delete": {"_index": "harmony-search", "_id": "9"}},
    ]
    # searchable when write returns; never an index auto-created under the alias' name
    assert bulk["refresh"] == "wait_for"
    assert bulk["require_alias"] is True


def test_a_large_write_waits_for_the_refresh_once_at_the_end(client, engine):
    engine.write(documents(501))
    bulks = client.named("bulk")
    assert [len(b["body"]) for b in bulks] == [1_000, 2]
    assert [b.get("refresh") for b in bulks] == [None, "wait_for"]


def test_bulk_requests_stay_small_when_documents_are_large(client, engine):
    engine.chunk_bytes = 10_000
    large = documents(5)
    for document in large:
        document.fields["variables"] = "hgb " * 1_500  # 6,000 characters
    engine.rebuild(large)
    # two large documents would pass 10,000 bytes: one per request
    assert [len(b["body"]) // 2 for b in client.named("bulk")] == [1, 1, 1, 1, 1]


def test_deleting_a_document_the_engine_never_had_is_not_an_error(client, engine):
    client.responses["bulk"] = [
        {
            "took": 1,
            "errors": False,
            "items": [{"delete": {"_id": "9", "status": 404, "result": "not_found"}}],
        }
    ]
    engine.write([], deleted=[9])
    assert len(client.named("bulk")) == 1


def test_nothing_to_write_asks_nothing(client, engine):
    engine.write([])
    assert client.calls == []


def test_a_write_without_the_alias_fails_loudly(client, engine):
    client.responses["bulk"] = [
        {
            "took": 1,
            "errors": True,
            "items": [
                {
                    "index": {
                        "_id": "1",
                        "status": 404,
                        "error": {"type": "index_not_found_exception", "reason": "no such index"},
                    }
                }
            ],
        }
    ]
    with pytest.raises(EngineUnavailable, match="index_not_found_exception"):
        engine.write(documents(1))


# --- (e) errors -------------------------------------------------------------------------------

CLIENT_FAILURES = [
    opensearchpy.ConnectionError("N/A", "connection refused", None),
    opensearchpy.ConnectionTimeout("TIMEOUT", "read timed out", None),
    opensearchpy.TransportError(503, "cluster_block_exception", {}),
    opensearchpy.NotFoundError(404, "index_not_found_exception", {}),  # never rebuilt
    opensearchpy.AuthenticationException(401, "security_exception", {}),
    opensearchpy.RequestError(400, "parsing_exception", {}),
]


@pytest.mark.parametrize("failure", CLIENT_FAILURES, ids=lambda e: type(e).__name__)
def test_every_client_failure_of_a_search_is_engine_unavailable(client, engine, failure):
    client.failures["search"] = failure
    with pytest.raises(EngineUnavailable, match="OpenSearch search") as raised:
        engine.search(EngineQuery(filter=Everything()))
    assert raised.value.__cause__ is failure


@pytest.mark.parametrize("failure", CLIENT_FAILURES[:3], ids=lambda e: type(e).__name__)
def test_every_client_failure_of_a_write_is_engine_unavailable(client, engine, failure):
    client.failures["bulk"] = failure
    with pytest.raises(EngineUnavailable, match="OpenSearch bulk"):
        engine.write(documents(1))


def test_count_is_the_aliass_documents(client, engine):
    client.indices.serve(OLD_INDEX)
    client.responses["count"] = [{"count": 9_500}, {"count": 9_501}]
    assert engine.count() == 9_500
    assert engine.count() == 9_501
    assert len(client.named("indices.get_mapping")) == 1  # the fields are checked once


def test_count_is_minus_one_without_an_index(client, engine):
    assert engine.count() == -1
    assert client.named("count") == []


def test_count_is_minus_one_for_an_index_built_with_other_fields(client, engine, monkeypatch):
    client.indices.serve(OLD_INDEX)
    monkeypatch.setitem(base.EXTRA_FIELDS, "another_areas_field", "keyword")
    assert engine.count() == -1  # the service rebuilds it
    engine.rebuild(documents(1))
    client.responses["count"] = [{"count": 1}]
    assert engine.count() == 1


def test_count_of_an_unreachable_engine_is_unavailable(client, engine):
    client.indices.serve(OLD_INDEX)
    client.failures["count"] = opensearchpy.ConnectionError("N/A", "refused", None)
    with pytest.raises(EngineUnavailable, match="count"):
        engine.count()


# --- in step with the database (base.Stamped) -----------------------------------------------


def test_the_fingerprint_is_the_documents_and_the_sum_of_their_revisions(client, engine):
    client.responses["search"] = [
        response([], 9_500, aggregations={"revisions": {"value": 10_200_000_123_456.0}})
    ]
    assert engine.fingerprint() == (9_500, 10_200_000_123_456)
    assert sent(client) == {
        "size": 0,
        "track_total_hits": True,
        "query": {"match_all": {}},
        "aggs": {"revisions": {"sum": {"field": "revision"}}},
    }


def test_stamps_page_through_every_document_after_the_last_id(client, engine, monkeypatch):
    monkeypatch.setattr("catalogue.search.engine.opensearch.STAMPS_PAGE", 2)

    def page(*stamps: tuple[int, int | None]) -> dict[str, Any]:
        answer = response([], 0)
        answer["hits"]["hits"] = [
            {"_id": str(i), "sort": [i], "fields": {} if r is None else {"revision": [r]}}
            for i, r in stamps
        ]
        return answer

    client.responses["search"] = [page((1, 11), (4, 44)), page((7, None))]
    assert engine.stamps() == {1: 11, 4: 44, 7: 0}  # no revision yet: 0, as in the database
    first, second = (call["body"] for call in client.named("search"))
    assert first == {
        "size": 2,
        "track_total_hits": False,
        "_source": False,
        "docvalue_fields": ["revision"],
        "query": {"match_all": {}},
        "sort": [{"doc_id": {"order": "asc"}}],
    }
    assert second == {**first, "search_after": [4]}


# --- configuration ----------------------------------------------------------------------------


def test_from_config_reads_the_url_with_its_credentials_and_the_alias():
    engine = OpenSearchEngine.from_config(
        {
            "OPENSEARCH_URL": "https://harmony:s3cret@search.example.org:9200",
            "OPENSEARCH_INDEX": "alliance-search",
            "OPENSEARCH_TIMEOUT_MS": "1500",
        }
    )
    assert engine.alias == "alliance-search"
    assert engine.search_timeout == 1.5
    (host,) = engine.client.transport.hosts
    assert host == {
        "host": "search.example.org",
        "port": 9200,
        "use_ssl": True,
        "http_auth": "harmony:s3cret",
    }
    assert engine.client.transport.kwargs["verify_certs"] is True
    assert engine.client.transport.kwargs["timeout"] == 1.5


def test_from_config_can_skip_certificate_checks_or_trust_a_ca_file(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the client warns about verify_certs=False
        engine = OpenSearchEngine.from_config(
            {"OPENSEARCH_URL": "https://localhost:9200", "OPENSEARCH_VERIFY_CERTS": "false"}
        )
    assert engine.client.transport.kwargs["verify_certs"] is False
    assert engine.alias == "harmony-search"
    ca = tmp_path / "ca.pem"
    ca.write_text("")
    engine = OpenSearchEngine.from_config(
        {"OPENSEARCH_URL": "https://localhost:9200", "OPENSEARCH_CA_FILE": str(ca)}
    )
    assert engine.client.transport.kwargs["ca_certs"] == str(ca)


def test_from_config_reads_the_environment_for_what_the_configuration_lacks(monkeypatch):
    monkeypatch.setenv("OPENSEARCH_URL", "http://opensearch:9200")
    monkeypatch.setenv("OPENSEARCH_SHARDS", "2")
    engine = OpenSearchEngine.from_config({"SEARCH_ENGINE": "opensearch"})
    assert engine.client.transport.hosts == [{"host": "opensearch", "port": 9200}]
    assert engine.shards == 2


def test_from_config_without_a_url_says_what_is_missing(monkeypatch):
    monkeypatch.delenv("OPENSEARCH_URL", raising=False)
    with pytest.raises(ConfigError, match="OPENSEARCH_URL"):
        OpenSearchEngine.from_config({"SEARCH_ENGINE": "opensearch"})


def test_from_config_refuses_a_setting_that_is_not_a_number():
    with pytest.raises(ConfigError, match="OPENSEARCH"):
        OpenSearchEngine.from_config(
            {"OPENSEARCH_URL": "http://opensearch:9200", "OPENSEARCH_REPLICAS": "one"}
        )


# --- (f) the requests' meaning, on the in-memory double of the client ------------------------
#
# Proves: for random documents and queries, the requests the adapter builds, evaluated by
# tests/catalogue/search/opensearch_double.py as the OpenSearch documentation describes each
# part (bool filter/should/must_not and minimum_should_match, terms, range, exists,
# constant_score, post_filter applied to hits and total but not to aggregations,
# filter/terms/range aggregations, sort with missing values and multi-valued keyword min/max,
# from/size, float32 scores), give the hits, order, total and counts that the contract defines
# (catalogue/search/engine/check.py's holds: the clause language's reference meaning),
# evaluated directly here; the documents get there by a rebuild through the adapter.
# Does not prove: that a server behaves as the double (written here from the documentation);
# BM25 (the double's text score is a stand-in: occurrences of the query's words x boost, the
# same below, so that only "the rank never overturns points" is checked, not the rank itself).


def _loaded(docs: list[EngineDocument]) -> OpenSearchEngine:
    engine = OpenSearchEngine(MemoryClient(), clock=lambda: BUILT_AT)
    assert engine.rebuild(docs) == len(docs)
    return engine


def _reference(query: EngineQuery, docs: list[EngineDocument]) -> tuple[list[int], int, dict]:
    selected = dict(query.facets)
    hits = [d for d in docs if holds(AllOf((query.filter, *selected.values())), d)]

    def rank(d: EngineDocument) -> float:  # the double's stand-in, weighted as ts_rank A-C
        keys = set(query.rank_keys)
        s = sum(
            w * sum(1 for token in (d.fields.get(f) or "").split() if token in keys)
            for f, w in (("title", 1.0), ("keywords", 0.4), ("description", 0.2))
        )
        return 0.5 * s / (s + 1.0)

    def key(d: EngineDocument) -> tuple:
        f = d.fields
        rest = (f["title_key"][0], d.id)
        if query.sort == "relevance":
            return (-points(query, d), -rank(d), -f["updated_at"], *rest)
        if query.sort == "updated":
            return (-f["updated_at"], *rest)
        if query.sort == "patients":
            return (f.get("patients") is None, -(f.get("patients") or 0), *rest)
        return rest

    hits.sort(key=key)
    counts: dict[str, list[tuple[str, int]]] = {}
    for facet, wanted in query.counts:
        others = [c for name, c in query.facets if name != facet]
        base_set = [d for d in docs if holds(AllOf((query.filter, *others)), d)]
        rows = counts.setdefault(facet, [])
        for count in wanted:
            if isinstance(count, TermsCount):
                values = {v for d in base_set for v in d.fields.get(count.field) or []}
                if count.include is not None:
                    values &= set(count.include)
                for v in values:
                    rows.append((v, sum(v in (d.fields.get(count.field) or []) for d in base_set)))
            elif isinstance(count, RangeCount):
                for name, low, high in count.buckets:
                    n = sum(holds(Range(count.field, low, high), d) for d in base_set)
                    if n:
                        rows.append((name, n))
            else:
                rows.append((count.name, sum(holds(count.clause, d) for d in base_set)))
    page = [d.id for d in hits[query.offset : query.offset + query.limit]]
    return page, len(hits), counts


WORDS = ("aml", "mds", "myeloma", "induct", "transfus", "registri", "cohort")


def _random_documents(rng: random.Random, n: int) -> list[EngineDocument]:
    return [
        EngineDocument(
            i,
            {
                "title": " ".join(rng.sample(WORDS, rng.randint(1, 3))),
                "keywords": " ".join(rng.sample(WORDS, rng.randint(0, 2))),
                "description": " ".join(rng.sample(WORDS, rng.randint(0, 3))),
                "variables": " ".join(rng.sample(WORDS, rng.randint(0, 4))),
                "visibility": [rng.choice(("published", "published_with_draft", "draft"))],
                "organisation_id": [rng.choice(("org-a", "org-b", "org-c"))],
                "country": rng.sample(("DE", "NL", "FR", "IT"), rng.randint(0, 3)),
                "source_type": [rng.choice(("registry", "biobank", "clinical_trial"))],
                "title_key": [rng.choice(("a", "b", "c", "d"))],  # ties on purpose
                "patients": rng.choice((None, 0, 50, 99, 100, 300, 499, 500, 5000)),
                "updated_at": rng.randint(1, 6),  # ties on purpose
            },
        )
        for i in rng.sample(range(1, 10 * n), n)
    ]


def _random_query(rng: random.Random) -> EngineQuery:
    own = rng.choice((None, set(), {"org-a"}, {"org-b", "org-c"}))
    parts: list[Any] = [visible(own)]
    words = rng.sample(WORDS, rng.randint(0, 2))
    for word in words:
        parts.append(AnyOf(tuple(Match(f, (word,)) for f in ("title", "keywords", "description"))))
    facets: list[tuple[str, Any]] = []
    if rng.random() < 0.5:
        facets.append(("country", Terms("country", tuple(rng.sample(("DE", "NL", "FR"), 2)))))
    if rng.random() < 0.5:
        facets.append(("source_type", Terms("source_type", (rng.choice(("registry", "biobank")),))))
    if rng.random() < 0.4:
        facets.append(
            ("patients", Range("patients", rng.choice((None, 50, 100)), rng.choice((None, 499))))
        )
    rng.shuffle(facets)
    scores = tuple(
        Score(
            Match(rng.choice(("title", "keywords", "variables")), (w,)),
            rng.choice((8, 4, 2, 1, 0.5, 0.25, 6)),
        )
        for w in words
    ) + ((Score(Terms("country", ("DE",)), 1.5),) if rng.random() < 0.3 else ())
    return EngineQuery(
        filter=AllOf(tuple(parts)),
        scores=scores,
        rank_keys=tuple(words),
        facets=tuple(facets),
        counts=(
            ("country", (TermsCount("country"),)),
            ("source_type", (TermsCount("source_type", include=("registry", "biobank")),)),
            (
                "patients",
                (
                    RangeCount(
                        "patients", (("0-99", 0, 99), ("100-499", 100, 499), ("500-", 500, None))
                    ),
                    MatchCount("unknown", Not(Range("patients"))),
                ),
            ),
        ),
        sort=rng.choice(("relevance", "updated", "title", "patients")),
        offset=rng.choice((0, 0, 3, 10)),
        limit=rng.choice((1, 5, 20)),
    )


def test_the_requests_mean_what_the_contract_says_on_random_queries():
    rng = random.Random(16)
    docs = _random_documents(rng, 80)
    engine = _loaded(docs)
    for _ in range(200):
        query = _random_query(rng)
        result = engine.search(query)
        ids, total, counts = _reference(query, docs)
        assert (result.ids, result.total) == (ids, total), query
        assert {f: sorted(rows) for f, rows in result.counts.items()} == {
            f: sorted(rows) for f, rows in counts.items()
        }, query


def test_the_rank_never_overturns_points_even_a_quarter_of_one():
    fields = {"visibility": ["published"], "title_key": ["a"], "updated_at": 1}
    docs = [
        # a quarter point (its variables hold the word), little rank (the description does)
        EngineDocument(1, {**fields, "title": "x", "variables": "aml", "description": "aml"}),
        # no points, much rank: both words in the title and the keywords
        EngineDocument(2, {**fields, "title": "aml mds", "keywords": "aml mds"}),
    ]
    engine = _loaded(docs)
    query = EngineQuery(
        filter=Everything(),
        scores=(Score(Match("variables", ("aml",)), 0.25),),
        rank_keys=("aml", "mds"),
        sort="relevance",
    )
    assert engine.search(query).ids == [1, 2]
    assert _reference(query, docs)[0] == [1, 2]
