"""The embedded search engine: tantivy (a Lucene-class library, in process) over files under
the instance folder. No service to run; several processes (web workers, the job worker, the
command line) share the folder: each reads, one writes at a time (tantivy's lock, waited for
briefly).

Layout of ``SEARCH_ENGINE_PATH``::

    current.json          which index is in use: {"directory": "index-…", "schema": "…"}
    index-<time>-<rand>/  tantivy's files
    rebuild.lock          held while an index is being built

A rebuild writes a new directory, then replaces ``current.json`` (an atomic rename) and
removes the old directory; every process notices the new pointer at its next search (one
``stat``), so searches go on during a rebuild. No pointer, or a pointer to an index built with
other fields, is no index (:meth:`EmbeddedEngine.count` is -1): the service answers with SQL and
has it rebuilt.

**Order.** Relevance is the sum of the query's :class:`~.base.Score` points (constant scores)
plus the text rank, BM25 over the title, keywords and description (weighted 1, 0.4, 0.2, as
PostgreSQL's ``ts_rank`` weighs A-C), scaled below half a point so that it only orders equal
points. tantivy collects the top ``offset + limit`` by that score (or by the sort's field);
the documents that tie on it across the page's end are fetched too (a larger collection), and
the groups on the page are ordered by the rest of the key (updated, title, id) from the fast
fields.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import itertools
import json
import logging
import math
import os
import secrets
import shutil
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tantivy

from catalogue.search.engine.base import (
    AllOf,
    AnyOf,
    Clause,
    Count,
    DeferredCounts,
    EngineDocument,
    EngineQuery,
    EngineResult,
    Everything,
    FieldKind,
    Match,
    MatchCount,
    Not,
    Range,
    RangeCount,
    Terms,
    TermsCount,
    Unsupported,
    all_fields,
)

log = logging.getLogger("harmony.search.engine")

POINTER = "current.json"
REBUILD_LOCK = "rebuild.lock"
#: changes what the files hold without changing the fields: a new number rebuilds every index
FORMAT = 2  # 2: the title's sort number holds 11 characters (was 8 bytes)
TOKENIZER = "keys"  # whitespace only: the index's keys are normalised and stemmed already
# internal fields (not in base.FIELDS)
ID = "engine_id"  # search_documents.id: upserts, deletes, the last tie-break
PATIENTS_SORT = "engine_patients"  # patients, -1 when unknown (sorted last)
TITLE_PREFIX = "engine_title_prefix"  # title_key's first 8 bytes as a number: ties of a sort
#: every text field's keys together: a word "in any field" is one lookup, not four
ALL_TEXT = "engine_all_text"
TEXT_FIELDS = ("title", "keywords", "description", "variables")
#: the text rank: BM25 of these fields, weighted as ts_rank weighs A, B and C
RANK_WEIGHTS = (("title", 1.0), ("keywords", 0.4), ("description", 0.2))
BM25_K1 = 1.2
#: the rank stays below this part of a point, so that it orders only equal points; a document
#: with a rank at all gets at least the floor (well above float rounding), so that a score
#: with no fraction is a document without a rank (see _Ties)
RANK_SHARE = 0.4
RANK_FLOOR = 0.05
#: a group of equal scores is asked for as a query when its points can come from at most
#: this many optional clauses (2^n combinations)
MAX_OPTIONAL_SCORES = 6
INCREMENTAL_HEAP = 15_000_000
REBUILD_HEAP = 256_000_000
#: buckets a terms count may have (tantivy's own limit is 65,000 per aggregation)
MAX_BUCKETS = 60_000
LOCK_WAIT_SECONDS = 15.0
FULL_SCAN_LIMIT = 1_000_000


#: each sort: tantivy's field (None: the score) and direction
SORT_FIELDS: dict[str, tuple[str | None, Any]] = {
    "relevance": (None, tantivy.Order.Desc),
    "updated": ("updated_at", tantivy.Order.Desc),
    "title": (TITLE_PREFIX, tantivy.Order.Asc),  # the whole title breaks its ties
    "patients": (PATIENTS_SORT, tantivy.Order.Desc),
}


_COUNTING: tuple[int, ThreadPoolExecutor] | None = None  # the process id and its threads
_COUNTING_LOCK = threading.Lock()


def _counting_threads() -> ThreadPoolExecutor:
    """The threads that count facets beside the searches of this process (made on first use
    in each process: a forked worker does not inherit its parent's, which have no threads)."""
    global _COUNTING
    with _COUNTING_LOCK:
        if _COUNTING is None or _COUNTING[0] != os.getpid():
            _COUNTING = (
                os.getpid(),
                ThreadPoolExecutor(max_workers=4, thread_name_prefix="search-counts"),
            )
        return _COUNTING[1]


class NoIndex(RuntimeError):
    """The engine holds no index (deleted, never built, or built with other fields)."""


class EngineBusy(RuntimeError):
    """Another process held the index's writer lock for longer than we waited."""


def _schema_signature(fields: dict[str, FieldKind]) -> str:
    described = json.dumps([FORMAT, sorted(fields.items())])
    return hashlib.sha256(described.encode()).hexdigest()[:16]


def _analyzer() -> Any:
    return tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.whitespace()).build()


