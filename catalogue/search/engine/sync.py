"""The search engine of an application, kept in step with the search index (the database
stays the source of truth).

- **After each commit.** A transaction that changes search documents notes their datasets in
  ``session.info`` (:func:`note_datasets`: the indexer's ``sync_dataset``, a deleted dataset
  or version, :func:`refresh_datasets` for the fields other areas add); once it commits, the
  datasets' documents are read again and written to the engine (deleted ones removed), by a
  thread of the process within a few milliseconds; a rolled-back transaction writes nothing.
  Under tests (``TESTING``) there is no thread: the next search writes them first.
- **Missed changes.** Every write gives a document a new random ``revision``; every
  ``SEARCH_ENGINE_SYNC_SECONDS`` the count and sum of revisions are compared with the engine's
  (one small statement): a process that died between a commit and its write shows there, and
  the documents whose revision differs are written again (a difference still there after a
  short grace, so that a write in flight in another process is not done twice). Check mode
  (``SEARCH_ENGINE_CHECK``) compares before every search.
- **No index** (never built, deleted, built with other fields): searches are answered with
  SQL, and the engine is rebuilt from the search index (by a thread; under tests at once).

Engine errors never fail a search: :mod:`catalogue.search.services` answers with SQL and logs.
"""

from __future__ import annotations

import atexit
import importlib
import logging
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask, current_app, has_app_context
from sqlalchemy import event, update
from sqlalchemy.orm import Session

from catalogue.search.engine import documents as projection
from catalogue.search.engine.base import Engine, EngineDocument, EngineQuery, Terms
from core.config import ConfigError
from core.db import get_session

log = logging.getLogger("harmony.search.engine")

STATE = "harmony_search_engine"  # app.extensions key
PENDING = "harmony_search_engine_pending"  # session.info key: dataset ids changed
ENGINES = ("embedded", "sql", "opensearch")
OPENSEARCH = "catalogue.search.engine.opensearch"
#: a difference found by the periodic check is repaired when it is still there this much later
GRACE_SECONDS = 2.0
#: a difference larger than this is rebuilt rather than repaired document by document
REPAIR_LIMIT = 2000
WRITE_BATCH = 500


# --- the engine of an application -----------------------------------------------------------


def make_engine(app: Flask) -> Engine | None:
    """The engine ``SEARCH_ENGINE`` names (None for ``sql``).

    :raises ConfigError: for an unknown engine, or ``opensearch`` without its adapter.
    """
    config = app.config
    kind = str(config.get("SEARCH_ENGINE") or "embedded").strip().lower()
    if kind == "sql":
        return None
    if kind == "embedded":
        from catalogue.search.engine.embedded import EmbeddedEngine

        return EmbeddedEngine(engine_path(app))
    if kind == "opensearch":
        try:
            module = importlib.import_module(OPENSEARCH)
            adapter = module.OpenSearchEngine
        except (ImportError, AttributeError) as exc:
            raise ConfigError(
                f"SEARCH_ENGINE=opensearch needs {OPENSEARCH}.OpenSearchEngine, which does not "
                f"load here ({exc}); use embedded or sql"
            ) from exc
        from_config = getattr(adapter, "from_config", None)
        engine: Engine = from_config(config) if from_config is not None else adapter()
        return engine
    raise ConfigError(f"SEARCH_ENGINE must be one of {', '.join(ENGINES)}, not {kind!r}")


def engine_path(app: Flask) -> Path:
    """``SEARCH_ENGINE_PATH``, by default ``<instance>/search-engine``; under tests, when not
    set, a temporary folder of this application (in memory where /dev/shm is), removed at
    exit."""
    configured = app.config.get("SEARCH_ENGINE_PATH")
    if configured:
        return Path(configured)
    if app.testing:
        shm = Path("/dev/shm")  # noqa: S108 - a private mkdtemp folder inside it
        folder = Path(
            tempfile.mkdtemp(prefix="harmony-search-engine-", dir=shm if shm.is_dir() else None)
        )
        atexit.register(shutil.rmtree, folder, True)
        app.config["SEARCH_ENGINE_PATH"] = str(folder)
        return folder
    return Path(app.instance_path) / "search-engine"


