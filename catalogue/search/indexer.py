"""Keeping the index current, and rebuilding it.

:func:`dataset_changed` follows every change of a dataset (edits, imports, mapping changes,
publishing, new versions, retiring): :func:`subscribe` makes it an in-transaction subscriber of
the ``dataset.*`` change events (:mod:`core.events`) that the lifecycle and
:func:`catalogue.datasets.services.record_change` announce, so the index commits or rolls back
with the change.
Deleting a draft needs no call: the index rows go with the version (``ON DELETE CASCADE``;
on SQLite the FTS5 tables follow through their triggers).

How much is redone depends on the change: a metadata edit rewrites the document row only, a
mapping change only the terms the version has variables for, anything else (a dictionary
import, publishing, a new version) the version's variables as well.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import bindparam, delete, insert, select, update

from catalogue.datasets.markdown import plain_summary
from catalogue.mappings import coverage
from catalogue.models import (
    Dataset,
    DatasetDisease,
    DatasetStatus,
    DatasetVersion,
    Mapping,
    Variable,
    VersionStatus,
)
from catalogue.search import text
from catalogue.search.backends import backend_for
from catalogue.search.engine import sync
from catalogue.search.models import (
    SearchDocument,
    SearchDocumentDisease,
    SearchDocumentTerm,
    SearchDocumentText,
    SearchVariable,
    SearchVariableMapping,
    SearchWord,
    new_revision,
)
from core import events
from core.db import get_session, insert_rows, vacuum_analyze
from ontologies.models import TermClosure, TermEdge
from ontologies.text import normalise

BATCH = 2000
PLAIN_LENGTH = 1_000_000  # the whole description
#: a document keeps at most this many distinct variable keys (a tsvector holds at most 1 MB)
MAX_VARIABLE_KEYS = 50_000

Progress = Callable[[int, int], None]  # (versions done, versions in all)
VERSIONS_PER_READ = 500


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


def on_dataset_event(event: events.Event) -> None:
    """The ``dataset.<action>`` change event, as :func:`dataset_changed` takes it (the event's
    ``version`` is the number of the version changed; none: the dataset as a whole)."""
    dataset = get_session().get(Dataset, event.object_id)
    if dataset is None or dataset in get_session().deleted:
        return  # a deleted draft: its index rows go with it
    number = event.payload.get("version")
    version = next((v for v in dataset.versions if v.number == number), None)
    dataset_changed(dataset, version, event.name.removeprefix("dataset."))


def subscribe() -> None:
    """Follow every change of a dataset in its transaction, and have the search engine follow
    the commits (:mod:`catalogue.search.engine.sync`); called by the catalogue's ``init_app``."""
    events.subscribe("dataset.*", on_dataset_event)
    sync.listen()


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
    sync.note_datasets([dataset.id], session)  # the search engine writes them after the commit
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
        row, texts = _document_row(dataset, version, has_draft)
        document_id = existing.get(version.id)
        fresh = document_id is None
        if fresh:
            document_id = session.execute(
                insert(SearchDocument).values(row).returning(SearchDocument.id)
            ).scalar_one()
            session.execute(insert(SearchDocumentText).values(document_id=document_id, **texts))
        else:
            session.execute(
                update(SearchDocument).where(SearchDocument.id == document_id).values(row)
            )
            session.execute(
                update(SearchDocumentText)
                .where(SearchDocumentText.document_id == document_id)
                .values(texts)
            )
        published = version.status is VersionStatus.PUBLISHED
        if fresh or version is variables_of:
            collected = _index_variables(version.id, vocabulary=published)
            session.execute(
                update(SearchDocumentText)
                .where(SearchDocumentText.document_id == document_id)
                .values(text_variables=collected.document_keys())
            )
            published_words |= collected.words
        document = cast(int, document_id)  # found, or inserted just now
        _index_diseases([document])
        if fresh or version is variables_of or version is terms_of:
            _index_terms([(document, version.id)], replace=not fresh)
        if published:
            published_words |= _metadata_words(version)
    if published_words:
        add_words(published_words)


