"""Ontology benchmarks: load a synthetic 200,000-term ontology and the DUO release, then time
autocomplete and descendants, on SQLite and/or PostgreSQL, each in a fresh migrated database.

    .venv/bin/python bench/bench_ontologies.py                      # SQLite
    .venv/bin/python bench/bench_ontologies.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres
    .venv/bin/python bench/bench_ontologies.py --both               # SQLite, then PostgreSQL

For PostgreSQL the URL names the server (and a database to connect to for CREATE DATABASE); the
benchmark creates its own scratch database there and drops it afterwards. Everything goes
through the same service the CLI uses (``ontologies.services`` with the SYSTEM actor inside an
application context). Each figure comes with a baseline measured in the same run:

- load: rdflib alone parsing the same file into a plain in-memory ``Graph`` (time, peak memory);
- autocomplete: the service's main statement (the prefix-range query on ``term_names``) run on a
  raw DBAPI connection;
- descendants: the count and first-page statements run on a raw DBAPI connection.

Loads run in a child process (``--worker``) so that their peak memory (``ru_maxrss``) is their
own. Results print as a table and replace the ontologies section of ``bench/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.generate_ontology import Summary, generate  # noqa: E402

SHARED = Path(os.environ.get("HARMONY_SHARED_DIR", ROOT.parent / "shared"))
DUO_FILE = SHARED / "ontologies" / "duo-2021-02-23.owl"
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
RESULTS = ROOT / "bench" / "RESULTS.md"
SECTION_BEGIN = "<!-- bench_ontologies:begin -->"
SECTION_END = "<!-- bench_ontologies:end -->"
APP_ENV = {"HARMONY_ENV": "testing"}

TARGETS = {
    "load_s": 60.0,
    "load_rss_mb": 1536.0,
    "duo_s": 1.0,
    "autocomplete_p95_ms": 20.0,
    "descendants_p95_ms": 20.0,
}


# --- helpers --------------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def stats_ms(values: list[float]) -> dict[str, float]:
    ms = [v * 1000 for v in values]
    return {
        "n": len(ms),
        "p50": round(percentile(ms, 50), 2),
        "p95": round(percentile(ms, 95), 2),
        "p99": round(percentile(ms, 99), 2),
        "max": round(max(ms), 2),
        "mean": round(statistics.fmean(ms), 2),
    }


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def machine_facts() -> dict[str, str]:
    facts = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": str(os.cpu_count()),
        "python": platform.python_version(),
    }
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                facts["ram"] = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                facts["cpu"] = line.split(":", 1)[1].strip()
                break
    import sqlite3

    import rdflib
    import sqlalchemy

    facts["cpu calibration"] = f"{cpu_calibration():.2f} s for 10M Python additions"
    facts["sqlite"] = sqlite3.sqlite_version
    facts["rdflib"] = rdflib.__version__
    facts["sqlalchemy"] = sqlalchemy.__version__
    return facts


def cpu_calibration() -> float:
    """Seconds for a fixed pure-Python loop (best of 3): the shared machine's speed varies."""
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        total = 0
        for i in range(10_000_000):
            total += i
        best = min(best, time.perf_counter() - started)
    return best


@contextlib.contextmanager
def scratch_database(kind: str, base_url: str | None, workdir: Path) -> Iterator[str]:
    """A new empty database: a SQLite file in ``workdir`` or a PostgreSQL database created on
    the server of ``base_url``; deleted or dropped afterwards."""
    label = f"harmony_bench_{uuid.uuid4().hex[:10]}"
    if kind == "sqlite":
        path = workdir / f"{label}.sqlite3"
        try:
            yield f"sqlite:///{path}"
        finally:
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    url = make_url(base_url or DEFAULT_POSTGRES)
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{label}"'))
    try:
        yield url.set(database=label).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{label}" WITH (FORCE)'))
        admin.dispose()


