"""Mappings of variables and their permissible values to ontology terms (SSSOM-style).

A mapping's subject is a variable of a dataset version, or one of its permissible values (the
mapping then names the value's code); its object is a term of the term store. Each has the
SSSOM core: predicate (a SKOS mapping relation), justification (semapv), confidence, author,
date and comment, and a status: the mapping assistant proposes ``suggested`` mappings, which a
custodian accepts or rejects (or replaces by another term); mappings a person makes are
``accepted`` at once.

Reading follows the dataset's visibility (:func:`catalogue.datasets.get_version`); every change
goes to the open draft (:func:`catalogue.datasets.editable_version`: 404 when the caller may not
see the dataset, 403 when it may not change it, 428/412 for a missing or stale ``If-Match``,
409 when there is no open draft — published versions never change), is recorded in the
dataset's history and bumps its ETag.

Accepting a mapping of a subject withdraws (deletes) the other open suggestions for the same
subject: they were alternatives to it. Rejected mappings stay, so that the assistant never
proposes a rejected term for that subject again.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, delete, insert, select

from catalogue.datasets import services as datasets
from catalogue.models import (
    Dataset,
    DatasetVersion,
    Mapping,
    MappingJustification,
    MappingPredicate,
    MappingStatus,
    Variable,
)
from core import workflow
from core.db import get_session, transactional
from core.errors import InvalidInput, NotFound
from core.models import User
from core.pagination import Page, paginate
from core.policies import Actor
from ontologies.identifiers import is_iri
from ontologies.models import Term
from ontologies.services import resolve_curie

ASSISTANT_LABEL = "HARMONY mapping assistant"
SKOS = "http://www.w3.org/2004/02/skos/core#"
SEMAPV = "https://w3id.org/semapv/vocab/"
MAX_PER_PAGE = 1000


@dataclass
class MappingEntry:
    """A mapping as lists and the API show it: the row, its subject, the object's label, who
    is credited, and the review actions the reader may take now. Its properties carry SSSOM's
    names (:class:`catalogue.mappings.schemas.MappingEntrySchema` dumps it)."""

    mapping: Mapping
    variable: Variable
    object_label: str | None
    value_label: str | None  # the permissible value's label, for a value's mapping
    author: str | None  # who is credited (the organisation, for readers who are not editors)
    actions: list[str] = field(default_factory=list)

    @property
    def id(self) -> int:
        return self.mapping.id

    @property
    def subject_value(self) -> str | None:
        return self.mapping.value_code

    @property
    def predicate_id(self) -> str:
        return self.mapping.predicate.value

    @property
    def object_id(self) -> str:
        return self.mapping.object_curie

    @property
    def mapping_justification(self) -> str:
        return self.mapping.justification.value

    @property
    def confidence(self) -> float | None:
        return self.mapping.confidence

    @property
    def status(self) -> str:
        return self.mapping.status.value

    @property
    def mapping_date(self) -> str | None:
        date = self.mapping.mapping_date
        return date.isoformat() if date else None

    @property
    def comment(self) -> str | None:
        return self.mapping.comment

    @property
    def reason(self) -> str | None:
        return self.mapping.reason


# --- parsing the SSSOM vocabulary -----------------------------------------------------------


def _vocabulary_member(value: str, members: Any, namespace: str, prefix: str) -> Any:
    """The member of ``members`` (values like ``skos:exactMatch``) that ``value`` names as a
    CURIE with ``prefix``, a bare local name or an IRI in ``namespace`` (case-blind), else None."""
    local = value
    if value.startswith(namespace):
        local = value[len(namespace) :]
    elif ":" in value:
        given, _, local = value.partition(":")
        if given.lower() != prefix:
            local = ""
    for member in members:
        if member.value.split(":", 1)[1].lower() == local.lower():
            return member
    return None


def parse_predicate(text: str | None, field: str = "predicate_id") -> MappingPredicate:
    """``skos:exactMatch``, ``exactMatch`` or the SKOS IRI.

    :raises InvalidInput: naming ``field`` for anything else.
    """
    value = (text or "").strip()
    predicate = _vocabulary_member(value, MappingPredicate, SKOS, "skos")
    if predicate is None:
        allowed = ", ".join(p.value for p in MappingPredicate)
        raise InvalidInput.field(
            field, f"“{value}” is not a mapping predicate; use one of {allowed}."
        )
    return predicate


def parse_justification(
    text: str | None, field: str = "mapping_justification"
) -> MappingJustification:
    """``semapv:LexicalMatching``, ``LexicalMatching`` or the semapv IRI; empty: manual
    curation.

    :raises InvalidInput: naming ``field`` for a justification we do not record.
    """
    value = (text or "").strip()
    if not value:
        return MappingJustification.MANUAL
    justification = _vocabulary_member(value, MappingJustification, SEMAPV, "semapv")
    if justification is None:
        allowed = ", ".join(j.value for j in MappingJustification)
        raise InvalidInput.field(
            field, f"“{value}” is not a justification we record; use {allowed}."
        )
    return justification


def parse_confidence(value: Any, field: str = "confidence") -> float | None:
    """A number from 0 to 1, or None.

    :raises InvalidInput: naming ``field`` otherwise.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidInput.field(field, f"“{value}” is not a number from 0 to 1.") from None
    if math.isnan(number) or not 0.0 <= number <= 1.0:
        raise InvalidInput.field(field, f"{value} is outside 0 to 1.")
    return number


