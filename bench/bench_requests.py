"""Benchmark of the committee's pages with a year of access requests (issue 14): the queue and a
request's review, as the committee's chair.

    .venv/bin/python bench/bench_requests.py                 # SQLite, scratch catalogue
    .venv/bin/python bench/bench_requests.py --both --write  # SQLite and PostgreSQL
    .venv/bin/python bench/bench_requests.py --reuse sqlite:////tmp/cat.sqlite3

For each database it generates a synthetic catalogue with ``bench/generate_catalogue.py``
(``--datasets`` 500, a small dictionary: the pages read no variables), its consent and
agreements with ``bench/generate_governance.py`` and ``--requests`` (1,000) access requests
with ``bench/generate_requests.py``; or it uses a database where those already ran
(``--reuse URL``; it then adds the requests only when there are none). Then, through the
Flask stack (test client, the chair's bearer token: authentication, the page, its queries, the
template), each after a warm-up round, ``--rounds`` (200) times:

- **queue page** ``GET /review`` — the default queue (submitted and under review, longest
  waiting first), then with each filter in turn: a state, a dataset, a custodian, a check
  outcome (the filters a chair uses, the values drawn from the data);
- **queue JSON** ``GET /api/v1/access-requests?state=…`` — the list API (25 a page) for
  the committee's states;
- **review page** ``GET /review/<id>`` — a request drawn at random among the committee's
  (every state but drafts): purpose, datasets with their checks, votes, sign-offs, the
  timeline from the audit trail, the days per stage;
- **request JSON** ``GET /api/v1/access-requests/{id}`` and **review JSON**
  ``GET /api/v1/access-requests/{id}/review``;
- **baseline** ``GET /api/v1/me`` with the same token: what any authenticated request costs.

It also counts the SQL statements each page runs (a SQLAlchemy ``before_cursor_execute``
listener over the warm-up round: min/max per request), so that an N+1 shows as a count that
grows with the rows on the page. p50/p95/p99 in ms. Target (the issue): interactive, p95
≤ 100 ms for the queue and a request page at 1,000 requests. Prints a table; ``--write``
replaces the ``bench_requests`` section of ``bench/RESULTS.md``. Exits 1 when a target is
missed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
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
from bench.bench_search import make_app  # noqa: E402 - the same app as the search bench

RESULTS = ROOT / "bench" / "RESULTS.md"
SECTION_BEGIN = "<!-- bench_requests:begin -->"
SECTION_END = "<!-- bench_requests:end -->"
TARGETS_MS = {
    "queue page /review (default)": 100.0,
    "queue page /review (filtered)": 100.0,
    "review page /review/<id>": 100.0,
    "GET /api/v1/access-requests/{id}": 100.0,
}


def generate(url: str, datasets: int, requests: int, seed: int) -> dict[str, Any]:
    from bench import generate_catalogue, generate_governance, generate_requests
    from core import migrate

    say(f"migrating and generating {datasets:,} datasets into {url.split('@')[-1]}")
    migrate.upgrade(url)
    generate_catalogue.generate(
        url,
        datasets=datasets,
        variables=datasets * 5,
        mappings=datasets // 10,
        seed=seed,
        progress=False,
        hooks=False,
    )
    say("writing data-use conditions and agreements")
    generate_governance.generate(url, seed)
    say(f"writing {requests:,} access requests")
    return generate_requests.generate(url, requests, seed)


def has_requests(url: str) -> bool:
    from sqlalchemy import create_engine, func, inspect, select

    from governance.requests.models import AccessRequest

    engine = create_engine(url)
    try:
        if "access_requests" not in inspect(engine).get_table_names():
            return False
        with engine.connect() as connection:
            return bool(connection.scalar(select(func.count()).select_from(AccessRequest)))
    finally:
        engine.dispose()


class StatementCounter:
    """Counts the statements the app's engine runs while ``active``."""

    def __init__(self, engine: Any) -> None:
        from sqlalchemy import event

        self.count = 0
        self.active = False
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, *_args: Any, **_kwargs: Any) -> None:
        if self.active:
            self.count += 1

    def around(self, fn: Callable[[], Any]) -> int:
        self.count, self.active = 0, True
        try:
            fn()
        finally:
            self.active = False
        return self.count


