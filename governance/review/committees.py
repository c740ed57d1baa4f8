"""Which committee reviews requests for a dataset: the one it is assigned to, or the default
committee. Administrators assign (``PUT /api/v1/datasets/{id}/committee``, or the form on the
dataset page); anyone who sees the dataset may read it. Each change is on the dataset's history
in the audit trail."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from catalogue.datasets.services import get_dataset
from core import audit
from core.db import get_session
from core.errors import InvalidInput
from core.models import DataAccessCommittee
from core.permissions import Permission
from core.policies import Actor, require
from governance.requests.models import DatasetCommittee


@dataclass
class Assignment:
    dataset: str  # the dataset's identifier
    committee_id: str | None  # the committee reviewing its requests (None: none at all)
    committee_name: str | None
    assigned: bool  # False: the default committee, by default


def default_committee() -> DataAccessCommittee | None:
    return get_session().scalar(
        select(DataAccessCommittee)
        .where(DataAccessCommittee.is_default.is_(True))
        .order_by(DataAccessCommittee.created_at, DataAccessCommittee.id)
        .limit(1)
    )


def assignment_of(actor: Actor, identifier: str) -> Assignment:
    """:raises NotFound: for a dataset the caller may not see."""
    dataset = get_dataset(actor, identifier)
    row = get_session().get(DatasetCommittee, dataset.id)
    committee = (
        get_session().get(DataAccessCommittee, row.committee_id) if row else default_committee()
    )
    return Assignment(
        dataset.identifier,
        committee.id if committee else None,
        committee.name if committee else None,
        row is not None,
    )


def assign(actor: Actor, identifier: str, committee_id: str | None) -> Assignment:
    """Assign the dataset to a committee (``None``: back to the default committee).

    :raises NotFound: for a dataset the caller may not see.
    :raises Forbidden: for anyone but an administrator.
    :raises InvalidInput: (422 naming ``committee_id``) for a committee that does not exist.
    """
    dataset = get_dataset(actor, identifier)
    require(actor, Permission.COMMITTEE_UPDATE)
    session = get_session()
    committee = None
    if committee_id:
        committee = session.get(DataAccessCommittee, committee_id)
        if committee is None:
            raise InvalidInput.field("committee_id", "No such committee.")
    row = session.get(DatasetCommittee, dataset.id)
    before = row.committee_id if row else None
    after = committee.id if committee else None
    if before != after:
        if row is not None and committee is None:
            session.delete(row)
        elif row is None:
            session.add(DatasetCommittee(dataset_id=dataset.id, committee_id=after))
        else:
            row.committee_id = after  # type: ignore[assignment]
        audit.record(
            actor,
            "dataset.committee_changed",
            "dataset",
            dataset.id,
            before={"committee_id": before},
            after={"committee_id": after},
            summary=(
                f"Access requests are now reviewed by “{committee.name}”."
                if committee
                else "Access requests are reviewed by the default committee again."
            ),
        )
    session.commit()
    return assignment_of(actor, identifier)


def committees_for_choice() -> list[tuple[str, str]]:
    found = get_session().scalars(select(DataAccessCommittee).order_by(DataAccessCommittee.name))
    return [(c.id, c.name) for c in found]


def dataset_panel(actor: Actor, dataset: Any, _version: Any = None) -> dict[str, Any] | None:
    """The dataset page's line on who reviews its requests (with the form for administrators)."""
    from core.policies import can, is_user

    if not is_user(actor):
        return None
    found = assignment_of(actor, dataset.identifier)
    editable = can(actor, Permission.COMMITTEE_UPDATE)
    return {
        "assignment": found,
        "choices": committees_for_choice() if editable else [],
        "editable": editable,
    }