def term_for(identifier: str | None, field: str = "object_id") -> Term:
    """The stored term for a CURIE or IRI.

    :raises InvalidInput: naming ``field`` when no such term is loaded, or it is obsolete.
    """
    text = (identifier or "").strip()
    if not text:
        raise InvalidInput.field(field, "Name the term (a CURIE such as HV:0000045, or its IRI).")
    try:
        curie = resolve_curie(text)
    except NotFound:
        curie = None
    term = get_session().get(Term, curie) if curie else None
    if term is None:
        what = "IRI" if is_iri(text) else "CURIE"
        raise InvalidInput.field(field, f"No term with the {what} “{text}” is loaded.")
    if term.is_obsolete:
        instead = f" Use {term.replaced_by} instead." if term.replaced_by else ""
        raise InvalidInput.field(field, f"{term.curie} “{term.label}” is obsolete.{instead}")
    return term


# --- reading --------------------------------------------------------------------------------


def author_of(actor: Actor) -> tuple[str | None, str]:
    """(user id, label) to credit for a change by ``actor``."""
    if isinstance(actor, User):
        return actor.id, actor.name
    return None, "system (command line)"


def list_mappings(
    actor: Actor,
    identifier: str,
    *,
    status: MappingStatus | str | None = None,
    variable: str | None = None,
    subject: str | None = None,
    number: int | None = None,
    page: int = 1,
    per_page: int = 100,
) -> Page[MappingEntry]:
    """The mappings of the version the actor sees (``number``: a given version), in dictionary
    order: each variable's own mappings, then its values'; within a subject suggestions by
    falling confidence.

    Filters: ``status`` (suggested / accepted / rejected), ``variable`` (a variable's name),
    ``subject`` (``variable`` for the variables' own mappings, ``value`` for the values').

    :raises NotFound: when the actor may not see the dataset (or that version).
    :raises InvalidInput: for a bad filter or page.
    """
    version = datasets.get_version(actor, identifier, number)
    conditions: list[Any] = [Variable.version_id == version.id]
    if status:
        try:
            conditions.append(Mapping.status == MappingStatus(status))
        except ValueError:
            allowed = ", ".join(s.value for s in MappingStatus)
            raise InvalidInput.field("status", f"Use one of {allowed}.") from None
    if variable:
        conditions.append(Variable.name == variable)
    if subject == "variable":
        conditions.append(Mapping.value_code.is_(None))
    elif subject == "value":
        conditions.append(Mapping.value_code.is_not(None))
    elif subject:
        raise InvalidInput.field("subject", "Use “variable” or “value”.")
    rows: Select[Any] = (
        select(Mapping, Variable, Term.label)  # type: ignore[assignment]  # paginate takes Select[Any]
        .join(Variable, Variable.id == Mapping.variable_id)
        .outerjoin(Term, Term.curie == Mapping.object_curie)
        .where(*conditions)
    )
    found = paginate(
        rows,
        page=page,
        per_page=per_page,
        max_per_page=MAX_PER_PAGE,
        order=(
            Variable.position,
            Mapping.value_code.is_not(None),
            Mapping.value_code,
            Mapping.confidence.is_(None),
            Mapping.confidence.desc(),
        ),
        tiebreak=Mapping.id,
        rows=True,
        count=select(Mapping.id)
        .join(Variable, Variable.id == Mapping.variable_id)
        .where(*conditions),
    )
    items = _entries(actor, version, found.items)
    return Page(items=items, total=found.total, page=page, per_page=per_page)


