"""Where an ontology term is used in the catalogue: the term page's "Where it is used" section
and the counts in ``GET /api/v1/terms/{curie}``.

Two sections, each read "at the term or below it" through the closure table:

- the datasets tagged with the disease term or a narrower one;
- the variables that carry the term: an *accepted* mapping of the variable (or of one of its
  permissible values) to the term or a narrower one, with a predicate of
  :data:`~catalogue.mappings.coverage.COVERING_PREDICATES` — the rule of search's "Has
  variables for" filter, so that the count here is what that filter finds.

Both run over the versions the caller sees (:func:`catalogue.standards.scope.visible_versions`,
the one rule for drafts): the published version of every published dataset, and for the
custodians of the owning organisation and administrators the open draft in its place. Retired
datasets and other organisations' drafts are never counted.

Each section also says how many use the term *itself* (tagged with it, mapped to it) and how
many only a narrower term. The ontology tree counts, for every node it shows, the datasets that
use the node or a narrower term either way (tagged, or a variable mapped) in one statement for
the whole level (:func:`dataset_counts`), over the same visible versions.

The ontologies area cannot import the catalogue, so :func:`register_term_usage` hands
:func:`term_usage` and :func:`dataset_counts` to it (``ontologies.browse``).
"""

from __future__ import annotations

from typing import Any

from flask import url_for
from sqlalchemy import case, exists, func, select, union

from catalogue.mappings.coverage import COVERING_PREDICATES
from catalogue.models import (
    Dataset,
    DatasetDisease,
    DatasetVersion,
    Mapping,
    MappingStatus,
    Variable,
    VersionStatus,
)
from catalogue.standards.scope import visible_versions
from core.db import get_session
from core.models import Organisation
from core.policies import Actor
from core.text import plural
from ontologies import browse
from ontologies.models import Term, TermClosure

DISEASE_ONTOLOGY = "HAEM"  # the ontology of datasets' disease terms: search's ``disease`` filter
DATASET_PAGE = "datasets.dataset"  # the endpoint of a dataset's page
VARIABLE_PAGE = "variables.variable"  # the endpoint of a variable's page


def register_term_usage() -> None:
    """Make every term page list the catalogue's datasets and variables, and the ontology tree
    count the datasets using each node (called once by the catalogue's init; calling it again
    changes nothing)."""
    browse.register_usage_provider(term_usage)
    browse.register_dataset_count_provider(dataset_counts)


def dataset_counts(actor: Actor, curies: list[str]) -> dict[str, int]:
    """For each of ``curies``, the datasets ``actor`` sees that are tagged with it or a
    narrower term, or have a variable mapped to it or a narrower term (accepted, covering
    predicate): one statement for all of them through the closure table. Unused terms are left
    out."""
    if not curies:
        return {}
    scope = visible_versions(actor).subquery("scope")
    uses = union(
        select(DatasetDisease.term_curie.label("curie"), scope.c.dataset_id).join(
            scope, scope.c.version_id == DatasetDisease.version_id
        ),
        select(Mapping.object_curie.label("curie"), scope.c.dataset_id)
        .join(Variable, Variable.id == Mapping.variable_id)
        .join(scope, scope.c.version_id == Variable.version_id)
        .where(
            Mapping.status == MappingStatus.ACCEPTED,
            Mapping.predicate.in_(COVERING_PREDICATES),
        ),
    ).subquery("uses")
    rows = get_session().execute(
        select(TermClosure.ancestor_curie, func.count(func.distinct(uses.c.dataset_id)))
        .join(uses, uses.c.curie == TermClosure.descendant_curie)
        .where(TermClosure.ancestor_curie.in_(curies))
        .group_by(TermClosure.ancestor_curie)
    )
    return {str(curie): int(count) for curie, count in rows}


def term_usage(actor: Actor, curie: str, limit: int) -> list[browse.Usage]:
    """The datasets tagged with ``curie`` (or below it) and the variables mapped to it (or
    below it) that ``actor`` may see, each with its total and at most ``limit`` listed."""
    return [_datasets(actor, curie, limit), _variables(actor, curie, limit)]


def _search_url(curie: str, facet: str) -> str:
    values: dict[str, Any] = {facet: curie}
    return url_for("search.search_page", **values)


def _dataset_url(identifier: str) -> str:
    return url_for(DATASET_PAGE, identifier=identifier)


def _datasets(actor: Actor, curie: str, limit: int) -> browse.Usage:
    """Datasets tagged with the term or a narrower one: one statement, the total counted by a
    window over the same rows before the limit."""
    scope = visible_versions(actor).subquery("scope")
    tagged = exists(
        select(1)
        .select_from(DatasetDisease)
        .join(TermClosure, TermClosure.descendant_curie == DatasetDisease.term_curie)
        .where(
            DatasetDisease.version_id == scope.c.version_id,
            TermClosure.ancestor_curie == curie,
        )
    )
    itself = exists(
        select(1).where(
            DatasetDisease.version_id == scope.c.version_id, DatasetDisease.term_curie == curie
        )
    )
    usage = browse.Usage(
        "datasets",
        "Datasets about this disease",
        0,
        noun=("dataset", "datasets"),
        exact_words=("Tagged with this term itself", "Tagged only with narrower terms"),
    )
    session = get_session()
    if limit <= 0:
        usage.total = session.scalar(select(func.count()).select_from(scope).where(tagged)) or 0
        return usage
    rows = session.execute(
        select(
            Dataset.identifier,
            DatasetVersion.title,
            DatasetVersion.status,
            DatasetVersion.patients,
            Organisation.name,
            func.count().over().label("total"),
            func.sum(case((itself, 1), else_=0)).over().label("exact"),
        )
        .select_from(scope)
        .join(DatasetVersion, DatasetVersion.id == scope.c.version_id)
        .join(Dataset, Dataset.id == scope.c.dataset_id)
        .join(Organisation, Organisation.id == Dataset.organisation_id)
        .where(tagged)
        .order_by(func.lower(DatasetVersion.title), Dataset.identifier)
        .limit(limit)
    ).all()
    usage.total = rows[0].total if rows else 0
    usage.exact = int(rows[0].exact) if rows else 0
    usage.items = [
        browse.UsageItem(
            label=row.title,
            url=_dataset_url(row.identifier),
            detail=_dataset_detail(row.name, row.patients, row.status),
        )
        for row in rows
    ]
    usage.more = usage.total - len(rows)
    if usage.total and _is_disease_term(curie):
        usage.more_url = _search_url(curie, "disease")
    return usage