def measure(url: str, rounds: int, seed: int) -> dict[str, Any]:
    from sqlalchemy import func, select

    from catalogue.models import Dataset
    from core import services as accounts
    from core.db import get_session
    from core.models import DataAccessCommittee, Role, RoleGrant, User
    from core.policies import SYSTEM
    from governance.requests.models import AccessRequest, RequestDataset, RequestState

    app = make_app(url)
    rng = random.Random(seed)
    with app.app_context():
        session = get_session()
        committee_id = session.scalar(
            select(DataAccessCommittee.id).where(DataAccessCommittee.is_default.is_(True))
        )
        chair = session.scalar(
            select(User)
            .join(RoleGrant, RoleGrant.user_id == User.id)
            .where(RoleGrant.role == Role.DAC_CHAIR, RoleGrant.committee_id == committee_id)
            .order_by(User.email)
            .limit(1)
        )
        if chair is None:
            raise SystemExit("no chair of the default committee: run generate_requests.py")
        _, token = accounts.create_token(SYSTEM, chair, f"bench-{uuid.uuid4().hex[:8]}", 1)
        session.commit()
        states = dict(
            session.execute(
                select(AccessRequest.state, func.count()).group_by(AccessRequest.state)
            ).all()
        )
        ids = list(
            session.scalars(
                select(AccessRequest.id)
                .where(
                    AccessRequest.committee_id == committee_id,
                    AccessRequest.state != RequestState.DRAFT,
                )
                .order_by(AccessRequest.id)
            )
        )
        used = session.execute(
            select(Dataset.identifier, Dataset.organisation_id, func.count())
            .join(RequestDataset, RequestDataset.dataset_id == Dataset.id)
            .group_by(Dataset.identifier, Dataset.organisation_id)
            .order_by(func.count().desc(), Dataset.identifier)
        ).all()
        open_count = session.scalar(
            select(func.count())
            .select_from(AccessRequest)
            .where(AccessRequest.state.in_([RequestState.SUBMITTED, RequestState.UNDER_REVIEW]))
        )
    popular = [identifier for identifier, _o, _n in used[:20]]
    custodians = list(dict.fromkeys(organisation for _i, organisation, _n in used[:20]))
    filters = [
        {"state": "approved"},
        {"state": "under_review"},
        {"state": "returned"},
        {"check": "needs_review"},
        {"check": "incompatible"},
        *({"dataset": d} for d in popular[:5]),
        *({"custodian": c} for c in custodians[:5]),
    ]
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    counter = StatementCounter(app.extensions["harmony_db"].engine)

    def get(path: str) -> None:
        response = client.get(path, headers=headers)
        if response.status_code != 200:
            raise RuntimeError(f"{path}: {response.status_code} {response.get_data()[:300]!r}")

    picks = [rng.choice(ids) for _ in range(rounds)]
    cases: dict[str, Callable[[int], str]] = {
        "baseline: GET /api/v1/me": lambda i: "/api/v1/me",
        "queue page /review (default)": lambda i: "/review",
        "queue page /review (filtered)": lambda i: (
            "/review?" + urlencode(filters[i % len(filters)])
        ),
        "queue JSON /api/v1/access-requests?state=": lambda i: (
            "/api/v1/access-requests?"
            + urlencode({"state": ["submitted", "under_review", "approved"][i % 3]})
        ),
        "review page /review/<id>": lambda i: f"/review/{picks[i]}",
        "GET /api/v1/access-requests/{id}": lambda i: f"/api/v1/access-requests/{picks[i]}",
        "GET /api/v1/access-requests/{id}/review": lambda i: (
            f"/api/v1/access-requests/{picks[i]}/review"
        ),
    }
    figures: dict[str, dict[str, Any]] = {}
    statements: dict[str, tuple[int, int]] = {}
    times: dict[str, list[float]] = {name: [] for name in cases}
    warm = min(rounds, 20)
    for name, path_of in cases.items():  # warm-up, counting statements
        counts = [counter.around(lambda i=i, p=path_of: get(p(i))) for i in range(warm)]
        statements[name] = (min(counts), max(counts))
    for i in range(rounds):  # the cases in turn: the machine's mood falls on all alike
        for name, path_of in cases.items():
            path = path_of(i)
            started = time.perf_counter()
            get(path)
            times[name].append(time.perf_counter() - started)
    for name in cases:
        figures[name] = stats_ms(times[name]) | {"statements": statements[name]}
    return {
        "states": {s.value if hasattr(s, "value") else str(s): n for s, n in states.items()},
        "requests": sum(states.values()),
        "open": open_count,
        "figures": figures,
    }