def _document_row(
    dataset: Dataset, version: DatasetVersion, has_draft: bool
) -> tuple[dict[str, Any], dict[str, Any]]:
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
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The columns of a version's document and of its text (everything but its variables'
    keys). ``version``: a DatasetVersion or a row with the same attributes."""
    keywords = list(version.keywords or [])
    document = {
        "version_id": version.id,
        "dataset_id": dataset_id,
        "organisation_id": organisation_id,
        "is_draft": is_draft,
        "has_draft": has_draft,
        "title_key": normalise(version.title)[:300],
        "patients": version.patients,
        "updated_at": updated_at,
        "source_type": _value(version.source_type),
        "data_model": _value(version.data_model),
        "countries": as_set(c.upper() for c in version.countries or []),
        "age_groups": as_set(version.age_groups or []),
        "diseases": as_set(diseases),
        "revision": new_revision(),
    }
    texts = {
        "description": plain_summary(version.description, length=PLAIN_LENGTH),
        "text_title": text.index_text(version.title),
        "text_keywords": text.index_text(*keywords),
        "text_description": text.index_text(version.description),
    }
    return document, texts


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
            if (entry := _vocabulary_entry(word)) is not None:
                found.add(entry)
    return found


@lru_cache(maxsize=100_000)
def _vocabulary_entry(word: str) -> str | None:
    if 4 <= len(word) <= text.MAX_WORD and word.isalpha() and word not in text.STOPWORDS:
        return text.fold_spelling(word)
    return None


@lru_cache(maxsize=20_000)
def _field(value: str | None) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    """A variable's name, label or description as ``(keys text, keys, vocabulary words)``;
    dictionaries repeat labels and descriptions a lot, so each distinct text is read once."""
    found = text.words(value)
    keys = tuple(k for w in found if (k := text.key_of(w)) is not None)
    vocabulary = tuple(e for w in found if (e := _vocabulary_entry(w)) is not None)
    return " ".join(keys), keys, vocabulary


class VersionText:
    """A version's variables as the index stores them: a row per variable, the version's
    distinct keys (its document's variables column) and, for published versions, their
    vocabulary words."""

    COLUMNS = ("variable_id", "version_id", "text_name", "text_label", "text_description")

    def __init__(self, version_id: str, *, vocabulary: bool):
        self.version_id = version_id
        self.vocabulary = vocabulary
        self.keys: dict[str, None] = {}
        self.words: set[str] = set()

    def row(
        self, variable_id: int, name: str, label: str | None, description: str | None
    ) -> tuple[Any, ...]:
        """The values of :data:`COLUMNS` for one variable."""
        texts = []
        for value in (name, label, description):
            joined, keys, vocabulary = _field(value)
            texts.append(joined)
            if len(self.keys) < MAX_VARIABLE_KEYS:
                self.keys.update(dict.fromkeys(keys))
            if self.vocabulary:
                self.words.update(vocabulary)
        return (variable_id, self.version_id, *texts)

    def document_keys(self) -> str:
        return " ".join(list(self.keys)[:MAX_VARIABLE_KEYS])


def _index_variables(version_id: str, *, vocabulary: bool) -> VersionText:
    """Bring the search rows of a version's variables up to date: only the rows whose text
    changed are written again (a re-imported dictionary of 100,000 variables with one label
    changed rewrites one row, not 100,000, with their full-text index entries)."""
    session = get_session()
    stored = {
        variable_id: (name, label, description)
        for variable_id, name, label, description in session.execute(
            select(
                SearchVariable.variable_id,
                SearchVariable.text_name,
                SearchVariable.text_label,
                SearchVariable.text_description,
            ).where(SearchVariable.version_id == version_id)
        )
    }
    collected = VersionText(version_id, vocabulary=vocabulary)
    rows = session.execute(
        select(Variable.id, Variable.name, Variable.label, Variable.description)
        .where(Variable.version_id == version_id)
        .order_by(Variable.position)
    ).all()
    fresh: list[tuple[Any, ...]] = []
    replaced: list[int] = []
    for row in rows:
        values = collected.row(*row)
        before = stored.pop(values[0], None)
        if before == values[2:]:
            continue
        if before is not None:
            replaced.append(values[0])
        fresh.append(values)
    for chunk in _chunks([*stored, *replaced], 500):  # what is left of stored is gone
        session.execute(delete(SearchVariable).where(SearchVariable.variable_id.in_(chunk)))
    if fresh:
        insert_rows(SearchVariable, VersionText.COLUMNS, fresh, convert=False)
    return collected


def _index_terms(documents: Sequence[tuple[int, str]], *, replace: bool) -> None:
    """The terms each document's version has variables for, by the coverage rule, through the
    hierarchy (every ancestor of a mapped term too), and the groups among them (the terms
    without a parent) on the document."""
    session = get_session()
    by_version = {version_id: document_id for document_id, version_id in documents}
    if replace:
        session.execute(
            delete(SearchDocumentTerm).where(
                SearchDocumentTerm.document_id.in_(list(by_version.values()))
            )
        )
        session.execute(
            delete(SearchVariableMapping).where(
                SearchVariableMapping.document_id.in_(list(by_version.values()))
            )
        )
    _index_variable_mappings(list(by_version.values()))
    rows = session.execute(coverage_of_versions(list(by_version))).all()
    if rows:
        session.execute(
            insert(SearchDocumentTerm),
            [{"document_id": by_version[v], "term_curie": t} for v, t in rows],
        )
    covered = sorted({t for _v, t in rows})
    below: set[str] = set()
    for chunk in _chunks(covered, 900):
        below.update(
            session.scalars(select(TermEdge.child_curie).where(TermEdge.child_curie.in_(chunk)))
        )
    groups: dict[int, set[str]] = {document_id: set() for document_id in by_version.values()}
    for version_id, term in rows:
        if term not in below:
            groups[by_version[version_id]].add(term)
    table: Any = SearchDocument.__table__
    session.connection().execute(
        update(table)
        .where(table.c.id == bindparam("b_id"))
        .values(variable_groups=bindparam("groups")),
        [{"b_id": d, "groups": as_set(g)} for d, g in groups.items()],
    )


def _index_diseases(document_ids: Sequence[int] | None) -> None:
    """Every disease term each document is tagged with and every ancestor of one (all
    documents when ``document_ids`` is None), in one statement."""
    session = get_session()
    d = SearchDocument.__table__
    rows = (
        select(TermClosure.ancestor_curie, d.c.id)
        .select_from(d)
        .join(DatasetDisease, DatasetDisease.version_id == d.c.version_id)
        .join(TermClosure, TermClosure.descendant_curie == DatasetDisease.term_curie)
        .distinct()
    )
    if document_ids is not None:
        ids = list(document_ids)
        session.execute(
            delete(SearchDocumentDisease).where(SearchDocumentDisease.document_id.in_(ids))
        )
        rows = rows.where(d.c.id.in_(ids))
    session.execute(insert(SearchDocumentDisease).from_select(["term_curie", "document_id"], rows))


def _index_variable_mappings(document_ids: Sequence[int] | None) -> None:
    """Each document's variables with a mapping that counts for the coverage rule, and the
    mapping's object (:class:`SearchVariableMapping`; every document when ``document_ids`` is
    None), in one statement."""
    d = SearchDocument.__table__
    rows = (
        select(d.c.id, Mapping.object_curie, Mapping.variable_id)
        .select_from(d)
        .join(Variable, Variable.version_id == d.c.version_id)
        .join(Mapping, Mapping.variable_id == Variable.id)
        .where(
            Mapping.status == coverage.MappingStatus.ACCEPTED,
            Mapping.predicate.in_(coverage.COVERING_PREDICATES),
        )
        .distinct()
    )
    if document_ids is not None:
        rows = rows.where(d.c.id.in_(list(document_ids)))
    get_session().execute(
        insert(SearchVariableMapping).from_select(
            ["document_id", "object_curie", "variable_id"], rows
        )
    )


def coverage_of_versions(version_ids: Sequence[str]) -> Any:
    """``(version_id, term)`` for every term each version covers, once — the coverage rule of
    :mod:`catalogue.coverage` (its statuses and predicates) read from the mappings' side:
    every ancestor of every mapped term."""
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

    ``progress(done, total)`` is called after each batch of versions."""
    session = get_session()
    search_backend = backend_for(session)
    session.execute(delete(SearchDocumentTerm))
    session.execute(delete(SearchVariableMapping))
    session.execute(delete(SearchDocumentDisease))
    session.execute(delete(SearchVariable))
    session.execute(delete(SearchDocumentText))
    session.execute(delete(SearchDocument))
    search_backend.clear_words(session)
    session.execute(delete(SearchWord))
    with search_backend.bulk_load(session):
        written, vocabulary = _write_documents()
        _index_diseases(None)
        vocabulary |= _write_variables(written, progress)
        _index_terms_in_bulk()
        if vocabulary:
            _insert_words(sorted(vocabulary))
    search_backend.analyze(session)
    session.commit()
    return len(written)


