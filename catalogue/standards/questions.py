"""The variable-level question: "which datasets have variables for these terms?"

For a list of terms (CURIEs or IRIs), every dataset in the caller's scope that covers at least
one of them — directly or through a narrower mapped term, by :mod:`catalogue.coverage`'s rule —
with the variables that cover each term and the terms it lacks, most terms first. Published
datasets for everyone; the custodians of a dataset (and administrators) see its open draft.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from catalogue.mappings.coverage import covered_terms
from catalogue.standards import ranking
from catalogue.standards.services import DatasetRef, load_refs, terms_by_curie
from core.db import query_timeout
from core.errors import InvalidInput
from core.pagination import Page
from core.policies import Actor
from ontologies.identifiers import UnknownIdentifier, normalise_curie
from ontologies.models import Term

MAX_TERMS = 50


def split_terms(values: Iterable[str]) -> list[str]:
    """Comma-separated and repeated values, as given (blank parts dropped)."""
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def resolve_terms(values: Iterable[str]) -> list[Term]:
    """The terms named by ``values`` (CURIEs or IRIs, comma-separated or repeated), once each,
    in the order given.

    :raises InvalidInput: (field ``terms``) naming what is malformed or not in the term store,
        or when there are none or more than :data:`MAX_TERMS`.
    """
    given = split_terms(values)
    if not given:
        raise InvalidInput.field("terms", "Name at least one term (a CURIE such as HV:0000045).")
    named: list[tuple[str, str | None]] = []  # (as given, CURIE or None when malformed)
    for text in given:
        try:
            named.append((text, normalise_curie(text)))
        except UnknownIdentifier:
            named.append((text, None))
    curies = list(dict.fromkeys(c for _, c in named if c is not None))
    if len(curies) > MAX_TERMS:
        raise InvalidInput.field("terms", f"Ask about at most {MAX_TERMS} terms at a time.")
    found = terms_by_curie(curies)
    unknown = list(dict.fromkeys(c or text for text, c in named if c is None or c not in found))
    if unknown:
        raise InvalidInput.field("terms", "Unknown terms: " + ", ".join(unknown) + ".")
    return [found[c] for c in curies]


@dataclass
class AnswerRow:
    dataset: DatasetRef
    variables: dict[str, list[str]]  # covered term → the dataset's variables that cover it
    missing: list[str]
    total: int

    @property
    def covered(self) -> int:
        return self.total - len(self.missing)

    @property
    def share(self) -> float:
        return self.covered / self.total if self.total else 0.0


@dataclass
class VariableAnswer:
    terms: list[Term]
    rows: Page[AnswerRow]
    datasets_in_scope: int  # every dataset the question ran over (covering or not)


def variable_question(
    actor: Actor, terms: list[Term], *, page: int = 1, per_page: int = 25
) -> VariableAnswer:
    """One page of the datasets that cover at least one of ``terms`` (from
    :func:`resolve_terms`), most covered terms first.

    :raises ServiceUnavailable: when the queries run longer than ``QUERY_TIMEOUT_MS``.
    """
    curies = [t.curie for t in terms]
    with query_timeout():
        indexed = ranking.index_ready()
        ranked = ranking.rank(actor, curies, page=page, per_page=per_page, indexed=indexed)
        size = ranking.scope_size(actor, indexed=indexed)
        ids = [r.version_id for r in ranked.rows]
        refs = load_refs(ids)
        found = covered_terms(curies, ids)
    rows = []
    for r in ranked.rows:
        by_term = found.get(r.version_id, {})
        rows.append(
            AnswerRow(
                dataset=refs[r.version_id],
                variables={c: by_term[c] for c in curies if c in by_term},
                missing=[c for c in curies if c not in by_term],
                total=len(curies),
            )
        )
    return VariableAnswer(
        terms=terms,
        rows=Page(items=rows, total=ranked.total, page=page, per_page=per_page),
        datasets_in_scope=size,
    )
