"""A test double of the opensearch-py CLIENT that keeps its indices in memory and answers
searches by evaluating the query DSL as the OpenSearch documentation describes it.

No OpenSearch server can run where these tests run. This double lets the adapter
(catalogue/search/engine/opensearch.py) be driven end to end — rebuilds, bulk writes,
aliases, counts, fingerprints, searches — and lets the search service's check mode compare its
answers with the SQL statement's (``opensearch_plugin``).

It evaluates what the adapter sends and nothing more: ``bool`` (filter, should, must_not,
minimum_should_match), ``terms``, ``range``, ``exists``, ``match_all``/``match_none``,
``constant_score``, ``match`` and ``script_score`` (with a stand-in for BM25: how often a
field holds the query's words, times the boost), ``post_filter`` (hits and total, not
aggregations), ``filter``/``terms``/``range``/``sum`` aggregations, ``sort`` (``missing``,
multi-valued keyword fields by min ascending and max descending), ``from``/``size``,
``search_after``, ``docvalue_fields``; text fields are split on whitespace (the whitespace
analyzer); scores are rounded to float32 as Lucene's are. Every write is visible at once (no
refresh interval). It proves nothing about a real server: it is the documentation as read here.
"""

from __future__ import annotations

import struct
from typing import Any

import opensearchpy

# --- evaluating the query DSL ---------------------------------------------------------------


def f32(value: float) -> float:
    return float(struct.unpack("f", struct.pack("f", value))[0])


def values(doc: dict[str, Any], field: str) -> list[Any]:
    value = doc.get(field)
    if value is None:
        return []
    if isinstance(value, str):
        return value.split()  # the whitespace analyzer (keyword fields hold lists here)
    return value if isinstance(value, list) else [value]


def evaluate(query: dict[str, Any], doc: dict[str, Any]) -> tuple[bool, float]:
    """(matches, score) of a query on a document, as the query DSL documentation says."""
    ((kind, spec),) = query.items()
    if kind == "match_all":
        return True, 1.0
    if kind == "match_none":
        return False, 0.0
    if kind == "terms":
        ((field, wanted),) = spec.items()
        return bool(set(values(doc, field)) & set(wanted)), 1.0
    if kind == "range":
        ((field, bounds),) = spec.items()
        ok = any(
            bounds.get("gte", v) <= v and v <= bounds.get("lte", v) for v in values(doc, field)
        )
        return ok, 1.0
    if kind == "exists":
        return bool(values(doc, spec["field"])), 1.0
    if kind == "constant_score":
        return evaluate(spec["filter"], doc)[0], float(spec.get("boost", 1.0))
    if kind == "match":  # a stand-in for BM25: occurrences of the query's words x boost
        ((field, options),) = spec.items()
        words = set(options["query"].split())
        found = sum(1 for token in values(doc, field) if token in words)
        return bool(found), found * options.get("boost", 1.0)
    if kind == "script_score":
        ok, inner = evaluate(spec["query"], doc)
        assert spec["script"]["source"] == "0.5 * _score / (_score + 1.0)", spec["script"]
        return ok, 0.5 * inner / (inner + 1.0)
    assert kind == "bool", kind
    if not all(evaluate(q, doc)[0] for q in spec.get("filter", [])):
        return False, 0.0
    if any(evaluate(q, doc)[0] for q in spec.get("must_not", [])):
        return False, 0.0
    should = [evaluate(q, doc) for q in spec.get("should", [])]
    only_should = not spec.get("filter") and not spec.get("must_not")
    minimum = spec.get("minimum_should_match", 1 if should and only_should else 0)
    if sum(ok for ok, _ in should) < minimum:
        return False, 0.0
    return True, f32(sum(score for ok, score in should if ok))  # Lucene scores are float32


class _Reversed:
    def __init__(self, value: Any) -> None:
        self.value = value

    def __lt__(self, other: _Reversed) -> bool:
        return bool(self.value > other.value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Reversed) and self.value == other.value

    __hash__ = None  # type: ignore[assignment]


def sort_values(sort: list[dict[str, Any]], doc: dict[str, Any], score: float) -> list[Any]:
    """A hit's ``sort`` values as the response gives them (None for a missing value)."""
    out: list[Any] = []
    for entry in sort:
        ((field, options),) = entry.items()
        if field == "_score":
            out.append(score)
            continue
        found = values(doc, field)
        descending = options.get("order") == "desc"
        out.append((max(found) if descending else min(found)) if found else None)
    return out


def sort_key(sort: list[dict[str, Any]], found: list[Any]) -> tuple[Any, ...]:
    key: list[Any] = []
    for entry, value in zip(sort, found, strict=True):
        ((field, options),) = entry.items()
        descending = field == "_score" or options.get("order") == "desc"
        if field == "_score":
            key.append((0, -value))
        elif value is None:  # "_last" by default, whatever the order
            key.append((1 if options.get("missing", "_last") == "_last" else -1, 0))
        else:
            key.append(
                (
                    0,
                    (-value if isinstance(value, int) else _Reversed(value))
                    if descending
                    else value,
                )
            )
    return tuple(key)