def _build_schema(fields: dict[str, FieldKind]) -> Any:
    builder = tantivy.SchemaBuilder()
    builder.add_integer_field(ID, stored=False, indexed=True, fast=True)
    builder.add_integer_field(PATIENTS_SORT, stored=False, indexed=False, fast=True)
    builder.add_unsigned_field(TITLE_PREFIX, stored=False, indexed=False, fast=True)
    if _has_all_text(fields):
        builder.add_text_field(
            ALL_TEXT, stored=False, tokenizer_name=TOKENIZER, index_option="basic"
        )
    for name, kind in sorted(fields.items()):
        if kind == "text":
            ranked = name in dict(RANK_WEIGHTS)
            builder.add_text_field(
                name,
                stored=False,
                tokenizer_name=TOKENIZER,
                index_option="freq" if ranked else "basic",
            )
        elif kind == "keyword":
            builder.add_text_field(
                name,
                stored=name == "title_key",
                tokenizer_name="raw",
                index_option="basic",
                fast=True,
            )
        else:
            builder.add_integer_field(name, stored=False, indexed=True, fast=True)
    return builder.build()


#: the title's sort number: each character's symbol, in base :data:`_SYMBOLS` (see title_prefix)
_SYMBOLS = 42
_TITLE_CHARACTERS = 11  # 42 ** 11 < 2 ** 64


def _symbol(character: str) -> tuple[int, bool]:
    """A character's symbol in the title's sort number and whether it is exact (the only
    character of its symbol): space, digits and lowercase letters are; the characters between
    them share a symbol each, in their order."""
    code = ord(character)
    if code == 32:
        return 2, True
    if 48 <= code <= 57:
        return 4 + code - 48, True
    if 97 <= code <= 122:
        return 15 + code - 97, True
    if code < 32:
        return 1, False
    if code < 48:
        return 3, False
    if code < 97:
        return 14, False
    return 41, False


def title_prefix(title_key: str) -> int:
    """A title key's sort number (u64): its first 11 characters in base 42, ordered as the keys
    are (code points, as UTF-8's byte order and SQLite's and PostgreSQL's "C" collation order
    them) — two keys that differ before their 11th character get different numbers unless a
    character other than a space, digit or lowercase letter comes first (the number stops
    there: what follows could order it otherwise). Equal numbers are told apart by the whole
    title (stored), so the number only spares comparing strings: ordering 1,000 hits by a string
    field costs tantivy ~24 ms, by this number 0.3 ms."""
    number = 0
    used = 0
    for character in title_key[:_TITLE_CHARACTERS]:
        symbol, exact = _symbol(character)
        number = number * _SYMBOLS + symbol
        used += 1
        if not exact:
            break
    return number * _SYMBOLS ** (_TITLE_CHARACTERS - used)


@dataclass
class _Opened:
    signature: tuple[int, int, int]  # the pointer file's inode, mtime, size
    directory: Path
    index: Any
    schema: Any
    kinds: dict[str, FieldKind]
    meta: int = 0  # meta.json's mtime when the reader last reloaded

    def fresh(self) -> None:
        """Reload the reader when another process committed (meta.json changed): its write is
        seen at the next search, not when tantivy's own watcher notices."""
        try:
            changed = os.stat(self.directory / "meta.json").st_mtime_ns
        except FileNotFoundError:
            return
        if changed != self.meta:
            self.meta = changed
            self.index.reload()

    @property
    def all_text(self) -> bool:
        """Whether the index has :data:`ALL_TEXT`."""
        return _has_all_text(self.kinds)


