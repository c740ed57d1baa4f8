"""Benchmark of the pages issue 15 added — publishers, variables, the harmonisation matrix and the
dataset list — on the synthetic catalogue, on SQLite and PostgreSQL.

    .venv/bin/python bench/bench_pages.py                        # SQLite, standard scale
    .venv/bin/python bench/bench_pages.py --both --write         # SQLite, then PostgreSQL
    .venv/bin/python bench/bench_pages.py --both --scale 0.5     # half the standard catalogue
    .venv/bin/python bench/bench_pages.py --reuse sqlite:////tmp/cat.sqlite3

For each database it generates the catalogue of ``bench/generate_catalogue.py`` into a scratch
database (``--scale`` 1 is the standard 10,000 datasets, 1,000,000 variables and 200,000
mappings; the search index is built, since the dataset list is the search page with no query),
or uses one generated already (``--reuse URL``, repeatable). It picks the pages from the data
(the same seed picks the same pages on either database):

- **publisher page** ``/organisations/{id}`` of the organisation with the most published
  datasets (its dataset table, patients covered and mapping coverage), and the index
  ``/organisations``;
- **variable page** ``/datasets/{id}/variables/{name}`` of a variable mapped to the term most
  variables are mapped to: its "same concept in other datasets" list reads every other variable
  that carries the term (the heavy part); and the page of a variable with no mapping;
- **harmonisation matrix** ``/harmonisation?datasets=…&terms=…`` at 10 datasets x the 30 most
  mapped terms, and at the limit: the 50 published datasets with the most mappings x every
  term of the HV and HAEM vocabularies, the mapped ones first (484; the matrix takes 500), and
  ``/harmonisation.csv`` at the limit;
- **dataset list** ``/datasets`` (the search page with no query: facets, sorts, a page of 20)
  and ``/datasets?status=retired``;
- **baseline** ``GET /api/v1/me`` with a custodian's bearer token: what any request costs
  (routing, authentication, a small JSON answer).

The pages are read anonymously, as a visitor does, through the Flask test client (routing,
services, SQL, templates — all but the socket); the whole body is read. Each case gets a warm-up
of three requests that also count its SQL statements, then ``--rounds`` (30) rounds take every
case in turn, so that the machine's mood falls on all alike. The table gives p50/p95/p99 in ms,
the statements per request, the body's size and each page's p95 divided by the baseline's p95.
Prints the section; ``--write`` replaces the ``bench_pages`` section of ``bench/RESULTS.md``.
Exits 1 when a page's p95 is over two seconds (``SLOW_MS``), which the report then explains.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import logging
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

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
SECTION_BEGIN = "<!-- bench_pages:begin -->"
SECTION_END = "<!-- bench_pages:end -->"
STANDARD = {"datasets": 10_000, "variables": 1_000_000, "mappings": 200_000}
BASELINE = "baseline: GET /api/v1/me"
#: a page slower than this at p95 is "pathologically slow" (the report explains it)
SLOW_MS = 2000.0
SMALL_MATRIX = (10, 30)  # datasets x terms


# --- the catalogue ----------------------------------------------------------------------------


def generate(url: str, scale: float, seed: int, quiet: bool) -> dict[str, Any]:
    from bench.generate_catalogue import generate as generate_catalogue
    from core import migrate

    sizes = {k: max(1, round(v * scale)) for k, v in STANDARD.items()}
    say(
        f"migrating and generating {sizes['datasets']:,} datasets, {sizes['variables']:,} "
        f"variables, {sizes['mappings']:,} mappings into {url.split('@')[-1]}"
    )
    migrate.upgrade(url)
    return generate_catalogue(url, seed=seed, progress=not quiet, hooks=True, **sizes)


@dataclass
class Picks:
    """What the cases read, chosen from the data."""

    organisation: str
    organisation_name: str
    organisation_datasets: int
    common_term: str
    common_term_label: str
    common_term_variables: int
    mapped_variable: tuple[str, str]  # (dataset identifier, variable name)
    unmapped_variable: tuple[str, str]
    top_datasets: list[str]  # published, the most accepted mappings first
    top_terms: list[str]  # the most mapped, first
    limit_terms: list[str]  # the mapped terms (the most mapped first), then every HV and HAEM
    token: str
    counts: dict[str, int] = field(default_factory=dict)


def pick(app: Any) -> Picks:
    """The organisation, variables, datasets and terms of the cases, and a custodian's token
    for the baseline. Ties go to the smaller identifier, so the picks are reproducible."""
    from sqlalchemy import and_, exists, func, select

    from catalogue.models import (
        Dataset,
        DatasetStatus,
        DatasetVersion,
        Mapping,
        MappingStatus,
        Variable,
        VersionStatus,
    )
    from core import services as accounts
    from core.db import get_session
    from core.models import Organisation, User
    from core.policies import SYSTEM
    from ontologies.models import Term

    with app.app_context():
        session = get_session()
        published = and_(
            Dataset.status == DatasetStatus.PUBLISHED,
            DatasetVersion.status == VersionStatus.PUBLISHED,
        )
        org_id, org_name, org_count = session.execute(
            select(Organisation.id, Organisation.name, func.count(Dataset.id))
            .join(Dataset, Dataset.organisation_id == Organisation.id)
            .where(Dataset.status == DatasetStatus.PUBLISHED)
            .group_by(Organisation.id, Organisation.name)
            .order_by(func.count(Dataset.id).desc(), Organisation.id)
            .limit(1)
        ).one()
        accepted = and_(Mapping.status == MappingStatus.ACCEPTED, Mapping.value_code.is_(None))
        on_published = (
            select(Mapping.object_curie, Mapping.variable_id, Dataset.identifier, Variable.name)
            .join(Variable, Variable.id == Mapping.variable_id)
            .join(DatasetVersion, DatasetVersion.id == Variable.version_id)
            .join(Dataset, Dataset.id == DatasetVersion.dataset_id)
            .where(accepted, published)
            .subquery()
        )
        term_counts = session.execute(
            select(on_published.c.object_curie, func.count())
            .group_by(on_published.c.object_curie)
            .order_by(func.count().desc(), on_published.c.object_curie)
        ).all()
        common, common_n = term_counts[0]
        label = session.scalar(select(Term.label).where(Term.curie == common)) or common
        mapped = session.execute(
            select(on_published.c.identifier, on_published.c.name)
            .where(on_published.c.object_curie == common)
            .order_by(on_published.c.variable_id)
            .limit(1)
        ).one()
        unmapped = session.execute(
            select(Dataset.identifier, Variable.name)
            .join(DatasetVersion, DatasetVersion.id == Variable.version_id)
            .join(Dataset, Dataset.id == DatasetVersion.dataset_id)
            .where(published, ~exists().where(Mapping.variable_id == Variable.id))
            .order_by(Variable.id)
            .limit(1)
        ).one()
        top_datasets = list(
            session.scalars(
                select(on_published.c.identifier)
                .group_by(on_published.c.identifier)
                .order_by(func.count().desc(), on_published.c.identifier)
                .limit(50)
            )
        )
        vocabulary = list(
            session.scalars(
                select(Term.curie)
                .where(Term.ontology_prefix.in_(("HV", "HAEM")), Term.is_obsolete.is_(False))
                .order_by(Term.curie)
            )
        )
        most_mapped = [curie for curie, _n in term_counts]
        limit_terms = list(dict.fromkeys([*most_mapped, *vocabulary]))
        custodian = session.scalar(
            select(User).where(User.organisation_id == org_id).order_by(User.email).limit(1)
        )
        if custodian is None:
            raise SystemExit("no custodian for the largest organisation: a generated catalogue?")
        _, token = accounts.create_token(SYSTEM, custodian, "bench-pages", 1)
        session.commit()
        counts = {
            "datasets": session.scalar(select(func.count()).select_from(Dataset)) or 0,
            "published": session.scalar(
                select(func.count())
                .select_from(Dataset)
                .where(Dataset.status == DatasetStatus.PUBLISHED)
            )
            or 0,
            "retired": session.scalar(
                select(func.count())
                .select_from(Dataset)
                .where(Dataset.status == DatasetStatus.RETIRED)
            )
            or 0,
            "variables": session.scalar(select(func.count()).select_from(Variable)) or 0,
            "mappings": session.scalar(select(func.count()).select_from(Mapping)) or 0,
            "organisations": session.scalar(select(func.count()).select_from(Organisation)) or 0,
        }
    from catalogue.variables.services import MAX_TERMS

    return Picks(
        organisation=org_id,
        organisation_name=org_name,
        organisation_datasets=org_count,
        common_term=common,
        common_term_label=label,
        common_term_variables=common_n,
        mapped_variable=(mapped[0], mapped[1]),
        unmapped_variable=(unmapped[0], unmapped[1]),
        top_datasets=top_datasets,
        top_terms=[curie for curie, _n in term_counts[: SMALL_MATRIX[1]]],
        limit_terms=limit_terms[:MAX_TERMS],
        token=token,
        counts=counts,
    )


def variable_path(identifier: str, name: str) -> str:
    return f"/datasets/{quote(identifier, safe='')}/variables/{quote(name, safe='')}"


def matrix_query(datasets: list[str], terms: list[str]) -> str:
    return urlencode({"datasets": ",".join(datasets), "terms": ",".join(terms)})


def cases(p: Picks) -> list[tuple[str, str, bool]]:
    """``(name, path, with the token)``: the baseline first."""
    small = matrix_query(p.top_datasets[: SMALL_MATRIX[0]], p.top_terms)
    limit = matrix_query(p.top_datasets, p.limit_terms)
    n_limit = f"{len(p.top_datasets)} x {len(p.limit_terms)}"
    return [
        (BASELINE, "/api/v1/me", True),
        ("publisher page /organisations/{id}", f"/organisations/{p.organisation}", False),
        ("publisher index /organisations", "/organisations", False),
        ("variable page, mapped to the most common term", variable_path(*p.mapped_variable), False),
        ("variable page, unmapped", variable_path(*p.unmapped_variable), False),
        (
            f"matrix /harmonisation, {SMALL_MATRIX[0]} x {len(p.top_terms)}",
            f"/harmonisation?{small}",
            False,
        ),
        (f"matrix /harmonisation, {n_limit} (limit)", f"/harmonisation?{limit}", False),
        (f"matrix /harmonisation.csv, {n_limit} (limit)", f"/harmonisation.csv?{limit}", False),
        ("dataset list /datasets", "/datasets", False),
        ("retired datasets /datasets?status=retired", "/datasets?status=retired", False),
    ]


# --- measuring --------------------------------------------------------------------------------


@dataclass
class Figure:
    name: str
    path: str
    ms: dict[str, float]
    statements: tuple[int, int]
    kilobytes: float


@dataclass
class DatabaseResult:
    kind: str
    server: str
    generated_s: float | None
    index_s: float | None
    picks: Picks
    figures: list[Figure]


def measure(app: Any, picks: Picks, rounds: int, warmup: int = 3) -> list[Figure]:
    from sqlalchemy import event

    engine = app.extensions["harmony_db"].engine
    client = app.test_client()
    auth = {"Authorization": f"Bearer {picks.token}"}
    seen = {"count": 0}

    def count(*_args: Any, **_kwargs: Any) -> None:
        seen["count"] += 1

    def get(path: str, token: bool) -> bytes:
        response = client.get(path, headers=auth if token else {})
        body = response.get_data()  # the CSV streams: read it all
        if response.status_code != 200:
            raise RuntimeError(f"{path[:200]}: {response.status_code} {body[:300]!r}")
        return body

    plan = cases(picks)
    statements: dict[str, tuple[int, int]] = {}
    sizes: dict[str, float] = {}
    for name, path, token in plan:
        say(f"  warm-up: {name}")
        counts = []
        for _ in range(warmup):
            seen["count"] = 0
            event.listen(engine, "before_cursor_execute", count)
            try:
                body = get(path, token)
            finally:
                event.remove(engine, "before_cursor_execute", count)
            counts.append(seen["count"])
        statements[name] = (min(counts), max(counts))
        sizes[name] = round(len(body) / 1024, 1)
    times: dict[str, list[float]] = {name: [] for name, _p, _t in plan}
    for i in range(rounds):
        if i % 10 == 0:
            say(f"  round {i + 1} of {rounds}")
        for name, path, token in plan:
            started = time.perf_counter()
            get(path, token)
            times[name].append(time.perf_counter() - started)
    return [
        Figure(name, path, stats_ms(times[name]), statements[name], sizes[name])
        for name, path, _t in plan
    ]


def server_version(url: str) -> str:
    if url.startswith("sqlite"):
        import sqlite3

        return sqlite3.sqlite_version
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return str(connection.execute(text("SHOW server_version")).scalar())
    finally:
        engine.dispose()


def bench_url(url: str, kind: str, args: Any, fresh: bool) -> DatabaseResult:
    from bench.bench_search import make_app

    generated_s = index_s = None
    if fresh:
        started = time.perf_counter()
        summary = generate(url, args.scale, args.seed, args.quiet)
        generated_s = round(time.perf_counter() - started, 1)
        index_s = next(iter(summary["hooks"].values()), None)
        say(f"[{kind}] generated in {generated_s:.0f} s (search index {index_s} s)")
    app = make_app(url)
    picks = pick(app)
    say(f"[{kind}] measuring {args.rounds} rounds")
    figures = measure(app, picks, args.rounds)
    app.extensions["harmony_db"].engine.dispose()
    return DatabaseResult(kind, server_version(url), generated_s, index_s, picks, figures)


# --- report -----------------------------------------------------------------------------------

NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


def table(result: DatabaseResult) -> str:
    base = next(f for f in result.figures if f.name == BASELINE).ms["p95"]
    lines = [
        "| page | p50 ms | p95 ms | p99 ms | x baseline p95 | SQL statements | body KB |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for f in result.figures:
        low, high = f.statements
        count = str(low) if low == high else f"{low} to {high}"
        ratio = "1" if f.name == BASELINE else f"{f.ms['p95'] / max(base, 1e-6):.1f}"
        slow = " **slow**" if f.name != BASELINE and f.ms["p95"] > SLOW_MS else ""
        lines.append(
            f"| {f.name}{slow} | {f.ms['p50']:.1f} | {f.ms['p95']:.1f} | {f.ms['p99']:.1f} | "
            f"{ratio} | {count} | {f.kilobytes:,.1f} |"
        )
    return "\n".join(lines)


def describe(result: DatabaseResult) -> str:
    p, c = result.picks, result.picks.counts
    made = (
        f"generated in {result.generated_s:.0f} s (search index {result.index_s} s)"
        if result.generated_s is not None
        else "generated beforehand (`--reuse`)"
    )
    return (
        f"Catalogue: {c['datasets']:,} datasets ({c['published']:,} published, "
        f"{c['retired']:,} retired), {c['variables']:,} variables, {c['mappings']:,} mappings, "
        f"{c['organisations']} organisations; {made}. Publisher: {p.organisation_name} "
        f"({p.organisation_datasets:,} published datasets). The most common term: "
        f"{p.common_term} “{p.common_term_label}” ({p.common_term_variables:,} variables of "
        f"published versions mapped to it); its variable `{p.mapped_variable[1]}` of "
        f"{p.mapped_variable[0]}; the unmapped `{p.unmapped_variable[1]}` of "
        f"{p.unmapped_variable[0]}. Matrix: the published datasets with the most mappings, the "
        f"{len(p.top_terms)} most mapped terms, and at the limit every term of the HARMONY "
        f"variables (HV) and the haematology diseases (HAEM), the mapped ones first "
        f"({len(p.limit_terms)}; the matrix takes 500)."
    )


def render(results: list[DatabaseResult], facts: dict[str, str], command: str, scale: float) -> str:
    machine = ", ".join(
        part
        for part in (
            f"{facts.get('nproc')} CPUs",
            facts.get("cpu"),
            facts.get("ram"),
            f"Python {facts.get('python')}",
            facts.get("cpu calibration") and f"CPU calibration {facts['cpu calibration']}",
        )
        if part
    )
    sizes = {k: round(v * scale) for k, v in STANDARD.items()}
    scale_words = (
        "the standard scale"
        if scale == 1
        else f"scale {scale:g} of the standard 10,000 / 1,000,000 / 200,000"
    )
    parts = [
        SECTION_BEGIN,
        "## Pages: publishers, variables, the harmonisation matrix and the dataset list",
        f"`{command}` — {facts.get('date', dt.date.today().isoformat())}, {machine}; run "
        "with `nice -n 10` on a machine shared with other work.",
        f"The synthetic catalogue at {scale_words} ({sizes['datasets']:,} datasets, "
        f"{sizes['variables']:,} variables, {sizes['mappings']:,} mappings, search index "
        "built). Pages read anonymously through the Flask test client (routing, services, "
        "SQL, templates; the whole body read), after a three-request warm-up that counts the "
        "SQL statements (fewest to most per request); then every case in turn for each "
        "round. *x baseline* is the page's p95 over the p95 of `GET /api/v1/me` with a "
        "custodian's bearer token measured in the same rounds.",
    ]
    for r in results:
        parts += [f"### {NAMES[r.kind]} {r.server}", describe(r), table(r)]
    parts.append(SECTION_END)
    return "\n\n".join(parts) + "\n"


def print_table(results: list[DatabaseResult]) -> None:
    for r in results:
        print(f"\n{NAMES[r.kind]} {r.server}")
        print(table(r))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="a PostgreSQL server (postgresql+psycopg://…)")
    parser.add_argument("--both", action="store_true", help="SQLite and PostgreSQL")
    parser.add_argument("--reuse", action="append", help="a generated catalogue (repeatable)")
    parser.add_argument(
        "--scale", type=float, default=1.0, help="of 10,000 datasets / 1M variables / 200k"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--write", action="store_true", help="update bench/RESULTS.md")
    parser.add_argument("--quiet", action="store_true", help="no generator progress")
    args = parser.parse_args(argv)
    logging.disable(logging.INFO)

    results: list[DatabaseResult] = []
    if args.reuse:
        for url in args.reuse:
            kind = "postgresql" if url.startswith("postgresql") else "sqlite"
            results.append(bench_url(url, kind, args, fresh=False))
    else:
        base = args.database_url or os.environ.get("BENCH_DATABASE_URL") or DEFAULT_POSTGRES
        kinds = ["sqlite", "postgresql"] if args.both else ["sqlite"]
        if args.database_url and not args.both:
            kinds = ["postgresql"]
        with tempfile.TemporaryDirectory(prefix="bench-pages-") as workdir:
            for kind in kinds:
                with scratch_database(kind, base, Path(workdir)) as url:
                    results.append(bench_url(url, kind, args, fresh=True))

    facts = machine_facts()
    command = ".venv/bin/python bench/bench_pages.py " + " ".join(
        argv if argv is not None else sys.argv[1:]
    )
    section = render(results, facts, command.strip(), args.scale)
    print_table(results)
    if args.write:
        replace_section(args.results, section, SECTION_BEGIN, SECTION_END)
        say(f"wrote {args.results}")
    slow = [
        f"{NAMES[r.kind]} {f.name}: p95 {f.ms['p95']:.0f} ms"
        for r in results
        for f in r.figures
        if f.name != BASELINE and f.ms["p95"] > SLOW_MS
    ]
    for line in slow:
        say(f"slow: {line}")
    return 1 if slow else 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
