"""The search index's documents as an engine holds them (:class:`~.base.EngineDocument`): a
projection of ``search_documents``, their texts (keys), disease rows and term rows, plus the
fields other areas register (:data:`~.base.PROVIDERS`).

Read a batch at a time, never the whole catalogue at once: a rebuild streams every document
(:func:`all_documents`), a change reads a few datasets' (:func:`documents_of_datasets`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import select

from catalogue.search.engine.base import PROVIDERS, EngineDocument
from catalogue.search.models import (
    SearchDocument,
    SearchDocumentDisease,
    SearchDocumentTerm,
    SearchDocumentText,
)
from core.db import get_session

#: documents read per batch: their variables' keys are up to 50,000 words each
BATCH = 500
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MICROSECOND = dt.timedelta(microseconds=1)


def visibility(is_draft: bool, has_draft: bool) -> str:
    """The ``visibility`` field (see :func:`~.base.visible`)."""
    if is_draft:
        return "draft"
    return "published_with_draft" if has_draft else "published"


def microseconds(moment: dt.datetime) -> int:
    """Microseconds since the epoch, UTC (exact: no float on the way)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return (moment - EPOCH) // _MICROSECOND


def _members(value: str | None) -> list[str]:
    return (value or "").split()


def _one(value: str | None) -> list[str]:
    return [] if value is None else [value]


def documents(document_ids: Sequence[int]) -> list[EngineDocument]:
    """The documents with these ids that exist (in no particular order), their fields complete
    (other areas' too)."""
    session = get_session()
    d = SearchDocument.__table__
    t = SearchDocumentText.__table__
    ids = sorted(set(document_ids))
    if not ids:
        return []
    rows = session.execute(
        select(
            d.c.id,
            d.c.version_id,
            d.c.dataset_id,
            d.c.organisation_id,
            d.c.is_draft,
            d.c.has_draft,
            d.c.title_key,
            d.c.patients,
            d.c.updated_at,
            d.c.source_type,
            d.c.data_model,
            d.c.countries,
            d.c.age_groups,
            d.c.diseases,
            d.c.variable_groups,
            d.c.revision,
            t.c.text_title,
            t.c.text_keywords,
            t.c.text_description,
            t.c.text_variables,
        )
        .select_from(d)
        .outerjoin(t, t.c.document_id == d.c.id)
        .where(d.c.id.in_(ids))
    ).all()
    diseases: dict[int, list[str]] = {}
    for document_id, curie in session.execute(
        select(SearchDocumentDisease.document_id, SearchDocumentDisease.term_curie)
        .where(SearchDocumentDisease.document_id.in_(ids))
        .order_by(SearchDocumentDisease.document_id, SearchDocumentDisease.term_curie)
    ).all():
        diseases.setdefault(document_id, []).append(curie)
    terms: dict[int, list[str]] = {}
    for document_id, curie in session.execute(
        select(SearchDocumentTerm.document_id, SearchDocumentTerm.term_curie)
        .where(SearchDocumentTerm.document_id.in_(ids))
        .order_by(SearchDocumentTerm.document_id, SearchDocumentTerm.term_curie)
    ).all():
        terms.setdefault(document_id, []).append(curie)
    out = [_document(row, diseases.get(row.id, []), terms.get(row.id, [])) for row in rows]
    _add_provided(out)
    return out


def _document(row: Any, diseases: list[str], terms: list[str]) -> EngineDocument:
    updated: dt.datetime = row.updated_at
    if isinstance(updated, str):  # a raw SQLite value read without the column's type
        updated = dt.datetime.fromisoformat(updated)
    return EngineDocument(
        id=row.id,
        fields={
            "title": row.text_title or "",
            "keywords": row.text_keywords or "",
            "description": row.text_description or "",
            "variables": row.text_variables or "",
            "visibility": [visibility(bool(row.is_draft), bool(row.has_draft))],
            "dataset_id": [row.dataset_id],
            "version_id": [row.version_id],
            "organisation_id": [row.organisation_id],
            "source_type": _one(row.source_type),
            "data_model": _one(row.data_model),
            "country": _members(row.countries),
            "age_group": _members(row.age_groups),
            "disease": diseases,
            "term": terms,
            "countries_set": [row.countries if row.countries is not None else " "],
            "age_groups_set": [row.age_groups if row.age_groups is not None else " "],
            "diseases_set": [row.diseases if row.diseases is not None else " "],
            "variable_groups_set": [
                row.variable_groups if row.variable_groups is not None else " "
            ],
            "title_key": [row.title_key],
            "patients": row.patients,
            "updated_at": microseconds(updated),
            "revision": int(row.revision or 0),
        },
    )


def _add_provided(batch: list[EngineDocument]) -> None:
    """The fields other areas add (data-use terms, agreements …), for the whole batch at once."""
    if not batch:
        return
    for provider in PROVIDERS:
        provided = provider(batch)
        for document in batch:
            document.fields.update(provided.get(document.id, {}))


def document_ids_of_datasets(dataset_ids: Sequence[str]) -> list[int]:
    """The ids of the documents of these datasets (their published version and open draft)."""
    session = get_session()
    found: list[int] = []
    wanted = sorted(set(dataset_ids))
    for start in range(0, len(wanted), BATCH):
        found.extend(
            session.scalars(
                select(SearchDocument.id).where(
                    SearchDocument.dataset_id.in_(wanted[start : start + BATCH])
                )
            )
        )
    return sorted(found)


def documents_of_datasets(dataset_ids: Sequence[str]) -> list[EngineDocument]:
    """The documents of these datasets as they are now (none for a deleted or retired one)."""
    ids = document_ids_of_datasets(dataset_ids)
    return [d for start in range(0, len(ids), BATCH) for d in documents(ids[start : start + BATCH])]


def all_documents(batch: int = BATCH) -> Iterator[list[EngineDocument]]:
    """Every document of the search index, a batch at a time (in id order)."""
    ids = list(get_session().scalars(select(SearchDocument.id).order_by(SearchDocument.id)))
    for start in range(0, len(ids), batch):
        yield documents(ids[start : start + batch])


def count_documents() -> int:
    from sqlalchemy import func

    return int(get_session().scalar(select(func.count()).select_from(SearchDocument)) or 0)


def stamps() -> dict[int, int]:
    """Every document's id and revision, as the database has them."""
    rows = get_session().execute(select(SearchDocument.id, SearchDocument.revision)).all()
    return {int(i): int(r or 0) for i, r in rows}


def fingerprint() -> tuple[int, int]:
    """``(documents, sum of revisions)`` as the database has them (one small statement)."""
    from sqlalchemy import func

    count, total = (
        get_session()
        .execute(select(func.count(), func.coalesce(func.sum(SearchDocument.revision), 0)))
        .one()
    )
    return int(count), int(total)
