"""The search engine contract (:mod:`.base`) on OpenSearch 2.x or Elasticsearch 8, for an
alliance whose catalogue outgrows one machine (``SEARCH_ENGINE=opensearch``).

Written against the documented query DSL and REST APIs, and tested with test doubles of the
client only (``tests/catalogue/search/test_opensearch_adapter.py``, ``opensearch_double.py``,
``test_opensearch_service.py``): no server runs where this was written. What that leaves
untested is listed in the README ("Scaling search out").

**The index.** One concrete index per build (``<alias>-<UTC timestamp>``) behind an alias
(``OPENSEARCH_INDEX``, default ``harmony-search``): a rebuild loads a new index while searches
read the old one, then moves the alias in one atomic ``_aliases`` request and deletes the old
index. Fields come from :func:`.base.all_fields`: text fields hold the search index's keys
(already normalised and stemmed), so they use the ``whitespace`` analyzer (no lower-casing, no
stemming: a key is a token) with BM25; keyword fields are ``keyword``; integers ``long``. The
document id is the ``_id`` and also a ``long`` field ``doc_id``, the last sort key (``_id`` has
no doc values to sort on). The mapping is strict and holds the fields' signature in ``_meta``:
an index built before another area registered a field counts as none
(:meth:`OpenSearchEngine.count` is -1), so the service rebuilds it.

**A search** is one ``_search`` request:

- ``query``: ``bool.filter`` holds the query's filter (so it never changes a score) and, for
  ``sort=relevance``, ``bool.should`` adds the relevance: each :class:`.base.Score` as a
  ``constant_score`` whose ``boost`` is its points (``bool`` sums its ``should`` clauses' scores,
  so points add up as in SQL), plus the text rank of the ``rank_keys`` as a ``script_score``
  over ``match`` queries on the title (1.0), keywords (0.4) and description (0.2) — what
  PostgreSQL's ``ts_rank`` ranks, with its weights A-C — squashed into [0, 0.5) by
  ``0.5 * s / (s + 1)``. Points are scaled to integers (x1, x2, x4 … x1024) so that the rank,
  always below half a point, only orders documents of equal points. Sorting by ``_score`` then
  orders by points exactly while their scaled sum stays below 2^22 (float32 scores); beyond
  that, or for points no power of two up to 1024 makes whole, the search is
  :class:`.base.Unsupported`.
- The rank is BM25, not PostgreSQL's ``ts_rank`` (and SQLite ranks nothing: equal points go by
  the date there), so documents of *equal points* may come in another order than on either
  database; documents of different points never do. BM25's statistics are per shard.
- ``post_filter``: the selected facets' clauses (hits and total obey them); each facet's counts
  are a ``filter`` aggregation holding every *other* selected facet's clauses around its
  ``terms``/``range``/``filter`` aggregations (aggregations see the query, not the post filter):
  the disjunctive counting of :class:`.base.EngineQuery`.
- ``sort``: the exact orders of :class:`.base.EngineQuery` (``updated_at``, ``title_key``,
  ``patients`` with unknown last, then ``doc_id``); ``track_total_hits: true`` for an exact
  total; ``from``/``size`` for the page. ``from + size`` beyond ``index.max_result_window``
  (10,000 by default, :attr:`OpenSearchEngine.max_result_window`) is refused by the server, so
  such a page is :class:`.base.Unsupported` here (the SQL statement answers it; page 50 at 20
  per page reaches 1,000).
- A ``terms`` aggregation asks for ``include``'s length of buckets, or
  :attr:`OpenSearchEngine.terms_size` (10,000; the cluster's ``search.max_buckets``, 65,535 by
  default in OpenSearch 2.x, bounds the buckets of one request). Counts must be exact: a
  response that left values out (``sum_other_doc_count`` > 0) is :class:`.base.Unsupported`,
  never shown short.
- A response with failed shards or ``timed_out`` is partial, so it raises
  :class:`.base.EngineUnavailable` as connection errors, timeouts and error statuses do.

**Writes** are one ``_bulk`` request per chunk with ``refresh=wait_for`` on the last (the change
is searchable when :meth:`~OpenSearchEngine.write` returns, at the next refresh: 1 s by
default) and ``require_alias`` (a missing alias must not auto-create an index with guessed
mappings).
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import logging
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from catalogue.search.engine.base import (
    AllOf,
    AnyOf,
    Clause,
    Count,
    EngineDocument,
    EngineQuery,
    EngineResult,
    EngineUnavailable,
    Everything,
    FieldKind,
    Match,
    MatchCount,
    Not,
    Range,
    RangeCount,
    Terms,
    TermsCount,
    Unsupported,
    all_fields,
)

log = logging.getLogger(__name__)

DEFAULT_INDEX = "harmony-search"
#: changes what an index holds without changing the fields: a new number rebuilds every index
FORMAT = 1
#: ids and revisions read per request by :meth:`OpenSearchEngine.stamps`
STAMPS_PAGE = 10_000

#: the text rank: BM25 of these fields, weighted as PostgreSQL's ts_rank weighs A, B and C
#: (its ranked_tsv holds these three; the variables are not ranked)
RANK_WEIGHTS = {"title": 1.0, "keywords": 0.4, "description": 0.2}
#: the text rank squashed into [0, 0.5): below half a point, so it orders equal points only
RANK_SCRIPT = "0.5 * _score / (_score + 1.0)"
#: points are multiplied by the smallest of these that makes each a whole number
POINT_SCALES = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)
#: float32 scores hold whole numbers exactly up to 2^24; below 2^22 a rank under 0.5 can never
#: round a sum of points up to the next one
MAX_SCALED_POINTS = 2**22

SORTS: dict[str, list[dict[str, Any]]] = {
    "relevance": [
        {"_score": {"order": "desc"}},
        {"updated_at": {"order": "desc", "missing": "_last"}},
        {"title_key": {"order": "asc"}},
        {"doc_id": {"order": "asc"}},
    ],
    "updated": [
        {"updated_at": {"order": "desc", "missing": "_last"}},
        {"title_key": {"order": "asc"}},
        {"doc_id": {"order": "asc"}},
    ],
    "title": [{"title_key": {"order": "asc"}}, {"doc_id": {"order": "asc"}}],
    "patients": [
        {"patients": {"order": "desc", "missing": "_last"}},
        {"title_key": {"order": "asc"}},
        {"doc_id": {"order": "asc"}},
    ],
}


def match_all() -> dict[str, Any]:
    return {"match_all": {}}


def match_none() -> dict[str, Any]:
    return {"match_none": {}}


# --- clauses as query DSL ---------------------------------------------------------------------


def clause_dsl(clause: Clause) -> dict[str, Any]:
    """The query DSL (filter context) of a clause.

    ``Match`` and ``Terms`` are both a ``terms`` query: it looks the values up as they are,
    unanalysed, and a text field's tokens are exactly the keys (whitespace analyzer).

    :raises Unsupported: a field the index does not have (OpenSearch would match nothing, not
        fail).
    """
    if isinstance(clause, Match | Terms | Range):
        _known(clause.field)
    if isinstance(clause, Match):
        return {"terms": {clause.field: list(clause.keys)}} if clause.keys else match_none()
    if isinstance(clause, Terms):
        return {"terms": {clause.field: list(clause.values)}} if clause.values else match_none()
    if isinstance(clause, Range):
        bounds = {}
        if clause.low is not None:
            bounds["gte"] = clause.low
        if clause.high is not None:
            bounds["lte"] = clause.high
        # no bounds: any value, but a document without the field still does not match
        return {"range": {clause.field: bounds}} if bounds else {"exists": {"field": clause.field}}
    if isinstance(clause, AllOf):
        return all_of([clause_dsl(c) for c in clause.clauses])
    if isinstance(clause, AnyOf):
        parts = [clause_dsl(c) for c in clause.clauses]
        if not parts:
            return match_none()
        if len(parts) == 1:
            return parts[0]
        return {"bool": {"should": parts, "minimum_should_match": 1}}
    if isinstance(clause, Not):
        return {"bool": {"must_not": [clause_dsl(clause.clause)]}}
    if isinstance(clause, Everything):
        return match_all()
    raise Unsupported(f"no OpenSearch form for {clause!r}")


def _known(field: str) -> None:
    if field not in all_fields():
        raise Unsupported(f"no engine field {field}")


def all_of(parts: Sequence[dict[str, Any]]) -> dict[str, Any]:
    if not parts:
        return match_all()
    if len(parts) == 1:
        return parts[0]
    return {"bool": {"filter": list(parts)}}


def point_scale(points: Iterable[float]) -> int:
    """The smallest scale making every point a whole number.

    :raises Unsupported: none up to 1024 does, a point is negative (Lucene scores are not), or
        the scaled sum is too large for float32 scores to keep the points apart.
    """
    points = [p for p in points if p]
    if any(p < 0 for p in points):
        raise Unsupported("negative relevance points")
    for scale in POINT_SCALES:
        if all(float(p * scale).is_integer() for p in points):
            if sum(points) * scale >= MAX_SCALED_POINTS:
                raise Unsupported("relevance points too large for exact float32 scores")
            return scale
    raise Unsupported("relevance points that no power of two up to 1024 makes whole")


def fields_signature(fields: Mapping[str, FieldKind] | None = None) -> str:
    """What the index was built with (its mapping's ``_meta``): other fields, another index."""
    fields = all_fields() if fields is None else fields
    described = ",".join(f"{name}:{kind}" for name, kind in sorted(fields.items()))
    return hashlib.sha256(f"{FORMAT};{described}".encode()).hexdigest()[:16]


def mapping(fields: Mapping[str, FieldKind] | None = None) -> dict[str, Any]:
    """The index's mappings: ``doc_id`` and every engine field by kind; strict; the fields'
    signature in ``_meta``."""
    fields = all_fields() if fields is None else fields
    properties: dict[str, Any] = {"doc_id": {"type": "long"}}
    for name, kind in fields.items():
        if kind == "text":
            properties[name] = {
                "type": "text",
                "analyzer": "whitespace",
                "similarity": "BM25",
                "index_options": "freqs",  # no phrase queries: positions are not needed
            }
        elif kind == "keyword":
            properties[name] = {"type": "keyword"}
        else:
            properties[name] = {"type": "long"}
    return {
        "dynamic": "strict",
        "_meta": {"harmony_fields": fields_signature(fields)},
        "properties": properties,
    }


def source(document: EngineDocument) -> dict[str, Any]:
    """The indexed document: its fields without the unknown (None) ones, and ``doc_id``."""
    body = {name: value for name, value in document.fields.items() if value is not None}
    body["doc_id"] = document.id
    return body


# --- errors ---------------------------------------------------------------------------------


def _client_errors() -> tuple[type[BaseException], ...]:
    try:
        from opensearchpy.exceptions import ImproperlyConfigured, OpenSearchException
    except ImportError:  # a test double without the library
        return (OSError,)
    return (OpenSearchException, ImproperlyConfigured, OSError)


def _status(error: BaseException) -> Any:
    status = getattr(error, "status_code", None)
    return status if isinstance(status, int) else None


def _describe(error: BaseException) -> str:
    status = _status(error)
    kind = getattr(error, "error", None)
    if status is not None:
        return f"HTTP {status} {kind or type(error).__name__}"
    return type(error).__name__


# --- the engine -----------------------------------------------------------------------------


class OpenSearchEngine:
    """:class:`.base.Engine` on an OpenSearch (or Elasticsearch 8) cluster.

    ``client`` is an ``opensearchpy.OpenSearch`` or anything with the methods used here
    (``search``, ``bulk``, ``count`` and ``indices.create/delete/exists/get_alias/
    get_mapping/update_aliases/put_settings/refresh``).
    """

    name = "opensearch"

    #: ``from + size`` the index serves (``index.max_result_window``)
    max_result_window = 10_000
    #: buckets a ``terms`` count asks for without an include list
    terms_size = 10_000
    #: documents per bulk request in a rebuild or a large write …
    chunk_size = 500
    #: … and about this many bytes at most (a document's variables can hold 50,000 words;
    #: requests beyond http.max_content_length, 100 MB by default, are refused)
    chunk_bytes = 10 * 2**20
    #: seconds a search may take before the service answers with SQL instead
    search_timeout = 2.0
    #: seconds a bulk request, alias move or index creation may take
    write_timeout = 120.0

    def __init__(
        self,
        client: Any,
        index: str = DEFAULT_INDEX,
        *,
        shards: int | None = None,
        replicas: int | None = None,
        search_timeout: float | None = None,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.client = client
        self.alias = index
        self.shards = shards
        self.replicas = replicas
        if search_timeout is not None:
            self.search_timeout = search_timeout
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self._built_with: str | None = None  # the fields' signature the alias' index has

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> OpenSearchEngine:
        """The engine the configuration names (``OPENSEARCH_URL`` with the user and password
        in it, ``OPENSEARCH_INDEX``, ``OPENSEARCH_CA_FILE``, ``OPENSEARCH_VERIFY_CERTS``,
        ``OPENSEARCH_TIMEOUT_MS``, ``OPENSEARCH_SHARDS``, ``OPENSEARCH_REPLICAS``). Connects
        lazily: nothing is asked of the cluster here.

        Each setting is read from ``config`` (the application's), or else from the
        environment.

        :raises ConfigError: no ``OPENSEARCH_URL``, a setting that is not a number, or
            opensearch-py is not installed.
        """
        from core.config import ConfigError

        def setting(name: str) -> Any:
            value = config.get(name)
            return os.environ.get(name) if value is None else value

        url = str(setting("OPENSEARCH_URL") or "").strip()
        if not url:
            raise ConfigError("SEARCH_ENGINE=opensearch needs OPENSEARCH_URL")
        try:
            from opensearchpy import OpenSearch
        except ImportError as error:  # the optional extra
            raise ConfigError(
                "SEARCH_ENGINE=opensearch needs opensearch-py: pip install '.[opensearch]'"
            ) from error
        try:
            timeout = _number(setting("OPENSEARCH_TIMEOUT_MS"), 2000) / 1000
            shards, replicas = (
                _whole(setting("OPENSEARCH_SHARDS")),
                _whole(setting("OPENSEARCH_REPLICAS")),
            )
        except ValueError as error:
            raise ConfigError(f"OPENSEARCH_* settings: {error}") from error
        options: dict[str, Any] = {
            "verify_certs": _flag(setting("OPENSEARCH_VERIFY_CERTS"), True),
            "timeout": timeout,
            "max_retries": 1,
            "retry_on_timeout": False,
        }
        if setting("OPENSEARCH_CA_FILE"):
            options["ca_certs"] = str(setting("OPENSEARCH_CA_FILE"))
        client = OpenSearch(hosts=[url], **options)
        return cls(
            client,
            str(setting("OPENSEARCH_INDEX") or DEFAULT_INDEX),
            shards=shards,
            replicas=replicas,
            search_timeout=timeout,
        )

    # --- asking ---------------------------------------------------------------------------

    @contextmanager
    def _asking(self, what: str) -> Iterator[None]:
        try:
            yield
        except _client_errors() as error:
            raise EngineUnavailable(f"OpenSearch {what}: {_describe(error)}") from error

    # --- search ---------------------------------------------------------------------------

    def request(self, query: EngineQuery) -> dict[str, Any]:
        """The ``_search`` body for ``query``.

        :raises Unsupported: a page beyond the result window, or points the scores cannot
            keep apart.
        """
        if query.offset + query.limit > self.max_result_window:
            raise Unsupported(
                f"from + size = {query.offset + query.limit} is beyond the index's "
                f"max_result_window ({self.max_result_window})"
            )
        main: dict[str, Any] = {"filter": [clause_dsl(query.filter)]}
        if query.sort == "relevance":
            should = self._relevance(query)
            if should:
                main["should"] = should
                main["minimum_should_match"] = 0
        body: dict[str, Any] = {
            "from": query.offset,
            "size": query.limit,
            "track_total_hits": True,
            "_source": False,
            "query": {"bool": main},
            "sort": copy.deepcopy(SORTS[query.sort]),
        }
        if query.facets:
            body["post_filter"] = all_of([clause_dsl(c) for _, c in query.facets])
        aggs: dict[str, Any] = {}
        for position, (facet, counts) in enumerate(query.counts):
            if not counts:
                continue
            others = [clause_dsl(c) for name, c in query.facets if name != facet]
            aggs[f"facet{position}"] = {
                "filter": all_of(others),
                "aggs": {f"count{i}": self._count(count) for i, count in enumerate(counts)},
            }
        if aggs:
            body["aggs"] = aggs
        return body

    def _relevance(self, query: EngineQuery) -> list[dict[str, Any]]:
        scale = point_scale(s.points for s in query.scores)
        should: list[dict[str, Any]] = [
            {"constant_score": {"filter": clause_dsl(s.clause), "boost": s.points * scale}}
            for s in query.scores
            if s.points
        ]
        if query.rank_keys:
            keys = " ".join(dict.fromkeys(query.rank_keys))
            fields = all_fields()
            matches = [
                {"match": {name: {"query": keys, "operator": "or", "boost": weight}}}
                for name, weight in RANK_WEIGHTS.items()
                if fields.get(name) == "text"
            ]
            should.append(
                {
                    "script_score": {
                        "query": {"bool": {"should": matches, "minimum_should_match": 1}},
                        "script": {"source": RANK_SCRIPT, "lang": "painless"},
                    }
                }
            )
        return should

    def _count(self, count: Count) -> dict[str, Any]:
        if isinstance(count, TermsCount | RangeCount):
            _known(count.field)
        if isinstance(count, TermsCount):
            terms: dict[str, Any] = {"field": count.field}
            if count.include is not None:
                if not count.include:
                    return {"filter": match_none()}  # no values asked for: no rows
                terms["include"] = list(count.include)
                terms["size"] = len(count.include)
            else:
                terms["size"] = self.terms_size
            return {"terms": terms}
        if isinstance(count, RangeCount):
            ranges = []
            for name, low, high in count.buckets:
                bucket: dict[str, Any] = {"key": name}
                if low is not None:
                    bucket["from"] = low
                if high is not None:
                    bucket["to"] = high + 1  # inclusive bound; the aggregation's "to" is not
                ranges.append(bucket)
            return {"range": {"field": count.field, "keyed": True, "ranges": ranges}}
        if isinstance(count, MatchCount):
            return {"filter": clause_dsl(count.clause)}
        raise Unsupported(f"no OpenSearch form for {count!r}")

    def search(self, query: EngineQuery) -> EngineResult:
        body = self.request(query)
        with self._asking("search"):
            response = self.client.search(
                index=self.alias, body=body, request_timeout=self.search_timeout
            )
        return self.result(query, response)

    def result(self, query: EngineQuery, response: Mapping[str, Any]) -> EngineResult:
        """The :class:`.base.EngineResult` of a ``_search`` response to :meth:`request`.

        :raises EngineUnavailable: a partial response (timed out, failed shards).
        :raises Unsupported: a ``terms`` count that left values out.
        """
        _complete(response)
        hits = response["hits"]
        total = hits["total"]
        counts: dict[str, list[tuple[str, int]]] = {}
        aggregations = response.get("aggregations") or {}
        for position, (facet, wanted) in enumerate(query.counts):
            rows = counts.setdefault(facet, [])
            if not wanted:
                continue
            answer = aggregations[f"facet{position}"]
            for i, count in enumerate(wanted):
                rows.extend(_rows(count, answer[f"count{i}"]))
        return EngineResult(
            ids=[int(hit["_id"]) for hit in hits["hits"]],
            total=int(total["value"] if isinstance(total, Mapping) else total),
            counts=counts,
        )

    # --- writing --------------------------------------------------------------------------

    def write(self, documents: Sequence[EngineDocument], deleted: Sequence[int] = ()) -> None:
        actions: list[list[dict[str, Any]]] = [
            [{"index": {"_index": self.alias, "_id": str(d.id)}}, source(d)] for d in documents
        ]
        actions += [[{"delete": {"_index": self.alias, "_id": str(i)}}] for i in deleted]
        chunks = list(_chunks(actions, self.chunk_size, self.chunk_bytes))
        for position, chunk in enumerate(chunks):
            last = position == len(chunks) - 1
            self._bulk(chunk, refresh="wait_for" if last else None, require_alias=True)

    def _bulk(self, chunk: Sequence[list[dict[str, Any]]], **params: Any) -> None:
        body = [line for action in chunk for line in action]
        params = {k: v for k, v in params.items() if v is not None}
        with self._asking("bulk"):
            response = self.client.bulk(body=body, request_timeout=self.write_timeout, **params)
        if response.get("errors"):
            items = [item for entry in response.get("items", ()) for item in entry.values()]
            failed = [item for item in items if item.get("error")]
            if failed:
                error = failed[0]["error"]
                reason = error.get("type", "error") if isinstance(error, Mapping) else error
                raise EngineUnavailable(
                    f"OpenSearch bulk: {len(failed)} of {len(chunk)} actions failed "
                    f"(first: {failed[0].get('_id')} {reason})"
                )

    def index_body(self) -> dict[str, Any]:
        """Settings and mappings of a new index (refresh off while it is loaded)."""
        settings: dict[str, Any] = {"refresh_interval": "-1"}
        if self.shards is not None:
            settings["number_of_shards"] = self.shards
        if self.replicas is not None:
            settings["number_of_replicas"] = self.replicas
        return {"settings": {"index": settings}, "mappings": mapping()}

    def rebuild(
        self, documents: Iterable[EngineDocument], progress: Callable[[int], None] | None = None
    ) -> int:
        """Load ``documents`` into a new index, then move the alias onto it in one atomic
        request and delete the index it left. Searches read the old index until the move.
        On a failure before the move, the new index is deleted and the old one still serves.

        Changes written while a rebuild runs go to the old index (through the alias) and are
        not in the new one unless its documents were read after them.
        """
        name = f"{self.alias}-{self.clock().astimezone(dt.UTC):%Y%m%d%H%M%S%f}"
        with self._asking("create index"):
            self.client.indices.create(
                index=name, body=self.index_body(), request_timeout=self.write_timeout
            )
        written = 0
        try:
            stream = ([{"index": {"_index": name, "_id": str(d.id)}}, source(d)] for d in documents)
            for chunk in _chunks(stream, self.chunk_size, self.chunk_bytes):
                self._bulk(chunk)
                written += len(chunk)
                if progress is not None:
                    progress(written)
            with self._asking("switch index"):
                self.client.indices.put_settings(
                    index=name, body={"index": {"refresh_interval": None}}
                )
                self.client.indices.refresh(index=name, request_timeout=self.write_timeout)
                old = self._indices_behind_alias()
                actions: list[dict[str, Any]] = [
                    {"remove": {"index": index, "alias": self.alias}} for index in old
                ]
                if not old and self.client.indices.exists(index=self.alias):
                    # an index, not an alias, holds the name: someone else's; never deleted here
                    raise EngineUnavailable(
                        f"OpenSearch: an index named {self.alias} exists and is not an alias; "
                        "delete it or set another OPENSEARCH_INDEX"
                    )
                actions.append({"add": {"index": name, "alias": self.alias}})
                self.client.indices.update_aliases(
                    body={"actions": actions}, request_timeout=self.write_timeout
                )
        except BaseException:
            self._drop(name)
            raise
        self._built_with = fields_signature()
        for index in sorted(set(old) | self._settle()):
            self._drop(index)  # our own too, when a newer rebuild's index won
        return written

    def _settle(self) -> set[str]:
        """After the move: when another rebuild moved the alias at the same moment (two
        processes found no index), the alias holds both indices; the newest stays (names sort
        by time, so every rebuild keeps the same one). The indices taken off the alias."""
        try:
            with self._asking("settle alias"):
                behind = self._indices_behind_alias()
                extra = behind[:-1]  # sorted: the last is the newest
                if extra:
                    self.client.indices.update_aliases(
                        body={
                            "actions": [
                                {"remove": {"index": index, "alias": self.alias}} for index in extra
                            ]
                        },
                        request_timeout=self.write_timeout,
                    )
        except EngineUnavailable as error:
            log.warning("search engine: could not check the alias after a rebuild (%s)", error)
            return set()
        return set(extra)

    def _indices_behind_alias(self) -> list[str]:
        try:
            found = self.client.indices.get_alias(name=self.alias)
        except _client_errors() as error:
            if _status(error) == 404:
                return []
            raise
        return sorted(found)

    def _drop(self, index: str) -> None:
        try:
            self.client.indices.delete(index=index, request_timeout=self.write_timeout)
        except _client_errors() as error:
            log.warning("search engine: could not delete index %s (%s)", index, _describe(error))

    def count(self) -> int:
        """The alias' documents; -1 without the alias, or when its index was built with other
        fields (another area registered one since, or :data:`FORMAT` changed): the service
        then rebuilds it. The fields are checked once per process, then after each rebuild."""
        try:
            if self._built_with != fields_signature():
                found = self.client.indices.get_mapping(
                    index=self.alias, request_timeout=self.search_timeout
                )
                built = {
                    ((answer.get("mappings") or {}).get("_meta") or {}).get("harmony_fields")
                    for answer in found.values()
                }
                if built != {fields_signature()}:
                    return -1
                self._built_with = fields_signature()
            response = self.client.count(index=self.alias, request_timeout=self.search_timeout)
        except _client_errors() as error:
            if _status(error) == 404:
                return -1
            raise EngineUnavailable(f"OpenSearch count: {_describe(error)}") from error
        return int(response["count"])

    # --- in step with the database (.base.Stamped) ------------------------------------------

    def fingerprint(self) -> tuple[int, int]:
        """``(documents, sum of their revisions)``: one ``sum`` aggregation (a double: exact
        while the sum stays below 2^53; revisions are below 2^31)."""
        body = {
            "size": 0,
            "track_total_hits": True,
            "query": match_all(),
            "aggs": {"revisions": {"sum": {"field": "revision"}}},
        }
        with self._asking("fingerprint"):
            response = self.client.search(
                index=self.alias, body=body, request_timeout=self.search_timeout
            )
        _complete(response)
        total = response["hits"]["total"]
        value = response["aggregations"]["revisions"]["value"] or 0
        return int(total["value"]), round(float(value))

    def stamps(self) -> dict[int, int]:
        """Every document's id and revision, :data:`STAMPS_PAGE` at a time in ``doc_id`` order
        (``search_after``: no window limit)."""
        found: dict[int, int] = {}
        after: list[Any] | None = None
        while True:
            body: dict[str, Any] = {
                "size": STAMPS_PAGE,
                "track_total_hits": False,
                "_source": False,
                "docvalue_fields": ["revision"],
                "query": match_all(),
                "sort": [{"doc_id": {"order": "asc"}}],
            }
            if after is not None:
                body["search_after"] = after
            with self._asking("stamps"):
                response = self.client.search(
                    index=self.alias, body=body, request_timeout=self.write_timeout
                )
            _complete(response)
            hits = response["hits"]["hits"]
            for hit in hits:
                revision = (hit.get("fields") or {}).get("revision") or [0]
                found[int(hit["_id"])] = int(revision[0])
            if len(hits) < STAMPS_PAGE:
                return found
            after = hits[-1]["sort"]


def _complete(response: Mapping[str, Any]) -> None:
    """:raises EngineUnavailable: a partial response (timed out, failed shards)."""
    shards = response.get("_shards") or {}
    if response.get("timed_out") or shards.get("failed"):
        raise EngineUnavailable(
            f"OpenSearch search: partial response (timed_out={response.get('timed_out')}, "
            f"failed shards={shards.get('failed', 0)})"
        )


def _rows(count: Count, answer: Mapping[str, Any]) -> list[tuple[str, int]]:
    if isinstance(count, TermsCount):
        if "buckets" not in answer:  # an empty include list: a filter aggregation
            return []
        if answer.get("sum_other_doc_count"):
            raise Unsupported(
                f"the {count.field} count has more values than the {len(answer['buckets'])} "
                "buckets asked for"
            )
        return [(str(b["key"]), int(b["doc_count"])) for b in answer["buckets"]]
    if isinstance(count, RangeCount):
        buckets = answer["buckets"]
        rows = [(name, int(buckets[name]["doc_count"])) for name, _, _ in count.buckets]
        return [row for row in rows if row[1]]
    return [(count.name, int(answer["doc_count"]))]


def _chunks(actions: Iterable[list[dict[str, Any]]], count: int, size: int) -> Iterator[list[Any]]:
    """Bulk actions in chunks of at most ``count`` actions and about ``size`` bytes (a single
    larger action is a chunk of its own)."""
    chunk: list[list[dict[str, Any]]] = []
    held = 0
    for action in actions:
        weight = _weight(action)
        if chunk and (len(chunk) == count or held + weight > size):
            yield chunk
            chunk, held = [], 0
        chunk.append(action)
        held += weight
    if chunk:
        yield chunk


def _weight(action: list[dict[str, Any]]) -> int:
    """About the bytes of an action's JSON: its strings' lengths, and a little per value."""
    weight = 64
    for line in action:
        for value in line.values():
            if isinstance(value, str):
                weight += len(value) + 8
            elif isinstance(value, list):
                weight += sum(len(str(v)) + 4 for v in value) + 8
            else:
                weight += 24
    return weight


def _flag(value: Any, default: bool) -> bool:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() not in ("0", "false", "no", "off")


def _whole(value: Any) -> int | None:
    return None if value is None or value == "" else int(value)


def _number(value: Any, default: float) -> float:
    if value is None or value == "":
        return default
    return float(value)
