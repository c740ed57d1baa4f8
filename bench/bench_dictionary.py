"""Dictionary benchmarks: import a synthetic 100,000-variable REDCap data dictionary end to end
and list pages of its variables, on SQLite and/or PostgreSQL, each in a fresh migrated database.

    .venv/bin/python bench/bench_dictionary.py                      # SQLite
    .venv/bin/python bench/bench_dictionary.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres
    .venv/bin/python bench/bench_dictionary.py --both               # SQLite, then PostgreSQL

Everything goes through the service the API and the CLI use
(``catalogue.dictionary.importer.import_dictionary`` with the SYSTEM actor inside an
application context). Measured for each database:

- the import of the whole file (read from disk, parsed, checked against the term store,
  written, committed) into a new dataset's draft, in a child process (``--worker``) so that
  its peak memory (``ru_maxrss``) is its own; the clock starts after the imports and a warm-up
  import of a 20-variable file into another dataset;
- the same file imported again (every variable unchanged), in a child process;
- the baseline of the same run: PostgreSQL ``COPY`` of the very rows the import wrote (read
  back from ``variables``) into a scratch table made ``LIKE variables`` (same columns and
  indexes), committed; the best of three. The ratio is the import's rate over COPY's;
- listing pages of the dataset's variables (``GET /api/v1/datasets/{id}/variables``, 50 per
  page, through the Flask test client as an anonymous caller of the published dataset):
  pages spread over the whole dictionary and filtered lists, p50/p95 after a warm-up round.

Results print as a table and replace the ``bench_dictionary`` section of ``bench/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.bench_ontologies import (  # noqa: E402
    machine_facts,
    replace_section,
    say,
    scratch_database,
    stats_ms,
)
from bench.generate_dictionary import generate  # noqa: E402

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
RESULTS = ROOT / "bench" / "RESULTS.md"
SECTION_BEGIN = "<!-- bench_dictionary:begin -->"
SECTION_END = "<!-- bench_dictionary:end -->"
APP_ENV = {"HARMONY_ENV": "testing", "LOG_LEVEL": "WARNING"}
TARGETS = {
    "import_s": 8.0,
    "ratio": 0.05,
    "rss_mb": 1024.0,
    "page_p95_ms": 50.0,
    "reimport_ratio": 0.5,  # a re-import takes at most half the time of the first import
}
PUBLISHABLE = {
    "description": "A synthetic trial for the dictionary benchmark.",
    "diseases": ["NCIT:C3171"],
    "source_type": "clinical_trial",
    "contact_email": "bench@example.org",
}


def make_app(url: str) -> Any:
    from core import create_app

    return create_app({"DATABASE_URL": url}, env=APP_ENV)


def run_worker(*args: str) -> dict[str, Any]:
    """Run this script as a child (``--worker …``); its last stdout line is a JSON result."""
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", *args]
    completed = subprocess.run(  # noqa: S603 - our own script
        command, capture_output=True, text=True, check=False, cwd=ROOT
    )
    if completed.returncode != 0:
        raise RuntimeError(f"worker {args[0]} failed:\n{completed.stderr[-4000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


# --- child process --------------------------------------------------------------------------


def worker_import(
    url: str, identifier: str, path: str, warmup_identifier: str, warmup: str
) -> dict[str, Any]:
    """One import through the service, as ``harmony catalogue import-dictionary`` does it."""
    from catalogue.datasets import services as datasets
    from catalogue.dictionary.importer import import_dictionary
    from core.policies import SYSTEM

    app = make_app(url)
    with app.app_context():
        data = Path(warmup).read_bytes()
        import_dictionary(
            SYSTEM, warmup_identifier, data, Path(warmup).name, None, datasets.UNCHECKED
        )
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    phases: list[tuple[str, float]] = []
    with app.app_context():
        started = time.perf_counter()
        data = Path(path).read_bytes()
        report = import_dictionary(
            SYSTEM,
            identifier,
            data,
            Path(path).name,
            None,
            datasets.UNCHECKED,
            on_phase=lambda phase: phases.append((phase, time.perf_counter() - started)),
        )
        seconds = time.perf_counter() - started
    marks = [*phases, ("end", seconds)]
    breakdown = {name: round(marks[i + 1][1] - at, 2) for i, (name, at) in enumerate(marks[:-1])}
    return {
        "seconds": round(seconds, 3),
        "counts": report.counts(),
        "notes": len(report.notes),
        "phases": breakdown,
        "rss_before_mb": round(before / 1024, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


# --- in this process ------------------------------------------------------------------------


def setup(app: Any, count: int) -> list[str]:
    """The bundled vocabularies, an organisation and ``count`` draft datasets."""
    from catalogue.datasets import services as datasets
    from core.db import get_session
    from core.models import Organisation, OrganisationKind
    from core.policies import SYSTEM
    from ontologies.bundled import load_bundled

    with app.app_context():
        load_bundled(SYSTEM)
        organisation = Organisation(
            name="Benchmark Trials Group", country="DE", kind=OrganisationKind.TRIAL_GROUP
        )
        session = get_session()
        session.add(organisation)
        session.commit()
        identifiers = []
        for n in range(count):
            dataset = datasets.create_dataset(
                SYSTEM,
                {"title": f"Benchmark trial {n + 1}", "organisation_id": organisation.id}
                | PUBLISHABLE,
            )
            identifiers.append(dataset.identifier)
        return identifiers


def copy_baseline(app: Any, postgres_url: str, identifier: str, runs: int = 3) -> dict[str, Any]:
    """PostgreSQL COPY of the rows the import wrote into a scratch table like ``variables``."""
    from sqlalchemy import create_engine, select

    from catalogue.dictionary.importer import FIELDS
    from catalogue.models import Dataset, DatasetVersion, Variable
    from core.db import get_session

    columns = ("version_id", "name", "position", *FIELDS)
    with app.app_context():
        version_id = get_session().scalar(
            select(DatasetVersion.id)
            .join(Dataset, Dataset.id == DatasetVersion.dataset_id)
            .where(Dataset.identifier == identifier)
        )
        table: Any = Variable.__table__
        rows = [
            tuple(row)
            for row in get_session().execute(
                select(*(table.c[c] for c in columns)).where(table.c.version_id == version_id)
            )
        ]
    # plain values, as the import hands them to COPY: the value type by value, JSON as text
    json_at = [columns.index("permissible_values"), columns.index("missing_codes")]
    type_at = columns.index("value_type")
    plain = []
    for row in rows:
        values = list(row)
        values[type_at] = getattr(values[type_at], "value", values[type_at])
        for i in json_at:
            values[i] = json.dumps(values[i], ensure_ascii=False, separators=(",", ":"))
        plain.append(tuple(values))
    engine = create_engine(postgres_url)
    names = ", ".join(columns)
    times = []
    try:
        for _ in range(runs):
            connection = engine.raw_connection()
            try:
                cursor = connection.cursor()
                cursor.execute("DROP TABLE IF EXISTS bench_copy_baseline")
                cursor.execute(
                    "CREATE TABLE bench_copy_baseline (LIKE variables INCLUDING DEFAULTS "
                    "INCLUDING CONSTRAINTS INCLUDING INDEXES)"
                )
                connection.commit()
                started = time.perf_counter()
                with cursor.copy(f"COPY bench_copy_baseline ({names}) FROM STDIN") as copy:  # type: ignore[attr-defined]
                    for values in plain:
                        copy.write_row(values)
                connection.commit()
                times.append(time.perf_counter() - started)
                cursor.execute("DROP TABLE bench_copy_baseline")
                connection.commit()
            finally:
                connection.close()
    finally:
        engine.dispose()
    return {
        "rows": len(plain),
        "runs_s": [round(t, 3) for t in times],
        "best_s": round(min(times), 3),
        "rate": round(len(plain) / min(times)),
    }


def publish(app: Any, identifier: str) -> None:
    from catalogue.datasets import services as datasets
    from core.policies import SYSTEM

    with app.app_context():
        datasets.publish(SYSTEM, identifier, datasets.UNCHECKED)


def listing(app: Any, identifier: str, total: int, rounds: int, seed: int) -> dict[str, Any]:
    """Pages of variables through the API as an anonymous caller of the published dataset."""
    rng = random.Random(seed)
    pages = max(1, -(-total // 50))
    plain = [1, 2, pages, *rng.sample(range(1, pages + 1), min(47, pages))]
    filtered = [
        {"mapped": "false"},
        {"mapped": "true"},
        {"type": "categorical"},
        {"type": "decimal", "page": 20},
        {"form": "laboratory_visit_100"},
        {"form": "treatment_cycle_7", "mapped": "false"},
        {"q": "haemoglobin"},
        {"q": "ae_grade_1"},
        {"q": "Platelet", "page": 3},
    ]
    client = app.test_client()
    url = f"/api/v1/datasets/{identifier}/variables"

    def call(query: dict[str, Any], *, filtered: bool = False) -> float:
        started = time.perf_counter()
        response = client.get(url, query_string={"per_page": 50, **query})
        elapsed = time.perf_counter() - started
        if response.status_code != 200 or not (filtered or response.json["items"]):
            raise RuntimeError(f"listing {query}: {response.status_code} {response.json}")
        return elapsed

    for page in plain[:10]:  # warm-up
        call({"page": page})
    for query in filtered:
        call(query, filtered=True)
    page_times: list[float] = []
    filter_times: dict[str, list[float]] = {}
    for _ in range(rounds):
        for page in plain:
            page_times.append(call({"page": page}))
        for query in filtered:
            key = "&".join(f"{k}={v}" for k, v in query.items())
            filter_times.setdefault(key, []).append(call(query, filtered=True))
    searches = [t for k, times in filter_times.items() if k.startswith("q=") for t in times]
    others = [t for k, times in filter_times.items() if not k.startswith("q=") for t in times]
    return {
        "pages": len(plain),
        "rounds": rounds,
        "page": stats_ms(page_times),
        "filtered": stats_ms(others),
        "search": stats_ms(searches),
        "by_filter": {k: round(statistics.median(v) * 1000, 2) for k, v in filter_times.items()},
    }


# --- one database ---------------------------------------------------------------------------


@dataclass
class DatabaseResult:
    kind: str
    server: str
    first: dict[str, Any] = field(default_factory=dict)
    again: dict[str, Any] = field(default_factory=dict)
    one_label: dict[str, Any] = field(default_factory=dict)
    listing: dict[str, Any] = field(default_factory=dict)


def one_label_changed(data: Path, workdir: Path) -> Path:
    """The dictionary with the label of one variable changed (the first haemoglobin)."""
    changed = workdir / f"one-label-{data.name}"
    content = data.read_bytes()
    changed.write_bytes(content.replace(b"Haemoglobin", b"Hemoglobin", 1))
    return changed


def bench_database(
    kind: str, base_url: str | None, workdir: Path, data: Path, warmup: Path, args: Any
) -> DatabaseResult:
    from sqlalchemy import create_engine, text

    from core import migrate

    with scratch_database(kind, base_url, workdir) as url:
        say(f"[{kind}] migrating a fresh database, loading the bundled vocabularies")
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
        app = make_app(url)
        target, warm_1, warm_2, warm_3 = setup(app, 4)
        app.extensions["harmony_db"].engine.dispose()
        say(f"[{kind}] importing {data.name} (child process)")
        result.first = run_worker("import", url, target, str(data), warm_1, str(warmup))
        say(f"[{kind}]   {result.first['seconds']} s, peak {result.first['peak_rss_mb']} MB")
        say(f"[{kind}] importing it again: every variable unchanged (child process)")
        result.again = run_worker("import", url, target, str(data), warm_2, str(warmup))
        say(f"[{kind}]   {result.again['seconds']} s")
        say(f"[{kind}] importing it again with one label changed (child process)")
        changed = one_label_changed(data, workdir)
        result.one_label = run_worker("import", url, target, str(changed), warm_3, str(warmup))
        say(f"[{kind}]   {result.one_label['seconds']} s")
        if result.one_label["counts"]["changed"] != 1:
            raise RuntimeError(f"one label changed, but: {result.one_label['counts']}")
        app = make_app(url)
        publish(app, target)
        say(f"[{kind}] listing pages of variables")
        total = result.first["counts"]["variables"]
        result.listing = listing(app, target, total, args.rounds, args.seed)
        if kind == "postgresql":
            say(f"[{kind}] baseline: COPY of the same rows into a scratch table")
            result.first["copy"] = copy_baseline(app, url, target)
        app.extensions["harmony_db"].engine.dispose()
    return result


# --- report ---------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "pass" if ok else "FAIL"


def rows_for(result: DatabaseResult, copy: dict[str, Any] | None) -> list[tuple[str, ...]]:
    first, again, listed = result.first, result.again, result.listing
    variables = first["counts"]["variables"]
    rows: list[tuple[str, ...]] = []
    baseline, ratio = "—", "—"
    if copy is not None:
        import_rate = variables / first["seconds"]
        baseline = f"PostgreSQL COPY of the same rows {copy['best_s']} s ({copy['rate']:,}/s)"
        ratio = f"{import_rate / copy['rate']:.3f}x rate"
    rows.append(
        (
            f"import {variables:,} REDCap variables (s)",
            f"{first['seconds']:.2f} ({variables / first['seconds']:,.0f}/s)",
            f"≤ {TARGETS['import_s']:.0f}",
            verdict(first["seconds"] <= TARGETS["import_s"]),
            baseline,
            ratio,
        )
    )
    if copy is not None and result.kind == "postgresql":
        value = (variables / first["seconds"]) / copy["rate"]
        rows.append(
            (
                "import rate ÷ COPY rate",
                f"{value:.3f}",
                f"≥ {TARGETS['ratio']}",
                verdict(value >= TARGETS["ratio"]),
                "",
                "",
            )
        )
    rows.append(
        (
            "import peak memory (MB RSS)",
            f"{first['peak_rss_mb']:.0f}",
            f"≤ {TARGETS['rss_mb']:.0f}",
            verdict(first["peak_rss_mb"] <= TARGETS["rss_mb"]),
            f"process before the import {first['rss_before_mb']:.0f} MB",
            "",
        )
    )
    for label, run in (("all unchanged", again), ("one label changed", result.one_label)):
        share = run["seconds"] / first["seconds"]
        rows.append(
            (
                f"import again, {label} (s)",
                f"{run['seconds']:.2f}",
                f"≤ {TARGETS['reimport_ratio']} of the first import",
                verdict(share <= TARGETS["reimport_ratio"]),
                f"first import {first['seconds']:.2f} s",
                f"{share:.2f}x time",
            )
        )
    page = listed["page"]
    rows.append(
        (
            "variables page (50) p50 / p95 (ms)",
            f"{page['p50']} / {page['p95']}",
            f"p95 ≤ {TARGETS['page_p95_ms']:.0f}",
            verdict(page["p95"] <= TARGETS["page_p95_ms"]),
            "",
            "",
        )
    )
    for key, what in (
        ("filtered", "filtered page (mapped, type, form)"),
        ("search", "text search page (q)"),
    ):
        figures = listed[key]
        rows.append(
            (
                f"{what} p50 / p95 (ms)",
                f"{figures['p50']} / {figures['p95']}",
                "— (reported)",
                "",
                "",
                "",
            )
        )
    return rows


def render(
    facts: dict[str, str],
    command: str,
    summary: dict[str, int],
    generated_s: float,
    results: list[DatabaseResult],
    bench_s: float,
) -> str:
    names = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
    copy = next((r.first.get("copy") for r in results if r.kind == "postgresql"), None)
    table = [
        "| database | measure | value | target | verdict | baseline (same run) | ratio |",
        "|---|---|---|---|---|---|---|",
    ]
    for result in results:
        label = f"{names[result.kind]} {result.server.split(' ')[0]}"
        for row in rows_for(result, copy):
            table.append("| " + " | ".join((label, *row)) + " |")
    details = []
    for result in results:
        first = result.first
        details.append(
            f"**{names[result.kind]}.** Import phases (s): "
            + ", ".join(f"{k} {v}" for k, v in first["phases"].items())
            + f"; report: {first['counts']['added']:,} added, "
            f"{first['counts']['mappings_added']:,} mappings from `@TERM` annotations, "
            f"{first['notes']:,} notes (descriptive fields skipped, the `sql` field). "
            f"Re-import phases (s): "
            + ", ".join(f"{k} {v}" for k, v in result.again["phases"].items())
            + "; with one label changed: "
            + ", ".join(f"{k} {v}" for k, v in result.one_label["phases"].items())
            + ". Filtered lists, median ms: "
            + ", ".join(f"`{k}` {v}" for k, v in result.listing["by_filter"].items())
            + "."
        )
        if "copy" in first:
            details.append(
                f"COPY baseline runs (s): {first['copy']['runs_s']} for "
                f"{first['copy']['rows']:,} rows."
            )
    kinds = ", ".join(
        f"{k} {v:,}"
        for k, v in sorted(summary.items())
        if k not in {"rows", "variables", "annotated"}
    )
    return f"""{SECTION_BEGIN}