@dataclass
class EngineState:
    """An application's engine and what keeps it in step (one per application)."""

    app: Flask
    engine: Engine | None
    background: bool  # a thread writes changes and checks; else the next search does
    check: bool
    interval: float
    pending: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)  # guards pending
    working: threading.RLock = field(default_factory=threading.RLock)  # one writer at a time
    wake: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None
    checked_at: float = 0.0
    check_due: bool = False
    rebuild_due: bool = False
    #: the engine is being rebuilt or repaired wholesale: searches answer with SQL meanwhile
    stale: bool = False
    #: a difference seen by the last check, to repair if it is still there after the grace
    suspect: dict[int, int | None] = field(default_factory=dict)

    # --- noting changes -------------------------------------------------------------------

    def enqueue(self, dataset_ids: Iterable[str]) -> None:
        with self.lock:
            self.pending.update(dataset_ids)
        if self.background:
            self._start()
            self.wake.set()

    def flush_at_exit(self) -> None:
        """A command that commits and ends at once: its changes are written before the process
        ends (the thread is a daemon)."""
        if not self.pending or self.engine is None:
            return
        try:
            with self.app.app_context(), self.working:
                self.flush()
        except Exception:
            log.exception("the search engine missed changes at exit (the next check repairs)")

    def take(self) -> set[str]:
        with self.lock:
            taken, self.pending = self.pending, set()
        return taken

    # --- the thread ----------------------------------------------------------------------

    def _start(self) -> None:
        if self.thread is not None and self.thread.is_alive():
            return
        with self.lock:
            if self.thread is not None and self.thread.is_alive():
                return
            self.thread = threading.Thread(target=self._run, name="search-engine-sync", daemon=True)
            self.thread.start()
            atexit.register(self.flush_at_exit)

    def _run(self) -> None:
        while True:
            self.wake.wait(timeout=self.interval)
            self.wake.clear()
            try:
                with self.app.app_context():
                    self.work(grace=True)
            except Exception:
                log.exception("the search engine could not be brought in step")
                time.sleep(1.0)

    def work(self, *, grace: bool) -> None:
        """Everything due: a rebuild a search asked for, the changes committed, the periodic
        check."""
        engine = self.engine
        if engine is None:
            return
        with self.working:
            if self.rebuild_due:
                self.rebuild_due = False
                self._rebuild_quietly()
                return
            if engine.count() == -1:
                # nothing to write into: the rebuild that a search starts reads the database
                # (a command that commits, such as loading the demo, builds nothing itself)
                self.take()
                return
            self.flush()
            if self.check_due or time.monotonic() - self.checked_at >= self.interval:
                self.check_due = False
                self.check_in_step(grace=grace)

    # --- writing -------------------------------------------------------------------------

    def flush(self) -> int:
        """Write the documents of the datasets changed by committed transactions (read now,
        from this transaction's view). A failed write puts them back for the next try."""
        taken = self.take()
        if not taken or self.engine is None:
            return 0
        try:
            return write_datasets(self.engine, sorted(taken))
        except Exception:
            with self.lock:
                self.pending |= taken
            raise

    def check_in_step(self, *, grace: bool) -> int:
        """Compare the fingerprints; where they differ, write again the documents whose
        revision differs (with ``grace``: only those that differed at the previous check
        too) and remove those the database no longer has. Returns how many were written."""
        engine = self.engine
        self.checked_at = time.monotonic()
        fingerprint = getattr(engine, "fingerprint", None)
        stamps = getattr(engine, "stamps", None)
        if engine is None or fingerprint is None or stamps is None:
            return 0
        if fingerprint() == projection.fingerprint():
            self.suspect = {}
            return 0
        database = projection.stamps()
        held = stamps()
        differ: dict[int, int | None] = {i: r for i, r in database.items() if held.get(i) != r} | {
            i: None for i in held if i not in database
        }
        if grace:
            # repair only what differed, the same way, at the previous check too: a change
            # committed a moment ago may still be on its way from another process
            previous, self.suspect = self.suspect, differ
            confirmed = {i: r for i, r in differ.items() if i in previous and previous[i] == r}
            if len(confirmed) < len(differ):
                self.check_due = True
                threading.Timer(GRACE_SECONDS, self.wake.set).start()
            differ = confirmed
        if len(differ) > REPAIR_LIMIT:
            self._rebuild_quietly()
            return len(differ)
        written = [i for i, r in differ.items() if r is not None]
        gone = [i for i, r in differ.items() if r is None]
        if written or gone:
            log.info(
                "search engine out of step: %d documents written again, %d removed",
                len(written),
                len(gone),
            )
        write_documents(engine, written, gone)
        for i in differ:
            self.suspect.pop(i, None)
        return len(differ)

    def _rebuild_quietly(self) -> None:
        self.stale = True
        try:
            rebuild_engine(self, None, wait=not self.background)
        finally:
            self.stale = False


