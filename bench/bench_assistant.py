"""Mapping benchmarks: how well the mapping assistant names the terms of a labelled set of
variable names, and how fast SSSOM exports of 100,000 mappings stream, on SQLite and/or
PostgreSQL, each in a fresh migrated database with the bundled vocabularies.

    .venv/bin/python bench/bench_assistant.py                      # SQLite
    .venv/bin/python bench/bench_assistant.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres
    .venv/bin/python bench/bench_assistant.py --both               # SQLite, then PostgreSQL
    .venv/bin/python bench/bench_assistant.py --quality-only --show-misses

**Assistant quality.** ``bench/data/labelled_variables.csv`` holds variable names as
custodians write them (REDCap-style short names, with the label, value type and unit where a
dictionary would have them) and the HV term each should map to; ``bench/data/assistant_traps.csv``
adds names that share only a generic word (group, date, type, score …), an acronym or
organisation name (WHO, HCT) or a number with a wrong term — each with the right term and the
trap. For every row of both files the assistant (``catalogue.mappings.assistant.Assistant
.from_store()``, as ``mappings.suggest`` builds it) proposes up to five terms. With N = all
names, answered = names with at least one suggestion:

- top-1 precision = names whose first suggestion is the right term / answered;
- top-1 recall = names whose first suggestion is the right term / N;
- top-5 precision = names whose right term is among their first five / answered;
- recall@5 = names whose right term is among their first five / N (target ≥ 0.8);
- MRR = mean over N of 1 / rank of the right term (0 when it is not among the five);
- trap rate = trap rows whose trap is the first suggestion or scores at least
  ``TRAP_THRESHOLD`` (0.5) / trap rows.

Baseline of the same run: ``ontologies.services.search_terms`` (the autocomplete) on the raw
name, five terms, any vocabulary.

**SSSOM export.** A published dataset with 100,000 accepted mappings (80,000 of variables and
20,000 of permissible values, to random HV terms) is exported through the API with the Flask
test client, consuming the streamed body: ``GET /api/v1/datasets/{id}/mappings.sssom.tsv`` and
``GET /api/v1/mappings.sssom.tsv``; time to the first chunk and to the last byte, best and worst
of three runs (target ≤ 10 s). Baseline of the same run: the same rows read by one SQL
statement on a raw DBAPI connection and written with ``csv.writer`` into memory. The first
dataset export is read back with sssom-py (``parse_sssom_table``) and its rows counted.

Results print as a table and replace the ``bench_assistant`` section of ``bench/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import random
import shutil
import sys
import tempfile
import time
import warnings
from collections import Counter
from collections.abc import Callable
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
)

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
RESULTS = ROOT / "bench" / "RESULTS.md"
LABELLED = ROOT / "bench" / "data" / "labelled_variables.csv"
TRAPS = ROOT / "bench" / "data" / "assistant_traps.csv"
SECTION_BEGIN = "<!-- bench_assistant:begin -->"
SECTION_END = "<!-- bench_assistant:end -->"
APP_ENV = {"HARMONY_ENV": "testing", "LOG_LEVEL": "WARNING"}
TARGET_RECALL_AT_5 = 0.8
# a trap is sprung when it is the first suggestion or scores at least this: "partly matches"
# that a custodian would take for a real candidate (``accept`` takes the best at ≥ 0.8)
TRAP_THRESHOLD = 0.5
TARGET_EXPORT_S = 10.0


# --- the labelled set -----------------------------------------------------------------------


def labelled_rows(path: Path = LABELLED) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def trap_rows(path: Path = TRAPS) -> list[dict[str, str]]:
    """The trap rows: ``expected`` must be among the five, ``trap`` must not be first nor
    score :data:`TRAP_THRESHOLD` or more; ``kind`` (generic word, acronym, number) and ``why``
    say what the trap is."""
    return labelled_rows(path)


def benchmark_rows() -> list[dict[str, str]]:
    """The whole benchmark: the labelled set, then the traps."""
    return labelled_rows() + trap_rows()


def sprung(row: dict[str, str], ranked: list[tuple[str, float | None]]) -> bool:
    """Whether ``row``'s trap caught the ranking (CURIE, score; best first)."""
    trap = row.get("trap") or ""
    if not trap:
        return False
    if ranked and ranked[0][0] == trap:
        return True
    return any(c == trap and s is not None and s >= TRAP_THRESHOLD for c, s in ranked)


