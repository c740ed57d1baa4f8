"""Standard variable sets: read (everyone), create, change and retire (administrators); how much
of each set a dataset covers; and feasibility — which datasets could compute a score, and how
many patients they hold.

Changes carry the set's ETag (``If-Match``), like datasets: 428 without one, 412 when stale.
Coverage follows :mod:`catalogue.coverage` (the one rule), over the dataset versions the caller
may see (:mod:`catalogue.standards.scope`). Computed patient totals leave this module only
through the caller's small-cell rule (:mod:`catalogue.counts`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import lazyload

from catalogue.datasets import services as datasets
from catalogue.mappings.coverage import covered_terms
from catalogue.models import Dataset, DatasetVersion, VersionStatus
from catalogue.standards import ranking
from catalogue.standards.models import (
    StandardSetDisease,
    StandardSetStatus,
    StandardSetTerm,
    StandardVariableSet,
)
from catalogue.stats import counts
from core import audit
from core.db import get_session, lock_revision, query_timeout, transactional, utcnow
from core.errors import Conflict, InvalidInput, NotFound, PreconditionFailed
from core.models import Organisation
from core.pagination import Page, paginate
from core.permissions import Permission
from core.policies import Actor, require
from ontologies.models import Term, TermClosure

#: Path segments the pages use under ``/standard-sets/``.
RESERVED_IDENTIFIERS = frozenset({"new", "manage", "all"})
MAX_TERMS = 200


# --- reading --------------------------------------------------------------------------------


def get_set(actor: Actor, identifier: str) -> StandardVariableSet:
    """A set by its identifier (or internal id); readable by everyone, retired or not.

    :raises NotFound: when there is no such set.
    """
    session = get_session()
    found = session.scalar(
        select(StandardVariableSet).where(StandardVariableSet.identifier == identifier)
    )
    if found is None and len(identifier) == 32:
        found = session.get(StandardVariableSet, identifier)
    if found is None:
        raise NotFound(f"No standard variable set “{identifier}”.")
    return found


#: sort keys (``-key`` for descending)
SORTS: dict[str, Any] = {
    "name": StandardVariableSet.name,
    "identifier": StandardVariableSet.identifier,
    "modified": StandardVariableSet.modified_at,
}


def list_sets(
    actor: Actor,
    *,
    status: StandardSetStatus | None = None,
    disease: str | None = None,
    sort: str | None = None,
    page: int = 1,
    per_page: int = 50,
) -> Page[StandardVariableSet]:
    """Sets by name (everyone). ``disease``: sets meant for that disease term, a term above it
    or below it."""
    query = select(StandardVariableSet)
    if status is not None:
        query = query.where(StandardVariableSet.status == status)
    if disease:
        near = _related_diseases([disease])
        query = query.where(
            StandardVariableSet.id.in_(
                select(StandardSetDisease.set_id).where(StandardSetDisease.term_curie.in_(near))
            )
        )
    return paginate(
        query,
        page=page,
        per_page=per_page,
        sort=sort,
        sortable=SORTS,
        default_sort="name",
        tiebreak=StandardVariableSet.identifier,
    )


def terms_by_curie(curies: Iterable[str]) -> dict[str, Term]:
    """Terms by CURIE, without their synonyms and cross-references (loaded if asked for)."""
    wanted = sorted(set(curies))
    if not wanted:
        return {}
    rows = get_session().scalars(
        select(Term)
        .where(Term.curie.in_(wanted))
        .options(lazyload(Term.synonyms), lazyload(Term.xrefs))
    )
    return {t.curie: t for t in rows}


def etag(standard_set: StandardVariableSet) -> str:
    return f'"{standard_set.id[:12]}-{standard_set.revision}"'


# --- changing -------------------------------------------------------------------------------


def _check_etag(standard_set: StandardVariableSet, if_match: str | None) -> None:
    """Holds the set's row until the change commits (:func:`core.db.lock_revision`: of two
    administrators quoting the same ETag, one wins and the other gets 412).

    :raises PreconditionRequired: (428) when no ETag came.
    :raises PreconditionFailed: (412) when it is not the current one."""
    lock_revision(standard_set)
    if if_match is None:
        raise datasets.PreconditionRequired(
            "Send the set's current ETag in If-Match (GET it first) so that you do not "
            "overwrite someone else's change."
        )
    tags = {t.strip().removeprefix("W/") for t in if_match.split(",")}
    if "*" not in tags and etag(standard_set) not in tags:
        raise PreconditionFailed(
            "The set has changed since you read it; reload it and apply your change again."
        )


def _check_terms(items: Sequence[dict[str, Any]]) -> list[tuple[str, str | None]]:
    """``[(curie, note)]`` in order. :raises InvalidInput: naming unknown, obsolete or repeated
    terms."""
    if not items:
        raise InvalidInput.field("terms", "A set needs at least one term.")
    if len(items) > MAX_TERMS:
        raise InvalidInput.field("terms", f"A set has at most {MAX_TERMS} terms.")
    seen: set[str] = set()
    repeated: list[str] = []
    wanted: list[tuple[str, str | None]] = []
    for item in items:
        curie = item["curie"]
        if curie in seen:
            repeated.append(curie)
            continue
        seen.add(curie)
        note = (item.get("note") or "").strip() or None
        wanted.append((curie, note))
    if repeated:
        raise InvalidInput.field(
            "terms", "Each term appears once: " + ", ".join(dict.fromkeys(repeated)) + " repeated."
        )
    found = terms_by_curie(seen)
    unknown = [c for c, _ in wanted if c not in found]
    if unknown:
        raise InvalidInput.field(
            "terms", "Not in the term store: " + ", ".join(unknown) + " (load the ontology first)."
        )
    obsolete = [c for c, _ in wanted if found[c].is_obsolete]
    if obsolete:
        raise InvalidInput.field("terms", "Obsolete terms: " + ", ".join(obsolete) + ".")
    return wanted


def _check_diseases(curies: Sequence[str]) -> list[str]:
    wanted = list(dict.fromkeys(curies))
    found = terms_by_curie(wanted)
    unknown = [
        c for c in wanted if c not in found or found[c].ontology_prefix != datasets.DISEASE_ONTOLOGY
    ]
    if unknown:
        raise InvalidInput.field(
            "diseases",
            "Not in the haematological-malignancy hierarchy: " + ", ".join(unknown) + ".",
        )
    return wanted


def _identifier_for(data: dict[str, Any]) -> str:
    session = get_session()
    identifier = data.get("identifier")

    def taken(candidate: str) -> bool:
        return candidate in RESERVED_IDENTIFIERS or (
            session.scalar(
                select(StandardVariableSet.id).where(StandardVariableSet.identifier == candidate)
            )
            is not None
        )

    if identifier:
        if identifier in RESERVED_IDENTIFIERS:
            raise InvalidInput.field(
                "identifier", f"“{identifier}” is reserved for the catalogue's own pages."
            )
        if taken(identifier):
            raise InvalidInput.field("identifier", "Another set has this identifier.")
        return str(identifier)
    base = datasets.slugify(data["name"])
    candidate, n = base, 1
    while taken(candidate):
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def _audited(standard_set: StandardVariableSet) -> dict[str, Any]:
    """What the audit trail compares before and after a change of a set."""
    fields = ("name", "version", "description", "source", "source_url", "note", "status")
    return audit.snapshot(standard_set, fields) | {
        "terms": [t.term_curie + (f" ({t.note})" if t.note else "") for t in standard_set.terms],
        "diseases": [d.term_curie for d in standard_set.diseases],
    }


def _apply(standard_set: StandardVariableSet, data: dict[str, Any]) -> list[str]:
    """Write ``data`` into the set; returns the names of the fields that changed."""
    changed: list[str] = []
    for key in ("name", "version", "description", "source", "source_url", "note"):
        if key in data and getattr(standard_set, key) != data[key]:
            setattr(standard_set, key, data[key])
            changed.append(key)
    if "terms" in data:
        terms = _check_terms(data["terms"])
        old = [(t.term_curie, t.note) for t in standard_set.terms]
        if old != terms:
            standard_set.terms = [
                StandardSetTerm(term_curie=curie, note=note, position=i)
                for i, (curie, note) in enumerate(terms)
            ]
            changed.append("terms")
    if "diseases" in data:
        diseases = _check_diseases(data["diseases"] or [])
        if [d.term_curie for d in standard_set.diseases] != diseases:
            standard_set.diseases = [
                StandardSetDisease(term_curie=curie, position=i) for i, curie in enumerate(diseases)
            ]
            changed.append("diseases")
    return changed


@transactional
def create_set(actor: Actor, data: dict[str, Any]) -> StandardVariableSet:
    """A new active set (administrators). ``data``: ``name``, ``version``, ``terms``
    (``[{curie, note}]``), and optionally ``identifier`` (made from the name otherwise),
    ``description``, ``source``, ``source_url``, ``note``, ``diseases``.

    :raises InvalidInput: for an identifier in use, unknown or repeated terms, unknown diseases.
    """
    require(actor, Permission.STANDARD_SET_MANAGE)
    now = utcnow()
    standard_set = StandardVariableSet(
        identifier=_identifier_for(data),
        name=data["name"],
        version=data["version"],
        status=StandardSetStatus.ACTIVE,
        revision=1,
        created_at=now,
        modified_at=now,
    )
    _apply(standard_set, {k: v for k, v in data.items() if k not in ("name", "version")})
    session = get_session()
    session.add(standard_set)
    session.flush()
    audit.record(
        actor,
        "standard_set.created",
        "standard_set",
        standard_set.identifier,
        after=_audited(standard_set),
        summary=f"Standard set “{standard_set.name}” {standard_set.version} created "
        f"({len(standard_set.terms)} terms).",
    )
    session.commit()
    return standard_set


@transactional
def update_set(
    actor: Actor, identifier: str, data: dict[str, Any], if_match: str | None
) -> StandardVariableSet:
    """Change the fields in ``data`` (``terms`` replaces the whole ordered list).

    :raises Conflict: when the set is retired.
    """
    require(actor, Permission.STANDARD_SET_MANAGE)
    standard_set = get_set(actor, identifier)
    _check_etag(standard_set, if_match)
    if standard_set.status is StandardSetStatus.RETIRED:
        raise Conflict("This set is retired; it no longer changes.")
    if "identifier" in data and data["identifier"] != standard_set.identifier:
        raise InvalidInput.field("identifier", "Identifiers are stable; they cannot be changed.")
    was = _audited(standard_set)
    changed = _apply(standard_set, data)
    if changed:
        standard_set.revision += 1
        standard_set.modified_at = utcnow()
        before, after = audit.changed(was, _audited(standard_set))
        audit.record(
            actor,
            "standard_set.updated",
            "standard_set",
            standard_set.identifier,
            before=before,
            after=after,
            summary=f"Standard set “{standard_set.name}”: changed {', '.join(sorted(changed))}.",
            context={"revision": standard_set.revision},
        )
    get_session().commit()
    return standard_set


@transactional
def retire_set(actor: Actor, identifier: str, if_match: str | None) -> StandardVariableSet:
    """Retire a set: it stays readable (and its feasibility can still be asked) but the dataset
    pages no longer show it. :raises Conflict: when it is retired already."""
    require(actor, Permission.STANDARD_SET_MANAGE)
    standard_set = get_set(actor, identifier)
    _check_etag(standard_set, if_match)
    if standard_set.status is StandardSetStatus.RETIRED:
        raise Conflict("This set is retired already.")
    now = utcnow()
    standard_set.status = StandardSetStatus.RETIRED
    standard_set.retired_at = now
    standard_set.modified_at = now
    standard_set.revision += 1
    audit.record(
        actor,
        "standard_set.retired",
        "standard_set",
        standard_set.identifier,
        before={"status": StandardSetStatus.ACTIVE},
        after={"status": StandardSetStatus.RETIRED},
        summary=f"Standard set “{standard_set.name}” {standard_set.version} retired.",
        context={"revision": standard_set.revision},
    )
    get_session().commit()
    return standard_set


# --- coverage of a dataset ------------------------------------------------------------------


@dataclass
class TermCoverage:
    curie: str
    label: str
    note: str | None
    variables: list[str]  # the dataset's variables that cover it (empty: missing)

    @property
    def covered(self) -> bool:
        return bool(self.variables)


@dataclass
class SetCoverage:
    standard_set: StandardVariableSet
    terms: list[TermCoverage]
    relevant: bool  # the set is meant for one of the dataset's diseases (or for any)

    @property
    def covered(self) -> int:
        return sum(1 for t in self.terms if t.covered)

    @property
    def total(self) -> int:
        return len(self.terms)

    @property
    def share(self) -> float:
        return self.covered / self.total if self.total else 0.0

    @property
    def missing(self) -> list[TermCoverage]:
        return [t for t in self.terms if not t.covered]

    @property
    def complete(self) -> bool:
        return self.total > 0 and self.covered == self.total


def _related_diseases(curies: Sequence[str]) -> set[str]:
    """The disease terms at, above or below any of ``curies``."""
    if not curies:
        return set()
    rows = get_session().execute(
        select(TermClosure.ancestor_curie, TermClosure.descendant_curie).where(
            or_(
                TermClosure.ancestor_curie.in_(list(curies)),
                TermClosure.descendant_curie.in_(list(curies)),
            )
        )
    )
    related = set(curies)
    for ancestor, descendant in rows:
        related.update((ancestor, descendant))
    return related


def coverage_of_version(version: DatasetVersion) -> list[SetCoverage]:
    """How much of every active set ``version`` covers, sets meant for its diseases first
    (then by name). The caller has read the version through the dataset service."""
    sets = (
        get_session()
        .scalars(
            select(StandardVariableSet)
            .where(StandardVariableSet.status == StandardSetStatus.ACTIVE)
            .order_by(StandardVariableSet.name, StandardVariableSet.identifier)
        )
        .all()
    )
    if not sets:
        return []
    wanted = {t.term_curie for s in sets for t in s.terms}
    found = covered_terms(wanted, [version.id]).get(version.id, {})
    labels = terms_by_curie(wanted)
    near = _related_diseases([d.term_curie for d in version.diseases])
    result = []
    for standard_set in sets:
        set_diseases = {d.term_curie for d in standard_set.diseases}
        result.append(
            SetCoverage(
                standard_set=standard_set,
                terms=[
                    TermCoverage(
                        curie=t.term_curie,
                        label=labels[t.term_curie].label if t.term_curie in labels else "",
                        note=t.note,
                        variables=found.get(t.term_curie, []),
                    )
                    for t in standard_set.terms
                ],
                relevant=not set_diseases or bool(set_diseases & near),
            )
        )
    result.sort(key=lambda c: (not c.relevant, c.standard_set.name.lower()))
    return result


@dataclass
class DatasetCoverage:
    version: DatasetVersion
    sets: list[SetCoverage]


def dataset_coverage(actor: Actor, identifier: str, number: int | None = None) -> DatasetCoverage:
    """Coverage of every active set by the version of a dataset the caller sees (or version
    ``number``). :raises NotFound: as reading the dataset does."""
    version = datasets.get_version(actor, identifier, number)
    return DatasetCoverage(version=version, sets=coverage_of_version(version))


# --- feasibility ----------------------------------------------------------------------------


@dataclass
class FeasibilityRow:
    dataset: DatasetRef
    covered: int
    total: int
    missing: list[str]
    variables: dict[str, list[str]]  # term → the dataset's covering variables

    @property
    def share(self) -> float:
        return self.covered / self.total if self.total else 0.0

    @property
    def complete(self) -> bool:
        return self.covered == self.total


@dataclass
class Feasibility:
    standard_set: StandardVariableSet
    rows: Page[FeasibilityRow]
    complete_datasets: int
    complete_patients: counts.PatientCount
    undeclared: int  # complete datasets that declare no patient count
    datasets_in_scope: int
    labels: dict[str, Term] = field(default_factory=dict)


def feasibility(actor: Actor, identifier: str, *, page: int = 1, per_page: int = 25) -> Feasibility:
    """Datasets ranked by how much of the set they cover (those that cover at least one term),
    and the patients of the published datasets that cover all of it, under the caller's
    small-cell rule. Custodians see their own drafts ranked too (in place of the published
    version, as on the dataset pages); the totals count published versions only, the same for
    everyone.

    :raises NotFound: for an unknown set. :raises ServiceUnavailable: when the queries run
        longer than ``QUERY_TIMEOUT_MS``.
    """
    standard_set = get_set(actor, identifier)
    terms = [t.term_curie for t in standard_set.terms]
    with query_timeout():
        indexed = ranking.index_ready()
        ranked = ranking.rank(
            actor, terms, page=page, per_page=per_page, indexed=indexed, totals=True
        )
        totals = ranked.totals or ranking.complete_totals(terms, indexed=indexed)
        size = ranking.scope_size(actor, indexed=indexed)
        refs = load_refs([r.version_id for r in ranked.rows])
        found = covered_terms(terms, [r.version_id for r in ranked.rows])
    rows = []
    for r in ranked.rows:
        by_term = found.get(r.version_id, {})
        rows.append(
            FeasibilityRow(
                dataset=refs[r.version_id],
                covered=r.covered,
                total=len(terms),
                missing=[t for t in terms if t not in by_term],
                variables=by_term,
            )
        )
    rule = counts.rule_for(actor)
    return Feasibility(
        standard_set=standard_set,
        rows=Page(items=rows, total=ranked.total, page=page, per_page=per_page),
        complete_datasets=totals.datasets,
        complete_patients=rule.count(totals.patients),
        undeclared=totals.undeclared,
        datasets_in_scope=size,
        labels=terms_by_curie(terms),
    )


@dataclass(frozen=True)
class DatasetRef:
    """What a ranking shows of a dataset version (one row of one query per page)."""

    version_id: str
    identifier: str
    title: str
    custodian: str  # the organisation's name
    number: int
    patients: int | None  # as declared
    is_draft: bool
    custodian_id: str = ""  # the organisation's id: its publisher page

    @classmethod
    def of(cls, version: DatasetVersion) -> DatasetRef:
        dataset = version.dataset
        return cls(
            version.id,
            dataset.identifier,
            version.title,
            dataset.organisation.name,
            version.number,
            version.patients,
            version.status is VersionStatus.DRAFT,
            dataset.organisation_id,
        )


def load_refs(version_ids: Sequence[str]) -> dict[str, DatasetRef]:
    """:class:`DatasetRef` of these versions, by id."""
    if not version_ids:
        return {}
    rows = get_session().execute(
        select(
            DatasetVersion.id,
            Dataset.identifier,
            DatasetVersion.title,
            Organisation.name,
            DatasetVersion.number,
            DatasetVersion.patients,
            DatasetVersion.status,
            Organisation.id,
        )
        .join(Dataset, Dataset.id == DatasetVersion.dataset_id)
        .join(Organisation, Organisation.id == Dataset.organisation_id)
        .where(DatasetVersion.id.in_(list(version_ids)))
    )
    return {
        r[0]: DatasetRef(r[0], r[1], r[2], r[3], r[4], r[5], r[6] is VersionStatus.DRAFT, r[7])
        for r in rows
    }
