"""Who may do what with datasets.

Published and retired datasets are public; drafts are visible to the custodians of the owning
organisation and to administrators, who are also the only ones who change a dataset (its
metadata, dictionary, mappings and lifecycle).
"""

from __future__ import annotations

from typing import Any

from catalogue.models import DatasetStatus
from core.models import Role
from core.permissions import Permission
from core.policies import Actor, is_admin, is_user, rule


def _custodian_of(actor: Actor, organisation_id: str | None) -> bool:
    return (
        is_user(actor) and organisation_id is not None and organisation_id in actor.custodian_of()  # type: ignore[union-attr]
    )


@rule(Permission.DATASET_READ)
def _read(actor: Actor, dataset: Any) -> bool:
    if dataset is None:
        return True  # the list: each item is checked on its own
    if dataset.status is not DatasetStatus.DRAFT:
        return True
    return is_admin(actor) or _custodian_of(actor, dataset.organisation_id)


@rule(Permission.DATASET_READ_DRAFT, Permission.DATASET_UPDATE)
def _custodian_or_admin(actor: Actor, dataset: Any) -> bool:
    return dataset is not None and (
        is_admin(actor) or _custodian_of(actor, dataset.organisation_id)
    )


@rule(Permission.DATASET_CREATE)
def _create(actor: Actor, organisation_id: Any) -> bool:
    if is_admin(actor):
        return True
    if organisation_id is None:  # "may this actor create datasets at all?"
        return is_user(actor) and actor.has_role(Role.CUSTODIAN)  # type: ignore[union-attr]
    return _custodian_of(actor, organisation_id)


@rule(Permission.STANDARD_SET_MANAGE, Permission.EXACT_COUNTS, Permission.SEARCH_REINDEX)
def _admin_only(actor: Actor, _obj: Any = None) -> bool:
    return is_admin(actor)
