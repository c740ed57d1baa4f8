"""Mapping review as a workflow table (:mod:`core.workflow`).

A mapping is ``suggested`` (the assistant proposed it, or a reviewer re-opened it),
``accepted`` or ``rejected``. Reviewers accept, reject, re-open, replace the term
(``change_term``: the mapping becomes a manual curation and is accepted), change its predicate
or comment (``edit``) or delete it. Every action is the dataset's business:

- who sees a mapping: whoever sees the version it belongs to (a draft: the dataset's editors);
- who changes it: the dataset's editors (``catalogue:dataset:update`` on the dataset);
- when: only on the dataset's open draft (a rule: 409 with the dataset's own words);
- its ETag is the dataset's: a change bumps the dataset's revision once, and a form or a
  client quotes the dataset's ETag in ``If-Match``;
- its change and audit events are the dataset's (``object_type`` ``dataset``), named
  ``dataset.mapping_accepted``, ``dataset.mapping_rejected`` … with the mapping in
  ``context``, like every other change of a dataset: the dataset's history (its audit trail)
  shows them and the search index (a ``dataset.*`` subscriber) follows them.

The bulk operations (the assistant's suggestions, bulk acceptance, an SSSOM import) move many
mappings in one transaction with one summarising audit event; they ask :func:`move` (the same
rows) whether a mapping may go where they want it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from catalogue.datasets import services as datasets
from catalogue.models import (
    Dataset,
    DatasetStatus,
    DatasetVersion,
    Mapping,
    MappingJustification,
    MappingStatus,
    VersionStatus,
)
from core import workflow
from core.db import get_session, lock_revision, utcnow, writes_now
from core.errors import Conflict, InvalidInput, NotFound
from core.permissions import Permission
from core.policies import Actor, require
from core.workflow import DELETED, Step, Transition, Workflow

NAME = "mapping"
EDIT = Permission.DATASET_UPDATE  # the dataset's editors, on the dataset


@dataclass
class ReviewedMapping:
    """A mapping with the dataset that answers for it.

    The dataset's policy (:mod:`catalogue.policies`) decides who sees and changes a mapping:
    it is asked about this object, whose ``organisation_id`` is the dataset's.
    """

    mapping: Mapping
    version: DatasetVersion
    dataset: Dataset

    @property
    def id(self) -> int:
        return self.mapping.id

    @property
    def organisation_id(self) -> str:
        return self.dataset.organisation_id

    @property
    def state(self) -> str:
        return self.mapping.status.value

    @property
    def on_open_draft(self) -> bool:
        """Whether the mapping belongs to the dataset's open draft (the only version that
        changes)."""
        return (
            self.dataset.status is not DatasetStatus.RETIRED
            and datasets.open_draft(self.dataset) is self.version
        )

    @property
    def subject(self) -> str:
        name = self.mapping.variable.name
        code = self.mapping.value_code
        return name if code is None else f"{name} = {code}"


def key(identifier: str, mapping_id: int | str) -> str:
    """The workflow's id of mapping ``mapping_id`` of dataset ``identifier``."""
    return f"{identifier}/{mapping_id}"


def load(actor: Actor, object_id: str) -> ReviewedMapping:
    """The mapping ``<dataset identifier>/<mapping id>`` as ``actor`` may see it.

    A mapping id that is not one of the dataset's answers as a change to the dataset would
    (404 hidden, 403 not an editor, 409 no open draft), then 404: the address was wrong.
    The dataset's row is held from here until the commit (the ETag is checked next).

    :raises NotFound: when the actor may not see the dataset or the version of the mapping.
    """
    identifier, _, raw = object_id.rpartition("/")
    dataset = datasets.get_dataset(actor, identifier)
    session = get_session()
    mapping = session.get(Mapping, int(raw)) if raw.isdigit() and len(raw) < 19 else None
    version = session.get(DatasetVersion, mapping.variable.version_id) if mapping else None
    if mapping is None or version is None or version.dataset_id != dataset.id:
        datasets.editable_version(actor, identifier, datasets.UNCHECKED)
        raise NotFound(f"The draft has no mapping {raw}.")
    if version.status is VersionStatus.DRAFT:
        require(actor, Permission.DATASET_READ_DRAFT, dataset, hide=True)
    if writes_now():
        lock_revision(dataset)
    return ReviewedMapping(mapping, version, dataset)


def _set_state(reviewed: ReviewedMapping, state: str) -> None:
    reviewed.mapping.status = MappingStatus(state)


# --- rules ----------------------------------------------------------------------------------


