"""Data-sharing agreements: the use cases (create, edit, activate, amend, terminate, expire,
the signed document) and what the rest of the application asks of them — whether a dataset
can be requested now, and until when (:func:`requestable_until`, :func:`requestable_condition`),
and the obligations that come with it (:func:`agreement_obligations`).

Every change of an existing agreement goes through its workflow
(:mod:`governance.agreements.workflow`, :func:`core.workflow.apply`): one order of checks, an
audit event and a change event, one commit.

Dates: "today" is the UTC date, read through :func:`today` (the one clock of the sub-area);
the functions that depend on it take ``today=`` so that tests and the periodic job pass a date.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import IO, Any

from flask import current_app
from sqlalchemy import ColumnElement, and_, bindparam, exists, func, or_, select
from sqlalchemy.orm import lazyload, selectinload

from catalogue.datasets import services as datasets
from catalogue.models import Dataset
from core import audit, events
from core import workflow as core_workflow
from core.db import get_session, utcnow
from core.errors import Conflict, InvalidInput, NotFound
from core.etags import check_etag, revision_etag
from core.models import Organisation, User
from core.pagination import Page, paginate
from core.permissions import Permission
from core.policies import Actor, can, require, require_login
from core.text import plural
from governance.agreements import documents
from governance.agreements.models import (
    Agreement,
    AgreementDataset,
    AgreementStatus,
    SignatorySide,
)
from governance.agreements.policies import visible_agreements
from governance.data_use import vocabulary
from governance.data_use.models import DataUseConditions
from governance.data_use.vocabulary import DuoTerm
from governance.matching.check import Obligation
from ontologies.identifiers import UnknownIdentifier, normalise_curie

WORKFLOW = "agreement"
DEFAULT_COUNTERPARTY = "HARMONY Alliance"
REFERENCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
REMINDER_DAYS = (60, 14)

#: the fields an agreement's form and PATCH may change (the draft's content)
EDITABLE = (
    "title",
    "effective_on",
    "expires_on",
    "permitted_uses",
    "acknowledgement",
    "publication_review_days",
    "return_of_results",
    "return_of_results_text",
    "moratorium_until",
    "moratorium_months",
    "requires_custodian_signoff",
    "signatories",
)
#: what an amendment copies from the version it amends (all of its content)
COPIED = (*EDITABLE, "organisation_id", "counterparty", "reference")

SORTS = {
    "reference": Agreement.reference,
    "status": Agreement.status,
    "effective_on": Agreement.effective_on,
    "expires_on": Agreement.expires_on,
    "updated": Agreement.updated_at,
}


def today() -> dt.date:
    """Today's date in UTC: the sub-area's one clock."""
    return utcnow().date()


def counterparty() -> str:
    return str(current_app.config.get("AGREEMENT_COUNTERPARTY") or DEFAULT_COUNTERPARTY)


def etag(agreement: Agreement) -> str:
    return revision_etag(agreement.id, agreement.revision)


# --- reading --------------------------------------------------------------------------------


def find(agreement_id: str) -> Agreement | None:
    return get_session().get(Agreement, agreement_id) if agreement_id else None


def get_agreement(actor: Actor, agreement_id: str) -> Agreement:
    """The agreement (one version) as ``actor`` may see it.

    :raises NotFound: when it does not exist, or the actor may not see it (anonymous
        callers; a draft for anyone but its managers).
    """
    agreement = find(agreement_id)
    if agreement is None:
        raise NotFound("No such agreement.")
    require(actor, Permission.AGREEMENT_READ, agreement, hide=True)
    return agreement


def can_read_full(actor: Actor, agreement: Agreement) -> bool:
    return can(actor, Permission.AGREEMENT_READ_FULL, agreement)


def can_manage(actor: Actor, agreement: Agreement | str | None = None) -> bool:
    return can(actor, Permission.AGREEMENT_MANAGE, agreement)


def list_agreements(
    actor: Actor,
    *,
    organisation: str | None = None,
    status: AgreementStatus | None = None,
    dataset: str | None = None,
    all_versions: bool = False,
    sort: str | None = None,
    page: int = 1,
    per_page: int = 25,
) -> Page[Agreement]:
    """The agreements ``actor`` sees (no drafts of other organisations), by default without
    the versions an amendment superseded (``all_versions`` to include them). ``dataset``: a
    dataset's identifier or id."""
    require_login(actor)
    require(actor, Permission.AGREEMENT_READ)
    query = select(Agreement).where(visible_agreements(actor))
    if organisation:
        query = query.where(Agreement.organisation_id == organisation)
    if status is not None:
        query = query.where(Agreement.status == status)
    elif not all_versions:
        query = query.where(Agreement.status != AgreementStatus.SUPERSEDED)
    if dataset:
        covered = (
            select(AgreementDataset.agreement_id)
            .join(Dataset, Dataset.id == AgreementDataset.dataset_id)
            .where(or_(Dataset.identifier == dataset, Dataset.id == dataset))
        )
        query = query.where(Agreement.id.in_(covered))
    return paginate(
        query.options(selectinload(Agreement.organisation)),
        count=query,
        page=page,
        per_page=per_page,
        sort=sort,
        sortable=SORTS,
        default_sort="reference",
        tiebreak=Agreement.version.desc(),
    )


