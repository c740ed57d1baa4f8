"""Filling in a page of search hits: the rows of the page's documents, highlighted titles,
keywords and snippets, disease labels, the named terms a hit is tagged with, and the variables
that matched (mapped to a named term first, then holding the words).

Whatever found and ordered the page (the SQL statement of :mod:`catalogue.search.services` or a
search engine), the page is filled in here from the database, the source of truth.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from markupsafe import Markup
from sqlalchemy import bindparam, select

from catalogue.mappings import coverage
from catalogue.models import Dataset, DatasetVersion, Variable
from catalogue.search import text
from catalogue.search.models import SearchDocument, SearchDocumentText
from catalogue.search.query import Interpretation
from core.db import get_session
from core.models import Organisation
from ontologies import hierarchy_cache

VARIABLES_SHOWN = 5
DOCUMENT: Any = SearchDocument.__table__.alias("hit_document")


@dataclass
class MatchedVariable:
    name: str
    label: str
    name_html: Markup
    label_html: Markup
    description_html: Markup
    terms: list[dict[str, str]] = field(default_factory=list)  # mapped to a named term


@dataclass
class Hit:
    identifier: str
    title: str
    title_html: Markup
    snippet_html: Markup
    keywords: list[tuple[str, Markup, bool]]  # keyword, highlighted, matched
    status: str  # published or draft
    version_number: int
    custodian_id: str
    custodian: str
    source_type: str | None
    data_model: str | None
    countries: list[str]
    age_groups: list[str]
    patients: int | None
    time_coverage: tuple[int | None, int | None]
    diseases: list[dict[str, str]]
    matched_terms: list[dict[str, str]]  # named terms the dataset is tagged with (or below)
    updated: dt.datetime
    score: float | None
    variables: list[MatchedVariable]
    variables_matching_words: int
    variables_mapped_to_terms: int
    dataset_id: str = ""  # the dataset's internal id (Dataset.id), for the annotators
    version_id: str = ""  # the version found (DatasetVersion.id): its variable counts
    #: what other areas add (catalogue.extensions): data_use, requestable, requestable_until
    #: (the dataset facts), fit (a search with a purpose) …
    extras: dict[str, Any] = field(default_factory=dict)


def page_hits(document_ids: list[int], meaning: Interpretation, backend: Any) -> list[Hit]:
    """The page's hits, in the order of ``document_ids`` (search_documents ids): their
    rows, highlighted titles and snippets, disease labels, matched terms and variables."""
    session = get_session()
    rows = {row.id: row for row in session.execute(_rows_statement(), {"ids": document_ids})}
    version_ids = [rows[i].version_id for i in document_ids if i in rows]
    diseases = sorted({c for r in rows.values() for c in r.diseases.split()})
    named = sorted({t.curie for t in meaning.terms})
    labels = hierarchy_cache.labels(diseases + named)
    tagged: dict[str, set[str]] = {}  # disease term of a hit → the named terms above it
    if named and diseases:
        for descendant, above in hierarchy_cache.ancestors(diseases).items():
            if reached := above.intersection(named):
                tagged[descendant] = set(reached)
    variables, by_words, by_terms = matched_variables(version_ids, meaning, backend, labels)
    wanted = set(meaning.keys)
    hits = []
    for document_id in document_ids:
        row = rows.get(document_id)
        if row is None:
            continue
        curies = row.diseases.split()
        matched_terms = sorted({t for c in curies for t in tagged.get(c, ())})
        hits.append(
            Hit(
                identifier=row.identifier,
                title=row.title,
                title_html=text.highlight(row.title, wanted),
                snippet_html=text.snippet(row.description, wanted),
                keywords=[
                    (k, text.highlight(k, wanted), text.holds(k, wanted))
                    for k in row.keywords or []
                ],
                status="draft" if row.is_draft else "published",
                version_number=row.number,
                custodian_id=row.organisation_id,
                custodian=row.custodian,
                source_type=row.source_type,
                data_model=row.data_model,
                countries=row.countries.split(),
                age_groups=row.age_groups.split(),
                patients=row.patients,
                time_coverage=(row.first_year, row.last_year),
                diseases=[{"curie": c, "label": labels.get(c, c)} for c in curies],
                matched_terms=[{"curie": c, "label": labels.get(c, c)} for c in matched_terms],
                updated=row.updated_at,
                score=None,
                variables=variables.get(row.version_id, []),
                variables_matching_words=by_words.get(row.version_id, 0),
                variables_mapped_to_terms=by_terms.get(row.version_id, 0),
                dataset_id=row.dataset_id,
                version_id=row.version_id,
            )
        )
    return hits


@cache
def _rows_statement() -> Any:
    """The page's rows, by document id (built once: building it anew, with the ORM's
    attributes, cost more than running it)."""
    d = DOCUMENT
    dataset: Any = Dataset.__table__
    version: Any = DatasetVersion.__table__
    organisation: Any = Organisation.__table__
    texts: Any = SearchDocumentText.__table__
    return (
        select(
            d.c.id,
            d.c.version_id,
            d.c.dataset_id,
            d.c.is_draft,
            d.c.diseases,
            d.c.countries,
            d.c.age_groups,
            d.c.patients,
            d.c.source_type,
            d.c.data_model,
            d.c.updated_at,
            d.c.organisation_id,
            dataset.c.identifier,
            organisation.c.name.label("custodian"),
            version.c.title,
            texts.c.description,
            version.c.keywords,
            version.c.number,
            version.c.first_year,
            version.c.last_year,
        )
        .join(texts, texts.c.document_id == d.c.id)
        .join(dataset, dataset.c.id == d.c.dataset_id)
        .join(version, version.c.id == d.c.version_id)
        .join(organisation, organisation.c.id == d.c.organisation_id)
        .where(d.c.id.in_(bindparam("ids", expanding=True)))
    )


def _variable_columns() -> tuple[Any, ...]:
    v: Any = Variable.__table__
    return (v.c.id, v.c.version_id, v.c.name, v.c.label, v.c.description, v.c.position)


_WORDS_VARIABLES: dict[str, Any] = {}


def _words_variables_statement(backend: Any) -> Any:
    """The variables holding the words (:meth:`SearchBackend.variables_matching`) with their
    rows, built once per backend."""
    statement = _WORDS_VARIABLES.get(backend.name)
    if statement is None:
        matching = backend.variables_matching().subquery()
        variables: Any = Variable.__table__
        statement = (
            select(*_variable_columns(), matching.c.total)
            .join(variables, variables.c.id == matching.c.variable_id)
            .order_by(matching.c.version_id, matching.c.variable_id)
        )
        _WORDS_VARIABLES[backend.name] = statement
    return statement


@cache
def _named_variables_statement() -> Any:
    """Variables by versions and names (two IN lists: SQLite reads a row value IN list by
    scanning, but two IN lists through the (version_id, name) index)."""
    v: Any = Variable.__table__
    return select(*_variable_columns()).where(
        v.c.version_id.in_(bindparam("versions", expanding=True)),
        v.c.name.in_(bindparam("names", expanding=True)),
    )


def matched_variables(
    version_ids: list[str], meaning: Interpretation, backend: Any, labels: dict[str, str]
) -> tuple[dict[str, list[MatchedVariable]], dict[str, int], dict[str, int]]:
    """Per version: up to :data:`VARIABLES_SHOWN` variables that matched — those mapped to a
    named term first (they answer the question the term asks), then those holding the words —
    and how many matched each way."""
    session = get_session()
    if not version_ids or meaning.is_empty:
        return {}, {}, {}
    mapped: dict[str, dict[str, list[str]]] = {}  # version → name → named terms it covers
    by_terms: dict[str, int] = {}
    named = sorted({t.curie for t in meaning.terms})
    if named:
        # the shared rule of catalogue.coverage, read from these versions' side
        for version_id, by_term in coverage.covered_terms(named, version_ids).items():
            for term, variable_names in sorted(by_term.items()):
                for name in variable_names:
                    mapped.setdefault(version_id, {}).setdefault(name, []).append(term)
        for version_id, names in mapped.items():
            by_terms[version_id] = len(names)
    by_words: dict[str, int] = {}
    text_ids: dict[str, list[int]] = {}
    found: dict[tuple[str, str], Any] = {}
    if meaning.groups:
        # the variables holding the words, with their rows, in one statement
        for row in session.execute(
            _words_variables_statement(backend),
            backend.variables_matching_values(version_ids, meaning.groups, VARIABLES_SHOWN),
        ):
            text_ids.setdefault(row.version_id, []).append(row.id)
            by_words[row.version_id] = row.total
            found[(row.version_id, row.name)] = row
    wanted_names = [(v, n) for v, names in mapped.items() for n in sorted(names)[:VARIABLES_SHOWN]]
    missing = [(v, n) for v, n in wanted_names if (v, n) not in found]
    if missing:
        # versions by names, then the pairs asked for
        pairs = set(missing)
        for row in session.execute(
            _named_variables_statement(),
            {
                "versions": sorted({v for v, _n in missing}),
                "names": sorted({n for _v, n in missing}),
            },
        ):
            if (row.version_id, row.name) in pairs:
                found[(row.version_id, row.name)] = row
    wanted = set(meaning.keys)
    out: dict[str, list[MatchedVariable]] = {}
    names_of: dict[str, list[str]] = {}  # version → the mapped names wanted, by name
    for version_id, name in wanted_names:
        names_of.setdefault(version_id, []).append(name)
    rows_of: dict[str, dict[int, Any]] = {}  # version → variable id → row
    for (version_id, _name), row in found.items():
        rows_of.setdefault(version_id, {})[row.id] = row
    for version_id in version_ids:
        # the variables mapped to a named term first, in the dictionary's order ...
        chosen: list[Any] = sorted(
            (
                found[(version_id, n)]
                for n in names_of.get(version_id, [])
                if (version_id, n) in found
            ),
            key=lambda r: r.position,
        )
        taken = {r.id for r in chosen}
        # ... then those holding the words
        by_id = rows_of.get(version_id, {})
        for variable_id in text_ids.get(version_id, []):
            held = by_id.get(variable_id)
            if held is not None and held.id not in taken:
                chosen.append(held)
                taken.add(held.id)
        terms_of = mapped.get(version_id, {})
        out[version_id] = [
            MatchedVariable(
                name=r.name,
                label=r.label,
                name_html=text.highlight(r.name, wanted),
                label_html=text.highlight(r.label, wanted),
                description_html=text.snippet(r.description, wanted, 160),
                terms=[{"curie": t, "label": labels.get(t, t)} for t in terms_of.get(r.name, [])],
            )
            for r in chosen[:VARIABLES_SHOWN]
        ]
    return out, by_words, by_terms