def _dataset_detail(custodian: str, patients: int | None, status: VersionStatus) -> str:
    parts = [custodian]
    if patients is not None:
        parts.append(plural(patients, "patient"))
    if status is VersionStatus.DRAFT:
        parts.append("draft")
    return " · ".join(parts)


def _is_disease_term(curie: str) -> bool:
    prefix = get_session().scalar(select(Term.ontology_prefix).where(Term.curie == curie))
    return prefix == DISEASE_ONTOLOGY


def _variables(actor: Actor, curie: str, limit: int) -> browse.Usage:
    """Variables that carry the term, grouped by dataset: one statement counts them per
    dataset version (with the datasets' titles), a second lists the first ``limit`` of them
    in the same order (datasets by title, variables in their dictionary's order)."""
    scope = visible_versions(actor).subquery("scope")
    carrying = (
        select(
            Variable.id.label("variable_id"),
            Variable.version_id.label("version_id"),
            # 1 when a mapping names the term itself (not only narrower terms)
            func.max(case((Mapping.object_curie == curie, 1), else_=0)).label("direct"),
            # 1 when the variable itself is mapped (not only some of its values)
            func.max(case((Mapping.value_code.is_(None), 1), else_=0)).label("itself"),
            func.min(Term.label).label("via"),
            func.min(Mapping.value_code).label("value_code"),
        )
        .select_from(TermClosure)
        .join(Mapping, Mapping.object_curie == TermClosure.descendant_curie)
        .join(Term, Term.curie == Mapping.object_curie)
        .join(Variable, Variable.id == Mapping.variable_id)
        .join(scope, scope.c.version_id == Variable.version_id)
        .where(
            TermClosure.ancestor_curie == curie,
            Mapping.status == MappingStatus.ACCEPTED,
            Mapping.predicate.in_(COVERING_PREDICATES),
        )
        .group_by(Variable.id, Variable.version_id)
        .subquery("carrying")
    )
    session = get_session()
    usage = browse.Usage(
        "variables",
        "Variables mapped to it",
        0,
        noun=("variable", "variables"),
        exact_words=("Mapped to this term itself", "Mapped only to narrower terms"),
    )
    if limit <= 0:
        usage.total = session.scalar(select(func.count()).select_from(carrying)) or 0
        return usage
    per_version = session.execute(
        select(
            carrying.c.version_id,
            Dataset.identifier,
            DatasetVersion.title,
            DatasetVersion.status,
            func.count().label("variables"),
            func.sum(carrying.c.direct).label("direct"),
        )
        .join(DatasetVersion, DatasetVersion.id == carrying.c.version_id)
        .join(Dataset, Dataset.id == DatasetVersion.dataset_id)
        .group_by(
            carrying.c.version_id, Dataset.identifier, DatasetVersion.title, DatasetVersion.status
        )
        .order_by(func.lower(DatasetVersion.title), Dataset.identifier)
    ).all()
    usage.total = sum(row.variables for row in per_version)
    usage.exact = sum(int(row.direct or 0) for row in per_version)
    if not usage.total:
        return usage
    listed = session.execute(
        select(
            carrying.c.version_id,
            Variable.name,
            Variable.label,
            carrying.c.direct,
            carrying.c.itself,
            carrying.c.via,
            carrying.c.value_code,
        )
        .join(Variable, Variable.id == carrying.c.variable_id)
        .join(DatasetVersion, DatasetVersion.id == carrying.c.version_id)
        .join(Dataset, Dataset.id == DatasetVersion.dataset_id)
        .order_by(func.lower(DatasetVersion.title), Dataset.identifier, Variable.position)
        .limit(limit)
    ).all()
    by_version: dict[str, list[Any]] = {}
    for row in listed:
        by_version.setdefault(row.version_id, []).append(row)
    for group in per_version:
        rows = by_version.get(group.version_id)
        if not rows:
            continue
        detail = plural(group.variables, "variable")
        if group.status is VersionStatus.DRAFT:
            detail += " · draft"
        usage.items.append(
            browse.UsageItem(
                label=group.title,
                url=_dataset_url(group.identifier),
                detail=detail,
                items=[_variable_item(group.identifier, row) for row in rows],
            )
        )
    usage.more = usage.total - len(listed)
    usage.more_url = _search_url(curie, "term")
    return usage


def _variable_item(identifier: str, row: Any) -> browse.UsageItem:
    """A variable, linking to its page (``/datasets/{identifier}/variables/{name}``)."""
    notes = []
    if not row.itself:
        notes.append(f"through its value “{row.value_code}”")
    if not row.direct:
        notes.append(f"as {row.via}")
    url = url_for(VARIABLE_PAGE, identifier=identifier, name=row.name)
    return browse.UsageItem(
        label=row.label, url=url, code=row.name, detail=", ".join(notes) or None
    )