def subject_of(row: dict[str, str]) -> Any:
    from catalogue.mappings.assistant import Subject

    return Subject(
        variable_id=None,
        value_code=None,
        name=row["name"],
        label=row["label"] or None,
        value_type=row["value_type"] or None,
        unit=row["unit"] or None,
    )


def evaluate(
    rows: list[dict[str, str]],
    propose: Callable[[dict[str, str]], list[tuple[str, float | None]]],
) -> dict[str, Any]:
    """Precision, recall, MRR and trap rate of ``propose`` (a row → (CURIE, score or None),
    best first) on ``rows``."""
    n = len(rows)
    answered = top1 = top5 = 0
    reciprocal = 0.0
    misses: list[dict[str, Any]] = []
    seconds: list[float] = []
    traps = trapped = traps_found = 0
    caught: list[dict[str, Any]] = []
    for row in rows:
        started = time.perf_counter()
        ranked = propose(row)[:5]
        seconds.append(time.perf_counter() - started)
        curies = [c for c, _ in ranked]
        expected = row["expected"]
        if row.get("trap"):
            traps += 1
            traps_found += expected in curies
            if sprung(row, ranked):
                trapped += 1
                caught.append({**row, "ranked": ranked})
        if curies:
            answered += 1
        if curies[:1] == [expected]:
            top1 += 1
        if expected in curies:
            top5 += 1
            reciprocal += 1 / (curies.index(expected) + 1)
        else:
            misses.append({**row, "got": curies[:3]})
    return {
        "n": n,
        "answered": answered,
        "top1": top1,
        "top5": top5,
        "top1_precision": top1 / answered if answered else 0.0,
        "top1_recall": top1 / n if n else 0.0,
        "top5_precision": top5 / answered if answered else 0.0,
        "recall_at_5": top5 / n if n else 0.0,
        "mrr": reciprocal / n if n else 0.0,
        "misses": misses,
        "ms_per_name": 1000 * sum(seconds) / max(len(seconds), 1),
        "traps": traps,
        "trapped": trapped,
        "trap_rate": trapped / traps if traps else 0.0,
        "trap_recall_at_5": traps_found / traps if traps else 0.0,
        "caught": caught,
    }


def assistant_quality(app: Any, rows: list[dict[str, str]]) -> dict[str, Any]:
    from catalogue.mappings.assistant import Assistant

    with app.app_context():
        started = time.perf_counter()
        assistant = Assistant.from_store()
        built_s = time.perf_counter() - started
        result = evaluate(
            rows, lambda r: [(p.curie, p.score) for p in assistant.propose(subject_of(r))]
        )
    result["build_s"] = built_s
    result["names_in_lexicon"] = len(assistant.names)
    return result


def baseline_quality(app: Any, rows: list[dict[str, str]]) -> dict[str, Any]:
    from core.policies import SYSTEM
    from ontologies.services import search_terms

    with app.app_context():
        return evaluate(
            rows,
            lambda r: [(h.term.curie, None) for h in search_terms(SYSTEM, r["name"], limit=5)],
        )


# --- SSSOM export ---------------------------------------------------------------------------


def make_app(url: str) -> Any:
    from core import create_app

    return create_app({"DATABASE_URL": url}, env=APP_ENV)