def run_worker(*args: str) -> dict[str, Any]:
    """Run this script as a child (``--worker …``); its last stdout line is a JSON result."""
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", *args]
    completed = subprocess.run(  # noqa: S603 - our own script
        command, capture_output=True, text=True, check=False, cwd=ROOT
    )
    if completed.returncode != 0:
        raise RuntimeError(f"worker {args[0]} failed:\n{completed.stderr[-4000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def make_app(url: str) -> Any:
    from core import create_app

    return create_app({"DATABASE_URL": url}, env=APP_ENV)


# --- child processes ------------------------------------------------------------------------


def worker_parse(path: str, fmt: str) -> dict[str, Any]:
    """Baseline: rdflib alone, the whole file into a plain in-memory Graph."""
    from rdflib import Graph

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    graph = Graph()
    graph.parse(path, format=fmt)
    seconds = time.perf_counter() - started
    return {
        "seconds": round(seconds, 3),
        "triples": len(graph),
        "rss_before_mb": round(before / 1024, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def worker_load(url: str, path: str, warmup: str | None) -> dict[str, Any]:
    """One load through the service, as ``harmony ontologies load`` does it."""
    from core.policies import SYSTEM
    from ontologies import services
    from ontologies.loaders import detect_format, parse_file

    app = make_app(url)
    if warmup:  # load rdflib's parser plugin and our modules before the clock starts
        with open(warmup, "rb") as handle:
            parse_file(handle, detect_format(warmup, None))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    phases: list[tuple[str, float]] = []
    with app.app_context():
        started = time.perf_counter()

        def on_phase(phase: str) -> None:
            phases.append((phase, time.perf_counter() - started))

        with open(path, "rb") as handle:
            report = services.load_ontology(
                SYSTEM, handle, filename=Path(path).name, on_phase=on_phase
            )
        seconds = time.perf_counter() - started
    marks = [("parsing", 0.0), *phases, ("end", seconds)]
    breakdown = {name: round(marks[i + 1][1] - at, 2) for i, (name, at) in enumerate(marks[:-1])}
    return {
        "seconds": round(seconds, 3),
        "status": report.status,
        "total": report.total,
        "warnings": report.warnings,
        "phases": breakdown,
        "rss_before_mb": round(before / 1024, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


# --- measurements in this process -----------------------------------------------------------


def duo_loads(app: Any, repeat: int) -> dict[str, Any]:
    """Load the DUO release ``repeat`` times (removing it in between); the first run is the
    warm-up (cold caches in this process) and reported apart."""
    from sqlalchemy import delete, select

    from core.db import get_session
    from core.policies import SYSTEM
    from ontologies import services
    from ontologies.models import (
        Ontology,
        Term,
        TermClosure,
        TermEdge,
        TermName,
        TermSynonym,
        TermXref,
    )

    def remove() -> None:
        session = get_session()
        duo = select(Term.curie).where(Term.ontology_prefix == "DUO")
        session.execute(delete(TermName).where(TermName.ontology_prefix == "DUO"))
        session.execute(delete(TermClosure).where(TermClosure.descendant_curie.in_(duo)))
        session.execute(delete(TermEdge).where(TermEdge.child_curie.in_(duo)))
        session.execute(delete(TermSynonym).where(TermSynonym.term_curie.in_(duo)))
        session.execute(delete(TermXref).where(TermXref.term_curie.in_(duo)))
        session.execute(delete(Term).where(Term.ontology_prefix == "DUO"))
        session.execute(delete(Ontology).where(Ontology.prefix == "DUO"))
        session.commit()

    times, terms = [], 0
    for _ in range(repeat + 1):
        with app.app_context():
            started = time.perf_counter()
            with DUO_FILE.open("rb") as handle:
                report = services.load_ontology(SYSTEM, handle, filename=DUO_FILE.name)
            times.append(time.perf_counter() - started)
            if report.status != "loaded":
                raise RuntimeError(f"DUO load: {report}")
            terms = report.total
            remove()
    return {
        "cold_s": round(times[0], 3),
        "runs_s": [round(t, 3) for t in times[1:]],
        "p50_s": round(statistics.median(times[1:]), 3),
        "max_s": round(max(times[1:]), 3),
        "terms": terms,
    }


SHORT_PREFIXES = (
    "le", "leu", "leuk", "leuko", "acu", "acut", "my", "mye", "myel", "myo", "lym", "lymph", "ly",
    "ch", "chr", "neo", "car", "carc", "thr", "hep", "ren", "ac", "in", "inf", "pul", "hyp",
    "dys", "sy", "syn", "ca", "b c", "t ce", "mas", "his", "an", "ane", "sa", "sar", "fo", "fol",
    "ma", "mal", "pr", "pri", "re", "ref", "se", "sev", "ne", "neu", "en", "enc", "ost", "ad",
    "aden", "me", "mye", "gr", "gra", "th",
)  # fmt: skip


def _typo(text: str, rng: random.Random) -> str:
    """One edit (deletion, transposition or substitution) after the first two characters."""
    if len(text) < 5:
        return text
    i = rng.randrange(2, len(text) - 1)
    kind = rng.choice(("delete", "swap", "substitute"))
    if kind == "delete":
        return text[:i] + text[i + 1 :]
    if kind == "swap":
        return text[:i] + text[i + 1] + text[i] + text[i + 2 :]
    return text[:i] + rng.choice("aeioulnrst") + text[i + 1 :]


def query_mix(summary: Summary, seed: int) -> list[tuple[str, str]]:
    """(category, query) pairs: short prefixes, whole labels, synonyms, abbreviations, word
    prefixes, typos and identifiers; fixed for a given seed."""
    rng = random.Random(seed)
    labels = summary.sample_labels
    mix: list[tuple[str, str]] = [("short prefix", q) for q in SHORT_PREFIXES]
    mix += [("whole label", q) for q in rng.sample(labels, min(50, len(labels)))]
    mix += [
        ("synonym", q)
        for q in rng.sample(summary.sample_synonyms, min(20, len(summary.sample_synonyms)))
    ]
    abbreviations = sorted(set(summary.sample_abbreviations))
    mix += [("abbreviation", q) for q in rng.sample(abbreviations, min(35, len(abbreviations)))]
    for label in rng.sample(labels, min(40, len(labels))):
        words = label.split(" ")
        if len(words) >= 3:
            # a later word and the start of the next: "myeloid leu"
            start = rng.randrange(1, len(words) - 1)
            query = f"{words[start]} {words[start + 1][: rng.randint(2, 5)]}"
        else:
            query = words[-1][: rng.randint(3, len(words[-1]))]
        mix.append(("word prefix", query))
    for label in rng.sample(labels, min(40, len(labels))):
        words = label.split(" ")
        text = " ".join(words[-2:]) if len(words) >= 2 and rng.random() < 0.5 else words[-1]
        mix.append(("typo", _typo(text, rng)))
    for _ in range(10):
        mix.append(("identifier", f"SYN:{rng.randint(1, summary.terms):07d}"))
    return mix


def time_calls(app: Any, call: Callable[[], Any], repeat: int) -> tuple[list[float], Any]:
    """Time ``call`` in a fresh application context each time (a new session, as a request
    gets)."""
    times, result = [], None
    for _ in range(repeat):
        with app.app_context():
            started = time.perf_counter()
            result = call()
            times.append(time.perf_counter() - started)
    return times, result


def _literal_sql(statement: Any, dialect: Any) -> str:
    return str(statement.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))


def autocomplete(app: Any, mix: list[tuple[str, str]], rounds: int) -> dict[str, Any]:
    from core.policies import SYSTEM
    from ontologies import services

    for _, query in mix:  # warm-up: every query once
        with app.app_context():
            services.search_terms(SYSTEM, query, limit=10)
    times: list[float] = []
    by_category: dict[str, list[float]] = {}
    empty = set()
    for _ in range(rounds):
        for category, query in mix:
            with app.app_context():
                started = time.perf_counter()
                hits = services.search_terms(SYSTEM, query, limit=10)
                elapsed = time.perf_counter() - started
            times.append(elapsed)
            by_category.setdefault(category, []).append(elapsed)
            if not hits:
                empty.add(query)
    # baseline: the main statement (prefix range over term_names) on a raw DBAPI connection
    raw_times = raw_prefix_times(app.extensions["harmony_db"].engine, [q for _, q in mix], rounds)
    return {
        "queries": len(mix),
        "rounds": rounds,
        "service": stats_ms(times),
        "by_category": {c: stats_ms(v) for c, v in by_category.items()},
        "raw": stats_ms(raw_times),
        "empty": sorted(empty),
    }


def prefix_statement(name: str, limit: int = 10) -> Any:
    """The main autocomplete statement, as ``services.search_terms`` builds it."""
    from sqlalchemy import select

    from ontologies.models import TermName
    from ontologies.text import prefix_upper_bound

    return (
        select(TermName.term_curie, TermName.name)
        .where(
            TermName.is_word_start.is_(False),
            TermName.name >= name,
            TermName.name < prefix_upper_bound(name),
            TermName.is_obsolete.is_(False),
        )
        .order_by(TermName.name)
        .limit(limit * 5)
    )


def raw_prefix_times(engine: Any, queries: list[str], rounds: int) -> list[float]:
    from ontologies.text import normalise

    statements = [
        _literal_sql(prefix_statement(name), engine.dialect)
        for q in queries
        if (name := normalise(q))
    ]
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        for sql in statements:  # warm-up
            cursor.execute(sql)
            cursor.fetchall()
        times = []
        for _ in range(rounds):
            for sql in statements:
                started = time.perf_counter()
                cursor.execute(sql)
                cursor.fetchall()
                times.append(time.perf_counter() - started)
        cursor.close()
        connection.rollback()
    finally:
        connection.close()
    return times


def descendants(app: Any, curie: str, repeat: int, expected: int) -> dict[str, Any]:
    from sqlalchemy import select

    from core.policies import SYSTEM
    from ontologies import services
    from ontologies.models import Term, TermClosure

    call = lambda: services.descendants(SYSTEM, curie, page=1, per_page=50)  # noqa: E731
    time_calls(app, call, 5)  # warm-up
    times, page = time_calls(app, call, repeat)
    if page.total != expected or len(page.items) != 50:
        raise RuntimeError(f"descendants: {page.total} (expected {expected}), {len(page.items)}")
    # the service's two statements: every (descendant, depth) from the closure index, then
    # the terms at the depths the first page reaches into, joined and sorted by label
    conditions = [TermClosure.ancestor_curie == curie, TermClosure.depth > 0]
    engine = app.extensions["harmony_db"].engine
    scan_sql = _literal_sql(
        select(TermClosure.descendant_curie, TermClosure.depth).where(*conditions), engine.dialect
    )

    def page_sql(reached: list[str]) -> str:
        return _literal_sql(
            select(Term, TermClosure.depth)
            .join(TermClosure, TermClosure.descendant_curie == Term.curie)
            .where(*conditions, TermClosure.descendant_curie.in_(reached))
            .order_by(TermClosure.depth, Term.label)
            .limit(50)
            .offset(0),
            engine.dialect,
        )

    raw: dict[str, list[float]] = {"count": [], "page": [], "both": []}
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        for round_ in range(repeat + 5):
            started = time.perf_counter()
            cursor.execute(scan_sql)
            by_depth: dict[int, list[str]] = {}
            for below, depth in cursor.fetchall():
                by_depth.setdefault(depth, []).append(below)
            reached: list[str] = []
            for depth in sorted(by_depth):
                reached += by_depth[depth]
                if len(reached) >= 50:
                    break
            middle = time.perf_counter()
            cursor.execute(page_sql(reached))
            cursor.fetchall()
            ended = time.perf_counter()
            if round_ >= 5:
                raw["count"].append(middle - started)
                raw["page"].append(ended - middle)
                raw["both"].append(ended - started)
        cursor.close()
        connection.rollback()
    finally:
        connection.close()
    return {
        "total": page.total,
        "service": stats_ms(times),
        "raw_count": stats_ms(raw["count"]),
        "raw_page": stats_ms(raw["page"]),
        "raw": stats_ms(raw["both"]),
    }


# --- one database ---------------------------------------------------------------------------


@dataclass
class DatabaseResult:
    kind: str
    server: str
    load: dict[str, Any] = field(default_factory=dict)
    duo: dict[str, Any] = field(default_factory=dict)
    autocomplete: dict[str, Any] = field(default_factory=dict)
    descendants: dict[str, Any] = field(default_factory=dict)


def bench_database(
    kind: str,
    base_url: str | None,
    workdir: Path,
    data: Path,
    warmup_file: Path,
    summary: Summary,
    args: argparse.Namespace,
) -> DatabaseResult:
    from sqlalchemy import create_engine, text

    from core import migrate

    with scratch_database(kind, base_url, workdir) as url:
        say(f"[{kind}] migrating a fresh database")
        migrate.upgrade(url)
        result = DatabaseResult(kind=kind, server="")
        if kind == "postgresql":
            engine = create_engine(url)
            with engine.connect() as connection:
                result.server = str(connection.execute(text("SHOW server_version")).scalar())
            engine.dispose()
        else:
            import sqlite3

            result.server = sqlite3.sqlite_version
        say(f"[{kind}] loading {data.name} through services.load_ontology (child process)")
        result.load = run_worker("load", url, str(data), str(warmup_file))
        say(f"[{kind}]   {result.load['seconds']} s, peak {result.load['peak_rss_mb']} MB")
        app = make_app(url)
        say(f"[{kind}] loading the DUO release {args.duo_runs} times after a warm-up")
        result.duo = duo_loads(app, args.duo_runs)
        say(f"[{kind}] autocomplete: {args.rounds} rounds of the query mix")
        result.autocomplete = autocomplete(app, query_mix(summary, args.seed), args.rounds)
        say(f"[{kind}] descendants of {summary.designated}")
        result.descendants = descendants(
            app, summary.designated, args.descendant_runs, summary.designated_descendants
        )
        app.extensions["harmony_db"].engine.dispose()
    return result


# --- report ---------------------------------------------------------------------------------


def _verdict(value: float, target: float) -> str:
    return "pass" if value <= target else "FAIL"


def rows_for(result: DatabaseResult, baseline: dict[str, Any], duo_baseline: dict[str, Any]):
    """(measure, value, target, verdict, baseline, ratio) rows for one database."""
    load, duo, ac, de = result.load, result.duo, result.autocomplete, result.descendants
    parse_rss = baseline.get("peak_rss_mb")
    return [
        (
            "load 200k terms (s)",
            f"{load['seconds']:.1f}",
            "≤ 60",
            _verdict(load["seconds"], TARGETS["load_s"]),
            f"rdflib Graph parse {baseline['seconds']:.1f} s",
            f"{load['seconds'] / baseline['seconds']:.2f}x",
        ),
        (
            "load 200k peak memory (MB RSS)",
            f"{load['peak_rss_mb']:.0f}",
            "≤ 1536",
            _verdict(load["peak_rss_mb"], TARGETS["load_rss_mb"]),
            f"rdflib Graph parse {parse_rss:.0f} MB" if parse_rss else "could not measure",
            f"{load['peak_rss_mb'] / parse_rss:.2f}x" if parse_rss else "—",
        ),
        (
            "load DUO release (s, worst of runs)",
            f"{duo['max_s']:.3f} (p50 {duo['p50_s']:.3f}, cold {duo['cold_s']:.3f})",
            "≤ 1",
            _verdict(duo["max_s"], TARGETS["duo_s"]),
            f"rdflib Graph parse {duo_baseline['seconds']:.3f} s",
            f"{duo['max_s'] / duo_baseline['seconds']:.2f}x",
        ),
        (
            "autocomplete p50 / p95 / p99 / max (ms)",
            f"{ac['service']['p50']} / {ac['service']['p95']} / {ac['service']['p99']} / "
            f"{ac['service']['max']}",
            "p95 ≤ 20",
            _verdict(ac["service"]["p95"], TARGETS["autocomplete_p95_ms"]),
            f"raw prefix statement p50 {ac['raw']['p50']} / p95 {ac['raw']['p95']} ms",
            f"{ac['service']['p95'] / max(ac['raw']['p95'], 1e-3):.1f}x (p95)",
        ),
        (
            f"descendants (count + first 50 of {de['total']:,}) p50 / p95 (ms)",
            f"{de['service']['p50']} / {de['service']['p95']}",
            "p95 ≤ 20",
            _verdict(de["service"]["p95"], TARGETS["descendants_p95_ms"]),
            f"raw closure scan + page p50 {de['raw']['p50']} / p95 {de['raw']['p95']} ms",
            f"{de['service']['p95'] / max(de['raw']['p95'], 1e-3):.1f}x (p95)",
        ),
    ]


def markdown_table(headers: list[str], rows: list[tuple[str, ...]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def render(
    facts: dict[str, str],
    command: str,
    summary: Summary,
    generated_s: float,
    baseline: dict[str, Any],
    duo_baseline: dict[str, Any],
    results: list[DatabaseResult],
    bench_s: float,
) -> str:
    names = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
    rows = []
    for result in results:
        for row in rows_for(result, baseline, duo_baseline):
            rows.append((f"{names[result.kind]} {result.server}", *row))
    table = markdown_table(
        ["database", "measure", "value", "target", "verdict", "baseline (same run)", "ratio"],
        rows,
    )
    details = []
    for result in results:
        label = names[result.kind]
        phases = ", ".join(f"{k} {v} s" for k, v in result.load["phases"].items())
        categories = markdown_table(
            ["query kind", "n", "p50", "p95", "p99", "max"],
            [
                (c, s["n"], s["p50"], s["p95"], s["p99"], s["max"])
                for c, s in result.autocomplete["by_category"].items()
            ],
        )
        de = result.descendants
        details.append(
            f"**{label}.** Load phases: {phases}; process RSS before the load "
            f"{result.load['rss_before_mb']:.0f} MB. DUO runs: {result.duo['runs_s']} s "
            f"({result.duo['terms']} terms). Descendants: raw closure scan (count) p95 "
            f"{de['raw_count']['p95']} ms, raw page p95 {de['raw_page']['p95']} ms. "
            f"Autocomplete queries with no hit: {len(result.autocomplete['empty'])} of "
            f"{result.autocomplete['queries']}.\n\n"
            f"Autocomplete by query kind (ms, through the service):\n\n{categories}\n"
        )
    facts_line = ", ".join(f"{k} {v}" for k, v in facts.items())
    return f"""{SECTION_BEGIN}
## Ontologies: 200,000-term load, DUO load, autocomplete, descendants

Machine and date: {facts_line}.

Commands (from the repository root):

```
{command}
```

Data: `bench/generate_ontology.py --terms {summary.terms} --format ttl --seed
{command_seed(command)}` (generated by the benchmark in {generated_s:.1f} s):
{summary.terms:,} classes, {summary.triples:,} triples, {summary.two_parents:,} terms with two
parents, {summary.obsolete} obsolete, depths {summary.depths}; the designated term
{summary.designated} has {summary.designated_descendants:,} descendants. Baseline parse of the
same file by rdflib into a plain `Graph`: {baseline["seconds"]:.1f} s,
{baseline["triples"]:,} triples, peak {baseline["peak_rss_mb"]:.0f} MB RSS. DUO release:
`{DUO_FILE.name}`.

How it is measured: loads run through `ontologies.services.load_ontology` with the SYSTEM actor
in an application context, in a child process per load (peak memory is that process's
`ru_maxrss`, interpreter and application included; the clock starts after the imports and a
warm-up parse of a small file). DUO is loaded {len(results[0].duo["runs_s"]) if results else 0}
times after one warm-up load (removed in between, into the database that holds the 200k terms);
the verdict uses the worst run. Autocomplete runs every query of a fixed mix of
{results[0].autocomplete["queries"] if results else 0} queries (short prefixes, whole labels,
synonyms, abbreviations, word prefixes, one-edit typos, CURIEs) once as warm-up, then
{results[0].autocomplete["rounds"] if results else 0} timed rounds, each call in a fresh
application context (a new session, as a request gets), `limit=10`. Descendants: 5 warm-up
calls, then timed calls of `services.descendants(…, page=1, per_page=50)` (the count and the
first page). Baselines: the main SQL statement(s) run on a raw DBAPI connection — for
autocomplete the prefix-range query on `term_names`, for descendants the service's two
statements (the scan of the term's closure rows, which gives the count, and the first page);
ratios compare p95s (service ÷ baseline; for the load, service ÷
rdflib parse). Whole benchmark: {bench_s:.0f} s.

{table}

{chr(10).join(details)}
{SECTION_END}
"""


def command_seed(command: str) -> str:
    parts = command.split()
    return parts[parts.index("--seed") + 1] if "--seed" in parts else "1"


def replace_section(path: Path, section: str, begin: str, end: str) -> None:
    """Put ``section`` (which starts with ``begin`` and ends with ``end``) in RESULTS.md at
    ``path``: in place of the old one between the same markers, else at the end. Every bench
    script writes its own section this way."""
    text = path.read_text() if path.exists() else "# Benchmark results\n"
    if begin in text and end in text:
        before = text[: text.index(begin)]
        after = text[text.index(end) + len(end) :]
        text = before + section.strip() + after
    else:
        text = text.rstrip() + "\n\n" + section.strip() + "\n"
    path.write_text(text)


def write_results(section: str, path: Path) -> None:
    replace_section(path, section, SECTION_BEGIN, SECTION_END)


def print_table(results: list[DatabaseResult], baseline, duo_baseline) -> None:
    names = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
    rows = [(names[r.kind], *row) for r in results for row in rows_for(r, baseline, duo_baseline)]
    headers = ("database", "measure", "value", "target", "verdict", "baseline", "ratio")
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows, strict=False)]
    for row in (headers, *rows):
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=False)))


# --- main -----------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help="a PostgreSQL server (postgresql+psycopg://…)")
    parser.add_argument("--both", action="store_true", help="SQLite and PostgreSQL")
    parser.add_argument("--terms", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds of the query mix")
    parser.add_argument("--descendant-runs", type=int, default=100)
    parser.add_argument("--duo-runs", type=int, default=5)
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--no-write", action="store_true", help="do not touch RESULTS.md")
    parser.add_argument("--no-baseline-parse", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        kind, *rest = args.worker
        if kind == "parse":
            result = worker_parse(*rest)
        elif kind == "load":
            result = worker_load(rest[0], rest[1], rest[2] if len(rest) > 2 else None)
        else:
            raise SystemExit(f"unknown worker {kind}")
        print(json.dumps(result))
        return 0

    started = time.perf_counter()
    targets: list[tuple[str, str | None]] = []
    if args.both:
        base = args.database_url or os.environ.get("TEST_DATABASE_URL") or DEFAULT_POSTGRES
        targets = [("sqlite", None), ("postgresql", base)]
    elif args.database_url:
        targets = [("postgresql", args.database_url)]
    else:
        targets = [("sqlite", None)]
    for _kind, url in targets:
        if url and not url.startswith("postgresql"):
            raise SystemExit(f"--database-url must be PostgreSQL, not {url}")
    if not DUO_FILE.is_file():
        raise SystemExit(f"the DUO release is not at {DUO_FILE} (set HARMONY_SHARED_DIR)")

    facts = machine_facts()
    workdir = Path(tempfile.mkdtemp(prefix="harmony-bench-"))
    results: list[DatabaseResult] = []
    try:
        data = workdir / "synthetic.ttl"
        say(f"generating {args.terms:,} terms into {data}")
        gen_started = time.perf_counter()
        summary = generate(data, terms=args.terms, fmt="ttl", seed=args.seed)
        generated_s = time.perf_counter() - gen_started
        warmup = workdir / "warmup.ttl"
        generate(warmup, terms=2000, fmt="ttl", seed=args.seed + 7, progress=False)
        say(f"designated term {summary.designated}: {summary.designated_descendants} below")
        say("baseline: rdflib parsing the same file into a Graph (child process)")
        baseline = run_worker("parse", str(data), "turtle")
        say(f"  {baseline['seconds']} s, peak {baseline['peak_rss_mb']} MB")
        duo_baseline = run_worker("parse", str(DUO_FILE), "xml")
        for kind, url in targets:
            results.append(bench_database(kind, url, workdir, data, warmup, summary, args))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    bench_s = time.perf_counter() - started

    print_table(results, baseline, duo_baseline)
    command = ".venv/bin/python bench/bench_ontologies.py " + " ".join(
        sys.argv[1:] if argv is None else argv
    )
    section = render(
        facts, command.strip(), summary, generated_s, baseline, duo_baseline, results, bench_s
    )
    if not args.no_write:
        write_results(section, args.results)
        say(f"wrote the ontologies section of {args.results}")
    failed = [r for res in results for r in rows_for(res, baseline, duo_baseline) if r[3] == "FAIL"]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