def _has_all_text(kinds: dict[str, FieldKind]) -> bool:
    return all(kinds.get(f) == "text" for f in TEXT_FIELDS)


class EmbeddedEngine:
    """tantivy under ``root`` (see the module docstring)."""

    name = "embedded"

    def __init__(self, root: str | Path, *, lock_wait: float = LOCK_WAIT_SECONDS):
        self.root = Path(root)
        self.lock_wait = lock_wait
        self._opened: _Opened | None = None
        self._lock = threading.RLock()
        self._write_lock = threading.Lock()

    # --- the index in use -------------------------------------------------------------------

    def _current(self) -> _Opened | None:
        """The index ``current.json`` points at (opened again when the pointer changed), or
        None."""
        pointer = self.root / POINTER
        try:
            stat = os.stat(pointer)
        except FileNotFoundError:
            self._opened = None
            return None
        signature = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        opened = self._opened
        if opened is not None and opened.signature == signature:
            opened.fresh()
            return opened
        with self._lock:
            opened = self._opened
            if opened is not None and opened.signature == signature:
                return opened
            self._opened = self._open(pointer, signature)
            return self._opened

    def _open(self, pointer: Path, signature: tuple[int, int, int]) -> _Opened | None:
        kinds = all_fields()
        try:
            described = json.loads(pointer.read_text())
            directory = self.root / str(described["directory"])
        except (OSError, ValueError, KeyError, TypeError):
            log.warning("the search engine's pointer %s is unreadable", pointer)
            return None
        if described.get("schema") != _schema_signature(kinds):
            log.info("the search engine's index was built with other fields: it is rebuilt")
            return None
        if not (directory / "meta.json").exists():
            return None
        schema = _build_schema(kinds)
        try:
            index = tantivy.Index(schema, path=str(directory), reuse=True)
        except (OSError, ValueError) as exc:
            log.warning("the search engine's index %s does not open: %s", directory, exc)
            return None
        index.register_tokenizer(TOKENIZER, _analyzer())
        return _Opened(signature, directory, index, schema, kinds)

    def _require(self) -> _Opened:
        opened = self._current()
        if opened is None:
            raise NoIndex(f"no search engine index under {self.root}")
        return opened

    def count(self) -> int:
        opened = self._current()
        if opened is None:
            return -1
        return int(opened.index.searcher().num_docs)

    # --- searching --------------------------------------------------------------------------

    def search(self, query: EngineQuery) -> EngineResult:
        opened = self._require()
        searcher = opened.index.searcher()
        translate = _Translator(opened.schema, opened.kinds, opened.all_text)
        selected = dict(query.facets)
        base = translate(AllOf((query.filter, *selected.values())))
        # tantivy lets go of Python's lock while it searches and counts: the counts are made
        # in another thread while this one finds the page and the service fills it in
        # (query.counts_beside)
        counting: Future[dict[str, list[tuple[str, int]]]]
        if query.counts_beside:
            counting = _counting_threads().submit(
                self._counts, searcher, translate, query, selected
            )
        else:
            counting = Future()
            counting.set_result(self._counts(searcher, translate, query, selected))
        ids, total = self._page(opened, searcher, translate, base, query)
        return EngineResult(ids=ids, total=total, counts=DeferredCounts(counting))

    def _page(
        self,
        opened: _Opened,
        searcher: Any,
        translate: _Translator,
        base: Any,
        query: EngineQuery,
    ) -> tuple[list[int], int]:
        sort = query.sort
        ties: _Ties | None = None
        if sort == "relevance":
            scored, ties = self._scored(searcher, translate, base, query)
        else:
            scored = base
        order_by, order = SORT_FIELDS[sort]
        wanted = query.offset + query.limit
        ceiling = max(int(searcher.num_docs), 1)
        fetch = min(wanted, ceiling) + 1
        result = searcher.search(scored, fetch, count=True, order_by_field=order_by, order=order)
        total = int(result.count)
        if query.offset >= total:
            return [], total
        ids = self._window(
            searcher, scored, sort, query.offset, min(wanted, total), total, result.hits, ties
        )
        return ids, total

    def _window(
        self,
        searcher: Any,
        query: Any,
        sort: str,
        start: int,
        stop: int,
        total: int,
        hits: list[Any] | None = None,
        ties: _Ties | None = None,
    ) -> list[int]:
        """The ids at positions ``[start, stop)`` of ``query``'s hits in the sort's whole order
        (``stop`` at most the number of hits, ``total`` or more). tantivy collects by the first
        key (score or field); documents tying with the last position go on past it: they are
        collected too (a larger collection), or, for relevance, asked for as a group of their
        own in the order that follows (``ties``)."""
        order_by, order = SORT_FIELDS[sort]
        fetch = stop + 1
        if hits is None:
            hits = searcher.search(
                query, fetch, count=False, order_by_field=order_by, order=order
            ).hits
        last = stop - 1
        if len(hits) == fetch and hits[-1][0] == hits[last][0] and ties is not None:
            group = ties.group(hits[last][0])
            if group is not None:
                above = last
                while above > 0 and hits[above - 1][0] == hits[last][0]:
                    above -= 1
                ids = (
                    self._order(searcher, hits[:above], sort, start, above) if start < above else []
                )
                return ids + self._window(
                    searcher, group, "updated", max(start, above) - above, stop - above, total
                )
        while len(hits) == fetch and hits[-1][0] == hits[last][0]:
            fetch = min(fetch * 4, total + 1)
            hits = searcher.search(
                query, fetch, count=False, order_by_field=order_by, order=order
            ).hits
        return self._order(searcher, hits, sort, start, stop)

    def _scored(
        self, searcher: Any, translate: _Translator, base: Any, query: EngineQuery
    ) -> tuple[Any, _Ties]:
        """Relevance as tantivy's score: the points (constant scores) and the text rank
        (:meth:`_rank`); and what finds a group of equal scores (:class:`_Ties`)."""
        Query, Occur = tantivy.Query, tantivy.Occur
        parts: list[tuple[Any, Any]] = [(Occur.Must, Query.const_score_query(base, 0.0))]
        for score in query.scores:
            parts.append(
                (
                    Occur.Should,
                    Query.const_score_query(translate(score.clause), float(score.points)),
                )
            )
        ranked = self._ranked(translate, query.rank_keys)
        if ranked is not None:
            parts.append((Occur.Should, Query.const_score_query(translate(ranked), RANK_FLOOR)))
            parts.append((Occur.Should, self._rank(searcher, translate, query.rank_keys)))
        return Query.boolean_query(parts), _Ties(translate, base, query, ranked)

    @staticmethod
    def _ranked(translate: _Translator, keys: Sequence[str]) -> Clause | None:
        """The documents that have a text rank: one of ``keys`` in a ranked field."""
        fields = [f for f, _w in RANK_WEIGHTS if translate.kinds.get(f) == "text"]
        keys = tuple(dict.fromkeys(keys))
        if not keys or not fields:
            return None
        return AnyOf(tuple(Match(f, keys) for f in fields))

    def _rank(self, searcher: Any, translate: _Translator, keys: Sequence[str]) -> Any:
        """BM25 of ``keys`` in the ranked fields, scaled so that, with :data:`RANK_FLOOR`, it
        stays below :data:`RANK_SHARE` of a point whatever the documents (a bound of BM25: each
        key and field gives at most idf * (k1 + 1), idf at most ln(1 + N / 1.5))."""
        keys = list(dict.fromkeys(keys))
        fields = [(f, w) for f, w in RANK_WEIGHTS if translate.kinds.get(f) == "text"]
        documents = 4 * int(searcher.num_docs) + 16  # deleted documents count in idf too
        bound = math.log(1 + documents / 1.5) * (BM25_K1 + 1)
        ceiling = bound * len(keys) * sum(w for _f, w in fields)
        scale = (RANK_SHARE - RANK_FLOOR) / ceiling
        parts = [
            (
                tantivy.Occur.Should,
                tantivy.Query.boost_query(
                    tantivy.Query.term_query(translate.schema, field, key, index_option="freq"),
                    weight * scale,
                ),
            )
            for field, weight in fields
            for key in keys
        ]
        return tantivy.Query.boolean_query(parts)

    def _order(self, searcher: Any, hits: list[Any], sort: str, start: int, stop: int) -> list[int]:
        """The ids at ``[start, stop)`` of ``hits``, which are ordered by their first key only
        and hold every document of each group of equal first keys they reach into: the
        groups reaching into the window are ordered by the rest of the sort's key."""
        first_key, last_key = hits[start][0], hits[stop - 1][0]
        begin = start
        while begin > 0 and hits[begin - 1][0] == first_key:
            begin -= 1
        end = stop - 1
        while end + 1 < len(hits) and hits[end + 1][0] == last_key:
            end += 1
        window = hits[begin : end + 1]
        addresses = [a for _k, a in window]
        ids = searcher.fast_field_values(ID, addresses)
        updated = (
            searcher.fast_field_values("updated_at", addresses)
            if sort in ("relevance", "updated")
            else [0] * len(addresses)
        )
        prefixes = searcher.fast_field_values(TITLE_PREFIX, addresses)
        first = [-k if sort in ("relevance", "patients") else 0 for k, _a in window]
        rows = [
            [f, -(u or 0), p or 0, "", i, a]
            for f, u, p, i, a in zip(first, updated, prefixes, ids, addresses, strict=True)
        ]
        self._full_titles(searcher, rows)
        rows.sort(key=lambda r: (r[0], r[1], r[2], r[3], r[4]))
        ordered = [r[4] for r in rows]
        return [int(i) for i in ordered[start - begin : stop - begin]]

    @staticmethod
    def _full_titles(searcher: Any, rows: list[list[Any]]) -> None:
        """Rows that tie on everything up to the title's sort number get their whole title
        key (stored), so that the title breaks the tie exactly."""
        groups: dict[tuple[Any, ...], list[list[Any]]] = {}
        for row in rows:
            groups.setdefault((row[0], row[1], row[2]), []).append(row)
        for members in groups.values():
            if len(members) > 1:
                for row in members:
                    stored = searcher.doc(row[5]).get_first("title_key")
                    row[3] = stored or ""

    # --- counting ---------------------------------------------------------------------------

    def _counts(
        self,
        searcher: Any,
        translate: _Translator,
        query: EngineQuery,
        selected: dict[str, Clause],
    ) -> dict[str, list[tuple[str, int]]]:
        """Each facet's rows: a facet not selected counts the hits, a selected one the documents
        that hold the filter and every other selected facet. One aggregation per source."""
        out: dict[str, list[tuple[str, int]]] = {name: [] for name, _c in query.counts}
        by_source: dict[str, list[tuple[str, Count]]] = {}
        for name, counts in query.counts:
            source = name if name in selected else ""
            for count in counts:
                by_source.setdefault(source, []).append((name, count))
        for source, wanted in by_source.items():
            clause = AllOf(
                (query.filter, *(c for n, c in selected.items() if n != source or not source))
            )
            source_query = translate(clause)
            aggregations: dict[str, Any] = {}
            for i, (name, count) in enumerate(wanted):
                key = f"c{i}"
                if isinstance(count, TermsCount):
                    terms: dict[str, Any] = {
                        "field": count.field,
                        "size": MAX_BUCKETS,
                        "segment_size": MAX_BUCKETS,
                    }
                    if count.include is not None:
                        if not count.include:
                            continue
                        terms["include"] = list(count.include)
                    aggregations[key] = {"terms": terms}
                elif isinstance(count, RangeCount):
                    ranges = []
                    for bucket, low, high in count.buckets:
                        entry: dict[str, Any] = {"key": bucket}
                        if low is not None:
                            entry["from"] = low
                        if high is not None:
                            entry["to"] = high + 1
                        ranges.append(entry)
                    aggregations[key] = {"range": {"field": count.field, "ranges": ranges}}
                elif isinstance(count, MatchCount):
                    matching = translate(AllOf((clause, count.clause)))
                    number = int(searcher.search(matching, 1, count=True).count)
                    if number:
                        out[name].append((count.name, number))
                else:
                    raise Unsupported(f"no engine count {type(count).__name__}")
            if not aggregations:
                continue
            answer = searcher.aggregate(source_query, aggregations)
            for i, (name, count) in enumerate(wanted):
                result = answer.get(f"c{i}")
                if result is None:
                    continue
                if isinstance(count, TermsCount) and result.get("sum_other_doc_count"):
                    raise Unsupported(f"more than {MAX_BUCKETS} values of {count.field}")
                for bucket in result.get("buckets", []):
                    number = int(bucket.get("doc_count", 0))
                    if number:
                        out[name].append((str(bucket["key"]), number))
        return out

    # --- writing ----------------------------------------------------------------------------

    def _document(self, opened: _Opened, document: EngineDocument) -> Any:
        out = tantivy.Document()
        out.add_integer(ID, int(document.id))
        values = document.fields
        for name, kind in opened.kinds.items():
            value = values.get(name)
            if value is None:
                continue
            if kind == "text":
                if value:
                    out.add_text(name, str(value))
            elif kind == "keyword":
                for item in [value] if isinstance(value, str) else value:
                    out.add_text(name, str(item))
            else:
                out.add_integer(name, int(value))
        if opened.all_text:
            joined = " ".join(str(values.get(f) or "") for f in TEXT_FIELDS).strip()
            if joined:
                out.add_text(ALL_TEXT, joined)
        patients = values.get("patients")
        out.add_integer(PATIENTS_SORT, -1 if patients is None else int(patients))
        title = values.get("title_key") or [""]
        out.add_unsigned(TITLE_PREFIX, title_prefix(title if isinstance(title, str) else title[0]))
        return out

    @contextlib.contextmanager
    def _writer(self, opened: _Opened, heap: int = INCREMENTAL_HEAP) -> Iterator[Any]:
        """tantivy's writer of the index, once no other process holds it (waited for up to
        ``lock_wait`` seconds); committed at the end of the block, the commit made visible to
        this process at once, then the writer released once its merges are done (the other
        processes see the commit when they notice it, and the merged segments later)."""
        deadline = time.monotonic() + self.lock_wait
        delay = 0.005
        while True:
            try:
                writer = opened.index.writer(heap, 1)
                break
            except ValueError as exc:
                if "LockBusy" not in str(exc) or time.monotonic() > deadline:
                    raise EngineBusy(str(exc)) from exc
                time.sleep(delay)
                delay = min(delay * 2, 0.2)
        try:
            yield writer
            writer.commit()
            opened.index.reload()
        except BaseException:
            with contextlib.suppress(Exception):
                writer.rollback()
            raise
        finally:
            writer.wait_merging_threads()

    def write(self, documents: Sequence[EngineDocument], deleted: Sequence[int] = ()) -> None:
        """Replace ``documents`` (by id) and remove ``deleted``, committed and visible to this
        process's searches when it returns (to the others' within half a second: tantivy
        reloads on commit). Without an index, nothing (the next rebuild reads the database).

        :raises EngineBusy: when another process kept the writer lock too long.
        """
        if not documents and not deleted:
            return
        with self._write_lock:
            opened = self._current()
            if opened is None:
                return
            with self._writer(opened) as writer:
                for document_id in {*deleted, *(d.id for d in documents)}:
                    writer.delete_documents_by_term(ID, int(document_id))
                for document in documents:
                    writer.add_document(self._document(opened, document))
            opened.index.reload()

    def rebuild(
        self, documents: Iterable[EngineDocument], progress: Callable[[int], None] | None = None
    ) -> int:
        """A new index of ``documents`` in a new directory, then put in use (an atomic rename
        of the pointer) and the old one removed; searches use the old one until then.
        ``progress(written)`` every 500 documents. Waits for another process's rebuild."""
        self.root.mkdir(parents=True, exist_ok=True)
        with self._rebuild_lock(wait=True):
            return self._rebuild_locked(documents, progress)

    def try_rebuild(self, documents: Callable[[], Iterable[EngineDocument]]) -> int | None:
        """Rebuild unless another process is rebuilding already (None then)."""
        self.root.mkdir(parents=True, exist_ok=True)
        with self._rebuild_lock(wait=False) as held:
            if not held:
                return None
            return self._rebuild_locked(documents(), None)

    @contextlib.contextmanager
    def _rebuild_lock(self, *, wait: bool) -> Iterator[bool]:
        with open(self.root / REBUILD_LOCK, "a+") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _rebuild_locked(
        self, documents: Iterable[EngineDocument], progress: Callable[[int], None] | None
    ) -> int:
        kinds = all_fields()
        name = f"index-{time.strftime('%Y%m%d%H%M%S')}-{secrets.token_hex(3)}"
        directory = self.root / name
        directory.mkdir(parents=True)
        schema = _build_schema(kinds)
        index = tantivy.Index(schema, path=str(directory), reuse=False)
        index.register_tokenizer(TOKENIZER, _analyzer())
        opened = _Opened((0, 0, 0), directory, index, schema, kinds)
        written = 0
        try:
            writer = index.writer(REBUILD_HEAP, 2 if (os.cpu_count() or 1) > 1 else 1)
            try:
                for document in documents:
                    writer.add_document(self._document(opened, document))
                    written += 1
                    if progress is not None and written % 500 == 0:
                        progress(written)
                writer.commit()
            finally:
                writer.wait_merging_threads()
        except BaseException:
            shutil.rmtree(directory, ignore_errors=True)
            raise
        if progress is not None:
            progress(written)
        pointer = self.root / POINTER
        temporary = self.root / f".{POINTER}.{secrets.token_hex(4)}"
        temporary.write_text(json.dumps({"directory": name, "schema": _schema_signature(kinds)}))
        os.replace(temporary, pointer)
        with self._lock:
            self._opened = None
        self._remove_old(keep=name)
        return written

    def _remove_old(self, keep: str) -> None:
        """Index directories other than ``keep``: a process still reading one keeps its open
        files until it notices the new pointer (at its next search)."""
        for entry in self.root.glob("index-*"):
            if entry.name != keep and entry.is_dir():
                shutil.rmtree(entry, ignore_errors=True)

    # --- in step with the database ----------------------------------------------------------

    def fingerprint(self) -> tuple[int, int]:
        opened = self._require()
        searcher = opened.index.searcher()
        documents = int(searcher.num_docs)
        if not documents:
            return 0, 0
        answer = searcher.aggregate(
            tantivy.Query.all_query(), {"s": {"sum": {"field": "revision"}}}
        )
        return documents, round(answer["s"]["value"] or 0)

    def stamps(self) -> dict[int, int]:
        opened = self._require()
        searcher = opened.index.searcher()
        documents = int(searcher.num_docs)
        if not documents:
            return {}
        hits = searcher.search(
            tantivy.Query.all_query(), min(documents, FULL_SCAN_LIMIT), count=False
        ).hits
        addresses = [a for _s, a in hits]
        ids = searcher.fast_field_values(ID, addresses)
        revisions = searcher.fast_field_values("revision", addresses)
        return {int(i): int(r or 0) for i, r in zip(ids, revisions, strict=True)}

    def forget(self) -> None:
        """Drop the opened index (tests; a process that wants to reopen)."""
        with self._lock:
            self._opened = None