_CREATING = threading.Lock()


def state(app: Flask | None = None) -> EngineState:
    """The application's :class:`EngineState` (made at its first use).

    :raises ConfigError: for a ``SEARCH_ENGINE`` that cannot be made.
    """
    app = app if app is not None else current_app._get_current_object()  # type: ignore[attr-defined]
    found: EngineState | None = app.extensions.get(STATE)
    if found is not None:
        return found
    with _CREATING:
        found = app.extensions.get(STATE)
        if found is None:
            found = EngineState(
                app=app,
                engine=make_engine(app),
                background=not app.testing,
                check=bool(app.config.get("SEARCH_ENGINE_CHECK")),
                interval=float(app.config.get("SEARCH_ENGINE_SYNC_SECONDS") or 5),
            )
            app.extensions[STATE] = found
    return found


def get_engine() -> Engine | None:
    """The application's search engine (None when ``SEARCH_ENGINE=sql``)."""
    return state().engine


def engine_for_search() -> Engine | None:
    """The engine a search may ask now, or None when the SQL statement must answer: no engine
    configured, no index (a rebuild is started), or a rebuild or wholesale repair running.
    Under tests the changes committed are written first, and in check mode the engine is
    compared with the database before every search."""
    current = state()
    engine = current.engine
    if engine is None:
        return None
    if not current.background:
        with current.working:
            if engine.count() == -1:
                current._rebuild_quietly()
                return None  # this search is answered with SQL, the next ones by the engine
            current.flush()
            if current.check or time.monotonic() - current.checked_at >= current.interval:
                current.check_in_step(grace=False)
        return engine
    if current.stale:
        return None
    if engine.count() == -1:
        current.rebuild_due = True
        current._start()
        current.wake.set()
        return None
    if time.monotonic() - current.checked_at >= current.interval or current.pending:
        current._start()
        current.wake.set()
    return engine


# --- writing documents ----------------------------------------------------------------------


def write_documents(engine: Engine, document_ids: list[int], deleted: list[int]) -> None:
    """Write these documents as the database has them now (those it no longer has are
    removed) and remove ``deleted``, a batch at a time."""
    ids = sorted(set(document_ids))
    gone = set(deleted)
    for start in range(0, max(len(ids), 1), WRITE_BATCH):
        chunk = ids[start : start + WRITE_BATCH]
        found = projection.documents(chunk) if chunk else []
        missing = set(chunk) - {d.id for d in found}
        removed = sorted(missing | gone) if start == 0 else sorted(missing)
        engine.write(found, removed)


def write_datasets(engine: Engine, dataset_ids: list[str]) -> int:
    """Write the documents of these datasets as the database has them now, and remove those
    the engine holds for them that the database no longer has (a discarded draft, a deleted
    dataset)."""
    written = 0
    for start in range(0, len(dataset_ids), WRITE_BATCH):
        chunk = dataset_ids[start : start + WRITE_BATCH]
        found = projection.documents_of_datasets(chunk)
        held = engine.search(
            EngineQuery(filter=Terms("dataset_id", tuple(chunk)), sort="title", limit=10_000)
        ).ids
        keep = {d.id for d in found}
        engine.write(found, [i for i in held if i not in keep])
        written += len(found)
    return written


# --- rebuilding -----------------------------------------------------------------------------


def _stream(counted: list[int]) -> Iterator[EngineDocument]:
    for batch in projection.all_documents():
        for document in batch:
            counted[0] += 1
            yield document