def aggregate(spec: dict[str, Any], docs: list[dict[str, Any]]) -> dict[str, Any]:
    ((kind, body),) = ((k, v) for k, v in spec.items() if k != "aggs")
    if kind == "filter":
        inside = [d for d in docs if evaluate(body, d)[0]]
        answer: dict[str, Any] = {"doc_count": len(inside)}
        for name, sub in spec.get("aggs", {}).items():
            answer[name] = aggregate(sub, inside)
        return answer
    if kind == "sum":
        total = sum(float(v) for d in docs for v in values(d, body["field"]))
        return {"value": total}
    if kind == "terms":
        counts: dict[str, int] = {}
        for d in docs:
            for value in set(values(d, body["field"])):
                if "include" not in body or value in body["include"]:
                    counts[value] = counts.get(value, 0) + 1
        ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        kept = ordered[: body.get("size", 10)]
        return {
            "doc_count_error_upper_bound": 0,
            "sum_other_doc_count": sum(c for _, c in ordered[len(kept) :]),
            "buckets": [{"key": k, "doc_count": c} for k, c in kept],
        }
    assert kind == "range" and body["keyed"], spec
    buckets = {}
    for r in body["ranges"]:  # "from" included, "to" excluded
        inside = [
            d
            for d in docs
            if any(r.get("from", v) <= v < r.get("to", v + 1) for v in values(d, body["field"]))
        ]
        buckets[r["key"]] = {"doc_count": len(inside)}
    return {"buckets": buckets}


def search(body: dict[str, Any], docs: list[dict[str, Any]]) -> dict[str, Any]:
    """A _search response to ``body`` over the documents' sources (``_id`` in each)."""
    scored = [(d, *evaluate(body.get("query", {"match_all": {}}), d)) for d in docs]
    matching = [(d, score) for d, ok, score in scored if ok]
    post = body.get("post_filter")
    hits = [(d, s) for d, s in matching if post is None or evaluate(post, d)[0]]
    sort = body.get("sort") or [{"_score": {"order": "desc"}}]
    ranked = [(d, s, sort_values(sort, d, s)) for d, s in hits]
    ranked.sort(key=lambda hit: sort_key(sort, hit[2]))
    if "search_after" in body:
        after = sort_key(sort, body["search_after"])
        ranked = [hit for hit in ranked if sort_key(sort, hit[2]) > after]
    start = body.get("from", 0)
    page = ranked[start : start + body.get("size", 10)]
    answer: dict[str, Any] = {
        "took": 1,
        "timed_out": False,
        "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
        "hits": {
            "total": {"value": len(hits), "relation": "eq"},
            "max_score": None,
            "hits": [],
        },
    }
    for doc, score, found in page:
        hit: dict[str, Any] = {"_index": doc["_index"], "_id": doc["_id"], "_score": score}
        if body.get("sort"):
            hit["sort"] = found
        if body.get("_source", True) is not False:
            hit["_source"] = {k: v for k, v in doc.items() if not k.startswith("_")}
        if body.get("docvalue_fields"):
            hit["fields"] = {f: values(doc, f) for f in body["docvalue_fields"] if values(doc, f)}
        answer["hits"]["hits"].append(hit)
    if body.get("aggs"):
        answer["aggregations"] = {
            name: aggregate(spec, [d for d, _ in matching]) for name, spec in body["aggs"].items()
        }
    return answer


# --- the cluster and its client -------------------------------------------------------------


def _not_found(kind: str) -> opensearchpy.NotFoundError:
    return opensearchpy.NotFoundError(404, kind, {"error": {"type": kind}})


class MemoryCluster:
    """Indices (mappings, settings, documents) and aliases."""

    def __init__(self) -> None:
        self.indices: dict[str, dict[str, Any]] = {}
        self.aliases: dict[str, list[str]] = {}
        self.requests: list[tuple[str, Any]] = []
        self.built = 0  # indices created

    def resolve(self, name: str) -> list[str]:
        if self.aliases.get(name):
            return list(self.aliases[name])
        if name in self.indices:
            return [name]
        raise _not_found("index_not_found_exception")

    def documents(self, name: str) -> list[dict[str, Any]]:
        return [doc for index in self.resolve(name) for doc in self.indices[index]["docs"].values()]