## Data dictionaries: 100,000-variable REDCap import, variables pages

Machine and date: {", ".join(f"{k} {v}" for k, v in facts.items())}.

Command (from the repository root):

```
{command}
```

Data: `bench/generate_dictionary.py --variables {summary["variables"]} --seed
{command_seed(command)}` (generated by the benchmark in {generated_s:.1f} s): {summary["rows"]:,}
rows of a haematology trial's case report forms: {summary["variables"]:,} variables, rows by
field type {kinds}; {summary.get("annotated", 0):,} fields annotated with `@TERM`.

How it is measured: the import runs through `catalogue.dictionary.importer.import_dictionary`
with the SYSTEM actor (as `harmony catalogue import-dictionary` does), in a child process per
import whose peak memory is its `ru_maxrss` (interpreter and application included); the clock
starts after the imports and a warm-up import of a 20-variable file into another dataset, and
covers reading the file from disk, parsing, checking against the term store, writing and the
commit, into a fresh database holding the bundled vocabularies. The baseline is PostgreSQL
`COPY` of the same rows (read back from `variables` after the import) into a scratch table
created `LIKE variables` with its indexes, committed, best of three; the ratio compares rates
(variables per second). The re-imports go into the same dataset (the same file, then the file
with one variable's label changed: the first "Haemoglobin" spelt "Hemoglobin"); their ratio
is their time over the first import's.
Pages: `GET /api/v1/datasets/{{id}}/variables?per_page=50` through the
Flask test client, anonymous, on the published dataset: {results[0].listing["pages"]} pages
spread over the dictionary (first, second, last, random), 6 filtered lists (mapped,
unmapped, value type, form) and 3 text searches (name or label contains), a warm-up round,
then {results[0].listing["rounds"]} timed rounds. Whole benchmark: {bench_s:.0f} s.

{chr(10).join(table)}

{(chr(10) * 2).join(details)}
{SECTION_END}
"""


def command_seed(command: str) -> str:
    parts = command.split()
    return parts[parts.index("--seed") + 1] if "--seed" in parts else "1"


def write_results(section: str, path: Path) -> None:
    replace_section(path, section, SECTION_BEGIN, SECTION_END)


def print_table(results: list[DatabaseResult]) -> None:
    copy = next((r.first.get("copy") for r in results if r.kind == "postgresql"), None)
    rows = [(r.kind, *row) for r in results for row in rows_for(r, copy)]
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
    parser.add_argument("--variables", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds of the page mix")
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--no-write", action="store_true", help="do not touch RESULTS.md")
    args = parser.parse_args(argv)

    if args.worker:
        kind, *rest = args.worker
        if kind != "import":
            raise SystemExit(f"unknown worker {kind}")
        print(json.dumps(worker_import(*rest)))
        return 0

    started = time.perf_counter()
    if args.both:
        base = args.database_url or os.environ.get("TEST_DATABASE_URL") or DEFAULT_POSTGRES
        targets: list[tuple[str, str | None]] = [("sqlite", None), ("postgresql", base)]
    elif args.database_url:
        targets = [("postgresql", args.database_url)]
    else:
        targets = [("sqlite", None)]
    for _kind, url in targets:
        if url and not url.startswith("postgresql"):
            raise SystemExit(f"--database-url must be PostgreSQL, not {url}")
    facts = machine_facts()
    workdir = Path(tempfile.mkdtemp(prefix="harmony-bench-"))
    results: list[DatabaseResult] = []
    try:
        data = workdir / "redcap.csv"
        say(f"generating {args.variables:,} REDCap variables into {data}")
        generated = time.perf_counter()
        with data.open("w", encoding="utf-8", newline="") as out:
            summary = generate(out, args.variables, args.seed, progress=False)
        generated_s = time.perf_counter() - generated
        warmup = workdir / "warmup.csv"
        with warmup.open("w", encoding="utf-8", newline="") as out:
            generate(out, 20, args.seed + 7, progress=False)
        for kind, url in targets:
            results.append(bench_database(kind, url, workdir, data, warmup, args))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    bench_s = time.perf_counter() - started

    print_table(results)
    command = ".venv/bin/python bench/bench_dictionary.py " + " ".join(
        sys.argv[1:] if argv is None else argv
    )
    if not args.no_write:
        section = render(facts, command.strip(), summary, generated_s, results, bench_s)
        write_results(section, args.results)
        say(f"wrote the dictionary section of {args.results}")
    copy = next((r.first.get("copy") for r in results if r.kind == "postgresql"), None)
    failed = [row for r in results for row in rows_for(r, copy) if row[3] == "FAIL"]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
