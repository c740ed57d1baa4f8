"""Keeping the index current, and rebuilding it.

:func:`dataset_changed` is called by :func:`catalogue.datasets.touch` — the one place every
change of a dataset passes through (edits, imports, mapping changes, publishing, new versions,
retiring) — inside the change's transaction, so the index commits or rolls back with it.
Deleting a draft needs no call: the index rows go with the version (``ON DELETE CASCADE``;
on SQLite the FTS5 tables follow through their triggers).

How much is redone depends on the change: a metadata edit rewrites the document row only, a
mapping change only the terms the version has variables for, anything else (a dictionary
import, publishing, a new version) the version's variables as well.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from sqlalchemy import delete, func, insert, select, update

from catalogue import coverage
from catalogue.markdown import plain_summary
from catalogue.models import (
    Dataset,
    DatasetDisease,
    DatasetStatus,
    DatasetVersion,
    Variable,
    VersionStatus,
)
from catalogue.search import text
from catalogue.search.backends import backend_for
from catalogue.search.models import (
    SearchDocument,
    SearchDocumentTerm,
    SearchVariable,
    SearchWord,
)
from core.db import get_session
from ontologies.text import normalise

BATCH = 2000
PLAIN_LENGTH = 1_000_000  # the whole description
#: a document keeps at most this many distinct variable keys (a tsvector holds at most 1 MB)
MAX_VARIABLE_KEYS = 50_000

Progress = Callable[[int, int], None]  # (datasets done, datasets in all)


# --- what a change redoes -------------------------------------------------------------------

METADATA_ONLY = frozenset({"updated"})


def dataset_changed(dataset: Dataset, version: DatasetVersion | None, action: str) -> None:
    """Bring the dataset's documents up to date after ``action`` (the history's action name)
    on ``version`` (None: the dataset as a whole, e.g. retired)."""
    if action in METADATA_ONLY:
        sync_dataset(dataset)
    elif action.startswith("mapping"):
        sync_dataset(dataset, terms_of=version)
    else:
        sync_dataset(dataset, variables_of=version, terms_of=version)


def indexed_versions(dataset: Dataset) -> list[DatasetVersion]:
    """The versions of a dataset that are documents: its published version (unless retired)
    and its open draft."""
    if dataset.status is DatasetStatus.RETIRED:
        return []
    return [
        v for v in dataset.versions if v.status in (VersionStatus.PUBLISHED, VersionStatus.DRAFT)
    ]


def sync_dataset(
    dataset: Dataset,
    *,
    variables_of: DatasetVersion | None = None,
    terms_of: DatasetVersion | None = None,
) -> None:
    """Write the dataset's documents and drop those of versions that are no longer
    searchable. The variables (and the terms they cover) are read again for ``variables_of``,
    the terms only for ``terms_of``; a version indexed for the first time is indexed whole."""
    session = get_session()
    session.flush()
    wanted = indexed_versions(dataset)
    wanted_ids = {v.id for v in wanted}
    existing = dict(
        session.execute(
            select(SearchDocument.version_id, SearchDocument.id).where(
                SearchDocument.dataset_id == dataset.id
            )
        ).all()
    )
    gone = [version_id for version_id in existing if version_id not in wanted_ids]
    if gone:
        session.execute(delete(SearchDocument).where(SearchDocument.version_id.in_(gone)))
        session.execute(delete(SearchVariable).where(SearchVariable.version_id.in_(gone)))
    has_draft = any(v.status is VersionStatus.DRAFT for v in wanted)
    published_words: set[str] = set()
    for version in wanted:
        row = _document_row(dataset, version, has_draft)
        document_id = existing.get(version.id)
        fresh = document_id is None
        if fresh:
            document_id = session.execute(
                insert(SearchDocument).values(row).returning(SearchDocument.id)
            ).scalar_one()
        else:
            session.execute(
                update(SearchDocument).where(SearchDocument.id == document_id).values(row)
            )
        published = version.status is VersionStatus.PUBLISHED
        if fresh or version is variables_of:
            keys, words = _index_variables(version.id)
            session.execute(
                update(SearchDocument)
                .where(SearchDocument.id == document_id)
                .values(text_variables=" ".join(keys))
            )
            if published:
                published_words |= words
        if fresh or version is variables_of or version is terms_of:
            _index_terms([(document_id, version.id)], replace=not fresh)
        if published:
            published_words |= _metadata_words(version)
    if published_words:
        add_words(published_words)


def _document_row(dataset: Dataset, version: DatasetVersion, has_draft: bool) -> dict[str, Any]:
    is_draft = version.status is VersionStatus.DRAFT
    updated = (version.modified_at if is_draft else version.published_at) or version.modified_at
    return document_row(
        dataset_id=dataset.id,
        organisation_id=dataset.organisation_id,
        version=version,
        diseases=[d.term_curie for d in version.diseases],
        is_draft=is_draft,
        has_draft=has_draft and not is_draft,
        updated_at=updated,
    )


def document_row(
    *,
    dataset_id: str,
    organisation_id: str,
    version: Any,
    diseases: Sequence[str],
    is_draft: bool,
    has_draft: bool,
    updated_at: dt.datetime,
) -> dict[str, Any]:
    """The document columns of a version (everything but its variables' keys). ``version``:
    a DatasetVersion or a row with the same attributes."""
    keywords = list(version.keywords or [])
    return {
        "version_id": version.id,
        "dataset_id": dataset_id,
        "organisation_id": organisation_id,
        "is_draft": is_draft,
        "has_draft": has_draft,
        "title": version.title[:300],
        "title_key": normalise(version.title)[:300],
        "patients": version.patients,
        "updated_at": updated_at,
        "source_type": _value(version.source_type),
        "data_model": _value(version.data_model),
        "countries": as_set(c.upper() for c in version.countries or []),
        "age_groups": as_set(version.age_groups or []),
        "diseases": as_set(diseases),
        "description": plain_summary(version.description, length=PLAIN_LENGTH),
        "text_title": text.index_text(version.title),
        "text_keywords": text.index_text(*keywords),
        "text_description": text.index_text(version.description),
    }


def as_set(values: Iterable[str]) -> str:
    """A space-delimited set, with spaces at both ends so that ``LIKE '% X %'`` finds X."""
    items = sorted({v for v in values if v})
    return " " + " ".join(items) + " " if items else " "


def _value(member: Any) -> Any:
    return getattr(member, "value", member)


def _metadata_words(version: DatasetVersion) -> set[str]:
    return vocabulary_words([version.title, version.description, *(version.keywords or [])])


def vocabulary_words(texts: Iterable[str | None]) -> set[str]:
    """The words of ``texts`` worth correcting a misspelling to: alphabetic, four letters or
    more, not stopwords, spelling folded (not stemmed: a correction is shown to the user)."""
    found = set()
    for piece in texts:
        for word in text.words(piece):
            if 4 <= len(word) <= text.MAX_WORD and word.isalpha() and word not in text.STOPWORDS:
                found.add(text.fold_spelling(word))
    return found


def _index_variables(version_id: str) -> tuple[list[str], set[str]]:
    """Rewrite the search rows of a version's variables; returns the version's distinct keys
    (for its document) and its vocabulary words."""
    session = get_session()
    session.execute(delete(SearchVariable).where(SearchVariable.version_id == version_id))
    keys: dict[str, None] = {}
    words: set[str] = set()
    rows = session.execute(
        select(Variable.id, Variable.name, Variable.label, Variable.description)
        .where(Variable.version_id == version_id)
        .order_by(Variable.position)
    )
    batch: list[dict[str, Any]] = []
    for variable_id, name, label, description in rows:
        row = variable_row(variable_id, version_id, name, label, description)
        batch.append(row)
        if len(keys) < MAX_VARIABLE_KEYS:
            for column in ("text_name", "text_label", "text_description"):
                keys.update(dict.fromkeys(row[column].split()))
        words |= vocabulary_words((name, label, description))
        if len(batch) >= BATCH:
            session.execute(insert(SearchVariable), batch)
            batch = []
    if batch:
        session.execute(insert(SearchVariable), batch)
    return list(keys)[:MAX_VARIABLE_KEYS], words


def variable_row(
    variable_id: int, version_id: str, name: str, label: str | None, description: str | None
) -> dict[str, Any]:
    return {
        "variable_id": variable_id,
        "version_id": version_id,
        "text_name": text.index_text(name),
        "text_label": text.index_text(label),
        "text_description": text.index_text(description),
    }


def _index_terms(documents: Sequence[tuple[int, str]], *, replace: bool) -> None:
    """The terms each document's version has variables for, by the coverage rule, through the
    hierarchy (every ancestor of a mapped term too), for the "has variables for" facet."""
    session = get_session()
    by_version = {version_id: document_id for document_id, version_id in documents}
    if replace:
        session.execute(
            delete(SearchDocumentTerm).where(
                SearchDocumentTerm.document_id.in_(list(by_version.values()))
            )
        )
    rows = session.execute(coverage_of_versions(list(by_version))).all()
    if rows:
        session.execute(
            insert(SearchDocumentTerm),
            [{"document_id": by_version[v], "term_curie": t} for v, t in rows],
        )


def coverage_of_versions(version_ids: Sequence[str]) -> Any:
    """``(version_id, term)`` for every term each version covers, once — the coverage rule
    (:func:`catalogue.coverage.covering_rows`) read from the mappings' side: every ancestor of
    every mapped term."""
    from catalogue.models import Mapping
    from ontologies.models import TermClosure

    return (
        select(Variable.version_id, TermClosure.ancestor_curie)
        .select_from(Variable)
        .join(Mapping, Mapping.variable_id == Variable.id)
        .join(TermClosure, TermClosure.descendant_curie == Mapping.object_curie)
        .where(
            Variable.version_id.in_(version_ids),
            Mapping.status == coverage.MappingStatus.ACCEPTED,
            Mapping.predicate.in_(coverage.COVERING_PREDICATES),
        )
        .distinct()
    )


def add_words(words: Iterable[str]) -> int:
    """Add words to the vocabulary (those it lacks); returns how many were new."""
    session = get_session()
    wanted = sorted(set(words))
    new: list[str] = []
    for chunk in _chunks(wanted, 900):
        known = set(session.scalars(select(SearchWord.word).where(SearchWord.word.in_(chunk))))
        new.extend(w for w in chunk if w not in known)
    if new:
        _insert_words(new)
    return len(new)


def _insert_words(new: Sequence[str]) -> None:
    session = get_session()
    for chunk in _chunks(list(new), BATCH):
        session.execute(
            insert(SearchWord),
            [
                {"word": w, "key": text.key_of(w) or w, "trigram_count": len(text.trigrams(w))}
                for w in chunk
            ],
        )
        backend_for(session).words_added(session, chunk)


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# --- rebuilding -----------------------------------------------------------------------------


def rebuild_index(progress: Progress | None = None) -> int:
    """Empty the index and index every searchable version again (in an application context;
    commits). Streams: variables are read and written a batch at a time, so memory stays flat
    whatever the catalogue's size. Returns the number of documents written.

    ``progress(done, total)`` is called after each batch of datasets."""
    session = get_session()
    search_backend = backend_for(session)
    started = time.perf_counter()
    session.execute(delete(SearchDocumentTerm))
    session.execute(delete(SearchVariable))
    session.execute(delete(SearchDocument))
    search_backend.clear_words(session)
    session.execute(delete(SearchWord))
    with search_backend.bulk_load(session):
        written, vocabulary = _write_documents(progress)
        _write_variables(written)
        _index_terms_in_bulk(written)
        if vocabulary:
            _insert_words(sorted(vocabulary))
    search_backend.analyze(session)
    session.commit()
    del started
    return len(written)


def _searchable_versions() -> Any:
    """Rows of every version that is a document, with its dataset's columns."""
    return (
        select(
            DatasetVersion,
            Dataset.id.label("dataset_id"),
            Dataset.organisation_id,
            Dataset.status.label("dataset_status"),
        )
        .join(Dataset, Dataset.id == DatasetVersion.dataset_id)
        .where(
            Dataset.status != DatasetStatus.RETIRED,
            DatasetVersion.status.in_([VersionStatus.PUBLISHED, VersionStatus.DRAFT]),
        )
        .order_by(Dataset.id, DatasetVersion.number)
    )


def _write_documents(progress: Progress | None) -> tuple[dict[str, tuple[int, bool]], set[str]]:
    """Document rows of every searchable version (text of the variables added later); returns
    ``{version_id: (document id, published)}`` and the published metadata's vocabulary."""
    session = get_session()
    total = session.scalar(select(func.count()).select_from(Dataset)) or 0
    drafts_of = set(
        session.scalars(
            select(DatasetVersion.dataset_id).where(DatasetVersion.status == VersionStatus.DRAFT)
        )
    )
    diseases: dict[str, list[str]] = {}
    for version_id, curie in session.execute(
        select(DatasetDisease.version_id, DatasetDisease.term_curie).order_by(
            DatasetDisease.version_id, DatasetDisease.position
        )
    ):
        diseases.setdefault(version_id, []).append(curie)
    written: dict[str, tuple[int, bool]] = {}
    vocabulary: set[str] = set()
    batch: list[dict[str, Any]] = []
    seen_datasets: set[str] = set()

    def flush() -> None:
        if not batch:
            return
        ids = session.execute(
            insert(SearchDocument).returning(SearchDocument.id, SearchDocument.version_id),
            batch,
        ).all()
        published = {row["version_id"]: not row["is_draft"] for row in batch}
        for document_id, version_id in ids:
            written[version_id] = (document_id, published[version_id])
        batch.clear()
        if progress is not None:
            progress(len(seen_datasets), total)

    query = _searchable_versions().execution_options(yield_per=BATCH)
    for version, dataset_id, organisation_id, _status in session.execute(query):
        is_draft = version.status is VersionStatus.DRAFT
        updated = (version.modified_at if is_draft else version.published_at) or (
            version.modified_at
        )
        batch.append(
            document_row(
                dataset_id=dataset_id,
                organisation_id=organisation_id,
                version=version,
                diseases=diseases.get(version.id, []),
                is_draft=is_draft,
                has_draft=not is_draft and dataset_id in drafts_of,
                updated_at=updated,
            )
        )
        if not is_draft:
            vocabulary |= _metadata_words(version)
        seen_datasets.add(dataset_id)
        session.expunge(version)
        if len(batch) >= BATCH // 4:
            flush()
    flush()
    if progress is not None:
        progress(total, total)
    return written, vocabulary


def _write_variables(written: dict[str, tuple[int, bool]]) -> None:
    """Every variable of the documents' versions, in variable order, a batch at a time; each
    document's distinct keys are gathered on the way and written when its version ends."""
    session = get_session()
    connection = session.connection()
    version_ids = sorted(written)
    pending: list[dict[str, Any]] = []
    document_keys: list[dict[str, Any]] = []
    for chunk in _chunks(version_ids, 500):
        rows = connection.execution_options(yield_per=BATCH).execute(
            select(
                Variable.version_id,
                Variable.id,
                Variable.name,
                Variable.label,
                Variable.description,
            )
            .where(Variable.version_id.in_(chunk))
            .order_by(Variable.version_id, Variable.position)
        )
        current: str | None = None
        keys: dict[str, None] = {}
        for version_id, variable_id, name, label, description in rows:
            if version_id != current:
                if current is not None:
                    document_keys.append(_keys_row(written, current, keys))
                current, keys = version_id, {}
            row = variable_row(variable_id, version_id, name, label, description)
            pending.append(row)
            if len(keys) < MAX_VARIABLE_KEYS:
                for column in ("text_name", "text_label", "text_description"):
                    keys.update(dict.fromkeys(row[column].split()))
            if len(pending) >= BATCH:
                connection.execute(insert(SearchVariable), pending)
                pending = []
        if current is not None:
            document_keys.append(_keys_row(written, current, keys))
        if len(document_keys) >= 200:
            _write_keys(document_keys)
            document_keys = []
    if pending:
        connection.execute(insert(SearchVariable), pending)
    _write_keys(document_keys)


def _keys_row(written: dict[str, tuple[int, bool]], version_id: str, keys: dict[str, None]):
    return {"b_id": written[version_id][0], "text_variables": " ".join(list(keys))}


def _write_keys(rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    from sqlalchemy import bindparam

    table: Any = SearchDocument.__table__
    get_session().connection().execute(
        update(table)
        .where(table.c.id == bindparam("b_id"))
        .values(text_variables=bindparam("text_variables")),
        rows,
    )


def _index_terms_in_bulk(written: dict[str, tuple[int, bool]]) -> None:
    session = get_session()
    items = [(document_id, version_id) for version_id, (document_id, _p) in written.items()]
    for chunk in _chunks(items, 500):
        _index_terms(chunk, replace=False)
    del session