class MemoryIndices:
    def __init__(self, cluster: MemoryCluster) -> None:
        self.cluster = cluster

    def create(self, *, index: str, body: Any = None, **params: Any) -> Any:
        if index in self.cluster.indices or index in self.cluster.aliases:
            raise opensearchpy.RequestError(400, "resource_already_exists_exception", {})
        body = body or {}
        self.cluster.built += 1
        self.cluster.indices[index] = {
            "mappings": body.get("mappings", {}),
            "settings": body.get("settings", {}),
            "docs": {},
        }
        return {"acknowledged": True, "index": index}

    def delete(self, *, index: str, **params: Any) -> Any:
        if index not in self.cluster.indices:
            raise _not_found("index_not_found_exception")
        del self.cluster.indices[index]
        for indices in self.cluster.aliases.values():
            if index in indices:
                indices.remove(index)
        return {"acknowledged": True}

    def exists(self, *, index: str, **params: Any) -> bool:
        return index in self.cluster.indices or bool(self.cluster.aliases.get(index))

    def get_alias(self, *, name: str, **params: Any) -> Any:
        if not self.cluster.aliases.get(name):
            raise _not_found("aliases_not_found_exception")
        return {index: {"aliases": {name: {}}} for index in self.cluster.aliases[name]}

    def get_mapping(self, *, index: str, **params: Any) -> Any:
        return {
            i: {"mappings": self.cluster.indices[i]["mappings"]}
            for i in self.cluster.resolve(index)
        }

    def update_aliases(self, *, body: Any, **params: Any) -> Any:
        aliases = {name: list(indices) for name, indices in self.cluster.aliases.items()}
        for action in body["actions"]:  # all or nothing
            ((kind, target),) = action.items()
            if target["index"] not in self.cluster.indices:
                raise _not_found("index_not_found_exception")
            if kind == "add" and target["alias"] in self.cluster.indices:
                raise opensearchpy.RequestError(400, "invalid_alias_name_exception", {})
            indices = aliases.setdefault(target["alias"], [])
            if kind == "add":
                indices.append(target["index"])
            elif target["index"] in indices:
                indices.remove(target["index"])
            else:
                raise _not_found("aliases_not_found_exception")
        self.cluster.aliases = aliases
        return {"acknowledged": True}

    def put_settings(self, *, index: str, body: Any, **params: Any) -> Any:
        for name in self.cluster.resolve(index):
            self.cluster.indices[name]["settings"].setdefault("index", {}).update(body["index"])
        return {"acknowledged": True}

    def refresh(self, *, index: str, **params: Any) -> Any:
        self.cluster.resolve(index)
        return {"_shards": {"total": 1, "successful": 1, "failed": 0}}


class MemoryClient:
    """What the adapter uses of ``opensearchpy.OpenSearch``, over a :class:`MemoryCluster`."""

    def __init__(self, cluster: MemoryCluster | None = None, **options: Any) -> None:
        self.cluster = cluster or MemoryCluster()
        self.indices = MemoryIndices(self.cluster)
        self.options = options

    def search(self, *, index: str, body: Any, **params: Any) -> Any:
        self.cluster.requests.append(("search", body))
        docs = self.cluster.documents(index)
        return search(body, docs)

    def count(self, *, index: str, **params: Any) -> Any:
        return {"count": len(self.cluster.documents(index))}

    def bulk(self, *, body: Any, **params: Any) -> Any:
        self.cluster.requests.append(("bulk", params))
        lines = list(body)
        items: list[dict[str, Any]] = []
        position = 0
        while position < len(lines):
            ((action, meta),) = lines[position].items()
            position += 1
            source = None
            if action == "index":
                source = lines[position]
                position += 1
            items.append({action: self._apply(action, meta, source, params)})
        return {"took": 1, "errors": any("error" in i[a] for i in items for a in i), "items": items}

    def _apply(
        self, action: str, meta: dict[str, Any], source: Any, params: dict[str, Any]
    ) -> dict[str, Any]:
        name, doc_id = meta["_index"], meta["_id"]
        answer: dict[str, Any] = {"_index": name, "_id": doc_id}
        if params.get("require_alias") and not self.cluster.aliases.get(name):
            return {**answer, "status": 404, "error": {"type": "index_not_found_exception"}}
        try:
            targets = self.cluster.resolve(name)
        except opensearchpy.NotFoundError:
            return {**answer, "status": 404, "error": {"type": "index_not_found_exception"}}
        if len(targets) != 1:
            return {**answer, "status": 400, "error": {"type": "illegal_argument_exception"}}
        index = self.cluster.indices[targets[0]]
        if action == "delete":
            found = index["docs"].pop(doc_id, None)
            return {
                **answer,
                "status": 200 if found else 404,
                "result": "deleted" if found else "not_found",
            }
        mapping = index["mappings"]
        if mapping.get("dynamic") == "strict":
            unknown = set(source) - set(mapping.get("properties", {}))
            if unknown:
                return {
                    **answer,
                    "status": 400,
                    "error": {
                        "type": "strict_dynamic_mapping_exception",
                        "fields": sorted(unknown),
                    },
                }
        index["docs"][doc_id] = {**source, "_id": doc_id, "_index": targets[0]}
        return {**answer, "status": 201, "result": "created"}