def setup_mappings(app: Any, count: int, seed: int) -> tuple[str, str]:
    """A published dataset with ``count`` accepted mappings; (identifier, version id)."""
    from sqlalchemy import insert, select

    from catalogue.datasets import services as datasets
    from catalogue.models import Mapping, Variable
    from core.db import get_session
    from core.models import Organisation, OrganisationKind
    from core.policies import SYSTEM
    from ontologies.models import Term

    rng = random.Random(seed)
    with app.app_context():
        session = get_session()
        organisation = Organisation(
            name="Benchmark Trials Group", country="NL", kind=OrganisationKind.TRIAL_GROUP
        )
        session.add(organisation)
        session.commit()
        dataset = datasets.create_dataset(
            SYSTEM,
            {
                "title": "Benchmark trial with 100,000 mapped variables",
                "description": "Synthetic.",
                "diseases": ["NCIT:C3171"],
                "source_type": "clinical_trial",
                "contact_email": "bench@example.org",
                "organisation_id": organisation.id,
                "identifier": "bench-mappings",
            },
        )
        version_id = dataset.versions[-1].id
        terms = list(
            session.scalars(
                select(Term.curie).where(Term.ontology_prefix == "HV", Term.value_type.is_not(None))
            )
        )
        value_share = count // 5
        variable_rows = []
        for i in range(count - value_share):
            categorical = i < value_share
            variable_rows.append(
                {
                    "version_id": version_id,
                    "position": i,
                    "name": f"var_{i:06d}",
                    "label": f"Synthetic variable {i}",
                    "value_type": "categorical" if categorical else "decimal",
                    "permissible_values": [
                        {"code": "1", "label": "Present"},
                        {"code": "2", "label": "Absent"},
                    ]
                    if categorical
                    else [],
                    "missing_codes": [],
                    "multiple": False,
                }
            )
        for start in range(0, len(variable_rows), 5000):
            session.execute(insert(Variable), variable_rows[start : start + 5000])
        ids = list(
            session.scalars(
                select(Variable.id)
                .where(Variable.version_id == version_id)
                .order_by(Variable.position)
            )
        )
        mapping_rows = []
        for i, variable_id in enumerate(ids):
            for code in [None, "1"] if i < value_share else [None]:
                mapping_rows.append(
                    {
                        "variable_id": variable_id,
                        "value_code": code,
                        "predicate": "skos:exactMatch",
                        "object_curie": rng.choice(terms),
                        "justification": "semapv:ManualMappingCuration",
                        "confidence": round(rng.random(), 3) if i % 3 else None,
                        "status": "accepted",
                        "author_label": "Bench Custodian",
                        "mapping_date": None,
                        "comment": "checked" if i % 7 == 0 else None,
                    }
                )
        for start in range(0, len(mapping_rows), 5000):
            session.execute(insert(Mapping), mapping_rows[start : start + 5000])
        session.commit()
        datasets.publish(SYSTEM, "bench-mappings", datasets.UNCHECKED)
        if len(mapping_rows) != count:
            raise RuntimeError(f"made {len(mapping_rows)} mappings, not {count}")
        return "bench-mappings", version_id


def consume(app: Any, path: str) -> dict[str, Any]:
    """GET ``path`` and read the streamed body: time to the first chunk and to the end."""
    client = app.test_client()
    started = time.perf_counter()
    response = client.get(path)
    if response.status_code != 200 or not response.is_streamed:
        raise RuntimeError(
            f"{path}: {response.status_code} {response.get_data(as_text=True)[:500]}"
        )
    first: float | None = None
    size = lines = 0
    tail = b""
    for chunk in response.response:
        if first is None:
            first = time.perf_counter() - started
        size += len(chunk)
        lines += chunk.count(b"\n")
        tail = chunk
    response.close()
    total = time.perf_counter() - started
    return {"s": total, "first_s": first or total, "bytes": size, "lines": lines, "tail": tail}


def time_export(app: Any, path: str, runs: int) -> dict[str, Any]:
    results = [consume(app, path) for _ in range(runs)]
    return {
        "best_s": min(r["s"] for r in results),
        "worst_s": max(r["s"] for r in results),
        "first_s": min(r["first_s"] for r in results),
        "bytes": results[0]["bytes"],
        "lines": results[0]["lines"],
        "runs": [round(r["s"], 2) for r in results],
    }


