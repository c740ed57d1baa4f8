"""The agreement's lifecycle as a table (:mod:`core.workflow`), registered as ``agreement``.

- ``draft`` — being prepared: edited, given its signed document, deleted; only its
  organisation's custodians and administrators see it.
- ``active`` — in effect (from ``effective_on`` up to, not including, ``expires_on``): the
  datasets it covers can be requested (when they have data-use conditions). It changes only
  by amendment (``amend`` opens the next version as a draft, a copy of it); it ends by
  termination (with a reason), by expiry, or when its amendment is activated.
- ``expired`` — its expiry date came: the periodic job (the system, never a person) expires it.
- ``terminated`` — ended early by its custodian or an administrator, with the reason.
- ``superseded`` — an amendment of it was activated; it stays readable as the version before.

``activate`` checks that the draft is complete (422 naming each field missing). ``expire``
and ``supersede`` are the system's: ``expire`` is the periodic job's, ``supersede`` happens to
the active version when its amendment is activated (in the same transaction); neither is
offered as a button.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from core import audit, events
from core import workflow as core_workflow
from core.audit import jsonable
from core.db import get_session, utcnow
from core.errors import Conflict, Forbidden, InvalidInput
from core.permissions import Permission
from core.policies import Actor, SystemActor
from core.workflow import DELETED, Step, Transition, Workflow
from governance.agreements import services
from governance.agreements.models import Agreement, AgreementDataset, AgreementStatus

DRAFT, ACTIVE, EXPIRED, TERMINATED, SUPERSEDED = (s.value for s in AgreementStatus)
STATES = (DRAFT, ACTIVE, EXPIRED, TERMINATED, SUPERSEDED)
MANAGE = Permission.AGREEMENT_MANAGE

ENDED = "This agreement has ended; it no longer changes. Make a new agreement instead."
ONLY_DRAFTS_CHANGE = (
    "An active agreement does not change: amend it (a new version opens as a draft), change "
    "that draft and activate it."
)


def state_of(agreement: Agreement) -> str:
    return agreement.status.value


def set_state(agreement: Agreement, state: str) -> None:
    agreement.status = AgreementStatus(state)


def load(actor: Actor, agreement_id: str) -> Agreement:
    return services.get_agreement(actor, agreement_id)


def _today(step: Step) -> dt.date:
    return step.params.get("today") or services.today()


def _touched(step: Step) -> None:
    step.obj.updated_at = utcnow()
    step.context.setdefault("version", step.obj.version)
    step.payload.setdefault("reference", step.obj.reference)
    step.payload.setdefault("version", step.obj.version)


def _system_only(step: Step) -> None:
    if not isinstance(step.actor, SystemActor):
        raise Forbidden(
            "Agreements expire by date, through the periodic job, and are superseded when "
            "their amendment is activated; nobody takes these steps by hand."
        )


# --- edit -----------------------------------------------------------------------------------


class Unchanged(Exception):
    """The edit changes nothing: rolled back, and the draft is answered as it is."""


def check_edit(step: Step) -> None:
    step.params["content"] = services.check_content(
        step.obj.organisation_id, step.params.get("data") or {}, step.obj
    )


def edit(step: Step) -> Agreement:
    """Change the draft's content (only the fields sent, recorded old → new), or attach its
    signed document."""
    agreement: Agreement = step.obj
    content: dict[str, Any] = step.params["content"]
    for key in services.EDITABLE:
        if key in content and jsonable(getattr(agreement, key)) != jsonable(content[key]):
            step.before[key], step.after[key] = getattr(agreement, key), content[key]
            setattr(agreement, key, content[key])
    if "dataset_ids" in content and content["dataset_ids"] != agreement.dataset_ids:
        step.before["datasets"], step.after["datasets"] = (
            agreement.dataset_ids,
            content["dataset_ids"],
        )
        wanted = content["dataset_ids"]
        agreement.datasets = [d for d in agreement.datasets if d.dataset_id in wanted] + [
            AgreementDataset(dataset_id=i) for i in wanted if i not in agreement.dataset_ids
        ]
    stored = step.params.get("document")
    summary = ""
    if stored is not None:
        step.before["document_sha256"] = agreement.document_sha256
        step.after["document_sha256"] = stored.sha256
        agreement.document_sha256 = stored.sha256
        agreement.document_size = stored.size
        agreement.document_filename = stored.filename
        agreement.document_uploaded_at = utcnow()
        agreement.document_uploaded_by_id = getattr(step.actor, "id", None)
        step.context["document"] = {"filename": stored.filename, "size": stored.size}
        summary = f"Attached the signed document “{stored.filename}” ({stored.size} bytes)."
    if not step.after and not step.before:
        raise Unchanged
    changed = sorted({*step.before, *step.after} - {"document_sha256"})
    step.summary = summary or f"Changed {', '.join(changed)}."
    if summary and changed:
        step.summary += f" Changed {', '.join(changed)}."
    _touched(step)
    return agreement


# --- activate -------------------------------------------------------------------------------


def activation_problems(agreement: Agreement, on: dt.date) -> dict[str, list[str]]:
    """What a draft lacks before it can be activated on ``on``, by field."""
    problems: dict[str, list[str]] = {}

    def add(name: str, message: str) -> None:
        problems.setdefault(name, []).append(message)

    if not agreement.datasets:
        add("datasets", "Name at least one dataset the agreement covers.")
    if not agreement.permitted_uses:
        add("permitted_uses", "Name the uses the agreement permits (DUO terms).")
    if agreement.effective_on is None:
        add("effective_on", "Give the date the agreement takes effect.")
    elif agreement.effective_on > on:
        add(
            "effective_on",
            f"The agreement takes effect on {agreement.effective_on.isoformat()}; activate it "
            "on or after that day.",
        )
    if agreement.expires_on is None:
        add("expires_on", "Give the date the agreement expires.")
    elif agreement.expires_on <= on:
        add("expires_on", f"The expiry date {agreement.expires_on.isoformat()} has passed.")
    if agreement.document_sha256 is None:
        add("document", "Upload the signed agreement (PDF).")
    for side, label in (("custodian", "the custodian"), ("alliance", "the alliance")):
        if not any(s.get("side") == side and s.get("signed_on") for s in agreement.signatories):
            add("signatories", f"Name at least one signatory for {label}, with the signing date.")
    return problems


def check_activation(step: Step) -> None:
    problems = activation_problems(step.obj, _today(step))
    if problems:
        raise InvalidInput(
            problems,
            detail="The agreement is not complete: "
            + "; ".join(m for ms in problems.values() for m in ms),
        )


def _supersede(actor: Actor, old: Agreement, new: Agreement) -> None:
    """The active version an amendment replaces ends, in the activation's transaction, with
    its own change event and audit event."""
    old.status = AgreementStatus.SUPERSEDED
    old.ended_at = utcnow()
    old.updated_at = old.ended_at
    old.revision += 1
    events.announce(
        "agreement.superseded",
        object_type="agreement",
        object_id=old.id,
        action="supersede",
        from_state=ACTIVE,
        to_state=SUPERSEDED,
        actor_id=getattr(actor, "id", None),
        reference=old.reference,
        version=old.version,
        by_version=new.version,
    )
    audit.record(
        actor,
        "agreement.superseded",
        "agreement",
        old.id,
        before={"state": ACTIVE},
        after={"state": SUPERSEDED},
        summary=f"Superseded by version {new.version}.",
        context={"version": old.version, "superseded_by": new.id},
    )


def activate(step: Step) -> Agreement:
    agreement: Agreement = step.obj
    agreement.activated_at = utcnow()
    step.summary = f"Activated version {agreement.version} of {agreement.reference}."
    previous = (
        get_session().get(Agreement, agreement.supersedes_id) if agreement.supersedes_id else None
    )
    if previous is not None and previous.status is AgreementStatus.ACTIVE:
        _supersede(step.actor, previous, agreement)
        step.context["supersedes"] = previous.version
        step.summary = step.summary[:-1] + f" (supersedes version {previous.version})."
    _touched(step)
    return agreement


# --- amend, terminate, expire, delete -------------------------------------------------------


def check_amend(step: Step) -> None:
    agreement: Agreement = step.obj
    newer = get_session().scalar(
        select(Agreement)
        .where(Agreement.reference == agreement.reference, Agreement.version > agreement.version)
        .limit(1)
    )
    if newer is not None:
        raise Conflict(
            f"Version {newer.version} of {agreement.reference} is open already "
            f"({newer.status.value}); change that one."
        )


def amend(step: Step) -> Agreement:
    """The next version as a draft: a copy of this one's content and datasets. It is signed
    anew: the signed document is not copied, and the signatories' dates are cleared."""
    old: Agreement = step.obj
    now = utcnow()
    new = Agreement(
        version=old.version + 1,
        status=AgreementStatus.DRAFT,
        supersedes_id=old.id,
        revision=1,
        created_at=now,
        updated_at=now,
        created_by_id=getattr(step.actor, "id", None),
    )
    for key in services.COPIED:
        value = getattr(old, key)
        setattr(new, key, list(value) if isinstance(value, list) else value)
    new.signatories = [{**s, "signed_on": None} for s in old.signatories]
    new.datasets = [AgreementDataset(dataset_id=i) for i in old.dataset_ids]
    session = get_session()
    session.add(new)
    session.flush()
    audit.record(
        step.actor,
        "agreement.created",
        "agreement",
        new.id,
        after={"reference": new.reference, "organisation_id": new.organisation_id},
        summary=f"Opened version {new.version} of {new.reference} as a draft (an amendment "
        f"of version {old.version}).",
        context={"version": new.version, "amends": old.id},
    )
    step.summary = f"Opened version {new.version} as a draft amendment."
    step.context["amendment"] = new.id
    step.payload["amendment"] = new.id
    _touched(step)
    return new


