"""Which dataset versions a caller's question runs over.

Researchers' questions (the variable-level question, feasibility, coverage) see what the dataset
pages show them: the published version of every published dataset, and — for the custodians of
the owning organisation and for administrators — the open draft in its place. Retired datasets
and other organisations' drafts are never in scope. Who sees which drafts is
:mod:`catalogue.policies`' rule.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, and_, exists, select, union_all
from sqlalchemy.orm import aliased

from catalogue import policies
from catalogue.models import Dataset, DatasetStatus, DatasetVersion, VersionStatus
from catalogue.search.models import SearchDocument
from core.policies import Actor


def published_versions() -> Select[str, str]:
    """``(version_id, dataset_id)`` of the published version of every published dataset."""
    return (
        select(DatasetVersion.id.label("version_id"), Dataset.id.label("dataset_id"))
        .join(Dataset, Dataset.id == DatasetVersion.dataset_id)
        .where(
            Dataset.status == DatasetStatus.PUBLISHED,
            DatasetVersion.status == VersionStatus.PUBLISHED,
        )
    )


def visible_versions(actor: Actor) -> Select[str, str]:
    """``(version_id, dataset_id)``, one row per dataset in the caller's scope."""
    own = policies.draft_organisations(actor)
    published = published_versions()
    if own is not None and not own:
        return published
    draft_version = aliased(DatasetVersion)
    in_own = Dataset.organisation_id.in_(sorted(own)) if own is not None else None
    has_draft = exists(
        select(1).where(
            draft_version.dataset_id == Dataset.id, draft_version.status == VersionStatus.DRAFT
        )
    )
    replaced = has_draft if in_own is None else and_(in_own, has_draft)
    drafts = (
        select(DatasetVersion.id.label("version_id"), Dataset.id.label("dataset_id"))
        .join(Dataset, Dataset.id == DatasetVersion.dataset_id)
        .where(
            DatasetVersion.status == VersionStatus.DRAFT, Dataset.status != DatasetStatus.RETIRED
        )
    )
    if in_own is not None:
        drafts = drafts.where(in_own)
    combined = union_all(published.where(~replaced), drafts).subquery("scope")
    return select(combined.c.version_id, combined.c.dataset_id)


def visible_documents(actor: Actor) -> Any:
    """The same scope over the search index's documents (one per published version and per
    open draft; retired datasets have none): a condition on :class:`SearchDocument`.
    ``tests/catalogue/standards/test_scope.py`` checks that it selects exactly the versions of
    :func:`visible_versions`."""
    return policies.current_documents(policies.draft_organisations(actor), SearchDocument)