def rebuild_engine(
    current: EngineState,
    progress: Callable[[int, int], None] | None,
    *,
    wait: bool = True,
) -> int | None:
    """Rebuild the engine from the search index (this transaction's view), then write what
    changed meanwhile. None when another process is rebuilding already (``wait`` False)."""
    engine = current.engine
    if engine is None:
        return 0
    total = projection.count_documents()
    counted = [0]
    started = time.perf_counter()
    try_rebuild = getattr(engine, "try_rebuild", None)
    if not wait and try_rebuild is not None:
        written = try_rebuild(lambda: _stream(counted))
        if written is None:
            return None
    else:

        def reported(done: int) -> None:
            if progress is not None:
                progress(done, total)

        written = engine.rebuild(_stream(counted), reported)
    log.info(
        "search engine rebuilt: %d documents in %.1f s", written, time.perf_counter() - started
    )
    current.take()  # what the rebuild read already holds them
    current.check_in_step(grace=False)  # what committed while it read
    return written


def rebuild(progress: Callable[[int, int], None] | None = None) -> int:
    """Rebuild the application's engine from the search index (its tables, not the
    catalogue: ``harmony catalogue reindex --engine-only``); in an application context.
    ``progress(done, total)`` now and then. Returns the number of documents written (0 when
    ``SEARCH_ENGINE=sql``)."""
    current = state()
    with current.working:
        current.stale = current.engine is not None and current.engine.count() == -1
        try:
            return rebuild_engine(current, progress) or 0
        finally:
            current.stale = False


# --- noting changes in the transaction ------------------------------------------------------


def note_datasets(dataset_ids: Iterable[str], session: Session | None = None) -> None:
    """These datasets' documents are to be written to the engine once the transaction
    commits."""
    ids = {str(i) for i in dataset_ids if i}
    if ids:
        (session or get_session()).info.setdefault(PENDING, set()).update(ids)


def refresh_datasets(dataset_ids: Iterable[str]) -> None:
    """For other areas whose engine fields (:func:`~.base.register_fields`) changed: these
    datasets' documents get a new revision now, in the caller's transaction, and are written
    to the engine once it commits (nothing when it rolls back)."""
    from catalogue.search.models import SearchDocument, new_revision

    ids = sorted({str(i) for i in dataset_ids if i})
    if not ids:
        return
    session = get_session()
    for start in range(0, len(ids), WRITE_BATCH):
        session.execute(
            update(SearchDocument)
            .where(SearchDocument.dataset_id.in_(ids[start : start + WRITE_BATCH]))
            .values(revision=new_revision())
        )
    note_datasets(ids, session)


def _deleted_datasets(session: Session, _context: Any, _instances: Any) -> None:
    """A dataset or version deleted in the session: its documents go by cascade, without the
    indexer; the engine must drop them too."""
    if not session.deleted:
        return
    from catalogue.models import Dataset, DatasetVersion

    ids = set()
    for obj in session.deleted:
        if isinstance(obj, Dataset):
            ids.add(obj.id)
        elif isinstance(obj, DatasetVersion):
            ids.add(obj.dataset_id)
    note_datasets(ids, session)


def _committed(session: Session) -> None:
    ids = session.info.pop(PENDING, None)
    if not ids or not has_app_context():
        return
    current = current_app.extensions.get(STATE)
    if current is None:
        try:
            current = state()
        except ConfigError:
            return
    if current.engine is not None:
        current.enqueue(ids)


def _rolled_back(session: Session, previous: Any) -> None:
    if previous.parent is None:  # the outermost transaction, not a savepoint
        session.info.pop(PENDING, None)


_LISTENING = threading.Lock()
_listening = False


def listen() -> None:
    """Install the session listeners (once per process)."""
    global _listening
    with _LISTENING:
        if _listening:
            return
        event.listen(Session, "before_flush", _deleted_datasets)
        event.listen(Session, "after_commit", _committed)
        event.listen(Session, "after_soft_rollback", _rolled_back)
        _listening = True


def init_app(app: Flask) -> None:
    """Check the configuration (a wrong ``SEARCH_ENGINE`` stops the start) and follow the
    transactions."""
    state(app)
    listen()