def tidy_after_rebuild(lock_timeout_ms: int = 5000) -> bool:
    """PostgreSQL, once a rebuild has committed: VACUUM (FULL, ANALYZE) the index's tables,
    outside the rebuild's own transaction (the command line and the benchmarks call it). The
    rebuild replaced every row while searches went on reading the old ones; rewriting the
    tables drops the old rows' space, which otherwise doubled, then tripled the pages a search
    reads (searches wait for the few seconds the rewrite takes). False when an open
    transaction kept the tables longer than ``lock_timeout_ms``."""
    from catalogue.search.backends import INDEX_TABLES

    return vacuum_analyze(INDEX_TABLES, lock_timeout_ms, full=True)


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


def _write_documents() -> tuple[dict[str, tuple[int, bool]], set[str]]:
    """Document rows of every searchable version (text of the variables added later); returns
    ``{version_id: (document id, published)}`` and the published metadata's vocabulary."""
    session = get_session()
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
    batch: list[tuple[dict[str, Any], dict[str, Any]]] = []

    def flush() -> None:
        if not batch:
            return
        ids = session.execute(
            insert(SearchDocument).returning(SearchDocument.id, SearchDocument.version_id),
            [row for row, _texts in batch],
        ).all()
        by_version = {row["version_id"]: (row, texts) for row, texts in batch}
        for document_id, version_id in ids:
            written[version_id] = (document_id, not by_version[version_id][0]["is_draft"])
        session.execute(
            insert(SearchDocumentText),
            [
                {"document_id": written[version_id][0], **by_version[version_id][1]}
                for _id, version_id in ids
            ],
        )
        batch.clear()

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
        session.expunge(version)
        if len(batch) >= BATCH // 4:
            flush()
    flush()
    return written, vocabulary