def check_terminate(step: Step) -> None:
    reason = (step.params.get("reason") or "").strip()
    if not reason:
        raise InvalidInput.field("reason", "Say why the agreement is terminated.")
    step.params["reason"] = reason[:2000]


def terminate(step: Step) -> Agreement:
    agreement: Agreement = step.obj
    agreement.ended_at = utcnow()
    agreement.termination_reason = step.params["reason"]
    step.after["termination_reason"] = agreement.termination_reason
    step.summary = f"Terminated: {agreement.termination_reason}"
    _touched(step)
    return agreement


def check_expire(step: Step) -> None:
    _system_only(step)
    agreement: Agreement = step.obj
    on = _today(step)
    if agreement.expires_on is None or agreement.expires_on > on:
        raise Conflict(
            f"The agreement expires on {agreement.expires_on}; it is in effect until then."
        )


def expire(step: Step) -> Agreement:
    agreement: Agreement = step.obj
    agreement.ended_at = utcnow()
    step.summary = f"Expired on {agreement.expires_on.isoformat() if agreement.expires_on else ''}."
    _touched(step)
    return agreement


def supersede(step: Step) -> Agreement:
    """Only for the table's completeness: activating an amendment supersedes (``_supersede``)."""
    step.obj.ended_at = utcnow()
    _touched(step)
    return step.obj