def versions_of(actor: Actor, agreement_id: str) -> list[Agreement]:
    """Every version of the agreement's reference that ``actor`` sees, oldest first."""
    agreement = get_agreement(actor, agreement_id)
    rows = get_session().scalars(
        select(Agreement)
        .where(Agreement.reference == agreement.reference)
        .order_by(Agreement.version)
    )
    return [a for a in rows if can(actor, Permission.AGREEMENT_READ, a)]


def covered_datasets(agreements: Iterable[Agreement]) -> dict[str, Dataset]:
    """The datasets the agreements cover, by id, in one query."""
    ids = {i for a in agreements for i in a.dataset_ids}
    if not ids:
        return {}
    rows = get_session().scalars(
        select(Dataset).where(Dataset.id.in_(sorted(ids))).options(selectinload(Dataset.versions))
    )
    return {d.id: d for d in rows}


def dataset_title(actor: Actor, dataset: Dataset) -> str:
    try:
        return datasets.visible_version(actor, dataset).title or dataset.identifier
    except NotFound:
        return dataset.identifier


def organisation_datasets(organisation_id: str) -> list[tuple[str, str]]:
    """(identifier, title) of every dataset of the organisation, for the form's choices."""
    rows = get_session().scalars(
        select(Dataset)
        .where(Dataset.organisation_id == organisation_id)
        .options(selectinload(Dataset.versions))
        .order_by(Dataset.identifier)
    )
    return [(d.identifier, d.versions[-1].title if d.versions else d.identifier) for d in rows]


def duo_terms() -> list[DuoTerm]:
    """The form's choices of permitted uses: the five DUO permissions the catalogue's data-use
    conditions are written in (code, label, explanation), in the vocabulary's order."""
    return list(vocabulary.PERMISSIONS.values())


# --- checking what is sent ------------------------------------------------------------------


def check_permitted_uses(values: Iterable[str]) -> list[str]:
    """The DUO permissions named (CURIEs; IRIs accepted), in the order given, without repeats.

    Only the permissions of :data:`governance.data_use.vocabulary.PERMISSIONS` (NRES, GRU, HMB,
    DS, POA) are permitted uses; modifiers (conditions of the consent such as RTN or MOR) are
    the dataset's data-use conditions or the agreement's own obligations.

    :raises InvalidInput: (field ``permitted_uses``) naming what is not one of them.
    """
    curies: list[str] = []
    wrong: list[str] = []
    for value in values:
        try:
            curie = normalise_curie(str(value))
        except UnknownIdentifier:
            wrong.append(str(value))
            continue
        if curie not in vocabulary.PERMISSIONS:
            wrong.append(curie)
        elif curie not in curies:
            curies.append(curie)
    if wrong:
        choices = ", ".join(f"{t.code} ({t.curie})" for t in vocabulary.PERMISSIONS.values())
        raise InvalidInput.field(
            "permitted_uses",
            f"Not a DUO permission: {', '.join(wrong[:10])}. Choose among {choices}.",
        )
    return curies


