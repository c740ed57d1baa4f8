"""Benchmark: writers and searchers at once against the served application, on SQLite and
PostgreSQL.

    .venv/bin/python bench/bench_concurrency.py            # SQLite
    .venv/bin/python bench/bench_concurrency.py --both     # SQLite, then PostgreSQL

For each database it makes a scratch database (migrated, the bundled vocabularies, a catalogue of
``--datasets`` published datasets to search and one draft per writer), serves it with gunicorn as
``make run`` does (``--workers 2``, sync workers) and runs three phases of real HTTP clients:

1. writers alone: ``--writers`` clients, each editing its own dataset ``--edits`` times
   (GET for the ETag, then PATCH with If-Match): the baseline of the writes;
2. readers alone: ``--readers`` clients, each running ``--searches`` searches (a mix of words):
   the baseline of the searches;
3. both at once.

It reports writes/s and their p95, search p95, every response ≥ 500 (required: none), and checks
that no write was lost or duplicated (the history of each dataset has exactly one row per 200).
Ratios compare phase 3 with its baseline in the same run. Figures go to ``bench/RESULTS.md``
between the ``bench_concurrency`` markers.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from threading import Barrier
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.dbutil import fresh_database  # noqa: E402 - after the path is set
from tests.gunicorn import gunicorn, server_errors  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
BEGIN, END = "<!-- bench_concurrency:begin -->", "<!-- bench_concurrency:end -->"
WORDS = ["leukaemia", "myeloid", "cohort", "trial", "myeloma", "lymphoma", "transplant", "AML"]
PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


@dataclass
class Phase:
    name: str
    seconds: float = 0.0
    writes: list[tuple[int, float]] = field(default_factory=list)  # (status, ms) of PATCHes
    reads: list[tuple[int, float]] = field(default_factory=list)  # (status, ms) of searches
    other: list[int] = field(default_factory=list)  # statuses of the GETs before each PATCH


@dataclass
class Result:
    database: str
    phases: dict[str, Phase]
    lost: int
    server_errors: int


@contextmanager
def scratch_database(kind: str, pg_url: str) -> Iterator[str]:
    with tempfile.TemporaryDirectory() as folder:
        if kind == "sqlite":
            yield f"sqlite:///{folder}/bench.sqlite3"
        else:
            with fresh_database(Path(folder), "bench_concurrency", pg_url) as url:
                yield url


def prepare(url: str, writers: int, published: int) -> tuple[list[str], list[str]]:
    """The catalogue to search, and (tokens, draft identifiers) for the writers."""
    from catalogue.datasets import services as datasets
    from core import create_app, migrate, services
    from core.db import get_session
    from core.policies import SYSTEM
    from ontologies.bundled import load_bundled

    migrate.upgrade(url)
    app = create_app({"DATABASE_URL": url}, env={"HARMONY_ENV": "testing"})
    diseases = ["NCIT:C3171", "NCIT:C3247", "NCIT:C3242", "NCIT:C3163", "NCIT:C8851"]
    kinds = ["myeloid leukaemia trial", "myeloma cohort", "lymphoma registry", "transplant study"]
    with app.app_context():
        load_bundled(SYSTEM)
        organisation = services.create_organisation(
            SYSTEM, {"name": "Bench Haematology Centre", "country": "NL", "kind": "hospital"}
        )
        user = services.create_user(
            SYSTEM,
            {
                "email": "bench-custodian@example.org",
                "name": "Bench Custodian",
                "password": "bench password for writers",
                "roles": [{"role": "custodian", "organisation_id": organisation.id}],
                "organisation_id": organisation.id,
            },
        )
        owner = get_session().get(type(user), user.id)
        tokens = [services.create_token(SYSTEM, owner, f"writer {i}", 5)[1] for i in range(writers)]  # type: ignore[arg-type]

        def new(title: str, n: int) -> str:
            dataset = datasets.create_dataset(
                SYSTEM,
                {
                    "title": title,
                    "description": f"A synthetic {kinds[n % len(kinds)]} for the benchmark.",
                    "diseases": [diseases[n % len(diseases)]],
                    "source_type": "clinical_trial",
                    "contact_name": "Data Desk",
                    "contact_email": "data@example.org",
                    "organisation_id": organisation.id,
                    "patients": 100 + n,
                    "keywords": kinds[n % len(kinds)].split(),
                },
            )
            return dataset.identifier

        for n in range(published):
            identifier = new(f"{kinds[n % len(kinds)].capitalize()} {n}", n)
            datasets.publish(SYSTEM, identifier, datasets.UNCHECKED)
        drafts = [new(f"Writer {i}'s draft", i) for i in range(writers)]
    app.extensions["harmony_db"].engine.dispose()
    return tokens, drafts


def timed(
    call: Callable[..., requests.Response], *args: Any, **kwargs: Any
) -> tuple[int, float, requests.Response]:
    started = time.perf_counter()
    answer = call(*args, timeout=120, **kwargs)
    return answer.status_code, (time.perf_counter() - started) * 1000, answer


def run_phase(
    name: str, base: str, tokens: list[str], drafts: list[str], args: argparse.Namespace,
    writers: bool, readers: bool,
) -> Phase:  # fmt: skip
    phase = Phase(name)
    clients: list[Callable[[], None]] = []

    def writer(i: int) -> None:
        auth = {"Authorization": f"Bearer {tokens[i]}"}
        url = f"{base}/api/v1/datasets/{drafts[i]}"
        with requests.Session() as http:
            for n in range(args.edits):
                status, _, got = timed(http.get, url, headers=auth)
                phase.other.append(status)
                status, ms, _ = timed(
                    http.patch,
                    url,
                    json={"description": f"Edit {n} by writer {i} in {name}."},
                    headers={**auth, "If-Match": got.headers.get("ETag", "")},
                )
                phase.writes.append((status, ms))

    def reader(i: int) -> None:
        with requests.Session() as http:
            for n in range(args.searches):
                word = WORDS[(i + n) % len(WORDS)]
                status, ms, _ = timed(http.get, f"{base}/api/v1/search", params={"q": word})
                phase.reads.append((status, ms))

    if writers:
        clients += [lambda i=i: writer(i) for i in range(len(tokens))]
    if readers:
        clients += [lambda i=i: reader(i) for i in range(args.readers)]
    start = Barrier(len(clients) + 1)

    def run(client: Callable[[], None]) -> None:
        start.wait()
        client()

    with ThreadPoolExecutor(max_workers=len(clients)) as pool:
        futures = [pool.submit(run, c) for c in clients]
        start.wait()
        began = time.perf_counter()
        for future in futures:
            future.result()
        phase.seconds = time.perf_counter() - began
    return phase


def history_rows(url: str, drafts: list[str]) -> int:
    from sqlalchemy import func, select

    from catalogue.models import Dataset
    from core import create_app
    from core.audit import AuditEvent
    from core.db import get_session

    app = create_app({"DATABASE_URL": url}, env={"HARMONY_ENV": "testing"})
    with app.app_context():
        count = get_session().scalar(
            select(func.count())
            .select_from(AuditEvent)
            .join(Dataset, Dataset.id == AuditEvent.object_id)
            .where(
                AuditEvent.object_type == "dataset",
                AuditEvent.action == "dataset.updated",
                Dataset.identifier.in_(drafts),
            )
        )
    app.extensions["harmony_db"].engine.dispose()
    return int(count or 0)


def bench(kind: str, args: argparse.Namespace) -> Result:
    with scratch_database(kind, args.pg) as url, tempfile.TemporaryDirectory() as folder:
        print(f"[{kind}] preparing {args.datasets} datasets …", file=sys.stderr)
        tokens, drafts = prepare(url, args.writers, args.datasets)
        before = history_rows(url, drafts)
        log_path = Path(folder) / "gunicorn.log"
        phases: dict[str, Phase] = {}
        with gunicorn(url, log_path, "--workers", "2") as base:
            for name, w, r in (("writers alone", True, False), ("readers alone", False, True),
                               ("writers and readers", True, True)):  # fmt: skip
                print(f"[{kind}] {name} …", file=sys.stderr)
                phases[name] = run_phase(name, base, tokens, drafts, args, w, r)
        successes = sum(1 for p in phases.values() for s, _ in p.writes if s == 200)
        lost = abs(history_rows(url, drafts) - before - successes)
        errors = len(server_errors(log_path))
        database = "SQLite" if kind == "sqlite" else "PostgreSQL"
        return Result(database, phases, lost, errors)


def p95(values: list[float]) -> float:
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=20, method="inclusive")[18]


def report(results: list[Result], args: argparse.Namespace, command: str, seconds: float) -> str:
    lines = [
        BEGIN,
        "## Concurrent writers and searchers (served by gunicorn)",
        "",
        f"Machine and date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, nproc {os.cpu_count()}, "
        f"python {sys.version.split()[0]}, load average when it ended "
        f"{os.getloadavg()[0]:.1f} (1 min). Whole benchmark: {seconds:.0f} s.",
        "",
        "Command (from the repository root):",
        "",
        "```",
        command,
        "```",
        "",
        f"Served as `make run` does: gunicorn `--workers 2` (sync workers), a catalogue of "
        f"{args.datasets} published datasets. {args.writers} writers each edit their own draft "
        f"{args.edits} times (GET for the ETag, PATCH with If-Match); {args.readers} readers each "
        f"run {args.searches} searches. Baselines are the same clients alone in the same run; "
        "ratio = together ÷ alone. Required: no response ≥ 500, no write lost or duplicated "
        "(history rows = successful PATCHes).",
        "",
        "| database | phase | writes/s | write p95 (ms) | write statuses | searches/s | "
        "search p95 (ms) | search statuses |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for result in results:
        for phase in result.phases.values():
            w = [ms for _, ms in phase.writes]
            r = [ms for _, ms in phase.reads]
            ws = sorted({s for s, _ in phase.writes} | set(phase.other))
            rs = sorted({s for s, _ in phase.reads})
            lines.append(
                f"| {result.database} | {phase.name} | "
                + (f"{len(w) / phase.seconds:.1f} | {p95(w):.0f} | {ws}" if w else "— | — | —")
                + " | "
                + (f"{len(r) / phase.seconds:.1f} | {p95(r):.0f} | {rs}" if r else "— | — | —")
                + " |"
            )
    lines += ["", "| database | write p95 together ÷ alone | search p95 together ÷ alone | "
              "writes/s together ÷ alone | responses ≥ 500 | writes lost or duplicated |",
              "|---|---|---|---|---|---|"]  # fmt: skip
    for result in results:
        alone_w, alone_r = result.phases["writers alone"], result.phases["readers alone"]
        both = result.phases["writers and readers"]
        ratio_w = p95([m for _, m in both.writes]) / max(p95([m for _, m in alone_w.writes]), 1e-9)
        ratio_r = p95([m for _, m in both.reads]) / max(p95([m for _, m in alone_r.reads]), 1e-9)
        rate = (len(both.writes) / both.seconds) / max(len(alone_w.writes) / alone_w.seconds, 1e-9)
        lines.append(
            f"| {result.database} | {ratio_w:.2f}x | {ratio_r:.2f}x | {rate:.2f}x | "
            f"{result.server_errors} | {result.lost} |"
        )
    lines.append(END)
    return "\n".join(lines)


def replace_section(section: str) -> None:
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    if BEGIN in text and END in text:
        text = text[: text.index(BEGIN)] + section + text[text.index(END) + len(END) :]
    else:
        text = text.rstrip() + "\n\n" + section + "\n"
    RESULTS.write_text(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--both", action="store_true", help="SQLite, then PostgreSQL")
    parser.add_argument("--pg", default=PG_DEFAULT, help="PostgreSQL server URL (any database)")
    parser.add_argument("--datasets", type=int, default=300)
    parser.add_argument("--writers", type=int, default=10)
    parser.add_argument("--edits", type=int, default=20)
    parser.add_argument("--readers", type=int, default=50)
    parser.add_argument("--searches", type=int, default=10)
    parser.add_argument("--no-write", action="store_true", help="print, leave RESULTS.md alone")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    results = [bench("sqlite", args)]
    if args.both:
        results.append(bench("postgresql", args))
    command = ".venv/bin/python bench/bench_concurrency.py" + (" --both" if args.both else "")
    section = report(results, args, command, time.perf_counter() - started)
    print(section)
    if not args.no_write:
        replace_section(section)
    bad = any(r.server_errors or r.lost for r in results)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
