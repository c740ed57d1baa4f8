"""Access requests, the application: create a draft (from scratch or from the caller's
selection), read it as the caller may see it, list, change a draft (autosave), its team and
its datasets, and what submission does (:func:`prepare_submission`, called by the
``access_request`` workflow's ``submit`` row): completeness field by field, the eligibility
rule, the requestable datasets, the consent check of every dataset, the committee, the
datasets' sign-off states, recusals and notifications.

State changes go through :func:`core.workflow.apply` (``access_request``); this module changes
only the content of drafts and returned requests, and the stored checks.

Audit: the trail records the creation of a request and every transition (the workflow does);
the content edits of a draft are *not* audited one by one — an autosave every few seconds
would drown the trail — the submitted content is what the committee judges, and the submission
is audited. A re-check because a dataset's conditions changed is audited.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any

from flask import current_app
from marshmallow import ValidationError
from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from catalogue.datasets import services as datasets
from catalogue.models import Dataset, DatasetStatus
from core import audit, events
from core.db import get_session, utcnow, write_in_passing, writes_now
from core.errors import Conflict, Forbidden, InvalidInput, NotFound
from core.etags import check_etag, revision_etag
from core.models import DataAccessCommittee, Organisation, Role, RoleGrant, User, casefold_key
from core.pagination import Page, paginate
from core.permissions import Permission
from core.policies import SYSTEM, Actor, can, is_admin, is_user, require, require_login
from core.text import plural
from core.workflow import Step
from governance.requests.models import (
    OPEN_STATES,
    AccessRequest,
    DatasetCommittee,
    DatasetState,
    RequestDataset,
    RequestMember,
    RequestState,
)

WORKFLOW = "access_request"
EDITABLE_STATES = (RequestState.DRAFT, RequestState.RETURNED)
#: the request's own text fields (what a draft's PATCH and the form may change)
TEXT_FIELDS = {
    "title": 300,
    "lay_summary": 5000,
    "scientific_abstract": 10000,
    "public_benefit": 5000,
    "processing_environment": 5000,
    "data_justification": 10000,
    "publication_plan": 5000,
    "team_training": 5000,
    "funding": 5000,
    "conflicts_of_interest": 5000,
}
EDITABLE = (
    *TEXT_FIELDS,
    "purpose",
    "ethics_reference",
    "processing_country",
    "requested_months",
)
#: what a submission needs, with what to say when it is missing (the Five Safes' questions)
REQUIRED: dict[str, str] = {
    "title": "Give the project a title.",
    "lay_summary": "Describe the project in plain words for the public register.",
    "scientific_abstract": "Give the scientific abstract: question, design, analysis.",
    "public_benefit": "Say what patients or the public gain from the project.",
    "purpose": "State the research purpose (the kind of research, and the diseases).",
    "ethics_reference": "Give the reference of the ethics approval.",
    "processing_country": "Say in which country the data will be processed.",
    "processing_environment": "Describe where and how the data will be processed and kept.",
    "data_justification": "Say why each dataset, and the variables asked for, are needed.",
    "publication_plan": "Say how results will be published (aggregate outputs only).",
    "team_training": "Say what training in data protection the team has.",
    "requested_months": "Say for how many months access is needed.",
    "datasets": "Ask for at least one dataset.",
}
MAX_MONTHS = 120
MAX_DATASETS = 50
MAX_MEMBERS = 50
MAX_VARIABLES = 1000
ELIGIBILITY_RULES = ("any", "contributing_organisations")


def etag(request: AccessRequest) -> str:
    return revision_etag(request.id, request.revision)


# --- reading --------------------------------------------------------------------------------


def find(request_id: str) -> AccessRequest | None:
    return get_session().get(AccessRequest, request_id) if request_id else None


def _invited_here(actor: Actor, request_id: str) -> RequestMember | None:
    """An invitation to this request's team for the actor's e-mail, not yet taken up."""
    if not isinstance(actor, User) or not is_user(actor):
        return None
    found: RequestMember | None = get_session().scalar(
        select(RequestMember).where(
            RequestMember.request_id == request_id,
            RequestMember.user_id.is_(None),
            RequestMember.removed_at.is_(None),
            RequestMember.email_key == casefold_key(actor.email),
        )
    )
    return found


def get_request(actor: Actor, request_id: str) -> AccessRequest:
    """The request, as ``actor`` may see it (:mod:`governance.requests.policies`).

    An invitation to the team for the actor's e-mail address is taken up here (the person
    registered or logged in after they were invited), so that the invitation's link works.

    :raises Unauthenticated: for anonymous callers.
    :raises NotFound: when it does not exist or the actor may not see it (a draft for anyone
        but its team).
    """
    require_login(actor)
    request = find(request_id)
    if request is None:
        raise NotFound("No such access request.")
    if not can(actor, Permission.ACCESS_REQUEST_READ, request):
        if _invited_here(actor, request.id) is not None:
            claim_invitations(actor)
            request = find(request_id)
        require(actor, Permission.ACCESS_REQUEST_READ, request, hide=True)
    if request is None:  # taken away while the invitation was taken up
        raise NotFound("No such access request.")
    return request


def claim_invitations(actor: Actor) -> int:
    """Link the team invitations sent to the actor's e-mail to their account. In a writing
    transaction it joins it; in a reading one it is a write in passing. Returns how many."""
    if not is_user(actor):
        return 0
    user: User = actor  # type: ignore[assignment]
    key = casefold_key(user.email)
    session = get_session()
    pending = session.scalar(
        select(func.count())
        .select_from(RequestMember)
        .where(RequestMember.email_key == key, RequestMember.user_id.is_(None))
    )
    if not pending:
        return 0

    def link(session: Any) -> None:
        for member in session.scalars(
            select(RequestMember).where(
                RequestMember.email_key == key, RequestMember.user_id.is_(None)
            )
        ):
            member.user_id = user.id
            if not member.name:
                member.name = user.name
        session.flush()

    if writes_now():
        link(session)
    else:
        write_in_passing(link, "team invitations")
    return int(pending)


def visible_condition(actor: Actor) -> Any:
    """An SQL condition: the requests ``actor`` sees (the policy's rule, in bulk)."""
    if not is_user(actor):
        return AccessRequest.id.is_(None) if actor is None else AccessRequest.id.is_not(None)
    user: User = actor  # type: ignore[assignment]
    team = or_(
        AccessRequest.applicant_id == user.id,
        exists().where(
            RequestMember.request_id == AccessRequest.id,
            RequestMember.user_id == user.id,
            RequestMember.removed_at.is_(None),
        ),
    )
    if is_admin(user):
        return or_(team, AccessRequest.state != RequestState.DRAFT)
    others: list[Any] = []
    committees = sorted(user.committees())
    if committees:
        others.append(AccessRequest.committee_id.in_(committees))
    own = sorted(user.custodian_of())
    if own:
        others.append(
            exists()
            .where(RequestDataset.request_id == AccessRequest.id)
            .where(
                RequestDataset.dataset_id.in_(
                    select(Dataset.id).where(Dataset.organisation_id.in_(own))
                )
            )
        )
    if not others:
        return team
    return or_(team, and_(AccessRequest.state != RequestState.DRAFT, or_(*others)))


def team_condition(actor: Actor) -> Any:
    user_id = getattr(actor, "id", None)
    return or_(
        AccessRequest.applicant_id == user_id,
        exists().where(
            RequestMember.request_id == AccessRequest.id,
            RequestMember.user_id == user_id,
            RequestMember.removed_at.is_(None),
        ),
    )


SORTS = {
    "updated": AccessRequest.updated_at,
    "created": AccessRequest.created_at,
    "reference": AccessRequest.reference,
    "state": AccessRequest.state,
    "title": AccessRequest.title,
}


def list_requests(
    actor: Actor,
    *,
    state: RequestState | None = None,
    mine: bool = False,
    sort: str | None = None,
    page: int = 1,
    per_page: int = 25,
) -> Page[AccessRequest]:
    """The requests ``actor`` sees (its own and its teams' in every state; as a committee
    member its committee's, as a custodian those asking for its datasets, as an administrator
    all — none of them drafts of others), newest change first. ``mine``: only its own and its
    teams'."""
    require_login(actor)
    require(actor, Permission.ACCESS_REQUEST_READ)
    claim_invitations(actor)
    query = (
        select(AccessRequest)
        .where(team_condition(actor) if mine else visible_condition(actor))
        .options(selectinload(AccessRequest.applicant))
    )
    if state is not None:
        query = query.where(AccessRequest.state == state)
    return paginate(
        query,
        page=page,
        per_page=per_page,
        sort=sort,
        sortable=SORTS,
        default_sort="-updated",
        tiebreak=AccessRequest.id,
    )


def load_organisations(ids: Iterable[str | None]) -> list[Organisation]:
    """Bring the organisations into the session at once, so that the rows of a page that
    ``session.get`` them find them there (hold on to the list meanwhile: the session keeps
    only weak references)."""
    wanted = sorted({i for i in ids if i})
    if not wanted:
        return []
    return list(get_session().scalars(select(Organisation).where(Organisation.id.in_(wanted))))


def can_edit(actor: Actor, request: AccessRequest) -> bool:
    return request.state in EDITABLE_STATES and can(actor, Permission.ACCESS_REQUEST_APPLY, request)


def timeline(actor: Actor, request: AccessRequest) -> list[audit.AuditEvent]:
    """The request's events from the audit trail (its own, and its datasets'), oldest first:
    what anyone who may see the request sees of its history."""
    require(actor, Permission.ACCESS_REQUEST_READ, request, hide=True)
    ids = [request.id, *(d.id for d in request.datasets)]
    return list(
        get_session().scalars(
            select(audit.AuditEvent)
            .where(
                or_(
                    and_(
                        audit.AuditEvent.object_type == "access_request",
                        audit.AuditEvent.object_id == request.id,
                    ),
                    and_(
                        audit.AuditEvent.object_type == "request_dataset",
                        audit.AuditEvent.object_id.in_(ids),
                    ),
                )
            )
            .order_by(audit.AuditEvent.seq)
        )
    )


def dataset_titles(items: Iterable[RequestDataset]) -> dict[str, str]:
    """The title of each requested dataset's latest published version, by dataset id."""
    items = list(items)
    titles = datasets.published_titles(item.dataset_id for item in items)
    return {i.dataset_id: titles.get(i.dataset_id) or i.dataset.identifier for i in items}


# --- checking what is sent ------------------------------------------------------------------


def _text(name: str, value: Any) -> str:
    text = "" if value is None else str(value).strip()
    limit = TEXT_FIELDS[name]
    if len(text) > limit:
        raise InvalidInput.field(name, f"At most {limit} characters.")
    return text


def check_purpose_shape(value: Any, *, complete: bool = False) -> dict[str, Any]:
    """The purpose as stored: the compatibility check's JSON (PurposeSchema). A draft may hold
    part of it; ``complete`` loads it whole (what submission needs).

    :raises InvalidInput: naming ``purpose.<field>``.
    """
    from governance.matching.schemas import PurposeSchema

    if value is None:
        value = {}
    if not isinstance(value, Mapping):
        raise InvalidInput.field("purpose", "The purpose is an object (terms, diseases …).")
    schema = PurposeSchema()
    if complete:
        try:
            loaded = schema.load(dict(value))
        except ValidationError as exc:
            raise InvalidInput(_prefixed("purpose", exc.messages)) from None
        return dict(schema.dump(loaded))
    given = {k: v for k, v in value.items() if v not in (None, "", [])}  # a draft's gaps
    problems = schema.validate(given, partial=True)
    if problems:
        raise InvalidInput(_prefixed("purpose", problems))
    return given


def _prefixed(prefix: str, messages: Any) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            name = prefix if key == "_schema" else f"{prefix}.{key}"
            if isinstance(value, Mapping):
                out.update(_prefixed(name, value))
            else:
                items = value if isinstance(value, list) else [value]
                out.setdefault(name, []).extend(str(v) for v in items)
    else:
        items = messages if isinstance(messages, list) else [messages]
        out[prefix] = [str(v) for v in items]
    return out


def check_content(data: Mapping[str, Any]) -> dict[str, Any]:
    """The request's own fields that were sent, checked and normalised (datasets and members
    are checked on their own).

    :raises InvalidInput: (422 naming the field).
    """
    out: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for name in TEXT_FIELDS:
        if name in data:
            try:
                out[name] = _text(name, data[name])
            except InvalidInput as exc:
                errors.update(exc.errors or {})
    if "purpose" in data:
        try:
            out["purpose"] = check_purpose_shape(data["purpose"])
        except InvalidInput as exc:
            errors.update(exc.errors or {})
    if "ethics_reference" in data:
        text = str(data["ethics_reference"] or "").strip()
        if len(text) > 200:
            errors["ethics_reference"] = ["At most 200 characters."]
        out["ethics_reference"] = text or None
    if "processing_country" in data:
        code = str(data["processing_country"] or "").strip().upper()
        if code and not (len(code) == 2 and code.isalpha()):
            errors["processing_country"] = ["A country's two-letter ISO 3166-1 code, e.g. NL."]
        out["processing_country"] = code or None
    if "requested_months" in data:
        value = data["requested_months"]
        if value in (None, ""):
            out["requested_months"] = None
        else:
            try:
                months = int(value)
            except (TypeError, ValueError):
                errors["requested_months"] = ["A whole number of months."]
            else:
                if not 1 <= months <= MAX_MONTHS:
                    errors["requested_months"] = [f"Between 1 and {MAX_MONTHS} months."]
                out["requested_months"] = months
    if errors:
        raise InvalidInput(errors)
    return out


def _dataset_ref(item: Any) -> tuple[str, list[str] | None]:
    if isinstance(item, str):
        return item, None
    if isinstance(item, Mapping):
        ref = item.get("dataset") or item.get("identifier") or item.get("id") or ""
        variables = item.get("variables")
        if variables is not None:
            variables = list(dict.fromkeys(str(v).strip() for v in variables if str(v).strip()))
        return str(ref), variables or None
    return "", None


def check_datasets(actor: Actor, items: Iterable[Any]) -> list[tuple[Dataset, list[str] | None]]:
    """The datasets asked for (identifiers or ids, each with the variables needed or None for
    the whole dataset), in the order given: each must be one the actor sees, requestable today
    (an active agreement covers it and it has data-use conditions), and each variable one of
    its latest published version.

    :raises InvalidInput: naming ``datasets[i]`` (or ``datasets[i].variables``).
    """
    from governance.agreements.services import requestable_until

    wanted = [_dataset_ref(item) for item in items]
    if len(wanted) > MAX_DATASETS:
        raise InvalidInput.field("datasets", f"At most {MAX_DATASETS} datasets per request.")
    errors: dict[str, list[str]] = {}
    found: list[tuple[int, Dataset, list[str] | None]] = []
    seen: set[str] = set()
    for n, (ref, variables) in enumerate(wanted):
        if not ref:
            errors[f"datasets[{n}]"] = ["Name the dataset (its identifier)."]
            continue
        try:
            dataset = datasets.get_dataset(actor, ref)
        except NotFound:
            errors[f"datasets[{n}]"] = [f"No such dataset: “{ref}”."]
            continue
        if dataset.id in seen:
            errors[f"datasets[{n}]"] = [f"“{dataset.identifier}” is asked for twice."]
            continue
        seen.add(dataset.id)
        if len(variables or []) > MAX_VARIABLES:
            errors[f"datasets[{n}].variables"] = [f"At most {MAX_VARIABLES} variables."]
            continue
        found.append((n, dataset, variables))
    until = requestable_until([d.id for _, d, _ in found])
    for n, dataset, variables in found:
        if dataset.id not in until or dataset.status is not DatasetStatus.PUBLISHED:
            errors[f"datasets[{n}]"] = [
                f"“{dataset.identifier}” cannot be requested now: no data-sharing agreement "
                "in effect covers it, or its data-use conditions are not stated yet."
            ]
            continue
        unknown = datasets.unknown_variables(dataset, variables or [])
        if unknown:
            errors[f"datasets[{n}].variables"] = [
                f"{dataset.identifier} has no variable named "
                + ", ".join(f"“{v}”" for v in unknown)
                + "."
            ]
    if errors:
        raise InvalidInput(errors)
    return [(d, v) for _, d, v in found]


def _set_datasets(request: AccessRequest, chosen: list[tuple[Dataset, list[str] | None]]) -> None:
    """The request's datasets become ``chosen`` (kept rows keep their id and checks)."""
    current = {item.dataset_id: item for item in request.datasets}
    items: list[RequestDataset] = []
    for position, (dataset, variables) in enumerate(chosen):
        item = current.pop(dataset.id, None)
        if item is None:
            item = RequestDataset(dataset_id=dataset.id, state=DatasetState.REQUESTED)
            item.dataset = dataset
        item.position = position
        item.variables = variables
        items.append(item)
    request.datasets = items


def _member_spec(item: Any, n: int) -> dict[str, str]:
    if isinstance(item, str):
        item = {"email": item}
    if not isinstance(item, Mapping):
        raise InvalidInput.field(f"members[{n}]", "A member is an object with an e-mail.")
    email = str(item.get("email") or "").strip().lower()
    if "@" not in email or len(email) > 320 or " " in email or email.startswith("@"):
        raise InvalidInput.field(f"members[{n}].email", "Give the person's e-mail address.")
    spec = {"email": email}
    for key, limit in (("name", 200), ("affiliation", 300), ("role", 200)):
        value = str(item.get(key) or "").strip()
        if len(value) > limit:
            raise InvalidInput.field(f"members[{n}].{key}", f"At most {limit} characters.")
        spec[key] = value
    return spec


def _add_member(
    request: AccessRequest, spec: Mapping[str, str], invited: list[RequestMember]
) -> RequestMember:
    """Put a person on the team: an existing account is linked; an unknown e-mail is invited
    (``invited_at``; the invitation is mailed after the commit)."""
    session = get_session()
    key = casefold_key(spec["email"])
    member = next((m for m in request.members if m.email_key == key), None)
    if member is not None and member.removed_at is None:
        for field in ("name", "affiliation", "role"):
            if spec.get(field):
                setattr(member, field, spec[field])
        return member
    user = session.scalar(select(User).where(User.email_key == key))
    now = utcnow()
    if member is None:
        member = RequestMember(email=spec["email"], email_key=key, added_at=now)
        request.members.append(member)
    member.removed_at = None
    member.added_at = now
    member.user_id = user.id if user is not None else None
    member.name = spec.get("name") or (user.name if user else "")
    member.affiliation = spec.get("affiliation") or _affiliation(user)
    member.role = spec.get("role") or ""
    if user is None:
        member.invited_at = now
        invited.append(member)
    return member


def _affiliation(user: User | None) -> str:
    if user is None or not user.organisation_id:
        return ""
    organisation = get_session().get(Organisation, user.organisation_id)
    return organisation.name if organisation else ""


def _set_members(
    request: AccessRequest, items: Iterable[Any], invited: list[RequestMember]
) -> None:
    """The team (besides the applicant) becomes the people listed; others are removed."""
    specs = [_member_spec(item, n) for n, item in enumerate(items)]
    if len(specs) > MAX_MEMBERS:
        raise InvalidInput.field("members", f"At most {MAX_MEMBERS} team members.")
    keys = set()
    for spec in specs:
        keys.add(casefold_key(spec["email"]))
        _add_member(request, spec, invited)
    now = utcnow()
    for member in request.members:
        if not member.is_applicant and member.removed_at is None and member.email_key not in keys:
            member.removed_at = now


def _announce_invitations(request: AccessRequest, invited: list[RequestMember]) -> None:
    for member in invited:
        events.announce(
            INVITED_EVENT,
            object_type="access_request",
            object_id=request.id,
            email=member.email,
            reference=request.reference,
            title=request.title,
            applicant=request.applicant.name if request.applicant else "",
        )


INVITED_EVENT = "access_request.member_invited"
INVITATION_MAILER = "governance.request_invitation"


def mail_invitation(event: events.Event) -> None:
    """After the commit (outbox): tell an invited person how to join the team."""
    from flask import url_for

    from core.mail import send_mail

    payload = event.payload
    try:
        link = url_for("requests.request_page", request_id=event.object_id, _external=True)
    except RuntimeError:  # no request context in the worker: a relative path
        link = f"/requests/{event.object_id}"
    send_mail(
        str(payload.get("email") or ""),
        f"You are invited to the team of access request {payload.get('reference', '')}",
        f"{payload.get('applicant') or 'A researcher'} added you to the team of the access "
        f"request “{payload.get('title') or payload.get('reference')}” on the HARMONY "
        f"catalogue.\n\nLog in (or ask the HARMONY administrators for an account) with this "
        f"e-mail address to see it:\n{link}\n",
    )


# --- creating and changing ------------------------------------------------------------------


def _next_reference(year: int) -> str:
    prefix = f"AR-{year}-"
    last = get_session().scalar(
        select(func.max(AccessRequest.reference)).where(
            AccessRequest.reference.like(f"{prefix}%"), AccessRequest.amends_id.is_(None)
        )
    )
    try:
        number = int(str(last)[len(prefix) : len(prefix) + 4]) if last else 0
    except ValueError:
        number = 0
    return f"{prefix}{number + 1:04d}"


def create_request(
    actor: Actor, data: Mapping[str, Any], *, from_selection: bool = False
) -> AccessRequest:
    """A new draft by ``actor`` (a researcher), who is its applicant and first team member.
    ``data``: the fields of :data:`EDITABLE`, ``datasets`` (``[{"dataset": identifier,
    "variables": [...]}]`` or identifiers) and ``members`` (``[{"email", "name",
    "affiliation", "role"}]``). ``from_selection``: the datasets and variables of the
    caller's selection (catalogue.selection) instead of ``datasets``; the datasets of it that
    cannot be requested now are left out.

    :raises Forbidden: (403) for someone who may not apply (not a researcher).
    :raises InvalidInput: (422 naming the field, ``datasets[i]`` for a dataset that cannot be
        requested).
    """
    require_login(actor)
    require(actor, Permission.ACCESS_REQUEST_CREATE)
    user: User = actor  # type: ignore[assignment]
    session = get_session()
    content = check_content(data)
    if from_selection:
        chosen = _selection_datasets(actor)
    else:
        chosen = check_datasets(actor, data.get("datasets") or [])
    now = utcnow()
    request = AccessRequest(
        reference="",
        state=RequestState.DRAFT,
        applicant_id=user.id,
        organisation_id=user.organisation_id,
        purpose={},
        round=0,
        revision=1,
        created_at=now,
        updated_at=now,
        state_changed_at=now,
    )
    for name in EDITABLE:
        if name in content:
            setattr(request, name, content[name])
    for name in TEXT_FIELDS:
        if getattr(request, name) is None:
            setattr(request, name, "")
    request.applicant = user
    request.members = [
        RequestMember(
            user_id=user.id,
            email=user.email,
            email_key=casefold_key(user.email),
            name=user.name,
            affiliation=_affiliation(user),
            role="Applicant",
            is_applicant=True,
            added_at=now,
        )
    ]
    invited: list[RequestMember] = []
    if data.get("members"):
        _set_members(request, data["members"], invited)
    _set_datasets(request, chosen)
    for _attempt in range(5):
        request.reference = _next_reference(now.year)
        try:
            with session.begin_nested():
                session.add(request)
                session.flush()
            break
        except IntegrityError:  # another request took the number: the next one
            continue
    else:
        raise Conflict("Could not number the request; try again.")
    _announce_invitations(request, invited)
    events.announce(
        "access_request.created",
        object_type="access_request",
        object_id=request.id,
        reference=request.reference,
    )
    audit.record(
        actor,
        "access_request.created",
        "access_request",
        request.id,
        after={"reference": request.reference, "datasets": request.dataset_ids},
        summary=f"Started the draft request {request.reference}"
        + (" from the selection." if from_selection else "."),
        context={"reference": request.reference},
    )
    session.commit()
    return request


def _selection_datasets(actor: Actor) -> list[tuple[Dataset, list[str] | None]]:
    """The requestable datasets of the caller's selection, with the variables chosen in each.

    :raises InvalidInput: (``datasets``) when none of them can be requested now.
    """
    from catalogue.selection import services as selection
    from governance.agreements.services import requestable_until

    view = selection.list_selection(actor)
    if not view.datasets:
        raise InvalidInput.field("datasets", "Your selection is empty: add datasets first.")
    until = requestable_until([d.id for d in view.datasets])
    out: list[tuple[Dataset, list[str] | None]] = []
    session = get_session()
    for item in view.datasets:
        if item.id not in until or item.status != "published":
            continue
        dataset = session.get(Dataset, item.id)
        if dataset is None:
            continue
        names = [v.name for v in item.variables if v.available]
        out.append((dataset, names or None))
    if not out:
        raise InvalidInput.field(
            "datasets",
            "None of the datasets in your selection can be requested now (no agreement in "
            "effect, or no data-use conditions yet).",
        )
    return out


def _editable(actor: Actor, request_id: str, if_match: str | None) -> AccessRequest:
    from core.db import lock_revision

    request = get_request(actor, request_id)
    require(actor, Permission.ACCESS_REQUEST_APPLY, request)
    if writes_now():
        lock_revision(request)
    if request.state not in EDITABLE_STATES:
        raise Conflict(
            f"A request that is {request.state.value.replace('_', ' ')} cannot be changed; "
            "only drafts and returned requests are edited."
        )
    check_etag(etag(request), if_match, what="the request")
    return request


def update_request(
    actor: Actor, request_id: str, data: Mapping[str, Any], if_match: str | None
) -> AccessRequest:
    """Change a draft or a returned request (the applicant): only the fields sent — autosave
    sends what changed since the last save. ``datasets`` and ``members`` replace the lists.

    Not audited field by field (see the module): the creation and each transition are.

    :raises NotFound: (404) a request the actor may not see.
    :raises Forbidden: (403) someone on the team who is not the applicant.
    :raises Conflict: (409) the request is no longer a draft or returned.
    :raises PreconditionRequired: (428) no ``If-Match``.
    :raises PreconditionFailed: (412) a stale ``If-Match``.
    :raises InvalidInput: (422 naming the field).
    """
    session = get_session()
    request = _editable(actor, request_id, if_match)
    content = check_content(data)
    changed = False
    for name in EDITABLE:
        if name in content and getattr(request, name) != content[name]:
            setattr(request, name, content[name])
            changed = True
    if "datasets" in data:
        chosen = check_datasets(actor, data.get("datasets") or [])
        before = [(d.dataset_id, d.variables) for d in request.datasets]
        if before != [(d.id, v) for d, v in chosen]:
            _set_datasets(request, chosen)
            changed = True
    invited: list[RequestMember] = []
    if "members" in data:
        before_team = _team_signature(request)
        _set_members(request, data.get("members") or [], invited)
        changed = changed or _team_signature(request) != before_team
    if not changed:
        session.rollback()
        return get_request(actor, request_id)
    request.revision += 1
    request.updated_at = utcnow()
    _announce_invitations(request, invited)
    session.commit()
    return request


def _team_signature(request: AccessRequest) -> list[tuple[str, str, str, str, bool]]:
    return sorted(
        (m.email_key, m.name, m.affiliation, m.role, m.removed_at is None) for m in request.members
    )


def add_member(
    actor: Actor, request_id: str, spec: Mapping[str, Any], if_match: str | None
) -> RequestMember:
    """Put one person on the team of a draft or returned request (see :func:`update_request`)."""
    session = get_session()
    request = _editable(actor, request_id, if_match)
    current = [m for m in request.current_members() if not m.is_applicant]
    if len(current) >= MAX_MEMBERS:
        raise InvalidInput.field("members", f"At most {MAX_MEMBERS} team members.")
    checked = _member_spec(spec, len(current))
    invited: list[RequestMember] = []
    member = _add_member(request, checked, invited)
    request.revision += 1
    request.updated_at = utcnow()
    _announce_invitations(request, invited)
    session.commit()
    return member


def remove_member(
    actor: Actor, request_id: str, member_id: str, if_match: str | None
) -> AccessRequest:
    """Take a person off the team of a draft or returned request (not the applicant)."""
    session = get_session()
    request = _editable(actor, request_id, if_match)
    member = next((m for m in request.current_members() if m.id == member_id), None)
    if member is None:
        raise NotFound("No such team member.")
    if member.is_applicant:
        raise InvalidInput.field("members", "The applicant stays on the team.")
    member.removed_at = utcnow()
    request.revision += 1
    request.updated_at = utcnow()
    session.commit()
    return request


def add_dataset(
    actor: Actor,
    request_id: str,
    dataset_ref: str,
    variables: list[str] | None,
    if_match: str | None,
) -> AccessRequest:
    """Add a dataset (or change its variables) in a draft or returned request."""
    request = get_request(actor, request_id)
    items: list[Any] = [
        {"dataset": d.dataset_id, "variables": d.variables} for d in request.datasets
    ]
    dataset = datasets.get_dataset(actor, dataset_ref) if dataset_ref else None
    replaced = False
    for item in items:
        if dataset is not None and item["dataset"] == dataset.id:
            item["variables"] = variables
            replaced = True
    if not replaced:
        items.append({"dataset": dataset_ref, "variables": variables})
    return update_request(actor, request_id, {"datasets": items}, if_match)


def remove_dataset(
    actor: Actor, request_id: str, dataset_ref: str, if_match: str | None
) -> AccessRequest:
    request = get_request(actor, request_id)
    items = [
        {"dataset": d.dataset_id, "variables": d.variables}
        for d in request.datasets
        if dataset_ref not in (d.dataset_id, d.dataset.identifier)
    ]
    if len(items) == len(request.datasets):
        raise NotFound("This dataset is not in the request.")
    return update_request(actor, request_id, {"datasets": items}, if_match)


# --- submission -----------------------------------------------------------------------------


def completeness(request: AccessRequest) -> dict[str, list[str]]:
    """What a submission still misses, by field (empty: complete)."""
    errors: dict[str, list[str]] = {}
    for name, message in REQUIRED.items():
        if name == "datasets":
            if not request.datasets:
                errors[name] = [message]
        elif name == "purpose":
            if not (request.purpose or {}).get("terms"):
                errors["purpose.terms"] = [message]
            else:
                try:
                    check_purpose_shape(purpose_for_check(request), complete=True)
                except InvalidInput as exc:
                    errors.update(exc.errors or {})
        else:
            value = getattr(request, name)
            if value is None or (isinstance(value, str) and not value.strip()):
                errors[name] = [message]
    if not any(m.user_id for m in request.current_members()):
        errors["members"] = ["The team needs at least one person with an account."]
    return errors


def purpose_for_check(request: AccessRequest) -> dict[str, Any]:
    """The purpose as the check reads it: what the applicant stated, with what the form asks
    elsewhere filled in where the purpose leaves it open (the country of processing, the
    duration, the ethics approval, the team as the users, the institution, the project)."""
    purpose = dict(request.purpose or {})
    if purpose.get("country") is None and request.processing_country:
        purpose["country"] = request.processing_country
    if purpose.get("duration_months") is None and request.requested_months:
        purpose["duration_months"] = request.requested_months
    if purpose.get("ethics_approval") is None and request.ethics_reference:
        purpose["ethics_approval"] = True
    if not purpose.get("users"):
        names = [m.name or m.email for m in request.current_members()]
        if names:
            purpose["users"] = [n[:200] for n in names]
    if purpose.get("institution") is None and request.organisation_id:
        organisation = get_session().get(Organisation, request.organisation_id)
        if organisation is not None:
            purpose["institution"] = organisation.name[:200]
    if purpose.get("project") is None and request.title:
        purpose["project"] = request.title[:200]
    return purpose


def eligibility_rule() -> str:
    rule = str(current_app.config.get("ACCESS_ELIGIBILITY") or "any")
    return rule if rule in ELIGIBILITY_RULES else "any"


def check_eligibility(request: AccessRequest) -> None:
    """The alliance's rule (config ``ACCESS_ELIGIBILITY``): ``any`` (default) lets every
    researcher apply; ``contributing_organisations`` only members of an organisation that is
    the custodian of at least one published dataset.

    :raises Forbidden: (403) saying why, when the applicant may not apply.
    """
    if eligibility_rule() != "contributing_organisations":
        return
    organisation_id = request.organisation_id or getattr(request.applicant, "organisation_id", None)
    contributes = organisation_id is not None and get_session().scalar(
        select(Dataset.id)
        .where(
            Dataset.organisation_id == organisation_id, Dataset.status == DatasetStatus.PUBLISHED
        )
        .limit(1)
    )
    if not contributes:
        raise Forbidden(
            "Only members of organisations that contribute data to the alliance may apply for "
            "access: your organisation is not the custodian of any published dataset. Ask the "
            "HARMONY office about becoming a data-contributing partner."
        )


def committee_for(dataset_ids: Iterable[str]) -> DataAccessCommittee:
    """The committee that reviews a request for these datasets: the one each is assigned to
    (:class:`DatasetCommittee`), the default committee for those assigned to none. Datasets
    of different committees go to the default committee.

    :raises Conflict: (409) when no committee is assigned and none is the default.
    """
    session = get_session()
    ids = sorted(set(dataset_ids))
    assigned = (
        dict(
            session.execute(
                select(DatasetCommittee.dataset_id, DatasetCommittee.committee_id).where(
                    DatasetCommittee.dataset_id.in_(ids)
                )
            ).all()
        )
        if ids
        else {}
    )
    default = session.scalar(
        select(DataAccessCommittee)
        .where(DataAccessCommittee.is_default.is_(True))
        .order_by(DataAccessCommittee.created_at, DataAccessCommittee.id)
        .limit(1)
    )
    chosen = {assigned.get(i, default.id if default else None) for i in ids}
    if len(chosen) == 1 and None not in chosen:
        committee = session.get(DataAccessCommittee, next(iter(chosen)))
        if committee is not None:
            return committee
    if default is not None:
        return default
    raise Conflict(
        "No data access committee reviews these datasets: an administrator must mark one "
        "committee as the default (or assign the datasets to a committee) before requests "
        "can be submitted."
    )


def run_checks(request: AccessRequest, only: Iterable[str] | None = None) -> list[RequestDataset]:
    """Run the consent check of the request's purpose against each requested dataset's
    current conditions (``only``: those dataset ids) and store the outcome, the reasons, the
    obligations, the conditions' revision and the ontology versions. No commit. Returns the
    items whose outcome changed.

    :raises InvalidInput: (``purpose.<field>``) when the purpose is not complete.
    """
    from governance.matching.schemas import PurposeSchema
    from governance.matching.services import check_purpose

    try:
        purpose = PurposeSchema().load(purpose_for_check(request))
    except ValidationError as exc:
        raise InvalidInput(_prefixed("purpose", exc.messages)) from None
    wanted = set(only) if only is not None else None
    changed: list[RequestDataset] = []
    now = utcnow()
    for item in request.datasets:
        if wanted is not None and item.dataset_id not in wanted:
            continue
        before = item.check_outcome
        try:
            answer = check_purpose(SYSTEM, purpose, dataset=item.dataset.identifier)
        except InvalidInput as exc:  # no conditions (any more): a person must look
            item.check_outcome = "needs_review"
            item.check_reasons = [
                {"rule": "conditions", "outcome": "needs_review", "message": exc.detail}
            ]
            item.check_obligations = []
            item.check_conditions_revision = None
            item.check_ontology_versions = {}
        else:
            item.check_outcome = answer.outcome
            item.check_reasons = [dataclasses.asdict(r) for r in answer.reasons]
            item.check_obligations = [dataclasses.asdict(o) for o in answer.obligations]
            item.check_conditions_revision = answer.conditions_revision
            item.check_ontology_versions = dict(answer.ontology_versions)
        item.checked_at = now
        if before != item.check_outcome:
            changed.append(item)
    return changed


def prepare_submission(step: Step) -> None:
    """The rule and effect of ``submit`` (draft or returned → submitted), in the workflow's
    transaction (no commit): every field a committee needs (422 naming each missing one), the
    eligibility rule (403), each dataset still requestable (422 ``datasets[i]``), a new review
    round, the consent checks, the committee (409 when there is none), each dataset's state
    (``pending_signoff`` where an agreement in effect asks for the custodian's sign-off,
    ``requested`` otherwise), the recusals, and the notifications (committee; custodians whose
    sign-off is needed), which are mailed after the commit.

    :raises InvalidInput: (422) by field.
    :raises Forbidden: (403) the eligibility rule.
    :raises Conflict: (409) no committee.
    """
    from governance.agreements.services import covering_agreements

    request: AccessRequest = step.obj
    errors = completeness(request)
    if errors:
        raise InvalidInput(
            errors,
            detail="The request is not complete: " + ", ".join(sorted(errors)) + ".",
        )
    check_eligibility(request)
    check_datasets(
        step.actor if is_user(step.actor) else SYSTEM,
        [{"dataset": d.dataset_id, "variables": d.variables} for d in request.datasets],
    )
    committee = committee_for(request.dataset_ids)
    request.committee_id = committee.id
    request.round = (request.round or 0) + 1
    run_checks(request)
    covering = covering_agreements(request.dataset_ids)
    now = utcnow()
    signoffs: dict[str, list[str]] = {}  # organisation id → dataset identifiers
    for item in request.datasets:
        agreements = covering.get(item.dataset_id, [])
        needing = [a for a in agreements if a.requires_custodian_signoff]
        chosen = needing[0] if needing else (agreements[0] if agreements else None)
        item.agreement_id = chosen.id if chosen else None
        item.signoff_required = bool(needing)
        item.state = DatasetState.PENDING_SIGNOFF if needing else DatasetState.REQUESTED
        item.state_changed_at = now
        item.override_justification = None
        item.override_by_id = None
        item.override_at = None
        if needing:
            signoffs.setdefault(item.dataset.organisation_id, []).append(item.dataset.identifier)
    get_session().flush()
    _record_recusals(request)
    step.after.update(
        {
            "round": request.round,
            "committee_id": committee.id,
            "datasets": {
                d.dataset.identifier: {"state": d.state.value, "check": d.check_outcome}
                for d in request.datasets
            },
        }
    )
    step.context.setdefault("committee", committee.name)
    step.payload.setdefault("committee_id", committee.id)
    _notify_submission(request, committee, signoffs)


def _record_recusals(request: AccessRequest) -> None:
    """The review's automatic recusals (governance.review), once that sub-area is there."""
    try:
        from governance.review import services as review
    except ImportError:  # the review sub-area is being built alongside
        return
    record = getattr(review, "record_recusals", None)
    if record is not None:
        record(request)


def committee_member_ids(committee_id: str) -> list[str]:
    return list(
        get_session().scalars(
            select(RoleGrant.user_id)
            .where(
                RoleGrant.committee_id == committee_id,
                RoleGrant.role.in_([Role.DAC_MEMBER, Role.DAC_CHAIR]),
            )
            .distinct()
        )
    )


def custodian_ids(organisation_id: str) -> list[str]:
    return list(
        get_session().scalars(
            select(RoleGrant.user_id)
            .where(RoleGrant.organisation_id == organisation_id, RoleGrant.role == Role.CUSTODIAN)
            .distinct()
        )
    )


def _notify_submission(
    request: AccessRequest, committee: DataAccessCommittee, signoffs: Mapping[str, list[str]]
) -> None:
    """In-app notifications (mailed after the commit): the committee's members and chair, and
    the custodians whose sign-off is needed."""
    from core.notifications import notify

    link = f"/review/{request.id}"  # the committee's page of the request
    again = request.round > 1
    notify(
        committee_member_ids(committee.id),
        kind="access_request.submitted",
        subject=f"{request.reference} {'resubmitted' if again else 'submitted'}: {request.title}"[
            :200
        ],
        body=(
            f"{request.applicant.name} {'resubmitted' if again else 'submitted'} the access "
            f"request “{request.title}” ({request.reference}) for "
            f"{plural(len(request.datasets), 'dataset')}. It waits for the {committee.name}."
        ),
        link=link,
        object_type="access_request",
        object_id=request.id,
    )
    for organisation_id, identifiers in signoffs.items():
        notify(
            custodian_ids(organisation_id),
            kind="access_request.signoff_needed",
            subject=f"Sign-off needed: {request.reference}",
            body=(
                f"The access request “{request.title}” ({request.reference}) asks for "
                f"{', '.join(identifiers)}. Your organisation's agreement asks you to sign it "
                "off (or decline, with a reason) before the committee decides."
            ),
            link=f"/review/{request.id}",  # where the sign-off form is
            object_type="access_request",
            object_id=request.id,
        )


# --- when a dataset's conditions change -----------------------------------------------------


def recheck_on_conditions_change(event: events.Event) -> None:
    """In the transaction that changed a dataset's data-use conditions: run the check again
    for every open request that asks for the dataset, and record it in the audit trail."""
    dataset_id = event.payload.get("dataset_id")
    if not dataset_id:
        return
    session = get_session()
    requests = list(
        session.scalars(
            select(AccessRequest)
            .where(
                AccessRequest.state.in_(list(OPEN_STATES)),
                AccessRequest.id.in_(
                    select(RequestDataset.request_id).where(RequestDataset.dataset_id == dataset_id)
                ),
            )
            .order_by(AccessRequest.id)
        )
    )
    for request in requests:
        item = next((d for d in request.datasets if d.dataset_id == dataset_id), None)
        if item is None:
            continue
        before = item.check_outcome
        try:
            run_checks(request, only=[dataset_id])
        except InvalidInput:  # a purpose that no longer loads: leave the stored check
            continue
        audit.record(
            SYSTEM,
            "access_request.rechecked",
            "access_request",
            request.id,
            before={"check": {item.dataset.identifier: before}},
            after={"check": {item.dataset.identifier: item.check_outcome}},
            summary=(
                f"The data-use conditions of {item.dataset.identifier} changed (revision "
                f"{event.payload.get('revision')}); the check ran again: {item.check_outcome}."
            ),
            context={"reference": request.reference, "dataset": item.dataset.identifier},
        )


def register() -> None:
    """The sub-area's event subscribers."""
    events.subscribe("data_use.changed", recheck_on_conditions_change)
    events.subscribe_after_commit(INVITED_EVENT, INVITATION_MAILER, mail_invitation)