def csv_baseline(app: Any, version_id: str, base_url: str, runs: int) -> dict[str, Any]:
    """The same rows, one SQL statement on a raw DBAPI connection, written by csv.writer."""
    from core.db import database

    sql = (
        "SELECT v.name, v.label, m.value_code, m.predicate, m.object_curie, t.label, "
        "m.justification, m.confidence, m.author_label, m.mapping_date, m.comment "
        "FROM mappings m JOIN variables v ON v.id = m.variable_id "
        "LEFT JOIN terms t ON t.curie = m.object_curie "
        "WHERE v.version_id = {placeholder} AND m.status = 'accepted' "
        "ORDER BY v.position, m.value_code IS NOT NULL, m.value_code, m.id"
    )
    prefix = f"{base_url}/datasets/bench-mappings/variables/"
    times = []
    count = 0
    with app.app_context():
        engine = database().engine
        sql = sql.replace("{placeholder}", "?" if engine.dialect.paramstyle == "qmark" else "%s")
        for _ in range(runs):
            connection = engine.raw_connection()
            try:
                started = time.perf_counter()
                cursor = connection.cursor()
                cursor.execute(sql, (version_id,))
                buffer = io.StringIO()
                writer = csv.writer(buffer, delimiter="\t", lineterminator="\n")
                count = 0
                while True:
                    batch = cursor.fetchmany(5000)
                    if not batch:
                        break
                    for row in batch:
                        subject = prefix + row[0] + (f"/values/{row[2]}" if row[2] else "")
                        writer.writerow((subject, row[1], *row[3:]))
                    count += len(batch)
                times.append(time.perf_counter() - started)
                cursor.close()
            finally:
                connection.close()
    return {"best_s": min(times), "worst_s": max(times), "rows": count}


def read_back(app: Any, path: str, workdir: Path) -> dict[str, Any]:
    """The export read by sssom-py (its import sets a pandas option pandas 3 deprecates)."""
    body = app.test_client().get(path).get_data(as_text=True)
    target = workdir / "export.sssom.tsv"
    target.write_text(body, encoding="utf-8")
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from sssom.parsers import parse_sssom_table

        msdf = parse_sssom_table(target)
    return {"rows": len(msdf.df), "s": time.perf_counter() - started}


# --- one database ---------------------------------------------------------------------------


@dataclass
class DatabaseResult:
    label: str
    quality: dict[str, Any] = field(default_factory=dict)
    baseline: dict[str, Any] = field(default_factory=dict)
    setup_s: float = 0.0
    export: dict[str, Any] = field(default_factory=dict)
    catalogue: dict[str, Any] = field(default_factory=dict)
    csv: dict[str, Any] = field(default_factory=dict)
    parsed: dict[str, Any] = field(default_factory=dict)


def database_label(app: Any) -> str:
    from core.db import database

    with app.app_context():
        engine = database().engine
        with engine.connect() as connection:
            if engine.dialect.name == "sqlite":
                return f"SQLite {connection.exec_driver_sql('select sqlite_version()').scalar()}"
            version = connection.exec_driver_sql("show server_version").scalar()
            return f"PostgreSQL {version}"


def bench_database(kind: str, url: str | None, workdir: Path, args: Any) -> DatabaseResult:
    from core import migrate
    from core.policies import SYSTEM
    from ontologies.bundled import load_bundled

    rows = benchmark_rows()
    with scratch_database(kind, url, workdir) as database_url:
        say(f"[{kind}] migrating a fresh database and loading the bundled vocabularies")
        migrate.upgrade(database_url)
        app = make_app(database_url)
        with app.app_context():
            load_bundled(SYSTEM)
        result = DatabaseResult(database_label(app))
        say(f"[{kind}] assistant on {len(rows)} labelled names")
        result.quality = assistant_quality(app, rows)
        result.baseline = baseline_quality(app, rows)
        if args.quality_only:
            return result
        say(f"[{kind}] {args.mappings:,} mappings in a published dataset")
        started = time.perf_counter()
        identifier, version_id = setup_mappings(app, args.mappings, args.seed)
        result.setup_s = time.perf_counter() - started
        path = f"/api/v1/datasets/{identifier}/mappings.sssom.tsv"
        say(f"[{kind}] exports, {args.runs} runs each")
        consume(app, path)  # warm-up
        result.export = time_export(app, path, args.runs)
        result.catalogue = time_export(app, "/api/v1/mappings.sssom.tsv", args.runs)
        result.csv = csv_baseline(app, version_id, "http://localhost", args.runs)
        if not args.no_read_back:
            result.parsed = read_back(app, path, workdir)
        app.extensions["harmony_db"].engine.dispose()
    return result