def get_mapping(
    actor: Actor, identifier: str, mapping_id: int, number: int | None = None
) -> MappingEntry:
    """One mapping of the version the actor sees (``number``: a given version).

    :raises NotFound: when that version has no such mapping, or the dataset is hidden.
    """
    version = datasets.get_version(actor, identifier, number)
    row = (
        get_session()
        .execute(
            select(Mapping, Variable, Term.label)
            .join(Variable, Variable.id == Mapping.variable_id)
            .outerjoin(Term, Term.curie == Mapping.object_curie)
            .where(Mapping.id == mapping_id, Variable.version_id == version.id)
        )
        .first()
    )
    if row is None:
        raise NotFound(f"Version {version.number} has no mapping {mapping_id}.")
    return _entries(actor, version, [row])[0]


def _entries(actor: Actor, version: DatasetVersion, rows: Iterable[Any]) -> list[MappingEntry]:
    """Entries of ``(mapping, variable, term label)`` rows of one version, with the review
    actions the actor may take (no query per entry: the version and dataset are the same)."""
    from catalogue.mappings.workflow import ReviewedMapping, available_actions

    dataset = version.dataset
    editor = datasets.can_edit(actor, dataset)
    entries = []
    for mapping, variable, label in rows:
        entry = entry_of(mapping, variable, label, dataset, not editor)
        if editor:
            entry.actions = available_actions(actor, ReviewedMapping(mapping, version, dataset))
        entries.append(entry)
    return entries


def entry_of(
    mapping: Mapping, variable: Variable, label: str | None, dataset: Dataset, public: bool
) -> MappingEntry:
    value_label = None
    if mapping.value_code is not None:
        value_label = next(
            (
                str(v.get("label") or "")
                for v in variable.permissible_values or []
                if str(v.get("code")) == mapping.value_code
            ),
            None,
        )
    author = mapping.author_label
    if public and mapping.author_label != ASSISTANT_LABEL:
        author = dataset.organisation.name  # people's names are for the dataset's editors
    return MappingEntry(mapping, variable, label, value_label, author)


def _draft_mapping(version: DatasetVersion, mapping_id: int) -> Mapping:
    mapping = get_session().get(Mapping, mapping_id)
    if mapping is None or mapping.variable.version_id != version.id:
        raise NotFound(f"The draft has no mapping {mapping_id}.")
    return mapping


def _variable(version: DatasetVersion, name: str | None) -> Variable:
    if not name:
        raise InvalidInput.field("variable", "Name the variable to map.")
    variable = get_session().scalar(
        select(Variable).where(Variable.version_id == version.id, Variable.name == name)
    )
    if variable is None:
        raise InvalidInput.field("variable", f"The draft has no variable “{name}”.")
    return variable


def _check_value(variable: Variable, code: str | None) -> str | None:
    if code is None or str(code) == "":
        return None
    code = str(code)
    codes = [str(v.get("code")) for v in variable.permissible_values or []]
    if code not in codes:
        known = ", ".join(codes[:20]) or "none"
        raise InvalidInput.field(
            "subject_value",
            f"Variable “{variable.name}” has no permissible value “{code}” (its codes: {known}).",
        )
    return code


def _subject(mapping: Mapping) -> str:
    name = mapping.variable.name
    return name if mapping.value_code is None else f"{name} = {mapping.value_code}"