class _Ties:
    """A group of documents of equal relevance as a query of its own, so that the page need
    not collect all of a large group (a common word only in variables: thousands of documents
    of one point and no text rank) to order it by date, title and id.

    A score with no fraction is a document without a text rank (:data:`RANK_FLOOR`): none of
    the query's keys in a ranked field. Its points are those of the Score clauses every hit
    holds (conjuncts of the query), plus those of the *optional* ones it holds; a Match of a
    ranked field on the query's keys cannot hold. The group is the documents without a rank
    whose optional clauses add up to the rest: one query over the combinations (when there
    are few optional clauses)."""

    def __init__(
        self, translate: _Translator, base: Any, query: EngineQuery, ranked: Clause | None
    ):
        self.translate = translate
        self.base = base
        self.ranked = ranked
        conjuncts = set(_conjuncts(AllOf((query.filter, *(c for _n, c in query.facets)))))
        keys = set(query.rank_keys)
        ranked_fields = {f for f, _w in RANK_WEIGHTS}
        self.constant = 0.0
        self.optional: list[tuple[Clause, float]] = []
        self.usable = all(float(s.points).is_integer() for s in query.scores)
        for score in query.scores:
            clause = score.clause
            if clause in conjuncts:
                self.constant += float(score.points)
            elif (
                ranked is not None
                and isinstance(clause, Match)
                and clause.field in ranked_fields
                and set(clause.keys) <= keys
            ):
                continue  # never held without a rank
            else:
                self.optional.append((clause, float(score.points)))
        if len(self.optional) > MAX_OPTIONAL_SCORES:
            self.usable = False

    def group(self, score: float) -> Any:
        """The query of the documents of this score, or None (a score with a rank, or too
        many combinations: the caller collects the group instead)."""
        if not self.usable or not float(score).is_integer():
            return None
        wanted = float(score) - self.constant
        combinations = []
        for chosen in itertools.product((False, True), repeat=len(self.optional)):
            points = sum(p for (_c, p), on in zip(self.optional, chosen, strict=True) if on)
            if points == wanted:
                combinations.append(
                    AllOf(
                        tuple(
                            c if on else Not(c)
                            for (c, _p), on in zip(self.optional, chosen, strict=True)
                        )
                    )
                )
        if not combinations:
            return None
        parts: list[tuple[Any, Any]] = [(tantivy.Occur.Must, self.base)]
        if self.ranked is not None:
            parts.append((tantivy.Occur.MustNot, self.translate(self.ranked)))
        if self.optional:
            parts.append((tantivy.Occur.Must, self.translate(AnyOf(tuple(combinations)))))
        return tantivy.Query.boolean_query(parts)


