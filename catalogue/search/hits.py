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
from sqlalchemy import String, bindparam, literal_column, null, select, union_all

from catalogue.models import Dataset, DatasetVersion, Variable
from catalogue.search import text
from catalogue.search.models import SearchDocument, SearchDocumentText, SearchVariableMapping
from catalogue.search.query import Interpretation
from core.db import get_session
from core.models import Organisation
from ontologies import hierarchy_cache
from ontologies.models import TermClosure

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
    variables, by_words, by_terms = matched_variables(
        version_ids, meaning, backend, labels, [i for i in document_ids if i in rows]
    )
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
                    # a keyword holds a word that matched when its highlight marks one (the
                    # keyword itself is escaped: "<mark>" is never its own text)
                    (k, html, "<mark>" in html)
                    for k in row.keywords or []
                    for html in (text.highlight(k, wanted),)
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


_VARIABLES: dict[tuple[str, bool, bool], Any] = {}
WORDS, TERMS = "words", "terms"


def _variables_statement(backend: Any, words: bool, terms: bool) -> Any:
    """One statement for the variables that matched, with their rows: those holding the words
    (:meth:`SearchBackend.variables_matching`: up to :data:`VARIABLES_SHOWN` per version, and
    how many in all) and those mapped to a named term or below it (the index's
    :class:`~catalogue.search.models.SearchVariableMapping` rows of the page's documents, by
    the coverage rule, joined to the closure: one row per term), told apart by ``kind``.
    Built once per backend and kind of query; its values are named parameters."""
    key = (backend.name, words, terms)
    statement = _VARIABLES.get(key)
    if statement is None:
        parts = []
        if words:
            holding = backend.variables_matching().subquery()
            parts.append(
                select(
                    literal_column(f"'{WORDS}'", String).label("kind"),
                    holding.c.version_id,
                    holding.c.variable_id,
                    holding.c.total,
                    null().label("term"),
                )
            )
        if terms:
            mapped = _covering_variables().subquery()
            parts.append(
                select(
                    literal_column(f"'{TERMS}'", String).label("kind"),
                    mapped.c.version_id,
                    mapped.c.variable_id,
                    null().label("total"),
                    mapped.c.term,
                )
            )
        found = (parts[0] if len(parts) == 1 else union_all(*parts)).subquery()
        variables: Any = Variable.__table__
        statement = (
            select(
                variables.c.id,
                variables.c.version_id,
                variables.c.name,
                variables.c.label,
                variables.c.description,
                variables.c.position,
                found.c.kind,
                found.c.total,
                found.c.term,
            )
            .join(variables, variables.c.id == found.c.variable_id)
            .order_by(found.c.version_id, found.c.variable_id)
        )
        _VARIABLES[key] = statement
    return statement


def _covering_variables() -> Any:
    """``(version_id, variable_id, term)`` of the page's documents (the parameter
    ``documents``): their variables mapped, by the coverage rule, to one of ``terms`` or below
    it, each once per term."""
    mappings: Any = SearchVariableMapping.__table__
    closure: Any = TermClosure.__table__
    return (
        select(
            DOCUMENT.c.version_id, mappings.c.variable_id, closure.c.ancestor_curie.label("term")
        )
        .select_from(mappings)
        .join(DOCUMENT, DOCUMENT.c.id == mappings.c.document_id)
        .join(closure, closure.c.descendant_curie == mappings.c.object_curie)
        .where(
            mappings.c.document_id.in_(bindparam("documents", expanding=True)),
            closure.c.ancestor_curie.in_(bindparam("terms", expanding=True)),
        )
        .distinct()
    )


def matched_variables(
    version_ids: list[str],
    meaning: Interpretation,
    backend: Any,
    labels: dict[str, str],
    document_ids: list[int],
) -> tuple[dict[str, list[MatchedVariable]], dict[str, int], dict[str, int]]:
    """Per version: up to :data:`VARIABLES_SHOWN` variables that matched — those mapped to a
    named term first (they answer the question the term asks), then those holding the words —
    and how many matched each way."""
    if not version_ids or meaning.is_empty:
        return {}, {}, {}
    named = sorted({t.curie for t in meaning.terms})
    words = bool(meaning.groups)
    values: dict[str, Any] = {}
    if words:
        values.update(
            backend.variables_matching_values(version_ids, meaning.groups, VARIABLES_SHOWN)
        )
    if named:
        # the shared rule of catalogue.coverage, as the index keeps it for these documents
        values.update({"terms": named, "documents": list(dict.fromkeys(document_ids))})
    mapped: dict[str, dict[str, list[str]]] = {}  # version → name → named terms it covers
    by_words: dict[str, int] = {}
    text_ids: dict[str, list[int]] = {}  # version → the variables holding the words, by id
    found: dict[tuple[str, str], Any] = {}
    for row in get_session().execute(_variables_statement(backend, words, bool(named)), values):
        found[(row.version_id, row.name)] = row
        if row.kind == WORDS:
            text_ids.setdefault(row.version_id, []).append(row.id)
            by_words[row.version_id] = row.total
        else:
            mapped.setdefault(row.version_id, {}).setdefault(row.name, []).append(row.term)
    for names in mapped.values():
        for terms in names.values():
            terms.sort()
    by_terms = {version_id: len(names) for version_id, names in mapped.items()}
    wanted_names = [(v, n) for v, names in mapped.items() for n in sorted(names)[:VARIABLES_SHOWN]]
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