# --- reporting ------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "pass" if ok else "FAIL"


def quality_rows(result: DatabaseResult) -> list[tuple[str, ...]]:
    q, b = result.quality, result.baseline
    ratio = q["recall_at_5"] / b["recall_at_5"] if b["recall_at_5"] else float("inf")
    return [
        (
            result.label,
            "assistant",
            str(q["n"]),
            str(q["answered"]),
            f"{q['top1_precision']:.3f}",
            f"{q['top1_recall']:.3f}",
            f"{q['top5_precision']:.3f}",
            f"{q['recall_at_5']:.3f}",
            f"{q['mrr']:.3f}",
            f"{q['trapped']} / {q['traps']} ({q['trap_rate']:.3f})",
            f"{q['trap_recall_at_5']:.3f}",
            f"{q['ms_per_name']:.2f}",
            f"≥ {TARGET_RECALL_AT_5}: {verdict(q['recall_at_5'] >= TARGET_RECALL_AT_5)}",
        ),
        (
            result.label,
            "baseline: search_terms(raw name)",
            str(b["n"]),
            str(b["answered"]),
            f"{b['top1_precision']:.3f}",
            f"{b['top1_recall']:.3f}",
            f"{b['top5_precision']:.3f}",
            f"{b['recall_at_5']:.3f}",
            f"{b['mrr']:.3f}",
            f"{b['trapped']} / {b['traps']} ({b['trap_rate']:.3f}), first only",
            f"{b['trap_recall_at_5']:.3f}",
            f"{b['ms_per_name']:.2f}",
            f"assistant ÷ baseline recall@5: {ratio:.2f}x",
        ),
    ]


def export_rows(result: DatabaseResult) -> list[tuple[str, ...]]:
    if not result.export:
        return []
    rows: list[tuple[str, ...]] = []
    for what, measured in (
        ("dataset export (`/datasets/{id}/mappings.sssom.tsv`)", result.export),
        ("catalogue export (`/mappings.sssom.tsv`)", result.catalogue),
    ):
        rows.append(
            (
                result.label,
                what,
                f"{measured['best_s']:.2f} / {measured['worst_s']:.2f}",
                f"{measured['first_s'] * 1000:.0f}",
                f"{measured['bytes'] / 1e6:.1f}",
                f"≤ {TARGET_EXPORT_S:g} s",
                verdict(measured["worst_s"] <= TARGET_EXPORT_S),
                f"{result.csv['best_s']:.2f} s",
                f"{measured['best_s'] / result.csv['best_s']:.1f}x",
            )
        )
    return rows


