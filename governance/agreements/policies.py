"""Who sees and manages data-sharing agreements.

- Custodians manage their organisation's agreements (create, edit, activate, amend, terminate,
  upload and download the signed document); administrators manage all of them.
- Any logged-in user sees that an agreement exists once it left the draft stage — its
  reference, custodian, datasets, status, dates and obligations — but not its document or
  signatories (the "public view"). Drafts are seen by their managers only (404 for anyone
  else). Anonymous callers see no agreement (a dataset's page says whether, and until when,
  it can be requested).
- Expiry happens by date: only the system (the periodic job) expires an agreement, and
  superseding happens when an amendment is activated (see the workflow).

The rules are put in force by :func:`register`, which the sub-area's ``init_app`` calls.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, or_, true

from core.models import Role
from core.permissions import Permission
from core.policies import Actor, Rules, SystemActor, is_admin, is_user
from governance.agreements.models import Agreement, AgreementStatus

rules = Rules()


def register() -> None:
    """Put the agreements' rules in force."""
    rules.register()


def managed_organisations(actor: Actor) -> frozenset[str] | None:
    """The organisations whose agreements ``actor`` manages: None for all of them
    (administrators, the command line), the organisations they are custodians of otherwise."""
    if isinstance(actor, SystemActor) or is_admin(actor):
        return None
    if is_user(actor):
        return frozenset(actor.custodian_of())  # type: ignore[union-attr]
    return frozenset()


def manages(actor: Actor, organisation_id: str | None) -> bool:
    own = managed_organisations(actor)
    return own is None or (organisation_id is not None and organisation_id in own)


def visible_agreements(actor: Actor) -> ColumnElement[bool]:
    """A condition on :class:`Agreement`: what ``actor`` sees in lists (no drafts of other
    organisations; nothing for anonymous callers)."""
    own = managed_organisations(actor)
    if own is None:
        return true()
    if not is_user(actor):
        return Agreement.id.is_(None)
    public = Agreement.status != AgreementStatus.DRAFT
    if not own:
        return public
    return or_(public, Agreement.organisation_id.in_(sorted(own)))


@rules(Permission.AGREEMENT_READ)
def _read(actor: Actor, agreement: Any) -> bool:
    if not is_user(actor):
        return False
    if agreement is None:
        return True  # the list: each item is checked on its own
    return agreement.status is not AgreementStatus.DRAFT or manages(
        actor, agreement.organisation_id
    )


@rules(Permission.AGREEMENT_READ_FULL)
def _read_full(actor: Actor, agreement: Any) -> bool:
    return agreement is not None and manages(actor, agreement.organisation_id)


@rules(Permission.AGREEMENT_MANAGE)
def _manage(actor: Actor, obj: Any) -> bool:
    """``obj``: an agreement, an organisation id (may the actor create agreements for it), or
    None (may the actor create agreements at all)."""
    if is_admin(actor):
        return True
    if not is_user(actor):
        return False
    if obj is None:
        return actor.has_role(Role.CUSTODIAN)  # type: ignore[union-attr]
    organisation_id = obj if isinstance(obj, str) else getattr(obj, "organisation_id", None)
    return manages(actor, organisation_id)