def delete(step: Step) -> None:
    agreement: Agreement = step.obj
    step.summary = f"Deleted the draft version {agreement.version} of {agreement.reference}."
    step.context["reference"] = agreement.reference
    get_session().delete(agreement)


def _never(_obj: Any) -> bool:
    return False


AGREEMENT = Workflow(
    name="agreement",
    object_type="agreement",
    description="A data-sharing agreement from its draft to its end.",
    states=STATES,
    initial=DRAFT,
    transitions=(
        Transition(
            DRAFT, "edit", DRAFT, MANAGE, rule=check_edit, effect=edit, event="agreement.updated"
        ),
        Transition(
            DRAFT,
            "activate",
            ACTIVE,
            MANAGE,
            label="Activate agreement",
            rule=check_activation,
            effect=activate,
            event="agreement.activated",
        ),
        Transition(
            DRAFT,
            "delete",
            DELETED,
            MANAGE,
            label="Delete draft",
            effect=delete,
            event="agreement.deleted",
        ),
        Transition(
            ACTIVE,
            "amend",
            ACTIVE,
            MANAGE,
            label="Amend (new version)",
            rule=check_amend,
            effect=amend,
            event="agreement.amended",
        ),
        Transition(
            ACTIVE,
            "terminate",
            TERMINATED,
            MANAGE,
            label="Terminate agreement",
            rule=check_terminate,
            effect=terminate,
            event="agreement.terminated",
        ),
        Transition(
            ACTIVE,
            "expire",
            EXPIRED,
            MANAGE,
            rule=check_expire,
            effect=expire,
            if_match=False,
            offered=_never,
            event="agreement.expired",
        ),
        Transition(
            ACTIVE,
            "supersede",
            SUPERSEDED,
            MANAGE,
            rule=_system_only,
            effect=supersede,
            if_match=False,
            offered=_never,
            event="agreement.superseded",
        ),
    ),
    state_of=state_of,
    set_state=set_state,
    load=load,
    etag=services.etag,
    read_permission=Permission.AGREEMENT_READ,
    refusals={
        (ACTIVE, "edit"): ONLY_DRAFTS_CHANGE,
        (ACTIVE, "activate"): "This agreement is active already.",
        (ACTIVE, "delete"): "Only drafts are deleted; terminate an active agreement instead.",
        (DRAFT, "amend"): "This is a draft: change it, then activate it.",
        (DRAFT, "terminate"): "A draft is not in effect; delete it instead.",
        (DRAFT, "expire"): "A draft is not in effect; it cannot expire.",
        (EXPIRED, "edit"): ENDED,
        (EXPIRED, "amend"): ENDED,
        (TERMINATED, "edit"): ENDED,
        (TERMINATED, "amend"): ENDED,
        (SUPERSEDED, "edit"): "This version was superseded by an amendment; change the newer one.",
        (SUPERSEDED, "amend"): "This version was superseded by an amendment; amend the newer one.",
    },
)


def register() -> None:
    """Make the lifecycle known to :func:`core.workflow.apply`, ``harmony workflows`` and the
    README check; called by the sub-area's ``init_app``."""
    core_workflow.register(AGREEMENT)
