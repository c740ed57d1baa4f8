"""Who sees and does what with access requests.

- Researchers create requests; the applicant edits, submits, withdraws and amends their own.
- A request is seen by its applicant and current team members (in every state), by the members
  and chair of the committee it went to, by the custodians of the organisations whose datasets
  it asks for, and by administrators — a draft only by its applicant and team (404 for anyone
  else).
- A custodian signs off the requested datasets of their own organisation.
- Members and chairs of the request's committee vote (recusal is a rule of the vote, not of the
  permission); the chair decides and records overrides.
- Entitlements: each user sees their own; the request's committee chair and administrators
  revoke; data platforms (a service account with the ``platform`` role) and administrators ask
  about anyone's.

Put in force by :func:`register` (the sub-area's ``init_app``).
"""

from __future__ import annotations

from typing import Any

from core.models import Role
from core.permissions import Permission
from core.policies import Actor, Rules, SystemActor, is_admin, is_user
from governance.requests.models import AccessRequest, RequestDataset, RequestState

rules = Rules()


def register() -> None:
    rules.register()


def is_team(actor: Actor, request: AccessRequest) -> bool:
    """The applicant or a current team member."""
    if not is_user(actor):
        return False
    user_id = actor.id  # type: ignore[union-attr]
    return request.applicant_id == user_id or any(
        m.user_id == user_id for m in request.current_members()
    )


def on_committee(actor: Actor, request: AccessRequest, *roles: Role) -> bool:
    return (
        is_user(actor)
        and request.committee_id is not None
        and request.committee_id in actor.committees(*roles)  # type: ignore[union-attr]
    )


def custodian_of_any(actor: Actor, request: AccessRequest) -> bool:
    if not is_user(actor):
        return False
    own = actor.custodian_of()  # type: ignore[union-attr]
    return bool(own) and any(d.organisation_id in own for d in request.datasets)


@rules(Permission.ACCESS_REQUEST_CREATE)
def _create(actor: Actor, _obj: Any) -> bool:
    return is_user(actor) and actor.has_role(Role.RESEARCHER)  # type: ignore[union-attr]


@rules(Permission.ACCESS_REQUEST_READ)
def _read(actor: Actor, request: Any) -> bool:
    if not is_user(actor):
        return False
    if request is None:
        return True  # a list: each item is filtered on its own
    if is_team(actor, request):
        return True
    if request.state is RequestState.DRAFT:
        return False
    return is_admin(actor) or on_committee(actor, request) or custodian_of_any(actor, request)


@rules(Permission.ACCESS_REQUEST_APPLY)
def _apply(actor: Actor, request: Any) -> bool:
    if request is None:
        return _create(actor, None)
    return is_user(actor) and request.applicant_id == actor.id  # type: ignore[union-attr]


@rules(Permission.ACCESS_REQUEST_SIGNOFF)
def _signoff(actor: Actor, item: Any) -> bool:
    if not is_user(actor) or not isinstance(item, RequestDataset):
        return False
    return item.organisation_id in actor.custodian_of()  # type: ignore[union-attr]


@rules(Permission.ACCESS_REQUEST_VOTE)
def _vote(actor: Actor, request: Any) -> bool:
    return request is not None and on_committee(actor, request)


def _request_of(obj: Any) -> AccessRequest | None:
    """The request itself, or the request a requested dataset belongs to."""
    if isinstance(obj, RequestDataset):
        from core.db import get_session

        return get_session().get(AccessRequest, obj.request_id)
    return obj if isinstance(obj, AccessRequest) else None


@rules(Permission.ACCESS_REQUEST_DECIDE)
def _decide(actor: Actor, obj: Any) -> bool:
    """The chair of the request's committee (``obj``: the request, or one requested dataset
    of it, for overrides)."""
    request = _request_of(obj)
    return request is not None and on_committee(actor, request, Role.DAC_CHAIR)


@rules(Permission.ACCESS_REQUEST_REVIEW)
def _review(actor: Actor, _obj: Any) -> bool:
    """The committee's queue and dashboard (each committee sees its own requests)."""
    return is_user(actor) and (
        is_admin(actor) or bool(actor.committees())  # type: ignore[union-attr]
    )


@rules(Permission.ACCESS_REQUEST_CLOSE)
def _close(actor: Actor, _obj: Any) -> bool:
    return isinstance(actor, SystemActor)


@rules(Permission.REPORT_SUBMIT)
def _report(actor: Actor, request: Any) -> bool:
    return request is not None and is_team(actor, request)


@rules(Permission.ENTITLEMENT_READ, Permission.VISA_READ)
def _own_entitlements(actor: Actor, user: Any) -> bool:
    """One's own; data platforms and administrators: anyone's."""
    if not is_user(actor):
        return False
    if is_admin(actor) or actor.has_role(Role.PLATFORM):  # type: ignore[union-attr]
        return True
    return user is not None and getattr(user, "id", user) == actor.id  # type: ignore[union-attr]


@rules(Permission.ENTITLEMENT_QUERY)
def _query(actor: Actor, _obj: Any) -> bool:
    return is_user(actor) and (
        is_admin(actor) or actor.has_role(Role.PLATFORM)  # type: ignore[union-attr]
    )


@rules(Permission.ENTITLEMENT_REVOKE)
def _revoke(actor: Actor, entitlement: Any) -> bool:
    """``entitlement`` carries its request as ``entitlement.request`` (or pass the request)."""
    if is_admin(actor):
        return True
    request = getattr(entitlement, "request", entitlement)
    return isinstance(request, AccessRequest) and on_committee(actor, request, Role.DAC_CHAIR)


@rules(Permission.ENTITLEMENT_ACCEPT)
def _accept(actor: Actor, request: Any) -> bool:
    return request is not None and is_team(actor, request)