def withdraw_other_suggestions(mapping: Mapping) -> int:
    """Delete the open suggestions for the same subject as ``mapping`` (but itself)."""
    condition = (
        Mapping.value_code.is_(None)
        if mapping.value_code is None
        else Mapping.value_code == mapping.value_code
    )
    result = get_session().execute(
        delete(Mapping)
        .where(
            Mapping.variable_id == mapping.variable_id,
            condition,
            Mapping.status == MappingStatus.SUGGESTED,
            Mapping.id != mapping.id,
        )
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# --- changing -------------------------------------------------------------------------------


@transactional
def create_mapping(
    actor: Actor, identifier: str, data: dict[str, Any], if_match: str | None
) -> Mapping:
    """Map a variable of the open draft, or one of its permissible values, to a term.

    ``data`` (the API's field names): ``variable`` (name), ``subject_value`` (a value code;
    absent for the variable itself), ``object_id`` (CURIE or IRI of a loaded term),
    ``predicate_id`` (default ``skos:exactMatch``), ``mapping_justification`` (default manual
    curation), ``confidence`` (0 to 1), ``comment``, ``status`` (``accepted``, the default, or
    ``suggested``). The author is the actor, the date today. Mapping a subject to a term that
    the assistant had suggested (or that was rejected) turns that row into this mapping.

    :raises InvalidInput: naming the field: unknown variable or value code, unknown or obsolete
        term, bad predicate, justification or confidence, or a mapping that exists already.
    """
    version = datasets.editable_version(actor, identifier, if_match)
    variable = _variable(version, data.get("variable"))
    code = _check_value(variable, data.get("subject_value"))
    term = term_for(data.get("object_id"))
    predicate = parse_predicate(data.get("predicate_id") or MappingPredicate.EXACT.value)
    justification = parse_justification(data.get("mapping_justification"))
    confidence = parse_confidence(data.get("confidence"))
    status = MappingStatus(data.get("status") or MappingStatus.ACCEPTED)
    if status is MappingStatus.REJECTED:
        raise InvalidInput.field("status", "A new mapping is accepted or suggested.")
    session = get_session()
    existing = session.scalar(
        select(Mapping).where(
            Mapping.variable_id == variable.id,
            Mapping.value_code.is_(None) if code is None else Mapping.value_code == code,
            Mapping.object_curie == term.curie,
        )
    )
    if existing is not None and existing.status is MappingStatus.ACCEPTED:
        raise InvalidInput.field(
            "object_id", f"“{variable.name}” is mapped to {term.curie} already."
        )
    author_id, author_label = author_of(actor)
    mapping = existing or Mapping(variable_id=variable.id, value_code=code)
    mapping.variable = variable
    mapping.object_curie = term.curie
    mapping.predicate = predicate
    mapping.justification = justification
    mapping.confidence = confidence
    mapping.status = status
    mapping.author_id = author_id
    mapping.author_label = author_label
    mapping.mapping_date = dt.date.today()
    mapping.comment = (data.get("comment") or "").strip() or None
    mapping.reason = None
    session.add(mapping)
    session.flush()
    facts: dict[str, Any] = {"mapping": mapping.id, "subject": _subject(mapping)}
    if status is MappingStatus.ACCEPTED:
        facts["withdrawn"] = withdraw_other_suggestions(mapping)
    datasets.record_change(
        actor,
        version.dataset,
        version,
        "mapping_added",
        f"Mapped {_subject(mapping)} to {term.curie} “{term.label}” ({predicate.value}).",
        context={**facts, "object": term.curie, "status": status.value},
    )
    session.commit()
    return mapping


STATUS_ACTIONS = {
    MappingStatus.ACCEPTED.value: "accept",
    MappingStatus.REJECTED.value: "reject",
    MappingStatus.SUGGESTED.value: "reopen",
}


def review_action(
    current: MappingStatus | None,
    status: MappingStatus | str | None,
    object_curie: str | None,
    predicate: str | None = None,
    comment: str | None = None,
) -> str:
    """The review workflow's action for a request that names the status it wants, another
    term, or a new predicate or comment: ``accepted`` → accept, ``rejected`` → reject,
    ``suggested`` → re-open, another term → change_term; the status the mapping has already,
    with a predicate or a comment, → edit.

    :raises InvalidInput: naming ``status`` for an unknown status, or one other than accepted
        together with another term.
    """
    wanted = (status.value if isinstance(status, MappingStatus) else status) or None
    if wanted is not None and wanted not in STATUS_ACTIONS:
        raise InvalidInput.field("status", "Use accepted, rejected or suggested.")
    if object_curie:
        if wanted not in (None, MappingStatus.ACCEPTED.value):
            raise InvalidInput.field(
                "status", "A mapping given another term is accepted; reject it afterwards."
            )
        return "change_term"
    if wanted is None:
        return "edit"
    edits = predicate is not None or comment is not None
    if edits and current is not None and current.value == wanted:
        return "edit"
    return STATUS_ACTIONS[wanted]


def review_mapping(
    actor: Actor,
    identifier: str,
    mapping_id: int,
    status: MappingStatus | str | None,
    object_curie: str | None = None,
    if_match: str | None = None,
    *,
    predicate: str | None = None,
    comment: str | None = None,
) -> Mapping:
    """Accept, reject or re-open a mapping of the open draft, replace its term, or change its
    predicate or comment: one action of the review workflow (:mod:`catalogue.mappings.workflow`,
    chosen by :func:`review_action`), with its audit event.

    - accepted: the reviewer becomes its author (dated today); the other open suggestions for
      the same subject are withdrawn.
    - rejected: it stays, rejected, so that the assistant does not propose that term for that
      subject again.
    - suggested: re-opened for review (the assistant's next run replaces open suggestions).
    - ``object_curie`` (another term): the mapping now names that term, as a manual curation
      without a confidence, and is accepted.
    - ``predicate`` / ``comment``: changed when given.

    :raises NotFound: when the draft has no such mapping (or the dataset is hidden).
    :raises Conflict: when the mapping's state does not allow the action, or the dataset has
        no open draft.
    :raises InvalidInput: for an unknown status or term, or a term the subject is mapped to
        already.
    """
    current = get_session().get(Mapping, mapping_id) if mapping_id < 2**63 else None
    action = review_action(
        current.status if current else None, status, object_curie, predicate, comment
    )
    params = {"object_id": object_curie, "predicate": predicate, "comment": comment}
    outcome = apply_review(actor, identifier, mapping_id, action, if_match, params)
    return outcome.obj.mapping


def apply_review(
    actor: Actor,
    identifier: str,
    mapping_id: int,
    action: str,
    if_match: str | None,
    params: dict[str, Any] | None = None,
) -> Any:
    """Take one action of the review workflow (see :func:`core.workflow.apply`)."""
    from catalogue.mappings import workflow as review

    return workflow.apply(
        review.REVIEW,
        actor,
        review.key(identifier, mapping_id),
        action,
        if_match=if_match,
        params=params or {},
    )


@transactional
def bulk_accept(
    actor: Actor, identifier: str, min_confidence: float, if_match: str | None
) -> dict[str, int]:
    """Accept, for each subject of the open draft, its best open suggestion when its confidence
    is at least ``min_confidence``; that subject's other suggestions are withdrawn.

    Returns ``{"accepted": n, "withdrawn": m}``.

    :raises InvalidInput: for a threshold outside 0 to 1.
    """
    from catalogue.mappings import workflow as review

    threshold = parse_confidence(min_confidence, "min_confidence")
    if threshold is None:
        raise InvalidInput.field("min_confidence", "Give a confidence from 0 to 1.")
    version = datasets.editable_version(actor, identifier, if_match)
    session = get_session()
    suggestions = session.scalars(
        select(Mapping)
        .join(Variable, Variable.id == Mapping.variable_id)
        .where(Variable.version_id == version.id, Mapping.status == MappingStatus.SUGGESTED)
        .order_by(Mapping.confidence.desc(), Mapping.id)
    ).all()
    accepted_subjects = {
        (m.variable_id, m.value_code)
        for m in session.scalars(
            select(Mapping)
            .join(Variable, Variable.id == Mapping.variable_id)
            .where(Variable.version_id == version.id, Mapping.status == MappingStatus.ACCEPTED)
        )
    }
    best: dict[tuple[int, str | None], Mapping] = {}
    for mapping in suggestions:
        best.setdefault((mapping.variable_id, mapping.value_code), mapping)
    author_id, author_label = author_of(actor)
    today = dt.date.today()
    accepted: dict[tuple[int, str | None], Mapping] = {}
    for subject, mapping in best.items():
        if (mapping.confidence or 0.0) < threshold or subject in accepted_subjects:
            continue
        if not review.move(mapping, "accept"):
            continue
        mapping.author_id, mapping.author_label = author_id, author_label
        mapping.mapping_date = today
        accepted[subject] = mapping
    # the other suggestions for the subjects now mapped were alternatives: withdrawn
    withdrawn = [
        m.id
        for m in suggestions
        if (m.variable_id, m.value_code) in accepted
        and m is not accepted[(m.variable_id, m.value_code)]
    ]
    session.flush()
    for chunk in _chunks(withdrawn):
        session.execute(
            delete(Mapping)
            .where(Mapping.id.in_(chunk))
            .execution_options(synchronize_session=False)
        )
    if accepted:
        datasets.record_change(
            actor,
            version.dataset,
            version,
            "mappings_accepted",
            f"Accepted {len(accepted)} suggested mappings with confidence ≥ {threshold:g}.",
            context={
                "accepted": len(accepted),
                "withdrawn": len(withdrawn),
                "min_confidence": threshold,
            },
        )
    session.commit()
    return {"accepted": len(accepted), "withdrawn": len(withdrawn)}


def delete_mapping(actor: Actor, identifier: str, mapping_id: int, if_match: str | None) -> None:
    """Delete a mapping of the open draft (the review workflow's ``delete``).

    :raises NotFound: when the draft has no such mapping.
    """
    apply_review(actor, identifier, mapping_id, "delete", if_match)


@transactional
def suggest(actor: Actor, identifier: str, if_match: str | None) -> dict[str, int]:
    """Run the mapping assistant on the open draft: for every variable and permissible value
    without an accepted mapping, store its best-ranked terms as ``suggested`` mappings
    (justification lexical matching, confidence = the assistant's score, the reason shown).

    Earlier open suggestions are replaced; accepted and rejected mappings are never touched,
    and a term rejected for a subject is not proposed for it again.

    Returns counts: ``variables`` and ``values`` looked at (those without an accepted
    mapping), ``suggested`` (rows stored), ``subjects`` (subjects with at least one
    suggestion), ``replaced`` (earlier open suggestions removed).
    """
    from catalogue.mappings.assistant import Assistant, Subject

    version = datasets.editable_version(actor, identifier, if_match)
    session = get_session()
    variables = session.scalars(
        select(Variable).where(Variable.version_id == version.id).order_by(Variable.position)
    ).all()
    # subject → (has an accepted mapping, rejected terms)
    kept: dict[tuple[int | None, str | None], tuple[bool, set[str]]] = {}
    old_suggestions: list[int] = []
    for mapping_id, variable_id, code, curie, status in session.execute(
        select(
            Mapping.id,
            Mapping.variable_id,
            Mapping.value_code,
            Mapping.object_curie,
            Mapping.status,
        )
        .join(Variable, Variable.id == Mapping.variable_id)
        .where(Variable.version_id == version.id)
    ):
        _, rejected = kept.setdefault((variable_id, code), (False, set()))
        if status is MappingStatus.SUGGESTED:
            old_suggestions.append(mapping_id)
        elif status is MappingStatus.ACCEPTED:
            kept[(variable_id, code)] = (True, rejected)
        else:
            rejected.add(curie)
    for chunk in _chunks(old_suggestions):
        session.execute(
            delete(Mapping)
            .where(Mapping.id.in_(chunk))
            .execution_options(synchronize_session=False)
        )
    assistant = Assistant.from_store()
    subjects: list[Subject] = []
    for variable in variables:
        if not kept.get((variable.id, None), (False, set()))[0]:
            subjects.append(Subject.of_variable(variable))
        for value in variable.permissible_values or []:
            code = str(value.get("code"))
            if not kept.get((variable.id, code), (False, set()))[0]:
                subjects.append(Subject.of_value(variable, code, str(value.get("label") or "")))
    today = dt.date.today()
    rows: list[dict[str, Any]] = []
    with_suggestions = 0
    for subject in subjects:
        rejected = kept.get((subject.variable_id, subject.value_code), (False, set()))[1]
        proposals = [p for p in assistant.propose(subject) if p.curie not in rejected]
        if proposals:
            with_suggestions += 1
        for proposal in proposals[: assistant.keep]:
            rows.append(
                {
                    "variable_id": subject.variable_id,
                    "value_code": subject.value_code,
                    "predicate": MappingPredicate.EXACT,
                    "object_curie": proposal.curie,
                    "justification": MappingJustification.LEXICAL,
                    "confidence": round(proposal.score, 3),
                    "status": MappingStatus.SUGGESTED,
                    "author_id": None,
                    "author_label": ASSISTANT_LABEL,
                    "mapping_date": today,
                    "reason": proposal.reason[:300],
                }
            )
    for chunk in _chunks(rows, 2000):
        session.execute(insert(Mapping), list(chunk))
    counts = {
        "variables": sum(1 for s in subjects if s.value_code is None),
        "values": sum(1 for s in subjects if s.value_code is not None),
        "suggested": len(rows),
        "subjects": with_suggestions,
        "replaced": len(old_suggestions),
    }
    datasets.record_change(
        actor,
        version.dataset,
        version,
        "mappings_suggested",
        f"The mapping assistant proposed {len(rows)} mappings for {with_suggestions} "
        "unmapped variables and values.",
        context=counts,
    )
    session.commit()
    return counts


def _chunks(items: Iterable[Any], size: int = 900) -> Iterable[list[Any]]:
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
