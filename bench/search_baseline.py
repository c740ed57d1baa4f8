"""The dedicated-engine baseline of ``bench/bench_search.py``: the catalogue's searchable
documents indexed in tantivy directly (not through the project's search engine code), and the
bench's query mixes answered in-process.

What a dedicated engine does with the same documents and queries, and no more:

- one document per searchable version (a published version of a dataset that is not retired,
  and each open draft), read from the catalogue's own tables: title, keywords and description,
  and the names, labels and descriptions of its variables, as ``en_stem`` text fields (BM25);
  the disease tags and every ancestor of one, and the terms its variables cover by the
  coverage rule (accepted exact/close/broad mappings) with every ancestor, as keyword fields;
  country, age group, source type, data model, custodian and who sees it as keyword fields;
  patients, the time of the last change and the title's rank in title order (a number: a
  text fast field sorts a deep page several times slower) as fast fields;
- a search: the query's words, each required, over the four text fields (title boosted), and
  the selected facets (terms of keyword fields), one ``search`` for the page (20 hits after an
  offset, ordered by BM25 or a fast field, with the total) and the stored title of each hit,
  and one ``aggregate`` for every facet's counts (terms of each keyword field, the patients'
  ranges; a selected facet counted over the documents holding every *other* selection, as a
  filter aggregation in the same call).

No ontology expansion, spelling variants, suggestions, snippets, matched variables or
small-cell rule: this is the floor the issue measures the endpoint against.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import resource
import shutil
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

TEXT_FIELDS = ("title", "keywords", "description", "variables")
BOOSTS = {"title": 3.0, "keywords": 2.0, "description": 1.0, "variables": 0.5}
KEYWORD_FIELDS = (
    "disease",
    "term",
    "country",
    "age_group",
    "source_type",
    "data_model",
    "custodian",
    "visibility",
)
#: facet parameters of the search API → the keyword field that answers them
FACET_FIELDS = {
    "disease": "disease",
    "term": "term",
    "country": "country",
    "age_group": "age_group",
    "source_type": "source_type",
    "data_model": "data_model",
    "custodian": "custodian",
}
PATIENT_RANGES = ((0, 99), (100, 499), (500, 999), (1000, 4999), (5000, None))
PAGE = 20
WRITER_HEAP = 256_000_000


def schema() -> Any:
    import tantivy

    builder = tantivy.SchemaBuilder()
    builder.add_integer_field("doc_id", stored=True, indexed=False, fast=False)
    builder.add_text_field("title", stored=True, tokenizer_name="en_stem")
    for name in TEXT_FIELDS[1:]:
        builder.add_text_field(name, tokenizer_name="en_stem")
    for name in KEYWORD_FIELDS:
        builder.add_text_field(name, fast=True, tokenizer_name="raw", index_option="basic")
    builder.add_text_field("title_key", fast=True, tokenizer_name="raw", index_option="basic")
    # the title order as a number (a text fast field sorts a deep page 5-10x slower)
    builder.add_integer_field("title_rank", fast=True, indexed=False)
    builder.add_integer_field("patients", fast=True, indexed=True)
    builder.add_integer_field("updated", fast=True, indexed=True)
    return builder.build()


# --- the documents, from the catalogue's tables ---------------------------------------------


def _json_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, str):
        return list(json.loads(value))
    return list(value)


def _title_key(title: str) -> str:
    return title.strip().lower()[:300]


def _micros(value: dt.datetime) -> int:
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return int(value.timestamp() * 1_000_000)


def documents(engine: Any) -> Iterator[dict[str, Any]]:
    """Every searchable version as the fields of one document (variables streamed in version
    order)."""
    from sqlalchemy import and_, select

    from catalogue.mappings.coverage import COVERING_PREDICATES
    from catalogue.models import (
        Dataset,
        DatasetDisease,
        DatasetStatus,
        DatasetVersion,
        Mapping,
        MappingStatus,
        Variable,
        VersionStatus,
    )
    from ontologies.models import TermClosure

    searchable = and_(
        Dataset.status != DatasetStatus.RETIRED,
        DatasetVersion.status.in_((VersionStatus.PUBLISHED, VersionStatus.DRAFT)),
    )
    with engine.connect() as connection:
        versions = connection.execute(
            select(
                DatasetVersion.id,
                DatasetVersion.dataset_id,
                DatasetVersion.status,
                DatasetVersion.title,
                DatasetVersion.description,
                DatasetVersion.keywords,
                DatasetVersion.countries,
                DatasetVersion.age_groups,
                DatasetVersion.source_type,
                DatasetVersion.data_model,
                DatasetVersion.patients,
                DatasetVersion.modified_at,
                Dataset.organisation_id,
            )
            .join(Dataset, Dataset.id == DatasetVersion.dataset_id)
            .where(searchable)
        ).all()
        with_draft = {row.dataset_id for row in versions if row.status == VersionStatus.DRAFT}
        diseases: dict[str, set[str]] = defaultdict(set)
        for version_id, curie in connection.execute(
            select(DatasetDisease.version_id, TermClosure.ancestor_curie)
            .join(TermClosure, TermClosure.descendant_curie == DatasetDisease.term_curie)
            .join(DatasetVersion, DatasetVersion.id == DatasetDisease.version_id)
            .join(Dataset, Dataset.id == DatasetVersion.dataset_id)
            .where(searchable)
        ):
            diseases[version_id].add(curie)
        terms: dict[str, set[str]] = defaultdict(set)
        for version_id, curie in connection.execute(
            select(Variable.version_id, TermClosure.ancestor_curie)
            .join(Mapping, Mapping.variable_id == Variable.id)
            .join(TermClosure, TermClosure.descendant_curie == Mapping.object_curie)
            .join(DatasetVersion, DatasetVersion.id == Variable.version_id)
            .join(Dataset, Dataset.id == DatasetVersion.dataset_id)
            .where(
                searchable,
                Mapping.status == MappingStatus.ACCEPTED,
                Mapping.predicate.in_(COVERING_PREDICATES),
            )
            .distinct()
        ):
            terms[version_id].add(curie)
        ranks = {
            row.id: rank
            for rank, row in enumerate(sorted(versions, key=lambda v: (_title_key(v.title), v.id)))
        }
        base: dict[str, dict[str, Any]] = {}
        for number, row in enumerate(versions, start=1):
            if row.status == VersionStatus.DRAFT:
                visibility = "draft"
            else:
                visibility = "published_with_draft" if row.dataset_id in with_draft else "published"
            fields: dict[str, Any] = {
                "doc_id": number,
                "title": row.title,
                "keywords": " ".join(str(k) for k in _json_list(row.keywords)),
                "description": row.description or "",
                "disease": sorted(diseases.get(row.id, ())),
                "term": sorted(terms.get(row.id, ())),
                "country": [str(c) for c in _json_list(row.countries)],
                "age_group": [str(a) for a in _json_list(row.age_groups)],
                "source_type": [str(row.source_type)] if row.source_type else [],
                "data_model": [str(row.data_model)] if row.data_model else [],
                "custodian": [row.organisation_id],
                "visibility": [visibility],
                "title_key": _title_key(row.title),
                "title_rank": ranks[row.id],
                "updated": _micros(row.modified_at),
            }
            if row.patients is not None:
                fields["patients"] = int(row.patients)
            base[row.id] = fields
        stream = connection.execution_options(stream_results=True, yield_per=20_000).execute(
            select(Variable.version_id, Variable.name, Variable.label, Variable.description)
            .join(DatasetVersion, DatasetVersion.id == Variable.version_id)
            .join(Dataset, Dataset.id == DatasetVersion.dataset_id)
            .where(searchable)
            .order_by(Variable.version_id, Variable.position)
        )
        current: str | None = None
        texts: list[str] = []
        for version_id, name, label, description in stream:
            if version_id != current:
                if current is not None and current in base:
                    yield {**base.pop(current), "variables": " ".join(texts)}
                current, texts = version_id, []
            texts.append(name)
            texts.append(label)
            if description:
                texts.append(description)
        if current is not None and current in base:
            yield {**base.pop(current), "variables": " ".join(texts)}
        for fields in base.values():  # versions without variables
            yield {**fields, "variables": ""}


def _size_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1024 / 1024


def build(url: str, directory: Path) -> tuple[Any, dict[str, Any]]:
    """Index every document into a fresh index at ``directory``: the index and the figures
    (seconds from reading the tables to the commit, documents, MB on disk, peak memory)."""
    import tantivy
    from sqlalchemy import create_engine

    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    engine = create_engine(url)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    index = tantivy.Index(schema(), path=str(directory))
    writer = index.writer(WRITER_HEAP, min(2, os.cpu_count() or 1))
    count = 0
    for fields in documents(engine):
        writer.add_document(tantivy.Document(**fields))
        count += 1
    writer.commit()
    writer.wait_merging_threads()
    index.reload()
    seconds = time.perf_counter() - started
    engine.dispose()
    return index, {
        "documents": count,
        "seconds": round(seconds, 1),
        "mb_on_disk": round(_size_mb(directory), 1),
        "rss_before_mb": round(before / 1024, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


# --- searching ------------------------------------------------------------------------------


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


class Baseline:
    """The mixes' searches on a built index, as a dedicated engine answers them."""

    @classmethod
    def open(cls, directory: Path) -> Baseline:
        """The index :func:`build` left at ``directory`` (read only)."""
        import tantivy

        return cls(tantivy.Index.open(str(directory)))

    def __init__(self, index: Any) -> None:
        import tantivy

        self.tantivy = tantivy
        self.index = index
        self.schema = index.schema
        self.searcher = index.searcher()

    def visible(self, own: Sequence[str] | None) -> Any:
        """Anonymous (``own`` empty): published versions; a custodian: its drafts in place of
        its published versions."""
        q = self.tantivy.Query
        occur = self.tantivy.Occur
        published = q.term_set_query(
            self.schema, "visibility", ["published", "published_with_draft"]
        )
        if not own:
            return published
        mine = q.term_set_query(self.schema, "custodian", list(own))
        with_draft = q.boolean_query(
            [
                (occur.Must, q.term_query(self.schema, "visibility", "published_with_draft")),
                (occur.MustNot, mine),
            ]
        )
        plain = q.term_query(self.schema, "visibility", "published")
        drafts = q.boolean_query(
            [(occur.Must, q.term_query(self.schema, "visibility", "draft")), (occur.Must, mine)]
        )
        return q.boolean_query(
            [(occur.Should, plain), (occur.Should, with_draft), (occur.Should, drafts)]
        )

    def search(self, params: dict[str, Any], own: Sequence[str] | None = None) -> dict[str, Any]:
        """One search of the mixes (the API's parameters): the page's titles, the total and
        every facet's counts."""
        q = self.tantivy.Query
        occur = self.tantivy.Occur
        words = str(params.get("q") or "").strip()
        must: list[Any] = [self.visible(own)]
        if words:
            must.append(
                self.index.parse_query(
                    words,
                    list(TEXT_FIELDS),
                    field_boosts=BOOSTS,
                    conjunction_by_default=True,
                )
            )
        base = q.boolean_query([(occur.Must, c) for c in must]) if len(must) > 1 else must[0]
        selected: dict[str, list[str]] = {}
        for param, field in FACET_FIELDS.items():
            if param in params:
                value = params[param]
                selected[field] = list(value) if isinstance(value, list | tuple) else [value]
        clauses = [(occur.Must, base)] + [
            (occur.Must, q.term_set_query(self.schema, field, values))
            for field, values in selected.items()
        ]
        hits_query = q.boolean_query(clauses) if selected else base
        started = time.perf_counter()
        sort = params.get("sort") or "relevance"
        page = int(params.get("page") or 1)
        offset = (page - 1) * PAGE
        if sort == "relevance" and words:
            result = self.searcher.search(hits_query, PAGE, count=True, offset=offset)
        else:
            field, order = {
                "relevance": ("updated", self.tantivy.Order.Desc),
                "updated": ("updated", self.tantivy.Order.Desc),
                "title": ("title_rank", self.tantivy.Order.Asc),
                "patients": ("patients", self.tantivy.Order.Desc),
            }[sort]
            result = self.searcher.search(
                hits_query, PAGE, count=True, order_by_field=field, offset=offset, order=order
            )
        titles = [self.searcher.doc(address)["title"][0] for _key, address in result.hits]
        paged = time.perf_counter()
        counts = self.searcher.aggregate(base, self.aggregations(selected))
        return {
            "total": result.count,
            "titles": titles,
            "counts": counts,
            "page_s": paged - started,
            "counts_s": time.perf_counter() - paged,
        }

    def aggregations(self, selected: dict[str, list[str]]) -> dict[str, Any]:
        """Every facet's counts in one aggregation: the facets not selected over the hits (a
        filter by every selection), each selected one over the documents holding every other
        selection."""

        def terms(field: str) -> dict[str, Any]:
            return {"terms": {"field": field, "size": 2000}}

        def filter_of(fields: dict[str, list[str]]) -> str:
            return " AND ".join(
                "(" + " OR ".join(f"{f}:{_quoted(v)}" for v in values) + ")"
                for f, values in fields.items()
            )

        free = {f: terms(f) for f in FACET_FIELDS.values() if f not in selected}
        free["patients"] = {
            "range": {
                "field": "patients",
                "ranges": [
                    {"from": low, **({"to": high + 1} if high is not None else {})}
                    for low, high in PATIENT_RANGES
                ],
            }
        }
        if not selected:
            return free
        aggregations: dict[str, Any] = {"hits": {"filter": filter_of(selected), "aggs": free}}
        for field in selected:
            others = {f: v for f, v in selected.items() if f != field}
            if others:
                aggregations[f"selected_{field}"] = {
                    "filter": filter_of(others),
                    "aggs": {field: terms(field)},
                }
            else:
                aggregations[f"selected_{field}"] = terms(field)
        return aggregations