def _on_open_draft(step: Step) -> None:
    """Only the open draft changes (the dataset's own 409s: retired, or published without a
    new version); a predicate that comes with the action is one of SKOS's.

    :raises Conflict: when the mapping is not on the open draft.
    :raises InvalidInput: naming ``predicate_id``.
    """
    reviewed: ReviewedMapping = step.obj
    if reviewed.on_open_draft:
        _parse_edits(step)
        return
    draft = datasets.editable_version(step.actor, reviewed.dataset.identifier, datasets.UNCHECKED)
    raise Conflict(
        f"Mapping {reviewed.id} belongs to version {reviewed.version.number}, which no longer "
        f"changes; the open draft (version {draft.number}) has its own copy of it."
    )


def _edit_rule(step: Step) -> None:
    if step.params.get("predicate") is None and step.params.get("comment") is None:
        raise InvalidInput.field("status", "Say accepted or rejected, or name another term.")
    _on_open_draft(step)


def _change_term_rule(step: Step) -> None:
    """The new term is loaded and not obsolete, and the subject is not mapped to it already.

    :raises InvalidInput: naming ``object_id``.
    """
    from catalogue.mappings.services import term_for

    _on_open_draft(step)
    reviewed: ReviewedMapping = step.obj
    term = term_for(step.params.get("object_id"))
    step.params["term"] = term
    if term.curie == reviewed.mapping.object_curie:
        return
    clash = _same_subject(reviewed.mapping, term.curie)
    if clash is not None and clash.status is MappingStatus.ACCEPTED:
        raise InvalidInput.field(
            "object_id", f"{reviewed.subject} is mapped to {term.curie} already."
        )
    step.params["clash"] = clash


def _parse_edits(step: Step) -> None:
    from catalogue.mappings.services import parse_predicate

    predicate = step.params.get("predicate")
    if predicate is not None and not hasattr(predicate, "value"):
        step.params["predicate"] = parse_predicate(predicate)


def _same_subject(mapping: Mapping, curie: str) -> Mapping | None:
    return get_session().scalar(
        select(Mapping).where(
            Mapping.variable_id == mapping.variable_id,
            Mapping.value_code.is_(None)
            if mapping.value_code is None
            else Mapping.value_code == mapping.value_code,
            Mapping.object_curie == curie,
            Mapping.id != mapping.id,
        )
    )


# --- effects --------------------------------------------------------------------------------


def _reviewed_by(step: Step) -> None:
    """The reviewer becomes the mapping's author, dated today; predicate and comment change
    when given."""
    from catalogue.mappings.services import author_of

    mapping = step.obj.mapping
    predicate = step.params.get("predicate")
    if predicate is not None and predicate is not mapping.predicate:
        step.before["predicate_id"] = mapping.predicate.value
        step.after["predicate_id"] = predicate.value
        mapping.predicate = predicate
    comment = step.params.get("comment")
    if comment is not None:
        new = comment.strip() or None
        if new != mapping.comment:
            step.before["comment"], step.after["comment"] = mapping.comment, new
        mapping.comment = new
    mapping.author_id, mapping.author_label = author_of(step.actor)
    mapping.mapping_date = dt.date.today()


def _record(step: Step, summary: str, **facts: Any) -> None:
    """What every action records beyond its state: the dataset's revision (its ETag) and
    modification time move on, once; the summary and the mapping go into the audit event, and
    the version into the change event (the search index follows ``dataset.*`` events)."""
    reviewed: ReviewedMapping = step.obj
    now = utcnow()
    reviewed.dataset.revision += 1
    reviewed.dataset.modified_at = now
    reviewed.version.modified_at = now
    step.summary = summary
    step.context.update(
        mapping=reviewed.id, subject=reviewed.subject, version=reviewed.version.number, **facts
    )
    step.payload.update(mapping=reviewed.id, version=reviewed.version.number)


def _moved(step: Step, verb: str) -> None:
    """The reviewer, the alternatives withdrawn when the mapping ends up accepted, the
    record."""
    from catalogue.mappings.services import withdraw_other_suggestions

    reviewed: ReviewedMapping = step.obj
    _reviewed_by(step)
    facts: dict[str, Any] = {}
    if step.transition.to == MappingStatus.ACCEPTED.value:
        get_session().flush()
        facts["withdrawn"] = withdraw_other_suggestions(reviewed.mapping)
    _record(
        step,
        f"{verb} the mapping of {reviewed.subject} to {reviewed.mapping.object_curie}.",
        **facts,
    )


def _accept(step: Step) -> None:
    _moved(step, "Accepted")


def _reject(step: Step) -> None:
    _moved(step, "Rejected")


def _reopen(step: Step) -> None:
    _moved(step, "Re-opened")


def _edit(step: Step) -> None:
    _moved(step, "Changed")


def _change_term(step: Step) -> None:
    reviewed: ReviewedMapping = step.obj
    mapping = reviewed.mapping
    term = step.params["term"]
    if term.curie != mapping.object_curie:
        clash = step.params.get("clash")
        session = get_session()
        if clash is not None:  # a suggestion or a rejection of that term: this row replaces it
            session.delete(clash)
            session.flush()
        step.before["object_id"], step.after["object_id"] = mapping.object_curie, term.curie
        mapping.object_curie = term.curie
        mapping.justification = MappingJustification.MANUAL
        mapping.confidence = None
        mapping.reason = None
    _moved(step, "Accepted")