def check_datasets(organisation_id: str, values: Iterable[str]) -> list[str]:
    """The ids of the datasets named (identifiers or ids), each of the organisation.

    :raises InvalidInput: (field ``datasets``) naming a dataset that does not exist or belongs
        to another organisation.
    """
    names = list(dict.fromkeys(str(v) for v in values))
    if not names:
        return []
    rows = list(
        get_session().scalars(
            select(Dataset).where(or_(Dataset.identifier.in_(names), Dataset.id.in_(names)))
        )
    )
    found = {d.identifier: d for d in rows} | {d.id: d for d in rows}
    missing = [n for n in names if n not in found]
    if missing:
        raise InvalidInput.field("datasets", f"No such dataset: {', '.join(missing[:10])}.")
    foreign = [n for n in names if found[n].organisation_id != organisation_id]
    if foreign:
        raise InvalidInput.field(
            "datasets",
            "An agreement covers only its custodian organisation's datasets; not: "
            + ", ".join(foreign[:10])
            + ".",
        )
    return list(dict.fromkeys(found[n].id for n in names))


def check_signatories(values: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Signatories as stored: ``{name, role, side, signed_on}`` (dates as ISO text)."""
    out: list[dict[str, Any]] = []
    for n, value in enumerate(values, start=1):
        name = str(value.get("name") or "").strip()
        if not name:
            raise InvalidInput.field("signatories", f"Signatory {n}: a name is needed.")
        side = str(value.get("side") or "")
        if side not in {s.value for s in SignatorySide}:
            raise InvalidInput.field(
                "signatories", f"Signatory {n}: the side is “custodian” or “alliance”."
            )
        signed_on = value.get("signed_on")
        if isinstance(signed_on, str) and signed_on:
            try:
                signed_on = dt.date.fromisoformat(signed_on)
            except ValueError:
                raise InvalidInput.field(
                    "signatories", f"Signatory {n}: the signing date is YYYY-MM-DD."
                ) from None
        out.append(
            {
                "name": name[:200],
                "role": (str(value.get("role") or "").strip() or None),
                "side": side,
                "signed_on": signed_on.isoformat() if isinstance(signed_on, dt.date) else None,
            }
        )
    return out


def check_content(organisation_id: str, data: Mapping[str, Any], current: Any = None) -> dict:
    """What is sent for a draft, checked and normalised: only the keys sent (plus
    ``dataset_ids`` for ``datasets``).

    :raises InvalidInput: (422 naming the field).
    """
    out: dict[str, Any] = {k: data[k] for k in EDITABLE if k in data}
    if "title" in out and out["title"] is not None:
        out["title"] = str(out["title"]).strip() or None
    if "permitted_uses" in data:
        out["permitted_uses"] = check_permitted_uses(data["permitted_uses"] or [])
    if "datasets" in data:
        out["dataset_ids"] = check_datasets(organisation_id, data["datasets"] or [])
    if "signatories" in data:
        out["signatories"] = check_signatories(data["signatories"] or [])
    for key in ("publication_review_days", "moratorium_months"):
        value = out.get(key)
        if value is not None and not 0 <= int(value) <= 3650:
            raise InvalidInput.field(key, "Between 0 and 3650.")
    if "return_of_results" in out:
        out["return_of_results"] = bool(out["return_of_results"])
    if "requires_custodian_signoff" in out:
        out["requires_custodian_signoff"] = bool(out["requires_custodian_signoff"])
    effective = out.get("effective_on", getattr(current, "effective_on", None))
    expires = out.get("expires_on", getattr(current, "expires_on", None))
    if effective is not None and expires is not None and expires <= effective:
        raise InvalidInput.field("expires_on", "The expiry date comes after the effective date.")
    return out


# --- creating -------------------------------------------------------------------------------


def create_agreement(actor: Actor, data: Mapping[str, Any]) -> Agreement:
    """A new agreement, version 1, as a draft. ``data``: ``reference``, ``organisation_id``
    (default: the custodian's one organisation), ``datasets`` and the fields of
    :data:`EDITABLE`.

    :raises InvalidInput: (422) for a reference in use, a dataset of another organisation,
        an unknown DUO term …
    :raises Forbidden: (403) for someone who manages no agreements.
    """
    require_login(actor)
    require(actor, Permission.AGREEMENT_MANAGE)
    session = get_session()
    organisation_id = data.get("organisation_id")
    if not organisation_id:
        own = sorted(actor.custodian_of()) if isinstance(actor, User) else []
        if len(own) != 1:
            raise InvalidInput.field("organisation_id", "Name the custodian organisation.")
        organisation_id = own[0]
    if session.get(Organisation, organisation_id) is None:
        raise InvalidInput.field("organisation_id", "No such organisation.")
    if not can(actor, Permission.AGREEMENT_MANAGE, organisation_id):
        raise InvalidInput.field(
            "organisation_id",
            "You can make agreements only for the organisations you are custodian of.",
        )
    reference = str(data.get("reference") or "").strip()
    if not REFERENCE.match(reference):
        raise InvalidInput.field(
            "reference",
            "A reference is 1 to 64 letters, digits, dots, dashes or underscores "
            "(e.g. DSA-2026-014).",
        )
    if session.scalar(select(Agreement.id).where(Agreement.reference == reference).limit(1)):
        raise InvalidInput.field(
            "reference", "This reference is in use; amend that agreement to change it."
        )
    content = check_content(organisation_id, data)
    now = utcnow()
    agreement = Agreement(
        reference=reference,
        version=1,
        organisation_id=organisation_id,
        counterparty=counterparty(),
        status=AgreementStatus.DRAFT,
        permitted_uses=[],
        signatories=[],
        return_of_results=False,
        requires_custodian_signoff=False,
        revision=1,
        created_at=now,
        updated_at=now,
        created_by_id=actor.id if isinstance(actor, User) else None,
    )
    for key in EDITABLE:
        if key in content:
            setattr(agreement, key, content[key])
    agreement.datasets = [AgreementDataset(dataset_id=i) for i in content.get("dataset_ids", [])]
    session.add(agreement)
    session.flush()
    events.announce(
        "agreement.created",
        object_type="agreement",
        object_id=agreement.id,
        reference=reference,
        version=1,
    )
    audit.record(
        actor,
        "agreement.created",
        "agreement",
        agreement.id,
        after={"reference": reference, "organisation_id": organisation_id},
        summary=f"Created the draft agreement {reference}.",
        context={"version": 1},
    )
    session.commit()
    return agreement


# --- the workflow's actions -----------------------------------------------------------------


def update_agreement(
    actor: Actor, agreement_id: str, data: Mapping[str, Any], if_match: str | None
) -> Agreement:
    """Change a draft (only the fields sent). An active agreement changes by amendment.

    :raises Conflict: (409) for an agreement that is not a draft.
    :raises InvalidInput: (422 naming the field).
    """
    from governance.agreements.workflow import Unchanged

    try:
        outcome = core_workflow.apply(
            WORKFLOW, actor, agreement_id, "edit", if_match=if_match, params={"data": dict(data)}
        )
    except Unchanged:
        return get_agreement(actor, agreement_id)
    return outcome.obj


def attach_document(
    actor: Actor, agreement_id: str, stream: IO[bytes], filename: str | None, if_match: str | None
) -> Agreement:
    """Upload the signed PDF of a draft (replacing the one before).

    The checks that need no file (404, 403, 409 for an agreement that is not a draft) come
    first; then the file's size (413) and content (422); it is stored before the
    transaction (a file of a failed request stays unreferenced: it is named by its content).
    """
    agreement = get_agreement(actor, agreement_id)
    require(actor, Permission.AGREEMENT_MANAGE, agreement)
    if agreement.status is not AgreementStatus.DRAFT:
        raise Conflict(
            "The signed document belongs to a draft; amend an active agreement to replace it."
        )
    check_etag(etag(agreement), if_match, what="the agreement")  # 428/412 before the file
    get_session().rollback()  # nothing held while the file is read and written
    stored = documents.store(stream, filename)
    outcome = core_workflow.apply(
        WORKFLOW,
        actor,
        agreement_id,
        "edit",
        if_match=if_match,
        params={"data": {}, "document": stored},
    )
    return outcome.obj


def document_of(actor: Actor, agreement_id: str) -> tuple[Agreement, bytes]:
    """The agreement and its signed document's content, verified against its checksum.

    :raises NotFound: (404) no agreement the actor sees, or it has no document.
    :raises Forbidden: (403) for someone who sees only the public view.
    :raises Conflict: (409) when the stored file does not match its recorded checksum (the
        refusal is recorded in the audit trail) or is missing.
    """
    agreement = get_agreement(actor, agreement_id)
    require(actor, Permission.AGREEMENT_READ_FULL, agreement)
    if agreement.document_sha256 is None:
        raise NotFound("This agreement has no signed document yet.")
    session = get_session()
    try:
        content = documents.open_verified(agreement.document_sha256)
    except documents.DocumentTampered as exc:
        session.rollback()
        agreement = get_agreement(actor, agreement_id)
        audit.record(
            actor,
            "agreement.document_refused",
            "agreement",
            agreement.id,
            summary="Refused to hand out the signed document: the stored file does not "
            "match its recorded checksum.",
            context={"sha256": agreement.document_sha256},
        )
        session.commit()
        raise exc
    return agreement, content


def activate(
    actor: Actor, agreement_id: str, if_match: str | None, *, on: dt.date | None = None
) -> Agreement:
    """A complete draft becomes the active agreement; the version it amends (if active) is
    superseded. 422 names every field that is missing."""
    return core_workflow.apply(
        WORKFLOW, actor, agreement_id, "activate", if_match=if_match, params={"today": on}
    ).obj


def terminate(
    actor: Actor, agreement_id: str, reason: str | None, if_match: str | None
) -> Agreement:
    """End an active agreement before its expiry, for a stated reason."""
    return core_workflow.apply(
        WORKFLOW,
        actor,
        agreement_id,
        "terminate",
        if_match=if_match,
        params={"reason": reason},
        reason=(reason or "").strip() or None,
    ).obj


def amend(actor: Actor, agreement_id: str, if_match: str | None) -> Agreement:
    """Open the next version of an active agreement as a draft: a copy of it, to change,
    sign anew and activate. Returns the new draft."""
    outcome = core_workflow.apply(WORKFLOW, actor, agreement_id, "amend", if_match=if_match)
    return outcome.result


def delete_draft(actor: Actor, agreement_id: str, if_match: str | None) -> None:
    core_workflow.apply(WORKFLOW, actor, agreement_id, "delete", if_match=if_match)


# --- what the catalogue and the search ask --------------------------------------------------


def _conditions_table() -> Any:
    return DataUseConditions.__table__


def _active_on(on: Any) -> ColumnElement[bool]:
    return and_(
        Agreement.status == AgreementStatus.ACTIVE,
        Agreement.effective_on <= on,
        Agreement.expires_on > on,
    )


def requestable_until(
    dataset_ids: Iterable[str], today: dt.date | None = None
) -> dict[str, dt.date]:
    """The datasets that can be requested on ``today`` (default: today) — an active agreement
    in effect covers them and they have data-use conditions — with the latest expiry date
    among those agreements (the day the last of them ends: an agreement is in effect from
    ``effective_on`` up to, not including, ``expires_on``). One query."""
    ids = sorted(set(dataset_ids))
    if not ids:
        return {}
    on = today or globals()["today"]()
    rows = get_session().execute(_requestable_until_statement(), {"ids": ids, "on": on})
    return {row[0]: row[1] for row in rows if row[1] is not None}


@cache
def _requestable_until_statement() -> Any:
    """:func:`requestable_until`'s statement, built once with the tables' columns (the ids and
    the day bound by name): every page of search hits asks it, and building it anew with the
    ORM's attributes took longer than running it."""
    conditions = _conditions_table()
    covered: Any = AgreementDataset.__table__
    agreements: Any = Agreement.__table__
    on = bindparam("on", type_=agreements.c.expires_on.type)
    return (
        select(covered.c.dataset_id, func.max(agreements.c.expires_on))
        .join(agreements, agreements.c.id == covered.c.agreement_id)
        .where(
            covered.c.dataset_id.in_(bindparam("ids", expanding=True)),
            agreements.c.status == AgreementStatus.ACTIVE,
            agreements.c.effective_on <= on,
            agreements.c.expires_on > on,
            exists().where(conditions.c.dataset_id == covered.c.dataset_id),
        )
        .group_by(covered.c.dataset_id)
    )


def requestable_condition(dataset_id_column: Any) -> ColumnElement[bool]:
    """An SQL condition on ``dataset_id_column``: the dataset can be requested today. Today's
    date is the bound parameter ``requestable_today`` (its value is the date the statement
    runs, so one cached statement serves every day).

    The requestable datasets are one uncorrelated subquery (``IN``), which both databases
    evaluate once per statement — not an ``EXISTS`` per candidate: search asks it of every
    candidate of every search, for the facet's counts."""
    conditions = _conditions_table()
    on = bindparam("requestable_today", callable_=today, type_=Agreement.expires_on.type)
    requestable = (
        select(AgreementDataset.dataset_id)
        .join(Agreement, Agreement.id == AgreementDataset.agreement_id)
        .join(conditions, conditions.c.dataset_id == AgreementDataset.dataset_id)
        .where(_active_on(on))
    )
    return dataset_id_column.in_(requestable)


@dataclass(frozen=True)
class Covering:
    """The active agreement a dataset can be requested under, for its page."""

    agreement: Agreement
    until: dt.date


def covering_agreements(
    dataset_ids: Iterable[str], today: dt.date | None = None
) -> dict[str, list[Agreement]]:
    """The agreements in effect on ``today`` that cover each dataset (latest expiry first)."""
    ids = sorted(set(dataset_ids))
    if not ids:
        return {}
    on = today or globals()["today"]()
    rows = get_session().execute(
        select(AgreementDataset.dataset_id, Agreement)
        .join(Agreement, Agreement.id == AgreementDataset.agreement_id)
        .where(AgreementDataset.dataset_id.in_(ids), _active_on(on))
        .order_by(Agreement.expires_on.desc(), Agreement.reference)
        # not every covered dataset of each agreement (hundreds for a registry's agreement)
        .options(lazyload(Agreement.datasets))
    )
    out: dict[str, list[Agreement]] = {}
    for dataset_id, agreement in rows:
        out.setdefault(dataset_id, []).append(agreement)
    return out


def obligations_of(agreement: Agreement) -> list[tuple[str, str]]:
    """An agreement's obligations as (term, sentence) pairs: DUO terms where DUO has one
    (RTN ``DUO:0000029`` return of results, MOR ``DUO:0000024`` moratorium), the agreement's
    own names otherwise (``agreement:acknowledgement``, ``agreement:publication_review``)."""
    out: list[tuple[str, str]] = []
    if agreement.acknowledgement:
        out.append(
            (
                "agreement:acknowledgement",
                f"Acknowledge the data in publications: “{agreement.acknowledgement}”",
            )
        )
    if agreement.publication_review_days:
        out.append(
            (
                "agreement:publication_review",
                f"Send manuscripts to the custodian "
                f"{plural(agreement.publication_review_days, 'day')} before submission for review.",
            )
        )
    if agreement.return_of_results:
        text = "Return derived results to the custodian"
        if agreement.return_of_results_text:
            text += f": {agreement.return_of_results_text}"
        out.append(("DUO:0000029", text.rstrip(".") + "."))
    if agreement.moratorium_until:
        out.append(
            (
                "DUO:0000024",
                f"Do not publish before {agreement.moratorium_until.isoformat()}.",
            )
        )
    elif agreement.moratorium_months:
        out.append(
            (
                "DUO:0000024",
                f"Do not publish within {plural(agreement.moratorium_months, 'month')} of "
                "receiving the data.",
            )
        )
    return out


def agreement_obligations(
    dataset_ids: Iterable[str], today: dt.date | None = None
) -> dict[str, list[Obligation]]:
    """The obligations of the agreements in effect that cover each dataset, as the matching
    check's ``Obligation`` (term, text); datasets without any are absent."""
    out: dict[str, list[Obligation]] = {}
    for dataset_id, agreements in covering_agreements(dataset_ids, today).items():
        seen: set[tuple[str, str]] = set()
        for agreement in agreements:
            for term, text in obligations_of(agreement):
                if (term, text) not in seen:
                    seen.add((term, text))
                    out.setdefault(dataset_id, []).append(Obligation(term=term, text=text))
    return out


def has_conditions(dataset_ids: Iterable[str]) -> set[str]:
    ids = sorted(set(dataset_ids))
    if not ids:
        return set()
    conditions = _conditions_table()
    return set(
        get_session().scalars(
            select(conditions.c.dataset_id).where(conditions.c.dataset_id.in_(ids))
        )
    )


def policies_managed(actor: Actor) -> frozenset[str] | None:
    """The organisations whose agreements ``actor`` manages (None: all)."""
    from governance.agreements.policies import managed_organisations

    return managed_organisations(actor)
