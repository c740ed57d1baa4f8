"""Who may do what with datasets, and who sees drafts.

Published and retired datasets are public; drafts are visible to the custodians of the owning
organisation and to administrators, who are also the only ones who change a dataset (its
metadata, dictionary, mappings and lifecycle).

"Who sees drafts" is written here once, in the forms the catalogue asks it in:
:func:`can_see_drafts` for a dataset in hand, :func:`visible_datasets` for a query of datasets
(the dataset list), :func:`current_documents` for a query of the current versions (the search
index: search, the standard sets' questions), and :func:`draft_organisations` beneath them all.
What the catalogue publishes to the world (DCAT, the dashboard) is :func:`public_datasets`: no
draft, whoever asks.

The rules are put in force by :func:`register`, which :func:`catalogue.init_app` calls.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, false, or_, true

from catalogue.models import Dataset, DatasetStatus
from core.models import Role
from core.permissions import Permission
from core.policies import Actor, Rules, SystemActor, is_admin, is_user

rules = Rules()


def register() -> None:
    """Put the catalogue's rules in force (:func:`catalogue.init_app` calls it)."""
    rules.register()


# --- who sees drafts ------------------------------------------------------------------------


def draft_organisations(actor: Actor) -> frozenset[str] | None:
    """The organisations whose drafts ``actor`` sees: None for every organisation's
    (administrators and the command line), an empty set for nobody's (anonymous callers,
    researchers), the organisations they are custodians of for custodians."""
    if isinstance(actor, SystemActor) or is_admin(actor):
        return None
    if is_user(actor):
        return frozenset(actor.custodian_of())  # type: ignore[union-attr]
    return frozenset()


def can_see_drafts(actor: Actor, dataset: Any) -> bool:
    """Whether ``actor`` sees the drafts of ``dataset`` (anything with an
    ``organisation_id``: a dataset, a row): its never-published state and its open draft
    version in place of the published one."""
    own = draft_organisations(actor)
    return own is None or (dataset.organisation_id is not None and dataset.organisation_id in own)


def is_public(dataset: Any) -> bool:
    """Published or retired (a retired dataset keeps its public tombstone)."""
    return dataset.status is not DatasetStatus.DRAFT


def public_datasets() -> ColumnElement[bool]:
    """A condition on :class:`Dataset`: the datasets anybody sees (not drafts)."""
    return Dataset.status != DatasetStatus.DRAFT


def visible_datasets(actor: Actor) -> ColumnElement[bool]:
    """A condition on :class:`Dataset`: every public dataset, and the drafts ``actor`` sees."""
    own = draft_organisations(actor)
    if own is None:
        return true()
    if not own:
        return public_datasets()
    return or_(public_datasets(), Dataset.organisation_id.in_(sorted(own)))


def current_documents(
    own: frozenset[str] | list[str] | None, documents: Any, *, organisations: Any = None
) -> ColumnElement[bool]:
    """A condition on a listing of current versions (the search index's documents: one per
    published version and per open draft; ``has_draft`` marks a published one whose dataset
    has an open draft): the published versions for everybody and, for those who see a
    dataset's drafts, its draft in place of its published version.

    ``own``: :func:`draft_organisations` of the caller. ``documents``: what has the columns
    ``is_draft``, ``has_draft`` and ``organisation_id`` (a model, or a subquery's ``.c``).
    ``organisations``: what stands for ``own`` in the SQL (by default its values; the search
    passes an expanding bound parameter so that one cached statement serves every custodian).
    """
    d = documents
    if own is None:
        return or_(d.is_draft == true(), d.has_draft == false())
    if not own:
        return d.is_draft == false()
    mine = d.organisation_id.in_(sorted(own) if organisations is None else organisations)
    return or_(
        and_(d.is_draft == false(), or_(d.has_draft == false(), ~mine)),
        and_(d.is_draft == true(), mine),
    )


# --- rules ----------------------------------------------------------------------------------


def _custodian_of(actor: Actor, organisation_id: str | None) -> bool:
    return (
        is_user(actor) and organisation_id is not None and organisation_id in actor.custodian_of()  # type: ignore[union-attr]
    )


@rules(Permission.DATASET_READ)
def _read(actor: Actor, dataset: Any) -> bool:
    if dataset is None:
        return True  # the list: each item is checked on its own
    return is_public(dataset) or can_see_drafts(actor, dataset)


@rules(Permission.DATASET_READ_DRAFT, Permission.DATASET_UPDATE)
def _custodian_or_admin(actor: Actor, dataset: Any) -> bool:
    return dataset is not None and can_see_drafts(actor, dataset)


@rules(Permission.DATASET_CREATE)
def _create(actor: Actor, organisation_id: Any) -> bool:
    if is_admin(actor):
        return True
    if organisation_id is None:  # "may this actor create datasets at all?"
        return is_user(actor) and actor.has_role(Role.CUSTODIAN)  # type: ignore[union-attr]
    return _custodian_of(actor, organisation_id)


@rules(Permission.STANDARD_SET_MANAGE, Permission.EXACT_COUNTS, Permission.SEARCH_REINDEX)
def _admin_only(actor: Actor, _obj: Any = None) -> bool:
    return is_admin(actor)