def table(kind: str, result: dict[str, Any]) -> str:
    lines = [
        f"**{kind}** — {result['requests']:,} access requests ("
        + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in sorted(result["states"].items()))
        + f"); the default queue holds {result['open']} (submitted and under review)",
        "",
        "| measure | n | p50 ms | p95 ms | p99 ms | SQL statements | target p95 | |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for name, s in result["figures"].items():
        target = TARGETS_MS.get(name)
        verdict = "" if target is None else ("ok" if s["p95"] <= target else "MISSED")
        low, high = s["statements"]
        count = str(low) if low == high else f"{low} to {high}"
        lines.append(
            f"| {name} | {s['n']} | {s['p50']} | {s['p95']} | {s['p99']} | {count} | "
            f"{'—' if target is None else f'≤ {target:g}'} | {verdict} |"
        )
    return "\n".join(lines)


def missed(result: dict[str, Any]) -> list[str]:
    return [
        f"{name}: p95 {result['figures'][name]['p95']} ms > {target} ms"
        for name, target in TARGETS_MS.items()
        if name in result["figures"] and result["figures"][name]["p95"] > target
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="a PostgreSQL server (postgresql+psycopg://…)")
    parser.add_argument("--both", action="store_true", help="SQLite and PostgreSQL")
    parser.add_argument("--reuse", action="append", help="a generated database (repeatable)")
    parser.add_argument("--datasets", type=int, default=500)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--write", action="store_true", help="update bench/RESULTS.md")
    args = parser.parse_args(argv)

    results: list[tuple[str, dict[str, Any]]] = []
    if args.reuse:
        from bench import generate_requests

        for url in args.reuse:
            if not has_requests(url):
                say(f"writing {args.requests:,} access requests")
                generate_requests.generate(url, args.requests, args.seed)
            kind = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
            results.append((kind, measure(url, args.rounds, args.seed)))
    else:
        kinds = ["sqlite", "postgresql"] if args.both else ["sqlite"]
        if args.database_url and not args.both:
            kinds = ["postgresql"]
        with tempfile.TemporaryDirectory(prefix="bench-requests-") as workdir:
            for kind in kinds:
                base = args.database_url or DEFAULT_POSTGRES
                with scratch_database(kind, base, Path(workdir)) as url:
                    started = time.perf_counter()
                    generate(url, args.datasets, args.requests, args.seed)
                    say(f"generated in {time.perf_counter() - started:.0f} s")
                    label = "PostgreSQL" if kind == "postgresql" else "SQLite"
                    results.append((label, measure(url, args.rounds, args.seed)))

    facts = machine_facts()
    command = "bench/bench_requests.py " + " ".join(argv if argv is not None else sys.argv[1:])
    machine = ", ".join(
        part
        for part in (
            f"{facts.get('nproc')} CPUs",
            facts.get("cpu"),
            facts.get("ram"),
            f"Python {facts.get('python')}",
        )
        if part
    )
    section = "\n\n".join(
        [
            SECTION_BEGIN,
            "## Access requests: the committee's queue and review pages",
            f"`{command.strip()}` — {facts.get('date', dt.date.today().isoformat())}, "
            f"{machine}. Through the Flask stack as the committee's chair (bearer token); "
            "each case after a 20-request warm-up that also counts its SQL statements "
            "(fewest to most per request).",
            *(table(kind, result) for kind, result in results),
            SECTION_END,
        ]
    )
    print(section)
    if args.write:
        replace_section(args.results, section, SECTION_BEGIN, SECTION_END)
    problems = [f"{kind} {m}" for kind, result in results for m in missed(result)]
    for problem in problems:
        say(f"target missed: {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