def _delete(step: Step) -> None:
    reviewed: ReviewedMapping = step.obj
    summary = f"Deleted the mapping of {reviewed.subject} to {reviewed.mapping.object_curie}."
    step.before["object_id"] = reviewed.mapping.object_curie
    _record(step, summary)
    get_session().delete(reviewed.mapping)


# --- the table ------------------------------------------------------------------------------

S = MappingStatus.SUGGESTED.value
A = MappingStatus.ACCEPTED.value
R = MappingStatus.REJECTED.value


def _on_open_draft_only(reviewed: ReviewedMapping) -> bool:
    return reviewed.on_open_draft


def _row(
    state: str,
    action: str,
    to: str,
    rule: Callable[[Step], None],
    effect: Callable[[Step], None],
    event: str,
    label: str = "",
) -> Transition:
    """A row for the dataset's editors, offered on the open draft only, with the dataset's
    ETag required."""
    return Transition(
        state,
        action,
        to,
        EDIT,
        label=label,
        rule=rule,
        effect=effect,
        offered=_on_open_draft_only,
        event=f"dataset.{event}",
    )


ROWS = (
    _row(S, "accept", A, _on_open_draft, _accept, "mapping_accepted"),
    _row(R, "accept", A, _on_open_draft, _accept, "mapping_accepted"),
    _row(S, "reject", R, _on_open_draft, _reject, "mapping_rejected"),
    _row(A, "reject", R, _on_open_draft, _reject, "mapping_rejected"),
    _row(A, "reopen", S, _on_open_draft, _reopen, "mapping_reopened", "Re-open"),
    _row(R, "reopen", S, _on_open_draft, _reopen, "mapping_reopened", "Re-open"),
    _row(S, "change_term", A, _change_term_rule, _change_term, "mapping_term_changed"),
    _row(A, "change_term", A, _change_term_rule, _change_term, "mapping_term_changed"),
    _row(R, "change_term", A, _change_term_rule, _change_term, "mapping_term_changed"),
    _row(S, "edit", S, _edit_rule, _edit, "mapping_edited"),
    _row(A, "edit", A, _edit_rule, _edit, "mapping_edited"),
    _row(R, "edit", R, _edit_rule, _edit, "mapping_edited"),
    _row(S, "delete", DELETED, _on_open_draft, _delete, "mapping_deleted"),
    _row(A, "delete", DELETED, _on_open_draft, _delete, "mapping_deleted"),
    _row(R, "delete", DELETED, _on_open_draft, _delete, "mapping_deleted"),
)


REVIEW = Workflow(
    name=NAME,
    object_type="dataset",  # the audit events and the ETag are the dataset's
    states=(S, A, R),
    initial=S,
    transitions=ROWS,
    state_of=lambda reviewed: reviewed.state,
    set_state=_set_state,
    load=load,
    etag=lambda reviewed: datasets.etag(reviewed.dataset),
    audit_object_id=lambda reviewed: reviewed.dataset.id,
    read_permission=Permission.DATASET_READ_DRAFT,
    refusals={
        (A, "accept"): "This mapping is accepted already.",
        (R, "reject"): "This mapping is rejected already.",
        (S, "reopen"): "This mapping is an open suggestion already.",
    },
    revision=None,  # the dataset's revision, bumped by every effect (see _record)
    exhaustive=True,
    description="Review of a dataset's variable → term mappings on its open draft.",
)


def register() -> None:
    """Make mapping review known to ``harmony workflows`` and the README check (the
    catalogue's ``init_app``)."""
    workflow.register(REVIEW)


def available_actions(actor: Actor, reviewed: ReviewedMapping) -> list[str]:
    return workflow.available_actions(REVIEW, actor, reviewed)


def actions_in(
    actor: Actor, state: MappingStatus, version: DatasetVersion, dataset: Dataset
) -> list[str]:
    """The actions ``actor`` may take on any mapping of ``version`` in ``state`` (a list of
    suggestions shares them: one answer for all)."""
    return available_actions(actor, ReviewedMapping(Mapping(status=state), version, dataset))


def move(mapping: Mapping, action: str) -> bool:
    """For the bulk operations: take ``action`` on ``mapping`` by the table's row for its
    state (the new state set; no rule, effect or event: the caller checked the dataset and
    records one summarising event). False when the state has no row for the action."""
    row = REVIEW.row(mapping.status.value, action)
    if row is None:
        return False
    if row.to != DELETED:
        mapping.status = MappingStatus(row.to)
    return True


def may(state: MappingStatus, action: str) -> bool:
    """Whether the table has a row for ``action`` in ``state``."""
    return REVIEW.row(state.value, action) is not None