def markdown_table(headers: list[str], rows: list[tuple[str, ...]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


QUALITY_HEADERS = [
    "database",
    "method",
    "names",
    "answered",
    "top-1 precision",
    "top-1 recall",
    "top-5 precision",
    "recall@5",
    "MRR",
    "traps sprung",
    "recall@5 on the trap rows",
    "ms / name",
    "verdict",
]
EXPORT_HEADERS = [
    "database",
    "export of 100,000 mappings",
    "best / worst of runs (s)",
    "first chunk (ms)",
    "MB",
    "target",
    "verdict",
    "baseline: SQL + csv.writer (best)",
    "ratio",
]


def render(
    results: list[DatabaseResult], facts: dict[str, str], command: str, total_s: float
) -> str:
    q = results[0].quality
    labelled, traps = labelled_rows(), trap_rows()
    unlabelled = sum(1 for r in labelled if not r["label"])
    misses = "\n".join(
        f"| `{m['name']}` | {m['label'] or '—'} | {m['expected']} | {', '.join(m['got']) or '—'} |"
        for m in q["misses"]
    )
    kinds = Counter(r["kind"] for r in traps)
    caught = "\n".join(
        f"| `{c['name']}` | {c['label']} | {c['expected']} | {c['trap']} | "
        + ", ".join(f"{curie} {score:.2f}" for curie, score in c["ranked"][:3] if score is not None)
        + " |"
        for c in q["caught"]
    )
    details = []
    for r in results:
        if r.export:
            parsed = (
                f"; sssom-py read the dataset export back: {r.parsed['rows']:,} rows "
                f"in {r.parsed['s']:.1f} s"
                if r.parsed
                else ""
            )
            details.append(
                f"- **{r.label}**: setting up the 100,000 mappings took {r.setup_s:.1f} s; "
                f"dataset export runs {r.export['runs']} s, catalogue export runs "
                f"{r.catalogue['runs']} s, {r.export['lines']:,} lines; baseline "
                f"{r.csv['rows']:,} rows, best {r.csv['best_s']:.2f} s, worst "
                f"{r.csv['worst_s']:.2f} s{parsed}."
            )
    return f"""{SECTION_BEGIN}
## Mappings: the mapping assistant on labelled variable names, SSSOM export of 100,000 mappings

Machine and date: {", ".join(f"{k} {v}" for k, v in facts.items())}.

Commands (from the repository root):

```
{command}
```

**Labelled set.** `bench/data/labelled_variables.csv`: {len(labelled)} variable names written for
this measurement the way custodians name REDCap and CRF fields (`hb_dx`, `flt3itd`, `ecog`,
`wbc_bl`, `ldh_base`, `del17p`, `ipss_r`, `dt_diag`, `bm_blasts_pct` …; time points, units,
British and American spellings, run-together names; a label where a dictionary would have
one, {unlabelled} without), each with the HV term it should map to. The assistant's lexicon
is the bundled HV and HAEM vocabularies ({q["names_in_lexicon"]:,} names, built in
{q["build_s"] * 1000:.0f} ms); it never sees the expected terms.

*How far to trust it.* The set was written by the engineer who wrote the assistant and knew
the HV vocabulary, and many custodian abbreviations are HV's own (`ecog`, `ldh`, `b2m`), which
is why even plain autocomplete finds two thirds of them. The first 259 rows were written
before the assistant existed; as they came out nearly all right at the first run, 114 messier
rows (foreign spellings such as `kreatinin`, visit suffixes such as `hb_m3`, phrasings such as
“Date last seen”) were added before any further change; no row was changed afterwards. The
changes made after seeing results are general ones (camelCase splitting, abbreviations that
keep every word, literal words before initials); no row's name or term appears in the code.
Expect lower figures on a real custodian's dictionary.

**Traps.** `bench/data/assistant_traps.csv`: {len(traps)} names ({kinds["generic word"]} sharing
only a generic word such as group, date, year, type, score, number, code, level, result or
status with a wrong term; {kinds["acronym"]} whose acronym or organisation name is also part of a
wrong term's synonym, such as “WHO” in “WHO PS”; {kinds["number"]} whose number or year differs
from a wrong term's: t(8;16) and t(16;16), ELN 2017 and 2022), each with its right term and
its trap, written from the two mistakes reported in issue 15 (“Disease group” → Ethnicity
0.73, “WHO 2016 diagnosis” → ECOG performance status 0.71) before the assistant was changed.
A trap is **sprung** when it is the first suggestion or scores ≥ {TRAP_THRESHOLD} (the
autocomplete has no score: first only). The traps count in every figure below (N = {q["n"]}).
On the assistant as it was when the traps were written (commit 303b18f, the same {q["n"]} rows)
21 of 28 traps were sprung, top-1 recall was 0.950, recall@5 0.988 and MRR 0.964. The changes
made after that are general rules (a name met only in generic words, organisations, bare
numbers or single letters while its distinctive word is missed weighs 0.6, or 0.8 when no
distinctive word of the variable met anything; numbers that disagree weigh 0.5; brackets
written onto a word are notation) and three readings that trap rows prompted (“year” as a
date, “subtype” as a diagnosis, “HCT” as haematopoietic cell transplantation); no row was
changed afterwards.

**Definitions.** N = all names; answered = names with at least one suggestion (the assistant
proposes only terms scoring ≥ 0.35). Top-1 precision = names whose first suggestion is right /
answered; top-1 recall = the same / N; top-5 precision = names whose right term is among the
first five / answered; **recall@5** = the same / N (target ≥ {TARGET_RECALL_AT_5}); MRR = mean
of 1 / rank of the right term (0 when not among the five). Baseline of the same run: the
autocomplete (`ontologies.services.search_terms`) on the raw name, five terms. Quality does not
depend on the database (the lexicon is read from it once); both runs are shown.

{markdown_table(QUALITY_HEADERS, [row for r in results for row in quality_rows(r)])}

Names whose right term is not among the assistant's five ({len(q["misses"])} of {q["n"]}):

| name | label | expected | assistant's first three |
|---|---|---|---|
{misses or "| — | | | |"}

Traps the assistant still falls into ({q["trapped"]} of {q["traps"]}):

| name | label | expected | trap | assistant's first three, with scores |
|---|---|---|---|---|
{caught or "| — | | | | |"}

**SSSOM export.** A published dataset with 100,000 accepted mappings (80,000 of variables,
20,000 of permissible values; random HV terms) exported through the API with the Flask test
client, the streamed body read to the end; three runs after a warm-up. The catalogue export
holds the same 100,000 rows (the only published dataset). Baseline of the same run: the same
rows by one SQL statement on a raw DBAPI connection, written with `csv.writer` into memory;
ratio = export best ÷ baseline best.

{markdown_table(EXPORT_HEADERS, [row for r in results for row in export_rows(r)])}

{chr(10).join(details)}

Whole benchmark: {total_s:.0f} s.
{SECTION_END}
"""


def write_results(section: str, path: Path) -> None:
    replace_section(path, section, SECTION_BEGIN, SECTION_END)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="a PostgreSQL server (postgresql+psycopg://…)")
    parser.add_argument("--both", action="store_true", help="SQLite and PostgreSQL")
    parser.add_argument("--mappings", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--quality-only", action="store_true", help="no SSSOM export")
    parser.add_argument("--no-read-back", action="store_true", help="skip the sssom-py check")
    parser.add_argument("--show-misses", action="store_true")
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--no-write", action="store_true", help="do not touch RESULTS.md")
    args = parser.parse_args(argv)

    if args.both:
        base = args.database_url or os.environ.get("TEST_DATABASE_URL") or DEFAULT_POSTGRES
        targets: list[tuple[str, str | None]] = [("sqlite", None), ("postgresql", base)]
    elif args.database_url:
        targets = [("postgresql", args.database_url)]
    else:
        targets = [("sqlite", None)]
    started = time.perf_counter()
    facts = machine_facts()
    workdir = Path(tempfile.mkdtemp(prefix="harmony-bench-"))
    results = []
    try:
        for kind, url in targets:
            results.append(bench_database(kind, url, workdir, args))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    total_s = time.perf_counter() - started

    print(markdown_table(QUALITY_HEADERS, [row for r in results for row in quality_rows(r)]))
    exports = [row for r in results for row in export_rows(r)]
    if exports:
        print(markdown_table(EXPORT_HEADERS, exports))
    if args.show_misses:
        for miss in results[0].quality["misses"]:
            print(
                f"miss: {miss['name']!r} {miss['label']!r} → {miss['expected']}, got {miss['got']}"
            )
        for trap in results[0].quality["caught"]:
            print(
                f"trap: {trap['name']!r} {trap['label']!r} → {trap['expected']}, "
                f"trap {trap['trap']}, got {trap['ranked']}"
            )
    command = ".venv/bin/python bench/bench_assistant.py " + " ".join(
        sys.argv[1:] if argv is None else argv
    )
    if not args.no_write and not args.quality_only:
        write_results(render(results, facts, command.strip(), total_s), args.results)
        say(f"wrote the bench_assistant section of {args.results}")
    ok = all(r.quality["recall_at_5"] >= TARGET_RECALL_AT_5 for r in results) and all(
        m["worst_s"] <= TARGET_EXPORT_S for r in results for m in (r.export, r.catalogue) if m
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