def measure(
    baseline: Baseline,
    mixes: dict[str, list[tuple[str, dict[str, Any]]]],
    rounds: int,
    own: Sequence[str],
) -> dict[str, Any]:
    """Each mix's searches (the custodian mix with ``own``'s drafts), one warm-up round, then
    ``rounds`` rounds: the times per query, by mix, and the time spent finding the page (with
    its total and titles) and counting the facets."""
    times: dict[str, dict[int, list[float]]] = {m: defaultdict(list) for m in mixes}
    parts: dict[str, dict[str, float]] = {m: {"page_s": 0.0, "counts_s": 0.0} for m in mixes}
    totals: dict[str, list[int]] = {}
    for round_number in range(rounds + 1):
        for mix, queries in mixes.items():
            who = own if mix == "custodian" else ()
            for i, (_kind, params) in enumerate(queries):
                started = time.perf_counter()
                answer = baseline.search(params, who)
                spent = time.perf_counter() - started
                if round_number:
                    times[mix][i].append(spent)
                    parts[mix]["page_s"] += answer["page_s"]
                    parts[mix]["counts_s"] += answer["counts_s"]
                else:
                    totals.setdefault(mix, []).append(answer["total"])
    return {
        "times": {m: {str(i): ts for i, ts in t.items()} for m, t in times.items()},
        "totals": totals,
        "parts": parts,
    }