def _conjuncts(clause: Clause) -> Iterator[Clause]:
    """The clauses that every document holding ``clause`` holds (AllOf flattened)."""
    if isinstance(clause, AllOf):
        for part in clause.clauses:
            yield from _conjuncts(part)
    else:
        yield clause


class _Translator:
    """Clauses (:mod:`.base`) as tantivy queries: one value is a term query (a few postings),
    several of one field a union of them; a word in all four text fields (the service's "any
    field") one term query on :data:`ALL_TEXT`."""

    #: more values than this: tantivy's term set query instead of a union of term queries
    SET_ABOVE = 16

    def __init__(self, schema: Any, kinds: dict[str, FieldKind], all_text: bool = False):
        self.schema = schema
        self.kinds = kinds
        self.all_text = all_text

    def _field(self, name: str, *kinds: FieldKind) -> None:
        if self.kinds.get(name) not in kinds:
            raise Unsupported(f"no engine field {name} of kind {'/'.join(kinds)}")

    def terms(self, name: str, values: Iterable[str]) -> Any:
        """Documents whose field ``name`` holds any of ``values`` (exact terms)."""
        Query, Occur = tantivy.Query, tantivy.Occur
        unique = [str(v) for v in dict.fromkeys(values) if str(v)]
        if not unique:
            return Query.empty_query()
        if len(unique) == 1:
            return Query.term_query(self.schema, name, unique[0], index_option="basic")
        if len(unique) > self.SET_ABOVE:
            return Query.term_set_query(self.schema, name, unique)
        return Query.boolean_query(
            [
                (Occur.Should, Query.term_query(self.schema, name, v, index_option="basic"))
                for v in unique
            ]
        )

    def _any_field(self, clauses: tuple[Clause, ...]) -> tuple[str, ...] | None:
        """The keys when ``clauses`` are one word's Match in every text field, else None."""
        if not self.all_text or len(clauses) != len(TEXT_FIELDS):
            return None
        if not all(isinstance(c, Match) for c in clauses):
            return None
        matches = [c for c in clauses if isinstance(c, Match)]
        keys = {frozenset(m.keys) for m in matches}
        if {m.field for m in matches} != set(TEXT_FIELDS) or len(keys) != 1:
            return None
        return matches[0].keys

    def __call__(self, clause: Clause) -> Any:
        Query, Occur = tantivy.Query, tantivy.Occur
        if isinstance(clause, Match):
            self._field(clause.field, "text")
            return self.terms(clause.field, clause.keys)
        if isinstance(clause, Terms):
            self._field(clause.field, "keyword")
            return self.terms(clause.field, clause.values)
        if isinstance(clause, Range):
            self._field(clause.field, "integer")
            if clause.low is None and clause.high is None:
                return Query.exists_query(clause.field)
            return Query.range_query(
                self.schema,
                clause.field,
                tantivy.FieldType.Integer,
                clause.low,
                clause.high,
            )
        if isinstance(clause, AllOf):
            if not clause.clauses:
                return Query.all_query()
            if len(clause.clauses) == 1:
                return self(clause.clauses[0])
            return Query.boolean_query([(Occur.Must, self(c)) for c in clause.clauses])
        if isinstance(clause, AnyOf):
            if not clause.clauses:
                return Query.empty_query()
            keys = self._any_field(clause.clauses)
            if keys is not None:
                return self.terms(ALL_TEXT, keys)
            fields = {c.field for c in clause.clauses if isinstance(c, Terms)}
            if len(fields) == 1 and all(isinstance(c, Terms) for c in clause.clauses):
                (name,) = fields
                self._field(name, "keyword")
                values = [v for c in clause.clauses if isinstance(c, Terms) for v in c.values]
                return self.terms(name, values)
            if len(clause.clauses) == 1:
                return self(clause.clauses[0])
            return Query.boolean_query([(Occur.Should, self(c)) for c in clause.clauses])
        if isinstance(clause, Not):
            return Query.boolean_query(
                [(Occur.Must, Query.all_query()), (Occur.MustNot, self(clause.clause))]
            )
        if isinstance(clause, Everything):
            return Query.all_query()
        raise Unsupported(f"no engine form of {type(clause).__name__}")
