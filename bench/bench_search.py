"""Benchmark of search (``GET /api/v1/search``) on the synthetic catalogue: each design of the
search service, against a dedicated engine on the same documents and queries (issue 16).

    .venv/bin/python bench/bench_search.py --both
    .venv/bin/python bench/bench_search.py --reuse sqlite:////tmp/bench16/cat.sqlite3 \
        --reuse postgresql+psycopg://postgres@127.0.0.1:5432/bench16

For each database (SQLite; PostgreSQL with ``--database-url``, or both with ``--both``) it
generates the synthetic catalogue of ``bench/generate_catalogue.py`` (10,000 datasets,
1,000,000 variables, 200,000 mappings; common words such as "patient" and "date" in most
datasets) into a scratch database without its search index, or uses an already generated one
(``--reuse URL``, migrated to the head revision first), then, each step in a child process
(a fresh interpreter: no cache or memory carried from one step to the next):

1. **indexing from scratch**: the SQL search index (``catalogue.search.rebuild_index``), and,
   for the embedded engine, the engine's rebuild from it: wall time and peak memory
   (``ru_maxrss``);
2. **the dedicated-engine baseline** (:mod:`bench.search_baseline`): the same searchable
   documents indexed in tantivy directly (en_stem text fields from the catalogue's tables,
   ancestor-expanded disease and term fields, BM25, one aggregation for every facet's counts,
   a page of 20 with the stored titles): its build (seconds, MB on disk) and every mix's
   searches answered in-process, alone; then again in each design's process, each right after
   the endpoint's same search, so that the ratio endpoint ÷ engine pairs searches made under
   the same load;
3. **each design of the search service** (``--designs``; ``SEARCH_ENGINE=sql``: the SQL
   statement; ``embedded``: the embedded engine), through the Flask stack (the test client:
   routing, parameters, the service, JSON), a warm-up round then ``--rounds`` timed rounds of
   three mixes, interleaved:

   - *bench*: words (very common ones, rare ones, British spellings, names of ontology terms,
     a misspelling, several words) each with two facets, one expanded through a hierarchy;
   - *hard*: single common words without facets, deep pages (page 50 at 20 per page, of
     searches with ≥ 1,000 hits), every sort on a common word, browsing by one facet alone and
     the bare list, and four selected facets at once;
   - *custodian*: a few of those as the custodian of the largest organisation (who sees its
     drafts); the other two mixes are anonymous;

   p50/p95/p99 per mix and per kind of query; each search's SQL captured and replayed on a raw
   DBAPI connection (*endpoint ÷ all its SQL*: what the framework adds), and the time spent in
   the engine's ``search``, and whether the designs find the same totals and first pages;
   then the variable-level question (``/api/v1/search/variables``, anonymous and custodian),
   the statistics API and the dashboard page;
4. after every design's mixes (a change moves its dataset to the top of recently-updated
   orders), **one dataset's change**, with each design (engines first: no engine follows the
   SQL statement's changes): ``--changes`` published datasets of that organisation each get a
   new version whose title gains a new unique word (through the API as their custodian), and
   the time from the commit returning to the first search that finds it is taken (polling
   every 10 ms), in the process that committed and at the same time in another process (as a
   second web worker): after the draft's edit (the custodian's search) and after publishing
   (an anonymous search).

Targets (issue 16), judged on the design the application uses by default (``SEARCH_ENGINE``
unset): search p95 ≤ 20 ms on the bench mix and on the hard mix, on each database; the
endpoint's p95 ≤ 10x the dedicated engine's p95 on each mix; indexing from scratch (the SQL
index and the engine, together) ≤ 2 minutes; a change searchable ≤ 1 s after its commit (the
slowest of the changes); the variable question p95 ≤ 150 ms and the dashboard (API and page)
p95 ≤ 200 ms. The other designs are measured for the comparison, not judged.
It prints the section and replaces the ``bench_search`` section of ``bench/RESULTS.md``
(``--no-write`` leaves it alone); exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import random
import re
import resource
import shutil
import statistics
import string
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.bench_ontologies import (  # noqa: E402 - after the path set-up
    DEFAULT_POSTGRES,
    machine_facts,
    replace_section,
    say,
    scratch_database,
    stats_ms,
)

RESULTS = ROOT / "bench" / "RESULTS.md"
GIT = shutil.which("git") or "git"
SECTION_BEGIN = "<!-- bench_search:begin -->"
SECTION_END = "<!-- bench_search:end -->"
APP_ENV = {"HARMONY_ENV": "testing", "LOG_LEVEL": "WARNING"}
TARGETS = {
    "search_p95_ms": 20.0,  # bench and hard mixes, each database
    "baseline_ratio": 10.0,  # endpoint p95 ÷ the dedicated engine's p95, each mix
    "indexing_s": 120.0,  # the SQL index and the engine, from scratch
    "change_s": 1.0,  # the slowest change, from its commit to a search finding it
    "question_p95_ms": 150.0,
    "dashboard_p95_ms": 200.0,
}
JUDGED_MIXES = ("bench", "hard")
DESIGNS = {
    "sql": "SQL statement (`SEARCH_ENGINE=sql`)",
    "embedded": "embedded engine (`SEARCH_ENGINE=embedded`)",
    "opensearch": "OpenSearch (`SEARCH_ENGINE=opensearch`)",
}

MYELOID = "NCIT:C9290"  # Myeloid Neoplasm: AML, MDS, MPN, CML … below it
LAB = "HV:0000003"  # Blood counts and chemistry: every laboratory variable below it
MOLECULAR = "HV:0000005"  # Molecular markers

# --- the query mixes ------------------------------------------------------------------------

# the bench mix, (kind, q): every query runs with two facets, one expanded through a hierarchy
QUERIES: list[tuple[str, str]] = [
    ("common", "patient"),
    ("common", "date"),
    ("common", "treatment"),
    ("common", "response"),
    ("common", "diagnosis"),
    ("common", "survival data"),
    ("common", "patient date"),
    ("rare", "FLT3"),
    ("rare", "blinatumomab"),
    ("rare", "luspatercept"),
    ("rare", "Richter"),
    ("spelling", "leukaemia"),
    ("spelling", "haemoglobin"),
    ("spelling", "tumour"),
    ("term", "myeloid neoplasm"),
    ("term", "Hb"),
    ("term", "AML"),
    ("term", "myeloma"),
    ("misspelt", "lenalidomde"),
    ("several", "acute myeloid leukaemia induction"),
    ("several", "platelet count at diagnosis"),
]
FACETS: list[dict[str, Any]] = [
    {"disease": MYELOID, "country": "DE"},
    {"disease": MYELOID, "source_type": "clinical_trial"},
    {"term": LAB, "country": "FR"},
    {"term": MOLECULAR, "source_type": "registry"},
]
COMMON_WORDS = ("patient", "date", "treatment", "response", "diagnosis")
SORT_ORDERS = ("relevance", "updated", "title", "patients")
FOUR_FACETS: list[dict[str, Any]] = [
    {"disease": MYELOID, "source_type": "clinical_trial", "country": "DE", "term": LAB},
    {"disease": MYELOID, "source_type": "registry", "country": "FR", "term": MOLECULAR},
]
DEEP_PAGE = 50
DEEP_HITS = 1000  # a deep page's search has at least this many hits (page 50 is full)

MixQuery = tuple[str, dict[str, Any]]  # (kind, the search's parameters)


def bench_mix() -> list[MixQuery]:
    return [(kind, {"q": q, **FACETS[i % len(FACETS)]}) for i, (kind, q) in enumerate(QUERIES)]


def hard_mix() -> list[MixQuery]:
    """Single common words without facets, deep pages, every sort, facets alone, four facets."""
    out: list[MixQuery] = [("word", {"q": w}) for w in COMMON_WORDS]
    out += [
        ("deep page", {"q": "patient", "page": DEEP_PAGE}),
        ("deep page", {"q": "date", "page": DEEP_PAGE}),
        ("deep page", {"q": "treatment", "sort": "title", "page": DEEP_PAGE}),
        ("deep page", {"q": "diagnosis", "sort": "updated", "page": DEEP_PAGE}),
        ("deep page", {"page": DEEP_PAGE}),
    ]
    out += [("sort", {"q": "patient", "sort": s}) for s in SORT_ORDERS]
    out += [
        ("facets only", {}),
        ("facets only", {"disease": MYELOID}),
        ("facets only", {"source_type": "clinical_trial"}),
        ("facets only", {"country": "DE"}),
        ("facets only", {"term": LAB}),
    ]
    out += [
        ("four facets", FOUR_FACETS[0]),
        ("four facets", {"q": "patient", **FOUR_FACETS[0]}),
        ("four facets", FOUR_FACETS[1]),
        ("four facets", {"q": "treatment", **FOUR_FACETS[1]}),
    ]
    return out


def custodian_mix() -> list[MixQuery]:
    """Searched as the custodian of the largest organisation (its drafts in place of their
    published versions)."""
    return [
        ("custodian", {"q": "patient"}),
        ("custodian", {}),
        ("custodian", {"q": "AML", "disease": MYELOID, "country": "DE"}),
        ("custodian", {"q": "date", "page": DEEP_PAGE}),
        ("custodian", FOUR_FACETS[0]),
    ]


MIXES: dict[str, Callable[[], list[MixQuery]]] = {
    "bench": bench_mix,
    "hard": hard_mix,
    "custodian": custodian_mix,
}


def query_string(params: dict[str, Any]) -> str:
    return urlencode(params)


def requests() -> list[tuple[str, str]]:
    """The bench mix: ``(kind, query string)``."""
    return [(kind, query_string(params)) for kind, params in bench_mix()]


def mix_requests() -> dict[str, list[tuple[str, str]]]:
    return {name: [(k, query_string(p)) for k, p in make()] for name, make in MIXES.items()}


# --- the application ------------------------------------------------------------------------


def make_app(url: str, config: dict[str, Any] | None = None) -> Any:
    import logging

    from core import create_app

    app = create_app({"DATABASE_URL": url, **(config or {})}, env=APP_ENV)
    logging.getLogger("harmony.access").setLevel(logging.WARNING)
    gc.freeze()  # as wsgi.py does for every worker
    return app


def default_design() -> str:
    """The design the application uses when ``SEARCH_ENGINE`` is not set."""
    from core.config import load_config

    config = load_config(ROOT / "instance", dict(APP_ENV))
    return str(config.get("SEARCH_ENGINE") or "sql")


def available_designs() -> list[str]:
    import importlib.util

    designs = ["sql"]
    if importlib.util.find_spec("catalogue.search.engine.embedded") is not None:
        designs.append("embedded")
    return designs


def pick_custodian(app: Any, token: bool = True) -> dict[str, Any]:
    """The custodian of the organisation with the most datasets (and a bearer token)."""
    from sqlalchemy import func, select

    from catalogue.models import Dataset, DatasetVersion, VersionStatus
    from core import services as accounts
    from core.db import get_session
    from core.models import Role, RoleGrant, User
    from core.policies import SYSTEM

    with app.app_context():
        session = get_session()
        organisation = session.execute(
            select(Dataset.organisation_id)
            .group_by(Dataset.organisation_id)
            .order_by(func.count().desc(), Dataset.organisation_id)
            .limit(1)
        ).scalar_one()
        user = session.scalar(
            select(User)
            .join(RoleGrant, RoleGrant.user_id == User.id)
            .where(RoleGrant.role == Role.CUSTODIAN, RoleGrant.organisation_id == organisation)
            .order_by(User.email)
            .limit(1)
        )
        if user is None:
            raise SystemExit("no custodian for the largest organisation: a generated catalogue?")
        drafts = session.scalar(
            select(func.count())
            .select_from(DatasetVersion)
            .join(Dataset, Dataset.id == DatasetVersion.dataset_id)
            .where(
                Dataset.organisation_id == organisation,
                DatasetVersion.status == VersionStatus.DRAFT,
            )
        )
        secret = None
        if token:
            _, secret = accounts.create_token(SYSTEM, user, "bench-search", 1)
        email = user.email
        session.commit()
    return {"organisation": organisation, "email": email, "token": secret, "drafts": drafts}


def rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def size_mb(path: Path) -> float:
    return round(sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1024 / 1024, 1)


# --- indexing, in child processes -----------------------------------------------------------


def worker_rebuild(url: str) -> dict[str, Any]:
    """The SQL search index from scratch."""
    app = make_app(url)
    from catalogue.search import rebuild_index
    from catalogue.search.indexer import tidy_after_rebuild

    with app.app_context():
        before = rss_mb()
        started = time.perf_counter()
        documents = rebuild_index()
        seconds = time.perf_counter() - started
        tidy_after_rebuild()  # as harmony catalogue reindex does (not timed: maintenance)
    return {
        "documents": documents,
        "seconds": round(seconds, 1),
        "rss_before_mb": before,
        "peak_rss_mb": rss_mb(),
    }


def worker_engine_rebuild(url: str, config: dict[str, Any]) -> dict[str, Any]:
    """The engine's index from scratch (from the SQL search index), as ``harmony catalogue
    reindex`` rebuilds it."""

    app = make_app(url, config)
    get_engine, rebuild = engine_functions()
    path = engine_path(app)
    if path is not None and path.exists():
        shutil.rmtree(path)  # from scratch
    with app.app_context():
        before = rss_mb()
        started = time.perf_counter()
        documents = rebuild(None)
        seconds = time.perf_counter() - started
        count = get_engine().count()
    out: dict[str, Any] = {
        "documents": documents,
        "count": count,
        "seconds": round(seconds, 1),
        "rss_before_mb": before,
        "peak_rss_mb": rss_mb(),
    }
    path = engine_path(app)
    if path is not None and path.exists():
        out["mb_on_disk"] = size_mb(path)
    return out


def engine_functions() -> tuple[Callable[[], Any], Callable[..., int]]:
    """``get_engine`` and ``rebuild`` of the search engine package (or of its module that
    keeps the engine in step)."""
    from catalogue.search import engine as package

    if hasattr(package, "get_engine") and hasattr(package, "rebuild"):
        return package.get_engine, package.rebuild
    from catalogue.search.engine import sync

    return sync.get_engine, sync.rebuild


def engine_path(app: Any) -> Path | None:
    """Where the embedded engine keeps its index (the application's setting)."""
    for key in ("SEARCH_ENGINE_PATH",):
        if app.config.get(key):
            return Path(app.config[key])
    return None


def worker_baseline(url: str, rounds: int, directory: str) -> dict[str, Any]:
    """The dedicated-engine baseline: built, then every mix answered in-process."""
    from bench import search_baseline

    app = make_app(url)
    custodian = pick_custodian(app, token=False)
    say("  building the dedicated engine's index (tantivy, directly)")
    index, build = search_baseline.build(url, Path(directory))
    say(f"  built: {build['documents']:,} documents in {build['seconds']} s")
    baseline = search_baseline.Baseline(index)
    mixes = {name: make() for name, make in MIXES.items()}
    raw = search_baseline.measure(baseline, mixes, rounds, [custodian["organisation"]])
    out: dict[str, Any] = {}
    for name, queries in mixes.items():
        times = raw["times"][name]
        every = [t for ts in times.values() for t in ts]
        by_kind: dict[str, list[float]] = defaultdict(list)
        for i, (kind, _params) in enumerate(queries):
            by_kind[kind].extend(times[str(i)])
        n = max(1, len(every))
        out[name] = {
            "searches": len(every),
            "stats": stats_ms(every),
            "split_ms": {
                "page": round(raw["parts"][name]["page_s"] / n * 1000, 2),
                "counts": round(raw["parts"][name]["counts_s"] / n * 1000, 2),
            },
            "by_kind": {k: stats_ms(v) for k, v in by_kind.items()},
            "totals": raw["totals"][name],
        }
    return {"build": build, "mixes": out}


# --- timing the endpoint --------------------------------------------------------------------


@dataclass
class Capture:
    """The statements an endpoint ran: their SQL, parameters and time."""

    statements: list[tuple[str, Any, float]] = field(default_factory=list)
    on: bool = False

    def install(self, engine: Any) -> None:
        from sqlalchemy import event

        @event.listens_for(engine, "before_cursor_execute")
        def _before(conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool):
            conn.info["bench_started"] = time.perf_counter()

        @event.listens_for(engine, "after_cursor_execute")
        def _after(conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool):
            if self.on:
                spent = time.perf_counter() - conn.info.pop("bench_started", time.perf_counter())
                self.statements.append((statement, params, spent))


@contextlib.contextmanager
def capturing(capture: Capture) -> Iterator[Capture]:
    capture.statements = []
    capture.on = True
    try:
        yield capture
    finally:
        capture.on = False


class EngineTimer:
    """Times the engine's ``search`` (and counts the searches it could not answer) by wrapping
    the method of the engine's class in this process."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.spent = 0.0
        self.calls = 0
        self.refused = 0
        self.total_calls = 0
        self.total_refused = 0
        self.writes: list[tuple[float, int]] = []  # (seconds, documents) of each write

    def reset(self) -> None:
        self.spent = 0.0
        self.calls = 0
        self.refused = 0

    @classmethod
    def install(cls, app: Any) -> EngineTimer | None:
        try:
            get, _rebuild = engine_functions()
        except ImportError:
            return None
        with app.app_context():
            engine = get()
        if engine is None:
            return None
        timer = cls(getattr(engine, "name", type(engine).__name__))
        kind = type(engine)
        original = kind.search

        def search(self: Any, query: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(self, query)
            except Exception:
                timer.refused += 1
                timer.total_refused += 1
                raise
            finally:
                timer.spent += time.perf_counter() - started
                timer.calls += 1
                timer.total_calls += 1

        written = kind.write

        def write(self: Any, documents: Any, deleted: Any = ()) -> Any:
            started = time.perf_counter()
            try:
                return written(self, documents, deleted)
            finally:
                timer.writes.append((time.perf_counter() - started, len(documents)))

        kind.search = search
        kind.write = write
        return timer

    def write_summary(self) -> dict[str, Any]:
        seconds = [w for w, _n in self.writes]
        return {
            "writes": len(seconds),
            "documents": sum(n for _w, n in self.writes),
            "median_ms": round(statistics.median(seconds) * 1000, 1) if seconds else None,
            "max_ms": round(max(seconds) * 1000, 1) if seconds else None,
        }


TRANSACTION_CONTROL = {"BEGIN", "COMMIT", "ROLLBACK"}
MAIN_STATEMENT = "candidates AS MATERIALIZED"  # the SQL design's main statement
SEARCH_SETTINGS = "set_config('enable_seqscan'"  # the search's settings for its transaction


def replay(
    engine: Any,
    statements: list[tuple[str, Any]],
    runs: int,
    settings: Sequence[tuple[str, Any]] = (),
) -> list[float]:
    """``statements`` in turn on a raw DBAPI connection, rows fetched, ``runs`` times after one
    warm-up, each run in its own transaction after the session settings the search made
    (PostgreSQL: ``set_config(…, true)``, not timed): the search's SQL without the framework."""
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        times = []
        for i in range(runs + 1):
            for setting, values in settings:
                cursor.execute(setting, values)
            started = time.perf_counter()
            for statement, params in statements:
                cursor.execute(statement, params)
                if cursor.description is not None:
                    cursor.fetchall()
            if i:
                times.append(time.perf_counter() - started)
            raw.rollback()
        return times
    finally:
        raw.close()


def run_mixes(
    app: Any,
    mixes: dict[str, list[tuple[str, str]]],
    rounds: int,
    headers: dict[str, dict[str, str]] | None = None,
    timer: EngineTimer | None = None,
    replays: bool = True,
    alongside: Callable[[str, str], dict[str, Any]] | None = None,
) -> dict[str, dict[str, Any]]:
    """Each mix through the endpoint (a warm-up round, then ``rounds`` rounds with the mixes
    interleaved), each search's SQL captured and replayed directly afterwards. ``alongside``
    (mix, query string) answers the same search on the dedicated engine right after each one,
    timed the same way: the two sides share the machine's state of the moment."""
    headers = headers or {}
    engine = app.extensions["harmony_db"].engine
    capture = Capture()
    capture.install(engine)
    client = app.test_client()
    keys = [(mix, kind, query) for mix, queries in mixes.items() for kind, query in queries]

    def get(mix: str, query: str) -> Any:
        response = client.get("/api/v1/search?" + query, headers=headers.get(mix, {}))
        if response.status_code != 200:
            raise RuntimeError(f"{query}: {response.status_code} {response.get_data()[:300]!r}")
        return response

    say(f"  warm-up: {len(keys)} searches")
    totals: dict[tuple[str, str], int] = {}
    pages: dict[tuple[str, str], list[str]] = {}
    for mix, kind, query in keys:
        if alongside is not None:
            alongside(mix, query)
        body = get(mix, query).json
        totals[(mix, query)] = body["total"]
        pages[(mix, query)] = [item["identifier"] for item in body["items"]]
        if kind == "deep page" and body["total"] < DEEP_HITS:
            say(f"  warning: {query} has {body['total']} hits (< {DEEP_HITS})")
    endpoint: dict[tuple[str, str], list[float]] = defaultdict(list)
    main_sql: dict[tuple[str, str], list[float]] = defaultdict(list)
    all_sql: dict[tuple[str, str], list[float]] = defaultdict(list)
    in_engine: dict[tuple[str, str], list[float]] = defaultdict(list)
    statements_per_search: dict[str, list[int]] = defaultdict(list)
    refused: dict[str, int] = defaultdict(int)
    asked: dict[str, int] = defaultdict(int)  # searches that asked the engine
    beside: dict[tuple[str, str], list[float]] = defaultdict(list)  # the dedicated engine
    beside_parts: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    beside_totals: dict[tuple[str, str], int] = {}
    captured: dict[tuple[str, str], tuple[str, Any]] = {}
    everything: dict[tuple[str, str], list[tuple[str, Any]]] = {}
    settings: list[tuple[str, Any]] = []
    for round_number in range(rounds):
        say(f"  round {round_number + 1}/{rounds}")
        for mix, _kind, query in keys:
            if timer is not None:
                timer.reset()
            with capturing(capture):
                started = time.perf_counter()
                get(mix, query)
                endpoint[(mix, query)].append(time.perf_counter() - started)
            main = [s for s in capture.statements if MAIN_STATEMENT in s[0]]
            if len(main) > 1:
                raise RuntimeError(f"{query}: {len(main)} main statements")
            if main:
                captured[(mix, query)] = (main[0][0], main[0][1])
                main_sql[(mix, query)].append(main[0][2])
            everything[(mix, query)] = [
                (statement, params)
                for statement, params, _t in capture.statements
                if statement.strip().upper() not in TRANSACTION_CONTROL
            ]
            settings = [
                (s[0], s[1]) for s in capture.statements if SEARCH_SETTINGS in s[0]
            ] or settings
            all_sql[(mix, query)].append(sum(s[2] for s in capture.statements))
            statements_per_search[mix].append(len(capture.statements))
            if timer is not None:
                in_engine[(mix, query)].append(timer.spent)
                asked[mix] += 1 if timer.calls else 0
                refused[mix] += timer.refused
            if alongside is not None:
                started = time.perf_counter()
                answer = alongside(mix, query)
                beside[(mix, query)].append(time.perf_counter() - started)
                beside_parts[mix]["page"] += answer["page_s"]
                beside_parts[mix]["counts"] += answer["counts_s"]
                beside_totals[(mix, query)] = answer["total"]
    direct: dict[tuple[str, str], list[float]] = {}
    direct_all: dict[tuple[str, str], list[float]] = {}
    if replays:
        say("  the main statements replayed on a raw DBAPI connection")
        for key, (statement, params) in captured.items():
            direct[key] = replay(engine, [(statement, params)], rounds, settings)
        say("  every statement of each search replayed in turn")
        direct_all = {key: replay(engine, s, rounds) for key, s in everything.items()}
    engine.dispose()
    out: dict[str, dict[str, Any]] = {}
    for mix, queries in mixes.items():
        mine = [(mix, q) for _k, q in queries]
        every = [t for key in mine for t in endpoint[key]]
        n = len(every)
        result: dict[str, Any] = {
            "searches": n,
            "endpoint": stats_ms(every),
            "statements_per_search": round(statistics.fmean(statements_per_search[mix]), 1),
            "hits": {q: totals[(mix, q)] for _k, q in queries},
            "pages": {q: pages[(mix, q)] for _k, q in queries},
        }
        main_mean = sum(t for key in mine for t in main_sql.get(key, [])) / n
        sql_mean = sum(t for key in mine for t in all_sql[key]) / n
        engine_mean = sum(t for key in mine for t in in_engine.get(key, [])) / n
        mean = sum(every) / n
        result["split_ms"] = {
            "main statement": round(main_mean * 1000, 2),
            "other statements": round((sql_mean - main_mean) * 1000, 2),
            "engine": round(engine_mean * 1000, 2),
            "Python (service, page, JSON, Flask)": round((mean - sql_mean - engine_mean) * 1000, 2),
            "whole request": round(mean * 1000, 2),
        }
        if timer is not None:
            result["engine_searches"] = asked[mix]
            result["engine_refused"] = refused[mix]
        with_main = [key for key in mine if key in direct]
        if with_main:
            main_direct = [t for key in with_main for t in direct[key]]
            main_endpoint = [t for key in with_main for t in endpoint[key]]
            result["direct"] = stats_ms(main_direct)
            result["ratio_p95"] = round(
                stats_ms(main_endpoint)["p95"] / stats_ms(main_direct)["p95"], 2
            )
            result["ratio_p50"] = round(
                stats_ms(main_endpoint)["p50"] / stats_ms(main_direct)["p50"], 2
            )
            result["main_statements"] = len(with_main)
        if direct_all:
            replayed = [t for key in mine for t in direct_all.get(key, [])]
            result["direct_all"] = stats_ms(replayed)
            result["ratio_all_p95"] = round(
                result["endpoint"]["p95"] / stats_ms(replayed)["p95"], 2
            )
            result["ratio_all_p50"] = round(
                result["endpoint"]["p50"] / stats_ms(replayed)["p50"], 2
            )
        by_kind: dict[str, dict[str, Any]] = {}
        for kind in dict.fromkeys(k for k, _q in queries):
            of_kind = [(mix, q) for k, q in queries if k == kind]
            by_kind[kind] = {
                "endpoint": stats_ms([t for key in of_kind for t in endpoint[key]]),
                "totals": [totals[key] for key in of_kind],
            }
            kind_direct = [t for key in of_kind for t in direct.get(key, [])]
            if kind_direct:
                by_kind[kind]["direct"] = stats_ms(kind_direct)
        result["by_kind"] = by_kind
        if alongside is not None:
            ours = [t for key in mine for t in beside[key]]
            result["baseline"] = {
                "searches": len(ours),
                "endpoint": stats_ms(ours),
                "by_kind": {
                    kind: stats_ms([t for k, q in queries if k == kind for t in beside[(mix, q)]])
                    for kind in by_kind
                },
                "split_ms": {
                    part: round(spent / max(1, len(ours)) * 1000, 2)
                    for part, spent in beside_parts[mix].items()
                },
                "hits": {q: beside_totals[(mix, q)] for _k, q in queries},
            }
        result["slowest"] = sorted(
            (
                (
                    stats_ms(endpoint[key])["p95"],
                    stats_ms(direct[key])["p95"] if key in direct else None,
                    key[1],
                )
                for key in mine
            ),
            key=lambda row: row[0],
            reverse=True,
        )[:5]
        out[mix] = result
    return out


def measure(url: str, rounds: int, config: dict[str, Any] | None = None) -> dict[str, Any]:
    """The bench mix alone (``bench/bench_search_before_after.py`` compares two commits by
    it): the endpoint's figures as :func:`run_mixes` gives them."""
    app = make_app(url, config)
    return run_mixes(app, {"bench": requests()}, rounds)["bench"]


# --- the variable question and the dashboard ------------------------------------------------


def discovery(app: Any, custodian: dict[str, Any], runs: int) -> dict[str, Any]:
    """The endpoints of ``bench/bench_discovery_stats.py`` that must stay within their targets:
    three warm-up requests, then ``runs`` timed ones each."""
    from bench.generate_catalogue import COVERAGE_TERMS

    client = app.test_client()
    auth = {"Authorization": f"Bearer {custodian['token']}"}
    terms = ",".join(COVERAGE_TERMS)
    plan = [
        ("question, 8 terms", f"/api/v1/search/variables?terms={terms}", {}, "question"),
        (
            "question, 8 terms, as a custodian",
            f"/api/v1/search/variables?terms={terms}",
            auth,
            "question",
        ),
        ("stats API", "/api/v1/stats", {}, "dashboard"),
        ("dashboard page", "/dashboard", {}, "dashboard"),
    ]
    out = {}
    for name, path, headers, target in plan:
        say(f"  {name}: {runs} runs")
        times = []
        for i in range(runs + 3):
            started = time.perf_counter()
            response = client.get(path, headers=headers)
            spent = time.perf_counter() - started
            if response.status_code != 200:
                raise RuntimeError(f"{path}: {response.status_code}")
            if i >= 3:
                times.append(spent)
        out[name] = {"target": target, **stats_ms(times)}
    return out


# --- one dataset's change, until a search finds it ------------------------------------------

CHANGE_MARK = re.compile(r"( zz[a-z]{10})+$")  # the words earlier runs added to titles
POLL_S = 0.01
CHANGE_TIMEOUT_S = 30.0


def changeable(organisation: str, count: int) -> list[str]:
    """Published datasets of the organisation without an open draft (the same ones each run)."""
    from sqlalchemy import exists, select

    from catalogue.models import Dataset, DatasetStatus, DatasetVersion, VersionStatus
    from core.db import get_session

    draft = exists().where(
        DatasetVersion.dataset_id == Dataset.id, DatasetVersion.status == VersionStatus.DRAFT
    )
    return list(
        get_session().scalars(
            select(Dataset.identifier)
            .where(
                Dataset.organisation_id == organisation,
                Dataset.status == DatasetStatus.PUBLISHED,
                ~draft,
            )
            .order_by(Dataset.identifier)
            .limit(count)
        )
    )


def until_found(
    client: Any, word: str, identifier: str, headers: dict[str, str], committed: float
) -> dict[str, Any]:
    """Search for ``word`` every 10 ms from ``committed`` (``time.monotonic()`` when the
    change's commit returned: one clock for every process of the machine) until the dataset is
    among the hits: seconds to that answer, and searches."""
    polls = 0
    while True:
        response = client.get("/api/v1/search?" + urlencode({"q": word}), headers=headers)
        polls += 1
        elapsed = time.monotonic() - committed
        if response.status_code == 200 and any(
            item["identifier"] == identifier for item in response.json["items"]
        ):
            return {"seconds": elapsed, "polls": polls}
        if elapsed > CHANGE_TIMEOUT_S:
            return {"seconds": None, "polls": polls}
        time.sleep(POLL_S)


def worker_poller(url: str, config: dict[str, Any], token: str) -> dict[str, Any]:
    """Another process serving searches, as a second web worker does: for each change named
    on stdin (a JSON line), the search until it finds it, as a JSON line on stdout."""
    app = make_app(url, config)
    client = app.test_client()
    auth = {"Authorization": f"Bearer {token}"}
    for params in ({"q": "patient"}, {"q": "patient"}):  # the engine opened, caches warm
        client.get("/api/v1/search?" + urlencode(params))
        client.get("/api/v1/search?" + urlencode(params), headers=auth)
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        job = json.loads(line)
        headers = auth if job["custodian"] else {}
        found = until_found(client, job["word"], job["identifier"], headers, job["committed"])
        print(json.dumps(found), flush=True)
    return {"done": True}


class Poller:
    """:func:`worker_poller` in a child process."""

    def __init__(self, url: str, config: dict[str, Any], token: str) -> None:
        arguments = json.dumps({"url": url, "config": config, "token": token})
        self.process = subprocess.Popen(  # noqa: S603 - our own script
            [sys.executable, str(Path(__file__).resolve()), "--worker", "poller", arguments],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        if self.process.stdin is None or self.process.stdout is None:
            raise RuntimeError("no pipes to the other process")
        self.stdin, self.stdout = self.process.stdin, self.process.stdout
        self._read()

    def _read(self) -> dict[str, Any]:
        line = self.stdout.readline()
        if not line:
            raise RuntimeError("the other process searching for changes ended")
        found: dict[str, Any] = json.loads(line)
        return found

    def start(self, word: str, identifier: str, custodian: bool, committed: float) -> None:
        job = {"word": word, "identifier": identifier, "custodian": custodian}
        self.stdin.write(json.dumps({**job, "committed": committed}) + "\n")
        self.stdin.flush()

    def result(self) -> dict[str, Any]:
        return self._read()

    def close(self) -> None:
        self.stdin.close()
        self.process.wait(timeout=60)


def change_latency(
    app: Any, custodian: dict[str, Any], count: int, poller: Poller | None = None
) -> dict[str, Any]:
    """``count`` published datasets each get a new version titled with a new unique word,
    through the API as their custodian: the time from the draft's edit committing to the
    custodian's search finding it, and from its publication committing to an anonymous search
    finding it — searched in this process (the one that committed) and, at the same time, in
    ``poller``'s."""
    client = app.test_client()
    auth = {"Authorization": f"Bearer {custodian['token']}"}
    with app.app_context():
        identifiers = changeable(custodian["organisation"], count)
    rng = random.Random()  # new words each run
    found: dict[str, list[dict[str, Any]]] = defaultdict(list)

    def check(response: Any, status: int, what: str) -> Any:
        if response.status_code != status:
            raise RuntimeError(f"{what}: {response.status_code} {response.get_data()[:300]!r}")
        return response

    def searched(step: str, word: str, identifier: str, as_custodian: bool) -> None:
        committed = time.monotonic()
        if poller is not None:
            poller.start(word, identifier, as_custodian, committed)
        headers = auth if as_custodian else {}
        found[step].append(until_found(client, word, identifier, headers, committed))
        if poller is not None:
            found[f"{step}, another process"].append(poller.result())

    for identifier in identifiers:
        url = f"/api/v1/datasets/{identifier}"
        response = check(client.get(url, headers=auth), 200, url)
        title = CHANGE_MARK.sub("", response.json["title"])
        etag = response.headers["ETag"]
        response = check(
            client.post(f"{url}/versions", headers={**auth, "If-Match": etag}), 201, "new version"
        )
        word = "zz" + "".join(rng.choice(string.ascii_lowercase) for _ in range(10))
        response = check(
            client.patch(
                url,
                json={"title": f"{title} {word}"},
                headers={**auth, "If-Match": response.headers["ETag"]},
            ),
            200,
            "edit",
        )
        searched("draft", word, identifier, True)
        check(
            client.post(f"{url}/publish", headers={**auth, "If-Match": response.headers["ETag"]}),
            200,
            "publish",
        )
        searched("published", word, identifier, False)

    def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
        seconds = [r["seconds"] for r in rows if r["seconds"] is not None]
        return {
            "changes": len(rows),
            "found": len(seconds),
            "max_s": round(max(seconds), 3) if seconds else None,
            "median_s": round(statistics.median(seconds), 3) if seconds else None,
            "max_polls": max((r["polls"] for r in rows), default=0),
        }

    return {step: summary(rows) for step, rows in found.items()}


# --- a design, in a child process -----------------------------------------------------------


def worker_measure(
    url: str,
    config: dict[str, Any],
    rounds: int,
    changes: int,
    runs: int,
    baseline_dir: str | None = None,
    mixes: bool = True,
) -> dict[str, Any]:
    """One design: the mixes (with the dedicated engine beside them), the question and the
    dashboard; or (``mixes`` False) the changes alone."""
    app = make_app(url, config)
    custodian = pick_custodian(app)
    timer = EngineTimer.install(app) if config.get("SEARCH_ENGINE", "sql") != "sql" else None
    headers = {"custodian": {"Authorization": f"Bearer {custodian['token']}"}}
    out: dict[str, Any] = {
        "custodian": {k: v for k, v in custodian.items() if k != "token"},
        "engine": timer.name if timer else None,
    }
    alongside = None
    if baseline_dir:
        from bench import search_baseline

        baseline = search_baseline.Baseline.open(Path(baseline_dir))
        params = {(mix, query_string(p)): p for mix, make in MIXES.items() for _kind, p in make()}
        own = [custodian["organisation"]]

        def alongside(mix: str, query: str) -> dict[str, Any]:
            return baseline.search(params[(mix, query)], own if mix == "custodian" else ())

    if mixes:
        out["mixes"] = run_mixes(app, mix_requests(), rounds, headers, timer, alongside=alongside)
    if runs:
        say("  the variable question and the dashboard")
        out["discovery"] = discovery(app, custodian, runs)
    if changes:
        say(f"  {changes} changes, each until a search finds it, here and in another process")
        poller = Poller(url, config, custodian["token"])
        if timer is not None:
            timer.writes = []
        try:
            out["change"] = change_latency(app, custodian, changes, poller)
        finally:
            poller.close()
        if timer is not None:
            out["engine_writes"] = timer.write_summary()
    if timer is not None:
        out["engine_calls"] = timer.total_calls
        out["engine_refused"] = timer.total_refused
    return out


def run_worker(name: str, **kwargs: Any) -> dict[str, Any]:
    """A step in a fresh interpreter; its progress goes to this process's stderr."""
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", name, json.dumps(kwargs)]
    completed = subprocess.run(  # noqa: S603 - our own script
        command, stdout=subprocess.PIPE, text=True, check=False, cwd=ROOT
    )
    if completed.returncode != 0:
        raise RuntimeError(f"worker {name} failed (its errors are above)")
    return json.loads(completed.stdout.strip().splitlines()[-1])


WORKERS: dict[str, Callable[..., dict[str, Any]]] = {
    "rebuild": worker_rebuild,
    "engine-rebuild": worker_engine_rebuild,
    "baseline": worker_baseline,
    "measure": worker_measure,
    "poller": worker_poller,
}


# --- the whole run --------------------------------------------------------------------------


def code_version() -> str:
    """The commit measured, and the files (outside bench/) changed in the working tree."""

    def git(*args: str) -> str:
        done = subprocess.run(  # noqa: S603 - git, our arguments
            [GIT, *args], capture_output=True, text=True, check=False, cwd=ROOT
        )
        return done.stdout.rstrip("\n")

    changed = [
        line[3:]
        for line in git("status", "--porcelain", "--untracked-files=no").splitlines()
        if not line[3:].startswith("bench/")
    ]
    head = git("rev-parse", "--short", "HEAD") or "unknown"
    if changed:
        return f"commit {head} with uncommitted changes to {', '.join(changed)}"
    return f"commit {head}"


def load_average() -> float:
    return round(os.getloadavg()[0], 2)


def design_config(design: str, kind: str, url: str, args: argparse.Namespace) -> dict[str, Any]:
    """The application's settings for a design, as served: ``TESTING`` off (an engine is kept
    in step by its thread after each commit, not by the next search), no check mode (which
    runs every search on the engine and in SQL), the engine's files in a folder of this
    catalogue under ``--engine-dir``."""
    import hashlib

    folder = (
        Path(args.engine_dir) / f"{kind.lower()}-{hashlib.sha256(url.encode()).hexdigest()[:8]}"
    )
    config: dict[str, Any] = {
        "SEARCH_ENGINE": design,
        "SEARCH_ENGINE_PATH": str(folder),
        "SEARCH_ENGINE_CHECK": False,
        "TESTING": False,
    }
    for item in args.engine_config or []:
        key, _, value = item.partition("=")
        config[key] = value.replace("{db}", kind.lower())
    return config


def bench_database(kind: str, url: str, args: argparse.Namespace) -> dict[str, Any]:
    result: dict[str, Any] = {"database": kind, "load": {"start": load_average()}}
    if not args.reuse:
        from bench.generate_catalogue import generate
        from core import migrate

        say(f"{kind}: migrating and generating the catalogue (without its search index)")
        migrate.upgrade(url)
        started = time.perf_counter()
        summary = generate(
            url,
            datasets=args.datasets,
            variables=args.variables,
            mappings=args.mappings,
            seed=args.seed,
            progress=False,
            hooks=False,
        )
        result["generate_s"] = round(time.perf_counter() - started, 1)
        result["counts"] = summary.get("counts") if isinstance(summary, dict) else None
    if not args.no_rebuild:
        say(f"{kind}: rebuilding the SQL search index (child process)")
        result["rebuild"] = run_worker("rebuild", url=url)
    with contextlib.ExitStack() as stack:
        directory = None
        if not args.no_baseline:
            say(f"{kind}: the dedicated-engine baseline, built and measured alone (child process)")
            directory = stack.enter_context(
                tempfile.TemporaryDirectory(prefix="bench-search-baseline-")
            )
            result["baseline"] = run_worker(
                "baseline", url=url, rounds=args.rounds, directory=directory
            )
        measure_designs(kind, url, args, result, directory)
    result["load"]["end"] = load_average()
    return result


def measure_designs(
    kind: str, url: str, args: argparse.Namespace, result: dict[str, Any], directory: str | None
) -> None:
    """Every index rebuilt first, then each design's mixes on the same catalogue, then the
    changes (which move their datasets to the top of recently-updated orders: after every
    mix, so that the designs' pages can be compared); the engines' changes before the SQL
    statement's, whose changes no engine follows."""
    result["designs"] = {}
    configs = {design: design_config(design, kind, url, args) for design in args.designs}
    for design, config in configs.items():
        if design != "sql" and not args.no_rebuild:
            say(f"{kind}: rebuilding the {design} engine's index (child process)")
            result.setdefault("engine_rebuild", {})[design] = run_worker(
                "engine-rebuild", url=url, config=config
            )
    for design, config in configs.items():
        say(f"{kind}: the mixes through the endpoint, SEARCH_ENGINE={design} (child process)")
        result["designs"][design] = run_worker(
            "measure",
            url=url,
            config=config,
            rounds=args.rounds,
            changes=0,
            runs=args.runs,
            baseline_dir=directory,
        )
    if args.changes:
        for design in sorted(configs, key=lambda d: d == "sql"):
            say(f"{kind}: {args.changes} changes, SEARCH_ENGINE={design} (child process)")
            changed = run_worker(
                "measure",
                url=url,
                config=configs[design],
                rounds=0,
                changes=args.changes,
                runs=0,
                mixes=False,
            )
            for key in ("change", "engine_writes"):
                if key in changed:
                    result["designs"][design][key] = changed[key]


# --- the report -----------------------------------------------------------------------------


def _ms(stats: dict[str, Any] | None, parts: Sequence[str] = ("p50", "p95", "p99")) -> str:
    if not stats:
        return "—"
    values = [f"**{stats[p]}**" if p == "p95" else str(stats[p]) for p in parts]
    return " / ".join(values) + " ms"


def _ratio(a: float | None, b: float | None) -> str:
    if a is None or b is None or not b:
        return "—"
    return f"{a / b:.1f}x"


def endpoint_p95(r: dict[str, Any], design: str, mix: str) -> float | None:
    d = r["designs"].get(design)
    return d["mixes"][mix]["endpoint"]["p95"] if d else None


def paired(r: dict[str, Any], design: str, mix: str) -> dict[str, Any] | None:
    """The dedicated engine's figures measured in the same rounds as ``design``'s (each of its
    searches right after the endpoint's), else those it had alone in its own process."""
    d = r["designs"].get(design)
    if d is not None and "baseline" in d["mixes"][mix]:
        found: dict[str, Any] = d["mixes"][mix]["baseline"]
        return found
    b = r.get("baseline")
    if b is None:
        return None
    return {"endpoint": b["mixes"][mix]["stats"], "by_kind": b["mixes"][mix]["by_kind"]}


def baseline_p95(r: dict[str, Any], mix: str, design: str) -> float | None:
    found = paired(r, design, mix)
    return found["endpoint"]["p95"] if found else None


def indexing_s(r: dict[str, Any], design: str) -> float | None:
    if "rebuild" not in r:
        return None
    if design == "sql":
        return float(r["rebuild"]["seconds"])
    engine = r.get("engine_rebuild", {}).get(design)
    return None if engine is None else r["rebuild"]["seconds"] + engine["seconds"]


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def indexing_table(results: list[dict[str, Any]], designs: Sequence[str]) -> str:
    rows: list[Sequence[str]] = []

    def rebuild(x: dict[str, Any] | None) -> str:
        if not x:
            return "—"
        disk = f", {x['mb_on_disk']} MB on disk" if "mb_on_disk" in x else ""
        return (
            f"{x['seconds']} s, {x['peak_rss_mb']:.0f} MB peak{disk} ({x['documents']:,} documents)"
        )

    rows.append(
        ("SQL search index (`rebuild_index`)", *(rebuild(r.get("rebuild")) for r in results))
    )
    for design in designs:
        if design == "sql":
            continue
        rows.append(
            (
                f"{design} engine (`catalogue.search.engine.rebuild`)",
                *(rebuild(r.get("engine_rebuild", {}).get(design)) for r in results),
            )
        )
        rows.append(
            (
                f"**from scratch, SQL index + {design} engine**",
                *(
                    f"**{s:.1f} s**" if (s := indexing_s(r, design)) is not None else "—"
                    for r in results
                ),
            )
        )
    rows.append(
        (
            "dedicated baseline (tantivy directly, from the catalogue's tables)",
            *(
                (
                    f"{b['build']['seconds']} s, {b['build']['mb_on_disk']} MB on disk, "
                    f"{b['build']['peak_rss_mb']:.0f} MB peak "
                    f"({b['build']['documents']:,} documents)"
                )
                if (b := r.get("baseline"))
                else "—"
                for r in results
            ),
        )
    )
    return table(
        ("indexing from scratch", *(r["database"] for r in results)),
        rows,
    )


def mixes_table(results: list[dict[str, Any]], designs: Sequence[str]) -> str:
    rows: list[Sequence[str]] = []
    for mix in MIXES:
        for design in designs:
            rows.append(
                (
                    mix,
                    DESIGNS.get(design, design),
                    *(
                        _ms(r["designs"][design]["mixes"][mix]["endpoint"])
                        if design in r["designs"]
                        else "—"
                        for r in results
                    ),
                )
            )
            rows.append(
                (
                    mix,
                    f"dedicated baseline, in the same rounds as {design}",
                    *(
                        _ms(found["endpoint"]) if (found := paired(r, design, mix)) else "—"
                        for r in results
                    ),
                )
            )
        rows.append(
            (
                mix,
                "dedicated baseline, alone in its process",
                *(
                    _ms(r["baseline"]["mixes"][mix]["stats"]) if r.get("baseline") else "—"
                    for r in results
                ),
            )
        )
    return table(("mix", "p50 / p95 / p99", *(r["database"] for r in results)), rows)


def ratios_table(results: list[dict[str, Any]], designs: Sequence[str]) -> str:
    rows: list[Sequence[str]] = []
    for mix in MIXES:
        for design in designs:
            rows.append(
                (
                    mix,
                    f"{design} endpoint ÷ dedicated baseline (same rounds)",
                    *(
                        _ratio(endpoint_p95(r, design, mix), baseline_p95(r, mix, design))
                        for r in results
                    ),
                )
            )
        for design in designs:
            if design != "sql" and "sql" in designs:
                rows.append(
                    (
                        mix,
                        f"{design} ÷ sql (new ÷ old)",
                        *(
                            _ratio(endpoint_p95(r, design, mix), endpoint_p95(r, "sql", mix))
                            for r in results
                        ),
                    )
                )
    return table(("mix", "ratio of p95", *(r["database"] for r in results)), rows)


def kinds_table(results: list[dict[str, Any]], designs: Sequence[str]) -> str:
    """Per database: each kind of query, p50 / p95 / p99 of each design and of the baseline in
    the same rounds."""
    parts = ("p50", "p95", "p99")
    out = []
    for r in results:
        rows: list[Sequence[str]] = []
        for mix in MIXES:
            for kind in dict.fromkeys(k for k, _p in MIXES[mix]()):
                cells = []
                for design in designs:
                    d = r["designs"].get(design)
                    cells.append(
                        _ms(d["mixes"][mix]["by_kind"][kind]["endpoint"], parts) if d else "—"
                    )
                    found = paired(r, design, mix)
                    cells.append(_ms(found["by_kind"][kind], parts) if found else "—")
                rows.append((mix, kind, *cells))
        header = [h for d in designs for h in (d, f"baseline beside {d}")]
        out.append(table((r["database"], "kind", *header), rows))
    return "\n\n".join(out)


def split_table(results: list[dict[str, Any]], designs: Sequence[str]) -> str:
    columns = [(r, design) for r in results for design in designs if design in r["designs"]]
    parts = (
        "main statement",
        "other statements",
        "engine",
        "Python (service, page, JSON, Flask)",
        "whole request",
    )
    rows: list[Sequence[str]] = []
    for mix in JUDGED_MIXES:
        for part in parts:
            rows.append(
                (
                    f"{mix}: {part}",
                    *(f"{r['designs'][d]['mixes'][mix]['split_ms'][part]} ms" for r, d in columns),
                )
            )
        rows.append(
            (
                f"{mix}: statements per search",
                *(str(r["designs"][d]["mixes"][mix]["statements_per_search"]) for r, d in columns),
            )
        )
        rows.append(
            (
                f"{mix}: endpoint ÷ all its SQL run directly (p95)",
                *(
                    f"{x}x" if (x := r["designs"][d]["mixes"][mix].get("ratio_all_p95")) else "—"
                    for r, d in columns
                ),
            )
        )
    return table(("mean per search", *(f"{r['database']}, {d}" for r, d in columns)), rows)


def baseline_split(results: list[dict[str, Any]], design: str) -> str:
    lines = []
    for r in results:
        parts = []
        for mix in MIXES:
            found = paired(r, design, mix)
            if found and "split_ms" in found:
                split = found["split_ms"]
                parts.append(
                    f"{mix} {split['page']} ms for the page, {split['counts']} ms for the counts"
                )
        if parts:
            lines.append(
                f"- Dedicated baseline beside {design}, {r['database']}, mean per search: "
                + "; ".join(parts)
                + "."
            )
    return "\n".join(lines)


def change_table(results: list[dict[str, Any]], designs: Sequence[str]) -> str:
    columns = [
        (r, design)
        for r in results
        for design in designs
        if "change" in r["designs"].get(design, {})
    ]
    if not columns:
        return "(not measured)"

    def cell(c: dict[str, Any]) -> str:
        if c["found"] < c["changes"]:
            lost = c["changes"] - c["found"]
            return f"**{lost} of {c['changes']} not found in {CHANGE_TIMEOUT_S:.0f} s**"
        return (
            f"max **{c['max_s'] * 1000:.0f} ms**, median {c['median_s'] * 1000:.0f} ms "
            f"({c['max_polls']} searches at most)"
        )

    steps = {
        "draft": "draft edited → the custodian's search finds it",
        "draft, another process": "… in another process",
        "published": "draft published → an anonymous search finds it",
        "published, another process": "… in another process",
    }
    rows = [
        (
            label,
            *(
                cell(r["designs"][d]["change"][step]) if step in r["designs"][d]["change"] else "—"
                for r, d in columns
            ),
        )
        for step, label in steps.items()
    ]
    notes = [
        f"- {r['database']}, {d}: the engine's writes during the changes (in the process that "
        f"committed): {w['writes']} writes of {w['documents']} documents in all, median "
        f"{w['median_ms']} ms, max {w['max_ms']} ms."
        for r, d in columns
        if (w := r["designs"][d].get("engine_writes")) and w["writes"]
    ]
    return "\n\n".join(
        [
            table(
                ("from the commit returning", *(f"{r['database']}, {d}" for r, d in columns)),
                rows,
            ),
            *(["\n".join(notes)] if notes else []),
        ]
    )


def discovery_table(results: list[dict[str, Any]], designs: Sequence[str]) -> str:
    columns = [
        (r, design)
        for r in results
        for design in designs
        if "discovery" in r["designs"].get(design, {})
    ]
    if not columns:
        return "(not measured)"
    names = list(columns[0][0]["designs"][columns[0][1]]["discovery"])
    rows = []
    for name in names:
        target = columns[0][0]["designs"][columns[0][1]]["discovery"][name]["target"]
        rows.append(
            (
                name,
                f"≤ {TARGETS[f'{target}_p95_ms']:.0f} ms",
                *(_ms(r["designs"][d]["discovery"][name], ("p50", "p95")) for r, d in columns),
            )
        )
    return table(("p50 / p95", "target", *(f"{r['database']}, {d}" for r, d in columns)), rows)


def agreement(results: list[dict[str, Any]], designs: Sequence[str]) -> list[str]:
    """Whether the designs find the same: totals and pages of every search, against sql."""
    out = []
    for r in results:
        if "sql" not in r["designs"]:
            continue
        for design in designs:
            if design == "sql" or design not in r["designs"]:
                continue
            differ = []
            same_pages = same_sets = searches = 0
            for mix in MIXES:
                old = r["designs"]["sql"]["mixes"][mix]
                new = r["designs"][design]["mixes"][mix]
                for query, total in old["hits"].items():
                    searches += 1
                    if new["hits"][query] != total:
                        differ.append(f"`{query}` ({mix}) {total:,} → {new['hits'][query]:,}")
                    if new["pages"][query] == old["pages"][query]:
                        same_pages += 1
                    if set(new["pages"][query]) == set(old["pages"][query]):
                        same_sets += 1
            mixes = r["designs"][design]["mixes"].values()
            timed = sum(m["searches"] for m in mixes)
            asked = sum(m.get("engine_searches", 0) for m in mixes)
            refused = sum(m.get("engine_refused", 0) for m in mixes)
            line = (
                f"- {r['database']}, {design} against sql: {searches - len(differ)} of {searches} "
                f"searches with the same total, {same_sets} with the same datasets on the first "
                f"page, {same_pages} in the same order; {asked:,} of its {timed:,} timed searches "
                "asked the engine, which "
                f"refused {refused:,} (a refused search is answered by the SQL statement)"
            )
            if differ:
                line += "; totals that differ: " + "; ".join(differ[:8])
            out.append(line + ".")
    return out


def verdicts(results: list[dict[str, Any]], design: str) -> tuple[list[str], bool]:
    """The targets, judged on ``design``: the lines and whether any was missed."""
    lines = []
    missed = False

    def judge(ok: bool | None) -> str:
        nonlocal missed
        if ok is None:
            return "not measured"
        if not ok:
            missed = True
        return "met" if ok else "**MISSED**"

    for r in results:
        d = r["designs"].get(design)
        if d is None:
            continue
        name = f"{r['database']}, {design}"
        for mix in JUDGED_MIXES:
            p95 = d["mixes"][mix]["endpoint"]["p95"]
            lines.append(
                f"- {name}: {mix} mix p95 {p95} ms ({judge(p95 <= TARGETS['search_p95_ms'])}, "
                f"target ≤ {TARGETS['search_p95_ms']:.0f} ms)"
            )
        for mix in MIXES:
            base = baseline_p95(r, mix, design)
            p95 = d["mixes"][mix]["endpoint"]["p95"]
            ok = None if base is None else p95 / base <= TARGETS["baseline_ratio"]
            lines.append(
                f"- {name}: {mix} mix, endpoint ÷ dedicated baseline in the same rounds "
                f"{_ratio(p95, base)} "
                f"({judge(ok)}, target ≤ {TARGETS['baseline_ratio']:.0f}x)"
            )
        seconds = indexing_s(r, design)
        lines.append(
            f"- {name}: indexing from scratch "
            + (f"{seconds:.1f} s" if seconds is not None else "—")
            + f" ({judge(None if seconds is None else seconds <= TARGETS['indexing_s'])}, target "
            f"≤ {TARGETS['indexing_s']:.0f} s)"
        )
        if "change" in d:
            rows = list(d["change"].values())
            found = all(c["found"] == c["changes"] for c in rows)
            worst = max(c["max_s"] or 0.0 for c in rows)
            lines.append(
                f"- {name}: a change searchable after its commit, slowest of "
                f"{sum(c['changes'] for c in rows)}: "
                + (f"{worst * 1000:.0f} ms" if found else "not always found")
                + f" ({judge(found and worst <= TARGETS['change_s'])}, target ≤ "
                f"{TARGETS['change_s']:.0f} s)"
            )
        for measure_name, m in d.get("discovery", {}).items():
            target = TARGETS[f"{m['target']}_p95_ms"]
            lines.append(
                f"- {name}: {measure_name} p95 {m['p95']} ms ({judge(m['p95'] <= target)}, "
                f"target ≤ {target:.0f} ms)"
            )
    return lines, missed


def section(
    results: list[dict[str, Any]],
    facts: dict[str, str],
    command: str,
    designs: Sequence[str],
    judged: str,
) -> str:
    listed = []
    for name, make in MIXES.items():
        listed.append(f"- *{name}*:")
        listed.extend(
            f"  - {kind}: `{query_string(params) or '(no parameters)'}`" for kind, params in make()
        )
    slowest = []
    for r in results:
        d = r["designs"].get(judged)
        if d is None:
            continue
        for mix in JUDGED_MIXES:
            for endpoint, direct, query in d["mixes"][mix]["slowest"][:3]:
                also = f", {direct} ms its main statement directly" if direct is not None else ""
                slowest.append(
                    f"- {r['database']}, {mix}: `{query}`: {endpoint} ms "
                    f"({d['mixes'][mix]['hits'][query]:,} hits{also})"
                )
    lines, _missed = verdicts(results, judged)
    loads = "; ".join(
        f"{r['database']} {r['load']['start']} at its start, {r['load']['end']} at its end"
        for r in results
    )
    custodian = next(
        (d["custodian"] for r in results for d in r["designs"].values() if "custodian" in d),
        None,
    )
    who = (
        f"the custodian of the largest organisation ({custodian['drafts']} open drafts)"
        if custodian
        else "a custodian"
    )
    return f"""{SECTION_BEGIN}
## Search (`bench/bench_search.py`)

```
{command}
```

Machine: {", ".join(f"{k} {v}" for k, v in facts.items())}. Load average (1 min): {loads}
(2 cores, shared with other work: timings are noisy).

Every step in a fresh child process. *Endpoint*: `GET /api/v1/search` through the Flask test
client, anonymous (the *custodian* mix as {who}), a warm-up round then the timed rounds,
the three mixes interleaved. *Dedicated baseline*: the same searchable documents indexed in
tantivy directly (`bench/search_baseline.py`: en_stem title, keywords, description and
variable names, labels and descriptions; ancestor-expanded disease and term fields; BM25; one
search for the page of 20 with the total and stored titles, one aggregation for every facet's
counts), the same words, facets, sorts and pages, answered in-process — without ontology
expansion, spellings, suggestions, snippets, matched variables or the small-cell rule. Its
searches run in each design's process right after the endpoint's same search (*in the same
rounds*: the ratios pair them, so that the machine's load of the moment falls on both sides),
and once alone in the process that built it.

### Indexing

{indexing_table(results, designs)}

### Latency per mix

{mixes_table(results, designs)}

{ratios_table(results, designs)}

### p50 / p95 / p99 per kind of query

{kinds_table(results, designs)}

### Where the time goes

{split_table(results, designs)}

{baseline_split(results, judged)}

*Engine*: inside the engine's `search` (timed in the bench process); *all its SQL*: every
statement of the search replayed in turn on a raw DBAPI connection, rows fetched. A
statement's time is its `execute`: SQLite computes much of a statement while its rows are
fetched, so on SQLite part of it is counted under Python.

### One dataset's change, until a search finds it

{change_table(results, designs)}

Each change: a new version of a published dataset of that organisation, its title given a new
unique word (`PATCH`), then published, through the API as its custodian; searched for every
10 ms from the moment the commit returned, until the dataset is on the page: in the process
that committed, and at the same time in another process with its own application (as a
second web worker serves the next request).

### The variable question and the dashboard, with each design

{discovery_table(results, designs)}

### Do the designs find the same?

{chr(10).join(agreement(results, designs)) or "(one design measured)"}

### Verdicts (the default design: `{judged}`)

{chr(10).join(lines)}

### The mixes

{chr(10).join(listed)}

Slowest searches of the default design (p95):
{chr(10).join(slowest)}
{SECTION_END}
"""


def write_results(text: str, path: Path) -> None:
    replace_section(path, text, SECTION_BEGIN, SECTION_END)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--database-url", help="a PostgreSQL server (postgresql+psycopg://…)")
    parser.add_argument("--both", action="store_true", help="SQLite and PostgreSQL")
    parser.add_argument(
        "--reuse",
        action="append",
        help="an already generated catalogue (its URL); repeat for SQLite and PostgreSQL",
    )
    parser.add_argument(
        "--designs",
        type=lambda s: [d for d in s.split(",") if d],
        help="the search designs to measure, comma-separated (default: sql, and embedded when "
        "it exists)",
    )
    parser.add_argument(
        "--engine-config",
        action="append",
        help="KEY=VALUE for the application's config with an engine ({db}: sqlite/postgresql)",
    )
    parser.add_argument(
        "--engine-dir",
        default=str(Path(tempfile.gettempdir()) / "bench-search-engine"),
        help="where the embedded engine's files go (a folder per catalogue)",
    )
    parser.add_argument("--no-rebuild", action="store_true", help="keep the indexes as they are")
    parser.add_argument("--no-baseline", action="store_true", help="skip the dedicated engine")
    parser.add_argument("--changes", type=int, default=10, help="changes timed (0: none)")
    parser.add_argument(
        "--runs",
        type=int,
        default=20,
        help="timed requests of the question and dashboard (0: none)",
    )
    parser.add_argument("--datasets", type=int, default=10_000)
    parser.add_argument("--variables", type=int, default=1_000_000)
    parser.add_argument("--mappings", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--no-write", action="store_true", help="do not touch RESULTS.md")
    parser.add_argument("--save", type=Path, help="also write the measurements as JSON here")
    parser.add_argument("--render", type=Path, help="write the section from a --save file")
    parser.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        name, kwargs = args.worker
        print(json.dumps(WORKERS[name](**json.loads(kwargs))))
        return 0
    judged = default_design()
    if args.render:
        saved = json.loads(args.render.read_text())
        results, facts, command, designs = (
            saved["results"],
            saved["facts"],
            saved["command"],
            saved["designs"],
        )
    else:
        designs = args.designs or available_designs()
        args.designs = designs
        started = time.perf_counter()
        facts = machine_facts()
        facts["code"] = code_version()
        results = []
        if args.reuse:
            from core import migrate

            for url in args.reuse:
                kind = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
                migrate.upgrade(url)  # to the head revision, before anything is measured
                results.append(bench_database(kind, url, args))
        else:
            kinds = (
                ["sqlite", "postgresql"]
                if args.both
                else (["postgresql"] if args.database_url else ["sqlite"])
            )
            with tempfile.TemporaryDirectory(prefix="bench-search-") as workdir:
                for kind in kinds:
                    base = args.database_url or DEFAULT_POSTGRES
                    with scratch_database(
                        kind, base if kind == "postgresql" else None, Path(workdir)
                    ) as url:
                        label = "SQLite" if kind == "sqlite" else "PostgreSQL"
                        results.append(bench_database(label, url, args))
        command = "  ".join(
            [".venv/bin/python bench/bench_search.py", *(sys.argv[1:] if argv is None else argv)]
        )
        facts["whole benchmark"] = f"{time.perf_counter() - started:.0f} s"
        if args.save:
            args.save.write_text(
                json.dumps(
                    {"results": results, "facts": facts, "command": command, "designs": designs},
                    indent=1,
                )
            )
    report = section(results, facts, command, designs, judged)
    print(report)
    if not args.no_write:
        write_results(report, args.results)
    _lines, missed = verdicts(results, judged)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