def _write_variables(written: dict[str, tuple[int, bool]], progress: Progress | None) -> set[str]:
    """Every variable of the documents' versions, some hundred versions at a time (read, then
    written through COPY or executemany); each document gets its distinct keys. Returns the
    vocabulary of the published versions' variables."""
    session = get_session()
    version_ids = sorted(written)
    vocabulary: set[str] = set()
    done = 0
    for chunk in _chunks(version_ids, VERSIONS_PER_READ):
        rows = session.execute(
            select(
                Variable.version_id,
                Variable.id,
                Variable.name,
                Variable.label,
                Variable.description,
            )
            .where(Variable.version_id.in_(chunk))
            .order_by(Variable.version_id, Variable.position)
        ).all()
        collected: dict[str, VersionText] = {}

        def index_rows(
            rows: Sequence[Any] = rows, collected: dict[str, VersionText] = collected
        ) -> Iterator[tuple[Any, ...]]:
            for version_id, variable_id, name, label, description in rows:
                version = collected.get(version_id)
                if version is None:
                    version = collected[version_id] = VersionText(
                        version_id, vocabulary=written[version_id][1]
                    )
                yield version.row(variable_id, name, label, description)

        insert_rows(SearchVariable, VersionText.COLUMNS, index_rows(), convert=False)
        _write_keys(
            [
                {"b_id": written[v.version_id][0], "text_variables": v.document_keys()}
                for v in collected.values()
            ]
        )
        for version in collected.values():
            vocabulary.update(version.words)
        done += len(chunk)
        if progress is not None:
            progress(done, len(version_ids))
    return vocabulary


def _write_keys(rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    table: Any = SearchDocumentText.__table__
    get_session().connection().execute(
        update(table)
        .where(table.c.document_id == bindparam("b_id"))
        .values(text_variables=bindparam("text_variables")),
        rows,
    )


def _index_terms_in_bulk() -> None:
    """Every document's covered terms in one statement (the database joins the variables,
    their mappings and the closure at once), then each document's groups."""
    session = get_session()
    d = SearchDocument.__table__
    covered = (
        select(TermClosure.ancestor_curie, d.c.id)
        .select_from(d)
        .join(Variable, Variable.version_id == d.c.version_id)
        .join(Mapping, Mapping.variable_id == Variable.id)
        .join(TermClosure, TermClosure.descendant_curie == Mapping.object_curie)
        .where(
            Mapping.status == coverage.MappingStatus.ACCEPTED,
            Mapping.predicate.in_(coverage.COVERING_PREDICATES),
        )
        .distinct()
    )
    session.execute(insert(SearchDocumentTerm).from_select(["term_curie", "document_id"], covered))
    _index_variable_mappings(None)
    roots = select(SearchDocumentTerm.document_id, SearchDocumentTerm.term_curie).where(
        ~select(TermEdge.child_curie)
        .where(TermEdge.child_curie == SearchDocumentTerm.term_curie)
        .exists()
    )
    groups: dict[int, set[str]] = {}
    for document_id, term in session.execute(roots):
        groups.setdefault(document_id, set()).add(term)
    table: Any = SearchDocument.__table__
    rows = [{"b_id": d_id, "groups": as_set(g)} for d_id, g in groups.items()]
    for chunk in _chunks(rows, BATCH):
        session.connection().execute(
            update(table)
            .where(table.c.id == bindparam("b_id"))
            .values(variable_groups=bindparam("groups")),
            chunk,
        )
